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
 *    quotes are identifiers, || concatenates), so the reference policies'
 *    expressions read as on SQLite and PostgreSQL.
 *  - A backend opened without LETHE_BACKEND_READONLY holds the run lock
 *    (GET_LOCK(LETHE_MARIA_RUN_LOCK)) for its whole session.
 *  - Lethe's own tables live in the register's database with the prefix
 *    lethe_ (not implemented yet: see docs/disposal.md).
 */
#ifndef LETHE_BACKEND_MARIA_H
#define LETHE_BACKEND_MARIA_H

#include <mysql.h>
#include "backend/backend_impl.h"
#include "strbuf.h"

/* The name of the server-wide lock of "one run at a time" per database
 * (the database's name is appended). */
#define LETHE_MARIA_RUN_LOCK "lethe.run."

typedef struct {
	lethe_backend base;     /* first: see backend_impl.h */
	MYSQL *conn;
	char *label;            /* for messages: "dbname@host" */
	char *dbname;
	unsigned flags;
	int in_txn;
	unsigned last_errno;    /* server error of the last failed statement, 0 if none */
} lethe_maria;

/* The rows of a statement's result, every cell copied (text form as the
 * server sends it in the binary protocol's string conversion). Owned by the
 * caller of lethe_maria_exec: lethe_maria_result_free. */
typedef struct {
	size_t nrows, ncols;
	char **names;           /* ncols */
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

/* A connection for `location` (mariadb:// or mysql:// URI) with the
 * session settings above, no run lock: for the demo's loader. */
int lethe_maria_connect(MYSQL **out, const char *location);

/* backend_maria_schema.c */
int lethe_maria_table_info(lethe_table_info **out, lethe_backend *base, const char *table);
int lethe_maria_foreign_keys(lethe_foreign_keys **out, lethe_backend *base);

#endif
