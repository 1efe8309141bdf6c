/*
 * backend_sqlite_owed.c - "clean-up owed": a one-row table of Lethe's own in
 * the register (lethe_cleanup_owed) saying that rows were disposed of and the
 * residue work (FTS optimise, VACUUM, checkpoint) has not completed since.
 *
 * Invariants:
 *  - The row is written inside the transaction of a batch that disposes of
 *    rows, so no disposal can commit without it: a crash, a failed run or a
 *    failed VACUUM can never leave residue that nobody knows about.
 *  - It is deleted only after the residue work completed, in a transaction
 *    of its own; it keeps the time of the first batch that made it owed.
 *  - It holds no personal data, and the lethe_ prefix keeps it out of the
 *    schema fingerprint (backend_sqlite_marker.c).
 */
#include <stdlib.h>
#include <string.h>
#include "backend_sqlite.h"
#include "lethe/error.h"

#define OWED_TABLE "lethe_cleanup_owed"

static int fail(lethe_sqlite *be, int rc, const char *what)
{
	return lethe_error_set(lethe_sqlite_code(rc), "cannot %s in '%s': %s", what, be->path,
			       sqlite3_errmsg(be->db));
}

int lethe_sqlite_cleanup_owe(lethe_backend *base)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	int rc;

	if (!be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "clean-up owed outside a transaction");
	rc = sqlite3_exec(be->db, "CREATE TABLE IF NOT EXISTS " OWED_TABLE " (id INTEGER PRIMARY KEY "
			  "CHECK (id = 1), since TEXT NOT NULL);"
			  "INSERT OR IGNORE INTO " OWED_TABLE " (id, since) VALUES "
			  "(1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))", NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : fail(be, rc, "record that clean-up is owed");
}

int lethe_sqlite_cleanup_owed(char **since, lethe_backend *base)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	int rc;

	*since = NULL;
	if (!lethe_sqlite_has_table(be, OWED_TABLE))
		return 0;
	rc = sqlite3_prepare_v2(be->db, "SELECT since FROM " OWED_TABLE, -1, &stmt, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *s = (const char *)sqlite3_column_text(stmt, 0);

		if (!(*since = strdup(s ? s : "?"))) {
			sqlite3_finalize(stmt);
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		}
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : fail(be, rc, "read whether clean-up is owed");
}

int lethe_sqlite_cleanup_done(lethe_backend *base)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	int rc;

	if (!lethe_sqlite_has_table(be, OWED_TABLE))
		return 0;
	if ((rc = lethe_sqlite_begin(base)) < 0)
		return rc;
	rc = sqlite3_exec(be->db, "DELETE FROM " OWED_TABLE, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		rc = fail(be, rc, "record that clean-up is done");
		lethe_sqlite_rollback(base);
		return rc;
	}
	return lethe_sqlite_commit(base);
}
