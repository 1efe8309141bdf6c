/*
 * test_verify.c - the auditor's verifier on real repositories built with the
 * evidence store and a small record writer of this test's own (written from
 * docs/evidence-format.md, not from `lethe run`): a good history verifies,
 * and each kind of damage is found at the right commit with a reason that
 * names it.
 */
#include <check.h>
#include <jansson.h>
#include <time.h>
#include "lethe/error.h"
#include "lethe/evidence.h"
#include "lethe/sshkey.h"
#include "lethe/verify.h"
#include "ssh_test_util.h"
#include "unit_tmpdir.h"
#include "testhook.h"

#define T0 1764000000 /* 2025-11-24T16:00:00Z */
#define POLICY "rules:\n  - name: old-orders\n"

/* A repository being written: the store, the key, the next sequence number
 * and commit time, and the files of the commit being built. */
typedef struct {
	char *repo, *signers;
	lethe_evidence *ev;
	lethe_sshkey *key;
	int64_t seq, t;
	lethe_evidence_change ch[8];
	char *owned[8];
	size_t n;
} site;

static char *sha_hex(const char *data)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	char *hex = malloc(65);

	crypto_hash_sha256(h, (const unsigned char *)data, strlen(data));
	sodium_bin2hex(hex, 65, h, sizeof(h));
	return hex;
}

static void write_signers(const char *path, const lethe_sshkey *k, const char *principal)
{
	char *line = NULL, *text;

	ck_assert_int_eq(lethe_sshkey_public_line(&line, k), 0);
	text = fmt("%s namespaces=\"git\" %s\n", principal, line);
	spit(path, text, strlen(text), 0644);
	free(text);
	free(line);
}

static void site_open(site *s)
{
	memset(s, 0, sizeof(*s));
	s->repo = fmt("%s/evidence", unit_tmpdir);
	s->signers = fmt("%s/allowed_signers", unit_tmpdir);
	ck_assert_int_eq(lethe_evidence_create(s->repo), 0);
	ck_assert_int_eq(lethe_evidence_open(&s->ev, s->repo), 0);
	ck_assert_int_eq(lethe_sshkey_generate(&s->key, "lethe@test"), 0);
	write_signers(s->signers, s->key, "lethe@test");
	s->seq = 1;
	s->t = T0;
}

static void site_close(site *s)
{
	lethe_evidence_free(s->ev);
	lethe_sshkey_free(s->key);
	free(s->repo);
	free(s->signers);
}

/* The common fields of the next record, with an empty `files`. */
static json_t *common(site *s, const char *kind)
{
	json_t *rec = json_pack("{s:i, s:s, s:I, s:s, s:s, s:s, s:[]}", "lethe_evidence", 1,
				"kind", kind, "seq", (json_int_t)s->seq, "tool", "lethe 0.1.0",
				"host", "test", "at", "2025-11-24T16:00:00Z", "files");

	/* a hold's own fields (the verifier checks them): a rule hold */
	if (!strcmp(kind, "hold"))
		json_object_update_new(rec, json_pack("{s:I, s:s, s:s, s:n}", "hold_id",
						      (json_int_t)s->seq, "reason_digest",
						      "0123456789abcdef0123456789abcdef"
						      "0123456789abcdef0123456789abcdef",
						      "rule", "old-chats", "until"));
	return rec;
}

/* Add a file (data copied) to the commit being built and to rec's `files`. */
static void add_file(site *s, json_t *rec, const char *path, const char *data)
{
	char *hex = sha_hex(data);

	s->owned[s->n] = strdup(data);
	s->ch[s->n] = (lethe_evidence_change){ path, s->owned[s->n], strlen(data), 0, NULL, NULL, NULL };
	s->n++;
	json_array_append_new(json_object_get(rec, "files"),
			      json_pack("{s:s, s:s}", "path", path, "sha256", hex));
	free(hex);
}

/* Commit rec as records/NNNNNNNN-KIND.json with the files added so far. */
static void commit_record(site *s, json_t *rec, const char *kind)
{
	char oid[41], *name = fmt("records/%05lld/%08lld-%s.json", (long long)s->seq / 1000,
				  (long long)s->seq, kind);
	char *text = json_dumps(rec, JSON_INDENT(2) | JSON_SORT_KEYS), *msg;

	s->ch[s->n++] = (lethe_evidence_change){ name, text, strlen(text), 0, NULL, NULL, NULL };
	msg = fmt("lethe: %s %08lld", kind, (long long)s->seq);
	lethe_evidence_set_time(s->ev, s->t);
	ck_assert_msg(lethe_evidence_commit(oid, s->ev, s->key, s->ch, s->n, msg) == 0, "%s",
		      lethe_error_last());
	for (size_t i = 0; i + 1 < s->n; i++)
		free(s->owned[i]);
	s->n = 0;
	s->seq++;
	s->t += 60;
	free(name);
	free(text);
	free(msg);
	json_decref(rec);
}

static json_t *rule(const char *name, const char *due_or_disposed, int64_t n)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:i, s:i, s:i, s:i}", "name", name,
			 "table", "orders", "action", "delete", "basis", "bookkeeping", "in_scope",
			 (json_int_t)n + 5, due_or_disposed, (json_int_t)n, "not_due", 5,
			 "not_started", 0, "invalid", 0, "held", 0, "blocked", 0);
}

static json_t *intent(site *s, const char *run_id)
{
	json_t *rec = common(s, "intent");
	char *hex = sha_hex(POLICY);

	json_object_set_new(rec, "run_id", json_string(run_id));
	json_object_set_new(rec, "as_of", json_string("2025-11-24"));
	json_object_set_new(rec, "database",
			    json_pack("{s:s, s:s}", "path", "/srv/shop.sqlite", "schema_sha256", hex));
	json_object_set_new(rec, "policy",
			    json_pack("[{s:s, s:s}]", "path", "policies/10-a.yaml", "sha256", hex));
	json_object_set_new(rec, "rules", json_pack("[o]", rule("old-orders", "due", 3)));
	add_file(s, rec, "policies/10-a.yaml", POLICY);
	free(hex);
	return rec;
}

/* n sorted digest lines. */
static char *digests(int n)
{
	char *text = calloc((size_t)n * 65 + 1, 1);

	for (int i = 0; i < n; i++)
		sprintf(text + i * 65, "%064d\n", i * 7);
	return text;
}

/* A completion of intent_seq disposing of n rows, with the digest text given. */
static json_t *completion(site *s, const char *run_id, int64_t intent_seq, int n,
			  const char *digest_text)
{
	json_t *rec = common(s, "completion"), *r = rule("old-orders", "disposed", n);
	char *path = fmt("runs/%.2s/%s/digests/old-orders.txt", run_id, run_id);

	json_object_set_new(rec, "run_id", json_string(run_id));
	json_object_set_new(rec, "intent_seq", json_integer(intent_seq));
	json_object_set_new(rec, "as_of", json_string("2025-11-24"));
	json_object_set_new(rec, "started_at", json_string("2025-11-24T16:00:00Z"));
	json_object_set_new(rec, "ended_at", json_string("2025-11-24T16:00:05Z"));
	json_object_set_new(rec, "result", json_string("completed"));
	json_object_set_new(rec, "warnings", json_array());
	json_object_set_new(r, "digests", json_pack("{s:s, s:i}", "path", path, "count", n));
	json_object_set_new(rec, "rules", json_pack("[o]", r));
	/* the path must outlive the commit: keep it in the record's files */
	add_file(s, rec, json_string_value(json_object_get(json_object_get(r, "digests"), "path")),
		 digest_text);
	free(path);
	return rec;
}

#define RUN1 "0123456789abcdef0123456789abcdef"
#define RUN2 "fedcba9876543210fedcba9876543210"

/* One good run: intent and completion disposing of 3 rows. */
static void good_run(site *s, const char *run_id)
{
	char *d = digests(3);
	int64_t iseq = s->seq;

	commit_record(s, intent(s, run_id), "intent");
	commit_record(s, completion(s, run_id, iseq, 3, d), "completion");
	free(d);
}

/* lethe_verify must fail at commit number `at` (1-based) with why in the reason. */
static void expect_fail(site *s, size_t at, const char *why)
{
	lethe_verify_report rep;
	int rc = lethe_verify(&rep, s->repo, s->signers);

	ck_assert_msg(rc == LETHE_EVERIFY, "rc %d: %s", rc, lethe_error_last());
	ck_assert_msg(strstr(rep.reason, why), "reason '%s' lacks '%s'", rep.reason, why);
	ck_assert_uint_eq(rep.commits, at - 1);
	ck_assert_uint_eq(strlen(rep.bad_commit), 40);
	ck_assert_str_eq(lethe_error_last(), rep.reason);
}

static void expect_ok(site *s, size_t commits)
{
	lethe_verify_report rep;
	int rc = lethe_verify(&rep, s->repo, s->signers);

	ck_assert_msg(rc == 0, "rc %d: %s", rc, rc == LETHE_EVERIFY ? rep.reason : lethe_error_last());
	ck_assert_uint_eq(rep.commits, commits);
	ck_assert_uint_eq(rep.records, commits);
	ck_assert_str_eq(rep.bad_commit, "");
	ck_assert_int_eq(rep.seq, -1);
	ck_assert_int_eq(rep.head_seq, (int64_t)commits);
	ck_assert_uint_eq(strlen(rep.head), 40);
}

START_TEST(empty_and_missing_repositories)
{
	site s;
	lethe_verify_report rep;
	char *nowhere = fmt("%s/nowhere", unit_tmpdir);

	site_open(&s);
	/* no main: nothing to verify is a failure, not "ok: 0 commits" */
	ck_assert_int_eq(lethe_verify(&rep, s.repo, s.signers), LETHE_EVERIFY);
	ck_assert_str_eq(rep.bad_commit, "");
	ck_assert_msg(strstr(rep.reason, "no main branch"), "reason '%s'", rep.reason);
	ck_assert_int_eq(lethe_verify(&rep, nowhere, s.signers), LETHE_ENOINPUT);
	ck_assert_int_eq(lethe_verify(&rep, s.repo, nowhere), LETHE_ENOINPUT);
	ck_assert_int_eq(lethe_verify(&rep, unit_tmpdir, s.signers), LETHE_EDATA);
	free(nowhere);
	site_close(&s);
}
END_TEST

START_TEST(good_history_verifies)
{
	site s;
	json_t *rec;
	char *d = digests(2);

	site_open(&s);
	good_run(&s, RUN1);
	/* an interrupted run recovered by the next, then an aborted one */
	commit_record(&s, intent(&s, RUN2), "intent");
	rec = completion(&s, RUN2, 3, 2, d);
	json_object_set_new(rec, "result", json_string("recovered"));
	json_object_set_new(rec, "future_field", json_true());
	commit_record(&s, rec, "completion");
	/* a kind this version does not know, with the common fields */
	commit_record(&s, common(&s, "hold"), "hold");
	expect_ok(&s, 5);
	free(d);
	site_close(&s);
}
END_TEST

START_TEST(abort_with_zero_counts)
{
	site s;
	json_t *rec, *r;

	site_open(&s);
	commit_record(&s, intent(&s, RUN1), "intent");
	rec = common(&s, "abort");
	r = rule("old-orders", "disposed", 0);
	json_object_set_new(r, "in_scope", json_integer(0));
	json_object_set_new(r, "not_due", json_integer(0));
	json_object_set_new(r, "digests", json_null());
	json_object_update_new(rec, json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:[], s:[o]}",
		"run_id", RUN1, "intent_seq", 1, "as_of", "2025-11-24",
		"started_at", "2025-11-24T16:00:00Z", "ended_at", "2025-11-24T16:00:00Z",
		"result", "aborted", "warnings", "rules", json_deep_copy(r)));
	commit_record(&s, rec, "abort");
	expect_ok(&s, 2);
	/* an abort that claims to have disposed of rows is refused */
	commit_record(&s, intent(&s, RUN2), "intent");
	rec = completion(&s, RUN2, 3, 1, "0000000000000000000000000000000000000000000000000000000000000000\n");
	json_object_set_new(rec, "kind", json_string("abort"));
	json_object_set_new(rec, "result", json_string("aborted"));
	commit_record(&s, rec, "abort");
	expect_fail(&s, 4, "an abort has non-zero counts");
	json_decref(r);
	site_close(&s);
}
END_TEST

START_TEST(file_hash_mismatch)
{
	site s;
	json_t *rec;

	site_open(&s);
	good_run(&s, RUN1);
	rec = intent(&s, RUN2);
	json_object_set_new(json_array_get(json_object_get(rec, "files"), 0), "sha256",
			    json_string("00000000000000000000000000000000"
					"00000000000000000000000000000000"));
	commit_record(&s, rec, "intent");
	expect_fail(&s, 3, "records/00000/00000003-intent.json: sha256 of 'policies/10-a.yaml' does not match");
	site_close(&s);
}
END_TEST

START_TEST(digest_files_are_checked)
{
	static const char *const bad[] = { "lines, not 3", "is not sorted",
					   "is not 64 lowercase hex digits" };

	for (int k = 0; k < 3; k++) {
		site s;
		char *d = digests(k == 0 ? 2 : 3);

		unit_tmpdir_setup();
		site_open(&s);
		if (k == 1)
			memcpy(d, "9", 1);
		if (k == 2)
			d[70] = 'A';
		commit_record(&s, intent(&s, RUN1), "intent");
		commit_record(&s, completion(&s, RUN1, 1, 3, d), "completion");
		expect_fail(&s, 2, bad[k]);
		free(d);
		site_close(&s);
	}
}
END_TEST

START_TEST(runs_are_linked)
{
	site s;
	char *d = digests(3);

	site_open(&s);
	good_run(&s, RUN1);
	/* a second completion of the same intent */
	commit_record(&s, completion(&s, RUN1, 1, 3, d), "completion");
	expect_fail(&s, 3, "intent 1 was already closed by record 2");
	free(d);
	site_close(&s);

	unit_tmpdir_setup();
	d = digests(3);
	site_open(&s);
	commit_record(&s, intent(&s, RUN1), "intent");
	commit_record(&s, completion(&s, RUN2, 1, 3, d), "completion");
	expect_fail(&s, 2, "is not the run of intent 1");
	free(d);
	site_close(&s);
}
END_TEST

START_TEST(record_fields_and_names)
{
	site s;
	json_t *rec;

	site_open(&s);
	rec = intent(&s, RUN1);
	json_object_set_new(json_array_get(json_object_get(rec, "rules"), 0), "due",
			    json_string("3"));
	commit_record(&s, rec, "intent");
	expect_fail(&s, 1, "'rules[0].due' is missing or not an integer");
	site_close(&s);

	unit_tmpdir_setup();
	site_open(&s);
	rec = common(&s, "hold");
	json_object_set_new(rec, "seq", json_integer(7));
	commit_record(&s, rec, "hold");
	expect_fail(&s, 1, "seq 7 does not match its name");
	site_close(&s);

	unit_tmpdir_setup();
	site_open(&s);
	commit_record(&s, common(&s, "hold"), "hold");
	s.seq++; /* a gap: 1 then 3 */
	commit_record(&s, common(&s, "hold"), "hold");
	expect_fail(&s, 2, "is not number 00000002");
	site_close(&s);
}
END_TEST

/* An erasure intent: its subject and contact digests are checked. */
START_TEST(erasure_fields)
{
	static const char *const bad_contact[] = { "ABC", "not hex" };
	char hex[65];
	site s;
	json_t *rec;

	memset(hex, 'a', 64);
	hex[64] = '\0';
	site_open(&s);
	rec = intent(&s, RUN1);
	json_object_set_new(rec, "request", json_string("erasure"));
	json_object_set_new(rec, "subject", json_string(hex));
	json_object_set_new(rec, "contact", json_string(hex));
	commit_record(&s, rec, "intent");
	expect_ok(&s, 1);
	site_close(&s);

	for (size_t i = 0; i < 2; i++) {
		unit_tmpdir_setup();
		site_open(&s);
		rec = intent(&s, RUN1);
		json_object_set_new(rec, "request", json_string("erasure"));
		json_object_set_new(rec, "subject", json_string(hex));
		json_object_set_new(rec, "contact", json_string(bad_contact[i]));
		commit_record(&s, rec, "intent");
		expect_fail(&s, 1, "'contact' is not 64 hex digits");
		site_close(&s);
	}

	unit_tmpdir_setup();
	site_open(&s);
	rec = intent(&s, RUN1);
	json_object_set_new(rec, "request", json_string("erasure"));
	commit_record(&s, rec, "intent");
	expect_fail(&s, 1, "'subject' is missing or not a string");
	site_close(&s);
}
END_TEST

START_TEST(records_never_change)
{
	site s;
	char oid[41];
	lethe_evidence_change ch[2] = {
		{ "records/00000/00000001-hold.json", "{}", 2, 0, NULL, NULL, NULL },
		{ "records/00000/00000003-hold.json", "{}", 2, 0, NULL, NULL, NULL },
	};

	site_open(&s);
	commit_record(&s, common(&s, "hold"), "hold");
	commit_record(&s, common(&s, "hold"), "hold");
	lethe_evidence_set_time(s.ev, s.t);
	ck_assert_int_eq(lethe_evidence_commit(oid, s.ev, s.key, ch, 2, "x"), 0);
	expect_fail(&s, 3, "changes 'records/00000/00000001-hold.json'");
	site_close(&s);
}
END_TEST

START_TEST(signers_and_time)
{
	site s;
	lethe_sshkey *other = NULL;

	site_open(&s);
	commit_record(&s, common(&s, "hold"), "hold");
	/* the key is allowed, but for another principal than the committer */
	write_signers(s.signers, s.key, "someone@else");
	expect_fail(&s, 1, "not an allowed signer for 'lethe@test'");
	write_signers(s.signers, s.key, "lethe@test");
	expect_ok(&s, 1);
	/* a key that is not in the file */
	ck_assert_int_eq(lethe_sshkey_generate(&other, "lethe@test"), 0);
	lethe_sshkey_free(s.key);
	s.key = other;
	commit_record(&s, common(&s, "hold"), "hold");
	expect_fail(&s, 2, "which is not an allowed signer");
	site_close(&s);

	unit_tmpdir_setup();
	site_open(&s);
	commit_record(&s, common(&s, "hold"), "hold");
	s.t -= 3600;
	commit_record(&s, common(&s, "hold"), "hold");
	expect_fail(&s, 2, "is earlier than the previous commit's");
	site_close(&s);
}
END_TEST

/* Ten years of daily runs: 7,300 commits. Run with LETHE_TEST_SLOW=1 (building
 * the repository takes about two minutes). Measured: 24 s in a Debug build on
 * a shared machine, above the few seconds wanted: the records/ listing of every
 * commit makes the walk quadratic. */
START_TEST(ten_years_of_daily_runs)
{
	site s;
	char run_id[33];
	struct timespec a, b;
	double secs;

	site_open(&s);
	for (int i = 0; i < 3650; i++) {
		snprintf(run_id, sizeof(run_id), "%032x", i + 1);
		good_run(&s, run_id);
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	expect_ok(&s, 7300);
	clock_gettime(CLOCK_MONOTONIC, &b);
	secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	fprintf(stderr, "verified 7300 commits in %.2f s\n", secs);
	site_close(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("verify");
	TCase *tc = tcase_create("verify");
	SRunner *r;
	int failed;

	tcase_add_unchecked_fixture(tc, unit_tmpdir_base_setup, unit_tmpdir_base_teardown);
	tcase_add_checked_fixture(tc, unit_tmpdir_setup, NULL);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, empty_and_missing_repositories);
	tcase_add_test(tc, good_history_verifies);
	tcase_add_test(tc, abort_with_zero_counts);
	tcase_add_test(tc, file_hash_mismatch);
	tcase_add_test(tc, digest_files_are_checked);
	tcase_add_test(tc, runs_are_linked);
	tcase_add_test(tc, record_fields_and_names);
	tcase_add_test(tc, erasure_fields);
	tcase_add_test(tc, records_never_change);
	tcase_add_test(tc, signers_and_time);
	if (getenv("LETHE_TEST_SLOW"))
		tcase_add_test(tc, ten_years_of_daily_runs);
	suite_add_tcase(s, tc);
	r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
