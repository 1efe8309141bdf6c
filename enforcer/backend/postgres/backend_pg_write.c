/*
 * backend_pg_write.c - the PostgreSQL backend's writing side: transactions
 * (READ COMMITTED), batches that re-check every row at the instant they
 * dispose of it, key-by-key changes, and the residue step.
 *
 * A batch (lethe_pg_dispose), measured on PostgreSQL 15 (engines.md s. 2):
 *  1. page and lock: the scan's due rows after the last page, in key order
 *     (their keys read into the client, from the rule's cursor:
 *     backend_pg_page.c), then SELECT key FROM T WHERE key =
 *     ANY(<the page's keys>) ORDER BY key FOR UPDATE OF T SKIP LOCKED. A row
 *     another transaction holds is skipped: counted (lethe_disposed.skipped,
 *     only rows that still exist), left for the next run, never lost; the
 *     next batch starts after the page, not after its last locked row; FOR UPDATE
 *     conflicts with a foreign-key insert under the row, so no child can be
 *     added under a locked parent from here on.
 *  2. change: the same due predicate again, in a new statement (a fresh
 *     snapshot in READ COMMITTED), restricted to the locked keys: a row made
 *     current, held or given a child between the plan and the lock is not
 *     due any more and stays. DELETE ... RETURNING key, or for pseudonymise
 *     and mask the rows read, transformed in the client and written back by
 *     key with parameters (backend_pg_update.c).
 *
 * Invariants:
 *  - Every write runs inside a transaction of ours (BEGIN ISOLATION LEVEL
 *    READ COMMITTED) whose schema is checked unchanged at its start.
 *  - Values (keys, new column values, rule names) are parameters only.
 *  - be->keys_param is set only while a batch's change statement is built.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend_pg.h"
#include "lethe/error.h"
#include "lethe/text.h"

int lethe_pg_begin(lethe_backend *base)
{
	lethe_pg *be = (lethe_pg *)base;
	int rc;

	if (be->flags & LETHE_BACKEND_READONLY)
		return lethe_error_set(LETHE_ESOFTWARE, "database '%s' is open read-only", be->label);
	if (be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "a transaction is already open on '%s'", be->label);
	if (!be->own_schema && (rc = lethe_pg_own_schema(be)) < 0)
		return rc;
	if ((rc = lethe_pg_exec(NULL, be, "begin a transaction",
				"BEGIN ISOLATION LEVEL READ COMMITTED", 0, NULL)) < 0)
		return rc;
	be->in_txn = 1;
	if ((rc = lethe_pg_schema_unchanged(be)) < 0)
		lethe_pg_rollback(base);
	return rc;
}

int lethe_pg_commit(lethe_backend *base)
{
	lethe_pg *be = (lethe_pg *)base;
	int rc;

	if (!be->in_txn)
		return 0;
	rc = lethe_pg_exec(NULL, be, "commit", "COMMIT", 0, NULL);
	if (rc < 0)
		lethe_pg_rollback(base);
	else
		lethe_pg_page_txn_end(be, 1);
	be->in_txn = 0;
	return rc;
}

void lethe_pg_rollback(lethe_backend *base)
{
	lethe_pg *be = (lethe_pg *)base;

	if (PQtransactionStatus(be->conn) != PQTRANS_IDLE)
		PQclear(PQexec(be->conn, "ROLLBACK"));
	lethe_pg_page_txn_end(be, 0);
	be->in_txn = 0;
}

static int refuse_triggers(lethe_pg *be, const lethe_change *c)
{
	return lethe_pg_change_triggers(&be->base, c, lethe_backend_refuse_trigger, (void *)c);
}

static int record_done(lethe_pg *be, const lethe_change *c, const lethe_value *key)
{
	lethe_value v[2] = { { .type = LETHE_VALUE_TEXT, .s = c->done_rule,
			       .len = strlen(c->done_rule) }, *key };

	return lethe_pg_exec_values(NULL, be, "record a changed row",
				    "INSERT INTO lethe.lethe_done (rule, key) VALUES ($1, $2::text) "
				    "ON CONFLICT DO NOTHING", 2, v);
}

/* UPDATE T SET c1 = $2, ... WHERE key = $1 */
static void update_sql(lethe_strbuf *s, const lethe_change *c)
{
	lethe_strbuf_adds(s, "UPDATE ");
	lethe_pg_ident(s, c->table);
	lethe_strbuf_adds(s, " SET ");
	for (size_t i = 0; i < c->ncolumns; i++) {
		if (i)
			lethe_strbuf_adds(s, ", ");
		lethe_pg_ident(s, c->columns[i]);
		lethe_strbuf_addf(s, " = $%zu", i + 2);
	}
	lethe_strbuf_adds(s, " WHERE ");
	lethe_pg_ident(s, c->key);
	lethe_strbuf_adds(s, " = $1");
}

/* SELECT key, c1, ... FROM T WHERE <cond> [ORDER BY key] */
static void select_sql(lethe_strbuf *s, const lethe_change *c)
{
	lethe_strbuf_adds(s, "SELECT ");
	lethe_pg_ident(s, c->key);
	for (size_t i = 0; i < c->ncolumns; i++) {
		lethe_strbuf_adds(s, ", ");
		lethe_pg_ident(s, c->columns[i]);
	}
	lethe_strbuf_adds(s, " FROM ");
	lethe_pg_ident(s, c->table);
	lethe_strbuf_adds(s, " WHERE ");
}

/* Transform row `row` of res (key, then c's columns) and write it back. */
static int update_row(lethe_pg *be, const lethe_change *c, const char *update, PGresult *res,
		      int row)
{
	size_t n = c->ncolumns + 1;
	lethe_value *vals = calloc(n, sizeof(*vals)), in;
	const char **params = calloc(n, sizeof(*params));
	char (*bufs)[40] = calloc(n, sizeof(*bufs)), **heap = calloc(n, sizeof(*heap));
	unsigned char *scratch = NULL, *kscratch = NULL;
	char label[LETHE_EXCERPT_SIZE + 2];
	int rc = 0;

	if (!vals || !params || !bufs || !heap) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	lethe_pg_value(&vals[0], res, row, 0, &kscratch);
	params[0] = lethe_pg_param(&vals[0], bufs[0], sizeof(bufs[0]), &heap[0]);
	for (size_t i = 0; i < c->ncolumns && rc == 0; i++) {
		lethe_pg_value(&in, res, row, (int)i + 1, &scratch);
		rc = c->transform(c->transform_ctx, i, &in, &vals[0], &vals[i + 1]);
		/* the new value may live in the transform's memory only until its
		 * next call: the parameter is a copy */
		if (rc == 0 && (params[i + 1] = lethe_pg_param(&vals[i + 1], bufs[i + 1],
							       sizeof(bufs[i + 1]), &heap[i + 1])) &&
		    params[i + 1] != bufs[i + 1] && params[i + 1] != heap[i + 1]) {
			if (!(heap[i + 1] = strdup(params[i + 1])))
				rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
			params[i + 1] = heap[i + 1];
		}
	}
	if (rc == 0 && (rc = lethe_pg_exec(NULL, be, "change a row", update, (int)n, params)) < 0) {
		char why[512];

		snprintf(why, sizeof(why), "%s", lethe_error_last());
		lethe_backend_key_label(label, sizeof(label), &vals[0]);
		rc = lethe_error_set(rc, "rule '%s', table '%s', key %s: %s", c->rule ? c->rule : "?",
				     c->table, label, why);
	}
	if (rc == 0 && c->done_rule)
		rc = record_done(be, c, &vals[0]);
out:
	for (size_t i = 0; heap && i < n; i++)
		free(heap[i]);
	free(heap);
	free(bufs);
	free(params);
	free(vals);
	free(scratch);
	free(kscratch);
	return rc;
}

int lethe_pg_apply(int64_t *changed, lethe_backend *base, const lethe_change *c,
		   const lethe_value *keys, size_t nkeys)
{
	lethe_pg *be = (lethe_pg *)base;
	lethe_strbuf sel = LETHE_STRBUF_INIT, upd = LETHE_STRBUF_INIT;
	int64_t total = 0;
	int rc;

	if (!be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "apply outside a transaction");
	if ((rc = refuse_triggers(be, c)) < 0)
		return rc;
	if (c->delete) {
		lethe_strbuf_adds(&sel, "DELETE FROM ");
		lethe_pg_ident(&sel, c->table);
		lethe_strbuf_adds(&sel, " WHERE ");
		lethe_pg_ident(&sel, c->key);
		lethe_strbuf_adds(&sel, " = $1");
	} else {
		select_sql(&sel, c);
		lethe_pg_ident(&sel, c->key);
		lethe_strbuf_adds(&sel, " = $1 FOR UPDATE");
		update_sql(&upd, c);
	}
	for (size_t i = 0; i < nkeys && rc == 0; i++) {
		PGresult *res = NULL;
		int64_t n = 0;

		if ((rc = lethe_pg_exec_values(&res, be, "change a row", lethe_strbuf_str(&sel), 1,
					       &keys[i])) < 0) {
			char why[512], label[LETHE_EXCERPT_SIZE + 2];

			snprintf(why, sizeof(why), "%s", lethe_error_last());
			lethe_backend_key_label(label, sizeof(label), &keys[i]);
			rc = lethe_error_set(rc, "rule '%s', table '%s', key %s: %s",
					     c->rule ? c->rule : "?", c->table, label, why);
			break;
		}
		if (c->delete)
			n = strtoll(PQcmdTuples(res), NULL, 10);
		else
			for (int r = 0; r < PQntuples(res) && rc == 0; r++, n++)
				rc = update_row(be, c, lethe_strbuf_str(&upd), res, r);
		PQclear(res);
		total += n;
		if (c->applied)
			c->applied[i] = n > 0;
		if (rc == 0 && c->delete && c->done_rule && n > 0)
			rc = record_done(be, c, &keys[i]);
	}
	if (rc == 0)
		*changed = total;
	if (rc == 0 && total > 0)
		rc = lethe_pg_note_changed(be, c->table);
	lethe_strbuf_release(&sel);
	lethe_strbuf_release(&upd);
	return rc;
}

/* An array literal of the keys in column 0 of res that the scan admits
 * (run --plan: only the keys a signed plan names; lethe_scan.admit); *n is
 * how many; every key when scan is NULL. */
static void keys_literal(lethe_strbuf *s, size_t *n, const PGresult *res, const lethe_scan *scan)
{
	unsigned char *scratch = NULL;
	lethe_value k;

	*n = 0;
	lethe_strbuf_addch(s, '{');
	for (int i = 0; i < PQntuples(res); i++) {
		if (scan && scan->admit) {
			lethe_pg_value(&k, res, i, 0, &scratch);
			if (scan->admit(scan->admit_ctx, scan->rule, &k) != 1)
				continue;
		}
		if ((*n)++)
			lethe_strbuf_addch(s, ',');
		lethe_strbuf_addch(s, '"');
		for (const char *p = PQgetvalue(res, i, 0); *p; p++) {
			if (*p == '"' || *p == '\\')
				lethe_strbuf_addch(s, '\\');
			lethe_strbuf_addch(s, *p);
		}
		lethe_strbuf_addch(s, '"');
	}
	lethe_strbuf_addch(s, '}');
	free(scratch);
}

/* "KEY IN (SELECT lethe_k FROM (<rows>) AS lethe_l)" */
static void key_in(lethe_strbuf *s, const lethe_change *c, const char *rows)
{
	lethe_pg_ident(s, c->table);
	lethe_strbuf_addch(s, '.');
	lethe_pg_ident(s, c->key);
	lethe_strbuf_adds(s, " IN (SELECT lethe_k FROM (");
	lethe_strbuf_adds(s, rows);
	lethe_strbuf_adds(s, ") AS lethe_l)");
}

static int add_keys(lethe_disposed *out, const PGresult *res)
{
	unsigned char *scratch = NULL;
	lethe_value k;
	int rc = 0;

	for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
		lethe_pg_value(&k, res, i, 0, &scratch);
		rc = lethe_disposed_add(out, &k, 1);
	}
	free(scratch);
	return rc;
}

/* " FROM T WHERE key = ANY (CAST($1 AS type[]))": the rows of a page */
static void from_page(lethe_strbuf *s, const lethe_change *c, const char *type)
{
	lethe_strbuf_adds(s, " FROM ");
	lethe_pg_ident(s, c->table);
	lethe_strbuf_adds(s, " WHERE ");
	lethe_pg_ident(s, c->key);
	lethe_strbuf_addf(s, " = ANY (CAST($1 AS %s[]))", type);
}

/* SELECT key FROM T WHERE key = ANY(page) ORDER BY 1 FOR UPDATE OF T SKIP
 * LOCKED into *locked; out->skipped counts the page's rows that were not
 * locked and still exist (a row deleted meanwhile is not owed to anyone). */
static int lock_page(PGresult **locked, lethe_disposed *out, lethe_pg *be, const lethe_change *c,
		     const char *type, const char *page, size_t npage)
{
	lethe_strbuf s = LETHE_STRBUF_INIT, got = LETHE_STRBUF_INIT;
	lethe_value params[2] = {
		{ .type = LETHE_VALUE_TEXT, .s = page, .len = strlen(page) },
	};
	PGresult *left = NULL;
	size_t nlocked;
	int rc;

	lethe_strbuf_adds(&s, "SELECT ");
	lethe_pg_ident(&s, c->table);
	lethe_strbuf_addch(&s, '.');
	lethe_pg_ident(&s, c->key);
	from_page(&s, c, type);
	lethe_strbuf_adds(&s, " ORDER BY 1 FOR UPDATE OF ");
	lethe_pg_ident(&s, c->table);
	lethe_strbuf_adds(&s, " SKIP LOCKED");
	if ((rc = lethe_pg_exec_values(locked, be, "lock due rows", lethe_strbuf_str(&s), 1,
				       params)) < 0 ||
	    (size_t)PQntuples(*locked) >= npage)
		goto out;
	/* some were skipped: count those that still exist (a plain read, no wait) */
	keys_literal(&got, &nlocked, *locked, NULL);
	params[1] = (lethe_value){ .type = LETHE_VALUE_TEXT, .s = lethe_strbuf_str(&got),
				   .len = strlen(lethe_strbuf_str(&got)) };
	lethe_strbuf_reset(&s);
	lethe_strbuf_adds(&s, "SELECT count(*)");
	from_page(&s, c, type);
	lethe_strbuf_adds(&s, " AND ");
	lethe_pg_ident(&s, c->key);
	lethe_strbuf_addf(&s, " <> ALL (CAST($2 AS %s[]))", type);
	if ((rc = lethe_pg_exec_values(&left, be, "count skipped rows", lethe_strbuf_str(&s), 2,
				       params)) == 0)
		out->skipped = (size_t)strtoull(PQgetvalue(left, 0, 0), NULL, 10);
out:
	PQclear(left);
	lethe_strbuf_release(&s);
	lethe_strbuf_release(&got);
	return rc;
}

/* One attempt at a batch whose page (step 1, backend_pg_page.c) was read:
 * a retry after a rollback to the savepoint reuses it, as the cursor it came
 * from does not move back. */
static int dispose_once(lethe_disposed *out, lethe_pg *be, const lethe_change *c,
			const lethe_scan *due, const PGresult *page)
{
	lethe_scan recheck;
	lethe_value params[4];
	lethe_strbuf s = LETHE_STRBUF_INIT, keys = LETHE_STRBUF_INIT;
	PGresult *locked = NULL, *res = NULL;
	char *rows = NULL, *type = NULL, *extra = NULL;
	const lethe_scan *scan = due;
	size_t nkeys, npage;
	unsigned char *scratch = NULL;
	lethe_value k;
	int rc, np = 0;

	if ((rc = refuse_triggers(be, c)) < 0 || (rc = lethe_pg_column_type(&type, be, c->table, c->key)) < 0)
		goto out;
	/* 1. the page of due rows; the next batch starts after its last key */
	if ((out->paged = (size_t)PQntuples(page)) == 0)
		goto out;
	lethe_pg_value(&k, page, PQntuples(page) - 1, 0, &scratch);
	if ((rc = lethe_disposed_page_end(out, &k)) < 0)
		goto out;
	/* ... its rows locked, skipping those another transaction holds */
	keys_literal(&keys, &npage, page, scan);
	if (npage == 0)
		goto out;
	if ((rc = lock_page(&locked, out, be, c, type, lethe_strbuf_str(&keys), npage)) < 0 ||
	    PQntuples(locked) == 0)
		goto out;
	/* 2. the same predicate on the locked rows, in a fresh snapshot */
	lethe_strbuf_reset(&keys);
	keys_literal(&keys, &nkeys, locked, scan);
	if (nkeys == 0)
		goto out;
	lethe_strbuf_reset(&s);
	lethe_pg_ident(&s, c->table);
	lethe_strbuf_addch(&s, '.');
	lethe_pg_ident(&s, c->key);
	lethe_strbuf_addf(&s, " = ANY (CAST(:lethe_keys AS %s[]))", type);
	if (!(extra = lethe_strbuf_detach(&s, NULL))) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	recheck = *due;
	recheck.after_key = NULL;
	recheck.limit = 0;
	be->keys_where = extra;
	be->keys_param = lethe_strbuf_str(&keys);
	rc = lethe_pg_scan_sql(&rows, be, &recheck, 0, params, &np);
	be->keys_where = NULL;
	be->keys_param = NULL;
	if (rc < 0)
		goto out;
	if (c->delete) {
		lethe_strbuf_adds(&s, "WITH lethe_d AS (DELETE FROM ");
		lethe_pg_ident(&s, c->table);
		lethe_strbuf_adds(&s, " WHERE ");
		key_in(&s, c, rows);
		lethe_strbuf_adds(&s, " RETURNING ");
		lethe_pg_ident(&s, c->key);
		lethe_strbuf_adds(&s, " AS k) SELECT k FROM lethe_d ORDER BY k");
	} else {
		select_sql(&s, c);
		key_in(&s, c, rows);
		lethe_strbuf_adds(&s, " ORDER BY 1");
	}
	if ((rc = lethe_pg_exec_values(&res, be, "dispose of rows", lethe_strbuf_str(&s), np,
				       params)) < 0) {
		char why[512];

		snprintf(why, sizeof(why), "%s", lethe_error_last());
		rc = lethe_error_set(rc, "rule '%s', table '%s': %s", c->rule ? c->rule : "?", c->table,
				     why);
		goto out;
	}
	if (!c->delete && PQntuples(res) > 0)
		rc = lethe_pg_update_batch(be, c, res, type);
	if (rc == 0)
		rc = add_keys(out, res);
	if (rc == 0 && out->n > 0)
		rc = lethe_pg_note_changed(be, c->table);
	if (rc == 0 && c->delete && c->done_rule)
		for (size_t i = 0; i < out->n && rc == 0; i++)
			rc = record_done(be, c, &out->keys[i]);
out:
	PQclear(locked);
	PQclear(res);
	free(scratch);
	free(rows);
	free(type);
	free(extra);
	lethe_strbuf_release(&s);
	lethe_strbuf_release(&keys);
	if (rc < 0)
		lethe_disposed_release(out);
	return rc;
}

/* A serialization failure or deadlock (40001, 40P01) undoes the batch to its
 * savepoint and tries it again after a random pause, a bounded number of
 * times; anything else, or the last failure, is the caller's (its
 * transaction rolls back). */
int lethe_pg_dispose(lethe_disposed *out, lethe_backend *base, const lethe_change *c,
		     const lethe_scan *scan)
{
	lethe_pg *be = (lethe_pg *)base;
	lethe_scan due = *scan;
	PGresult *page = NULL;
	int rc = 0;

	if (!be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "dispose outside a transaction");
	/* A hold placed in another transaction (lethe.lethe_holds) commits
	 * before this batch reads, or waits until it has committed: no write
	 * skew between a hold and the disposal it stops (engines.md s. 2). */
	if ((rc = lethe_pg_exec(NULL, be, "lock the holds", "LOCK TABLE lethe.lethe_holds IN SHARE MODE",
				0, NULL)) < 0)
		return rc;
	due.classes = 1u << LETHE_ROW_DUE;
	if ((rc = lethe_pg_page(&page, be, &due)) < 0)
		return rc;
	for (int attempt = 1; attempt <= LETHE_BACKEND_DISPOSE_TRIES; attempt++) {
		if ((rc = lethe_pg_exec(NULL, be, "mark the batch", "SAVEPOINT lethe_batch", 0, NULL)) < 0)
			break;
		be->last_state[0] = '\0';
		rc = dispose_once(out, be, c, &due, page);
		if (rc >= 0 || attempt == LETHE_BACKEND_DISPOSE_TRIES ||
		    (strcmp(be->last_state, "40001") && strcmp(be->last_state, "40P01")))
			break;
		if (lethe_pg_exec(NULL, be, "retry the batch", "ROLLBACK TO SAVEPOINT lethe_batch", 0,
				  NULL) < 0)
			break;
		lethe_backend_retry_pause(attempt);
	}
	if (rc >= 0)
		lethe_pg_exec(NULL, be, "release the batch", "RELEASE SAVEPOINT lethe_batch", 0, NULL);
	PQclear(page);
	return rc;
}
