/*
 * backend_sqlite.h - internal: the SQLite backend object shared by
 * backend_sqlite.c (open, authorizer, expression checks),
 * backend_sqlite_schema.c (tables, foreign keys) and backend_sqlite_scan.c
 * (scan queries, the lethe_due function).
 *
 * Invariants:
 *  - Only the backend_sqlite*.c files include this header (it pulls in
 *    sqlite3.h, which no other library file may see).
 *  - `auth_on` is set exactly while a statement built from user expressions is
 *    prepared or stepped; the backend's own schema queries run with it off.
 *  - `auth_reason` holds the first refusal of the current preparation, so the
 *    error names what was refused instead of SQLite's "not authorized".
 */
#ifndef LETHE_BACKEND_SQLITE_H
#define LETHE_BACKEND_SQLITE_H

#include <sqlite3.h>
#include "backend_impl.h"

typedef struct {
	lethe_backend base;     /* first: see backend_impl.h */
	sqlite3 *db;
	char *path;
	unsigned flags;
	char **functions;       /* sorted allow-list of function names */
	size_t nfunctions;
	int auth_on;
	char auth_reason[128];
	const lethe_scan *cur_scan; /* set only inside a scan's sqlite3_step() */
	int due_rc;             /* a due callback's failure, reported by scan */
} lethe_sqlite;

/* Prepare `sql` under the authorizer. On a refusal or SQL error returns
 * LETHE_EDATA and sets *errmsg (malloc'd) to the one-line reason; a second
 * statement in `sql` is refused ("more than one statement"). */
int lethe_sqlite_prepare_user(lethe_sqlite *be, const char *sql, sqlite3_stmt **out,
			      char **errmsg);

/* Map an SQLite result code to a LETHE_E* code (busy/locked -> ETEMPFAIL,
 * I/O -> EIO, anything else -> EDATA). */
int lethe_sqlite_code(int rc);

/* Append `name` as a double-quoted identifier ("" doubling). */
void lethe_sqlite_append_ident(sqlite3_str *s, const char *name);

/* backend_sqlite_schema.c */
int lethe_sqlite_table_info(lethe_table_info **out, lethe_backend *base, const char *table);
int lethe_sqlite_foreign_keys(lethe_foreign_keys **out, lethe_backend *base);

/* backend_sqlite_scan.c */
int lethe_sqlite_register_functions(lethe_sqlite *be);
int lethe_sqlite_scan(lethe_backend *base, const lethe_scan *scan);
void lethe_sqlite_value(lethe_value *out, sqlite3_value *v);

#endif
