/*
 * runlog_impl.h - what runlog.c and runlog_digests.c share: the run log
 * itself and the completion's digest files.
 */
#ifndef LETHE_RUNLOG_IMPL_H
#define LETHE_RUNLOG_IMPL_H

#include <sodium.h>
#include <stdint.h>
#include "lethe/backend.h"
#include "lethe/evidence.h"
#include "lethe/record.h"
#include "lethe/runlog.h"
#include "util.h"
#include "write_pipe.h"

/* --- a digest file's lines (runlog_digests.c) -----------------------------
 * On their way into the object database: buffered LETHE_DIGEST_LINES bytes
 * at a time, counted, and when `expect` is set hashed (the SHA-256 of
 * exactly the bytes written) and held to that length. `write` and `wctx`
 * are the object database's stream; `rule` names the file in messages. */
#define LETHE_DIGEST_LINES (64 * 1024)
typedef struct {
	lethe_backend *be;      /* the marker read from, when it is */
	char run_id[33];
	char *rule;
	int (*write)(void *wctx, const void *buf, size_t len);
	void *wctx;
	crypto_hash_sha256_state sha;
	int64_t count;
	size_t bytes;           /* of the file */
	size_t expect;          /* one read: the length announced */
	int mismatch;           /* one read: the file is not `expect` bytes long */
	size_t used;            /* bytes in buf */
	char buf[LETHE_DIGEST_LINES];
} lethe_digest_file;

/* One line: the digest (hex) and a newline; ctx is the lethe_digest_file. */
int lethe_digest_file_line(void *ctx, const char *digest);
/* Write out the buffered lines. */
int lethe_digest_file_flush(lethe_digest_file *f);
/* Send f's output to write(wctx): through a write pipe (write_pipe.h), whose
 * thread then deflates and hashes the object while this one merges and
 * hashes the lines, when the file is to be `bytes` long and that is large
 * enough to pay for a thread; else directly. Returns the pipe (NULL:
 * none), which the caller ends with lethe_write_pipe_finish after the last
 * flush, failed or not. */
lethe_write_pipe *lethe_digest_file_output(lethe_digest_file *f,
					   int (*write)(void *wctx, const void *buf, size_t len),
					   void *wctx, size_t bytes);

/* --- digest files written ahead (runlog_ahead.c) --------------------------
 * While a run's batches go on, each rule's digest file is written into the
 * evidence's objects by a thread once the next rule's batches begin; the
 * seal then records it instead of writing it. Nothing here fails a run. */
typedef struct lethe_ahead lethe_ahead;

/* A spool in the evidence's folder; no thread yet. */
int lethe_ahead_new(lethe_ahead **out, const lethe_evidence *ev);
/* After a batch of `rule` was marked with these n digests (binary and
 * sorted, as lethe_backend_mark takes them; changed: its disposed rows):
 * spool them; a batch of a new rule queues the last one. */
void lethe_ahead_batch(lethe_ahead *a, const char *rule, const unsigned char *digests, size_t n,
		       int64_t changed);
/* At the seal: no rule is queued any more (the last rule never is). */
void lethe_ahead_close(lethe_ahead *a);
/* After close: whether the thread writes (or wrote) the rule's file. */
int lethe_ahead_queued(lethe_ahead *a, const char *rule);
/* Wait until the thread wrote every queued file. */
void lethe_ahead_wait(lethe_ahead *a);
/* After wait: 1 and out's blob, sha256 and lines when the rule's file was
 * written ahead with exactly `disposed` lines (the marker's count), else 0. */
int lethe_ahead_take(lethe_marker_file *out, lethe_ahead *a, const char *rule, int64_t disposed);
/* Waits for the thread; NULL is fine. */
void lethe_ahead_free(lethe_ahead *a);

/* --- a batch's digests computed while its statement runs (runlog_stream.c)
 * The statement hands each changed integer key to lethe_digest_stream_key
 * (lethe_change.on_key) and a thread digests them as they come. */
typedef struct lethe_digest_stream lethe_digest_stream;

/* For a batch of `rule` that changes at most `most` rows. The room for its
 * keys and digests comes with the first key, the thread with the first
 * chunk of keys. */
int lethe_digest_stream_start(lethe_digest_stream **out, const lethe_token_key *key, const char *rule,
			      size_t most);
/* lethe_change.on_key; ctx is the stream. */
void lethe_digest_stream_key(void *ctx, const lethe_value *key);
/* Ends the thread. When the stream saw exactly keys[0..n), in this order:
 * their digests (LETHE_DIGEST_BIN bytes each, in the keys' order; the
 * caller frees them); else NULL, and the caller digests the keys. */
unsigned char *lethe_digest_stream_take(lethe_digest_stream *s, const lethe_value *keys, size_t n);
/* Ends the thread; NULL is fine. */
void lethe_digest_stream_free(lethe_digest_stream *s);

struct lethe_runlog {
	const lethe_runlog_env *env;
	lethe_day as_of;
	char run_id[33];
	char started_at[LETHE_ISO_TIME_SIZE];
	int64_t intent_seq;     /* 0 until the intent is recorded */
	lethe_ahead *ahead;     /* digest files written ahead; NULL until the first batch */
	lethe_digest_stream *stream; /* the current batch's digests, while its statement runs */
	int ahead_off;          /* none are: the register cannot seal, or no spool */
};

/* Add the rule's digest file to files, sealed (written ahead,
 * lethe_runlog_seal) or as a stream from the marker; *count its lines (0:
 * none added). */
int lethe_runlog_add_digest_file(lethe_record_files *files, int64_t *count, const lethe_runlog_env *env,
				 const char *run_id, const char *rule, const char *path);

#endif
