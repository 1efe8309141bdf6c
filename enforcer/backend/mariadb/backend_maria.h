/*
 * backend_maria.h - internal: the MariaDB/MySQL backend object shared by
 * backend_maria.c (location, connection, run lock, statements, ops table)
 * backend_maria_schema.c (tables, foreign keys), backend_maria_scan.c (scan
 * SQL, scans, counts), backend_maria_write.c (transactions, apply,
 * dispose), backend_maria_residue.c (levels R0-R2) and backend_maria_own.c
 * (Lethe's own tables).
 *
 * Invariants:
 *  - Only the backend_maria*.c files and the demo's MariaDB sink
 *    (demo_maria.c) include this header (it pulls in mysql.h, which no
 *    other library file may see).
 *  - Every value crosses the connection as a parameter of a prepared
 *    statement (mysql_stmt_*); SQL text holds only identifiers (quoted by
 *    lethe_maria_ident), Lethe's own numbers and the user's checked
 *    expressions. (MariaDB's general and slow logs still print a prepared
 *    statement with its values substituted: check warns when they are on.)
 *  - The session runs with time_zone '+00:00' and sql_mode ANSI (double
 *    quotes are identifiers, || concatenates; NO_BACKSLASH_ESCAPES: strings
 *    quote as in standard SQL), so the reference policies'
 *    expressions read as on SQLite and PostgreSQL.
 *  - A backend opened without LETHE_BACKEND_READONLY holds the run lock
 *    (GET_LOCK(LETHE_MARIA_RUN_LOCK)) for its whole session.
 *  - Lethe's own tables live in the register's database with the prefix
 *    lethe_ (backend_maria_own.c).
 */
#ifndef LETHE_BACKEND_MARIA_H
#define LETHE_BACKEND_MARIA_H

#include <mysql.h>
#include "backend/backend_impl.h"
#include "strbuf.h"
#include "strvec.h"

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
	uint64_t affected;      /* rows the last statement matched (CLIENT_FOUND_ROWS) */
	uint64_t insert_id;     /* the AUTO_INCREMENT value the last INSERT gave */
	int own_schema;         /* Lethe's own tables (lethe_done...) exist */
	int own_made;           /* ... and are complete: made or upgraded in this session */
	/* While a batch's re-check is built (backend_maria_write.c): a
	 * condition on the key added to the scan's rows, and its values. */
	const char *keys_where;
	const lethe_value *keys;
	size_t nkeys;
	lethe_strvec changed;   /* tables this session changed rows of (residue) */
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
/* backend_maria_stmt.c: set the last error "cannot WHAT in 'LABEL': msg"
 * (the server's message on one line), remember err in be->last_errno, and
 * return its LETHE_E* code (as lethe_maria_exec's). */
int lethe_maria_fail(lethe_maria *be, const char *what, unsigned err, const char *msg);
/* Append `name` as a backquoted identifier (`` doubling). */
void lethe_maria_ident(lethe_strbuf *s, const char *name);
/* Prepare and run sql with n parameters (? placeholders). On failure the
 * last error is "cannot WHAT in 'LABEL': why" and a LETHE_E* code is
 * returned (lock wait timeout, deadlock and statement time -> ETEMPFAIL,
 * connection -> EIO, access denied -> ENOPERM, else EDATA). *res
 * (optional) receives the result rows on success. */
int lethe_maria_exec(lethe_maria_result **res, lethe_maria *be, const char *what,
		     const char *sql, size_t n, const lethe_value *params);
/* As lethe_maria_exec for a query of one text column, but each row is
 * passed to cb (the text borrowed until cb returns) as the server sends it,
 * never the whole result in memory: cb must not use the connection. A
 * negative return of cb stops the reading and is returned. */
int lethe_maria_each_text(lethe_maria *be, const char *what, const char *sql, size_t n,
			  const lethe_value *params, int (*cb)(void *ctx, const char *text),
			  void *ctx);

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
int lethe_maria_tables_read(char ***out, size_t *n, lethe_backend *base, const char *table,
			    const char *expr);

/* backend_maria_scan.c */
int lethe_maria_scan(lethe_backend *base, const lethe_scan *scan);
int lethe_maria_count(lethe_scan_counts *out, lethe_backend *base, const lethe_scan *scan);
int lethe_maria_check_clock(lethe_backend *base, const char *table, const char *expr,
			    char **errmsg);
/* The scan's SQL in *out and its parameters, one per '?', in *params
 * (malloc'd array of values borrowed from scan and be->keys); with count
 * one row of counts. While be->keys_where is set, it is added to the rows'
 * condition and be->keys bound to its '?'s. */
int lethe_maria_scan_sql(char **out, lethe_value **params, size_t *nparams, lethe_maria *be,
			 const lethe_scan *scan, int count);

/* backend_maria.c: transactions (READ COMMITTED; begin checks the pinned
 * schema unchanged) */
int lethe_maria_begin(lethe_backend *base);
int lethe_maria_commit(lethe_backend *base);
void lethe_maria_rollback(lethe_backend *base);

/* backend_maria_write.c */
int lethe_maria_apply(int64_t *changed, lethe_backend *base, const lethe_change *c,
		      const lethe_value *keys, size_t nkeys);
int lethe_maria_dispose(lethe_disposed *out, lethe_backend *base, const lethe_change *c,
			const lethe_scan *scan);

/* backend_maria_residue.c */
int lethe_maria_finalise(lethe_backend *base, lethe_warnings *warnings, unsigned flags);
/* Remember that rows of `table` were changed (and, through foreign keys
 * that cascade or set null, of its dependents). */
int lethe_maria_note_changed(lethe_maria *be, const char *table);
/* Why a rebuild of `table` cannot leave clean files, appended to out
 * ("" when nothing stands in the way): for check and finalise. */
int lethe_maria_residue_check(lethe_backend *base, const char *const *tables, size_t ntables,
			      unsigned flags, lethe_warnings *warnings);
int lethe_maria_rebuild_blockers(lethe_strbuf *out, lethe_maria *be, const char *table);

/* backend_maria_own.c: Lethe's own tables */
/* Whether Lethe's tables exist in the register's database. */
int lethe_maria_has_own(lethe_maria *be);
/* Create them if missing (never inside a transaction: DDL commits). */
int lethe_maria_own_schema(lethe_maria *be);
int lethe_maria_mark(lethe_backend *base, const char *run_id, const char *rule, int64_t disposed,
		     const unsigned char *digests, size_t ndigests);
int lethe_maria_marker(int *found, lethe_backend *base, const char *run_id,
		       int (*cb)(void *ctx, const char *rule, int64_t disposed), void *ctx);
int lethe_maria_marker_digests(lethe_backend *base, const char *run_id, const char *rule,
			       int (*cb)(void *ctx, const char *digest), void *ctx);
int lethe_maria_marker_clear(lethe_backend *base, const char *run_id);
int lethe_maria_cleanup_owe(lethe_backend *base);
int lethe_maria_cleanup_owed(char **since, lethe_backend *base);
int lethe_maria_cleanup_done(lethe_backend *base);
int lethe_maria_evidence_head(int *found, int64_t *seq, char commit[41], lethe_backend *base,
			      const char *repository);
int lethe_maria_evidence_head_set(lethe_backend *base, const char *repository, int64_t seq,
				  const char *commit, const char *at);
int lethe_maria_rows(lethe_backend *base, const char *table, const char *where,
		     const lethe_value *subject,
		     int (*cb)(void *ctx, size_t ncols, const char *const *names,
			       const lethe_value *values), void *ctx);
int lethe_maria_suppress(lethe_backend *base, const char *const *tokens, size_t n,
			 const char *added_at);
int lethe_maria_suppressed(int *found, lethe_backend *base, const char *token);
int lethe_maria_hold_add(int64_t *id, lethe_backend *base, const lethe_hold *h);
int lethe_maria_hold_release(lethe_backend *base, int64_t id, const char *released_at,
			     const char *reason, const char *released_by);
int lethe_maria_holds(lethe_backend *base, int (*cb)(void *ctx, const lethe_hold *h), void *ctx);
int lethe_maria_request_put(int64_t *id, lethe_backend *base, const lethe_request *r);
int lethe_maria_requests(lethe_backend *base, int (*cb)(void *ctx, const lethe_request *r),
			 void *ctx);

/* backend_maria_erasures.c */
int lethe_maria_erasure_open(lethe_backend *base, const lethe_open_erasure *e);
int lethe_maria_erasure_close(lethe_backend *base, const lethe_value *subject);
int lethe_maria_erasures_open(lethe_backend *base,
			      int (*cb)(void *ctx, const lethe_open_erasure *e), void *ctx);

#endif
