/*
 * plan_rules.c - planning every rule of a policy: one count per rule in the
 * register (plan.c decides what is counted), the rules shared out between
 * this thread and, when the register allows a second connection, one more;
 * for plan, the rules' stale counts (plan_stale.c) after them, so that a
 * thread that would wait for the other's last rule takes them meanwhile.
 *
 * Invariants:
 *  - The rules are independent: each writes only its own lethe_rule_plan
 *    (a stale count only its own slot), reads the policy, its dependent sets
 *    (built once, before any count) and the holds, which nobody writes
 *    meanwhile, and uses its thread's own connection. A plan is the same
 *    whichever thread counted which rule.
 *  - A worker thread's error (the per-thread last error) is carried back
 *    and set again in the calling thread; the first rule in policy order
 *    that failed decides, as it would one rule after the other, then the
 *    first stale count that failed.
 *  - Each rule is one statement, on either connection: no less consistent
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
#include "keyset.h"
#include "plan_impl.h"

/* At most this many threads (connections) plan at once: two cores here,
 * and each connection adds its page cache to the peak memory. */
#define MAX_THREADS 2

/* The bytes the sets of parent keys may take together (keyset.h): a bit
 * per key, so 4 MiB hold sets over some 32 million keys; past it a set is
 * dropped and its parents' counts search the child table instead. */
#define LETHE_PLAN_KEYSET_BUDGET ((size_t)4 << 20)

/* The examples of invalid clocks: the first keys, in key order. */
static int invalid_row(void *vctx, const lethe_value *key, lethe_row_class cls, lethe_day day,
		       const lethe_value *subject)
{
	(void)cls;
	(void)day;
	(void)subject;
	return lethe_plan_add_example(vctx, key);
}

/* One rule's counts, from the register's count of its scan; the invalid
 * rows' examples from a second scan of at most LETHE_PLAN_EXAMPLES rows. */
static int count_rule(lethe_backend *be, lethe_scan *scan, const lethe_plan_clock *clock,
		      lethe_rule_plan *rp)
{
	lethe_scan_counts n;
	lethe_day next, last;
	int rc;

	if ((rc = lethe_backend_count(&n, be, scan)) < 0)
		return rc;
	rp->due = n.n[LETHE_ROW_DUE];
	rp->not_due = n.n[LETHE_ROW_NOT_DUE];
	rp->not_started = n.n[LETHE_ROW_NOT_STARTED];
	rp->invalid = n.n[LETHE_ROW_INVALID];
	rp->held = n.n[LETHE_ROW_HELD];
	rp->blocked = n.n[LETHE_ROW_BLOCKED];
	for (int c = 0; c < LETHE_ROW_NCLASSES; c++)
		rp->in_scope += n.n[c];
	if (rp->not_due && scan->due.kind == LETHE_DUE_BEFORE) {
		/* end is non-decreasing: the first and last days decide */
		if ((rc = lethe_plan_becomes_due(&next, clock, rp->rule, n.min_not_due)) < 0 ||
		    (rc = lethe_plan_becomes_due(&last, clock, rp->rule, n.max_not_due)) < 0)
			return rc;
		lethe_plan_note_not_due(rp, next, last);
	}
	if (rp->invalid) {
		scan->classes = 1u << LETHE_ROW_INVALID;
		scan->limit = LETHE_PLAN_EXAMPLES;
		scan->row = invalid_row;
		scan->row_ctx = rp;
		rc = lethe_backend_scan(be, scan);
	}
	return rc;
}

/* A rule's dependent sets, built once per plan (plan_order) for its rank and
 * its sets, then used by its count. */
typedef struct {
	lethe_dependents *v;
	size_t n;
} rule_deps;

static int plan_rule(lethe_backend *be, const lethe_policy *p, const rule_deps *deps,
		     size_t index, lethe_plan_clock *clock, lethe_keysets *ks, lethe_rule_plan *rp)
{
	const lethe_rule *r = &p->rules[index];
	lethe_table_info *t = NULL;
	lethe_scan scan;
	const char *key;
	int rc;

	if ((rc = lethe_backend_table_info(&t, be, r->table)) < 0) {
		if (rc == LETHE_ENOTFOUND)
			rc = lethe_error_set(LETHE_EDATA, "rule '%s': no such table '%s'", r->name, r->table);
		goto out;
	}
	if (!(key = lethe_rule_key(r, t))) {
		rc = lethe_error_set(LETHE_EDATA, "rule '%s': table '%s' has no usable key",
				     r->name, r->table);
		goto out;
	}
	if ((rc = lethe_plan_scan_init(&scan, p, index, key, deps->v, deps->n, clock)) < 0)
		goto out;
	scan.keysets = ks;
	rc = count_rule(be, &scan, clock, rp);
	lethe_plan_scan_release(&scan);
	if (rc > 0)
		rc = lethe_error_set(LETHE_ESOFTWARE, "rule '%s': scan stopped (%d)", r->name, rc);
out:
	lethe_table_info_free(t);
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
	size_t next;            /* the next job: a rule (order), then a stale count */
	size_t njobs;           /* the rules and the stale counts */
	const lethe_policy *policy;
	rule_deps *deps;        /* per rule */
	lethe_plan_clock *clock;
	lethe_plan *plan;
	lethe_keysets *keysets; /* shared by the counts (keyset.h), or NULL */
	size_t *order;          /* the rules in the order they are taken */
	size_t *stale_rule;     /* job nrules + k: the stale count of rule stale_rule[k] */
	int64_t *stale;         /* per rule: its stale count, or NULL for none */
	int *rcs;               /* per job (a rule's at its index): its result */
	char **messages;        /* per job: its error message (malloc'd), or NULL */
} shared;

typedef struct {
	shared *sh;
	lethe_backend *be;
} worker;

/* Plan rules, taken one at a time, until none is left. */
static void *work(void *arg)
{
	worker *w = arg;
	shared *sh = w->sh;

	for (;;) {
		size_t i;
		int rc;

		pthread_mutex_lock(&sh->lock);
		i = sh->next++;
		pthread_mutex_unlock(&sh->lock);
		if (i >= sh->njobs)
			return NULL;
		if (i < sh->policy->nrules) {
			i = sh->order[i];
			rc = plan_rule(w->be, sh->policy, &sh->deps[i], i, sh->clock, sh->keysets,
				       &sh->plan->rules[i]);
		} else {
			size_t r = sh->stale_rule[i - sh->policy->nrules];

			rc = lethe_plan_stale_count(&sh->stale[r], w->be, &sh->policy->rules[r],
						    sh->clock->as_of);
		}
		sh->rcs[i] = rc;
		if (rc < 0 && !(sh->messages[i] = strdup(lethe_error_last())))
			sh->rcs[i] = LETHE_ESOFTWARE;
	}
}

/* How deep a rule's dependents go: 0 without any, at most this. */
#define MAX_DEPENDENT_HEIGHT 16
static int dependents_height(const lethe_dependents *deps, size_t n)
{
	int h = 0;

	for (size_t i = 0; i < n; i++) {
		int c = 1 + dependents_height(deps[i].children, deps[i].nchildren);

		if (c > h)
			h = c;
	}
	return h;
}

/* 1 when table is the child table of some set in deps (recursively). */
static int reads_table(const lethe_dependents *deps, size_t n, const char *table)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(deps[i].fk->child_table, table) ||
		    reads_table(deps[i].children, deps[i].nchildren, table))
			return 1;
	return 0;
}

/*
 * The order in which the rules are taken, and, for a plan of the whole
 * policy, the sets their counts share (keyset.h): every dependent set of every
 * rule registered. The rules are taken by rank, the rows that must be
 * counted from the start of a rule's count to the end of the last count
 * waiting for it (its table's, then those of the rules that read its table
 * as a dependent set): so a child table's count, which produces the set its
 * parents' counts read, comes before them, and the longest chain starts
 * first. The order changes only how fast a plan is, never what it says.
 */
static int plan_order(size_t **order, lethe_keysets **ks, rule_deps *deps, lethe_backend *be,
		      const lethe_policy *p, const lethe_foreign_keys *fks, lethe_plan_clock *clock)
{
	size_t n = p->nrules, *o = calloc(n ? n : 1, sizeof(*o));
	int *height = calloc(n ? n : 1, sizeof(*height));
	int64_t *rows = calloc(n ? n : 1, sizeof(*rows)), *rank = calloc(n ? n : 1, sizeof(*rank));
	char *reads = calloc(n ? n * n : 1, 1); /* reads[j * n + i]: rule j reads rule i's table */
	lethe_keysets *sets = NULL;
	int rc = 0;

	if (!o || !height || !rows || !rank || !reads) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	/* a budget of its own beside the page caches of both connections */
	if (!clock->scope && (rc = lethe_keysets_new(&sets, LETHE_PLAN_KEYSET_BUDGET)) < 0)
		goto out;
	for (size_t i = 0; i < n && rc == 0; i++) {
		o[i] = i;
		if ((rc = lethe_plan_dependents(&deps[i].v, &deps[i].n, p, fks, &p->rules[i], clock)) < 0)
			break;
		height[i] = dependents_height(deps[i].v, deps[i].n);
		if (lethe_backend_estimate_rows(&rows[i], be, p->rules[i].table) < 0 || rows[i] < 0)
			rows[i] = 0;
		if (sets)
			rc = lethe_keysets_register(sets, deps[i].v, deps[i].n);
		for (size_t j = 0; j < n && rc == 0; j++)
			if (j != i && reads_table(deps[i].v, deps[i].n, p->rules[j].table))
				reads[i * n + j] = 1;
	}
	/* a rule's rank: its table's rows and the greatest rank of the rules
	 * that read its table, those with deeper dependents being worked out
	 * first (a cycle is cut there) */
	for (int h = MAX_DEPENDENT_HEIGHT; h >= 0 && rc == 0; h--)
		for (size_t i = 0; i < n; i++) {
			int64_t above = 0;

			if (height[i] != h)
				continue;
			for (size_t j = 0; j < n; j++)
				if (reads[j * n + i] && height[j] > height[i] && rank[j] > above)
					above = rank[j];
			/* bounded, so that the sum cannot overflow (a
			 * table's greatest rowid may be near 2**63) */
			rank[i] = (rows[i] < ((int64_t)1 << 40) ? rows[i] : (int64_t)1 << 40) + above;
		}
	/* insertion sort, highest rank first, then lower dependents (a reader
	 * never before what it reads, even when the rows are unknown), then
	 * policy order; policies have tens of rules */
	for (size_t i = 1; i < n && rc == 0; i++)
		for (size_t j = i; j > 0 && (rank[o[j]] > rank[o[j - 1]] ||
					     (rank[o[j]] == rank[o[j - 1]] &&
					      height[o[j]] < height[o[j - 1]])); j--) {
			size_t t = o[j];

			o[j] = o[j - 1];
			o[j - 1] = t;
		}
out:
	free(height);
	free(rows);
	free(rank);
	free(reads);
	if (rc < 0) {
		free(o);
		lethe_keysets_free(sets);
		return rc;
	}
	*order = o;
	*ks = sets;
	return 0;
}

static int threads_wanted(size_t njobs)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = cpus < 1 ? 1 : (size_t)cpus;

	if (n > MAX_THREADS)
		n = MAX_THREADS;
	return (int)(n < njobs ? n : njobs);
}

/* Every rule of the plan, on be and, when it can, a second connection; with
 * stale (per rule), the stale counts too. */
static int plan_rules(lethe_backend *be, const lethe_policy *p, const lethe_foreign_keys *fks,
		      lethe_plan_clock *clock, lethe_plan *plan, int64_t *stale)
{
	shared sh = { .policy = p, .clock = clock, .plan = plan, .stale = stale };
	worker main_w = { &sh, be }, other = { &sh, NULL };
	size_t n = p->nrules ? 2 * p->nrules : 1; /* the most jobs there can be */
	pthread_t thread;
	int started = 0, rc = 0;

	if (!(sh.rcs = calloc(n, sizeof(int))) || !(sh.messages = calloc(n, sizeof(char *))) ||
	    !(sh.deps = calloc(p->nrules ? p->nrules : 1, sizeof(*sh.deps))) ||
	    !(sh.stale_rule = calloc(p->nrules ? p->nrules : 1, sizeof(size_t)))) {
		free(sh.rcs);
		free(sh.messages);
		free(sh.deps);
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	sh.njobs = p->nrules;
	for (size_t i = 0; stale && i < p->nrules; i++)
		if (lethe_plan_has_stale(&p->rules[i]))
			sh.stale_rule[sh.njobs++ - p->nrules] = i;
	if ((rc = plan_order(&sh.order, &sh.keysets, sh.deps, be, p, fks, clock)) < 0)
		goto out;
	pthread_mutex_init(&sh.lock, NULL);
	/* no second connection, or no second thread: this thread alone */
	if (threads_wanted(sh.njobs) > 1 && lethe_backend_reopen(&other.be, be) == 0)
		started = pthread_create(&thread, NULL, work, &other) == 0;
	work(&main_w);
	if (started)
		pthread_join(thread, NULL);
	lethe_backend_free(other.be);
	pthread_mutex_destroy(&sh.lock);
	/* the rules' errors in policy order, then the stale counts' */
	for (size_t i = 0; i < sh.njobs; i++) {
		if (rc == 0 && sh.rcs[i] < 0)
			rc = lethe_error_set(sh.rcs[i], "%s", sh.messages[i] ? sh.messages[i]
									     : "out of memory");
		free(sh.messages[i]);
	}
out:
	for (size_t i = 0; i < p->nrules; i++)
		lethe_plan_dependents_free(sh.deps[i].v, sh.deps[i].n);
	free(sh.deps);
	free(sh.rcs);
	free(sh.messages);
	free(sh.order);
	free(sh.stale_rule);
	lethe_keysets_free(sh.keysets);
	return rc;
}

/* A plan, and with stale (per rule) the stale counts. */
static int plan_new(lethe_plan **out, lethe_backend *be, const lethe_policy *policy,
		    lethe_day as_of, const lethe_plan_scope *scope, int64_t *stale)
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
	if ((rc = plan_rules(be, policy, fks, &clock, plan, stale)) < 0)
		goto out;
	*out = plan;
	plan = NULL;
out:
	lethe_plan_holds_release(&holds);
	lethe_foreign_keys_free(fks);
	lethe_plan_free(plan);
	return rc;
}

int lethe_plan_new(lethe_plan **out, lethe_backend *be, const lethe_policy *policy,
		   lethe_day as_of)
{
	return plan_new(out, be, policy, as_of, NULL, NULL);
}

int lethe_plan_new_scoped(lethe_plan **out, lethe_backend *be, const lethe_policy *policy,
			  lethe_day as_of, const lethe_plan_scope *scope)
{
	return plan_new(out, be, policy, as_of, scope, NULL);
}

int lethe_plan_new_stale(lethe_plan **out, lethe_warnings *stale, lethe_backend *be,
			 const lethe_policy *policy, lethe_day as_of)
{
	int64_t *n = calloc(policy->nrules ? policy->nrules : 1, sizeof(*n));
	lethe_plan *plan = NULL;
	int rc;

	if (!n)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	rc = plan_new(&plan, be, policy, as_of, NULL, n);
	for (size_t i = 0; rc == 0 && i < policy->nrules; i++)
		rc = lethe_plan_stale_warn(stale, &policy->rules[i], n[i]);
	free(n);
	if (rc < 0) {
		lethe_plan_free(plan);
		return rc;
	}
	*out = plan;
	return 0;
}

