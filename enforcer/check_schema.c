/*
 * check_schema.c - the schema faults on which a run would dispose of rows it
 * must keep, or fail on every run: keys that do not name exactly one row,
 * transforms the column cannot take, and triggers whose effect Lethe has not
 * analysed (docs/disposal.md, "What check refuses, and why").
 *
 * Invariants:
 *  - Only the schema is read, never a row; the trigger analysis prepares the
 *    disposing statement's shape and never steps it.
 *  - Each fault is appended to diags at the mark of the policy value that
 *    meets it, naming the table, column or trigger; the functions go on after
 *    a fault so all are reported in one pass.
 *  - run, erase and replay execute only policies these functions accepted
 *    (cli_register_open), and the backend's apply repeats the trigger
 *    analysis inside the write transaction, where the schema can no longer
 *    change under it (backend_sqlite_triggers.c).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "check_impl.h"
#include "lethe/error.h"

int lethe_is_rowid_name(const char *s)
{
	return !strcasecmp(s, "rowid") || !strcasecmp(s, "oid") || !strcasecmp(s, "_rowid_");
}

/* --- keys --------------------------------------------------------------------- */

int lethe_check_rule_key(const lethe_rule *rule, const lethe_table_info *t, lethe_diags *d)
{
	lethe_mark m = rule->key ? rule->key_mark : rule->table_mark;
	const char *key = lethe_rule_key(rule, t);
	const lethe_column_info *c;

	if (!key && t->without_rowid)
		return lethe_diags_addm(d, m, "table '%s' has a composite primary key "
					"and no rowid: give the rule a 'key'", t->name);
	if (!key)
		return lethe_diags_addm(d, m, "table '%s' has columns named rowid, _rowid_ and oid "
					"that hide its rowid: give the rule a 'key'", t->name);
	if (!(c = lethe_table_column(t, key))) {
		if (!lethe_is_rowid_name(key))
			return lethe_diags_addm(d, m, "'key': no such column '%s' in table '%s'",
						key, t->name);
		if (t->without_rowid)
			return lethe_diags_addm(d, m, "table '%s' is WITHOUT ROWID: '%s' "
						"cannot be its key", t->name, key);
		return 0;
	}
	if (c->rowid_alias)
		return 0;
	if (!c->unique && c->unique_other_collation)
		return lethe_diags_addm(d, m, "key column '%s' of table '%s' compares with "
					"collation %s but its unique index with another: one key "
					"may name several rows", c->name, t->name, c->collation);
	if (!c->unique)
		return lethe_diags_addm(d, m, "key column '%s' of table '%s' is not unique "
					"(no primary key or unique index on it)%s", c->name, t->name,
					lethe_is_rowid_name(c->name) ?
					": it hides the rowid, use _rowid_ or oid" : "");
	if (!c->notnull)
		return lethe_diags_addm(d, m, "key column '%s' of table '%s' may hold NULL, "
					"which names no row: declare it NOT NULL", c->name, t->name);
	return 0;
}

/* --- what a column can take ----------------------------------------------------------- */

static const char *mask_name(lethe_mask_kind m)
{
	switch (m) {
	case LETHE_MASK_NULL:
		return "null";
	case LETHE_MASK_REDACT:
		return "redact";
	case LETHE_MASK_YEAR:
		return "year";
	case LETHE_MASK_MONTH:
		return "month";
	default:
		return "first";
	}
}

/* The child table of a foreign key that references t.column, or NULL. */
static const char *referenced_by(const lethe_foreign_keys *fks, const lethe_table_info *t,
				 const char *column)
{
	for (size_t i = 0; fks && i < fks->count; i++) {
		const lethe_foreign_key *fk = &fks->items[i];

		if (strcasecmp(fk->parent_table, t->name))
			continue;
		for (size_t j = 0; j < fk->ncolumns; j++)
			if (fk->parent_columns[j] && !strcasecmp(fk->parent_columns[j], column))
				return fk->child_table;
	}
	return NULL;
}

/* A STRICT column that stores text: TEXT or ANY. */
static int takes_text(const lethe_table_info *t, const lethe_column_info *c)
{
	return !t->strict || !strcasecmp(c->decl_type, "TEXT") || !strcasecmp(c->decl_type, "ANY");
}

static int check_column(const lethe_rule *rule, lethe_action action, const lethe_column_action *ca,
			const lethe_table_info *t, const lethe_column_info *c,
			const lethe_foreign_keys *fks, lethe_diags *d)
{
	const char *verb = action == LETHE_ACTION_MASK ? "masked" : "pseudonymised";
	const char *child;

	(void)rule;
	if (c->generated)
		return lethe_diags_addm(d, ca->mark, "'%s' is a generated column of table '%s': "
					"it cannot be %s; dispose of the columns it is computed "
					"from", c->name, t->name, verb);
	if ((child = referenced_by(fks, t, c->name)))
		return lethe_diags_addm(d, ca->mark, "'%s' of table '%s' is referenced by a foreign "
					"key of table '%s': it cannot be %s without breaking that "
					"reference", c->name, t->name, child, verb);
	if (action == LETHE_ACTION_PSEUDONYMISE && !takes_text(t, c))
		return lethe_diags_addm(d, ca->mark, "'%s' is a %s column of STRICT table '%s': "
					"a token is text and cannot be stored in it", c->name,
					c->decl_type, t->name);
	if (action != LETHE_ACTION_MASK)
		return 0;
	if ((ca->mask == LETHE_MASK_REDACT || ca->mask == LETHE_MASK_FIRST) && !takes_text(t, c))
		return lethe_diags_addm(d, ca->mark, "'%s' is a %s column of STRICT table '%s': "
					"mask '%s' gives text, which cannot be stored in it",
					c->name, c->decl_type, t->name, mask_name(ca->mask));
	if (ca->mask != LETHE_MASK_NULL && c->in_unique)
		return lethe_diags_addm(d, ca->mark, "'%s' of table '%s' is UNIQUE: mask '%s' gives "
					"different rows the same value, which fails every run (or "
					"replaces, and so deletes, the other row); use 'null' or "
					"pseudonymise", c->name, t->name, mask_name(ca->mask));
	return 0;
}

int lethe_check_rule_columns(const lethe_rule *rule, const lethe_table_info *t,
			     const lethe_foreign_keys *fks, lethe_diags *d)
{
	lethe_action modes[2] = { rule->action, rule->subject ? rule->on_erasure : rule->action };
	int rc = 0;

	for (size_t m = 0; m < 2 && rc == 0; m++) {
		if ((modes[m] != LETHE_ACTION_PSEUDONYMISE && modes[m] != LETHE_ACTION_MASK) ||
		    (m == 1 && modes[1] == modes[0]))
			continue;
		for (size_t i = 0; i < rule->ncolumns && rc == 0; i++) {
			const lethe_column_info *c = lethe_table_column(t, rule->columns[i].column);

			if (c)
				rc = check_column(rule, modes[m], &rule->columns[i], t, c, fks, d);
		}
	}
	return rc;
}

/* --- triggers ------------------------------------------------------------------------ */

int lethe_rule_acknowledges(const lethe_rule *rule, const char *trigger)
{
	for (size_t i = 0; i < rule->ntriggers; i++)
		if (!strcasecmp(rule->triggers[i], trigger))
			return 1;
	return 0;
}

typedef struct {
	const lethe_rule *rule;
	const lethe_change *change;
	lethe_diags *d;
} trigger_ctx;

static int refuse_trigger(void *ctx, const char *trigger, int harmless)
{
	trigger_ctx *tc = ctx;
	const lethe_change *c = tc->change;

	if (harmless || lethe_rule_acknowledges(tc->rule, trigger))
		return 0;
	return lethe_diags_addm(tc->d, tc->rule->table_mark, "trigger '%s' runs when rule '%s' "
				"%s rows of table '%s' and does more than keep a full-text "
				"index in step, so Lethe cannot tell what it disposes of or "
				"keeps: drop it, or acknowledge it under the rule's 'triggers'",
				trigger, tc->rule->name, c->delete ? "deletes" : "updates", c->table);
}

static int check_change_triggers(lethe_backend *be, const lethe_rule *rule,
				 const lethe_change *c, lethe_diags *d)
{
	trigger_ctx tc = { rule, c, d };
	int rc = lethe_backend_change_triggers(be, c, refuse_trigger, &tc);

	if (rc == LETHE_EDATA)
		return lethe_diags_addm(d, rule->table_mark, "%s", lethe_error_last());
	return rc;
}

int lethe_check_rule_triggers(lethe_backend *be, const lethe_rule *rule,
			      const lethe_table_info *t, lethe_diags *d)
{
	lethe_action modes[2] = { rule->action, rule->subject ? rule->on_erasure : rule->action };
	const char **columns = NULL;
	lethe_change c = { .table = rule->table, .key = lethe_rule_key(rule, t), .rule = rule->name };
	int rc = 0;

	if (!c.key)
		return 0;
	if (rule->ncolumns && !(columns = calloc(rule->ncolumns, sizeof(*columns))))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	for (size_t i = 0; i < rule->ncolumns; i++)
		columns[i] = rule->columns[i].column;
	for (size_t m = 0; m < 2 && rc == 0; m++) {
		if (modes[m] == LETHE_ACTION_KEEP || (m == 1 && modes[1] == modes[0]))
			continue;
		c.delete = modes[m] == LETHE_ACTION_DELETE;
		if (!c.delete && !rule->ncolumns)
			continue;
		c.columns = columns;
		c.ncolumns = c.delete ? 0 : rule->ncolumns;
		rc = check_change_triggers(be, rule, &c, d);
	}
	free(columns);
	return rc;
}
