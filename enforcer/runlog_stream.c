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
 *  - The keys are kept as the differences between consecutive keys, each
 *    zigzag-encoded as a varint of one to ten bytes: a range's keys mostly
 *    follow one another, so a key mostly takes one byte, not eight, while
 *    the batch's returned rows and digests are also in memory.
 *  - Only the calling thread writes keys[] and n; the thread decodes the
 *    first `published` keys, in order, and writes their digests;
 *    `published` and `finished` are under `lock`. After finished is set,
 *    published no longer changes, so the thread's last range is final.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "lethe/record.h"
#include "runlog_impl.h"

/* Keys handed to the thread at a time: a wake-up per this many rows. */
#define STREAM_CHUNK 2048
/* The longest varint of a 64-bit difference. */
#define KEY_MAX_BYTES 10

struct lethe_digest_stream {
	lethe_digest_ctx dc;
	unsigned char *keys;     /* the keys seen, as varints of their differences */
	size_t keys_len;         /* bytes of keys[] written; room for `most` keys */
	uint64_t last;           /* the last key seen, as its bits (0 before the first) */
	unsigned char *digests;  /* LETHE_DIGEST_BIN bytes per key */
	size_t most, n;
	int usable;              /* every key so far an integer, at most `most`, with room */
	int started;             /* the thread runs */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t more;
	size_t published;        /* keys the thread may digest */
	int finished;            /* no more keys come */
};

/* Append key (after the key whose bits are prev): its bytes. */
static size_t put_key(unsigned char *p, uint64_t prev, uint64_t key)
{
	uint64_t d = key - prev;
	uint64_t z = (d << 1) ^ (0 - (d >> 63));
	size_t n = 0;

	while (z >= 0x80) {
		p[n++] = (unsigned char)(z | 0x80);
		z >>= 7;
	}
	p[n++] = (unsigned char)z;
	return n;
}

/* The key after *prev, read at p: its bytes; *prev becomes the key. */
static size_t get_key(const unsigned char *p, uint64_t *prev)
{
	uint64_t z = 0;
	size_t n = 0;
	int shift = 0;

	do {
		z |= (uint64_t)(p[n] & 0x7f) << shift;
		shift += 7;
	} while (p[n++] & 0x80);
	*prev += (z >> 1) ^ (0 - (z & 1));
	return n;
}

static int64_t key_value(uint64_t bits)
{
	int64_t v;

	memcpy(&v, &bits, sizeof(v));
	return v;
}

static void *digest_published(void *arg)
{
	lethe_digest_stream *s = arg;
	size_t done = 0, pos = 0;
	uint64_t key = 0;

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
			lethe_value v = { .type = LETHE_VALUE_INTEGER };

			pos += get_key(s->keys + pos, &key);
			v.i = key_value(key);
			lethe_record_row_digest_bin(s->digests + done * LETHE_DIGEST_BIN, &s->dc, &v);
		}
		if (finished)
			return NULL;
	}
}

int lethe_digest_stream_start(lethe_digest_stream **out, const lethe_token_key *key, const char *rule,
			      size_t most)
{
	lethe_digest_stream *s = calloc(1, sizeof(*s));

	if (!s)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	s->most = most;
	s->usable = most <= SIZE_MAX / KEY_MAX_BYTES;
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
	uint64_t bits;

	if (!s->usable)
		return;
	if (key->type != LETHE_VALUE_INTEGER || s->n == s->most) {
		s->usable = 0;
		return;
	}
	/* the room for a batch's keys and digests only once it has a key: a
	 * backend that hands none over (PostgreSQL, MariaDB) costs nothing */
	if (!s->keys && (!(s->keys = malloc(s->most * KEY_MAX_BYTES)) ||
			 !(s->digests = malloc(s->most * LETHE_DIGEST_BIN)))) {
		s->usable = 0;
		return;
	}
	memcpy(&bits, &key->i, sizeof(bits));
	s->keys_len += put_key(s->keys + s->keys_len, s->last, bits);
	s->last = bits;
	s->n++;
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
	uint64_t key = 0;
	size_t pos = 0;

	finish(s);
	if (!s->usable || n != s->n || n == 0)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		pos += get_key(s->keys + pos, &key);
		if (keys[i].type != LETHE_VALUE_INTEGER || keys[i].i != key_value(key))
			return NULL;
	}
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
