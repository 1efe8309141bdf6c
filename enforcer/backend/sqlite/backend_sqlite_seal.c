/*
 * backend_sqlite_seal.c - a run's digests sealed: once its batches are done,
 * each rule's digest file is written ahead into the evidence (a blob no
 * commit names yet) and the register keeps only the blob's id, SHA-256 and
 * line count in lethe_run_files, in the same transaction that drops the
 * digests from the marker (backend_sqlite_marker.c). The residue work then
 * neither copies the digests (VACUUM) nor overwrites them afterwards
 * (the marker's clear under secure_delete); the completion names the blobs.
 *
 * Invariants:
 *  - lethe_run_files holds only rule names, blob ids, SHA-256 digests and
 *    counts: nothing that identifies a person.
 *  - A rule has its file in lethe_run_files or its digests in the marker,
 *    never part of each: the seal moves every rule at once, atomically.
 *  - Like the digests, the files are the one run's (the lock; cleared with
 *    the marker after the completion), so they carry no run id.
 */
#include <stdio.h>
#include <string.h>
#include "backend_sqlite.h"
#include "lethe/error.h"

static const char create_sql[] =
	"CREATE TABLE IF NOT EXISTS lethe_run_files (rule TEXT PRIMARY KEY, blob TEXT NOT NULL, "
	"sha256 TEXT NOT NULL, lines INTEGER NOT NULL) WITHOUT ROWID";

static int fail(lethe_sqlite *be, int rc, const char *what)
{
	char why[256];

	return lethe_error_set(lethe_sqlite_code(rc), "cannot %s in '%s': %s", what, be->path,
			       lethe_sqlite_why(why, sizeof(why), be->db));
}

int lethe_sqlite_marker_seal(lethe_backend *base, const char *run_id, const lethe_marker_file *files,
			     size_t n, int vacuum_follows)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *ins = NULL;
	int rc;

	(void)run_id; /* the one run with digests (backend_sqlite_marker.c) */
	if ((rc = lethe_sqlite_begin(base)) < 0)
		return rc;
	rc = sqlite3_exec(be->db, create_sql, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(be->db, "INSERT INTO lethe_run_files (rule, blob, sha256, lines) "
					"VALUES (?1, ?2, ?3, ?4)", -1, &ins, NULL);
	for (size_t i = 0; rc == SQLITE_OK && i < n; i++) {
		sqlite3_bind_text(ins, 1, files[i].rule, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 2, files[i].blob, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 3, files[i].sha256, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 4, files[i].lines);
		rc = sqlite3_step(ins) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(be->db);
		sqlite3_reset(ins);
	}
	/* With VACUUM next, freeing the digests' pages without zeroing them
	 * first (and journalling them for that) saves writing them twice:
	 * VACUUM leaves no free page. Else, or when VACUUM is then skipped
	 * (the clean-up stays owed), their pages keep keyed digests that the
	 * evidence publishes anyway, never disposed content: secure_delete is
	 * there for the register's own rows, which this does not touch. */
	if (rc == SQLITE_OK && vacuum_follows)
		rc = sqlite3_exec(be->db, "PRAGMA secure_delete = OFF", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = lethe_sqlite_marker_drop_digests(be);
	if (vacuum_follows) {
		int on = sqlite3_exec(be->db, "PRAGMA secure_delete = ON", NULL, NULL, NULL);

		rc = rc == SQLITE_OK ? on : rc;
	}
	if (rc != SQLITE_OK)
		rc = fail(be, rc, "seal the run's digests");
	sqlite3_finalize(ins);
	if (rc != 0) {
		lethe_sqlite_rollback(base);
		return rc;
	}
	return lethe_sqlite_commit(base);
}

int lethe_sqlite_marker_sealed(int *found, lethe_marker_file *out, lethe_backend *base,
			       const char *run_id, const char *rule)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	int rc;

	(void)run_id;
	*found = 0;
	if (!lethe_sqlite_has_table(be, "lethe_run_files"))
		return 0;
	rc = sqlite3_prepare_v2(be->db, "SELECT blob, sha256, lines FROM lethe_run_files WHERE rule = ?1",
				-1, &stmt, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(stmt, 1, rule, -1, SQLITE_STATIC);
		rc = sqlite3_step(stmt);
	}
	if (rc == SQLITE_ROW) {
		const char *blob = (const char *)sqlite3_column_text(stmt, 0);
		const char *sha = (const char *)sqlite3_column_text(stmt, 1);

		if (!blob || !sha || strlen(blob) != 40 || strlen(sha) != 64 || sqlite3_column_int64(stmt, 2) <= 0) {
			sqlite3_finalize(stmt);
			return lethe_error_set(LETHE_EDATA, "the run's sealed digest files in '%s' are damaged",
					       be->path);
		}
		snprintf(out->blob, sizeof(out->blob), "%s", blob);
		snprintf(out->sha256, sizeof(out->sha256), "%s", sha);
		out->lines = sqlite3_column_int64(stmt, 2);
		*found = 1;
		rc = SQLITE_DONE;
	}
	if (rc != SQLITE_DONE)
		rc = fail(be, rc, "read the run's sealed digest files");
	else
		rc = 0;
	sqlite3_finalize(stmt);
	return rc;
}

int lethe_sqlite_marker_forget_files(lethe_sqlite *be)
{
	sqlite3_stmt *stmt = NULL;
	int rc, any;

	if (!lethe_sqlite_has_table(be, "lethe_run_files"))
		return SQLITE_OK;
	/* only when there is a row: a DELETE rewrites the table even when empty */
	if ((rc = sqlite3_prepare_v2(be->db, "SELECT 1 FROM lethe_run_files LIMIT 1", -1, &stmt, NULL)) !=
	    SQLITE_OK)
		return rc;
	any = sqlite3_step(stmt) == SQLITE_ROW;
	sqlite3_finalize(stmt);
	return any ? sqlite3_exec(be->db, "DELETE FROM lethe_run_files", NULL, NULL, NULL) : SQLITE_OK;
}
