/*
 * backend_sqlite_scan.c - one SQL query per lethe_scan (written by
 * backend_sqlite_scan_sql.c), streamed row by row (lethe_sqlite_scan) or
 * counted per class inside SQLite (lethe_sqlite_count), and the lethe_day()
 * SQL function that reads a clock's UTC day.
 *
 * Invariants:
 *  - lethe_day() parses only: it accepts exactly the clock spellings of the
 *    contract (calendar.h: lethe_day_from_text, lethe_day_from_unix), is NULL
 *    for NULL and LETHE_SQLITE_DAY_INVALID, a number after every day, for
 *    anything else (REAL, BLOB, other text), so one comparison with a rule's
 *    invalid_from finds invalid clocks and clocks whose end is past 9999.
 *  - The whole query is prepared and stepped under the authorizer, so user
 *    expressions cannot write even from inside the generated query; the
 *    authorizer is off during the row callback.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "backend_sqlite.h"
#include "lethe/error.h"
#include "testhook.h"

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

/* lethe_day(clock) -> the clock's UTC day (days from 1970-01-01), NULL for
 * NULL, LETHE_SQLITE_DAY_INVALID for no day of the contract. */
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
	if (v.type == LETHE_VALUE_NULL)
		sqlite3_result_null(ctx);
	else if (rc < 0)
		sqlite3_result_int(ctx, LETHE_SQLITE_DAY_INVALID);
	else
		sqlite3_result_int(ctx, day);
}

/* lethe_admit(key): the admit callback of the scan stepping now (1 when none). */
static void admit_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	lethe_sqlite *be = sqlite3_user_data(ctx);
	const lethe_scan *scan = be->admit_scan;
	lethe_value v;

	(void)argc;
	if (!scan || !scan->admit) {
		sqlite3_result_int(ctx, 1);
		return;
	}
	lethe_sqlite_value(&v, argv[0]);
	sqlite3_result_int(ctx, scan->admit(scan->admit_ctx, scan->rule, &v) == 1);
}

int lethe_sqlite_register_functions(lethe_sqlite *be)
{
	/* Not deterministic: its answer is the scan's that steps (run --plan). */
	if (sqlite3_create_function_v2(be->db, "lethe_admit", 1, SQLITE_UTF8, be, admit_func,
				       NULL, NULL, NULL) != SQLITE_OK)
		return lethe_error_set(LETHE_ESOFTWARE, "cannot register lethe_admit: %s",
				       sqlite3_errmsg(be->db));
	/* Not SQLITE_DIRECTONLY: the function is used in the top-level query. */
	if (sqlite3_create_function_v2(be->db, "lethe_day", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
				       NULL, day_func, NULL, NULL, NULL) != SQLITE_OK)
		return lethe_error_set(LETHE_ESOFTWARE, "cannot register lethe_day: %s",
				       sqlite3_errmsg(be->db));
	return 0;
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
	lethe_sqlite_scan_bind(*stmt, scan);
	return 0;
}

void lethe_sqlite_scan_bind(sqlite3_stmt *stmt, const lethe_scan *scan)
{
	if (scan->after_key)
		lethe_sqlite_bind_value(stmt, sqlite3_bind_parameter_index(stmt, ":lethe_after"),
					scan->after_key);
	if (scan->upto_key)
		lethe_sqlite_bind_value(stmt, sqlite3_bind_parameter_index(stmt, ":lethe_upto_key"),
					scan->upto_key);
	if (scan->done_rule)
		sqlite3_bind_text(stmt, sqlite3_bind_parameter_index(stmt, ":lethe_rule"),
				  scan->done_rule, -1, SQLITE_STATIC);
	if (scan->bind_subject)
		lethe_sqlite_bind_value(stmt, sqlite3_bind_parameter_index(stmt, ":lethe_subject"),
					scan->bind_subject);
}

static int step_failed(lethe_sqlite *be, const lethe_scan *scan, int step)
{
	if (scan->rule)
		return lethe_error_set(lethe_sqlite_code(step), "rule '%s': cannot scan '%s' of '%s': %s",
				       scan->rule, scan->table, be->path, lethe_sqlite_errmsg(be));
	return lethe_error_set(lethe_sqlite_code(step), "cannot scan '%s' of '%s': %s", scan->table,
			       be->path, lethe_sqlite_errmsg(be));
}

/* The classes from the count's row (backend_sqlite_scan_sql.c, append_count):
 * total, clock days, invalid, due or held or blocked, held, blocked, the
 * least day not yet due and the greatest valid day. */
static void counts_from_row(lethe_scan_counts *out, const lethe_threshold *th, sqlite3_stmt *stmt)
{
	lethe_backend_counts_derive(out, th, sqlite3_column_int64(stmt, 0), sqlite3_column_int64(stmt, 1),
				    sqlite3_column_int64(stmt, 2), sqlite3_column_int64(stmt, 3),
				    sqlite3_column_int64(stmt, 4), sqlite3_column_int64(stmt, 5),
				    sqlite3_column_int(stmt, 6), sqlite3_column_int(stmt, 7));
}

int lethe_sqlite_count(lethe_scan_counts *out, lethe_backend *base, const lethe_scan *scan)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	char *sql = NULL;
	int rc, step;

	if ((rc = lethe_sqlite_scan_sql(&sql, be, scan, 1)) ||
	    (rc = prepare_scan(&stmt, be, scan, sql)))
		goto out;
	be->auth_on = 1;
	be->admit_scan = scan;
	step = sqlite3_step(stmt);
	be->admit_scan = NULL;
	be->auth_on = 0;
	if (step != SQLITE_ROW) {
		rc = step_failed(be, scan, step);
		goto out;
	}
	counts_from_row(out, &scan->due, stmt);
out:
	sqlite3_finalize(stmt);
	sqlite3_free(sql);
	return rc;
}

/* A table is cut in parts only from this many keys on: below, one count
 * costs less than preparing several. */
#define CUT_MIN_SPAN 65536

/* Whether the scan's key is the table's rowid (or its INTEGER PRIMARY KEY
 * alias): the B-tree's own order, whose ends min() and max() find by one
 * descent each and whose key ranges SQLite scans from the B-tree directly. */
static int key_is_rowid(const lethe_table_info *t, const char *key)
{
	if (t->is_view || t->without_rowid)
		return 0;
	if (t->row_key && !strcasecmp(key, t->row_key))
		return 1;
	for (size_t i = 0; i < t->ncolumns; i++)
		if (!strcasecmp(t->columns[i].name, key))
			return t->columns[i].rowid_alias;
	return 0;
}

/* Cuts at equal steps of the rowid between its least and greatest value:
 * parts of about equal size where the keys are dense, as row ids are. */
int lethe_sqlite_key_cuts(lethe_value **out, size_t *n, lethe_backend *base,
			  const lethe_scan *scan, size_t parts)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	lethe_table_info *t = NULL;
	sqlite3_stmt *stmt = NULL;
	sqlite3_str *s = NULL;
	char *sql = NULL;
	lethe_value *cuts;
	int64_t lo, hi;
	uint64_t span;
	int rc;

	if ((rc = lethe_sqlite_table_info(&t, base, scan->table)) < 0)
		return rc;
	if (!key_is_rowid(t, scan->key))
		goto out;
	s = sqlite3_str_new(be->db);
	/* the key by its own name: a column may shadow the name rowid */
	sqlite3_str_appendall(s, "SELECT min(");
	lethe_sqlite_append_ident(s, scan->key);
	sqlite3_str_appendall(s, "), max(");
	lethe_sqlite_append_ident(s, scan->key);
	sqlite3_str_appendall(s, ") FROM ");
	lethe_sqlite_append_ident(s, scan->table);
	if (!(sql = sqlite3_str_finish(s))) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	if (sqlite3_prepare_v2(be->db, sql, -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_ROW) {
		rc = lethe_error_set(LETHE_EDATA, "cannot read the keys of '%s' in '%s': %s",
				     scan->table, be->path, lethe_sqlite_errmsg(be));
		goto out;
	}
	if (sqlite3_column_type(stmt, 0) != SQLITE_INTEGER)
		goto out; /* an empty table */
	lo = sqlite3_column_int64(stmt, 0);
	hi = sqlite3_column_int64(stmt, 1);
	span = (uint64_t)hi - (uint64_t)lo;
	if (span < (uint64_t)lethe_test_cut_span(CUT_MIN_SPAN))
		goto out;
	if (!(cuts = calloc(parts - 1, sizeof(*cuts)))) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	/* lo <= cut_1 <= ... <= cut_{parts-1} < hi (strictly increasing once
	 * the span passes the parts, as CUT_MIN_SPAN does): the ranges
	 * (-inf, cut_1], (cut_1, cut_2], ..., (cut_{parts-1}, +inf) are
	 * disjoint and cover the table, an empty one counting nothing */
	for (size_t i = 0; i < parts - 1; i++) {
		cuts[i].type = LETHE_VALUE_INTEGER;
		cuts[i].i = (int64_t)((uint64_t)lo + span / parts * (i + 1));
	}
	*out = cuts;
	*n = parts - 1;
out:
	sqlite3_finalize(stmt);
	sqlite3_free(sql);
	lethe_table_info_free(t);
	return rc;
}

int lethe_sqlite_scan(lethe_backend *base, const lethe_scan *scan)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	char *sql = NULL;
	lethe_value key, subject;
	int rc, step, cb = 0;

	if ((rc = lethe_sqlite_scan_sql(&sql, be, scan, 0)) ||
	    (rc = prepare_scan(&stmt, be, scan, sql)))
		goto out;
	/* The authorizer stays on while stepping (SQLite may re-prepare the
	 * statement after a schema change) but is off during the row callback,
	 * which may use this backend for its own queries or a nested scan. */
	for (;;) {
		int cls;

		be->auth_on = 1;
		be->admit_scan = scan;
		step = sqlite3_step(stmt);
		be->admit_scan = NULL;
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
