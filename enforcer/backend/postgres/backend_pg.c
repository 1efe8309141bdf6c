/*
 * backend_pg.c - the PostgreSQL backend: opening a register on a server
 * (libpq), errors, parameters and values, expression checks, and the ops
 * table. Schema introspection lives in backend_pg_schema.c, scans in
 * backend_pg_scan.c, writes in backend_pg_write.c, Lethe's own tables in
 * backend_pg_own.c.
 *
 * Invariants:
 *  - The backend_pg*.c files are the only library code that includes
 *    libpq-fe.h.
 *  - A READONLY backend's session has default_transaction_read_only on:
 *    check and plan cannot change the register even through a function.
 *  - A writing backend holds the run lock (pg_try_advisory_lock) from open
 *    to free; a second writer fails at open with LETHE_ETEMPFAIL naming the
 *    holder's backend pid.
 *  - A user expression is accepted only when it cannot leave the
 *    parentheses Lethe pastes it between (expr_lex.c), prepares as one
 *    expression over its table, and calls no volatile function (by the
 *    server's own catalogue, pg_proc.provolatile: built-ins by name, user
 *    functions also behind operators and views by pg_depend,
 *    backend_pg_probe.c) nor reads the clock (CURRENT_DATE and friends).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "backend_pg.h"
#include "backend/scan_sql.h"
#include "expr_lex.h"
#include "lethe/error.h"
#include "vec.h"

static const struct lethe_backend_ops pg_ops;

void lethe_pg_ident(lethe_strbuf *s, const char *name)
{
	lethe_strbuf_addch(s, '"');
	for (const char *p = name; *p; p++) {
		if (*p == '"')
			lethe_strbuf_addch(s, '"');
		lethe_strbuf_addch(s, *p);
	}
	lethe_strbuf_addch(s, '"');
}

int lethe_pg_code(const PGresult *res)
{
	const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (!st)
		return LETHE_EIO; /* no result: the connection failed */
	if (!strncmp(st, "40", 2) || !strcmp(st, "55P03") || !strcmp(st, "57014") ||
	    !strcmp(st, "53300"))
		return LETHE_ETEMPFAIL;
	if (!strncmp(st, "08", 2) || !strncmp(st, "58", 2))
		return LETHE_EIO;
	if (!strcmp(st, "42501"))
		return LETHE_ENOPERM;
	return LETHE_EDATA;
}

const char *lethe_pg_why(char *buf, size_t size, lethe_pg *be, const PGresult *res)
{
	const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char *nl;

	if (!m || !*m)
		m = PQerrorMessage(be->conn);
	if (!m || !*m)
		m = "unknown error";
	snprintf(buf, size, "%s", m);
	if ((nl = strchr(buf, '\n')))
		*nl = '\0';
	if (isupper((unsigned char)buf[0]) && !isupper((unsigned char)buf[1]))
		buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

int lethe_pg_exec(PGresult **res, lethe_pg *be, const char *what, const char *sql, int nparams,
		  const char *const *params)
{
	PGresult *r = PQexecParams(be->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	char why[512];
	int code;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (res)
			*res = r;
		else
			PQclear(r);
		return 0;
	}
	code = lethe_pg_code(r);
	snprintf(be->last_state, sizeof(be->last_state), "%s",
		 r && PQresultErrorField(r, PG_DIAG_SQLSTATE) ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : "");
	lethe_pg_why(why, sizeof(why), be, r);
	PQclear(r);
	if (code == LETHE_ETEMPFAIL)
		return lethe_error_set(code, "cannot %s in '%s': %s; nothing was changed, retry later",
				       what, be->label, why);
	return lethe_error_set(code, "cannot %s in '%s': %s", what, be->label, why);
}

static int hexval(int c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

void lethe_pg_value(lethe_value *out, const PGresult *res, int row, int col,
		    unsigned char **scratch)
{
	const char *s = PQgetvalue(res, row, col);
	size_t len = (size_t)PQgetlength(res, row, col);

	memset(out, 0, sizeof(*out));
	if (PQgetisnull(res, row, col)) {
		out->type = LETHE_VALUE_NULL;
		return;
	}
	switch (PQftype(res, col)) {
	case 16: /* bool */
		out->type = LETHE_VALUE_INTEGER;
		out->i = s[0] == 't';
		return;
	case 20: case 21: case 23: /* int8, int2, int4 */
		out->type = LETHE_VALUE_INTEGER;
		out->i = strtoll(s, NULL, 10);
		return;
	case 700: case 701: /* float4, float8 */
		out->type = LETHE_VALUE_REAL;
		out->r = strtod(s, NULL);
		return;
	case 17: /* bytea, text form \x hex */
		out->type = LETHE_VALUE_BLOB;
		out->s = "";
		if (len >= 2 && s[0] == '\\' && s[1] == 'x' && scratch) {
			size_t n = (len - 2) / 2;
			unsigned char *b = realloc(*scratch, n + 1);

			if (b) {
				for (size_t i = 0; i < n; i++)
					b[i] = (unsigned char)(hexval(s[2 + 2 * i]) << 4 | hexval(s[3 + 2 * i]));
				*scratch = b;
				out->s = (const char *)b;
				out->len = n;
			}
		}
		return;
	default:
		out->type = LETHE_VALUE_TEXT;
		out->s = s;
		out->len = len;
	}
}

const char *lethe_pg_param(const lethe_value *v, char *buf, size_t size, char **heap)
{
	switch (v->type) {
	case LETHE_VALUE_INTEGER:
		snprintf(buf, size, "%lld", (long long)v->i);
		return buf;
	case LETHE_VALUE_REAL:
		snprintf(buf, size, "%.17g", v->r);
		return buf;
	case LETHE_VALUE_TEXT:
		if (memchr(v->s, '\0', v->len) == NULL && v->s[v->len] == '\0')
			return v->s;
		/* not NUL-terminated: copy */
		if (!(*heap = malloc(v->len + 1)))
			return NULL;
		memcpy(*heap, v->s, v->len);
		(*heap)[v->len] = '\0';
		return *heap;
	case LETHE_VALUE_BLOB: {
		static const char hex[] = "0123456789abcdef";

		if (!(*heap = malloc(2 * v->len + 3)))
			return NULL;
		(*heap)[0] = '\\';
		(*heap)[1] = 'x';
		for (size_t i = 0; i < v->len; i++) {
			(*heap)[2 + 2 * i] = hex[(unsigned char)v->s[i] >> 4];
			(*heap)[3 + 2 * i] = hex[(unsigned char)v->s[i] & 15];
		}
		(*heap)[2 * v->len + 2] = '\0';
		return *heap;
	}
	default:
		return NULL;
	}
}

int lethe_pg_exec_values(PGresult **res, lethe_pg *be, const char *what, const char *sql,
			 int n, const lethe_value *values)
{
	const char *params[8] = { 0 };
	char bufs[8][32], *heap[8] = { 0 };
	int rc;

	if (n > 8)
		return lethe_error_set(LETHE_ESOFTWARE, "too many parameters");
	for (int i = 0; i < n; i++)
		params[i] = lethe_pg_param(&values[i], bufs[i], sizeof(bufs[i]), &heap[i]);
	rc = lethe_pg_exec(res, be, what, sql, n, params);
	for (int i = 0; i < n; i++)
		free(heap[i]);
	return rc;
}

/* --- named parameters ------------------------------------------------------- */

static int number_param(void *ctx, lethe_strbuf *s, size_t i)
{
	(void)ctx;
	lethe_strbuf_addf(s, "$%zu", i + 1);
	return 0;
}

int lethe_pg_number_params(char **out, const char *sql, const char *const *names, size_t nnames)
{
	lethe_strbuf s = LETHE_STRBUF_INIT;

	lethe_sql_named_params(&s, sql, "'\"", names, nnames, number_param, NULL);
	if (!(*out = lethe_strbuf_detach(&s, NULL)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	return 0;
}

/* --- opening ------------------------------------------------------------------ */

static void pg_free(lethe_backend *base)
{
	lethe_pg *be = (lethe_pg *)base;

	if (be->conn)
		PQfinish(be->conn);
	for (size_t i = 0; i < be->nclocks; i++) {
		free(be->clocks[i].expr);
		free(be->clocks[i].table);
	}
	free(be->clocks);
	lethe_strvec_clear(&be->changed);
	lethe_pg_page_forget(be);
	free(be->location);
	free(be->label);
	free(be->pinned);
	free(be);
}

/* The run lock: one writing Lethe per database. */
static int run_lock(lethe_pg *be)
{
	PGresult *res = NULL;
	int rc, got;

	if ((rc = lethe_pg_exec(&res, be, "take the run lock",
				"SELECT pg_try_advisory_lock(" LETHE_PG_RUN_LOCK ")", 0, NULL)) < 0)
		return rc;
	got = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	if (got)
		return 0;
	res = NULL;
	rc = lethe_pg_exec(&res, be, "find the run lock's holder",
			   "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND "
			   "database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
			   "AND ((classid::bigint << 32) | objid::bigint) = " LETHE_PG_RUN_LOCK " LIMIT 1",
			   0, NULL);
	rc = lethe_error_set(LETHE_ETEMPFAIL, "database '%s' is locked by another lethe run "
			     "(server process pid %s); nothing was changed, retry later", be->label,
			     rc == 0 && PQntuples(res) ? PQgetvalue(res, 0, 0) : "unknown");
	PQclear(res);
	return rc;
}

static int setup(lethe_pg *be)
{
	int rc;

	rc = lethe_pg_exec(NULL, be, "set up the session",
			   "SELECT set_config('TimeZone', 'UTC', false), "
			   "set_config('DateStyle', 'ISO, YMD', false), "
			   "set_config('IntervalStyle', 'iso_8601', false), "
			   "set_config('extra_float_digits', '3', false), "
			   "set_config('search_path', 'public, lethe', false), "
			   "set_config('default_transaction_isolation', 'read committed', false), "
			   "set_config('application_name', 'lethe', false), "
			   /* compiling a scan's many expressions costs more than it saves */
			   "set_config('jit', 'off', false)", 0, NULL);
	if (rc == 0 && (be->flags & LETHE_BACKEND_READONLY))
		rc = lethe_pg_exec(NULL, be, "make the session read-only",
				   "SET default_transaction_read_only = on", 0, NULL);
	if (rc == 0 && !(be->flags & LETHE_BACKEND_READONLY))
		rc = run_lock(be);
	if (rc == 0)
		be->own_schema = lethe_pg_has_own(be, "schema_version");
	if (rc == 0)
		rc = lethe_backend_set_time_limit(&be->base, LETHE_DEFAULT_STATEMENT_SECONDS);
	return rc;
}

int lethe_backend_pg_open(lethe_backend **out, const char *location, unsigned flags)
{
	lethe_pg *be = calloc(1, sizeof(*be));
	const char *host, *db;
	int rc;

	if (!be || !(be->location = strdup(location))) {
		free(be);
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	be->base.ops = &pg_ops;
	be->flags = flags;
	be->conn = PQconnectdb(location);
	if (!be->conn || PQstatus(be->conn) != CONNECTION_OK) {
		char why[512];

		lethe_pg_why(why, sizeof(why), be, NULL);
		rc = lethe_error_set(be->conn ? LETHE_ENOINPUT : LETHE_ESOFTWARE,
				     "cannot connect to database '%s': %s",
				     be->conn && PQdb(be->conn) ? PQdb(be->conn) : "?", why);
		pg_free(&be->base);
		return rc;
	}
	db = PQdb(be->conn);
	host = PQhost(be->conn);
	if (asprintf(&be->label, "%s@%s", db ? db : "", host ? host : "") < 0) {
		be->label = NULL;
		pg_free(&be->base);
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	if ((rc = setup(be)) < 0) {
		pg_free(&be->base);
		return rc;
	}
	*out = &be->base;
	return 0;
}

static int pg_time_limit(lethe_backend *base, int64_t seconds)
{
	lethe_pg *be = (lethe_pg *)base;
	char ms[32];
	const char *p[1] = { ms };

	be->limit_ms = seconds * 1000;
	snprintf(ms, sizeof(ms), "%lld", (long long)be->limit_ms);
	return lethe_pg_exec(NULL, be, "set the statement time bound",
			     "SELECT set_config('statement_timeout', $1, false), "
			     "set_config('lock_timeout', '10000', false)", 1, p);
}

/* --- expressions ----------------------------------------------------------------- */

/* Function names called in expr (identifiers followed by '('), outside
 * quotes and comments, and clock keywords, as a text array literal's
 * elements for the catalogue query. */
static void called_names(lethe_strbuf *arr, const char *expr, const char **clock_word)
{
	static const char *const clock_words[] = { "current_date", "current_time",
		"current_timestamp", "localtime", "localtimestamp", NULL };
	const char *p = expr;

	*clock_word = NULL;
	lethe_strbuf_adds(arr, "{");
	while (*p) {
		if (*p == '\'' || *p == '"') {
			char q = *p++;

			while (*p && !(*p == q && p[1] != q))
				p += (*p == q) ? 2 : 1;
			if (*p)
				p++;
			continue;
		}
		if (p[0] == '-' && p[1] == '-') {
			while (*p && *p != '\n')
				p++;
			continue;
		}
		if (isalpha((unsigned char)*p) || *p == '_') {
			const char *b = p, *q;

			while (isalnum((unsigned char)*p) || *p == '_' || *p == '$')
				p++;
			for (size_t i = 0; clock_words[i]; i++)
				if (strlen(clock_words[i]) == (size_t)(p - b) &&
				    !strncasecmp(b, clock_words[i], (size_t)(p - b)))
					*clock_word = clock_words[i];
			for (q = p; isspace((unsigned char)*q); q++)
				;
			if (*q == '(') {
				if (arr->len > 1)
					lethe_strbuf_addch(arr, ',');
				lethe_strbuf_addch(arr, '"');
				for (const char *c = b; c < p; c++)
					lethe_strbuf_addch(arr, (char)tolower((unsigned char)*c));
				lethe_strbuf_addch(arr, '"');
			}
			continue;
		}
		p++;
	}
	lethe_strbuf_adds(arr, "}");
}

static int set_errmsg(char **errmsg, const char *fmt, const char *arg)
{
	char buf[600];

	snprintf(buf, sizeof(buf), fmt, arg);
	if (!(*errmsg = strdup(buf)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	return lethe_error_set(LETHE_EDATA, "%s", buf);
}

static int pg_check_expr(lethe_backend *base, const char *table, const char *expr, char **errmsg)
{
	lethe_pg *be = (lethe_pg *)base;
	lethe_strbuf s = LETHE_STRBUF_INIT, arr = LETHE_STRBUF_INIT;
	const char *why, *clock_word, *params[1];
	PGresult *res;
	char msg[512], *sql = NULL, *volatile_fn = NULL;
	static const char *const names[] = { "lethe_subject" };
	int rc = 0;

	for (why = expr; *why && isspace((unsigned char)*why); why++)
		;
	if (!*why)
		return set_errmsg(errmsg, "%s", "empty expression");
	if ((why = lethe_expr_escape(expr)))
		return set_errmsg(errmsg, "%s", why);
	/* a ';' outside a string fails to prepare below as a syntax error */
	called_names(&arr, expr, &clock_word);
	if (clock_word) {
		rc = set_errmsg(errmsg, "'%s' reads the clock: a rule must give the same answer "
				"for the same as-of day (the thresholds carry the date)", clock_word);
		goto out;
	}
	params[0] = lethe_strbuf_str(&arr);
	res = NULL;
	if ((rc = lethe_pg_exec(&res, be, "look up functions",
				"SELECT DISTINCT proname FROM pg_proc WHERE proname = ANY($1::text[]) "
				"AND provolatile = 'v' ORDER BY 1", 1, params)) < 0)
		goto out;
	if (PQntuples(res) > 0) {
		snprintf(msg, sizeof(msg), "function '%s' is volatile (its value changes from one "
			 "call to the next) and is not allowed", PQgetvalue(res, 0, 0));
		PQclear(res);
		rc = set_errmsg(errmsg, "%s", msg);
		goto out;
	}
	PQclear(res);
	lethe_strbuf_adds(&s, "SELECT (\n");
	lethe_strbuf_adds(&s, expr);
	lethe_strbuf_adds(&s, "\n) FROM ");
	lethe_pg_ident(&s, table);
	lethe_strbuf_adds(&s, " WHERE (\n");
	lethe_strbuf_adds(&s, expr);
	lethe_strbuf_adds(&s, "\n) IS NOT NULL");
	if ((rc = lethe_pg_number_params(&sql, lethe_strbuf_str(&s), names, 1)) < 0)
		goto out;
	/* Prepared, never run: a syntax error, an unknown column, a second
	 * statement (a ';' the parser meets) or a top-level aggregate all
	 * fail here with the server's own message. */
	res = PQprepare(be->conn, "", sql, 0, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		lethe_pg_why(msg, sizeof(msg), be, res);
		PQclear(res);
		rc = set_errmsg(errmsg, "%s", msg);
		goto out;
	}
	PQclear(res);
	/* user-defined volatile functions, also behind an operator or a view */
	if ((rc = lethe_pg_probe_expr(NULL, NULL, &volatile_fn, be, table, expr)) == LETHE_ENOTFOUND)
		rc = 0;
	if (rc == 0 && volatile_fn) {
		snprintf(msg, sizeof(msg), "function '%s' is volatile (its value changes from one "
			 "call to the next) and is not allowed", volatile_fn);
		rc = set_errmsg(errmsg, "%s", msg);
	}
out:
	free(volatile_fn);
	free(sql);
	lethe_strbuf_release(&s);
	lethe_strbuf_release(&arr);
	return rc;
}

static int pg_reopen(lethe_backend **out, lethe_backend *base)
{
	(void)out;
	(void)base;
	return 1; /* one connection: the server runs the scans in parallel itself */
}

static const struct lethe_backend_ops pg_ops = {
	.name = "postgresql",
	.free = pg_free,
	.table_info = lethe_pg_table_info,
	.foreign_keys = lethe_pg_foreign_keys,
	.check_expr = pg_check_expr,
	.scan = lethe_pg_scan,
	.count = lethe_pg_count,
	.reopen = pg_reopen,
	.tables_read = lethe_pg_tables_read,
	.begin = lethe_pg_begin,
	.commit = lethe_pg_commit,
	.rollback = lethe_pg_rollback,
	.apply = lethe_pg_apply,
	.dispose = lethe_pg_dispose,
	.finalise = lethe_pg_finalise,
	.mark = lethe_pg_mark,
	.marker = lethe_pg_marker,
	.marker_digests = lethe_pg_marker_digests,
	.marker_clear = lethe_pg_marker_clear,
	.cleanup_owe = lethe_pg_cleanup_owe,
	.cleanup_owed = lethe_pg_cleanup_owed,
	.cleanup_done = lethe_pg_cleanup_done,
	.evidence_head = lethe_pg_evidence_head,
	.evidence_head_set = lethe_pg_evidence_head_set,
	.schema_text = lethe_pg_schema_text,
	.rows = lethe_pg_rows,
	.suppress = lethe_pg_suppress,
	.suppressed = lethe_pg_suppressed,
	.hold_add = lethe_pg_hold_add,
	.hold_release = lethe_pg_hold_release,
	.holds = lethe_pg_holds,
	.request_put = lethe_pg_request_put,
	.requests = lethe_pg_requests,
	.erasure_open = lethe_pg_erasure_open,
	.erasure_close = lethe_pg_erasure_close,
	.erasures_open = lethe_pg_erasures_open,
	.time_limit = pg_time_limit,
	.change_triggers = lethe_pg_change_triggers,
	.pin_schema = lethe_pg_pin_schema,
	.check_clock = lethe_pg_check_clock,
	.write_access = lethe_pg_write_access,
};
