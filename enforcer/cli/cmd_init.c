/*
 * cmd_init.c - `lethe init DIR [--database PATH] [--policies DIR]`: a ready
 * site in DIR: lethe.yaml, keys/ (0700) with the Ed25519 signing key (0600,
 * and its .pub), allowed_signers and the pseudonym key (0600), and the bare
 * evidence repository evidence/.
 *
 * Invariants:
 *  - Nothing that exists is overwritten or removed: an existing lethe.yaml,
 *    keys/ or evidence/ is refused (exit 73) before anything is made, and
 *    every file is created with O_EXCL, so a path that appears meanwhile is
 *    refused too. On any failure what this run made is removed again, and
 *    only that.
 *  - lethe.yaml is written last: a site with a lethe.yaml is complete.
 *  - No key material is printed; the signing key's fingerprint is public.
 *  - Paths given on the command line are made absolute in lethe.yaml (its own
 *    relative paths are read against its folder).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "lethe/backend.h"
#include "lethe/error.h"
#include "lethe/evidence.h"
#include "lethe/sshkey.h"
#include "lethe/token.h"

static const char usage_line[] = "usage: lethe init DIR [--database PATH] [--policies DIR]";

enum { MADE_FILE, MADE_DIR, MADE_TREE };

/* What this run created, undone in reverse order on failure. */
typedef struct {
	char *path[10];
	int kind[10];
	int n;
} made;

static void remember(made *m, const char *path, int kind)
{
	m->path[m->n] = strdup(path);
	m->kind[m->n++] = kind;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void undo(made *m)
{
	while (m->n > 0) {
		int i = --m->n;

		if (m->path[i] && m->kind[i] == MADE_TREE)
			nftw(m->path[i], remove_one, 16, FTW_DEPTH | FTW_PHYS);
		else if (m->path[i] && m->kind[i] == MADE_DIR)
			rmdir(m->path[i]);
		else if (m->path[i])
			unlink(m->path[i]);
		free(m->path[i]);
	}
}

static void forget(made *m)
{
	while (m->n > 0)
		free(m->path[--m->n]);
}

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* A new file with exactly text and mode, fsynced; exit status. */
static int write_new(const char *path, const char *text, mode_t mode, made *m)
{
	size_t len = strlen(text);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);

	if (fd < 0) {
		cli_error("cannot create '%s': %s", path, strerror(errno));
		return errno == EEXIST ? 73 : 74;
	}
	remember(m, path, MADE_FILE);
	if (fchmod(fd, mode) != 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
		cli_error("cannot write '%s': %s", path, strerror(errno));
		close(fd);
		return 74;
	}
	if (close(fd) != 0) {
		cli_error("cannot write '%s': %s", path, strerror(errno));
		return 74;
	}
	return 0;
}

static void sync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* s as a single-quoted YAML scalar (quotes doubled); -1 on a control
 * character, which YAML could not hold literally. */
static int put_quoted(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20)
			return -1;
		if (*s == '\'')
			fputc('\'', f);
		fputc(*s, f);
	}
	fputs("'\n", f);
	return 0;
}

/* lethe.yaml's text, malloc'd in *out; 64 after printing why. */
static int config_text(char **out, const char *database, const char *policies)
{
	size_t len;
	FILE *f = open_memstream(out, &len);
	int bad;

	if (!f) {
		cli_error("out of memory");
		return 70;
	}
	fputs("# Written by `lethe init`. Relative paths are relative to this file's folder.\n"
	      "database: ", f);
	bad = database ? put_quoted(f, database) : fputs("shop.sqlite\n", f) < 0;
	fputs("policies: ", f);
	bad |= put_quoted(f, policies);
	fprintf(f, "pseudonym_key: keys/pseudonym.key\n"
		   "evidence:\n"
		   "  repository: evidence/\n"
		   "  signing_key: keys/lethe_ed25519\n"
		   "  allowed_signers: keys/allowed_signers\n"
		   "limits:\n"
		   "  max_rows_per_rule: %d\n", LETHE_DEFAULT_MAX_ROWS_PER_RULE);
	if (fclose(f) != 0 || bad) {
		free(*out);
		*out = NULL;
		cli_error("the database or policies path has a control character");
		return 64;
	}
	return 0;
}

typedef struct {
	char keys[PATH_MAX], key[PATH_MAX], pub[PATH_MAX], signers[PATH_MAX];
	char pseudonym[PATH_MAX], evidence[PATH_MAX], yaml[PATH_MAX];
} site_paths;

static int site_paths_make(site_paths *p, const char *dir)
{
	const char *sep = dir[strlen(dir) - 1] == '/' ? "" : "/";
	int bad = 0;

#define SITE_PATH(field, rel) \
	bad |= (size_t)snprintf(p->field, PATH_MAX, "%s%s%s", dir, sep, rel) >= PATH_MAX
	SITE_PATH(keys, "keys");
	SITE_PATH(key, "keys/lethe_ed25519");
	SITE_PATH(pub, "keys/lethe_ed25519.pub");
	SITE_PATH(signers, "keys/allowed_signers");
	SITE_PATH(pseudonym, "keys/pseudonym.key");
	SITE_PATH(evidence, "evidence");
	SITE_PATH(yaml, "lethe.yaml");
#undef SITE_PATH
	if (bad)
		cli_error("path '%s' is too long", dir);
	return bad ? 64 : 0;
}

/* The signing key (keys/lethe_ed25519 and .pub) and allowed_signers. */
static int make_keys(const site_paths *p, made *m, char **fingerprint)
{
	char host[256] = "", *comment = NULL, *line = NULL, *signers = NULL;
	lethe_sshkey *k = NULL;
	int rc;

	if (gethostname(host, sizeof(host) - 1) != 0 || !host[0])
		strcpy(host, "localhost");
	if (asprintf(&comment, "lethe@%s", host) < 0) {
		cli_error("out of memory");
		return 70;
	}
	if ((rc = lethe_sshkey_generate(&k, comment)) != 0 ||
	    (rc = lethe_sshkey_write(k, p->key)) != 0) {
		rc = cli_fail(rc);
		goto out;
	}
	remember(m, p->key, MADE_FILE);
	remember(m, p->pub, MADE_FILE);
	if ((rc = lethe_sshkey_public_line(&line, k)) != 0 ||
	    (rc = lethe_sshkey_fingerprint(fingerprint, lethe_sshkey_public(k))) != 0) {
		rc = cli_fail(rc);
		goto out;
	}
	if (asprintf(&signers, "%s namespaces=\"git\" %s\n", comment, line) < 0) {
		cli_error("out of memory");
		rc = 70;
		goto out;
	}
	rc = write_new(p->signers, signers, 0644, m);
out:
	free(signers);
	free(line);
	free(comment);
	lethe_sshkey_free(k);
	return rc;
}

/* Everything but DIR itself, in the order of the invariants. */
static int make_site(const site_paths *p, const char *database, const char *policies,
		     made *m, char **fingerprint)
{
	char *yaml = NULL;
	int rc;

	if ((rc = config_text(&yaml, database, policies)) != 0)
		return rc;
	if (mkdir(p->keys, 0700) != 0) {
		cli_error("cannot create '%s': %s", p->keys, strerror(errno));
		rc = errno == EEXIST ? 73 : 74;
		goto out;
	}
	remember(m, p->keys, MADE_DIR);
	if (chmod(p->keys, 0700) != 0) {
		cli_error("cannot set the mode of '%s': %s", p->keys, strerror(errno));
		rc = 74;
		goto out;
	}
	if ((rc = make_keys(p, m, fingerprint)) != 0)
		goto out;
	if ((rc = lethe_token_key_create(p->pseudonym)) != 0) {
		rc = cli_fail(rc);
		goto out;
	}
	remember(m, p->pseudonym, MADE_FILE);
	sync_dir(p->keys);
	if ((rc = lethe_evidence_create(p->evidence)) != 0) {
		rc = cli_fail(rc);
		goto out;
	}
	remember(m, p->evidence, MADE_TREE);
	rc = write_new(p->yaml, yaml, 0644, m);
out:
	free(yaml);
	return rc;
}

int cmd_init(const lethe_cli_opts *opts, int argc, char **argv)
{
	const char *dir = NULL, *policies = cli_default_policies(), *database = NULL, *v;
	char pol_abs[PATH_MAX], db_abs[PATH_MAX], *fingerprint = NULL;
	site_paths *p = NULL;
	made m = { .n = 0 };
	struct stat st;
	int rc;

	for (int i = 1; i < argc; i++) {
		int missing = 0;

		if ((v = cli_option_value(argc, argv, &i, "--database", &missing))) {
			database = v;
		} else if ((v = cli_option_value(argc, argv, &i, "--policies", &missing))) {
			policies = v;
		} else if (missing) {
			cli_error("option '%s' needs a value\n%s", argv[i], usage_line);
			return 64;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			cli_error("unknown option '%s'\n%s", argv[i], usage_line);
			return 64;
		} else if (dir) {
			cli_error("one DIR only, got '%s' and '%s'\n%s", dir, argv[i], usage_line);
			return 64;
		} else {
			dir = argv[i];
		}
	}
	if (!dir || !*dir) {
		cli_error("init needs a DIR\n%s", usage_line);
		return 64;
	}
	if ((rc = cli_absolute(pol_abs, policies)) != 0)
		return rc;
	if (database && lethe_location_is_server(database)) {
		/* a server: taken as written; Lethe's own schema made now */
		lethe_backend *be = NULL;

		if (strlen(database) >= sizeof(db_abs)) {
			cli_error("the database location is too long");
			return 64;
		}
		snprintf(db_abs, sizeof(db_abs), "%s", database);
		if ((rc = lethe_backend_open(&be, database, 0)) < 0 ||
		    (rc = lethe_backend_begin(be)) < 0 || (rc = lethe_backend_commit(be)) < 0) {
			lethe_backend_free(be);
			return cli_fail(rc);
		}
		lethe_backend_free(be);
	} else if (database && (rc = cli_absolute(db_abs, database)) != 0) {
		return rc;
	}
	if (!(p = malloc(sizeof(*p)))) {
		cli_error("out of memory");
		return 70;
	}
	if ((rc = site_paths_make(p, dir)) != 0)
		goto out;
	if (exists(p->yaml) || exists(p->keys) || exists(p->evidence)) {
		cli_error("cannot create a site in '%s': '%s' already exists", dir,
			  exists(p->yaml) ? p->yaml : exists(p->keys) ? p->keys : p->evidence);
		rc = 73;
		goto out;
	}
	if (lstat(dir, &st) != 0) {
		if (mkdir(dir, 0755) != 0) {
			cli_error("cannot create '%s': %s", dir, strerror(errno));
			rc = errno == EEXIST ? 73 : 74;
			goto out;
		}
		remember(&m, dir, MADE_DIR);
	} else if (!S_ISDIR(st.st_mode)) {
		cli_error("cannot create a site in '%s': not a folder", dir);
		rc = 73;
		goto out;
	}
	rc = make_site(p, database ? db_abs : NULL, pol_abs, &m, &fingerprint);
	if (rc) {
		undo(&m);
		goto out;
	}
	sync_dir(dir);
	forget(&m);
	if (!opts->quiet)
		printf("created a lethe site in '%s':\n"
		       "  %s\n  %s/ (mode 0700)\n  %s (signing key, mode 0600) and %s\n"
		       "  %s\n  %s (pseudonym key, mode 0600)\n  %s/ (evidence repository)\n"
		       "signing key %s\n",
		       dir, p->yaml, p->keys, p->key, p->pub, p->signers, p->pseudonym,
		       p->evidence, fingerprint);
out:
	free(fingerprint);
	free(p);
	return rc;
}
