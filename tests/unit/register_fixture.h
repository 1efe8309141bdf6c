/*
 * register_fixture.h - shared by the plan, dispose and dispose-order test
 * programs: a real SQLite register and a real policy folder in the test's
 * temporary folder (unit_tmpdir.h). The register is built and read back with
 * sqlite3 directly, so the code under test never sets up or checks itself.
 * Header only: each test file is its own program and includes it once.
 */
#ifndef LETHE_TEST_REGISTER_FIXTURE_H
#define LETHE_TEST_REGISTER_FIXTURE_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>
#include "lethe/backend.h"
#include "lethe/calendar.h"
#include "lethe/diag.h"
#include "lethe/error.h"
#include "lethe/plan.h"
#include "lethe/policy.h"
#include "lethe/token.h"
#include "unit_tmpdir.h"

static char rf_dbpath[192];

/* Make register.db in the test's folder with sql. */
__attribute__((unused)) static void rf_db(const char *sql)
{
	sqlite3 *db;
	char *err = NULL;

	snprintf(rf_dbpath, sizeof(rf_dbpath), "%s/register.db", unit_tmpdir);
	ck_assert_int_eq(sqlite3_open(rf_dbpath, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		ck_abort_msg("setup sql failed: %s", err);
	sqlite3_close(db);
}

/* The integer the query's first row gives, read with sqlite3 directly. */
__attribute__((unused)) static long long rf_int(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v;

	ck_assert_int_eq(sqlite3_open_v2(rf_dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
		      sqlite3_errmsg(db));
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* The text the query's first row gives (malloc'd; NULL for SQL NULL). */
__attribute__((unused)) static char *rf_text(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	const unsigned char *t;
	char *v;

	ck_assert_int_eq(sqlite3_open_v2(rf_dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
		      sqlite3_errmsg(db));
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	t = sqlite3_column_text(st, 0);
	v = t ? strdup((const char *)t) : NULL;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* Write the policy file (text after the "lethe: 1" line) and load it. */
__attribute__((unused)) static lethe_policy *rf_policy(const char *text)
{
	char dir[256], path[300];
	lethe_diags d = LETHE_DIAGS_INIT;
	lethe_policy *p = NULL;
	FILE *f;
	int rc;

	snprintf(dir, sizeof(dir), "%s/policy", unit_tmpdir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/p.yaml", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fprintf(f, "lethe: 1\n%s", text);
	ck_assert_int_eq(fclose(f), 0);
	rc = lethe_policy_load(&p, dir, &d, 0);
	for (size_t i = 0; i < d.count; i++)
		fprintf(stderr, "%s:%d:%d: %s\n", d.items[i].file, d.items[i].line,
			d.items[i].column, d.items[i].message);
	ck_assert_int_eq(rc, 0);
	lethe_diags_free(&d);
	return p;
}

__attribute__((unused)) static lethe_backend *rf_open(unsigned flags)
{
	lethe_backend *be = NULL;
	int rc = lethe_backend_open(&be, rf_dbpath, flags);

	ck_assert_msg(rc == 0, "open: %d %s", rc, lethe_error_last());
	return be;
}

__attribute__((unused)) static lethe_day rf_day(const char *ymd)
{
	lethe_day d;

	ck_assert_int_eq(lethe_day_parse(&d, ymd), 0);
	return d;
}

/* The plan of the whole register at as_of, read-only. */
__attribute__((unused)) static lethe_plan *rf_plan(const lethe_policy *p, const char *as_of)
{
	lethe_backend *be = rf_open(LETHE_BACKEND_READONLY);
	lethe_plan *plan = NULL;
	int rc = lethe_plan_new(&plan, be, p, rf_day(as_of));

	ck_assert_msg(rc == 0, "plan: %d %s", rc, lethe_error_last());
	lethe_backend_free(be);
	return plan;
}

/* Assert one rule's counts: in_scope due not_due not_started invalid held blocked. */
#define rf_counts(rp, in, du, nd, ns, inv, he, bl)                                                \
	do {                                                                                      \
		const lethe_rule_plan *rf_rp = (rp);                                              \
		ck_assert_msg(rf_rp->in_scope == (in) && rf_rp->due == (du) &&                    \
				      rf_rp->not_due == (nd) && rf_rp->not_started == (ns) &&     \
				      rf_rp->invalid == (inv) && rf_rp->held == (he) &&           \
				      rf_rp->blocked == (bl),                                     \
			      "%s: got in_scope %lld due %lld not_due %lld not_started %lld "     \
			      "invalid %lld held %lld blocked %lld",                              \
			      rf_rp->rule->name, (long long)rf_rp->in_scope, (long long)rf_rp->due, \
			      (long long)rf_rp->not_due, (long long)rf_rp->not_started,           \
			      (long long)rf_rp->invalid, (long long)rf_rp->held,                  \
			      (long long)rf_rp->blocked);                                         \
	} while (0)

/* Assert a rule's next due day. */
__attribute__((unused)) static void rf_next_due(const lethe_rule_plan *rp, const char *ymd)
{
	char got[11];

	ck_assert_msg(rp->has_next_due, "%s: no next_due, expected %s", rp->rule->name, ymd);
	lethe_day_format(rp->next_due, got);
	ck_assert_str_eq(got, ymd);
}

/* The program's main: run the tests as one case with a temporary folder each
 * (unit_tmpdir.h); the exit status is 1 when any failed. */
__attribute__((unused)) static int rf_main(const char *name, const TTest *const *tests, size_t n)
{
	Suite *s = suite_create(name);
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_unchecked_fixture(tc, unit_tmpdir_base_setup, unit_tmpdir_base_teardown);
	tcase_add_checked_fixture(tc, unit_tmpdir_setup, NULL);
	for (size_t i = 0; i < n; i++)
		tcase_add_test(tc, tests[i]);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

/* Tokens under rf_kat_key(), computed independently of libsodium with Python
 * (see test_transform.c for the formulas): "Bob", and "bob@example.com" in a
 * UNIQUE column of the row with integer key 7. */
#define TOK_BOB "tok_57c1852d48504d6cb6e25c72ab4a3267"
#define ROW_BOB_I7 "tok_f2a8c44ca800052e7497e8d3929cde02"

/* The pseudonym key with the bytes 0x00..0x1f (test_token.c's known-answer
 * key), from a raw key file in the test's folder. */
__attribute__((unused)) static lethe_token_key *rf_kat_key(void)
{
	unsigned char raw[32];
	char path[256];
	lethe_token_key *k = NULL;
	int fd;

	for (int i = 0; i < 32; i++)
		raw[i] = (unsigned char)i;
	snprintf(path, sizeof(path), "%s/kat.key", unit_tmpdir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, raw, sizeof(raw)), (ssize_t)sizeof(raw));
	close(fd);
	ck_assert_int_eq(lethe_token_key_load(&k, path), 0);
	return k;
}

#endif
