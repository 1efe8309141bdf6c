/*
 * backend_sqlite_write.c - the SQLite backend's writing side: transactions,
 * batches of deletes and updates, and the residue work that makes disposed
 * content unrecoverable from the database's files.
 *
 * Invariants:
 *  - Every connection runs with secure_delete=ON (set in backend_sqlite.c), so
 *    SQLite overwrites deleted cells, freed pages and overflow pages with
 *    zeros instead of leaving them in free space.
 *  - A writer's journal never persists pre-images: journal_mode PERSIST is
 *    switched to TRUNCATE for our connection (DELETE, TRUNCATE and WAL are
 *    kept; WAL is cleaned by a TRUNCATE checkpoint in finalise).
 *  - Writes only happen inside a transaction begun with BEGIN IMMEDIATE, so
 *    a batch is applied whole or not at all and a busy database is found
 *    before anything is changed.
 *  - Every transaction of ours that writes changes at least one row (DDL
 *    comes with an INSERT): one that changed none is rolled back, not
 *    committed (see lethe_sqlite_commit).
 *  - cur_change is set only while apply steps an UPDATE: lethe_transform()
 *    anywhere else is an SQL error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "backend_sqlite.h"
#include "lethe/error.h"
#include "lethe/text.h"

int lethe_sqlite_has_table(lethe_sqlite *be, const char *name)
{
	sqlite3_stmt *stmt = NULL;
	int found = 0;

	if (sqlite3_prepare_v2(be->db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' "
			       "AND name = ?1 COLLATE NOCASE", -1, &stmt, NULL) == SQLITE_OK) {
		sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
		found = sqlite3_step(stmt) == SQLITE_ROW;
	}
	sqlite3_finalize(stmt);
	return found;
}

int lethe_sqlite_bind_value(sqlite3_stmt *stmt, int index, const lethe_value *v)
{
	switch (v->type) {
	case LETHE_VALUE_INTEGER:
		return sqlite3_bind_int64(stmt, index, v->i);
	case LETHE_VALUE_REAL:
		return sqlite3_bind_double(stmt, index, v->r);
	case LETHE_VALUE_TEXT:
		return sqlite3_bind_text(stmt, index, v->s, (int)v->len, SQLITE_TRANSIENT);
	case LETHE_VALUE_BLOB:
		return sqlite3_bind_blob(stmt, index, v->s, (int)v->len, SQLITE_TRANSIENT);
	default:
		return sqlite3_bind_null(stmt, index);
	}
}

static void result_value(sqlite3_context *ctx, const lethe_value *v)
{
	switch (v->type) {
	case LETHE_VALUE_INTEGER:
		sqlite3_result_int64(ctx, v->i);
		break;
	case LETHE_VALUE_REAL:
		sqlite3_result_double(ctx, v->r);
		break;
	case LETHE_VALUE_TEXT:
		sqlite3_result_text(ctx, v->s, (int)v->len, SQLITE_TRANSIENT);
		break;
	case LETHE_VALUE_BLOB:
		sqlite3_result_blob(ctx, v->s, (int)v->len, SQLITE_TRANSIENT);
		break;
	default:
		sqlite3_result_null(ctx);
	}
}

/* lethe_transform(column index, value, key) -> the new value, from the
 * current change's transform callback (tokens, masks); key is the row's. */
static void transform_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	lethe_sqlite *be = sqlite3_user_data(ctx);
	const lethe_change *c = be->cur_change;
	lethe_value in, key, out = { .type = LETHE_VALUE_NULL };
	sqlite3_int64 column = sqlite3_value_int64(argv[0]);
	int rc;

	(void)argc;
	if (!c || column < 0 || (size_t)column >= c->ncolumns) {
		sqlite3_result_error(ctx, "lethe_transform() used outside a change", -1);
		return;
	}
	lethe_sqlite_value(&in, argv[1]);
	lethe_sqlite_value(&key, argv[2]);
	rc = c->transform(c->transform_ctx, (size_t)column, &in, &key, &out);
	if (rc < 0) {
		if (!be->transform_rc)
			be->transform_rc = rc;
		sqlite3_result_error(ctx, "transform failed", -1);
		return;
	}
	result_value(ctx, &out);
}

/* lethe_key_seen(key) -> key, after handing it to the current change's
 * on_key: the dispose statement returns its keys through it, and SQLite
 * evaluates a RETURNING expression as each row changes, not when the rows
 * are returned after the last. */
static void key_seen_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	lethe_sqlite *be = sqlite3_user_data(ctx);
	const lethe_change *c = be->cur_change;

	(void)argc;
	if (c && c->on_key) {
		lethe_value key;

		lethe_sqlite_value(&key, argv[0]);
		c->on_key(c->on_key_ctx, &key);
	}
	sqlite3_result_value(ctx, argv[0]);
}

int lethe_sqlite_register_write_functions(lethe_sqlite *be)
{
	sqlite3_stmt *stmt = NULL;
	int persist = 0;

	if (sqlite3_create_function_v2(be->db, "lethe_transform", 3, SQLITE_UTF8 | SQLITE_DIRECTONLY,
				       be, transform_func, NULL, NULL, NULL) != SQLITE_OK)
		return lethe_error_set(LETHE_ESOFTWARE, "cannot register lethe_transform: %s",
				       sqlite3_errmsg(be->db));
	if (sqlite3_create_function_v2(be->db, "lethe_key_seen", 1, SQLITE_UTF8 | SQLITE_DIRECTONLY,
				       be, key_seen_func, NULL, NULL, NULL) != SQLITE_OK)
		return lethe_error_set(LETHE_ESOFTWARE, "cannot register lethe_key_seen: %s",
				       sqlite3_errmsg(be->db));
	/* The register's own triggers must run when we delete or update: they
	 * keep its FTS5 indexes in step (an index left behind would keep the
	 * disposed text). SQLite refuses virtual tables in triggers unless the
	 * schema is trusted; the schema is the register owner's own. */
	if (sqlite3_exec(be->db, "PRAGMA trusted_schema = ON", NULL, NULL, NULL) != SQLITE_OK)
		return lethe_error_set(LETHE_ESOFTWARE, "cannot trust the schema of '%s': %s",
				       be->path, sqlite3_errmsg(be->db));
	/* A persistent journal keeps the pre-images of the last transaction
	 * (the disposed rows) in the -journal file after it ends. */
	if (sqlite3_prepare_v2(be->db, "PRAGMA journal_mode", -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		persist = !strcasecmp((const char *)sqlite3_column_text(stmt, 0), "persist");
	sqlite3_finalize(stmt);
	if (persist && sqlite3_exec(be->db, "PRAGMA journal_mode = TRUNCATE", NULL, NULL, NULL) != SQLITE_OK)
		return lethe_error_set(lethe_sqlite_code(sqlite3_errcode(be->db)),
				       "cannot leave journal_mode PERSIST on '%s': %s", be->path,
				       sqlite3_errmsg(be->db));
	return 0;
}

/* --- tables an expression reads ------------------------------------------------ */

int lethe_sqlite_tables_read(char ***out, size_t *n, lethe_backend *base, const char *table,
			     const char *expr)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	sqlite3_str *s = sqlite3_str_new(be->db);
	char **names = NULL, *sql, *why = NULL;
	size_t count = 0;
	int rc;

	if ((rc = lethe_sqlite_expr_guard(NULL, "where", expr)) < 0) {
		sqlite3_free(sqlite3_str_finish(s));
		return rc;
	}
	sqlite3_str_appendf(s, "SELECT (\n%s\n) FROM ", expr);
	lethe_sqlite_append_ident(s, table);
	if (!(sql = sqlite3_str_finish(s)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	be->reads = &names;
	be->nreads = &count;
	rc = lethe_sqlite_prepare_user(be, sql, &stmt, &why);
	be->reads = NULL;
	be->nreads = NULL;
	sqlite3_finalize(stmt);
	sqlite3_free(sql);
	free(why);
	if (rc < 0) {
		lethe_backend_names_free(names, count);
		return rc;
	}
	*out = names;
	*n = count;
	return 0;
}

/* --- transactions ----------------------------------------------------------------- */

static int exec_write(lethe_sqlite *be, const char *sql, const char *what)
{
	int rc = sqlite3_exec(be->db, sql, NULL, NULL, NULL);
	int code;

	if (rc == SQLITE_OK)
		return 0;
	code = lethe_sqlite_code(rc);
	if (code == LETHE_ETEMPFAIL)
		return lethe_error_set(code, "database '%s' is busy: another connection is writing "
				       "(%s); nothing was changed, retry later", be->path, what);
	return lethe_error_set(code, "cannot %s on '%s': %s", what, be->path, sqlite3_errmsg(be->db));
}

int lethe_sqlite_begin(lethe_backend *base)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	int rc;

	if (be->flags & LETHE_BACKEND_READONLY)
		return lethe_error_set(LETHE_ESOFTWARE, "database '%s' is open read-only", be->path);
	if (be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "a transaction is already open on '%s'", be->path);
	if ((rc = exec_write(be, "BEGIN IMMEDIATE", "begin a transaction")) == 0) {
		be->in_txn = 1;
		be->txn_changes = sqlite3_total_changes64(be->db);
	}
	/* Only what check accepted is written to (backend_sqlite_triggers.c). */
	if (rc == 0 && (rc = lethe_sqlite_schema_unchanged(be)) < 0)
		lethe_sqlite_rollback(base);
	return rc;
}

int lethe_sqlite_commit(lethe_backend *base)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	int rc;

	/* A transaction that changed no row wrote nothing: it ends with
	 * ROLLBACK, because in rollback-journal mode even an empty COMMIT of a
	 * BEGIN IMMEDIATE waits for every reader and fails busy. */
	if (be->in_txn && sqlite3_total_changes64(be->db) == be->txn_changes) {
		lethe_sqlite_rollback(base);
		return 0;
	}
	rc = exec_write(be, "COMMIT", "commit");
	/* A failed COMMIT (busy readers in rollback mode) leaves the
	 * transaction open: roll it back so nothing half-done stays. */
	if (rc < 0)
		lethe_sqlite_rollback(base);
	be->in_txn = 0;
	return rc;
}

void lethe_sqlite_rollback(lethe_backend *base)
{
	lethe_sqlite *be = (lethe_sqlite *)base;

	if (!sqlite3_get_autocommit(be->db))
		sqlite3_exec(be->db, "ROLLBACK", NULL, NULL, NULL);
	be->in_txn = 0;
	lethe_sqlite_recover(be);
}

void lethe_sqlite_recover(lethe_sqlite *be)
{
	sqlite3_stmt *stmt = NULL;

	if (!sqlite3_get_autocommit(be->db))
		return;
	if (sqlite3_prepare_v2(be->db, "SELECT 1 FROM sqlite_schema LIMIT 1", -1, &stmt, NULL) ==
	    SQLITE_OK)
		(void)sqlite3_step(stmt);
	sqlite3_finalize(stmt);
}

/* --- batches ------------------------------------------------------------------------ */

static int prepare_own(lethe_sqlite *be, sqlite3_str *s, sqlite3_stmt **stmt)
{
	char *sql = sqlite3_str_finish(s);
	int rc;

	if (!sql)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	rc = sqlite3_prepare_v2(be->db, sql, -1, stmt, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		return lethe_error_set(lethe_sqlite_code(rc), "cannot prepare a change: %s",
				       sqlite3_errmsg(be->db));
	return 0;
}

/* "DELETE FROM T" or "UPDATE T SET ..." of c, without its WHERE. */
static void change_head(sqlite3_str *s, const lethe_change *c, int transform)
{
	if (c->delete) {
		sqlite3_str_appendall(s, "DELETE FROM ");
		lethe_sqlite_append_ident(s, c->table);
	} else {
		sqlite3_str_appendall(s, "UPDATE ");
		lethe_sqlite_append_ident(s, c->table);
		sqlite3_str_appendall(s, " SET ");
		for (size_t i = 0; i < c->ncolumns; i++) {
			if (i)
				sqlite3_str_appendall(s, ", ");
			lethe_sqlite_append_ident(s, c->columns[i]);
			if (!transform) {
				sqlite3_str_appendall(s, " = ");
				lethe_sqlite_append_ident(s, c->columns[i]);
				continue;
			}
			sqlite3_str_appendf(s, " = lethe_transform(%d, ", (int)i);
			lethe_sqlite_append_ident(s, c->columns[i]);
			sqlite3_str_appendall(s, ", ");
			lethe_sqlite_append_ident(s, c->key);
			sqlite3_str_appendall(s, ")");
		}
	}
}

void lethe_sqlite_change_sql(sqlite3_str *s, const lethe_change *c, int transform)
{
	change_head(s, c, transform);
	sqlite3_str_appendall(s, " WHERE ");
	lethe_sqlite_append_ident(s, c->key);
	sqlite3_str_appendall(s, " = ?1");
}

static int change_statement(lethe_sqlite *be, const lethe_change *c, sqlite3_stmt **stmt)
{
	sqlite3_str *s = sqlite3_str_new(be->db);

	lethe_sqlite_change_sql(s, c, 1);
	return prepare_own(be, s, stmt);
}

int lethe_sqlite_apply(int64_t *changed, lethe_backend *base, const lethe_change *c,
		       const lethe_value *keys, size_t nkeys)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL, *done = NULL;
	int64_t total = 0;
	char label[LETHE_EXCERPT_SIZE + 2];
	int rc = 0, step;

	if (!be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "apply outside a transaction");
	/* Inside BEGIN IMMEDIATE the schema cannot change: what is analysed here
	 * is what the statement below runs. */
	if ((rc = lethe_sqlite_refuse_triggers(be, c)) < 0)
		goto out;
	if ((rc = change_statement(be, c, &stmt)) < 0)
		goto out;
	if (c->done_rule) {
		rc = exec_write(be, "CREATE TABLE IF NOT EXISTS " LETHE_DONE_TABLE " (rule TEXT NOT NULL, "
				"key NOT NULL, PRIMARY KEY (rule, key)) WITHOUT ROWID",
				"create table " LETHE_DONE_TABLE);
		if (rc < 0)
			goto out;
		sqlite3_str *s = sqlite3_str_new(be->db);

		sqlite3_str_appendall(s, "INSERT OR IGNORE INTO " LETHE_DONE_TABLE
				      " (rule, key) VALUES (?1, ?2)");
		if ((rc = prepare_own(be, s, &done)) < 0)
			goto out;
	}
	for (size_t i = 0; i < nkeys; i++) {
		lethe_sqlite_bind_value(stmt, 1, &keys[i]);
		be->cur_change = c;
		be->transform_rc = 0;
		step = sqlite3_step(stmt);
		be->cur_change = NULL;
		sqlite3_reset(stmt);
		if (step != SQLITE_DONE) {
			lethe_backend_key_label(label, sizeof(label), &keys[i]);
			if (be->transform_rc)
				rc = be->transform_rc;
			else
				rc = lethe_error_set(lethe_sqlite_code(step), "rule '%s', table '%s', key %s: %s",
						     c->rule ? c->rule : "?", c->table, label,
						     lethe_sqlite_errmsg(be));
			goto out;
		}
		total += sqlite3_changes(be->db);
		if (c->applied)
			c->applied[i] = sqlite3_changes(be->db) > 0;
		if (done) {
			sqlite3_bind_text(done, 1, c->done_rule, -1, SQLITE_STATIC);
			lethe_sqlite_bind_value(done, 2, &keys[i]);
			step = sqlite3_step(done);
			sqlite3_reset(done);
			if (step != SQLITE_DONE) {
				rc = lethe_error_set(lethe_sqlite_code(step), "cannot record rule '%s': %s",
						     c->done_rule, sqlite3_errmsg(be->db));
				goto out;
			}
		}
	}
	*changed = total;
out:
	sqlite3_finalize(stmt);
	sqlite3_finalize(done);
	return rc;
}

/* --- a batch as one statement ------------------------------------------------------------ */

/* A batch is a key range of the table: from after scan->after_key to the
 * key of its scan->limit-th row (the range's upper key, found first), or to
 * the table's end when fewer rows are left. The statement changes the due,
 * unheld, unblocked rows of that range, each read once as it is met in key
 * order, with no list of keys selected first and sought again (an `IN
 * (SELECT ...)` cost an ephemeral index and a second search per row). */

/* The range's upper key into out->last (1), or 0 when the table has at most
 * scan->limit rows after scan->after_key (the range runs to its end). */
static int range_end(lethe_disposed *out, lethe_sqlite *be, const lethe_change *c, const lethe_scan *scan)
{
	sqlite3_stmt *stmt = NULL;
	sqlite3_str *s;
	lethe_value key;
	int rc, step;

	if (scan->limit <= 0)
		return 0;
	s = sqlite3_str_new(be->db);
	sqlite3_str_appendall(s, "SELECT ");
	lethe_sqlite_append_ident(s, c->key);
	sqlite3_str_appendall(s, " FROM ");
	lethe_sqlite_append_ident(s, c->table);
	if (scan->after_key) {
		sqlite3_str_appendall(s, " WHERE ");
		lethe_sqlite_append_ident(s, c->key);
		sqlite3_str_appendall(s, " > ?1");
	}
	sqlite3_str_appendall(s, " ORDER BY ");
	lethe_sqlite_append_ident(s, c->key);
	sqlite3_str_appendf(s, " LIMIT 1 OFFSET %lld", (long long)scan->limit - 1);
	if ((rc = prepare_own(be, s, &stmt)) < 0)
		return rc;
	if (scan->after_key)
		lethe_sqlite_bind_value(stmt, 1, scan->after_key);
	step = sqlite3_step(stmt);
	if (step == SQLITE_ROW) {
		lethe_sqlite_value(&key, sqlite3_column_value(stmt, 0));
		rc = lethe_disposed_page_end(out, &key);
		rc = rc < 0 ? rc : 1;
	} else if (step == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = lethe_error_set(lethe_sqlite_code(step), "rule '%s': cannot page through '%s': %s",
				     c->rule ? c->rule : "?", c->table, lethe_sqlite_errmsg(be));
	}
	sqlite3_finalize(stmt);
	return rc;
}

/* The statement: c's change of the due, unheld, unblocked rows of the range
 * (lethe_sqlite_due_row_sql), returning the keys it changed. */
static int dispose_sql(char **out, lethe_sqlite *be, const lethe_change *c, const lethe_scan *scan,
		       int upto)
{
	sqlite3_str *s;
	char *rows = NULL;
	int rc;

	if ((rc = lethe_sqlite_due_row_sql(&rows, be, scan, upto)) < 0)
		return rc;
	s = sqlite3_str_new(be->db);
	change_head(s, c, 1);
	sqlite3_str_appendf(s, " WHERE %s RETURNING ", rows);
	if (c->on_key)
		sqlite3_str_appendall(s, "lethe_key_seen(");
	lethe_sqlite_append_ident(s, c->key);
	if (c->on_key)
		sqlite3_str_appendall(s, ")");
	sqlite3_free(rows);
	if (!(*out = sqlite3_str_finish(s)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	return 0;
}

/* lethe_done rows are inserted DONE_ROWS at a time: one statement step per
 * DONE_ROWS keys instead of one per key. */
#define DONE_ROWS 128

static int done_statement(lethe_sqlite *be, size_t rows, sqlite3_stmt **stmt)
{
	sqlite3_str *s = sqlite3_str_new(be->db);

	sqlite3_str_appendall(s, "INSERT OR IGNORE INTO " LETHE_DONE_TABLE " (rule, key) VALUES ");
	for (size_t i = 0; i < rows; i++)
		sqlite3_str_appendf(s, "%s(?1, ?%d)", i ? ", " : "", (int)i + 2);
	return prepare_own(be, s, stmt);
}

static int record_done(lethe_sqlite *be, const lethe_change *c, const lethe_disposed *d)
{
	sqlite3_stmt *done = NULL;
	size_t rows = 0;
	int rc, step;

	rc = exec_write(be, "CREATE TABLE IF NOT EXISTS " LETHE_DONE_TABLE " (rule TEXT NOT NULL, "
			"key NOT NULL, PRIMARY KEY (rule, key)) WITHOUT ROWID",
			"create table " LETHE_DONE_TABLE);
	for (size_t i = 0; i < d->n && rc == 0; i += rows) {
		size_t left = d->n - i;

		/* the full chunk's statement serves every chunk but the last */
		if (!done || left < rows) {
			sqlite3_finalize(done);
			done = NULL;
			rows = left < DONE_ROWS ? left : DONE_ROWS;
			if ((rc = done_statement(be, rows, &done)) < 0)
				break;
		}
		sqlite3_bind_text(done, 1, c->done_rule, -1, SQLITE_STATIC);
		for (size_t k = 0; k < rows; k++)
			lethe_sqlite_bind_value(done, (int)k + 2, &d->keys[i + k]);
		step = sqlite3_step(done);
		sqlite3_reset(done);
		if (step != SQLITE_DONE)
			rc = lethe_error_set(lethe_sqlite_code(step), "cannot record rule '%s': %s",
					     c->done_rule, sqlite3_errmsg(be->db));
	}
	sqlite3_finalize(done);
	return rc;
}

/* The statement failed (a constraint, say) and SQLite undid it: the change
 * is made again key by key (lethe_sqlite_apply) on the same due keys, whose
 * error names the key that fails; the transaction is the caller's to roll
 * back. Should every key pass one by one, the statement's error stands. */
static int failed(lethe_sqlite *be, const lethe_change *c, const lethe_scan *scan, int step)
{
	int code = lethe_sqlite_code(step);
	char *msg = strdup(lethe_sqlite_errmsg(be));
	lethe_scan due = *scan;
	lethe_disposed keys = { 0 };
	sqlite3_stmt *stmt = NULL;
	char *sql = NULL, *why = NULL;
	lethe_value key;
	int64_t changed;
	int rc;

	due.classes = 1u << LETHE_ROW_DUE;
	if ((rc = lethe_sqlite_scan_sql(&sql, be, &due, 0, NULL)) == 0 &&
	    (rc = lethe_sqlite_prepare_user(be, sql, &stmt, &why)) == 0) {
		lethe_sqlite_scan_bind(stmt, &due);
		be->admit_scan = scan;
		while (rc == 0 && sqlite3_step(stmt) == SQLITE_ROW) {
			lethe_sqlite_value(&key, sqlite3_column_value(stmt, 0));
			rc = lethe_disposed_add(&keys, &key, 0);
		}
		be->admit_scan = NULL;
		sqlite3_finalize(stmt);
		if (rc == 0)
			rc = lethe_sqlite_apply(&changed, (lethe_backend *)be, c, keys.keys, keys.n);
	}
	if (rc == 0)
		rc = lethe_error_set(code, "rule '%s', table '%s': %s", c->rule ? c->rule : "?", c->table,
				     msg ? msg : "cannot change rows");
	lethe_disposed_release(&keys);
	sqlite3_free(sql);
	free(why);
	free(msg);
	return rc < 0 ? rc : lethe_error_set(code, "rule '%s', table '%s': cannot change rows",
					     c->rule ? c->rule : "?", c->table);
}

int lethe_sqlite_dispose(lethe_disposed *out, lethe_backend *base, const lethe_change *c,
			 const lethe_scan *scan)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	char *sql = NULL, *why = NULL;
	lethe_value key;
	int rc, step, upto;

	if (!be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "dispose outside a transaction");
	/* Inside BEGIN IMMEDIATE the schema cannot change: what is analysed here
	 * is what the statement below runs; the range is found inside it too. */
	if ((rc = lethe_sqlite_refuse_triggers(be, c)) < 0 || (rc = range_end(out, be, c, scan)) < 0)
		goto out;
	upto = rc;
	if ((rc = dispose_sql(&sql, be, c, scan, upto)) < 0)
		goto out;
	if ((rc = lethe_sqlite_prepare_change(be, sql, &stmt, &why)) != 0) {
		if (why)
			rc = lethe_error_set(rc, "rule '%s': cannot dispose of rows of '%s': %s",
					     c->rule ? c->rule : "?", c->table, why);
		goto out;
	}
	lethe_sqlite_scan_bind(stmt, scan);
	/* a range of scan->limit rows changes at most that many */
	if (upto && (rc = lethe_disposed_reserve(out, (size_t)scan->limit)) < 0)
		goto out;
	if (upto)
		lethe_sqlite_bind_value(stmt, sqlite3_bind_parameter_index(stmt, ":lethe_upto"), &out->last);
	/* SQLite makes every change on the first step and keeps the returned
	 * keys; the transform runs then, for each changed row. The statement
	 * was prepared under the authorizer, which is off while it runs: the
	 * register's full-text tables prepare statements of their own (PRAGMA
	 * data_version), and inside BEGIN IMMEDIATE with the schema checked
	 * unchanged (lethe_sqlite_begin) nothing makes SQLite re-prepare it. */
	be->transform_rc = 0;
	for (;;) {
		be->cur_change = c;
		be->admit_scan = scan;
		step = sqlite3_step(stmt);
		be->admit_scan = NULL;
		be->cur_change = NULL;
		if (step != SQLITE_ROW)
			break;
		lethe_sqlite_value(&key, sqlite3_column_value(stmt, 0));
		if ((rc = lethe_disposed_add(out, &key, 0)) < 0)
			goto out;
	}
	/* a full range: the next batch starts after it, whatever it changed */
	out->paged = upto ? (size_t)scan->limit : 0;
	if (step != SQLITE_DONE) {
		rc = be->transform_rc ? be->transform_rc : failed(be, c, scan, step);
		goto out;
	}
	if (c->done_rule && out->n)
		rc = record_done(be, c, out);
out:
	sqlite3_finalize(stmt);
	sqlite3_free(sql);
	free(why);
	if (rc < 0)
		lethe_disposed_release(out);
	return rc;
}
