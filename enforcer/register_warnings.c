/*
 * register_warnings.c - what the policy leaves unsaid about a register, as
 * warnings: tables linked to the data subject that no rule covers (check),
 * and rows whose clock never started for longer than their rule allows
 * (plan, status). Neither stops anything: they name a retention that has no
 * end, which GDPR 5(1)(e) forbids and a compliance officer must decide.
 *
 * Invariants:
 *  - Read only: the schema for coverage; one count per rule with
 *    stale_since, decided in the register by the calendar module's cut-off
 *    (no retention arithmetic here), like every other count.
 *  - A warning names the table or rule and a count, never a row's value.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "lethe/check.h"
#include "lethe/error.h"
#include "lethe/plan.h"
#include "strvec.h"

static int covered(const lethe_policy *p, const char *table)
{
	for (size_t i = 0; i < p->nrules; i++)
		if (!strcasecmp(p->rules[i].table, table))
			return 1;
	return 0;
}

static int seen(const lethe_strvec *v, const char *table)
{
	for (size_t i = 0; i < v->n; i++)
		if (!strcasecmp(v->v[i], table))
			return 1;
	return 0;
}

int lethe_check_coverage(lethe_warnings *out, lethe_backend *be, const lethe_policy *p)
{
	lethe_foreign_keys *fks = NULL;
	lethe_strvec reached = LETHE_STRVEC_INIT;
	int rc;

	if (!p->subject_table)
		return 0;
	if ((rc = lethe_backend_foreign_keys(&fks, be)) < 0)
		return rc == LETHE_EDATA ? 0 : rc; /* reported by plan and run */
	if ((rc = lethe_strvec_push(&reached, p->subject_table)) < 0)
		goto out;
	/* breadth first over the tables that reference the subject, directly
	 * or through another linked table (order_lines through orders) */
	for (size_t at = 0; at < reached.n && rc == 0; at++) {
		for (size_t i = 0; i < fks->count && rc == 0; i++) {
			const lethe_foreign_key *fk = &fks->items[i];

			if (strcasecmp(fk->parent_table, reached.v[at]) ||
			    seen(&reached, fk->child_table) ||
			    !strncasecmp(fk->child_table, "lethe_", 6))
				continue;
			if ((rc = lethe_strvec_push(&reached, fk->child_table)) < 0)
				break;
			if (!covered(p, fk->child_table))
				rc = lethe_warnings_add(out, "table '%s' refers to the data subject "
							"(through '%s') but no rule covers it: its rows "
							"are kept without a period and left out of access "
							"and erasure", fk->child_table, reached.v[at]);
		}
	}
out:
	lethe_strvec_clear(&reached);
	lethe_foreign_keys_free(fks);
	return rc < 0 ? rc : 0;
}

/* Rows of rule r whose clock is NULL and whose stale_since day is more than
 * stale_after before as_of. */
static int stale_count(int64_t *out, lethe_backend *be, const lethe_rule *r, lethe_day as_of)
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

int lethe_plan_stale(lethe_warnings *out, lethe_backend *be, const lethe_policy *p,
		     lethe_day as_of)
{
	for (size_t i = 0; i < p->nrules; i++) {
		const lethe_rule *r = &p->rules[i];
		int64_t n = 0;
		char d[32];
		int rc;

		if (!r->stale_since || !r->has_stale_after || !r->from)
			continue;
		if ((rc = stale_count(&n, be, r, as_of)) < 0)
			return rc;
		if (!n)
			continue;
		snprintf(d, sizeof(d), "%ld %s", (long)r->stale_after.n,
			 (const char *[]){ "day(s)", "week(s)", "month(s)", "year(s)" }
			 [r->stale_after.unit]);
		if ((rc = lethe_warnings_add(out, "rule '%s': %" PRId64 " row%s of '%s' whose "
					     "clock never started are older than %s (stale_since): "
					     "kept without a period until someone closes them",
					     r->name, n, n == 1 ? "" : "s", r->table, d)) < 0)
			return rc;
	}
	return 0;
}
