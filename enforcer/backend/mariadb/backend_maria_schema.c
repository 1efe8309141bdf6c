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
#include "vec.h"

static int oom(void)
{
	return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
}

static const char *cell(const lethe_maria_result *r, size_t row, size_t col)
{
	const char *c = r->cells[row * r->ncols + col];

	return c ? c : "";
}

/* A column's place in the indexes (rows: index, column, non_unique,
 * position, prefix): its primary key position, whether a unique index of
 * this column alone (not a prefix) exists, whether any unique index holds it. */
static void index_roles(lethe_column_info *c, const lethe_maria_result *idx)
{
	for (size_t i = 0; i < idx->nrows; i++) {
		size_t ncols = 0;

		if (strcmp(cell(idx, i, 1), c->name) || strcmp(cell(idx, i, 2), "0"))
			continue;
		c->in_unique = 1;
		if (!strcmp(cell(idx, i, 0), "PRIMARY"))
			c->pk = atoi(cell(idx, i, 3));
		for (size_t j = 0; j < idx->nrows; j++)
			ncols += !strcmp(cell(idx, j, 0), cell(idx, i, 0));
		if (ncols == 1 && strcmp(cell(idx, i, 4), "1"))
			c->unique = 1;
	}
}

int lethe_maria_table_info(lethe_table_info **out, lethe_backend *base, const char *table)
{
	lethe_maria *be = (lethe_maria *)base;
	lethe_table_info *t = NULL;
	lethe_maria_result *kind = NULL, *cols = NULL, *idx = NULL;
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
	/* the columns, then the table's indexes (information_schema with
	 * constant schema and table names only: MariaDB then opens this table
	 * alone, not every table of the server) */
	if ((rc = lethe_maria_exec(&cols, be, "read the columns",
				   "SELECT column_name, column_type, is_nullable = 'NO', "
				   "extra LIKE '%GENERATED%', coalesce(collation_name, 'BINARY') "
				   "FROM information_schema.columns WHERE table_schema = DATABASE() AND "
				   "table_name = ? ORDER BY ordinal_position", 1, v)) < 0 ||
	    (rc = lethe_maria_exec(&idx, be, "read the indexes",
				   "SELECT index_name, column_name, non_unique, seq_in_index, "
				   "sub_part IS NOT NULL FROM information_schema.statistics WHERE "
				   "table_schema = DATABASE() AND table_name = ? ORDER BY index_name, "
				   "seq_in_index", 1, v)) < 0)
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
		c->collation = strdup(cell(cols, i, 4));
		t->ncolumns++;
		if (!c->name || !c->decl_type || !c->collation) {
			rc = oom();
			goto out;
		}
		c->notnull = !strcmp(cell(cols, i, 2), "1");
		c->generated = !strcmp(cell(cols, i, 3), "1");
		index_roles(c, idx);
		if (c->pk)
			t->npk++;
	}
	*out = t;
	t = NULL;
out:
	lethe_maria_result_free(kind);
	lethe_maria_result_free(cols);
	lethe_maria_result_free(idx);
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
				   "k.table_schema AND k.table_name NOT LIKE 'lethe\\_%' ORDER BY k.table_name, k.constraint_name, "
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

/* One "..."-quoted identifier at p ("" doubling) into *out (malloc'd);
 * returns the position after it. */
static const char *quoted(char **out, const char *p)
{
	lethe_strbuf s = LETHE_STRBUF_INIT;

	for (p++; *p && !(*p == '"' && p[1] != '"'); p++) {
		if (*p == '"')
			p++;
		lethe_strbuf_addch(&s, *p);
	}
	*out = lethe_strbuf_detach(&s, NULL);
	return *p ? p + 1 : p;
}

/* The tables of the server's rewritten query (EXPLAIN EXTENDED's note
 * 1003, ANSI quotes): every "DB"."NAME" not followed by a '.', which would
 * make it a column of an alias ("DB"."ALIAS"."COLUMN"). */
static int rewritten_tables(char ***out, size_t *n, const char *query, const char *db)
{
	char **names = NULL, *a = NULL, *b = NULL;
	size_t count = 0, cap = 0;
	const char *p = query;

	while (*p) {
		if (*p == '\'') {
			for (p++; *p && !(*p == '\'' && p[1] != '\''); p += (*p == '\'') ? 2 : 1)
				;
			p += *p ? 1 : 0;
			continue;
		}
		if (*p != '"') {
			p++;
			continue;
		}
		p = quoted(&a, p);
		if (a && !strcmp(a, db) && *p == '.' && p[1] == '"') {
			p = quoted(&b, p + 1);
			if (b && *p != '.') {
				size_t j;

				for (j = 0; j < count && strcmp(names[j], b); j++)
					;
				if (j == count) {
					if (LETHE_VEC_RESERVE(names, count + 1, cap) < 0)
						goto oom;
					names[count++] = b;
					b = NULL;
				}
			}
			free(b);
			b = NULL;
		}
		free(a);
		a = NULL;
	}
	*out = names;
	*n = count;
	return 0;
oom:
	free(a);
	free(b);
	lethe_backend_names_free(names, count);
	return oom();
}

int lethe_maria_tables_read(char ***out, size_t *n, lethe_backend *base, const char *table,
			    const char *expr)
{
	static const char *const names[] = { "lethe_subject", "lethe_after", "lethe_rule" };
	lethe_value none[3] = { { .type = LETHE_VALUE_NULL }, { .type = LETHE_VALUE_NULL },
				{ .type = LETHE_VALUE_NULL } };
	lethe_maria *be = (lethe_maria *)base;
	lethe_strbuf s = LETHE_STRBUF_INIT;
	lethe_value *vals = NULL;
	size_t nvals = 0;
	MYSQL_RES *res;
	MYSQL_ROW row;
	char *sql = NULL;
	int rc;

	/* The server's rewritten query names every table the expression
	 * reads, through subqueries and merged views, by its real name (an
	 * EXPLAIN's JSON gives aliases). */
	lethe_strbuf_adds(&s, "EXPLAIN EXTENDED SELECT (\n");
	lethe_strbuf_adds(&s, expr);
	lethe_strbuf_adds(&s, "\n) FROM ");
	lethe_maria_ident(&s, table);
	rc = lethe_maria_positional(&sql, &vals, &nvals, lethe_strbuf_str(&s), names, none, 3);
	lethe_strbuf_release(&s);
	if (rc == 0)
		rc = lethe_maria_exec(NULL, be, "find the tables an expression reads", sql, nvals, vals);
	free(sql);
	free(vals);
	if (rc < 0)
		return rc;
	/* no value in it: the text protocol, which leaves the warnings be */
	if (mysql_query(be->conn, "SHOW WARNINGS") || !(res = mysql_store_result(be->conn)))
		return lethe_error_set(LETHE_EIO, "cannot find the tables an expression reads in '%s': %s",
				       be->label, mysql_error(be->conn));
	rc = lethe_error_set(LETHE_ESOFTWARE, "cannot read the rewritten query of an expression");
	while ((row = mysql_fetch_row(res)))
		if (mysql_num_fields(res) >= 3 && row[1] && !strcmp(row[1], "1003") && row[2]) {
			rc = rewritten_tables(out, n, row[2], be->dbname);
			break;
		}
	mysql_free_result(res);
	return rc;
}
