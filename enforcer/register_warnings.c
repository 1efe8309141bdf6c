/*
 * register_warnings.c - what the policy leaves unsaid about a register, as
 * warnings: tables linked to the data subject that no rule covers (check).
 * It stops nothing: it names a retention that has no end, which GDPR
 * 5(1)(e) forbids and a compliance officer must decide. (Rows whose clock
 * never started for too long are plan_stale.c's.)
 *
 * Invariants:
 *  - Read only: the schema.
 *  - A warning names the table, never a row's value.
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
