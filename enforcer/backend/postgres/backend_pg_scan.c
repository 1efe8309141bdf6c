/*
 * backend_pg_scan.c - the SQL of a lethe_scan on PostgreSQL, and running it:
 * rows one at a time (a cursor-less single result per page) or counts per
 * class computed by the server.
 *
 * The SQL is composed by scan_sql.c, shared with MariaDB; this file gives
 * PostgreSQL's dialect. What differs from SQLite:
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
#include "backend/scan_sql.h"
#include "expr_lex.h"
#include "lethe/error.h"
#include "vec.h"


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
static int append_day(void *ctx, lethe_strbuf *s, const char *table, const char *from,
		      const char *rule)
{
	lethe_pg *be = ctx;
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
		lethe_scan_sql_expr(s, from, "NULL");
		lethe_strbuf_adds(s, ") / 86400)");
		return 0;
	case 20: case 21: case 23: /* unix seconds */
		lethe_strbuf_adds(s, "floor(");
		lethe_scan_sql_expr(s, from, "NULL");
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
	int rc = append_day(base, &s, table, expr, NULL);

	lethe_strbuf_release(&s);
	if (rc == LETHE_EDATA && !(*errmsg = strdup(lethe_error_last())))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	return rc;
}

/* <due>: true when the clock is due under th. */
/* Whether `sql` holds the named parameter (case-insensitively, as numbered). */
static int used(const char *sql, const char *name)
{
	return strcasestr(sql, name) != NULL;
}

int lethe_pg_scan_sql(char **out, lethe_pg *be, const lethe_scan *scan, int count,
		      lethe_value *params, int *nparams)
{
	lethe_scan_dialect dialect = {
		.ident = lethe_pg_ident, .day = append_day, .ctx = be, .range_contains = 1,
		.null_day = "NULL::numeric", .unlimited = "", .text_type = "text", .length = "length",
		.regexp = "~", .done_table = be->own_schema ? "lethe.lethe_done" : NULL,
		.done_key = "d.key", .done_probe = 1, .keys_where = be->keys_where,
	};
	lethe_strbuf s = LETHE_STRBUF_INIT;
	const char *names[4], *sql;
	size_t n = 0;
	int rc;

	if ((rc = lethe_scan_sql(&s, &dialect, scan, count)) < 0) {
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
