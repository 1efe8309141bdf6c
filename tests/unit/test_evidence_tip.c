/*
 * test_evidence_tip.c - the evidence head remembered in the register, on a
 * real SQLite file and a real evidence repository: nothing remembered
 * checks nothing; a saved head on main (or behind it) passes; main reset
 * behind it (git update-ref), a commit the repository lacks or an empty
 * repository fail with LETHE_EVERIFY naming the record; heads are kept per
 * repository path; a read-only register reads the head.
 */
#include <check.h>
#include <sqlite3.h>
#include "lethe/backend.h"
#include "lethe/error.h"
#include "lethe/evidence.h"
#include "lethe/evidence_tip.h"
#include "lethe/sshkey.h"
#include "ssh_test_util.h"
#include "unit_tmpdir.h"

static lethe_backend *new_register(unsigned flags)
{
	char *path = fmt("%s/reg.sqlite", unit_tmpdir);
	lethe_backend *be = NULL;
	sqlite3 *db = NULL;

	if (!(flags & LETHE_BACKEND_READONLY)) {
		ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
		ck_assert_int_eq(sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY)",
					      NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
	}
	ck_assert_msg(lethe_backend_open(&be, path, flags) == 0, "%s", lethe_error_last());
	free(path);
	return be;
}

static lethe_evidence *new_store(const char *name, char **repo)
{
	lethe_evidence *ev = NULL;

	*repo = fmt("%s/%s", unit_tmpdir, name);
	ck_assert_msg(lethe_evidence_create(*repo) == 0, "%s", lethe_error_last());
	ck_assert_msg(lethe_evidence_open(&ev, *repo) == 0, "%s", lethe_error_last());
	return ev;
}

static void commit(char oid[41], lethe_evidence *ev, const lethe_sshkey *k, const char *path)
{
	lethe_evidence_change c = { path, "x\n", 2, 0, NULL, NULL, NULL };

	ck_assert_msg(lethe_evidence_commit(oid, ev, k, &c, 1, "lethe: test") == 0, "%s",
		      lethe_error_last());
}

START_TEST(head_checks_main)
{
	lethe_sshkey *k = NULL;
	lethe_backend *be = new_register(0);
	char *repo = NULL, c1[41], c2[41], c3[41], got[41];
	lethe_evidence *ev = new_store("evidence", &repo);
	int64_t seq = 0;
	int found = 1;
	char *cmd;

	ck_assert_int_eq(lethe_sshkey_generate(&k, "lethe@test"), 0);
	/* nothing remembered: nothing to check, even on an empty repository */
	ck_assert_int_eq(lethe_evidence_tip_load(&found, &seq, got, be, ev), 0);
	ck_assert_int_eq(found, 0);
	ck_assert_int_eq(lethe_evidence_tip_check(ev, be), 0);
	commit(c1, ev, k, "a");
	commit(c2, ev, k, "b");
	commit(c3, ev, k, "c");
	ck_assert_int_eq(lethe_evidence_tip_save(be, ev, 2, c2), 0);
	ck_assert_int_eq(lethe_evidence_tip_load(&found, &seq, got, be, ev), 0);
	ck_assert_int_eq(found, 1);
	ck_assert_int_eq(seq, 2);
	ck_assert_str_eq(got, c2);
	/* the evidence ahead of the register is fine */
	ck_assert_msg(lethe_evidence_tip_check(ev, be) == 0, "%s", lethe_error_last());
	ck_assert_int_eq(lethe_evidence_tip_save(be, ev, 3, c3), 0);
	ck_assert_int_eq(lethe_evidence_tip_check(ev, be), 0);
	/* main reset back one commit */
	cmd = fmt("git -C '%s' update-ref refs/heads/main %s", repo, c2);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	ck_assert_int_eq(lethe_evidence_tip_check(ev, be), LETHE_EVERIFY);
	ck_assert_ptr_nonnull(strstr(lethe_error_last(), "record 00000003"));
	ck_assert_ptr_nonnull(strstr(lethe_error_last(), "behind"));
	/* a commit the repository never had */
	ck_assert_int_eq(lethe_evidence_tip_save(be, ev, 9, "0123456789abcdef0123456789abcdef01234567"), 0);
	ck_assert_int_eq(lethe_evidence_tip_check(ev, be), LETHE_EVERIFY);
	lethe_evidence_free(ev);
	lethe_backend_free(be);
	/* read-only: the head is read; another repository has none */
	be = new_register(LETHE_BACKEND_READONLY);
	ck_assert_int_eq(lethe_evidence_open(&ev, repo), 0);
	ck_assert_int_eq(lethe_evidence_tip_check(ev, be), LETHE_EVERIFY);
	lethe_evidence_free(ev);
	free(repo);
	ev = new_store("other", &repo);
	ck_assert_int_eq(lethe_evidence_tip_load(&found, &seq, got, be, ev), 0);
	ck_assert_int_eq(found, 0);
	ck_assert_int_eq(lethe_evidence_tip_check(ev, be), 0);
	lethe_evidence_free(ev);
	lethe_backend_free(be);
	lethe_sshkey_free(k);
	free(repo);
}
END_TEST

START_TEST(empty_repository_is_behind)
{
	lethe_sshkey *k = NULL;
	lethe_backend *be = new_register(0);
	char *repo = NULL, c1[41], *cmd;
	lethe_evidence *ev = new_store("evidence", &repo);

	ck_assert_int_eq(lethe_sshkey_generate(&k, "lethe@test"), 0);
	commit(c1, ev, k, "a");
	ck_assert_int_eq(lethe_evidence_tip_save(be, ev, 1, c1), 0);
	cmd = fmt("git -C '%s' update-ref -d refs/heads/main", repo);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	ck_assert_int_eq(lethe_evidence_tip_check(ev, be), LETHE_EVERIFY);
	ck_assert_ptr_nonnull(strstr(lethe_error_last(), "main (absent)"));
	lethe_evidence_free(ev);
	lethe_backend_free(be);
	lethe_sshkey_free(k);
	free(repo);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("evidence_tip");
	TCase *tc = tcase_create("evidence_tip");
	SRunner *r;
	int failed;

	tcase_add_unchecked_fixture(tc, unit_tmpdir_base_setup, unit_tmpdir_base_teardown);
	tcase_add_checked_fixture(tc, unit_tmpdir_setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, head_checks_main);
	tcase_add_test(tc, empty_repository_is_behind);
	suite_add_tcase(s, tc);
	r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
