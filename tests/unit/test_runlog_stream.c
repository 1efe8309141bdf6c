/*
 * test_runlog_stream.c - a batch's digests computed while its statement runs
 * (runlog_stream.c): the digests taken are byte for byte those of
 * lethe_record_row_digest_bin for each key, in the keys' order, whether a
 * thread digested them or (fewer than a chunk) the taking thread did; and
 * the stream gives nothing (the caller digests the keys itself) when the
 * keys it saw are not exactly the batch's: another key, another order, one
 * more or one fewer, a key that is not an integer, more keys than the batch
 * can change.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "lethe/record.h"
#include "lethe/token.h"
#include "register_fixture.h"
#include "runlog_impl.h"

static lethe_token_key *tk;

/* n integer keys: mostly runs of consecutive ones, as a key range gives
 * them, among negative, zero, random and extreme ones (the differences
 * between them span the whole 64 bits, both ways). */
static lethe_value *int_keys(size_t n)
{
	lethe_value *k = calloc(n ? n : 1, sizeof(*k));
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	ck_assert_ptr_nonnull(k);
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		k[i].type = LETHE_VALUE_INTEGER;
		if (i % 97 == 0)
			k[i].i = -(int64_t)i;
		else if (i % 89 == 0)
			k[i].i = INT64_MAX - (int64_t)i;
		else if (i % 83 == 0)
			k[i].i = INT64_MIN + (int64_t)i;
		else if (i % 4 && k[i - 1].i < INT64_MAX)
			k[i].i = k[i - 1].i + 1;
		else
			k[i].i = (int64_t)(x % 1000000);
	}
	return k;
}

static void feed(lethe_digest_stream *s, const lethe_value *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		lethe_digest_stream_key(s, &keys[i]);
}

/* The stream's digests against the keys' digests computed one by one. */
static void digests_are_direct(const unsigned char *got, const lethe_value *keys, size_t n, const char *rule)
{
	lethe_digest_ctx dc;
	unsigned char want[LETHE_DIGEST_BIN];

	lethe_digest_start(&dc, tk, rule);
	for (size_t i = 0; i < n; i++) {
		lethe_record_row_digest_bin(want, &dc, &keys[i]);
		ck_assert_msg(memcmp(got + i * LETHE_DIGEST_BIN, want, LETHE_DIGEST_BIN) == 0,
			      "digest %zu of %zu differs", i, n);
	}
	lethe_digest_end(&dc);
}

static void round_trip(size_t n, size_t most)
{
	lethe_value *keys = int_keys(n);
	lethe_digest_stream *s = NULL;
	unsigned char *d;

	ck_assert_int_eq(lethe_digest_stream_start(&s, tk, "web-analytics", most), 0);
	feed(s, keys, n);
	d = lethe_digest_stream_take(s, keys, n);
	ck_assert_msg(d != NULL, "no digests for %zu keys", n);
	digests_are_direct(d, keys, n, "web-analytics");
	free(d);
	lethe_digest_stream_free(s);
	free(keys);
}

START_TEST(stream_digests_are_the_keys_digests)
{
	tk = rf_kat_key();
	round_trip(1, 1);         /* no thread: fewer than a chunk */
	round_trip(2047, 4096);
	round_trip(2048, 2048);   /* exactly one chunk */
	round_trip(4097, 5000);
	round_trip(100000, 100000);
	lethe_token_key_free(tk);
}
END_TEST

/* Each way the keys seen can differ from the batch's keys: no digests. */
START_TEST(stream_gives_nothing_for_other_keys)
{
	const size_t n = 9000;
	lethe_value *keys = int_keys(n), *other = int_keys(n);
	lethe_value text = { .type = LETHE_VALUE_TEXT, .s = "a@example.com", .len = 13 };
	lethe_digest_stream *s;
	int64_t swap;

	tk = rf_kat_key();

	/* one key changed, late in the batch */
	other[n - 3].i += 1;
	ck_assert_int_eq(lethe_digest_stream_start(&s, tk, "r", n), 0);
	feed(s, keys, n);
	ck_assert_ptr_null(lethe_digest_stream_take(s, other, n));
	lethe_digest_stream_free(s);
	/* two keys in another order */
	other[n - 3].i -= 1;
	swap = other[10].i;
	other[10].i = other[11].i;
	other[11].i = swap;
	ck_assert_int_eq(lethe_digest_stream_start(&s, tk, "r", n), 0);
	feed(s, keys, n);
	ck_assert_ptr_null(lethe_digest_stream_take(s, other, n));
	lethe_digest_stream_free(s);
	/* one key fewer, one more */
	ck_assert_int_eq(lethe_digest_stream_start(&s, tk, "r", n), 0);
	feed(s, keys, n);
	ck_assert_ptr_null(lethe_digest_stream_take(s, keys, n - 1));
	lethe_digest_stream_free(s);
	ck_assert_int_eq(lethe_digest_stream_start(&s, tk, "r", n), 0);
	feed(s, keys, n - 1);
	ck_assert_ptr_null(lethe_digest_stream_take(s, keys, n));
	lethe_digest_stream_free(s);
	/* a text key among them */
	ck_assert_int_eq(lethe_digest_stream_start(&s, tk, "r", n), 0);
	feed(s, keys, 5000);
	lethe_digest_stream_key(s, &text);
	feed(s, keys + 5000, n - 5000);
	ck_assert_ptr_null(lethe_digest_stream_take(s, keys, n));
	lethe_digest_stream_free(s);
	/* more keys than the batch can change */
	ck_assert_int_eq(lethe_digest_stream_start(&s, tk, "r", n - 1), 0);
	feed(s, keys, n);
	ck_assert_ptr_null(lethe_digest_stream_take(s, keys, n));
	lethe_digest_stream_free(s);
	/* no keys: nothing to take; freeing a stream never taken */
	ck_assert_int_eq(lethe_digest_stream_start(&s, tk, "r", n), 0);
	ck_assert_ptr_null(lethe_digest_stream_take(s, keys, 0));
	lethe_digest_stream_free(s);
	ck_assert_int_eq(lethe_digest_stream_start(&s, tk, "r", n), 0);
	feed(s, keys, n);
	lethe_digest_stream_free(s);
	lethe_digest_stream_free(NULL);
	free(keys);
	free(other);
	lethe_token_key_free(tk);
}
END_TEST

/* A rule's name is part of the digest: another rule, other digests. */
START_TEST(stream_digests_follow_the_rule)
{
	const size_t n = 3000;
	lethe_value *keys = int_keys(n);
	lethe_digest_stream *a, *b;
	unsigned char *da, *db;

	tk = rf_kat_key();

	ck_assert_int_eq(lethe_digest_stream_start(&a, tk, "a", n), 0);
	ck_assert_int_eq(lethe_digest_stream_start(&b, tk, "b", n), 0);
	feed(a, keys, n);
	feed(b, keys, n);
	da = lethe_digest_stream_take(a, keys, n);
	db = lethe_digest_stream_take(b, keys, n);
	ck_assert_ptr_nonnull(da);
	ck_assert_ptr_nonnull(db);
	digests_are_direct(db, keys, n, "b");
	ck_assert_int_ne(memcmp(da, db, LETHE_DIGEST_BIN), 0);
	free(da);
	free(db);
	lethe_digest_stream_free(a);
	lethe_digest_stream_free(b);
	free(keys);
	lethe_token_key_free(tk);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		stream_digests_are_the_keys_digests,
		stream_gives_nothing_for_other_keys,
		stream_digests_follow_the_rule,
	};

	return rf_main("runlog_stream", tests, sizeof(tests) / sizeof(tests[0]));
}
