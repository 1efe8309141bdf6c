/*
 * backend_sqlite_residue.c - after the last batch of a run, leave no trace of
 * disposed content in the database's files (logical sanitisation of every
 * location SQLite itself can address; see docs/disposal.md for what lies
 * beyond: filesystem copies, SSD remapping, backups).
 *
 * What secure_delete=ON already covers: deleted cells, freed pages and
 * overflow pages are overwritten with zeros in the main file. What it does
 * not, and this file does:
 *  - FTS5 keeps the tokens of deleted documents in its *_data shadow table
 *    until the index is merged: 'optimize' rewrites it (SQLite 3.40 has no
 *    FTS5 secure-delete option).
 *  - sqlite_stat4 holds sampled index keys, which may be disposed values:
 *    ANALYZE samples again.
 *  - In WAL mode the old pages stay in the main file, and earlier frames in
 *    the -wal file, until a checkpoint: wal_checkpoint(TRUNCATE) copies the
 *    new pages back and empties the WAL. An open reader prevents that; it is
 *    reported as a warning with its cause, never silently.
 *
 * Invariant: finalise runs outside any transaction of ours, after COMMIT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend_sqlite.h"
#include "lethe/error.h"

static int optimise_fts(lethe_sqlite *be)
{
	sqlite3_stmt *list = NULL;
	int rc, step;

	rc = sqlite3_prepare_v2(be->db, "SELECT name FROM sqlite_schema WHERE type = 'table' "
				"AND sql LIKE 'CREATE VIRTUAL TABLE%USING fts5%'", -1, &list, NULL);
	if (rc != SQLITE_OK)
		return lethe_error_set(lethe_sqlite_code(rc), "cannot list fts5 tables: %s",
				       sqlite3_errmsg(be->db));
	while ((step = sqlite3_step(list)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(list, 0);
		char *sql = sqlite3_mprintf("INSERT INTO \"%w\"(\"%w\") VALUES ('optimize')", name, name);

		rc = sql ? sqlite3_exec(be->db, sql, NULL, NULL, NULL) : SQLITE_NOMEM;
		sqlite3_free(sql);
		if (rc != SQLITE_OK) {
			rc = lethe_error_set(lethe_sqlite_code(rc), "cannot optimise fts5 table '%s': %s",
					     name, sqlite3_errmsg(be->db));
			sqlite3_finalize(list);
			return rc;
		}
	}
	sqlite3_finalize(list);
	if (step != SQLITE_DONE)
		return lethe_error_set(lethe_sqlite_code(step), "cannot list fts5 tables: %s",
				       sqlite3_errmsg(be->db));
	return 0;
}

static int checkpoint(lethe_sqlite *be, lethe_warnings *w)
{
	sqlite3_stmt *stmt = NULL;
	int rc, wal = 0, busy = 0;

	rc = sqlite3_prepare_v2(be->db, "PRAGMA journal_mode", -1, &stmt, NULL);
	if (rc == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
		wal = !strcmp((const char *)sqlite3_column_text(stmt, 0), "wal");
	sqlite3_finalize(stmt);
	if (!wal)
		return 0;
	rc = sqlite3_prepare_v2(be->db, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &stmt, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		busy = sqlite3_column_int(stmt, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_OK)
		return lethe_error_set(lethe_sqlite_code(rc), "cannot checkpoint '%s': %s", be->path,
				       sqlite3_errmsg(be->db));
	if (busy)
		return lethe_warnings_add(w, "the write-ahead log of '%s' was not truncated: another "
					  "connection is reading it; disposed content may remain in "
					  "'%s-wal' until the next checkpoint", be->path, be->path);
	return 0;
}

int lethe_sqlite_finalise(lethe_backend *base, lethe_warnings *warnings)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	int rc;

	if (be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "finalise inside a transaction");
	if ((rc = optimise_fts(be)) < 0)
		return rc;
	if (lethe_sqlite_has_table(be, "sqlite_stat4") &&
	    sqlite3_exec(be->db, "ANALYZE", NULL, NULL, NULL) != SQLITE_OK)
		return lethe_error_set(lethe_sqlite_code(sqlite3_errcode(be->db)),
				       "cannot refresh index statistics of '%s': %s", be->path,
				       sqlite3_errmsg(be->db));
	return checkpoint(be, warnings);
}
