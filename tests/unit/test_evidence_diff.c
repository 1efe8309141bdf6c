/*
 * test_evidence_diff.c - lethe_evidence_diff against stock git: for pairs of
 * commits made with git (adds, changes, removals, a mode change, a file that
 * becomes a folder and back, nested folders, untouched folders, the first
 * commit against nothing), the paths, statuses and blob ids it reports are
 * exactly those of `git diff-tree -r --no-renames`, in the same order; the
 * same by tree ids (lethe_evidence_diff_trees) in and out of history order,
 * so trees kept from one diff to the next are never taken for others; a tree
 * stored out of git's order, kept and compared again; and path lookups by
 * tree id (lethe_evidence_tree_file_id) equal to lethe_evidence_file_id.
 */
#include <check.h>
#include <stdarg.h>
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


/* The object id a command prints (cmd malloc'd, freed here). */
static char *id_from(char *cmd)
{
	char *out;

	ck_assert_ptr_nonnull(cmd);
	out = run_all(cmd);
	free(cmd);
	out[40] = '\0';
	return out;
}

/* An asprintf'd string, or NULL. */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	char *s = NULL;
	va_list ap;

	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* The tree id of commit c. */
static char *tree_of(const char *repo, const char *c)
{
	return id_from(fmt("git -C '%s' rev-parse %s^{tree}", repo, c));
}

static void git_init(const char *repo)
{
	char *cmd = NULL;

	ck_assert_int_ne(asprintf(&cmd, "git init -q -b main '%s'", repo), -1);
	free(run_all(cmd));
	free(cmd);
}

START_TEST(diff_trees_matches_git_in_any_order)
{
	static const char *const steps[] = {
		"mkdir -p a/b records/00000 && echo 1 > a/b/f && echo 3 > top && "
		"echo r > records/00000/00000001-intent.json",
		"echo r2 > records/00000/00000002-completion.json && echo 1b > a/b/f",
		"rm top && mkdir top && echo 6 > top/inside",
		"echo r3 > records/00000/00000003-intent.json && mkdir -p d/e && echo 9 > d/e/g",
	};
	/* pairs of steps (-1: nothing), the first ones in history order */
	static const int pairs[][2] = { { -1, 0 }, { 0, 1 }, { 1, 2 }, { 2, 3 }, { 3, 0 },
					{ 0, 3 }, { 2, 2 }, { 1, 3 }, { 3, -1 } };
	char repo[256], *c[4], *t[4];
	lethe_evidence *ev = NULL;

	snprintf(repo, sizeof(repo), "%s/r", unit_tmpdir);
	git_init(repo);
	for (size_t i = 0; i < 4; i++) {
		c[i] = step(repo, steps[i]);
		t[i] = tree_of(repo, c[i]);
	}
	ck_assert_int_eq(lethe_evidence_open(&ev, repo), 0);
	for (size_t k = 0; k < sizeof(pairs) / sizeof(pairs[0]); k++) {
		int a = pairs[k][0], b = pairs[k][1];
		lines got = { NULL, 0 };
		char *want;

		if (b < 0) {
			ck_assert_int_eq(lethe_evidence_diff_trees(ev, t[a], "nothex", collect, &got),
					 LETHE_EDATA);
			continue;
		}
		ck_assert_int_eq(lethe_evidence_diff_trees(ev, a < 0 ? NULL : t[a], t[b], collect,
							   &got), 0);
		/* git diff-tree --root needs a commit: against the empty tree */
		want = git_view(repo, a < 0 ? "4b825dc642cb6eb9a060e54bf8d69288fbee4904" : t[a], t[b]);
		ck_assert_msg(!strcmp(got.text ? got.text : "", want), "pair %d %d: lethe\n%s\ngit\n%s",
			      a, b, got.text ? got.text : "", want);
		free(got.text);
		free(want);
	}
	for (size_t i = 0; i < 4; i++) {
		free(c[i]);
		free(t[i]);
	}
	lethe_evidence_free(ev);
}
END_TEST

/* A 40-hex id as printf octal escapes of its 20 bytes (for sh's printf). */
static void octal_id(char out[81], const char *hex)
{
	for (int i = 0; i < 20; i++) {
		unsigned v;

		ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
		snprintf(out + 4 * i, 5, "\\%03o", v);
	}
}

/* A tree whose entries b and a are stored in that order (git never writes
 * one; hash-object --literally does), of blobs ba and bb: its id. */
static char *unsorted_tree(const char *repo, const char *ba, const char *bb)
{
	char oa[81], ob[81];

	octal_id(oa, ba);
	octal_id(ob, bb);
	return id_from(fmt("cd '%s' && printf '100644 b\\000%s100644 a\\000%s' | "
			   "git hash-object -t tree -w --literally --stdin", repo, ob, oa));
}

static char *blob_of(const char *repo, const char *text)
{
	return id_from(fmt("printf '%s' | git -C '%s' hash-object -w --stdin", text, repo));
}

/* A sorted tree of the lines "MODE TYPE ID\tNAME" (git mktree sorts). */
static char *sorted_tree(const char *repo, const char *entries)
{
	return id_from(fmt("printf '%s' | git -C '%s' mktree", entries, repo));
}

START_TEST(unsorted_tree_is_compared_in_order_when_kept)
{
	char repo[256], *x, *y, *y2, *z, *old, *bad, *next, *entries = NULL;
	lethe_evidence *ev = NULL;
	lines got = { NULL, 0 };

	snprintf(repo, sizeof(repo), "%s/r", unit_tmpdir);
	git_init(repo);
	x = blob_of(repo, "x");
	y = blob_of(repo, "y");
	y2 = blob_of(repo, "y2");
	z = blob_of(repo, "z");
	ck_assert_int_ne(asprintf(&entries, "100644 blob %s\ta\n100644 blob %s\tb\n", x, y), -1);
	old = sorted_tree(repo, entries);
	free(entries);
	bad = unsorted_tree(repo, x, y2);
	ck_assert_int_ne(asprintf(&entries, "100644 blob %s\ta\n100644 blob %s\tb\n"
				  "100644 blob %s\tc\n", x, y2, z), -1);
	next = sorted_tree(repo, entries);
	free(entries);
	ck_assert_int_eq(lethe_evidence_open(&ev, repo), 0);
	/* the unsorted tree as the new side: b changed, a the same */
	ck_assert_int_eq(lethe_evidence_diff_trees(ev, old, bad, collect, &got), 0);
	ck_assert_ptr_nonnull(got.text);
	ck_assert_int_eq(strncmp(got.text, "M ", 2), 0);
	ck_assert_ptr_nonnull(strstr(got.text, " b\n"));
	ck_assert_int_eq(strlen(got.text), strlen("M ") + 40 + strlen(" b\n"));
	free(got.text);
	got.text = NULL;
	/* kept, then the old side: only c was added */
	ck_assert_int_eq(lethe_evidence_diff_trees(ev, bad, next, collect, &got), 0);
	ck_assert_ptr_nonnull(got.text);
	ck_assert_int_eq(strncmp(got.text, "A ", 2), 0);
	ck_assert_str_eq(got.text + 2 + 40, " c\n");
	free(got.text);
	free(x);
	free(y);
	free(y2);
	free(z);
	free(old);
	free(bad);
	free(next);
	lethe_evidence_free(ev);
}
END_TEST

START_TEST(tree_file_id_matches_file_id)
{
	static const char *const paths[] = {
		"top", "a/b/f", "a/b", "a/b/", "a", "nothere", "a/nothere", "a//b/f", "/top",
		"top/x", "a/b/f/", "records/00000/00000001-intent.json", "",
	};
	char repo[256], *c1, *c2, *t2;
	lethe_evidence *ev = NULL;

	snprintf(repo, sizeof(repo), "%s/r", unit_tmpdir);
	git_init(repo);
	c1 = step(repo, "mkdir -p a/b records/00000 && echo 1 > a/b/f && echo 3 > top && "
		  "echo r > records/00000/00000001-intent.json && ln -s top link");
	c2 = step(repo, "echo 2 > a/b/g");
	t2 = tree_of(repo, c2);
	ck_assert_int_eq(lethe_evidence_open(&ev, repo), 0);
	/* without kept trees, after a diff kept some, and again (folders read
	 * by path kept as well) */
	for (int round = 0; round < 3; round++) {
		lines got = { NULL, 0 };

		if (round == 1)
			ck_assert_int_eq(lethe_evidence_diff(ev, c1, c2, collect, &got), 0);
		free(got.text);
		for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
			char want[41] = "", have[41] = "";
			int rw = lethe_evidence_file_id(want, ev, c2, paths[i]);
			int rh = lethe_evidence_tree_file_id(have, ev, t2, paths[i]);

			ck_assert_msg(rw == rh, "'%s': file_id %d, tree_file_id %d", paths[i], rw, rh);
			if (rw == 0)
				ck_assert_str_eq(want, have);
		}
	}
	free(c1);
	free(c2);
	free(t2);
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
	tcase_add_test(tc, diff_trees_matches_git_in_any_order);
	tcase_add_test(tc, unsorted_tree_is_compared_in_order_when_kept);
	tcase_add_test(tc, tree_file_id_matches_file_id);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
