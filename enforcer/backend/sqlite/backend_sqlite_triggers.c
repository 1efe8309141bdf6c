/*
 * backend_sqlite_triggers.c - which triggers a change would fire, and
 * whether each is proven to do nothing but keep an FTS index in step; and
 * the schema check pinned (pin_schema) that each write transaction repeats.
 *
 * SQLite itself decides which triggers a statement fires (DELETE, UPDATE OF
 * the columns set, nested triggers, the triggers of rows reached by ON
 * DELETE CASCADE): while it prepares the statement, it codes every one of
 * them and reports each of their actions to the authorizer with the name of
 * the trigger responsible. Preparing the change's statement (never stepping
 * it) with `fired` set therefore lists exactly the triggers running it
 * would execute.
 *
 * Invariants:
 *  - be->fired is set only inside probe(); authorize() in backend_sqlite.c
 *    adds trigger names to it and changes no decision.
 *  - The probe statement is apply's own (lethe_sqlite_change_sql), with
 *    `SET column = column` in place of lethe_transform(), which a read-only
 *    connection lacks: the same columns are set, so the same triggers fire.
 *    It is finalised unstepped.
 *  - trusted_schema is switched on only for the probe's preparation (an FTS
 *    table in a trigger cannot be prepared without it) and restored.
 *  - be->pinned is the schema text check accepted; once set, begin compares
 *    it inside every transaction (BEGIN IMMEDIATE holds off other writers,
 *    so what is compared is what the transaction writes against).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "backend_sqlite.h"
#include "lethe/error.h"
#include "trigger_sql.h"

int lethe_sqlite_note_fired(lethe_sqlite *be, const char *trigger)
{
	char **grown;

	for (size_t i = 0; i < *be->nfired; i++)
		if (!strcmp((*be->fired)[i], trigger))
			return 0;
	grown = realloc(*be->fired, (*be->nfired + 1) * sizeof(char *));
	if (!grown)
		return -1;
	*be->fired = grown;
	if (!(grown[*be->nfired] = strdup(trigger)))
		return -1;
	(*be->nfired)++;
	return 0;
}

static int pragma_int(lethe_sqlite *be, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	int v = 0;

	if (sqlite3_prepare_v2(be->db, sql, -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		v = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

/* The names of the triggers the change's statement fires, into *names. */
static int probe(lethe_sqlite *be, const lethe_change *c, char ***names, size_t *n)
{
	sqlite3_str *s = sqlite3_str_new(be->db);
	sqlite3_stmt *stmt = NULL;
	char *sql;
	int rc, trusted;

	lethe_sqlite_change_sql(s, c, 0);
	if (!(sql = sqlite3_str_finish(s)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	trusted = pragma_int(be, "PRAGMA trusted_schema");
	sqlite3_exec(be->db, "PRAGMA trusted_schema = ON", NULL, NULL, NULL);
	be->fired = names;
	be->nfired = n;
	rc = sqlite3_prepare_v2(be->db, sql, -1, &stmt, NULL);
	be->fired = NULL;
	be->nfired = NULL;
	if (!trusted)
		sqlite3_exec(be->db, "PRAGMA trusted_schema = OFF", NULL, NULL, NULL);
	sqlite3_finalize(stmt);
	sqlite3_free(sql);
	if (rc == SQLITE_NOMEM || rc == SQLITE_AUTH)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	if (rc != SQLITE_OK)
		return lethe_error_set(lethe_sqlite_code(rc), "cannot find the triggers on '%s': %s",
				       c->table, sqlite3_errmsg(be->db));
	return 0;
}

typedef struct {
	lethe_sqlite *be;
	const char *table;      /* the firing table */
} fts_ctx;

/* 1 when `fts` is an FTS table and an index of the firing table: its CREATE
 * says content='table', or one of the table's INSERT triggers feeds it. */
static int is_fts(void *ctx, const char *fts)
{
	static const char sql[] =
		"SELECT type = 'table', sql FROM sqlite_schema WHERE sql IS NOT NULL AND "
		"((type = 'table' AND name = ?1 COLLATE NOCASE) OR "
		"(type = 'trigger' AND tbl_name = ?2 COLLATE NOCASE)) ORDER BY type = 'table' DESC";
	fts_ctx *f = ctx;
	sqlite3_stmt *stmt = NULL;
	int rc = 0, step;

	if (sqlite3_prepare_v2(f->be->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return lethe_error_set(LETHE_ESOFTWARE, "cannot read the schema: %s",
				       sqlite3_errmsg(f->be->db));
	sqlite3_bind_text(stmt, 1, fts, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, f->table, -1, SQLITE_STATIC);
	/* The table's own CREATE comes first: no FTS table, no index. */
	if ((step = sqlite3_step(stmt)) == SQLITE_ROW && sqlite3_column_int(stmt, 0) &&
	    lethe_sql_creates_fts((const char *)sqlite3_column_text(stmt, 1))) {
		do
			rc = lethe_sql_fts_of((const char *)sqlite3_column_text(stmt, 1), fts, f->table);
		while (rc == 0 && (step = sqlite3_step(stmt)) == SQLITE_ROW);
	}
	sqlite3_finalize(stmt);
	return rc;
}

/* Whether trigger `sql` on `table` is proven to keep an FTS index in step. */
static int harmless(lethe_sqlite *be, const char *table, const char *sql)
{
	static const char *const rowid_words[] = {"rowid", "_rowid_", "oid"};
	lethe_table_info *t = NULL;
	const char **names = NULL;
	fts_ctx f = { be, table };
	lethe_trigger_env env = { .is_fts = is_fts, .ctx = &f };
	int rc;

	if ((rc = lethe_sqlite_table_info(&t, &be->base, table)) < 0)
		return rc == LETHE_ENOTFOUND ? 0 : rc;
	if (!(names = calloc(t->ncolumns + 3, sizeof(*names)))) {
		lethe_table_info_free(t);
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	for (size_t i = 0; i < t->ncolumns; i++)
		if (t->columns[i].rowid_alias)
			names[env.nrow_names++] = t->columns[i].name;
	for (size_t i = 0; !t->without_rowid && i < 3; i++)
		if (!lethe_table_column(t, rowid_words[i]))
			names[env.nrow_names++] = rowid_words[i];
	env.row_names = names;
	rc = lethe_trigger_fts_sync(sql, &env);
	free(names);
	lethe_table_info_free(t);
	return rc;
}

int lethe_sqlite_change_triggers(lethe_backend *base, const lethe_change *c,
				 int (*cb)(void *ctx, const char *trigger, int harmless),
				 void *ctx)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	char **names = NULL;
	size_t n = 0;
	int rc;

	if ((rc = probe(be, c, &names, &n)) < 0)
		goto out;
	if (n && sqlite3_prepare_v2(be->db, "SELECT tbl_name, sql FROM sqlite_schema "
				    "WHERE type = 'trigger' AND name = ?1", -1, &stmt, NULL) != SQLITE_OK) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "cannot read the triggers: %s",
				     sqlite3_errmsg(be->db));
		goto out;
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char *table = NULL, *sql = NULL;

		sqlite3_bind_text(stmt, 1, names[i], -1, SQLITE_STATIC);
		/* Not a trigger: a view a trigger reads reports its own name. */
		if (sqlite3_step(stmt) == SQLITE_ROW) {
			table = strdup((const char *)sqlite3_column_text(stmt, 0));
			sql = strdup(sqlite3_column_text(stmt, 1) ?
				     (const char *)sqlite3_column_text(stmt, 1) : "");
			sqlite3_reset(stmt);
			if (!table || !sql)
				rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
			else if ((rc = harmless(be, table, sql)) >= 0)
				rc = cb(ctx, names[i], rc);
		}
		sqlite3_reset(stmt);
		free(table);
		free(sql);
	}
out:
	sqlite3_finalize(stmt);
	lethe_backend_names_free(names, n);
	return rc;
}

/* A trigger apply may run: proven harmless or acknowledged by the change. */
static int refuse_unchecked(void *ctx, const char *trigger, int harmless)
{
	const lethe_change *c = ctx;

	if (harmless)
		return 0;
	for (size_t i = 0; i < c->ntriggers; i++)
		if (!strcasecmp(c->triggers[i], trigger))
			return 0;
	return lethe_error_set(LETHE_EDATA, "rule '%s', table '%s': trigger '%s' would run and "
			       "was not checked (run 'lethe check'); nothing was changed",
			       c->rule ? c->rule : "?", c->table, trigger);
}

int lethe_sqlite_refuse_triggers(lethe_sqlite *be, const lethe_change *c)
{
	return lethe_sqlite_change_triggers(&be->base, c, refuse_unchecked, (void *)c);
}

int lethe_sqlite_pin_schema(lethe_backend *base)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	char *text = NULL;
	size_t len = 0;
	int rc;

	if ((rc = lethe_sqlite_schema_text(&text, &len, base)) < 0)
		return rc;
	free(be->pinned);
	be->pinned = text;
	be->npinned = len;
	return 0;
}

int lethe_sqlite_schema_unchanged(lethe_sqlite *be)
{
	char *text = NULL;
	size_t len = 0;
	int rc, same;

	if (!be->pinned)
		return 0;
	if ((rc = lethe_sqlite_schema_text(&text, &len, &be->base)) < 0)
		return rc;
	same = len == be->npinned && memcmp(text, be->pinned, len) == 0;
	free(text);
	if (!same)
		return lethe_error_set(LETHE_ETEMPFAIL, "the schema of '%s' changed after it was "
				       "checked; nothing was changed: run again to check it anew",
				       be->path);
	return 0;
}
