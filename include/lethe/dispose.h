/*
 * lethe/dispose.h - carry out a plan: dispose of exactly the rows that plan
 * counts as due, in batches, and leave no residue.
 *
 * Invariants:
 *  - The counts returned are those of lethe_plan_new() for the same as-of,
 *    with `due` holding the rows actually disposed; a second run with the
 *    same as-of disposes nothing (pseudonymised and masked rows are recorded
 *    as done by their rule, never guessed from their values).
 *  - Nothing is disposed when any rule's due count exceeds the cap.
 *  - Each batch (at most batch_size rows of one rule) is one transaction:
 *    applied whole or not at all. Memory is bounded by the batch size.
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

#define LETHE_DISPOSE_BATCH 1000

typedef struct {
	lethe_day as_of;
	int64_t max_rows_per_rule;   /* 0: no cap */
	int dry_run;                 /* plan only, change nothing */
	size_t batch_size;           /* 0: LETHE_DISPOSE_BATCH */
	const lethe_token_key *pseudonym_key; /* required by pseudonymise rules */
	int residue_fast;                     /* residue: fast, no VACUUM */
	const lethe_plan_scope *scope;        /* NULL: the register; else one subject
						 (an erasure when scope->erasure) */

	/* Called inside each batch's transaction, after the rows are changed and
	 * before COMMIT (for evidence markers): applied[i] tells whether keys[i]'s
	 * row was changed. Non-zero return aborts the batch. */
	int (*batch_hook)(void *ctx, const lethe_rule *rule, const lethe_value *keys,
			  const unsigned char *applied, size_t n, int64_t changed);

	/* Called once the plan is known to be within the cap, before the first
	 * batch (for the evidence's intent). Non-zero return disposes nothing. */
	int (*intent_hook)(void *ctx, const lethe_plan *plan);
	void *hook_ctx;

	/* Called after each batch: rows disposed so far, of total due. */
	void (*progress)(void *ctx, int64_t done, int64_t total);
	void *progress_ctx;
} lethe_dispose_options;

/* Run the policy against the register opened read-write. *out receives the
 * run's counts (owned by the caller, lethe_plan_free), warnings what the
 * residue work could not do. On a failure after some batches committed,
 * *out is still set (with what was disposed) and the code is returned. */
int lethe_dispose(lethe_plan **out, lethe_warnings *warnings, lethe_backend *be,
		  const lethe_policy *policy, const lethe_dispose_options *opts);

/* Append the warning a run's completion carries while the register says
 * clean-up is owed (docs/disposal.md, "Clean-up owed"); nothing when it is
 * not. 0 or an error. */
int lethe_dispose_owed_warning(lethe_warnings *warnings, lethe_backend *be);

/* The order in which rules run (see the invariants): a malloc'd array of
 * rule indexes. A cycle is broken in policy order and reported in *cycle. */
int lethe_dispose_order(size_t **out, int *cycle, lethe_backend *be, const lethe_policy *policy);

#endif
