/*
 * backend_sqlite.h - internal: the SQLite backend object shared by
 * backend_sqlite.c (open, authorizer, expression checks),
 * backend_sqlite_schema.c (tables, foreign keys), backend_sqlite_scan.c
 * (scan queries, the lethe_day function) and backend_sqlite_watch.c (the
 * statement time bound).
 *
 * Invariants:
 *  - Only the backend_sqlite*.c files include this header (it pulls in
 *    sqlite3.h, which no other library file may see).
 *  - `auth_on` is set exactly while a statement built from user expressions is
 *    prepared or stepped; the backend's own schema queries run with it off.
 *  - `auth_reason` holds the first refusal of the current preparation, so the
 *    error names what was refused instead of SQLite's "not authorized".
 *  - A statement that has returned a row and is neither reset nor finalized
 *    counts as running for the time bound: reset or finalize statements as
 *    soon as their rows are read.
 */
#ifndef LETHE_BACKEND_SQLITE_H
#define LETHE_BACKEND_SQLITE_H

#include <sqlite3.h>
#include "backend/backend_impl.h"

typedef struct {
	lethe_backend base;     /* first: see backend_impl.h */
	sqlite3 *db;
	char *path;
	unsigned flags;
	char **functions;       /* sorted allow-list of function names */
	size_t nfunctions;
	int auth_on;
	char auth_reason[128];
	const lethe_change *cur_change; /* set only while apply steps an UPDATE */
	const lethe_scan *admit_scan;   /* set while a scan with admit steps (lethe_admit) */
	struct lethe_keysets *keysets;  /* set while a count steps (lethe_keyset_*, keyset.h) */
	const struct lethe_sqlite_produce *producing; /* the sets it produces, then */
	int transform_rc;       /* a transform callback's failure */
	char ***reads;          /* non-NULL: collect tables read (tables_read) */
	size_t *nreads;
	int in_txn;             /* a transaction of ours is open */
	/* the statement time bound (backend_sqlite_watch.c) */
	struct lethe_sqlite_watch { sqlite3_stmt *stmt; int64_t start; } *watch;
	size_t nwatch, capwatch;
	int64_t oldest_start;   /* at most the least start in watch */
	int64_t limit_ms;       /* a running statement older than this is interrupted */
	int timed_out;          /* the progress handler interrupted a statement */
	char timeout_msg[160];
	sqlite3_int64 txn_changes; /* sqlite3_total_changes64() when it began */
	char ***fired;          /* non-NULL: collect triggers (change_triggers) */
	size_t *nfired;
	char *pinned;           /* the checked schema (pin_schema), or NULL */
	size_t npinned;
} lethe_sqlite;

/* Prepare `sql` under the authorizer. On a refusal or SQL error returns
 * LETHE_EDATA and sets *errmsg (malloc'd) to the one-line reason; a second
 * statement in `sql` is refused ("more than one statement"). */
int lethe_sqlite_prepare_user(lethe_sqlite *be, const char *sql, sqlite3_stmt **out,
			      char **errmsg);

/* Map an SQLite result code to a LETHE_E* code (busy/locked -> ETEMPFAIL,
 * I/O -> EIO, anything else -> EDATA). */
int lethe_sqlite_code(int rc);
/* SQLite's message for the last error on db, with the operating system's
 * reason when SQLite has one ("disk I/O error (File too large)"): out
 * holds it, out is returned. */
const char *lethe_sqlite_why(char *out, size_t size, sqlite3 *db);

/* Append `name` as a double-quoted identifier ("" doubling). */
void lethe_sqlite_append_ident(sqlite3_str *s, const char *name);

/* backend_sqlite_schema.c */
int lethe_sqlite_table_info(lethe_table_info **out, lethe_backend *base, const char *table);
int lethe_sqlite_estimate_rows(int64_t *out, lethe_backend *base, const char *table);
int lethe_sqlite_foreign_keys(lethe_foreign_keys **out, lethe_backend *base);

/* backend_sqlite_write.c */
int lethe_sqlite_tables_read(char ***out, size_t *n, lethe_backend *base, const char *table,
			     const char *expr);
int lethe_sqlite_begin(lethe_backend *base);
int lethe_sqlite_commit(lethe_backend *base);
void lethe_sqlite_rollback(lethe_backend *base);
/* After a write that failed, outside a transaction: read once, so that a
 * journal SQLite could not roll back in place (the failure came from a sync,
 * as a full disk's can through backend_sqlite_vfs.c) is rolled back now,
 * freeing its space for what follows (the evidence of the failure), rather
 * than at the next read. A failure here leaves it to that read. */
void lethe_sqlite_recover(lethe_sqlite *be);
int lethe_sqlite_apply(int64_t *changed, lethe_backend *base, const lethe_change *c,
		       const lethe_value *keys, size_t nkeys);
int lethe_sqlite_dispose(lethe_disposed *out, lethe_backend *base, const lethe_change *c,
			 const lethe_scan *scan);
/* Bind a scan's named parameters (:lethe_after, :lethe_rule, :lethe_subject). */
void lethe_sqlite_scan_bind(sqlite3_stmt *stmt, const lethe_scan *scan);
/* As lethe_sqlite_prepare_user, for the one statement of a change
 * (lethe_sqlite_dispose): its own writes and those of the triggers it fires
 * are allowed (auth_on is LETHE_SQLITE_AUTH_CHANGE), the user's expressions
 * in it stay read-only. */
int lethe_sqlite_prepare_change(lethe_sqlite *be, const char *sql, sqlite3_stmt **out,
				char **errmsg);
#define LETHE_SQLITE_AUTH_CHANGE 2
int lethe_sqlite_finalise(lethe_backend *base, lethe_warnings *warnings, unsigned flags);
int lethe_sqlite_register_write_functions(lethe_sqlite *be);
/* Append the text of c's statement: DELETE, or UPDATE of c's columns through
 * lethe_transform() (transform 1) or set to themselves (0), WHERE key = ?1. */
void lethe_sqlite_change_sql(sqlite3_str *s, const lethe_change *c, int transform);
int lethe_sqlite_bind_value(sqlite3_stmt *stmt, int index, const lethe_value *v);
/* 1 when the main database has a table of that name. */
int lethe_sqlite_has_table(lethe_sqlite *be, const char *name);
#define LETHE_DONE_TABLE "lethe_done"

/* backend_sqlite_head.c */
int lethe_sqlite_evidence_head(int *found, int64_t *seq, char commit[41], lethe_backend *base,
			       const char *repository);
int lethe_sqlite_evidence_head_set(lethe_backend *base, const char *repository, int64_t seq,
				   const char *commit, const char *at);

/* backend_sqlite_marker.c */
int lethe_sqlite_mark(lethe_backend *base, const char *run_id, const char *rule, int64_t disposed,
		      const unsigned char *digests, size_t ndigests);
int lethe_sqlite_marker(int *found, lethe_backend *base, const char *run_id,
			int (*cb)(void *ctx, const char *rule, int64_t disposed), void *ctx);
int lethe_sqlite_marker_clear(lethe_backend *base, const char *run_id);
/* Inside a transaction: delete every run digest (all their tables). */
int lethe_sqlite_marker_drop_digests(lethe_sqlite *be);

/* backend_sqlite_merge.c */
int lethe_sqlite_marker_digests(lethe_backend *base, const char *run_id, const char *rule,
				int (*cb)(void *ctx, const char *digest), void *ctx);

/* backend_sqlite_seal.c */
int lethe_sqlite_marker_seal(lethe_backend *base, const char *run_id, const lethe_marker_file *files,
			     size_t n, int vacuum_follows);
int lethe_sqlite_marker_sealed(int *found, lethe_marker_file *out, lethe_backend *base,
			       const char *run_id, const char *rule);
int lethe_sqlite_marker_forget_files(lethe_sqlite *be);
int lethe_sqlite_schema_text(char **out, size_t *len, lethe_backend *base);

/* backend_sqlite_owed.c */
int lethe_sqlite_cleanup_owe(lethe_backend *base);
int lethe_sqlite_cleanup_owed(char **since, lethe_backend *base);
int lethe_sqlite_cleanup_done(lethe_backend *base);

/* backend_sqlite_subject.c */
int lethe_sqlite_rows(lethe_backend *base, const char *table, const char *where,
		      const lethe_value *subject,
		      int (*cb)(void *ctx, size_t ncols, const char *const *names,
				const lethe_value *values), void *ctx);
int lethe_sqlite_suppress(lethe_backend *base, const char *const *tokens, size_t n,
			  const char *added_at);
int lethe_sqlite_suppressed(int *found, lethe_backend *base, const char *token);

/* backend_sqlite_requests.c */
int lethe_sqlite_request_put(int64_t *id, lethe_backend *base, const lethe_request *r);
int lethe_sqlite_requests(lethe_backend *base, int (*cb)(void *ctx, const lethe_request *r),
			  void *ctx);
/* backend_sqlite_erasures.c */
int lethe_sqlite_erasure_open(lethe_backend *base, const lethe_open_erasure *e);
int lethe_sqlite_erasure_close(lethe_backend *base, const lethe_value *subject);
int lethe_sqlite_erasures_open(lethe_backend *base,
			       int (*cb)(void *ctx, const lethe_open_erasure *e), void *ctx);
/* backend_sqlite_holds.c */
int lethe_sqlite_hold_add(int64_t *id, lethe_backend *base, const lethe_hold *h);
int lethe_sqlite_hold_release(lethe_backend *base, int64_t id, const char *released_at,
			      const char *reason, const char *released_by);
int lethe_sqlite_holds(lethe_backend *base, int (*cb)(void *ctx, const lethe_hold *h), void *ctx);

/* backend_sqlite_watch.c: the statement time bound and expression guard */
int lethe_sqlite_watch_install(lethe_sqlite *be);
void lethe_sqlite_watch_free(lethe_sqlite *be);
int lethe_sqlite_time_limit(lethe_backend *base, int64_t seconds);
/* sqlite3_errmsg(), or the time bound's message when it interrupted. */
const char *lethe_sqlite_errmsg(lethe_sqlite *be);
/* 0, or LETHE_EDATA when expr (NULL is fine) could leave the parentheses it
 * is pasted between (see expr_lex.c); `rule` (or NULL) and `what` name it in
 * the message. */
int lethe_sqlite_expr_guard(const char *rule, const char *what, const char *expr);
/* backend_sqlite_triggers.c */
int lethe_sqlite_note_fired(lethe_sqlite *be, const char *trigger);
/* LETHE_EDATA when applying c would run a trigger neither proven harmless nor
 * in c->triggers. Called inside the write transaction, before any change. */
int lethe_sqlite_refuse_triggers(lethe_sqlite *be, const lethe_change *c);
int lethe_sqlite_pin_schema(lethe_backend *base);
/* Inside our transaction: LETHE_ETEMPFAIL when a schema was pinned and is
 * no longer the same. */
int lethe_sqlite_schema_unchanged(lethe_sqlite *be);
int lethe_sqlite_change_triggers(lethe_backend *base, const lethe_change *c,
				 int (*cb)(void *ctx, const char *trigger, int harmless),
				 void *ctx);

/* backend_sqlite_scan.c */
int lethe_sqlite_register_functions(lethe_sqlite *be);
int lethe_sqlite_scan(lethe_backend *base, const lethe_scan *scan);
int lethe_sqlite_count(lethe_scan_counts *out, lethe_backend *base, const lethe_scan *scan);
/* What lethe_day() returns for a clock that is no day: after every day. */
#define LETHE_SQLITE_DAY_INVALID 2147483647
/* backend_sqlite_deps_sql.c: pieces of a scan's SQL. "(\nexpr\n)" or dflt;
 * "table"."column"; <due> of th over the clock `from`; <blocked> of a row
 * of `table` over deps, asking ks's READY sets first when ks is not NULL
 * (a plan's count); and the guard of every expression of deps. */
void lethe_sqlite_append_expr(sqlite3_str *s, const char *expr, const char *dflt);
void lethe_sqlite_append_column_ref(sqlite3_str *s, const char *table, const char *column);
void lethe_sqlite_append_due(sqlite3_str *s, const lethe_threshold *th, const char *from);
int lethe_sqlite_append_blocked(sqlite3_str *s, const char *table, const lethe_dependents *deps,
				size_t ndeps, struct lethe_keysets *ks);
int lethe_sqlite_guard_deps(const char *rule, const lethe_dependents *deps, size_t n);
/* The sets a count produces (keyset.h): ids claimed in ks, each collected
 * from its referencing column of the scan's table (NULL: none). */
typedef struct lethe_sqlite_produce {
	struct lethe_keysets *ks;
	const int *ids;
	size_t n;
} lethe_sqlite_produce;
/* What a count's lethe_tally(flags, ...) counts (backend_sqlite_scan.c): a
 * row is due by its day (else every row is), held rows, blocked rows. */
#define LETHE_SQLITE_TALLY_BY_DAY 1
#define LETHE_SQLITE_TALLY_HELD 2
#define LETHE_SQLITE_TALLY_BLOCKED 4
/* backend_sqlite_scan_sql.c: the scan's SQL (sqlite3_malloc'd) in *out:
 * rows (key, day, subject, class), or with count its counts per class and
 * the first and last not-due day in one row. Refuses expressions that could
 * leave their parentheses. */
int lethe_sqlite_scan_sql(char **out, lethe_sqlite *be, const lethe_scan *scan, int count,
			  const lethe_sqlite_produce *pr);
/* The condition (what follows WHERE, sqlite3_malloc'd in *out) on a row of
 * scan's table that holds exactly when the row is one the scan would return
 * as due (not held, not blocked), after scan->after_key (:lethe_after) and,
 * with upto, at most :lethe_upto: a batch's statement carries it. */
int lethe_sqlite_due_row_sql(char **out, lethe_sqlite *be, const lethe_scan *scan, int upto);
void lethe_sqlite_value(lethe_value *out, sqlite3_value *v);

#endif
