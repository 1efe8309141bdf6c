/*
 * plan_holds.c - the legal holds in force on a day, as planning uses them:
 * loaded from the register (lethe_holds) and turned into one SQL expression
 * per table that is true for a held row.
 *
 * Invariants:
 *  - A hold protects rows, not one rule's view of them: the expression is the
 *    same for every rule of a table (see plan_impl.h), so no rule of the
 *    table, no cascade and no erasure disposes of a row another rule's hold
 *    covers (docs/disposal.md, "Legal holds and every rule").
 *  - No key or subject value is ever pasted into SQL: subject holds are
 *    looked up in lethe_holds by the expression itself.
 *  - A rule's keep_while (policy-language.md) is a hold by condition: it
 *    joins the same expression, so its rows are counted held and protected
 *    the same way, in runs and erasures alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "lethe/error.h"
#include "lethe/plan.h"
#include "expr_lex.h"
#include "strbuf.h"
#include "strvec.h"
#include "plan_impl.h"

typedef struct {
	lethe_plan_holds *h;
	char day[11];
} holds_load;

static int hold_one(void *ctx, const lethe_hold *h)
{
	holds_load *l = ctx;
	char **rule, **where;
	const char *why;

	if (h->released_at || (h->until && strcmp(h->until, l->day) < 0))
		return 0;
	/* `hold add` refuses such a where; this catches one written otherwise */
	if (h->where && (why = lethe_expr_escape(h->where)))
		return lethe_error_set(LETHE_EDATA, "hold %lld: refused where expression: %s",
				       (long long)h->id, why);
	if (!h->rule) {
		l->h->any_subject = 1;
		return 0;
	}
	rule = realloc(l->h->rule, (l->h->n + 1) * sizeof(char *));
	if (rule)
		l->h->rule = rule;
	where = realloc(l->h->where, (l->h->n + 1) * sizeof(char *));
	if (where)
		l->h->where = where;
	if (!rule || !where)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	rule[l->h->n] = strdup(h->rule);
	where[l->h->n] = h->where ? strdup(h->where) : NULL;
	l->h->n++;
	if (!rule[l->h->n - 1] || (h->where && !where[l->h->n - 1]))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	return 0;
}

int lethe_plan_holds_load(lethe_plan_holds *out, lethe_backend *be, lethe_day as_of)
{
	holds_load l = { out, "" };
	int rc;

	memset(out, 0, sizeof(*out));
	lethe_day_format(as_of, l.day);
	if ((rc = lethe_backend_holds(be, hold_one, &l)) < 0)
		lethe_plan_holds_release(out);
	return rc;
}

void lethe_plan_holds_release(lethe_plan_holds *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->rule[i]);
		free(h->where[i]);
	}
	free(h->rule);
	free(h->where);
	memset(h, 0, sizeof(*h));
}

/* Add the term fmt(a, b) to terms unless an equal term is there already:
 * X OR X is X, and each copy would cost the register one more evaluation
 * per row (two rules of one table with the same keep_while, the reference
 * shop's customers, made every customer's EXISTS run twice). 0 or -1 (out
 * of memory). */
static int or_term(lethe_strvec *terms, const char *fmt, const char *a, const char *b)
{
	char *term = NULL;

	if (asprintf(&term, fmt, a, b) < 0)
		return -1;
	if (lethe_strvec_contains(terms, term)) {
		free(term);
		return 0;
	}
	return lethe_strvec_push_owned(terms, term) < 0 ? -1 : 0;
}

/* The terms joined by " OR " in *out (malloc'd), NULL for none. 0 or -1. */
static int or_join(char **out, const lethe_strvec *terms)
{
	lethe_strbuf b = LETHE_STRBUF_INIT;

	*out = NULL;
	if (terms->n == 0)
		return 0;
	for (size_t i = 0; i < terms->n; i++)
		if ((i && lethe_strbuf_adds(&b, " OR ") < 0) || lethe_strbuf_adds(&b, terms->v[i]) < 0) {
			lethe_strbuf_release(&b);
			return -1;
		}
	*out = lethe_strbuf_detach(&b, NULL);
	return *out ? 0 : -1;
}

/* See plan_impl.h. */
int lethe_plan_held_expr(char **out, const lethe_plan_clock *c, size_t index)
{
	const lethe_rule *r = &c->policy->rules[index];
	lethe_strvec terms = LETHE_STRVEC_INIT;
	char day[11], *subject_sql = NULL;
	int rc = 0;

	*out = NULL;
	/* A rule's keep_while protects the table's rows like a hold: no rule
	 * of the table, no cascade and no erasure disposes of them.
	 * Booleans TRUE and FALSE: SQL every engine shares (PostgreSQL
	 * refuses coalesce(boolean, 0) and 1 AND boolean). */
	for (size_t j = 0; j < c->policy->nrules && rc == 0; j++) {
		const lethe_rule *b = &c->policy->rules[j];

		if (b->keep_while && !strcasecmp(b->table, r->table))
			rc = or_term(&terms, "coalesce((\n%s\n) AND (\n%s\n), FALSE)",
				     b->where ? b->where : "TRUE", b->keep_while);
	}
	if (rc < 0 || !c->holds)
		goto out;
	lethe_day_format(c->as_of, day);
	/* SQL every engine shares: subjects compared as text (a server's
	 * register keeps a hold's subject as text), made text by '' || x
	 * (MariaDB has no CAST(x AS TEXT)), booleans TRUE and FALSE */
	if (asprintf(&subject_sql, "IN (SELECT '' || subject FROM lethe_holds WHERE rule IS "
		     "NULL AND released_at IS NULL AND (until IS NULL OR until >= '%s'))", day) < 0) {
		subject_sql = NULL;
		rc = -1;
		goto out;
	}
	for (size_t j = 0; j < c->policy->nrules && rc == 0; j++) {
		const lethe_rule *b = &c->policy->rules[j];

		if (strcasecmp(b->table, r->table))
			continue;
		if (c->holds->any_subject && b->subject)
			rc = or_term(&terms, "coalesce(('' || (\n%s\n)) %s, FALSE)", b->subject,
				     subject_sql);
		for (size_t i = 0; i < c->holds->n && rc == 0; i++) {
			if (strcmp(c->holds->rule[i], b->name))
				continue;
			rc = or_term(&terms, "coalesce((\n%s\n) AND (\n%s\n), FALSE)",
				     b->where ? b->where : "TRUE",
				     c->holds->where[i] ? c->holds->where[i] : "TRUE");
		}
	}
out:
	free(subject_sql);
	if (rc == 0)
		rc = or_join(out, &terms);
	lethe_strvec_clear(&terms);
	return rc < 0 ? lethe_error_set(LETHE_ESOFTWARE, "out of memory") : 0;
}

