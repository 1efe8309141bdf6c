/*
 * test_util.c - the utility layer: growable string (strbuf.h), vector of
 * owned strings (strvec.h), growable arrays (vec.h), hex and SHA-256 hex,
 * timestamps, and creating a new file durably (util.h).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lethe/error.h"
#include "strbuf.h"
#include "strvec.h"
#include "unit_tmpdir.h"
#include "util.h"
#include "vec.h"

START_TEST(strbuf_grows_and_keeps_nul)
{
	lethe_strbuf sb = LETHE_STRBUF_INIT;
	char *s;
	size_t len;

	ck_assert_str_eq(lethe_strbuf_str(&sb), "");
	ck_assert_ptr_null(sb.buf);
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(lethe_strbuf_addf(&sb, "%d,", i % 10), 0);
	ck_assert_uint_eq(sb.len, 2000);
	ck_assert_uint_lt(sb.len, sb.alloc);
	ck_assert_int_eq(sb.buf[sb.len], '\0');
	ck_assert_int_eq(strncmp(sb.buf, "0,1,2,", 6), 0);
	lethe_strbuf_setlen(&sb, 4);
	ck_assert_str_eq(lethe_strbuf_str(&sb), "0,1,");
	ck_assert_int_eq(lethe_strbuf_add(&sb, "a\0b", 3), 0);
	ck_assert_uint_eq(sb.len, 7);
	ck_assert_int_eq(memcmp(sb.buf, "0,1,a\0b", 8), 0);
	ck_assert_int_eq(lethe_strbuf_addch(&sb, 'z'), 0);
	ck_assert_int_eq(lethe_strbuf_adds(&sb, "!"), 0);
	s = lethe_strbuf_detach(&sb, &len);
	ck_assert_uint_eq(len, 9);
	ck_assert_int_eq(memcmp(s, "0,1,a\0bz!", 10), 0);
	ck_assert_ptr_null(sb.buf);
	ck_assert_uint_eq(sb.len + sb.alloc, 0);
	free(s);
	/* an empty buffer detaches as "" the caller owns */
	s = lethe_strbuf_detach(&sb, NULL);
	ck_assert_str_eq(s, "");
	free(s);
	ck_assert_int_eq(lethe_strbuf_adds(&sb, "again"), 0);
	lethe_strbuf_reset(&sb);
	ck_assert_str_eq(lethe_strbuf_str(&sb), "");
	ck_assert_uint_gt(sb.alloc, 0);
	lethe_strbuf_release(&sb);
	ck_assert_ptr_null(sb.buf);
}
END_TEST

START_TEST(strbuf_reads_files)
{
	lethe_strbuf sb = LETHE_STRBUF_INIT;
	char *path = NULL;
	FILE *f;

	ck_assert_int_ge(asprintf(&path, "%s/big", unit_tmpdir), 0);
	f = fopen(path, "wb");
	for (int i = 0; i < 5000; i++)
		fprintf(f, "line %04d\n", i);
	fclose(f);
	ck_assert_int_eq(lethe_strbuf_adds(&sb, ">"), 0);
	ck_assert_int_eq(lethe_strbuf_read_file(&sb, path), 0);
	ck_assert_uint_eq(sb.len, 1 + 5000 * 10);
	ck_assert_int_eq(strncmp(sb.buf, ">line 0000\n", 11), 0);
	ck_assert_str_eq(sb.buf + sb.len - 10, "line 4999\n");
	/* a missing file: an I/O error naming it, the buffer unchanged */
	path[strlen(path) - 1] = 'X';
	ck_assert_int_eq(lethe_strbuf_read_file(&sb, path), LETHE_EIO);
	ck_assert_ptr_nonnull(strstr(lethe_error_last(), "cannot read '"));
	ck_assert_uint_eq(sb.len, 1 + 5000 * 10);
	lethe_strbuf_release(&sb);
	free(path);
}
END_TEST

START_TEST(strvec_owns_and_terminates)
{
	lethe_strvec sv = LETHE_STRVEC_INIT;
	char name[16];

	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "rule-%d", i);
		ck_assert_int_eq(lethe_strvec_push(&sv, name), 0);
		ck_assert_ptr_null(sv.v[sv.n]);
	}
	ck_assert_int_eq(lethe_strvec_pushf(&sv, "x-%s-%d", "y", 7), 0);
	ck_assert_int_eq(lethe_strvec_push_owned(&sv, strdup("owned")), 0);
	ck_assert_uint_eq(sv.n, 102);
	ck_assert_str_eq(sv.v[0], "rule-0");
	ck_assert_str_eq(sv.v[99], "rule-99");
	ck_assert_str_eq(sv.v[100], "x-y-7");
	ck_assert_ptr_null(sv.v[102]);
	ck_assert(lethe_strvec_contains(&sv, "rule-42"));
	ck_assert(!lethe_strvec_contains(&sv, "rule-420"));
	lethe_strvec_clear(&sv);
	ck_assert_ptr_null(sv.v);
	ck_assert_uint_eq(sv.n, 0);
	/* push_owned of NULL (a failed strdup) reports out of memory */
	ck_assert_int_eq(lethe_strvec_push_owned(&sv, NULL), LETHE_ESOFTWARE);
	ck_assert_uint_eq(sv.n, 0);
}
END_TEST

typedef struct {
	int64_t a;
	char b[3];
} item;

START_TEST(vec_grows_without_fixed_capacity)
{
	item *items = NULL;
	size_t n = 0, cap = 0;
	void *p;

	for (int i = 0; i < 100000; i++) {
		ck_assert_int_eq(LETHE_VEC_RESERVE(items, n + 1, cap), 0);
		ck_assert_uint_le(n + 1, cap);
		items[n].a = i;
		items[n].b[0] = (char)('a' + i % 26);
		n++;
	}
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(items[i].a, (int64_t)i);
	ck_assert_uint_lt(cap, 2 * n + 8);
	/* a reservation within capacity changes nothing */
	p = items;
	ck_assert_int_eq(LETHE_VEC_RESERVE(items, 10, cap), 0);
	ck_assert_ptr_eq(p, items);
	/* an impossible size fails and leaves the array as it was */
	{
		size_t before = cap;

		ck_assert_int_eq(LETHE_VEC_RESERVE(items, SIZE_MAX / 4, cap), LETHE_ESOFTWARE);
		ck_assert_uint_eq(cap, before);
		ck_assert_ptr_eq(p, items);
		ck_assert_int_eq(items[n - 1].a, (int64_t)n - 1);
	}
	free(items);
}
END_TEST

START_TEST(hex_and_time)
{
	char hex[LETHE_SHA256_HEX_SIZE], small[7], at[LETHE_ISO_TIME_SIZE];
	crypto_hash_sha256_state st;

	lethe_hex(small, "\x01\xab\xff", 3);
	ck_assert_str_eq(small, "01abff");
	lethe_sha256_hex(hex, "abc", 3);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)"a", 1);
	crypto_hash_sha256_update(&st, (const unsigned char *)"bc", 2);
	memset(hex, 0, sizeof(hex));
	lethe_sha256_final_hex(hex, &st);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	lethe_time_iso(at, 1764000000);
	ck_assert_str_eq(at, "2025-11-24T16:00:00Z");
	lethe_now_iso(at);
	ck_assert_uint_eq(strlen(at), 20);
	ck_assert_int_eq(at[19], 'Z');
}
END_TEST

START_TEST(create_new_file_refuses_and_syncs)
{
	char *path = NULL, *link = NULL, buf[16] = "";
	struct stat st;
	mode_t old = umask(077);
	int fd;

	ck_assert_int_ge(asprintf(&path, "%s/key", unit_tmpdir), 0);
	ck_assert_int_ge(asprintf(&link, "%s/planted", unit_tmpdir), 0);
	ck_assert_int_eq(lethe_file_create_new(path, 0644, "secret\n", 7, "pseudonym key"), 0);
	umask(old);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0644);   /* whatever the umask */
	fd = open(path, O_RDONLY);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 7);
	close(fd);
	ck_assert_str_eq(buf, "secret\n");
	/* an existing file is never overwritten */
	ck_assert_int_eq(lethe_file_create_new(path, 0600, "other", 5, "pseudonym key"),
			 LETHE_ECANTCREAT);
	ck_assert_ptr_nonnull(strstr(lethe_error_last(), "already exists"));
	ck_assert_ptr_nonnull(strstr(lethe_error_last(), "pseudonym key '"));
	fd = open(path, O_RDONLY);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 7);
	close(fd);
	/* nor followed through a planted symbolic link */
	ck_assert_int_eq(symlink(path, link), 0);
	ck_assert_int_eq(lethe_file_create_new(link, 0600, "x", 1, NULL), LETHE_ECANTCREAT);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, 7);
	ck_assert_int_eq(lethe_fsync_folder(path), 0);
	/* a folder that does not exist */
	free(link);
	ck_assert_int_ge(asprintf(&link, "%s/nowhere/file", unit_tmpdir), 0);
	ck_assert_int_eq(lethe_file_create_new(link, 0600, "x", 1, NULL), LETHE_ECANTCREAT);
	ck_assert_int_eq(lethe_fsync_folder(link), LETHE_EIO);
	free(path);
	free(link);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("util");
	SRunner *r;
	int failed;

	tcase_add_unchecked_fixture(tc, unit_tmpdir_base_setup, unit_tmpdir_base_teardown);
	tcase_add_checked_fixture(tc, unit_tmpdir_setup, NULL);
	tcase_add_test(tc, strbuf_grows_and_keeps_nul);
	tcase_add_test(tc, strbuf_reads_files);
	tcase_add_test(tc, strvec_owns_and_terminates);
	tcase_add_test(tc, vec_grows_without_fixed_capacity);
	tcase_add_test(tc, hex_and_time);
	tcase_add_test(tc, create_new_file_refuses_and_syncs);
	suite_add_tcase(s, tc);
	r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
