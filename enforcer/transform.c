/*
 * transform.c - tokens and masks, value by value.
 *
 * Pseudonymise: a keyed token of the value's bytes (integers and reals by
 * their decimal text, so 42 and '42' give the same token: a join on them
 * still holds); in a UNIQUE column the token also depends on the row's key,
 * so no two rows ever share one. Masks: null; redact (the rule's text or "[redacted]"); year
 * and month (a date cut to "YYYY" or "YYYY-MM", unix seconds to the first
 * second of that year or month); first N (N characters of UTF-8 text, N
 * bytes of a blob). A date mask on a value that is no date leaves no part of
 * it: NULL, or the redaction text when the column is NOT NULL.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/calendar.h"
#include "lethe/error.h"
#include "transform.h"

static void set_text(lethe_value *out, const char *s, size_t len)
{
	out->type = LETHE_VALUE_TEXT;
	out->s = s;
	out->len = len;
}

/* The value as text in t->buf (numbers), or its own bytes. */
static void as_text(lethe_transform *t, const lethe_value *in, const char **s, size_t *len)
{
	if (in->type == LETHE_VALUE_INTEGER) {
		*len = (size_t)snprintf(t->buf, sizeof(t->buf), "%" PRId64, in->i);
		*s = t->buf;
	} else if (in->type == LETHE_VALUE_REAL) {
		*len = (size_t)snprintf(t->buf, sizeof(t->buf), "%.17g", in->r);
		*s = t->buf;
	} else {
		*s = in->s;
		*len = in->len;
	}
}

int lethe_transform_token(char out[LETHE_TOKEN_SIZE], const lethe_token_key *k,
			  const char *value, size_t len, const lethe_value *row_key)
{
	static const char types[] = { [LETHE_VALUE_INTEGER] = 'i', [LETHE_VALUE_REAL] = 'r',
				      [LETHE_VALUE_TEXT] = 't', [LETHE_VALUE_BLOB] = 'b' };
	char kbuf[32];
	const char *ks;
	size_t klen;

	if (!row_key) {
		lethe_token(out, k, value, len);
		return 0;
	}
	if (row_key->type == LETHE_VALUE_NULL)
		return lethe_error_set(LETHE_EDATA, "a row without a key cannot be pseudonymised");
	ks = row_key->s;
	klen = row_key->len;
	if (row_key->type == LETHE_VALUE_INTEGER || row_key->type == LETHE_VALUE_REAL) {
		klen = row_key->type == LETHE_VALUE_INTEGER ?
		       (size_t)snprintf(kbuf, sizeof(kbuf), "%" PRId64, row_key->i) :
		       (size_t)snprintf(kbuf, sizeof(kbuf), "%.17g", row_key->r);
		ks = kbuf;
	}
	lethe_token_row(out, k, value, len, types[row_key->type], ks, klen);
	return 0;
}

/* A UNIQUE column's token includes the row's key (lethe_token_row): equal
 * values of two rows (a customer who registered again with the same address)
 * must not become one token, which would fail the update on every run or,
 * under ON CONFLICT REPLACE, delete the other row. */
static int pseudonymise(lethe_transform *t, const lethe_value *in, const lethe_value *key,
			int unique, lethe_value *out)
{
	char token[LETHE_TOKEN_SIZE];
	const char *s;
	size_t len;

	/* check refuses a key that may be NULL; a NULL key names no row. */
	if (unique && key->type == LETHE_VALUE_NULL)
		return lethe_error_set(LETHE_EDATA, "rule '%s': a row without a key cannot be "
				       "pseudonymised", t->rule->name);
	as_text(t, in, &s, &len);
	lethe_transform_token(token, t->key, s, len, unique ? key : NULL);
	memcpy(t->buf, token, sizeof(token));
	set_text(out, t->buf, LETHE_TOKEN_LEN);
	return 0;
}

/* Bytes of the first n UTF-8 characters of s. */
static size_t utf8_prefix(const char *s, size_t len, int n)
{
	size_t i = 0;

	for (int c = 0; c < n && i < len; c++) {
		i++;
		while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
	}
	return i;
}

static int first_n(lethe_transform *t, const lethe_value *in, int n, lethe_value *out)
{
	const char *s;
	size_t len, keep;

	if (in->type == LETHE_VALUE_BLOB) {
		out->type = LETHE_VALUE_BLOB;
		out->s = in->s;
		out->len = in->len < (size_t)n ? in->len : (size_t)n;
		return 0;
	}
	as_text(t, in, &s, &len);
	keep = utf8_prefix(s, len, n);
	/* s may be t->buf already (numbers); in->s stays valid during the call. */
	set_text(out, s, keep);
	return 0;
}

static int redact(const lethe_column_action *ca, lethe_value *out)
{
	const char *text = ca->text ? ca->text : LETHE_REDACT_TEXT;

	set_text(out, text, strlen(text));
	return 0;
}

static int cut_date(lethe_transform *t, const lethe_column_action *ca, int notnull,
		    const lethe_value *in, lethe_value *out)
{
	int year_only = ca->mask == LETHE_MASK_YEAR, y, m, d;
	lethe_day day;

	if (in->type == LETHE_VALUE_INTEGER && lethe_day_from_unix(&day, in->i) == 0) {
		lethe_day_to_ymd(day, &y, &m, &d);
		lethe_day_from_ymd(&day, y, year_only ? 1 : m, 1);
		out->type = LETHE_VALUE_INTEGER;
		out->i = (int64_t)day * 86400;
		return 0;
	}
	if (in->type == LETHE_VALUE_TEXT && lethe_day_from_text(&day, in->s, in->len) == 0) {
		lethe_day_to_ymd(day, &y, &m, &d);
		if (year_only)
			set_text(out, t->buf, (size_t)snprintf(t->buf, sizeof(t->buf), "%04d", y));
		else
			set_text(out, t->buf, (size_t)snprintf(t->buf, sizeof(t->buf), "%04d-%02d", y, m));
		return 0;
	}
	if (notnull)
		return redact(ca, out);
	out->type = LETHE_VALUE_NULL;
	return 0;
}

int lethe_transform_value(void *ctx, size_t column, const lethe_value *in, const lethe_value *key,
			  lethe_value *out)
{
	lethe_transform *t = ctx;
	const lethe_column_action *ca;

	if (column >= t->rule->ncolumns)
		return lethe_error_set(LETHE_ESOFTWARE, "transform: no column %zu", column);
	ca = &t->rule->columns[column];
	memset(out, 0, sizeof(*out));
	if (in->type == LETHE_VALUE_NULL) {
		out->type = LETHE_VALUE_NULL;
		return 0;
	}
	if (t->rule->action == LETHE_ACTION_PSEUDONYMISE) {
		if (!t->key)
			return lethe_error_set(LETHE_ECONFIG, "rule '%s' pseudonymises: "
					       "configure pseudonym_key", t->rule->name);
		return pseudonymise(t, in, key, t->unique ? t->unique[column] : 0, out);
	}
	switch (ca->mask) {
	case LETHE_MASK_NULL:
		out->type = LETHE_VALUE_NULL;
		return 0;
	case LETHE_MASK_REDACT:
		return redact(ca, out);
	case LETHE_MASK_YEAR:
	case LETHE_MASK_MONTH:
		return cut_date(t, ca, t->notnull ? t->notnull[column] : 0, in, out);
	case LETHE_MASK_FIRST:
		return first_n(t, in, ca->n, out);
	}
	return lethe_error_set(LETHE_ESOFTWARE, "transform: unknown mask");
}
