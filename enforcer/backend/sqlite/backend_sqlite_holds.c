/*
 * backend_sqlite_holds.c - legal holds kept in the register (lethe_holds),
 * where planning finds them with no key and no evidence repository at hand.
 * The evidence keeps the signed audit trail of every hold and release.
 *
 * Invariants: a hold in force has released_at NULL; holds are never deleted.
 * The texts an operator types (the reasons of a hold and of its release,
 * a --where filter) live here only: the evidence carries their keyed digest,
 * since they may name a person and the evidence is append-only. A register
 * made before the reason columns existed gets them on its next hold; until
 * then its holds read with NULL reasons; the same for the columns of who
 * placed and released a hold (placed_by, released_by).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend_sqlite.h"
#include "lethe/error.h"

static const char create_sql[] =
	"CREATE TABLE IF NOT EXISTS lethe_holds (id INTEGER PRIMARY KEY, subject, rule TEXT, "
	"where_sql TEXT, until TEXT, created_at TEXT NOT NULL, released_at TEXT, reason TEXT, "
	"release_reason TEXT, placed_by TEXT, released_by TEXT)";

/* Whether lethe_holds has the column (a register of an older Lethe has
 * not the reason columns, release_reason, or those of who, released_by). */
static int has_column(lethe_sqlite *be, const char *column)
{
	sqlite3_stmt *stmt = NULL;
	int found = 0;

	if (sqlite3_prepare_v2(be->db, "SELECT 1 FROM pragma_table_info('lethe_holds') "
			       "WHERE name = ?1", -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_bind_text(stmt, 1, column, -1, SQLITE_STATIC) == SQLITE_OK)
		found = sqlite3_step(stmt) == SQLITE_ROW;
	sqlite3_finalize(stmt);
	return found;
}

/* The table, with the reason columns, inside the open transaction. */
static int ensure_table(lethe_sqlite *be)
{
	int rc = sqlite3_exec(be->db, create_sql, NULL, NULL, NULL);

	if (rc == SQLITE_OK && !has_column(be, "release_reason"))
		rc = sqlite3_exec(be->db, "ALTER TABLE lethe_holds ADD COLUMN reason TEXT; "
				  "ALTER TABLE lethe_holds ADD COLUMN release_reason TEXT", NULL, NULL, NULL);
	if (rc == SQLITE_OK && !has_column(be, "released_by"))
		rc = sqlite3_exec(be->db, "ALTER TABLE lethe_holds ADD COLUMN placed_by TEXT; "
				  "ALTER TABLE lethe_holds ADD COLUMN released_by TEXT", NULL, NULL, NULL);
	return rc;
}

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
	rc = ensure_table(be);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(be->db, "INSERT INTO lethe_holds (subject, rule, where_sql, until, "
					"created_at, reason, placed_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1, &stmt,
					NULL);
	if (rc == SQLITE_OK) {
		lethe_sqlite_bind_value(stmt, 1, &h->subject);
		sqlite3_bind_text(stmt, 2, h->rule, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 3, h->where, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 4, h->until, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 5, h->created_at, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 6, h->reason, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 7, h->placed_by, -1, SQLITE_STATIC);
		rc = sqlite3_step(stmt) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(be->db);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_OK)
		return fail(be, rc, "add a hold");
	*id = sqlite3_last_insert_rowid(be->db);
	return 0;
}

int lethe_sqlite_hold_release(lethe_backend *base, int64_t id, const char *released_at,
			      const char *reason, const char *released_by)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	int rc;

	if (!be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "release outside a transaction");
	if (!lethe_sqlite_has_table(be, "lethe_holds"))
		return lethe_error_set(LETHE_ENOTFOUND, "no hold %lld in force", (long long)id);
	rc = ensure_table(be);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(be->db, "UPDATE lethe_holds SET released_at = ?2, "
					"release_reason = ?3, released_by = ?4 WHERE id = ?1 AND released_at IS NULL", -1,
					&stmt, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(stmt, 1, id);
		sqlite3_bind_text(stmt, 2, released_at, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 3, reason, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 4, released_by, -1, SQLITE_STATIC);
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
	/* the columns an older register lacks read as NULL */
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT id, subject, rule, where_sql, until, created_at, "
		 "released_at, %s, %s FROM lethe_holds ORDER BY id",
		 has_column(be, "release_reason") ? "reason, release_reason" : "NULL, NULL",
		 has_column(be, "released_by") ? "placed_by, released_by" : "NULL, NULL");
	rc = sqlite3_prepare_v2(be->db, sql, -1, &stmt, NULL);
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
		h.reason = (const char *)sqlite3_column_text(stmt, 7);
		h.release_reason = (const char *)sqlite3_column_text(stmt, 8);
		h.placed_by = (const char *)sqlite3_column_text(stmt, 9);
		h.released_by = (const char *)sqlite3_column_text(stmt, 10);
		if ((rc = cb(ctx, &h)) != 0) {
			sqlite3_finalize(stmt);
			return rc;
		}
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : fail(be, rc, "read the holds");
}
