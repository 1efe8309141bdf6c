/*
 * lethe/plan.h - what a run would dispose of on a given day. Planning reads
 * through the backend and never writes.
 *
 * Counts per rule (policy-language.md):
 *   in_scope    rows of the table matching `where`
 *   due         rows `run` with the same as-of disposes
 *   not_due     clock started, retention not over
 *   not_started clock NULL
 *   invalid     clock neither ISO-8601 text nor integer unix seconds
 *   held        due, but under a legal hold (not in due)
 *   blocked     due, but deleting would cascade into rows not due (not in due)
 * in_scope = due + not_due + not_started + invalid + held + blocked.
 * Keep rules dispose nothing: their rows count in in_scope and not_due.
 *
 * Invariants: memory does not grow with the number of rows; a plan owns its
 * strings; lethe_plan_free() releases all.
 */
#ifndef LETHE_PLAN_H
#define LETHE_PLAN_H

#include <stdint.h>
#include "backend.h"
#include "calendar.h"
#include "policy.h"

#define LETHE_PLAN_EXAMPLES 5

typedef struct {
	const lethe_rule *rule;  /* borrowed from the policy */
	int64_t in_scope, due, not_due, not_started, invalid, held, blocked;
	int has_next_due;
	lethe_day next_due;      /* first day a not-due row becomes due */
	lethe_day last_due;      /* the day the last not-due row becomes due */
	char *invalid_examples[LETHE_PLAN_EXAMPLES]; /* keys of invalid rows */
	size_t ninvalid_examples;
	int64_t unplanned;       /* run --plan: due, but not in the plan (not in due) */
	int64_t skipped;         /* run: due, but locked by another transaction (not in
				    due); left for the next run (PostgreSQL SKIP LOCKED) */
} lethe_rule_plan;

typedef struct {
	lethe_day as_of;
	lethe_rule_plan *rules;  /* one per policy rule, same order */
	size_t nrules;
} lethe_plan;

/* Plan every rule of the policy at as_of. The policy must outlive the plan. */
int lethe_plan_new(lethe_plan **out, lethe_backend *be, const lethe_policy *policy,
		   lethe_day as_of);
void lethe_plan_free(lethe_plan *plan);

/* --- the pieces run shares with plan, so both count the same way ------- */

/* A plan limited to one data subject's rows (access requests), or an
 * erasure: the subject's rows are due under each rule's on_erasure action
 * whatever their clocks. Rules without `subject` are out of such a scope. */
typedef struct {
	const lethe_value *subject;  /* the subject's key, bound as :lethe_subject */
	int erasure;
	char **where;   /* per rule: its where and the subject match ("0" without subject) */
	char **from;    /* per rule, erasure only: the subject match, as the clock */
	size_t n;
} lethe_plan_scope;

int lethe_plan_scope_init(lethe_plan_scope *s, const lethe_policy *p, const lethe_value *subject,
			  int erasure);
void lethe_plan_scope_release(lethe_plan_scope *s);

/* The action a rule applies in this scope (on_erasure for an erasure). */
lethe_action lethe_plan_action(const lethe_rule *r, const lethe_plan_scope *scope);

/* The legal holds in force on a day (not released, until not passed). */
typedef struct {
	int any_subject;    /* a hold on a data subject is in force */
	char **rule;        /* per rule hold: the rule's name ... */
	char **where;       /* ... and its row filter, NULL for all rows */
	size_t n;
} lethe_plan_holds;

int lethe_plan_holds_load(lethe_plan_holds *out, lethe_backend *be, lethe_day as_of);
void lethe_plan_holds_release(lethe_plan_holds *h);

/* What decides whether a row is due: the policy, the day, the scope
 * (NULL: every row, by its clock), and the holds (NULL: none). */
typedef struct {
	const lethe_policy *policy;
	lethe_day as_of;
	const lethe_plan_scope *scope;
	const lethe_plan_holds *holds;
} lethe_plan_clock;

/* The key of every row a run at as_of would dispose of under rule `index`
 * (its due rows), in key order, to each(ctx, key); a non-zero return stops
 * the scan with that code. Streams: memory does not grow with the rows. */
int lethe_plan_due_keys(lethe_backend *be, const lethe_policy *p, size_t index, lethe_day as_of,
			int (*each)(void *ctx, const lethe_value *key), void *ctx);

/* lethe_plan_new within a scope (NULL: the whole register). */
int lethe_plan_new_scoped(lethe_plan **out, lethe_backend *be, const lethe_policy *policy,
			  lethe_day as_of, const lethe_plan_scope *scope);

/* A plan with zero counts for every rule of the policy. */
int lethe_plan_alloc(lethe_plan **out, const lethe_policy *policy, lethe_day as_of);

/* When a row of rule `index` is due in this clock's scope and day: the
 * thresholds the register compares the rule's clock with (keep: never;
 * erasure: the subject match; else the calendar's cut-off at as_of). */
void lethe_plan_threshold(lethe_threshold *out, const lethe_plan_clock *c, size_t index);

/* Count one row of a scan (its class and clock day, as the register decided
 * them) into rp. Returns 1 when the row is due (the row run disposes of), 0
 * otherwise, or a LETHE_E* code. */
int lethe_plan_count_row(lethe_rule_plan *rp, const lethe_plan_clock *c, const lethe_value *key,
			 lethe_row_class cls, lethe_day day);

/* The rows a deletion under `rule` would touch through foreign keys
 * (nothing for rules that do not delete). Free with
 * lethe_plan_dependents_free(); borrows from p and fks. */
int lethe_plan_dependents(lethe_dependents **out, size_t *n, const lethe_policy *p,
			  const lethe_foreign_keys *fks, const lethe_rule *rule,
			  const lethe_plan_clock *clock);
void lethe_plan_dependents_free(lethe_dependents *deps, size_t n);

/* Fill a scan for rule `index` (row callback and paging left to the
 * caller); release it with lethe_plan_scan_release(). A row due under an
 * earlier delete rule of the same table belongs to that rule alone. */
int lethe_plan_scan_init(lethe_scan *scan, const lethe_policy *p, size_t index, const char *key,
			 const lethe_dependents *deps, size_t ndeps, lethe_plan_clock *clock);
void lethe_plan_scan_release(lethe_scan *scan);

/* lethe_plan_new, and a warning (into stale) of every rule with
 * stale_since whose rows have had no clock for longer than its stale_after
 * at as_of: the rule, the count and the age, never a row. The stale counts
 * are taken by the plan's threads, in the time one of them would wait for
 * the other's last rule. *out is set only on success; a failure may leave
 * some warnings in *stale (the caller frees them either way). */
int lethe_plan_new_stale(lethe_plan **out, lethe_warnings *stale, lethe_backend *be,
			 const lethe_policy *policy, lethe_day as_of);

/* The plan as the contract's JSON object, a malloc'd NUL-terminated string.
 * due_name is "due" for plan and "disposed" for run. */
int lethe_plan_to_json(char **out, const lethe_plan *plan, const char *due_name);

#endif
