/*
 * plan_rules.c - planning every rule of a policy: one count per rule in the
 * register (plan.c decides what is counted), the rules shared out between
 * this thread and, when the register allows a second connection, one more.
 * A large table's count is cut into key ranges (lethe_backend_key_cuts)
 * counted apart and added up, so that the two threads finish together
 * rather than one waiting for the other's largest rule.
 *
 * Invariants:
 *  - The rules are independent: each writes only its own lethe_rule_plan,
 *    reads the policy, the foreign keys and the holds, which nobody writes
 *    meanwhile, and uses its thread's own connection. A plan is the same
 *    whichever thread counted which rule or which part of it.
 *  - A rule's parts add up to its count: the key ranges are disjoint and
 *    cover the table, each class is counted per range, the least and
 *    greatest not-due days are the least and greatest of the ranges'. The
 *    thread that counts a rule's last part finishes the rule (next_due, the
 *    invalid rows' examples) on its own connection.
 *  - A worker thread's error (the per-thread last error) is carried back
 *    and set again in the calling thread; the first rule in policy order
 *    that failed decides, as it would one rule after the other.
 *  - Each part is one statement, on either connection: no less consistent
 *    than one connection running them one after the other, which never
 *    read the rules in one snapshot either.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lethe/check.h"
#include "lethe/error.h"
#include "lethe/plan.h"
#include "plan_impl.h"

/* At most this many threads (connections) plan at once: two cores here,
 * and each connection adds its page cache to the peak memory. */
#define MAX_THREADS 2

/* A large table's count is cut into this many key ranges when two threads
 * count: enough that the last one to finish leaves the other idle briefly. */
#define PARTS 8

/* The examples of invalid clocks: the first keys, in key order. */
static int invalid_row(void *vctx, const lethe_value *key, lethe_row_class cls, lethe_day day,
		       const lethe_value *subject)
{
	(void)cls;
	(void)day;
	(void)subject;
	return lethe_plan_add_example(vctx, key);
}

/* One rule being planned: what its parts share, and their counts so far. */
typedef struct {
	lethe_table_info *table;
	lethe_dependents *deps;
	size_t ndeps;
	lethe_scan scan;        /* read by every part; scan.held owned */
	int scan_ready;         /* scan holds what lethe_plan_scan_release frees */
	lethe_value *cuts;      /* ncuts keys: ncuts + 1 parts */
	size_t ncuts;
	size_t parts_left;      /* under the lock */
	lethe_scan_counts n;    /* the parts' sum, under the lock */
	int has_not_due;        /* n.min_not_due and n.max_not_due are set */
	int rc;                 /* the first failure; under the lock */
	char *message;          /* its message (malloc'd), or NULL */
} rule_work;

/* The rule's scan and, when parts > 1, where to cut its table. */
static int prepare_rule(rule_work *w, lethe_backend *be, const lethe_policy *p,
			const lethe_foreign_keys *fks, size_t index, lethe_plan_clock *clock,
			size_t parts)
{
	const lethe_rule *r = &p->rules[index];
	const char *key;
	int rc;

	if ((rc = lethe_backend_table_info(&w->table, be, r->table)) < 0) {
		if (rc == LETHE_ENOTFOUND)
			rc = lethe_error_set(LETHE_EDATA, "rule '%s': no such table '%s'", r->name, r->table);
		return rc;
	}
	if (!(key = lethe_rule_key(r, w->table)))
		return lethe_error_set(LETHE_EDATA, "rule '%s': table '%s' has no usable key",
				       r->name, r->table);
	if ((rc = lethe_plan_dependents(&w->deps, &w->ndeps, p, fks, r, clock)) < 0)
		return rc;
	w->scan_ready = 1;
	if ((rc = lethe_plan_scan_init(&w->scan, p, index, key, w->deps, w->ndeps, clock)) < 0)
		return rc;
	/* a subject's scope is found by its subject, not by walking the keys */
	if (parts > 1 && !clock->scope)
		rc = lethe_backend_key_cuts(&w->cuts, &w->ncuts, be, &w->scan, parts);
	return rc;
}

static void release_rule(rule_work *w)
{
	if (w->scan_ready)
		lethe_plan_scan_release(&w->scan);
	lethe_plan_dependents_free(w->deps, w->ndeps);
	lethe_table_info_free(w->table);
	free(w->cuts);
	free(w->message);
}

/* Add one part's counts to the rule's. */
static void add_counts(rule_work *w, const lethe_scan_counts *n)
{
	for (int c = 0; c < LETHE_ROW_NCLASSES; c++)
		w->n.n[c] += n->n[c];
	if (!n->n[LETHE_ROW_NOT_DUE])
		return;
	if (!w->has_not_due || n->min_not_due < w->n.min_not_due)
		w->n.min_not_due = n->min_not_due;
	if (!w->has_not_due || n->max_not_due > w->n.max_not_due)
		w->n.max_not_due = n->max_not_due;
	w->has_not_due = 1;
}

/* The rule's plan from its counts; the invalid rows' examples from a scan
 * of at most LETHE_PLAN_EXAMPLES rows of the whole table. */
static int finish_rule(rule_work *w, lethe_backend *be, const lethe_plan_clock *clock,
		       lethe_rule_plan *rp)
{
	lethe_day next, last;
	int rc = 0;

	rp->due = w->n.n[LETHE_ROW_DUE];
	rp->not_due = w->n.n[LETHE_ROW_NOT_DUE];
	rp->not_started = w->n.n[LETHE_ROW_NOT_STARTED];
	rp->invalid = w->n.n[LETHE_ROW_INVALID];
	rp->held = w->n.n[LETHE_ROW_HELD];
	rp->blocked = w->n.n[LETHE_ROW_BLOCKED];
	for (int c = 0; c < LETHE_ROW_NCLASSES; c++)
		rp->in_scope += w->n.n[c];
	if (rp->not_due && w->scan.due.kind == LETHE_DUE_BEFORE) {
		/* end is non-decreasing: the first and last days decide */
		if ((rc = lethe_plan_becomes_due(&next, clock, rp->rule, w->n.min_not_due)) < 0 ||
		    (rc = lethe_plan_becomes_due(&last, clock, rp->rule, w->n.max_not_due)) < 0)
			return rc;
		lethe_plan_note_not_due(rp, next, last);
	}
	if (rp->invalid) {
		w->scan.classes = 1u << LETHE_ROW_INVALID;
		w->scan.limit = LETHE_PLAN_EXAMPLES;
		w->scan.row = invalid_row;
		w->scan.row_ctx = rp;
		rc = lethe_backend_scan(be, &w->scan);
	}
	if (rc > 0)
		rc = lethe_error_set(LETHE_ESOFTWARE, "rule '%s': scan stopped (%d)", rp->rule->name, rc);
	return rc;
}

typedef struct {
	int (*each)(void *ctx, const lethe_value *key);
	void *ctx;
} due_keys;

static int due_row(void *vctx, const lethe_value *key, lethe_row_class cls, lethe_day day,
		   const lethe_value *subject)
{
	due_keys *d = vctx;

	(void)cls;
	(void)day;
	(void)subject;
	return d->each(d->ctx, key);
}

int lethe_plan_due_keys(lethe_backend *be, const lethe_policy *p, size_t index, lethe_day as_of,
			int (*each)(void *ctx, const lethe_value *key), void *ctx)
{
	lethe_plan_holds holds = { 0 };
	lethe_plan_clock clock = { p, as_of, NULL, &holds };
	lethe_foreign_keys *fks = NULL;
	lethe_table_info *t = NULL;
	lethe_dependents *deps = NULL;
	due_keys d = { each, ctx };
	size_t ndeps = 0;
	lethe_scan scan = { 0 };
	const char *key;
	int rc;

	if (index >= p->nrules)
		return lethe_error_set(LETHE_ESOFTWARE, "no rule %zu", index);
	if ((rc = lethe_plan_holds_load(&holds, be, as_of)) < 0 ||
	    (rc = lethe_backend_foreign_keys(&fks, be)) < 0 ||
	    (rc = lethe_backend_table_info(&t, be, p->rules[index].table)) < 0)
		goto out;
	if (!(key = lethe_rule_key(&p->rules[index], t))) {
		rc = lethe_error_set(LETHE_EDATA, "rule '%s': table '%s' has no usable key",
				     p->rules[index].name, p->rules[index].table);
		goto out;
	}
	if ((rc = lethe_plan_dependents(&deps, &ndeps, p, fks, &p->rules[index], &clock)) < 0 ||
	    (rc = lethe_plan_scan_init(&scan, p, index, key, deps, ndeps, &clock)) < 0)
		goto out;
	scan.classes = 1u << LETHE_ROW_DUE;
	scan.row = due_row;
	scan.row_ctx = &d;
	rc = lethe_backend_scan(be, &scan);
out:
	lethe_plan_scan_release(&scan);
	lethe_plan_dependents_free(deps, ndeps);
	lethe_table_info_free(t);
	lethe_foreign_keys_free(fks);
	lethe_plan_holds_release(&holds);
	return rc;
}

typedef struct {
	pthread_mutex_t lock;
	size_t next;            /* the next part to count, under the lock */
	size_t nparts;          /* every rule's parts, in policy order */
	size_t *part_rule;      /* per part: its rule */
	size_t *part_index;     /* per part: which of its rule's parts */
	rule_work *rules;       /* per rule */
	lethe_plan_clock *clock;
	lethe_plan *plan;
} shared;

typedef struct {
	shared *sh;
	lethe_backend *be;
} worker;

/* Record a failure of rule i (the first one counts); under the lock. */
static void fail_rule(rule_work *w, int rc)
{
	if (w->rc < 0)
		return;
	w->rc = rc;
	if (!(w->message = strdup(lethe_error_last())))
		w->rc = LETHE_ESOFTWARE;
}

/* Count parts, taken one at a time, until none is left; finish each rule
 * whose last part this thread counted. */
static void *work(void *arg)
{
	worker *wk = arg;
	shared *sh = wk->sh;

	for (;;) {
		lethe_scan_counts n;
		lethe_scan scan;
		rule_work *w;
		size_t i, part, r;
		int rc, last;

		pthread_mutex_lock(&sh->lock);
		i = sh->next++;
		pthread_mutex_unlock(&sh->lock);
		if (i >= sh->nparts)
			return NULL;
		r = sh->part_rule[i];
		part = sh->part_index[i];
		w = &sh->rules[r];
		/* this part's key range: after the cut before it, up to its own */
		scan = w->scan;
		scan.after_key = part ? &w->cuts[part - 1] : NULL;
		scan.upto_key = part < w->ncuts ? &w->cuts[part] : NULL;
		rc = lethe_backend_count(&n, wk->be, &scan);
		pthread_mutex_lock(&sh->lock);
		if (rc < 0)
			fail_rule(w, rc);
		else
			add_counts(w, &n);
		last = --w->parts_left == 0 && w->rc == 0;
		pthread_mutex_unlock(&sh->lock);
		/* every other part of the rule is done: no other thread reads it */
		if (last && (rc = finish_rule(w, wk->be, sh->clock, &sh->plan->rules[r])) < 0)
			fail_rule(w, rc);
	}
}

/* Every rule of the plan, on be and, when it can, a second connection. */
static int plan_rules(lethe_backend *be, const lethe_policy *p, const lethe_foreign_keys *fks,
		      lethe_plan_clock *clock, lethe_plan *plan)
{
	shared sh = { .clock = clock, .plan = plan };
	worker main_w = { &sh, be }, other = { &sh, NULL };
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nalloc = 0;
	pthread_t thread;
	int started = 0, rc = 0;

	if (!(sh.rules = calloc(p->nrules ? p->nrules : 1, sizeof(*sh.rules))))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	/* no second connection, or no second thread: this thread alone */
	if (cpus > 1 && MAX_THREADS > 1 && p->nrules > 0 && lethe_backend_reopen(&other.be, be) != 0)
		other.be = NULL;
	for (size_t i = 0; i < p->nrules; i++) {
		rule_work *w = &sh.rules[i];

		if ((w->rc = prepare_rule(w, be, p, fks, i, clock, other.be ? PARTS : 1)) < 0) {
			if (!(w->message = strdup(lethe_error_last())))
				w->rc = LETHE_ESOFTWARE;
			continue;
		}
		w->parts_left = w->ncuts + 1;
		nalloc += w->parts_left;
	}
	if (!(sh.part_rule = calloc(nalloc ? nalloc : 1, sizeof(size_t))) ||
	    !(sh.part_index = calloc(nalloc ? nalloc : 1, sizeof(size_t)))) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < p->nrules; i++)
		for (size_t k = 0; sh.rules[i].rc == 0 && k <= sh.rules[i].ncuts; k++) {
			sh.part_rule[sh.nparts] = i;
			sh.part_index[sh.nparts++] = k;
		}
	pthread_mutex_init(&sh.lock, NULL);
	if (other.be && sh.nparts > 1)
		started = pthread_create(&thread, NULL, work, &other) == 0;
	work(&main_w);
	if (started)
		pthread_join(thread, NULL);
	pthread_mutex_destroy(&sh.lock);
	for (size_t i = 0; i < p->nrules; i++)
		if (rc == 0 && sh.rules[i].rc < 0)
			rc = lethe_error_set(sh.rules[i].rc, "%s", sh.rules[i].message ? sh.rules[i].message
											: "out of memory");
out:
	for (size_t i = 0; i < p->nrules; i++)
		release_rule(&sh.rules[i]);
	lethe_backend_free(other.be);
	free(sh.rules);
	free(sh.part_rule);
	free(sh.part_index);
	return rc;
}

int lethe_plan_new(lethe_plan **out, lethe_backend *be, const lethe_policy *policy,
		   lethe_day as_of)
{
	return lethe_plan_new_scoped(out, be, policy, as_of, NULL);
}

int lethe_plan_new_scoped(lethe_plan **out, lethe_backend *be, const lethe_policy *policy,
			  lethe_day as_of, const lethe_plan_scope *scope)
{
	lethe_plan *plan = NULL;
	lethe_foreign_keys *fks = NULL;
	lethe_plan_holds holds = { 0 };
	lethe_plan_clock clock = { policy, as_of, scope, &holds };
	int rc;

	if ((rc = lethe_plan_alloc(&plan, policy, as_of)) < 0 ||
	    (rc = lethe_plan_holds_load(&holds, be, as_of)) < 0)
		goto out;
	if ((rc = lethe_backend_foreign_keys(&fks, be)) < 0)
		goto out;
	if ((rc = plan_rules(be, policy, fks, &clock, plan)) < 0)
		goto out;
	*out = plan;
	plan = NULL;
out:
	lethe_plan_holds_release(&holds);
	lethe_foreign_keys_free(fks);
	lethe_plan_free(plan);
	return rc;
}

