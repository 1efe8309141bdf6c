/*
 * backend_sqlite.c - the SQLite backend: opening a register, the read-only
 * authorizer and expression checks. Schema introspection lives in
 * backend_sqlite_schema.c, scans in backend_sqlite_scan.c.
 *
 * Invariants:
 *  - The backend_sqlite*.c files are the only library code that includes
 *    sqlite3.h.
 *  - Opening never creates a file: the flags never include SQLITE_OPEN_CREATE
 *    and a missing file is reported before SQLite sees it. A READONLY open
 *    uses SQLITE_OPEN_READONLY and runs only reads, so the file stays
 *    byte-identical.
 *  - Every statement built from user text is prepared (and stepped) with the
 *    authorizer on: it allows SELECT, READ and FUNCTION for an
 *    allow-list of deterministic built-ins, aggregates, the date/time
 *    functions and our own lethe_* functions; everything else is denied and
 *    the reason kept in the backend object for the error message. RECURSIVE
 *    is refused: a recursive CTE is the one construct without a bound.
 *  - A user expression is accepted only when it cannot leave the
 *    parentheses Lethe pastes it between (expr_lex.c), and every statement
 *    on the connection runs under the time bound (backend_sqlite_watch.c).
 *    Note: date('now') and friends are allowed (they are pure given a fixed
 *    argument) but make a rule non-reproducible; the policy checker should
 *    warn about 'now'. CURRENT_DATE/CURRENT_TIMESTAMP are refused.
 *  - Table names reach SQL either as bound parameters of pragma functions or
 *    as identifiers quoted with "" doubling, never pasted raw.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "backend_sqlite.h"
#include "backend_sqlite_vfs.h"
#include "expr_lex.h"
#include "lethe/error.h"
#include "vec.h"

static const struct lethe_backend_ops sqlite_ops;

/* Allowed whatever their flags: the date/time functions (pure given their
 * arguments; SQLite 3.40.1 flags them deterministic, older builds did not)
 * and the aggregate built-ins (never flagged deterministic). */
static const char *const extra_functions[] = {
	"date", "time", "datetime", "julianday", "strftime", "unixepoch",
	"count", "sum", "total", "min", "max", "avg", "group_concat",
};

/* Eponymous virtual tables that expose database internals. */
static const char *const refused_tables[] = {"dbstat", "sqlite_dbpage", "sqlite_stmt"};

int lethe_sqlite_code(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return LETHE_ETEMPFAIL;
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
		return LETHE_EIO;
	case SQLITE_NOMEM:
		return LETHE_ESOFTWARE;
	default:
		return LETHE_EDATA;
	}
}

void lethe_sqlite_append_ident(sqlite3_str *s, const char *name)
{
	/* %w doubles embedded double quotes. */
	sqlite3_str_appendf(s, "\"%w\"", name);
}

/* A malloc'd copy of an SQLite message with its first letter lowercased. */
static char *lower_first(const char *msg)
{
	char *m = strdup(msg ? msg : "unknown error");

	if (m && m[0])
		m[0] = (char)tolower((unsigned char)m[0]);
	return m;
}

static int cmp_name(const void *a, const void *b)
{
	return strcasecmp(*(char *const *)a, *(char *const *)b);
}

static int function_allowed(const lethe_sqlite *be, const char *name)
{
	if (!name)
		return 0;
	if (strncasecmp(name, "lethe_", 6) == 0)
		return 1;
	return bsearch(&name, be->functions, be->nfunctions, sizeof(char *), cmp_name) != NULL;
}

/* Remember a table an expression reads, once (see tables_read). */
static int collect_read(lethe_sqlite *be, const char *table)
{
	char **grown;

	for (size_t i = 0; i < *be->nreads; i++)
		if (!strcasecmp((*be->reads)[i], table))
			return 0;
	grown = realloc(*be->reads, (*be->nreads + 1) * sizeof(char *));
	if (!grown)
		return -1;
	*be->reads = grown;
	if (!(grown[*be->nreads] = strdup(table)))
		return -1;
	(*be->nreads)++;
	return 0;
}

static int authorize(void *ud, int action, const char *a, const char *b, const char *dbname,
		     const char *trigger)
{
	lethe_sqlite *be = ud;
	char why[sizeof(be->auth_reason)];
	size_t i;

	(void)dbname;
	/* backend_sqlite_triggers.c: list the triggers a change would fire. */
	if (be->fired && trigger && lethe_sqlite_note_fired(be, trigger) < 0)
		return SQLITE_DENY;
	if (!be->auth_on)
		return SQLITE_OK;
	/* A change's own statement: its top level is ours and writes only the
	 * rule's table; the register's triggers it fires were checked by
	 * lethe_sqlite_refuse_triggers before it was prepared. A user
	 * expression is an expression: it cannot write. */
	if (be->auth_on == LETHE_SQLITE_AUTH_CHANGE &&
	    (trigger || action == SQLITE_DELETE || action == SQLITE_UPDATE || action == SQLITE_INSERT))
		return SQLITE_OK;
	switch (action) {
	case SQLITE_SELECT:
		return SQLITE_OK;
	case SQLITE_RECURSIVE:
		/* the one SQL construct that runs without a bound of its own */
		snprintf(why, sizeof(why), "recursive queries (WITH RECURSIVE) are not allowed");
		break;
	case SQLITE_READ:
		/* pragma_* table-valued functions also raise SQLITE_PRAGMA; reading
		 * the schema that way would be harmless but is refused for
		 * simplicity. */
		if (a && strncasecmp(a, "pragma_", 7) == 0) {
			snprintf(why, sizeof(why), "pragma is not allowed");
			break;
		}
		for (i = 0; i < sizeof(refused_tables) / sizeof(refused_tables[0]); i++)
			if (a && strcasecmp(a, refused_tables[i]) == 0)
				break;
		if (i == sizeof(refused_tables) / sizeof(refused_tables[0])) {
			if (be->reads && a && collect_read(be, a) < 0)
				return SQLITE_DENY;
			return SQLITE_OK;
		}
		snprintf(why, sizeof(why), "table '%s' is not allowed", a);
		break;
	case SQLITE_FUNCTION:
		if (function_allowed(be, b))
			return SQLITE_OK;
		snprintf(why, sizeof(why), "function '%s' is not allowed", b ? b : "?");
		break;
	case SQLITE_UPDATE:
		/* The first use of an eponymous virtual table (json_each,
		 * pragma_*) on a connection declares it, which SQLite reports as
		 * an update of sqlite_schema columns. Allowing it is safe: a
		 * statement we prepare always begins with our SELECT, a tail is
		 * refused, sqlite3_stmt_readonly() is checked, and defensive mode
		 * forbids schema writes anyway. Refusing it would make json_each
		 * fail on its first use only. */
		if (a && (strcasecmp(a, "sqlite_master") == 0 || strcasecmp(a, "sqlite_schema") == 0))
			return SQLITE_OK;
		snprintf(why, sizeof(why), "writes are not allowed");
		break;
	case SQLITE_PRAGMA:
		snprintf(why, sizeof(why), "pragma is not allowed");
		break;
	case SQLITE_ATTACH:
		snprintf(why, sizeof(why), "attach is not allowed");
		break;
	case SQLITE_DETACH:
		snprintf(why, sizeof(why), "detach is not allowed");
		break;
	case SQLITE_TRANSACTION:
	case SQLITE_SAVEPOINT:
		snprintf(why, sizeof(why), "transactions are not allowed");
		break;
	default:
		/* INSERT, UPDATE, DELETE, CREATE_*, DROP_*, ALTER, REINDEX, ... */
		snprintf(why, sizeof(why), "writes are not allowed");
		break;
	}
	if (!be->auth_reason[0])
		memcpy(be->auth_reason, why, sizeof(why));
	return SQLITE_DENY;
}

static int only_space(const char *s)
{
	while (s && *s && isspace((unsigned char)*s))
		s++;
	return !s || !*s;
}

static int prepare_checked(lethe_sqlite *be, const char *sql, sqlite3_stmt **out,
			   char **errmsg, int mode)
{
	sqlite3_stmt *stmt = NULL;
	const char *tail = NULL;
	int rc;

	be->auth_on = mode;
	be->auth_reason[0] = '\0';
	rc = sqlite3_prepare_v3(be->db, sql, -1, 0, &stmt, &tail);
	be->auth_on = 0;
	if (rc == SQLITE_NOMEM) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	if (rc != SQLITE_OK) {
		*errmsg = lower_first(be->auth_reason[0] ? be->auth_reason : sqlite3_errmsg(be->db));
		rc = LETHE_EDATA;
		goto out;
	}
	/* The generated SQL always ends with our own text, so a user expression
	 * that closes the statement early leaves a non-empty tail. */
	if (!stmt || !only_space(tail)) {
		*errmsg = strdup("more than one statement");
		rc = LETHE_EDATA;
		goto out;
	}
	if (mode != LETHE_SQLITE_AUTH_CHANGE && !sqlite3_stmt_readonly(stmt)) {
		*errmsg = strdup("writes are not allowed");
		rc = LETHE_EDATA;
		goto out;
	}
	*out = stmt;
	stmt = NULL;
	rc = 0;
out:
	if (rc == LETHE_EDATA) {
		if (!*errmsg)
			rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		else
			lethe_error_set(LETHE_EDATA, "%s", *errmsg);
	}
	sqlite3_finalize(stmt);
	return rc;
}

int lethe_sqlite_prepare_user(lethe_sqlite *be, const char *sql, sqlite3_stmt **out,
			      char **errmsg)
{
	return prepare_checked(be, sql, out, errmsg, 1);
}

int lethe_sqlite_prepare_change(lethe_sqlite *be, const char *sql, sqlite3_stmt **out,
				char **errmsg)
{
	return prepare_checked(be, sql, out, errmsg, LETHE_SQLITE_AUTH_CHANGE);
}

/* The function allow-list: SQLite's deterministic built-ins (flag 0x800 is
 * SQLITE_DETERMINISTIC; checked against 3.40.1, where the date/time functions
 * carry it too) plus extra_functions. sqlite_* functions are left out. */
static int load_functions(lethe_sqlite *be)
{
	static const char sql[] =
		"SELECT DISTINCT name FROM pragma_function_list "
		"WHERE builtin = 1 AND (flags & 0x800) != 0 AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'";
	sqlite3_stmt *stmt = NULL;
	size_t cap = 0, i;
	int rc;

	for (i = 0; i < sizeof(extra_functions) / sizeof(extra_functions[0]); i++) {
		if ((rc = LETHE_VEC_RESERVE(be->functions, be->nfunctions + 1, cap)) < 0)
			return rc;
		if (!(be->functions[be->nfunctions] = strdup(extra_functions[i])))
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		be->nfunctions++;
	}
	rc = sqlite3_prepare_v2(be->db, sql, -1, &stmt, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (LETHE_VEC_RESERVE(be->functions, be->nfunctions + 1, cap) < 0) {
			rc = SQLITE_NOMEM;
			break;
		}
		if (!(be->functions[be->nfunctions] = strdup((const char *)sqlite3_column_text(stmt, 0)))) {
			rc = SQLITE_NOMEM;
			break;
		}
		be->nfunctions++;
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_DONE)
		rc = lethe_error_set(lethe_sqlite_code(rc), "cannot list sqlite functions: %s",
				     sqlite3_errmsg(be->db));
	else
		rc = 0;
	sqlite3_finalize(stmt);
	if (rc == 0)
		qsort(be->functions, be->nfunctions, sizeof(char *), cmp_name);
	return rc;
}

static void sqlite_free(lethe_backend *base)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	size_t i;

	sqlite3_close_v2(be->db);
	lethe_sqlite_watch_free(be);
	for (i = 0; i < be->nfunctions; i++)
		free(be->functions[i]);
	free(be->functions);
	free(be->pinned);
	free(be->path);
	free(be);
}

/* Every commit synced: synchronous FULL, or EXTRA where the connection
 * already has it (SQLite's default is FULL, but a build may lower it). Said
 * out loud even when it is already so: the VFS gathers the journal's writes
 * across database writes only once it has seen the connection say it syncs
 * (backend_sqlite_vfs.h). */
static int sync_fully(lethe_sqlite *be)
{
	sqlite3_stmt *stmt = NULL;
	int rc, extra = 0;

	rc = sqlite3_prepare_v2(be->db, "PRAGMA synchronous", -1, &stmt, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		extra = sqlite3_column_int(stmt, 0) >= 3;
		rc = SQLITE_OK;
	}
	sqlite3_finalize(stmt);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(be->db, extra ? "PRAGMA synchronous = EXTRA" : "PRAGMA synchronous = FULL",
				  NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return lethe_error_set(lethe_sqlite_code(rc), "cannot configure database '%s': %s",
				       be->path, sqlite3_errmsg(be->db));
	return 0;
}

/* Settings and a first read: the read is what tells a database from any
 * other file (SQLite opens lazily). */
static int setup(lethe_sqlite *be)
{
	static const char pragmas[] =
		"PRAGMA secure_delete = ON; PRAGMA foreign_keys = ON; PRAGMA trusted_schema = OFF;";
	sqlite3_stmt *stmt = NULL;
	int rc;

	sqlite3_extended_result_codes(be->db, 1);
	sqlite3_busy_timeout(be->db, 5000);
	sqlite3_db_config(be->db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, (int *)NULL);
	sqlite3_db_config(be->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
	sqlite3_limit(be->db, SQLITE_LIMIT_ATTACHED, 0);

	rc = sqlite3_prepare_v2(be->db, "SELECT count(*) FROM sqlite_schema", -1, &stmt, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if ((rc & 0xff) == SQLITE_NOTADB)
		return lethe_error_set(LETHE_EDATA, "'%s' is not an sqlite database", be->path);
	if (rc != SQLITE_ROW)
		return lethe_error_set(lethe_sqlite_code(rc), "cannot open database '%s': %s",
				       be->path, sqlite3_errmsg(be->db));
	rc = sqlite3_exec(be->db, pragmas, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return lethe_error_set(lethe_sqlite_code(rc), "cannot configure database '%s': %s",
				       be->path, sqlite3_errmsg(be->db));
	rc = sync_fully(be);
	if (rc == 0)
		rc = load_functions(be);
	if (rc == 0)
		rc = lethe_sqlite_register_functions(be);
	if (rc == 0 && !(be->flags & LETHE_BACKEND_READONLY))
		rc = lethe_sqlite_register_write_functions(be);
	if (rc == 0 && sqlite3_set_authorizer(be->db, authorize, be) != SQLITE_OK)
		rc = lethe_error_set(LETHE_ESOFTWARE, "cannot set the sqlite authorizer");
	if (rc == 0)
		rc = lethe_sqlite_watch_install(be);
	return rc;
}

int lethe_backend_sqlite_open(lethe_backend **out, const char *path, unsigned flags)
{
	lethe_sqlite *be = NULL;
	struct stat st;
	int oflags, rc;

	if (stat(path, &st) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return lethe_error_set(LETHE_ENOINPUT, "cannot open database '%s': no such file",
					       path);
		return lethe_error_set(LETHE_EIO, "cannot open database '%s': %s", path,
				       strerror(errno));
	}
	if (!S_ISREG(st.st_mode))
		return lethe_error_set(LETHE_EDATA, "'%s' is not an sqlite database", path);

	be = calloc(1, sizeof(*be));
	if (!be || !(be->path = strdup(path))) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	be->base.ops = &sqlite_ops;
	be->flags = flags;
	/* SQLite's allocation statistics take a process-wide mutex around every
	 * allocation and free (5% of a plan's CPU time, both threads taking
	 * it); Lethe never reads them. The setting only takes before SQLite
	 * initialises, at the first open, which is always made before any
	 * second thread (sqlite_reopen opens from an open connection); later
	 * calls are refused with SQLITE_MISUSE and change nothing. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	/* No SQLITE_OPEN_CREATE, no SQLITE_OPEN_URI: the path is taken literally. */
	oflags = (flags & LETHE_BACKEND_READONLY) ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	/* the VFS gathers the rollback journal's writes (backend_sqlite_vfs.h) */
	rc = sqlite3_open_v2(path, &be->db, oflags | SQLITE_OPEN_NOMUTEX, lethe_sqlite_vfs());
	if (rc != SQLITE_OK) {
		rc = lethe_error_set(lethe_sqlite_code(rc), "cannot open database '%s': %s", path,
				     be->db ? sqlite3_errmsg(be->db) : "out of memory");
		goto out;
	}
	rc = setup(be);
	if (rc)
		goto out;
	*out = &be->base;
	be = NULL;
out:
	if (be)
		sqlite_free(&be->base);
	return rc;
}

/* --- expressions -------------------------------------------------------------- */

/* Whether expr ends its statement early with a ';', which inside our
 * parentheses only shows as a syntax error: tell the user what they did. The
 * statement is prepared under the authorizer and never stepped. */
static int ends_statement(lethe_sqlite *be, const char *table, const char *expr)
{
	sqlite3_stmt *stmt = NULL;
	const char *tail = NULL;
	sqlite3_str *s = sqlite3_str_new(be->db);
	char *sql;
	int second = 0;

	sqlite3_str_appendall(s, "SELECT 1 FROM ");
	lethe_sqlite_append_ident(s, table);
	sqlite3_str_appendf(s, " WHERE %s", expr);
	sql = sqlite3_str_finish(s);
	if (!sql)
		return 0;
	be->auth_on = 1;
	if (sqlite3_prepare_v3(be->db, sql, -1, 0, &stmt, &tail) == SQLITE_OK)
		second = !only_space(tail);
	be->auth_on = 0;
	sqlite3_finalize(stmt);
	sqlite3_free(sql);
	return second;
}

static int sqlite_check_expr(lethe_backend *base, const char *table, const char *expr,
			     char **errmsg)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	sqlite3_str *s;
	char *sql = NULL;
	const char *why;
	int rc;

	if (only_space(expr)) {
		if (!(*errmsg = strdup("empty expression")))
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		return lethe_error_set(LETHE_EDATA, "empty expression");
	}
	/* Exactly one expression, whatever SQLite would make of it between
	 * other parentheses (expr_lex.c says why preparing alone is not enough). */
	if ((why = lethe_expr_escape(expr))) {
		if (!(*errmsg = strdup(why)))
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		return lethe_error_set(LETHE_EDATA, "%s", why);
	}
	/* The newlines end any `--` comment inside expr before our ")". The
	 * expression also goes into WHERE, where SQLite refuses a top-level
	 * aggregate or window function ("misuse of aggregate: max()"): in a
	 * scan's select list one would fold the table into one row. The
	 * statement is only prepared, never run. */
	s = sqlite3_str_new(be->db);
	sqlite3_str_appendf(s, "SELECT (\n%s\n) FROM ", expr);
	lethe_sqlite_append_ident(s, table);
	sqlite3_str_appendf(s, " WHERE (\n%s\n) IS NOT NULL", expr);
	sql = sqlite3_str_finish(s);
	if (!sql) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	rc = lethe_sqlite_prepare_user(be, sql, &stmt, errmsg);
	if (rc == LETHE_EDATA && *errmsg && ends_statement(be, table, expr)) {
		free(*errmsg);
		if (!(*errmsg = strdup("more than one statement")))
			rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	/* A parameter would run as NULL, and scans bind parameters of their own. */
	if (rc == 0 && sqlite3_bind_parameter_count(stmt) > 0) {
		if (!(*errmsg = strdup("parameters (?, :name) are not allowed")))
			rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		else
			rc = lethe_error_set(LETHE_EDATA, "%s", *errmsg);
	}
out:
	sqlite3_finalize(stmt);
	sqlite3_free(sql);
	return rc;
}

/* A second, read-only connection to the same file (parallel planning); 1
 * and nothing opened while a transaction of ours is open, whose changes
 * another connection would not see, or when SQLite was built without
 * thread safety. */
static int sqlite_reopen(lethe_backend **out, lethe_backend *base)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	int rc;

	/* a library built single-threaded may not be used from two threads */
	if (be->in_txn || !sqlite3_threadsafe())
		return 1;
	if ((rc = lethe_backend_sqlite_open(out, be->path, LETHE_BACKEND_READONLY)) < 0)
		return rc;
	((lethe_sqlite *)*out)->limit_ms = be->limit_ms;
	return 0;
}

static const struct lethe_backend_ops sqlite_ops = {
	.name = "sqlite",
	.free = sqlite_free,
	.table_info = lethe_sqlite_table_info,
	.foreign_keys = lethe_sqlite_foreign_keys,
	.check_expr = sqlite_check_expr,
	.scan = lethe_sqlite_scan,
	.count = lethe_sqlite_count,
	.estimate_rows = lethe_sqlite_estimate_rows,
	.reopen = sqlite_reopen,
	.tables_read = lethe_sqlite_tables_read,
	.begin = lethe_sqlite_begin,
	.commit = lethe_sqlite_commit,
	.rollback = lethe_sqlite_rollback,
	.apply = lethe_sqlite_apply,
	.dispose = lethe_sqlite_dispose,
	.finalise = lethe_sqlite_finalise,
	.mark = lethe_sqlite_mark,
	.marker = lethe_sqlite_marker,
	.marker_digests = lethe_sqlite_marker_digests,
	.marker_clear = lethe_sqlite_marker_clear,
	.marker_seal = lethe_sqlite_marker_seal,
	.marker_sealed = lethe_sqlite_marker_sealed,
	.cleanup_owe = lethe_sqlite_cleanup_owe,
	.cleanup_owed = lethe_sqlite_cleanup_owed,
	.cleanup_done = lethe_sqlite_cleanup_done,
	.evidence_head = lethe_sqlite_evidence_head,
	.evidence_head_set = lethe_sqlite_evidence_head_set,
	.schema_text = lethe_sqlite_schema_text,
	.rows = lethe_sqlite_rows,
	.suppress = lethe_sqlite_suppress,
	.suppressed = lethe_sqlite_suppressed,
	.hold_add = lethe_sqlite_hold_add,
	.hold_release = lethe_sqlite_hold_release,
	.holds = lethe_sqlite_holds,
	.request_put = lethe_sqlite_request_put,
	.requests = lethe_sqlite_requests,
	.erasure_open = lethe_sqlite_erasure_open,
	.erasure_close = lethe_sqlite_erasure_close,
	.erasures_open = lethe_sqlite_erasures_open,
	.time_limit = lethe_sqlite_time_limit,
	.change_triggers = lethe_sqlite_change_triggers,
	.pin_schema = lethe_sqlite_pin_schema,
};
