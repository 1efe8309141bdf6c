/*
 * backend_maria_scan.c - the SQL of a lethe_scan on MariaDB/MySQL, and
 * running it: rows (one result per page) or counts per class computed by
 * the server.
 *
 * The shape is that of the PostgreSQL backend (backend_pg_scan.c): an inner
 * level giving each row's key, subject, day and held/blocked/due verdict
 * (a derived table with a LIMIT, which MariaDB never merges into the outer
 * query, so the clock is evaluated once per row), an outer level classifying
 * it by comparisons with the thresholds. What differs:
 *  - <day>: a DATE, DATETIME or TIMESTAMP clock becomes TO_DAYS(x) - 719528
 *    (days since 1970-01-01; the session's time zone is +00:00, so a
 *    TIMESTAMP reads as UTC); an integer clock is unix seconds; a text clock
 *    is refused with the cast to write.
 *  - FILTER clauses become SUM/MIN/MAX over CASE; regular expressions use
 *    REGEXP; CAST(... AS CHAR).
 *  - Lethe's named parameters become '?', one per occurrence.
 *  - A self-referencing foreign key among the dependents is not supported
 *    yet (a clear error, nothing is scanned).
 *  - Lethe's own tables (lethe_done) are not implemented yet: since no
 *    change can be applied, no row is recorded as changed, and a scan that
 *    leaves out such rows leaves out none.
 *
 * Invariants:
 *  - Every expression is guarded (lethe_expr_escape_composed) before it is
 *    pasted.
 *  - Values (after key, rule name, subject) are parameters only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "backend_maria.h"
#include "expr_lex.h"
#include "lethe/error.h"
#include "vec.h"

/* The day of 0001-01-01, the first of the contract's days. */
#define FIRST_DAY (-719162)

static int guard(const char *rule, const char *what, const char *expr)
{
	const char *why = expr ? lethe_expr_escape_composed(expr) : NULL;

	if (!why)
		return 0;
	return lethe_error_set(LETHE_EDATA, "%s%s%s%s: %s", rule ? "rule '" : "", rule ? rule : "",
			       rule ? "', " : "", what, why);
}

static void append_expr(lethe_strbuf *s, const char *expr, const char *dflt)
{
	if (expr) {
		lethe_strbuf_adds(s, "(\n");
		lethe_strbuf_adds(s, expr);
		lethe_strbuf_adds(s, "\n)");
	} else {
		lethe_strbuf_adds(s, dflt);
	}
}

static void append_column_ref(lethe_strbuf *s, const char *table, const char *column)
{
	lethe_maria_ident(s, table);
	lethe_strbuf_addch(s, '.');
	lethe_maria_ident(s, column);
}

static const char *const param_names[] = { "lethe_subject", "lethe_after", "lethe_rule" };

/* The result type of clock expression `from` over `table` (enum
 * enum_field_types), from preparing (never running) a SELECT of it. */
static int clock_type(int *type, lethe_maria *be, const char *table, const char *from)
{
	lethe_value none[3] = { { .type = LETHE_VALUE_NULL }, { .type = LETHE_VALUE_NULL },
				{ .type = LETHE_VALUE_NULL } };
	lethe_strbuf s = LETHE_STRBUF_INIT;
	lethe_value *vals = NULL;
	size_t nvals;
	MYSQL_STMT *st;
	MYSQL_RES *meta;
	char *sql = NULL;
	int rc;

	lethe_strbuf_adds(&s, "SELECT (\n");
	lethe_strbuf_adds(&s, from);
	lethe_strbuf_adds(&s, "\n) FROM ");
	lethe_maria_ident(&s, table);
	rc = lethe_maria_positional(&sql, &vals, &nvals, lethe_strbuf_str(&s), param_names, none, 3);
	lethe_strbuf_release(&s);
	free(vals);
	if (rc < 0)
		return rc;
	if (!(st = mysql_stmt_init(be->conn))) {
		free(sql);
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	if (mysql_stmt_prepare(st, sql, strlen(sql)) || !(meta = mysql_stmt_result_metadata(st))) {
		rc = lethe_error_set(LETHE_EDATA, "clock of '%s': %s", table, mysql_stmt_error(st));
	} else {
		*type = (int)mysql_fetch_field_direct(meta, 0)->type;
		mysql_free_result(meta);
	}
	mysql_stmt_close(st);
	free(sql);
	return rc;
}

/* <day> of clock `from` over `table`: its UTC day as days since 1970-01-01,
 * NULL for NULL. One evaluation of the expression: a day before 0001-01-01
 * (FIRST_DAY) or from invalid_from on is classed invalid where the day is
 * compared, never here. */
static int append_day(lethe_strbuf *s, lethe_maria *be, const char *table, const char *from,
		      const char *rule)
{
	int type = -1, rc;

	if (!from) {
		lethe_strbuf_adds(s, "CAST(NULL AS SIGNED)");
		return 0;
	}
	if ((rc = clock_type(&type, be, table, from)) < 0)
		return rc;
	switch (type) {
	case MYSQL_TYPE_DATE: case MYSQL_TYPE_NEWDATE: case MYSQL_TYPE_DATETIME:
	case MYSQL_TYPE_TIMESTAMP: case MYSQL_TYPE_DATETIME2: case MYSQL_TYPE_TIMESTAMP2:
		/* TO_DAYS('1970-01-01') = 719528; a zero date gives NULL */
		lethe_strbuf_adds(s, "(TO_DAYS(");
		append_expr(s, from, "NULL");
		lethe_strbuf_adds(s, ") - 719528)");
		return 0;
	case MYSQL_TYPE_TINY: case MYSQL_TYPE_SHORT: case MYSQL_TYPE_LONG:
	case MYSQL_TYPE_INT24: case MYSQL_TYPE_LONGLONG: /* unix seconds */
		lethe_strbuf_adds(s, "FLOOR(");
		append_expr(s, from, "NULL");
		lethe_strbuf_adds(s, " / 86400)");
		return 0;
	case MYSQL_TYPE_VARCHAR: case MYSQL_TYPE_VAR_STRING: case MYSQL_TYPE_STRING:
	case MYSQL_TYPE_BLOB: case MYSQL_TYPE_TINY_BLOB: case MYSQL_TYPE_MEDIUM_BLOB:
	case MYSQL_TYPE_LONG_BLOB:
		return lethe_error_set(LETHE_EDATA, "%s%s%sthe clock of table '%s' is text: on "
				       "MariaDB a clock is a DATE, DATETIME or TIMESTAMP; write a cast, "
				       "e.g. from: CAST(%s AS DATETIME) (docs/policy-language.md)",
				       rule ? "rule '" : "", rule ? rule : "", rule ? "': " : "", table, from);
	default:
		return lethe_error_set(LETHE_EDATA, "%s%s%sthe clock of table '%s' is of a type that "
				       "is no day (type %d): cast it to DATE or DATETIME",
				       rule ? "rule '" : "", rule ? rule : "", rule ? "': " : "", table, type);
	}
}

int lethe_maria_check_clock(lethe_backend *base, const char *table, const char *expr, char **errmsg)
{
	lethe_strbuf s = LETHE_STRBUF_INIT;
	int rc = append_day(&s, (lethe_maria *)base, table, expr, NULL);

	lethe_strbuf_release(&s);
	if (rc == LETHE_EDATA && !(*errmsg = strdup(lethe_error_last())))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	return rc;
}

/* <due>: true when the clock is due under th. */
static int append_due(lethe_strbuf *s, lethe_maria *be, const char *table, const lethe_threshold *th,
		      const char *from, const char *rule)
{
	int rc = 0;

	switch (th->kind) {
	case LETHE_DUE_BEFORE:
		/* a range: the day is evaluated once, NULL and infinities fall out */
		lethe_strbuf_adds(s, "(");
		rc = append_day(s, be, table, from, rule);
		lethe_strbuf_addf(s, " BETWEEN %d AND %d)", FIRST_DAY, (int)th->due_before - 1);
		break;
	case LETHE_DUE_MATCH:
		append_expr(s, from, "NULL");
		lethe_strbuf_adds(s, " IS TRUE");
		break;
	default:
		lethe_strbuf_adds(s, "FALSE");
	}
	return rc;
}

static int append_due_any(lethe_strbuf *s, lethe_maria *be, const char *table,
			  const lethe_dependents *d, const char *rule)
{
	int rc = 0;

	if (d->nrules == 0) {
		lethe_strbuf_adds(s, "FALSE");
		return 0;
	}
	for (size_t i = 0; i < d->nrules && rc == 0; i++) {
		lethe_strbuf_adds(s, i ? " OR coalesce(" : "coalesce(");
		append_expr(s, d->rules[i].where, "TRUE");
		lethe_strbuf_adds(s, " AND ");
		rc = append_due(s, be, table, &d->rules[i].due, d->rules[i].from, rule);
		lethe_strbuf_adds(s, ", FALSE)");
	}
	return rc;
}

static int append_deps(lethe_strbuf *s, lethe_maria *be, const char *parent,
		       const lethe_dependents *deps, size_t ndeps, int depth, const char *rule);

static int append_dep(lethe_strbuf *s, lethe_maria *be, const char *parent, const lethe_dependents *d,
		      int depth, const char *rule)
{
	const lethe_foreign_key *fk = d->fk;
	const char *child;
	int rc = 0, self;

	if (!fk || fk->ncolumns == 0)
		return lethe_error_set(LETHE_ESOFTWARE, "scan: dependents without a foreign key");
	child = fk->child_table;
	self = strcmp(child, parent) == 0;
	if (self)
		return lethe_error_set(LETHE_EUSAGE, "table '%s' references itself: not yet supported "
				       "on MariaDB", child);
	lethe_strbuf_adds(s, self ? "(SELECT EXISTS (SELECT 1 FROM " : "EXISTS (SELECT 1 FROM ");
	lethe_maria_ident(s, child);
	lethe_strbuf_adds(s, " WHERE ");
	for (size_t j = 0; j < fk->ncolumns; j++) {
		append_column_ref(s, child, fk->child_columns[j]);
		lethe_strbuf_adds(s, " = ");
		if (self)
			lethe_strbuf_addf(s, "lethe_k%d.k%d", depth, (int)j);
		else
			append_column_ref(s, parent, fk->parent_columns[j]);
		lethe_strbuf_adds(s, " AND ");
	}
	if (d->cycle) {
		lethe_strbuf_adds(s, "TRUE");
	} else {
		lethe_strbuf_adds(s, "(NOT (");
		rc = append_due_any(s, be, child, d, rule);
		lethe_strbuf_adds(s, ") OR ");
		if (d->nchildren && rc == 0)
			rc = append_deps(s, be, child, d->children, d->nchildren, depth + 1, rule);
		else
			lethe_strbuf_adds(s, "FALSE");
		lethe_strbuf_adds(s, ")");
	}
	lethe_strbuf_adds(s, ")");
	if (self) {
		lethe_strbuf_adds(s, " FROM (SELECT ");
		for (size_t j = 0; j < fk->ncolumns; j++) {
			append_column_ref(s, parent, fk->parent_columns[j]);
			lethe_strbuf_addf(s, " AS k%d%s", (int)j, j + 1 < fk->ncolumns ? ", " : "");
		}
		lethe_strbuf_addf(s, ") AS lethe_k%d)", depth);
	}
	return rc;
}

static int append_deps(lethe_strbuf *s, lethe_maria *be, const char *parent,
		       const lethe_dependents *deps, size_t ndeps, int depth, const char *rule)
{
	int rc = 0;

	lethe_strbuf_adds(s, "(");
	for (size_t i = 0; i < ndeps && rc == 0; i++) {
		if (i)
			lethe_strbuf_adds(s, " OR ");
		rc = append_dep(s, be, parent, &deps[i], depth, rule);
	}
	lethe_strbuf_adds(s, ")");
	return rc;
}

static int guard_deps(const char *rule, const lethe_dependents *deps, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		for (size_t k = 0; k < deps[i].nrules && rc == 0; k++)
			if ((rc = guard(rule, "where", deps[i].rules[k].where)) == 0)
				rc = guard(rule, "from", deps[i].rules[k].from);
		if (rc == 0)
			rc = guard_deps(rule, deps[i].children, deps[i].nchildren);
	}
	return rc;
}

static int guard_scan(const lethe_scan *scan)
{
	const char *rule = scan->rule;
	int rc;

	if ((rc = guard(rule, "where", scan->where)) || (rc = guard(rule, "from", scan->from)) ||
	    (rc = guard(rule, "subject", scan->subject)) || (rc = guard(rule, "hold", scan->held)))
		return rc;
	for (size_t i = 0; i < scan->nexclude && rc == 0; i++)
		if ((rc = guard(rule, "where", scan->exclude[i].where)) == 0)
			rc = guard(rule, "from", scan->exclude[i].from);
	return rc ? rc : guard_deps(rule, scan->deps, scan->ndeps);
}

static int append_hb(lethe_strbuf *s, lethe_maria *be, const lethe_scan *scan)
{
	int rc = 0;

	if (!scan->held && !scan->ndeps) {
		lethe_strbuf_addf(s, "%d", LETHE_ROW_DUE);
		return 0;
	}
	lethe_strbuf_adds(s, "CASE");
	if (scan->held) {
		lethe_strbuf_adds(s, " WHEN ");
		append_expr(s, scan->held, "FALSE");
		lethe_strbuf_addf(s, " THEN %d", LETHE_ROW_HELD);
	}
	if (scan->ndeps) {
		lethe_strbuf_adds(s, " WHEN ");
		rc = append_due(s, be, scan->table, &scan->due, scan->from, scan->rule);
		lethe_strbuf_adds(s, " AND ");
		if (rc == 0)
			rc = append_deps(s, be, scan->table, scan->deps, scan->ndeps, 0, scan->rule);
		lethe_strbuf_addf(s, " THEN %d", LETHE_ROW_BLOCKED);
	}
	lethe_strbuf_addf(s, " ELSE %d END", LETHE_ROW_DUE);
	return rc;
}

static void append_class(lethe_strbuf *s, const lethe_threshold *th)
{
	switch (th->kind) {
	case LETHE_DUE_BEFORE:
		lethe_strbuf_addf(s, "CASE WHEN lethe_d IS NULL THEN %d WHEN lethe_d >= %d OR lethe_d < %d "
				  "THEN %d WHEN lethe_d >= %d THEN %d ELSE lethe_h END", LETHE_ROW_NOT_STARTED,
				  (int)th->invalid_from, FIRST_DAY, LETHE_ROW_INVALID, (int)th->due_before,
				  LETHE_ROW_NOT_DUE);
		break;
	case LETHE_DUE_MATCH:
		lethe_strbuf_adds(s, "lethe_h");
		break;
	default:
		lethe_strbuf_addf(s, "%d", LETHE_ROW_NOT_DUE);
	}
}

static int append_rows(lethe_strbuf *s, lethe_maria *be, const lethe_scan *scan)
{
	int rc = 0;

	lethe_strbuf_adds(s, " FROM ");
	lethe_maria_ident(s, scan->table);
	lethe_strbuf_adds(s, " WHERE coalesce(");
	append_expr(s, scan->where, "TRUE");
	lethe_strbuf_adds(s, ", FALSE)");
	for (size_t i = 0; i < scan->nexclude && rc == 0; i++) {
		lethe_strbuf_adds(s, " AND NOT coalesce(");
		append_expr(s, scan->exclude[i].where, "TRUE");
		lethe_strbuf_adds(s, " AND ");
		rc = append_due(s, be, scan->table, &scan->exclude[i].due, scan->exclude[i].from,
				scan->rule);
		if (scan->held) {
			lethe_strbuf_adds(s, " AND NOT coalesce(");
			append_expr(s, scan->held, "FALSE");
			lethe_strbuf_adds(s, ", FALSE)");
		}
		lethe_strbuf_adds(s, ", FALSE)");
	}
	/* rows a rule already changed: recorded in lethe_done, which this
	 * backend does not write yet (apply is refused), so none are recorded */
	if (scan->after_key) {
		lethe_strbuf_adds(s, " AND ");
		append_column_ref(s, scan->table, scan->key);
		lethe_strbuf_adds(s, " > :lethe_after");
	}
	return rc;
}

static int append_inner(lethe_strbuf *s, lethe_maria *be, const lethe_scan *scan, int count)
{
	int inner_limit = !count && !scan->classes && scan->limit > 0;
	int rc;

	lethe_strbuf_adds(s, "(SELECT ");
	if (!count) {
		append_column_ref(s, scan->table, scan->key);
		lethe_strbuf_adds(s, " AS lethe_k, ");
		append_expr(s, scan->subject, "NULL");
		lethe_strbuf_adds(s, " AS lethe_s, ");
	}
	if (scan->due.kind == LETHE_DUE_BEFORE && scan->from)
		rc = append_day(s, be, scan->table, scan->from, scan->rule);
	else
		rc = (lethe_strbuf_adds(s, "CAST(NULL AS SIGNED)"), 0);
	lethe_strbuf_adds(s, " AS lethe_d, ");
	if (rc == 0)
		rc = append_hb(s, be, scan);
	lethe_strbuf_adds(s, " AS lethe_h");
	if (rc == 0)
		rc = append_rows(s, be, scan);
	if (inner_limit) {
		lethe_strbuf_adds(s, " ORDER BY ");
		append_column_ref(s, scan->table, scan->key);
		lethe_strbuf_addf(s, " LIMIT %lld", (long long)scan->limit);
	}
	if (!inner_limit) /* a LIMIT keeps MariaDB from merging the derived table */
		lethe_strbuf_adds(s, " LIMIT 18446744073709551615");
	lethe_strbuf_adds(s, ") AS lethe_q");
	return rc;
}

static int append_query(lethe_strbuf *s, lethe_maria *be, const lethe_scan *scan)
{
	int rc;

	lethe_strbuf_adds(s, "SELECT lethe_k, lethe_d, lethe_s, lethe_c FROM (SELECT lethe_k, lethe_d, "
			  "lethe_s, ");
	append_class(s, &scan->due);
	lethe_strbuf_adds(s, " AS lethe_c FROM ");
	rc = append_inner(s, be, scan, 0);
	lethe_strbuf_adds(s, ") AS lethe_r");
	if (scan->classes) {
		lethe_strbuf_adds(s, " WHERE lethe_c IN (");
		for (int c = 0, first = 1; c < LETHE_ROW_NCLASSES; c++)
			if (scan->classes & (1u << c)) {
				lethe_strbuf_addf(s, "%s%d", first ? "" : ", ", c);
				first = 0;
			}
		lethe_strbuf_adds(s, ")");
	}
	if (scan->classes || scan->limit > 0)
		lethe_strbuf_adds(s, " ORDER BY lethe_k");
	if (scan->classes && scan->limit > 0)
		lethe_strbuf_addf(s, " LIMIT %lld", (long long)scan->limit);
	return rc;
}

static int append_count(lethe_strbuf *s, lethe_maria *be, const lethe_scan *scan)
{
	const lethe_threshold *th = &scan->due;
	char due[64] = "TRUE AND ";

	if (th->kind == LETHE_DUE_BEFORE)
		snprintf(due, sizeof(due), "lethe_d < %d AND lethe_d >= %d AND ", (int)th->due_before,
			 FIRST_DAY);
	lethe_strbuf_addf(s, "SELECT count(*), count(lethe_d), coalesce(sum(lethe_d >= %d OR "
			  "lethe_d < %d), 0), coalesce(sum(lethe_d < %d AND lethe_d >= %d), 0), ",
			  (int)th->invalid_from, FIRST_DAY, (int)th->due_before, FIRST_DAY);
	if (scan->held && th->kind != LETHE_DUE_NEVER)
		lethe_strbuf_addf(s, "coalesce(sum(%slethe_h = %d), 0), ", due, LETHE_ROW_HELD);
	else
		lethe_strbuf_adds(s, "0, ");
	if (scan->ndeps && th->kind != LETHE_DUE_NEVER)
		lethe_strbuf_addf(s, "coalesce(sum(%slethe_h = %d), 0), ", due, LETHE_ROW_BLOCKED);
	else
		lethe_strbuf_adds(s, "0, ");
	lethe_strbuf_addf(s, "min(CASE WHEN lethe_d >= %d THEN lethe_d END), max(CASE WHEN "
			  "lethe_d < %d THEN lethe_d END) FROM ", (int)th->due_before,
			  (int)th->invalid_from);
	return append_inner(s, be, scan, 1);
}

/* The scan's SQL in *out and its parameters, one per '?', in *params
 * (malloc'd array of values borrowed from scan). */
static int scan_sql(char **out, lethe_value **params, size_t *nparams, const lethe_scan *scan,
		    lethe_maria *be, int count)
{
	lethe_strbuf s = LETHE_STRBUF_INIT;
	lethe_value bound[3] = { { .type = LETHE_VALUE_NULL }, { .type = LETHE_VALUE_NULL },
				 { .type = LETHE_VALUE_NULL } };
	int rc;

	if ((rc = guard_scan(scan)) < 0)
		return rc;
	rc = count ? append_count(&s, be, scan) : append_query(&s, be, scan);
	if (rc < 0) {
		lethe_strbuf_release(&s);
		return rc;
	}
	if (scan->bind_subject)
		bound[0] = *scan->bind_subject;
	if (scan->after_key)
		bound[1] = *scan->after_key;
	if (scan->done_rule)
		bound[2] = (lethe_value){ .type = LETHE_VALUE_TEXT, .s = scan->done_rule,
					  .len = strlen(scan->done_rule) };
	rc = lethe_maria_positional(out, params, nparams, lethe_strbuf_str(&s), param_names, bound, 3);
	lethe_strbuf_release(&s);
	return rc;
}

static int scan_failed(int rc, const lethe_scan *scan)
{
	char why[1024];

	snprintf(why, sizeof(why), "%s", lethe_error_last());
	if (scan->rule)
		return lethe_error_set(rc, "rule '%s': table '%s': %s", scan->rule, scan->table, why);
	return lethe_error_set(rc, "table '%s': %s", scan->table, why);
}

static long long num(const lethe_maria_result *r, size_t col)
{
	const char *c = r->cells[col];

	return c ? strtoll(c, NULL, 10) : 0;
}

int lethe_maria_count(lethe_scan_counts *out, lethe_backend *base, const lethe_scan *scan)
{
	lethe_maria *be = (lethe_maria *)base;
	lethe_maria_result *r = NULL;
	lethe_value *params = NULL;
	size_t np = 0;
	char *sql = NULL;
	int rc;

	if ((rc = scan_sql(&sql, &params, &np, scan, be, 1)) < 0)
		return rc;
	rc = lethe_maria_exec(&r, be, "count rows", sql, np, params);
	free(sql);
	free(params);
	if (rc < 0)
		return scan_failed(rc, scan);
	if (r->nrows != 1 || r->ncols != 8) {
		lethe_maria_result_free(r);
		return lethe_error_set(LETHE_ESOFTWARE, "count rows: unexpected result");
	}
	lethe_backend_counts_derive(out, &scan->due, num(r, 0), num(r, 1), num(r, 2), num(r, 3),
				    num(r, 4), num(r, 5), (lethe_day)num(r, 6), (lethe_day)num(r, 7));
	lethe_maria_result_free(r);
	return 0;
}

/* The whole result is read before the first callback: a callback may use
 * this backend for queries of its own. Runs page their scans (limit). */
int lethe_maria_scan(lethe_backend *base, const lethe_scan *scan)
{
	lethe_maria *be = (lethe_maria *)base;
	lethe_maria_result *r = NULL;
	lethe_value *params = NULL, key, subject;
	size_t np = 0;
	char *sql = NULL;
	int rc, cb = 0;

	if ((rc = scan_sql(&sql, &params, &np, scan, be, 0)) < 0)
		return rc;
	rc = lethe_maria_exec(&r, be, "scan rows", sql, np, params);
	free(sql);
	free(params);
	if (rc < 0)
		return scan_failed(rc, scan);
	for (size_t i = 0; i < r->nrows && !cb; i++) {
		const char *c = r->cells[i * r->ncols + 3], *d = r->cells[i * r->ncols + 1];
		int cls = c ? atoi(c) : LETHE_ROW_INVALID;

		lethe_maria_value(&key, r, i, 0);
		lethe_maria_value(&subject, r, i, 2);
		if (cls < 0 || cls >= LETHE_ROW_NCLASSES)
			cls = LETHE_ROW_INVALID;
		cb = scan->row(scan->row_ctx, &key, (lethe_row_class)cls,
			       (lethe_day)(d ? atoll(d) : 0), &subject);
	}
	lethe_maria_result_free(r);
	return cb;
}
