/*
 * backend_sqlite_merge.c - a rule's digest file read back from the run
 * marker (backend_sqlite_marker.c): the k-way merge of the batches' sorted
 * runs, in key-digest order, one digest at a time to a callback.
 *
 * Invariants:
 *  - Memory is MERGE_BUFFER bytes of buffers and a few words per batch,
 *    never a rule's digests; the connection's page cache is MERGE_CACHE_KIB
 *    while the merge runs, and its own size again after.
 *  - Digests come out sorted, each as often as the batches stored it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend_sqlite_marker.h"
#include "lethe/error.h"
#include "vec.h"

/* One sorted run in the merge: a batch read a buffer at a time from its
 * pieces (or from an older Lethe's one blob), or (rows) the oldest table's
 * digests of the rule, in order. Every run reads through one blob handle per
 * table, moved to the row it needs (sqlite3_blob_reopen), and the buffers
 * share MERGE_BUFFER bytes: a handle per batch cost a compiled statement and
 * a cursor each, so the merge's memory grew with the number of batches; now
 * it is MERGE_BUFFER and a few words per batch. */
#define MERGE_BUFFER (1 << 20) /* bytes, all runs' buffers together */
#define MERGE_CACHE_KIB 256    /* the connection's page cache while merging */
#define RUN_BUFFER_MAX PIECE_DIGESTS /* digests in one run's buffer */

/* The connection's PRAGMA cache_size (pages when positive, KiB when
 * negative), to be set again with set_cache_size. */
static int64_t cache_size(lethe_sqlite *be)
{
	sqlite3_stmt *stmt = NULL;
	int64_t v = -2000;      /* SQLite's default */

	if (sqlite3_prepare_v2(be->db, "PRAGMA cache_size", -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

static void set_cache_size(lethe_sqlite *be, int64_t v)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA cache_size = %lld", (long long)v);
	sqlite3_exec(be->db, sql, NULL, NULL, NULL);
}

enum { FROM_PIECES, FROM_BATCHES, FROM_ROWS };
static const char *const run_tables[] = { "lethe_run_digest_pieces", "lethe_run_digest_batches" };

typedef struct {
	int from;               /* FROM_* */
	sqlite3_int64 first;    /* pieces: the batch's first row id; batches: its row id */
	sqlite3_stmt *rows;     /* FROM_ROWS */
	sqlite3_int64 size, offset; /* bytes of the batch, bytes read into buf so far */
	int have, at;           /* digests in buf, the current one */
	int ended;              /* rows has returned SQLITE_DONE: never stepped again */
	unsigned char *buf;     /* cap digests, in the merge's one buffer */
} sorted_run;

typedef struct {
	sqlite3_blob *blob[2];  /* per table of run_tables: on the row on[] */
	sqlite3_int64 on[2];
	int cap;                /* digests per run's buffer */
} merge_reader;

static int damaged(lethe_sqlite *be)
{
	return lethe_error_set(LETHE_EDATA, "the run's digests in '%s' are damaged", be->path);
}

static int run_fill_rows(lethe_sqlite *be, sorted_run *r, int cap)
{
	int rc;

	r->have = r->at = 0;
	while (!r->ended && r->have < cap) {
		if ((rc = sqlite3_step(r->rows)) == SQLITE_DONE) {
			r->ended = 1;
			break;
		}
		if (rc != SQLITE_ROW)
			return lethe_sqlite_marker_fail(be, rc, "read the run's digests");
		const char *hex = (const char *)sqlite3_column_text(r->rows, 0);

		if (!hex)
			return damaged(be);
		if ((rc = lethe_digest_to_bin(r->buf + (size_t)r->have * BIN_DIGEST, hex)) < 0)
			return rc;
		r->have++;
	}
	return r->have > 0;
}

/* Read the run's next buffer: 1 with a current digest, 0 at its end, or an
 * error. A read stays within one piece, whose length is checked against the
 * one its place in the batch gives. */
static int run_fill(lethe_sqlite *be, merge_reader *m, sorted_run *r)
{
	sqlite3_int64 n = r->size - r->offset, row = r->first, at = r->offset, len = r->size;
	int rc;

	if (r->from == FROM_ROWS)
		return run_fill_rows(be, r, m->cap);
	if (n <= 0)
		return 0;
	if (r->from == FROM_PIECES) {
		row = r->first + r->offset / PIECE_BYTES;
		at = r->offset % PIECE_BYTES;
		len = r->size - (r->offset - at) < PIECE_BYTES ? r->size - (r->offset - at) : PIECE_BYTES;
		n = len - at;
	}
	if (n > (sqlite3_int64)m->cap * BIN_DIGEST)
		n = (sqlite3_int64)m->cap * BIN_DIGEST;
	if (!m->blob[r->from] || m->on[r->from] != row) {
		rc = m->blob[r->from] ? sqlite3_blob_reopen(m->blob[r->from], row)
				      : sqlite3_blob_open(be->db, "main", run_tables[r->from], "digests", row, 0,
							  &m->blob[r->from]);
		if (rc != SQLITE_OK)
			return lethe_sqlite_marker_fail(be, rc, "read the run's digests");
		m->on[r->from] = row;
	}
	if (sqlite3_blob_bytes(m->blob[r->from]) != len)
		return damaged(be);
	if ((rc = sqlite3_blob_read(m->blob[r->from], r->buf, (int)n, (int)at)) != SQLITE_OK)
		return lethe_sqlite_marker_fail(be, rc, "read the run's digests");
	r->offset += n;
	r->have = (int)(n / BIN_DIGEST);
	r->at = 0;
	return r->have > 0;
}

static const unsigned char *run_head(const sorted_run *r)
{
	return r->buf + (size_t)r->at * BIN_DIGEST;
}

/* Binary min-heap of run pointers ordered by their current digest. */
static void heap_down(sorted_run **h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;

		if (l < n && memcmp(run_head(h[l]), run_head(h[m]), BIN_DIGEST) < 0)
			m = l;
		if (l + 1 < n && memcmp(run_head(h[l + 1]), run_head(h[m]), BIN_DIGEST) < 0)
			m = l + 1;
		if (m == i)
			return;
		sorted_run *t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

typedef struct {
	sorted_run *items;
	size_t n, cap;
} run_list;

/* Append the rule's batches read from table `from` (if it exists): each a
 * first row id and a size in whole digests. */
static int list_batches(run_list *l, lethe_sqlite *be, int from, const char *rule)
{
	static const char *const sql[] = {
		"SELECT min(id), sum(length(digests)), count(*), max(id) FROM lethe_run_digest_pieces "
		"WHERE rule = ?1 GROUP BY id >> " STR(PIECE_SHIFT) " ORDER BY 1",
		"SELECT id, length(digests), 1, id FROM lethe_run_digest_batches WHERE rule = ?1 ORDER BY id",
	};
	sqlite3_stmt *stmt = NULL;
	int rc;

	if (!lethe_sqlite_has_table(be, run_tables[from]))
		return 0;
	if ((rc = sqlite3_prepare_v2(be->db, sql[from], -1, &stmt, NULL)) != SQLITE_OK)
		return lethe_sqlite_marker_fail(be, rc, "read the run's digests");
	sqlite3_bind_text(stmt, 1, rule, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		sorted_run r = { .from = from, .first = sqlite3_column_int64(stmt, 0),
				 .size = sqlite3_column_int64(stmt, 1) };
		sqlite3_int64 pieces = sqlite3_column_int64(stmt, 2);

		/* pieces numbered from 0 without a gap, whole digests */
		if (r.size % BIN_DIGEST || r.size <= 0 ||
		    (from == FROM_PIECES && ((r.first & (((sqlite3_int64)1 << PIECE_SHIFT) - 1)) != 0 ||
					     sqlite3_column_int64(stmt, 3) - r.first + 1 != pieces ||
					     (r.size + PIECE_BYTES - 1) / PIECE_BYTES != pieces))) {
			sqlite3_finalize(stmt);
			return damaged(be);
		}
		if ((rc = LETHE_VEC_RESERVE(l->items, l->n + 1, l->cap)) < 0) {
			sqlite3_finalize(stmt);
			return rc;
		}
		l->items[l->n++] = r;
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : lethe_sqlite_marker_fail(be, rc, "read the run's digests");
}

/* The oldest table's digests of the rule as one more sorted run (a register
 * whose run an older Lethe left unfinished). */
static int list_rows(run_list *l, lethe_sqlite *be, const char *rule)
{
	sorted_run r = { .from = FROM_ROWS };
	int rc;

	if (!lethe_sqlite_has_table(be, "lethe_run_digests"))
		return 0;
	rc = sqlite3_prepare_v2(be->db, "SELECT digest FROM lethe_run_digests WHERE rule = ?1 "
				"ORDER BY digest", -1, &r.rows, NULL);
	if (rc != SQLITE_OK)
		return lethe_sqlite_marker_fail(be, rc, "read the run's digests");
	sqlite3_bind_text(r.rows, 1, rule, -1, SQLITE_STATIC);
	if ((rc = LETHE_VEC_RESERVE(l->items, l->n + 1, l->cap)) < 0) {
		sqlite3_finalize(r.rows);
		return rc;
	}
	l->items[l->n++] = r;
	return 0;
}

int lethe_sqlite_marker_digests(lethe_backend *base, const char *run_id, const char *rule,
				int (*cb)(void *ctx, const char *digest), void *ctx)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	run_list runs = { 0 };
	sorted_run **heap = NULL;
	unsigned char *bufs = NULL;
	merge_reader m = { { NULL, NULL }, { 0, 0 }, RUN_BUFFER_MAX };
	size_t n = 0;
	char hex[LETHE_DIGEST_SIZE];
	int64_t cache;
	int rc;

	/* run_id is the only run with digests (see create_sql) */
	(void)run_id;
	/* The merge reads each page once: a page cache would only hold pages
	 * already read. While it runs the connection keeps MERGE_CACHE_KIB KiB
	 * of them (the seal merges on two connections at once), then its own
	 * size again. */
	cache = cache_size(be);
	set_cache_size(be, -MERGE_CACHE_KIB);
	if ((rc = list_batches(&runs, be, FROM_PIECES, rule)) < 0 ||
	    (rc = list_batches(&runs, be, FROM_BATCHES, rule)) < 0 || (rc = list_rows(&runs, be, rule)) < 0)
		goto out;
	if (MERGE_BUFFER / BIN_DIGEST / (runs.n + 1) < RUN_BUFFER_MAX)
		m.cap = (int)(MERGE_BUFFER / BIN_DIGEST / (runs.n + 1));
	if (m.cap < 1)
		m.cap = 1;
	heap = calloc(runs.n + 1, sizeof(*heap));
	bufs = malloc((runs.n + 1) * (size_t)m.cap * BIN_DIGEST);
	if (!heap || !bufs) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < runs.n; i++) {
		runs.items[i].buf = bufs + i * (size_t)m.cap * BIN_DIGEST;
		if ((rc = run_fill(be, &m, &runs.items[i])) < 0)
			goto out;
		if (rc)
			heap[n++] = &runs.items[i];
	}
	for (size_t i = n; i-- > 0;)
		heap_down(heap, n, i);
	while (n) {
		sorted_run *r = heap[0];

		lethe_digest_to_hex(hex, run_head(r));
		if ((rc = cb(ctx, hex)) != 0)
			goto out;
		if (++r->at == r->have) {
			if ((rc = run_fill(be, &m, r)) < 0)
				goto out;
			if (!rc)
				heap[0] = heap[--n];
		}
		heap_down(heap, n, 0);
	}
	rc = 0;
out:
	sqlite3_blob_close(m.blob[0]);
	sqlite3_blob_close(m.blob[1]);
	for (size_t i = 0; i < runs.n; i++)
		sqlite3_finalize(runs.items[i].rows);
	free(runs.items);
	free(heap);
	free(bufs);
	set_cache_size(be, cache);
	return rc;
}
