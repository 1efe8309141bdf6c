/*
 * plan_impl.h - internal: what plan.c and plan_holds.c share.
 *
 * Invariant: only the planner's own files include this header.
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

#endif
