/*
 * test_config.c - lethe.yaml on real files: path resolution against the
 * file's folder, defaults, every fault with its position, and where the
 * config is looked for.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lethe/config.h"
#include "lethe/error.h"
#include "yaml_test_util.h"

static char *dir;
static char *old_cwd;

/* Every test runs inside a fresh folder, so relative paths are testable. */
static void setup(void)
{
	dir = tu_mkdtemp();
	old_cwd = getcwd(NULL, 0);
	ck_assert_int_eq(chdir(dir), 0);
	unsetenv("LETHE_CONFIG");
}

static void teardown(void)
{
	ck_assert_int_eq(chdir(old_cwd), 0);
	tu_rmtree(dir);
	free(dir);
	free(old_cwd);
}

START_TEST(full_config_resolved_against_its_folder)
{
	lethe_diags d = LETHE_DIAGS_INIT;
	lethe_config *c = NULL;

	ck_assert_int_eq(mkdir("a", 0700), 0);
	free(tu_write(".", "a/lethe.yaml",
		      "database: shop.sqlite\n"
		      "policies: policies/\n"
		      "pseudonym_key: /etc/lethe/pseudonym.key\n"
		      "evidence:\n"
		      "  repository: evidence/\n"
		      "  signing_key: keys/lethe_ed25519\n"
		      "  allowed_signers: ../signers\n"
		      "  remote: ../lethe-evidence.git\n"
		      "limits:\n"
		      "  max_rows_per_rule: 500\n"));
	ck_assert_int_eq(lethe_config_load(&c, "a/lethe.yaml", &d), 0);
	ck_assert_uint_eq(d.count, 0);
	ck_assert_str_eq(c->path, "a/lethe.yaml");
	ck_assert_str_eq(c->database, "a/shop.sqlite");
	ck_assert_str_eq(c->policies, "a/policies/");
	ck_assert_str_eq(c->pseudonym_key, "/etc/lethe/pseudonym.key");
	ck_assert_str_eq(c->evidence_repository, "a/evidence/");
	ck_assert_str_eq(c->signing_key, "a/keys/lethe_ed25519");
	ck_assert_str_eq(c->allowed_signers, "a/../signers");
	ck_assert_str_eq(c->remote, "a/../lethe-evidence.git");
	ck_assert(c->max_rows_per_rule == 500);
	ck_assert_int_eq(c->database_mark.line, 1);
	ck_assert_int_eq(c->database_mark.column, 11);
	ck_assert_int_eq(c->policies_mark.line, 2);
	ck_assert_ptr_eq(c->database_mark.file, c->path);
	lethe_config_free(c);
}
END_TEST

START_TEST(absolute_config_and_remote_urls)
{
	lethe_diags d = LETHE_DIAGS_INIT;
	lethe_config *c = NULL;
	char *path = tu_write(dir, "lethe.yaml",
			      "database: /srv/shop.sqlite\npolicies: p\n"
			      "evidence: {remote: 'git@example.org:lethe/evidence.git'}\n");
	char want[600];

	ck_assert_int_eq(lethe_config_load(&c, path, &d), 0);
	ck_assert_str_eq(c->database, "/srv/shop.sqlite");
	snprintf(want, sizeof(want), "%s/p", dir);
	ck_assert_str_eq(c->policies, want);
	ck_assert_str_eq(c->remote, "git@example.org:lethe/evidence.git");
	lethe_config_free(c);

	free(tu_write(dir, "lethe.yaml", "database: x\npolicies: p\n"
		      "evidence: {remote: 'https://example.org/e.git'}\n"));
	ck_assert_int_eq(lethe_config_load(&c, path, &d), 0);
	ck_assert_str_eq(c->remote, "https://example.org/e.git");
	lethe_config_free(c);
	ck_assert_uint_eq(d.count, 0);
	free(path);
}
END_TEST

START_TEST(defaults)
{
	lethe_diags d = LETHE_DIAGS_INIT;
	lethe_config *c = NULL;

	free(tu_write(".", "lethe.yaml", "database: shop.sqlite\npolicies: policies\n"));
	ck_assert_int_eq(lethe_config_load(&c, "lethe.yaml", &d), 0);
	ck_assert_str_eq(c->database, "shop.sqlite");   /* same folder: as given */
	ck_assert_str_eq(c->policies, "policies");
	ck_assert(c->max_rows_per_rule == LETHE_DEFAULT_MAX_ROWS_PER_RULE);
	ck_assert(c->max_rows_per_rule == 100000);
	ck_assert_ptr_null(c->pseudonym_key);
	ck_assert_ptr_null(c->evidence_repository);
	ck_assert_ptr_null(c->signing_key);
	ck_assert_ptr_null(c->allowed_signers);
	ck_assert_ptr_null(c->remote);
	ck_assert_int_eq(c->residue_fast, 0);
	lethe_config_free(c);

	free(tu_write(".", "lethe.yaml", "database: x\npolicies: p\nresidue: fast\n"));
	ck_assert_int_eq(lethe_config_load(&c, "lethe.yaml", &d), 0);
	ck_assert_int_eq(c->residue_fast, 1);
	lethe_config_free(c);
	free(tu_write(".", "lethe.yaml", "database: x\npolicies: p\nresidue: quick\n"));
	ck_assert_int_eq(lethe_config_load(&c, "lethe.yaml", &d), LETHE_ECONFIG);
	tu_find(&d, "lethe.yaml", 3, 10, "'residue' must be full or fast");
	lethe_diags_free(&d);
}
END_TEST

START_TEST(every_fault_with_its_position)
{
	lethe_diags d = LETHE_DIAGS_INIT;
	lethe_config *c = (lethe_config *)&d; /* must stay untouched */

	free(tu_write(".", "lethe.yaml",
		      "# faulty\n"
		      "database: [shop.sqlite]\n"
		      "databse: x\n"
		      "pseudonym_key: ''\n"
		      "evidence:\n"
		      "  repository: ~\n"
		      "  signer: k\n"
		      "  remote: [x]\n"
		      "limits:\n"
		      "  max_rows_per_rule: 0\n"
		      "database: again\n"));
	ck_assert_int_eq(lethe_config_load(&c, "lethe.yaml", &d), LETHE_ECONFIG);
	ck_assert_ptr_eq(c, (lethe_config *)&d);
	tu_find(&d, "lethe.yaml", 2, 1, "missing required key 'policies'");
	tu_find(&d, "lethe.yaml", 2, 11, "'database': expected a string");
	tu_find(&d, "lethe.yaml", 3, 1, "unknown key 'databse'");
	tu_find(&d, "lethe.yaml", 4, 16, "'pseudonym_key' must not be empty");
	tu_find(&d, "lethe.yaml", 6, 15, "'repository': expected a string");
	tu_find(&d, "lethe.yaml", 7, 3, "unknown key 'signer' in 'evidence'");
	tu_find(&d, "lethe.yaml", 8, 11, "'remote': expected a string");
	tu_find(&d, "lethe.yaml", 10, 22, "'max_rows_per_rule' must be a positive integer");
	tu_find(&d, "lethe.yaml", 11, 1, "duplicate key 'database'");
	ck_assert_uint_eq(d.count, 9);
	lethe_diags_free(&d);

	free(tu_write(".", "lethe.yaml", "database: x\npolicies: p\nevidence: e\n"
		      "limits:\n  max_rows_per_rule: many\n"));
	ck_assert_int_eq(lethe_config_load(&c, "lethe.yaml", &d), LETHE_ECONFIG);
	tu_find(&d, "lethe.yaml", 3, 11, "'evidence': expected a mapping");
	tu_find(&d, "lethe.yaml", 5, 22, "'max_rows_per_rule': expected an integer");
	ck_assert_uint_eq(d.count, 2);
	lethe_diags_free(&d);

	free(tu_write(".", "lethe.yaml", "database: x\npolicies: [p\n"));
	ck_assert_int_eq(lethe_config_load(&c, "lethe.yaml", &d), LETHE_ECONFIG);
	ck_assert_uint_eq(d.count, 1);
	tu_find(&d, "lethe.yaml", 3, 1, "invalid yaml");
	lethe_diags_free(&d);

	free(tu_write(".", "lethe.yaml", "just text\n"));
	ck_assert_int_eq(lethe_config_load(&c, "lethe.yaml", &d), LETHE_ECONFIG);
	tu_find(&d, "lethe.yaml", 1, 1, "expected a mapping");
	lethe_diags_free(&d);
	ck_assert_ptr_eq(c, (lethe_config *)&d);
}
END_TEST

/* Keys from systemd's LoadCredential=: resolved in $CREDENTIALS_DIRECTORY at
 * load time, a located fault when the variable is unset. */
START_TEST(credentials)
{
	lethe_diags d = LETHE_DIAGS_INIT;
	lethe_config *c = NULL;
	const char *text = "database: x\npolicies: p\npseudonym_key: credential:pseudonym.key\n"
			   "evidence:\n  signing_key: credential:lethe_ed25519\n";

	free(tu_write(".", "lethe.yaml", text));
	setenv("CREDENTIALS_DIRECTORY", "/run/credentials/lethe.service", 1);
	ck_assert_int_eq(lethe_config_load(&c, "lethe.yaml", &d), 0);
	ck_assert_str_eq(c->pseudonym_key, "/run/credentials/lethe.service/pseudonym.key");
	ck_assert_str_eq(c->signing_key, "/run/credentials/lethe.service/lethe_ed25519");
	lethe_config_free(c);
	c = NULL;

	unsetenv("CREDENTIALS_DIRECTORY");
	ck_assert_int_eq(lethe_config_load(&c, "lethe.yaml", &d), LETHE_ECONFIG);
	ck_assert_ptr_null(c);
	tu_find(&d, "lethe.yaml", 3, 16, "credential 'pseudonym.key' needs $CREDENTIALS_DIRECTORY");
	tu_find(&d, "lethe.yaml", 5, 16, "credential 'lethe_ed25519' needs $CREDENTIALS_DIRECTORY");
	ck_assert_uint_eq(d.count, 2);
	lethe_diags_free(&d);

	setenv("CREDENTIALS_DIRECTORY", "/run/credentials/lethe.service", 1);
	free(tu_write(".", "lethe.yaml", "database: x\npolicies: p\npseudonym_key: credential:../k\n"));
	ck_assert_int_eq(lethe_config_load(&c, "lethe.yaml", &d), LETHE_ECONFIG);
	tu_find(&d, "lethe.yaml", 3, 16, "credential name '../k' must be a file name");
	lethe_diags_free(&d);
	unsetenv("CREDENTIALS_DIRECTORY");
}
END_TEST

START_TEST(missing_file)
{
	lethe_diags d = LETHE_DIAGS_INIT;
	lethe_config *c = NULL;

	ck_assert_int_eq(lethe_config_load(&c, "nope.yaml", &d), LETHE_ENOINPUT);
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(d.count, 0);
	ck_assert_str_eq(lethe_error_last(),
			 "cannot open config 'nope.yaml': No such file or directory");
}
END_TEST

START_TEST(locate)
{
	char *p = NULL;

	ck_assert_int_eq(lethe_config_locate(&p, "x.yaml"), LETHE_ENOINPUT);
	ck_assert_ptr_null(p);
	ck_assert_str_eq(lethe_error_last(),
			 "cannot open config 'x.yaml': No such file or directory");

	free(tu_write(".", "x.yaml", "database: a\n"));
	ck_assert_int_eq(lethe_config_locate(&p, "x.yaml"), 0);
	ck_assert_str_eq(p, "x.yaml");
	free(p);

	/* Without ./lethe.yaml and (on a test machine) /etc/lethe/lethe.yaml. */
	if (access("/etc/lethe/lethe.yaml", F_OK) != 0) {
		ck_assert_int_eq(lethe_config_locate(&p, NULL), LETHE_ENOINPUT);
		ck_assert(strstr(lethe_error_last(), "./lethe.yaml") != NULL);
		ck_assert(strstr(lethe_error_last(), "/etc/lethe/lethe.yaml") != NULL);
	}

	free(tu_write(".", "lethe.yaml", "database: a\n"));
	ck_assert_int_eq(lethe_config_locate(&p, NULL), 0);
	ck_assert_str_eq(p, "./lethe.yaml");
	free(p);

	/* $LETHE_CONFIG beats ./lethe.yaml; -c beats both. */
	setenv("LETHE_CONFIG", "x.yaml", 1);
	ck_assert_int_eq(lethe_config_locate(&p, NULL), 0);
	ck_assert_str_eq(p, "x.yaml");
	free(p);
	ck_assert_int_eq(lethe_config_locate(&p, "lethe.yaml"), 0);
	ck_assert_str_eq(p, "lethe.yaml");
	free(p);
	setenv("LETHE_CONFIG", "gone.yaml", 1);
	ck_assert_int_eq(lethe_config_locate(&p, NULL), LETHE_ENOINPUT);
	ck_assert(strstr(lethe_error_last(), "'gone.yaml'") != NULL);
	unsetenv("LETHE_CONFIG");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, full_config_resolved_against_its_folder);
	tcase_add_test(tc, absolute_config_and_remote_urls);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, every_fault_with_its_position);
	tcase_add_test(tc, credentials);
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, locate);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
