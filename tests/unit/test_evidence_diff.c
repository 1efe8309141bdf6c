/*
 * test_evidence_diff.c - lethe_evidence_diff against stock git: for pairs of
 * commits made with git (adds, changes, removals, a mode change, a file that
 * becomes a folder and back, nested folders, untouched folders, the first
 * commit against nothing), the paths, statuses and blob ids it reports are
 * exactly those of `git diff-tree -r --no-renames`, in the same order.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "lethe/evidence.h"
#include "unit_tmpdir.h"

/* The whole stdout of a shell command (exit 0 required), malloc'd. */
static char *run_all(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	size_t cap = 1 << 16, n;
	char *s = calloc(1, cap);

	ck_assert_ptr_nonnull(p);
	n = fread(s, 1, cap - 1, p);
	s[n] = '\0';
	ck_assert_msg(pclose(p) == 0, "command failed: %s", cmd);
	return s;
}

typedef struct {
	char *text;  /* "S BLOB PATH\n" lines */
	size_t len;
} lines;

static int collect(void *ctx, char status, const char *path, const char *blob)
{
	lines *l = ctx;
	char *more = NULL;

	ck_assert_int_ne(asprintf(&more, "%s%c %s %s\n", l->text ? l->text : "", status, blob,
				  path), -1);
	free(l->text);
	l->text = more;
	return 0;
}

/* git's view of the same pair, in the same "S BLOB PATH" form. */
static char *git_view(const char *repo, const char *old, const char *new)
{
	char *cmd = NULL, *out;

	/* diff-tree prints ":OLDMODE NEWMODE OLDBLOB NEWBLOB S\tPATH"; a removal's
	 * blob is the old one */
	ck_assert_int_ne(asprintf(&cmd, "git -C '%s' diff-tree -r --no-renames --no-commit-id "
				  "%s%s %s | awk -F'\\t' '{ split($1, f, \" \"); "
				  "printf \"%%s %%s %%s\\n\", f[5], f[5] == \"D\" ? f[3] : f[4], $2 }'",
				  repo, old ? "" : "--root ", old ? old : "", new), -1);
	out = run_all(cmd);
	free(cmd);
	return out;
}

static char *head(const char *repo)
{
	char *cmd = NULL, *out;

	ck_assert_int_ne(asprintf(&cmd, "git -C '%s' rev-parse HEAD", repo), -1);
	out = run_all(cmd);
	free(cmd);
	out[40] = '\0';
	return out;
}

/* Run a shell step in the work tree and commit everything. */
static char *step(const char *repo, const char *sh)
{
	char *cmd = NULL;

	ck_assert_int_ne(asprintf(&cmd, "cd '%s' && { %s; } && git add -A && "
				  "git -c user.name=t -c user.email=t@x commit -q --allow-empty -m s",
				  repo, sh), -1);
	free(run_all(cmd));
	free(cmd);
	return head(repo);
}

START_TEST(diff_matches_git)
{
	static const char *const steps[] = {
		"mkdir -p a/b c records/00000 && echo 1 > a/b/f && echo 2 > c/g && echo 3 > top && "
		"echo r > records/00000/00000001-intent.json",
		"echo r2 > records/00000/00000002-completion.json",
		"echo 1b > a/b/f && rm c/g && echo 4 > c/h && echo 5 > a/new",
		"chmod +x top",
		"rm top && mkdir top && echo 6 > top/inside && echo 7 > top/z",
		"rm -r top && echo 8 > top && mkdir -p d/e/f && echo 9 > d/e/f/deep",
		"echo same > x1 && echo same > x2",
		"true",
	};
	char repo[256], *prev = NULL;
	lethe_evidence *ev = NULL;

	snprintf(repo, sizeof(repo), "%s/r", unit_tmpdir);
	{
		char *cmd = NULL;

		ck_assert_int_ne(asprintf(&cmd, "git init -q -b main '%s'", repo), -1);
		free(run_all(cmd));
		free(cmd);
	}
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		char *cur = step(repo, steps[i]), *want;
		lines got = { NULL, 0 };

		if (!ev)
			ck_assert_int_eq(lethe_evidence_open(&ev, repo), 0);
		ck_assert_int_eq(lethe_evidence_diff(ev, prev, cur, collect, &got), 0);
		want = git_view(repo, prev, cur);
		ck_assert_msg(!strcmp(got.text ? got.text : "", want),
			      "step %zu: lethe\n%s\ngit\n%s", i, got.text ? got.text : "", want);
		free(got.text);
		free(want);
		free(prev);
		prev = cur;
	}
	free(prev);
	lethe_evidence_free(ev);
}
END_TEST

static int stop_at_first(void *ctx, char status, const char *path, const char *blob)
{
	(void)status;
	(void)path;
	(void)blob;
	++*(int *)ctx;
	return -42;
}

START_TEST(callback_stops_the_walk)
{
	char repo[256], *cmd = NULL, *c1;
	lethe_evidence *ev = NULL;
	int calls = 0;

	snprintf(repo, sizeof(repo), "%s/r", unit_tmpdir);
	ck_assert_int_ne(asprintf(&cmd, "git init -q -b main '%s'", repo), -1);
	free(run_all(cmd));
	free(cmd);
	c1 = step(repo, "echo 1 > a && echo 2 > b");
	ck_assert_int_eq(lethe_evidence_open(&ev, repo), 0);
	ck_assert_int_eq(lethe_evidence_diff(ev, NULL, c1, stop_at_first, &calls), -42);
	ck_assert_int_eq(calls, 1);
	ck_assert_int_eq(lethe_evidence_diff(ev, NULL, "nothex", stop_at_first, &calls), LETHE_EDATA);
	free(c1);
	lethe_evidence_free(ev);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("evidence_diff");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_unchecked_fixture(tc, unit_tmpdir_base_setup, unit_tmpdir_base_teardown);
	tcase_add_checked_fixture(tc, unit_tmpdir_setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, diff_matches_git);
	tcase_add_test(tc, callback_stops_the_walk);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
