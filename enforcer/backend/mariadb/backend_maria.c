/*
 * backend_maria.c - the MariaDB/MySQL backend (libmariadb): the location
 * (mariadb:// or mysql:// URI, or an option file), the connection and its
 * session settings, the run lock, transactions (READ COMMITTED, the schema
 * checked unchanged at the start of each), and the ops table. Statements and their
 * parameters: backend_maria_stmt.c; tables and foreign keys:
 * backend_maria_schema.c.
 *
 * Invariants (see also backend_maria.h):
 *  - The location never holds a password (config.c refuses one); a
 *    password comes from an option file (option_file=PATH, read by the
 *    client library with the group of option_group=, default "client").
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <mysqld_error.h>
#include "backend_maria.h"
#include "lethe/error.h"

/* --- location ---------------------------------------------------------------------- */

typedef struct {
	char *user, *host, *db, *socket, *option_file, *option_group;
	unsigned port;
} maria_location;

static void location_free(maria_location *l)
{
	free(l->user);
	free(l->host);
	free(l->db);
	free(l->socket);
	free(l->option_file);
	free(l->option_group);
}

/* A malloc'd copy of [s, s+n) with %XX decoded; NULL on a bad escape or
 * out of memory (*bad tells which). */
static char *decode(const char *s, size_t n, int *bad)
{
	char *out = malloc(n + 1), *o = out;
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			unsigned v;

			if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
			    !isxdigit((unsigned char)s[i + 2]) || sscanf(s + i + 1, "%2x", &v) != 1 ||
			    v == 0) {
				*bad = 1;
				free(out);
				return NULL;
			}
			*o++ = (char)v;
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = 0;
	return out;
}

/* On failure the caller still calls location_free.
 * mariadb://[user@][host][:port]/[database][?key=value&...] with the keys
 * socket, option_file and option_group; mysql:// alike. */
static int location_parse(maria_location *l, const char *location)
{
	const char *p = strstr(location, "://") + 3, *slash, *at, *colon, *q;
	int bad = 0;

	memset(l, 0, sizeof(*l));
	slash = strchr(p, '/');
	q = strchr(p, '?');
	if (!slash || (q && q < slash))
		return lethe_error_set(LETHE_ECONFIG, "cannot read database location '%.*s...': no "
				       "/DATABASE after the host", (int)(p - location), location);
	at = memchr(p, '@', (size_t)(slash - p));
	if (at) {
		if (memchr(p, ':', (size_t)(at - p)))
			return lethe_error_set(LETHE_ECONFIG, "database location holds a password: "
					       "put it in an option file (option_file=PATH)");
		if (!(l->user = decode(p, (size_t)(at - p), &bad)))
			goto bad;
		p = at + 1;
	}
	colon = memchr(p, ':', (size_t)(slash - p));
	if (colon) {
		char *end;
		long port;

		errno = 0;
		port = strtol(colon + 1, &end, 10);
		if (end != slash || port <= 0 || port > 65535 || errno)
			return lethe_error_set(LETHE_ECONFIG, "cannot read database location: bad port");
		l->port = (unsigned)port;
	}
	if ((colon ? colon : slash) > p &&
	    !(l->host = decode(p, (size_t)((colon ? colon : slash) - p), &bad)))
		goto bad;
	p = slash + 1;
	q = strchr(p, '?');
	if ((q ? q : p + strlen(p)) > p && !(l->db = decode(p, (size_t)((q ? q : p + strlen(p)) - p), &bad)))
		goto bad;
	while (q && *q) {
		const char *k = q + 1, *eq = strchr(k, '='), *end = strchr(k, '&');
		char **slot;

		if (!end)
			end = k + strlen(k);
		if (!eq || eq > end)
			return lethe_error_set(LETHE_ECONFIG, "cannot read database location: "
					       "'%.*s' is no key=value", (int)(end - k), k);
		if ((size_t)(eq - k) == 6 && !strncmp(k, "socket", 6))
			slot = &l->socket;
		else if ((size_t)(eq - k) == 11 && !strncmp(k, "option_file", 11))
			slot = &l->option_file;
		else if ((size_t)(eq - k) == 12 && !strncmp(k, "option_group", 12))
			slot = &l->option_group;
		else
			return lethe_error_set(LETHE_ECONFIG, "cannot read database location: unknown "
					       "key '%.*s' (socket, option_file, option_group)",
					       (int)(eq - k), k);
		free(*slot);
		if (!(*slot = decode(eq + 1, (size_t)(end - eq - 1), &bad)))
			goto bad;
		q = *end ? end : NULL;
	}
	return 0;
bad:	/* the caller frees what was decoded */
	return bad ? lethe_error_set(LETHE_ECONFIG, "cannot read database location: bad %%-escape")
		   : lethe_error_set(LETHE_ESOFTWARE, "out of memory");
}

/* --- connection --------------------------------------------------------------------- */

static void maria_free(lethe_backend *base)
{
	lethe_maria *be = (lethe_maria *)base;

	if (be->conn)
		mysql_close(be->conn);	/* ends the session: the run lock goes with it */
	free(be->label);
	free(be->dbname);
	free(be->pinned);
	lethe_strvec_clear(&be->changed);
	free(be);
}

static int maria_time_limit(lethe_backend *base, int64_t seconds)
{
	lethe_maria *be = (lethe_maria *)base;
	lethe_value v[2] = { { .type = LETHE_VALUE_REAL, .r = (double)seconds },
			     { .type = LETHE_VALUE_INTEGER, .i = 10 } };

	/* max_statement_time bounds each statement; a row lock is waited for
	 * 10 s at most (the next batch or run retries) */
	return lethe_maria_exec(NULL, be, "set the statement time bound",
				"SET SESSION max_statement_time = ?, innodb_lock_wait_timeout = ?",
				2, v);
}

static int in_list(const char *const *words, const char *word, size_t n)
{
	for (; *words; words++)
		if (strlen(*words) == n && !strncasecmp(word, *words, n))
			return 1;
	return 0;
}

/* The first word of expr, outside quotes and comments, that reads the
 * clock, the session or chance (a rule must give the same answer for the
 * same as-of day), or NULL. A deny-list: MariaDB's catalogue does not mark
 * built-in functions deterministic as PostgreSQL's does. */
static const char *unstable_word(const char *expr, char *buf, size_t size)
{
	/* keywords that need no parentheses */
	static const char *const keywords[] = { "current_date", "current_time",
		"current_timestamp", "localtime", "localtimestamp", "current_user", "utc_date",
		"utc_time", "utc_timestamp", NULL };
	/* functions: the word followed by '(' (without one it may be a
	 * column, e.g. `user`) */
	static const char *const functions[] = { "now", "curdate", "curtime", "sysdate",
		"unix_timestamp", "rand", "uuid", "uuid_short", "sys_guid", "sleep", "benchmark",
		"get_lock", "release_lock", "is_free_lock", "is_used_lock", "last_insert_id",
		"connection_id", "found_rows", "row_count", "user", "session_user", "system_user",
		"database", "schema", "nextval", "lastval", "setval", "load_file", NULL };
	const char *p = expr, *q;

	while (*p) {
		if (*p == '\'' || *p == '"' || *p == '`') {
			char quote = *p++;

			while (*p && !(*p == quote && p[1] != quote))
				p += (*p == quote) ? 2 : 1;
			if (*p)
				p++;
			continue;
		}
		if (isalpha((unsigned char)*p) || *p == '_') {
			const char *b = p;
			size_t n;

			while (isalnum((unsigned char)*p) || *p == '_' || *p == '$')
				p++;
			n = (size_t)(p - b);
			/* a qualified name (t.now) is a column, not a function */
			if (b > expr && b[-1] == '.')
				continue;
			for (q = p; isspace((unsigned char)*q); q++)
				;
			/* a keyword may also be called: CURRENT_DATE() */
			if (in_list(keywords, b, n) || (*q == '(' && in_list(functions, b, n))) {
				snprintf(buf, size, "%.*s", (int)n, b);
				return buf;
			}
			continue;
		}
		p++;
	}
	return NULL;
}

/* An expression is checked by preparing (never running) a SELECT of it
 * over the table: the server resolves its columns and functions. */
static int maria_check_expr(lethe_backend *base, const char *table, const char *expr,
			    char **errmsg)
{
	static const char *const names[] = { "lethe_subject" };
	lethe_value none[1] = { { .type = LETHE_VALUE_NULL } }, *vals = NULL;
	lethe_maria *be = (lethe_maria *)base;
	lethe_strbuf s = LETHE_STRBUF_INIT;
	MYSQL_STMT *st;
	size_t nvals = 0;
	char word[64], *sql = NULL;
	int rc = 0;

	if (unstable_word(expr, word, sizeof(word))) {
		lethe_strbuf_addf(&s, "'%s' reads the clock, the session or chance: a rule must give the "
				  "same answer for the same as-of day (the thresholds carry the date)", word);
		if (!(*errmsg = lethe_strbuf_detach(&s, NULL)))
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		return LETHE_EDATA;
	}
	lethe_strbuf_adds(&s, "SELECT (");
	lethe_strbuf_adds(&s, expr);
	lethe_strbuf_adds(&s, ") FROM ");
	lethe_maria_ident(&s, table);
	lethe_strbuf_adds(&s, " WHERE 0");
	/* Lethe's parameters become '?', which a prepare leaves unbound */
	rc = lethe_maria_positional(&sql, &vals, &nvals, lethe_strbuf_str(&s), names, none, 1);
	lethe_strbuf_release(&s);
	free(vals);
	if (rc < 0)
		return rc;
	if (!(st = mysql_stmt_init(be->conn))) {
		free(sql);
		return lethe_maria_fail(be, "check an expression", mysql_errno(be->conn), mysql_error(be->conn));
	}
	if (mysql_stmt_prepare(st, sql, strlen(sql))) {
		const char *why = mysql_stmt_error(st);

		if (!(*errmsg = strdup(why)))
			rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		else
			rc = LETHE_EDATA;
	}
	mysql_stmt_close(st);
	free(sql);
	return rc;
}

/* A second session for reading in another thread: not offered (the
 * interface allows 1, and the caller reads on this one). */
static int maria_reopen(lethe_backend **o, lethe_backend *b)
{ (void)b; *o = NULL; return 1; }

static const struct lethe_backend_ops maria_ops = {
	.name = "mariadb",
	.free = maria_free,
	.table_info = lethe_maria_table_info,
	.foreign_keys = lethe_maria_foreign_keys,
	.check_expr = maria_check_expr,
	.scan = lethe_maria_scan,
	.count = lethe_maria_count,
	.reopen = maria_reopen,
	.tables_read = lethe_maria_tables_read,
	.begin = lethe_maria_begin,
	.commit = lethe_maria_commit,
	.rollback = lethe_maria_rollback,
	.apply = lethe_maria_apply,
	.dispose = lethe_maria_dispose,
	.finalise = lethe_maria_finalise,
	.mark = lethe_maria_mark,
	.marker = lethe_maria_marker,
	.marker_digests = lethe_maria_marker_digests,
	.marker_clear = lethe_maria_marker_clear,
	.cleanup_owe = lethe_maria_cleanup_owe,
	.cleanup_owed = lethe_maria_cleanup_owed,
	.cleanup_done = lethe_maria_cleanup_done,
	.evidence_head = lethe_maria_evidence_head,
	.evidence_head_set = lethe_maria_evidence_head_set,
	.schema_text = lethe_maria_schema_text,
	.rows = lethe_maria_rows,
	.suppress = lethe_maria_suppress,
	.suppressed = lethe_maria_suppressed,
	.hold_add = lethe_maria_hold_add,
	.hold_release = lethe_maria_hold_release,
	.holds = lethe_maria_holds,
	.request_put = lethe_maria_request_put,
	.requests = lethe_maria_requests,
	.erasure_open = lethe_maria_erasure_open,
	.erasure_close = lethe_maria_erasure_close,
	.erasures_open = lethe_maria_erasures_open,
	.time_limit = maria_time_limit,
	.pin_schema = lethe_maria_pin_schema,
	.change_triggers = lethe_maria_change_triggers,
	.check_clock = lethe_maria_check_clock,
	.residue_check = lethe_maria_residue_check,
};

/* A connection as the location says, with the session's settings. */
static int open_conn(MYSQL **out, const maria_location *l, const char *label)
{
	MYSQL *conn = mysql_init(NULL);
	unsigned proto = MYSQL_PROTOCOL_SOCKET, no = 0;
	int rc;

	if (!conn)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	if (l->option_file)
		mysql_optionsv(conn, MYSQL_READ_DEFAULT_FILE, l->option_file);
	if (l->option_file || l->option_group)
		mysql_optionsv(conn, MYSQL_READ_DEFAULT_GROUP,
			       l->option_group ? l->option_group : "client");
	if (l->socket)
		mysql_optionsv(conn, MYSQL_OPT_PROTOCOL, &proto);
	/* no LOAD DATA LOCAL: the server can never ask for a local file */
	mysql_optionsv(conn, MYSQL_OPT_LOCAL_INFILE, &no);
	mysql_optionsv(conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_optionsv(conn, MYSQL_INIT_COMMAND,
		       "SET time_zone = '+00:00', sql_mode = 'ANSI,STRICT_ALL_TABLES,NO_BACKSLASH_ESCAPES', "
		       "autocommit = 1");
	if (!mysql_real_connect(conn, l->host, l->user, NULL, l->db, l->port, l->socket,
				/* UPDATE counts the rows it matched, changed or not */
				CLIENT_FOUND_ROWS)) {
		unsigned e = mysql_errno(conn);

		rc = lethe_error_set(e == ER_ACCESS_DENIED_ERROR || e == ER_DBACCESS_DENIED_ERROR
				     ? LETHE_ENOPERM : LETHE_ENOINPUT,
				     "cannot connect to database '%s': %s", label, mysql_error(conn));
		mysql_close(conn);
		return rc;
	}
	*out = conn;
	return 0;
}

/* Parse the location; the label "db@host" malloc'd in *label. */
static int location_read(maria_location *l, char **label, const char *location)
{
	lethe_strbuf s = LETHE_STRBUF_INIT;
	int rc;

	if ((rc = location_parse(l, location)) < 0)
		return rc;
	if (!l->db)
		return lethe_error_set(LETHE_ECONFIG, "cannot read database location: no database "
				       "named (mariadb://HOST/DATABASE)");
	lethe_strbuf_addf(&s, "%s@%s", l->db, l->host ? l->host : "localhost");
	if (!(*label = lethe_strbuf_detach(&s, NULL)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	return 0;
}

int lethe_maria_connect(MYSQL **out, const char *location)
{
	maria_location l;
	char *label = NULL;
	int rc;

	if ((rc = location_read(&l, &label, location)) == 0)
		rc = open_conn(out, &l, label);
	location_free(&l);
	free(label);
	return rc;
}

/* A writer's run lock: GET_LOCK is server-wide and ends with the session. */
static int run_lock(lethe_maria *be)
{
	lethe_strbuf name = LETHE_STRBUF_INIT;
	lethe_maria_result *r = NULL;
	lethe_value v[1];
	const char *s;
	int rc;

	lethe_strbuf_adds(&name, LETHE_MARIA_RUN_LOCK);
	lethe_strbuf_adds(&name, be->dbname);
	s = lethe_strbuf_str(&name);
	v[0] = (lethe_value){ .type = LETHE_VALUE_TEXT, .s = s, .len = strlen(s) };
	rc = lethe_maria_exec(&r, be, "take the run lock", "SELECT GET_LOCK(?, 0)", 1, v);
	lethe_strbuf_release(&name);
	if (rc == 0 && (!r->nrows || !r->cells[0] || strcmp(r->cells[0], "1")))
		rc = lethe_error_set(LETHE_ETEMPFAIL, "database '%s' is in use by another lethe "
				     "run (its run lock is held); try again later", be->label);
	lethe_maria_result_free(r);
	return rc;
}

int lethe_backend_maria_open(lethe_backend **out, const char *location, unsigned flags)
{
	lethe_maria *be = calloc(1, sizeof(*be));
	maria_location l;
	int rc;

	if (!be)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	be->base.ops = &maria_ops;
	be->flags = flags;
	if ((rc = location_read(&l, &be->label, location)) == 0 &&
	    !(be->dbname = strdup(l.db)))
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	if (rc == 0)
		rc = open_conn(&be->conn, &l, be->label);
	location_free(&l);
	if (rc == 0 && !(flags & LETHE_BACKEND_READONLY))
		rc = run_lock(be);
	if (rc == 0)
		rc = lethe_backend_set_time_limit(&be->base, LETHE_DEFAULT_STATEMENT_SECONDS);
	if (rc == 0)
		be->own_schema = lethe_maria_has_own(be);
	if (rc < 0) {
		maria_free(&be->base);
		return rc;
	}
	*out = &be->base;
	return 0;
}

/* --- transactions ------------------------------------------------------------------ */

int lethe_maria_begin(lethe_backend *base)
{
	lethe_maria *be = (lethe_maria *)base;
	char *text = NULL;
	size_t len = 0;
	int rc, same;

	if (be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "a transaction is already open on '%s'", be->label);
	if (be->flags & LETHE_BACKEND_READONLY) {
		if ((rc = lethe_maria_exec(NULL, be, "begin a transaction",
					   "START TRANSACTION READ ONLY", 0, NULL)) < 0)
			return rc;
		be->in_txn = 1;
		return 0;
	}
	/* DDL commits implicitly: Lethe's tables before the transaction */
	if ((rc = lethe_maria_own_schema(be)) < 0)
		return rc;
	if ((rc = lethe_maria_exec(NULL, be, "begin a transaction",
				   "SET TRANSACTION ISOLATION LEVEL READ COMMITTED", 0, NULL)) < 0 ||
	    (rc = lethe_maria_exec(NULL, be, "begin a transaction", "START TRANSACTION", 0, NULL)) < 0)
		return rc;
	be->in_txn = 1;
	if (!be->pinned)
		return 0;
	if ((rc = lethe_maria_schema_text(&text, &len, base)) < 0) {
		lethe_maria_rollback(base);
		return rc;
	}
	same = len == be->npinned && memcmp(text, be->pinned, len) == 0;
	free(text);
	if (!same) {
		lethe_maria_rollback(base);
		return lethe_error_set(LETHE_ETEMPFAIL, "the schema of '%s' changed since it was "
				       "checked; nothing was changed, run again", be->label);
	}
	return 0;
}

int lethe_maria_commit(lethe_backend *base)
{
	lethe_maria *be = (lethe_maria *)base;
	int rc;

	if (!be->in_txn)
		return 0;
	rc = lethe_maria_exec(NULL, be, "commit", "COMMIT", 0, NULL);
	if (rc < 0)
		lethe_maria_rollback(base);
	be->in_txn = 0;
	return rc;
}

void lethe_maria_rollback(lethe_backend *base)
{
	lethe_maria *be = (lethe_maria *)base;

	if (be->in_txn)
		mysql_rollback(be->conn);
	be->in_txn = 0;
}
