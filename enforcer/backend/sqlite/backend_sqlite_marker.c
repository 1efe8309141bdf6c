/*
 * backend_sqlite_marker.c - run markers in the register itself: what each
 * batch of a run committed (counts per rule and the keyed digests of the
 * keys), written in the batch's own transaction. docs/evidence-format.md
 * says how the evidence uses them.
 *
 * Invariants:
 *  - lethe_runs and lethe_run_digests hold only run ids, rule names, counts
 *    and keyed digests: nothing that identifies a person without the key.
 *  - The tables are Lethe's own and left out of the schema fingerprint, so
 *    creating them does not look like a schema change.
 */
#include <stdlib.h>
#include <string.h>
#include "backend_sqlite.h"
#include "lethe/error.h"

/* Digests arrive in key order, which is random in digest order: a table
 * keyed by digest would rewrite pages all over itself in every batch. They
 * are appended instead, and sorted once, when the
 * completion reads them. Only one run's digests exist at a time (the lock,
 * and every run clears them after its completion or recovery), so they carry
 * no run id. */
static const char create_sql[] =
	"CREATE TABLE IF NOT EXISTS lethe_runs (run_id TEXT NOT NULL, rule TEXT NOT NULL, "
	"disposed INTEGER NOT NULL, batches INTEGER NOT NULL, PRIMARY KEY (run_id, rule)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS lethe_run_digests (rule TEXT NOT NULL, digest TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS lethe_run_digests_rule ON lethe_run_digests (rule);";

static int fail(lethe_sqlite *be, int rc, const char *what)
{
	char why[256];

	return lethe_error_set(lethe_sqlite_code(rc), "cannot %s in '%s': %s", what, be->path,
			       lethe_sqlite_why(why, sizeof(why), be->db));
}

int lethe_sqlite_mark(lethe_backend *base, const char *run_id, const char *rule, int64_t disposed,
		      const char *const *digests, size_t ndigests)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *up = NULL, *dg = NULL;
	int rc;

	if (!be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "mark outside a transaction");
	if ((rc = sqlite3_exec(be->db, create_sql, NULL, NULL, NULL)) != SQLITE_OK)
		return fail(be, rc, "create the run marker");
	rc = sqlite3_prepare_v2(be->db, "INSERT INTO lethe_runs (run_id, rule, disposed, batches) "
				"VALUES (?1, ?2, ?3, 1) ON CONFLICT (run_id, rule) DO UPDATE SET "
				"disposed = disposed + excluded.disposed, batches = batches + 1", -1, &up, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(be->db, "INSERT INTO lethe_run_digests (rule, digest) "
					"VALUES (?2, ?3)", -1, &dg, NULL);
	if (rc != SQLITE_OK) {
		rc = fail(be, rc, "write the run marker");
		goto out;
	}
	sqlite3_bind_text(up, 1, run_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(up, 2, rule, -1, SQLITE_STATIC);
	sqlite3_bind_int64(up, 3, disposed);
	if ((rc = sqlite3_step(up)) != SQLITE_DONE) {
		rc = fail(be, rc, "write the run marker");
		goto out;
	}
	sqlite3_bind_text(dg, 2, rule, -1, SQLITE_STATIC);
	for (size_t i = 0; i < ndigests; i++) {
		sqlite3_bind_text(dg, 3, digests[i], -1, SQLITE_STATIC);
		rc = sqlite3_step(dg);
		sqlite3_reset(dg);
		if (rc != SQLITE_DONE) {
			rc = fail(be, rc, "write the run's digests");
			goto out;
		}
	}
	rc = 0;
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
		return fail(be, rc, "read the run marker");
	sqlite3_bind_text(stmt, 1, run_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		any = 1;
		if (cb && (rc = cb(ctx, (const char *)sqlite3_column_text(stmt, 0),
				   sqlite3_column_int64(stmt, 1))) != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? 0 : fail(be, rc, "read the run marker");
	if (rc == 0)
		*found = any;
out:
	sqlite3_finalize(stmt);
	return rc;
}

int lethe_sqlite_marker_digests(lethe_backend *base, const char *run_id, const char *rule,
				int (*cb)(void *ctx, const char *digest), void *ctx)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	int rc;

	if (!lethe_sqlite_has_table(be, "lethe_run_digests"))
		return 0;
	/* run_id is the only run with digests (see create_sql) */
	(void)run_id;
	rc = sqlite3_prepare_v2(be->db, "SELECT digest FROM lethe_run_digests WHERE rule = ?2 "
				"ORDER BY digest", -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return fail(be, rc, "read the run's digests");
	sqlite3_bind_text(stmt, 2, rule, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		if ((rc = cb(ctx, (const char *)sqlite3_column_text(stmt, 0))) != 0)
			goto out;
	rc = rc == SQLITE_DONE ? 0 : fail(be, rc, "read the run's digests");
out:
	sqlite3_finalize(stmt);
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
	rc = sqlite3_prepare_v2(be->db, "SELECT 1 FROM lethe_run_digests LIMIT 1", -1, &stmt, NULL);
	if (rc == SQLITE_OK) {
		int any = sqlite3_step(stmt) == SQLITE_ROW;

		/* finalised first: finalising a statement resets the
		 * connection's error, which the message below reads */
		sqlite3_finalize(stmt);
		stmt = NULL;
		if (any)
			rc = sqlite3_exec(be->db, "DELETE FROM lethe_run_digests", NULL, NULL, NULL);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(be->db, "DELETE FROM lethe_runs WHERE ?1 = '*' OR run_id = ?1",
					-1, &stmt, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(stmt, 1, run_id, -1, SQLITE_STATIC);
		rc = sqlite3_step(stmt) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(be->db);
	}
	if (rc != SQLITE_OK)
		rc = fail(be, rc, "clear the run marker");
	sqlite3_finalize(stmt);
	if (rc != 0) {
		lethe_sqlite_rollback(base);
		return rc;
	}
	return lethe_sqlite_commit(base);
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
		return fail(be, rc, "read the schema");
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
