/*
 * dispose_impl.h - carry out a plan: dispose of exactly the rows that plan
 * counts as due, in batches, and leave no residue. Internal: the public way
 * to dispose is a site (lethe/site.h), which always sets the evidence hooks
 * of a real run; see lethe/dispose.h for the invariants.
 */
#ifndef LETHE_DISPOSE_IMPL_H
#define LETHE_DISPOSE_IMPL_H

#include "lethe/dispose.h"

typedef struct {
	lethe_day as_of;
	int64_t max_rows_per_rule;   /* 0: no cap */
	int dry_run;                 /* plan only, change nothing */
	size_t batch_size;           /* 0: sized by time (dispose.c); else fixed */
	const lethe_token_key *pseudonym_key; /* required by pseudonymise rules */
	int residue_fast;                     /* residue: fast, no VACUUM */
	int residue_no_wal;                   /* residue: R1, no WAL cycling */
	const lethe_plan_scope *scope;        /* NULL: the register; else one subject
						 (an erasure when scope->erasure) */

	/* Called inside each batch's transaction, after the rows are changed and
	 * before COMMIT (for evidence markers) with the keys the batch changed
	 * (applied is NULL: every key was). Non-zero return aborts the batch. */
	int (*batch_hook)(void *ctx, const lethe_rule *rule, const lethe_value *keys,
			  const unsigned char *applied, size_t n, int64_t changed);

	/* Optional: called before each batch's statement with the most rows it
	 * can change, to set what the statement hands each changed key to as
	 * it runs (lethe_change.on_key; left NULL: nothing). */
	void (*key_hook)(void *ctx, const lethe_rule *rule, size_t most,
			 void (**on_key)(void *ctx, const lethe_value *key), void **on_key_ctx);

	/* Called once the plan is known to be within the cap, before the first
	 * batch (for the evidence's intent). Non-zero return disposes nothing. */
	int (*intent_hook)(void *ctx, const lethe_plan *plan);
	/* Called after the last batch that changed rows, before the residue
	 * work (for the evidence's digests). Non-zero return stops the run. */
	int (*seal_hook)(void *ctx, int vacuum_follows);
	void *hook_ctx;

	/* run --plan: only rows admit(admit_ctx, rule, key) names are disposed of
	 * (lethe_scan.admit); due rows it does not name count as `unplanned`. */
	int (*admit)(void *ctx, const char *rule, const lethe_value *key);
	void *admit_ctx;

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

/* The greatest batch: it bounds the keys and digests a batch holds in
 * memory (100,000 integer keys and their binary digests are 6.9 MiB: 40
 * and 32 bytes each, the keys' array reserved once, the digests sorted in
 * place). */
#define LETHE_DISPOSE_BATCH_CEILING 100000

/* The size of the next batch after one of `rows` rows that took took_ns. */
size_t lethe_dispose_next_batch(size_t rows, int64_t took_ns);

/* The size of a rule's first batch when the run's latest timed batch (of
 * any rule) had `rows` rows and took took_ns: LETHE_DISPOSE_BATCH when there
 * is none (rows 0), else the rows that speed fits in an eighth of the time a
 * batch grows under, within LETHE_DISPOSE_BATCH and the ceiling. */
size_t lethe_dispose_first_batch(size_t rows, int64_t took_ns);

#endif
