/*
 * test_text.c - the one escaping of outside text (lethe/text.h): every
 * control character and every byte that is not UTF-8 escaped, well-formed
 * UTF-8 kept, excerpts cut after 40 characters and never inside one.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/text.h"

static void quoted(const char *in, size_t len, const char *want)
{
	char q[LETHE_EXCERPT_SIZE];

	ck_assert_str_eq(lethe_text_quote(q, in, len), want);
}

START_TEST(test_quote_escapes)
{
	quoted("abc", 3, "abc");
	quoted("a\\b", 3, "a\\\\b");
	quoted("x\n<3>y\r\t", 8, "x\\n<3>y\\r\\t");
	quoted("\x1b[2J\x7f", 5, "\\x1b[2J\\x7f");
	quoted("a\0b", 3, "a\\x00b");
	quoted("A\xff" "B", 3, "A\\xffB");
	quoted("\xc2\x9b", 2, "\\u009b");          /* C1 CSI, well-formed */
	quoted("\xc0\x80", 2, "\\xc0\\x80");       /* overlong NUL */
	quoted("\xed\xa0\x80", 3, "\\xed\\xa0\\x80"); /* a surrogate */
	quoted("\xe2\x82", 2, "\\xe2\\x82");       /* cut inside a character */
	quoted("\xc3\xa4\xe2\x82\xac\xf0\x9f\x98\x80", 9, "\xc3\xa4\xe2\x82\xac\xf0\x9f\x98\x80");
	quoted(NULL, 0, "");
}
END_TEST

START_TEST(test_quote_bounded)
{
	char in[200], want[200], q[LETHE_EXCERPT_SIZE];
	size_t n = 0;

	memset(in, 'k', 40);
	in[40] = '\0';
	quoted(in, 40, in);
	memset(in, 'k', 41);
	in[41] = '\0';
	memset(want, 'k', 40);
	strcpy(want + 40, "...");
	quoted(in, 41, want);
	/* 50 euro signs: 40 kept whole */
	for (int i = 0; i < 50; i++)
		memcpy(in + 3 * i, "\xe2\x82\xac", 3);
	for (int i = 0; i < 40; i++, n += 3)
		memcpy(want + n, "\xe2\x82\xac", 3);
	strcpy(want + n, "...");
	quoted(in, 150, want);
	/* the worst case fits: 41 bytes that all need \xHH */
	memset(in, 0xff, 41);
	lethe_text_quote(q, in, 41);
	ck_assert_uint_eq(strlen(q), 40 * 4 + 3);
}
END_TEST

START_TEST(test_line_keeps_backslashes)
{
	char *s = lethe_text_line("key 'a\\nb' then\nforged \x1b[2J \xff");

	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "key 'a\\nb' then\\nforged \\x1b[2J \\xff");
	free(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("text");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_quote_escapes);
	tcase_add_test(tc, test_quote_bounded);
	tcase_add_test(tc, test_line_keeps_backslashes);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
