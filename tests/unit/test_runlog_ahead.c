/*
 * test_runlog_ahead.c - digest files written ahead (runlog_ahead.c) on a real
 * evidence repository: the file of a rule whose batches ended is its
 * digests' sorted lines, read back with git; the seal gets it only when its
 * lines are the marker's count, and never for the last rule, a rule seen
 * again, a batch with other than one digest per disposed row, or a rule
 * whose spool could not be written.
 */
#include <check.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "lethe/evidence.h"
#include "digest_bin.h"
#include "runlog_impl.h"
#include "unit_tmpdir.h"
#include "util.h"

#define MAXD 400

typedef struct {
	char hex[MAXD][65];
	const char *list[MAXD];
	unsigned char bin[MAXD][LETHE_DIGEST_BIN]; /* sorted, as a batch spools them */
	size_t n;
} digests;

static uint64_t seed = 0x9e3779b97f4a7c15ULL;

static void random_digests(digests *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (int j = 0; j < 64; j++) {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			d->hex[i][j] = "0123456789abcdef"[seed & 15];
		}
		d->hex[i][64] = '\0';
		if (i % 50 == 3)       /* a repeat, kept as a line of its own */
			memcpy(d->hex[i], d->hex[i - 1], 64);
		d->list[i] = d->hex[i];
	}
	d->n = n;
	{
		for (size_t i = 0; i < n; i++)
			ck_assert_int_eq(lethe_digest_to_bin(d->bin[i], d->hex[i]), 0);
		ck_assert_int_eq(lethe_digests_sort(d->bin[0], n), 0);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static lethe_ahead *new_ahead(char *repo, size_t size)
{
	lethe_evidence *ev = NULL;
	lethe_ahead *a = NULL;

	snprintf(repo, size, "%s/evidence", unit_tmpdir);
	ck_assert_msg(lethe_evidence_create(repo) == 0, "%s", lethe_error_last());
	ck_assert_msg(lethe_evidence_open(&ev, repo) == 0, "%s", lethe_error_last());
	ck_assert_msg(lethe_ahead_new(&a, ev) == 0, "%s", lethe_error_last());
	lethe_evidence_free(ev);
	return a;
}

/* The blob's bytes, by git itself. */
static char *git_blob(const char *repo, const char *oid, size_t *len)
{
	char cmd[512], *buf = NULL;
	size_t cap = 0, n = 0, k;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "git -C '%s' cat-file blob %s", repo, oid);
	ck_assert_ptr_nonnull(p = popen(cmd, "r"));
	do {
		if (n + 4096 > cap)
			ck_assert_ptr_nonnull(buf = realloc(buf, cap = 2 * cap + 4096));
		k = fread(buf + n, 1, 4096, p);
		n += k;
	} while (k);
	ck_assert_int_eq(pclose(p), 0);
	*len = n;
	return buf;
}

START_TEST(files_written_ahead)
{
	static digests a1, a2, b1, c1;
	const char *all[MAXD];
	char repo[256], *blob, want_sha[LETHE_SHA256_HEX_SIZE];
	lethe_marker_file f = { 0 };
	size_t n = 0, len;
	lethe_ahead *a = new_ahead(repo, sizeof(repo));

	random_digests(&a1, 300);
	random_digests(&a2, 7);
	random_digests(&b1, 3);
	random_digests(&c1, 2);
	lethe_ahead_batch(a, "a", a1.bin[0], a1.n, 300);
	lethe_ahead_batch(a, "a", a2.bin[0], a2.n, 7);
	lethe_ahead_batch(a, "b", b1.bin[0], b1.n, 3);
	lethe_ahead_batch(a, "c", c1.bin[0], c1.n, 2);
	lethe_ahead_close(a);
	ck_assert_int_eq(lethe_ahead_queued(a, "a"), 1);
	ck_assert_int_eq(lethe_ahead_queued(a, "b"), 1);
	ck_assert_int_eq(lethe_ahead_queued(a, "c"), 0); /* the last rule's batches may not have ended */
	lethe_ahead_wait(a);

	/* a file with other than the marker's count is not the marker's digests */
	ck_assert_int_eq(lethe_ahead_take(&f, a, "a", 306), 0);
	ck_assert_int_eq(lethe_ahead_take(&f, a, "a", 308), 0);
	ck_assert_int_eq(lethe_ahead_take(&f, a, "c", 2), 0);
	ck_assert_int_eq(lethe_ahead_take(&f, a, "d", 0), 0);
	ck_assert_int_eq(lethe_ahead_take(&f, a, "a", 307), 1);
	ck_assert_int_eq(f.lines, 307);

	/* its lines: every digest of both batches, sorted, repeats kept */
	for (size_t i = 0; i < a1.n; i++)
		all[n++] = a1.list[i];
	for (size_t i = 0; i < a2.n; i++)
		all[n++] = a2.list[i];
	qsort(all, n, sizeof(*all), cmp_str);
	blob = git_blob(repo, f.blob, &len);
	ck_assert_uint_eq(len, n * 65);
	for (size_t i = 0; i < n; i++) {
		ck_assert_msg(memcmp(blob + i * 65, all[i], 64) == 0 && blob[i * 65 + 64] == '\n',
			      "line %zu is not the %zuth smallest digest", i, i);
	}
	lethe_sha256_hex(want_sha, blob, len);
	ck_assert_str_eq(f.sha256, want_sha);
	free(blob);

	ck_assert_int_eq(lethe_ahead_take(&f, a, "b", 3), 1);
	blob = git_blob(repo, f.blob, &len);
	ck_assert_uint_eq(len, 3 * 65);
	free(blob);
	lethe_ahead_free(a);
}
END_TEST

/* A batch whose disposed rows are not its digests, or a rule whose batches
 * come again after another rule's: no file is taken for that rule. */
START_TEST(files_not_taken)
{
	static digests x, y1, z, y2, w;
	char repo[256];
	lethe_marker_file f = { 0 };
	lethe_ahead *a = new_ahead(repo, sizeof(repo));

	random_digests(&x, 5);
	random_digests(&y1, 4);
	random_digests(&z, 6);
	random_digests(&y2, 2);
	random_digests(&w, 1);
	lethe_ahead_batch(a, "x", x.bin[0], x.n, 9);
	lethe_ahead_batch(a, "y", y1.bin[0], y1.n, 4);
	lethe_ahead_batch(a, "z", z.bin[0], z.n, 6);
	lethe_ahead_batch(a, "y", y2.bin[0], y2.n, 2);
	lethe_ahead_batch(a, "w", w.bin[0], w.n, 1);
	lethe_ahead_close(a);
	ck_assert_int_eq(lethe_ahead_queued(a, "x"), 0); /* never queued: its batch was not usable */
	lethe_ahead_wait(a);
	ck_assert_int_eq(lethe_ahead_take(&f, a, "x", 9), 0);
	ck_assert_int_eq(lethe_ahead_take(&f, a, "x", 5), 0);
	ck_assert_int_eq(lethe_ahead_take(&f, a, "y", 4), 0);
	ck_assert_int_eq(lethe_ahead_take(&f, a, "y", 6), 0);
	ck_assert_int_eq(lethe_ahead_take(&f, a, "z", 6), 1);
	lethe_ahead_free(a);
}
END_TEST

/* A run that stops before its seal: freeing waits for the thread. */
START_TEST(free_without_seal)
{
	static digests p, q;
	char repo[256];
	lethe_ahead *a = new_ahead(repo, sizeof(repo));

	random_digests(&p, 200);
	random_digests(&q, 1);
	lethe_ahead_batch(a, "p", p.bin[0], p.n, 200);
	lethe_ahead_batch(a, "q", q.bin[0], q.n, 1);
	lethe_ahead_free(a);
	lethe_ahead_free(NULL);
}
END_TEST

/* A disk that fills while spooling (a file size limit, SIGXFSZ ignored, so
 * the spool's write fails with EFBIG): the rule whose batch could not be
 * spooled gets no file, nothing after it is spooled, and what was written
 * ahead before is still taken. */
START_TEST(spool_full)
{
	static digests small, big, after;
	struct rlimit lim = { 64 * 1024, 64 * 1024 };
	char repo[256];
	lethe_marker_file f = { 0 };
	lethe_ahead *a = new_ahead(repo, sizeof(repo));

	random_digests(&small, 10);
	random_digests(&big, MAXD);
	random_digests(&after, 1);
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	lethe_ahead_batch(a, "small", small.bin[0], small.n, 10);
	/* 400 digests a batch, 12,800 bytes: the sixth batch passes 64 KiB */
	for (int i = 0; i < 6; i++)
		lethe_ahead_batch(a, "big", big.bin[0], big.n, MAXD);
	lethe_ahead_batch(a, "after", after.bin[0], after.n, 1);
	lethe_ahead_close(a);
	lethe_ahead_wait(a);
	ck_assert_int_eq(lethe_ahead_take(&f, a, "small", 10), 1);
	ck_assert_int_eq(lethe_ahead_take(&f, a, "big", 6 * MAXD), 0);
	ck_assert_int_eq(lethe_ahead_take(&f, a, "big", 5 * MAXD), 0);
	ck_assert_int_eq(lethe_ahead_take(&f, a, "after", 1), 0);
	lethe_ahead_free(a);
}
END_TEST

static Suite *ahead_suite(void)
{
	Suite *s = suite_create("runlog_ahead");
	TCase *tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, unit_tmpdir_base_setup, unit_tmpdir_base_teardown);
	tcase_add_checked_fixture(tc, unit_tmpdir_setup, NULL);
	tcase_add_test(tc, files_written_ahead);
	tcase_add_test(tc, files_not_taken);
	tcase_add_test(tc, free_without_seal);
	tcase_add_test(tc, spool_full);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ahead_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
