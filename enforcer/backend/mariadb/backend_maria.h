/*
 * backend_maria.h - internal: the MariaDB/MySQL backend object shared by
 * backend_maria.c (location, connection, run lock, statements, ops table)
 * and backend_maria_schema.c (tables, foreign keys).
 *
 * Invariants:
 *  - Only the backend_maria*.c files and the demo's MariaDB sink
 *    (demo_maria.c) include this header (it pulls in mysql.h, which no
 *    other library file may see).
 *  - Every value crosses the connection as a parameter of a prepared
 *    statement (mysql_stmt_*), so the server's general and slow logs never
 *    see one; SQL text holds only identifiers (quoted by lethe_maria_ident),
 *    Lethe's own numbers and the user's checked expressions.
 *  - The session runs with time_zone '+00:00' and sql_mode ANSI (double
 *    quotes are identifiers, || concatenates; NO_BACKSLASH_ESCAPES: strings
 *    quote as in standard SQL), so the reference policies'
 *    expressions read as on SQLite and PostgreSQL.
 *  - A backend opened without LETHE_BACKEND_READONLY holds the run lock
 *    (GET_LOCK(LETHE_MARIA_RUN_LOCK)) for its whole session.
 *  - Lethe's own tables live in the register's database with the prefix
 *    lethe_ (today only lethe_schema_version: see backend_maria.c).
 */
#ifndef LETHE_BACKEND_MARIA_H
#define LETHE_BACKEND_MARIA_H

#include <mysql.h>
#include "backend/backend_impl.h"
#include "strbuf.h"

/* The name of the server-wide lock of "one run at a time" per database
 * (the database's name is appended). */
#define LETHE_MARIA_RUN_LOCK "lethe.run."

/* The version of Lethe's own tables (lethe_schema_version). */
#define LETHE_MARIA_SCHEMA_VERSION 1

typedef struct {
	lethe_backend base;     /* first: see backend_impl.h */
	MYSQL *conn;
	char *label;            /* for messages: "dbname@host" */
	char *dbname;
	unsigned flags;
	int in_txn;
	unsigned last_errno;    /* server error of the last failed statement, 0 if none */
	char *pinned;           /* the checked schema (pin_schema), or NULL */
	size_t npinned;
} lethe_maria;

/* The rows of a statement's result, every cell copied (text form as the
 * server sends it in the binary protocol's string conversion). Owned by the
 * caller of lethe_maria_exec: lethe_maria_result_free. */
typedef struct {
	size_t nrows, ncols;
	char **names;           /* ncols */
	int *types;             /* ncols: enum enum_field_types */
	int *binary;            /* ncols: 1 for a binary string (charset 63) */
	char **cells;           /* nrows * ncols, NULL for SQL NULL */
	size_t *lens;
} lethe_maria_result;

void lethe_maria_result_free(lethe_maria_result *r);
/* Append `name` as a backquoted identifier (`` doubling). */
void lethe_maria_ident(lethe_strbuf *s, const char *name);
/* Prepare and run sql with n parameters (? placeholders). On failure the
 * last error is "cannot WHAT in 'LABEL': why" and a LETHE_E* code is
 * returned (lock wait timeout, deadlock and statement time -> ETEMPFAIL,
 * connection -> EIO, access denied -> ENOPERM, else EDATA). *res
 * (optional) receives the result rows on success. */
int lethe_maria_exec(lethe_maria_result **res, lethe_maria *be, const char *what,
		     const char *sql, size_t n, const lethe_value *params);

/* Replace Lethe's named parameters (:lethe_subject...) outside quotes and
 * comments by '?', one per occurrence: *out (malloc'd) and *values (malloc'd,
 * borrowed entries of bound: bound[i] is the value of names[i]) in the order
 * of the '?'s. */
int lethe_maria_positional(char **out, lethe_value **values, size_t *nvalues, const char *sql,
			   const char *const *names, const lethe_value *bound, size_t nnames);
/* A result cell as a lethe_value (borrowed from r): the column's type
 * decides (integers INTEGER, floating REAL, binary strings BLOB, else TEXT). */
void lethe_maria_value(lethe_value *out, const lethe_maria_result *r, size_t row, size_t col);

/* A connection for `location` (mariadb:// or mysql:// URI) with the
 * session settings above, no run lock: for the demo's loader. */
int lethe_maria_connect(MYSQL **out, const char *location);

/* backend_maria_schema.c */
int lethe_maria_table_info(lethe_table_info **out, lethe_backend *base, const char *table);
int lethe_maria_foreign_keys(lethe_foreign_keys **out, lethe_backend *base);
int lethe_maria_schema_text(char **out, size_t *len, lethe_backend *base);
int lethe_maria_pin_schema(lethe_backend *base);
int lethe_maria_change_triggers(lethe_backend *base, const lethe_change *c,
				int (*cb)(void *ctx, const char *trigger, int harmless), void *ctx);

/* backend_maria_scan.c */
int lethe_maria_scan(lethe_backend *base, const lethe_scan *scan);
int lethe_maria_count(lethe_scan_counts *out, lethe_backend *base, const lethe_scan *scan);
int lethe_maria_check_clock(lethe_backend *base, const char *table, const char *expr,
			    char **errmsg);

#endif
