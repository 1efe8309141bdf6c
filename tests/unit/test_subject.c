/*
 * test_subject.c - suppression tokens of contact values: the normalisation
 * (trimmed; e-mail addresses NFC and Unicode case folded; other values NFC
 * without " -.()"), ASCII values keeping the tokens of earlier versions
 * (plain ASCII lower case), values that are tokens kept as they are, and
 * text that is not UTF-8 folded ASCII-only.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "lethe/subject.h"
#include "lethe/token.h"
#include "unit_tmpdir.h"

static lethe_token_key *key(void)
{
	char path[256];
	lethe_token_key *k = NULL;

	snprintf(path, sizeof(path), "%s/pseudonym.key", unit_tmpdir);
	ck_assert_int_eq(lethe_token_key_create(path), 0);
	ck_assert_int_eq(lethe_token_key_load(&k, path), 0);
	return k;
}

/* The suppression token of s, and the plain token of want: equal? */
static int same(const lethe_token_key *k, const char *s, const char *want)
{
	char a[LETHE_TOKEN_SIZE], b[LETHE_TOKEN_SIZE];

	ck_assert_int_eq(lethe_suppression_token(a, k, s, strlen(s)), 0);
	lethe_token(b, k, want, strlen(want));
	return !strcmp(a, b);
}

START_TEST(test_ascii_as_before)
{
	lethe_token_key *k = key();

	ck_assert(same(k, " Matti.Meikalainen@Example.ORG\n", "matti.meikalainen@example.org"));
	ck_assert(same(k, "+358 (40) 123-45.67", "+358401234567"));
	ck_assert(same(k, "Matti", "Matti"));          /* not an address: case kept */
	lethe_token_key_free(k);
}
END_TEST

START_TEST(test_unicode_case)
{
	lethe_token_key *k = key();
	char a[LETHE_TOKEN_SIZE], b[LETHE_TOKEN_SIZE];
	const char *nfd = "a\xcc\x88ij\xc3\xa4@x.fi";  /* a + combining diaeresis */

	ck_assert(same(k, "\xc3\x84IJ\xc3\x84@X.FI", "\xc3\xa4ij\xc3\xa4@x.fi"));  /* ÄIJÄ */
	ck_assert(same(k, nfd, "\xc3\xa4ij\xc3\xa4@x.fi"));
	ck_assert(same(k, "Stra\xc3\x9f" "e@x.de", "strasse@x.de"));            /* ß folds to ss */
	/* a name is not an address: NFC, but its case is kept */
	ck_assert(same(k, "a\xcc\x88", "\xc3\xa4"));
	ck_assert(!same(k, "\xc3\x84", "\xc3\xa4"));
	/* not UTF-8: ASCII folded, other bytes as they are */
	ck_assert(same(k, "AB\xff@X", "ab\xff@x"));
	ck_assert_int_eq(lethe_suppression_token(a, k, "", 0), 0);
	lethe_token(b, k, "", 0);
	ck_assert_str_eq(a, b);
	lethe_token_key_free(k);
}
END_TEST

START_TEST(test_token_as_is)
{
	lethe_token_key *k = key();
	char t[LETHE_TOKEN_SIZE], got[LETHE_TOKEN_SIZE], padded[64];

	lethe_token(t, k, "a@x.fi", 6);
	ck_assert_int_eq(lethe_suppression_token(got, k, t, strlen(t)), 0);
	ck_assert_str_eq(got, t);
	snprintf(padded, sizeof(padded), " %s\n", t);
	ck_assert_int_eq(lethe_suppression_token(got, k, padded, strlen(padded)), 0);
	ck_assert_str_eq(got, t);
	/* upper-case hex is no token: it is tokenised */
	t[5] = 'A';
	ck_assert_int_eq(lethe_suppression_token(got, k, t, strlen(t)), 0);
	ck_assert_str_ne(got, t);
	lethe_token_key_free(k);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("subject");
	TCase *tc = tcase_create("subject");
	SRunner *sr;
	int failed;

	tcase_add_unchecked_fixture(tc, unit_tmpdir_base_setup, unit_tmpdir_base_teardown);
	tcase_add_checked_fixture(tc, unit_tmpdir_setup, NULL);
	tcase_add_test(tc, test_ascii_as_before);
	tcase_add_test(tc, test_unicode_case);
	tcase_add_test(tc, test_token_as_is);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
