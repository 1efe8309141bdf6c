/*
 * plan_stale.c - rows whose clock never started for longer than their rule
 * allows (stale_since, stale_after), as warnings of plan and status: they
 * stop nothing, but name a retention that has no end, which GDPR 5(1)(e)
 * forbids and a compliance officer must decide.
 *
 * Invariants:
 *  - Read only: one count per rule with stale_since, decided in the register
 *    by the calendar module's cut-off (no retention arithmetic here), like
 *    every other count; a count uses only the connection it is given, so
 *    plan_rules.c runs them on its threads.
 *  - A warning names the rule, its table and a count, never a row's value.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/check.h"
#include "lethe/error.h"
#include "plan_impl.h"

int lethe_plan_has_stale(const lethe_rule *r)
{
	return r->stale_since && r->has_stale_after && r->from;
}

int lethe_plan_stale_count(int64_t *out, lethe_backend *be, const lethe_rule *r, lethe_day as_of)
{
	lethe_table_info *t = NULL;
	lethe_scan_counts n;
	lethe_scan scan;
	lethe_cutoff cut;
	char *where = NULL;
	int rc;

	if ((rc = lethe_backend_table_info(&t, be, r->table)) < 0)
		return rc;
	if (!lethe_rule_key(r, t)) {  /* plan reports the rule itself */
		lethe_table_info_free(t);
		*out = 0;
		return 0;
	}
	if (asprintf(&where, "(\n%s\n) AND (\n%s\n) IS NULL", r->where ? r->where : "TRUE",
		     r->from) < 0) {
		where = NULL;
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	memset(&scan, 0, sizeof(scan));
	scan.table = r->table;
	scan.key = lethe_rule_key(r, t);
	scan.where = where;
	scan.from = r->stale_since;
	scan.rule = r->name;
	/* the calendar's cut-off of "stale_after from the day itself" */
	lethe_retention_cutoff(&cut, as_of, LETHE_COUNT_FROM_DAY,
			       (lethe_fiscal_year_end){ 12, 31 }, r->stale_after);
	scan.due.kind = LETHE_DUE_BEFORE;
	scan.due.due_before = cut.due_before;
	scan.due.invalid_from = cut.invalid_from;
	if ((rc = lethe_backend_count(&n, be, &scan)) == 0)
		*out = n.n[LETHE_ROW_DUE];
out:
	free(where);
	lethe_table_info_free(t);
	return rc;
}

int lethe_plan_stale_warn(lethe_warnings *out, const lethe_rule *r, int64_t n)
{
	char d[32];

	if (!n)
		return 0;
	snprintf(d, sizeof(d), "%ld %s", (long)r->stale_after.n,
		 (const char *[]){ "day(s)", "week(s)", "month(s)", "year(s)" }[r->stale_after.unit]);
	return lethe_warnings_add(out, "rule '%s': %" PRId64 " row%s of '%s' whose clock never "
				  "started are older than %s (stale_since): kept without a period "
				  "until someone closes them", r->name, n, n == 1 ? "" : "s", r->table, d);
}
