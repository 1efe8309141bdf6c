/*
 * backend_sqlite_scan.c - one SQL query per lethe_scan, streamed row by row
 * (lethe_sqlite_scan) or counted per class inside SQLite (lethe_sqlite_count),
 * and the lethe_day() SQL function that reads a clock's UTC day.
 *
 * A row is decided in SQL by comparisons of its clock's day against the
 * thresholds the calendar module computed (lethe_threshold): no retention
 * arithmetic runs here. <day> is lethe_day((from)); <due> of a threshold is
 *   BEFORE  lethe_day((from)) < due_before   (NULL for a NULL or invalid clock)
 *   MATCH   (from) = 1                       (erasure: the subject match)
 *   NEVER   0
 * and a row's class (lethe_row_class) is
 *   CASE WHEN (from) IS NULL THEN not_started
 *        WHEN coalesce(<day> >= invalid_from, 1) THEN invalid
 *        WHEN <day> >= due_before THEN not_due
 *        WHEN <held> THEN held WHEN <blocked> THEN blocked ELSE due END
 * (MATCH: held, blocked or due; NEVER: not_due).
 *
 * The query:
 *   SELECT "T"."key", <day>, (subject), <class> FROM "T" WHERE (where)
 * with NULL for an absent from/subject and 1 for an absent where. Runs page
 * through a table: `AND key > :lethe_after ... ORDER BY key LIMIT n`, and
 * leave out rows the rule already changed: `AND NOT EXISTS (SELECT 1 FROM
 * lethe_done ...)`. User expressions never hold parameters (check refuses
 * them), so the named :lethe_* parameters are ours. Rows due under an
 * excluded rule are left out: `AND NOT coalesce((where) AND <due> AND NOT
 * <held>, 0)`; a held row stays in, so every rule that reaches it counts it
 * held (<held> is the same for every rule of a table: plan.c).
 * <blocked> is (dep OR ...), each dependent set d (child C referencing
 * parent P) being
 *   EXISTS (SELECT 1 FROM "C" WHERE "C"."c1" = "P"."p1" AND ...
 *           AND (NOT (<due_any>) OR <nested>))
 * <due_any> = coalesce((where_i) AND <due_i>, 0) OR ... with each child
 * rule's own threshold (0 without rules: a row under no delete rule always
 * blocks), <nested> the same construction for d->children with C as parent
 * (0 when none), and a cycle replaces the condition by 1 (any child row
 * blocks).
 *
 * Invariants:
 *  - Tables are never aliased: user expressions name their own table
 *    (`marketing_profiles.customer_id`) and the innermost FROM "C" resolves
 *    them. The one exception is a self-referencing key (C is P), where "C"
 *    would hide the parent row: the parent's key values are first selected
 *    into a derived table lethe_k<depth>, and the child rows compared to it.
 *  - The whole query is prepared and stepped under the authorizer, so user
 *    expressions cannot write even from inside the generated query.
 *  - lethe_day() parses only: it accepts exactly the clock spellings of the
 *    contract (calendar.h: lethe_day_from_text, lethe_day_from_unix) and
 *    is NULL for NULL and for anything else (REAL, BLOB, other text).
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

/* lethe_day(clock) -> the clock's UTC day (days from 1970-01-01), or NULL
 * when the clock is NULL or no day of the contract. */
static void day_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	lethe_value v;
	lethe_day day;
	int rc;

	(void)argc;
	lethe_sqlite_value(&v, argv[0]);
	if (v.type == LETHE_VALUE_INTEGER)
		rc = lethe_day_from_unix(&day, v.i);
	else if (v.type == LETHE_VALUE_TEXT)
		rc = lethe_day_from_text(&day, v.s, v.len);
	else
		rc = -1; /* NULL; REAL and BLOB are no clock spelling of the contract */
	if (rc < 0)
		sqlite3_result_null(ctx);
	else
		sqlite3_result_int(ctx, day);
}

int lethe_sqlite_register_functions(lethe_sqlite *be)
{
	/* Not SQLITE_DIRECTONLY: the function is used in the top-level query. */
	if (sqlite3_create_function_v2(be->db, "lethe_day", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
				       NULL, day_func, NULL, NULL, NULL) != SQLITE_OK)
		return lethe_error_set(LETHE_ESOFTWARE, "cannot register lethe_day: %s",
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

/* <due>: true when the clock `from` is due under th, NULL or false else. */
static void append_due(sqlite3_str *s, const lethe_threshold *th, const char *from)
{
	switch (th->kind) {
	case LETHE_DUE_BEFORE:
		sqlite3_str_appendall(s, "lethe_day(");
		append_expr(s, from, "NULL");
		sqlite3_str_appendf(s, ") < %d", (int)th->due_before);
		break;
	case LETHE_DUE_MATCH:
		append_expr(s, from, "NULL");
		sqlite3_str_appendall(s, " = 1");
		break;
	default:
		sqlite3_str_appendall(s, "0");
	}
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
		sqlite3_str_appendall(s, " AND ");
		append_due(s, &d->rules[i].due, d->rules[i].from);
		sqlite3_str_appendall(s, ", 0)");
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

/* <class> of the scan's own rows (see the top of the file). */
static int append_class(sqlite3_str *s, const lethe_scan *scan)
{
	const lethe_threshold *th = &scan->due;
	int rc = 0;

	if (th->kind == LETHE_DUE_NEVER) {
		sqlite3_str_appendf(s, "%d", LETHE_ROW_NOT_DUE);
		return 0;
	}
	if (th->kind == LETHE_DUE_MATCH && !scan->held && !scan->ndeps) {
		sqlite3_str_appendf(s, "%d", LETHE_ROW_DUE); /* a CASE needs a WHEN */
		return 0;
	}
	sqlite3_str_appendall(s, "CASE");
	if (th->kind == LETHE_DUE_BEFORE) {
		sqlite3_str_appendall(s, " WHEN ");
		append_expr(s, scan->from, "NULL");
		sqlite3_str_appendf(s, " IS NULL THEN %d WHEN coalesce(lethe_day(", LETHE_ROW_NOT_STARTED);
		append_expr(s, scan->from, "NULL");
		sqlite3_str_appendf(s, ") >= %d, 1) THEN %d WHEN lethe_day(", (int)th->invalid_from,
				    LETHE_ROW_INVALID);
		append_expr(s, scan->from, "NULL");
		sqlite3_str_appendf(s, ") >= %d THEN %d", (int)th->due_before, LETHE_ROW_NOT_DUE);
	}
	if (scan->held) {
		sqlite3_str_appendall(s, " WHEN ");
		append_expr(s, scan->held, "0");
		sqlite3_str_appendf(s, " THEN %d", LETHE_ROW_HELD);
	}
	if (scan->ndeps) {
		sqlite3_str_appendall(s, " WHEN ");
		rc = append_deps(s, scan->table, scan->deps, scan->ndeps, 0);
		sqlite3_str_appendf(s, " THEN %d", LETHE_ROW_BLOCKED);
	}
	sqlite3_str_appendf(s, " ELSE %d END", LETHE_ROW_DUE);
	return rc;
}

/* <day>, or NULL when the scan's rows are not decided by days. */
static void append_day(sqlite3_str *s, const lethe_scan *scan)
{
	if (scan->due.kind != LETHE_DUE_BEFORE || !scan->from) {
		sqlite3_str_appendall(s, "NULL");
		return;
	}
	sqlite3_str_appendall(s, "lethe_day(");
	append_expr(s, scan->from, "NULL");
	sqlite3_str_appendall(s, ")");
}

/* " FROM "T" WHERE ..." of a scan: its rows, without paging. */
static void append_rows(sqlite3_str *s, lethe_sqlite *be, const lethe_scan *scan)
{
	sqlite3_str_appendall(s, " FROM ");
	lethe_sqlite_append_ident(s, scan->table);
	sqlite3_str_appendall(s, " WHERE ");
	append_expr(s, scan->where, "1");
	for (size_t i = 0; i < scan->nexclude; i++) {
		sqlite3_str_appendall(s, " AND NOT coalesce(");
		append_expr(s, scan->exclude[i].where, "1");
		sqlite3_str_appendall(s, " AND ");
		append_due(s, &scan->exclude[i].due, scan->exclude[i].from);
		/* a held row is no earlier rule's to dispose of: every rule that
		 * reaches it counts it held (the held expression is the table's) */
		if (scan->held) {
			sqlite3_str_appendall(s, " AND NOT coalesce(");
			append_expr(s, scan->held, "0");
			sqlite3_str_appendall(s, ", 0)");
		}
		sqlite3_str_appendall(s, ", 0)");
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
}

static int finish(char **out, sqlite3_str *s, int rc)
{
	char *sql = sqlite3_str_finish(s);

	if (rc) {
		sqlite3_free(sql);
		return rc;
	}
	if (!sql)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	*out = sql;
	return 0;
}

/* The scan's SQL (sqlite3_malloc'd) in *out. */
static int build_query(char **out, lethe_sqlite *be, const lethe_scan *scan)
{
	sqlite3_str *s = sqlite3_str_new(be->db);
	int rc;

	sqlite3_str_appendall(s, "SELECT ");
	append_column_ref(s, scan->table, scan->key);
	sqlite3_str_appendall(s, ", ");
	append_day(s, scan);
	sqlite3_str_appendall(s, ", ");
	append_expr(s, scan->subject, "NULL");
	sqlite3_str_appendall(s, ", ");
	rc = append_class(s, scan);
	append_rows(s, be, scan);
	if (scan->classes && rc == 0) {
		sqlite3_str_appendall(s, " AND (");
		rc = append_class(s, scan);
		sqlite3_str_appendall(s, ") IN (");
		for (int c = 0, first = 1; c < LETHE_ROW_NCLASSES; c++)
			if (scan->classes & (1u << c)) {
				sqlite3_str_appendf(s, "%s%d", first ? "" : ", ", c);
				first = 0;
			}
		sqlite3_str_appendall(s, ")");
	}
	if (scan->after_key) {
		sqlite3_str_appendall(s, " AND ");
		append_column_ref(s, scan->table, scan->key);
		sqlite3_str_appendall(s, " > :lethe_after");
	}
	if (scan->limit > 0) {
		sqlite3_str_appendall(s, " ORDER BY ");
		append_column_ref(s, scan->table, scan->key);
		sqlite3_str_appendf(s, " LIMIT %lld", (long long)scan->limit);
	}
	return finish(out, s, rc);
}

/* The count's SQL: the classes and days computed once per row in a
 * subquery (its LIMIT keeps SQLite from flattening it into the aggregate,
 * which would compute the class once per count), summed outside. */
static int build_count(char **out, lethe_sqlite *be, const lethe_scan *scan)
{
	sqlite3_str *s = sqlite3_str_new(be->db);
	int rc;

	sqlite3_str_appendall(s, "SELECT ");
	for (int c = 0; c < LETHE_ROW_NCLASSES; c++)
		sqlite3_str_appendf(s, "count(*) FILTER (WHERE c = %d), ", c);
	sqlite3_str_appendf(s, "min(d) FILTER (WHERE c = %d), max(d) FILTER (WHERE c = %d) "
			    "FROM (SELECT ", LETHE_ROW_NOT_DUE, LETHE_ROW_NOT_DUE);
	rc = append_class(s, scan);
	sqlite3_str_appendall(s, " AS c, ");
	append_day(s, scan);
	sqlite3_str_appendall(s, " AS d");
	append_rows(s, be, scan);
	sqlite3_str_appendall(s, " LIMIT -1)");
	return finish(out, s, rc);
}

/* Prepare sql under the authorizer and bind the scan's parameters. */
static int prepare_scan(sqlite3_stmt **stmt, lethe_sqlite *be, const lethe_scan *scan,
			const char *sql)
{
	char *errmsg = NULL;
	int rc = lethe_sqlite_prepare_user(be, sql, stmt, &errmsg);

	if (rc) {
		if (errmsg)
			rc = lethe_error_set(rc, "cannot scan '%s': %s", scan->table, errmsg);
		free(errmsg);
		return rc;
	}
	if (scan->after_key)
		lethe_sqlite_bind_value(*stmt, sqlite3_bind_parameter_index(*stmt, ":lethe_after"),
					scan->after_key);
	if (scan->done_rule)
		sqlite3_bind_text(*stmt, sqlite3_bind_parameter_index(*stmt, ":lethe_rule"),
				  scan->done_rule, -1, SQLITE_STATIC);
	if (scan->bind_subject)
		lethe_sqlite_bind_value(*stmt, sqlite3_bind_parameter_index(*stmt, ":lethe_subject"),
					scan->bind_subject);
	return 0;
}

static int step_failed(lethe_sqlite *be, const lethe_scan *scan, int step)
{
	if (scan->rule)
		return lethe_error_set(lethe_sqlite_code(step), "rule '%s': cannot scan '%s' of '%s': %s",
				       scan->rule, scan->table, be->path, lethe_sqlite_errmsg(be));
	return lethe_error_set(lethe_sqlite_code(step), "cannot scan '%s' of '%s': %s", scan->table,
			       be->path, lethe_sqlite_errmsg(be));
}

int lethe_sqlite_count(lethe_scan_counts *out, lethe_backend *base, const lethe_scan *scan)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	char *sql = NULL;
	int rc, step;

	if ((rc = guard_scan(scan)) < 0 || (rc = build_count(&sql, be, scan)) ||
	    (rc = prepare_scan(&stmt, be, scan, sql)))
		goto out;
	be->auth_on = 1;
	step = sqlite3_step(stmt);
	be->auth_on = 0;
	if (step != SQLITE_ROW) {
		rc = step_failed(be, scan, step);
		goto out;
	}
	for (int c = 0; c < LETHE_ROW_NCLASSES; c++)
		out->n[c] = sqlite3_column_int64(stmt, c);
	out->min_not_due = sqlite3_column_int(stmt, LETHE_ROW_NCLASSES);
	out->max_not_due = sqlite3_column_int(stmt, LETHE_ROW_NCLASSES + 1);
out:
	sqlite3_finalize(stmt);
	sqlite3_free(sql);
	return rc;
}

int lethe_sqlite_scan(lethe_backend *base, const lethe_scan *scan)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	char *sql = NULL;
	lethe_value key, subject;
	int rc, step, cb = 0;

	if ((rc = guard_scan(scan)) < 0 || (rc = build_query(&sql, be, scan)) ||
	    (rc = prepare_scan(&stmt, be, scan, sql)))
		goto out;
	/* The authorizer stays on while stepping (SQLite may re-prepare the
	 * statement after a schema change) but is off during the row callback,
	 * which may use this backend for its own queries or a nested scan. */
	for (;;) {
		int cls;

		be->auth_on = 1;
		step = sqlite3_step(stmt);
		be->auth_on = 0;
		if (step != SQLITE_ROW)
			break;
		lethe_sqlite_value(&key, sqlite3_column_value(stmt, 0));
		lethe_sqlite_value(&subject, sqlite3_column_value(stmt, 2));
		cls = sqlite3_column_int(stmt, 3);
		if (cls < 0 || cls >= LETHE_ROW_NCLASSES)
			cls = LETHE_ROW_INVALID; /* cannot happen: the CASE has no other value */
		cb = scan->row(scan->row_ctx, &key, (lethe_row_class)cls,
			       (lethe_day)sqlite3_column_int(stmt, 1), &subject);
		if (cb)
			break;
	}
	if (cb)
		rc = cb;
	else if (step == SQLITE_DONE)
		rc = 0;
	else
		rc = step_failed(be, scan, step);
out:
	sqlite3_finalize(stmt);
	sqlite3_free(sql);
	return rc;
}
