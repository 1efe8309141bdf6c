/*
 * backend_sqlite_schema.c - what the SQLite backend tells about the schema:
 * tables and views with their columns, and every foreign key.
 *
 * Invariants:
 *  - Only the pragma table-valued functions are used, always on schema
 *    'main', with table names as bound parameters: a name is never pasted
 *    into SQL.
 *  - These queries run with the authorizer off (they are ours, not the
 *    user's) and only read, so they are safe on a READONLY backend.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "backend_sqlite.h"
#include "lethe/error.h"
#include "vec.h"
#include "trigger_sql.h"

/* --- schema ------------------------------------------------------------------ */

static int prepare_own(lethe_sqlite *be, const char *sql, sqlite3_stmt **stmt)
{
	int rc = sqlite3_prepare_v2(be->db, sql, -1, stmt, NULL);

	if (rc != SQLITE_OK)
		return lethe_error_set(lethe_sqlite_code(rc), "cannot read the schema of '%s': %s",
				       be->path, sqlite3_errmsg(be->db));
	return 0;
}

static char *col_dup(sqlite3_stmt *stmt, int i)
{
	const unsigned char *t = sqlite3_column_text(stmt, i);

	return strdup(t ? (const char *)t : "");
}

static int step_error(lethe_sqlite *be, int rc, const char *what)
{
	if (rc == SQLITE_NOMEM)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	return lethe_error_set(lethe_sqlite_code(rc), "cannot read %s of '%s': %s", what, be->path,
			       sqlite3_errmsg(be->db));
}

/* The declared collation of a table's column ("BINARY" when none): what
 * `column = ?` compares with, since a bound parameter has no collation. */
static char *column_collation(lethe_sqlite *be, const lethe_table_info *t, const char *column)
{
	const char *coll = NULL;

	if (t->is_view || sqlite3_table_column_metadata(be->db, "main", t->name, column, NULL,
							&coll, NULL, NULL, NULL) != SQLITE_OK || !coll)
		coll = "BINARY";
	return strdup(coll);
}

/* Columns of t->name: every column but a virtual table's hidden ones
 * (hidden 2 and 3 are generated columns). */
static int read_columns(lethe_sqlite *be, lethe_table_info *t)
{
	static const char sql[] =
		"SELECT name, type, \"notnull\", pk, hidden FROM pragma_table_xinfo(?1, 'main') "
		"WHERE hidden != 1 ORDER BY cid";
	sqlite3_stmt *stmt = NULL;
	lethe_column_info *c;
	size_t cap = 0;
	int rc;

	rc = prepare_own(be, sql, &stmt);
	if (rc)
		goto out;
	sqlite3_bind_text(stmt, 1, t->name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (LETHE_VEC_RESERVE(t->columns, t->ncolumns + 1, cap) < 0) {
			rc = SQLITE_NOMEM;
			break;
		}
		c = &t->columns[t->ncolumns++];
		memset(c, 0, sizeof(*c));
		c->name = col_dup(stmt, 0);
		c->decl_type = col_dup(stmt, 1);
		c->notnull = sqlite3_column_int(stmt, 2);
		c->pk = sqlite3_column_int(stmt, 3);
		c->generated = sqlite3_column_int(stmt, 4) >= 2;
		if (!c->name || !c->decl_type || !(c->collation = column_collation(be, t, c->name))) {
			rc = SQLITE_NOMEM;
			break;
		}
		/* A WITHOUT ROWID table's primary key is NOT NULL whatever it says. */
		if (c->pk && t->without_rowid)
			c->notnull = 1;
		if (c->pk > t->npk)
			t->npk = c->pk;
	}
	rc = rc == SQLITE_DONE ? 0 : step_error(be, rc, "the columns");
out:
	sqlite3_finalize(stmt);
	return rc;
}

/* Whether values distinct under the column's collation `col` are distinct
 * under the index's `idx` too: the same collation, or an index coarser than a
 * BINARY column (values NOCASE- or RTRIM-distinct are BINARY-distinct). */
static int same_rows(const char *col, const char *idx)
{
	return !strcasecmp(col, idx) || (!strcasecmp(col, "BINARY") &&
					 (!strcasecmp(idx, "NOCASE") || !strcasecmp(idx, "RTRIM")));
}

/* in_unique for the columns a UNIQUE index on expressions reads (UNIQUE
 * INDEX ON t(lower(email))): two tokens or masked values may still collide
 * under the expression. The index's text is read for the column names, which
 * may mark a column too many (a name in a string), never one too few. */
static int read_unique_expressions(lethe_sqlite *be, lethe_table_info *t)
{
	static const char sql[] =
		"SELECT s.sql FROM pragma_index_list(?1, 'main') AS il, sqlite_schema AS s "
		"WHERE il.\"unique\" = 1 AND s.type = 'index' AND s.name = il.name AND s.sql IS NOT NULL "
		"AND EXISTS (SELECT 1 FROM pragma_index_xinfo(il.name, 'main') WHERE key = 1 AND cid = -2)";
	sqlite3_stmt *stmt = NULL;
	int rc;

	if ((rc = prepare_own(be, sql, &stmt)))
		return rc;
	sqlite3_bind_text(stmt, 1, t->name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(stmt, 0);

		for (size_t i = 0; i < t->ncolumns; i++) {
			int m = lethe_sql_mentions(text, t->columns[i].name);

			if (m < 0) {
				sqlite3_finalize(stmt);
				return m;
			}
			t->columns[i].in_unique |= m;
		}
	}
	rc = rc == SQLITE_DONE ? 0 : step_error(be, rc, "the indexes");
	sqlite3_finalize(stmt);
	return rc;
}

/* unique: a complete (not partial) UNIQUE index over exactly one real column,
 * which includes the index of a one-column PRIMARY KEY, compared under the
 * column's own collation (else unique_other_collation); a rowid alias
 * (INTEGER PRIMARY KEY of a rowid table: it has no index) is unique too.
 * in_unique: the column is part of any UNIQUE index. */
static int read_unique(lethe_sqlite *be, lethe_table_info *t)
{
	static const char sql[] =
		"SELECT ix.name, ix.coll, il.partial = 0 AND (SELECT count(*) FROM "
		"pragma_index_xinfo(il.name, 'main') WHERE key = 1) = 1, il.origin = 'pk' "
		"FROM pragma_index_list(?1, 'main') AS il, pragma_index_xinfo(il.name, 'main') AS ix "
		"WHERE il.\"unique\" = 1 AND ix.key = 1";
	sqlite3_stmt *stmt = NULL;
	lethe_column_info *c;
	int rc, pk_index = 0;

	if (t->is_view)
		return 0;
	rc = prepare_own(be, sql, &stmt);
	if (rc)
		goto out;
	sqlite3_bind_text(stmt, 1, t->name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(stmt, 0);
		const char *coll = (const char *)sqlite3_column_text(stmt, 1);

		pk_index |= sqlite3_column_int(stmt, 3);
		if (!name || !(c = (lethe_column_info *)lethe_table_column(t, name)))
			continue;
		c->in_unique = 1;
		if (!sqlite3_column_int(stmt, 2))
			continue;
		if (coll && same_rows(c->collation, coll))
			c->unique = 1;
		else
			c->unique_other_collation = 1;
	}
	rc = rc == SQLITE_DONE ? 0 : step_error(be, rc, "the indexes");
	if (rc == 0 && !t->without_rowid && t->npk == 1 && !pk_index) {
		for (size_t i = 0; i < t->ncolumns; i++) {
			c = &t->columns[i];
			if (c->pk == 1 && strcasecmp(c->decl_type, "INTEGER") == 0)
				c->rowid_alias = c->unique = c->in_unique = 1;
		}
	}
	if (rc == 0)
		rc = read_unique_expressions(be, t);
out:
	sqlite3_finalize(stmt);
	return rc;
}

/* t->row_key: the first name of the rowid that no column shadows (a column
 * may take any of them and hide the rowid behind it), tried in this order. */
static int choose_row_key(lethe_table_info *t)
{
	static const char *const rowid_names[] = {"rowid", "_rowid_", "oid"};

	if (t->without_rowid)
		return 0;
	for (size_t i = 0; i < sizeof(rowid_names) / sizeof(rowid_names[0]); i++)
		if (!lethe_table_column(t, rowid_names[i]))
			return (t->row_key = strdup(rowid_names[i])) ? 0 :
				lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	return 0;
}

int lethe_sqlite_table_info(lethe_table_info **out, lethe_backend *base, const char *table)
{
	static const char sql[] =
		"SELECT name, type, wr, strict FROM pragma_table_list(?1) "
		"WHERE schema = 'main' AND type IN ('table', 'view')";
	lethe_sqlite *be = (lethe_sqlite *)base;
	lethe_table_info *t = NULL;
	sqlite3_stmt *stmt = NULL;
	int rc;

	rc = prepare_own(be, sql, &stmt);
	if (rc)
		goto out;
	sqlite3_bind_text(stmt, 1, table, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		rc = lethe_error_set(LETHE_ENOTFOUND, "no such table: '%s'", table);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		rc = step_error(be, rc, "the tables");
		goto out;
	}
	t = calloc(1, sizeof(*t));
	if (!t || !(t->name = col_dup(stmt, 0))) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	t->is_view = strcmp((const char *)sqlite3_column_text(stmt, 1), "view") == 0;
	t->without_rowid = sqlite3_column_int(stmt, 2);
	t->strict = sqlite3_column_int(stmt, 3);
	rc = read_columns(be, t);
	if (rc == 0)
		rc = read_unique(be, t);
	if (rc == 0)
		rc = choose_row_key(t);
	if (rc)
		goto out;
	*out = t;
	t = NULL;
out:
	sqlite3_finalize(stmt);
	lethe_table_info_free(t);
	return rc;
}

/* --- foreign keys --------------------------------------------------------------- */

static lethe_fk_action parse_action(const char *s)
{
	if (!s)
		return LETHE_FK_NO_ACTION;
	if (strcasecmp(s, "CASCADE") == 0)
		return LETHE_FK_CASCADE;
	if (strcasecmp(s, "RESTRICT") == 0)
		return LETHE_FK_RESTRICT;
	if (strcasecmp(s, "SET NULL") == 0)
		return LETHE_FK_SET_NULL;
	if (strcasecmp(s, "SET DEFAULT") == 0)
		return LETHE_FK_SET_DEFAULT;
	return LETHE_FK_NO_ACTION;
}

static int append_column(lethe_foreign_key *fk, const char *child, const char *parent)
{
	char **c = realloc(fk->child_columns, (fk->ncolumns + 1) * sizeof(char *));

	if (!c)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	fk->child_columns = c;
	c = realloc(fk->parent_columns, (fk->ncolumns + 1) * sizeof(char *));
	if (!c)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	fk->parent_columns = c;
	fk->child_columns[fk->ncolumns] = strdup(child);
	fk->parent_columns[fk->ncolumns] = parent ? strdup(parent) : NULL;
	fk->ncolumns++;
	if (!fk->child_columns[fk->ncolumns - 1] || (parent && !fk->parent_columns[fk->ncolumns - 1]))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	return 0;
}

/* Fill the parent columns left out of the REFERENCES clause with the parent's
 * primary key, in key order, and use the parent's own spelling of its name. */
static int resolve_parent(lethe_backend *base, lethe_foreign_key *fk)
{
	lethe_table_info *p = NULL;
	size_t i, j;
	int rc;

	rc = lethe_sqlite_table_info(&p, base, fk->parent_table);
	if (rc == LETHE_ENOTFOUND) {
		rc = lethe_error_set(LETHE_EDATA, "foreign key of '%s' references missing table '%s'",
				     fk->child_table, fk->parent_table);
		goto out;
	}
	if (rc)
		goto out;
	free(fk->parent_table);
	if (!(fk->parent_table = strdup(p->name))) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	for (i = 0; i < fk->ncolumns; i++) {
		if (fk->parent_columns[i])
			continue;
		if ((size_t)p->npk != fk->ncolumns) {
			rc = lethe_error_set(LETHE_EDATA,
					     "foreign key of '%s' does not match the primary key of '%s'",
					     fk->child_table, fk->parent_table);
			goto out;
		}
		for (j = 0; j < p->ncolumns; j++)
			if ((size_t)p->columns[j].pk == i + 1)
				fk->parent_columns[i] = strdup(p->columns[j].name);
		if (!fk->parent_columns[i]) {
			rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
			goto out;
		}
	}
out:
	lethe_table_info_free(p);
	return rc;
}

/* The greatest rowid: the row count of a table that was filled and rarely
 * emptied, in a few page reads; -1 for a table without rowid or any error
 * (an estimate only orders work). */
int lethe_sqlite_estimate_rows(int64_t *out, lethe_backend *base, const char *table)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_str *s = sqlite3_str_new(be->db);
	sqlite3_stmt *stmt = NULL;
	char *sql;

	*out = -1;
	sqlite3_str_appendall(s, "SELECT max(rowid) FROM ");
	lethe_sqlite_append_ident(s, table);
	if (!(sql = sqlite3_str_finish(s)))
		return 0;
	if (sqlite3_prepare_v2(be->db, sql, -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_type(stmt, 0) == SQLITE_INTEGER)
		*out = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_free(sql);
	return 0;
}

int lethe_sqlite_foreign_keys(lethe_foreign_keys **out, lethe_backend *base)
{
	static const char sql[] =
		"SELECT m.name, f.id, f.\"table\", f.\"from\", f.\"to\", f.on_delete "
		"FROM pragma_table_list AS m, pragma_foreign_key_list(m.name, 'main') AS f "
		"WHERE m.schema = 'main' AND m.type = 'table' ORDER BY m.name, f.id, f.seq";
	lethe_sqlite *be = (lethe_sqlite *)base;
	lethe_foreign_keys *fks = NULL;
	lethe_foreign_key *fk = NULL;
	sqlite3_stmt *stmt = NULL;
	size_t cap = 0, i;
	int rc, id = -1;

	fks = calloc(1, sizeof(*fks));
	if (!fks) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	rc = prepare_own(be, sql, &stmt);
	if (rc)
		goto out;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *child = (const char *)sqlite3_column_text(stmt, 0);

		if (!fk || sqlite3_column_int(stmt, 1) != id || strcmp(fk->child_table, child) != 0) {
			if ((rc = LETHE_VEC_RESERVE(fks->items, fks->count + 1, cap)) < 0)
				goto out;
			fk = &fks->items[fks->count++];
			memset(fk, 0, sizeof(*fk));
			id = sqlite3_column_int(stmt, 1);
			fk->child_table = strdup(child);
			fk->parent_table = col_dup(stmt, 2);
			fk->on_delete = parse_action((const char *)sqlite3_column_text(stmt, 5));
			if (!fk->child_table || !fk->parent_table) {
				rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
				goto out;
			}
		}
		rc = append_column(fk, (const char *)sqlite3_column_text(stmt, 3),
				   (const char *)sqlite3_column_text(stmt, 4));
		if (rc)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		rc = step_error(be, rc, "the foreign keys");
		goto out;
	}
	sqlite3_finalize(stmt);
	stmt = NULL;
	for (i = 0; i < fks->count; i++)
		if ((rc = resolve_parent(base, &fks->items[i])) != 0)
			goto out;
	*out = fks;
	fks = NULL;
	rc = 0;
out:
	sqlite3_finalize(stmt);
	lethe_foreign_keys_free(fks);
	return rc;
}
