/*
 * plan.c - classify every rule's rows at an as-of day and count them.
 * Planning reads through the backend and never writes.
 *
 * Invariants:
 *  - Memory is bounded by the policy and the schema, never by the rows: rows
 *    stream through plan_row() and only counters and up to
 *    LETHE_PLAN_EXAMPLES example keys per rule are kept.
 *  - A row is due when its clock is valid and as_of > end (calendar.h). The
 *    register decides it by comparing the clock's day with the rule's
 *    thresholds (lethe_plan_threshold, from the calendar module's cut-off),
 *    the same for a rule's own rows, for the dependent rows that make a
 *    deletion blocked and for a run's pages, so `due`, `blocked` and what a
 *    run disposes of can never disagree. No retention arithmetic runs in the
 *    register; planning receives counts, not rows.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include "lethe/check.h"
#include "lethe/error.h"
#include "lethe/plan.h"
#include "lethe/text.h"
#include "plan_impl.h"

/* Deletion cascades are followed this deep; deeper is treated as blocked. */
#define MAX_DEPENDENT_DEPTH 8

void lethe_plan_threshold(lethe_threshold *out, const lethe_plan_clock *c, size_t index)
{
	const lethe_rule *r = &c->policy->rules[index];
	lethe_cutoff cut;

	memset(out, 0, sizeof(*out));
	if (lethe_plan_action(r, c->scope) == LETHE_ACTION_KEEP) {
		out->kind = LETHE_DUE_NEVER;
		return;
	}
	/* An erasure's clock is the subject match: 1 for the subject's rows;
	 * but a rule that keeps on erasure disposes of what its own clock made
	 * due (lethe_rule_erasure_by_clock). */
	if (c->scope && c->scope->erasure && !lethe_rule_erasure_by_clock(r)) {
		out->kind = LETHE_DUE_MATCH;
		return;
	}
	lethe_retention_cutoff(&cut, c->as_of, r->counted_from, c->policy->fiscal_year_end,
			       r->retain);
	out->kind = LETHE_DUE_BEFORE;
	out->due_before = cut.due_before;
	out->invalid_from = cut.invalid_from;
}

int lethe_plan_becomes_due(lethe_day *out, const lethe_plan_clock *c, const lethe_rule *r,
		       lethe_day day)
{
	lethe_day end;
	int rc = lethe_retention_end(&end, day, r->counted_from, c->policy->fiscal_year_end,
				     r->retain);

	if (rc < 0)
		return rc; /* cannot happen: the register decided end exists */
	*out = end + 1;
	return 0;
}

void lethe_plan_note_not_due(lethe_rule_plan *rp, lethe_day next, lethe_day last)
{
	if (!rp->has_next_due || next < rp->next_due)
		rp->next_due = next;
	if (!rp->has_next_due || last > rp->last_due)
		rp->last_due = last;
	rp->has_next_due = 1;
}

/* An example key as printed in text and JSON: integers and reals as numbers,
 * text escaped and cut (lethe/text.h), so that a key holding a newline, a
 * terminal escape or bytes that are not UTF-8 can neither forge a log line
 * nor make the JSON unprintable. */
static char *key_text(const lethe_value *k)
{
	char buf[LETHE_EXCERPT_SIZE > 72 ? LETHE_EXCERPT_SIZE : 72];

	switch (k->type) {
	case LETHE_VALUE_INTEGER:
		snprintf(buf, sizeof(buf), "%" PRId64, k->i);
		break;
	case LETHE_VALUE_TEXT:
		lethe_text_quote(buf, k->s, k->len);
		break;
	case LETHE_VALUE_REAL:
		snprintf(buf, sizeof(buf), "%g", k->r);
		break;
	default:
		snprintf(buf, sizeof(buf), "%s", k->type == LETHE_VALUE_NULL ? "NULL" : "(blob)");
	}
	return strdup(buf);
}

int lethe_plan_add_example(lethe_rule_plan *rp, const lethe_value *key)
{
	char *k;

	if (rp->ninvalid_examples >= LETHE_PLAN_EXAMPLES)
		return 0;
	if (!(k = key_text(key)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	rp->invalid_examples[rp->ninvalid_examples++] = k;
	return 0;
}

int lethe_plan_count_row(lethe_rule_plan *rp, const lethe_plan_clock *c, const lethe_value *key,
			 lethe_row_class cls, lethe_day day)
{
	lethe_day next;
	int rc;

	rp->in_scope++;
	switch (cls) {
	case LETHE_ROW_DUE:
		rp->due++;
		return 1;
	case LETHE_ROW_NOT_DUE:
		rp->not_due++;
		/* keep rules and erasures have no day a row becomes due */
		if (lethe_plan_action(rp->rule, c->scope) == LETHE_ACTION_KEEP ||
		    (c->scope && c->scope->erasure && !lethe_rule_erasure_by_clock(rp->rule)))
			return 0;
		if ((rc = lethe_plan_becomes_due(&next, c, rp->rule, day)) < 0)
			return rc;
		lethe_plan_note_not_due(rp, next, next);
		return 0;
	case LETHE_ROW_NOT_STARTED:
		rp->not_started++;
		return 0;
	case LETHE_ROW_INVALID:
		rp->invalid++;
		return lethe_plan_add_example(rp, key);
	case LETHE_ROW_HELD:
		rp->held++;
		return 0;
	case LETHE_ROW_BLOCKED:
		rp->blocked++;
		return 0;
	default:
		return lethe_error_set(LETHE_ESOFTWARE, "rule '%s': unknown row class %d",
				       rp->rule->name, (int)cls);
	}
}

/* --- dependents: who would a deletion from `table` touch? --------------- */

void lethe_plan_dependents_free(lethe_dependents *deps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		lethe_plan_dependents_free((lethe_dependents *)deps[i].children, deps[i].nchildren);
		for (size_t k = 0; k < deps[i].nrules; k++)
			free((char *)deps[i].rules[k].where);
		free((lethe_clock_rule *)deps[i].rules);
	}
	free(deps);
}

int lethe_plan_dependent_where(char **out, const char *where, const char *held)
{
	*out = NULL;
	if (held)
		return asprintf(out, "(\n%s\n) AND NOT (\n%s\n)", where ? where : "TRUE", held) < 0
		       ? (*out = NULL, -1) : 0;
	return where && !(*out = strdup(where)) ? -1 : 0;
}

static int on_path(const char **path, int depth, const char *table)
{
	for (int i = 0; i < depth; i++)
		if (!strcasecmp(path[i], table))
			return 1;
	return 0;
}

/* The clock of rule `index` in this scope: an erasure's subject match, or the
 * rule's own clock where it keeps on erasure (its due rows go now); else the
 * rule's clock. */
static const char *clock_expr(const lethe_plan_scope *scope, const lethe_rule *r, size_t index)
{
	if (scope && scope->erasure && !lethe_rule_erasure_by_clock(r))
		return scope->from[index];
	return r->from;
}

/*
 * The rules under which a dependent row may undergo what deleting its parent
 * would do to it. Removed (CASCADE) or left in the way (RESTRICT, NO ACTION:
 * the parent's delete fails unless the child goes first): only a delete
 * rule due on that row lets it go. Changed (SET NULL, SET DEFAULT): the row
 * lives on, so it must merely be due under any rule that disposes of
 * something. A table under no such rule blocks every parent it references.
 */
static int dependent_rules(lethe_clock_rule **out, size_t *n, const lethe_policy *p,
			   const lethe_foreign_key *fk, const lethe_plan_clock *clock)
{
	const lethe_plan_scope *scope = clock->scope;
	int erasure = scope && scope->erasure;
	int removed = fk->on_delete != LETHE_FK_SET_NULL && fk->on_delete != LETHE_FK_SET_DEFAULT;
	lethe_clock_rule *rules = NULL;
	size_t count = 0;

	for (size_t i = 0; i < p->nrules; i++) {
		const lethe_rule *r = &p->rules[i];

		lethe_action a = lethe_plan_action(r, scope);

		if (strcasecmp(r->table, fk->child_table) || a == LETHE_ACTION_KEEP)
			continue;
		if (removed && a != LETHE_ACTION_DELETE)
			continue;
		if (erasure && !scope->from[i])
			continue;
		lethe_clock_rule *grown = realloc(rules, (count + 1) * sizeof(*rules));
		if (!grown) {
			free(rules);
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		}
		rules = grown;
		lethe_plan_threshold(&rules[count].due, clock, i);
		/* A held dependent row is not due: it blocks its parent's deletion.
		 * The where strings of dependents are always the planner's own. */
		char *held = NULL, *where = NULL;
		int len;

		if (lethe_plan_held_expr(&held, clock, i) < 0)
			len = -1;
		else
			len = lethe_plan_dependent_where(&where, r->where, held);
		free(held);
		if (len < 0) {
			for (size_t k = 0; k < count; k++)
				free((char *)rules[k].where);
			free(rules);
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		}
		rules[count].where = where;
		rules[count].from = clock_expr(scope, r, i);
		count++;
	}
	*out = rules;
	*n = count;
	return 0;
}

static int build_dependents(lethe_dependents **out, size_t *n, const lethe_policy *p,
			    const lethe_foreign_keys *fks, const char **path, int depth,
			    const lethe_plan_clock *clock)
{
	const char *parent = path[depth - 1];
	lethe_dependents *deps = NULL;
	size_t count = 0;
	int rc = 0;

	for (size_t i = 0; i < fks->count; i++) {
		const lethe_foreign_key *fk = &fks->items[i];
		lethe_dependents *d;

		if (strcasecmp(fk->parent_table, parent))
			continue;
		d = realloc(deps, (count + 1) * sizeof(*deps));
		if (!d) {
			rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
			goto out;
		}
		deps = d;
		d = &deps[count++];
		memset(d, 0, sizeof(*d));
		d->fk = fk;
		if ((rc = dependent_rules((lethe_clock_rule **)&d->rules, &d->nrules, p, fk, clock)) < 0)
			goto out;
		/* SET NULL and SET DEFAULT change the child and stop there. */
		if (fk->on_delete == LETHE_FK_SET_NULL || fk->on_delete == LETHE_FK_SET_DEFAULT)
			continue;
		if (on_path(path, depth, fk->child_table) || depth >= MAX_DEPENDENT_DEPTH) {
			d->cycle = 1;
			continue;
		}
		path[depth] = fk->child_table;
		rc = build_dependents((lethe_dependents **)&d->children, &d->nchildren, p, fks,
				      path, depth + 1, clock);
		if (rc < 0)
			goto out;
	}
out:
	if (rc < 0) {
		lethe_plan_dependents_free(deps, count);
		return rc;
	}
	*out = deps;
	*n = count;
	return 0;
}

int lethe_plan_dependents(lethe_dependents **out, size_t *n, const lethe_policy *p,
			  const lethe_foreign_keys *fks, const lethe_rule *rule,
			  const lethe_plan_clock *clock)
{
	const char *path[MAX_DEPENDENT_DEPTH + 1];

	*out = NULL;
	*n = 0;
	if (lethe_plan_action(rule, clock->scope) != LETHE_ACTION_DELETE)
		return 0;
	path[0] = rule->table;
	return build_dependents(out, n, p, fks, path, 1, clock);
}

lethe_action lethe_plan_action(const lethe_rule *r, const lethe_plan_scope *scope)
{
	return scope && scope->erasure ? lethe_rule_erasure_action(r) : r->action;
}

int lethe_plan_scope_init(lethe_plan_scope *s, const lethe_policy *p, const lethe_value *subject,
			  int erasure)
{
	memset(s, 0, sizeof(*s));
	s->subject = subject;
	s->erasure = erasure;
	s->n = p->nrules;
	s->where = calloc(p->nrules ? p->nrules : 1, sizeof(char *));
	s->from = calloc(p->nrules ? p->nrules : 1, sizeof(char *));
	if (!s->where || !s->from)
		goto oom;
	for (size_t i = 0; i < p->nrules; i++) {
		const lethe_rule *r = &p->rules[i];
		int n;

		/* a rule without a subject has none of the subject's rows (FALSE,
		 * not 0: PostgreSQL refuses an integer where a boolean goes) */
		if (!r->subject) {
			if (!(s->where[i] = strdup("FALSE")))
				goto oom;
			continue;
		}
		/* newlines end any `--` comment in the user's expressions */
		n = r->where ? asprintf(&s->where[i], "(\n%s\n) AND (\n%s\n) = :lethe_subject",
					r->where, r->subject)
			     : asprintf(&s->where[i], "(\n%s\n) = :lethe_subject", r->subject);
		if (n < 0 || (erasure && asprintf(&s->from[i], "(\n%s\n) = :lethe_subject",
						  r->subject) < 0))
			goto oom;
	}
	return 0;
oom:
	lethe_plan_scope_release(s);
	return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
}

void lethe_plan_scope_release(lethe_plan_scope *s)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->where)
			free(s->where[i]);
		if (s->from)
			free(s->from[i]);
	}
	free(s->where);
	free(s->from);
	memset(s, 0, sizeof(*s));
}

int lethe_plan_scan_init(lethe_scan *scan, const lethe_policy *p, size_t index, const char *key,
			 const lethe_dependents *deps, size_t ndeps, lethe_plan_clock *clock)
{
	const lethe_rule *r = &p->rules[index];

	memset(scan, 0, sizeof(*scan));
	scan->table = r->table;
	scan->key = key;
	scan->where = clock->scope ? clock->scope->where[index] : r->where;
	scan->from = lethe_plan_action(r, clock->scope) == LETHE_ACTION_KEEP ? NULL
		     : clock_expr(clock->scope, r, index);
	scan->bind_subject = clock->scope ? clock->scope->subject : NULL;
	char *held = NULL;
	int rc;

	if ((rc = lethe_plan_held_expr(&held, clock, index)) < 0)
		return rc;
	scan->held = held;
	scan->rule = r->name;
	lethe_plan_threshold(&scan->due, clock, index);
	scan->deps = deps;
	scan->ndeps = ndeps;
	/* What a rule pseudonymised or masked is not selected by it again,
	 * while its columns are still in the form the rule left them in. */
	if (lethe_plan_action(r, clock->scope) == LETHE_ACTION_PSEUDONYMISE ||
	    lethe_plan_action(r, clock->scope) == LETHE_ACTION_MASK) {
		lethe_done_column *dc = calloc(r->ncolumns ? r->ncolumns : 1, sizeof(*dc));

		if (!dc)
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		for (size_t i = 0; i < r->ncolumns; i++) {
			const lethe_column_action *ca = &r->columns[i];

			dc[i].column = ca->column;
			dc[i].text = ca->text ? ca->text : LETHE_REDACT_TEXT;
			dc[i].n = ca->n;
			if (lethe_plan_action(r, clock->scope) == LETHE_ACTION_PSEUDONYMISE)
				dc[i].form = LETHE_DONE_TOKEN;
			else if (ca->mask == LETHE_MASK_NULL)
				dc[i].form = LETHE_DONE_NULL;
			else if (ca->mask == LETHE_MASK_REDACT)
				dc[i].form = LETHE_DONE_TEXT;
			else if (ca->mask == LETHE_MASK_FIRST)
				dc[i].form = LETHE_DONE_MAXLEN;
			else
				dc[i].form = ca->mask == LETHE_MASK_YEAR ? LETHE_DONE_YEAR : LETHE_DONE_MONTH;
		}
		scan->done_rule = r->name;
		scan->done_columns = dc;
		scan->ndone_columns = r->ncolumns;
	}
	/* A row due under an earlier delete rule of the same table is that
	 * rule's: each row is disposed of, and counted, once. */
	if (lethe_plan_action(r, clock->scope) == LETHE_ACTION_DELETE) {
		lethe_clock_rule *ex = NULL;
		size_t n = 0;

		for (size_t i = 0; i < index; i++) {
			const lethe_rule *e = &p->rules[i];

			if (lethe_plan_action(e, clock->scope) != LETHE_ACTION_DELETE ||
			    strcasecmp(e->table, r->table))
				continue;
			lethe_clock_rule *grown = realloc(ex, (n + 1) * sizeof(*ex));
			if (!grown) {
				free(ex);
				return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
			}
			ex = grown;
			lethe_plan_threshold(&ex[n].due, clock, i);
			ex[n].where = e->where;
			ex[n].from = clock_expr(clock->scope, e, i);
			n++;
		}
		scan->exclude = ex;
		scan->nexclude = n;
	}
	return 0;
}

void lethe_plan_scan_release(lethe_scan *scan)
{
	free((char *)scan->held);
	scan->held = NULL;
	free((lethe_done_column *)scan->done_columns);
	scan->done_columns = NULL;
	free((lethe_clock_rule *)scan->exclude);
	scan->exclude = NULL;
	scan->nexclude = 0;
}

/* --- planning ------------------------------------------------------------- */

int lethe_plan_alloc(lethe_plan **out, const lethe_policy *policy, lethe_day as_of)
{
	lethe_plan *plan = calloc(1, sizeof(*plan));

	if (!plan || !(plan->rules = calloc(policy->nrules ? policy->nrules : 1, sizeof(*plan->rules)))) {
		free(plan);
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	plan->as_of = as_of;
	plan->nrules = policy->nrules;
	for (size_t i = 0; i < policy->nrules; i++)
		plan->rules[i].rule = &policy->rules[i];
	*out = plan;
	return 0;
}

void lethe_plan_free(lethe_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; plan->rules && i < plan->nrules; i++)
		for (size_t j = 0; j < plan->rules[i].ninvalid_examples; j++)
			free(plan->rules[i].invalid_examples[j]);
	free(plan->rules);
	free(plan);
}

static json_t *rule_json(const lethe_rule_plan *rp, const char *due_name)
{
	char day[11];
	json_t *o = json_object(), *ex = json_array();

	if (!o || !ex)
		goto fail;
	for (size_t j = 0; j < rp->ninvalid_examples; j++)
		if (json_array_append_new(ex, json_string(rp->invalid_examples[j])) < 0)
			goto fail;
	if (rp->has_next_due)
		lethe_day_format(rp->next_due, day);
	if (json_object_set_new(o, "name", json_string(rp->rule->name)) ||
	    json_object_set_new(o, "table", json_string(rp->rule->table)) ||
	    json_object_set_new(o, "action", json_string(lethe_action_name(rp->rule->action))) ||
	    json_object_set_new(o, "in_scope", json_integer(rp->in_scope)) ||
	    json_object_set_new(o, due_name, json_integer(rp->due)) ||
	    json_object_set_new(o, "not_due", json_integer(rp->not_due)) ||
	    json_object_set_new(o, "not_started", json_integer(rp->not_started)) ||
	    json_object_set_new(o, "invalid", json_integer(rp->invalid)) ||
	    json_object_set_new(o, "held", json_integer(rp->held)) ||
	    json_object_set_new(o, "blocked", json_integer(rp->blocked)) ||
	    json_object_set_new(o, "next_due", rp->has_next_due ? json_string(day) : json_null()) ||
	    json_object_set_new(o, "invalid_examples", ex) ||
	    json_object_set_new(o, "basis", json_string(rp->rule->basis)) ||
	    (rp->unplanned && json_object_set_new(o, "unplanned", json_integer(rp->unplanned))) ||
	    (rp->skipped && json_object_set_new(o, "skipped", json_integer(rp->skipped))))
		goto fail_o;
	return o;
fail:
	json_decref(ex);
fail_o:
	json_decref(o);
	return NULL;
}

int lethe_plan_to_json(char **out, const lethe_plan *plan, const char *due_name)
{
	char day[11];
	json_t *root = json_object(), *rules = json_array();
	char *text = NULL;
	int rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");

	if (!root || !rules)
		goto out;
	lethe_day_format(plan->as_of, day);
	if (json_object_set_new(root, "as_of", json_string(day)))
		goto out;
	for (size_t i = 0; i < plan->nrules; i++) {
		json_t *o = rule_json(&plan->rules[i], due_name);
		if (!o || json_array_append_new(rules, o) < 0)
			goto out;
	}
	if (json_object_set(root, "rules", rules) < 0)
		goto out;
	text = json_dumps(root, JSON_INDENT(2));
	if (!text)
		goto out;
	*out = text;
	rc = 0;
out:
	json_decref(rules);
	json_decref(root);
	return rc;
}
