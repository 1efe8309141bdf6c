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
 *  - lethe_keyset_has() and lethe_tally() (enforcer/keyset.h) act only
 *    while a count steps, on the sets it read READY when it was composed
 *    and on those it claimed; a count publishes what it claimed whether it
 *    stepped to its end or not.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "backend_sqlite.h"
#include "keyset.h"
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

/* lethe_keyset_has(set, v): 1 or 0 when the count stepping now reads READY
 * set `set` and v is an integer, NULL (ask the register) otherwise. */
static void keyset_has_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	lethe_sqlite *be = sqlite3_user_data(ctx);
	int in = -1;

	(void)argc;
	if (be->keysets && sqlite3_value_type(argv[1]) == SQLITE_INTEGER)
		in = lethe_keysets_has(be->keysets, sqlite3_value_int(argv[0]),
				       sqlite3_value_int64(argv[1]));
	if (in < 0)
		sqlite3_result_null(ctx);
	else
		sqlite3_result_int(ctx, in);
}

/* lethe_tally's running counts, and what it returns (a BLOB of this
 * struct, read back by counts_from_row in the same process). */
typedef struct {
	int64_t total, days, invalid, before, held, blocked;
	int64_t min, max; /* of days >= due_before, < invalid_from; 0 for none */
	int have_min, have_max;
} tally;

/* lethe_tally(flags, due_before, invalid_from, d, h, p0, p1, ...): a count's
 * classes in one aggregate step per row (backend_sqlite_scan_sql.c,
 * append_count), where FILTERed count(*)s cost a comparison each:
 *   total, days (d not NULL), invalid (d >= invalid_from), before
 *   (d < due_before), held and blocked (h = HELD or BLOCKED, each only with
 *   its flag, for a row that is due: d < due_before with
 *   LETHE_SQLITE_TALLY_BY_DAY, any row without), the least day >= due_before
 *   and the greatest < invalid_from;
 * and the sets the count produces (keyset.h): p_i of a row that survives
 * (not d < due_before, or h not DUE) goes into the i-th set the stepping
 * count claimed; NULL matches no parent, any other non-integer spoils the
 * set. */
static void tally_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	lethe_sqlite *be = sqlite3_user_data(ctx);
	const lethe_sqlite_produce *pr = be->producing;
	tally *t = sqlite3_aggregate_context(ctx, sizeof(*t));
	int flags, has_d, has_h, due, survives;
	int64_t due_before, invalid_from, d = 0, h = 0;

	if (!t) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	if (argc < 5) {
		sqlite3_result_error(ctx, "lethe_tally: too few arguments", -1);
		return;
	}
	flags = sqlite3_value_int(argv[0]);
	due_before = sqlite3_value_int64(argv[1]);
	invalid_from = sqlite3_value_int64(argv[2]);
	if ((has_d = sqlite3_value_type(argv[3]) != SQLITE_NULL))
		d = sqlite3_value_int64(argv[3]);
	if ((has_h = sqlite3_value_type(argv[4]) != SQLITE_NULL))
		h = sqlite3_value_int64(argv[4]);
	t->total++;
	if (has_d) {
		t->days++;
		if (d >= invalid_from)
			t->invalid++;
		if (d < due_before)
			t->before++;
		if (d >= due_before && (!t->have_min || d < t->min)) {
			t->min = d;
			t->have_min = 1;
		}
		if (d < invalid_from && (!t->have_max || d > t->max)) {
			t->max = d;
			t->have_max = 1;
		}
	}
	due = (flags & LETHE_SQLITE_TALLY_BY_DAY) ? has_d && d < due_before : 1;
	if (due && has_h && (flags & LETHE_SQLITE_TALLY_HELD) && h == LETHE_ROW_HELD)
		t->held++;
	if (due && has_h && (flags & LETHE_SQLITE_TALLY_BLOCKED) && h == LETHE_ROW_BLOCKED)
		t->blocked++;
	if (!pr)
		return;
	survives = !(has_d && d < due_before) || (has_h && h != LETHE_ROW_DUE);
	for (int i = 5; survives && i < argc && (size_t)(i - 5) < pr->n; i++) {
		int type = sqlite3_value_type(argv[i]);

		/* NULL matches no parent; any other non-integer spoils the set */
		if (type == SQLITE_INTEGER)
			lethe_keysets_add_int(pr->ks, pr->ids[i - 5], sqlite3_value_int64(argv[i]));
		else if (type != SQLITE_NULL)
			lethe_keysets_spoil(pr->ks, pr->ids[i - 5]);
	}
}

static void tally_final(sqlite3_context *ctx)
{
	tally *t = sqlite3_aggregate_context(ctx, 0), none = { 0 };

	sqlite3_result_blob(ctx, t ? t : &none, sizeof(none), SQLITE_TRANSIENT);
}

int lethe_sqlite_register_functions(lethe_sqlite *be)
{
	/* Not deterministic: their answers are the stepping count's sets. */
	if (sqlite3_create_function_v2(be->db, "lethe_keyset_has", 2, SQLITE_UTF8 | SQLITE_DIRECTONLY,
				       be, keyset_has_func, NULL, NULL, NULL) != SQLITE_OK)
		return lethe_error_set(LETHE_ESOFTWARE, "cannot register lethe_keyset_has: %s",
				       sqlite3_errmsg(be->db));
	/* Not deterministic: it fills the stepping count's sets. */
	if (sqlite3_create_function_v2(be->db, "lethe_tally", -1, SQLITE_UTF8 | SQLITE_DIRECTONLY,
				       be, NULL, tally_step, tally_final, NULL) != SQLITE_OK)
		return lethe_error_set(LETHE_ESOFTWARE, "cannot register lethe_tally: %s",
				       sqlite3_errmsg(be->db));
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

/* The classes from the count's row, lethe_tally's (append_count): total,
 * clock days, invalid, due or held or blocked, held, blocked, the least day
 * not yet due and the greatest valid day. */
static int counts_from_row(lethe_scan_counts *out, const lethe_threshold *th, sqlite3_stmt *stmt)
{
	tally t;

	if (sqlite3_column_type(stmt, 0) != SQLITE_BLOB || sqlite3_column_bytes(stmt, 0) != sizeof(t))
		return lethe_error_set(LETHE_ESOFTWARE, "count: lethe_tally returned no counts");
	memcpy(&t, sqlite3_column_blob(stmt, 0), sizeof(t));
	lethe_backend_counts_derive(out, th, t.total, t.days, t.invalid, t.before, t.held, t.blocked,
				    (lethe_day)t.min, (lethe_day)t.max);
	return 0;
}

int lethe_sqlite_count(lethe_scan_counts *out, lethe_backend *base, const lethe_scan *scan)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	lethe_sqlite_produce pr = { scan->keysets, NULL, 0 };
	sqlite3_stmt *stmt = NULL;
	char *sql = NULL;
	int *ids = NULL;
	int rc, step = SQLITE_ERROR;

	/* sets this count reads are finished first; those it can produce are
	 * claimed, and published when it stepped to its end (keyset.h) */
	lethe_keysets_wait(scan->keysets, scan->deps, scan->ndeps);
	if ((rc = lethe_keysets_claim(&ids, &pr.n, scan->keysets, scan)) < 0)
		return rc;
	pr.ids = ids;
	if ((rc = lethe_sqlite_scan_sql(&sql, be, scan, 1, &pr)) ||
	    (rc = prepare_scan(&stmt, be, scan, sql)))
		goto out;
	be->auth_on = 1;
	be->admit_scan = scan;
	be->keysets = scan->keysets;
	be->producing = &pr;
	step = sqlite3_step(stmt);
	be->keysets = NULL;
	be->producing = NULL;
	be->admit_scan = NULL;
	be->auth_on = 0;
	if (step != SQLITE_ROW) {
		rc = step_failed(be, scan, step);
		goto out;
	}
	rc = counts_from_row(out, &scan->due, stmt);
out:
	lethe_keysets_publish(scan->keysets, ids, pr.n, rc == 0 && step == SQLITE_ROW);
	free(ids);
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

	if ((rc = lethe_sqlite_scan_sql(&sql, be, scan, 0, NULL)) ||
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
