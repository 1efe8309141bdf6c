/*
 * test_write_pipe.c - the writer on a thread of its own (write_pipe.c): every
 * non-empty buffer reaches `write` in order, whatever their sizes and
 * however slowly it writes; a failed write stops the writing, fails the producer's next
 * hand-over and is reported with its own message; a producer that fails
 * has nothing more written; NULL is finished like a pipe.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lethe/error.h"
#include "register_fixture.h"
#include "write_pipe.h"

typedef struct {
	unsigned char *got;
	size_t len, cap;
	size_t calls;
	size_t fail_at;          /* the call that fails (0: none) */
	int slow;                /* sleep a little per call */
} sink;

static int sink_write(void *ctx, const void *buf, size_t len)
{
	sink *s = ctx;

	s->calls++;
	if (s->slow) {
		struct timespec ts = { 0, 200000 };

		nanosleep(&ts, NULL);
	}
	if (s->fail_at && s->calls == s->fail_at)
		return lethe_error_set(LETHE_EIO, "the sink is full at call %zu", s->calls);
	if (s->len + len > s->cap) {
		s->cap = 2 * (s->len + len);
		ck_assert_ptr_nonnull(s->got = realloc(s->got, s->cap));
	}
	ck_assert_uint_gt(len, 0);      /* empty buffers are not handed on */
	memcpy(s->got + s->len, buf, len);
	s->len += len;
	return 0;
}

/* A pipe to s, started. */
static lethe_write_pipe *start_pipe(sink *s)
{
	lethe_write_pipe *p = NULL;

	ck_assert_int_eq(lethe_write_pipe_start(&p, sink_write, s), 0);
	ck_assert_ptr_nonnull(p);
	return p;
}

/* Buffers of 0 to 70,000 bytes of a counting pattern, produced faster than
 * a slow writer takes them and then slower: the bytes arrive whole and in
 * order. */
START_TEST(buffers_in_order)
{
	sink s = { .slow = 1 };
	unsigned char *buf = malloc(70000);
	uint32_t x = 2463534242u;
	size_t total = 0, bad;
	unsigned char next = 0;
	lethe_write_pipe *p;

	ck_assert_ptr_nonnull(buf);
	p = start_pipe(&s);
	for (int i = 0; i < 300; i++) {
		size_t n;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		n = i % 37 == 0 ? 0 : x % 70000;
		for (size_t k = 0; k < n; k++)
			buf[k] = (unsigned char)(total + k);
		ck_assert_int_eq(lethe_write_pipe_write(p, buf, n), 0);
		total += n;
		if (i == 150)
			s.slow = 0;
	}
	ck_assert_int_eq(lethe_write_pipe_finish(p, 0), 0);
	ck_assert_uint_eq(s.len, total);
	/* the first byte out of place (one check: Check marks every assert) */
	for (bad = 0; bad < total && s.got[bad] == next; bad++, next++)
		;
	ck_assert_msg(bad == total, "byte %zu of %zu out of place", bad, total);
	free(buf);
	free(s.got);
}
END_TEST

/* The fifth write fails: nothing after it is written, a later hand-over
 * fails, and finish returns the writer's code with its message. */
START_TEST(writer_failure_reported)
{
	sink s = { .fail_at = 5 };
	lethe_write_pipe *p = start_pipe(&s);
	char buf[100] = { 0 };
	int rc = 0, i;

	for (i = 0; i < 10000 && rc == 0; i++)
		rc = lethe_write_pipe_write(p, buf, sizeof(buf));
	ck_assert_int_eq(rc, LETHE_EIO);
	lethe_error_set(LETHE_ESOFTWARE, "an older message");
	ck_assert_int_eq(lethe_write_pipe_finish(p, rc), LETHE_EIO);
	ck_assert_str_eq(lethe_error_last(), "the sink is full at call 5");
	ck_assert_uint_eq(s.calls, 5);
	ck_assert_uint_eq(s.len, 4 * sizeof(buf));
	free(s.got);
}
END_TEST

/* A producer that fails: the buffers still queued are dropped, its own code
 * comes back, and a NULL pipe returns the code it is given. */
START_TEST(producer_failure_stops)
{
	sink s = { .slow = 1 };
	lethe_write_pipe *p = start_pipe(&s);
	char buf[10] = { 0 };

	for (int i = 0; i < LETHE_WRITE_PIPE_SLOTS; i++)
		ck_assert_int_eq(lethe_write_pipe_write(p, buf, sizeof(buf)), 0);
	ck_assert_int_eq(lethe_write_pipe_finish(p, LETHE_EDATA), LETHE_EDATA);
	ck_assert_uint_le(s.calls, LETHE_WRITE_PIPE_SLOTS);
	ck_assert_uint_eq(s.len, s.calls * sizeof(buf));
	ck_assert_int_eq(lethe_write_pipe_finish(NULL, 0), 0);
	ck_assert_int_eq(lethe_write_pipe_finish(NULL, LETHE_EIO), LETHE_EIO);
	free(s.got);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		buffers_in_order,
		writer_failure_reported,
		producer_failure_stops,
	};

	return rf_main("write_pipe", tests, sizeof(tests) / sizeof(tests[0]));
}
