/*
 * config.c - lethe.yaml into a lethe_config.
 *
 * Invariants:
 *  - Every relative path is resolved against the config file's folder as the
 *    caller spelled it, so "a/lethe.yaml" with "shop.sqlite" gives
 *    "a/shop.sqlite" (still relative to the current directory) and absolute
 *    paths stay as they are. A remote is resolved only when it names a local
 *    path: a URL ("://") or git's scp-like "host:path" is left alone.
 *  - All faults of the file are reported before returning LETHE_ECONFIG, and
 *    *out is written only when there are none.
 *  - A path "credential:NAME" is NAME in $CREDENTIALS_DIRECTORY, the folder
 *    where systemd puts what the unit's LoadCredential= loaded, read at load
 *    time: keys can stay root-only while the service user reads its copy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "lethe/backend.h"
#include "lethe/config.h"
#include "lethe/error.h"
#include "lethe/text.h"
#include "yaml_doc.h"

enum { K_DATABASE, K_POLICIES, K_PSEUDONYM_KEY, K_EVIDENCE, K_LIMITS, K_RESIDUE, K_APPROVAL, K_LANGUAGE,
       K_METRICS, K_READ_ONLY, K_N };
static const char *const top_keys[] = {
	"database", "policies", "pseudonym_key", "evidence", "limits", "residue", "approval",
	"language", "metrics", "read_only", NULL
};

static const char *const approval_keys[] = { "required", "plan_above", "plan_first_run", NULL };

enum { E_REPOSITORY, E_SIGNING_KEY, E_ALLOWED_SIGNERS, E_REMOTE, E_N };
static const char *const evidence_keys[] = {
	"repository", "signing_key", "allowed_signers", "remote", NULL
};

static const char *const limits_keys[] = { "max_rows_per_rule", "statement_seconds",
					     "max_days_between_runs", NULL };

/* git's rule: a colon before the first slash makes "host:path" scp-like. */
static int is_remote_url(const char *s)
{
	const char *colon = strchr(s, ':'), *slash = strchr(s, '/');

	if (strstr(s, "://"))
		return 1;
	return colon && (!slash || colon < slash);
}

/* "credential:NAME": NAME in $CREDENTIALS_DIRECTORY; NULL after a fault. */
static char *credential_path(lethe_ydoc *y, const yaml_node_t *n, const char *key,
			     const char *name)
{
	const char *creds = getenv("CREDENTIALS_DIRECTORY");
	char q[LETHE_EXCERPT_SIZE];
	char *r = NULL;

	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..")) {
		lethe_ydoc_fault(y, lethe_ydoc_mark(y, n),
				 "'%s': credential name '%s' must be a file name", key,
				 lethe_text_quote(q, name, strlen(name)));
		return NULL;
	}
	if (!creds || creds[0] != '/') {
		lethe_ydoc_fault(y, lethe_ydoc_mark(y, n),
				 "'%s': credential '%s' needs $CREDENTIALS_DIRECTORY (set by systemd "
				 "for a unit with LoadCredential=)", key, name);
		return NULL;
	}
	if (asprintf(&r, "%s/%s", creds, name) < 0) {
		y->oom = 1;
		return NULL;
	}
	return r;
}

/* A path value of the file, copied and resolved against dir (NULL: the
 * config is in the current directory). NULL when absent or faulty. */
static char *path_value(lethe_ydoc *y, const yaml_node_t *n, const char *key,
			const char *dir, int resolve)
{
	const char *v = lethe_ydoc_str(y, n, key);
	char *r = NULL;

	if (!v)
		return NULL;
	if (!*v) {
		lethe_ydoc_fault(y, lethe_ydoc_mark(y, n), "'%s' must not be empty", key);
		return NULL;
	}
	if (resolve && !strncmp(v, "credential:", 11))
		return credential_path(y, n, key, v + 11);
	if (!resolve || !dir || v[0] == '/')
		return lethe_ydoc_strdup(y, v);
	if (asprintf(&r, "%s%s%s", dir,
		     dir[strlen(dir) - 1] == '/' ? "" : "/", v) < 0) {
		y->oom = 1;
		return NULL;
	}
	return r;
}

/* Whether a URI's authority (between :// and the path) has user:password@. */
static int uri_has_password(const char *v)
{
	const char *a = strstr(v, "://"), *end, *at;

	if (!a)
		return 0;
	a += 3;
	end = a + strcspn(a, "/?");
	at = memchr(a, '@', (size_t)(end - a));
	return at && memchr(a, ':', (size_t)(at - a)) != NULL;
}

/* `database:` is an SQLite file (resolved against the folder of lethe.yaml)
 * or a PostgreSQL connection (URI or key/value string), taken as written.
 * A password in it is refused: it belongs in a passfile (~/.pgpass or
 * passfile=...) or a service file, never in lethe.yaml (docs/configuration.md). */
static char *database_value(lethe_ydoc *y, const yaml_node_t *n, const char *dir)
{
	/* a scalar is looked at here; anything else is path_value's to report */
	const char *v = n && n->type == YAML_SCALAR_NODE ? lethe_ydoc_str(y, n, "database") : NULL;

	if (!v || !lethe_location_is_server(v))
		return path_value(y, n, "database", dir, 1);
	if (strstr(v, "password=") || strstr(v, "password =") ||
	    (!strncmp(v, "postgres", 8) && strchr(v, '@') &&
	     strchr(strstr(v, "://") + 3, ':') && strchr(strstr(v, "://") + 3, ':') < strchr(v, '@')) ||
	    (lethe_location_is_mariadb(v) && uri_has_password(v))) {
		lethe_ydoc_fault(y, lethe_ydoc_mark(y, n), "'database' holds a password: put it in a "
				 "passfile (~/.pgpass, or passfile=PATH in the connection string), a "
				 "service file or a MariaDB option file (option_file=PATH), never in "
				 "lethe.yaml");
		return NULL;
	}
	return lethe_ydoc_strdup(y, v);
}

static void load_evidence(lethe_ydoc *y, lethe_config *cfg,
			  const yaml_node_t *n, const char *dir)
{
	yaml_node_t *v[E_N];
	lethe_mark km[E_N];

	if (n->type != YAML_MAPPING_NODE) {
		lethe_ydoc_fault(y, lethe_ydoc_mark(y, n), "'evidence': expected a mapping");
		return;
	}
	lethe_ydoc_fields(y, n, evidence_keys, v, km, " in 'evidence'");
	cfg->evidence_repository = path_value(y, v[E_REPOSITORY], "repository", dir, 1);
	cfg->signing_key = path_value(y, v[E_SIGNING_KEY], "signing_key", dir, 1);
	cfg->allowed_signers = path_value(y, v[E_ALLOWED_SIGNERS],
					  "allowed_signers", dir, 1);
	if (v[E_REMOTE]) {
		const char *r = lethe_ydoc_str(y, v[E_REMOTE], "remote");

		if (r) /* else already reported */
			cfg->remote = path_value(y, v[E_REMOTE], "remote", dir,
						 !is_remote_url(r));
	}
}

/* A positive integer limit at n (NULL: absent, *out untouched). */
static void positive_limit(lethe_ydoc *y, const yaml_node_t *n, const char *name, int64_t *out)
{
	int64_t v;

	if (!n || lethe_ydoc_int(y, n, name, &v) != 0)
		return;
	if (v > 0)
		*out = v;
	else
		lethe_ydoc_fault(y, lethe_ydoc_mark(y, n), "'%s' must be a positive integer", name);
}

static void load_limits(lethe_ydoc *y, lethe_config *cfg, const yaml_node_t *n)
{
	yaml_node_t *v[3];
	lethe_mark km[3];

	if (n->type != YAML_MAPPING_NODE) {
		lethe_ydoc_fault(y, lethe_ydoc_mark(y, n), "'limits': expected a mapping");
		return;
	}
	lethe_ydoc_fields(y, n, limits_keys, v, km, " in 'limits'");
	positive_limit(y, v[0], "max_rows_per_rule", &cfg->max_rows_per_rule);
	positive_limit(y, v[1], "statement_seconds", &cfg->statement_seconds);
	if (cfg->statement_seconds > 86400 * 7)
		lethe_ydoc_fault(y, lethe_ydoc_mark(y, v[1]),
				 "'statement_seconds' must be at most 604800 (a week)");
	positive_limit(y, v[2], "max_days_between_runs", &cfg->max_days_between_runs);
}

/* approval: {required: true|false} (lethe/approval.h). */
/* A true or false scalar at n into *out (absent: untouched). */
static void boolean(lethe_ydoc *y, const yaml_node_t *n, const char *name, int *out)
{
	const char *r = n ? lethe_ydoc_str(y, n, name) : NULL;

	if (r && !strcmp(r, "true"))
		*out = 1;
	else if (r && !strcmp(r, "false"))
		*out = 0;
	else if (r)
		lethe_ydoc_fault(y, lethe_ydoc_mark(y, n), "'%s' must be true or false", name);
}

static void load_approval(lethe_ydoc *y, lethe_config *cfg, const yaml_node_t *n)
{
	yaml_node_t *v[3];
	lethe_mark km[3];

	if (n->type != YAML_MAPPING_NODE) {
		lethe_ydoc_fault(y, lethe_ydoc_mark(y, n), "'approval': expected a mapping, "
				 "e.g. {required: true}");
		return;
	}
	lethe_ydoc_fields(y, n, approval_keys, v, km, " in 'approval'");
	boolean(y, v[0], "required", &cfg->approval_required);
	positive_limit(y, v[1], "plan_above", &cfg->approval_plan_above);
	boolean(y, v[2], "plan_first_run", &cfg->approval_plan_first_run);
}

static void load_root(lethe_ydoc *y, lethe_config *cfg, const char *dir)
{
	yaml_node_t *root = lethe_ydoc_root(y), *v[K_N];
	lethe_mark km[K_N];

	if (!root) {
		lethe_ydoc_fault(y, (lethe_mark){ y->file, 0, 0 },
				 "empty file (expected a mapping)");
		return;
	}
	if (lethe_ydoc_fields(y, root, top_keys, v, km, ""))
		return;
	for (int k = K_DATABASE; k <= K_POLICIES; k++)
		if (!v[k])
			lethe_ydoc_fault(y, lethe_ydoc_mark(y, root),
					 "missing required key '%s'", top_keys[k]);
	cfg->database = database_value(y, v[K_DATABASE], dir);
	cfg->policies = path_value(y, v[K_POLICIES], "policies", dir, 1);
	cfg->pseudonym_key = path_value(y, v[K_PSEUDONYM_KEY], "pseudonym_key", dir, 1);
	cfg->metrics = path_value(y, v[K_METRICS], "metrics", dir, 1);
	cfg->database_mark = v[K_DATABASE] ? lethe_ydoc_mark(y, v[K_DATABASE])
					   : lethe_ydoc_mark(y, root);
	cfg->policies_mark = v[K_POLICIES] ? lethe_ydoc_mark(y, v[K_POLICIES])
					   : lethe_ydoc_mark(y, root);
	if (v[K_EVIDENCE])
		load_evidence(y, cfg, v[K_EVIDENCE], dir);
	if (v[K_LIMITS])
		load_limits(y, cfg, v[K_LIMITS]);
	if (v[K_APPROVAL])
		load_approval(y, cfg, v[K_APPROVAL]);
	if (v[K_RESIDUE]) {
		const char *r = lethe_ydoc_str(y, v[K_RESIDUE], "residue");

		/* R0, R1, R2: the levels of a server (docs/disposal.md,
		 * "PostgreSQL"); on SQLite R0 and R1 act as fast, R2 as full */
		if (r && (!strcmp(r, "fast") || !strcmp(r, "R0")))
			cfg->residue_fast = 1;
		else if (r && !strcmp(r, "R1"))
			cfg->residue_no_wal = 1;
		else if (r && strcmp(r, "full") && strcmp(r, "R2"))
			lethe_ydoc_fault(y, lethe_ydoc_mark(y, v[K_RESIDUE]),
					 "'residue' must be full or fast (or a level: R0, R1, R2)");
	}
	if (v[K_READ_ONLY])
		boolean(y, v[K_READ_ONLY], "read_only", &cfg->read_only);
	if (v[K_LANGUAGE]) {
		const char *l = lethe_ydoc_str(y, v[K_LANGUAGE], "language");

		if (l && strcmp(l, "fi") && strcmp(l, "sv") && strcmp(l, "en"))
			lethe_ydoc_fault(y, lethe_ydoc_mark(y, v[K_LANGUAGE]),
					 "'language' must be fi, sv or en");
		else if (l)
			cfg->language = lethe_ydoc_strdup(y, l);
		cfg->language_mark = lethe_ydoc_mark(y, v[K_LANGUAGE]);
	}
}

int lethe_config_load(lethe_config **out, const char *path, lethe_diags *diags)
{
	lethe_config *cfg = calloc(1, sizeof(*cfg));
	lethe_ydoc y;
	char *dir = NULL, *slash;
	int rc;

	if (!cfg)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	cfg->max_rows_per_rule = LETHE_DEFAULT_MAX_ROWS_PER_RULE;
	cfg->statement_seconds = LETHE_DEFAULT_STATEMENT_SECONDS;
	cfg->max_days_between_runs = LETHE_DEFAULT_MAX_DAYS_BETWEEN_RUNS;
	cfg->path = strdup(path);
	dir = strdup(path);
	if (!cfg->path || !dir) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	/* Marks point at cfg->path, which lives as long as the config. */
	rc = lethe_ydoc_load(&y, path, cfg->path, diags);
	if (rc == LETHE_ENOINPUT) {
		rc = lethe_error_set(LETHE_ENOINPUT, "cannot open config '%s': %s",
				     path, strerror(errno));
		goto out;
	}
	if (rc == 0) {
		slash = strrchr(dir, '/');
		if (slash)
			slash[slash == dir ? 1 : 0] = '\0';
		load_root(&y, cfg, slash ? dir : NULL);
		if (y.oom)
			rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	lethe_ydoc_free(&y);
	if (rc == LETHE_EDATA || (rc == 0 && y.faults))
		rc = lethe_error_set(LETHE_ECONFIG, "'%s' has %zu fault%s", path,
				     y.faults, y.faults == 1 ? "" : "s");
	if (rc == 0) {
		*out = cfg;
		cfg = NULL;
	}
out:
	free(dir);
	lethe_config_free(cfg);
	return rc;
}

void lethe_config_free(lethe_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->database);
	free(cfg->policies);
	free(cfg->metrics);
	free(cfg->pseudonym_key);
	free(cfg->evidence_repository);
	free(cfg->signing_key);
	free(cfg->allowed_signers);
	free(cfg->remote);
	free(cfg->language);
	free(cfg);
}

/* 1 when path exists; else 0 with errno saying why. */
static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static int located(char **out, const char *path)
{
	char *p = strdup(path);

	if (!p)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	*out = p;
	return 0;
}

int lethe_config_locate(char **out, const char *explicit_path)
{
	static const char *const defaults[] = { "./lethe.yaml", "/etc/lethe/lethe.yaml" };
	const char *env = getenv("LETHE_CONFIG");

	/* A file the user named must exist: never fall back behind their back. */
	if (explicit_path || (env && *env)) {
		const char *p = explicit_path ? explicit_path : env;

		if (!exists(p))
			return lethe_error_set(LETHE_ENOINPUT,
					       "cannot open config '%s'%s: %s", p,
					       explicit_path ? "" : " (from $LETHE_CONFIG)",
					       strerror(errno));
		return located(out, p);
	}
	for (size_t i = 0; i < sizeof(defaults) / sizeof(*defaults); i++)
		if (exists(defaults[i]))
			return located(out, defaults[i]);
	return lethe_error_set(LETHE_ENOINPUT,
			       "no config found (tried ./lethe.yaml and "
			       "/etc/lethe/lethe.yaml; use -c FILE or $LETHE_CONFIG)");
}
