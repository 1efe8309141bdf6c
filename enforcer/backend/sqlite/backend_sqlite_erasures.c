/*
 * backend_sqlite_erasures.c - erasures kept open (lethe_erasures_open,
 * lethe/backend.h): the subjects whose erasure kept rows under a legal hold
 * or a rule's keep_while, so that a later run can finish it.
 *
 * Invariants: one row per subject key (the key typed as the subject table's
 * column, compared with IS, so 7 and '7' are different subjects only when
 * the column keeps them apart); the row is deleted once the erasure is
 * finished, so the table holds keys only of subjects whose rows are still in
 * the register. It is made on the first erasure that stays open, with an
 * INTEGER PRIMARY KEY so that VACUUM may run (no rowids to renumber).
 */
#include "backend_sqlite.h"
#include "lethe/error.h"

static const char create_sql[] =
	"CREATE TABLE IF NOT EXISTS lethe_erasures_open (id INTEGER PRIMARY KEY, subject NOT NULL, "
	"erasure INTEGER NOT NULL, contact TEXT, since TEXT NOT NULL)";

static int fail(lethe_sqlite *be, int rc, const char *what)
{
	return lethe_error_set(lethe_sqlite_code(rc), "cannot %s in '%s': %s", what, be->path,
			       sqlite3_errmsg(be->db));
}

/* One statement with the subject bound as ?1, inside the transaction. */
static int exec_subject(lethe_sqlite *be, const char *sql, const lethe_open_erasure *e,
			const lethe_value *subject, const char *what)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	if (!be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "%s outside a transaction", what);
	rc = sqlite3_exec(be->db, create_sql, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(be->db, sql, -1, &stmt, NULL);
	if (rc == SQLITE_OK) {
		lethe_sqlite_bind_value(stmt, 1, subject);
		if (e) {
			sqlite3_bind_int64(stmt, 2, e->erasure);
			sqlite3_bind_text(stmt, 3, e->contact, -1, SQLITE_STATIC);
			sqlite3_bind_text(stmt, 4, e->since, -1, SQLITE_STATIC);
		}
		rc = sqlite3_step(stmt) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(be->db);
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_OK ? 0 : fail(be, rc, what);
}

int lethe_sqlite_erasure_open(lethe_backend *base, const lethe_open_erasure *e)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	int rc;

	if ((rc = exec_subject(be, "DELETE FROM lethe_erasures_open WHERE subject IS ?1", NULL,
			       &e->subject, "record an open erasure")) < 0)
		return rc;
	return exec_subject(be, "INSERT INTO lethe_erasures_open (subject, erasure, contact, since) "
			    "VALUES (?1, ?2, ?3, ?4)", e, &e->subject, "record an open erasure");
}

int lethe_sqlite_erasure_close(lethe_backend *base, const lethe_value *subject)
{
	lethe_sqlite *be = (lethe_sqlite *)base;

	if (!lethe_sqlite_has_table(be, "lethe_erasures_open"))
		return 0;
	return exec_subject(be, "DELETE FROM lethe_erasures_open WHERE subject IS ?1", NULL, subject,
			    "close an erasure");
}

int lethe_sqlite_erasures_open(lethe_backend *base,
			       int (*cb)(void *ctx, const lethe_open_erasure *e), void *ctx)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	int rc;

	if (!lethe_sqlite_has_table(be, "lethe_erasures_open"))
		return 0;
	rc = sqlite3_prepare_v2(be->db, "SELECT subject, erasure, contact, since FROM "
				"lethe_erasures_open ORDER BY erasure, id", -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return fail(be, rc, "read the open erasures");
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		lethe_open_erasure e;

		lethe_sqlite_value(&e.subject, sqlite3_column_value(stmt, 0));
		e.erasure = sqlite3_column_int64(stmt, 1);
		e.contact = (const char *)sqlite3_column_text(stmt, 2);
		e.since = (const char *)sqlite3_column_text(stmt, 3);
		if ((rc = cb(ctx, &e)) != 0) {
			sqlite3_finalize(stmt);
			return rc;
		}
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : fail(be, rc, "read the open erasures");
}
