/*
 * check.c - the policy against the live schema.
 *
 * Everything that needs no database is checked by the policy loader; this
 * file adds what only the register can tell: that tables and columns exist,
 * that a rule's key identifies one row, that a `null` mask never meets a NOT
 * NULL column, and that every SQL expression prepares under the read-only
 * authorizer; check_schema.c adds the keys, column types and triggers on
 * which a run would dispose of rows it must keep. It reads the schema only
 * and never a row.
 *
 * Invariant: every fault is appended to diags at the mark of the value that
 * caused it; the function goes on after a fault so all are reported at once.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "check_impl.h"
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
	/* The engine's own row identity (SQLite: the rowid), chosen by the
	 * backend. */
	return t->row_key;
}

static int check_expr(lethe_backend *be, const char *table, const char *what,
		      const char *expr, lethe_mark m, lethe_diags *d)
{
	char *why = NULL;
	int rc;

	if (!expr)
		return 0;
	rc = lethe_backend_check_expr(be, table, expr, &why);
	if (rc == 0 && !strcmp(what, "from"))
		rc = lethe_backend_check_clock(be, table, expr, &why);
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

static int check_rule(lethe_backend *be, const lethe_rule *rule, const lethe_foreign_keys *fks,
		      lethe_diags *d)
{
	size_t before = d->count;
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
	if ((rc = lethe_check_rule_key(rule, t, d)) < 0)
		goto out;
	if ((rc = check_columns(rule, t, lethe_rule_key(rule, t), d)) < 0)
		goto out;
	if ((rc = lethe_check_rule_columns(rule, t, fks, d)) < 0)
		goto out;
	/* The trigger analysis prepares the disposal: only for a rule whose
	 * table, key and columns are sound. */
	if (d->count == before && (rc = lethe_check_rule_triggers(be, rule, t, d)) < 0)
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
	if (p->subject_key && !lethe_is_rowid_name(p->subject_key) &&
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
	lethe_foreign_keys *fks = NULL;
	size_t before = diags->count;
	int rc;

	if ((rc = check_subject(be, policy, diags)) < 0)
		return rc;
	/* A foreign key that references a missing table is reported by plan
	 * and run; here it only means no column is known to be referenced. */
	if ((rc = lethe_backend_foreign_keys(&fks, be)) < 0 && rc != LETHE_EDATA)
		return rc;
	rc = 0;
	for (size_t i = 0; i < policy->nrules && rc >= 0; i++)
		rc = check_rule(be, &policy->rules[i], fks, diags);
	lethe_foreign_keys_free(fks);
	if (rc < 0)
		return rc;
	if (diags->count > before)
		return LETHE_EDATA;
	/* What run, erase and replay then write against is this schema. */
	return lethe_backend_pin_schema(be);
}
