/*
 * backend.c - the public lethe_backend_* functions: argument checks, then
 * dispatch through the backend's ops (backend_impl.h). Also the helpers that
 * only touch the public structures (freeing, column lookup).
 *
 * Invariants:
 *  - This file knows no database library; choosing a backend from the
 *    location is the only backend-specific decision made here (a
 *    postgresql:// or postgres:// URI or a libpq key/value string is a
 *    PostgreSQL server, a mariadb:// or mysql:// URI a MariaDB/MySQL
 *    server, anything else an SQLite file path).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sodium.h>
#include "backend_impl.h"
#include "lethe/error.h"
#include "lethe/text.h"

int lethe_backend_open(lethe_backend **out, const char *location, unsigned flags)
{
	if (!out || !location || !*location)
		return lethe_error_set(LETHE_EUSAGE, "cannot open database: no location given");
	if (lethe_location_is_mariadb(location))
		return lethe_backend_maria_open(out, location, flags);
	if (lethe_location_is_server(location))
		return lethe_backend_pg_open(out, location, flags);
	return lethe_backend_sqlite_open(out, location, flags);
}

int lethe_location_is_server(const char *location)
{
	if (!location)
		return 0;
	if (!strncmp(location, "postgresql://", 13) || !strncmp(location, "postgres://", 11))
		return 1;
	if (lethe_location_is_mariadb(location))
		return 1;
	/* a libpq key/value string: "host=... dbname=..." (a file name with
	 * '=' and a space in it is taken for one: write it as ./name) */
	return location[0] != '/' && location[0] != '.' && strchr(location, '=') &&
	       (strstr(location, "dbname=") || strstr(location, "host=") ||
		strstr(location, "service="));
}

int lethe_location_is_mariadb(const char *location)
{
	return location && (!strncmp(location, "mariadb://", 10) || !strncmp(location, "mysql://", 8));
}

void lethe_backend_free(lethe_backend *be)
{
	if (be)
		be->ops->free(be);
}

int lethe_backend_table_info(lethe_table_info **out, lethe_backend *be, const char *table)
{
	if (!out || !be || !table)
		return lethe_error_set(LETHE_ESOFTWARE, "table info: missing argument");
	return be->ops->table_info(out, be, table);
}

int lethe_backend_estimate_rows(int64_t *out, lethe_backend *be, const char *table)
{
	if (!out || !be || !table)
		return lethe_error_set(LETHE_ESOFTWARE, "estimate rows: missing argument");
	*out = -1;
	return be->ops->estimate_rows ? be->ops->estimate_rows(out, be, table) : 0;
}

void lethe_table_info_free(lethe_table_info *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->ncolumns; i++) {
		free(t->columns[i].name);
		free(t->columns[i].decl_type);
		free(t->columns[i].collation);
	}
	free(t->columns);
	free(t->name);
	free(t->row_key);
	free(t);
}

const lethe_column_info *lethe_table_column(const lethe_table_info *t, const char *name)
{
	size_t i;

	if (!t || !name)
		return NULL;
	/* SQLite column names are case-insensitive (ASCII). */
	for (i = 0; i < t->ncolumns; i++)
		if (strcasecmp(t->columns[i].name, name) == 0)
			return &t->columns[i];
	return NULL;
}

int lethe_backend_check_clock(lethe_backend *be, const char *table, const char *expr,
			      char **errmsg)
{
	if (!be || !table || !expr || !errmsg)
		return lethe_error_set(LETHE_ESOFTWARE, "check clock: missing argument");
	return be->ops->check_clock ? be->ops->check_clock(be, table, expr, errmsg) : 0;
}

int lethe_backend_foreign_keys(lethe_foreign_keys **out, lethe_backend *be)
{
	if (!out || !be)
		return lethe_error_set(LETHE_ESOFTWARE, "foreign keys: missing argument");
	return be->ops->foreign_keys(out, be);
}

void lethe_foreign_keys_free(lethe_foreign_keys *fks)
{
	size_t i, j;

	if (!fks)
		return;
	for (i = 0; i < fks->count; i++) {
		lethe_foreign_key *fk = &fks->items[i];

		for (j = 0; j < fk->ncolumns; j++) {
			if (fk->child_columns)
				free(fk->child_columns[j]);
			if (fk->parent_columns)
				free(fk->parent_columns[j]);
		}
		free(fk->child_columns);
		free(fk->parent_columns);
		free(fk->child_table);
		free(fk->parent_table);
	}
	free(fks->items);
	free(fks);
}

int lethe_backend_set_time_limit(lethe_backend *be, int64_t seconds)
{
	if (!be)
		return lethe_error_set(LETHE_ESOFTWARE, "time limit: missing argument");
	return be->ops->time_limit ? be->ops->time_limit(be, seconds) : 0;
}

int lethe_backend_check_expr(lethe_backend *be, const char *table, const char *expr,
			     char **errmsg)
{
	if (!be || !table || !errmsg)
		return lethe_error_set(LETHE_ESOFTWARE, "check expression: missing argument");
	*errmsg = NULL;
	return be->ops->check_expr(be, table, expr, errmsg);
}

int lethe_backend_scan(lethe_backend *be, const lethe_scan *scan)
{
	if (!be || !scan || !scan->table || !scan->key || !scan->row)
		return lethe_error_set(LETHE_ESOFTWARE, "scan: missing argument");
	if (scan->ndeps && !scan->deps)
		return lethe_error_set(LETHE_ESOFTWARE, "scan: missing dependents");
	return be->ops->scan(be, scan);
}

int lethe_backend_reopen(lethe_backend **out, lethe_backend *be)
{
	if (!out || !be)
		return lethe_error_set(LETHE_ESOFTWARE, "reopen: missing argument");
	*out = NULL;
	return be->ops->reopen ? be->ops->reopen(out, be) : 1;
}

int lethe_backend_count(lethe_scan_counts *out, lethe_backend *be, const lethe_scan *scan)
{
	if (!out || !be || !scan || !scan->table || !scan->key)
		return lethe_error_set(LETHE_ESOFTWARE, "count: missing argument");
	if (scan->ndeps && !scan->deps)
		return lethe_error_set(LETHE_ESOFTWARE, "count: missing dependents");
	memset(out, 0, sizeof(*out));
	return be->ops->count(out, be, scan);
}

int lethe_backend_tables_read(char ***out, size_t *n, lethe_backend *be, const char *table,
			      const char *expr)
{
	if (!out || !n || !be || !table || !expr)
		return lethe_error_set(LETHE_ESOFTWARE, "tables read: missing argument");
	return be->ops->tables_read(out, n, be, table, expr);
}

void lethe_backend_names_free(char **names, size_t n)
{
	for (size_t i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

int lethe_backend_begin(lethe_backend *be)
{
	return be->ops->begin(be);
}

int lethe_backend_commit(lethe_backend *be)
{
	return be->ops->commit(be);
}

void lethe_backend_rollback(lethe_backend *be)
{
	if (be)
		be->ops->rollback(be);
}

int lethe_backend_apply(int64_t *changed, lethe_backend *be, const lethe_change *c,
			const lethe_value *keys, size_t nkeys)
{
	if (!changed || !be || !c || !c->table || !c->key || (nkeys && !keys))
		return lethe_error_set(LETHE_ESOFTWARE, "apply: missing argument");
	if (!c->delete && (!c->ncolumns || !c->columns || !c->transform))
		return lethe_error_set(LETHE_ESOFTWARE, "apply: an update needs columns and a transform");
	return be->ops->apply(changed, be, c, keys, nkeys);
}

int lethe_backend_dispose(lethe_disposed *out, lethe_backend *be, const lethe_change *c,
			  const lethe_scan *scan)
{
	if (!out || !be || !c || !c->table || !c->key || !scan || !scan->table || !scan->key)
		return lethe_error_set(LETHE_ESOFTWARE, "dispose: missing argument");
	if (!c->delete && (!c->ncolumns || !c->columns || !c->transform))
		return lethe_error_set(LETHE_ESOFTWARE, "dispose: an update needs columns and a transform");
	lethe_disposed_release(out);
	return be->ops->dispose(out, be, c, scan);
}

static void disposed_value_free(lethe_value *v)
{
	if (v->type == LETHE_VALUE_TEXT || v->type == LETHE_VALUE_BLOB)
		free((void *)v->s);
	memset(v, 0, sizeof(*v));
}

void lethe_disposed_release(lethe_disposed *d)
{
	for (size_t i = 0; i < d->n; i++)
		disposed_value_free(&d->keys[i]);
	free(d->keys);
	disposed_value_free(&d->last);
	memset(d, 0, sizeof(*d));
}

/* A copy of in whose text or blob is owned by out. */
static int disposed_value_copy(lethe_value *out, const lethe_value *in)
{
	*out = *in;
	if (in->type == LETHE_VALUE_TEXT || in->type == LETHE_VALUE_BLOB) {
		char *s = malloc(in->len + 1);

		if (!s)
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		memcpy(s, in->s, in->len);
		s[in->len] = '\0';
		out->s = s;
	}
	return 0;
}

int lethe_disposed_reserve(lethe_disposed *d, size_t n)
{
	lethe_value *grown;

	if (n <= d->cap)
		return 0;
	if (n > SIZE_MAX / sizeof(*grown) || !(grown = realloc(d->keys, n * sizeof(*grown))))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	d->keys = grown;
	d->cap = n;
	return 0;
}

int lethe_disposed_add(lethe_disposed *d, const lethe_value *key, int greater)
{
	int rc;

	if (d->n == d->cap && (rc = lethe_disposed_reserve(d, d->cap ? d->cap * 2 : 64)) < 0)
		return rc;
	if ((rc = disposed_value_copy(&d->keys[d->n], key)) < 0)
		return rc;
	d->n++;
	if (greater) {
		disposed_value_free(&d->last);
		rc = disposed_value_copy(&d->last, key);
	}
	return rc;
}

/* See backend_impl.h. */
int lethe_backend_refuse_trigger(void *ctx, const char *trigger, int harmless)
{
	const lethe_change *c = ctx;

	if (harmless)
		return 0;
	for (size_t i = 0; i < c->ntriggers; i++)
		if (!strcmp(c->triggers[i], trigger))
			return 0;
	return lethe_error_set(LETHE_EDATA, "rule '%s': changing '%s' would run trigger '%s', which "
			       "the rule does not acknowledge (triggers: in the rule); nothing was changed",
			       c->rule ? c->rule : "?", c->table, trigger);
}

int lethe_disposed_page_end(lethe_disposed *d, const lethe_value *key)
{
	disposed_value_free(&d->last);
	return disposed_value_copy(&d->last, key);
}

int lethe_backend_pin_schema(lethe_backend *be)
{
	if (!be)
		return lethe_error_set(LETHE_ESOFTWARE, "pin_schema: missing argument");
	return be->ops->pin_schema(be);
}

int lethe_backend_change_triggers(lethe_backend *be, const lethe_change *c,
				  int (*cb)(void *ctx, const char *trigger, int harmless), void *ctx)
{
	if (!be || !c || !c->table || !c->key || !cb || (!c->delete && (!c->ncolumns || !c->columns)))
		return lethe_error_set(LETHE_ESOFTWARE, "change_triggers: missing argument");
	return be->ops->change_triggers(be, c, cb, ctx);
}

int lethe_backend_residue_check(lethe_backend *be, const char *const *tables, size_t ntables,
				unsigned flags, lethe_warnings *warnings)
{
	if (!be || !warnings || (ntables && !tables))
		return lethe_error_set(LETHE_ESOFTWARE, "residue_check: missing argument");
	if (!be->ops->residue_check)
		return 0;
	return be->ops->residue_check(be, tables, ntables, flags, warnings);
}

int lethe_backend_write_access(lethe_warnings *found, lethe_backend *be, const char *const *tables,
			       size_t ntables)
{
	if (!be || !found || (ntables && !tables))
		return lethe_error_set(LETHE_ESOFTWARE, "write_access: missing argument");
	if (!be->ops->write_access)
		return 0;
	return be->ops->write_access(found, be, tables, ntables);
}

int lethe_backend_finalise(lethe_backend *be, lethe_warnings *warnings, unsigned flags)
{
	return be->ops->finalise(be, warnings, flags);
}

int lethe_warnings_add(lethe_warnings *w, const char *fmt, ...)
{
	char **grown = realloc(w->items, (w->count + 1) * sizeof(char *));
	char *line = NULL;
	va_list ap;
	int n;

	if (!grown)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	w->items = grown;
	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	w->items[w->count++] = line;
	return 0;
}

void lethe_warnings_free(lethe_warnings *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->count; i++)
		free(w->items[i]);
	free(w->items);
	w->items = NULL;
	w->count = 0;
}

int lethe_backend_schema_text(char **out, size_t *len, lethe_backend *be)
{
	if (!out || !len || !be)
		return lethe_error_set(LETHE_ESOFTWARE, "schema text: missing argument");
	return be->ops->schema_text(out, len, be);
}

int lethe_backend_rows(lethe_backend *be, const char *table, const char *where,
		       const lethe_value *subject,
		       int (*cb)(void *ctx, size_t ncols, const char *const *names,
				 const lethe_value *values), void *ctx)
{
	if (!be || !table || !cb)
		return lethe_error_set(LETHE_ESOFTWARE, "rows: missing argument");
	return be->ops->rows(be, table, where, subject, cb, ctx);
}

int lethe_backend_suppress(lethe_backend *be, const char *const *tokens, size_t n,
			   const char *added_at)
{
	if (!be || (n && !tokens) || !added_at)
		return lethe_error_set(LETHE_ESOFTWARE, "suppress: missing argument");
	return be->ops->suppress(be, tokens, n, added_at);
}

int lethe_backend_suppressed(int *found, lethe_backend *be, const char *token)
{
	if (!found || !be || !token)
		return lethe_error_set(LETHE_ESOFTWARE, "suppressed: missing argument");
	return be->ops->suppressed(found, be, token);
}

int lethe_backend_hold_add(int64_t *id, lethe_backend *be, const lethe_hold *h)
{
	if (!id || !be || !h || !h->created_at)
		return lethe_error_set(LETHE_ESOFTWARE, "hold add: missing argument");
	return be->ops->hold_add(id, be, h);
}

int lethe_backend_hold_release(lethe_backend *be, int64_t id, const char *released_at,
			       const char *reason, const char *released_by)
{
	if (!be || !released_at)
		return lethe_error_set(LETHE_ESOFTWARE, "hold release: missing argument");
	return be->ops->hold_release(be, id, released_at, reason, released_by);
}

int lethe_backend_holds(lethe_backend *be, int (*cb)(void *ctx, const lethe_hold *h), void *ctx)
{
	if (!be || !cb)
		return lethe_error_set(LETHE_ESOFTWARE, "holds: missing argument");
	return be->ops->holds(be, cb, ctx);
}

int lethe_backend_erasure_open(lethe_backend *be, const lethe_open_erasure *e)
{
	if (!be || !e || e->subject.type == LETHE_VALUE_NULL)
		return lethe_error_set(LETHE_ESOFTWARE, "open erasure: missing argument");
	return be->ops->erasure_open(be, e);
}

int lethe_backend_erasure_close(lethe_backend *be, const lethe_value *subject)
{
	if (!be || !subject)
		return lethe_error_set(LETHE_ESOFTWARE, "close erasure: missing argument");
	return be->ops->erasure_close(be, subject);
}

int lethe_backend_erasures_open(lethe_backend *be,
				int (*cb)(void *ctx, const lethe_open_erasure *e), void *ctx)
{
	if (!be || !cb)
		return lethe_error_set(LETHE_ESOFTWARE, "open erasures: missing argument");
	return be->ops->erasures_open(be, cb, ctx);
}

void lethe_value_from_typed_text(lethe_value *out, const char *text, int type)
{
	*out = (lethe_value){ .type = LETHE_VALUE_NULL };
	if (!text)
		return;
	if (type == LETHE_VALUE_INTEGER) {
		out->type = LETHE_VALUE_INTEGER;
		out->i = strtoll(text, NULL, 10);
	} else if (type == LETHE_VALUE_REAL) {
		out->type = LETHE_VALUE_REAL;
		out->r = strtod(text, NULL);
	} else {
		out->type = LETHE_VALUE_TEXT;
		out->s = text;
		out->len = strlen(text);
	}
}

int lethe_backend_request_put(int64_t *id, lethe_backend *be, const lethe_request *r)
{
	if (!be || !r || !id)
		return lethe_error_set(LETHE_ESOFTWARE, "request: missing argument");
	return be->ops->request_put(id, be, r);
}

int lethe_backend_requests(lethe_backend *be, int (*cb)(void *ctx, const lethe_request *r),
			   void *ctx)
{
	if (!be || !cb)
		return lethe_error_set(LETHE_ESOFTWARE, "requests: missing argument");
	return be->ops->requests(be, cb, ctx);
}

void lethe_backend_retry_pause(int attempt)
{
	/* 10 ms << (attempt - 1), capped at 640 ms, plus up to as much again */
	uint32_t base_ms = 10u << (attempt < 1 ? 0 : attempt > 7 ? 6 : attempt - 1);
	uint32_t ms = base_ms + randombytes_uniform(base_ms + 1);
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

void lethe_backend_key_label(char *buf, size_t size, const lethe_value *k)
{
	char q[LETHE_EXCERPT_SIZE];

	if (k->type == LETHE_VALUE_INTEGER)
		snprintf(buf, size, "%lld", (long long)k->i);
	else if (k->type == LETHE_VALUE_TEXT)
		snprintf(buf, size, "'%s'", lethe_text_quote(q, k->s, k->len));
	else
		snprintf(buf, size, "(%s key)", k->type == LETHE_VALUE_NULL ? "null" : "binary");
}

void lethe_backend_counts_derive(lethe_scan_counts *out, const lethe_threshold *th, int64_t total,
				 int64_t days, int64_t invalid, int64_t before, int64_t held,
				 int64_t blocked, lethe_day min, lethe_day max)
{
	memset(out, 0, sizeof(*out));
	out->n[LETHE_ROW_HELD] = held;
	out->n[LETHE_ROW_BLOCKED] = blocked;
	switch (th->kind) {
	case LETHE_DUE_BEFORE:
		out->n[LETHE_ROW_NOT_STARTED] = total - days;
		out->n[LETHE_ROW_INVALID] = invalid;
		out->n[LETHE_ROW_NOT_DUE] = days - invalid - before;
		break;
	case LETHE_DUE_MATCH:
		before = total;
		break;
	default:
		before = 0;
		out->n[LETHE_ROW_NOT_DUE] = total;
	}
	out->n[LETHE_ROW_DUE] = before - held - blocked;
	if (out->n[LETHE_ROW_NOT_DUE] && th->kind == LETHE_DUE_BEFORE) {
		out->min_not_due = min;
		out->max_not_due = max;
	}
}
