/*
 * runlog_digests.c - a run's digest files (docs/evidence-format.md): read
 * from the marker in key-digest order, sealed into the evidence's objects
 * before the residue work (lethe_runlog_seal), and added to the completion
 * either as the sealed blobs or streamed from the marker.
 *
 * Invariants:
 *  - A digest file is never held whole: it goes from the marker's merge to
 *    the object database LETHE_DIGEST_LINES bytes at a time.
 *  - A sealed file's SHA-256 and line count are those of the bytes written
 *    into its blob, computed as they were written.
 *  - The seal moves every rule's digests at once (one register
 *    transaction), after their blobs are in the object database.
 */
#include <pthread.h>
#include <stdint.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "lethe/evidence.h"
#include "lethe/record.h"
#include "lethe/runlog.h"
#include "runlog_impl.h"
#include "testhook.h"
#include "write_pipe.h"
#include "util.h"
#include "vec.h"

/* A rule's digest file, from the marker: sorted lines, one per disposed row,
 * never held whole. When a run is sealed (lethe_runlog_seal) it is read
 * once: its length is known from the marker's count (a run's batches store
 * one digest per disposed row), and the SHA-256 is computed while the blob
 * is written; should the count be wrong (an older marker), it is read
 * twice, as it is for a completion of digests not sealed: once for its
 * SHA-256 and length (the record lists them), once streamed into the
 * evidence. Lines go out through lethe_digest_file_line, LETHE_DIGEST_LINES
 * bytes at a time. */
typedef lethe_digest_file digest_file;

static int hash_digest(void *ctx, const char *digest)
{
	digest_file *f = ctx;

	crypto_hash_sha256_update(&f->sha, (const unsigned char *)digest, strlen(digest));
	crypto_hash_sha256_update(&f->sha, (const unsigned char *)"\n", 1);
	f->count++;
	f->bytes += strlen(digest) + 1;
	return 0;
}

/* Write out the buffered lines, hashing them first when reading once. */
int lethe_digest_file_flush(lethe_digest_file *f)
{
	size_t n = f->used;

	f->used = 0;
	if (f->expect)
		crypto_hash_sha256_update(&f->sha, (const unsigned char *)f->buf, n);
	return n ? f->write(f->wctx, f->buf, n) : 0;
}

int lethe_digest_file_line(void *ctx, const char *digest)
{
	digest_file *f = ctx;
	size_t n = strlen(digest);
	int rc;

	if (n > LETHE_DIGEST_LEN)
		return lethe_error_set(LETHE_EDATA, "a run digest is too long");
	if (f->expect && f->bytes + n + 1 > f->expect) {
		f->mismatch = 1;
		return lethe_error_set(LETHE_EDATA, "rule '%s' has more run digests than disposed rows",
				       f->rule);
	}
	if (f->used + n + 1 > sizeof(f->buf) && (rc = lethe_digest_file_flush(f)) < 0)
		return rc;
	memcpy(f->buf + f->used, digest, n);
	f->buf[f->used + n] = '\n';
	f->used += n + 1;
	f->count++;
	f->bytes += n + 1;
	return 0;
}

/* A second thread pays for itself once the object database has
 * milliseconds of deflating to do: starting one costs tens of microseconds. */
#define PIPE_MIN_BYTES (1024 * 1024)

lethe_write_pipe *lethe_digest_file_output(lethe_digest_file *f,
					   int (*write)(void *wctx, const void *buf, size_t len),
					   void *wctx, size_t bytes)
{
	lethe_write_pipe *pipe = NULL;

	if (bytes >= PIPE_MIN_BYTES)
		(void)lethe_write_pipe_start(&pipe, write, wctx); /* none: written here */
	f->write = pipe ? lethe_write_pipe_write : write;
	f->wctx = pipe ? (void *)pipe : wctx;
	return pipe;
}

static int stream_digests(void *ctx, int (*write)(void *wctx, const void *buf, size_t len), void *wctx)
{
	digest_file *f = ctx;
	lethe_write_pipe *pipe = lethe_digest_file_output(f, write, wctx, f->expect ? f->expect : f->bytes);
	int rc;

	f->used = 0;
	f->count = 0;
	f->bytes = 0;
	rc = lethe_backend_marker_digests(f->be, f->run_id, f->rule, lethe_digest_file_line, f);
	if (rc == 0 && f->expect && f->bytes != f->expect) {
		f->mismatch = 1;
		rc = lethe_error_set(LETHE_EDATA, "rule '%s' has fewer run digests than disposed rows",
				     f->rule);
	}
	if (rc == 0)
		rc = lethe_digest_file_flush(f);
	return lethe_write_pipe_finish(pipe, rc);
}

/* The rule's digest file from the marker, its SHA-256 (hex), length and
 * lines counted by a first read: *out NULL when it has no lines. */
static int digest_file_open(digest_file **out, char hex[LETHE_SHA256_HEX_SIZE], lethe_backend *be,
			    const char *run_id, const char *rule)
{
	digest_file *f = calloc(1, sizeof(*f));
	int rc;

	*out = NULL;
	if (!f || !(f->rule = strdup(rule))) {
		free(f);
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	f->be = be;
	snprintf(f->run_id, sizeof(f->run_id), "%s", run_id);
	crypto_hash_sha256_init(&f->sha);
	rc = lethe_backend_marker_digests(be, run_id, rule, hash_digest, f);
	if (rc < 0 || f->count == 0) {
		free(f->rule);
		free(f);
		return rc;
	}
	lethe_sha256_final_hex(hex, &f->sha);
	*out = f;
	return 0;
}

/* Add the rule's digest file to f, sealed (written ahead, lethe_runlog_seal)
 * or as a stream from the marker; *count its lines (0: none added). */
int lethe_runlog_add_digest_file(lethe_record_files *files, int64_t *count, const lethe_runlog_env *env,
				 const char *run_id, const char *rule, const char *path)
{
	lethe_marker_file sealed = { 0 };
	digest_file *f = NULL;
	char hex[LETHE_SHA256_HEX_SIZE];
	int rc, found = 0;

	*count = 0;
	if ((rc = lethe_backend_marker_sealed(&found, &sealed, env->be, run_id, rule)) < 0)
		return rc;
	if (found) {
		*count = sealed.lines;
		return lethe_record_files_add_blob(files, path, sealed.sha256, sealed.blob);
	}
	if ((rc = digest_file_open(&f, hex, env->be, run_id, rule)) < 0 || !f)
		return rc;
	*count = f->count;
	/* freed with the files: f->rule first, so f is still there to free */
	if ((rc = lethe_record_files_own(files, f->rule)) < 0) {
		free(f);
		return rc;
	}
	if ((rc = lethe_record_files_own(files, f)) < 0)
		return rc;
	return lethe_record_files_add_stream(files, path, hex, f->bytes, stream_digests, f);
}

/* The rules of a run's marker, by name (strvec-like, owned here). */
typedef struct {
	char **names;
	int64_t *disposed;
	size_t n, cap, dcap;
} rule_names;

static int add_rule_name(void *ctx, const char *rule, int64_t disposed)
{
	rule_names *l = ctx;
	char *p;
	int rc;

	if ((rc = LETHE_VEC_RESERVE(l->names, l->n + 1, l->cap)) < 0 ||
	    (rc = LETHE_VEC_RESERVE(l->disposed, l->n + 1, l->dcap)) < 0)
		return rc;
	if (!(p = strdup(rule)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	l->disposed[l->n] = disposed;
	l->names[l->n++] = p;
	return 0;
}

/* Write the rule's digest file into the evidence's objects and fill *mf:
 * 1, or 0 when it has no lines. One read when the marker's count of
 * disposed rows is the number of digests, else two. */
static int seal_file(lethe_marker_file *mf, const lethe_runlog_env *env, const char *run_id,
		     char *rule, int64_t disposed)
{
	digest_file *f = calloc(1, sizeof(*f));
	int rc = 0;

	if (!f)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	f->be = env->be;
	f->rule = rule;
	snprintf(f->run_id, sizeof(f->run_id), "%s", run_id);
	mf->rule = rule;
	if (disposed > 0 && (uint64_t)disposed < SIZE_MAX / (LETHE_DIGEST_LEN + 1)) {
		f->expect = (size_t)disposed * (LETHE_DIGEST_LEN + 1);
		crypto_hash_sha256_init(&f->sha);
		rc = lethe_evidence_write_blob(mf->blob, env->ev, f->expect, stream_digests, f);
		if (rc == 0) {
			lethe_sha256_final_hex(mf->sha256, &f->sha);
			mf->lines = f->count;
			free(f);
			return 1;
		}
		if (!f->mismatch) {
			free(f);
			return rc;
		}
	}
	free(f);
	/* the count is not the digests': hash first, then write */
	if ((rc = digest_file_open(&f, mf->sha256, env->be, run_id, rule)) < 0 || !f)
		return rc;
	rc = lethe_evidence_write_blob(mf->blob, env->ev, f->bytes, stream_digests, f);
	mf->lines = f->count;
	free(f->rule);
	free(f);
	return rc < 0 ? rc : 1;
}

/* The seal's files are written by two threads (the second one with its own
 * register connection and evidence handle), rules taken largest first: a
 * rule's file is compressed and hashed as it is written, which is the
 * seal's cost, and each file is one stream. Each rule's outcome is kept in
 * its own slot, so the error reported is the first rule's in marker order,
 * whichever thread met it, and the files go to the register in that order. */
typedef struct {
	pthread_mutex_t lock;
	const char *run_id;
	const rule_names *rules;
	size_t *order;          /* rule indices, most digests first */
	size_t norder;          /* the rules not written ahead */
	size_t next;            /* in order; under lock */
	lethe_marker_file *files;
	int *rcs;               /* seal_file's result per rule */
	char **messages;        /* a failed rule's error */
} seal_work;

typedef struct {
	seal_work *w;
	lethe_runlog_env env;
} sealer;

static void *seal_rules(void *arg)
{
	sealer *t = arg;
	seal_work *w = t->w;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&w->lock);
		i = w->next >= w->norder ? SIZE_MAX : w->order[w->next++];
		pthread_mutex_unlock(&w->lock);
		if (i == SIZE_MAX)
			return NULL;
		w->rcs[i] = seal_file(&w->files[i], &t->env, w->run_id, w->rules->names[i],
				      w->rules->disposed[i]);
		if (w->rcs[i] < 0) {
			if (!(w->messages[i] = strdup(lethe_error_last())))
				w->rcs[i] = LETHE_ESOFTWARE;
			pthread_mutex_lock(&w->lock);
			w->next = SIZE_MAX;   /* no rule is started after a failure */
			pthread_mutex_unlock(&w->lock);
		}
	}
}

static int by_digests(const void *a, const void *b, void *ctx)
{
	const int64_t *d = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return d[x] < d[y] ? 1 : d[x] > d[y] ? -1 : (x > y) - (x < y);
}

/* Write every rule's file into files[i] (rules->names[i]); files[i].rule is
 * NULL for a rule without digests. The first failure in rule order. The
 * files written ahead (runlog_ahead.c) are taken as they are when their
 * lines are the marker's count, else written here after all. */
static int seal_files(lethe_marker_file *files, const lethe_runlog_env *env, const char *run_id,
		      const rule_names *rules, lethe_ahead *ahead)
{
	unsigned char *queued = calloc(rules->n ? rules->n : 1, 1);
	seal_work w = { .run_id = run_id, .rules = rules, .files = files };
	sealer main_t = { &w, *env }, other = { &w, *env };
	lethe_evidence *ev = NULL;
	pthread_t thread;
	int rc = 0, started = 0;

	w.order = calloc(rules->n, sizeof(*w.order));
	w.rcs = calloc(rules->n, sizeof(*w.rcs));
	w.messages = calloc(rules->n, sizeof(*w.messages));
	if (!w.order || !w.rcs || !w.messages || !queued) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	lethe_ahead_close(ahead);
	for (size_t i = 0; i < rules->n; i++)
		if (!(queued[i] = (unsigned char)lethe_ahead_queued(ahead, rules->names[i])))
			w.order[w.norder++] = i;
	qsort_r(w.order, w.norder, sizeof(*w.order), by_digests, rules->disposed);
	pthread_mutex_init(&w.lock, NULL);
	/* a second thread when the register and the evidence can be opened
	 * again; else this thread writes every file */
	other.env.be = NULL;
	if (w.norder > 1 && lethe_backend_reopen(&other.env.be, env->be) == 0 && other.env.be &&
	    lethe_evidence_open(&ev, lethe_evidence_path(env->ev)) == 0) {
		other.env.ev = ev;
		started = pthread_create(&thread, NULL, seal_rules, &other) == 0;
	}
	seal_rules(&main_t);
	if (started)
		pthread_join(thread, NULL);
	pthread_mutex_destroy(&w.lock);
	lethe_ahead_wait(ahead);
	for (size_t i = 0; i < rules->n; i++) {
		if (!queued[i])
			continue;
		files[i].rule = rules->names[i];
		if (lethe_ahead_take(&files[i], ahead, rules->names[i], rules->disposed[i]))
			w.rcs[i] = 1;
		else if ((w.rcs[i] = seal_file(&files[i], env, run_id, rules->names[i],
					       rules->disposed[i])) < 0 &&
			 !(w.messages[i] = strdup(lethe_error_last())))
			w.rcs[i] = LETHE_ESOFTWARE;
	}
	for (size_t i = 0; i < rules->n; i++) {
		if (rc == 0 && w.rcs[i] < 0)
			rc = lethe_error_set(w.rcs[i], "%s", w.messages[i] ? w.messages[i] : "out of memory");
		if (w.rcs[i] <= 0)
			files[i].rule = NULL;   /* no file (yet) */
	}
out:
	lethe_evidence_free(ev);
	lethe_backend_free(other.env.be);
	for (size_t i = 0; w.messages && i < rules->n; i++)
		free(w.messages[i]);
	free(w.messages);
	free(w.order);
	free(w.rcs);
	free(queued);
	return rc;
}

int lethe_runlog_seal(void *ctx, int vacuum_follows)
{
	lethe_runlog *rl = ctx;
	const lethe_runlog_env *env = rl->env;
	rule_names rules = { 0 };
	lethe_marker_file *files = NULL;
	size_t nfiles = 0;
	int rc, found = 0;

	if (!rl->intent_seq || !env->be || !lethe_backend_marker_sealable(env->be))
		return 0;
	if ((rc = lethe_backend_marker(&found, env->be, rl->run_id, add_rule_name, &rules)) < 0 || !found)
		goto out;
	if (rules.n && !(files = calloc(rules.n, sizeof(*files)))) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	if ((rc = seal_files(files, env, rl->run_id, &rules, rl->ahead)) < 0)
		goto out;
	/* the rules with a file, in marker order */
	for (size_t i = 0; i < rules.n; i++)
		if (files[i].rule)
			files[nfiles++] = files[i];
	lethe_test_crash_point("before-seal");
	rc = lethe_backend_marker_seal(env->be, rl->run_id, files, nfiles, vacuum_follows);
	lethe_test_crash_point("after-seal");
out:
	for (size_t i = 0; i < rules.n; i++)
		free(rules.names[i]);
	free(rules.names);
	free(rules.disposed);
	free(files);
	return rc;
}
