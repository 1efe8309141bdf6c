/*
 * plan_impl.h - internal: what plan.c and plan_holds.c share.
 *
 * Invariant: only the planner's own files include this header (plan*.c,
 * keyset.c).
 */
#ifndef LETHE_PLAN_IMPL_H
#define LETHE_PLAN_IMPL_H

#include <stddef.h>
#include "lethe/plan.h"

/* The SQL that is true for a row of rule `index`'s table under a hold in
 * force, in *out (malloc'd, the caller's), or NULL when no hold can cover the
 * table's rows. A hold on rule B holds the rows of B's table that B's where
 * (and the hold's own --where) select, whichever rule of that table reaches
 * them; a subject hold holds the rows that any rule of the table attributes
 * to the subject. The expression is therefore the same for every rule of one
 * table. 0 or LETHE_ESOFTWARE (out of memory). */
int lethe_plan_held_expr(char **out, const lethe_plan_clock *c, size_t index);

/* The where of a dependent row under a rule with where `where` (NULL: every
 * row) of a table whose held expression is `held` (NULL: none): a held row
 * is not due, so it blocks its parent. *out malloc'd, NULL when both are.
 * 0 or -1 (out of memory). The held expression is never NULL-valued (each
 * of its terms is coalesce(..., FALSE)), so a row is held or it is not; the
 * sets of keyset.h rely on it. */
int lethe_plan_dependent_where(char **out, const char *where, const char *held);

/* plan.c, shared with plan_rules.c: the day a not-due row of clock day
 * `day` becomes due (its end + 1); widen rp's next_due/last_due; add an
 * example key of an invalid row (up to LETHE_PLAN_EXAMPLES). */
int lethe_plan_becomes_due(lethe_day *out, const lethe_plan_clock *c, const lethe_rule *r,
			   lethe_day day);
void lethe_plan_note_not_due(lethe_rule_plan *rp, lethe_day next, lethe_day last);
int lethe_plan_add_example(lethe_rule_plan *rp, const lethe_value *key);

/* plan_stale.c: whether rule r has a stale count (stale_since with
 * stale_after, and a clock); its count at as_of on be (0 when the table has
 * no usable key, which plan reports); its warning into out when n > 0. */
int lethe_plan_has_stale(const lethe_rule *r);
int lethe_plan_stale_count(int64_t *out, lethe_backend *be, const lethe_rule *r, lethe_day as_of);
int lethe_plan_stale_warn(lethe_warnings *out, const lethe_rule *r, int64_t n);

#endif
