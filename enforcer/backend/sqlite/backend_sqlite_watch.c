/*
 * backend_sqlite_watch.c - the time bound of every statement Lethe runs on a
 * register, and the check of user expressions at the backend's doors.
 *
 * A trace callback (SQLITE_TRACE_STMT) stamps each statement when it starts
 * to run, and a progress handler, called every LETHE_WATCH_OPS virtual-machine
 * instructions of whatever statement runs on the connection, interrupts when
 * a statement that is still running started more than the limit ago. Both
 * are installed on the connection itself, so every statement on it is
 * covered, whichever file prepared it. SQLite answers an interrupt with
 * SQLITE_INTERRUPT and rolls back the statement (a write statement in a
 * transaction rolls back the whole transaction); the callers then roll back
 * what is theirs, so nothing is left half done.
 *
 * Invariants:
 *  - The watch list holds only statements SQLite still lists for the
 *    connection: an entry is looked at only after its pointer has been found
 *    through sqlite3_next_stmt(), so a finalized statement is never touched.
 *  - A statement outer to the one running (a scan whose row callback runs a
 *    query of its own) keeps its own start, so a statement's time includes
 *    the time its rows spend in callbacks.
 *  - be->oldest_start is at most the start of every entry of the list (set
 *    when an entry is added, never raised by a new stamp), so the handler's
 *    shortcut never misses a statement over the bound.
 *  - be->timed_out is set exactly when the handler interrupted; messages are
 *    taken through lethe_sqlite_errmsg() so they say so instead of
 *    "interrupted".
 */
#include <stdlib.h>
#include <time.h>
#include "backend_sqlite.h"
#include "vec.h"
#include "expr_lex.h"
#include "lethe/error.h"

#define LETHE_WATCH_OPS 1000

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int live(sqlite3 *db, sqlite3_stmt *stmt)
{
	for (sqlite3_stmt *s = sqlite3_next_stmt(db, NULL); s; s = sqlite3_next_stmt(db, s))
		if (s == stmt)
			return 1;
	return 0;
}

static int trace(unsigned type, void *ud, void *p, void *x)
{
	lethe_sqlite *be = ud;
	sqlite3_stmt *stmt = p;
	const char *sql = x;
	size_t i, kept = 0;

	/* "-- TRIGGER name": a trigger fires inside a running statement */
	if (type != SQLITE_TRACE_STMT || (sql && sql[0] == '-' && sql[1] == '-'))
		return 0;
	/* A statement run again (every step after a reset: each row of a loop
	 * of inserts) is only stamped; the list is pruned when a new one comes,
	 * which is once per prepared statement. */
	for (i = 0; i < be->nwatch; i++)
		if (be->watch[i].stmt == stmt) {
			be->watch[i].start = now_ms();
			return 0;
		}
	be->oldest_start = now_ms();
	for (i = 0; i < be->nwatch; i++)
		if (live(be->db, be->watch[i].stmt)) {
			be->watch[kept++] = be->watch[i];
			if (be->watch[i].start < be->oldest_start)
				be->oldest_start = be->watch[i].start;
		}
	be->nwatch = kept;
	if (LETHE_VEC_RESERVE(be->watch, be->nwatch + 1, be->capwatch) < 0)
		return 0; /* unwatched: the statement is bounded by SQLite alone */
	be->watch[be->nwatch].stmt = stmt;
	be->watch[be->nwatch].start = now_ms();
	be->nwatch++;
	return 0;
}

static int progress(void *ud)
{
	lethe_sqlite *be = ud;
	int64_t now;

	if (be->limit_ms <= 0 || be->nwatch == 0)
		return 0;
	now = now_ms();
	/* no watched statement can be over the bound yet: stamps only grow, so
	 * oldest_start is never after the least of them */
	if (now - be->oldest_start <= be->limit_ms)
		return 0;
	for (sqlite3_stmt *s = sqlite3_next_stmt(be->db, NULL); s; s = sqlite3_next_stmt(be->db, s)) {
		if (!sqlite3_stmt_busy(s))
			continue;
		for (size_t i = 0; i < be->nwatch; i++) {
			if (be->watch[i].stmt == s && now - be->watch[i].start > be->limit_ms) {
				be->timed_out = 1;
				return 1;
			}
		}
	}
	return 0;
}

int lethe_sqlite_watch_install(lethe_sqlite *be)
{
	be->limit_ms = (int64_t)LETHE_DEFAULT_STATEMENT_SECONDS * 1000;
	if (sqlite3_trace_v2(be->db, SQLITE_TRACE_STMT, trace, be) != SQLITE_OK)
		return lethe_error_set(LETHE_ESOFTWARE, "cannot set the sqlite statement trace");
	sqlite3_progress_handler(be->db, LETHE_WATCH_OPS, progress, be);
	return 0;
}

void lethe_sqlite_watch_free(lethe_sqlite *be)
{
	free(be->watch);
	be->watch = NULL;
	be->nwatch = be->capwatch = 0;
}

int lethe_sqlite_time_limit(lethe_backend *base, int64_t seconds)
{
	lethe_sqlite *be = (lethe_sqlite *)base;

	if (seconds <= 0 || seconds > INT64_MAX / 1000)
		return lethe_error_set(LETHE_EUSAGE, "statement time limit out of range: %lld",
				       (long long)seconds);
	be->limit_ms = seconds * 1000;
	return 0;
}

const char *lethe_sqlite_errmsg(lethe_sqlite *be)
{
	if (be->timed_out && (sqlite3_errcode(be->db) & 0xff) == SQLITE_INTERRUPT) {
		sqlite3_snprintf(sizeof(be->timeout_msg), be->timeout_msg,
				 "stopped after %lld s, the time bound of one statement "
				 "(limits.statement_seconds); that statement's changes were rolled back",
				 (long long)(be->limit_ms / 1000));
		return be->timeout_msg;
	}
	return sqlite3_errmsg(be->db);
}

int lethe_sqlite_expr_guard(const char *rule, const char *what, const char *expr)
{
	const char *why = expr ? lethe_expr_escape_composed(expr) : NULL;

	if (!why)
		return 0;
	if (rule)
		return lethe_error_set(LETHE_EDATA, "rule '%s': refused %s expression: %s", rule, what, why);
	return lethe_error_set(LETHE_EDATA, "refused %s expression: %s", what, why);
}
