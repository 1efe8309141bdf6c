/*
 * test_site.c - the site object (lethe/site.h) on a real site made in a
 * temp folder: the reference shop's register (lethe_demo_write), keys and
 * an evidence repository made as `lethe init` makes them. A run through the
 * API, and an erasure, a hold and its release after it, leave evidence the
 * auditor's verifier (lethe_verify) accepts; a
 * second site opened for writing on the same database is refused with the
 * lock's temporary error and writes nothing; a site not opened for writing
 * changes nothing and records nothing.
 */
#include <check.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include "lethe/config.h"
#include "lethe/demo.h"
#include "lethe/error.h"
#include "lethe/policy.h"
#include "lethe/site.h"
#include "lethe/sshkey.h"
#include "lethe/subject.h"
#include "lethe/token.h"
#include "lethe/verify.h"
#include "ssh_test_util.h"
#include "unit_tmpdir.h"

typedef struct {
	lethe_config *cfg;
	lethe_policy *policy;
	lethe_backend *be;
	char *evidence, *signers, *database;
} test_site;

static void append(const char *path, const char *text)
{
	FILE *f = fopen(path, "a");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

/* The reference shop with a pseudonym key, a signing key, allowed signers
 * and an empty evidence repository, loaded as a command loads it. */
static void make_site(test_site *t, unsigned backend_flags)
{
	lethe_demo_options o = { 200, 1, LETHE_SOURCE_POLICIES, NULL };
	lethe_diags diags = LETHE_DIAGS_INIT;
	lethe_sshkey *k = NULL;
	char *keys = fmt("%s/keys", unit_tmpdir), *line = NULL, *yaml = fmt("%s/lethe.yaml", unit_tmpdir);
	char *path;

	ck_assert_msg(lethe_demo_write(unit_tmpdir, &o) == 0, "%s", lethe_error_last());
	ck_assert_int_eq(mkdir(keys, 0700), 0);
	path = fmt("%s/pseudonym.key", keys);
	ck_assert_msg(lethe_token_key_create(path) == 0, "%s", lethe_error_last());
	free(path);
	path = fmt("%s/lethe_ed25519", keys);
	ck_assert_int_eq(lethe_sshkey_generate(&k, "lethe@test"), 0);
	ck_assert_msg(lethe_sshkey_write(k, path) == 0, "%s", lethe_error_last());
	ck_assert_int_eq(lethe_sshkey_public_line(&line, k), 0);
	free(path);
	t->signers = fmt("%s/allowed_signers", keys);
	path = fmt("lethe@test namespaces=\"git\" %s\n", line);
	append(t->signers, path);
	free(path);
	t->evidence = fmt("%s/evidence", unit_tmpdir);
	ck_assert_msg(lethe_evidence_create(t->evidence) == 0, "%s", lethe_error_last());
	append(yaml, "pseudonym_key: keys/pseudonym.key\n"
		     "evidence:\n"
		     "  repository: evidence/\n"
		     "  signing_key: keys/lethe_ed25519\n"
		     "  allowed_signers: keys/allowed_signers\n");
	ck_assert_msg(lethe_config_load(&t->cfg, yaml, &diags) == 0, "%s", lethe_error_last());
	ck_assert_msg(lethe_policy_load(&t->policy, t->cfg->policies, &diags, 0) == 0, "%s",
		      diags.count ? diags.items[0].message : lethe_error_last());
	ck_assert_msg(lethe_backend_open(&t->be, t->cfg->database, backend_flags) == 0, "%s",
		      lethe_error_last());
	t->database = strdup(t->cfg->database);
	lethe_diags_free(&diags);
	lethe_sshkey_free(k);
	free(line);
	free(keys);
	free(yaml);
}

static void free_site(test_site *t)
{
	lethe_backend_free(t->be);
	lethe_policy_free(t->policy);
	lethe_config_free(t->cfg);
	free(t->evidence);
	free(t->signers);
	free(t->database);
}

static int64_t total(const lethe_plan *p)
{
	int64_t n = 0;

	for (size_t i = 0; i < p->nrules; i++)
		n += p->rules[i].due;
	return n;
}

/* Rows of a table, counted with SQLite itself. */
static int64_t rows(const char *database, const char *table)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *sql = fmt("SELECT count(*) FROM %s", table);
	int64_t n;

	ck_assert_int_eq(sqlite3_open_v2(database, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(sql);
	return n;
}

/* Rows of every table a delete rule disposes of. */
static int64_t deletable(const test_site *t)
{
	int64_t n = 0;

	for (size_t i = 0; i < t->policy->nrules; i++)
		if (t->policy->rules[i].action == LETHE_ACTION_DELETE)
			n += rows(t->database, t->policy->rules[i].table);
	return n;
}

START_TEST(run_leaves_verifiable_evidence)
{
	test_site t = { 0 };
	lethe_site *site = NULL, *second = (lethe_site *)&t;
	lethe_site_run_options o = { .max_rows_per_rule = 0 };
	lethe_warnings w = { 0 };
	lethe_site_hold hold = { .reason = "case 1", .rule = "chat-transcripts" };
	lethe_subject subject = { 0 };
	lethe_verify_report report;
	lethe_plan *result = NULL;
	int64_t before, id = 0, seq = 0;

	make_site(&t, 0);
	ck_assert_int_eq(lethe_day_parse(&o.as_of, LETHE_DEMO_LAST_DAY), 0);
	ck_assert_msg(lethe_site_open(&site, t.cfg, t.policy, t.be,
				      LETHE_SITE_WRITE | LETHE_SITE_CLOCK) == 0,
		      "%s", lethe_error_last());
	ck_assert_int_eq(lethe_site_recovered(site), LETHE_RECOVER_NOTHING);

	/* one writer per database: the second opening is refused by the lock */
	ck_assert_int_eq(lethe_site_open(&second, t.cfg, t.policy, t.be, LETHE_SITE_WRITE),
			 LETHE_ETEMPFAIL);
	ck_assert_ptr_eq(second, (lethe_site *)&t);
	ck_assert_msg(strstr(lethe_error_last(), "locked by another lethe run") != NULL, "%s",
		      lethe_error_last());

	before = deletable(&t);
	ck_assert_msg(lethe_site_run(&result, &w, site, &o) == 0, "%s", lethe_error_last());
	ck_assert_ptr_nonnull(result);
	ck_assert_int_gt(total(result), 0);
	ck_assert_int_lt(deletable(&t), before);
	lethe_plan_free(result);
	lethe_warnings_free(&w);
	lethe_site_free(site);

	/* the run's intent and completion hold for the auditor's verifier */
	ck_assert_msg(lethe_verify(&report, t.evidence, t.signers) == 0, "%s", report.reason);
	ck_assert_uint_eq(report.records, 2);

	/* the lock went with the site: a new writer may open, and its erasure
	 * and hold records verify too */
	ck_assert_msg(lethe_site_open(&site, t.cfg, t.policy, t.be, LETHE_SITE_WRITE) == 0, "%s",
		      lethe_error_last());
	ck_assert_msg(lethe_subject_find(&subject, t.be, t.policy, "1") == 0, "%s",
		      lethe_error_last());
	ck_assert_msg(lethe_site_erase(&result, &w, site, &subject, o.as_of, 0) == 0, "%s",
		      lethe_error_last());
	ck_assert_msg(lethe_site_hold_add(&id, &seq, &w, site, &hold) == 0, "%s", lethe_error_last());
	ck_assert_int_eq(seq, 5);
	ck_assert_msg(lethe_site_hold_release(&seq, &w, site, id, "case closed") == 0, "%s",
		      lethe_error_last());
	ck_assert_int_eq(seq, 6);
	ck_assert_int_eq(lethe_site_hold_release(&seq, &w, site, id, "again"), LETHE_ENOTFOUND);
	lethe_plan_free(result);
	lethe_subject_release(&subject);
	lethe_warnings_free(&w);
	lethe_site_free(site);
	ck_assert_msg(lethe_verify(&report, t.evidence, t.signers) == 0, "%s", report.reason);
	ck_assert_uint_eq(report.records, 6);
	lethe_site_free(NULL);
	free_site(&t);
}
END_TEST

START_TEST(site_without_write_changes_nothing)
{
	test_site t = { 0 };
	lethe_site *site = NULL;
	lethe_site_run_options o = { .max_rows_per_rule = 0 };
	lethe_site_hold hold = { .reason = "case 1", .rule = "chat-transcripts" };
	lethe_warnings w = { 0 };
	lethe_verify_report report;
	lethe_plan *result = NULL;
	int64_t before, id = 0, seq = 0;

	make_site(&t, LETHE_BACKEND_READONLY);
	ck_assert_int_eq(lethe_day_parse(&o.as_of, LETHE_DEMO_LAST_DAY), 0);
	before = deletable(&t);
	ck_assert_msg(lethe_site_open(&site, t.cfg, t.policy, t.be, LETHE_SITE_KEYS) == 0, "%s",
		      lethe_error_last());
	/* a dry run: counts what is due, disposes of nothing, records nothing */
	ck_assert_msg(lethe_site_run(&result, &w, site, &o) == 0, "%s", lethe_error_last());
	ck_assert_int_gt(total(result), 0);
	ck_assert_int_eq(deletable(&t), before);
	/* records other than an export need a writing site */
	ck_assert_int_eq(lethe_site_hold_add(&id, &seq, &w, site, &hold), LETHE_ESOFTWARE);
	lethe_plan_free(result);
	lethe_warnings_free(&w);
	lethe_site_free(site);
	ck_assert_int_eq(lethe_verify(&report, t.evidence, t.signers), LETHE_EVERIFY);
	ck_assert_uint_eq(report.records, 0);
	free_site(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("site");
	TCase *tc = tcase_create("site");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, unit_tmpdir_base_setup, unit_tmpdir_base_teardown);
	tcase_add_checked_fixture(tc, unit_tmpdir_setup, NULL);
	tcase_add_test(tc, run_leaves_verifiable_evidence);
	tcase_add_test(tc, site_without_write_changes_nothing);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
