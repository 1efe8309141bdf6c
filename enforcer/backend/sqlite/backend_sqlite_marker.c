/*
 * backend_sqlite_marker.c - run markers in the register itself: what each
 * batch of a run committed (counts per rule and the keyed digests of the
 * keys), written in the batch's own transaction. docs/evidence-format.md
 * says how the evidence uses them.
 *
 * Invariants:
 *  - lethe_runs and lethe_run_digest_batches hold only run ids, rule names, counts
 *    and keyed digests: nothing that identifies a person without the key.
 *  - The tables are Lethe's own and left out of the schema fingerprint, so
 *    creating them does not look like a schema change.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "backend_sqlite.h"
#include "lethe/error.h"
#include "lethe/token.h"

/* A batch's digests are stored as one row: its digests in binary (32 bytes
 * each, half the hex), sorted, concatenated in one blob. A row per digest
 * cost a B-tree insertion (and an index entry) per disposed row, then a sort
 * of all of them and a delete row by row, all journalled, and VACUUM copied
 * them in between. The completion merges the batches' sorted runs (a k-way
 * merge reading each blob incrementally through one blob handle: memory is
 * at most MERGE_BUFFER bytes of buffers and a few words per batch, never a
 * rule's digests). Only one run's digests exist at a time
 * (the lock, and every run clears them after its completion or recovery),
 * so they carry no run id. lethe_run_digests is the older one-row-per-
 * digest table: never written, read as one more sorted run (a run an older
 * Lethe left unfinished is completed with its digests), cleared with the
 * rest. */
static const char create_sql[] =
	"CREATE TABLE IF NOT EXISTS lethe_runs (run_id TEXT NOT NULL, rule TEXT NOT NULL, "
	"disposed INTEGER NOT NULL, batches INTEGER NOT NULL, PRIMARY KEY (run_id, rule)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS lethe_run_digest_batches (id INTEGER PRIMARY KEY, "
	"rule TEXT NOT NULL, digests BLOB NOT NULL);";

#define BIN_DIGEST 32 /* LETHE_DIGEST_LEN hex digits */

static int fail(lethe_sqlite *be, int rc, const char *what)
{
	char why[256];

	return lethe_error_set(lethe_sqlite_code(rc), "cannot %s in '%s': %s", what, be->path,
			       lethe_sqlite_why(why, sizeof(why), be->db));
}

static int hex_nibble(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Lowercase hex (what lethe_digest writes) to binary: byte order is the
 * order of the hex text, so sorting either sorts both. */
static int digest_to_bin(unsigned char out[BIN_DIGEST], const char *hex)
{
	for (size_t i = 0; i < BIN_DIGEST; i++) {
		int hi = hex_nibble(hex[2 * i]), lo = hi < 0 ? -1 : hex_nibble(hex[2 * i + 1]);

		if (lo < 0)
			return lethe_error_set(LETHE_ESOFTWARE, "a run digest is not %d lowercase hex digits",
					       LETHE_DIGEST_LEN);
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	if (hex[2 * BIN_DIGEST])
		return lethe_error_set(LETHE_ESOFTWARE, "a run digest is too long");
	return 0;
}

static void digest_to_hex(char out[LETHE_DIGEST_SIZE], const unsigned char *bin)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < BIN_DIGEST; i++) {
		out[2 * i] = digits[bin[i] >> 4];
		out[2 * i + 1] = digits[bin[i] & 15];
	}
	out[LETHE_DIGEST_LEN] = '\0';
}

static int cmp_digest(const void *a, const void *b)
{
	return memcmp(a, b, BIN_DIGEST);
}

/* The batch's digests as one sorted blob: *out is malloc'd. */
static int sorted_blob(unsigned char **out, const char *const *digests, size_t n)
{
	unsigned char *bin = malloc(n ? n * BIN_DIGEST : 1);
	int rc;

	if (!bin)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	for (size_t i = 0; i < n; i++)
		if ((rc = digest_to_bin(bin + i * BIN_DIGEST, digests[i])) < 0) {
			free(bin);
			return rc;
		}
	qsort(bin, n, BIN_DIGEST, cmp_digest);
	*out = bin;
	return 0;
}

int lethe_sqlite_mark(lethe_backend *base, const char *run_id, const char *rule, int64_t disposed,
		      const char *const *digests, size_t ndigests)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *up = NULL, *dg = NULL;
	unsigned char *bin = NULL;
	int rc;

	if (!be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "mark outside a transaction");
	if ((size_t)ndigests > (size_t)INT32_MAX / BIN_DIGEST)
		return lethe_error_set(LETHE_ESOFTWARE, "too many digests in one batch");
	if ((rc = sqlite3_exec(be->db, create_sql, NULL, NULL, NULL)) != SQLITE_OK)
		return fail(be, rc, "create the run marker");
	rc = sqlite3_prepare_v2(be->db, "INSERT INTO lethe_runs (run_id, rule, disposed, batches) "
				"VALUES (?1, ?2, ?3, 1) ON CONFLICT (run_id, rule) DO UPDATE SET "
				"disposed = disposed + excluded.disposed, batches = batches + 1", -1, &up, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(be->db, "INSERT INTO lethe_run_digest_batches (rule, digests) "
					"VALUES (?1, ?2)", -1, &dg, NULL);
	if (rc != SQLITE_OK) {
		rc = fail(be, rc, "write the run marker");
		goto out;
	}
	sqlite3_bind_text(up, 1, run_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(up, 2, rule, -1, SQLITE_STATIC);
	sqlite3_bind_int64(up, 3, disposed);
	if ((rc = sqlite3_step(up)) != SQLITE_DONE) {
		rc = fail(be, rc, "write the run marker");
		goto out;
	}
	rc = 0;
	if (!ndigests)
		goto out;
	if ((rc = sorted_blob(&bin, digests, ndigests)) < 0)
		goto out;
	sqlite3_bind_text(dg, 1, rule, -1, SQLITE_STATIC);
	sqlite3_bind_blob(dg, 2, bin, (int)(ndigests * BIN_DIGEST), SQLITE_STATIC);
	rc = sqlite3_step(dg) == SQLITE_DONE ? 0 : fail(be, sqlite3_errcode(be->db), "write the run's digests");
out:
	free(bin);
	sqlite3_finalize(up);
	sqlite3_finalize(dg);
	return rc;
}

int lethe_sqlite_marker(int *found, lethe_backend *base, const char *run_id,
			int (*cb)(void *ctx, const char *rule, int64_t disposed), void *ctx)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	int rc, any = 0;

	if (!lethe_sqlite_has_table(be, "lethe_runs")) {
		*found = 0;
		return 0;
	}
	rc = sqlite3_prepare_v2(be->db, "SELECT rule, disposed FROM lethe_runs WHERE run_id = ?1 "
				"ORDER BY rule", -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return fail(be, rc, "read the run marker");
	sqlite3_bind_text(stmt, 1, run_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		any = 1;
		if (cb && (rc = cb(ctx, (const char *)sqlite3_column_text(stmt, 0),
				   sqlite3_column_int64(stmt, 1))) != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? 0 : fail(be, rc, "read the run marker");
	if (rc == 0)
		*found = any;
out:
	sqlite3_finalize(stmt);
	return rc;
}

/* One sorted run in the merge: a batch's blob read a buffer at a time, or
 * (rows) the older table's digests of the rule, in order. Every batch's run
 * reads through one blob handle, moved to its row (sqlite3_blob_reopen) when
 * it needs a buffer, and the buffers share MERGE_BUFFER bytes: a handle per
 * batch cost a compiled statement and a cursor each, so the merge's memory
 * grew with the number of batches; now it is MERGE_BUFFER and a few words
 * per batch. */
#define MERGE_BUFFER (1 << 20) /* bytes, all runs' buffers together */
#define RUN_BUFFER_MAX 256      /* digests in one run's buffer */

typedef struct {
	sqlite3_int64 id;       /* the batch's row, or 0 for rows */
	sqlite3_stmt *rows;
	int size, offset;       /* bytes of the blob, bytes read into buf so far */
	int have, at;           /* digests in buf, the current one */
	int ended;              /* rows has returned SQLITE_DONE: never stepped again */
	unsigned char *buf;     /* cap digests, in the merge's one buffer */
} sorted_run;

typedef struct {
	sqlite3_blob *blob;     /* on the row of `on` */
	sqlite3_int64 on;
	int cap;                /* digests per run's buffer */
} merge_reader;

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
			return fail(be, rc, "read the run's digests");
		const char *hex = (const char *)sqlite3_column_text(r->rows, 0);

		if (!hex)
			return lethe_error_set(LETHE_EDATA, "the run's digests in '%s' are damaged", be->path);
		if ((rc = digest_to_bin(r->buf + (size_t)r->have * BIN_DIGEST, hex)) < 0)
			return rc;
		r->have++;
	}
	return r->have > 0;
}

/* Read the run's next buffer: 1 with a current digest, 0 at its end, or an
 * error. */
static int run_fill(lethe_sqlite *be, merge_reader *m, sorted_run *r)
{
	int n = r->size - r->offset, rc;

	if (r->rows)
		return run_fill_rows(be, r, m->cap);
	if (n <= 0)
		return 0;
	if (n > m->cap * BIN_DIGEST)
		n = m->cap * BIN_DIGEST;
	if (!m->blob || m->on != r->id) {
		rc = m->blob ? sqlite3_blob_reopen(m->blob, r->id)
			     : sqlite3_blob_open(be->db, "main", "lethe_run_digest_batches", "digests", r->id, 0,
						 &m->blob);
		if (rc != SQLITE_OK)
			return fail(be, rc, "read the run's digests");
		m->on = r->id;
	}
	if ((rc = sqlite3_blob_read(m->blob, r->buf, n, r->offset)) != SQLITE_OK)
		return fail(be, rc, "read the run's digests");
	r->offset += n;
	r->have = n / BIN_DIGEST;
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

/* The batches' row ids of a rule: *out malloc'd. */
static int batch_ids(sqlite3_int64 **out, size_t *n, lethe_sqlite *be, const char *rule)
{
	sqlite3_stmt *stmt = NULL;
	sqlite3_int64 *ids = NULL;
	size_t count = 0, cap = 0;
	int rc;

	rc = sqlite3_prepare_v2(be->db, "SELECT id FROM lethe_run_digest_batches WHERE rule = ?1 ORDER BY id",
				-1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return fail(be, rc, "read the run's digests");
	sqlite3_bind_text(stmt, 1, rule, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (count == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			sqlite3_int64 *grown = realloc(ids, ncap * sizeof(*ids));

			if (!grown) {
				free(ids);
				sqlite3_finalize(stmt);
				return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
			}
			ids = grown;
			cap = ncap;
		}
		ids[count++] = sqlite3_column_int64(stmt, 0);
	}
	rc = rc == SQLITE_DONE ? 0 : fail(be, rc, "read the run's digests");
	sqlite3_finalize(stmt);
	if (rc < 0) {
		free(ids);
		return rc;
	}
	*out = ids;
	*n = count;
	return 0;
}

/* The older table's digests of the rule as one more sorted run (a register
 * whose run an older Lethe left unfinished): 1 added, 0 none, or an error. */
static int legacy_run(lethe_sqlite *be, sorted_run *r, const char *rule)
{
	int rc;

	if (!lethe_sqlite_has_table(be, "lethe_run_digests"))
		return 0;
	rc = sqlite3_prepare_v2(be->db, "SELECT digest FROM lethe_run_digests WHERE rule = ?1 "
				"ORDER BY digest", -1, &r->rows, NULL);
	if (rc != SQLITE_OK)
		return fail(be, rc, "read the run's digests");
	sqlite3_bind_text(r->rows, 1, rule, -1, SQLITE_STATIC);
	return 1;
}

/* Each batch's blob size into runs[i] (ids[i]), checked whole digests. */
static int run_sizes(lethe_sqlite *be, sorted_run *runs, const sqlite3_int64 *ids, size_t n)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	if (!n)
		return 0;
	rc = sqlite3_prepare_v2(be->db, "SELECT length(digests) FROM lethe_run_digest_batches "
				    "WHERE id = ?1", -1, &stmt, NULL);

	if (rc != SQLITE_OK)
		return fail(be, rc, "read the run's digests");
	for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
		sqlite3_bind_int64(stmt, 1, ids[i]);
		if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
			runs[i].id = ids[i];
			runs[i].size = sqlite3_column_int(stmt, 0);
			rc = runs[i].size % BIN_DIGEST ? SQLITE_CORRUPT : SQLITE_OK;
		}
		sqlite3_reset(stmt);
	}
	sqlite3_finalize(stmt);
	if (rc == SQLITE_CORRUPT || rc == SQLITE_DONE)
		return lethe_error_set(LETHE_EDATA, "the run's digests in '%s' are damaged", be->path);
	return rc == SQLITE_OK ? 0 : fail(be, rc, "read the run's digests");
}

int lethe_sqlite_marker_digests(lethe_backend *base, const char *run_id, const char *rule,
				int (*cb)(void *ctx, const char *digest), void *ctx)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_int64 *ids = NULL;
	sorted_run *runs = NULL;
	sorted_run **heap = NULL;
	unsigned char *bufs = NULL;
	merge_reader m = { NULL, 0, RUN_BUFFER_MAX };
	size_t nids = 0, nruns = 0, n = 0;
	char hex[LETHE_DIGEST_SIZE];
	int rc;

	/* run_id is the only run with digests (see create_sql) */
	(void)run_id;
	if (lethe_sqlite_has_table(be, "lethe_run_digest_batches") &&
	    (rc = batch_ids(&ids, &nids, be, rule)) < 0)
		goto out;
	if (MERGE_BUFFER / BIN_DIGEST / (nids + 1) < RUN_BUFFER_MAX)
		m.cap = (int)(MERGE_BUFFER / BIN_DIGEST / (nids + 1));
	if (m.cap < 1)
		m.cap = 1;
	runs = calloc(nids + 1, sizeof(*runs));
	heap = calloc(nids + 1, sizeof(*heap));
	bufs = malloc((nids + 1) * (size_t)m.cap * BIN_DIGEST);
	if (!runs || !heap || !bufs) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	for (size_t i = 0; i <= nids; i++)
		runs[i].buf = bufs + i * (size_t)m.cap * BIN_DIGEST;
	if ((rc = run_sizes(be, runs, ids, nids)) < 0)
		goto out;
	nruns = nids;
	if ((rc = legacy_run(be, &runs[nruns], rule)) < 0)
		goto out;
	nruns += (size_t)rc;
	for (size_t i = 0; i < nruns; i++) {
		if ((rc = run_fill(be, &m, &runs[i])) < 0)
			goto out;
		if (rc)
			heap[n++] = &runs[i];
	}
	for (size_t i = n; i-- > 0;)
		heap_down(heap, n, i);
	while (n) {
		sorted_run *r = heap[0];

		digest_to_hex(hex, run_head(r));
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
	sqlite3_blob_close(m.blob);
	for (size_t i = 0; runs && i <= nids; i++)
		sqlite3_finalize(runs[i].rows);
	free(runs);
	free(heap);
	free(bufs);
	free(ids);
	return rc;
}

/* Delete every row of a table of ours if it exists and has any. */
static int clear_table(lethe_sqlite *be, const char *table)
{
	sqlite3_stmt *stmt = NULL;
	char *sql;
	int rc, any;

	if (!lethe_sqlite_has_table(be, table))
		return SQLITE_OK;
	if (!(sql = sqlite3_mprintf("SELECT 1 FROM \"%w\" LIMIT 1", table)))
		return SQLITE_NOMEM;
	rc = sqlite3_prepare_v2(be->db, sql, -1, &stmt, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		return rc;
	any = sqlite3_step(stmt) == SQLITE_ROW;
	/* finalised first: finalising a statement resets the connection's
	 * error, which the caller's message reads */
	sqlite3_finalize(stmt);
	if (!any)
		return SQLITE_OK;
	if (!(sql = sqlite3_mprintf("DELETE FROM \"%w\"", table)))
		return SQLITE_NOMEM;
	rc = sqlite3_exec(be->db, sql, NULL, NULL, NULL);
	sqlite3_free(sql);
	return rc;
}

int lethe_sqlite_marker_clear(lethe_backend *base, const char *run_id)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	int rc;

	if (!lethe_sqlite_has_table(be, "lethe_runs"))
		return 0;
	if ((rc = lethe_sqlite_begin(base)) < 0)
		return rc;
	/* All digests go: they are the one run's (see create_sql), and a DELETE
	 * without WHERE drops the table's pages at once instead of row by row.
	 * It rewrites the table even when empty, hence the look first: a run
	 * that disposed of nothing leaves the file byte-identical. */
	rc = clear_table(be, "lethe_run_digest_batches");
	if (rc == SQLITE_OK)
		rc = clear_table(be, "lethe_run_digests");
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(be->db, "DELETE FROM lethe_runs WHERE ?1 = '*' OR run_id = ?1",
					-1, &stmt, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(stmt, 1, run_id, -1, SQLITE_STATIC);
		rc = sqlite3_step(stmt) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(be->db);
	}
	if (rc != SQLITE_OK)
		rc = fail(be, rc, "clear the run marker");
	sqlite3_finalize(stmt);
	if (rc != 0) {
		lethe_sqlite_rollback(base);
		return rc;
	}
	return lethe_sqlite_commit(base);
}

int lethe_sqlite_schema_text(char **out, size_t *len, lethe_backend *base)
{
	lethe_sqlite *be = (lethe_sqlite *)base;
	sqlite3_stmt *stmt = NULL;
	sqlite3_str *s = sqlite3_str_new(be->db);
	char *text;
	int rc, n;

	rc = sqlite3_prepare_v2(be->db, "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL "
				"AND name NOT LIKE 'lethe\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
				"ORDER BY name, type", -1, &stmt, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		sqlite3_str_appendall(s, (const char *)sqlite3_column_text(stmt, 0));
		sqlite3_str_appendchar(s, 1, '\0');
		rc = SQLITE_OK;
	}
	sqlite3_finalize(stmt);
	n = sqlite3_str_length(s);
	text = sqlite3_str_finish(s);
	if (rc != SQLITE_DONE) {
		sqlite3_free(text);
		return fail(be, rc, "read the schema");
	}
	*out = malloc((size_t)n + 1);
	if (!*out) {
		sqlite3_free(text);
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	if (n)
		memcpy(*out, text, (size_t)n);
	(*out)[n] = '\0';
	*len = (size_t)n;
	sqlite3_free(text);
	return 0;
}
