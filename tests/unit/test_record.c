/*
 * test_record.c - the record module (lethe/record.h): every builder's output,
 * committed with lethe_record_commit into a real evidence repository signed
 * with a fresh key, passes the auditor's verifier (lethe_verify, an
 * independent implementation of docs/evidence-format.md); records read
 * back by sequence number and as the last one; paths and messages parse
 * back to what made them.
 */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "lethe/evidence.h"
#include "lethe/record.h"
#include "lethe/runlog.h"
#include "lethe/sshkey.h"
#include "lethe/subject.h"
#include "lethe/token.h"
#include "lethe/verify.h"
#include "ssh_test_util.h"
#include "unit_tmpdir.h"

#define POLICY "rules:\n  - name: old-orders\n"
#define RUN1 "0123456789abcdef0123456789abcdef"
#define RUN2 "fedcba9876543210fedcba9876543210"

typedef struct {
	char *repo, *signers;
	lethe_evidence *ev;
	lethe_sshkey *key;
	lethe_token_key *tk;
} site;

static void site_open(site *s)
{
	char *line = NULL, *text, *keyfile = fmt("%s/pseudonym.key", unit_tmpdir);

	memset(s, 0, sizeof(*s));
	s->repo = fmt("%s/evidence", unit_tmpdir);
	s->signers = fmt("%s/allowed_signers", unit_tmpdir);
	ck_assert_int_eq(lethe_evidence_create(s->repo), 0);
	ck_assert_int_eq(lethe_evidence_open(&s->ev, s->repo), 0);
	ck_assert_int_eq(lethe_sshkey_generate(&s->key, "lethe@test"), 0);
	ck_assert_int_eq(lethe_sshkey_public_line(&line, s->key), 0);
	text = fmt("lethe@test namespaces=\"git\" %s\n", line);
	spit(s->signers, text, strlen(text), 0644);
	ck_assert_int_eq(lethe_token_key_create(keyfile), 0);
	ck_assert_int_eq(lethe_token_key_load(&s->tk, keyfile), 0);
	free(text);
	free(line);
	free(keyfile);
}

static void site_close(site *s)
{
	lethe_token_key_free(s->tk);
	lethe_evidence_free(s->ev);
	lethe_sshkey_free(s->key);
	free(s->repo);
	free(s->signers);
}

/* The common fields of kind at seq, then fields (taken over). */
static json_t *record(lethe_record_kind k, int64_t seq, json_t *fields)
{
	json_t *r = lethe_record_new(k, seq);

	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(fields);
	ck_assert_int_eq(json_object_update_missing(r, fields), 0);
	json_decref(fields);
	return r;
}

static void commit(site *s, json_t *rec, lethe_record_files *f, const char *label,
		   const char *run_id)
{
	char oid[41];

	ck_assert_msg(lethe_record_commit(oid, s->ev, s->key, rec, f, label, run_id) == 0, "%s",
		      lethe_error_last());
	lethe_record_files_free(f);
}

/* A streamed digest file: its text comes from ctx, in two writes. */
static int stream_text(void *ctx, int (*write)(void *wctx, const void *buf, size_t len), void *wctx)
{
	const char *text = ctx;
	size_t half = strlen(text) / 2;
	int rc = write(wctx, text, half);

	return rc < 0 ? rc : write(wctx, text + half, strlen(text) - half);
}

/* An intent of run_id at seq with one rule; erasure when subject. */
static json_t *intent(site *s, lethe_record_files *f, const lethe_rule *rule, int64_t seq,
		      const char *run_id, const char *subject)
{
	lethe_rule_plan rp = { .rule = rule, .in_scope = 8, .due = 3, .not_due = 5 };
	char hex[65];
	json_t *policy, *rules, *fields;

	lethe_record_text_digest(hex, s->tk, "unused");  /* any 64 hex digits */
	ck_assert_int_eq(lethe_record_files_add(f, "policies", NULL, 0), 0);
	ck_assert_int_eq(lethe_record_files_add(f, "policies/10-a.yaml", strdup(POLICY),
						strlen(POLICY)), 0);
	{
		unsigned char h[32];
		char sha[65];

		crypto_hash_sha256(h, (const unsigned char *)POLICY, strlen(POLICY));
		sodium_bin2hex(sha, sizeof(sha), h, sizeof(h));
		policy = json_pack("[{s:s, s:s}]", "path", "policies/10-a.yaml", "sha256", sha);
	}
	rules = json_pack("[o]", lethe_record_rule(&rp, subject ? rule->on_erasure : rule->action));
	fields = lethe_record_intent(&(lethe_record_intent_info){
		.run_id = run_id, .as_of = "2025-11-24", .database = "/srv/shop.sqlite",
		.schema_sha256 = hex, .request = subject ? "erasure" : NULL, .subject = subject,
		.contact = subject ? hex : NULL, .policy = policy, .rules = rules });
	json_decref(policy);
	json_decref(rules);
	return record(LETHE_RECORD_INTENT, seq, fields);
}

START_TEST(every_builder_verifies)
{
	site s;
	lethe_rule rule = { .name = "old-orders", .table = "orders", .basis = "bookkeeping",
			    .action = LETHE_ACTION_DELETE, .on_erasure = LETHE_ACTION_DELETE };
	lethe_record_files f = { 0 };
	lethe_value key8 = { .type = LETHE_VALUE_INTEGER, .i = 8 };
	lethe_access_table tables[] = { { "customers", "customers.json", 1 },
					{ "orders", "orders.json", 3 } };
	lethe_access_result res = { tables, 2, "" };
	lethe_warnings w = { 0 };
	char subject[LETHE_DIGEST_SIZE], reason[LETHE_DIGEST_SIZE], where[LETHE_DIGEST_SIZE];
	char d[3][LETHE_DIGEST_SIZE], *text, *digest_path = NULL;
	json_t *in, *rules, *last = NULL, *back = NULL;
	lethe_verify_report rep;
	int64_t seq = 0;
	lethe_record_kind kind;

	site_open(&s);
	memset(res.sha256, 'a', 64);
	ck_assert_int_eq(lethe_subject_digest(subject, s.tk, &key8), 0);
	for (int i = 0; i < 3; i++) {
		lethe_value k = { .type = LETHE_VALUE_INTEGER, .i = 100 + i };

		lethe_record_row_digest(d[i], s.tk, rule.name, &k);
	}
	qsort(d, 3, LETHE_DIGEST_SIZE, (int (*)(const void *, const void *))strcmp);
	text = fmt("%s\n%s\n%s\n", d[0], d[1], d[2]);

	/* 1, 2: a run, its digest file streamed */
	in = intent(&s, &f, &rule, 1, RUN1, NULL);
	commit(&s, json_incref(in), &f, lethe_record_run_label(NULL, 0, 0), RUN1);
	ck_assert_int_eq(lethe_record_digest_path(&digest_path, RUN1, rule.name), 0);
	ck_assert_str_eq(digest_path, "runs/01/" RUN1 "/digests/old-orders.txt");
	{
		char sha[65];
		unsigned char h[32];

		crypto_hash_sha256(h, (const unsigned char *)text, strlen(text));
		sodium_bin2hex(sha, sizeof(sha), h, sizeof(h));
		ck_assert_int_eq(lethe_record_files_add_stream(&f, digest_path, sha, strlen(text), stream_text, text), 0);
	}
	rules = json_pack("[o]", lethe_record_end_rule(json_array_get(json_object_get(in, "rules"), 0),
						       0, 3, digest_path, 3));
	ck_assert_int_eq(lethe_warnings_add(&w, "clean-up is owed since 2025-11-23"), 0);
	commit(&s, record(LETHE_RECORD_COMPLETION, 2, lethe_record_end(&(lethe_record_end_info){
				  .run_id = RUN1, .intent_seq = 1, .as_of = "2025-11-24",
				  .started_at = "2025-11-24T16:00:00Z", .ended_at = "2025-11-24T16:00:05Z",
				  .result = "completed", .rules = rules, .warnings = &w })),
	       &f, "run", RUN1);
	json_decref(rules);
	json_decref(in);

	/* 3, 4: an erasure that disposed of nothing: its abort */
	in = intent(&s, &f, &rule, 3, RUN2, subject);
	commit(&s, json_incref(in), &f, lethe_record_run_label("erasure", 0, 0), RUN2);
	rules = json_pack("[o]", lethe_record_end_rule(json_array_get(json_object_get(in, "rules"), 0),
						       1, 0, NULL, 0));
	ck_assert_int_eq(lethe_record_end_kind("aborted"), LETHE_RECORD_ABORT);
	commit(&s, record(LETHE_RECORD_ABORT, 4, lethe_record_end(&(lethe_record_end_info){
				  .run_id = RUN2, .intent_seq = 3, .as_of = "2025-11-24",
				  .started_at = "2025-11-24T16:00:00Z", .ended_at = "2025-11-24T16:00:05Z",
				  .result = "aborted", .rules = rules })),
	       &f, "erasure", RUN2);
	json_decref(rules);
	json_decref(in);

	/* 5-8: the records outside runs */
	lethe_record_text_digest(reason, s.tk, "complaint of matti@example.org");
	lethe_record_text_digest(where, s.tk, "email = 'matti@example.org'");
	commit(&s, record(LETHE_RECORD_HOLD, 5, lethe_record_hold(1, reason, subject, NULL, NULL,
								   "2026-01-01")), &f, NULL, NULL);
	commit(&s, record(LETHE_RECORD_HOLD, 6, lethe_record_hold(2, reason, NULL, rule.name, where,
								   NULL)), &f, NULL, NULL);
	commit(&s, record(LETHE_RECORD_RELEASE, 7, lethe_record_release(1, reason)), &f, NULL, NULL);
	commit(&s, record(LETHE_RECORD_EXPORT, 8, lethe_record_export(subject, &res, "zip", NULL, NULL)), &f,
	       NULL, NULL);

	ck_assert_msg(lethe_verify(&rep, s.repo, s.signers) == 0, "%s", rep.reason);
	ck_assert_uint_eq(rep.commits, 8);
	ck_assert_uint_eq(rep.records, 8);

	/* read back: the last, and one by sequence number */
	ck_assert_int_eq(lethe_record_last(&seq, &last, s.ev), 0);
	ck_assert_int_eq(seq, 8);
	ck_assert_str_eq(json_string_value(json_object_get(last, "kind")), "export");
	ck_assert_str_eq(json_string_value(json_object_get(last, "subject")), subject);
	ck_assert_str_eq(json_string_value(json_object_get(last, "request")), "access");
	ck_assert_uint_eq(json_array_size(json_object_get(last, "tables")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(last, "archive"), "format")),
			 "zip");
	{
		char head[41];

		ck_assert_int_eq(lethe_evidence_head(head, s.ev), 0);
		ck_assert_int_eq(lethe_record_read(&back, s.ev, head, 2, LETHE_RECORD_COMPLETION), 0);
		ck_assert_str_eq(json_string_value(json_object_get(back, "result")), "completed");
		ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(
					 json_object_get(back, "rules"), 0), "disposed")), 3);
		json_decref(back);
		ck_assert_int_eq(lethe_record_read(&back, s.ev, head, 2, LETHE_RECORD_HOLD),
				 LETHE_ENOTFOUND);
	}
	/* no operator text in the hold records */
	for (int64_t i = 5; i <= 6; i++) {
		char head[41], *dump;

		ck_assert_int_eq(lethe_evidence_head(head, s.ev), 0);
		ck_assert_int_eq(lethe_record_read(&back, s.ev, head, i, LETHE_RECORD_HOLD), 0);
		dump = json_dumps(back, 0);
		ck_assert_ptr_null(strstr(dump, "matti"));
		ck_assert_ptr_nonnull(strstr(dump, reason));
		/* the lethe verify of today does not check these kinds' fields: check them here */
		ck_assert_int_eq(json_integer_value(json_object_get(back, "hold_id")), i - 4);
		ck_assert_str_eq(json_string_value(json_object_get(back, "reason_digest")), reason);
		if (i == 5) {
			ck_assert_str_eq(json_string_value(json_object_get(back, "subject")), subject);
			ck_assert_str_eq(json_string_value(json_object_get(back, "until")), "2026-01-01");
			ck_assert_ptr_null(json_object_get(back, "rule"));
		} else {
			ck_assert_str_eq(json_string_value(json_object_get(back, "rule")), "old-orders");
			ck_assert_str_eq(json_string_value(json_object_get(back, "where_digest")), where);
			ck_assert(json_is_null(json_object_get(back, "until")));
			ck_assert_ptr_null(json_object_get(back, "subject"));
		}
		free(dump);
		json_decref(back);
	}
	ck_assert_int_eq(lethe_record_kind_parse(&kind, "release"), 0);
	ck_assert_int_eq(kind, LETHE_RECORD_RELEASE);
	json_decref(last);
	lethe_warnings_free(&w);
	free(digest_path);
	free(text);
	site_close(&s);
}
END_TEST

/* lethe_runlog_record numbers a record outside a run after the last one,
 * and refuses run kinds and a history that ends with an open intent. */
START_TEST(records_outside_runs)
{
	site s;
	lethe_rule rule = { .name = "old-orders", .table = "orders", .basis = "bookkeeping" };
	lethe_record_files f = { 0 };
	lethe_runlog_env env;
	char reason[LETHE_DIGEST_SIZE];
	json_t *fields, *last = NULL;
	int64_t seq = 0;

	site_open(&s);
	env = (lethe_runlog_env){ .ev = s.ev, .signing_key = s.key };
	lethe_record_text_digest(reason, s.tk, "audit");
	fields = lethe_record_release(3, reason);
	ck_assert_int_eq(lethe_runlog_record(&seq, &env, "release", fields), 0);
	ck_assert_int_eq(seq, 1);
	ck_assert_int_eq(lethe_runlog_record(&seq, &env, "intent", fields), LETHE_ESOFTWARE);
	ck_assert_int_eq(lethe_runlog_record(&seq, &env, "grant", fields), LETHE_ESOFTWARE);
	commit(&s, intent(&s, &f, &rule, 2, RUN1, NULL), &f, "run", RUN1);
	ck_assert_int_eq(lethe_runlog_record(&seq, &env, "release", fields), LETHE_ETEMPFAIL);
	ck_assert_int_eq(lethe_record_last(&seq, &last, s.ev), 0);
	ck_assert_int_eq(seq, 2);
	ck_assert_str_eq(json_string_value(json_object_get(last, "kind")), "intent");
	json_decref(last);
	json_decref(fields);
	site_close(&s);
}
END_TEST

START_TEST(paths_and_messages_parse_back)
{
	char path[LETHE_RECORD_PATH_SIZE], *msg = NULL;
	lethe_record_kind k;
	int64_t seq;

	for (int kind = LETHE_RECORD_INTENT; kind <= LETHE_RECORD_APPROVAL; kind++) {
		lethe_record_path(path, 12345, (lethe_record_kind)kind);
		ck_assert_int_eq(lethe_record_path_parse(path, &seq, &k), 0);
		ck_assert_int_eq(seq, 12345);
		ck_assert_int_eq(k, kind);
		ck_assert_int_eq(lethe_record_message(&msg, (lethe_record_kind)kind, 41,
						      lethe_record_kind_is_run(kind) ? "replay" : NULL,
						      lethe_record_kind_is_run(kind) ? RUN1 : NULL), 0);
		ck_assert_int_eq(lethe_record_message_parse(msg, &k, &seq), 0);
		ck_assert_int_eq(seq, 41);
		ck_assert_int_eq(k, kind);
		free(msg);
	}
	lethe_record_path(path, 41, LETHE_RECORD_INTENT);
	ck_assert_str_eq(path, "records/00000/00000041-intent.json");
	ck_assert_int_eq(lethe_record_message(&msg, LETHE_RECORD_INTENT, 41, "erasure", RUN1), 0);
	ck_assert_str_eq(msg, "lethe: intent 00000041 erasure " RUN1);
	free(msg);
	ck_assert_int_eq(lethe_record_message(&msg, LETHE_RECORD_HOLD, 43, NULL, NULL), 0);
	ck_assert_str_eq(msg, "lethe: hold 00000043");
	free(msg);
	ck_assert_str_eq(lethe_record_run_label(NULL, 0, 0), "run");
	ck_assert_str_eq(lethe_record_run_label("erasure", 0, 0), "erasure");
	ck_assert_str_eq(lethe_record_run_label("erasure", 3, 0), "replay");
	ck_assert_str_eq(lethe_record_run_label("erasure", 0, 4), "finish");
	ck_assert_int_eq(lethe_record_path_parse("records/00000/0000004-intent.json", &seq, &k),
			 LETHE_ENOTFOUND);
	ck_assert_int_eq(lethe_record_path_parse("records/00000/00000041-grant.json", &seq, &k),
			 LETHE_ENOTFOUND);
	ck_assert_int_eq(lethe_record_path_parse("records/00000/00000041-intent.txt", &seq, &k),
			 LETHE_ENOTFOUND);
	ck_assert_int_eq(lethe_record_message_parse("Merge branch 'x'", &k, &seq), LETHE_ENOTFOUND);
	ck_assert_int_eq(lethe_record_message_parse(NULL, &k, &seq), LETHE_ENOTFOUND);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("record");
	TCase *tc = tcase_create("record");
	SRunner *r;
	int failed;

	tcase_add_unchecked_fixture(tc, unit_tmpdir_base_setup, unit_tmpdir_base_teardown);
	tcase_add_checked_fixture(tc, unit_tmpdir_setup, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, every_builder_verifies);
	tcase_add_test(tc, records_outside_runs);
	tcase_add_test(tc, paths_and_messages_parse_back);
	suite_add_tcase(s, tc);
	r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
