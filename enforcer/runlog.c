/*
 * runlog.c - the run protocol's evidence: recovery of an interrupted run,
 * the intent, the per-batch markers and the completion
 * (docs/evidence-format.md). The records' format is record.c's.
 *
 * Invariants:
 *  - Sequence numbers come from the last record in the repository
 *    (lethe_record_last), never from local state.
 *  - Counts of disposed rows in a completion are the marker's: what the
 *    database committed, whether the run ended normally or was recovered.
 *  - Every record is refused on a main behind the register's remembered
 *    head, and remembered after its commit (lethe/evidence_tip.h).
 */
#include <inttypes.h>
#include <jansson.h>
#include <libgen.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/dispose.h"
#include "lethe/error.h"
#include "lethe/evidence_tip.h"
#include "lethe/record.h"
#include "lethe/runlog.h"
#include "digest_bin.h"
#include "runlog_impl.h"
#include "strbuf.h"
#include "testhook.h"
#include "util.h"


/* The last record, after checking that main still reaches the last record
 * written as the register remembers it (lethe/evidence_tip.h): a main reset
 * behind it would make the next record reuse a removed sequence number.
 * Without a register (env->be NULL) there is nothing to check against. */
static int evidence_tip(int64_t *seq, json_t **record, const lethe_runlog_env *env)
{
	int rc;

	*seq = 0;
	*record = NULL;
	if (env->be && (rc = lethe_evidence_tip_check(env->ev, env->be)) < 0)
		return rc;
	return lethe_record_last(seq, record, env->ev);
}

/* Commit `record` (taken over) with the files in f, then remember it in the
 * register. */
static int commit_record(const lethe_runlog_env *env, json_t *record, lethe_record_files *f,
			 const char *label, const char *run_id)
{
	int64_t seq = json_integer_value(json_object_get(record, "seq"));
	char oid[41];
	int rc = lethe_record_commit(oid, env->ev, env->signing_key, record, f, label, run_id);

	/* Remembered outside the evidence (lethe/evidence_tip.h), best effort:
	 * a register that refuses the write (busy, full: the run then fails
	 * at its own write) leaves the head behind, which is safe, and must not
	 * keep this record's run from being completed. */
	if (rc == 0 && env->be)
		(void)lethe_evidence_tip_save(env->be, env->ev, seq, oid);
	return rc;
}

/* A record: the common fields of kind and seq, then `fields` (taken over). */
static json_t *record_of(lethe_record_kind kind, int64_t seq, json_t *fields)
{
	json_t *record = fields ? lethe_record_new(kind, seq) : NULL;

	if (record && json_object_update_missing(record, fields) < 0) {
		json_decref(record);
		record = NULL;
	}
	/* an approval's `at` is the time its approver signed (lethe/approval.h) */
	if (record && kind == LETHE_RECORD_APPROVAL && json_object_get(fields, "at") &&
	    json_object_set(record, "at", json_object_get(fields, "at")) < 0) {
		json_decref(record);
		record = NULL;
	}
	json_decref(fields);
	return record;
}

/* --- the run log ------------------------------------------------------------ */

int lethe_runlog_new(lethe_runlog **out, const lethe_runlog_env *env, lethe_day as_of)
{
	lethe_runlog *rl = calloc(1, sizeof(*rl));
	unsigned char id[16];

	if (!rl)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	if (sodium_init() < 0) {
		free(rl);
		return lethe_error_set(LETHE_ESOFTWARE, "cannot initialise libsodium");
	}
	randombytes_buf(id, sizeof(id));
	lethe_hex(rl->run_id, id, sizeof(id));
	rl->env = env;
	rl->as_of = as_of;
	lethe_now_iso(rl->started_at);
	*out = rl;
	return 0;
}

void lethe_runlog_free(lethe_runlog *rl)
{
	if (rl) {
		lethe_ahead_free(rl->ahead);
		lethe_digest_stream_free(rl->stream);
	}
	free(rl);
}

const char *lethe_runlog_id(const lethe_runlog *rl)
{
	return rl->run_id;
}

int64_t lethe_runlog_intent_seq(const lethe_runlog *rl)
{
	return rl->intent_seq;
}

/* The action a rule applies in this run: an erasure applies each rule's
 * erasure action (lethe_plan_action, lethe_rule_erasure_action), a run its
 * normal one. The records
 * carry this one, not the policy's normal action. */
static lethe_action applied_action(const lethe_runlog_env *env, const lethe_rule *r)
{
	return env->request && !strcmp(env->request, "erasure") ? lethe_rule_erasure_action(r)
								  : r->action;
}

static int schema_sha256(char out[LETHE_SHA256_HEX_SIZE], lethe_backend *be)
{
	char *text = NULL;
	size_t len = 0;
	int rc = lethe_backend_schema_text(&text, &len, be);

	if (rc == 0)
		lethe_sha256_hex(out, text, len);
	free(text);
	return rc;
}

/* The policy snapshot: every policy file as policies/NAME in f (replacing
 * the previous snapshot), and its {path, sha256} in `listed`. */
static int add_policy(lethe_record_files *f, json_t *listed, const lethe_policy *p)
{
	char hex[LETHE_SHA256_HEX_SIZE], *path = NULL;
	int rc;

	if ((rc = lethe_record_files_add(f, "policies", NULL, 0)) < 0)
		return rc;
	for (size_t i = 0; i < p->nfiles; i++) {
		lethe_strbuf sb = LETHE_STRBUF_INIT;
		char *copy = strdup(p->files[i]), *data;
		size_t len;

		if (!copy || asprintf(&path, "policies/%s", basename(copy)) < 0) {
			free(copy);
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		}
		free(copy);
		if (lethe_strbuf_read_file(&sb, p->files[i]) < 0) {
			free(path);
			return lethe_error_set(LETHE_EIO, "cannot read policy file '%s'", p->files[i]);
		}
		data = lethe_strbuf_detach(&sb, &len);
		lethe_sha256_hex(hex, data, len);
		json_array_append_new(listed, json_pack("{s:s, s:s}", "path", path, "sha256", hex));
		rc = lethe_record_files_add(f, path, data, len);
		free(path);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int lethe_runlog_intent(void *ctx, const lethe_plan *plan)
{
	lethe_runlog *rl = ctx;
	const lethe_runlog_env *env = rl->env;
	json_t *last = NULL, *rules = json_array(), *policy = json_array();
	lethe_record_files f = { 0 };
	char day[11], schema[LETHE_SHA256_HEX_SIZE];
	int64_t seq;
	int rc;

	if ((rc = evidence_tip(&seq, &last, env)) < 0 || (rc = schema_sha256(schema, env->be)) < 0 ||
	    (rc = add_policy(&f, policy, env->policy)) < 0)
		goto out;
	for (size_t i = 0; i < plan->nrules; i++)
		json_array_append_new(rules, lethe_record_rule(&plan->rules[i],
							       applied_action(env, plan->rules[i].rule)));
	lethe_day_format(rl->as_of, day);
	rc = commit_record(env, record_of(LETHE_RECORD_INTENT, seq + 1, lethe_record_intent(
				   &(lethe_record_intent_info){
					   .run_id = rl->run_id, .as_of = day,
					   .database = env->database, .schema_sha256 = schema,
					   .request = env->request, .subject = env->subject_digest,
					   .contact = env->subject_contact,
					   .received = env->received,
					   .replay_of = env->replay_of,
					   .completes = env->completes, .policy = policy,
					   .by = env->by,
					   .approval = env->approval_seq,
					   .plan_sha256 = env->plan_sha256,
					   .plan_as_of = env->plan_as_of,
					   .rules = rules })),
			   &f, lethe_record_run_label(env->request, env->replay_of, env->completes),
			   rl->run_id);
	if (rc == 0)
		rl->intent_seq = seq + 1;
	lethe_test_crash_point("after-intent");
out:
	json_decref(last);
	json_decref(rules);
	json_decref(policy);
	lethe_record_files_free(&f);
	return rc;
}

/* A batch's row digests are computed on two threads once it has this many
 * rows: a keyed BLAKE2b per row is about a twentieth of a run's CPU, and
 * the second core is otherwise idle while the batch's transaction is open. */
#define DIGEST_SPLIT_ROWS 4096

typedef struct {
	unsigned char *digests; /* LETHE_DIGEST_BIN bytes per row */
	const lethe_digest_ctx *dc;
	const lethe_value *keys;
	const unsigned char *applied;
	size_t from, to;
} digest_span;

/* Digest i of the span's rows into digest i (rows not applied skipped).
 * The context is only read (each value hashes from a copy of its state). */
static void *digest_rows(void *arg)
{
	const digest_span *s = arg;

	for (size_t i = s->from; i < s->to; i++)
		if (!s->applied || s->applied[i])
			lethe_record_row_digest_bin(s->digests + i * LETHE_DIGEST_BIN, s->dc, &s->keys[i]);
	return NULL;
}

/* The batch's digests, computed in binary and sorted once: the marker and
 * the spool of the files written ahead take the same array (digest_bin.h),
 * and the hex text is only written where a digest file is. */
void lethe_runlog_batch_keys(void *ctx, const lethe_rule *rule, size_t most,
			     void (**on_key)(void *ctx, const lethe_value *key), void **on_key_ctx)
{
	lethe_runlog *rl = ctx;

	lethe_digest_stream_free(rl->stream);
	rl->stream = NULL;
	/* a batch too small to pay for a thread is digested after it */
	if (most < DIGEST_SPLIT_ROWS ||
	    lethe_digest_stream_start(&rl->stream, rl->env->digest_key, rule->name, most) < 0)
		return;
	*on_key = lethe_digest_stream_key;
	*on_key_ctx = rl->stream;
}

/* The batch's digests, in the keys' order: those computed while its
 * statement ran when they are for exactly these keys, else computed here
 * (on two threads when there are enough). */
static unsigned char *batch_digests(lethe_runlog *rl, const lethe_rule *rule, const lethe_value *keys,
				    const unsigned char *applied, size_t n)
{
	unsigned char *digests = rl->stream ? lethe_digest_stream_take(rl->stream, keys, n) : NULL;
	lethe_digest_ctx dc;
	digest_span all = { NULL, &dc, keys, applied, 0, n }, half;
	pthread_t thread;
	int threaded = 0;

	lethe_digest_stream_free(rl->stream);
	rl->stream = NULL;
	if (digests)
		return digests;
	if (!(digests = calloc(n ? n : 1, LETHE_DIGEST_BIN)))
		return NULL;
	all.digests = digests;
	half = all;
	lethe_digest_start(&dc, rl->env->digest_key, rule->name);
	/* the second half on another thread when one can be started; else
	 * all of it here (the digests are the same either way) */
	if (n >= DIGEST_SPLIT_ROWS) {
		half.from = all.to = n / 2;
		threaded = pthread_create(&thread, NULL, digest_rows, &half) == 0;
		if (!threaded)
			all.to = n;
	}
	digest_rows(&all);
	if (threaded)
		pthread_join(thread, NULL);
	lethe_digest_end(&dc);
	return digests;
}

int lethe_runlog_batch(void *ctx, const lethe_rule *rule, const lethe_value *keys,
		       const unsigned char *applied, size_t n, int64_t changed)
{
	lethe_runlog *rl = ctx;
	unsigned char *digests = batch_digests(rl, rule, keys, applied, n);
	size_t count = 0;
	int rc;

	if (!digests)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	/* the rows applied, in place */
	for (size_t i = 0; i < n; i++)
		if (!applied || applied[i]) {
			if (count != i)
				memcpy(digests + count * LETHE_DIGEST_BIN, digests + i * LETHE_DIGEST_BIN,
				       LETHE_DIGEST_BIN);
			count++;
		}
	rc = lethe_digests_sort(digests, count);
	if (rc == 0)
		rc = lethe_backend_mark(rl->env->be, rl->run_id, rule->name, changed, digests, count);
	/* the seal's file, written ahead from a spool of what was marked: only
	 * where the register can seal, and never failing the batch */
	if (rc == 0 && !rl->ahead && !rl->ahead_off)
		rl->ahead_off = !lethe_backend_marker_sealable(rl->env->be) || !rl->env->ev ||
				lethe_ahead_new(&rl->ahead, rl->env->ev) < 0;
	if (rc == 0)
		lethe_ahead_batch(rl->ahead, rule->name, digests, count, changed);
	free(digests);
	lethe_test_crash_point("batch");
	return rc;
}

/* Per rule: the marker's disposed count (absent: 0). */
typedef struct {
	const char *rule;
	int64_t disposed;
} rule_count;

static int find_count(void *ctx, const char *rule, int64_t disposed)
{
	rule_count *rc = ctx;

	if (!strcmp(rc->rule, rule))
		rc->disposed = disposed;
	return 0;
}

/* The rules of a completion: counts from the intent's `src`, disposed from
 * the marker, and the digest files added to f. */
static int completion_rules(json_t *rules, lethe_record_files *f, const lethe_runlog_env *env,
			    const char *run_id, json_t *src, int aborted)
{
	size_t i;
	json_t *r;
	int rc = 0;

	json_array_foreach(src, i, r) {
		const char *name = json_string_value(json_object_get(r, "name"));
		rule_count count = { name, 0 };
		int64_t lines = 0;
		int found = 0;
		char *path = NULL;
		json_t *o;

		if (!name)
			return lethe_error_set(LETHE_EDATA, "evidence: a rule without a name");
		if ((rc = lethe_backend_marker(&found, env->be, run_id, find_count, &count)) < 0 ||
		    (rc = lethe_record_digest_path(&path, run_id, name)) < 0 ||
		    (rc = lethe_runlog_add_digest_file(f, &lines, env, run_id, name, path)) < 0) {
			free(path);
			return rc;
		}
		o = lethe_record_end_rule(r, aborted, count.disposed, path, lines);
		free(path);
		if (!o || json_array_append_new(rules, o) < 0)
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	return 0;
}

static int record_end(const lethe_runlog_env *env, const char *label, const char *run_id,
		      int64_t intent_seq, const char *as_of, const char *started_at,
		      const char *result, json_t *src_rules, const lethe_warnings *w)
{
	json_t *last = NULL, *rules = json_array();
	lethe_record_kind kind = lethe_record_end_kind(result);
	lethe_record_files f = { 0 };
	char ended[LETHE_ISO_TIME_SIZE];
	int64_t seq;
	int rc;

	if ((rc = evidence_tip(&seq, &last, env)) < 0 ||
	    (rc = completion_rules(rules, &f, env, run_id, src_rules,
				   kind == LETHE_RECORD_ABORT)) < 0)
		goto out;
	lethe_now_iso(ended);
	rc = commit_record(env, record_of(kind, seq + 1, lethe_record_end(&(lethe_record_end_info){
					  .run_id = run_id, .intent_seq = intent_seq,
					  .as_of = as_of, .started_at = started_at,
					  .ended_at = ended, .result = result, .rules = rules,
					  .warnings = w })),
			   &f, label, run_id);
	lethe_test_crash_point("after-completion");
	/* The completion holds the digests now: the marker has done its job. */
	if (rc == 0)
		rc = lethe_backend_marker_clear(env->be, run_id);
out:
	json_decref(last);
	json_decref(rules);
	lethe_record_files_free(&f);
	return rc;
}

int lethe_runlog_complete(lethe_runlog *rl, const lethe_plan *result, const lethe_warnings *w,
			  int failed)
{
	json_t *rules = json_array();
	char day[11], *first = NULL;
	int rc, first_code = 0;

	if (!rl->intent_seq) {
		json_decref(rules);
		return 0;
	}
	for (size_t i = 0; i < result->nrules; i++)
		json_array_append_new(rules, lethe_record_rule(&result->rules[i],
							       applied_action(rl->env, result->rules[i].rule)));
	lethe_day_format(rl->as_of, day);
	/* A failed run's error (a VACUUM that found the disk full) is what the
	 * caller reports: recording the completion must not replace it, even
	 * when it fails too (the same full disk), so both are kept, first
	 * first. */
	if (failed) {
		first_code = lethe_error_last_code();
		first = strdup(lethe_error_last());
	}
	lethe_test_crash_point("before-completion");
	rc = record_end(rl->env, lethe_record_run_label(rl->env->request, rl->env->replay_of,
							rl->env->completes),
			rl->run_id, rl->intent_seq, day, rl->started_at,
			failed ? "failed" : "completed", rules, w);
	json_decref(rules);
	if (failed && first && *first) {
		char *then = rc < 0 ? strdup(lethe_error_last()) : NULL;

		if (then)
			lethe_error_set(first_code, "%s; then %s", first, then);
		else
			lethe_error_set(first_code, "%s", first);
		free(then);
	}
	free(first);
	return rc;
}

int lethe_runlog_recover(lethe_recovery *what, const lethe_runlog_env *env)
{
	lethe_warnings owed = { 0 };
	json_t *last = NULL;
	const char *kind, *run_id, *as_of, *at;
	int64_t seq;
	int found = 0, rc;

	*what = LETHE_RECOVER_NOTHING;
	if ((rc = evidence_tip(&seq, &last, env)) < 0)
		return rc;
	kind = last ? json_string_value(json_object_get(last, "kind")) : NULL;
	if (kind && !strcmp(kind, "intent")) {
		run_id = json_string_value(json_object_get(last, "run_id"));
		as_of = json_string_value(json_object_get(last, "as_of"));
		at = json_string_value(json_object_get(last, "at"));
		if (!run_id || !as_of || !at) {
			json_decref(last);
			return lethe_error_set(LETHE_EDATA, "evidence: the last intent record is incomplete");
		}
		if ((rc = lethe_backend_marker(&found, env->be, run_id, NULL, NULL)) == 0 &&
		    /* a run killed before its residue work: the record says so */
		    (rc = lethe_dispose_owed_warning(&owed, env->be)) == 0) {
			/* labelled as the interrupted run's intent, not as this one */
			rc = record_end(env, lethe_record_intent_label(last),
					run_id, seq, as_of, at, found ? "recovered" : "aborted",
					json_object_get(last, "rules"), &owed);
			*what = found ? LETHE_RECOVER_COMPLETED : LETHE_RECOVER_ABORTED;
		}
	}
	json_decref(last);
	lethe_warnings_free(&owed);
	/* Markers of runs whose completion exists (a crash right after it). */
	if (rc == 0)
		rc = lethe_backend_marker_clear(env->be, "*");
	return rc;
}

/* --- records outside a run --------------------------------------------------- */

int lethe_runlog_record(int64_t *out_seq, const lethe_runlog_env *env, const char *kind,
			const struct json_t *fields)
{
	json_t *last = NULL;
	lethe_record_files f = { 0 };
	lethe_record_kind k;
	const char *last_kind;
	int64_t seq;
	int rc;

	if (lethe_record_kind_parse(&k, kind) < 0 || lethe_record_kind_is_run(k))
		return lethe_error_set(LETHE_ESOFTWARE, "'%s' is not a record outside a run",
				       kind ? kind : "");
	if ((rc = evidence_tip(&seq, &last, env)) < 0)
		goto out;
	last_kind = last ? json_string_value(json_object_get(last, "kind")) : NULL;
	if (last_kind && !strcmp(last_kind, "intent")) {
		rc = lethe_error_set(LETHE_ETEMPFAIL, "the evidence ends with the intent of an "
				     "interrupted run (record %" PRId64 "); `lethe run` recovers it, "
				     "then try again", seq);
		goto out;
	}
	/* the common fields stay as lethe_record_new made them */
	rc = commit_record(env, record_of(k, seq + 1, fields ? json_deep_copy(fields) : json_object()),
			   &f, NULL, NULL);
	if (rc == 0 && out_seq)
		*out_seq = seq + 1;
out:
	json_decref(last);
	lethe_record_files_free(&f);
	return rc;
}
