/*
 * backend_pg_erasures.c - erasures kept open (lethe.lethe_erasures_open,
 * lethe/backend.h) on PostgreSQL: the subjects whose erasure kept rows under
 * a legal hold or a rule's keep_while, so that a later run can finish it.
 *
 * Invariants: one row per subject key, kept as text with its lethe_value
 * type beside it (as lethe_holds keeps a hold's subject); the row is deleted
 * once the erasure is finished. The table is made with schema lethe
 * (backend_pg_own.c); a register whose schema predates it reads as having
 * no open erasure until its next writing run makes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include "backend_pg.h"
#include "lethe/error.h"

/* The subject's text and type as parameters $1 and $2. */
static int subject_params(const char *p[2], char type[8], char buf[40], char **heap,
			  const lethe_value *subject)
{
	snprintf(type, 8, "%d", (int)subject->type);
	p[0] = lethe_pg_param(subject, buf, 40, heap);
	p[1] = type;
	return p[0] ? 0 : lethe_error_set(LETHE_ESOFTWARE, "out of memory");
}

static int close_subject(lethe_pg *be, const lethe_value *subject, const char *what)
{
	const char *p[2];
	char type[8], buf[40], *heap = NULL;
	int rc;

	if ((rc = subject_params(p, type, buf, &heap, subject)) == 0)
		rc = lethe_pg_exec(NULL, be, what, "DELETE FROM lethe.lethe_erasures_open WHERE "
				   "subject = $1 AND subject_type = $2::int", 2, p);
	free(heap);
	return rc;
}

int lethe_pg_erasure_open(lethe_backend *base, const lethe_open_erasure *e)
{
	lethe_pg *be = (lethe_pg *)base;
	const char *p[5];
	char type[8], buf[40], seq[24], *heap = NULL;
	int rc;

	if (!be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "open erasure outside a transaction");
	if ((rc = close_subject(be, &e->subject, "record an open erasure")) < 0 ||
	    (rc = subject_params(p, type, buf, &heap, &e->subject)) < 0)
		goto out;
	snprintf(seq, sizeof(seq), "%lld", (long long)e->erasure);
	p[2] = seq;
	p[3] = e->contact;
	p[4] = e->since;
	rc = lethe_pg_exec(NULL, be, "record an open erasure", "INSERT INTO lethe.lethe_erasures_open "
			   "(subject, subject_type, erasure, contact, since) VALUES ($1, $2::int, "
			   "$3::bigint, $4, $5)", 5, p);
out:
	free(heap);
	return rc;
}

int lethe_pg_erasure_close(lethe_backend *base, const lethe_value *subject)
{
	lethe_pg *be = (lethe_pg *)base;

	if (!be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "close erasure outside a transaction");
	if (!lethe_pg_has_own(be, "lethe_erasures_open"))
		return 0;
	return close_subject(be, subject, "close an erasure");
}

int lethe_pg_erasures_open(lethe_backend *base, int (*cb)(void *ctx, const lethe_open_erasure *e),
			   void *ctx)
{
	lethe_pg *be = (lethe_pg *)base;
	PGresult *res = NULL;
	int rc;

	if (!lethe_pg_has_own(be, "lethe_erasures_open"))
		return 0;
	if ((rc = lethe_pg_exec(&res, be, "read the open erasures", "SELECT subject, subject_type, "
				"erasure, contact, since FROM lethe.lethe_erasures_open ORDER BY erasure, "
				"subject", 0, NULL)) < 0)
		return rc;
	for (int r = 0; r < PQntuples(res) && rc == 0; r++) {
		lethe_open_erasure e = { .erasure = strtoll(PQgetvalue(res, r, 2), NULL, 10) };

		lethe_value_from_typed_text(&e.subject, PQgetvalue(res, r, 0),
					    atoi(PQgetvalue(res, r, 1)));
		e.contact = PQgetisnull(res, r, 3) ? NULL : PQgetvalue(res, r, 3);
		e.since = PQgetvalue(res, r, 4);
		rc = cb(ctx, &e);
	}
	PQclear(res);
	return rc;
}
