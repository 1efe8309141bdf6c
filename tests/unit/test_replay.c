/*
 * test_replay.c - the erasures of an evidence repository (which count as
 * done, which digest maps to which intent) and the subjects of a real
 * SQLite register they name again.
 */
#include <check.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "lethe/evidence.h"
#include "lethe/replay.h"
#include "lethe/sshkey.h"
#include "lethe/token.h"
#include "unit_tmpdir.h"

typedef struct {
	lethe_evidence *ev;
	lethe_sshkey *sign;
	lethe_token_key *key;
	int64_t seq;
} store;

static void store_open(store *s)
{
	char path[256];

	memset(s, 0, sizeof(*s));
	snprintf(path, sizeof(path), "%s/evidence", unit_tmpdir);
	ck_assert_int_eq(lethe_evidence_create(path), 0);
	ck_assert_int_eq(lethe_evidence_open(&s->ev, path), 0);
	ck_assert_int_eq(lethe_sshkey_generate(&s->sign, "lethe@test"), 0);
	snprintf(path, sizeof(path), "%s/pseudonym.key", unit_tmpdir);
	ck_assert_int_eq(lethe_token_key_create(path), 0);
	ck_assert_int_eq(lethe_token_key_load(&s->key, path), 0);
}

static void store_close(store *s)
{
	lethe_evidence_free(s->ev);
	lethe_sshkey_free(s->sign);
	lethe_token_key_free(s->key);
}

/* Commit the next record, of kind with the JSON fields `body` (no braces). */
static int64_t record(store *s, const char *kind, const char *body)
{
	char path[64], text[1024], oid[41];
	lethe_evidence_change c = { path, text, 0, 0, NULL, NULL, NULL };

	s->seq++;
	snprintf(path, sizeof(path), "records/%05" PRId64 "/%08" PRId64 "-%s.json", s->seq / 1000,
		 s->seq, kind);
	c.len = (size_t)snprintf(text, sizeof(text), "{\"kind\": \"%s\", \"seq\": %" PRId64 "%s%s}",
				 kind, s->seq, *body ? ", " : "", body);
	ck_assert_msg(lethe_evidence_commit(oid, s->ev, s->sign, &c, 1, path) == 0, "%s",
		      lethe_error_last());
	return s->seq;
}

static int64_t erasure(store *s, const char *digest)
{
	char body[256];

	snprintf(body, sizeof(body), "\"request\": \"erasure\", \"subject\": \"%s\"", digest);
	return record(s, "intent", body);
}

static void completion(store *s, int64_t intent, const char *result, int disposed)
{
	char body[256];

	snprintf(body, sizeof(body), "\"intent_seq\": %" PRId64 ", \"result\": \"%s\", "
		 "\"rules\": [{\"name\": \"a\", \"disposed\": %d}]", intent, result, disposed);
	record(s, "completion", body);
}

static void digest_of(char out[LETHE_DIGEST_SIZE], const store *s, const char *text)
{
	lethe_digest(out, s->key, "subject", text, strlen(text));
}

START_TEST(test_empty_repository)
{
	store s;
	lethe_replay_set *set = NULL;

	store_open(&s);
	ck_assert_int_eq(lethe_replay_set_load(&set, s.ev), 0);
	ck_assert_uint_eq(lethe_replay_set_count(set), 0);
	lethe_replay_set_free(set);
	store_close(&s);
}
END_TEST

START_TEST(test_done_erasures)
{
	store s;
	lethe_replay_set *set = NULL;
	char a[LETHE_DIGEST_SIZE], b[LETHE_DIGEST_SIZE], c[LETHE_DIGEST_SIZE], d[LETHE_DIGEST_SIZE];
	int64_t ia, id, other = 0;

	store_open(&s);
	digest_of(a, &s, "1");
	digest_of(b, &s, "2");
	digest_of(c, &s, "3");
	digest_of(d, &s, "4");
	ia = erasure(&s, a);
	completion(&s, ia, "completed", 3);
	completion(&s, erasure(&s, b), "aborted", 0);                       /* disposed nothing */
	record(&s, "intent", "\"run_id\": \"x\"");                          /* a run, not an erasure */
	completion(&s, s.seq, "completed", 7);
	completion(&s, erasure(&s, c), "failed", 0);                        /* disposed nothing */
	id = erasure(&s, d);
	completion(&s, id, "failed", 2);                                    /* disposed something */
	erasure(&s, b);                                                     /* never completed */
	completion(&s, erasure(&s, a), "recovered", 1);                     /* a again: a replay */
	ck_assert_int_eq(lethe_replay_set_load(&set, s.ev), 0);
	ck_assert_uint_eq(lethe_replay_set_count(set), 2);
	ck_assert_int_eq(lethe_replay_set_find(set, a, NULL, &other), ia);
	ck_assert_int_eq(lethe_replay_set_find(set, d, NULL, &other), id);
	ck_assert_int_eq(lethe_replay_set_find(set, b, NULL, &other), 0);
	ck_assert_int_eq(other, 0);
	ck_assert_int_eq(lethe_replay_set_find(set, c, NULL, &other), 0);
	ck_assert_int_eq(other, 0);
	lethe_replay_set_free(set);
	store_close(&s);
}
END_TEST

static int64_t erasure_of(store *s, const char *digest, const char *contact)
{
	char body[256];

	snprintf(body, sizeof(body), "\"request\": \"erasure\", \"subject\": \"%s\", "
		 "\"contact\": \"%s\"", digest, contact);
	return record(s, "intent", body);
}

/* One key, two people: each erasure is found by its own contact digest
 * only, and a third person with the key by neither. */
START_TEST(test_contact_identity)
{
	store s;
	lethe_replay_set *set = NULL;
	char k[LETHE_DIGEST_SIZE], p1[LETHE_DIGEST_SIZE], p2[LETHE_DIGEST_SIZE];
	char p3[LETHE_DIGEST_SIZE], j[LETHE_DIGEST_SIZE];
	int64_t i1, i2, ij, other = 0;

	store_open(&s);
	digest_of(k, &s, "7");
	digest_of(j, &s, "8");
	lethe_digest(p1, s.key, "contact", "one", 3);
	lethe_digest(p2, s.key, "contact", "two", 3);
	lethe_digest(p3, s.key, "contact", "three", 5);
	i1 = erasure_of(&s, k, p1);
	completion(&s, i1, "completed", 1);
	completion(&s, erasure_of(&s, k, p1), "completed", 1);           /* a replay of it */
	i2 = erasure_of(&s, k, p2);
	completion(&s, i2, "completed", 1);
	ij = erasure(&s, j);                                               /* no contact */
	completion(&s, ij, "completed", 1);
	ck_assert_int_eq(lethe_replay_set_load(&set, s.ev), 0);
	ck_assert_uint_eq(lethe_replay_set_count(set), 3);
	ck_assert_int_eq(lethe_replay_set_find(set, k, p1, &other), i1);
	ck_assert_int_eq(lethe_replay_set_find(set, k, p2, &other), i2);
	ck_assert_int_eq(lethe_replay_set_find(set, k, p3, &other), 0);
	ck_assert_int_eq(other, i1);
	ck_assert_int_eq(lethe_replay_set_find(set, k, NULL, &other), 0);
	ck_assert_int_eq(other, i1);
	ck_assert_int_eq(lethe_replay_set_find(set, j, p3, &other), ij);
	ck_assert_int_eq(lethe_replay_set_find(set, j, NULL, &other), ij);
	lethe_replay_set_free(set);
	store_close(&s);
}
END_TEST

START_TEST(test_subject_digest)
{
	store s;
	lethe_value v = { .type = LETHE_VALUE_INTEGER, .i = 42 };
	char got[LETHE_DIGEST_SIZE], want[LETHE_DIGEST_SIZE];

	store_open(&s);
	ck_assert_int_eq(lethe_subject_digest(got, s.key, &v), 0);
	digest_of(want, &s, "42");
	ck_assert_str_eq(got, want);
	v = (lethe_value){ .type = LETHE_VALUE_TEXT, .s = "abcdef", .len = 3 };
	ck_assert_int_eq(lethe_subject_digest(got, s.key, &v), 0);
	digest_of(want, &s, "abc");
	ck_assert_str_eq(got, want);
	v = (lethe_value){ .type = LETHE_VALUE_REAL, .r = 1.5 };
	ck_assert_int_eq(lethe_subject_digest(got, s.key, &v), LETHE_EDATA);
	store_close(&s);
}
END_TEST

static char *make_db(const char *sql)
{
	char *path = malloc(256);
	sqlite3 *db;

	snprintf(path, 256, "%s/shop.sqlite", unit_tmpdir);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(db));
	sqlite3_close(db);
	return path;
}

START_TEST(test_match_subjects)
{
	store s;
	lethe_replay_set *set = NULL;
	lethe_replay_match *m = NULL;
	lethe_backend *be = NULL;
	lethe_policy p = { 0 };
	char d[LETHE_DIGEST_SIZE], *db;
	int64_t i77, i5, iz;
	size_t n = 99;

	store_open(&s);
	db = make_db("CREATE TABLE customers (Id INTEGER NOT NULL UNIQUE, email TEXT);"
		     "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)"
		     " INSERT INTO customers SELECT i, 'c' || i || '@example.org' FROM n;"
		     "INSERT INTO customers VALUES ('zz', 'text key');"
		     "INSERT INTO customers VALUES (X'00', 'blob key');");
	digest_of(d, &s, "77");
	completion(&s, i77 = erasure(&s, d), "completed", 1);
	digest_of(d, &s, "5");
	completion(&s, i5 = erasure(&s, d), "completed", 1);
	digest_of(d, &s, "zz");
	completion(&s, iz = erasure(&s, d), "completed", 1);
	digest_of(d, &s, "9999");                      /* not in the register */
	completion(&s, erasure(&s, d), "completed", 1);
	ck_assert_int_eq(lethe_replay_set_load(&set, s.ev), 0);
	ck_assert_int_eq(lethe_backend_open(&be, db, LETHE_BACKEND_READONLY), 0);
	p.subject_table = "customers";
	p.subject_key = "id";                          /* as the policy spells it */
	ck_assert_msg(lethe_replay_match_subjects(&m, &n, be, &p, s.key, set) == 0, "%s",
		      lethe_error_last());
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(m[0].subject.text, "5");
	ck_assert_int_eq(m[0].subject.value.type, LETHE_VALUE_INTEGER);
	ck_assert_int_eq(m[0].subject.value.i, 5);
	ck_assert_int_eq(m[0].replay_of, i5);
	ck_assert_str_eq(m[1].subject.text, "77");
	ck_assert_int_eq(m[1].replay_of, i77);
	ck_assert_str_eq(m[2].subject.text, "zz");
	ck_assert_int_eq(m[2].subject.value.type, LETHE_VALUE_TEXT);
	ck_assert_ptr_eq(m[2].subject.value.s, m[2].subject.text);
	ck_assert_int_eq(m[2].replay_of, iz);
	lethe_replay_matches_free(m, n);

	p.subject_key = "customer_no";
	ck_assert_int_eq(lethe_replay_match_subjects(&m, &n, be, &p, s.key, set), LETHE_ECONFIG);
	lethe_backend_free(be);
	lethe_replay_set_free(set);
	free(db);
	store_close(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("replay");
	TCase *tc = tcase_create("replay");
	SRunner *sr;
	int failed;

	tcase_add_unchecked_fixture(tc, unit_tmpdir_base_setup, unit_tmpdir_base_teardown);
	tcase_add_checked_fixture(tc, unit_tmpdir_setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_empty_repository);
	tcase_add_test(tc, test_done_erasures);
	tcase_add_test(tc, test_contact_identity);
	tcase_add_test(tc, test_subject_digest);
	tcase_add_test(tc, test_match_subjects);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
