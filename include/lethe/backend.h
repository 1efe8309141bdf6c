/*
 * lethe/backend.h - the storage interface. The engine (check, plan, and later
 * run) reads and writes the register only through these functions, so another
 * database (PostgreSQL) can be added without touching planning.
 *
 * A backend owns the SQL it generates: planning hands it a structured scan
 * description (which table, which expressions, which dependent rows decide
 * whether a deletion is blocked) and receives rows through a callback, one at
 * a time. Nothing here loads a table into memory.
 *
 * Invariants:
 *  - User expressions (where, from, subject) are only ever run read-only:
 *    the SQLite backend prepares every statement under an authorizer that
 *    refuses writes, ATTACH/DETACH, PRAGMA, and functions other than SQLite's
 *    deterministic built-ins (and the backend's own lethe_* functions).
 *  - A backend opened LETHE_BACKEND_READONLY never changes the database file.
 *  - Values passed to callbacks are borrowed and valid only during the call.
 */
#ifndef LETHE_BACKEND_H
#define LETHE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

typedef struct lethe_backend lethe_backend;

enum {
	LETHE_BACKEND_READONLY = 1 << 0
};

/* --- values --------------------------------------------------------------- */
typedef enum {
	LETHE_VALUE_NULL,
	LETHE_VALUE_INTEGER,
	LETHE_VALUE_REAL,
	LETHE_VALUE_TEXT,
	LETHE_VALUE_BLOB
} lethe_value_type;

typedef struct {
	lethe_value_type type;
	int64_t i;        /* INTEGER */
	double r;         /* REAL */
	const char *s;    /* TEXT (not NUL-terminated necessarily) and BLOB */
	size_t len;
} lethe_value;

/* --- schema ----------------------------------------------------------------- */
typedef struct {
	char *name;
	char *decl_type;  /* as declared, "" when none */
	int notnull;
	int pk;           /* 1-based position in the primary key, 0 if not */
	int unique;       /* a single-column UNIQUE index or constraint exists */
} lethe_column_info;

typedef struct {
	char *name;
	int is_view;
	int without_rowid;
	int strict;
	lethe_column_info *columns;
	size_t ncolumns;
	int npk;          /* number of primary key columns */
} lethe_table_info;

typedef enum {
	LETHE_FK_NO_ACTION,
	LETHE_FK_RESTRICT,
	LETHE_FK_SET_NULL,
	LETHE_FK_SET_DEFAULT,
	LETHE_FK_CASCADE
} lethe_fk_action;

typedef struct {
	char *child_table;
	char *parent_table;
	char **child_columns;   /* ncolumns each */
	char **parent_columns;  /* resolved: the parent's primary key when omitted */
	size_t ncolumns;
	lethe_fk_action on_delete;
} lethe_foreign_key;

typedef struct {
	lethe_foreign_key *items;
	size_t count;
} lethe_foreign_keys;

/* --- scans ---------------------------------------------------------------- */

/* A rule whose rows may be deleted: used to decide, inside the database,
 * whether a dependent row is itself due for deletion. */
typedef struct {
	int id;                 /* passed back to the due callback */
	const char *where;      /* NULL: all rows of the table */
	const char *from;       /* clock expression */
} lethe_clock_rule;

/* Rows that reference a parent row through a foreign key. Deleting the parent
 * is blocked when one such row is not due under any of `rules` (the planner
 * chooses them: the child table's rules that allow what the deletion would do
 * to the row), or when it is itself blocked by its own `children`. */
typedef struct lethe_dependents lethe_dependents;
struct lethe_dependents {
	const lethe_foreign_key *fk;
	const lethe_clock_rule *rules;
	size_t nrules;
	const lethe_dependents *children; /* dependents of fk->child_table */
	size_t nchildren;
	int cycle;              /* 1: the path loops here; treat as blocked */
};

typedef struct {
	const char *table;
	const char *key;        /* column name or "rowid" */
	const char *where;      /* NULL: every row */
	const char *from;       /* NULL: no clock (clock is NULL in callbacks) */
	const char *subject;    /* NULL: not selected */

	/* Blocked detection for deletions; ndeps 0 = never blocked. */
	int self_rule_id;
	const lethe_dependents *deps;
	size_t ndeps;

	/* due(ctx, rule id, clock value) -> 1 when due at the plan's as-of. Called
	 * from inside the query for self_rule_id and the dependents' rules. */
	int (*due)(void *ctx, int rule_id, const lethe_value *clock);
	void *due_ctx;

	/* One call per row in scope. blocked is 1 when the row is due and its
	 * deletion would touch a dependent row that is not due. Return 0 to go
	 * on, non-zero to stop the scan with that code. */
	int (*row)(void *ctx, const lethe_value *key, const lethe_value *clock,
		   const lethe_value *subject, int blocked);
	void *row_ctx;
} lethe_scan;

/* --- life cycle -------------------------------------------------------------- */

/* Open a register. The location is a path to an SQLite file (the only backend
 * today). LETHE_ENOINPUT when the file does not exist, LETHE_EDATA when it is
 * not a database, LETHE_ETEMPFAIL when locked. */
int lethe_backend_open(lethe_backend **out, const char *location, unsigned flags);
void lethe_backend_free(lethe_backend *be);

/* --- schema -------------------------------------------------------------------- */

/* LETHE_ENOTFOUND when no table or view of that name exists. */
int lethe_backend_table_info(lethe_table_info **out, lethe_backend *be, const char *table);
void lethe_table_info_free(lethe_table_info *t);
const lethe_column_info *lethe_table_column(const lethe_table_info *t, const char *name);

/* Every foreign key of every table of the register. */
int lethe_backend_foreign_keys(lethe_foreign_keys **out, lethe_backend *be);
void lethe_foreign_keys_free(lethe_foreign_keys *fks);

/* Prepare `expr` as an expression over rows of `table` under the read-only
 * authorizer, without running it. 0 when acceptable; otherwise LETHE_EDATA and
 * *errmsg (malloc'd, caller frees) says why in one lowercase line, e.g.
 * "no such column: x" or "function 'random' is not allowed". */
int lethe_backend_check_expr(lethe_backend *be, const char *table, const char *expr,
			     char **errmsg);

/* --- reading ------------------------------------------------------------------- */

/* Stream the rows of a scan; see lethe_scan. Returns 0, the row callback's
 * non-zero code, or a LETHE_E* code for a database failure. */
int lethe_backend_scan(lethe_backend *be, const lethe_scan *scan);

#endif
