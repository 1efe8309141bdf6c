/*
 * backend_sqlite_head.c - the evidence head in the register itself: the
 * sequence number and commit of the last evidence record Lethe wrote
 * (lethe/evidence_tip.h says why).
 *
 * Invariants:
 *  - lethe_evidence_head holds one row per evidence repository (its
 *    absolute path: a register moved to a new site's repository starts
 *    afresh there): a sequence number, a commit id and a time; nothing
 *    personal.
 *  - The table is Lethe's own (lethe_ prefix), left out of the schema
 *    fingerprint like the run markers.
 *  - Saving joins the open transaction when there is one (a hold's row and
 *    its record's head commit together), else is a statement of its own.
 */
#include <stdio.h>
#include <string.h>
#include "backend_sqlite.h"
#include "lethe/error.h"

static int fail(lethe_sqlite *be, int rc, const char *what)
{
	char why[256];

	return lethe_error_set(lethe_sqlite_code(rc), "cannot %s in '%s': %s", what, be->path,
			       lethe_sqlite_why(why, sizeof(why), be->db));
}

int lethe_sqlite_evidence_head(int *found, int64_t *seq, char commit[41], lethe_backend *base,
			       const char *repository)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	int rc;

	*found = 0;
	if (!lethe_sqlite_has_table(be, "lethe_evidence_head"))
		return 0;
	rc = sqlite3_prepare_v2(be->db, "SELECT seq, commit_id FROM lethe_evidence_head WHERE "
				"repository = ?1", -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return fail(be, rc, "read the evidence head");
	sqlite3_bind_text(stmt, 1, repository, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(stmt, 1);

		if (!c || strlen(c) != 40) {
			sqlite3_finalize(stmt);
			return lethe_error_set(LETHE_EDATA, "'%s': lethe_evidence_head has no valid "
					       "commit id", be->path);
		}
		*seq = sqlite3_column_int64(stmt, 0);
		memcpy(commit, c, 41);
		*found = 1;
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? 0 : fail(be, rc, "read the evidence head");
	}
	sqlite3_finalize(stmt);
	return rc;
}

int lethe_sqlite_evidence_head_set(lethe_backend *base, const char *repository, int64_t seq,
				   const char *commit, const char *at)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	int rc;

	/* a read-only register (lethe access) keeps its promise: no write tried */
	if (be->flags & LETHE_BACKEND_READONLY)
		return lethe_error_set(LETHE_ENOPERM, "'%s' is open read-only: the evidence head is "
				       "not remembered", be->path);
	rc = sqlite3_exec(be->db, "CREATE TABLE IF NOT EXISTS lethe_evidence_head (repository TEXT "
			  "PRIMARY KEY, seq INTEGER NOT NULL, commit_id TEXT NOT NULL, "
			  "written_at TEXT NOT NULL) WITHOUT ROWID", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return fail(be, rc, "create the evidence head");
	rc = sqlite3_prepare_v2(be->db, "INSERT INTO lethe_evidence_head (repository, seq, commit_id, "
				"written_at) VALUES (?4, ?1, ?2, ?3) ON CONFLICT (repository) DO UPDATE SET "
				"seq = excluded.seq, commit_id = excluded.commit_id, "
				"written_at = excluded.written_at", -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return fail(be, rc, "write the evidence head");
	sqlite3_bind_int64(stmt, 1, seq);
	sqlite3_bind_text(stmt, 2, commit, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, at, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, repository, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	rc = rc == SQLITE_DONE ? 0 : fail(be, rc, "write the evidence head");
	sqlite3_finalize(stmt);
	return rc;
}
