/*
 * backend_maria_erasures.c - erasures kept open (lethe_erasures_open,
 * lethe/backend.h) on MariaDB: the subjects whose erasure kept rows under a
 * legal hold or a rule's keep_while, so that a later run can finish it.
 *
 * Invariants: one row per subject key, kept as text with its lethe_value
 * type beside it (as lethe_holds keeps a hold's subject); the row is deleted
 * once the erasure is finished. The table is one of Lethe's own
 * (backend_maria_own.c); a register whose tables predate it reads as having
 * no open erasure until its next writing run makes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend_maria.h"
#include "lethe/error.h"

static lethe_value text(const char *s)
{
	if (!s)
		return (lethe_value){ .type = LETHE_VALUE_NULL };
	return (lethe_value){ .type = LETHE_VALUE_TEXT, .s = s, .len = strlen(s) };
}

/* The key as the text the table keeps (integers in decimal), into buf or
 * pointing into the key. */
static lethe_value key_text(const lethe_value *k, char buf[40])
{
	if (k->type == LETHE_VALUE_INTEGER)
		snprintf(buf, 40, "%lld", (long long)k->i);
	else if (k->type == LETHE_VALUE_REAL)
		snprintf(buf, 40, "%.17g", k->r);
	else
		return (lethe_value){ .type = LETHE_VALUE_TEXT, .s = k->s, .len = k->len };
	return text(buf);
}

static int has_table(lethe_maria *be, int *found)
{
	lethe_maria_result *r = NULL;
	int rc;

	*found = 0;
	if (!be->own_schema)
		return 0;
	if ((rc = lethe_maria_exec(&r, be, "read the schema", "SELECT 1 FROM information_schema.tables "
				   "WHERE table_schema = DATABASE() AND table_name = "
				   "'lethe_erasures_open'", 0, NULL)) < 0)
		return rc;
	*found = r->nrows > 0;
	lethe_maria_result_free(r);
	return 0;
}

static int close_subject(lethe_maria *be, const lethe_value *subject, const char *what)
{
	char buf[40];
	lethe_value v[2] = { key_text(subject, buf),
			     { .type = LETHE_VALUE_INTEGER, .i = (int64_t)subject->type } };

	return lethe_maria_exec(NULL, be, what, "DELETE FROM lethe_erasures_open WHERE subject = ? "
				"AND subject_type = ?", 2, v);
}

int lethe_maria_erasure_open(lethe_backend *base, const lethe_open_erasure *e)
{
	lethe_maria *be = (lethe_maria *)base;
	char buf[40];
	lethe_value v[5] = { key_text(&e->subject, buf),
			     { .type = LETHE_VALUE_INTEGER, .i = (int64_t)e->subject.type },
			     { .type = LETHE_VALUE_INTEGER, .i = e->erasure }, text(e->contact),
			     text(e->since) };
	int rc;

	if (!be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "open erasure outside a transaction");
	if ((rc = close_subject(be, &e->subject, "record an open erasure")) < 0)
		return rc;
	return lethe_maria_exec(NULL, be, "record an open erasure", "INSERT INTO lethe_erasures_open "
				"(subject, subject_type, erasure, contact, since) VALUES (?, ?, ?, ?, ?)",
				5, v);
}

int lethe_maria_erasure_close(lethe_backend *base, const lethe_value *subject)
{
	lethe_maria *be = (lethe_maria *)base;
	int rc, found;

	if (!be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "close erasure outside a transaction");
	if ((rc = has_table(be, &found)) < 0 || !found)
		return rc;
	return close_subject(be, subject, "close an erasure");
}

int lethe_maria_erasures_open(lethe_backend *base,
			      int (*cb)(void *ctx, const lethe_open_erasure *e), void *ctx)
{
	lethe_maria *be = (lethe_maria *)base;
	lethe_maria_result *r = NULL;
	int rc, found;

	if ((rc = has_table(be, &found)) < 0 || !found)
		return rc;
	if ((rc = lethe_maria_exec(&r, be, "read the open erasures", "SELECT subject, subject_type, "
				   "erasure, contact, since FROM lethe_erasures_open ORDER BY erasure, "
				   "subject", 0, NULL)) < 0)
		return rc;
	for (size_t i = 0; i < r->nrows && rc == 0; i++) {
		const char *const *c = (const char *const *)&r->cells[i * r->ncols];
		lethe_open_erasure e = { .erasure = strtoll(c[2], NULL, 10), .contact = c[3],
					 .since = c[4] };

		lethe_value_from_typed_text(&e.subject, c[0], atoi(c[1]));
		rc = cb(ctx, &e);
	}
	lethe_maria_result_free(r);
	return rc;
}
