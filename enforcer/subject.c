/*
 * subject.c - data subjects named on the command line, and the suppression
 * tokens of their contact values. See lethe/subject.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "lethe/error.h"
#include "lethe/subject.h"

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

int lethe_subject_find(lethe_subject *out, lethe_backend *be, const lethe_policy *p,
		       const char *arg)
{
	lethe_table_info *t = NULL;
	lethe_subject s = { 0 };
	char *where = NULL, *end;
	int rc, found = 0;

	if (!p->subject_table || !p->subject_key)
		return lethe_error_set(LETHE_ECONFIG, "the policy names no data subject "
				       "(a 'subject' with 'table' and 'key' in one policy file)");
	if ((rc = lethe_backend_table_info(&t, be, p->subject_table)) < 0)
		return rc;
	if (!(s.text = strdup(arg))) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	s.value.type = LETHE_VALUE_TEXT;
	s.value.s = s.text;
	s.value.len = strlen(arg);
	if (integer_affinity(lethe_table_column(t, p->subject_key)) && *arg) {
		long long v = strtoll(arg, &end, 10);

		if (!*end) {
			s.value.type = LETHE_VALUE_INTEGER;
			s.value.i = v;
		}
	}
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
	lethe_table_info_free(t);
	return rc;
}

void lethe_subject_release(lethe_subject *s)
{
	if (!s)
		return;
	free(s->text);
	memset(s, 0, sizeof(*s));
}

void lethe_suppression_token(char out[LETHE_TOKEN_SIZE], const lethe_token_key *k,
			     const char *value, size_t len)
{
	char *norm = malloc(len + 1);
	size_t n = 0, a = 0, b = len;
	int email = memchr(value, '@', len) != NULL;

	if (!norm) {
		lethe_token(out, k, value, len);
		return;
	}
	while (a < b && isspace((unsigned char)value[a]))
		a++;
	while (b > a && isspace((unsigned char)value[b - 1]))
		b--;
	for (size_t i = a; i < b; i++) {
		char c = value[i];

		if (email)
			norm[n++] = (char)tolower((unsigned char)c);
		else if (!strchr(" -.()", c))
			norm[n++] = c;
	}
	lethe_token(out, k, norm, n);
	free(norm);
}

typedef struct {
	const lethe_policy *p;
	const lethe_token_key *k;
	char **tokens;
	size_t n;
	int rc;
} contacts;

static int contact_row(void *ctx, size_t ncols, const char *const *names, const lethe_value *v)
{
	contacts *c = ctx;

	for (size_t i = 0; i < ncols; i++) {
		int wanted = 0;

		for (size_t j = 0; j < c->p->nsubject_contact; j++)
			wanted |= !strcasecmp(names[i], c->p->subject_contact[j]);
		if (!wanted || (v[i].type != LETHE_VALUE_TEXT && v[i].type != LETHE_VALUE_INTEGER))
			continue;
		char buf[32], **grown = realloc(c->tokens, (c->n + 1) * sizeof(char *));
		const char *s = v[i].s;
		size_t len = v[i].len;

		if (!grown || !(grown[c->n] = malloc(LETHE_TOKEN_SIZE))) {
			if (grown)
				c->tokens = grown;
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		}
		c->tokens = grown;
		if (v[i].type == LETHE_VALUE_INTEGER) {
			len = (size_t)snprintf(buf, sizeof(buf), "%lld", (long long)v[i].i);
			s = buf;
		}
		lethe_suppression_token(c->tokens[c->n++], c->k, s, len);
	}
	return 0;
}

int lethe_subject_contact_tokens(char ***out, size_t *n, lethe_backend *be, const lethe_policy *p,
				 const lethe_subject *s, const lethe_token_key *k)
{
	contacts c = { p, k, NULL, 0, 0 };
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
		lethe_backend_names_free(c.tokens, c.n);
		return rc;
	}
	*out = c.tokens;
	*n = c.n;
	return 0;
}
