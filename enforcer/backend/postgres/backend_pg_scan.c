/*
 * backend_pg_scan.c - the SQL of a lethe_scan on PostgreSQL, and running it:
 * rows one at a time (a cursor-less single result per page) or counts per
 * class computed by the server.
 *
 * The shape is that of the SQLite backend (backend_sqlite_scan_sql.c, whose
 * header explains it): an inner level giving each row's key, subject, day
 * and held/blocked/due verdict (OFFSET 0 keeps the planner from pulling it
 * up and evaluating the clock more than once), an outer level classifying
 * it by comparisons with the thresholds. What differs:
 *  - <day> is typed: a date, timestamp (read as UTC) or timestamptz clock
 *    becomes its UTC day (floor of its epoch / 86400); an integer clock is unix
 *    seconds; a day outside 0001..9999 (or infinity) is invalid. A text or
 *    other clock is refused with what to write instead (a cast).
 *  - Booleans are SQL booleans: an absent where is TRUE, coalesce(x, FALSE).
 *  - Lethe's named parameters become $1..$n, numbered in the order used.
 *  - Rows a rule already changed are in lethe.lethe_done with the key as
 *    text.
 *
 * Invariants:
 *  - Every expression is guarded (lethe_expr_escape_composed) before it is
 *    pasted.
 *  - Values (after key, rule name, subject, keys) are parameters only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "backend_pg.h"
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
	lethe_pg_ident(s, table);
	lethe_strbuf_addch(s, '.');
	lethe_pg_ident(s, column);
}

/* The result type of clock expression `from` over `table`, cached. */
static int clock_type(unsigned *oid, lethe_pg *be, const char *table, const char *from)
{
	static const char *const names[] = { "lethe_subject", "lethe_after", "lethe_rule" };
	lethe_strbuf s = LETHE_STRBUF_INIT;
	PGresult *res;
	char *sql = NULL, why[512];
	int rc;

	for (size_t i = 0; i < be->nclocks; i++)
		if (!strcmp(be->clocks[i].expr, from) && !strcmp(be->clocks[i].table, table)) {
			*oid = be->clocks[i].oid;
			return 0;
		}
	lethe_strbuf_adds(&s, "SELECT (\n");
	lethe_strbuf_adds(&s, from);
	lethe_strbuf_adds(&s, "\n) FROM ");
	lethe_pg_ident(&s, table);
	rc = lethe_pg_number_params(&sql, lethe_strbuf_str(&s), names, 3);
	lethe_strbuf_release(&s);
	if (rc < 0)
		return rc;
	res = PQprepare(be->conn, "", sql, 0, NULL);
	free(sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		rc = lethe_error_set(lethe_pg_code(res), "clock of '%s': %s", table,
				     lethe_pg_why(why, sizeof(why), be, res));
		PQclear(res);
		return rc;
	}
	PQclear(res);
	res = PQdescribePrepared(be->conn, "");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		rc = lethe_error_set(lethe_pg_code(res), "clock of '%s': %s", table,
				     lethe_pg_why(why, sizeof(why), be, res));
		PQclear(res);
		return rc;
	}
	*oid = PQftype(res, 0);
	PQclear(res);
	if (LETHE_VEC_RESERVE(be->clocks, be->nclocks + 1, be->capclocks) < 0)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	be->clocks[be->nclocks] = (lethe_pg_clock_type){ strdup(from), strdup(table), *oid };
	if (!be->clocks[be->nclocks].expr || !be->clocks[be->nclocks].table) {
		free(be->clocks[be->nclocks].expr);
		free(be->clocks[be->nclocks].table);
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	be->nclocks++;
	return 0;
}

/* <day> of clock `from` over `table`: its UTC day as days since 1970-01-01
 * (numeric), NULL for NULL, +-Infinity for an infinite date. One
 * evaluation of the expression (it may be a correlated subquery): a day
 * before 0001-01-01 (FIRST_DAY) or from invalid_from on is classed invalid
 * where the day is compared, never here. */
static int append_day(lethe_strbuf *s, lethe_pg *be, const char *table, const char *from,
		      const char *rule)
{
	unsigned oid;
	int rc;

	if (!from) {
		lethe_strbuf_adds(s, "NULL::numeric");
		return 0;
	}
	if ((rc = clock_type(&oid, be, table, from)) < 0)
		return rc;
	switch (oid) {
	case 1082: /* date */
	case 1114: /* timestamp: read as UTC */
	case 1184: /* timestamptz: its UTC instant */
		lethe_strbuf_adds(s, "floor(extract(epoch FROM ");
		append_expr(s, from, "NULL");
		lethe_strbuf_adds(s, ") / 86400)");
		return 0;
	case 20: case 21: case 23: /* unix seconds */
		lethe_strbuf_adds(s, "floor(");
		append_expr(s, from, "NULL");
		lethe_strbuf_adds(s, " / 86400.0)");
		return 0;
	case 25: case 1043: case 1042: case 705: /* text, varchar, char, unknown */
		return lethe_error_set(LETHE_EDATA, "%s%s%sthe clock of table '%s' is text: on "
				       "PostgreSQL a clock is a date, timestamp or timestamptz; write "
				       "a cast, e.g. from: (%s)::date (docs/policy-language.md)",
				       rule ? "rule '" : "", rule ? rule : "", rule ? "': " : "", table, from);
	default:
		return lethe_error_set(LETHE_EDATA, "%s%s%sthe clock of table '%s' is of a type that "
				       "is no day (type oid %u): cast it to date or timestamptz",
				       rule ? "rule '" : "", rule ? rule : "", rule ? "': " : "", table, oid);
	}
}

int lethe_pg_check_clock(lethe_backend *base, const char *table, const char *expr, char **errmsg)
{
	lethe_strbuf s = LETHE_STRBUF_INIT;
	int rc = append_day(&s, (lethe_pg *)base, table, expr, NULL);

	lethe_strbuf_release(&s);
	if (rc == LETHE_EDATA && !(*errmsg = strdup(lethe_error_last())))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	return rc;
}

/* <due>: true when the clock is due under th. */
static int append_due(lethe_strbuf *s, lethe_pg *be, const char *table, const lethe_threshold *th,
		      const char *from, const char *rule)
{
	int rc = 0;

	switch (th->kind) {
	case LETHE_DUE_BEFORE:
		/* a range: the day is evaluated once, NULL and infinities fall out */
		lethe_strbuf_addf(s, "numrange(%d, %d) @> ", FIRST_DAY, (int)th->due_before);
		rc = append_day(s, be, table, from, rule);
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

static int append_due_any(lethe_strbuf *s, lethe_pg *be, const char *table,
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

static int append_deps(lethe_strbuf *s, lethe_pg *be, const char *parent,
		       const lethe_dependents *deps, size_t ndeps, int depth, const char *rule);

static int append_dep(lethe_strbuf *s, lethe_pg *be, const char *parent, const lethe_dependents *d,
		      int depth, const char *rule)
{
	const lethe_foreign_key *fk = d->fk;
	const char *child;
	int rc = 0, self;

	if (!fk || fk->ncolumns == 0)
		return lethe_error_set(LETHE_ESOFTWARE, "scan: dependents without a foreign key");
	child = fk->child_table;
	self = strcmp(child, parent) == 0;
	lethe_strbuf_adds(s, self ? "(SELECT EXISTS (SELECT 1 FROM " : "EXISTS (SELECT 1 FROM ");
	lethe_pg_ident(s, child);
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

static int append_deps(lethe_strbuf *s, lethe_pg *be, const char *parent,
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

static int append_hb(lethe_strbuf *s, lethe_pg *be, const lethe_scan *scan)
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

static void append_done_form(lethe_strbuf *s, const char *table, const lethe_done_column *d)
{
	lethe_strbuf c = LETHE_STRBUF_INIT;
	const char *col;

	lethe_strbuf_adds(&c, "CAST(");
	append_column_ref(&c, table, d->column);
	lethe_strbuf_adds(&c, " AS text)");
	col = lethe_strbuf_str(&c);
	lethe_strbuf_addf(s, " AND (%s IS NULL", col);
	switch (d->form) {
	case LETHE_DONE_TOKEN:
		lethe_strbuf_addf(s, " OR (length(%s) = 36 AND substr(%s, 1, 4) = 'tok_')", col, col);
		break;
	case LETHE_DONE_NULL:
		break;
	case LETHE_DONE_TEXT:
		lethe_strbuf_addf(s, " OR %s = ", col);
		lethe_strbuf_addch(s, '\'');
		for (const char *p = d->text ? d->text : ""; *p; p++) {
			if (*p == '\'')
				lethe_strbuf_addch(s, '\'');
			lethe_strbuf_addch(s, *p);
		}
		lethe_strbuf_addch(s, '\'');
		break;
	case LETHE_DONE_MAXLEN:
		lethe_strbuf_addf(s, " OR length(%s) <= %d", col, d->n);
		break;
	case LETHE_DONE_YEAR:
		lethe_strbuf_addf(s, " OR %s ~ '^[0-9]{4}$'", col);
		break;
	case LETHE_DONE_MONTH:
		lethe_strbuf_addf(s, " OR %s ~ '^[0-9]{4}-[0-9]{2}$'", col);
		break;
	}
	lethe_strbuf_adds(s, ")");
	lethe_strbuf_release(&c);
}

static int append_rows(lethe_strbuf *s, lethe_pg *be, const lethe_scan *scan)
{
	int rc = 0;

	lethe_strbuf_adds(s, " FROM ");
	lethe_pg_ident(s, scan->table);
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
	if (scan->done_rule && be->own_schema) {
		lethe_strbuf_adds(s, " AND NOT (EXISTS (SELECT 1 FROM lethe.lethe_done AS d WHERE "
				  "d.rule = :lethe_rule AND d.key = CAST(");
		append_column_ref(s, scan->table, scan->key);
		lethe_strbuf_adds(s, " AS text))");
		for (size_t i = 0; i < scan->ndone_columns; i++)
			append_done_form(s, scan->table, &scan->done_columns[i]);
		lethe_strbuf_adds(s, ")");
	}
	if (be->keys_where) {
		lethe_strbuf_adds(s, " AND ");
		lethe_strbuf_adds(s, be->keys_where);
	}
	if (scan->after_key) {
		lethe_strbuf_adds(s, " AND ");
		append_column_ref(s, scan->table, scan->key);
		lethe_strbuf_adds(s, " > :lethe_after");
	}
	return rc;
}

static int append_inner(lethe_strbuf *s, lethe_pg *be, const lethe_scan *scan, int count)
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
		rc = (lethe_strbuf_adds(s, "NULL::numeric"), 0);
	lethe_strbuf_adds(s, " AS lethe_d, ");
	if (rc == 0)
		rc = append_hb(s, be, scan);
	lethe_strbuf_adds(s, " AS lethe_h");
	if (rc == 0)
		rc = append_rows(s, be, scan);
	/* in key order also under a class filter, so that the outer level's
	 * ORDER BY and LIMIT read the key's index and stop after `limit` rows
	 * instead of classifying every row after after_key (one batch must not
	 * cost the whole table) */
	if (inner_limit || (scan->classes && scan->limit > 0)) {
		lethe_strbuf_adds(s, " ORDER BY ");
		append_column_ref(s, scan->table, scan->key);
	}
	if (inner_limit)
		lethe_strbuf_addf(s, " LIMIT %lld", (long long)scan->limit);
	lethe_strbuf_adds(s, " OFFSET 0) AS lethe_q");
	return rc;
}

static int append_query(lethe_strbuf *s, lethe_pg *be, const lethe_scan *scan)
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

static int append_count(lethe_strbuf *s, lethe_pg *be, const lethe_scan *scan)
{
	const lethe_threshold *th = &scan->due;
	char due[64] = "TRUE AND ";

	if (th->kind == LETHE_DUE_BEFORE)
		snprintf(due, sizeof(due), "lethe_d < %d AND lethe_d >= %d AND ", (int)th->due_before,
			 FIRST_DAY);
	lethe_strbuf_addf(s, "SELECT count(*), count(lethe_d), count(*) FILTER (WHERE lethe_d >= %d OR "
			  "lethe_d < %d), count(*) FILTER (WHERE lethe_d < %d AND lethe_d >= %d), ",
			  (int)th->invalid_from, FIRST_DAY, (int)th->due_before, FIRST_DAY);
	if (scan->held && th->kind != LETHE_DUE_NEVER)
		lethe_strbuf_addf(s, "count(*) FILTER (WHERE %slethe_h = %d), ", due, LETHE_ROW_HELD);
	else
		lethe_strbuf_adds(s, "0, ");
	if (scan->ndeps && th->kind != LETHE_DUE_NEVER)
		lethe_strbuf_addf(s, "count(*) FILTER (WHERE %slethe_h = %d), ", due, LETHE_ROW_BLOCKED);
	else
		lethe_strbuf_adds(s, "0, ");
	lethe_strbuf_addf(s, "min(lethe_d) FILTER (WHERE lethe_d >= %d), max(lethe_d) FILTER "
			  "(WHERE lethe_d < %d) FROM ", (int)th->due_before, (int)th->invalid_from);
	return append_inner(s, be, scan, 1);
}

/* Whether `sql` holds the named parameter (case-insensitively, as numbered). */
static int used(const char *sql, const char *name)
{
	return strcasestr(sql, name) != NULL;
}

int lethe_pg_scan_sql(char **out, lethe_pg *be, const lethe_scan *scan, int count,
		      lethe_value *params, int *nparams)
{
	lethe_strbuf s = LETHE_STRBUF_INIT;
	const char *names[4], *sql;
	size_t n = 0;
	int rc;

	if ((rc = guard_scan(scan)) < 0)
		return rc;
	rc = count ? append_count(&s, be, scan) : append_query(&s, be, scan);
	if (rc < 0) {
		lethe_strbuf_release(&s);
		return rc;
	}
	/* only the parameters the text uses, numbered in this order */
	sql = lethe_strbuf_str(&s);
	if (scan->bind_subject && used(sql, ":lethe_subject")) {
		names[n] = "lethe_subject";
		params[n++] = *scan->bind_subject;
	}
	if (scan->after_key && used(sql, ":lethe_after")) {
		names[n] = "lethe_after";
		params[n++] = *scan->after_key;
	}
	if (scan->done_rule && used(sql, ":lethe_rule")) {
		names[n] = "lethe_rule";
		params[n++] = (lethe_value){ .type = LETHE_VALUE_TEXT, .s = scan->done_rule,
					     .len = strlen(scan->done_rule) };
	}
	if (be->keys_param && used(sql, ":lethe_keys")) {
		names[n] = "lethe_keys";
		params[n++] = (lethe_value){ .type = LETHE_VALUE_TEXT, .s = be->keys_param,
					     .len = strlen(be->keys_param) };
	}
	*nparams = (int)n;
	rc = lethe_pg_number_params(out, lethe_strbuf_str(&s), names, n);
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

int lethe_pg_count(lethe_scan_counts *out, lethe_backend *base, const lethe_scan *scan)
{
	lethe_pg *be = (lethe_pg *)base;
	lethe_value params[4];
	PGresult *res = NULL;
	char *sql = NULL;
	int rc, np = 0;

	if ((rc = lethe_pg_scan_sql(&sql, be, scan, 1, params, &np)) < 0)
		return rc;
	rc = lethe_pg_exec_values(&res, be, "count rows", sql, np, params);
	free(sql);
	if (rc < 0)
		return scan_failed(rc, scan);
	lethe_backend_counts_derive(out, &scan->due, strtoll(PQgetvalue(res, 0, 0), NULL, 10),
				    strtoll(PQgetvalue(res, 0, 1), NULL, 10),
				    strtoll(PQgetvalue(res, 0, 2), NULL, 10),
				    strtoll(PQgetvalue(res, 0, 3), NULL, 10),
				    strtoll(PQgetvalue(res, 0, 4), NULL, 10),
				    strtoll(PQgetvalue(res, 0, 5), NULL, 10),
				    (lethe_day)atoi(PQgetvalue(res, 0, 6)), (lethe_day)atoi(PQgetvalue(res, 0, 7)));
	PQclear(res);
	return 0;
}

/* The whole result is read before the first callback: a callback may use
 * this backend for queries of its own (one connection runs one statement at
 * a time). Runs page their scans (limit), so a result stays one batch. */
int lethe_pg_scan(lethe_backend *base, const lethe_scan *scan)
{
	lethe_pg *be = (lethe_pg *)base;
	lethe_value params[4], key, subject;
	unsigned char *scratch = NULL;
	PGresult *res = NULL;
	char *sql = NULL;
	int rc, np = 0, cb = 0;

	if ((rc = lethe_pg_scan_sql(&sql, be, scan, 0, params, &np)) < 0)
		return rc;
	rc = lethe_pg_exec_values(&res, be, "scan rows", sql, np, params);
	free(sql);
	if (rc < 0)
		return scan_failed(rc, scan);
	for (int i = 0; i < PQntuples(res) && !cb; i++) {
		int cls = atoi(PQgetvalue(res, i, 3));

		lethe_pg_value(&key, res, i, 0, &scratch);
		lethe_pg_value(&subject, res, i, 2, NULL);
		if (cls < 0 || cls >= LETHE_ROW_NCLASSES)
			cls = LETHE_ROW_INVALID;
		cb = scan->row(scan->row_ctx, &key, (lethe_row_class)cls,
			       (lethe_day)atoi(PQgetvalue(res, i, 1)), &subject);
	}
	PQclear(res);
	free(scratch);
	return cb;
}
