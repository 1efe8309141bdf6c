/*
 * runlog_ahead.c - a run's digest files written ahead (runlog_impl.h): while
 * the run's batches go on, the digest file of each rule whose batches are
 * over is written into the evidence's objects by a thread of its own, so
 * that the seal (lethe_runlog_seal) finds it written and only records it.
 * Writing the files (every line deflated and hashed twice) was most of a
 * large run's seal, and the batches leave the second core mostly idle.
 *
 * Invariants:
 *  - The spool holds the digests of each batch the hook marked, in binary
 *    and sorted: one sorted run per batch. It is an unnamed file in the
 *    evidence's folder, gone with the process; nothing in it identifies a
 *    person without the key, as in the marker.
 *  - A file written ahead is used only when each of its rule's batches had
 *    one digest per disposed row and its lines number the marker's disposed
 *    rows for the rule. The spool has every batch the marker has (a batch is
 *    spooled once marked, and the marker holds only this run's batches), so
 *    equal counts mean the same digests; a batch marked, spooled and then
 *    rolled back leaves the spool with more, and the file is not used.
 *  - Nothing here fails a run: an error only turns writing ahead off, for
 *    the rule or the run, and the seal writes that file from the marker.
 *  - One thread writes ahead, one rule at a time, in the order the rules'
 *    batches began. A rule is queued when the next rule's first batch comes
 *    (or never, for the last), and its runs do not change once it is. The
 *    rules array and each rule's state are under `lock`; the thread reads a
 *    queued rule's runs without it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "digest_bin.h"
#include "lethe/error.h"
#include "lethe/evidence.h"
#include "runlog_impl.h"
#include "util.h"
#include "write_pipe.h"
#include "vec.h"

#define LINE_LEN (LETHE_DIGEST_LEN + 1)
#define CHUNK 32                  /* digests a run reads at a time: 1 KiB */

typedef enum { SPOOLING, QUEUED, WRITTEN, FAILED, DROPPED } ahead_state;

/* A batch's sorted digests in the spool. */
typedef struct {
	uint64_t start;         /* its first digest */
	size_t len;             /* its digests */
} spool_run;

typedef struct {
	char *name;
	spool_run *runs;        /* in the order they were spooled */
	size_t nruns, cap;
	int64_t count;          /* digests spooled */
	int usable;             /* every batch: one digest per disposed row, all spooled */
	ahead_state state;      /* under lock */
	lethe_marker_file file; /* WRITTEN: blob, sha256, lines */
} ahead_rule;

struct lethe_ahead {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	int started;            /* the thread */
	int closing;            /* no rule is queued any more; under lock */
	int off;                /* no batch is spooled any more (main thread only) */
	int fd;                 /* the spool */
	uint64_t end;           /* digests in the spool */
	ahead_rule **rules;     /* in the order their first batch came */
	size_t n, cap;          /* under lock */
	char *dir;              /* the evidence's, for the thread's own handle */
};

/* --- the writer: a rule's runs merged into its digest file ----------------- */

typedef struct {
	int fd;
	uint64_t pos, left;     /* digests not read yet */
	unsigned char buf[CHUNK * LETHE_DIGEST_BIN];
	size_t have, at;        /* in buf */
} run_reader;

typedef struct {
	const ahead_rule *r;
	int fd;
	run_reader *runs;
	size_t *heap, nheap;
	lethe_digest_file lines; /* counted, hashed, buffered (runlog_digests.c) */
} rule_writer;

static int run_fill(run_reader *rr)
{
	size_t want = rr->left < CHUNK ? (size_t)rr->left : CHUNK, got = 0;

	while (got < want * LETHE_DIGEST_BIN) {
		ssize_t k = pread(rr->fd, rr->buf + got, want * LETHE_DIGEST_BIN - got,
				  (off_t)(rr->pos * LETHE_DIGEST_BIN + got));

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return lethe_error_set(LETHE_EIO, "cannot read the run's digest spool");
		got += (size_t)k;
	}
	rr->pos += want;
	rr->left -= want;
	rr->have = want;
	rr->at = 0;
	return 0;
}

static const unsigned char *run_head(const rule_writer *w, size_t i)
{
	return w->runs[i].buf + w->runs[i].at * LETHE_DIGEST_BIN;
}

static int heap_less(const rule_writer *w, size_t a, size_t b)
{
	return memcmp(run_head(w, w->heap[a]), run_head(w, w->heap[b]), LETHE_DIGEST_BIN) < 0;
}

static void heap_down(rule_writer *w, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i, t;

		if (l < w->nheap && heap_less(w, l, m))
			m = l;
		if (l + 1 < w->nheap && heap_less(w, l + 1, m))
			m = l + 1;
		if (m == i)
			return;
		t = w->heap[i];
		w->heap[i] = w->heap[m];
		w->heap[m] = t;
		i = m;
	}
}

/* The file's lines, smallest first, into the object database's stream. */
static int stream_rule(void *ctx, int (*write)(void *wctx, const void *buf, size_t len), void *wctx)
{
	rule_writer *w = ctx;
	char hex[LETHE_DIGEST_SIZE];
	lethe_write_pipe *pipe = lethe_digest_file_output(&w->lines, write, wctx, w->lines.expect);
	int rc = 0;

	w->nheap = 0;
	for (size_t i = 0; i < w->r->nruns && rc == 0; i++) {
		w->runs[i] = (run_reader){ .fd = w->fd, .pos = w->r->runs[i].start, .left = w->r->runs[i].len };
		if (w->runs[i].left && (rc = run_fill(&w->runs[i])) == 0)
			w->heap[w->nheap++] = i;
	}
	for (size_t i = w->nheap / 2; i-- > 0;)
		heap_down(w, i);
	while (rc == 0 && w->nheap) {
		run_reader *rr = &w->runs[w->heap[0]];

		lethe_digest_to_hex(hex, rr->buf + rr->at * LETHE_DIGEST_BIN);
		if ((rc = lethe_digest_file_line(&w->lines, hex)) < 0)
			break;
		if (++rr->at == rr->have) {
			if (rr->left)
				rc = run_fill(rr);
			else
				w->heap[0] = w->heap[--w->nheap];
		}
		heap_down(w, 0);
	}
	if (rc == 0)
		rc = lethe_digest_file_flush(&w->lines);
	return lethe_write_pipe_finish(pipe, rc);
}

static int write_rule(lethe_evidence *ev, int fd, ahead_rule *r)
{
	rule_writer *w = calloc(1, sizeof(*w));
	int rc;

	if (!w || !(w->runs = calloc(r->nruns ? r->nruns : 1, sizeof(*w->runs))) ||
	    !(w->heap = calloc(r->nruns ? r->nruns : 1, sizeof(*w->heap)))) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	w->r = r;
	w->fd = fd;
	w->lines.rule = r->name;
	w->lines.expect = (size_t)r->count * LINE_LEN;
	crypto_hash_sha256_init(&w->lines.sha);
	rc = lethe_evidence_write_blob(r->file.blob, ev, w->lines.expect, stream_rule, w);
	if (rc == 0 && w->lines.count != r->count)
		rc = lethe_error_set(LETHE_ESOFTWARE, "the spool's runs hold %lld digests, not %lld",
				     (long long)w->lines.count, (long long)r->count);
	if (rc == 0) {
		lethe_sha256_final_hex(r->file.sha256, &w->lines.sha);
		r->file.lines = w->lines.count;
	}
out:
	if (w) {
		free(w->runs);
		free(w->heap);
	}
	free(w);
	return rc;
}

/* The thread: each queued rule in turn, until closed and none is left. */
static void *writer(void *arg)
{
	lethe_ahead *a = arg;
	lethe_evidence *ev = NULL;
	size_t next = 0;
	int usable = lethe_evidence_open(&ev, a->dir) == 0;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		ahead_rule *r;
		int rc;

		while (next < a->n && a->rules[next]->state == DROPPED)
			next++;
		if (next == a->n || a->rules[next]->state == SPOOLING) {
			if (a->closing)
				break;
			pthread_cond_wait(&a->cond, &a->lock);
			continue;
		}
		r = a->rules[next++];
		pthread_mutex_unlock(&a->lock);
		rc = usable ? write_rule(ev, a->fd, r) : -1;
		pthread_mutex_lock(&a->lock);
		r->state = rc == 0 ? WRITTEN : FAILED;
	}
	pthread_mutex_unlock(&a->lock);
	lethe_evidence_free(ev);
	return NULL;
}

/* --- the run's side -------------------------------------------------------- */

int lethe_ahead_new(lethe_ahead **out, const lethe_evidence *ev)
{
	const char *dir = lethe_evidence_path(ev);
	lethe_ahead *a;

	if (!dir)
		return lethe_error_set(LETHE_ESOFTWARE, "no evidence folder to spool in");
	if (!(a = calloc(1, sizeof(*a))) || !(a->dir = strdup(dir))) {
		free(a);
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	a->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (a->fd < 0) {
		int e = errno;

		free(a->dir);
		free(a);
		return lethe_error_set(LETHE_EIO, "cannot open a spool in '%s': %s", dir, strerror(e));
	}
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	*out = a;
	return 0;
}

static ahead_rule *find_rule(lethe_ahead *a, const char *rule)
{
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->rules[i]->name, rule))
			return a->rules[i];
	return NULL;
}

/* The rule whose batch this is: the last rule while its batches go on, a
 * new one when its first batch comes, and the rule before it is then queued
 * for the thread (started then). NULL when the batch is not spooled: a rule
 * seen again after its batches ended is not used at all, and a rule that
 * could not be added has no file written ahead. */
static ahead_rule *batch_rule(lethe_ahead *a, const char *rule)
{
	ahead_rule *r, *last;

	pthread_mutex_lock(&a->lock);
	last = a->n ? a->rules[a->n - 1] : NULL;
	if (last && !strcmp(last->name, rule)) {
		pthread_mutex_unlock(&a->lock);
		return last;
	}
	if ((r = find_rule(a, rule))) {
		r->usable = 0;
		pthread_mutex_unlock(&a->lock);
		return NULL;
	}
	if (LETHE_VEC_RESERVE(a->rules, a->n + 1, a->cap) < 0 || !(r = calloc(1, sizeof(*r))) ||
	    !(r->name = strdup(rule))) {
		free(r);
		pthread_mutex_unlock(&a->lock);
		return NULL;
	}
	r->usable = 1;
	if (last)
		last->state = last->usable && last->count ? QUEUED : DROPPED;
	a->rules[a->n++] = r;
	if (!a->started && last && last->state == QUEUED)
		a->started = pthread_create(&a->thread, NULL, writer, a) == 0;
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->lock);
	return r;
}

static int spool_batch(lethe_ahead *a, ahead_rule *r, const unsigned char *bin, size_t n)
{
	size_t done = 0;

	if (LETHE_VEC_RESERVE(r->runs, r->nruns + 1, r->cap) < 0)
		return -1;
	while (done < n * LETHE_DIGEST_BIN) {
		ssize_t k = pwrite(a->fd, bin + done, n * LETHE_DIGEST_BIN - done,
				   (off_t)(a->end * LETHE_DIGEST_BIN + done));

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		done += (size_t)k;
	}
	r->runs[r->nruns++] = (spool_run){ a->end, n };
	a->end += n;
	r->count += (int64_t)n;
	return 0;
}

void lethe_ahead_batch(lethe_ahead *a, const char *rule, const unsigned char *digests, size_t n,
		       int64_t changed)
{
	ahead_rule *r;

	if (!a || a->off || !n || !(r = batch_rule(a, rule)))
		return;
	if ((int64_t)n != changed)
		r->usable = 0;
	if (!r->usable)
		return;
	if (spool_batch(a, r, digests, n) < 0) {
		/* out of memory or of disk: nothing more goes in */
		r->usable = 0;
		a->off = 1;
	}
}

void lethe_ahead_close(lethe_ahead *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->closing = 1;
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

int lethe_ahead_queued(lethe_ahead *a, const char *rule)
{
	ahead_rule *r;
	int queued;

	if (!a)
		return 0;
	pthread_mutex_lock(&a->lock);
	r = find_rule(a, rule);
	queued = a->started && r && r->state != SPOOLING && r->state != DROPPED;
	pthread_mutex_unlock(&a->lock);
	return queued;
}

void lethe_ahead_wait(lethe_ahead *a)
{
	if (!a || !a->started)
		return;
	lethe_ahead_close(a);
	pthread_join(a->thread, NULL);
	a->started = 0;
}

int lethe_ahead_take(lethe_marker_file *out, lethe_ahead *a, const char *rule, int64_t disposed)
{
	ahead_rule *r = a ? find_rule(a, rule) : NULL;

	if (!r || a->started || r->state != WRITTEN || !r->usable || r->count != disposed || !r->count)
		return 0;
	memcpy(out->blob, r->file.blob, sizeof(out->blob));
	memcpy(out->sha256, r->file.sha256, sizeof(out->sha256));
	out->lines = r->file.lines;
	return 1;
}

void lethe_ahead_free(lethe_ahead *a)
{
	if (!a)
		return;
	/* a run that stops before its seal needs no more files */
	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; i < a->n; i++)
		if (a->rules[i]->state == QUEUED)
			a->rules[i]->state = DROPPED;
	pthread_mutex_unlock(&a->lock);
	lethe_ahead_wait(a);
	for (size_t i = 0; i < a->n; i++) {
		free(a->rules[i]->name);
		free(a->rules[i]->runs);
		free(a->rules[i]);
	}
	free(a->rules);
	close(a->fd);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->cond);
	free(a->dir);
	free(a);
}
