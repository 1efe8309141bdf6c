/*
 * backend_sqlite_scan_sql.c - the SQL of a lethe_scan: its rows, each with
 * its class decided by comparisons with the rule's thresholds, or their
 * counts per class (backend_sqlite_scan.c runs it).
 *
 * A row is decided in SQL by comparisons of its clock's day against the
 * thresholds the calendar module computed (lethe_threshold): no retention
 * arithmetic runs here. <day> is lethe_day((from)) (NULL for a NULL clock, a
 * number after every day for an invalid one); <due> of a threshold is
 *   BEFORE  lethe_day((from)) < due_before
 *   MATCH   (from) = 1                       (erasure: the subject match)
 *   NEVER   0
 *
 * The query, in two levels so that the clock expression (which may be a
 * correlated subquery) runs once per row, and <blocked> only for due rows:
 *   SELECT k, d, s, <class> AS c FROM (
 *     SELECT "T"."key" AS k, <day> AS d, (subject) AS s, <hb> AS h
 *     FROM "T" WHERE (where) ... [AND key > :lethe_after ORDER BY key LIMIT n]
 *     LIMIT -1) [ORDER BY k] LIMIT -1
 * (k, d, s, h and c are lethe_k ... lethe_c in the SQL, so that no column of
 * the user's tables can be taken for them)
 * where <hb> is CASE WHEN <due> THEN CASE WHEN <held> THEN held WHEN
 * <blocked> THEN blocked ELSE due END ELSE due END for a day threshold
 * (<class> reads it only for a row before due_before), CASE WHEN <held>
 * THEN held WHEN <due> AND <blocked> THEN blocked ELSE due END for a match,
 * and <class> is
 *   CASE WHEN d IS NULL THEN not_started WHEN d >= invalid_from THEN invalid
 *        WHEN d >= due_before THEN not_due ELSE h END
 * (MATCH: h; NEVER: not_due). The LIMITs keep SQLite from flattening the
 * inner query into the outer one, which would copy its expressions into
 * every use of k, d, s and h. A count is one aggregate over the inner level
 * whose FILTERs take <class> apart (append_count).
 * A class filter (scan.classes) and its limit apply outside, in key order.
 *
 * NULL stands for an absent from/subject and 1 for an absent where. Runs
 * leave out rows the rule already changed: `AND NOT EXISTS (SELECT 1 FROM
 * lethe_done ...)`. User expressions never hold parameters (check refuses
 * them), so the named :lethe_* parameters are ours. Rows due under an
 * excluded rule are left out: `AND NOT coalesce((where) AND <due> AND NOT
 * <held>, 0)`; a held row stays in, so every rule that reaches it counts it
 * held (<held> is the same for every rule of a table: plan.c).
 * <blocked> is true when some dependent set d (child C referencing parent
 * P) has a row
 *   EXISTS (SELECT 1 FROM "C" WHERE (NOT (<due_any>) OR <nested>)
 *           AND "C"."c1" = "P"."p1" AND ...)
 * <due_any> = coalesce((where_i) AND <due_i>, 0) OR ... with each child
 * rule's own threshold (0 without rules: a row under no delete rule always
 * blocks), <nested> the same construction for d->children with C as parent
 * (0 when none), and a cycle replaces the condition by 1 (any child row
 * blocks). It is written as one EXISTS per set for NOT (<due_any>), then one
 * per set with children for <nested> (append_deps says why).
 * In a count of a plan (scan.keysets), a set whose parent keys an earlier
 * count collected (enforcer/keyset.h) is asked first:
 *   coalesce(lethe_keyset_has(ID, "P"."p1"), EXISTS ...)
 * which is the EXISTS's answer for an integer key and NULL otherwise; and a
 * count that can produce a set adds, per set, the referencing column of its
 * rows (lethe_pN) and one more aggregate that collects it for every row that
 * survives (not due, held or blocked). A run's rows and its re-check never
 * read a set: only the register decides what is disposed of.
 *
 * Invariants:
 *  - Tables are never aliased: user expressions name their own table
 *    (`marketing_profiles.customer_id`) and the innermost FROM "C" resolves
 *    them. The one exception is a self-referencing key (C is P), where "C"
 *    would hide the parent row: the parent's key values are first selected
 *    into a derived table lethe_k<depth>, and the child rows compared to it.
 *  - Every expression is guarded (lethe_sqlite_expr_guard) before it is
 *    pasted, whoever composed it.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "backend_sqlite.h"
#include "keyset.h"
#include "lethe/error.h"

/* " AND (column still in its disposed form)" */
static void append_done_form(sqlite3_str *s, const char *table, const lethe_done_column *d)
{
	sqlite3_str *c = sqlite3_str_new(NULL);
	char *col;

	lethe_sqlite_append_column_ref(c, table, d->column);
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
	return rc ? rc : lethe_sqlite_guard_deps(rule, scan->deps, scan->ndeps);
}

/* <hb>: held, blocked or due, for a row that is due. <class> reads it only
 * when the row's day is before due_before, so with a day threshold it is
 * worked out only for a row whose <due> is true (0 else): a hold or a
 * keep_while (often a subquery) costs nothing for the rows not due. */
static int append_hb(sqlite3_str *s, const lethe_scan *scan, lethe_keysets *ks)
{
	int by_day = scan->due.kind == LETHE_DUE_BEFORE;
	int rc = 0;

	if (!scan->held && !scan->ndeps) {
		sqlite3_str_appendf(s, "%d", LETHE_ROW_DUE);
		return 0;
	}
	if (by_day) {
		sqlite3_str_appendall(s, "CASE WHEN ");
		lethe_sqlite_append_due(s, &scan->due, scan->from);
		sqlite3_str_appendall(s, " THEN ");
	}
	sqlite3_str_appendall(s, "CASE");
	if (scan->held) {
		sqlite3_str_appendall(s, " WHEN ");
		lethe_sqlite_append_expr(s, scan->held, "0");
		sqlite3_str_appendf(s, " THEN %d", LETHE_ROW_HELD);
	}
	if (scan->ndeps) {
		/* the dependents only matter for a due row */
		sqlite3_str_appendall(s, " WHEN ");
		if (!by_day) {
			lethe_sqlite_append_due(s, &scan->due, scan->from);
			sqlite3_str_appendall(s, " AND ");
		}
		rc = lethe_sqlite_append_blocked(s, scan->table, scan->deps, scan->ndeps, ks);
		sqlite3_str_appendf(s, " THEN %d", LETHE_ROW_BLOCKED);
	}
	sqlite3_str_appendf(s, " ELSE %d END", LETHE_ROW_DUE);
	if (by_day)
		sqlite3_str_appendf(s, " ELSE %d END", LETHE_ROW_DUE);
	return rc;
}

/* <class> over the inner query's lethe_d and lethe_h. */
static void append_class(sqlite3_str *s, const lethe_threshold *th)
{
	switch (th->kind) {
	case LETHE_DUE_BEFORE:
		sqlite3_str_appendf(s, "CASE WHEN lethe_d IS NULL THEN %d WHEN lethe_d >= %d THEN %d "
				    "WHEN lethe_d >= %d THEN %d ELSE lethe_h END", LETHE_ROW_NOT_STARTED,
				    (int)th->invalid_from, LETHE_ROW_INVALID, (int)th->due_before,
				    LETHE_ROW_NOT_DUE);
		break;
	case LETHE_DUE_MATCH:
		sqlite3_str_appendall(s, "lethe_h");
		break;
	default:
		sqlite3_str_appendf(s, "%d", LETHE_ROW_NOT_DUE);
	}
}

/* The condition on a scan's rows (what follows WHERE), without paging. */
static void append_row_filter(sqlite3_str *s, lethe_sqlite *be, const lethe_scan *scan)
{
	lethe_sqlite_append_expr(s, scan->where, "1");
	for (size_t i = 0; i < scan->nexclude; i++) {
		sqlite3_str_appendall(s, " AND NOT coalesce(");
		lethe_sqlite_append_expr(s, scan->exclude[i].where, "1");
		sqlite3_str_appendall(s, " AND ");
		lethe_sqlite_append_due(s, &scan->exclude[i].due, scan->exclude[i].from);
		/* a held row is no earlier rule's to dispose of: every rule that
		 * reaches it counts it held (the held expression is the table's) */
		if (scan->held) {
			sqlite3_str_appendall(s, " AND NOT coalesce(");
			lethe_sqlite_append_expr(s, scan->held, "0");
			sqlite3_str_appendall(s, ", 0)");
		}
		sqlite3_str_appendall(s, ", 0)");
	}
	if (scan->done_rule && lethe_sqlite_has_table(be, LETHE_DONE_TABLE)) {
		/* the columns' forms first: a row not yet in its disposed form
		 * (most rows a batch changes) fails them and is not looked up
		 * in lethe_done, whose search comes last; every term is TRUE or
		 * FALSE (or NULL) whatever the order, so the order changes only
		 * what is evaluated */
		sqlite3_str_appendall(s, " AND NOT (1");
		for (size_t i = 0; i < scan->ndone_columns; i++)
			append_done_form(s, scan->table, &scan->done_columns[i]);
		sqlite3_str_appendall(s, " AND EXISTS (SELECT 1 FROM " LETHE_DONE_TABLE " AS d"
				      " WHERE d.rule = :lethe_rule AND d.key = +");
		/* unary + drops the column's affinity, so lethe_done's primary
		 * key (no affinity) can be searched on both columns */
		lethe_sqlite_append_column_ref(s, scan->table, scan->key);
		sqlite3_str_appendall(s, "))");
	}
	if (scan->after_key) {
		sqlite3_str_appendall(s, " AND ");
		lethe_sqlite_append_column_ref(s, scan->table, scan->key);
		sqlite3_str_appendall(s, " > :lethe_after");
	}
	/* run --plan: the rows the plan names, decided by the scan's callback */
	if (scan->admit) {
		sqlite3_str_appendall(s, " AND lethe_admit(");
		lethe_sqlite_append_column_ref(s, scan->table, scan->key);
		sqlite3_str_appendall(s, ")");
	}
}

/* " FROM "T" WHERE ..." of a scan: its rows, without paging. */
static void append_rows(sqlite3_str *s, lethe_sqlite *be, const lethe_scan *scan)
{
	sqlite3_str_appendall(s, " FROM ");
	lethe_sqlite_append_ident(s, scan->table);
	sqlite3_str_appendall(s, " WHERE ");
	append_row_filter(s, be, scan);
}

/* A row's day (lethe_d): the clock's, when the rule has a day threshold. */
static void append_day(sqlite3_str *s, const lethe_scan *scan)
{
	if (scan->due.kind == LETHE_DUE_BEFORE && scan->from) {
		sqlite3_str_appendall(s, "lethe_day(");
		lethe_sqlite_append_expr(s, scan->from, "NULL");
		sqlite3_str_appendall(s, ")");
	} else {
		sqlite3_str_appendall(s, "NULL");
	}
}

/* The inner level: the table's rows with their day and <hb>. */
static int append_inner(sqlite3_str *s, lethe_sqlite *be, const lethe_scan *scan, int count,
			const lethe_sqlite_produce *pr)
{
	/* a class filter takes the limit outside; counts take none */
	int inner_limit = !count && !scan->classes && scan->limit > 0;
	int rc;

	sqlite3_str_appendall(s, "(SELECT ");
	if (!count) {
		lethe_sqlite_append_column_ref(s, scan->table, scan->key);
		sqlite3_str_appendall(s, " AS lethe_k, ");
		lethe_sqlite_append_expr(s, scan->subject, "NULL");
		sqlite3_str_appendall(s, " AS lethe_s, ");
	}
	append_day(s, scan);
	sqlite3_str_appendall(s, " AS lethe_d, ");
	/* only a count reads the sets: a run's rows are decided by the register */
	rc = append_hb(s, scan, count ? scan->keysets : NULL);
	sqlite3_str_appendall(s, " AS lethe_h");
	for (size_t i = 0; pr && i < pr->n; i++) {
		sqlite3_str_appendall(s, ", ");
		lethe_sqlite_append_column_ref(s, scan->table, lethe_keysets_column(pr->ks, pr->ids[i]));
		sqlite3_str_appendf(s, " AS lethe_p%d", (int)i);
	}
	append_rows(s, be, scan);
	if (inner_limit || scan->classes) {
		sqlite3_str_appendall(s, " ORDER BY ");
		lethe_sqlite_append_column_ref(s, scan->table, scan->key);
	}
	if (inner_limit)
		sqlite3_str_appendf(s, " LIMIT %lld)", (long long)scan->limit);
	else
		sqlite3_str_appendall(s, " LIMIT -1)");
	return rc;
}

/* The rows: the inner level classified (see the top of the file). */
static int append_query(sqlite3_str *s, lethe_sqlite *be, const lethe_scan *scan)
{
	int rc;

	sqlite3_str_appendall(s, "SELECT lethe_k, lethe_d, lethe_s, ");
	append_class(s, &scan->due);
	sqlite3_str_appendall(s, " AS lethe_c FROM ");
	rc = append_inner(s, be, scan, 0, NULL);
	if (scan->classes) {
		sqlite3_str_appendall(s, " WHERE lethe_c IN (");
		for (int c = 0, first = 1; c < LETHE_ROW_NCLASSES; c++)
			if (scan->classes & (1u << c)) {
				sqlite3_str_appendf(s, "%s%d", first ? "" : ", ", c);
				first = 0;
			}
		sqlite3_str_appendall(s, ")");
		/* With a limit the rows come in the inner level's key order, which
		 * SQLite keeps through the co-routine; an ORDER BY here would sort
		 * every row after after_key before taking the first `limit` (a
		 * temporary B-tree per batch: quadratic over a run). */
		if (scan->limit > 0) {
			sqlite3_str_appendf(s, " LIMIT %lld", (long long)scan->limit);
			return rc;
		}
		sqlite3_str_appendall(s, " ORDER BY lethe_k");
	}
	/* paged: the page's rows (at most limit) in key order, which the
	 * caller's next page starts after */
	sqlite3_str_appendall(s, scan->limit > 0 ? " ORDER BY lethe_k LIMIT -1" : " LIMIT -1");
	return rc;
}

/* The counts: one lethe_tally (backend_sqlite_scan.c) over the inner level,
 * given what it counts (LETHE_SQLITE_TALLY_*), the rule's two days, each row's day
 * and <hb>, and the referencing values of the sets the count produces
 * (keyset.h: the parent of every row that survives); lethe_sqlite_count
 * derives the classes from it. One C step per row: count(*) FILTERs cost a
 * comparison each, about a third of a count over a large table. */
static int append_count(sqlite3_str *s, lethe_sqlite *be, const lethe_scan *scan,
			const lethe_sqlite_produce *pr)
{
	const lethe_threshold *th = &scan->due;
	int flags = 0;

	if (th->kind == LETHE_DUE_BEFORE)
		flags |= LETHE_SQLITE_TALLY_BY_DAY;
	if (scan->held && th->kind != LETHE_DUE_NEVER)
		flags |= LETHE_SQLITE_TALLY_HELD;
	if (scan->ndeps && th->kind != LETHE_DUE_NEVER)
		flags |= LETHE_SQLITE_TALLY_BLOCKED;
	sqlite3_str_appendf(s, "SELECT lethe_tally(%d, %d, %d, ", flags, (int)th->due_before,
			    (int)th->invalid_from);
	if (scan->held || scan->ndeps) {
		/* <hb> reads the day again: the inner level works out both once */
		sqlite3_str_appendall(s, "lethe_d, lethe_h");
		for (size_t i = 0; pr && i < pr->n; i++)
			sqlite3_str_appendf(s, ", lethe_p%d", (int)i);
		sqlite3_str_appendall(s, ") FROM ");
		return append_inner(s, be, scan, 1, pr);
	}
	/* every expression once per row: the table itself, without the inner
	 * level's co-routine */
	append_day(s, scan);
	sqlite3_str_appendf(s, ", %d", LETHE_ROW_DUE);
	for (size_t i = 0; pr && i < pr->n; i++) {
		sqlite3_str_appendall(s, ", ");
		lethe_sqlite_append_column_ref(s, scan->table, lethe_keysets_column(pr->ks, pr->ids[i]));
	}
	sqlite3_str_appendall(s, ")");
	append_rows(s, be, scan);
	return 0;
}

/* The SQL that s composed into *out, unless composing it failed (rc). */
static int finish_sql(char **out, sqlite3_str *s, int rc)
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

/* A row of the scan is due, not held and not blocked: its class (append_class
 * over append_hb) is LETHE_ROW_DUE, written on the row itself. For a clock
 * that is a day, d IS NULL, d >= invalid_from and d >= due_before are each
 * another class, so due needs d < min(due_before, invalid_from) (NULL and
 * invalid days fail it); then <hb> is due when the row is not held (CASE
 * takes NULL as false) and not blocked (the row is due, so <hb>'s own <due>
 * test is true). */
static int append_due_row(sqlite3_str *s, const lethe_scan *scan)
{
	const lethe_threshold *th = &scan->due;
	int rc = 0;

	if (th->kind == LETHE_DUE_MATCH) {
		sqlite3_str_appendall(s, "(");
		rc = append_hb(s, scan, NULL);
		sqlite3_str_appendf(s, ") = %d", LETHE_ROW_DUE);
		return rc;
	}
	if (th->kind != LETHE_DUE_BEFORE || !scan->from) {
		sqlite3_str_appendall(s, "0");
		return 0;
	}
	sqlite3_str_appendall(s, "lethe_day(");
	lethe_sqlite_append_expr(s, scan->from, "NULL");
	sqlite3_str_appendf(s, ") < %d", (int)(th->due_before < th->invalid_from ? th->due_before
								     : th->invalid_from));
	if (scan->held) {
		sqlite3_str_appendall(s, " AND NOT coalesce(");
		lethe_sqlite_append_expr(s, scan->held, "0");
		sqlite3_str_appendall(s, ", 0)");
	}
	if (scan->ndeps) {
		sqlite3_str_appendall(s, " AND NOT ");
		rc = lethe_sqlite_append_blocked(s, scan->table, scan->deps, scan->ndeps, NULL);
	}
	return rc;
}

int lethe_sqlite_due_row_sql(char **out, lethe_sqlite *be, const lethe_scan *scan, int upto)
{
	sqlite3_str *s;
	int rc;

	if ((rc = guard_scan(scan)) < 0)
		return rc;
	s = sqlite3_str_new(be->db);
	append_row_filter(s, be, scan);
	if (upto) {
		sqlite3_str_appendall(s, " AND ");
		lethe_sqlite_append_column_ref(s, scan->table, scan->key);
		sqlite3_str_appendall(s, " <= :lethe_upto");
	}
	sqlite3_str_appendall(s, " AND ");
	return finish_sql(out, s, append_due_row(s, scan));
}

int lethe_sqlite_scan_sql(char **out, lethe_sqlite *be, const lethe_scan *scan, int count,
			  const lethe_sqlite_produce *pr)
{
	sqlite3_str *s;
	int rc;

	if ((rc = guard_scan(scan)) < 0)
		return rc;
	s = sqlite3_str_new(be->db);
	return finish_sql(out, s, count ? append_count(s, be, scan, pr) : append_query(s, be, scan));
}
