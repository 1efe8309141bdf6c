/*
 * test_token.c - keyed pseudonym tokens, digests and key files, on real key
 * files in a temporary folder.
 *
 * The known answers were computed independently of libsodium, with Python's
 * hashlib, for the key bytes 0x00..0x1f:
 *   hashlib.blake2b(value, key=key, person=b"lethe-token-v1", digest_size=16)
 *   hashlib.blake2b(len(domain).to_bytes(8, "little") + domain + data,
 *                   key=key, person=b"lethe-digest-v1", digest_size=32)
 *   hashlib.blake2b(len(value).to_bytes(8, "little") + value + type + row,
 *                   key=key, person=b"lethe-tokrow-v1", digest_size=16)
 * A failure there means every token and digest already written would change.
 */
#include <check.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lethe/error.h"
#include "lethe/token.h"
#include "digest_bin.h"
#include "unit_tmpdir.h"

#define KAT_ALICE "tok_76ea3a8a74f5f54651412556b63dcecd"
#define KAT_EMPTY "tok_a8a2663b58151de83b2b65ce51ed84bf"
#define KAT_DIGEST "5c8fc434b050f40b91b1c8a0ac2f922719c50654c451fb60184d93d30ec1446f"
#define KAT_ROW_I42 "tok_4943ecdc341da7c31ef95a91d09700d5"
#define KAT_ROW_I43 "tok_bed4a464b57f420fc6f666ec27cdaf9c"
#define KAT_ROW_T42 "tok_493722e56171b102d2167cdcf0142672"
#define KEY_0_31_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

/* The path of name inside the test folder; the caller frees it. */
static char *path_of(const char *name)
{
	char *p = malloc(256);

	ck_assert_ptr_nonnull(p);
	snprintf(p, 256, "%s/%s", unit_tmpdir, name);
	return p;
}

/* Write a file of the test folder with the given mode; returns its path, which
 * the caller frees. */
static char *write_file(const char *name, const void *data, size_t len, mode_t mode)
{
	char *p = path_of(name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
	return p;
}

static lethe_token_key *load_ok(const char *path)
{
	lethe_token_key *k = NULL;
	int rc = lethe_token_key_load(&k, path);

	ck_assert_msg(rc == 0, "load '%s' failed: %s", path, lethe_error_last());
	ck_assert_ptr_nonnull(k);
	return k;
}

/* A key with the bytes 0x00..0x1f, loaded from a raw key file. */
static lethe_token_key *kat_key(void)
{
	unsigned char raw[32];
	lethe_token_key *k;
	char *p;
	int i;

	for (i = 0; i < 32; i++)
		raw[i] = (unsigned char)i;
	p = write_file("kat.key", raw, sizeof(raw), 0600);
	k = load_ok(p);
	free(p);
	return k;
}

static void token_of(char out[LETHE_TOKEN_SIZE], const lethe_token_key *k, const char *s)
{
	memset(out, 'x', LETHE_TOKEN_SIZE);
	lethe_token(out, k, s, strlen(s));
}

/* Loading path fails with code and a message containing want. */
static void load_fails(const char *path, int code, const char *want)
{
	lethe_token_key *sentinel = (lethe_token_key *)&sentinel;
	lethe_token_key *k = sentinel;
	int rc = lethe_token_key_load(&k, path);

	ck_assert_msg(rc == code, "load '%s': rc %d, want %d (%s)", path, rc, code,
		      lethe_error_last());
	ck_assert_int_eq(lethe_error_last_code(), code);
	ck_assert_msg(strstr(lethe_error_last(), want) != NULL,
		      "message '%s' lacks '%s'", lethe_error_last(), want);
	ck_assert_ptr_eq(k, sentinel);     /* out written only on success */
}

START_TEST(test_known_answers)
{
	lethe_token_key *k = kat_key();
	char tok[LETHE_TOKEN_SIZE];
	char dig[LETHE_DIGEST_SIZE];

	token_of(tok, k, "alice@example.com");
	ck_assert_str_eq(tok, KAT_ALICE);
	token_of(tok, k, "");
	ck_assert_str_eq(tok, KAT_EMPTY);
	memset(dig, 'x', sizeof(dig));
	lethe_digest(dig, k, "orders-bookkeeping", "42", 2);
	ck_assert_str_eq(dig, KAT_DIGEST);
	lethe_token_key_free(k);
}
END_TEST

/* Row tokens (UNIQUE columns): bound to the row's key and its type, and
 * never the plain token of the same value. */
START_TEST(test_row_known_answers)
{
	static const char v[] = "alice@example.com";
	lethe_token_key *k = kat_key();
	char tok[LETHE_TOKEN_SIZE];

	lethe_token_row(tok, k, v, strlen(v), 'i', "42", 2);
	ck_assert_str_eq(tok, KAT_ROW_I42);
	lethe_token_row(tok, k, v, strlen(v), 'i', "43", 2);
	ck_assert_str_eq(tok, KAT_ROW_I43);
	lethe_token_row(tok, k, v, strlen(v), 't', "42", 2);
	ck_assert_str_eq(tok, KAT_ROW_T42);
	ck_assert_str_ne(tok, KAT_ALICE);
	ck_assert(lethe_token_looks_like(tok, strlen(tok)));
	lethe_token_key_free(k);
}
END_TEST

START_TEST(test_hex_key_forms)
{
	/* 64 hex digits, with and without the newline, are the same key as the
	 * raw bytes (so the same known answer). */
	static const char *forms[] = { KEY_0_31_HEX "\n", KEY_0_31_HEX };
	char tok[LETHE_TOKEN_SIZE];
	size_t i;

	for (i = 0; i < 2; i++) {
		char *p = write_file("hex.key", forms[i], strlen(forms[i]), 0600);
		lethe_token_key *k = load_ok(p);

		token_of(tok, k, "alice@example.com");
		ck_assert_str_eq(tok, KAT_ALICE);
		lethe_token_key_free(k);
		free(p);
	}
}
END_TEST

START_TEST(test_same_and_different)
{
	static const char other_hex[] =
		"ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
	lethe_token_key *k = kat_key();
	char *p = write_file("other.key", other_hex, strlen(other_hex), 0400);
	lethe_token_key *k2 = load_ok(p);
	char a[LETHE_TOKEN_SIZE], b[LETHE_TOKEN_SIZE];

	token_of(a, k, "Matti Meikäläinen");
	token_of(b, k, "Matti Meikäläinen");
	ck_assert_str_eq(a, b);
	token_of(b, k, "Matti Meikalainen");
	ck_assert_str_ne(a, b);
	token_of(b, k2, "Matti Meikäläinen");
	ck_assert_str_ne(a, b);
	/* Bytes count, not a C string: an embedded NUL changes the token. */
	lethe_token(a, k, "ab\0c", 4);
	lethe_token(b, k, "ab\0d", 4);
	ck_assert_str_ne(a, b);
	lethe_token_key_free(k2);
	lethe_token_key_free(k);
	free(p);
}
END_TEST

START_TEST(test_token_shape)
{
	lethe_token_key *k = kat_key();
	char tok[LETHE_TOKEN_SIZE];
	char bad[LETHE_TOKEN_SIZE + 1];

	token_of(tok, k, "4111 1111 1111 1111");
	ck_assert_uint_eq(strlen(tok), LETHE_TOKEN_LEN);
	ck_assert_int_eq(lethe_token_looks_like(tok, strlen(tok)), 1);
	ck_assert_int_eq(lethe_token_looks_like(KAT_ALICE, LETHE_TOKEN_LEN), 1);

	ck_assert_int_eq(lethe_token_looks_like(tok, LETHE_TOKEN_LEN - 1), 0);
	ck_assert_int_eq(lethe_token_looks_like("", 0), 0);
	ck_assert_int_eq(lethe_token_looks_like(NULL, 0), 0);
	memcpy(bad, tok, LETHE_TOKEN_SIZE);
	bad[LETHE_TOKEN_LEN] = 'a';
	ck_assert_int_eq(lethe_token_looks_like(bad, LETHE_TOKEN_LEN + 1), 0);
	memcpy(bad, tok, LETHE_TOKEN_SIZE);
	bad[0] = 'T';
	ck_assert_int_eq(lethe_token_looks_like(bad, LETHE_TOKEN_LEN), 0);
	memcpy(bad, "tok_76EA3A8A74F5F54651412556B63DCECD", LETHE_TOKEN_SIZE);
	ck_assert_int_eq(lethe_token_looks_like(bad, LETHE_TOKEN_LEN), 0);
	memcpy(bad, "tok_76ea3a8a74f5f54651412556b63dcecg", LETHE_TOKEN_SIZE);
	ck_assert_int_eq(lethe_token_looks_like(bad, LETHE_TOKEN_LEN), 0);
	lethe_token_key_free(k);
}
END_TEST

START_TEST(test_digest_domains)
{
	lethe_token_key *k = kat_key();
	char d1[LETHE_DIGEST_SIZE], d2[LETHE_DIGEST_SIZE];
	char tok[LETHE_TOKEN_SIZE];
	size_t i;

	lethe_digest(d1, k, "ab", "c", 1);
	lethe_digest(d2, k, "a", "bc", 2);
	ck_assert_str_ne(d1, d2);
	lethe_digest(d2, k, "ab", "c", 1);
	ck_assert_str_eq(d1, d2);
	lethe_digest(d2, k, "other-rule", "c", 1);
	ck_assert_str_ne(d1, d2);

	ck_assert_uint_eq(strlen(d1), LETHE_DIGEST_LEN);
	for (i = 0; i < LETHE_DIGEST_LEN; i++)
		ck_assert(strchr("0123456789abcdef", d1[i]) != NULL);
	/* A digest with an empty domain is not the value's token either. */
	lethe_digest(d1, k, "", "x", 1);
	token_of(tok, k, "x");
	ck_assert(strncmp(d1, tok + 4, 32) != 0);
	lethe_token_key_free(k);
}
END_TEST

/* The binary digest a run's batches sort and mark is the text digest's
 * bytes: written in hex it is lethe_digest_value's text, for values of
 * every length. */
START_TEST(test_digest_binary_is_text)
{
	lethe_token_key *k = kat_key();
	lethe_digest_ctx c;
	unsigned char bin[LETHE_DIGEST_BIN];
	char text[LETHE_DIGEST_SIZE], hex[LETHE_DIGEST_SIZE];
	char value[300];

	lethe_digest_start(&c, k, "a-rule");
	for (size_t n = 0; n < sizeof(value); n += 7) {
		memset(value, 'a' + (int)(n % 26), n);
		lethe_digest_value(text, &c, value, n);
		lethe_digest_value_bin(bin, &c, value, n);
		for (size_t i = 0; i < LETHE_DIGEST_BIN; i++)
			snprintf(hex + 2 * i, 3, "%02x", bin[i]);
		ck_assert_str_eq(hex, text);
	}
	lethe_digest_end(&c);
	lethe_token_key_free(k);
}
END_TEST

static int cmp_bin(const void *a, const void *b)
{
	return memcmp(a, b, LETHE_DIGEST_BIN);
}

/* The in-place sort a batch's digests go through gives qsort's order, for
 * batch sizes around its bucket counts, for digests all in one bucket (its
 * qsort path), and with repeats. */
START_TEST(test_digests_sort_in_place)
{
	static const size_t sizes[] = { 0, 1, 2, 17, 255, 256, 257, 4097, 70000 };
	uint64_t seed = 88172645463325252ULL;

	for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++)
		for (int shape = 0; shape < 3; shape++) {
			size_t n = sizes[z];
			unsigned char *d = calloc(n ? n : 1, LETHE_DIGEST_BIN), *want = calloc(n ? n : 1, LETHE_DIGEST_BIN);

			ck_assert_ptr_nonnull(d);
			ck_assert_ptr_nonnull(want);
			for (size_t i = 0; i < n * LETHE_DIGEST_BIN; i++) {
				seed ^= seed << 13;
				seed ^= seed >> 7;
				seed ^= seed << 17;
				d[i] = (unsigned char)seed;
			}
			for (size_t i = 0; i < n; i++) {
				if (shape == 1)         /* one bucket */
					d[i * LETHE_DIGEST_BIN] = d[i * LETHE_DIGEST_BIN + 1] = 0x5a;
				if (shape == 2 && i % 3) /* repeats */
					memcpy(d + i * LETHE_DIGEST_BIN, d + (i - 1) * LETHE_DIGEST_BIN, LETHE_DIGEST_BIN);
			}
			memcpy(want, d, n * LETHE_DIGEST_BIN);
			qsort(want, n, LETHE_DIGEST_BIN, cmp_bin);
			ck_assert_int_eq(lethe_digests_sort(d, n), 0);
			ck_assert_msg(!memcmp(d, want, n * LETHE_DIGEST_BIN), "%zu digests, shape %d", n, shape);
			free(d);
			free(want);
		}
}
END_TEST

START_TEST(test_load_wrong_content)
{
	static const char *bad[] = {
		"",
		"0123456789abcdef0123456789abcde",              /* 31 bytes */
		"0123456789abcdef0123456789abcdef0",            /* 33 bytes */
		KEY_0_31_HEX "\n\n",
		KEY_0_31_HEX " ",
		KEY_0_31_HEX "00",
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1\n",
		"g00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *p = write_file("bad.key", bad[i], strlen(bad[i]), 0600);

		load_fails(p, LETHE_EDATA, "must hold 32 bytes");
		free(p);
	}
}
END_TEST

START_TEST(test_load_mode_refused)
{
	char *p = write_file("open.key", KEY_0_31_HEX "\n", 65, 0644);
	char want[300];

	snprintf(want, sizeof(want),
		 "pseudonym key '%s' is readable by others (mode 0644): chmod 600 '%s'",
		 p, p);
	load_fails(p, LETHE_ENOPERM, want);
	ck_assert_int_eq(chmod(p, 0640), 0);
	load_fails(p, LETHE_ENOPERM, "(mode 0640)");
	ck_assert_int_eq(chmod(p, 0601), 0);
	load_fails(p, LETHE_ENOPERM, "(mode 0601)");
	ck_assert_int_eq(chmod(p, 0600), 0);
	lethe_token_key_free(load_ok(p));
	free(p);
}
END_TEST

START_TEST(test_load_symlink_missing_special)
{
	char *target = write_file("real.key", KEY_0_31_HEX "\n", 65, 0600);
	char *link = path_of("link.key");
	char *missing = path_of("missing.key");
	char *sub = path_of("sub");
	char *fifo = path_of("fifo.key");

	ck_assert_int_eq(symlink(target, link), 0);
	load_fails(link, LETHE_EDATA, "is a symbolic link");
	load_fails(missing, LETHE_ENOINPUT, "does not exist");
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	load_fails(sub, LETHE_EDATA, "not a regular file");
	/* A FIFO is refused at once, not waited on. */
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	load_fails(fifo, LETHE_EDATA, "not a regular file");
	free(target);
	free(link);
	free(missing);
	free(sub);
	free(fifo);
}
END_TEST

START_TEST(test_create_then_load)
{
	char *p = path_of("new.key");
	char *q = path_of("second.key");
	char content[80];
	struct stat st;
	lethe_token_key *k, *k2;
	char a[LETHE_TOKEN_SIZE], b[LETHE_TOKEN_SIZE];
	FILE *f;
	size_t n, i;

	ck_assert_msg(lethe_token_key_create(p) == 0, "%s", lethe_error_last());
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq((int)st.st_size, 65);
	f = fopen(p, "rb");
	ck_assert_ptr_nonnull(f);
	n = fread(content, 1, sizeof(content), f);
	fclose(f);
	ck_assert_uint_eq(n, 65);
	ck_assert_int_eq(content[64], '\n');
	for (i = 0; i < 64; i++)
		ck_assert(strchr("0123456789abcdef", content[i]) != NULL);

	k = load_ok(p);
	ck_assert_msg(lethe_token_key_create(q) == 0, "%s", lethe_error_last());
	k2 = load_ok(q);
	token_of(a, k, "alice@example.com");
	token_of(b, k2, "alice@example.com");
	ck_assert_str_ne(a, b);          /* two fresh keys differ */
	ck_assert_str_ne(a, KAT_ALICE);
	lethe_token_key_free(k);
	lethe_token_key_free(k2);
	free(p);
	free(q);
}
END_TEST

START_TEST(test_create_refuses)
{
	char *p = write_file("exists.key", "keep me", 7, 0600);
	char *link = path_of("dangling.key");
	char *target = path_of("not-created.key");
	char *nodir = path_of("no/such/folder.key");
	char content[16] = { 0 };
	FILE *f;

	ck_assert_int_eq(lethe_token_key_create(p), LETHE_ECANTCREAT);
	ck_assert_ptr_nonnull(strstr(lethe_error_last(), "already exists"));
	f = fopen(p, "rb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fread(content, 1, sizeof(content) - 1, f), 7);
	fclose(f);
	ck_assert_str_eq(content, "keep me");

	/* A dangling symbolic link is not followed to create its target. */
	ck_assert_int_eq(symlink(target, link), 0);
	ck_assert_int_eq(lethe_token_key_create(link), LETHE_ECANTCREAT);
	ck_assert_int_eq(access(target, F_OK), -1);

	ck_assert_int_eq(lethe_token_key_create(nodir), LETHE_ECANTCREAT);
	ck_assert_ptr_nonnull(strstr(lethe_error_last(), "cannot create"));
	free(p);
	free(link);
	free(target);
	free(nodir);
}
END_TEST

START_TEST(test_free_null)
{
	lethe_token_key_free(NULL);
}
END_TEST

static Suite *token_suite(void)
{
	Suite *s = suite_create("token");
	TCase *tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, unit_tmpdir_base_setup, unit_tmpdir_base_teardown);
	tcase_add_checked_fixture(tc, unit_tmpdir_setup, NULL);
	tcase_add_test(tc, test_known_answers);
	tcase_add_test(tc, test_row_known_answers);
	tcase_add_test(tc, test_hex_key_forms);
	tcase_add_test(tc, test_same_and_different);
	tcase_add_test(tc, test_token_shape);
	tcase_add_test(tc, test_digest_domains);
	tcase_add_test(tc, test_digest_binary_is_text);
	tcase_add_test(tc, test_digests_sort_in_place);
	tcase_add_test(tc, test_load_wrong_content);
	tcase_add_test(tc, test_load_mode_refused);
	tcase_add_test(tc, test_load_symlink_missing_special);
	tcase_add_test(tc, test_create_then_load);
	tcase_add_test(tc, test_create_refuses);
	tcase_add_test(tc, test_free_null);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(token_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
