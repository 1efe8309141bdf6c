/*
 * scan_sql.h - internal: the SQL of a lethe_scan on a server engine
 * (PostgreSQL, MariaDB), composed once for both; each backend supplies its
 * dialect (identifier quoting, the clock's day, a few spellings) and runs
 * the result with its own parameters.
 *
 * The shape is that of the SQLite backend (backend_sqlite_scan_sql.c, whose
 * header explains it): an inner level giving each row's key, subject, day
 * and held/blocked/due verdict (a derived table the engine does not merge
 * into the outer query, so the clock is evaluated once per row), an outer
 * level classifying it by comparisons with the thresholds.
 *
 * Invariants:
 *  - Every expression is guarded (lethe_expr_escape_composed) before it is
 *    pasted: lethe_scan_sql refuses a scan whose expressions could leave
 *    their parentheses.
 *  - The SQL holds values only as Lethe's named parameters (:lethe_subject,
 *    :lethe_after, :lethe_rule, and whatever keys_where names), which the
 *    backend binds; numbers in it are Lethe's own.
 */
#ifndef LETHE_SCAN_SQL_H
#define LETHE_SCAN_SQL_H

#include "backend/backend_impl.h"
#include "strbuf.h"

/* The day of 0001-01-01, the first of the contract's days. */
#define LETHE_SCAN_FIRST_DAY (-719162)

typedef struct lethe_scan_dialect lethe_scan_dialect;
struct lethe_scan_dialect {
	/* Append `name` as a quoted identifier. */
	void (*ident)(lethe_strbuf *s, const char *name);
	/* Append <day> of clock `from` over `table` (days since 1970-01-01,
	 * NULL for NULL), or fail naming the rule (NULL: none) with the cast
	 * to write. ctx is the backend. */
	int (*day)(void *ctx, lethe_strbuf *s, const char *table, const char *from, const char *rule);
	void *ctx;
	int range_contains;     /* due test "numrange(lo, hi) @> <day>" (1) or "<day> BETWEEN" (0) */
	const char *null_day;   /* a typed NULL day: "NULL::numeric" */
	const char *unlimited;  /* a derived table's LIMIT when there is none ("" or a huge one) */
	int merge_paged;        /* a page under a class filter: let the engine merge the levels */
	const char *text_type;  /* CAST(x AS <text_type>) */
	const char *length;     /* length in characters: "length", "CHAR_LENGTH" */
	const char *regexp;     /* the regular-expression match operator: "~", "REGEXP" */
	const char *done_table; /* Lethe's table of changed rows ("lethe.lethe_done"), or NULL */
	const char *done_key;   /* its key column as SQL ("d.key") */
	/* the changed-row test as a scalar sub-query probing done_table's index
	 * per row (1), not EXISTS, which PostgreSQL may turn into a hashed
	 * sub-plan that reads every row the rule ever changed, per batch */
	int done_probe;
	const char *keys_where; /* a condition added to the rows' condition, or NULL */
	int self_ref_in;        /* a table that references itself as "(key) IN (SELECT fk ...)"
				 * (no derived table reading an outer column) */
};

/* The guarded SQL of scan in *s: rows (lethe_k, lethe_d, lethe_s, lethe_c),
 * or with count one row of the counts lethe_backend_counts_derive takes. */
int lethe_scan_sql(lethe_strbuf *s, const lethe_scan_dialect *d, const lethe_scan *scan, int count);

/* Append expr in parentheses on lines of its own, or dflt when NULL. */
void lethe_scan_sql_expr(lethe_strbuf *s, const char *expr, const char *dflt);

/* Rewrite the named parameters ":name" of sql (names[], case-insensitive,
 * outside quotes (the characters of quotes, doubled to escape) and "--"
 * comments; "::" casts left alone) into s: emit(ctx, s, i) writes the
 * placeholder of names[i] (PostgreSQL "$N", MariaDB "?"). Returns 0, or
 * emit's negative code. */
int lethe_sql_named_params(lethe_strbuf *s, const char *sql, const char *quotes,
			   const char *const *names, size_t nnames,
			   int (*emit)(void *ctx, lethe_strbuf *s, size_t i), void *ctx);

#endif
