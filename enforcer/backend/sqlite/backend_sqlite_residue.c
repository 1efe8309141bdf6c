/*
 * backend_sqlite_residue.c - after the last batch of a run, leave no trace of
 * disposed content in the database's files (logical sanitisation of every
 * location SQLite itself can address; see docs/disposal.md for what lies
 * beyond: filesystem copies, SSD remapping, backups).
 *
 * What secure_delete=ON already covers: deleted cells, freed pages and
 * overflow pages are overwritten with zeros in the main file. What it does
 * not, and this file does:
 *  - FTS5 keeps the tokens of deleted documents in its *_data shadow table
 *    until the index is merged (FTS3/FTS4 in *_segments): 'optimize'
 *    rewrites it (SQLite 3.40 has no FTS5 secure-delete option). It must
 *    come before VACUUM, which copies shadow tables as they are.
 *  - sqlite_stat4 holds sampled index keys, which may be disposed values:
 *    ANALYZE samples again.
 *  - secure_delete zeroes a deleted cell where it lies, but when SQLite
 *    rebalances a page (a split after an UPDATE grew an index, a merge after
 *    deletes) it rebuilds the page's cells without clearing the space they
 *    used to occupy: whole fragments of disposed index keys and rows stay in
 *    the unallocated gap of live pages (found by tests/e2e/test_residue.py:
 *    the old e-mail of a pseudonymised row in an index leaf). No pragma
 *    reaches that space; VACUUM writes every page anew from the live rows.
 *    VACUUM renumbers the rowids of a table that has neither an INTEGER
 *    PRIMARY KEY nor any index, which would change the keys that evidence,
 *    the done table and the application use: when such a table has rowids
 *    other than 1..n, VACUUM is skipped with a warning naming it. A busy
 *    database (a reader in rollback-journal mode) also only skips it, with a
 *    warning: the rows are already disposed of and committed.
 *  - In WAL mode the old pages stay in the main file, and earlier frames in
 *    the -wal file, until a checkpoint: wal_checkpoint(TRUNCATE) copies the
 *    new pages back and empties the WAL. An open reader prevents that; it is
 *    reported as a warning with its cause, never silently.
 *
 * Finalise returns 1 when a step was kept from completing by another
 * connection (warned): the clean-up then stays owed (backend_sqlite_owed.c)
 * and the next run or erase does it again. A table VACUUM would renumber is
 * a lasting property of the register, warned about on every run, not owed.
 *
 * Invariant: finalise runs outside any transaction of ours, after COMMIT,
 * and in this order: FTS5 optimize and ANALYZE write pages, VACUUM rewrites
 * them all, the checkpoint moves the result into the main file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend_sqlite.h"
#include "lethe/error.h"

/* A step kept from completing by another connection: warned, and the
 * clean-up stays owed (1) unless the warning itself failed. */
static int still_owed(int rc)
{
	return rc < 0 ? rc : 1;
}

static int optimise_fts(lethe_sqlite *be)
{
	sqlite3_stmt *list = NULL;
	int rc, step;

	/* The module name must be followed by its argument list: fts5vocab and
	 * fts4aux tables are read-only views of an index, 'optimize' is no
	 * command of theirs. FTS3/FTS4 keep deleted tokens in their segments
	 * the same way and take the same command. */
	rc = sqlite3_prepare_v2(be->db, "SELECT name FROM (SELECT name, replace(replace(replace("
				"replace(lower(sql), ' ', ''), char(9), ''), char(10), ''), char(13), '') AS s "
				"FROM sqlite_schema WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%') "
				"WHERE s LIKE '%usingfts5(%' OR s LIKE '%usingfts4(%' OR s LIKE '%usingfts3(%'",
				-1, &list, NULL);
	if (rc != SQLITE_OK)
		return lethe_error_set(lethe_sqlite_code(rc), "cannot list full-text tables: %s",
				       sqlite3_errmsg(be->db));
	while ((step = sqlite3_step(list)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(list, 0);
		char *sql = sqlite3_mprintf("INSERT INTO \"%w\"(\"%w\") VALUES ('optimize')", name, name);

		rc = sql ? sqlite3_exec(be->db, sql, NULL, NULL, NULL) : SQLITE_NOMEM;
		sqlite3_free(sql);
		if (rc != SQLITE_OK) {
			rc = lethe_error_set(lethe_sqlite_code(rc), "cannot optimise full-text table '%s': %s",
					     name, sqlite3_errmsg(be->db));
			sqlite3_finalize(list);
			return rc;
		}
	}
	sqlite3_finalize(list);
	if (step != SQLITE_DONE)
		return lethe_error_set(lethe_sqlite_code(step), "cannot list full-text tables: %s",
				       sqlite3_errmsg(be->db));
	return 0;
}

/* The first table whose rowids VACUUM would renumber (no INTEGER PRIMARY
 * KEY, no index, rowids other than 1..n), or NULL: *out is sqlite3_malloc'd. */
static int renumbered_table(char **out, lethe_sqlite *be)
{
	sqlite3_stmt *list = NULL, *ids = NULL;
	char *found = NULL;
	int rc = 0, step;

	step = sqlite3_prepare_v2(be->db, "SELECT name FROM sqlite_schema m WHERE type = 'table' "
				  "AND coalesce(rootpage, 0) > 0 AND name NOT LIKE 'sqlite!_%' ESCAPE '!' "
				  "AND NOT EXISTS (SELECT 1 FROM pragma_index_list(m.name)) "
				  "AND NOT (SELECT count(*) = 1 AND upper(max(type)) = 'INTEGER' "
				  "FROM pragma_table_info(m.name) WHERE pk > 0)", -1, &list, NULL);
	while (step == SQLITE_OK && !found && (step = sqlite3_step(list)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(list, 0);
		sqlite3_str *s = sqlite3_str_new(be->db);
		char *sql;

		sqlite3_str_appendall(s, "SELECT count(*) = 0 OR (min(rowid) = 1 AND max(rowid) = count(*)) FROM ");
		lethe_sqlite_append_ident(s, name);
		if (!(sql = sqlite3_str_finish(s))) {
			step = SQLITE_NOMEM;
			break;
		}
		step = sqlite3_prepare_v2(be->db, sql, -1, &ids, NULL);
		sqlite3_free(sql);
		if (step == SQLITE_OK && (step = sqlite3_step(ids)) == SQLITE_ROW) {
			if (!sqlite3_column_int(ids, 0) && !(found = sqlite3_mprintf("%s", name)))
				step = SQLITE_NOMEM;
			else
				step = SQLITE_OK;
		}
		sqlite3_finalize(ids);
		ids = NULL;
	}
	if (step != SQLITE_OK && step != SQLITE_DONE && step != SQLITE_ROW)
		rc = lethe_error_set(lethe_sqlite_code(step), "cannot read the tables of '%s': %s", be->path,
				     sqlite3_errmsg(be->db));
	sqlite3_finalize(list);
	if (rc == 0)
		*out = found;
	else
		sqlite3_free(found);
	return rc;
}

const char *lethe_sqlite_why(char *out, size_t size, sqlite3 *db)
{
	int e = sqlite3_system_errno(db);

	if (e)
		snprintf(out, size, "%s (%s)", sqlite3_errmsg(db), strerror(e));
	else
		snprintf(out, size, "%s", sqlite3_errmsg(db));
	return out;
}

static int vacuum(lethe_sqlite *be, lethe_warnings *w)
{
	char *table = NULL, why[256];
	int rc;

	if ((rc = renumbered_table(&table, be)) < 0)
		return rc;
	if (table) {
		rc = lethe_warnings_add(w, "'%s' was not vacuumed: it would renumber the rowids of table "
					"'%s' (no INTEGER PRIMARY KEY, no index); fragments of disposed "
					"content may remain in unused space of its pages", be->path, table);
		sqlite3_free(table);
		return rc;
	}
	/* VACUUM builds its copy in an attached temporary database; the
	 * connection allows no ATTACH otherwise (user SQL must not reach other
	 * files), so the limit is lifted for this statement of ours only. */
	int attached = sqlite3_limit(be->db, SQLITE_LIMIT_ATTACHED, 1);

	rc = sqlite3_exec(be->db, "VACUUM", NULL, NULL, NULL);
	sqlite3_limit(be->db, SQLITE_LIMIT_ATTACHED, attached);
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		return still_owed(lethe_warnings_add(w, "'%s' was not vacuumed: another connection is using it; "
					  "fragments of disposed content may remain in unused space of its "
					  "pages until the next VACUUM", be->path));
	if (rc != SQLITE_OK) {
		lethe_sqlite_why(why, sizeof(why), be->db);
		lethe_sqlite_recover(be);
		return lethe_error_set(lethe_sqlite_code(rc), "cannot vacuum '%s': %s", be->path, why);
	}
	return 0;
}

static int checkpoint(lethe_sqlite *be, lethe_warnings *w)
{
	sqlite3_stmt *stmt = NULL;
	int rc, wal = 0, busy = 0;

	rc = sqlite3_prepare_v2(be->db, "PRAGMA journal_mode", -1, &stmt, NULL);
	if (rc == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
		wal = !strcmp((const char *)sqlite3_column_text(stmt, 0), "wal");
	sqlite3_finalize(stmt);
	if (!wal)
		return 0;
	rc = sqlite3_prepare_v2(be->db, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &stmt, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		busy = sqlite3_column_int(stmt, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_OK)
		return lethe_error_set(lethe_sqlite_code(rc), "cannot checkpoint '%s': %s", be->path,
				       sqlite3_errmsg(be->db));
	if (busy)
		return still_owed(lethe_warnings_add(w, "the write-ahead log of '%s' was not truncated: another "
					  "connection is reading it; disposed content remains in '%s' "
					  "and '%s-wal' until a checkpoint completes (PRAGMA "
					  "wal_checkpoint(TRUNCATE) once no reader is left)", be->path,
					  be->path, be->path));
	return 0;
}

int lethe_sqlite_finalise(lethe_backend *base, lethe_warnings *warnings, unsigned flags)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	int rc, vacuumed = 0;

	if (be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "finalise inside a transaction");
	if ((rc = optimise_fts(be)) < 0)
		return rc;
	if (lethe_sqlite_has_table(be, "sqlite_stat4") &&
	    sqlite3_exec(be->db, "ANALYZE", NULL, NULL, NULL) != SQLITE_OK)
		return lethe_error_set(lethe_sqlite_code(sqlite3_errcode(be->db)),
				       "cannot refresh index statistics of '%s': %s", be->path,
				       sqlite3_errmsg(be->db));
	/* residue: fast trades the page rewrite for speed; docs/disposal.md says
	 * what can then remain in the free space of live pages. */
	if (!(flags & LETHE_FINALISE_NO_VACUUM) && (vacuumed = vacuum(be, warnings)) < 0)
		return vacuumed;
	rc = checkpoint(be, warnings);
	return rc < 0 ? rc : (rc > 0 || vacuumed > 0);
}
