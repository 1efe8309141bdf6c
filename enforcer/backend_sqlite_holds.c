/*
 * backend_sqlite_holds.c - legal holds kept in the register (lethe_holds),
 * where planning finds them with no key and no evidence repository at hand.
 * The evidence keeps the signed audit trail of every hold and release.
 *
 * Invariant: a hold in force has released_at NULL; holds are never deleted.
 */
#include <stdlib.h>
#include <string.h>
#include "backend_sqlite.h"
#include "lethe/error.h"

static const char create_sql[] =
	"CREATE TABLE IF NOT EXISTS lethe_holds (id INTEGER PRIMARY KEY, subject, rule TEXT, "
	"where_sql TEXT, until TEXT, created_at TEXT NOT NULL, released_at TEXT)";

static int fail(lethe_sqlite *be, int rc, const char *what)
{
	return lethe_error_set(lethe_sqlite_code(rc), "cannot %s in '%s': %s", what, be->path,
			       sqlite3_errmsg(be->db));
}

int lethe_sqlite_hold_add(int64_t *id, lethe_backend *base, const lethe_hold *h)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	int rc;

	if (!be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "hold outside a transaction");
	rc = sqlite3_exec(be->db, create_sql, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(be->db, "INSERT INTO lethe_holds (subject, rule, where_sql, until, "
					"created_at) VALUES (?1, ?2, ?3, ?4, ?5)", -1, &stmt, NULL);
	if (rc == SQLITE_OK) {
		lethe_sqlite_bind_value(stmt, 1, &h->subject);
		sqlite3_bind_text(stmt, 2, h->rule, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 3, h->where, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 4, h->until, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 5, h->created_at, -1, SQLITE_STATIC);
		rc = sqlite3_step(stmt) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(be->db);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_OK)
		return fail(be, rc, "add a hold");
	*id = sqlite3_last_insert_rowid(be->db);
	return 0;
}

int lethe_sqlite_hold_release(lethe_backend *base, int64_t id, const char *released_at)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	int rc;

	if (!be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "release outside a transaction");
	if (!lethe_sqlite_has_table(be, "lethe_holds"))
		return lethe_error_set(LETHE_ENOTFOUND, "no hold %lld in force", (long long)id);
	rc = sqlite3_prepare_v2(be->db, "UPDATE lethe_holds SET released_at = ?2 WHERE id = ?1 "
				"AND released_at IS NULL", -1, &stmt, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(stmt, 1, id);
		sqlite3_bind_text(stmt, 2, released_at, -1, SQLITE_STATIC);
		rc = sqlite3_step(stmt) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(be->db);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_OK)
		return fail(be, rc, "release a hold");
	if (sqlite3_changes(be->db) == 0)
		return lethe_error_set(LETHE_ENOTFOUND, "no hold %lld in force", (long long)id);
	return 0;
}

int lethe_sqlite_holds(lethe_backend *base, int (*cb)(void *ctx, const lethe_hold *h), void *ctx)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	int rc;

	if (!lethe_sqlite_has_table(be, "lethe_holds"))
		return 0;
	rc = sqlite3_prepare_v2(be->db, "SELECT id, subject, rule, where_sql, until, created_at, "
				"released_at FROM lethe_holds ORDER BY id", -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return fail(be, rc, "read the holds");
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		lethe_hold h;

		h.id = sqlite3_column_int64(stmt, 0);
		lethe_sqlite_value(&h.subject, sqlite3_column_value(stmt, 1));
		h.rule = (const char *)sqlite3_column_text(stmt, 2);
		h.where = (const char *)sqlite3_column_text(stmt, 3);
		h.until = (const char *)sqlite3_column_text(stmt, 4);
		h.created_at = (const char *)sqlite3_column_text(stmt, 5);
		h.released_at = (const char *)sqlite3_column_text(stmt, 6);
		if ((rc = cb(ctx, &h)) != 0) {
			sqlite3_finalize(stmt);
			return rc;
		}
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : fail(be, rc, "read the holds");
}
