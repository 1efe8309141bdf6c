/*
 * backend_maria_write.c - the MariaDB backend's writing side: batches that
 * re-check every row at the instant they dispose of it, and key-by-key
 * changes. The transactions they run in (READ COMMITTED) are begun and
 * ended in backend_maria.c.
 *
 * A batch (lethe_maria_dispose), as on PostgreSQL (backend_pg_write.c):
 *  1. lock: SELECT key FROM T WHERE key IN (SELECT lethe_k FROM (<the
 *     scan's due rows, paged>) AS lethe_l) ORDER BY key FOR UPDATE SKIP
 *     LOCKED. A row another transaction holds is skipped (left for the next
 *     run, never lost); InnoDB's foreign-key check of an insert takes a
 *     shared lock on the parent row, so no child can be added under a
 *     locked row from here on.
 *  2. change: the same due predicate again, in a new statement (READ
 *     COMMITTED: a fresh read view per statement), restricted to the locked
 *     keys: a row made current, held or given a child between the plan and
 *     the lock is not due any more and stays. DELETE T FROM T JOIN
 *     (<re-check>) ON key (a join: a single-table DELETE's IN would be a
 *     subquery per row of T), then the locked keys still there are read:
 *     the others are the disposed; for pseudonymise and
 *     mask the rows of the re-check are read, transformed in the client and
 *     written back by key.
 * Each statement of a batch runs under max_statement_time and
 * innodb_lock_wait_timeout (maria_time_limit); a lock wait timeout or a
 * deadlock undoes the batch to its savepoint and retries it, a bounded
 * number of times.
 *
 * Invariants:
 *  - Every write runs inside a transaction of ours (READ COMMITTED,
 *    lethe_maria_begin) whose schema is checked unchanged at its start.
 *  - Values (keys, new column values, rule names) are parameters of
 *    prepared statements only.
 *  - be->keys_where and be->keys are set only while a batch's re-check is
 *    built.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mysqld_error.h>
#include "backend_maria.h"
#include "lethe/error.h"
#include "lethe/text.h"

/* A statement takes at most 65,535 parameters: keys are re-checked and
 * changed, new values written and changed rows recorded CHUNK values at a
 * time, all in the batch's transaction. */
#define CHUNK 2000

static int refuse_triggers(lethe_maria *be, const lethe_change *c)
{
	return lethe_maria_change_triggers(&be->base, c, lethe_backend_refuse_trigger, (void *)c);
}

static int record_done(lethe_maria *be, const lethe_change *c, const lethe_value *key)
{
	lethe_value v[2] = { { .type = LETHE_VALUE_TEXT, .s = c->done_rule,
			       .len = strlen(c->done_rule) }, *key };

	return lethe_maria_exec(NULL, be, "record a changed row",
				"INSERT INTO lethe_done (rule, \"key\") VALUES (?, ?) "
				"ON DUPLICATE KEY UPDATE rule = rule", 2, v);
}

static int key_failed(int rc, const lethe_change *c, const lethe_value *key)
{
	char why[512], label[LETHE_EXCERPT_SIZE + 2];

	snprintf(why, sizeof(why), "%s", lethe_error_last());
	if (!key)
		return lethe_error_set(rc, "rule '%s', table '%s': %s", c->rule ? c->rule : "?",
				       c->table, why);
	lethe_backend_key_label(label, sizeof(label), key);
	return lethe_error_set(rc, "rule '%s', table '%s', key %s: %s", c->rule ? c->rule : "?",
			       c->table, label, why);
}

/* Record n changed keys in one statement (n <= CHUNK). */
static int record_done_many(lethe_maria *be, const lethe_change *c, const lethe_value *keys,
			    size_t n)
{
	lethe_strbuf s = LETHE_STRBUF_INIT;
	lethe_value *v = calloc(2 * n + 1, sizeof(*v));
	int rc;

	if (!v)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	lethe_strbuf_adds(&s, "INSERT INTO lethe_done (rule, \"key\") VALUES ");
	for (size_t i = 0; i < n; i++) {
		lethe_strbuf_adds(&s, i ? ", (?, ?)" : "(?, ?)");
		v[2 * i] = (lethe_value){ .type = LETHE_VALUE_TEXT, .s = c->done_rule,
					  .len = strlen(c->done_rule) };
		v[2 * i + 1] = keys[i];
	}
	lethe_strbuf_adds(&s, " ON DUPLICATE KEY UPDATE rule = rule");
	rc = n ? lethe_maria_exec(NULL, be, "record changed rows", lethe_strbuf_str(&s), 2 * n, v) : 0;
	lethe_strbuf_release(&s);
	free(v);
	return rc;
}

/* SELECT key, c1, ... FROM T WHERE */
static void select_sql(lethe_strbuf *s, const lethe_change *c)
{
	lethe_strbuf_adds(s, "SELECT ");
	lethe_maria_ident(s, c->key);
	for (size_t i = 0; i < c->ncolumns; i++) {
		lethe_strbuf_adds(s, ", ");
		lethe_maria_ident(s, c->columns[i]);
	}
	lethe_strbuf_adds(s, " FROM ");
	lethe_maria_ident(s, c->table);
	lethe_strbuf_adds(s, " WHERE ");
}

/* UPDATE T JOIN (SELECT ? AS k, ? AS c0, ... UNION ALL SELECT ?, ?, ...)
 * AS lethe_v ON T.key = lethe_v.k SET T.c0 = lethe_v.c0, ...: rows of the
 * new values, one statement for n rows. */
static void update_sql(lethe_strbuf *s, const lethe_change *c, size_t n)
{
	lethe_strbuf_adds(s, "UPDATE ");
	lethe_maria_ident(s, c->table);
	lethe_strbuf_adds(s, " JOIN (");
	for (size_t r = 0; r < n; r++) {
		lethe_strbuf_adds(s, r ? " UNION ALL SELECT ?" : "SELECT ? AS k");
		for (size_t i = 0; i < c->ncolumns; i++)
			lethe_strbuf_addf(s, r ? ", ?" : ", ? AS c%zu", i);
	}
	lethe_strbuf_adds(s, ") AS lethe_v ON ");
	lethe_maria_ident(s, c->table);
	lethe_strbuf_addch(s, '.');
	lethe_maria_ident(s, c->key);
	lethe_strbuf_adds(s, " = lethe_v.k SET ");
	for (size_t i = 0; i < c->ncolumns; i++) {
		if (i)
			lethe_strbuf_adds(s, ", ");
		lethe_maria_ident(s, c->table);
		lethe_strbuf_addch(s, '.');
		lethe_maria_ident(s, c->columns[i]);
		lethe_strbuf_addf(s, " = lethe_v.c%zu", i);
	}
}

/* Rows [from, from + n) of r (key, then c's columns) transformed and
 * written back in one statement; the keys added to out (when given). The
 * new values are copied at once: one may live in the transform's memory
 * only until its next call. */
static int update_some(lethe_maria *be, const lethe_change *c, const lethe_maria_result *r,
		       size_t from, size_t n, lethe_disposed *out)
{
	size_t w = c->ncolumns + 1;
	lethe_strbuf upd = LETHE_STRBUF_INIT;
	lethe_value *vals = calloc(n * w + 1, sizeof(*vals)), key, in, nv;
	char **copies = calloc(n * w + 1, sizeof(*copies));
	int rc = 0;

	if (!vals || !copies) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	for (size_t row = 0; row < n && rc == 0; row++) {
		lethe_value *v = &vals[row * w];

		lethe_maria_value(&key, r, from + row, 0);
		v[0] = key;
		for (size_t i = 0; i < c->ncolumns && rc == 0; i++) {
			char **copy = &copies[row * w + i + 1];

			lethe_maria_value(&in, r, from + row, i + 1);
			nv = (lethe_value){ .type = LETHE_VALUE_NULL };
			if ((rc = c->transform(c->transform_ctx, i, &in, &key, &nv)) < 0)
				break;
			if (nv.type == LETHE_VALUE_TEXT || nv.type == LETHE_VALUE_BLOB) {
				if (!(*copy = malloc(nv.len + 1))) {
					rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
					break;
				}
				memcpy(*copy, nv.s, nv.len);
				(*copy)[nv.len] = 0;
				nv.s = *copy;
			}
			v[i + 1] = nv;
		}
	}
	if (rc < 0 || n == 0)
		goto out;
	update_sql(&upd, c, n);
	if ((rc = lethe_maria_exec(NULL, be, "change rows", lethe_strbuf_str(&upd), n * w, vals)) < 0)
		rc = key_failed(rc, c, n == 1 ? &vals[0] : NULL);
	for (size_t row = 0; row < n && rc == 0; row++) {
		if (out)
			rc = lethe_disposed_add(out, &vals[row * w], 1);
	}
	if (rc == 0 && c->done_rule) {
		lethe_value *keys = calloc(n, sizeof(*keys));

		if (!keys) {
			rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
			goto out;
		}
		for (size_t row = 0; row < n; row++)
			keys[row] = vals[row * w];
		rc = record_done_many(be, c, keys, n);
		free(keys);
	}
out:
	for (size_t i = 0; copies && i < n * w; i++)
		free(copies[i]);
	free(copies);
	free(vals);
	lethe_strbuf_release(&upd);
	return rc;
}

/* Every row of r, a statement per at most CHUNK / (columns + 1) rows. */
static int update_rows(lethe_maria *be, const lethe_change *c, const lethe_maria_result *r,
		       lethe_disposed *out)
{
	size_t per = CHUNK / (c->ncolumns + 1);
	int rc = 0;

	for (size_t from = 0; from < r->nrows && rc == 0; from += per)
		rc = update_some(be, c, r, from, r->nrows - from < per ? r->nrows - from : per, out);
	return rc;
}

int lethe_maria_apply(int64_t *changed, lethe_backend *base, const lethe_change *c,
		      const lethe_value *keys, size_t nkeys)
{
	lethe_maria *be = (lethe_maria *)base;
	lethe_strbuf sel = LETHE_STRBUF_INIT;
	int64_t total = 0;
	int rc;

	if (!be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "apply outside a transaction");
	if ((rc = refuse_triggers(be, c)) < 0)
		return rc;
	if (c->delete) {
		lethe_strbuf_adds(&sel, "DELETE FROM ");
		lethe_maria_ident(&sel, c->table);
		lethe_strbuf_adds(&sel, " WHERE ");
		lethe_maria_ident(&sel, c->key);
		lethe_strbuf_adds(&sel, " = ?");
	} else {
		select_sql(&sel, c);
		lethe_maria_ident(&sel, c->key);
		lethe_strbuf_adds(&sel, " = ? FOR UPDATE");
	}
	for (size_t i = 0; i < nkeys && rc == 0; i++) {
		lethe_maria_result *r = NULL;
		int64_t n = 0;

		if ((rc = lethe_maria_exec(&r, be, "change a row", lethe_strbuf_str(&sel), 1,
					   &keys[i])) < 0) {
			rc = key_failed(rc, c, &keys[i]);
			break;
		}
		if (c->delete) {
			n = (int64_t)be->affected;
		} else {
			n = (int64_t)r->nrows;
			rc = update_rows(be, c, r, NULL);
		}
		lethe_maria_result_free(r);
		total += n;
		if (c->applied)
			c->applied[i] = n > 0;
		if (rc == 0 && c->delete && c->done_rule && n > 0)
			rc = record_done(be, c, &keys[i]);
	}
	if (rc == 0)
		*changed = total;
	if (rc == 0 && total > 0)
		rc = lethe_maria_note_changed(be, c->table);
	lethe_strbuf_release(&sel);
	return rc;
}

/* "T.key IN (SELECT lethe_k FROM (<rows>) AS lethe_l)" */
static void key_in(lethe_strbuf *s, const lethe_change *c, const char *rows)
{
	lethe_maria_ident(s, c->table);
	lethe_strbuf_addch(s, '.');
	lethe_maria_ident(s, c->key);
	lethe_strbuf_adds(s, " IN (SELECT lethe_k FROM (");
	lethe_strbuf_adds(s, rows);
	lethe_strbuf_adds(s, ") AS lethe_l)");
}

static int cell_cmp(const void *a, const void *b)
{
	const char *const *x = a, *const *y = b;

	return strcmp(*x ? *x : "", *y ? *y : "");
}

/* The locked rows [from, from + n) that are gone after the DELETE (not in
 * `left`, the rows of them still there) added to out in key order, so
 * out->last is the greatest. No other transaction can have removed one: they
 * are locked by this one. */
static int add_deleted(lethe_disposed *out, lethe_maria *be, const lethe_change *c,
		       const lethe_maria_result *locked, size_t from, size_t n,
		       const lethe_maria_result *left)
{
	const char **kept = calloc(left->nrows + 1, sizeof(*kept));
	size_t added = 0;
	lethe_value k;
	int rc = 0;

	if (!kept)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	for (size_t i = 0; i < left->nrows; i++)
		kept[i] = left->cells[i * left->ncols];
	qsort(kept, left->nrows, sizeof(*kept), cell_cmp);
	for (size_t i = from; i < from + n && rc == 0; i++) {
		const char *key = locked->cells[i * locked->ncols];

		if (!key || bsearch(&key, kept, left->nrows, sizeof(*kept), cell_cmp))
			continue;
		lethe_maria_value(&k, locked, i, 0);
		if ((rc = lethe_disposed_add(out, &k, 1)) == 0)
			added++;
	}
	free(kept);
	if (rc == 0 && c->done_rule && added)
		rc = record_done_many(be, c, out->keys + out->n - added, added);
	return rc;
}

/* Step 2 for the locked rows [from, from + n). */
static int change_chunk(lethe_disposed *out, lethe_maria *be, const lethe_change *c,
			const lethe_scan *recheck, const lethe_maria_result *locked, size_t from,
			size_t n)
{
	lethe_strbuf s = LETHE_STRBUF_INIT, where = LETHE_STRBUF_INIT;
	lethe_value *params = NULL, *keys = calloc(n, sizeof(*keys));
	lethe_maria_result *res = NULL;
	size_t np = 0;
	char *rows = NULL;
	int rc;

	if (!keys)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	lethe_maria_ident(&where, c->table);
	lethe_strbuf_addch(&where, '.');
	lethe_maria_ident(&where, c->key);
	lethe_strbuf_adds(&where, " IN (");
	for (size_t i = 0; i < n; i++) {
		lethe_maria_value(&keys[i], locked, from + i, 0);
		lethe_strbuf_adds(&where, i ? ", ?" : "?");
	}
	lethe_strbuf_adds(&where, ")");
	be->keys_where = lethe_strbuf_str(&where);
	be->keys = keys;
	be->nkeys = n;
	rc = lethe_maria_scan_sql(&rows, &params, &np, be, recheck, 0);
	be->keys_where = NULL;
	be->keys = NULL;
	be->nkeys = 0;
	if (rc < 0)
		goto out;
	if (c->delete) {
		/* A join, not "WHERE key IN (<re-check>)": MariaDB runs a
		 * single-table DELETE's IN as a subquery per row of the whole
		 * table (no semi-join before 11.1), a join reads the re-checked
		 * keys and finds each row by its key. */
		lethe_strbuf_adds(&s, "DELETE ");
		lethe_maria_ident(&s, c->table);
		lethe_strbuf_adds(&s, " FROM ");
		lethe_maria_ident(&s, c->table);
		lethe_strbuf_adds(&s, " JOIN (SELECT lethe_k FROM (");
		lethe_strbuf_adds(&s, rows);
		lethe_strbuf_adds(&s, ") AS lethe_l) AS lethe_j ON ");
		lethe_maria_ident(&s, c->table);
		lethe_strbuf_addch(&s, '.');
		lethe_maria_ident(&s, c->key);
		lethe_strbuf_adds(&s, " = lethe_j.lethe_k");
	} else {
		select_sql(&s, c);
		key_in(&s, c, rows);
		lethe_strbuf_adds(&s, " ORDER BY 1");
	}
	if ((rc = lethe_maria_exec(&res, be, "dispose of rows", lethe_strbuf_str(&s), np,
				   params)) < 0) {
		rc = key_failed(rc, c, NULL);
		goto out;
	}
	if (!c->delete) {
		rc = update_rows(be, c, res, out);
		goto out;
	}
	/* which of the locked rows the DELETE took: those no longer there */
	lethe_maria_result_free(res);
	res = NULL;
	lethe_strbuf_reset(&s);
	lethe_strbuf_adds(&s, "SELECT ");
	lethe_maria_ident(&s, c->key);
	lethe_strbuf_adds(&s, " FROM ");
	lethe_maria_ident(&s, c->table);
	lethe_strbuf_adds(&s, " WHERE ");
	lethe_strbuf_adds(&s, lethe_strbuf_str(&where));
	if ((rc = lethe_maria_exec(&res, be, "read the rows left", lethe_strbuf_str(&s), n,
				   keys)) < 0)
		goto out;
	rc = add_deleted(out, be, c, locked, from, n, res);
out:
	lethe_maria_result_free(res);
	free(rows);
	free(params);
	free(keys);
	lethe_strbuf_release(&s);
	lethe_strbuf_release(&where);
	return rc;
}

/* run --plan: keep only the locked rows whose key the scan admits (the keys
 * a signed plan names; lethe_scan.admit), freeing the others' cells. The
 * rows left out stay locked until the batch's transaction ends. */
static void keep_admitted(lethe_maria_result *r, const lethe_scan *scan)
{
	size_t kept = 0;
	lethe_value k;

	for (size_t i = 0; i < r->nrows; i++) {
		lethe_maria_value(&k, r, i, 0);
		if (scan->admit(scan->admit_ctx, scan->rule, &k) != 1) {
			for (size_t j = 0; j < r->ncols; j++)
				free(r->cells[i * r->ncols + j]);
			continue;
		}
		for (size_t j = 0; j < r->ncols; j++) {
			r->cells[kept * r->ncols + j] = r->cells[i * r->ncols + j];
			r->lens[kept * r->ncols + j] = r->lens[i * r->ncols + j];
		}
		kept++;
	}
	r->nrows = kept;
}

static int dispose_once(lethe_disposed *out, lethe_maria *be, const lethe_change *c,
			const lethe_scan *scan)
{
	lethe_scan due = *scan, recheck;
	lethe_value *params = NULL;
	lethe_strbuf s = LETHE_STRBUF_INIT;
	lethe_maria_result *locked = NULL;
	size_t np = 0;
	char *rows = NULL;
	int rc;

	if ((rc = refuse_triggers(be, c)) < 0)
		goto out;
	/* 1. lock the page's due rows, skipping those another transaction holds */
	due.classes = 1u << LETHE_ROW_DUE;
	if ((rc = lethe_maria_scan_sql(&rows, &params, &np, be, &due, 0)) < 0)
		goto out;
	lethe_strbuf_adds(&s, "SELECT ");
	lethe_maria_ident(&s, c->table);
	lethe_strbuf_addch(&s, '.');
	lethe_maria_ident(&s, c->key);
	lethe_strbuf_adds(&s, " FROM ");
	lethe_maria_ident(&s, c->table);
	lethe_strbuf_adds(&s, " WHERE ");
	key_in(&s, c, rows);
	lethe_strbuf_adds(&s, " ORDER BY 1 FOR UPDATE SKIP LOCKED");
	rc = lethe_maria_exec(&locked, be, "lock due rows", lethe_strbuf_str(&s), np, params);
	if (rc < 0)
		goto out;
	if (scan->admit)
		keep_admitted(locked, scan);
	/* 2. the same predicate on the locked rows, in a fresh read view */
	recheck = due;
	recheck.after_key = NULL;
	recheck.limit = 0;
	for (size_t from = 0; from < locked->nrows && rc == 0; from += CHUNK)
		rc = change_chunk(out, be, c, &recheck, locked, from,
				  locked->nrows - from < CHUNK ? locked->nrows - from : CHUNK);
	if (rc == 0 && out->n > 0)
		rc = lethe_maria_note_changed(be, c->table);
out:
	lethe_maria_result_free(locked);
	free(rows);
	free(params);
	lethe_strbuf_release(&s);
	if (rc < 0)
		lethe_disposed_release(out);
	return rc;
}

/* A lock wait timeout undoes the batch to its savepoint and tries it
 * again, after a random pause, a bounded number of times (an application
 * writing beside the run meets the batch's locks in another order: a shop
 * that inserts a child row locks the parent after its own child). A deadlock rolls InnoDB's whole
 * transaction back: the batch is the first change of its transaction (one
 * transaction per batch, dispose.c), so a new one starts and the batch is
 * tried again in it. Anything else, or the last failure, is the caller's
 * (its transaction rolls back). */
static int restart(lethe_maria *be)
{
	int rc;

	if ((rc = lethe_maria_exec(NULL, be, "begin a transaction",
				   "SET TRANSACTION ISOLATION LEVEL READ COMMITTED", 0, NULL)) < 0)
		return rc;
	return lethe_maria_exec(NULL, be, "begin a transaction", "START TRANSACTION", 0, NULL);
}

int lethe_maria_dispose(lethe_disposed *out, lethe_backend *base, const lethe_change *c,
			const lethe_scan *scan)
{
	lethe_maria *be = (lethe_maria *)base;
	int rc = 0;

	if (!be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "dispose outside a transaction");
	for (int attempt = 1; attempt <= LETHE_BACKEND_DISPOSE_TRIES; attempt++) {
		if ((rc = lethe_maria_exec(NULL, be, "mark the batch", "SAVEPOINT lethe_batch", 0,
					   NULL)) < 0)
			return rc;
		be->last_errno = 0;
		/* holds placed in other transactions commit first or wait for
		 * this batch (backend_maria_own.c, lethe_hold_gate) */
		rc = lethe_maria_exec(NULL, be, "lock the holds",
				      "SELECT id FROM lethe_hold_gate WHERE id = 1 FOR UPDATE", 0, NULL);
		if (rc >= 0)
			rc = dispose_once(out, be, c, scan);
		if (rc >= 0 || attempt == LETHE_BACKEND_DISPOSE_TRIES)
			break;
		if (be->last_errno == ER_LOCK_DEADLOCK) {
			lethe_backend_retry_pause(attempt);
			if (restart(be) < 0)
				break;
			continue;
		}
		if (be->last_errno != ER_LOCK_WAIT_TIMEOUT ||
		    lethe_maria_exec(NULL, be, "retry the batch", "ROLLBACK TO SAVEPOINT lethe_batch", 0,
				     NULL) < 0)
			break;
		lethe_backend_retry_pause(attempt);
	}
	if (rc >= 0)
		lethe_maria_exec(NULL, be, "release the batch", "RELEASE SAVEPOINT lethe_batch", 0, NULL);
	return rc;
}
