/*
 * allowed_signers.c - allowed-signers files (ssh-keygen(1) "ALLOWED SIGNERS",
 * git's gpg.ssh.allowedSignersFile): who may sign, for which namespaces, when.
 *
 * Invariants:
 *  - Only ssh-ed25519 lines become entries; lines with other key types and
 *    cert-authority lines are skipped (lethe signs with plain Ed25519 keys),
 *    a malformed line fails the whole file, as ssh-keygen -Y verify does.
 *  - Principals and namespaces are comma-separated pattern lists matched as
 *    ssh's match_pattern_list: fnmatch patterns, a leading '!' negates and a
 *    negated match wins.
 *  - The text is untrusted: it is copied line by line into NUL-terminated
 *    buffers of the line's length before any tokenising.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sodium.h>
#include "lethe/calendar.h"
#include "lethe/error.h"
#include "vec.h"
#include "lethe/sshkey.h"
#include "sshwire.h"

#define MAX_FILE (16 * 1024 * 1024)

typedef struct {
	char *principals;   /* pattern list */
	char *namespaces;   /* pattern list, NULL = any */
	int64_t after, before;
	int has_after, has_before;
	unsigned char pk[32];
} entry;

struct lethe_allowed_signers {
	entry *v;
	size_t n, cap;
};

void lethe_allowed_signers_free(lethe_allowed_signers *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++) {
		free(s->v[i].principals);
		free(s->v[i].namespaces);
	}
	free(s->v);
	free(s);
}

/* 1 when name matches the pattern list (and no negated pattern matches). */
static int match_list(const char *name, const char *list)
{
	char *copy = strdup(list), *save = NULL, *pat;
	int matched = 0;

	if (!copy)
		return 0;
	for (pat = strtok_r(copy, ",", &save); pat; pat = strtok_r(NULL, ",", &save)) {
		int neg = pat[0] == '!';

		if (fnmatch(pat + neg, name, FNM_NOESCAPE) == 0) {
			if (neg) {
				matched = 0;
				break;
			}
			matched = 1;
		}
	}
	free(copy);
	return matched;
}

/* YYYYMMDD[HHMM[SS]][Z]: with Z UTC, otherwise local time (as ssh-keygen). */
static int parse_time(int64_t *out, const char *s)
{
	size_t n = strlen(s), i, digits;
	int utc = n > 0 && (s[n - 1] == 'Z' || s[n - 1] == 'z');
	int f[6] = { 0 };
	lethe_day day;
	struct tm tm;
	time_t t;

	digits = n - (size_t)utc;
	if (digits != 8 && digits != 12 && digits != 14)
		return -1;
	for (i = 0; i < digits; i++)
		if (!isdigit((unsigned char)s[i]))
			return -1;
	f[0] = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	for (i = 1; 4 + 2 * i <= digits; i++)
		f[i] = (s[2 + 2 * i] - '0') * 10 + (s[3 + 2 * i] - '0');
	if (lethe_day_from_ymd(&day, f[0], f[1], f[2]) != 0 || f[3] > 23 || f[4] > 59 || f[5] > 59)
		return -1;
	if (utc) {
		*out = (int64_t)day * 86400 + f[3] * 3600 + f[4] * 60 + f[5];
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = f[0] - 1900;
	tm.tm_mon = f[1] - 1;
	tm.tm_mday = f[2];
	tm.tm_hour = f[3];
	tm.tm_min = f[4];
	tm.tm_sec = f[5];
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = (int64_t)t;
	return 0;
}

/* The next token of *p: "quoted" (quotes removed when unquote) or up to
 * blank space, quotes inside kept so option values may hold spaces. */
static char *token(char **p, int unquote)
{
	char *s = *p, *start;
	int q = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return NULL;
	if (unquote && *s == '"') {
		start = ++s;
		s = strchr(s, '"');
		if (!s)
			return NULL;
		*s++ = '\0';
		*p = s;
		return start;
	}
	for (start = s; *s && (q || (*s != ' ' && *s != '\t')); s++)
		if (*s == '"')
			q = !q;
	if (q)
		return NULL;
	if (*s)
		*s++ = '\0';
	*p = s;
	return start;
}

static int is_other_key_type(const char *t)
{
	static const char *const prefix[] = { "ssh-", "ecdsa-", "sk-", "rsa-" };
	size_t i;

	if (strchr(t, '=') || strchr(t, '"'))
		return 0;
	for (i = 0; i < sizeof(prefix) / sizeof(*prefix); i++)
		if (strncmp(t, prefix[i], strlen(prefix[i])) == 0)
			return 1;
	return 0;
}

/* name=value or name="value" at *p (comma-separated list); value NULL when absent. */
static int next_option(char **p, char **name, char **value)
{
	char *s = *p;

	*name = s;
	*value = NULL;
	s += strcspn(s, ",=");
	if (*s == '=') {
		*s++ = '\0';
		if (*s == '"') {
			*value = ++s;
			s = strchr(s, '"');
			if (!s)
				return -1;
			*s++ = '\0';
		} else {
			*value = s;
			s += strcspn(s, ",");
		}
	}
	if (*s == ',')
		*s++ = '\0';
	else if (*s)
		return -1;
	*p = s;
	return 0;
}

/* Options into e; *skip set for cert-authority. Returns 0 or a reason. */
static const char *parse_options(entry *e, char *opts, int *skip)
{
	char *name, *value;

	while (*opts) {
		if (next_option(&opts, &name, &value) != 0)
			return "malformed options";
		if (strcasecmp(name, "cert-authority") == 0 && !value) {
			*skip = 1;
		} else if (strcasecmp(name, "namespaces") == 0 && value) {
			free(e->namespaces);
			if (!(e->namespaces = strdup(value)))
				return "out of memory";
		} else if (strcasecmp(name, "valid-after") == 0 && value) {
			if (parse_time(&e->after, value) != 0)
				return "bad valid-after time";
			e->has_after = 1;
		} else if (strcasecmp(name, "valid-before") == 0 && value) {
			if (parse_time(&e->before, value) != 0)
				return "bad valid-before time";
			e->has_before = 1;
		} else {
			return "unsupported option";
		}
	}
	return NULL;
}

/* One line (NUL-terminated, writable). Returns NULL, adding an entry unless
 * skipped, or the reason the line is malformed. */
static const char *parse_line(lethe_allowed_signers *s, char *line)
{
	entry e = { 0 };
	char *p = line, *principals, *t, *key;
	unsigned char blob[256];
	size_t blob_len = 0;
	const char *why = NULL;
	int skip = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p || *p == '#')
		return NULL;
	principals = token(&p, 1);
	t = token(&p, 0);
	if (!principals || !*principals || !t)
		return "missing principals or key";
	if (strcmp(t, SSHWIRE_ED25519) != 0 && !is_other_key_type(t)) {
		if ((why = parse_options(&e, t, &skip)) != NULL)
			goto out;
		t = token(&p, 0);
		if (!t) {
			why = "missing key";
			goto out;
		}
	}
	if (skip || strcmp(t, SSHWIRE_ED25519) != 0)
		goto out; /* certificates and other key types: not for lethe */
	key = token(&p, 0);
	if (!key || sodium_base642bin(blob, sizeof(blob), key, strlen(key), NULL, &blob_len,
				      NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    sshwire_ed25519_parse(e.pk, blob, blob_len) != 0) {
		why = "bad ssh-ed25519 key";
		goto out;
	}
	if (LETHE_VEC_RESERVE(s->v, s->n + 1, s->cap) < 0) {
		why = "out of memory";
		goto out;
	}
	if (!(e.principals = strdup(principals))) {
		why = "out of memory";
		goto out;
	}
	s->v[s->n++] = e;
	return NULL;
out:
	free(e.namespaces);
	return why;
}

int lethe_allowed_signers_parse(lethe_allowed_signers **out, const char *text,
				size_t len, const char *name)
{
	lethe_allowed_signers *s = calloc(1, sizeof(*s));
	size_t off = 0, lineno = 0;
	int rc = 0;

	if (!s)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	while (off < len && rc == 0) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (text + off)) : len - off;
		char *line;
		const char *why;

		lineno++;
		if (memchr(text + off, '\0', n)) {
			rc = lethe_error_set(LETHE_EDATA, "%s:%zu: NUL byte in line", name, lineno);
			break;
		}
		if (!(line = strndup(text + off, n))) {
			rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
			break;
		}
		if (n > 0 && line[n - 1] == '\r')
			line[n - 1] = '\0';
		why = parse_line(s, line);
		if (why)
			rc = lethe_error_set(strcmp(why, "out of memory") ? LETHE_EDATA : LETHE_ESOFTWARE,
					     "%s:%zu: %s", name, lineno, why);
		free(line);
		off += n + 1;
	}
	if (rc != 0) {
		lethe_allowed_signers_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int lethe_allowed_signers_load(lethe_allowed_signers **out, const char *path)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (!f)
		return lethe_error_set(errno == ENOENT ? LETHE_ENOINPUT : LETHE_EIO,
				       "cannot open allowed signers '%s': %s", path, strerror(errno));
	text = malloc(MAX_FILE);
	if (!text) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	len = fread(text, 1, MAX_FILE, f);
	if (ferror(f)) {
		rc = lethe_error_set(LETHE_EIO, "cannot read '%s': %s", path, strerror(errno));
		goto out;
	}
	if (len == MAX_FILE) {
		rc = lethe_error_set(LETHE_EDATA, "allowed signers '%s' is too large", path);
		goto out;
	}
	rc = lethe_allowed_signers_parse(out, text, len, path);
out:
	free(text);
	fclose(f);
	return rc;
}

/* How far an entry got towards allowing the signature; higher is closer. */
enum { NO_KEY, KEY, PRINCIPAL, NAMESPACE, AFTER_OK, ALLOWED };

/* explicit: a line without a namespaces option does not allow ns. */
static int judge_as(const entry *e, const char *principal, const unsigned char pk[32],
		    const char *ns, int64_t when, int *time_fault, int explicit)
{
	if (sodium_memcmp(e->pk, pk, 32) != 0)
		return NO_KEY;
	if (principal && !match_list(principal, e->principals))
		return KEY;
	if ((e->namespaces || explicit) && (!e->namespaces || !match_list(ns, e->namespaces)))
		return PRINCIPAL;
	*time_fault = 0;
	if (e->has_after && when < e->after)
		return NAMESPACE;
	*time_fault = 1;
	if (e->has_before && when > e->before)
		return AFTER_OK;
	return ALLOWED;
}

static int judge(const entry *e, const char *principal, const unsigned char pk[32],
		 const char *ns, int64_t when, int *time_fault)
{
	return judge_as(e, principal, pk, ns, when, time_fault, 0);
}

static int find_as(const lethe_allowed_signers *s, const char *principal,
		   const unsigned char pk[32], const char *ns, int64_t when_unix, int explicit)
{
	int best = NO_KEY, time_fault = 0, rc;
	char *fp = NULL;
	size_t i;

	for (i = 0; i < s->n && best != ALLOWED; i++) {
		int tf = 0, j = judge_as(&s->v[i], principal, pk, ns, when_unix, &tf, explicit);

		if (j > best) {
			best = j;
			time_fault = tf;
		}
	}
	if (best == ALLOWED)
		return 0;
	if ((rc = lethe_sshkey_fingerprint(&fp, pk)) != 0)
		return rc;
	if (!principal)
		principal = "*";
	switch (best) {
	case NO_KEY:
		rc = lethe_error_set(LETHE_EVERIFY, "key %s is not an allowed signer", fp);
		break;
	case KEY:
		rc = lethe_error_set(LETHE_EVERIFY, "key %s is not allowed for principal '%s'",
				     fp, principal);
		break;
	case PRINCIPAL:
		rc = lethe_error_set(LETHE_EVERIFY,
				     "key %s is not allowed to sign namespace '%s' for principal '%s'",
				     fp, ns, principal);
		break;
	default:
		rc = lethe_error_set(LETHE_EVERIFY,
				     "signature time is %s of key %s for principal '%s'",
				     time_fault ? "after valid-before" : "before valid-after",
				     fp, principal);
		break;
	}
	free(fp);
	return rc;
}

int lethe_allowed_signers_find(const lethe_allowed_signers *s,
			       const char *principal, const unsigned char pk[32],
			       const char *ns, int64_t when_unix)
{
	return find_as(s, principal, pk, ns, when_unix, 0);
}

int lethe_allowed_signers_find_explicit(const lethe_allowed_signers *s,
					const char *principal, const unsigned char pk[32],
					const char *ns, int64_t when_unix)
{
	return find_as(s, principal, pk, ns, when_unix, 1);
}

int lethe_allowed_signers_first_explicit(char **out, const lethe_allowed_signers *s,
					 const unsigned char pk[32], const char *ns,
					 int64_t when_unix)
{
	int tf;

	for (size_t i = 0; i < s->n; i++)
		if (judge_as(&s->v[i], NULL, pk, ns, when_unix, &tf, 1) == ALLOWED) {
			size_t n = strcspn(s->v[i].principals, ",");

			if (!(*out = strndup(s->v[i].principals, n)))
				return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
			return 0;
		}
	return lethe_error_set(LETHE_ENOTFOUND, "no line names namespace '%s' for the key", ns);
}

int lethe_allowed_signers_principals_for_key(char **out,
					     const lethe_allowed_signers *s,
					     const unsigned char pk[32],
					     const char *ns, int64_t when_unix)
{
	size_t i, total = 0, o = 0;
	char *buf;
	int tf;

	for (i = 0; i < s->n; i++)
		if (judge(&s->v[i], NULL, pk, ns, when_unix, &tf) == ALLOWED)
			total += strlen(s->v[i].principals) + 1;
	if (total == 0)
		return lethe_error_set(LETHE_ENOTFOUND, "no principal matched the key");
	if (!(buf = malloc(total)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	for (i = 0; i < s->n; i++) {
		if (judge(&s->v[i], NULL, pk, ns, when_unix, &tf) != ALLOWED)
			continue;
		if (o)
			buf[o++] = ',';
		memcpy(buf + o, s->v[i].principals, strlen(s->v[i].principals));
		o += strlen(s->v[i].principals);
	}
	buf[o] = '\0';
	*out = buf;
	return 0;
}
