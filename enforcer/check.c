/*
 * check.c - the policy against the live schema.
 *
 * Everything that needs no database is checked by the policy loader; this
 * file adds what only the register can tell: that tables and columns exist,
 * that a rule's key identifies one row, that a `null` mask never meets a NOT
 * NULL column, and that every SQL expression prepares under the read-only
 * authorizer. It reads the schema only and never a row.
 *
 * Invariant: every fault is appended to diags at the mark of the value that
 * caused it; the function goes on after a fault so all are reported at once.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "lethe/check.h"
#include "lethe/error.h"

const char *lethe_rule_key(const lethe_rule *rule, const lethe_table_info *t)
{
	if (rule->key)
		return rule->key;
	if (t->npk == 1) {
		for (size_t i = 0; i < t->ncolumns; i++)
			if (t->columns[i].pk == 1)
				return t->columns[i].name;
	}
	if (t->without_rowid)
		return NULL;
	return "rowid";
}

static int is_rowid_name(const char *s)
{
	return !strcasecmp(s, "rowid") || !strcasecmp(s, "oid") || !strcasecmp(s, "_rowid_");
}

/* A key must name exactly one row: the rowid, a single-column primary key,
 * or a column with a UNIQUE index. */
static int check_key(const lethe_rule *rule, const lethe_table_info *t, lethe_diags *d)
{
	const lethe_column_info *c;
	lethe_mark m = rule->key ? rule->key_mark : rule->table_mark;

	if (!rule->key) {
		if (!lethe_rule_key(rule, t))
			return lethe_diags_addm(d, m, "table '%s' has a composite primary key "
						"and no rowid: give the rule a 'key'", t->name);
		return 0;
	}
	if (is_rowid_name(rule->key)) {
		if (t->without_rowid)
			return lethe_diags_addm(d, m, "table '%s' is WITHOUT ROWID: 'rowid' "
						"cannot be its key", t->name);
		return 0;
	}
	c = lethe_table_column(t, rule->key);
	if (!c)
		return lethe_diags_addm(d, m, "'key': no such column '%s' in table '%s'",
					rule->key, t->name);
	if (!((c->pk == 1 && t->npk == 1) || c->unique))
		return lethe_diags_addm(d, m, "'key': column '%s' of table '%s' is not unique "
					"(no primary key or unique index on it)", rule->key, t->name);
	return 0;
}

static int check_expr(lethe_backend *be, const char *table, const char *what,
		      const char *expr, lethe_mark m, lethe_diags *d)
{
	char *why = NULL;
	int rc;

	if (!expr)
		return 0;
	rc = lethe_backend_check_expr(be, table, expr, &why);
	if (rc == LETHE_EDATA) {
		rc = lethe_diags_addm(d, m, "'%s': %s", what, why ? why : "invalid expression");
		free(why);
		return rc;
	}
	free(why);
	return rc;
}

static int check_columns(const lethe_rule *rule, const lethe_table_info *t,
			 const char *key, lethe_diags *d)
{
	int rc = 0;

	for (size_t i = 0; i < rule->ncolumns && rc == 0; i++) {
		const lethe_column_action *ca = &rule->columns[i];
		const lethe_column_info *c = lethe_table_column(t, ca->column);

		if (!c) {
			rc = lethe_diags_addm(d, ca->mark, "no such column '%s' in table '%s'",
					      ca->column, t->name);
		} else if (key && !strcasecmp(key, c->name)) {
			rc = lethe_diags_addm(d, ca->mark, "'%s' is the rule's key: it identifies "
					      "rows and cannot be %s", c->name,
					      rule->action == LETHE_ACTION_MASK ? "masked" : "pseudonymised");
		} else if (rule->action == LETHE_ACTION_MASK && ca->mask == LETHE_MASK_NULL && c->notnull) {
			rc = lethe_diags_addm(d, ca->mark, "'%s': mask 'null' on a NOT NULL column "
					      "of table '%s'", c->name, t->name);
		}
	}
	return rc;
}

static int check_rule(lethe_backend *be, const lethe_rule *rule, lethe_diags *d)
{
	lethe_table_info *t = NULL;
	int rc;

	rc = lethe_backend_table_info(&t, be, rule->table);
	if (rc == LETHE_ENOTFOUND)
		return lethe_diags_addm(d, rule->table_mark, "no such table '%s'", rule->table);
	if (rc < 0)
		return rc;
	if (t->is_view) {
		rc = lethe_diags_addm(d, rule->table_mark, "'%s' is a view: rules dispose of "
				      "rows of tables", rule->table);
		goto out;
	}
	if ((rc = check_key(rule, t, d)) < 0)
		goto out;
	if ((rc = check_columns(rule, t, lethe_rule_key(rule, t), d)) < 0)
		goto out;
	if ((rc = check_expr(be, rule->table, "where", rule->where, rule->where_mark, d)) < 0)
		goto out;
	if ((rc = check_expr(be, rule->table, "from", rule->from, rule->from_mark, d)) < 0)
		goto out;
	rc = check_expr(be, rule->table, "subject", rule->subject, rule->subject_mark, d);
out:
	lethe_table_info_free(t);
	return rc;
}

static int check_subject(lethe_backend *be, const lethe_policy *p, lethe_diags *d)
{
	lethe_table_info *t = NULL;
	int rc;

	if (!p->subject_table)
		return 0;
	rc = lethe_backend_table_info(&t, be, p->subject_table);
	if (rc == LETHE_ENOTFOUND)
		return lethe_diags_addm(d, p->subject_table_mark, "'subject': no such table '%s'",
					p->subject_table);
	if (rc < 0)
		return rc;
	if (p->subject_key && !is_rowid_name(p->subject_key) &&
	    !lethe_table_column(t, p->subject_key))
		rc = lethe_diags_addm(d, p->subject_key_mark, "'subject': no such column '%s' "
				      "in table '%s'", p->subject_key, p->subject_table);
	for (size_t i = 0; rc == 0 && i < p->nsubject_contact; i++)
		if (!lethe_table_column(t, p->subject_contact[i]))
			rc = lethe_diags_addm(d, p->subject_contact_mark, "'contact': no such column "
					      "'%s' in table '%s'", p->subject_contact[i], p->subject_table);
	lethe_table_info_free(t);
	return rc;
}

int lethe_check_schema(lethe_backend *be, const lethe_policy *policy, lethe_diags *diags)
{
	size_t before = diags->count;
	int rc;

	if ((rc = check_subject(be, policy, diags)) < 0)
		return rc;
	for (size_t i = 0; i < policy->nrules; i++)
		if ((rc = check_rule(be, &policy->rules[i], diags)) < 0)
			return rc;
	return diags->count > before ? LETHE_EDATA : 0;
}
