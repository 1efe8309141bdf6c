/*
 * scan_sql.c - the SQL of a lethe_scan on a server engine, for the
 * PostgreSQL and MariaDB backends (scan_sql.h explains the shape). What the
 * engines spell differently comes from the dialect; the rest is one text.
 *
 * Invariants:
 *  - Every user expression passes guard() before any SQL is built.
 *  - Booleans are SQL booleans: an absent where is TRUE, coalesce(x, FALSE).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "backend/scan_sql.h"
#include "expr_lex.h"
#include "lethe/error.h"

static int guard(const char *rule, const char *what, const char *expr)
{
	const char *why = expr ? lethe_expr_escape_composed(expr) : NULL;

	if (!why)
		return 0;
	return lethe_error_set(LETHE_EDATA, "%s%s%s%s: %s", rule ? "rule '" : "", rule ? rule : "",
			       rule ? "', " : "", what, why);
}

void lethe_scan_sql_expr(lethe_strbuf *s, const char *expr, const char *dflt)
{
	if (expr) {
		lethe_strbuf_adds(s, "(\n");
		lethe_strbuf_adds(s, expr);
		lethe_strbuf_adds(s, "\n)");
	} else {
		lethe_strbuf_adds(s, dflt);
	}
}

static void append_column_ref(lethe_strbuf *s, const lethe_scan_dialect *dl, const char *table,
			      const char *column)
{
	dl->ident(s, table);
	lethe_strbuf_addch(s, '.');
	dl->ident(s, column);
}


static int append_due(lethe_strbuf *s, const lethe_scan_dialect *dl, const char *table,
		      const lethe_threshold *th, const char *from, const char *rule)
{
	int rc = 0;

	switch (th->kind) {
	case LETHE_DUE_BEFORE:
		/* a range: the day is evaluated once, NULL and infinities fall out */
		if (dl->range_contains) {
			lethe_strbuf_addf(s, "numrange(%d, %d) @> ", LETHE_SCAN_FIRST_DAY,
					  (int)th->due_before);
			rc = dl->day(dl->ctx, s, table, from, rule);
		} else {
			lethe_strbuf_adds(s, "(");
			rc = dl->day(dl->ctx, s, table, from, rule);
			lethe_strbuf_addf(s, " BETWEEN %d AND %d)", LETHE_SCAN_FIRST_DAY,
					  (int)th->due_before - 1);
		}
		break;
	case LETHE_DUE_MATCH:
		lethe_scan_sql_expr(s, from, "NULL");
		lethe_strbuf_adds(s, " IS TRUE");
		break;
	default:
		lethe_strbuf_adds(s, "FALSE");
	}
	return rc;
}

static int append_due_any(lethe_strbuf *s, const lethe_scan_dialect *dl, const char *table,
			  const lethe_dependents *d, const char *rule)
{
	int rc = 0;

	if (d->nrules == 0) {
		lethe_strbuf_adds(s, "FALSE");
		return 0;
	}
	for (size_t i = 0; i < d->nrules && rc == 0; i++) {
		lethe_strbuf_adds(s, i ? " OR coalesce(" : "coalesce(");
		lethe_scan_sql_expr(s, d->rules[i].where, "TRUE");
		lethe_strbuf_adds(s, " AND ");
		rc = append_due(s, dl, table, &d->rules[i].due, d->rules[i].from, rule);
		lethe_strbuf_adds(s, ", FALSE)");
	}
	return rc;
}

static int append_deps(lethe_strbuf *s, const lethe_scan_dialect *dl, const char *parent,
		       const lethe_dependents *deps, size_t ndeps, int depth, const char *rule);

/* What makes a child row (of table child) stand in its parent's way. */
static int append_dep_cond(lethe_strbuf *s, const lethe_scan_dialect *dl, const char *child,
			   const lethe_dependents *d, int depth, const char *rule)
{
	int rc = 0;

	if (d->cycle) {
		lethe_strbuf_adds(s, "TRUE");
		return 0;
	}
	lethe_strbuf_adds(s, "(NOT (");
	rc = append_due_any(s, dl, child, d, rule);
	lethe_strbuf_adds(s, ") OR ");
	if (d->nchildren && rc == 0)
		rc = append_deps(s, dl, child, d->children, d->nchildren, depth + 1, rule);
	else
		lethe_strbuf_adds(s, "FALSE");
	lethe_strbuf_adds(s, ")");
	return rc;
}

/* A table that references itself, as "coalesce((T.k, ...) IN (SELECT
 * T.fk, ... FROM T WHERE T.fk IS NOT NULL ... AND <cond>), FALSE)": the
 * left side is read in the outer query, so inside the subquery the table's
 * name (and every unqualified column) is the child row, at any depth,
 * without a derived table that reads an outer column (MariaDB has none). */
static int append_self_in(lethe_strbuf *s, const lethe_scan_dialect *dl, const char *table,
			  const lethe_dependents *d, int depth, const char *rule)
{
	const lethe_foreign_key *fk = d->fk;
	int rc;

	lethe_strbuf_adds(s, "coalesce((");
	for (size_t j = 0; j < fk->ncolumns; j++) {
		if (j)
			lethe_strbuf_adds(s, ", ");
		append_column_ref(s, dl, table, fk->parent_columns[j]);
	}
	lethe_strbuf_adds(s, ") IN (SELECT ");
	for (size_t j = 0; j < fk->ncolumns; j++) {
		if (j)
			lethe_strbuf_adds(s, ", ");
		append_column_ref(s, dl, table, fk->child_columns[j]);
	}
	lethe_strbuf_adds(s, " FROM ");
	dl->ident(s, table);
	lethe_strbuf_adds(s, " WHERE ");
	for (size_t j = 0; j < fk->ncolumns; j++) {
		append_column_ref(s, dl, table, fk->child_columns[j]);
		lethe_strbuf_adds(s, " IS NOT NULL AND ");
	}
	rc = append_dep_cond(s, dl, table, d, depth, rule);
	lethe_strbuf_adds(s, "), FALSE)");
	return rc;
}

static int append_dep(lethe_strbuf *s, const lethe_scan_dialect *dl, const char *parent,
		      const lethe_dependents *d, int depth, const char *rule)
{
	const lethe_foreign_key *fk = d->fk;
	const char *child;
	int rc = 0, self;

	if (!fk || fk->ncolumns == 0)
		return lethe_error_set(LETHE_ESOFTWARE, "scan: dependents without a foreign key");
	child = fk->child_table;
	self = strcmp(child, parent) == 0;
	if (self && dl->self_ref_in)
		return append_self_in(s, dl, child, d, depth, rule);
	lethe_strbuf_adds(s, self ? "(SELECT EXISTS (SELECT 1 FROM " : "EXISTS (SELECT 1 FROM ");
	dl->ident(s, child);
	lethe_strbuf_adds(s, " WHERE ");
	for (size_t j = 0; j < fk->ncolumns; j++) {
		append_column_ref(s, dl, child, fk->child_columns[j]);
		lethe_strbuf_adds(s, " = ");
		if (self)
			lethe_strbuf_addf(s, "lethe_k%d.k%d", depth, (int)j);
		else
			append_column_ref(s, dl, parent, fk->parent_columns[j]);
		lethe_strbuf_adds(s, " AND ");
	}
	rc = append_dep_cond(s, dl, child, d, depth, rule);
	lethe_strbuf_adds(s, ")");
	if (self) {
		lethe_strbuf_adds(s, " FROM (SELECT ");
		for (size_t j = 0; j < fk->ncolumns; j++) {
			append_column_ref(s, dl, parent, fk->parent_columns[j]);
			lethe_strbuf_addf(s, " AS k%d%s", (int)j, j + 1 < fk->ncolumns ? ", " : "");
		}
		lethe_strbuf_addf(s, ") AS lethe_k%d)", depth);
	}
	return rc;
}

static int append_deps(lethe_strbuf *s, const lethe_scan_dialect *dl, const char *parent,
		       const lethe_dependents *deps, size_t ndeps, int depth, const char *rule)
{
	int rc = 0;

	lethe_strbuf_adds(s, "(");
	for (size_t i = 0; i < ndeps && rc == 0; i++) {
		if (i)
			lethe_strbuf_adds(s, " OR ");
		rc = append_dep(s, dl, parent, &deps[i], depth, rule);
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

static int append_hb(lethe_strbuf *s, const lethe_scan_dialect *dl, const lethe_scan *scan)
{
	int rc = 0;

	if (!scan->held && !scan->ndeps) {
		lethe_strbuf_addf(s, "%d", LETHE_ROW_DUE);
		return 0;
	}
	lethe_strbuf_adds(s, "CASE");
	if (scan->held) {
		lethe_strbuf_adds(s, " WHEN ");
		lethe_scan_sql_expr(s, scan->held, "FALSE");
		lethe_strbuf_addf(s, " THEN %d", LETHE_ROW_HELD);
	}
	if (scan->ndeps) {
		lethe_strbuf_adds(s, " WHEN ");
		rc = append_due(s, dl, scan->table, &scan->due, scan->from, scan->rule);
		lethe_strbuf_adds(s, " AND ");
		if (rc == 0)
			rc = append_deps(s, dl, scan->table, scan->deps, scan->ndeps, 0, scan->rule);
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
				  (int)th->invalid_from, LETHE_SCAN_FIRST_DAY, LETHE_ROW_INVALID, (int)th->due_before,
				  LETHE_ROW_NOT_DUE);
		break;
	case LETHE_DUE_MATCH:
		lethe_strbuf_adds(s, "lethe_h");
		break;
	default:
		lethe_strbuf_addf(s, "%d", LETHE_ROW_NOT_DUE);
	}
}

/* A column already in the form the rule writes (the row was changed by an
 * earlier run whose lethe_done record was lost with a restore): NULL, a
 * token, the fixed text, short enough, a year or a month. */
static void append_done_form(lethe_strbuf *s, const lethe_scan_dialect *dl, const char *table,
			     const lethe_done_column *d)
{
	lethe_strbuf c = LETHE_STRBUF_INIT;
	const char *col;

	lethe_strbuf_adds(&c, "CAST(");
	append_column_ref(&c, dl, table, d->column);
	lethe_strbuf_addf(&c, " AS %s)", dl->text_type);
	col = lethe_strbuf_str(&c);
	lethe_strbuf_addf(s, " AND (%s IS NULL", col);
	switch (d->form) {
	case LETHE_DONE_TOKEN:
		lethe_strbuf_addf(s, " OR (%s(%s) = 36 AND substr(%s, 1, 4) = 'tok_')", dl->length, col,
				  col);
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
		lethe_strbuf_addf(s, " OR %s(%s) <= %d", dl->length, col, d->n);
		break;
	case LETHE_DONE_YEAR:
		lethe_strbuf_addf(s, " OR %s %s '^[0-9]{4}$'", col, dl->regexp);
		break;
	case LETHE_DONE_MONTH:
		lethe_strbuf_addf(s, " OR %s %s '^[0-9]{4}-[0-9]{2}$'", col, dl->regexp);
		break;
	}
	lethe_strbuf_adds(s, ")");
	lethe_strbuf_release(&c);
}

static int append_rows(lethe_strbuf *s, const lethe_scan_dialect *dl, const lethe_scan *scan)
{
	int rc = 0;

	lethe_strbuf_adds(s, " FROM ");
	dl->ident(s, scan->table);
	lethe_strbuf_adds(s, " WHERE coalesce(");
	lethe_scan_sql_expr(s, scan->where, "TRUE");
	lethe_strbuf_adds(s, ", FALSE)");
	for (size_t i = 0; i < scan->nexclude && rc == 0; i++) {
		lethe_strbuf_adds(s, " AND NOT coalesce(");
		lethe_scan_sql_expr(s, scan->exclude[i].where, "TRUE");
		lethe_strbuf_adds(s, " AND ");
		rc = append_due(s, dl, scan->table, &scan->exclude[i].due, scan->exclude[i].from,
				scan->rule);
		if (scan->held) {
			lethe_strbuf_adds(s, " AND NOT coalesce(");
			lethe_scan_sql_expr(s, scan->held, "FALSE");
			lethe_strbuf_adds(s, ", FALSE)");
		}
		lethe_strbuf_adds(s, ", FALSE)");
	}
	if (scan->done_rule && dl->done_table) {
		lethe_strbuf_addf(s, dl->done_probe ? " AND NOT (coalesce((SELECT TRUE FROM %s AS d "
				  "WHERE d.rule = :lethe_rule AND %s = CAST(" : " AND NOT (EXISTS (SELECT 1 "
				  "FROM %s AS d WHERE d.rule = :lethe_rule AND %s = CAST(", dl->done_table,
				  dl->done_key);
		append_column_ref(s, dl, scan->table, scan->key);
		lethe_strbuf_addf(s, dl->done_probe ? " AS %s) LIMIT 1), FALSE)" : " AS %s))",
				  dl->text_type);
		for (size_t i = 0; i < scan->ndone_columns; i++)
			append_done_form(s, dl, scan->table, &scan->done_columns[i]);
		lethe_strbuf_adds(s, ")");
	}
	if (dl->keys_where) {
		lethe_strbuf_adds(s, " AND ");
		lethe_strbuf_adds(s, dl->keys_where);
	}
	if (scan->after_key) {
		lethe_strbuf_adds(s, " AND ");
		append_column_ref(s, dl, scan->table, scan->key);
		lethe_strbuf_adds(s, " > :lethe_after");
	}
	return rc;
}

static int append_inner(lethe_strbuf *s, const lethe_scan_dialect *dl, const lethe_scan *scan,
			int count)
{
	int inner_limit = !count && !scan->classes && scan->limit > 0;
	int rc;

	lethe_strbuf_adds(s, "(SELECT ");
	if (!count) {
		append_column_ref(s, dl, scan->table, scan->key);
		lethe_strbuf_adds(s, " AS lethe_k, ");
		lethe_scan_sql_expr(s, scan->subject, "NULL");
		lethe_strbuf_adds(s, " AS lethe_s, ");
	}
	if (scan->due.kind == LETHE_DUE_BEFORE && scan->from)
		rc = dl->day(dl->ctx, s, scan->table, scan->from, scan->rule);
	else
		rc = (lethe_strbuf_adds(s, dl->null_day), 0);
	lethe_strbuf_adds(s, " AS lethe_d, ");
	if (rc == 0)
		rc = append_hb(s, dl, scan);
	lethe_strbuf_adds(s, " AS lethe_h");
	if (rc == 0)
		rc = append_rows(s, dl, scan);
	/* in key order also under a class filter, so that the outer level's
	 * ORDER BY and LIMIT read the key's index and stop after `limit` rows
	 * instead of classifying every row after after_key (one batch must not
	 * cost the whole table) */
	if (inner_limit || (scan->classes && scan->limit > 0)) {
		lethe_strbuf_adds(s, " ORDER BY ");
		append_column_ref(s, dl, scan->table, scan->key);
	}
	/* OFFSET 0 keeps PostgreSQL from pulling the level up; a LIMIT keeps
	 * MariaDB from merging it. MariaDB materialises such a level whole,
	 * though: a page under a class filter is merged there instead (the
	 * clock may then be evaluated more than once per row, the same value
	 * each time), so the outer ORDER BY and LIMIT stop after the page. */
	if (!inner_limit && dl->merge_paged && scan->classes && scan->limit > 0) {
		lethe_strbuf_adds(s, ") AS lethe_q");
		return rc;
	}
	if (inner_limit)
		lethe_strbuf_addf(s, " LIMIT %lld", (long long)scan->limit);
	else
		lethe_strbuf_adds(s, dl->unlimited);
	lethe_strbuf_adds(s, " OFFSET 0) AS lethe_q");
	return rc;
}

static int append_query(lethe_strbuf *s, const lethe_scan_dialect *dl, const lethe_scan *scan)
{
	int rc;

	lethe_strbuf_adds(s, "SELECT lethe_k, lethe_d, lethe_s, lethe_c FROM (SELECT lethe_k, lethe_d, "
			  "lethe_s, ");
	append_class(s, &scan->due);
	lethe_strbuf_adds(s, " AS lethe_c FROM ");
	rc = append_inner(s, dl, scan, 0);
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

static int append_count(lethe_strbuf *s, const lethe_scan_dialect *dl, const lethe_scan *scan)
{
	const lethe_threshold *th = &scan->due;
	char due[64] = "TRUE AND ";

	if (th->kind == LETHE_DUE_BEFORE)
		snprintf(due, sizeof(due), "lethe_d < %d AND lethe_d >= %d AND ", (int)th->due_before,
			 LETHE_SCAN_FIRST_DAY);
	/* count(CASE ...) rather than FILTER, which MariaDB lacks */
	lethe_strbuf_addf(s, "SELECT count(*), count(lethe_d), count(CASE WHEN lethe_d >= %d OR "
			  "lethe_d < %d THEN 1 END), count(CASE WHEN lethe_d < %d AND lethe_d >= %d "
			  "THEN 1 END), ", (int)th->invalid_from, LETHE_SCAN_FIRST_DAY,
			  (int)th->due_before, LETHE_SCAN_FIRST_DAY);
	if (scan->held && th->kind != LETHE_DUE_NEVER)
		lethe_strbuf_addf(s, "count(CASE WHEN %slethe_h = %d THEN 1 END), ", due, LETHE_ROW_HELD);
	else
		lethe_strbuf_adds(s, "0, ");
	if (scan->ndeps && th->kind != LETHE_DUE_NEVER)
		lethe_strbuf_addf(s, "count(CASE WHEN %slethe_h = %d THEN 1 END), ", due,
				  LETHE_ROW_BLOCKED);
	else
		lethe_strbuf_adds(s, "0, ");
	lethe_strbuf_addf(s, "min(CASE WHEN lethe_d >= %d THEN lethe_d END), max(CASE WHEN "
			  "lethe_d < %d THEN lethe_d END) FROM ", (int)th->due_before,
			  (int)th->invalid_from);
	return append_inner(s, dl, scan, 1);
}


int lethe_scan_sql(lethe_strbuf *s, const lethe_scan_dialect *dl, const lethe_scan *scan, int count)
{
	int rc;

	if ((rc = guard_scan(scan)) < 0)
		return rc;
	return count ? append_count(s, dl, scan) : append_query(s, dl, scan);
}

int lethe_sql_named_params(lethe_strbuf *s, const char *sql, const char *quotes,
			   const char *const *names, size_t nnames,
			   int (*emit)(void *ctx, lethe_strbuf *s, size_t i), void *ctx)
{
	const char *p = sql;
	int rc;

	while (*p) {
		if (strchr(quotes, *p)) {
			char q = *p;
			const char *e = p + 1;

			while (*e && !(*e == q && e[1] != q))
				e += (*e == q) ? 2 : 1;
			if (*e)
				e++;
			lethe_strbuf_add(s, p, (size_t)(e - p));
			p = e;
			continue;
		}
		if (p[0] == '-' && p[1] == '-') {
			const char *e = strchr(p, '\n');

			e = e ? e : p + strlen(p);
			lethe_strbuf_add(s, p, (size_t)(e - p));
			p = e;
			continue;
		}
		if (*p == ':' && p[1] != ':' && (p == sql || p[-1] != ':')) {
			size_t i;

			for (i = 0; i < nnames; i++) {
				size_t len = strlen(names[i]);

				if (!strncasecmp(p + 1, names[i], len) &&
				    !(isalnum((unsigned char)p[1 + len]) || p[1 + len] == '_'))
					break;
			}
			if (i < nnames) {
				if ((rc = emit(ctx, s, i)) < 0)
					return rc;
				p += 1 + strlen(names[i]);
				continue;
			}
		}
		lethe_strbuf_addch(s, *p++);
	}
	return 0;
}
