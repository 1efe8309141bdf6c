/*
 * dispose.c - carry out the policy: plan, check the cap, then page through
 * every rule's rows in dependency order and dispose of the due ones in
 * batches, one transaction each; finally the residue work.
 *
 * Invariants:
 *  - Rows are classified by the plan's own thresholds (the scan of
 *    lethe_plan_scan_init), on the same as-of; a run's counts are the plan's
 *    but for the rows disposed, which are what the batches' statements
 *    changed.
 *  - A batch is one statement that selects the due, unheld, unblocked rows
 *    of a key range and disposes of them, inside the transaction that
 *    commits them (lethe_backend_dispose): what is disposed is what was due,
 *    not held and not blocked at that instant.
 *  - A batch holds the keys it changed, at most its size (at most
 *    LETHE_DISPOSE_BATCH_CEILING rows), and only its greatest key (or its
 *    page's, lethe_disposed.paged) outlives it: memory is
 *    bounded by one batch.
 *  - Nothing is written before every rule's due count is known to be within
 *    the cap; nothing is written at all in a dry run.
 *  - A batch that disposes of rows records in its own transaction that
 *    clean-up is owed, and its run marker with the digests of its keys; only
 *    a complete clean-up forgets what is owed, and a run begins with the
 *    clean-up an earlier one still owes (docs/disposal.md).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lethe/check.h"
#include "dispose_impl.h"
#include "lethe/error.h"
#include "testhook.h"
#include "transform.h"

/* Batch sizes: a batch is sized by the time its transaction took, so that a
 * run does few commits and holds the write lock briefly: it doubles while a
 * batch takes under BATCH_GROW_NS and halves when one takes over
 * BATCH_SHRINK_NS, between LETHE_DISPOSE_BATCH and
 * LETHE_DISPOSE_BATCH_CEILING rows (the ceiling bounds the keys a batch
 * holds in memory). A rule's first batch is sized by the batch before it
 * (lethe_dispose_first_batch). */
#define BATCH_GROW_NS 500000000LL
#define BATCH_SHRINK_NS 1000000000LL

/* A rule's first batch is sized by the run's latest timed batch (a full
 * one that was not sparse), for a BATCH_START_SHARE of BATCH_GROW_NS: rules differ in cost per row (a
 * cascade, full-text triggers), and a rule that is that many times slower
 * than the one before still has a short first transaction; a rule that is
 * not starts near the size it grows to, in a few batches where starting
 * from LETHE_DISPOSE_BATCH took up to seven, each a commit with its syncs. */
#define BATCH_START_SHARE 8

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

size_t lethe_dispose_next_batch(size_t rows, int64_t took_ns)
{
	if (took_ns < BATCH_GROW_NS && rows <= LETHE_DISPOSE_BATCH_CEILING / 2)
		return rows * 2;
	if (took_ns < BATCH_GROW_NS)
		return LETHE_DISPOSE_BATCH_CEILING;
	if (took_ns > BATCH_SHRINK_NS && rows >= 2 * LETHE_DISPOSE_BATCH)
		return rows / 2;
	return rows;
}

size_t lethe_dispose_first_batch(size_t rows, int64_t took_ns)
{
	double fit;

	if (!rows || took_ns <= 0)
		return LETHE_DISPOSE_BATCH;
	fit = (double)rows * (double)(BATCH_GROW_NS / BATCH_START_SHARE) / (double)took_ns;
	if (fit >= LETHE_DISPOSE_BATCH_CEILING)
		return LETHE_DISPOSE_BATCH_CEILING;
	return fit > LETHE_DISPOSE_BATCH ? (size_t)fit : LETHE_DISPOSE_BATCH;
}

typedef struct {
	lethe_backend *be;
	const lethe_policy *policy;
	const lethe_dispose_options *opts;
	const lethe_foreign_keys *fks;
	const lethe_plan_holds *holds;
	int64_t done, total;
	int owed;               /* clean-up owed is recorded in a committed batch */
	size_t timed_rows;      /* the run's latest timed batch: its rows and time */
	int64_t timed_ns;
} run_ctx;

/* One batch, one transaction: the statement that selects the due, unheld,
 * unblocked rows of the key range after `after` and disposes of them
 * (lethe_backend_dispose), the run marker with their digests, and the note
 * that clean-up is owed. The selection runs inside the BEGIN IMMEDIATE that
 * disposes, in the same statement: no other connection can write between
 * them, so a row made current, held or blocked by a concurrent writer before
 * the lock was won is seen as such and kept (docs/disposal.md, "Concurrent
 * writers"). A batch that changed nothing wrote nothing: its transaction is
 * rolled back, not committed, because in rollback-journal mode even an empty
 * COMMIT of a BEGIN IMMEDIATE waits for every reader to finish. */
static int dispose_batch(run_ctx *rc_, const lethe_rule *r, lethe_change *c, lethe_rule_plan *rp,
			 const lethe_scan *scan, lethe_disposed *d)
{
	const lethe_dispose_options *o = rc_->opts;
	int rc;

	if ((rc = lethe_backend_begin(rc_->be)) < 0)
		return rc;
	c->on_key = NULL;
	c->on_key_ctx = NULL;
	if (o->key_hook && scan->limit > 0)
		o->key_hook(o->hook_ctx, r, (size_t)scan->limit, &c->on_key, &c->on_key_ctx);
	rc = lethe_backend_dispose(d, rc_->be, c, scan);
	if (rc == 0)
		rp->skipped += (int64_t)d->skipped;
	if (rc == 0 && !d->n) {
		lethe_backend_rollback(rc_->be);
		return 0;
	}
	if (rc == 0 && o->batch_hook)
		rc = o->batch_hook(o->hook_ctx, r, d->keys, NULL, d->n, (int64_t)d->n);
	/* no disposal commits without the register saying clean-up is owed */
	if (rc == 0 && !rc_->owed)
		rc = lethe_backend_cleanup_owe(rc_->be);
	if (rc == 0)
		rc = lethe_backend_commit(rc_->be);
	if (rc != 0) {
		lethe_backend_rollback(rc_->be);
		return rc;
	}
	rc_->owed = 1;
	lethe_test_crash_point("after-batch");
	rp->due += (int64_t)d->n;
	rp->in_scope += (int64_t)d->n;
	rc_->done += (int64_t)d->n;
	if (o->progress)
		o->progress(o->progress_ctx, rc_->done, rc_->total);
	return 0;
}

/* A rule's batches. Its counts other than the disposed rows are the plan's
 * (rp arrives with them, due and the due rows' share of in_scope zeroed);
 * what is disposed is what each batch's statement changed. */
static int dispose_rule(run_ctx *ctx, size_t index, lethe_rule_plan *rp)
{
	const lethe_rule *r = &ctx->policy->rules[index];
	/* the test override fixes the size (tests/e2e/test_run_live_writer.py) */
	size_t fixed = lethe_test_batch_size(ctx->opts->batch_size);
	size_t limit = fixed ? fixed : lethe_dispose_first_batch(ctx->timed_rows, ctx->timed_ns);
	lethe_table_info *t = NULL;
	lethe_dependents *deps = NULL;
	size_t ndeps = 0;
	const char **columns = NULL;
	int *notnull = NULL, *unique = NULL;
	lethe_transform tf = { .rule = r, .key = ctx->opts->pseudonym_key };
	lethe_change change = { 0 };
	lethe_plan_clock clock = { ctx->policy, ctx->opts->as_of, ctx->opts->scope, ctx->holds };
	lethe_action action = lethe_plan_action(r, ctx->opts->scope);
	lethe_scan scan = { 0 };
	lethe_disposed d = { 0 }, last = { 0 };
	int rc, sparse;

	if ((rc = lethe_backend_table_info(&t, ctx->be, r->table)) < 0)
		goto out;
	change.table = r->table;
	change.key = lethe_rule_key(r, t);
	change.rule = r->name;
	change.delete = action == LETHE_ACTION_DELETE;
	change.triggers = (const char *const *)r->triggers;
	change.ntriggers = r->ntriggers;
	if (!change.key) {
		rc = lethe_error_set(LETHE_EDATA, "rule '%s': table '%s' has no usable key", r->name, r->table);
		goto out;
	}
	if (!change.delete) {
		columns = calloc(r->ncolumns, sizeof(*columns));
		notnull = calloc(r->ncolumns, sizeof(*notnull));
		unique = calloc(r->ncolumns, sizeof(*unique));
		if (!columns || !notnull || !unique) {
			rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < r->ncolumns; i++) {
			const lethe_column_info *ci = lethe_table_column(t, r->columns[i].column);

			columns[i] = r->columns[i].column;
			notnull[i] = ci ? ci->notnull : 0;
			unique[i] = ci ? ci->in_unique : 0;
		}
		tf.notnull = notnull;
		tf.unique = unique;
		change.columns = columns;
		change.ncolumns = r->ncolumns;
		change.transform = lethe_transform_value;
		change.transform_ctx = &tf;
		change.done_rule = r->name;
	}
	if ((rc = lethe_plan_dependents(&deps, &ndeps, ctx->policy, ctx->fks, r, &clock)) < 0)
		goto out;
	if ((rc = lethe_plan_scan_init(&scan, ctx->policy, index, change.key, deps, ndeps,
				       &clock)) < 0)
		goto out;
	scan.admit = ctx->opts->admit;
	scan.admit_ctx = ctx->opts->admit_ctx;
	for (;;) {
		int64_t t0 = now_ns();

		scan.limit = (int64_t)limit;
		scan.after_key = last.n || last.paged ? &last.last : NULL;
		/* a page that was not full was the last; a backend that locks
		 * after reading the page (d.paged) goes on after a full page even
		 * when rows of it were skipped or are no longer due */
		if ((rc = dispose_batch(ctx, r, &change, rp, &scan, &d)) != 0 ||
		    (d.paged ? d.paged : d.n) < limit)
			break;
		/* the next batch starts after this one's greatest key, the
		 * only thing kept of it: a batch's keys are freed before the
		 * next one's are read, so at most one batch is in memory */
		sparse = d.paged && d.n < limit / 2;
		lethe_disposed_release(&last);
		rc = lethe_disposed_add(&last, &d.last, 1);
		lethe_disposed_release(&d);
		if (rc < 0)
			break;
		/* a page (d.paged) that had less than half of it to dispose of
		 * grows as a quick batch does: on a busy machine no batch is
		 * quick, and a backend that pages through all of a table's rows
		 * (SQLite) would take as many small transactions over the rows
		 * it keeps as over those it disposes of; the ceiling still
		 * bounds the keys one batch can hold */
		if (!fixed && !sparse) {
			ctx->timed_rows = limit;
			ctx->timed_ns = now_ns() - t0;
		}
		if (!fixed)
			limit = lethe_dispose_next_batch(limit, sparse ? 0 : ctx->timed_ns);
	}
out:
	lethe_plan_scan_release(&scan);
	lethe_disposed_release(&d);
	lethe_disposed_release(&last);
	free(columns);
	free(notnull);
	free(unique);
	lethe_plan_dependents_free(deps, ndeps);
	lethe_table_info_free(t);
	return rc > 0 ? lethe_error_set(LETHE_ESOFTWARE, "scan stopped (%d)", rc) : rc;
}

typedef struct {
	const lethe_dispose_options *opts;
	const char *rule;
	int64_t admitted;
} planned_count;

static int count_planned(void *vctx, const lethe_value *key)
{
	planned_count *c = vctx;

	c->admitted += c->opts->admit(c->opts->admit_ctx, c->rule, key) == 1;
	return 0;
}

/* run --plan: a rule's due rows are those the plan names; the others are
 * `unplanned`, left for a later run. */
static int restrict_to_plan(lethe_plan *plan, lethe_backend *be, const lethe_policy *policy,
			    const lethe_dispose_options *opts)
{
	for (size_t i = 0; i < plan->nrules; i++) {
		lethe_rule_plan *rp = &plan->rules[i];
		planned_count c = { opts, rp->rule->name, 0 };
		int rc;

		if (!rp->due)
			continue;
		if ((rc = lethe_plan_due_keys(be, policy, i, opts->as_of, count_planned, &c)) < 0)
			return rc;
		rp->unplanned = rp->due - c.admitted;
		rp->due = c.admitted;
	}
	return 0;
}

static int check_cap(const lethe_plan *plan, int64_t cap)
{
	for (size_t i = 0; cap > 0 && i < plan->nrules; i++) {
		const lethe_rule_plan *rp = &plan->rules[i];

		if (rp->due > cap)
			return lethe_error_set(LETHE_EDATA, "rule '%s' would dispose of %" PRId64 " rows, "
					       "%" PRId64 " more than limits.max_rows_per_rule (%" PRId64
					       "); nothing was disposed", rp->rule->name, rp->due,
					       rp->due - cap, cap);
	}
	return 0;
}

/* The residue work, and the clean-up owed forgotten once it is complete:
 * 0 done, 1 still owed (warned), or an error. */
static int clean_up(lethe_backend *be, lethe_warnings *warnings, const lethe_dispose_options *opts)
{
	int rc = lethe_backend_finalise(be, warnings, (opts->residue_fast ? LETHE_FINALISE_NO_VACUUM : 0) |
					(opts->residue_no_wal ? LETHE_FINALISE_NO_WAL : 0));

	return rc == 0 ? lethe_backend_cleanup_done(be) : rc;
}

/* Clean-up an earlier run or erase still owes (it failed part-way, was killed
 * before its residue work, or another connection kept VACUUM or the checkpoint
 * from completing) is done first, even when nothing is disposed of now. Its
 * failure does not stop the disposal: it stays owed and is reported. */
static int clean_up_owed(lethe_backend *be, lethe_warnings *warnings, const lethe_dispose_options *opts)
{
	char *since = NULL;
	int rc;

	if ((rc = lethe_backend_cleanup_owed(&since, be)) < 0 || !since)
		return rc;
	rc = clean_up(be, warnings, opts);
	if (rc == 0)
		rc = lethe_warnings_add(warnings, "clean-up owed since %s (disposed content may have "
					"remained in the database's files) was done before this run", since);
	else if (rc < 0)
		rc = lethe_warnings_add(warnings, "clean-up owed since %s could not be done: %s", since,
					lethe_error_last());
	else
		rc = 0;
	free(since);
	return rc;
}

int lethe_dispose_owed_warning(lethe_warnings *warnings, lethe_backend *be)
{
	char *since = NULL;
	int rc;

	if ((rc = lethe_backend_cleanup_owed(&since, be)) < 0 || !since)
		return rc;
	rc = lethe_warnings_add(warnings, "clean-up is owed since %s: disposed content may remain in "
				"the database's files until the full-text optimise, VACUUM and checkpoint "
				"have completed; the next run or erase does them first", since);
	free(since);
	return rc;
}

int lethe_dispose(lethe_plan **out, lethe_warnings *warnings, lethe_backend *be,
		  const lethe_policy *policy, const lethe_dispose_options *opts)
{
	lethe_plan *plan = NULL, *run = NULL;
	lethe_foreign_keys *fks = NULL;
	size_t *order = NULL;
	lethe_plan_holds holds = { 0 };
	int64_t *due = NULL;
	run_ctx ctx = { be, policy, opts, NULL, &holds, 0, 0, 0, 0, 0 };
	int rc, cycle = 0;

	if ((rc = lethe_plan_new_scoped(&plan, be, policy, opts->as_of, opts->scope)) < 0)
		goto out;
	if (opts->admit && (rc = restrict_to_plan(plan, be, policy, opts)) < 0)
		goto out;
	if ((rc = check_cap(plan, opts->max_rows_per_rule)) < 0)
		goto out;
	if (opts->dry_run) {
		*out = plan;
		plan = NULL;
		goto out;
	}
	for (size_t i = 0; i < plan->nrules; i++)
		ctx.total += plan->rules[i].due;
	if (opts->intent_hook && (rc = opts->intent_hook(opts->hook_ctx, plan)) != 0)
		goto out;
	if ((rc = clean_up_owed(be, warnings, opts)) < 0)
		goto out;
	/* the larger rules first, where the order is free: the digest file of
	 * a rule is written on another core while the rules after it run */
	if (!(due = calloc(policy->nrules ? policy->nrules : 1, sizeof(*due)))) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < plan->nrules && i < policy->nrules; i++)
		due[i] = plan->rules[i].due;
	if ((rc = lethe_plan_holds_load(&holds, be, opts->as_of)) < 0 ||
	    (rc = lethe_dispose_order(&order, &cycle, be, policy, due)) < 0 ||
	    (rc = lethe_backend_foreign_keys(&fks, be)) < 0 ||
	    (rc = lethe_plan_alloc(&run, policy, opts->as_of)) < 0)
		goto out;
	ctx.fks = fks;
	if (cycle && (rc = lethe_warnings_add(warnings, "rules read tables that other rules change "
					      "in a cycle; they ran in policy order")) < 0)
		goto out;
	for (size_t i = 0; i < policy->nrules && rc == 0; i++) {
		size_t k = order[i];

		if (lethe_plan_action(&policy->rules[k], opts->scope) == LETHE_ACTION_KEEP) {
			/* keep disposes nothing: its counts are the plan's */
			run->rules[k].in_scope = plan->rules[k].in_scope;
			run->rules[k].not_due = plan->rules[k].not_due;
		} else {
			/* the counts are the plan's but for the rows disposed, which
			 * the batches count; the invalid rows' examples move over */
			lethe_rule_plan *rp = &run->rules[k];
			int64_t planned = plan->rules[k].due;

			*rp = plan->rules[k];
			plan->rules[k].ninvalid_examples = 0;
			rp->in_scope -= planned;
			rp->due = 0;
			rc = dispose_rule(&ctx, k, rp);
			/* a planned row the application made current (or held,
			 * blocked, deleted) meanwhile was kept: not due now */
			if (rp->due < planned) {
				rp->not_due += planned - rp->due;
				rp->in_scope += planned - rp->due;
			}
		}
	}
	if (rc == 0 && ctx.done > 0) {
		int sealed;

		lethe_test_crash_point("before-finalise");
		/* a seal that failed left the digests in the marker: the residue
		 * work runs all the same, and the seal's error is the run's */
		sealed = opts->seal_hook ? opts->seal_hook(opts->hook_ctx, !opts->residue_fast) : 0;
		if (sealed < 0) {
			char *why = strdup(lethe_error_last());

			clean_up(be, warnings, opts);
			rc = lethe_error_set(sealed, "%s", why ? why : "out of memory");
			free(why);
		} else {
			rc = clean_up(be, warnings, opts);
			rc = rc > 0 ? 0 : rc;
		}
	}
	{
		/* after a failure the error stays the run's; the warning is added if it can be */
		int orc = lethe_dispose_owed_warning(warnings, be);

		rc = rc == 0 ? orc : rc;
	}
	*out = run;
	run = NULL;
out:
	lethe_plan_holds_release(&holds);
	free(due);
	free(order);
	lethe_foreign_keys_free(fks);
	lethe_plan_free(plan);
	lethe_plan_free(run);
	return rc;
}
