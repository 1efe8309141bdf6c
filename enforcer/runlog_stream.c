/*
 * runlog_stream.c - a batch's row digests computed on another core while
 * the batch's statement runs (runlog_impl.h). The SQLite backend hands each
 * changed key to lethe_digest_stream_key from inside the statement
 * (lethe_change.on_key), as the row changes; a thread digests the keys as
 * they come, so that when the statement ends its digests are mostly done,
 * where they used to begin only then (a keyed BLAKE2b per row was a tenth
 * of the main thread's time in a run).
 *
 * Invariants:
 *  - The stream is a hint: lethe_digest_stream_take gives digests only
 *    for exactly the keys the batch returned, in their order (compared key
 *    by key); otherwise NULL, and the caller digests the keys itself. A
 *    statement that failed, a key that is not an integer or more keys than
 *    the batch can change turn it off.
 *  - Digest i is lethe_record_row_digest_bin of key i, the function the
 *    caller would use: the same bytes either way.
 *  - Only the calling thread writes keys[] and n; the thread reads keys
 *    [0, published) and writes digests of that range; `published` and
 *    `finished` are under `lock`. After finished is set, published no
 *    longer changes, so the thread's last range is final.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "lethe/record.h"
#include "runlog_impl.h"

/* Keys handed to the thread at a time: a wake-up per this many rows. */
#define STREAM_CHUNK 2048

struct lethe_digest_stream {
	lethe_digest_ctx dc;
	int64_t *keys;           /* the integer keys seen, at most `most` */
	unsigned char *digests;  /* LETHE_DIGEST_BIN bytes per key */
	size_t most, n;
	int usable;              /* every key so far an integer, at most `most` */
	int started;             /* the thread runs */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t more;
	size_t published;        /* keys the thread may digest */
	int finished;            /* no more keys come */
};

static void *digest_published(void *arg)
{
	lethe_digest_stream *s = arg;
	size_t done = 0;

	for (;;) {
		size_t to;
		int finished;

		pthread_mutex_lock(&s->lock);
		while (s->published == done && !s->finished)
			pthread_cond_wait(&s->more, &s->lock);
		to = s->published;
		finished = s->finished;
		pthread_mutex_unlock(&s->lock);
		for (; done < to; done++) {
			lethe_value key = { .type = LETHE_VALUE_INTEGER, .i = s->keys[done] };

			lethe_record_row_digest_bin(s->digests + done * LETHE_DIGEST_BIN, &s->dc, &key);
		}
		if (finished)
			return NULL;
	}
}

int lethe_digest_stream_start(lethe_digest_stream **out, const lethe_token_key *key, const char *rule,
			      size_t most)
{
	lethe_digest_stream *s = calloc(1, sizeof(*s));

	if (!s || !(s->keys = malloc(most * sizeof(*s->keys))) ||
	    !(s->digests = malloc(most * LETHE_DIGEST_BIN))) {
		if (s)
			free(s->keys);
		free(s);
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	s->most = most;
	s->usable = 1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->more, NULL);
	lethe_digest_start(&s->dc, key, rule);
	*out = s;
	return 0;
}

/* Hand the keys seen so far to the thread, starting it with the first. */
static void publish(lethe_digest_stream *s)
{
	if (!s->started) {
		s->published = s->n;
		if (pthread_create(&s->thread, NULL, digest_published, s) != 0) {
			s->usable = 0;
			return;
		}
		s->started = 1;
		return;
	}
	pthread_mutex_lock(&s->lock);
	s->published = s->n;
	pthread_cond_signal(&s->more);
	pthread_mutex_unlock(&s->lock);
}

void lethe_digest_stream_key(void *ctx, const lethe_value *key)
{
	lethe_digest_stream *s = ctx;

	if (!s->usable)
		return;
	if (key->type != LETHE_VALUE_INTEGER || s->n == s->most) {
		s->usable = 0;
		return;
	}
	s->keys[s->n++] = key->i;
	if (s->n % STREAM_CHUNK == 0)
		publish(s);
}

/* No more keys: the thread digests what was published and ends. */
static void finish(lethe_digest_stream *s)
{
	if (!s->started)
		return;
	pthread_mutex_lock(&s->lock);
	if (s->usable)
		s->published = s->n;
	s->finished = 1;
	pthread_cond_signal(&s->more);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	s->started = 0;
}

unsigned char *lethe_digest_stream_take(lethe_digest_stream *s, const lethe_value *keys, size_t n)
{
	unsigned char *digests;

	finish(s);
	if (!s->usable || n != s->n || n == 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (keys[i].type != LETHE_VALUE_INTEGER || keys[i].i != s->keys[i])
			return NULL;
	/* the keys never handed to the thread (fewer than a chunk: no thread) */
	for (size_t i = s->published; i < n; i++)
		lethe_record_row_digest_bin(s->digests + i * LETHE_DIGEST_BIN, &s->dc, &keys[i]);
	digests = s->digests;
	s->digests = NULL;
	return digests;
}

void lethe_digest_stream_free(lethe_digest_stream *s)
{
	if (!s)
		return;
	finish(s);
	lethe_digest_end(&s->dc);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->more);
	free(s->keys);
	free(s->digests);
	free(s);
}
