/*
 * lethe/dispose.h - what the disposal exposes beyond the site: the order
 * in which rules run and the clean-up-owed warning. Disposing itself
 * (lethe_dispose, enforcer/dispose_impl.h) is internal: only a site
 * (lethe/site.h) calls it, with the evidence hooks always set for a real
 * run, so no caller of the public API disposes of rows without evidence.
 *
 * The disposal's invariants:
 *  - The counts returned are those of lethe_plan_new() for the same as-of,
 *    with `due` holding the rows actually disposed; a second run with the
 *    same as-of disposes nothing (pseudonymised and masked rows are recorded
 *    as done by their rule, never guessed from their values).
 *  - Nothing is disposed when any rule's due count exceeds the cap.
 *  - Each batch (one statement that selects and disposes of due rows of one
 *    rule) is one transaction: applied whole or not at all. Batches are
 *    sized by time, from LETHE_DISPOSE_BATCH rows (or, after a rule's first
 *    batch, what the run's speed so far suggests) up to a ceiling; memory
 *    is bounded by the ceiling.
 *  - Rules run in dependency order: rules of child tables before deletions
 *    in their parents, mask and pseudonymise before delete on one table, and
 *    a rule whose clock reads another table before rules that change it, so
 *    no rule's clock is moved by a rule that ran before it.
 */
#ifndef LETHE_DISPOSE_H
#define LETHE_DISPOSE_H

#include <stdint.h>
#include "backend.h"
#include "plan.h"
#include "policy.h"
#include "token.h"

/* The first batch of a run, and the least one. */
#define LETHE_DISPOSE_BATCH 1000

/* Append the warning a run's completion carries while the register says
 * clean-up is owed (docs/disposal.md, "Clean-up owed"); nothing when it is
 * not. 0 or an error. */
int lethe_dispose_owed_warning(lethe_warnings *warnings, lethe_backend *be);

/* The order in which rules run (see the invariants): a malloc'd array of
 * rule indexes. Of the rules free to run, the one with the most rows due
 * (due[i], per rule; NULL: none has more) goes first, ties in policy order.
 * A cycle is broken in policy order and reported in *cycle. */
int lethe_dispose_order(size_t **out, int *cycle, lethe_backend *be, const lethe_policy *policy,
			const int64_t *due);

#endif
