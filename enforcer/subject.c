/*
 * subject.c - data subjects named on the command line, and the suppression
 * tokens of their contact values. See lethe/subject.h.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "fold.h"
#include "lethe/check.h"
#include "lethe/error.h"
#include "lethe/subject.h"
#include "strvec.h"
#include "transform.h"

/* A key column with INTEGER affinity stores "42" as 42, and expressions such
 * as (SELECT customer_id ...) compare without affinity: bind an integer. */
static int integer_affinity(const lethe_column_info *c)
{
	char up[64];
	size_t i;

	if (!c)
		return 1; /* rowid */
	for (i = 0; i + 1 < sizeof(up) && c->decl_type[i]; i++)
		up[i] = (char)toupper((unsigned char)c->decl_type[i]);
	up[i] = '\0';
	return strstr(up, "INT") != NULL;
}

static int count_row(void *ctx, size_t ncols, const char *const *names, const lethe_value *v)
{
	(void)ncols;
	(void)names;
	(void)v;
	(*(int *)ctx)++;
	return 0;
}

static char *key_match(const lethe_policy *p)
{
	char *where = NULL;
	size_t n = strlen(p->subject_key) * 2 + 32;

	if (!(where = malloc(n)))
		return NULL;
	/* the key is an identifier of the policy, quoted with "" doubling */
	char *w = where;
	*w++ = '"';
	for (const char *k = p->subject_key; *k; k++) {
		if (*k == '"')
			*w++ = '"';
		*w++ = *k;
	}
	strcpy(w, "\" = :lethe_subject");
	return where;
}

int lethe_subject_parse(lethe_subject *out, lethe_backend *be, const lethe_policy *p,
			const char *arg)
{
	lethe_table_info *t = NULL;
	lethe_subject s = { 0 };
	char *end;
	int rc;

	if (!p->subject_table || !p->subject_key)
		return lethe_error_set(LETHE_ECONFIG, "the policy names no data subject "
				       "(a 'subject' with 'table' and 'key' in one policy file)");
	if ((rc = lethe_backend_table_info(&t, be, p->subject_table)) < 0)
		return rc;
	if (!(s.text = strdup(arg))) {
		lethe_table_info_free(t);
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	s.value.type = LETHE_VALUE_TEXT;
	s.value.s = s.text;
	s.value.len = strlen(arg);
	if (integer_affinity(lethe_table_column(t, p->subject_key)) && *arg) {
		long long v;

		errno = 0;
		v = strtoll(arg, &end, 10);
		/* out of range: no integer key has it, and clamping would name another */
		if (!*end && errno == 0) {
			s.value.type = LETHE_VALUE_INTEGER;
			s.value.i = v;
		}
	}
	lethe_table_info_free(t);
	*out = s;
	return 0;
}

int lethe_subject_find(lethe_subject *out, lethe_backend *be, const lethe_policy *p,
		       const char *arg)
{
	lethe_subject s = { 0 };
	char *where = NULL;
	int rc, found = 0;

	if ((rc = lethe_subject_parse(&s, be, p, arg)) < 0)
		return rc;
	if (!(where = key_match(p))) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	if ((rc = lethe_backend_rows(be, p->subject_table, where, &s.value, count_row, &found)) < 0)
		goto out;
	if (!found) {
		rc = lethe_error_set(LETHE_EDATA, "no data subject '%s' in table '%s'; nothing was changed",
				     arg, p->subject_table);
		goto out;
	}
	*out = s;
	s.text = NULL;
out:
	free(s.text);
	free(where);
	return rc;
}

int lethe_subject_key_text(const char **s, size_t *len, char buf[LETHE_SUBJECT_KEY_TEXT],
			   const lethe_value *key)
{
	if (key->type == LETHE_VALUE_INTEGER) {
		*len = (size_t)snprintf(buf, LETHE_SUBJECT_KEY_TEXT, "%" PRId64, key->i);
		*s = buf;
		return 0;
	}
	if (key->type == LETHE_VALUE_TEXT) {
		*s = key->s;
		*len = key->len;
		return 0;
	}
	return lethe_error_set(LETHE_EDATA, "a subject key that is neither an integer nor text");
}

int lethe_subject_digest(char out[LETHE_DIGEST_SIZE], const lethe_token_key *k,
			 const lethe_value *key)
{
	char buf[LETHE_SUBJECT_KEY_TEXT];
	const char *s = NULL;
	size_t len = 0;
	int rc = lethe_subject_key_text(&s, &len, buf, key);

	if (rc == 0)
		lethe_digest(out, k, "subject", s, len);
	return rc;
}

void lethe_subject_release(lethe_subject *s)
{
	if (!s)
		return;
	free(s->text);
	memset(s, 0, sizeof(*s));
}

/* A value with surrounding ASCII white space left off: [*a, *b). */
static void trim(const char *value, size_t len, size_t *a, size_t *b)
{
	*a = 0;
	*b = len;
	while (*a < *b && isspace((unsigned char)value[*a]))
		(*a)++;
	while (*b > *a && isspace((unsigned char)value[*b - 1]))
		(*b)--;
}

/* The normalised form of a trimmed contact value (see lethe/subject.h):
 * e-mail addresses NFC and case folded, other values NFC without " -.()". */
static int normalise(char **out, size_t *n, const char *v, size_t len)
{
	char *stripped;
	size_t m = 0;
	int rc;

	if (memchr(v, '@', len))
		return lethe_text_fold(out, n, v, len, 1);
	if (!(stripped = malloc(len + 1)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	for (size_t i = 0; i < len; i++)
		if (!strchr(" -.()", v[i]))
			stripped[m++] = v[i];
	rc = lethe_text_fold(out, n, stripped, m, 0);
	free(stripped);
	return rc;
}

int lethe_suppression_token(char out[LETHE_TOKEN_SIZE], const lethe_token_key *k,
			    const char *value, size_t len)
{
	char *norm = NULL;
	size_t a, b, n = 0;
	int rc;

	trim(value, len, &a, &b);
	/* A token is already what the list holds: a value pseudonymised by a
	 * rule, or by an interrupted erasure of the same subject. Its token
	 * would match nothing anybody could ever look up. */
	if (lethe_token_looks_like(value + a, b - a)) {
		memcpy(out, value + a, LETHE_TOKEN_LEN);
		out[LETHE_TOKEN_LEN] = '\0';
		return 0;
	}
	if ((rc = normalise(&norm, &n, value + a, b - a)) < 0)
		return rc;
	lethe_token(out, k, norm, n);
	free(norm);
	return 0;
}

int lethe_suppression_lookup(int *found, lethe_backend *be, const lethe_token_key *k,
			     const char *value, size_t len)
{
	char token[LETHE_TOKEN_SIZE];
	int rc;

	*found = 0;
	if ((rc = lethe_suppression_token(token, k, value, len)) < 0 ||
	    (rc = lethe_backend_suppressed(found, be, token)) < 0 || *found)
		return rc;
	/* A contact value a rule had pseudonymised before the erasure is on the
	 * list as the rule's token, of the value's exact bytes. */
	lethe_token(token, k, value, len);
	return lethe_backend_suppressed(found, be, token);
}

/* A contact column's value as text: 1 when it is text or an integer
 * (integers as decimal text in buf), 0 for NULL, blobs and reals. */
static int contact_text(const char **s, size_t *len, char buf[32], const lethe_value *v)
{
	if (v->type == LETHE_VALUE_INTEGER) {
		*len = (size_t)snprintf(buf, 32, "%" PRId64, v->i);
		*s = buf;
		return 1;
	}
	*s = v->s;
	*len = v->len;
	return v->type == LETHE_VALUE_TEXT;
}

/* The key a rule pseudonymising `column` of the subject table binds its row
 * tokens to (lethe_rule_key): the first such rule's, in policy order; the
 * subject key when no rule pseudonymises the column (then any fixed choice
 * gives the same digest before and after a restore). */
static const char *row_key_column(const lethe_policy *p, const lethe_table_info *t,
				  const char *column)
{
	for (size_t i = 0; i < p->nrules; i++) {
		const lethe_rule *r = &p->rules[i];
		const char *key;

		if (strcasecmp(r->table, p->subject_table) ||
		    (r->action != LETHE_ACTION_PSEUDONYMISE &&
		     r->on_erasure != LETHE_ACTION_PSEUDONYMISE))
			continue;
		for (size_t j = 0; j < r->ncolumns; j++)
			if (!strcasecmp(r->columns[j].column, column) && (key = lethe_rule_key(r, t)))
				return key;
	}
	return p->subject_key;
}

/* What a rule's pseudonymise writes for contact column `column` of this
 * row: 1 with the token in out, 0 for a value that takes none (see
 * contact_text). A token stays as it is. */
static int identity_token(char out[LETHE_TOKEN_SIZE], const lethe_policy *p,
			  const lethe_table_info *t, const lethe_token_key *k, const char *column,
			  size_t ncols, const char *const *names, const lethe_value *v, size_t at)
{
	const lethe_column_info *ci = lethe_table_column(t, column);
	const lethe_value *row_key = NULL;
	const char *s, *key;
	char buf[32];
	size_t len;
	int rc;

	if (!contact_text(&s, &len, buf, &v[at]))
		return 0;
	if (lethe_token_looks_like(s, len)) {
		memcpy(out, s, LETHE_TOKEN_LEN);
		out[LETHE_TOKEN_LEN] = '\0';
		return 1;
	}
	if (ci && ci->in_unique) {
		/* a rule keyed by the hidden rowid, which is no column of the row
		 * read: the subject key stands in; a value such a rule pseudonymised
		 * then no longer matches, and replay skips the subject with a
		 * warning rather than erase someone it cannot tell apart */
		key = row_key_column(p, t, column);
		for (int pass = 0; pass < 2 && !row_key; pass++, key = p->subject_key)
			for (size_t i = 0; i < ncols && !row_key; i++)
				if (!strcasecmp(names[i], key))
					row_key = &v[i];
	}
	rc = lethe_transform_token(out, k, s, len, row_key);
	return rc < 0 ? rc : 1;
}

int lethe_subject_identity_row(char out[LETHE_DIGEST_SIZE], int *has, const lethe_policy *p,
			       const lethe_table_info *t, const lethe_token_key *k, size_t ncols,
			       const char *const *names, const lethe_value *v)
{
	char *data, tok[LETHE_TOKEN_SIZE];
	size_t n = 0;
	int rc = 0, any = 0;

	*has = 0;
	if (!p->nsubject_contact)
		return 0;
	if (!(data = malloc(p->nsubject_contact * (LETHE_TOKEN_LEN + 1))))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	for (size_t j = 0; j < p->nsubject_contact; j++) {
		int made = 0;

		for (size_t i = 0; i < ncols && !made; i++)
			if (!strcasecmp(names[i], p->subject_contact[j]) &&
			    (made = identity_token(tok, p, t, k, p->subject_contact[j], ncols, names, v,
						   i)) < 0) {
				rc = made;
				goto out;
			}
		memcpy(data + n, made ? tok : "-", made ? LETHE_TOKEN_LEN : 1);
		n += made ? LETHE_TOKEN_LEN : 1;
		data[n++] = '\n';
		any |= made;
	}
	if (any) {
		lethe_digest(out, k, "contact", data, n);
		*has = 1;
	}
out:
	free(data);
	return rc;
}

typedef struct {
	const lethe_policy *p;
	const lethe_table_info *t;
	const lethe_token_key *k;
	char *out;
	int *has;
	int rows;
} identity_ctx;

static int identity_row(void *ctx, size_t ncols, const char *const *names, const lethe_value *v)
{
	identity_ctx *c = ctx;

	/* a key that names more than one row names no one person */
	if (c->rows++) {
		*c->has = 0;
		return 0;
	}
	return lethe_subject_identity_row(c->out, c->has, c->p, c->t, c->k, ncols, names, v);
}

int lethe_subject_identity(char out[LETHE_DIGEST_SIZE], int *has, lethe_backend *be,
			   const lethe_policy *p, const lethe_subject *s, const lethe_token_key *k)
{
	identity_ctx c = { p, NULL, k, out, has, 0 };
	lethe_table_info *t = NULL;
	char *where;
	int rc;

	*has = 0;
	if (!p->nsubject_contact)
		return 0;
	if ((rc = lethe_backend_table_info(&t, be, p->subject_table)) < 0)
		return rc;
	c.t = t;
	if (!(where = key_match(p))) {
		lethe_table_info_free(t);
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	rc = lethe_backend_rows(be, p->subject_table, where, &s->value, identity_row, &c);
	free(where);
	lethe_table_info_free(t);
	if (rc < 0)
		*has = 0;
	return rc;
}

typedef struct {
	const lethe_policy *p;
	const lethe_token_key *k;
	lethe_strvec tokens;
	int rc;
} contacts;

static int contact_row(void *ctx, size_t ncols, const char *const *names, const lethe_value *v)
{
	contacts *c = ctx;

	for (size_t i = 0; i < ncols; i++) {
		const char *s;
		char buf[32], token[LETHE_TOKEN_SIZE];
		size_t len;
		int wanted = 0, rc;

		for (size_t j = 0; j < c->p->nsubject_contact; j++)
			wanted |= !strcasecmp(names[i], c->p->subject_contact[j]);
		if (!wanted || !contact_text(&s, &len, buf, &v[i]))
			continue;
		if ((rc = lethe_suppression_token(token, c->k, s, len)) < 0 ||
		    (rc = lethe_strvec_push(&c->tokens, token)) < 0)
			return rc;
	}
	return 0;
}

int lethe_subject_contact_tokens(char ***out, size_t *n, lethe_backend *be, const lethe_policy *p,
				 const lethe_subject *s, const lethe_token_key *k)
{
	contacts c = { p, k, LETHE_STRVEC_INIT, 0 };
	char *where = key_match(p);
	int rc;

	*out = NULL;
	*n = 0;
	if (!where)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	rc = p->nsubject_contact ? lethe_backend_rows(be, p->subject_table, where, &s->value,
						      contact_row, &c) : 0;
	free(where);
	if (rc < 0) {
		lethe_strvec_clear(&c.tokens);
		return rc;
	}
	/* handed over: a NULL-terminated malloc'd list of malloc'd strings */
	*out = c.tokens.v;
	*n = c.tokens.n;
	return 0;
}
