/*
 * backend_sqlite_requests.c - the register of data subjects' requests
 * (lethe_requests): when each access or erasure request was received, its
 * GDPR 12(3) deadline, when it was answered and any extension.
 *
 * Invariants: requests are never deleted; a subject is kept as its keyed
 * digest only (never the key), so the register keeps no link to a person
 * once their rows are erased. The extension's reason, typed by an operator,
 * lives here only.
 */
#include <stdlib.h>
#include <string.h>
#include "backend_sqlite.h"
#include "lethe/error.h"

static const char create_sql[] =
	"CREATE TABLE IF NOT EXISTS lethe_requests (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, "
	"subject_digest TEXT NOT NULL, received TEXT NOT NULL, deadline TEXT NOT NULL, "
	"answered_at TEXT, extended_until TEXT, extension_reason TEXT)";

static int fail(lethe_sqlite *be, int rc, const char *what)
{
	return lethe_error_set(lethe_sqlite_code(rc), "cannot %s in '%s': %s", what, be->path,
			       sqlite3_errmsg(be->db));
}

int lethe_sqlite_request_put(int64_t *id, lethe_backend *base, const lethe_request *r)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	int rc, add = r->id == 0;

	if (!be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "request outside a transaction");
	rc = sqlite3_exec(be->db, create_sql, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(be->db, add ?
					"INSERT INTO lethe_requests (kind, subject_digest, received, "
					"deadline, answered_at, extended_until, extension_reason) "
					"VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8)" :
					"UPDATE lethe_requests SET answered_at = COALESCE(?6, answered_at), "
					"extended_until = COALESCE(?7, extended_until), "
					"extension_reason = COALESCE(?8, extension_reason) WHERE id = ?1", -1, &stmt, NULL);
	if (rc == SQLITE_OK) {
		const char *texts[] = { r->kind, r->subject, r->received, r->deadline, r->answered,
					r->extended_until, r->extension_reason };

		if (!add)
			sqlite3_bind_int64(stmt, 1, r->id);
		for (int i = add ? 0 : 4; i < 7; i++)
			sqlite3_bind_text(stmt, i + 2, texts[i], -1, SQLITE_STATIC);
		rc = sqlite3_step(stmt) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(be->db);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_OK)
		return fail(be, rc, "register a request");
	if (!add && sqlite3_changes(be->db) == 0)
		return lethe_error_set(LETHE_ENOTFOUND, "no request %lld", (long long)r->id);
	*id = add ? sqlite3_last_insert_rowid(be->db) : r->id;
	return 0;
}

int lethe_sqlite_requests(lethe_backend *base, int (*cb)(void *ctx, const lethe_request *r),
			  void *ctx)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	int rc;

	if (!lethe_sqlite_has_table(be, "lethe_requests"))
		return 0;
	rc = sqlite3_prepare_v2(be->db, "SELECT id, kind, subject_digest, received, deadline, "
				"answered_at, extended_until, extension_reason FROM lethe_requests "
				"ORDER BY received, id", -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return fail(be, rc, "read the requests");
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		lethe_request r;

		r.id = sqlite3_column_int64(stmt, 0);
		r.kind = (const char *)sqlite3_column_text(stmt, 1);
		r.subject = (const char *)sqlite3_column_text(stmt, 2);
		r.received = (const char *)sqlite3_column_text(stmt, 3);
		r.deadline = (const char *)sqlite3_column_text(stmt, 4);
		r.answered = (const char *)sqlite3_column_text(stmt, 5);
		r.extended_until = (const char *)sqlite3_column_text(stmt, 6);
		r.extension_reason = (const char *)sqlite3_column_text(stmt, 7);
		if ((rc = cb(ctx, &r)) != 0) {
			sqlite3_finalize(stmt);
			return rc;
		}
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : fail(be, rc, "read the requests");
}
