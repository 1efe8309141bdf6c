/*
 * backend_pg.h - internal: the PostgreSQL backend object shared by
 * backend_pg.c (open, connection, errors, transactions, expression checks),
 * backend_pg_schema.c (tables, foreign keys, schema text),
 * backend_pg_scan.c (scan SQL, scans, counts), backend_pg_write.c (apply,
 * dispose), backend_pg_residue.c (levels R0-R2), backend_pg_own.c (Lethe's own tables)
 * backend_pg_grants.c (what the role may change) and backend_pg_page.c (the
 * pages of due rows a run disposes of).
 *
 * Invariants:
 *  - Only the backend_pg*.c files include this header (it pulls in
 *    libpq-fe.h, which no other library file may see).
 *  - Every value crosses the connection as a parameter (PQexecParams, text
 *    format); SQL text holds only identifiers (quoted by lethe_pg_ident),
 *    Lethe's own numbers, and the user's checked expressions.
 *  - The session runs with TimeZone UTC, DateStyle ISO and search_path
 *    "public, lethe", so dates print as YYYY-MM-DD[ HH:MM:SS] and Lethe's own
 *    tables (schema lethe) resolve by their unqualified names in the
 *    expressions the planner composes (lethe_holds).
 *  - A backend opened without LETHE_BACKEND_READONLY holds the run lock
 *    (pg_try_advisory_lock on LETHE_PG_RUN_LOCK) for its whole session.
 */
#ifndef LETHE_BACKEND_PG_H
#define LETHE_BACKEND_PG_H

#include <libpq-fe.h>
#include "backend/backend_impl.h"
#include "strbuf.h"
#include "strvec.h"

/* The advisory lock key of "one run at a time" ('lethe' in ASCII). */
#define LETHE_PG_RUN_LOCK "465779301989"
/* The schema version Lethe's own tables are at (lethe.schema_version). */
#define LETHE_PG_SCHEMA_VERSION 1

typedef struct {
	char *expr;     /* a clock expression over `table` */
	char *table;
	unsigned oid;   /* its result type */
} lethe_pg_clock_type;

typedef struct {
	lethe_backend base;     /* first: see backend_impl.h */
	PGconn *conn;
	char *location;         /* as given (may hold no password: config refuses one) */
	char *label;            /* for messages: "dbname@host" */
	unsigned flags;
	int in_txn;
	char last_state[6];     /* SQLSTATE of the last failed statement, "" if none */
	int own_schema;         /* schema lethe exists */
	int64_t limit_ms;       /* statement_timeout */
	lethe_pg_clock_type *clocks;
	size_t nclocks, capclocks;
	/* While a batch's re-check is built (backend_pg_write.c): a condition
	 * on the key added to the scan's rows, and the text array it binds. */
	const char *keys_where, *keys_param;
	lethe_strvec changed;   /* tables this session changed rows of (residue) */
	/* The due rows of the rule being disposed of, read once for all its
	 * batches (backend_pg_page.c): a WITH HOLD cursor's name, its rule, the
	 * last key fetched (text), and whether the open transaction declared
	 * it (a rollback removes it then). NULL name: none. */
	char *page_cursor, *page_rule, *page_last;
	int page_new;
	unsigned page_seq;
	char *pinned;           /* the checked schema (pin_schema), or NULL */
	size_t npinned;
} lethe_pg;

/* Append `name` as a double-quoted identifier ("" doubling). */
void lethe_pg_ident(lethe_strbuf *s, const char *name);
/* A LETHE_E* code for a failed result or connection (SQLSTATE classes:
 * 40xxx and 55P03 lock_not_available and 57014 query_canceled -> ETEMPFAIL,
 * 08xxx connection -> EIO, 42501 privilege -> ENOPERM, else EDATA). */
int lethe_pg_code(const PGresult *res);
/* The server's message, one line, first letter lowercased, in buf. */
const char *lethe_pg_why(char *buf, size_t size, lethe_pg *be, const PGresult *res);
/* Run sql with text parameters (NULL entries are SQL NULL). On failure the
 * result is cleared, the last error is "cannot WHAT in 'LABEL': why" and a
 * LETHE_E* code returned. *res (optional) receives the result on success. */
int lethe_pg_exec(PGresult **res, lethe_pg *be, const char *what, const char *sql, int nparams,
		  const char *const *params);
/* A column of a row as a lethe_value (borrowed from res): the type from the
 * column's type oid (integers and bool INTEGER, floats REAL, bytea BLOB,
 * everything else TEXT); bytea is decoded into *scratch (the caller frees). */
void lethe_pg_value(lethe_value *out, const PGresult *res, int row, int col,
		    unsigned char **scratch);
/* A lethe_value as a text parameter: *out points into buf or into the value
 * (NULL for NULL); BLOB as a \x hex string malloc'd in *heap (caller frees). */
const char *lethe_pg_param(const lethe_value *v, char *buf, size_t size, char **heap);
/* Create schema lethe and its tables if missing (a write transaction of its
 * own unless one is open); records the schema version. */
int lethe_pg_own_schema(lethe_pg *be);
/* Whether relation lethe.NAME exists. */
int lethe_pg_has_own(lethe_pg *be, const char *name);

/* backend_pg_schema.c */
int lethe_pg_table_info(lethe_table_info **out, lethe_backend *base, const char *table);
int lethe_pg_foreign_keys(lethe_foreign_keys **out, lethe_backend *base);
int lethe_pg_schema_text(char **out, size_t *len, lethe_backend *base);
int lethe_pg_pin_schema(lethe_backend *base);
int lethe_pg_schema_unchanged(lethe_pg *be);
int lethe_pg_change_triggers(lethe_backend *base, const lethe_change *c,
			     int (*cb)(void *ctx, const char *trigger, int harmless), void *ctx);
int lethe_pg_tables_read(char ***out, size_t *n, lethe_backend *base, const char *table,
			 const char *expr);

/* backend_pg_probe.c */
/* What expr over table depends on, from a temporary view's pg_depend (see
 * the file's header): the base relations it reads, in *tables (malloc'd,
 * lethe_backend_names_free; optional), and the first user-defined volatile
 * function it calls, in *volatile_fn (malloc'd, NULL when none; optional).
 * LETHE_ENOTFOUND when no view can be made over expr. */
int lethe_pg_probe_expr(char ***tables, size_t *ntables, char **volatile_fn, lethe_pg *be,
			const char *table, const char *expr);

/* backend_pg_scan.c */
/* The scan's SQL in *out (malloc'd): rows (key, day, subject, class) or, with
 * count, one row of counts; params receive its parameters (borrowed from
 * scan) in order $1.. (*nparams of them, at most 4). With lock the rows are
 * the due rows only, locked FOR UPDATE SKIP LOCKED. */
int lethe_pg_scan_sql(char **out, lethe_pg *be, const lethe_scan *scan, int count,
		      lethe_value *params, int *nparams);
int lethe_pg_scan(lethe_backend *base, const lethe_scan *scan);
/* A clock of a type that is no day (text, say): LETHE_EDATA with the cast
 * to write in *errmsg. */
int lethe_pg_check_clock(lethe_backend *base, const char *table, const char *expr, char **errmsg);
int lethe_pg_count(lethe_scan_counts *out, lethe_backend *base, const lethe_scan *scan);
/* Run a statement with lethe_value parameters. */
int lethe_pg_exec_values(PGresult **res, lethe_pg *be, const char *what, const char *sql,
			 int n, const lethe_value *values);

/* backend_pg_write.c */
int lethe_pg_begin(lethe_backend *base);
int lethe_pg_commit(lethe_backend *base);
void lethe_pg_rollback(lethe_backend *base);
int lethe_pg_apply(int64_t *changed, lethe_backend *base, const lethe_change *c,
		   const lethe_value *keys, size_t nkeys);
int lethe_pg_dispose(lethe_disposed *out, lethe_backend *base, const lethe_change *c,
		     const lethe_scan *scan);

/* backend_pg_grants.c */
int lethe_pg_write_access(lethe_warnings *found, lethe_backend *base, const char *const *tables,
			  size_t ntables);
/* backend_pg_page.c */
/* The next page of scan's due rows (scan->limit of them, key first) in
 * *page, from the rule's cursor, declared for the rows after scan->after_key
 * when the last page fetched did not end there. */
int lethe_pg_page(PGresult **page, lethe_pg *be, const lethe_scan *scan);
/* The transaction ended: committed (the cursor lives on) or not. */
void lethe_pg_page_txn_end(lethe_pg *be, int committed);
void lethe_pg_page_forget(lethe_pg *be);
/* backend_pg_residue.c */
int lethe_pg_finalise(lethe_backend *base, lethe_warnings *warnings, unsigned flags);
/* Remember that rows of `table` were changed (and, through foreign keys
 * that cascade or set null, of its dependents). */
int lethe_pg_note_changed(lethe_pg *be, const char *table);

/* backend_pg_own.c: Lethe's own tables */
int lethe_pg_mark(lethe_backend *base, const char *run_id, const char *rule, int64_t disposed,
		  const unsigned char *digests, size_t ndigests);
int lethe_pg_marker(int *found, lethe_backend *base, const char *run_id,
		    int (*cb)(void *ctx, const char *rule, int64_t disposed), void *ctx);
int lethe_pg_marker_digests(lethe_backend *base, const char *run_id, const char *rule,
			    int (*cb)(void *ctx, const char *digest), void *ctx);
int lethe_pg_marker_clear(lethe_backend *base, const char *run_id);
int lethe_pg_cleanup_owe(lethe_backend *base);
int lethe_pg_cleanup_owed(char **since, lethe_backend *base);
int lethe_pg_cleanup_done(lethe_backend *base);
int lethe_pg_evidence_head(int *found, int64_t *seq, char commit[41], lethe_backend *base,
			   const char *repository);
int lethe_pg_evidence_head_set(lethe_backend *base, const char *repository, int64_t seq,
			       const char *commit, const char *at);
int lethe_pg_rows(lethe_backend *base, const char *table, const char *where,
		  const lethe_value *subject,
		  int (*cb)(void *ctx, size_t ncols, const char *const *names,
			    const lethe_value *values), void *ctx);
int lethe_pg_suppress(lethe_backend *base, const char *const *tokens, size_t n,
		      const char *added_at);
int lethe_pg_suppressed(int *found, lethe_backend *base, const char *token);
int lethe_pg_hold_add(int64_t *id, lethe_backend *base, const lethe_hold *h);
int lethe_pg_hold_release(lethe_backend *base, int64_t id, const char *released_at,
			  const char *reason, const char *released_by);
int lethe_pg_holds(lethe_backend *base, int (*cb)(void *ctx, const lethe_hold *h), void *ctx);
int lethe_pg_request_put(int64_t *id, lethe_backend *base, const lethe_request *r);
int lethe_pg_requests(lethe_backend *base, int (*cb)(void *ctx, const lethe_request *r),
		      void *ctx);
/* backend_pg_erasures.c */
int lethe_pg_erasure_open(lethe_backend *base, const lethe_open_erasure *e);
int lethe_pg_erasure_close(lethe_backend *base, const lethe_value *subject);
int lethe_pg_erasures_open(lethe_backend *base, int (*cb)(void *ctx, const lethe_open_erasure *e),
			   void *ctx);

/* Replace Lethe's named parameters (:lethe_subject, :lethe_after,
 * :lethe_rule) outside quotes and comments by $n: malloc'd in *out. */
/* A column's type as SQL (format_type), "text" when it is not found;
 * *out is malloc'd. */
int lethe_pg_column_type(char **out, lethe_pg *be, const char *table, const char *column);
/* A pseudonymise or mask batch: res holds the locked rows (key, then c's
 * columns), written back transformed (backend_pg_update.c). */
int lethe_pg_update_batch(lethe_pg *be, const lethe_change *c, PGresult *res, const char *key_type);
int lethe_pg_number_params(char **out, const char *sql, const char *const *names, size_t nnames);

#endif
