/*
 * backend_pg_schema.c - what the PostgreSQL backend knows of a register's
 * schema, read from the server's catalogue: tables and columns, foreign
 * keys, the schema as text (fingerprint and pin), triggers, and the tables
 * an expression reads (from the server's own plan of it).
 *
 * Invariants:
 *  - Names are looked up as given (case-sensitive, as a quoted identifier)
 *    in the schemas of the search_path, Lethe's own schema aside.
 *  - Names and values go to the server as parameters only.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "backend_pg.h"
#include "lethe/error.h"
#include "vec.h"

/* The user relations: in the search path, not Lethe's own schema. */
#define USER_RELS "n.nspname = ANY (current_schemas(false)) AND n.nspname <> 'lethe'"

static int table_oid(char **oid, int *is_view, lethe_pg *be, const char *table)
{
	const char *p[1] = { table };
	PGresult *res = NULL;
	int rc;

	rc = lethe_pg_exec(&res, be, "read the schema",
			   "SELECT c.oid, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = "
			   "c.relnamespace WHERE c.relname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
			   "AND " USER_RELS " ORDER BY array_position(current_schemas(false), n.nspname) "
			   "LIMIT 1", 1, p);
	if (rc < 0)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return LETHE_ENOTFOUND;
	}
	*oid = strdup(PQgetvalue(res, 0, 0));
	*is_view = PQgetvalue(res, 0, 1)[0] == 'v' || PQgetvalue(res, 0, 1)[0] == 'm';
	PQclear(res);
	return *oid ? 0 : lethe_error_set(LETHE_ESOFTWARE, "out of memory");
}

int lethe_pg_table_info(lethe_table_info **out, lethe_backend *base, const char *table)
{
	lethe_pg *be = (lethe_pg *)base;
	lethe_table_info *t = NULL;
	PGresult *res = NULL;
	char *oid = NULL;
	const char *p[1];
	int rc, is_view = 0, n;

	if ((rc = table_oid(&oid, &is_view, be, table)) < 0)
		return rc == LETHE_ENOTFOUND ? lethe_error_set(rc, "no such table: %s", table) : rc;
	p[0] = oid;
	rc = lethe_pg_exec(&res, be, "read the columns",
			   "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
			   "coalesce((SELECT k.i FROM pg_index i, unnest(i.indkey::int2[]) WITH ORDINALITY "
			   "k(n, i) WHERE i.indrelid = a.attrelid AND i.indisprimary AND k.n = a.attnum), 0), "
			   "EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisunique "
			   "AND i.indnkeyatts = 1 AND i.indkey[0] = a.attnum AND i.indpred IS NULL), "
			   "EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisunique "
			   "AND a.attnum = ANY (i.indkey::int2[])), a.attgenerated <> '' "
			   "FROM pg_attribute a WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT "
			   "a.attisdropped ORDER BY a.attnum", 1, p);
	if (rc < 0)
		goto out;
	n = PQntuples(res);
	if (!(t = calloc(1, sizeof(*t))) || !(t->name = strdup(table)) ||
	    !(t->columns = calloc((size_t)n + 1, sizeof(*t->columns)))) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	t->is_view = is_view;
	for (int i = 0; i < n; i++) {
		lethe_column_info *c = &t->columns[t->ncolumns];

		c->name = strdup(PQgetvalue(res, i, 0));
		c->decl_type = strdup(PQgetvalue(res, i, 1));
		c->collation = strdup("BINARY");
		t->ncolumns++;
		if (!c->name || !c->decl_type || !c->collation) {
			rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
			goto out;
		}
		c->notnull = PQgetvalue(res, i, 2)[0] == 't';
		c->pk = atoi(PQgetvalue(res, i, 3));
		c->unique = PQgetvalue(res, i, 4)[0] == 't';
		c->in_unique = PQgetvalue(res, i, 5)[0] == 't';
		c->generated = PQgetvalue(res, i, 6)[0] == 't';
		if (c->pk)
			t->npk++;
	}
	*out = t;
	t = NULL;
out:
	PQclear(res);
	free(oid);
	lethe_table_info_free(t);
	return rc;
}

/* Split s at US (0x1f) into n malloc'd strings. */
static char **split(const char *s, size_t *n)
{
	size_t count = 1, i = 0;
	char **v;

	for (const char *p = s; *p; p++)
		count += *p == '\x1f';
	if (!(v = calloc(count, sizeof(*v))))
		return NULL;
	for (const char *b = s;; i++) {
		const char *e = strchr(b, '\x1f');
		size_t len = e ? (size_t)(e - b) : strlen(b);

		if (!(v[i] = strndup(b, len))) {
			for (size_t j = 0; j < i; j++)
				free(v[j]);
			free(v);
			return NULL;
		}
		if (!e)
			break;
		b = e + 1;
	}
	*n = count;
	return v;
}

static lethe_fk_action fk_action(char c)
{
	switch (c) {
	case 'r': return LETHE_FK_RESTRICT;
	case 'n': return LETHE_FK_SET_NULL;
	case 'd': return LETHE_FK_SET_DEFAULT;
	case 'c': return LETHE_FK_CASCADE;
	default: return LETHE_FK_NO_ACTION;
	}
}

int lethe_pg_foreign_keys(lethe_foreign_keys **out, lethe_backend *base)
{
	lethe_pg *be = (lethe_pg *)base;
	lethe_foreign_keys *fks = NULL;
	PGresult *res = NULL;
	int rc, n;

	rc = lethe_pg_exec(&res, be, "read the foreign keys",
			   "SELECT cc.relname, pc.relname, c.confdeltype, "
			   "(SELECT string_agg(a.attname, chr(31) ORDER BY k.i) FROM unnest(c.conkey) WITH "
			   "ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n), "
			   "(SELECT string_agg(a.attname, chr(31) ORDER BY k.i) FROM unnest(c.confkey) WITH "
			   "ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n) "
			   "FROM pg_constraint c JOIN pg_class cc ON cc.oid = c.conrelid JOIN pg_class pc ON "
			   "pc.oid = c.confrelid JOIN pg_namespace n ON n.oid = cc.relnamespace "
			   "WHERE c.contype = 'f' AND " USER_RELS " ORDER BY cc.relname, c.conname", 0, NULL);
	if (rc < 0)
		return rc;
	n = PQntuples(res);
	if (!(fks = calloc(1, sizeof(*fks))) || !(fks->items = calloc((size_t)n + 1, sizeof(*fks->items)))) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	for (int i = 0; i < n; i++) {
		lethe_foreign_key *fk = &fks->items[fks->count++];
		size_t nc = 0, np = 0;

		fk->child_table = strdup(PQgetvalue(res, i, 0));
		fk->parent_table = strdup(PQgetvalue(res, i, 1));
		fk->on_delete = fk_action(PQgetvalue(res, i, 2)[0]);
		fk->child_columns = split(PQgetvalue(res, i, 3), &nc);
		fk->parent_columns = split(PQgetvalue(res, i, 4), &np);
		fk->ncolumns = nc < np ? nc : np;
		if (!fk->child_table || !fk->parent_table || !fk->child_columns || !fk->parent_columns) {
			rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
			goto out;
		}
		for (size_t j = fk->ncolumns; j < nc; j++)
			free(fk->child_columns[j]);
		for (size_t j = fk->ncolumns; j < np; j++)
			free(fk->parent_columns[j]);
	}
	*out = fks;
	fks = NULL;
out:
	PQclear(res);
	lethe_foreign_keys_free(fks);
	return rc;
}

int lethe_pg_schema_text(char **out, size_t *len, lethe_backend *base)
{
	lethe_pg *be = (lethe_pg *)base;
	lethe_strbuf s = LETHE_STRBUF_INIT;
	PGresult *res = NULL;
	int rc;

	/* One line per table (its columns and constraints), index, view and
	 * trigger, in name order: what a run's correctness depends on. */
	rc = lethe_pg_exec(&res, be, "read the schema",
			   "SELECT d FROM ("
			   "SELECT c.relname AS k, 1 AS o, 'TABLE ' || quote_ident(c.relname) || ' (' || "
			   "(SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, "
			   "a.atttypmod) || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END, ', ' ORDER BY "
			   "a.attnum) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT "
			   "a.attisdropped) || coalesce((SELECT ', ' || string_agg(pg_get_constraintdef(x.oid), "
			   "', ' ORDER BY x.conname) FROM pg_constraint x WHERE x.conrelid = c.oid), '') || ')' AS d "
			   "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN "
			   "('r', 'p') AND " USER_RELS
			   " UNION ALL SELECT c.relname, 2, pg_get_indexdef(c.oid) FROM pg_class c JOIN "
			   "pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'i' AND " USER_RELS
			   " UNION ALL SELECT c.relname, 3, 'VIEW ' || quote_ident(c.relname) || ' AS ' || "
			   "pg_get_viewdef(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
			   "WHERE c.relkind IN ('v', 'm') AND " USER_RELS
			   " UNION ALL SELECT t.tgname, 4, pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN "
			   "pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
			   "WHERE NOT t.tgisinternal AND " USER_RELS ") q ORDER BY k COLLATE \"C\", o",
			   0, NULL);
	if (rc < 0)
		return rc;
	for (int i = 0; i < PQntuples(res); i++) {
		lethe_strbuf_adds(&s, PQgetvalue(res, i, 0));
		lethe_strbuf_addch(&s, '\0');
	}
	PQclear(res);
	if (!(*out = lethe_strbuf_detach(&s, len)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	return 0;
}

int lethe_pg_pin_schema(lethe_backend *base)
{
	lethe_pg *be = (lethe_pg *)base;
	char *text = NULL;
	size_t len = 0;
	int rc;

	if ((rc = lethe_pg_schema_text(&text, &len, base)) < 0)
		return rc;
	free(be->pinned);
	be->pinned = text;
	be->npinned = len;
	return 0;
}

int lethe_pg_schema_unchanged(lethe_pg *be)
{
	char *text = NULL;
	size_t len = 0;
	int rc, same;

	if (!be->pinned)
		return 0;
	if ((rc = lethe_pg_schema_text(&text, &len, &be->base)) < 0)
		return rc;
	same = len == be->npinned && memcmp(text, be->pinned, len) == 0;
	free(text);
	if (!same)
		return lethe_error_set(LETHE_ETEMPFAIL, "the schema of '%s' changed since it was "
				       "checked; nothing was changed, run again", be->label);
	return 0;
}

int lethe_pg_change_triggers(lethe_backend *base, const lethe_change *c,
			     int (*cb)(void *ctx, const char *trigger, int harmless), void *ctx)
{
	lethe_pg *be = (lethe_pg *)base;
	const char *p[2] = { c->table, c->delete ? "8" : "16" };
	PGresult *res = NULL;
	int rc;

	/* tgtype bit 3 is DELETE, bit 4 UPDATE (pg_trigger.h) */
	rc = lethe_pg_exec(&res, be, "read the triggers",
			   "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN "
			   "pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal AND "
			   "c.relname = $1 AND (t.tgtype & $2::int) <> 0 AND " USER_RELS
			   " ORDER BY t.tgname", 2, p);
	if (rc < 0)
		return rc;
	for (int i = 0; i < PQntuples(res) && rc == 0; i++)
		rc = cb(ctx, PQgetvalue(res, i, 0), 0);
	PQclear(res);
	return rc;
}

/* Every "Relation Name" of a plan (EXPLAIN FORMAT JSON), once each. */
static int collect_relations(json_t *node, char ***names, size_t *n, size_t *cap)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_array(node)) {
		json_array_foreach(node, i, v)
			if (collect_relations(v, names, n, cap) < 0)
				return -1;
		return 0;
	}
	if (!json_is_object(node))
		return 0;
	json_object_foreach(node, key, v) {
		if (!strcmp(key, "Relation Name") && json_is_string(v)) {
			const char *name = json_string_value(v);
			size_t j;

			for (j = 0; j < *n && strcmp((*names)[j], name); j++)
				;
			if (j < *n)
				continue;
			if (LETHE_VEC_RESERVE(*names, *n + 1, *cap) < 0 || !((*names)[*n] = strdup(name)))
				return -1;
			(*n)++;
		} else if (collect_relations(v, names, n, cap) < 0) {
			return -1;
		}
	}
	return 0;
}

int lethe_pg_tables_read(char ***out, size_t *n, lethe_backend *base, const char *table,
			 const char *expr)
{
	lethe_pg *be = (lethe_pg *)base;
	lethe_strbuf s = LETHE_STRBUF_INIT;
	PGresult *res = NULL;
	json_t *plan = NULL;
	char **names = NULL;
	size_t count = 0, cap = 0;
	int rc;

	/* The server's plan names every relation the expression reads,
	 * through subqueries and views: its own dependency analysis. */
	lethe_strbuf_adds(&s, "EXPLAIN (VERBOSE, FORMAT JSON) SELECT (\n");
	lethe_strbuf_adds(&s, expr);
	lethe_strbuf_adds(&s, "\n) FROM ");
	lethe_pg_ident(&s, table);
	rc = lethe_pg_exec(&res, be, "find the tables an expression reads", lethe_strbuf_str(&s), 0,
			   NULL);
	lethe_strbuf_release(&s);
	if (rc < 0)
		return rc;
	plan = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	PQclear(res);
	if (!plan || collect_relations(plan, &names, &count, &cap) < 0) {
		json_decref(plan);
		lethe_backend_names_free(names, count);
		return lethe_error_set(LETHE_ESOFTWARE, "cannot read the plan of an expression");
	}
	json_decref(plan);
	*out = names;
	*n = count;
	return 0;
}
