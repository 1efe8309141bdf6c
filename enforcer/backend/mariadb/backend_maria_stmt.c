/*
 * backend_maria_stmt.c - the MariaDB backend's statements: prepared with
 * parameters, run, their results copied or streamed, errors mapped to
 * Lethe's codes, and Lethe's named parameters made positional.
 *
 * Invariants (see also backend_maria.h):
 *  - A failure sets the last error "cannot WHAT in 'LABEL': why" (one line)
 *    and remembers the server's error number in be->last_errno.
 *  - Parameters are bound, never pasted: values only ever travel as
 *    MYSQL_BIND buffers borrowed from the caller.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mysqld_error.h>
#include <errmsg.h>
#include "backend_maria.h"
#include "backend/scan_sql.h"
#include "vec.h"
#include "lethe/error.h"

/* --- statements ------------------------------------------------------------------- */

void lethe_maria_ident(lethe_strbuf *s, const char *name)
{
	lethe_strbuf_addch(s, '`');
	for (; *name; name++) {
		if (*name == '`')
			lethe_strbuf_addch(s, '`');
		lethe_strbuf_addch(s, *name);
	}
	lethe_strbuf_addch(s, '`');
}

void lethe_maria_result_free(lethe_maria_result *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; r->names && i < r->ncols; i++)
		free(r->names[i]);
	for (i = 0; r->cells && i < r->nrows * r->ncols; i++)
		free(r->cells[i]);
	free(r->names);
	free(r->types);
	free(r->binary);
	free(r->cells);
	free(r->lens);
	free(r);
}

static int maria_code(unsigned err)
{
	switch (err) {
	case ER_LOCK_WAIT_TIMEOUT:
	case ER_LOCK_DEADLOCK:
	case ER_STATEMENT_TIMEOUT:
		return LETHE_ETEMPFAIL;
	case ER_ACCESS_DENIED_ERROR:
	case ER_DBACCESS_DENIED_ERROR:
	case ER_TABLEACCESS_DENIED_ERROR:
	case ER_COLUMNACCESS_DENIED_ERROR:
	case ER_SPECIFIC_ACCESS_DENIED_ERROR:
		return LETHE_ENOPERM;
	default:
		return err >= CR_MIN_ERROR && err <= CR_MAX_ERROR ? LETHE_EIO : LETHE_EDATA;
	}
}

/* The server's message, one line, first letter lowercased (backend_maria.h). */
int lethe_maria_fail(lethe_maria *be, const char *what, unsigned err, const char *msg)
{
	char why[512];
	char *p;

	snprintf(why, sizeof(why), "%s", msg && *msg ? msg : "unknown error");
	for (p = why; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	why[0] = (char)tolower((unsigned char)why[0]);
	be->last_errno = err;
	return lethe_error_set(maria_code(err), "cannot %s in '%s': %s", what, be->label, why);
}

static int stmt_fail(lethe_maria *be, const char *what, MYSQL_STMT *st)
{
	int rc = lethe_maria_fail(be, what, mysql_stmt_errno(st), mysql_stmt_error(st));

	mysql_stmt_close(st);
	return rc;
}

/* Bind the parameters: integers as LONGLONG, reals as DOUBLE, text as
 * STRING, blobs as BLOB, NULL as NULL (all borrowed from params). */
static void bind_params(MYSQL_BIND *b, size_t n, const lethe_value *params)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const lethe_value *v = &params[i];

		memset(&b[i], 0, sizeof(b[i]));
		switch (v->type) {
		case LETHE_VALUE_NULL:
			b[i].buffer_type = MYSQL_TYPE_NULL;
			break;
		case LETHE_VALUE_INTEGER:
			b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			b[i].buffer = (void *)&v->i;
			break;
		case LETHE_VALUE_REAL:
			b[i].buffer_type = MYSQL_TYPE_DOUBLE;
			b[i].buffer = (void *)&v->r;
			break;
		case LETHE_VALUE_TEXT:
		case LETHE_VALUE_BLOB:
			b[i].buffer_type = v->type == LETHE_VALUE_TEXT ? MYSQL_TYPE_STRING
								      : MYSQL_TYPE_BLOB;
			b[i].buffer = (void *)v->s;
			b[i].buffer_length = v->len;
			break;
		}
	}
}

/* Copy every row of an executed statement that has a result set. */
static int fetch_all(lethe_maria_result **out, lethe_maria *be, const char *what,
		     MYSQL_STMT *st, MYSQL_RES *meta)
{
	lethe_maria_result *r = calloc(1, sizeof(*r));
	MYSQL_FIELD *fields = mysql_fetch_fields(meta);
	MYSQL_BIND *b = NULL;
	unsigned long *lens = NULL;
	my_bool *nulls = NULL;
	char **bufs = NULL;
	size_t i, cap = 0, nc = mysql_num_fields(meta);
	my_bool on = 1;
	int rc = LETHE_ESOFTWARE, f;

	if (!r)
		goto oom;
	r->ncols = nc;
	mysql_stmt_attr_set(st, STMT_ATTR_UPDATE_MAX_LENGTH, &on);
	if (mysql_stmt_store_result(st))
		return lethe_maria_result_free(r), stmt_fail(be, what, st);
	if (!(r->names = calloc(nc ? nc : 1, sizeof(char *))) ||
	    !(r->types = calloc(nc ? nc : 1, sizeof(int))) ||
	    !(r->binary = calloc(nc ? nc : 1, sizeof(int))) ||
	    !(b = calloc(nc ? nc : 1, sizeof(*b))) || !(lens = calloc(nc ? nc : 1, sizeof(*lens))) ||
	    !(nulls = calloc(nc ? nc : 1, sizeof(*nulls))) ||
	    !(bufs = calloc(nc ? nc : 1, sizeof(char *))))
		goto oom;
	for (i = 0; i < nc; i++) {
		if (!(r->names[i] = strdup(fields[i].name)) ||
		    !(bufs[i] = malloc(fields[i].max_length + 1)))
			goto oom;
		r->types[i] = (int)fields[i].type;
		r->binary[i] = fields[i].charsetnr == 63;
		b[i].buffer_type = MYSQL_TYPE_STRING;
		b[i].buffer = bufs[i];
		b[i].buffer_length = fields[i].max_length + 1;
		b[i].length = &lens[i];
		b[i].is_null = &nulls[i];
	}
	if (nc && mysql_stmt_bind_result(st, b)) {
		rc = stmt_fail(be, what, st);
		st = NULL;
		goto done;
	}
	while ((f = mysql_stmt_fetch(st)) == 0 || f == MYSQL_DATA_TRUNCATED) {
		if (r->nrows == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **c = realloc(r->cells, ncap * nc * sizeof(char *) + 1);
			size_t *l;

			if (!c)
				goto oom;
			r->cells = c;
			if (!(l = realloc(r->lens, ncap * nc * sizeof(size_t) + 1)))
				goto oom;
			r->lens = l;
			cap = ncap;
		}
		for (i = 0; i < nc; i++) {
			char **cell = &r->cells[r->nrows * nc + i];

			r->lens[r->nrows * nc + i] = lens[i];
			*cell = NULL;
			if (nulls[i])
				continue;
			if (!(*cell = malloc(lens[i] + 1))) {
				/* keep the result freeable: later cells of this row */
				size_t j;

				for (j = i + 1; j < nc; j++)
					r->cells[r->nrows * nc + j] = NULL;
				r->nrows++;
				goto oom;
			}
			memcpy(*cell, bufs[i], lens[i]);
			(*cell)[lens[i]] = 0;
		}
		r->nrows++;
	}
	if (f == 1) {
		rc = stmt_fail(be, what, st);
		st = NULL;
		goto done;
	}
	*out = r;
	r = NULL;
	rc = 0;
	goto done;
oom:
	rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
done:
	for (i = 0; bufs && i < nc; i++)
		free(bufs[i]);
	free(bufs);
	free(b);
	free(lens);
	free(nulls);
	lethe_maria_result_free(r);
	if (st)
		mysql_stmt_close(st);
	return rc;
}

/* Prepare sql, bind its n parameters and execute it: *out the executed
 * statement (the caller's, mysql_stmt_close), or a LETHE_E* code with the
 * statement closed. */
static int prepare_execute(MYSQL_STMT **out, lethe_maria *be, const char *what, const char *sql,
			   size_t n, const lethe_value *params)
{
	MYSQL_STMT *st = mysql_stmt_init(be->conn);
	MYSQL_BIND *b = NULL;

	if (!st)
		return lethe_maria_fail(be, what, mysql_errno(be->conn), mysql_error(be->conn));
	if (mysql_stmt_prepare(st, sql, strlen(sql)))
		return stmt_fail(be, what, st);
	if (mysql_stmt_param_count(st) != n) {
		unsigned long want = mysql_stmt_param_count(st);

		mysql_stmt_close(st);
		return lethe_error_set(LETHE_ESOFTWARE, "cannot %s: %lu parameters, %zu given", what,
				       want, n);
	}
	if (n) {
		if (!(b = calloc(n, sizeof(*b)))) {
			mysql_stmt_close(st);
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		}
		bind_params(b, n, params);
		if (mysql_stmt_bind_param(st, b)) {
			free(b);
			return stmt_fail(be, what, st);
		}
	}
	if (mysql_stmt_execute(st)) {
		free(b);
		return stmt_fail(be, what, st);
	}
	free(b);
	be->last_errno = 0;
	be->affected = mysql_stmt_affected_rows(st);
	be->insert_id = mysql_stmt_insert_id(st);
	*out = st;
	return 0;
}

int lethe_maria_exec(lethe_maria_result **res, lethe_maria *be, const char *what,
		     const char *sql, size_t n, const lethe_value *params)
{
	MYSQL_STMT *st;
	MYSQL_RES *meta;
	int rc;

	if ((rc = prepare_execute(&st, be, what, sql, n, params)) < 0)
		return rc;
	if ((meta = mysql_stmt_result_metadata(st))) {
		lethe_maria_result *r = NULL;

		rc = fetch_all(&r, be, what, st, meta);	/* closes st */
		mysql_free_result(meta);
		if (rc == 0 && res)
			*res = r;
		else
			lethe_maria_result_free(r);
		return rc;
	}
	mysql_stmt_close(st);
	if (res && !(*res = calloc(1, sizeof(**res))))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	return 0;
}

int lethe_maria_each_text(lethe_maria *be, const char *what, const char *sql, size_t n,
			  const lethe_value *params, int (*cb)(void *ctx, const char *text),
			  void *ctx)
{
	MYSQL_STMT *st;
	MYSQL_RES *meta;
	MYSQL_BIND b;
	unsigned long len = 0;
	my_bool null = 0;
	char *buf = NULL;
	size_t cap;
	int rc, f;

	if ((rc = prepare_execute(&st, be, what, sql, n, params)) < 0)
		return rc;
	if (!(meta = mysql_stmt_result_metadata(st)) || mysql_num_fields(meta) != 1) {
		mysql_free_result(meta);
		mysql_stmt_close(st);
		return lethe_error_set(LETHE_ESOFTWARE, "cannot %s: not one column", what);
	}
	/* unbuffered: the rows come from the server as they are read, so the
	 * longest value the column can hold is the buffer */
	cap = (size_t)mysql_fetch_fields(meta)[0].length + 1;
	mysql_free_result(meta);
	if (!(buf = malloc(cap))) {
		mysql_stmt_close(st);
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	memset(&b, 0, sizeof(b));
	b.buffer_type = MYSQL_TYPE_STRING;
	b.buffer = buf;
	b.buffer_length = cap;
	b.length = &len;
	b.is_null = &null;
	if (mysql_stmt_bind_result(st, &b)) {
		free(buf);
		return stmt_fail(be, what, st);
	}
	while (rc == 0 && (f = mysql_stmt_fetch(st)) != MYSQL_NO_DATA) {
		if (f == 1) {
			free(buf);
			return stmt_fail(be, what, st);
		}
		if (f == MYSQL_DATA_TRUNCATED || null || len >= cap)
			rc = lethe_error_set(LETHE_EDATA, "cannot %s: a NULL or too long value", what);
		else {
			buf[len] = 0;
			rc = cb(ctx, buf);
		}
	}
	/* closing an unbuffered statement reads and drops the rest */
	mysql_stmt_close(st);
	free(buf);
	return rc;
}

void lethe_maria_value(lethe_value *out, const lethe_maria_result *r, size_t row, size_t col)
{
	const char *c = r->cells[row * r->ncols + col];

	memset(out, 0, sizeof(*out));
	if (!c) {
		out->type = LETHE_VALUE_NULL;
		return;
	}
	switch (r->types[col]) {
	case MYSQL_TYPE_TINY: case MYSQL_TYPE_SHORT: case MYSQL_TYPE_LONG:
	case MYSQL_TYPE_INT24: case MYSQL_TYPE_LONGLONG: case MYSQL_TYPE_YEAR:
		out->type = LETHE_VALUE_INTEGER;
		out->i = strtoll(c, NULL, 10);
		return;
	case MYSQL_TYPE_FLOAT: case MYSQL_TYPE_DOUBLE:
		out->type = LETHE_VALUE_REAL;
		out->r = strtod(c, NULL);
		return;
	default:
		/* a binary string (charset 63); dates and decimals are text */
		out->type = LETHE_VALUE_TEXT;
		if (r->binary[col] && (r->types[col] == MYSQL_TYPE_BLOB ||
				       r->types[col] == MYSQL_TYPE_TINY_BLOB ||
				       r->types[col] == MYSQL_TYPE_MEDIUM_BLOB ||
				       r->types[col] == MYSQL_TYPE_LONG_BLOB ||
				       r->types[col] == MYSQL_TYPE_STRING ||
				       r->types[col] == MYSQL_TYPE_VAR_STRING ||
				       r->types[col] == MYSQL_TYPE_VARCHAR))
			out->type = LETHE_VALUE_BLOB;
		out->s = c;
		out->len = r->lens[row * r->ncols + col];
	}
}

/* --- parameters --------------------------------------------------------------------- */

typedef struct {
	lethe_value *v;
	size_t n, cap;
	const lethe_value *bound;
} positional;

static int positional_param(void *ctx, lethe_strbuf *s, size_t i)
{
	positional *p = ctx;

	if (LETHE_VEC_RESERVE(p->v, p->n + 1, p->cap) < 0)
		return LETHE_ESOFTWARE;
	p->v[p->n++] = p->bound[i];
	lethe_strbuf_addch(s, '?');
	return 0;
}

int lethe_maria_positional(char **out, lethe_value **values, size_t *nvalues, const char *sql,
			   const char *const *names, const lethe_value *bound, size_t nnames)
{
	lethe_strbuf s = LETHE_STRBUF_INIT;
	positional p = { .bound = bound };

	if (lethe_sql_named_params(&s, sql, "'\"`", names, nnames, positional_param, &p) < 0 ||
	    !(*out = lethe_strbuf_detach(&s, NULL))) {
		free(p.v);
		lethe_strbuf_release(&s);
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	*values = p.v;
	*nvalues = p.n;
	return 0;
}
