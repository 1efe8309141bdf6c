/*
 * backend_sqlite_subject.c - a data subject's rows (access requests) and the
 * suppression list (marketing bans that survive erasure).
 *
 * Invariants:
 *  - Row queries are built from user expressions and run under the
 *    read-only authorizer, like scans.
 *  - lethe_suppression holds pseudonym tokens and dates only.
 */
#include <stdlib.h>
#include <string.h>
#include "backend_sqlite.h"
#include "lethe/error.h"

int lethe_sqlite_rows(lethe_backend *base, const char *table, const char *where,
		      const lethe_value *subject,
		      int (*cb)(void *ctx, size_t ncols, const char *const *names,
				const lethe_value *values), void *ctx)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	sqlite3_str *s = sqlite3_str_new(be->db);
	const char **names = NULL;
	lethe_value *values = NULL;
	char *sql, *why = NULL;
	int rc, step, n;

	if ((rc = lethe_sqlite_expr_guard(NULL, "where", where)) < 0) {
		sqlite3_free(sqlite3_str_finish(s));
		return rc;
	}
	sqlite3_str_appendall(s, "SELECT * FROM ");
	lethe_sqlite_append_ident(s, table);
	if (where)
		sqlite3_str_appendf(s, " WHERE (\n%s\n)", where);
	sqlite3_str_appendall(s, " ORDER BY rowid");
	if (!(sql = sqlite3_str_finish(s)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	/* WITHOUT ROWID tables have no rowid: order by their key instead */
	rc = lethe_sqlite_prepare_user(be, sql, &stmt, &why);
	if (rc == LETHE_EDATA) {
		char *p = strstr(sql, " ORDER BY rowid");

		free(why);
		why = NULL;
		*p = '\0';
		rc = lethe_sqlite_prepare_user(be, sql, &stmt, &why);
	}
	if (rc < 0) {
		if (why)
			rc = lethe_error_set(rc, "cannot read '%s': %s", table, why);
		goto out;
	}
	if (subject)
		lethe_sqlite_bind_value(stmt, sqlite3_bind_parameter_index(stmt, ":lethe_subject"), subject);
	n = sqlite3_column_count(stmt);
	names = calloc((size_t)n + 1, sizeof(*names));
	values = calloc((size_t)n + 1, sizeof(*values));
	if (!names || !values) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	for (int i = 0; i < n; i++)
		names[i] = sqlite3_column_name(stmt, i);
	for (;;) {
		be->auth_on = 1;
		step = sqlite3_step(stmt);
		be->auth_on = 0;
		if (step != SQLITE_ROW)
			break;
		for (int i = 0; i < n; i++)
			lethe_sqlite_value(&values[i], sqlite3_column_value(stmt, i));
		if ((rc = cb(ctx, (size_t)n, names, values)) != 0)
			goto out;
	}
	rc = step == SQLITE_DONE ? 0 : lethe_error_set(lethe_sqlite_code(step), "cannot read '%s': %s",
						       table, lethe_sqlite_errmsg(be));
out:
	free(names);
	free(values);
	free(why);
	sqlite3_finalize(stmt);
	sqlite3_free(sql);
	return rc;
}

int lethe_sqlite_suppress(lethe_backend *base, const char *const *tokens, size_t n,
			  const char *added_at)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	int rc;

	if (!be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "suppress outside a transaction");
	rc = sqlite3_exec(be->db, "CREATE TABLE IF NOT EXISTS lethe_suppression (token TEXT PRIMARY KEY, "
			  "added_at TEXT NOT NULL) WITHOUT ROWID", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(be->db, "INSERT OR IGNORE INTO lethe_suppression (token, added_at) "
					"VALUES (?1, ?2)", -1, &stmt, NULL);
	for (size_t i = 0; rc == SQLITE_OK && i < n; i++) {
		sqlite3_bind_text(stmt, 1, tokens[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 2, added_at, -1, SQLITE_STATIC);
		rc = sqlite3_step(stmt) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(be->db);
		sqlite3_reset(stmt);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_OK)
		return lethe_error_set(lethe_sqlite_code(rc), "cannot write the suppression list of '%s': %s",
				       be->path, sqlite3_errmsg(be->db));
	return 0;
}

int lethe_sqlite_suppressed(int *found, lethe_backend *base, const char *token)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	int rc;

	*found = 0;
	if (!lethe_sqlite_has_table(be, "lethe_suppression"))
		return 0;
	rc = sqlite3_prepare_v2(be->db, "SELECT 1 FROM lethe_suppression WHERE token = ?1", -1, &stmt, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(stmt, 1, token, -1, SQLITE_STATIC);
		rc = sqlite3_step(stmt);
		*found = rc == SQLITE_ROW;
		rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_OK)
		return lethe_error_set(lethe_sqlite_code(rc), "cannot read the suppression list of '%s': %s",
				       be->path, sqlite3_errmsg(be->db));
	return 0;
}
