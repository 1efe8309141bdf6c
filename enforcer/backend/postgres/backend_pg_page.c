/*
 * backend_pg_page.c - the pages of due rows a run's batches dispose of
 * (lethe_pg_dispose, step 1), read from one cursor per rule.
 *
 * Why: a page is "the next `limit` due rows in key order after the last
 * page". Asking the server for each page anew evaluates the rule's whole
 * predicate again each time, and a predicate with a hashed sub-plan (NOT IN,
 * a correlated max()) reads the tables it refers to in full once per page:
 * at 100,000 customers that was most of a run's time. Here the first batch
 * of a rule declares a WITH HOLD cursor over all its due rows after the
 * batch's start; the server computes them once (when that transaction
 * commits) and each batch FETCHes its page.
 *
 * Why it stays correct: a page only proposes keys. Each batch locks them and
 * disposes of those the full due / not held / not blocked predicate still
 * admits in a fresh snapshot (backend_pg_write.c, step 2), so a row the
 * cursor's older snapshot saw as due but that was made current, held or
 * given a child since is kept. A row that became due after the cursor was
 * declared is left for the next run, as a row that becomes due after a
 * run's plan always is.
 *
 * Invariants:
 *  - A cursor serves only the rule it was declared for, and only a batch
 *    that starts where its last page ended (page_last); anything else
 *    declares a new one. A batch with no after_key always declares one.
 *  - A cursor declared in a transaction that rolls back is gone (the server
 *    drops it): lethe_pg_page_txn_end forgets it. One whose FETCH failed is
 *    forgotten too. A forgotten cursor the server may still hold is left to
 *    the end of the session; names are never reused (page_seq).
 *  - A cursor that returned a short page is exhausted and closed at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend_pg.h"
#include "lethe/error.h"

void lethe_pg_page_forget(lethe_pg *be)
{
	free(be->page_cursor);
	free(be->page_rule);
	free(be->page_last);
	be->page_cursor = be->page_rule = be->page_last = NULL;
	be->page_new = 0;
}

void lethe_pg_page_txn_end(lethe_pg *be, int committed)
{
	if (committed)
		be->page_new = 0;
	else if (be->page_new)
		lethe_pg_page_forget(be);
}

/* Whether the open cursor continues where scan starts. */
static int continues(const lethe_pg *be, const lethe_scan *scan)
{
	char buf[40], *heap = NULL;
	const char *after;
	int same;

	if (!be->page_cursor || !scan->after_key || !be->page_last ||
	    strcmp(be->page_rule, scan->rule ? scan->rule : ""))
		return 0;
	after = lethe_pg_param(scan->after_key, buf, sizeof(buf), &heap);
	same = after && !strcmp(after, be->page_last);
	free(heap);
	return same;
}

static int declare(lethe_pg *be, const lethe_scan *scan)
{
	lethe_scan all = *scan;
	lethe_value params[4];
	lethe_strbuf s = LETHE_STRBUF_INIT;
	char *rows = NULL, name[32];
	int rc, np = 0;

	lethe_pg_page_forget(be);
	all.limit = 0;
	if ((rc = lethe_pg_scan_sql(&rows, be, &all, 0, params, &np)) < 0)
		return rc;
	snprintf(name, sizeof(name), "lethe_page%u", ++be->page_seq);
	lethe_strbuf_addf(&s, "DECLARE %s NO SCROLL CURSOR WITH HOLD FOR ", name);
	lethe_strbuf_adds(&s, rows);
	rc = lethe_pg_exec_values(NULL, be, "read due rows", lethe_strbuf_str(&s), np, params);
	if (rc == 0 && (!(be->page_cursor = strdup(name)) ||
			!(be->page_rule = strdup(scan->rule ? scan->rule : "")))) {
		lethe_pg_page_forget(be);
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	be->page_new = rc == 0;
	free(rows);
	lethe_strbuf_release(&s);
	return rc;
}

int lethe_pg_page(PGresult **page, lethe_pg *be, const lethe_scan *scan)
{
	char sql[64];
	int rc, n;

	if (!continues(be, scan) && (rc = declare(be, scan)) < 0)
		return rc;
	if (scan->limit > 0)
		snprintf(sql, sizeof(sql), "FETCH %lld FROM %s", (long long)scan->limit, be->page_cursor);
	else
		snprintf(sql, sizeof(sql), "FETCH ALL FROM %s", be->page_cursor);
	if ((rc = lethe_pg_exec(page, be, "read due rows", sql, 0, NULL)) < 0) {
		lethe_pg_page_forget(be);
		return rc;
	}
	n = PQntuples(*page);
	free(be->page_last);
	be->page_last = n ? strdup(PQgetvalue(*page, n - 1, 0)) : NULL;
	if (n && !be->page_last) {
		PQclear(*page);
		*page = NULL;
		lethe_pg_page_forget(be);
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	if (n < scan->limit || scan->limit <= 0) {
		snprintf(sql, sizeof(sql), "CLOSE %s", be->page_cursor);
		lethe_pg_page_forget(be);
		if ((rc = lethe_pg_exec(NULL, be, "close the due rows", sql, 0, NULL)) < 0) {
			PQclear(*page);
			*page = NULL;
			return rc;
		}
	}
	return 0;
}
