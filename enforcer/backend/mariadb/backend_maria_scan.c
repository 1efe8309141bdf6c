/*
 * backend_maria_scan.c - the SQL of a lethe_scan on MariaDB/MySQL, and
 * running it: rows (one result per page) or counts per class computed by
 * the server.
 *
 * The SQL is composed by scan_sql.c, shared with PostgreSQL; this file gives
 * MariaDB's dialect. What differs:
 *  - <day>: a DATE, DATETIME or TIMESTAMP clock becomes TO_DAYS(x) - 719528
 *    (days since 1970-01-01; the session's time zone is +00:00, so a
 *    TIMESTAMP reads as UTC); an integer clock is unix seconds; a text clock
 *    is refused with the cast to write.
 *  - A derived table carries a LIMIT, so MariaDB never merges it into the
 *    outer query (the clock is evaluated once per row); a due day is a
 *    BETWEEN; regular expressions use REGEXP; CAST(... AS CHAR).
 *  - Lethe's named parameters become '?', one per occurrence.
 *  - A table that references itself among the dependents is an IN over
 *    the table (scan_sql.c, self_ref_in): MariaDB has no derived table
 *    that reads an outer column.
 *  - Rows a rule already changed are in lethe_done with the key as text
 *    (CAST(key AS CHAR)); a batch's re-check adds a condition on the
 *    locked keys (be->keys_where), whose values are spliced into the
 *    parameters at their place.
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
#include "backend/scan_sql.h"
#include "expr_lex.h"
#include "lethe/error.h"
#include "vec.h"

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
 * (LETHE_SCAN_FIRST_DAY) or from invalid_from on is classed invalid where the day is
 * compared, never here. */
static int append_day(void *ctx, lethe_strbuf *s, const char *table, const char *from,
		      const char *rule)
{
	lethe_maria *be = ctx;
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
		lethe_scan_sql_expr(s, from, "NULL");
		lethe_strbuf_adds(s, ") - 719528)");
		return 0;
	case MYSQL_TYPE_TINY: case MYSQL_TYPE_SHORT: case MYSQL_TYPE_LONG:
	case MYSQL_TYPE_INT24: case MYSQL_TYPE_LONGLONG: /* unix seconds */
		lethe_strbuf_adds(s, "FLOOR(");
		lethe_scan_sql_expr(s, from, "NULL");
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
	int rc = append_day(base, &s, table, expr, NULL);

	lethe_strbuf_release(&s);
	if (rc == LETHE_EDATA && !(*errmsg = strdup(lethe_error_last())))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	return rc;
}

/* <due>: true when the clock is due under th. */
/* The batch's keys (be->keys) are bound to the '?'s of be->keys_where,
 * which sit in the SQL after every named parameter that comes before them:
 * inserted at the position of the first '?' of keys_where. */
static int splice_keys(lethe_value **params, size_t *nparams, const char *sql, lethe_maria *be)
{
	const char *at = strstr(sql, be->keys_where);
	size_t before = 0, n = *nparams;
	lethe_value *v;

	if (!at)
		return lethe_error_set(LETHE_ESOFTWARE, "scan: the batch's keys are not in its SQL");
	/* the named parameters are outside quotes: count the '?'s before
	 * keys_where outside quotes the same way */
	for (const char *p = sql; p < at; p++) {
		if (*p == '\'' || *p == '"' || *p == '`') {
			char q = *p++;

			while (p < at && *p && !(*p == q && p[1] != q))
				p += (*p == q) ? 2 : 1;
			continue;
		}
		before += *p == '?';
	}
	if (!(v = realloc(*params, (n + be->nkeys + 1) * sizeof(*v))))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	memmove(v + before + be->nkeys, v + before, (n - before) * sizeof(*v));
	memcpy(v + before, be->keys, be->nkeys * sizeof(*v));
	*params = v;
	*nparams = n + be->nkeys;
	return 0;
}

int lethe_maria_scan_sql(char **out, lethe_value **params, size_t *nparams, lethe_maria *be,
			 const lethe_scan *scan, int count)
{
	lethe_scan_dialect dialect = {
		.ident = lethe_maria_ident, .day = append_day, .ctx = be, .range_contains = 0,
		.null_day = "CAST(NULL AS SIGNED)", .unlimited = " LIMIT 18446744073709551615",
		.merge_paged = 1,
		.text_type = "CHAR", .length = "CHAR_LENGTH", .regexp = "REGEXP",
		.done_table = be->own_schema ? "lethe_done" : NULL, .done_key = "d.\"key\"",
		.keys_where = be->keys_where, .self_ref_in = 1,
	};
	lethe_strbuf s = LETHE_STRBUF_INIT;
	lethe_value bound[3] = { { .type = LETHE_VALUE_NULL }, { .type = LETHE_VALUE_NULL },
				 { .type = LETHE_VALUE_NULL } };
	int rc;

	if ((rc = lethe_scan_sql(&s, &dialect, scan, count)) < 0) {
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
	if (rc == 0 && be->keys_where && be->nkeys)
		rc = splice_keys(params, nparams, *out, be);
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

	if ((rc = lethe_maria_scan_sql(&sql, &params, &np, be, scan, 1)) < 0)
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

	if ((rc = lethe_maria_scan_sql(&sql, &params, &np, be, scan, 0)) < 0)
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
