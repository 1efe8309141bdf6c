/*
 * trigger_sql.h - internal: reading the text of a CREATE TRIGGER (and CREATE
 * VIRTUAL TABLE) statement to prove that a trigger only keeps a full-text
 * index in step with the row that fired it. Pure text: no database here.
 *
 * Invariant: the answer errs on the side of "not proven". Anything the small
 * grammar below does not know (a WHEN that hides BEGIN, comments in odd
 * places, a statement of another shape) makes the trigger unproven, and
 * check then refuses it; nothing is ever proven harmless by accident.
 */
#ifndef LETHE_TRIGGER_SQL_H
#define LETHE_TRIGGER_SQL_H

#include <stddef.h>

typedef struct {
	/* Names that denote the firing row's rowid in its own table: its
	 * INTEGER PRIMARY KEY column and whichever of rowid, _rowid_ and oid no
	 * column shadows. Borrowed. */
	const char *const *row_names;
	size_t nrow_names;
	/* 1 when `table` is an FTS3/4/5 virtual table that indexes the firing
	 * table (lethe_sql_fts_of), 0 when not, or a negative lethe error code. */
	int (*is_fts)(void *ctx, const char *table);
	void *ctx;
} lethe_trigger_env;

/* 1 when every statement of the trigger `sql` is one of
 *   DELETE FROM fts WHERE rowid = old.R;
 *   INSERT INTO fts([fts,] rowid, c...) VALUES(['delete',] old.R|new.R, old.x|new.x ...);
 *   UPDATE fts SET c = old.x|new.x, ... WHERE rowid = old.R|new.R;
 * with fts an FTS virtual table of the firing table and R a name of the
 * firing row's rowid (so the trigger writes nothing but that row's entry of
 * its full-text index);
 * 0 when not proven; a negative lethe error code when is_fts failed or
 * memory ran out. */
int lethe_trigger_fts_sync(const char *sql, const lethe_trigger_env *env);

/* 1 when `sql` (a CREATE INDEX) names `column` anywhere after its ON, as a
 * bare or quoted identifier: the columns an expression index reads. 0 when
 * not, a negative lethe error code when memory ran out. */
int lethe_sql_mentions(const char *sql, const char *column);

/* 1 when `sql` is CREATE VIRTUAL TABLE ... USING fts3, fts4 or fts5. */
int lethe_sql_creates_fts(const char *sql);

/* Whether the FTS table `fts` is an index of `table`, from one statement of
 * the schema: 1 when `sql` is the FTS table's CREATE VIRTUAL TABLE with
 * content='table' (FTS4 and FTS5 external content), or a trigger on `table`
 * that fires on INSERT and inserts into `fts` (how a table feeds its
 * index); else 0, or a negative lethe error code when memory ran out. An
 * FTS table nothing of `table` feeds holds other rows: writing its entry of
 * the same rowid would dispose of another row's data. */
int lethe_sql_fts_of(const char *sql, const char *fts, const char *table);

#endif
