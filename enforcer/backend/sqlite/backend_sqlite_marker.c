/*
 * backend_sqlite_marker.c - run markers in the register itself: what each
 * batch of a run committed (counts per rule and the keyed digests of the
 * keys), written in the batch's own transaction. docs/evidence-format.md
 * says how the evidence uses them.
 *
 * Invariants:
 *  - lethe_runs and lethe_run_digest_batches hold only run ids, rule names, counts
 *    and keyed digests: nothing that identifies a person without the key.
 *  - The tables are Lethe's own and left out of the schema fingerprint, so
 *    creating them does not look like a schema change.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend_sqlite_marker.h"
#include "digest_bin.h"
#include "lethe/error.h"
#include "lethe/token.h"
#include "vec.h"

/* A batch's digests are stored in binary (32 bytes each, half the hex),
 * sorted, in pieces of PIECE_BYTES: lethe_run_digest_pieces row (batch <<
 * PIECE_SHIFT) | i holds bytes [i * PIECE_BYTES, (i + 1) * PIECE_BYTES) of
 * batch `batch`'s sorted digests, and only a batch's last piece is
 * shorter. A row per digest cost a B-tree insertion (and an index entry)
 * per disposed row, then a sort of all of them and a delete row by row,
 * all journalled, and VACUUM copied them in between. The completion merges
 * the batches' sorted runs in backend_sqlite_merge.c (a k-way merge
 * reading each run incrementally through one blob handle: memory is at
 * most MERGE_BUFFER bytes of buffers and a few words per batch, never a
 * rule's digests). The pieces keep each read short: a blob handle moved to
 * another row forgets where the row's overflow pages are, so a read at an
 * offset into one long blob walks the page chain from its start, and
 * reading a batch of 50,000 digests 256 at a time walked it quadratically
 * (most of the completion's page reads). Only one run's digests exist at a
 * time (the lock, and every run clears them after its completion or
 * recovery), so they carry no run id. Older Lethes left two other forms,
 * never written now and read as more sorted runs (a run an older Lethe
 * left unfinished is completed with its digests), cleared with the rest:
 * lethe_run_digest_batches (a batch in one blob) and lethe_run_digests (a
 * row per digest, hex). */
static const char create_sql[] =
	"CREATE TABLE IF NOT EXISTS lethe_runs (run_id TEXT NOT NULL, rule TEXT NOT NULL, "
	"disposed INTEGER NOT NULL, batches INTEGER NOT NULL, PRIMARY KEY (run_id, rule)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS lethe_run_digest_pieces (id INTEGER PRIMARY KEY, "
	"rule TEXT NOT NULL, digests BLOB NOT NULL);";


int lethe_sqlite_marker_fail(lethe_sqlite *be, int rc, const char *what)
{
	char why[256];

	return lethe_error_set(lethe_sqlite_code(rc), "cannot %s in '%s': %s", what, be->path,
			       lethe_sqlite_why(why, sizeof(why), be->db));
}

/* The batch's sorted digests as the pieces of a new batch number, one more
 * than the last (ids grow in one run, and the table is emptied after it). */
static int write_pieces(lethe_sqlite *be, sqlite3_stmt *dg, const char *rule, const unsigned char *bin,
			size_t ndigests)
{
	size_t npieces = (ndigests + PIECE_DIGESTS - 1) / PIECE_DIGESTS;
	sqlite3_stmt *last = NULL;
	sqlite3_int64 batch;
	int rc;

	if (npieces >= (size_t)1 << PIECE_SHIFT)
		return lethe_error_set(LETHE_ESOFTWARE, "too many digests in one batch");
	rc = sqlite3_prepare_v2(be->db, "SELECT coalesce(max(id), 0) FROM lethe_run_digest_pieces", -1, &last,
				NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(last)) == SQLITE_ROW)
		rc = SQLITE_OK;
	batch = rc == SQLITE_OK ? (sqlite3_column_int64(last, 0) >> PIECE_SHIFT) + 1 : 0;
	sqlite3_finalize(last);
	if (rc != SQLITE_OK)
		return lethe_sqlite_marker_fail(be, rc, "write the run's digests");
	for (size_t i = 0; i < npieces; i++) {
		size_t n = i + 1 < npieces ? PIECE_DIGESTS : ndigests - i * PIECE_DIGESTS;

		sqlite3_bind_int64(dg, 1, batch << PIECE_SHIFT | (sqlite3_int64)i);
		sqlite3_bind_text(dg, 2, rule, -1, SQLITE_STATIC);
		sqlite3_bind_blob(dg, 3, bin + i * PIECE_BYTES, (int)(n * BIN_DIGEST), SQLITE_STATIC);
		if (sqlite3_step(dg) != SQLITE_DONE)
			return lethe_sqlite_marker_fail(be, sqlite3_errcode(be->db), "write the run's digests");
		sqlite3_reset(dg);
	}
	return 0;
}

int lethe_sqlite_mark(lethe_backend *base, const char *run_id, const char *rule, int64_t disposed,
		      const unsigned char *digests, size_t ndigests)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *up = NULL, *dg = NULL;
	int rc;

	if (!be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "mark outside a transaction");
	if ((size_t)ndigests > (size_t)INT32_MAX / BIN_DIGEST)
		return lethe_error_set(LETHE_ESOFTWARE, "too many digests in one batch");
	if ((rc = sqlite3_exec(be->db, create_sql, NULL, NULL, NULL)) != SQLITE_OK)
		return lethe_sqlite_marker_fail(be, rc, "create the run marker");
	rc = sqlite3_prepare_v2(be->db, "INSERT INTO lethe_runs (run_id, rule, disposed, batches) "
				"VALUES (?1, ?2, ?3, 1) ON CONFLICT (run_id, rule) DO UPDATE SET "
				"disposed = disposed + excluded.disposed, batches = batches + 1", -1, &up, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(be->db, "INSERT INTO lethe_run_digest_pieces (id, rule, digests) "
					"VALUES (?1, ?2, ?3)", -1, &dg, NULL);
	if (rc != SQLITE_OK) {
		rc = lethe_sqlite_marker_fail(be, rc, "write the run marker");
		goto out;
	}
	sqlite3_bind_text(up, 1, run_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(up, 2, rule, -1, SQLITE_STATIC);
	sqlite3_bind_int64(up, 3, disposed);
	if ((rc = sqlite3_step(up)) != SQLITE_DONE) {
		rc = lethe_sqlite_marker_fail(be, rc, "write the run marker");
		goto out;
	}
	rc = ndigests ? write_pieces(be, dg, rule, digests, ndigests) : 0;
out:
	sqlite3_finalize(up);
	sqlite3_finalize(dg);
	return rc;
}

int lethe_sqlite_marker(int *found, lethe_backend *base, const char *run_id,
			int (*cb)(void *ctx, const char *rule, int64_t disposed), void *ctx)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	int rc, any = 0;

	if (!lethe_sqlite_has_table(be, "lethe_runs")) {
		*found = 0;
		return 0;
	}
	rc = sqlite3_prepare_v2(be->db, "SELECT rule, disposed FROM lethe_runs WHERE run_id = ?1 "
				"ORDER BY rule", -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return lethe_sqlite_marker_fail(be, rc, "read the run marker");
	sqlite3_bind_text(stmt, 1, run_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		any = 1;
		if (cb && (rc = cb(ctx, (const char *)sqlite3_column_text(stmt, 0),
				   sqlite3_column_int64(stmt, 1))) != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? 0 : lethe_sqlite_marker_fail(be, rc, "read the run marker");
	if (rc == 0)
		*found = any;
out:
	sqlite3_finalize(stmt);
	return rc;
}

/* Delete every row of a table of ours if it exists and has any. */
static int clear_table(lethe_sqlite *be, const char *table)
{
	sqlite3_stmt *stmt = NULL;
	char *sql;
	int rc, any;

	if (!lethe_sqlite_has_table(be, table))
		return SQLITE_OK;
	if (!(sql = sqlite3_mprintf("SELECT 1 FROM \"%w\" LIMIT 1", table)))
		return SQLITE_NOMEM;
	rc = sqlite3_prepare_v2(be->db, sql, -1, &stmt, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		return rc;
	any = sqlite3_step(stmt) == SQLITE_ROW;
	/* finalised first: finalising a statement resets the connection's
	 * error, which the caller's message reads */
	sqlite3_finalize(stmt);
	if (!any)
		return SQLITE_OK;
	if (!(sql = sqlite3_mprintf("DELETE FROM \"%w\"", table)))
		return SQLITE_NOMEM;
	rc = sqlite3_exec(be->db, sql, NULL, NULL, NULL);
	sqlite3_free(sql);
	return rc;
}

int lethe_sqlite_marker_drop_digests(lethe_sqlite *be)
{
	int rc = clear_table(be, "lethe_run_digest_pieces");

	if (rc == SQLITE_OK)
		rc = clear_table(be, "lethe_run_digest_batches");
	if (rc == SQLITE_OK)
		rc = clear_table(be, "lethe_run_digests");
	return rc;
}

int lethe_sqlite_marker_clear(lethe_backend *base, const char *run_id)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	int rc;

	if (!lethe_sqlite_has_table(be, "lethe_runs"))
		return 0;
	if ((rc = lethe_sqlite_begin(base)) < 0)
		return rc;
	/* All digests go: they are the one run's (see create_sql), and a DELETE
	 * without WHERE drops the table's pages at once instead of row by row.
	 * It rewrites the table even when empty, hence the look first: a run
	 * that disposed of nothing leaves the file byte-identical. */
	rc = lethe_sqlite_marker_drop_digests(be);
	if (rc == SQLITE_OK)
		rc = lethe_sqlite_marker_forget_files(be);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(be->db, "DELETE FROM lethe_runs WHERE ?1 = '*' OR run_id = ?1",
					-1, &stmt, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(stmt, 1, run_id, -1, SQLITE_STATIC);
		rc = sqlite3_step(stmt) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(be->db);
	}
	if (rc != SQLITE_OK)
		rc = lethe_sqlite_marker_fail(be, rc, "clear the run marker");
	sqlite3_finalize(stmt);
	if (rc != 0) {
		lethe_sqlite_rollback(base);
		return rc;
	}
	/* the deletes are small since the seal: a full disk shows at the commit */
	if ((rc = lethe_sqlite_commit(base)) < 0) {
		char *why = strdup(lethe_error_last());

		rc = lethe_error_set(lethe_error_last_code(), "cannot clear the run marker: %s",
				     why ? why : "out of memory");
		free(why);
	}
	return rc;
}

int lethe_sqlite_schema_text(char **out, size_t *len, lethe_backend *base)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	sqlite3_str *s = sqlite3_str_new(be->db);
	char *text;
	int rc, n;

	rc = sqlite3_prepare_v2(be->db, "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL "
				"AND name NOT LIKE 'lethe\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
				"ORDER BY name, type", -1, &stmt, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		sqlite3_str_appendall(s, (const char *)sqlite3_column_text(stmt, 0));
		sqlite3_str_appendchar(s, 1, '\0');
		rc = SQLITE_OK;
	}
	sqlite3_finalize(stmt);
	n = sqlite3_str_length(s);
	text = sqlite3_str_finish(s);
	if (rc != SQLITE_DONE) {
		sqlite3_free(text);
		return lethe_sqlite_marker_fail(be, rc, "read the schema");
	}
	*out = malloc((size_t)n + 1);
	if (!*out) {
		sqlite3_free(text);
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	if (n)
		memcpy(*out, text, (size_t)n);
	(*out)[n] = '\0';
	*len = (size_t)n;
	sqlite3_free(text);
	return 0;
}
