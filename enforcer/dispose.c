/*
 * dispose.c - carry out the policy: plan, check the cap, then page through
 * every rule's rows in dependency order and dispose of the due ones in
 * batches, one transaction each; finally the residue work.
 *
 * Invariants:
 *  - Rows are classified by the same code as plan (lethe_plan_count_row), on
 *    the same as-of, so the run's counts are the plan's.
 *  - A page holds at most batch_size rows of one rule, in key order, and only
 *    the due keys of that page are kept: memory is bounded by the batch.
 *  - Nothing is written before every rule's due count is known to be within
 *    the cap; nothing is written at all in a dry run.
 *  - A batch that disposes of rows records in its own transaction that
 *    clean-up is owed; only a complete clean-up forgets it, and a run begins
 *    with the clean-up an earlier one still owes (docs/disposal.md).
 *  - A page is read inside the transaction that disposes of it (dispose_page):
 *    what is disposed is what was due, not held and not blocked at that
 *    instant, and the counts are what the transaction changed.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/check.h"
#include "dispose_impl.h"
#include "lethe/error.h"
#include "testhook.h"
#include "transform.h"

typedef struct {
	lethe_rule_plan *rp;
	lethe_plan_clock clock;
	size_t limit;
	lethe_value *keys;      /* due keys of the page, strings owned */
	size_t nkeys;
	lethe_value last;       /* the page's last key, string owned */
	size_t rows;            /* rows seen in the page */
} page;

static void value_release(lethe_value *v)
{
	if (v->type == LETHE_VALUE_TEXT || v->type == LETHE_VALUE_BLOB)
		free((void *)v->s);
	memset(v, 0, sizeof(*v));
}

static int value_copy(lethe_value *out, const lethe_value *in)
{
	*out = *in;
	if (in->type == LETHE_VALUE_TEXT || in->type == LETHE_VALUE_BLOB) {
		char *s = malloc(in->len + 1);

		if (!s)
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		memcpy(s, in->s, in->len);
		s[in->len] = '\0';
		out->s = s;
	}
	return 0;
}

static void page_clear(page *pg)
{
	for (size_t i = 0; i < pg->nkeys; i++)
		value_release(&pg->keys[i]);
	pg->nkeys = 0;
	pg->rows = 0;
}

static int page_row(void *ctx, const lethe_value *key, lethe_row_class cls, lethe_day day,
		    const lethe_value *subject)
{
	page *pg = ctx;
	int due = lethe_plan_count_row(pg->rp, &pg->clock, key, cls, day);
	int rc;

	if (due < 0)
		return due;
	pg->rows++;
	value_release(&pg->last);
	if ((rc = value_copy(&pg->last, key)) < 0)
		return rc;
	if (due)
		return value_copy(&pg->keys[pg->nkeys++], key);
	return 0;
}

typedef struct {
	lethe_backend *be;
	const lethe_policy *policy;
	const lethe_dispose_options *opts;
	const lethe_foreign_keys *fks;
	const lethe_plan_holds *holds;
	int64_t done, total;
	int owed;               /* clean-up owed is recorded in a committed batch */
} run_ctx;

/* Read one page and apply its due keys in one transaction. The page is read
 * inside the BEGIN IMMEDIATE that disposes of it: no other connection can
 * write between the read and the change, so a row made current, held or
 * blocked by a concurrent writer before the lock was won is seen as such and
 * kept (docs/disposal.md, "Concurrent writers"). A page without due keys
 * wrote nothing: its transaction is rolled back, not committed, because in
 * rollback-journal mode even an empty COMMIT of a BEGIN IMMEDIATE waits for
 * every reader to finish. */
static int dispose_page(run_ctx *rc_, const lethe_rule *r, lethe_change *c, page *pg,
			lethe_scan *scan)
{
	const lethe_dispose_options *o = rc_->opts;
	int64_t changed = 0;
	int rc;

	if ((rc = lethe_backend_begin(rc_->be)) < 0)
		return rc;
	rc = lethe_backend_scan(rc_->be, scan);
	if (rc == 0 && !pg->nkeys) {
		lethe_backend_rollback(rc_->be);
		return 0;
	}
	if (rc == 0)
		rc = lethe_backend_apply(&changed, rc_->be, c, pg->keys, pg->nkeys);
	if (rc == 0 && o->batch_hook)
		rc = o->batch_hook(o->hook_ctx, r, pg->keys, c->applied, pg->nkeys, changed);
	/* no disposal commits without the register saying clean-up is owed */
	if (rc == 0 && !rc_->owed)
		rc = lethe_backend_cleanup_owe(rc_->be);
	if (rc == 0)
		rc = lethe_backend_commit(rc_->be);
	if (rc != 0) {
		lethe_backend_rollback(rc_->be);
		pg->rp->due -= (int64_t)pg->nkeys;
		return rc;
	}
	rc_->owed = 1;
	lethe_test_crash_point("after-batch");
	/* Read under the same lock, every due key is changed; the adjustment
	 * only keeps the count honest should a statement change nothing. */
	pg->rp->due += changed - (int64_t)pg->nkeys;
	rc_->done += changed;
	if (o->progress)
		o->progress(o->progress_ctx, rc_->done, rc_->total);
	return 0;
}

static int dispose_rule(run_ctx *ctx, size_t index, lethe_rule_plan *rp)
{
	const lethe_rule *r = &ctx->policy->rules[index];
	size_t limit = lethe_test_batch_size(ctx->opts->batch_size ? ctx->opts->batch_size
						      : LETHE_DISPOSE_BATCH);
	lethe_table_info *t = NULL;
	lethe_dependents *deps = NULL;
	size_t ndeps = 0;
	const char **columns = NULL;
	int *notnull = NULL, *unique = NULL;
	lethe_transform tf = { .rule = r, .key = ctx->opts->pseudonym_key };
	lethe_change change = { 0 };
	page pg = { .rp = rp, .clock = { ctx->policy, ctx->opts->as_of, ctx->opts->scope, ctx->holds },
		    .limit = limit };
	lethe_action action = lethe_plan_action(r, ctx->opts->scope);
	lethe_scan scan = { 0 };
	int rc, first = 1;

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
	if ((rc = lethe_plan_dependents(&deps, &ndeps, ctx->policy, ctx->fks, r, &pg.clock)) < 0)
		goto out;
	if (!(pg.keys = calloc(limit, sizeof(*pg.keys))) ||
	    !(change.applied = calloc(limit, 1))) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	if ((rc = lethe_plan_scan_init(&scan, ctx->policy, index, change.key, deps, ndeps,
				       &pg.clock)) < 0)
		goto out;
	scan.row = page_row;
	scan.row_ctx = &pg;
	scan.limit = (int64_t)limit;
	do {
		page_clear(&pg);
		scan.after_key = first ? NULL : &pg.last;
		first = 0;
		if ((rc = dispose_page(ctx, r, &change, &pg, &scan)) != 0)
			goto out;
	} while (pg.rows == limit);
out:
	lethe_plan_scan_release(&scan);
	page_clear(&pg);
	value_release(&pg.last);
	free(pg.keys);
	free(change.applied);
	free(columns);
	free(notnull);
	free(unique);
	lethe_plan_dependents_free(deps, ndeps);
	lethe_table_info_free(t);
	return rc > 0 ? lethe_error_set(LETHE_ESOFTWARE, "scan stopped (%d)", rc) : rc;
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
	int rc = lethe_backend_finalise(be, warnings, opts->residue_fast ? LETHE_FINALISE_NO_VACUUM : 0);

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
	run_ctx ctx = { be, policy, opts, NULL, &holds, 0, 0, 0 };
	int rc, cycle = 0;

	if ((rc = lethe_plan_new_scoped(&plan, be, policy, opts->as_of, opts->scope)) < 0)
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
	if ((rc = lethe_plan_holds_load(&holds, be, opts->as_of)) < 0 ||
	    (rc = lethe_dispose_order(&order, &cycle, be, policy)) < 0 ||
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
			rc = dispose_rule(&ctx, k, &run->rules[k]);
		}
	}
	if (rc == 0 && ctx.done > 0) {
		lethe_test_crash_point("before-finalise");
		rc = clean_up(be, warnings, opts);
		rc = rc > 0 ? 0 : rc;
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
	free(order);
	lethe_foreign_keys_free(fks);
	lethe_plan_free(plan);
	lethe_plan_free(run);
	return rc;
}
