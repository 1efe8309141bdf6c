/*
 * test_approval.c - approvals (lethe/approval.h): the policy digest is
 * sha256sum's listing of the folder; an approval built for an approver's key
 * checks, and fails once any signed field changes or the allowed signers no
 * longer list the key on an approver line; a key listed without namespaces
 * or for "git" only is no approver; what changed between two sets is named.
 */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "lethe/approval.h"
#include "lethe/error.h"
#include "lethe/sshkey.h"
#include "ssh_test_util.h"
#include "unit_tmpdir.h"

#define A_TEXT "lethe: 1\nrules: []\n"
#define B_TEXT "lethe: 1\n# b\nrules: []\n"
#define AT "2026-12-01T10:00:00Z"

static void hex_sha256(char out[65], const char *text)
{
	unsigned char h[32];

	crypto_hash_sha256(h, (const unsigned char *)text, strlen(text));
	sodium_bin2hex(out, 65, h, 32);
}

/* A policy of two files (only its files matter to approvals). */
static lethe_policy *policy_of(const char *a, const char *b)
{
	lethe_policy *p = calloc(1, sizeof(*p));

	p->files = calloc(2, sizeof(char *));
	p->files[0] = fmt("%s/10-a.yaml", unit_tmpdir);
	p->files[1] = fmt("%s/20-b.yaml", unit_tmpdir);
	p->nfiles = 2;
	spit(p->files[0], a, strlen(a), 0644);
	spit(p->files[1], b, strlen(b), 0644);
	return p;
}

static void policy_free(lethe_policy *p)
{
	free(p->files[0]);
	free(p->files[1]);
	free(p->files);
	free(p);
}

static lethe_allowed_signers *signers_with(const lethe_sshkey *k, const char *options)
{
	lethe_allowed_signers *s = NULL;
	char *line = NULL, *text;

	ck_assert_int_eq(lethe_sshkey_public_line(&line, k), 0);
	text = fmt("anna@example.fi %s%s%s\n", options, *options ? " " : "", line);
	ck_assert_int_eq(lethe_allowed_signers_parse(&s, text, strlen(text), "signers"), 0);
	free(text);
	free(line);
	return s;
}

START_TEST(digest_is_sha256sum_listing)
{
	lethe_policy *p = policy_of(A_TEXT, B_TEXT);
	char got[65], a[65], b[65], want[65], *lines;
	json_t *files = NULL;

	hex_sha256(a, A_TEXT);
	hex_sha256(b, B_TEXT);
	lines = fmt("%s  10-a.yaml\n%s  20-b.yaml\n", a, b);
	hex_sha256(want, lines);
	ck_assert_int_eq(lethe_policy_digest(got, &files, p), 0);
	ck_assert_str_eq(got, want);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(files, 1), "path")),
			 "policies/20-b.yaml");
	ck_assert_int_eq(lethe_policy_digest_of(got, files), 0);
	ck_assert_str_eq(got, want);
	json_decref(files);
	free(lines);
	policy_free(p);
}
END_TEST

START_TEST(approval_checks_and_breaks)
{
	lethe_policy *p = policy_of(A_TEXT, B_TEXT);
	lethe_sshkey *k = NULL;
	lethe_allowed_signers *approver, *plain, *git;
	json_t *rec = NULL, *copy;

	ck_assert_int_eq(lethe_sshkey_generate(&k, "anna@example.fi"), 0);
	approver = signers_with(k, "namespaces=\"lethe-approval\"");
	plain = signers_with(k, "");
	git = signers_with(k, "namespaces=\"git\"");
	ck_assert_int_eq(lethe_approval_new(&rec, p, k, plain, "ok", AT), LETHE_ENOPERM);
	ck_assert_int_eq(lethe_approval_new(&rec, p, k, git, "ok", AT), LETHE_ENOPERM);
	ck_assert_int_eq(lethe_approval_new(&rec, p, k, approver, "two\nlines", AT), LETHE_EUSAGE);
	ck_assert_int_eq(lethe_approval_new(&rec, p, k, approver, "LEG-42 reviewed", AT), 0);
	ck_assert_str_eq(json_string_value(json_object_get(rec, "approver")), "anna@example.fi");
	ck_assert_str_eq(json_string_value(json_object_get(rec, "at")), AT);
	ck_assert_int_eq(lethe_approval_check(rec, approver), 0);
	/* an approval whose key is not (or no longer) on an approver line approves nothing */
	ck_assert_int_eq(lethe_approval_check(rec, plain), LETHE_EVERIFY);
	ck_assert_int_eq(lethe_approval_check(rec, git), LETHE_EVERIFY);
	/* every signed field is bound */
	static const char *const fields[] = { "reason", "approver", "at" };
	for (size_t i = 0; i < 3; i++) {
		copy = json_deep_copy(rec);
		json_object_set_new(copy, fields[i], json_string(i == 2 ? "2026-12-02T10:00:00Z"
								       : "other"));
		ck_assert_int_eq(lethe_approval_check(copy, approver), LETHE_EVERIFY);
		json_decref(copy);
	}
	copy = json_deep_copy(rec);
	json_object_set_new(json_array_get(json_object_get(copy, "policy"), 0), "sha256",
			    json_string("00000000000000000000000000000000000000000000000000000000"
					"00000000"));
	ck_assert_int_eq(lethe_approval_check(copy, approver), LETHE_EVERIFY);
	json_decref(copy);
	json_decref(rec);
	lethe_allowed_signers_free(approver);
	lethe_allowed_signers_free(plain);
	lethe_allowed_signers_free(git);
	lethe_sshkey_free(k);
	policy_free(p);
}
END_TEST

START_TEST(diff_names_files)
{
	json_t *a = json_pack("[{s:s, s:s}, {s:s, s:s}]", "path", "policies/10-a.yaml", "sha256", "1",
			      "path", "policies/20-b.yaml", "sha256", "2");
	json_t *b = json_pack("[{s:s, s:s}, {s:s, s:s}]", "path", "policies/10-a.yaml", "sha256", "9",
			      "path", "policies/30-c.yaml", "sha256", "3");
	char *what = NULL;

	ck_assert_int_eq(lethe_approval_diff(&what, a, b), 0);
	ck_assert_str_eq(what, "changed 10-a.yaml, added 30-c.yaml, removed 20-b.yaml");
	free(what);
	ck_assert_int_eq(lethe_approval_diff(&what, a, a), 0);
	ck_assert_str_eq(what, "");
	free(what);
	json_decref(a);
	json_decref(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("approval");
	TCase *tc = tcase_create("approval");
	SRunner *r;
	int failed;

	tcase_add_unchecked_fixture(tc, unit_tmpdir_base_setup, unit_tmpdir_base_teardown);
	tcase_add_checked_fixture(tc, unit_tmpdir_setup, NULL);
	tcase_add_test(tc, digest_is_sha256sum_listing);
	tcase_add_test(tc, approval_checks_and_breaks);
	tcase_add_test(tc, diff_names_files);
	suite_add_tcase(s, tc);
	r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
