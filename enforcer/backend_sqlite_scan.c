/*
 * backend_sqlite_scan.c - one SQL query per lethe_scan, streamed row by row,
 * and the lethe_due() SQL function through which the query asks planning
 * whether a row is due.
 *
 * The query:
 *   SELECT "T"."key", (from), (subject), <blocked> FROM "T" WHERE (where)
 * with NULL for an absent from/subject and 1 for an absent where. Runs page
 * through a table: `AND key > :lethe_after ... ORDER BY key LIMIT n`, and
 * leave out rows the rule already changed: `AND NOT EXISTS (SELECT 1 FROM
 * lethe_done ...)`. User expressions never hold parameters (check refuses
 * them), so the named :lethe_* parameters are ours. Rows due under an
 * excluded rule are left out: `AND NOT coalesce((where) AND lethe_due(..)
 * AND NOT <held>, 0)`; a held row stays in, so every rule that reaches it
 * counts it held (<held> is the same for every rule of a table: plan.c).
 * <blocked> is 0 without dependents, else
 *   CASE WHEN lethe_due(self_rule_id, (from)) THEN (dep OR ...) ELSE 0 END
 * and each dependent set d (child C referencing parent P) is
 *   EXISTS (SELECT 1 FROM "C" WHERE "C"."c1" = "P"."p1" AND ...
 *           AND (NOT (<due_any>) OR <nested>))
 * <due_any> = coalesce((where_i) AND lethe_due(id_i, (from_i)), 0) OR ...
 * (0 without rules: a row under no delete rule always blocks), <nested> the
 * same construction for d->children with C as parent (0 when none), and a
 * cycle replaces the condition by 1 (any child row blocks).
 *
 * Invariants:
 *  - Tables are never aliased: user expressions name their own table
 *    (`marketing_profiles.customer_id`) and the innermost FROM "C" resolves
 *    them. The one exception is a self-referencing key (C is P), where "C"
 *    would hide the parent row: the parent's key values are first selected
 *    into a derived table lethe_k<depth>, and the child rows compared to it.
 *  - The whole query is prepared and stepped under the authorizer, so user
 *    expressions cannot write even from inside the generated query.
 *  - cur_scan is set only inside sqlite3_step() of a scan: lethe_due anywhere
 *    else is an SQL error.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "backend_sqlite.h"
#include "lethe/error.h"

void lethe_sqlite_value(lethe_value *out, sqlite3_value *v)
{
	memset(out, 0, sizeof(*out));
	switch (sqlite3_value_type(v)) {
	case SQLITE_INTEGER:
		out->type = LETHE_VALUE_INTEGER;
		out->i = sqlite3_value_int64(v);
		break;
	case SQLITE_FLOAT:
		out->type = LETHE_VALUE_REAL;
		out->r = sqlite3_value_double(v);
		break;
	case SQLITE_TEXT:
		out->type = LETHE_VALUE_TEXT;
		out->s = (const char *)sqlite3_value_text(v);
		out->len = (size_t)sqlite3_value_bytes(v);
		break;
	case SQLITE_BLOB:
		out->type = LETHE_VALUE_BLOB;
		out->s = sqlite3_value_blob(v);
		out->len = (size_t)sqlite3_value_bytes(v);
		break;
	default:
		out->type = LETHE_VALUE_NULL;
		break;
	}
	if ((out->type == LETHE_VALUE_TEXT || out->type == LETHE_VALUE_BLOB) && !out->s)
		out->s = "";
}

/* lethe_due(rule_id, clock) -> 0/1, from the current scan's due callback. */
static void due_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	lethe_sqlite *be = sqlite3_user_data(ctx);
	const lethe_scan *scan = be->cur_scan;
	lethe_value clock;
	int r;

	(void)argc;
	if (!scan || !scan->due) {
		sqlite3_result_error(ctx, "lethe_due() used outside a scan", -1);
		return;
	}
	lethe_sqlite_value(&clock, argv[1]);
	r = scan->due(scan->due_ctx, sqlite3_value_int(argv[0]), &clock);
	if (r < 0) {
		if (!be->due_rc)
			be->due_rc = r;
		sqlite3_result_error(ctx, "due callback failed", -1);
		return;
	}
	sqlite3_result_int(ctx, r != 0);
}

int lethe_sqlite_register_functions(lethe_sqlite *be)
{
	/* Not SQLITE_DIRECTONLY: the function is used in the top-level query.
	 * Not deterministic either: its answer depends on the plan. */
	if (sqlite3_create_function_v2(be->db, "lethe_due", 2, SQLITE_UTF8, be, due_func, NULL,
				       NULL, NULL) != SQLITE_OK)
		return lethe_error_set(LETHE_ESOFTWARE, "cannot register lethe_due: %s",
				       sqlite3_errmsg(be->db));
	return 0;
}

/* "(\nexpr\n)" or `dflt`; the newlines end a trailing `--` comment. */
static void append_expr(sqlite3_str *s, const char *expr, const char *dflt)
{
	if (expr)
		sqlite3_str_appendf(s, "(\n%s\n)", expr);
	else
		sqlite3_str_appendall(s, dflt);
}

static void append_column_ref(sqlite3_str *s, const char *table, const char *column)
{
	lethe_sqlite_append_ident(s, table);
	sqlite3_str_appendchar(s, 1, '.');
	lethe_sqlite_append_ident(s, column);
}

static void append_due_any(sqlite3_str *s, const lethe_dependents *d)
{
	size_t i;

	if (d->nrules == 0) {
		sqlite3_str_appendall(s, "0");
		return;
	}
	for (i = 0; i < d->nrules; i++) {
		sqlite3_str_appendall(s, i ? " OR coalesce(" : "coalesce(");
		append_expr(s, d->rules[i].where, "1");
		sqlite3_str_appendf(s, " AND lethe_due(%d, ", d->rules[i].id);
		append_expr(s, d->rules[i].from, "NULL");
		sqlite3_str_appendall(s, "), 0)");
	}
}

static int append_deps(sqlite3_str *s, const char *parent, const lethe_dependents *deps,
		       size_t ndeps, int depth);

static int append_dep(sqlite3_str *s, const char *parent, const lethe_dependents *d, int depth)
{
	const lethe_foreign_key *fk = d->fk;
	const char *child;
	size_t j;
	int rc = 0, self;

	if (!fk || fk->ncolumns == 0)
		return lethe_error_set(LETHE_ESOFTWARE, "scan: dependents without a foreign key");
	child = fk->child_table;
	self = strcasecmp(child, parent) == 0;
	sqlite3_str_appendall(s, self ? "(SELECT EXISTS (SELECT 1 FROM " : "EXISTS (SELECT 1 FROM ");
	lethe_sqlite_append_ident(s, child);
	sqlite3_str_appendall(s, " WHERE ");
	for (j = 0; j < fk->ncolumns; j++) {
		append_column_ref(s, child, fk->child_columns[j]);
		sqlite3_str_appendall(s, " = ");
		if (self)
			sqlite3_str_appendf(s, "lethe_k%d.k%d", depth, (int)j);
		else
			append_column_ref(s, parent, fk->parent_columns[j]);
		sqlite3_str_appendall(s, " AND ");
	}
	if (d->cycle) {
		sqlite3_str_appendall(s, "1");
	} else {
		sqlite3_str_appendall(s, "(NOT (");
		append_due_any(s, d);
		sqlite3_str_appendall(s, ") OR ");
		if (d->nchildren)
			rc = append_deps(s, child, d->children, d->nchildren, depth + 1);
		else
			sqlite3_str_appendall(s, "0");
		sqlite3_str_appendall(s, ")");
	}
	sqlite3_str_appendall(s, ")");
	if (self) {
		sqlite3_str_appendall(s, " FROM (SELECT ");
		for (j = 0; j < fk->ncolumns; j++) {
			append_column_ref(s, parent, fk->parent_columns[j]);
			sqlite3_str_appendf(s, " AS k%d%s", (int)j, j + 1 < fk->ncolumns ? ", " : "");
		}
		sqlite3_str_appendf(s, ") AS lethe_k%d)", depth);
	}
	return rc;
}

static int append_deps(sqlite3_str *s, const char *parent, const lethe_dependents *deps,
		       size_t ndeps, int depth)
{
	size_t i;
	int rc = 0;

	sqlite3_str_appendall(s, "(");
	for (i = 0; i < ndeps && rc == 0; i++) {
		if (i)
			sqlite3_str_appendall(s, " OR ");
		rc = append_dep(s, parent, &deps[i], depth);
	}
	sqlite3_str_appendall(s, ")");
	return rc;
}

/* " AND (column still in its disposed form)" */
static void append_done_form(sqlite3_str *s, const char *table, const lethe_done_column *d)
{
	sqlite3_str *c = sqlite3_str_new(NULL);
	char *col;

	append_column_ref(c, table, d->column);
	col = sqlite3_str_finish(c);
	if (!col) {
		sqlite3_str_appendall(s, " AND 0");
		return;
	}
	sqlite3_str_appendf(s, " AND (%s IS NULL", col);
	switch (d->form) {
	case LETHE_DONE_TOKEN:
		sqlite3_str_appendf(s, " OR (typeof(%s) = 'text' AND length(%s) = 36 AND "
				    "substr(%s, 1, 4) = 'tok_')", col, col, col);
		break;
	case LETHE_DONE_NULL:
		break;
	case LETHE_DONE_TEXT:
		sqlite3_str_appendf(s, " OR %s = %Q", col, d->text ? d->text : "");
		break;
	case LETHE_DONE_MAXLEN:
		sqlite3_str_appendf(s, " OR length(%s) <= %d", col, d->n);
		break;
	case LETHE_DONE_YEAR:
	case LETHE_DONE_MONTH: {
		int year = d->form == LETHE_DONE_YEAR;

		sqlite3_str_appendf(s, " OR %s = %Q OR (typeof(%s) = 'text' AND %s GLOB '%s') OR "
				    "(typeof(%s) = 'integer' AND %s = CAST(strftime('%%s', %s, 'unixepoch', "
				    "'start of %s') AS INTEGER))", col, d->text ? d->text : "", col, col,
				    year ? "[0-9][0-9][0-9][0-9]" : "[0-9][0-9][0-9][0-9]-[0-9][0-9]",
				    col, col, col, year ? "year" : "month");
		break;
	}
	}
	sqlite3_str_appendall(s, ")");
	sqlite3_free(col);
}

static int guard_deps(const char *rule, const lethe_dependents *deps, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		for (size_t k = 0; k < deps[i].nrules && rc == 0; k++)
			if ((rc = lethe_sqlite_expr_guard(rule, "where", deps[i].rules[k].where)) == 0)
				rc = lethe_sqlite_expr_guard(rule, "from", deps[i].rules[k].from);
		if (rc == 0)
			rc = guard_deps(rule, deps[i].children, deps[i].nchildren);
	}
	return rc;
}

/* Every expression of the scan stays within the parentheses append_expr
 * puts around it, whoever composed it (check refuses the policy's own, this
 * refuses anything that reached the backend another way, e.g. a hold's
 * where written into lethe_holds by hand). */
static int guard_scan(const lethe_scan *scan)
{
	const char *rule = scan->rule;
	int rc = 0;

	if ((rc = lethe_sqlite_expr_guard(rule, "where", scan->where)) ||
	    (rc = lethe_sqlite_expr_guard(rule, "from", scan->from)) ||
	    (rc = lethe_sqlite_expr_guard(rule, "subject", scan->subject)) ||
	    (rc = lethe_sqlite_expr_guard(rule, "hold", scan->held)))
		return rc;
	for (size_t i = 0; i < scan->nexclude && rc == 0; i++)
		if ((rc = lethe_sqlite_expr_guard(rule, "where", scan->exclude[i].where)) == 0)
			rc = lethe_sqlite_expr_guard(rule, "from", scan->exclude[i].from);
	return rc ? rc : guard_deps(rule, scan->deps, scan->ndeps);
}

/* The scan's SQL (sqlite3_malloc'd) in *out. */
static int build_query(char **out, lethe_sqlite *be, const lethe_scan *scan)
{
	sqlite3_str *s = sqlite3_str_new(be->db);
	char *sql;
	int rc = 0;

	sqlite3_str_appendall(s, "SELECT ");
	append_column_ref(s, scan->table, scan->key);
	sqlite3_str_appendall(s, ", ");
	append_expr(s, scan->from, "NULL");
	sqlite3_str_appendall(s, ", ");
	append_expr(s, scan->subject, "NULL");
	sqlite3_str_appendall(s, ", ");
	if (scan->held) {
		sqlite3_str_appendall(s, "CASE WHEN ");
		append_expr(s, scan->held, "0");
		sqlite3_str_appendall(s, " THEN 2 ELSE ");
	}
	if (scan->ndeps) {
		sqlite3_str_appendf(s, "CASE WHEN lethe_due(%d, ", scan->self_rule_id);
		append_expr(s, scan->from, "NULL");
		sqlite3_str_appendall(s, ") THEN ");
		rc = append_deps(s, scan->table, scan->deps, scan->ndeps, 0);
		sqlite3_str_appendall(s, " ELSE 0 END");
	} else {
		sqlite3_str_appendall(s, "0");
	}
	if (scan->held)
		sqlite3_str_appendall(s, " END");
	sqlite3_str_appendall(s, " FROM ");
	lethe_sqlite_append_ident(s, scan->table);
	sqlite3_str_appendall(s, " WHERE ");
	append_expr(s, scan->where, "1");
	for (size_t i = 0; i < scan->nexclude; i++) {
		sqlite3_str_appendall(s, " AND NOT coalesce(");
		append_expr(s, scan->exclude[i].where, "1");
		sqlite3_str_appendf(s, " AND lethe_due(%d, ", scan->exclude[i].id);
		append_expr(s, scan->exclude[i].from, "NULL");
		sqlite3_str_appendall(s, ")");
		/* a held row is no earlier rule's to dispose of: every rule that
		 * reaches it counts it held (the held expression is the table's) */
		if (scan->held) {
			sqlite3_str_appendall(s, " AND NOT coalesce(");
			append_expr(s, scan->held, "0");
			sqlite3_str_appendall(s, ", 0)");
		}
		sqlite3_str_appendall(s, ", 0)");
	}
	if (scan->after_key) {
		sqlite3_str_appendall(s, " AND ");
		append_column_ref(s, scan->table, scan->key);
		sqlite3_str_appendall(s, " > :lethe_after");
	}
	if (scan->done_rule && lethe_sqlite_has_table(be, LETHE_DONE_TABLE)) {
		sqlite3_str_appendall(s, " AND NOT (EXISTS (SELECT 1 FROM " LETHE_DONE_TABLE " AS d"
				      " WHERE d.rule = :lethe_rule AND d.key = +");
		/* unary + drops the column's affinity, so lethe_done's primary
		 * key (no affinity) can be searched on both columns */
		append_column_ref(s, scan->table, scan->key);
		sqlite3_str_appendall(s, ")");
		for (size_t i = 0; i < scan->ndone_columns; i++)
			append_done_form(s, scan->table, &scan->done_columns[i]);
		sqlite3_str_appendall(s, ")");
	}
	if (scan->limit > 0) {
		sqlite3_str_appendall(s, " ORDER BY ");
		append_column_ref(s, scan->table, scan->key);
		sqlite3_str_appendf(s, " LIMIT %lld", (long long)scan->limit);
	}
	sql = sqlite3_str_finish(s);
	if (rc) {
		sqlite3_free(sql);
		return rc;
	}
	if (!sql)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	*out = sql;
	return 0;
}

int lethe_sqlite_scan(lethe_backend *base, const lethe_scan *scan)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	char *sql = NULL, *errmsg = NULL;
	lethe_value key, clock, subject;
	int rc, step, cb = 0;

	if ((rc = guard_scan(scan)) < 0)
		goto out;
	rc = build_query(&sql, be, scan);
	if (rc)
		goto out;
	rc = lethe_sqlite_prepare_user(be, sql, &stmt, &errmsg);
	if (rc) {
		if (errmsg)
			rc = lethe_error_set(rc, "cannot scan '%s': %s", scan->table, errmsg);
		goto out;
	}
	if (scan->after_key)
		lethe_sqlite_bind_value(stmt, sqlite3_bind_parameter_index(stmt, ":lethe_after"),
					scan->after_key);
	if (scan->done_rule)
		sqlite3_bind_text(stmt, sqlite3_bind_parameter_index(stmt, ":lethe_rule"),
				  scan->done_rule, -1, SQLITE_STATIC);
	if (scan->bind_subject)
		lethe_sqlite_bind_value(stmt, sqlite3_bind_parameter_index(stmt, ":lethe_subject"),
					scan->bind_subject);
	/* The authorizer stays on while stepping (SQLite may re-prepare the
	 * statement after a schema change) but is off during the row callback,
	 * which may use this backend for its own queries or a nested scan. */
	be->due_rc = 0;
	for (;;) {
		be->auth_on = 1;
		be->cur_scan = scan;
		step = sqlite3_step(stmt);
		be->auth_on = 0;
		be->cur_scan = NULL;
		if (step != SQLITE_ROW)
			break;
		lethe_sqlite_value(&key, sqlite3_column_value(stmt, 0));
		lethe_sqlite_value(&clock, sqlite3_column_value(stmt, 1));
		lethe_sqlite_value(&subject, sqlite3_column_value(stmt, 2));
		cb = scan->row(scan->row_ctx, &key, &clock, &subject, sqlite3_column_int(stmt, 3));
		if (cb)
			break;
	}
	if (cb)
		rc = cb;
	else if (step == SQLITE_DONE)
		rc = 0;
	else if (be->due_rc)
		rc = be->due_rc; /* the due callback has set its own error */
	else if (scan->rule)
		rc = lethe_error_set(lethe_sqlite_code(step), "rule '%s': cannot scan '%s' of '%s': %s",
				     scan->rule, scan->table, be->path, lethe_sqlite_errmsg(be));
	else
		rc = lethe_error_set(lethe_sqlite_code(step), "cannot scan '%s' of '%s': %s", scan->table,
				     be->path, lethe_sqlite_errmsg(be));
out:
	sqlite3_finalize(stmt);
	sqlite3_free(sql);
	free(errmsg);
	return rc;
}
