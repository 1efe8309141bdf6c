/*
 * impact.c - a draft policy set against the one in force (lethe/impact.h).
 *
 * Invariants:
 *  - Counts come from lethe_plan_new at each horizon, on the same register,
 *    for both sets: the same counting as plan and run, never a second one.
 *  - A cause names an edit as the policy language spells it (keys and
 *    values), never data from the register; SQL texts are quoted and cut
 *    (lethe/text.h) so that a long expression cannot break the table.
 *  - A rule without edits of its own whose counts differ is explained by
 *    the edits it follows from: the policy-wide keys, and the rules added,
 *    removed or changed (a deletion under one rule blocks or unblocks
 *    another's through foreign keys; an earlier delete rule of the same
 *    table takes rows first).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "lethe/impact.h"
#include "lethe/plan.h"
#include "lethe/text.h"
#include "strbuf.h"

const int lethe_impact_horizons[LETHE_IMPACT_NHORIZONS] = { 0, 30, 90, 365 };

const char *lethe_impact_status_name(lethe_impact_status s)
{
	static const char *const names[] = { "unchanged", "changed", "added", "removed" };

	return (size_t)s < sizeof(names) / sizeof(*names) ? names[s] : "unknown";
}

void lethe_impact_free(lethe_impact *im)
{
	if (!im)
		return;
	for (size_t i = 0; i < im->nrules; i++) {
		for (size_t k = 0; k < im->rules[i].ncauses; k++)
			free(im->rules[i].causes[k]);
		free(im->rules[i].causes);
	}
	free(im->rules);
	free(im);
}

int lethe_impact_differs(const lethe_impact_rule *r)
{
	for (int h = 0; h < LETHE_IMPACT_NHORIZONS; h++)
		if (r->due_in_force[h] != r->due_draft[h])
			return 1;
	return 0;
}

static int add_cause(lethe_impact_rule *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int add_cause(lethe_impact_rule *r, const char *fmt, ...)
{
	char **grown = realloc(r->causes, (r->ncauses + 1) * sizeof(*grown));
	va_list ap;
	int n;

	if (!grown)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	r->causes = grown;
	va_start(ap, fmt);
	n = vasprintf(&r->causes[r->ncauses], fmt, ap);
	va_end(ap);
	if (n < 0)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	r->ncauses++;
	return 0;
}

static void duration_text(char out[32], const lethe_rule *r)
{
	static const char *const units[] = { "day", "week", "month", "year" };

	if (!r->has_retain)
		snprintf(out, 32, "none");
	else
		snprintf(out, 32, "%d %s%s", (int)r->retain.n, units[r->retain.unit],
			 r->retain.n == 1 ? "" : "s");
}

static const char *counted_text(lethe_counted_from cf)
{
	static const char *const names[] = { "the day itself", "end of month", "end of year",
					     "end of fiscal year" };

	return (size_t)cf < sizeof(names) / sizeof(*names) ? names[cf] : "?";
}

static int same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* "KEY: 'A' -> 'B'" for a text key (SQL, names), quoted and cut. */
static int text_cause(lethe_impact_rule *r, const char *key, const char *a, const char *b)
{
	char qa[LETHE_EXCERPT_SIZE], qb[LETHE_EXCERPT_SIZE];

	if (same(a, b))
		return 0;
	if (a)
		lethe_text_quote(qa, a, strlen(a));
	if (b)
		lethe_text_quote(qb, b, strlen(b));
	return add_cause(r, "%s: %s -> %s", key, a ? qa : "(none)", b ? qb : "(none)");
}

static int columns_differ(const lethe_rule *a, const lethe_rule *b)
{
	if (a->ncolumns != b->ncolumns)
		return 1;
	for (size_t i = 0; i < a->ncolumns; i++) {
		const lethe_column_action *x = &a->columns[i], *y = &b->columns[i];

		if (strcmp(x->column, y->column) || x->mask != y->mask || x->n != y->n ||
		    !same(x->text, y->text))
			return 1;
	}
	return 0;
}

/* The edits of one rule present in both sets. */
static int rule_causes(lethe_impact_rule *r)
{
	const lethe_rule *a = r->in_force, *b = r->draft;
	char da[32], db[32];
	int rc = 0;

	duration_text(da, a);
	duration_text(db, b);
	if (strcmp(da, db))
		rc = add_cause(r, "retain: %s -> %s", da, db);
	if (rc == 0 && a->counted_from != b->counted_from)
		rc = add_cause(r, "counted_from: %s -> %s", counted_text(a->counted_from),
			       counted_text(b->counted_from));
	if (rc == 0 && a->action != b->action)
		rc = add_cause(r, "action: %s -> %s", lethe_action_name(a->action),
			       lethe_action_name(b->action));
	if (rc == 0 && a->on_erasure != b->on_erasure)
		rc = add_cause(r, "on_erasure: %s -> %s", lethe_action_name(a->on_erasure),
			       lethe_action_name(b->on_erasure));
	if (rc == 0 && columns_differ(a, b))
		rc = add_cause(r, "columns: edited");
	if (rc == 0)
		rc = text_cause(r, "from", a->from, b->from);
	if (rc == 0)
		rc = text_cause(r, "where", a->where, b->where);
	if (rc == 0)
		rc = text_cause(r, "table", a->table, b->table);
	if (rc == 0)
		rc = text_cause(r, "key", a->key, b->key);
	if (rc == 0)
		rc = text_cause(r, "subject", a->subject, b->subject);
	if (rc == 0)
		rc = text_cause(r, "basis", a->basis, b->basis);
	if (rc == 0 && !same(a->description, b->description))
		rc = add_cause(r, "description: edited");
	return rc;
}

/* Policy-wide edits, which reach every rule counted from them. */
static int policy_causes(lethe_strbuf *sb, const lethe_policy *a, const lethe_policy *b)
{
	if (a->fiscal_year_end.month != b->fiscal_year_end.month ||
	    a->fiscal_year_end.day != b->fiscal_year_end.day)
		return lethe_strbuf_addf(sb, "fiscal_year_end: %02d-%02d -> %02d-%02d",
					 a->fiscal_year_end.month, a->fiscal_year_end.day,
					 b->fiscal_year_end.month, b->fiscal_year_end.day);
	return 0;
}

static lethe_impact_rule *find(lethe_impact *im, const char *name)
{
	for (size_t i = 0; i < im->nrules; i++)
		if (!strcmp(im->rules[i].name, name))
			return &im->rules[i];
	return NULL;
}

/* The rules of both sets, matched by name, with their status and edits. */
static int match_rules(lethe_impact *im, const lethe_policy *a, const lethe_policy *b)
{
	int rc = 0;

	if (!(im->rules = calloc(a->nrules + b->nrules + 1, sizeof(*im->rules))))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	for (size_t i = 0; i < a->nrules; i++) {
		lethe_impact_rule *r = &im->rules[im->nrules++];

		r->name = a->rules[i].name;
		r->in_force = &a->rules[i];
		r->draft = lethe_policy_rule(b, r->name);
		r->status = r->draft ? LETHE_IMPACT_UNCHANGED : LETHE_IMPACT_REMOVED;
	}
	for (size_t i = 0; i < b->nrules; i++) {
		lethe_impact_rule *r = find(im, b->rules[i].name);

		if (r)
			continue;
		r = &im->rules[im->nrules++];
		r->name = b->rules[i].name;
		r->draft = &b->rules[i];
		r->status = LETHE_IMPACT_ADDED;
	}
	for (size_t i = 0; i < im->nrules && rc == 0; i++) {
		lethe_impact_rule *r = &im->rules[i];

		if (r->in_force && r->draft && (rc = rule_causes(r)) == 0 && r->ncauses)
			r->status = LETHE_IMPACT_CHANGED;
	}
	return rc;
}

/* Counts of every horizon under one set into the rules' in-force or draft side. */
static int count(lethe_impact *im, lethe_backend *be, const lethe_policy *p, int draft)
{
	for (int h = 0; h < LETHE_IMPACT_NHORIZONS; h++) {
		lethe_plan *plan = NULL;
		int rc = lethe_plan_new(&plan, be, p, im->as_of + lethe_impact_horizons[h]);

		if (rc < 0)
			return rc;
		for (size_t i = 0; i < plan->nrules; i++) {
			lethe_impact_rule *r = find(im, plan->rules[i].rule->name);

			if (!r)
				continue;
			(draft ? r->due_draft : r->due_in_force)[h] = plan->rules[i].due;
			(draft ? im->total_draft : im->total_in_force)[h] += plan->rules[i].due;
		}
		lethe_plan_free(plan);
	}
	return 0;
}

/* A rule whose counts moved without an edit of its own follows from others. */
static int explain_followers(lethe_impact *im, const char *policy_wide)
{
	for (size_t i = 0; i < im->nrules; i++) {
		lethe_impact_rule *r = &im->rules[i];
		lethe_strbuf sb = LETHE_STRBUF_INIT;
		int rc = 0;

		if (r->status != LETHE_IMPACT_UNCHANGED || !lethe_impact_differs(r))
			continue;
		if (*policy_wide)
			rc = lethe_strbuf_adds(&sb, policy_wide);
		for (size_t k = 0; k < im->nrules && rc == 0; k++)
			if (im->rules[k].status != LETHE_IMPACT_UNCHANGED)
				rc = lethe_strbuf_addf(&sb, "%s%s (%s)", sb.len ? ", " : "",
						       im->rules[k].name,
						       lethe_impact_status_name(im->rules[k].status));
		if (rc == 0)
			rc = add_cause(r, "no edit of its own; follows from %s",
				       sb.len ? lethe_strbuf_str(&sb) : "nothing found");
		lethe_strbuf_release(&sb);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int lethe_impact_new(lethe_impact **out, lethe_backend *be, const lethe_policy *in_force,
		     const lethe_policy *draft, lethe_day as_of)
{
	lethe_impact *im = calloc(1, sizeof(*im));
	lethe_strbuf wide = LETHE_STRBUF_INIT;
	int rc;

	if (!im)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	im->as_of = as_of;
	if ((rc = match_rules(im, in_force, draft)) < 0 ||
	    (rc = policy_causes(&wide, in_force, draft)) < 0 ||
	    (rc = count(im, be, in_force, 0)) < 0 || (rc = count(im, be, draft, 1)) < 0)
		goto fail;
	/* a policy-wide edit is a cause of every rule present in both sets */
	for (size_t i = 0; wide.len && i < im->nrules && rc == 0; i++)
		if (im->rules[i].in_force && im->rules[i].draft &&
		    im->rules[i].in_force->counted_from == LETHE_COUNT_END_OF_FISCAL_YEAR &&
		    (rc = add_cause(&im->rules[i], "%s", lethe_strbuf_str(&wide))) == 0)
			im->rules[i].status = LETHE_IMPACT_CHANGED;
	if (rc < 0 || (rc = explain_followers(im, lethe_strbuf_str(&wide))) < 0)
		goto fail;
	lethe_strbuf_release(&wide);
	*out = im;
	return 0;
fail:
	lethe_strbuf_release(&wide);
	lethe_impact_free(im);
	return rc;
}

static json_t *counts_json(const int64_t *due)
{
	json_t *o = json_object();

	for (int h = 0; o && h < LETHE_IMPACT_NHORIZONS; h++) {
		char name[16];

		snprintf(name, sizeof(name), h ? "by_%d_days" : "now", lethe_impact_horizons[h]);
		json_object_set_new(o, name, json_integer(due[h]));
	}
	return o;
}

json_t *lethe_impact_to_json(const lethe_impact *im)
{
	json_t *root, *rules = json_array(), *horizons = json_array();
	char day[11];

	lethe_day_format(im->as_of, day);
	for (int h = 0; horizons && h < LETHE_IMPACT_NHORIZONS; h++)
		json_array_append_new(horizons, json_integer(lethe_impact_horizons[h]));
	for (size_t i = 0; rules && i < im->nrules; i++) {
		const lethe_impact_rule *r = &im->rules[i];
		const lethe_rule *any = r->draft ? r->draft : r->in_force;
		json_t *causes = json_array();

		for (size_t k = 0; causes && k < r->ncauses; k++)
			json_array_append_new(causes, json_string(r->causes[k]));
		json_array_append_new(rules, json_pack(
			"{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "name", r->name, "status",
			lethe_impact_status_name(r->status), "table", any->table, "basis", any->basis,
			"in_force", r->in_force ? counts_json(r->due_in_force) : json_null(),
			"draft", r->draft ? counts_json(r->due_draft) : json_null(), "causes",
			causes ? causes : json_array()));
	}
	root = json_pack("{s:s, s:o, s:o, s:{s:o, s:o}}", "as_of", day, "horizons_days", horizons,
			 "rules", rules, "totals", "in_force", counts_json(im->total_in_force),
			 "draft", counts_json(im->total_draft));
	return root;
}
