/*
 * backend_maria_schema.c - the MariaDB backend's view of the register's
 * schema: tables and their columns, foreign keys (information_schema of the
 * connection's database).
 *
 * Invariants:
 *  - Only tables of the connection's database (DATABASE()) are seen.
 *  - A base table whose engine is not InnoDB is refused by table_info: its
 *    changes cannot be rolled back, row-locked or re-checked in a batch
 *    (MyISAM, Aria, MEMORY...), so no rule may act on it.
 */
#include <stdlib.h>
#include <string.h>
#include "backend_maria.h"
#include "lethe/error.h"

static int oom(void)
{
	return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
}

static const char *cell(const lethe_maria_result *r, size_t row, size_t col)
{
	const char *c = r->cells[row * r->ncols + col];

	return c ? c : "";
}

int lethe_maria_table_info(lethe_table_info **out, lethe_backend *base, const char *table)
{
	lethe_maria *be = (lethe_maria *)base;
	lethe_table_info *t = NULL;
	lethe_maria_result *kind = NULL, *cols = NULL;
	lethe_value v[1] = { { .type = LETHE_VALUE_TEXT, .s = table, .len = strlen(table) } };
	size_t i;
	int rc;

	if ((rc = lethe_maria_exec(&kind, be, "look up a table",
				   "SELECT table_type, coalesce(engine, '') FROM information_schema.tables "
				   "WHERE table_schema = DATABASE() AND table_name = ?", 1, v)) < 0)
		return rc;
	if (!kind->nrows) {
		rc = lethe_error_set(LETHE_ENOTFOUND, "no such table: %s", table);
		goto out;
	}
	if (strcmp(cell(kind, 0, 0), "VIEW") && strcmp(cell(kind, 0, 1), "InnoDB")) {
		rc = lethe_error_set(LETHE_EDATA, "table '%s' uses the %s engine: Lethe acts only on "
				     "InnoDB tables (transactions, row locks); convert it with "
				     "ALTER TABLE ... ENGINE=InnoDB", table,
				     *cell(kind, 0, 1) ? cell(kind, 0, 1) : "unknown");
		goto out;
	}
	/* the columns; a single-column unique index, membership of any unique
	 * index and the primary key position from information_schema.statistics */
	if ((rc = lethe_maria_exec(&cols, be, "read the columns",
				   "SELECT c.column_name, c.column_type, c.is_nullable = 'NO', "
				   "coalesce((SELECT s.seq_in_index FROM information_schema.statistics s "
				   "WHERE s.table_schema = c.table_schema AND s.table_name = c.table_name "
				   "AND s.index_name = 'PRIMARY' AND s.column_name = c.column_name), 0), "
				   "EXISTS (SELECT 1 FROM information_schema.statistics s WHERE "
				   "s.table_schema = c.table_schema AND s.table_name = c.table_name AND "
				   "s.non_unique = 0 AND s.column_name = c.column_name AND s.sub_part IS NULL "
				   "AND (SELECT count(*) FROM information_schema.statistics s2 WHERE "
				   "s2.table_schema = s.table_schema AND s2.table_name = s.table_name AND "
				   "s2.index_name = s.index_name) = 1), "
				   "EXISTS (SELECT 1 FROM information_schema.statistics s WHERE "
				   "s.table_schema = c.table_schema AND s.table_name = c.table_name AND "
				   "s.non_unique = 0 AND s.column_name = c.column_name), "
				   "c.extra LIKE '%GENERATED%', coalesce(c.collation_name, 'BINARY') "
				   "FROM information_schema.columns c WHERE c.table_schema = DATABASE() AND "
				   "c.table_name = ? ORDER BY c.ordinal_position", 1, v)) < 0)
		goto out;
	if (!(t = calloc(1, sizeof(*t))) || !(t->name = strdup(table)) ||
	    !(t->columns = calloc(cols->nrows + 1, sizeof(*t->columns)))) {
		rc = oom();
		goto out;
	}
	t->is_view = !strcmp(cell(kind, 0, 0), "VIEW");
	for (i = 0; i < cols->nrows; i++) {
		lethe_column_info *c = &t->columns[t->ncolumns];

		c->name = strdup(cell(cols, i, 0));
		c->decl_type = strdup(cell(cols, i, 1));
		c->collation = strdup(cell(cols, i, 7));
		t->ncolumns++;
		if (!c->name || !c->decl_type || !c->collation) {
			rc = oom();
			goto out;
		}
		c->notnull = !strcmp(cell(cols, i, 2), "1");
		c->pk = atoi(cell(cols, i, 3));
		c->unique = !strcmp(cell(cols, i, 4), "1");
		c->in_unique = !strcmp(cell(cols, i, 5), "1");
		c->generated = !strcmp(cell(cols, i, 6), "1");
		if (c->pk)
			t->npk++;
	}
	*out = t;
	t = NULL;
out:
	lethe_maria_result_free(kind);
	lethe_maria_result_free(cols);
	lethe_table_info_free(t);
	return rc;
}

static lethe_fk_action fk_action(const char *rule)
{
	if (!strcmp(rule, "CASCADE"))
		return LETHE_FK_CASCADE;
	if (!strcmp(rule, "SET NULL"))
		return LETHE_FK_SET_NULL;
	if (!strcmp(rule, "SET DEFAULT"))
		return LETHE_FK_SET_DEFAULT;
	if (!strcmp(rule, "RESTRICT"))
		return LETHE_FK_RESTRICT;
	return LETHE_FK_NO_ACTION;
}

/* One row per key column, ordered by constraint and position: the columns
 * of consecutive rows of the same constraint make one foreign key. */
int lethe_maria_foreign_keys(lethe_foreign_keys **out, lethe_backend *base)
{
	lethe_maria *be = (lethe_maria *)base;
	lethe_foreign_keys *fks = NULL;
	lethe_maria_result *r = NULL;
	size_t i, j, n;
	int rc;

	if ((rc = lethe_maria_exec(&r, be, "read the foreign keys",
				   "SELECT k.table_name, k.constraint_name, k.referenced_table_name, "
				   "k.column_name, k.referenced_column_name, rc.delete_rule "
				   "FROM information_schema.key_column_usage k JOIN "
				   "information_schema.referential_constraints rc ON "
				   "rc.constraint_schema = k.constraint_schema AND rc.table_name = k.table_name "
				   "AND rc.constraint_name = k.constraint_name WHERE k.table_schema = DATABASE() "
				   "AND k.referenced_table_name IS NOT NULL AND k.referenced_table_schema = "
				   "k.table_schema ORDER BY k.table_name, k.constraint_name, "
				   "k.ordinal_position", 0, NULL)) < 0)
		return rc;
	if (!(fks = calloc(1, sizeof(*fks))) || !(fks->items = calloc(r->nrows + 1, sizeof(*fks->items)))) {
		rc = oom();
		goto out;
	}
	for (i = 0; i < r->nrows; i = j) {
		lethe_foreign_key *fk = &fks->items[fks->count++];

		for (j = i; j < r->nrows && !strcmp(cell(r, j, 0), cell(r, i, 0)) &&
			    !strcmp(cell(r, j, 1), cell(r, i, 1)); j++)
			;
		n = j - i;
		fk->child_table = strdup(cell(r, i, 0));
		fk->parent_table = strdup(cell(r, i, 2));
		fk->child_columns = calloc(n, sizeof(char *));
		fk->parent_columns = calloc(n, sizeof(char *));
		fk->on_delete = fk_action(cell(r, i, 5));
		if (!fk->child_table || !fk->parent_table || !fk->child_columns || !fk->parent_columns) {
			rc = oom();
			goto out;
		}
		fk->ncolumns = n;
		for (size_t k = 0; k < n; k++)
			if (!(fk->child_columns[k] = strdup(cell(r, i + k, 3))) ||
			    !(fk->parent_columns[k] = strdup(cell(r, i + k, 4)))) {
				rc = oom();
				goto out;
			}
	}
	*out = fks;
	fks = NULL;
out:
	lethe_maria_result_free(r);
	lethe_foreign_keys_free(fks);
	return rc;
}

/* Triggers on the changed table for its event (DELETE or UPDATE). A
 * cascade's triggers on other tables: InnoDB never fires triggers for
 * foreign-key actions, so there are none to report. */
int lethe_maria_change_triggers(lethe_backend *base, const lethe_change *c,
				int (*cb)(void *ctx, const char *trigger, int harmless), void *ctx)
{
	lethe_maria *be = (lethe_maria *)base;
	lethe_maria_result *r = NULL;
	const char *event = c->delete ? "DELETE" : "UPDATE";
	lethe_value v[2] = { { .type = LETHE_VALUE_TEXT, .s = c->table, .len = strlen(c->table) },
			     { .type = LETHE_VALUE_TEXT, .s = event, .len = strlen(event) } };
	int rc;

	if ((rc = lethe_maria_exec(&r, be, "read the triggers",
				   "SELECT trigger_name FROM information_schema.triggers WHERE "
				   "event_object_schema = DATABASE() AND event_object_table = ? AND "
				   "event_manipulation = ? ORDER BY trigger_name", 2, v)) < 0)
		return rc;
	for (size_t i = 0; i < r->nrows && rc == 0; i++)
		rc = cb(ctx, cell(r, i, 0), 0);
	lethe_maria_result_free(r);
	return rc;
}

/* Drop " AUTO_INCREMENT=N" (the next id, which every insert moves) from a
 * CREATE TABLE statement, in place. */
static void drop_auto_increment(char *sql)
{
	char *p = strstr(sql, " AUTO_INCREMENT=");

	if (p) {
		char *e = p + 16;

		while (*e >= '0' && *e <= '9')
			e++;
		memmove(p, e, strlen(e) + 1);
	}
}

/* Every table's and view's CREATE statement (SHOW CREATE) and every
 * trigger's, in name order, NUL-separated; Lethe's own lethe_ tables left
 * out. */
int lethe_maria_schema_text(char **out, size_t *len, lethe_backend *base)
{
	lethe_maria *be = (lethe_maria *)base;
	lethe_maria_result *names = NULL, *r = NULL;
	lethe_strbuf s = LETHE_STRBUF_INIT;
	int rc;

	if ((rc = lethe_maria_exec(&names, be, "read the schema",
				   "SELECT table_name, table_type = 'VIEW' FROM information_schema.tables "
				   "WHERE table_schema = DATABASE() AND table_name NOT LIKE 'lethe\\_%' "
				   "ORDER BY table_name", 0, NULL)) < 0)
		return rc;
	for (size_t i = 0; i < names->nrows && rc == 0; i++) {
		lethe_strbuf q = LETHE_STRBUF_INIT;

		lethe_strbuf_adds(&q, strcmp(cell(names, i, 1), "1") ? "SHOW CREATE TABLE "
								       : "SHOW CREATE VIEW ");
		lethe_maria_ident(&q, cell(names, i, 0));
		rc = lethe_maria_exec(&r, be, "read the schema", lethe_strbuf_str(&q), 0, NULL);
		lethe_strbuf_release(&q);
		if (rc == 0 && r->nrows && r->ncols >= 2 && r->cells[1]) {
			drop_auto_increment(r->cells[1]);
			lethe_strbuf_add(&s, r->cells[1], strlen(r->cells[1]) + 1);
		}
		lethe_maria_result_free(r);
		r = NULL;
	}
	if (rc == 0 && (rc = lethe_maria_exec(&r, be, "read the schema",
					      "SELECT concat('TRIGGER ', trigger_name, ' ', action_timing, "
					      "' ', event_manipulation, ' ON ', event_object_table, ' ', "
					      "action_statement) FROM information_schema.triggers WHERE "
					      "trigger_schema = DATABASE() ORDER BY trigger_name", 0, NULL)) == 0)
		for (size_t i = 0; i < r->nrows; i++)
			lethe_strbuf_add(&s, cell(r, i, 0), strlen(cell(r, i, 0)) + 1);
	lethe_maria_result_free(names);
	lethe_maria_result_free(r);
	if (rc < 0) {
		lethe_strbuf_release(&s);
		return rc;
	}
	if (!(*out = lethe_strbuf_detach(&s, len)))
		return oom();
	return 0;
}

int lethe_maria_pin_schema(lethe_backend *base)
{
	lethe_maria *be = (lethe_maria *)base;
	char *text = NULL;
	size_t len = 0;
	int rc;

	if ((rc = lethe_maria_schema_text(&text, &len, base)) < 0)
		return rc;
	free(be->pinned);
	be->pinned = text;
	be->npinned = len;
	return 0;
}
