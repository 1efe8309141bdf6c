/*
 * lethe/backend.h - the storage interface. The engine (check, plan, and later
 * run) reads and writes the register only through these functions, so another
 * database (PostgreSQL) can be added without touching planning.
 *
 * A backend owns the SQL it generates: planning hands it a structured scan
 * description (which table, which expressions, which dependent rows decide
 * whether a deletion is blocked, the thresholds against which it compares the
 * clocks) and receives rows through a callback, one at a time, or their
 * counts per class. Nothing here loads a table into memory, and no retention
 * arithmetic runs in the register.
 *
 * Invariants:
 *  - User expressions (where, from, subject) are only ever run read-only:
 *    the SQLite backend prepares every statement under an authorizer that
 *    refuses writes, ATTACH/DETACH, PRAGMA, and functions other than SQLite's
 *    deterministic built-ins (and the backend's own lethe_* functions).
 *  - A backend opened LETHE_BACKEND_READONLY never changes the database file.
 *  - Values passed to callbacks are borrowed and valid only during the call.
 *
 * Engine notions. What crosses this interface is meant to be engine-neutral:
 * thresholds (lethe_threshold), key ranges (after_key, limit), holds
 * (lethe_hold), transform results (lethe_change.transform) and counts.
 * Lethe's own tables (lethe_done, the holds, the suppression list, run
 * markers, clean-up owed, the evidence head) are behind it: callers name
 * none of them. Row identity is chosen by the backend (lethe_table_info's
 * row_key). These notions still carry SQLite's mark, and why:
 *  - lethe_table_info.without_rowid and .strict, lethe_column_info.rowid_alias,
 *    .collation (SQLite's collation names) and .unique_other_collation: read
 *    by check_schema.c to refuse keys and columns on which a run would
 *    dispose of the wrong rows, with messages naming the SQLite cause. Another
 *    engine leaves them 0 / "BINARY"-like until check asks the backend for
 *    its own verdict instead.
 *  - decl_type is the type as declared in the engine's DDL; subject.c applies
 *    SQLite's INTEGER-affinity rule to it (and treats a key that is no column
 *    as the integer rowid) to bind a subject's key as an integer, and
 *    check_schema.c compares it with STRICT's TEXT and ANY. Moving these
 *    behind the interface means an op that binds a key value for a column.
 *  - A scan's or change's `key` may be "rowid", "_rowid_" or "oid" when the
 *    policy or row_key names one; only the SQLite backend gives them meaning.
 *  - where, from, subject, held and a hold's where are SQL expression text in
 *    the register's own dialect: the policy language defines them so
 *    (policy-language.md); the backend checks and pastes them, nothing else.
 *  - lethe_value's types are SQLite's storage classes, which every engine's
 *    values map onto.
 *  - change_triggers, schema_text (CREATE statements) and finalise (FTS
 *    optimise, WAL, VACUUM) describe SQLite's residue and triggers; their
 *    results (names, text, warnings) are engine-neutral data.
 */
#ifndef LETHE_BACKEND_H
#define LETHE_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include "calendar.h"

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
	/* A complete single-column UNIQUE index (or the rowid alias) whose
	 * collation is the column's own, so `column = ?` finds one row. */
	int unique;
	/* Such an index exists but compares under another collation than the
	 * column's: `column = ?` may match several rows. */
	int unique_other_collation;
	int in_unique;    /* part of any UNIQUE index or the primary key */
	int generated;    /* GENERATED ALWAYS AS (virtual or stored) */
	int rowid_alias;  /* INTEGER PRIMARY KEY of a rowid table */
	char *collation;  /* declared collation, "BINARY" when none */
} lethe_column_info;

typedef struct {
	char *name;
	int is_view;
	int without_rowid;  /* engine-specific (SQLite): see "engine notions" above */
	int strict;         /* engine-specific (SQLite): see "engine notions" above */
	lethe_column_info *columns;
	size_t ncolumns;
	int npk;          /* number of primary key columns */
	/* The name by which the engine identifies each row when no column is
	 * chosen (lethe_rule_key's last resort), or NULL when there is none.
	 * SQLite: the first of rowid, _rowid_, oid that no column shadows; NULL
	 * for a WITHOUT ROWID table or when all three are shadowed. Owned. */
	char *row_key;
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

/* The form a pseudonymised or masked column is left in. */
typedef enum {
	LETHE_DONE_TOKEN,   /* NULL or a pseudonym token */
	LETHE_DONE_NULL,    /* NULL */
	LETHE_DONE_TEXT,    /* NULL or exactly `text` */
	LETHE_DONE_MAXLEN,  /* NULL or at most n characters */
	LETHE_DONE_YEAR,    /* NULL, `text`, "YYYY", or unix seconds of a 1 January */
	LETHE_DONE_MONTH    /* NULL, `text`, "YYYY-MM", or unix seconds of a 1st */
} lethe_done_form;

typedef struct lethe_done_column {
	const char *column;
	lethe_done_form form;
	const char *text;
	int n;
} lethe_done_column;

/* How a register decides whether a row is due: by comparisons of the clock
 * alone, against days the calendar module computed (no retention arithmetic
 * runs in the register; engines.md section 1). */
typedef enum {
	LETHE_DUE_NEVER,    /* nothing is due (keep) */
	LETHE_DUE_BEFORE,   /* due iff the clock's UTC day < due_before */
	LETHE_DUE_MATCH     /* erasure: the clock is the subject match; due iff 1 */
} lethe_due_kind;

typedef struct {
	lethe_due_kind kind;
	lethe_day due_before;   /* BEFORE: see lethe_cutoff (calendar.h) */
	lethe_day invalid_from; /* BEFORE: a clock on this day or later is invalid */
} lethe_threshold;

/* What one row of a scan is, decided inside the register. */
typedef enum {
	LETHE_ROW_DUE,
	LETHE_ROW_NOT_DUE,
	LETHE_ROW_NOT_STARTED,  /* clock NULL */
	LETHE_ROW_INVALID,      /* clock not a day of years 0001..9999, or its end is past them */
	LETHE_ROW_HELD,         /* due, under a legal hold */
	LETHE_ROW_BLOCKED,      /* due, deleting it would touch a dependent row not due */
	LETHE_ROW_NCLASSES
} lethe_row_class;

/* A rule whose rows may be deleted: used to decide, inside the database,
 * whether a dependent row is itself due for deletion. */
typedef struct {
	lethe_threshold due;
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

	/* Legal holds: an SQL expression over the row, true when a hold in
	 * force covers it under any rule of the table (built by the planner
	 * from lethe_holds; the same for every rule of one table). */
	const char *held;

	/* When a row of this scan is due (from the clock `from`). */
	lethe_threshold due;

	/* Blocked detection for deletions; ndeps 0 = never blocked. */
	const lethe_dependents *deps;
	size_t ndeps;

	/* Bound as :lethe_subject when not NULL (scopes of one data subject). */
	const lethe_value *bind_subject;

	/* Paging, for runs: with limit > 0 rows come in key order, at most
	 * `limit` of them, and only those whose key is greater than *after_key
	 * when after_key is not NULL. */
	const lethe_value *after_key;
	int64_t limit;

	/* Leave out the rows due under any of these rules (earlier delete rules
	 * of the same table: a row is disposed of once, by the first of them). */
	const lethe_clock_rule *exclude;
	size_t nexclude;

	/* Non-NULL: leave out the rows this rule already pseudonymised or
	 * masked (recorded by lethe_backend_apply with done_rule) whose columns
	 * are still in the form the rule left them in: a row the application
	 * rewrote, or a new row that reuses a recorded key, is selected again. */
	const char *done_rule;
	const struct lethe_done_column *done_columns;
	size_t ndone_columns;

	/* Non-zero: only the rows of these classes (bit 1 << class). */
	unsigned classes;

	/* One call per row in scope: its key, its class, its clock's UTC day
	 * (meaningful for due and not-due rows), its subject. Return 0 to go on,
	 * non-zero to stop the scan with that code. */
	int (*row)(void *ctx, const lethe_value *key, lethe_row_class cls, lethe_day day,
		   const lethe_value *subject);
	void *row_ctx;

	/* For messages (e.g. the time bound): the rule scanned, or NULL. */
	const char *rule;

	/* Non-NULL: only the rows for whose key admit(admit_ctx, rule, key)
	 * returns 1 are in scope (run --plan: the rows a signed plan names,
	 * lethe/planfile.h). Called while the statement steps: it must not use
	 * the backend, and 0 is its answer to anything it cannot decide. */
	int (*admit)(void *ctx, const char *rule, const lethe_value *key);
	void *admit_ctx;

	/* Non-NULL: a plan's counts may share what they learn about dependent
	 * sets through it (enforcer/keyset.h); a backend may ignore it. Never
	 * set for a run's disposal, which decides each row in the register. */
	struct lethe_keysets *keysets;
} lethe_scan;

/* --- life cycle -------------------------------------------------------------- */

/* Open a register. The location is a path to an SQLite file (the only backend
 * today). LETHE_ENOINPUT when the file does not exist, LETHE_EDATA when it is
 * not a database, LETHE_ETEMPFAIL when locked. */
int lethe_backend_open(lethe_backend **out, const char *location, unsigned flags);
/* 1 when location names a database server (a postgresql:// or postgres://
 * URI, or a libpq key/value string such as "host=/run/pg dbname=shop", or
 * a mariadb:// or mysql:// URI)
 * rather than a file: then it is neither resolved as a path nor locked as a
 * file (the server's run lock is the backend's). */
int lethe_location_is_server(const char *location);
/* 1 when location is a mariadb:// or mysql:// URI (a server too). */
int lethe_location_is_mariadb(const char *location);
void lethe_backend_free(lethe_backend *be);

/* The time bound of every statement run on the register: a statement still
 * running after this many seconds is interrupted and its changes rolled back,
 * and the operation fails with LETHE_EDATA naming the bound
 * (limits.statement_seconds in lethe.yaml; docs/disposal.md "Time bound"). */
#define LETHE_DEFAULT_STATEMENT_SECONDS 600
int lethe_backend_set_time_limit(lethe_backend *be, int64_t seconds);

/* --- schema -------------------------------------------------------------------- */

/* LETHE_ENOTFOUND when no table or view of that name exists. */
int lethe_backend_table_info(lethe_table_info **out, lethe_backend *be, const char *table);
void lethe_table_info_free(lethe_table_info *t);
const lethe_column_info *lethe_table_column(const lethe_table_info *t, const char *name);

/* About how many rows the table has (*out; -1 when the backend cannot tell
 * cheaply): for ordering work, never for a decision. 0 or a negative code. */
int lethe_backend_estimate_rows(int64_t *out, lethe_backend *be, const char *table);

/* Every foreign key of every table of the register. */
int lethe_backend_foreign_keys(lethe_foreign_keys **out, lethe_backend *be);
void lethe_foreign_keys_free(lethe_foreign_keys *fks);

/* Prepare `expr` as an expression over rows of `table` under the read-only
 * authorizer, without running it. 0 when acceptable; otherwise LETHE_EDATA and
 * *errmsg (malloc'd, caller frees) says why in one lowercase line, e.g.
 * "no such column: x" or "function 'random' is not allowed". */
int lethe_backend_check_expr(lethe_backend *be, const char *table, const char *expr,
			     char **errmsg);

/* Whether `expr` (a checked expression over `table`) can be a rule's clock:
 * 0, or LETHE_EDATA and *errmsg (malloc'd) saying what to write instead
 * (PostgreSQL: a text clock needs a cast to date or timestamptz). */
int lethe_backend_check_clock(lethe_backend *be, const char *table, const char *expr,
			      char **errmsg);

/* --- reading ------------------------------------------------------------------- */

/* Stream the rows of a scan; see lethe_scan. Returns 0, the row callback's
 * non-zero code, or a LETHE_E* code for a database failure. */
int lethe_backend_scan(lethe_backend *be, const lethe_scan *scan);

/* A scan's rows counted per class in the register (row, paging and class
 * filter are ignored): no row leaves it. */
typedef struct {
	int64_t n[LETHE_ROW_NCLASSES];
	lethe_day min_not_due, max_not_due; /* when n[LETHE_ROW_NOT_DUE] > 0 */
} lethe_scan_counts;

int lethe_backend_count(lethe_scan_counts *out, lethe_backend *be, const lethe_scan *scan);

/* Another read-only connection to the same register, with the same time
 * bound, for reading in another thread (free it with lethe_backend_free).
 * 1 and *out NULL when the backend cannot (or not now: inside one of its
 * transactions, whose changes the other would not see). */
int lethe_backend_reopen(lethe_backend **out, lethe_backend *be);

/* The tables an expression over `table` reads (`table` itself included when
 * it does), as a malloc'd array of malloc'd names. Used to order disposal so
 * that no rule's clock is changed by a rule that ran before it. */
int lethe_backend_tables_read(char ***out, size_t *n, lethe_backend *be, const char *table,
			      const char *expr);
void lethe_backend_names_free(char **names, size_t n);

/* --- writing (a backend opened without LETHE_BACKEND_READONLY) ------------------ */

/* What to do to a set of rows of one table, named by their keys. */
typedef struct {
	const char *table;
	const char *key;            /* column name or "rowid" */
	int delete;                 /* 1: DELETE; 0: UPDATE `columns` through transform */
	const char *const *columns;
	size_t ncolumns;
	/* transform(ctx, column index, old value, the row's key, &new value): the
	 * new value may point into memory of ctx's until the next call. 0 or a
	 * LETHE_E* code. */
	int (*transform)(void *ctx, size_t column, const lethe_value *in, const lethe_value *key,
			 lethe_value *out);
	void *transform_ctx;
	/* Non-NULL: remember (done_rule, key) so the rule's scans leave the row
	 * out from now on (for pseudonymise and mask). */
	const char *done_rule;
	const char *rule;           /* for messages: "rule 'x', key 42: ..." */
	/* Optional, nkeys entries: set to 1 for each key whose row was changed,
	 * 0 for a key whose row was already gone. */
	unsigned char *applied;
	/* The triggers the rule acknowledges. apply runs no other trigger than
	 * these and those proven to keep a full-text index in step (see
	 * lethe_backend_change_triggers): it refuses the change with
	 * LETHE_EDATA before changing anything. */
	const char *const *triggers;
	size_t ntriggers;
	/* Optional: called with the key of each row the statement changes while
	 * lethe_backend_dispose runs (the SQLite backend calls it from inside the
	 * statement, as each row changes), so that work on the keys can begin
	 * before the statement ends. A hint only: the keys lethe_backend_dispose
	 * returns are the batch's, and a statement that fails passes keys it
	 * then undoes. A backend may never call it. */
	void (*on_key)(void *ctx, const lethe_value *key);
	void *on_key_ctx;
} lethe_change;

/* Every trigger that applying c would run (on c->table and, nested or through
 * ON DELETE CASCADE, on other tables), found without running it: one call
 * per trigger with harmless = 1 when its text is proven to do nothing but
 * keep a full-text index in step with the row that fired it (the shapes are
 * in docs/disposal.md). A callback's non-zero return stops the listing and
 * is returned. Only c's table, key, delete and columns are read. */
int lethe_backend_change_triggers(lethe_backend *be, const lethe_change *c,
				  int (*cb)(void *ctx, const char *trigger, int harmless),
				  void *ctx);

/* BEGIN IMMEDIATE: waits up to the busy timeout for other writers, then
 * LETHE_ETEMPFAIL. Foreign keys are enforced (PRAGMA foreign_keys=ON). */
int lethe_backend_begin(lethe_backend *be);
int lethe_backend_commit(lethe_backend *be);
/* Roll back the open transaction, if any. Never fails. */
void lethe_backend_rollback(lethe_backend *be);

/* Apply a change to the rows with these keys inside the open transaction.
 * *changed counts the rows changed. A constraint that fails names the rule,
 * the key and the constraint (LETHE_EDATA); busy is LETHE_ETEMPFAIL. */
int lethe_backend_apply(int64_t *changed, lethe_backend *be, const lethe_change *c,
			const lethe_value *keys, size_t nkeys);

/* The keys one disposal statement changed (lethe_backend_dispose), and the
 * greatest of them in the key column's own order; every value and string is
 * owned by the struct: lethe_disposed_release frees them and zeroes it. */
typedef struct {
	lethe_value *keys;
	size_t n, cap;
	lethe_value last;          /* the greatest key; LETHE_VALUE_NULL when n is 0 */
	/* A backend that reads a page of due rows before locking them (PostgreSQL,
	 * FOR UPDATE SKIP LOCKED) sets paged to the page's rows and last to its
	 * greatest key, disposed of or not, so the next batch starts after the
	 * page; skipped counts the page's rows another transaction held locked,
	 * left for the next run. SQLite's batch is a range of scan->limit rows
	 * of the table (paged and last say so, skipped is 0). Both 0 when one
	 * statement selects and changes the rest of the table. */
	size_t paged, skipped;
} lethe_disposed;

void lethe_disposed_release(lethe_disposed *d);
/* Room for n keys in all (a batch's most): adding up to n keys then
 * allocates nothing more for the array, which a batch would otherwise grow
 * by doubling, holding up to twice its keys' room, and three times while it
 * is copied. */
int lethe_disposed_reserve(lethe_disposed *d, size_t n);
/* Append a copy of key to d (and make it d->last when `greater`). */
int lethe_disposed_add(lethe_disposed *d, const lethe_value *key, int greater);
/* Make a copy of key d->last (the greatest key of a page, see paged). */
int lethe_disposed_page_end(lethe_disposed *d, const lethe_value *key);

/* A batch as one statement, inside the open transaction: apply c to the rows
 * of scan (its rule's rows after scan->after_key) that are due, not held and
 * not blocked at this instant, at most scan->limit of them in key order; the
 * selection and the change are one statement carrying the scan's predicate,
 * so no row is changed that stopped being due after the plan. out receives
 * the keys the statement changed (cleared first), out->n is what it changed.
 * scan->classes and scan->row are ignored. Errors as lethe_backend_apply. */
int lethe_backend_dispose(lethe_disposed *out, lethe_backend *be, const lethe_change *c,
			  const lethe_scan *scan);

/* --- a data subject's rows and the suppression list ------------------------------ */

/* Every row of `table` matching `where` (a read-only user expression that may
 * use :lethe_subject, bound to subject), all columns, in key order: one call
 * per row with the column names and values. For access requests. */
int lethe_backend_rows(lethe_backend *be, const char *table, const char *where,
		       const lethe_value *subject,
		       int (*cb)(void *ctx, size_t ncols, const char *const *names,
				 const lethe_value *values), void *ctx);

/* Inside the open transaction: add tokens to the suppression list (Lethe's
 * table lethe_suppression; tokens only, never the values). */
int lethe_backend_suppress(lethe_backend *be, const char *const *tokens, size_t n,
			   const char *added_at);

/* Whether a token is on the suppression list: 0 with *found set. */
int lethe_backend_suppressed(int *found, lethe_backend *be, const char *token);

/* --- legal holds (the operative copy; the evidence keeps the audit trail) ------- */

typedef struct {
	int64_t id;
	lethe_value subject;     /* LETHE_VALUE_NULL for rule holds */
	const char *rule;        /* NULL for subject holds */
	const char *where;       /* NULL: all of the rule's rows */
	const char *until;       /* "YYYY-MM-DD" or NULL */
	const char *created_at;
	const char *released_at; /* NULL while in force */
	const char *reason;      /* why it was added; NULL in a register of an older Lethe */
	const char *release_reason; /* why it was released; NULL while in force */
	const char *placed_by;   /* who added it (lethe_site_set_actor); NULL: not named */
	const char *released_by; /* who released it; NULL: not named or in force */
} lethe_hold;

/* Inside the open transaction: add a hold, *id receives its number. */
int lethe_backend_hold_add(int64_t *id, lethe_backend *be, const lethe_hold *h);
/* Inside the open transaction: release with a reason; LETHE_ENOTFOUND when
 * no such hold in force. The register keeps the reasons and --where texts,
 * the evidence only their keyed digests (docs/evidence-format.md). */
int lethe_backend_hold_release(lethe_backend *be, int64_t id, const char *released_at,
			       const char *reason, const char *released_by);
/* Every hold, in force or not, by id. */
int lethe_backend_holds(lethe_backend *be, int (*cb)(void *ctx, const lethe_hold *h), void *ctx);

/* --- the register of data subjects' requests (GDPR 12(3)) ---------------------
 * Lethe's table lethe_requests; subjects by their keyed digest only, so the
 * register keeps no link to an erased person. Dates are "YYYY-MM-DD". */

typedef struct {
	int64_t id;                 /* 0 for a new request */
	const char *kind;           /* "access" or "erasure" */
	const char *subject;        /* the subject's keyed digest (hex) */
	const char *received;
	const char *deadline;       /* received + one month */
	const char *answered;       /* NULL while open */
	const char *extended_until; /* NULL: not extended */
	const char *extension_reason; /* with extended_until; the register only */
} lethe_request;

/* Inside the open transaction: id 0 adds the request (*id gets its number),
 * otherwise those of request id's answered, extended_until and
 * extension_reason that are not NULL are set (LETHE_ENOTFOUND for no such
 * request). */
int lethe_backend_request_put(int64_t *id, lethe_backend *be, const lethe_request *r);
/* Every request, oldest received first (then by id). */
int lethe_backend_requests(lethe_backend *be, int (*cb)(void *ctx, const lethe_request *r),
			   void *ctx);

/* --- erasures kept open (lethe_erasures_open) -----------------------------------
 * An erasure that kept some of its subject's rows under a legal hold or while
 * a rule's keep_while held is open until those rows can go: each `lethe run`
 * finishes the open erasures whose rows became due (lethe_site_finish_erasures).
 * The register keeps the subject's key here, beside the rows of the subject
 * it still holds, and forgets it once nothing is held any more. One entry per
 * subject key. */

typedef struct {
	lethe_value subject;     /* the subject's key, typed as lethe_subject_find types it */
	int64_t erasure;         /* the seq of the erasure's intent (the first one) */
	const char *contact;     /* lethe_subject_identity at the erasure (hex), or NULL */
	const char *since;       /* "YYYY-MM-DD": the erasure's as-of */
} lethe_open_erasure;

/* Inside the open transaction: record an open erasure, replacing the
 * subject's earlier one. */
int lethe_backend_erasure_open(lethe_backend *be, const lethe_open_erasure *e);
/* Inside the open transaction: forget the subject's open erasure (none: 0). */
int lethe_backend_erasure_close(lethe_backend *be, const lethe_value *subject);
/* Every open erasure, oldest erasure first; the entry is valid during cb only. */
int lethe_backend_erasures_open(lethe_backend *be,
				int (*cb)(void *ctx, const lethe_open_erasure *e), void *ctx);
/* A key stored as text with its lethe_value_type number beside it (the
 * servers' own tables): *out points into text. */
void lethe_value_from_typed_text(lethe_value *out, const char *text, int type);

/* The schema as text (every CREATE statement, in name order, NUL-separated),
 * malloc'd; for the evidence's schema fingerprint. */
int lethe_backend_schema_text(char **out, size_t *len, lethe_backend *be);

/* Remember the schema as it is now (lethe_check_schema calls it once the
 * policy fits): from then on every lethe_backend_begin compares the schema
 * inside its transaction and fails with LETHE_ETEMPFAIL, nothing changed,
 * when a table, index, view or trigger (Lethe's own tables aside) is not
 * what was checked. So a run never writes against a schema it did not check. */
int lethe_backend_pin_schema(lethe_backend *be);

/* After the last batch: leave no residue of what was disposed in the
 * database's files: FTS5 indexes optimised, index statistics (sqlite_stat4
 * samples) refreshed, the WAL checkpointed and truncated, no journal left.
 * What could not be done (e.g. a reader kept the WAL from being truncated)
 * is appended to *warnings as one malloc'd line each; it is not an error.
 * Returns 0 when the clean-up is complete, 1 when another connection kept a
 * step from completing (it is still owed), or a negative error. */
typedef struct {
	char **items;
	size_t count;
} lethe_warnings;
enum { LETHE_FINALISE_NO_VACUUM = 1 << 0,  /* residue: fast (a server: level R0) */
       LETHE_FINALISE_NO_WAL = 1 << 1 };    /* residue: R1, a server's WAL is not cycled */
int lethe_backend_finalise(lethe_backend *be, lethe_warnings *warnings, unsigned flags);
/* Before a run (check): what in the server's settings or the tables'
 * formats keeps finalise from reaching the level `flags` ask for, one line
 * each in *warnings, for the tables a policy acts on. Not an error: the run
 * still reports the level it reaches. Backends without such settings add
 * nothing. */
int lethe_backend_residue_check(lethe_backend *be, const char *const *tables, size_t ntables,
				unsigned flags, lethe_warnings *warnings);
/* check and plan: what the connection's role may change among `tables`
 * (the tables a policy acts on), as lines in *found naming the role and the
 * tables (a superuser, the owner, or INSERT, UPDATE, DELETE, TRUNCATE
 * granted): the role of a planning site should only read (docs/disposal.md).
 * Nothing added when it only reads, or for backends without roles. */
int lethe_backend_write_access(lethe_warnings *found, lethe_backend *be, const char *const *tables,
			       size_t ntables);
/* Append one formatted line; 0 or LETHE_ESOFTWARE. */
int lethe_warnings_add(lethe_warnings *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lethe_warnings_free(lethe_warnings *w);

/* What a run keeps in the register itself: markers, clean-up owed, the
 * evidence head (lethe/backend_run.h). */
#include "backend_run.h"

#endif
