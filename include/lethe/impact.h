/*
 * lethe/impact.h - the impact of a draft policy set against the one in
 * force (`lethe plan --compare DRAFT`): per rule, what is due now and by
 * LETHE_IMPACT_HORIZONS days ahead under each set, whether the rule was
 * added, removed or changed, and the edits that explain each difference
 * ("retain: 10 years -> 6 years").
 *
 * Invariants:
 *  - Planning only: reads the register through lethe_plan_new, writes
 *    nothing, and keeps counts, never rows.
 *  - Rules are matched by name; the result lists the rules in force in
 *    their order, then the draft's added rules in theirs.
 *  - An impact owns its strings (causes); rules borrow from the two
 *    policies, which must outlive it. lethe_impact_free releases it.
 */
#ifndef LETHE_IMPACT_H
#define LETHE_IMPACT_H

#include <stddef.h>
#include <stdint.h>
#include "backend.h"
#include "calendar.h"
#include "policy.h"

struct json_t;

/* Days ahead of as-of the impact counts what is due by: now, 30, 90, 365. */
#define LETHE_IMPACT_NHORIZONS 4
extern const int lethe_impact_horizons[LETHE_IMPACT_NHORIZONS];

typedef enum {
	LETHE_IMPACT_UNCHANGED,
	LETHE_IMPACT_CHANGED,
	LETHE_IMPACT_ADDED,
	LETHE_IMPACT_REMOVED
} lethe_impact_status;

typedef struct {
	const char *name;
	const lethe_rule *in_force, *draft;   /* NULL when the rule is absent there */
	lethe_impact_status status;
	/* rows due (disposed of by a run) on as_of + horizon, per set; 0 where absent */
	int64_t due_in_force[LETHE_IMPACT_NHORIZONS], due_draft[LETHE_IMPACT_NHORIZONS];
	char **causes;        /* the edits behind the difference, one line each (owned) */
	size_t ncauses;
} lethe_impact_rule;

typedef struct {
	lethe_day as_of;
	lethe_impact_rule *rules;
	size_t nrules;
	int64_t total_in_force[LETHE_IMPACT_NHORIZONS], total_draft[LETHE_IMPACT_NHORIZONS];
} lethe_impact;

/* Plan both sets on be at as_of and each horizon, and compare them. */
int lethe_impact_new(lethe_impact **out, lethe_backend *be, const lethe_policy *in_force,
		     const lethe_policy *draft, lethe_day as_of);
void lethe_impact_free(lethe_impact *im);

const char *lethe_impact_status_name(lethe_impact_status s);

/* Whether the rule's counts differ between the sets at any horizon. */
int lethe_impact_differs(const lethe_impact_rule *r);

/* The impact as a JSON object (the caller's). */
struct json_t *lethe_impact_to_json(const lethe_impact *im);

#endif
