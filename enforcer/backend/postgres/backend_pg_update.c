/*
 * backend_pg_update.c - the PostgreSQL backend's pseudonymise and mask
 * batches: the rows a batch locked and read, transformed in the client by
 * Lethe's one definition of each transform, written back in one statement
 * and recorded in lethe.lethe_done (backend_pg_write.c's lethe_pg_dispose
 * calls it once per batch, inside the batch's transaction).
 *
 * Invariants:
 *  - Values go to the server only as parameters: text arrays, one per
 *    column and one of keys, cast on the server to each column's type as
 *    the catalog names it (format_type).
 *  - The statement changes only the rows whose keys the batch read, by key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend_pg.h"
#include "lethe/error.h"

/* A column's type as SQL (format_type), for casting text arrays to it. */
int lethe_pg_column_type(char **out, lethe_pg *be, const char *table, const char *column)
{
	const char *p[2] = { table, column };
	PGresult *res = NULL;
	int rc;

	rc = lethe_pg_exec(&res, be, "read the key's type",
			   "SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a JOIN pg_class "
			   "t ON t.oid = a.attrelid JOIN pg_namespace n ON n.oid = t.relnamespace WHERE "
			   "t.relname = $1 AND a.attname = $2 AND n.nspname = ANY (current_schemas(false)) "
			   "ORDER BY array_position(current_schemas(false), n.nspname) LIMIT 1", 2, p);
	if (rc < 0)
		return rc;
	*out = strdup(PQntuples(res) ? PQgetvalue(res, 0, 0) : "text");
	PQclear(res);
	return *out ? 0 : lethe_error_set(LETHE_ESOFTWARE, "out of memory");
}

/* Append one element of a text array literal: NULL, or the text quoted. */
static void array_element(lethe_strbuf *s, const char *v)
{
	if (s->len > 1)
		lethe_strbuf_addch(s, ',');
	if (!v) {
		lethe_strbuf_adds(s, "NULL");
		return;
	}
	lethe_strbuf_addch(s, '"');
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			lethe_strbuf_addch(s, '\\');
		lethe_strbuf_addch(s, *v);
	}
	lethe_strbuf_addch(s, '"');
}

/* The rows of res (key, then c's columns) transformed in the client and
 * written back in one statement: UPDATE T SET c = v.c::type ... FROM
 * unnest($1::text[], $2::text[], ...) AS v WHERE T.key = v.k::keytype. */
int lethe_pg_update_batch(lethe_pg *be, const lethe_change *c, PGresult *res, const char *key_type)
{
	size_t n = c->ncolumns + 1;
	lethe_strbuf *arr = calloc(n, sizeof(*arr)), sql = LETHE_STRBUF_INIT;
	const char **params = calloc(n + 1, sizeof(*params));
	unsigned char *scratch = NULL, *kscratch = NULL;
	lethe_value key, in, out;
	char buf[40], *heap = NULL, *type = NULL;
	int rc = 0;

	if (!arr || !params) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		lethe_strbuf_addch(&arr[i], '{');
	for (int r = 0; r < PQntuples(res) && rc == 0; r++) {
		lethe_pg_value(&key, res, r, 0, &kscratch);
		array_element(&arr[0], PQgetvalue(res, r, 0));
		for (size_t i = 0; i < c->ncolumns && rc == 0; i++) {
			lethe_pg_value(&in, res, r, (int)i + 1, &scratch);
			out = (lethe_value){ .type = LETHE_VALUE_NULL };
			if ((rc = c->transform(c->transform_ctx, i, &in, &key, &out)) < 0)
				break;
			/* copied at once: out may live in the transform's memory only
			 * until its next call */
			array_element(&arr[i + 1], lethe_pg_param(&out, buf, sizeof(buf), &heap));
			free(heap);
			heap = NULL;
		}
	}
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		lethe_strbuf_addch(&arr[i], '}');
	lethe_strbuf_adds(&sql, "UPDATE ");
	lethe_pg_ident(&sql, c->table);
	lethe_strbuf_adds(&sql, " SET ");
	for (size_t i = 0; i < c->ncolumns && rc == 0; i++) {
		if ((rc = lethe_pg_column_type(&type, be, c->table, c->columns[i])) < 0)
			goto out;
		lethe_strbuf_adds(&sql, i ? ", " : "");
		lethe_pg_ident(&sql, c->columns[i]);
		lethe_strbuf_addf(&sql, " = CAST(lethe_v.c%zu AS %s)", i, type);
		free(type);
		type = NULL;
	}
	lethe_strbuf_adds(&sql, " FROM unnest(");
	for (size_t i = 0; i < n; i++)
		lethe_strbuf_addf(&sql, "%s$%zu::text[]", i ? ", " : "", i + 1);
	lethe_strbuf_adds(&sql, ") AS lethe_v(k");
	for (size_t i = 0; i < c->ncolumns; i++)
		lethe_strbuf_addf(&sql, ", c%zu", i);
	lethe_strbuf_adds(&sql, ") WHERE ");
	lethe_pg_ident(&sql, c->table);
	lethe_strbuf_addch(&sql, '.');
	lethe_pg_ident(&sql, c->key);
	lethe_strbuf_addf(&sql, " = CAST(lethe_v.k AS %s)", key_type);
	/* The keys again, as a condition on the table alone: without it the
	 * planner may hash-join the whole table against the batch (a full scan
	 * per batch, quadratic over a rule); with it the table's rows come from
	 * its key index, as many as the batch has. */
	lethe_strbuf_adds(&sql, " AND ");
	lethe_pg_ident(&sql, c->table);
	lethe_strbuf_addch(&sql, '.');
	lethe_pg_ident(&sql, c->key);
	lethe_strbuf_addf(&sql, " = ANY (CAST(CAST($1 AS text[]) AS %s[]))", key_type);
	for (size_t i = 0; i < n; i++)
		params[i] = lethe_strbuf_str(&arr[i]);
	if ((rc = lethe_pg_exec(NULL, be, "change rows", lethe_strbuf_str(&sql), (int)n, params)) < 0) {
		char why[512];

		snprintf(why, sizeof(why), "%s", lethe_error_last());
		rc = lethe_error_set(rc, "rule '%s', table '%s': %s", c->rule ? c->rule : "?", c->table, why);
		goto out;
	}
	if (c->done_rule) {
		const char *d[2] = { c->done_rule, lethe_strbuf_str(&arr[0]) };

		rc = lethe_pg_exec(NULL, be, "record changed rows", "INSERT INTO lethe.lethe_done (rule, key) "
				   "SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING", 2, d);
	}
out:
	for (size_t i = 0; arr && i < n; i++)
		lethe_strbuf_release(&arr[i]);
	lethe_strbuf_release(&sql);
	free(arr);
	free(params);
	free(scratch);
	free(kscratch);
	free(type);
	return rc;
}
