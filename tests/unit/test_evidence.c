/*
 * test_evidence.c - the evidence store on real repositories, checked with the
 * real git CLI: tree contents after nested additions and a folder removal,
 * signatures that stock `git verify-commit` accepts (and refuses once one byte
 * changes), the walk oldest first with signed data lethe_sshsig_verify
 * accepts, unsigned commits reported as such, compare-and-swap on main, push
 * to a bare repository.
 */
#include <check.h>
#include "lethe/error.h"
#include "lethe/evidence.h"
#include "lethe/sshkey.h"
#include "lethe/sshsig.h"
#include "ssh_test_util.h"
#include "testhook.h"
#include "unit_tmpdir.h"

#define T0 1764000000 /* 2025-11-24T16:00:00Z */

/* The whole stdout of a shell command (exit 0 required), malloc'd. */
static char *run_all(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	char *s = calloc(1, 1 << 16);
	size_t n;

	ck_assert_ptr_nonnull(p);
	n = fread(s, 1, (1 << 16) - 1, p);
	s[n] = '\0';
	ck_assert_msg(pclose(p) == 0, "command failed: %s", cmd);
	return s;
}

static lethe_sshkey *new_key(void)
{
	lethe_sshkey *k = NULL;

	ck_assert_int_eq(lethe_sshkey_generate(&k, "lethe@test"), 0);
	return k;
}

/* A new repository REPO in the test folder, opened at a fixed time. */
static lethe_evidence *new_store(char **repo)
{
	lethe_evidence *ev = NULL;

	*repo = fmt("%s/evidence", unit_tmpdir);
	ck_assert_msg(lethe_evidence_create(*repo) == 0, "%s", lethe_error_last());
	ck_assert_msg(lethe_evidence_open(&ev, *repo) == 0, "%s", lethe_error_last());
	lethe_evidence_set_time(ev, T0);
	return ev;
}

static void commit_ok(char oid[41], lethe_evidence *ev, const lethe_sshkey *k,
		      const lethe_evidence_change *c, size_t n, const char *msg)
{
	int rc = lethe_evidence_commit(oid, ev, k, c, n, msg);

	ck_assert_msg(rc == 0, "commit: %s", lethe_error_last());
	ck_assert_uint_eq(strlen(oid), 40);
}

#define FILE_CHANGE(p, s) { p, s, sizeof(s) - 1, 0, NULL, NULL, NULL }

/* Two commits: nested files, then the policies folder replaced. */
static void two_commits(char c1[41], char c2[41], lethe_evidence *ev, const lethe_sshkey *k)
{
	const lethe_evidence_change first[] = {
		FILE_CHANGE("runs/000001/manifest.json", "{\"run\":1}\n"),
		FILE_CHANGE("policies/a.yaml", "a: 1\n"),
		FILE_CHANGE("policies/sub/b.yaml", "b: 1\n"),
		FILE_CHANGE("README", "evidence\n"),
	};
	const lethe_evidence_change second[] = {
		FILE_CHANGE("runs/000002/manifest.json", "{\"run\":2}\n"),
		FILE_CHANGE("policies/c.yaml", "c: 1\n"),
		FILE_CHANGE("README", "evidence v2\n"),
		{ "policies", NULL, 0, 1, NULL, NULL, NULL },
		{ "no/such/thing", NULL, 0, 1, NULL, NULL, NULL },
	};

	commit_ok(c1, ev, k, first, 4, "lethe run 1");
	lethe_evidence_set_time(ev, T0 + 86400);
	commit_ok(c2, ev, k, second, 5, "lethe run 2\n\nsecond run\n");
}

/* An allowed-signers file for k in the test folder. */
static char *allowed_signers(const lethe_sshkey *k)
{
	char *line = NULL, *path = fmt("%s/allowed_signers", unit_tmpdir), *text;

	ck_assert_int_eq(lethe_sshkey_public_line(&line, k), 0);
	text = fmt("%s namespaces=\"git\" %s\n", lethe_sshkey_comment(k), line);
	spit(path, text, strlen(text), 0644);
	free(text);
	free(line);
	return path;
}

START_TEST(create_refuses_existing_and_open_errors)
{
	char *repo, *plain = fmt("%s/plain", unit_tmpdir), *missing = fmt("%s/none", unit_tmpdir);
	lethe_evidence *ev = new_store(&repo), *x = NULL;
	char oid[41];

	ck_assert_int_eq(lethe_evidence_create(repo), LETHE_ECANTCREAT);
	ck_assert_int_eq(lethe_evidence_head(oid, ev), LETHE_ENOTFOUND);
	ck_assert_int_eq(run("test \"$(git -C '%s' rev-parse --is-bare-repository)\" = true", repo), 0);
	ck_assert_int_eq(run("test \"$(git -C '%s' symbolic-ref HEAD)\" = refs/heads/main", repo), 0);
	ck_assert_int_eq(mkdir(plain, 0755), 0);
	ck_assert_int_eq(lethe_evidence_open(&x, plain), LETHE_EDATA);
	ck_assert_ptr_nonnull(strstr(lethe_error_last(), "is not a git repository"));
	ck_assert_int_eq(lethe_evidence_open(&x, missing), LETHE_ENOINPUT);
	ck_assert_ptr_null(x);
	lethe_evidence_free(ev);
	lethe_evidence_free(NULL);
	free(repo);
	free(plain);
	free(missing);
}
END_TEST

START_TEST(commits_have_the_right_trees_and_verify_in_git)
{
	char *repo, c1[41], c2[41], head[41], *out, *data = NULL, *asf, *tampered, *cmd;
	lethe_sshkey *k = new_key();
	lethe_evidence *ev = new_store(&repo);
	const lethe_evidence_change bad[] = { FILE_CHANGE("../x", "x") };
	size_t len;

	two_commits(c1, c2, ev, k);
	ck_assert_int_eq(lethe_evidence_head(head, ev), 0);
	ck_assert_str_eq(head, c2);

	cmd = fmt("git -C '%s' ls-tree -r --name-only main", repo);
	out = run_all(cmd);
	ck_assert_str_eq(out, "README\npolicies/c.yaml\nruns/000001/manifest.json\n"
			      "runs/000002/manifest.json\n");
	free(out);
	free(cmd);
	cmd = fmt("git -C '%s' ls-tree -r --name-only main~1", repo);
	out = run_all(cmd);
	ck_assert_str_eq(out, "README\npolicies/a.yaml\npolicies/sub/b.yaml\n"
			      "runs/000001/manifest.json\n");
	free(out);
	free(cmd);
	cmd = fmt("git -C '%s' show main:README main:policies/c.yaml", repo);
	out = run_all(cmd);
	ck_assert_str_eq(out, "evidence v2\nc: 1\n");
	free(out);
	free(cmd);
	cmd = fmt("git -C '%s' log --format='%%P|%%an <%%ae>|%%at|%%s' main", repo);
	out = run_all(cmd);
	tampered = fmt("%s|Lethe <lethe@test>|%d|lethe run 2\n|Lethe <lethe@test>|%d|lethe run 1\n",
		       c1, T0 + 86400, T0);
	ck_assert_str_eq(out, tampered); /* linear: 2 commits, the first parentless */
	free(tampered);
	free(out);
	free(cmd);

	/* stock git verifies both signatures */
	asf = allowed_signers(k);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(run("git -C '%s' -c gpg.format=ssh -c gpg.ssh.allowedSignersFile='%s' "
				     "verify-commit %s >/dev/null 2>&1", repo, asf, i ? c2 : c1), 0);

	/* the gpgsig header: continuation lines start with one space, no " " line */
	cmd = fmt("git -C '%s' cat-file commit main", repo);
	out = run_all(cmd);
	ck_assert_ptr_nonnull(strstr(out, "\ngpgsig -----BEGIN SSH SIGNATURE-----\n "));
	ck_assert_ptr_nonnull(strstr(out, "\n -----END SSH SIGNATURE-----\n\nlethe run 2\n"));
	ck_assert_ptr_null(strstr(out, "\n \n"));
	ck_assert_ptr_null(strstr(out, "\n  "));
	free(out);
	free(cmd);

	/* one byte changed: git refuses the signature */
	cmd = fmt("git -C '%s' cat-file commit main | sed 's/^second run$/secone run/' | "
		  "git -C '%s' hash-object -t commit -w --literally --stdin", repo, repo);
	tampered = run_all(cmd);
	tampered[40] = '\0';
	ck_assert_str_ne(tampered, c2);
	ck_assert_int_ne(run("git -C '%s' -c gpg.format=ssh -c gpg.ssh.allowedSignersFile='%s' "
			     "verify-commit %s >/dev/null 2>&1", repo, asf, tampered), 0);
	free(tampered);
	free(cmd);

	/* reading files back */
	ck_assert_int_eq(lethe_evidence_read(&data, &len, ev, c1, "policies/sub/b.yaml"), 0);
	ck_assert_uint_eq(len, 5);
	ck_assert_str_eq(data, "b: 1\n");
	free(data);
	ck_assert_int_eq(lethe_evidence_read(&data, &len, ev, c2, "policies/a.yaml"), LETHE_ENOTFOUND);
	ck_assert_int_eq(lethe_evidence_read(&data, &len, ev, c2, "runs"), LETHE_ENOTFOUND);
	ck_assert_int_eq(lethe_evidence_read(&data, &len, ev, "nothex", "README"), LETHE_EDATA);

	/* a bad path commits nothing */
	ck_assert_int_eq(lethe_evidence_commit(head, ev, k, bad, 1, "bad"), LETHE_EUSAGE);
	ck_assert_int_eq(lethe_evidence_head(head, ev), 0);
	ck_assert_str_eq(head, c2);

	free(asf);
	lethe_evidence_free(ev);
	lethe_sshkey_free(k);
	free(repo);
}
END_TEST

/* A file streamed in pieces (a run's digest file): with its length known
 * it goes straight into the object database, and a stream that writes
 * another length than declared commits nothing; with no length, the blob
 * stream gives the same object. */
static int stream_pieces(void *ctx, int (*write)(void *wctx, const void *buf, size_t len), void *wctx)
{
	const char *text = ctx;
	size_t n = strlen(text);
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i += 7)
		rc = write(wctx, text + i, n - i < 7 ? n - i : 7);
	return rc;
}

START_TEST(streams_of_known_and_unknown_length)
{
	static const char text[] = "0123456789abcdef0123456789abcdef\nfedcba9876543210fedcba9876543210\n";
	char *repo, c1[41], c2[41], head[41], *out, *cmd, *data = NULL;
	lethe_sshkey *k = new_key();
	lethe_evidence *ev = new_store(&repo);
	lethe_evidence_change c = { "runs/01/digests/a.txt", NULL, sizeof(text) - 1, 0, stream_pieces,
				    (void *)text, NULL };
	size_t len;

	commit_ok(c1, ev, k, &c, 1, "known length");
	ck_assert_int_eq(lethe_evidence_read(&data, &len, ev, c1, c.path), 0);
	ck_assert_uint_eq(len, sizeof(text) - 1);
	ck_assert_str_eq(data, text);
	free(data);
	cmd = fmt("git -C '%s' fsck --strict 2>&1 >/dev/null | grep -c . || true", repo);
	out = run_all(cmd);
	ck_assert_str_eq(out, "0\n");
	free(out);
	free(cmd);

	c.len = sizeof(text) - 2;
	ck_assert_int_ne(lethe_evidence_commit(head, ev, k, &c, 1, "wrong length"), 0);
	c.len = sizeof(text);
	ck_assert_int_ne(lethe_evidence_commit(head, ev, k, &c, 1, "wrong length"), 0);
	ck_assert_int_eq(lethe_evidence_head(head, ev), 0);
	ck_assert_str_eq(head, c1);

	c.path = "runs/01/digests/b.txt";
	c.len = 0;
	commit_ok(c2, ev, k, &c, 1, "unknown length");
	cmd = fmt("git -C '%s' rev-parse main:runs/01/digests/a.txt main:runs/01/digests/b.txt | uniq | wc -l",
		  repo);
	out = run_all(cmd);
	ck_assert_str_eq(out, "1\n");
	free(out);
	free(cmd);
	lethe_evidence_free(ev);
	lethe_sshkey_free(k);
	free(repo);
}
END_TEST

typedef struct {
	char text[1024];
	size_t n;
} listing;

static int list_cb(void *ctx, const char *path, const char *blob)
{
	listing *l = ctx;

	ck_assert_uint_eq(strlen(blob), 40);
	l->n += (size_t)snprintf(l->text + l->n, sizeof(l->text) - l->n, "%s\n", path);
	return 0;
}

static int stop_cb(void *ctx, const char *path, const char *blob)
{
	(void)path;
	(void)blob;
	++*(int *)ctx;
	return 42;
}

START_TEST(list_in_path_order)
{
	char *repo, c1[41], c2[41];
	lethe_sshkey *k = new_key();
	lethe_evidence *ev = new_store(&repo);
	const lethe_evidence_change files[] = {
		FILE_CHANGE("a/x", "1"), FILE_CHANGE("a-b", "2"), FILE_CHANGE("a/b/c", "3"),
		FILE_CHANGE("b", "4"),
	};
	listing l = { "", 0 };
	int calls = 0;

	commit_ok(c1, ev, k, files, 4, "files");
	ck_assert_int_eq(lethe_evidence_list(ev, c1, "", list_cb, &l), 0);
	ck_assert_str_eq(l.text, "a-b\na/b/c\na/x\nb\n");
	l.n = 0;
	l.text[0] = '\0';
	ck_assert_int_eq(lethe_evidence_list(ev, c1, "a", list_cb, &l), 0);
	ck_assert_str_eq(l.text, "a/b/c\na/x\n");
	ck_assert_int_eq(lethe_evidence_list(ev, c1, "nope", list_cb, &l), LETHE_ENOTFOUND);
	ck_assert_int_eq(lethe_evidence_list(ev, c1, "b", list_cb, &l), LETHE_ENOTFOUND);
	ck_assert_int_eq(lethe_evidence_list(ev, c1, "", stop_cb, &calls), 42);
	ck_assert_int_eq(calls, 1);

	/* a commit without changes keeps the tree */
	commit_ok(c2, ev, k, NULL, 0, "no changes");
	ck_assert_str_ne(c2, c1);
	ck_assert_int_eq(run("test \"$(git -C '%s' rev-parse main^{tree})\" = "
			     "\"$(git -C '%s' rev-parse main~1^{tree})\"", repo, repo), 0);
	lethe_evidence_free(ev);
	lethe_sshkey_free(k);
	free(repo);
}
END_TEST

typedef struct {
	int n;
	char oid[4][41];
	int signed_[4];
	const lethe_sshkey *key;
	char parent[4][41];
	int64_t time[4];
} walked;

static int walk_cb(void *ctx, const lethe_evidence_commit_info *c)
{
	walked *w = ctx;
	unsigned char pk[32];

	ck_assert_int_lt(w->n, 4);
	strcpy(w->oid[w->n], c->oid);
	strcpy(w->parent[w->n], c->parent);
	w->time[w->n] = c->committer_time;
	w->signed_[w->n] = c->signature != NULL;
	if (c->signature) {
		ck_assert_str_eq(c->author_name, "Lethe");
		ck_assert_str_eq(c->committer_email, "lethe@test");
		ck_assert_int_eq(c->author_offset, 0);
		ck_assert_int_eq(lethe_sshsig_verify(pk, c->signature, c->signature_len, "git",
						     c->signed_data, c->signed_len), 0);
		ck_assert_mem_eq(pk, lethe_sshkey_public(w->key), 32);
		/* one changed byte of the signed data fails */
		{
			char *copy = malloc(c->signed_len);

			memcpy(copy, c->signed_data, c->signed_len);
			copy[c->signed_len - 2] ^= 1;
			ck_assert_int_eq(lethe_sshsig_verify(pk, c->signature, c->signature_len, "git",
							     copy, c->signed_len), LETHE_EVERIFY);
			free(copy);
		}
	} else {
		ck_assert_ptr_null(c->signed_data);
		ck_assert_str_eq(c->author_name, "Someone");
	}
	ck_assert_uint_eq(c->parent_count, w->n ? 1 : 0);
	ck_assert_uint_eq(strlen(c->tree), 40);
	w->n++;
	return 0;
}

START_TEST(walk_oldest_first_with_signatures)
{
	char *repo, c1[41], c2[41], *cmd, *c3;
	lethe_sshkey *k = new_key();
	lethe_evidence *ev = new_store(&repo);
	walked w;

	memset(&w, 0, sizeof(w));
	w.key = k;
	ck_assert_int_eq(lethe_evidence_walk(ev, walk_cb, &w), 0);
	ck_assert_int_eq(w.n, 0);
	two_commits(c1, c2, ev, k);

	/* an unsigned commit on top, made by the git CLI */
	cmd = fmt("cd '%s' && GIT_AUTHOR_NAME=Someone GIT_AUTHOR_EMAIL=s@x GIT_COMMITTER_NAME=Someone "
		  "GIT_COMMITTER_EMAIL=s@x git commit-tree -p main -m unsigned 'main^{tree}'", repo);
	c3 = run_all(cmd);
	c3[40] = '\0';
	ck_assert_int_eq(run("git -C '%s' update-ref refs/heads/main %s", repo, c3), 0);

	ck_assert_int_eq(lethe_evidence_walk(ev, walk_cb, &w), 0);
	ck_assert_int_eq(w.n, 3);
	ck_assert_str_eq(w.oid[0], c1);
	ck_assert_str_eq(w.oid[1], c2);
	ck_assert_str_eq(w.oid[2], c3);
	ck_assert_str_eq(w.parent[0], "");
	ck_assert_str_eq(w.parent[1], c1);
	ck_assert_str_eq(w.parent[2], c2);
	ck_assert_int_eq(w.signed_[0] && w.signed_[1], 1);
	ck_assert_int_eq(w.signed_[2], 0);
	ck_assert_int_eq(w.time[0], T0);
	ck_assert_int_eq(w.time[1], T0 + 86400);
	free(c3);
	free(cmd);
	lethe_evidence_free(ev);
	lethe_sshkey_free(k);
	free(repo);
}
END_TEST

typedef struct {
	lethe_evidence *other;
	const lethe_sshkey *key;
	char oid[41];
} racer;

/* Another writer commits between our read of main and our ref update. */
static void race(void *ctx)
{
	racer *r = ctx;
	const lethe_evidence_change c[] = { FILE_CHANGE("other", "x") };

	commit_ok(r->oid, r->other, r->key, c, 1, "the other writer");
}

START_TEST(main_moved_meanwhile_is_a_temporary_failure)
{
	char *repo, oid[41], head[41];
	lethe_sshkey *k = new_key();
	lethe_evidence *ev = new_store(&repo);
	const lethe_evidence_change c[] = { FILE_CHANGE("mine", "y") };
	racer r = { NULL, k, "" };

	ck_assert_int_eq(lethe_evidence_open(&r.other, repo), 0);
	for (int round = 0; round < 2; round++) { /* first commit, then with a parent */
		lethe_evidence_set_test_hook(ev, race, &r);
		ck_assert_int_eq(lethe_evidence_commit(oid, ev, k, c, 1, "mine"), LETHE_ETEMPFAIL);
		ck_assert_str_eq(lethe_error_last(), "evidence repository changed during the run");
		ck_assert_int_eq(lethe_evidence_head(head, ev), 0);
		ck_assert_str_eq(head, r.oid);
		lethe_evidence_set_test_hook(ev, NULL, NULL);
	}
	commit_ok(oid, ev, k, c, 1, "mine, retried");
	ck_assert_int_eq(run("test \"$(git -C '%s' rev-parse main~1)\" = %s", repo, r.oid), 0);
	lethe_evidence_free(r.other);
	lethe_evidence_free(ev);
	lethe_sshkey_free(k);
	free(repo);
}
END_TEST

START_TEST(push_to_a_bare_repository)
{
	char *repo, *remote = fmt("%s/remote.git", unit_tmpdir), c1[41], c2[41], c3[41], *cmd, *out,
		    *want, *why = NULL;
	lethe_sshkey *k = new_key();
	lethe_evidence *ev = new_store(&repo);
	const lethe_evidence_change c[] = { FILE_CHANGE("third", "3") };
	int64_t n = -1;

	two_commits(c1, c2, ev, k);
	ck_assert_int_eq(run("git init -q --bare '%s'", remote), 0);
	ck_assert_msg(lethe_evidence_unpushed(&n, ev, remote) == 0, "%s", lethe_error_last());
	ck_assert_int_eq(n, 2);
	ck_assert_msg(lethe_evidence_push(ev, remote, &why) == 0, "%s", lethe_error_last());
	ck_assert_ptr_null(why);
	cmd = fmt("git -C '%s' log --format=%%H main", remote);
	out = run_all(cmd);
	want = fmt("%s\n%s\n", c2, c1);
	ck_assert_str_eq(out, want);
	free(out);
	free(want);
	ck_assert_int_eq(lethe_evidence_unpushed(&n, ev, remote), 0);
	ck_assert_int_eq(n, 0);
	commit_ok(c3, ev, k, c, 1, "third");
	ck_assert_int_eq(lethe_evidence_unpushed(&n, ev, remote), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(lethe_evidence_push(ev, remote, &why), 0);
	out = run_all(cmd);
	ck_assert_int_eq(strncmp(out, c3, 40), 0);
	free(out);
	free(cmd);

	ck_assert_int_eq(lethe_evidence_push(ev, "/nonexistent/lethe/remote.git", &why), LETHE_EIO);
	ck_assert_ptr_nonnull(why);
	ck_assert_uint_gt(strlen(why), 0);
	ck_assert_ptr_nonnull(strstr(lethe_error_last(), "cannot push evidence to"));
	free(why);
	n = -1;
	ck_assert_int_eq(lethe_evidence_unpushed(&n, ev, "/nonexistent/lethe/remote.git"), LETHE_EIO);
	ck_assert_int_eq(n, -1);
	lethe_evidence_free(ev);
	lethe_sshkey_free(k);
	free(repo);
	free(remote);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("evidence");
	TCase *tc = tcase_create("evidence");
	SRunner *r;
	int failed;

	tcase_add_unchecked_fixture(tc, unit_tmpdir_base_setup, unit_tmpdir_base_teardown);
	tcase_add_checked_fixture(tc, unit_tmpdir_setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, create_refuses_existing_and_open_errors);
	tcase_add_test(tc, commits_have_the_right_trees_and_verify_in_git);
	tcase_add_test(tc, list_in_path_order);
	tcase_add_test(tc, walk_oldest_first_with_signatures);
	tcase_add_test(tc, main_moved_meanwhile_is_a_temporary_failure);
	tcase_add_test(tc, push_to_a_bare_repository);
	tcase_add_test(tc, streams_of_known_and_unknown_length);
	suite_add_tcase(s, tc);
	r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
