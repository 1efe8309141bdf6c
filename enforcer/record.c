/*
 * record.c - the evidence record format: kinds, paths, commit messages and
 * the builders of every kind's JSON (lethe/record.h,
 * docs/evidence-format.md). Files and reading are in record_io.c.
 *
 * Invariants:
 *  - The field names and shapes here are the format; the verifier checks
 *    them independently (verify_record.c), and tests/unit/test_record.c
 *    proves every builder's output verifies.
 *  - Nothing here reads the evidence, the register or the clock but `at`.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lethe/error.h"
#include "lethe/record.h"
#include "util.h"

static const char *const kind_names[] = {
	[LETHE_RECORD_INTENT] = "intent",   [LETHE_RECORD_COMPLETION] = "completion",
	[LETHE_RECORD_ABORT] = "abort",     [LETHE_RECORD_HOLD] = "hold",
	[LETHE_RECORD_RELEASE] = "release", [LETHE_RECORD_EXPORT] = "export",
	[LETHE_RECORD_APPROVAL] = "approval",
};

const char *lethe_record_kind_name(lethe_record_kind k)
{
	return (size_t)k < sizeof(kind_names) / sizeof(*kind_names) ? kind_names[k] : "unknown";
}

int lethe_record_kind_parse(lethe_record_kind *out, const char *name)
{
	for (size_t i = 0; name && i < sizeof(kind_names) / sizeof(*kind_names); i++)
		if (!strcmp(name, kind_names[i])) {
			*out = (lethe_record_kind)i;
			return 0;
		}
	return LETHE_ENOTFOUND;
}

int lethe_record_kind_is_run(lethe_record_kind k)
{
	return k == LETHE_RECORD_INTENT || k == LETHE_RECORD_COMPLETION || k == LETHE_RECORD_ABORT;
}

void lethe_record_path(char out[LETHE_RECORD_PATH_SIZE], int64_t seq, lethe_record_kind k)
{
	/* one folder per thousand records keeps every tree a commit changes small */
	snprintf(out, LETHE_RECORD_PATH_SIZE, "records/%05" PRId64 "/%08" PRId64 "-%s.json",
		 seq / 1000, seq, lethe_record_kind_name(k));
}

int lethe_record_path_parse(const char *path, int64_t *seq, lethe_record_kind *k)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char kind[16], rest[8];
	int64_t n;

	if (strspn(base, "0123456789") != 8 ||
	    sscanf(base, "%8" SCNd64 "-%15[a-z].%7s", &n, kind, rest) != 3 || strcmp(rest, "json") ||
	    lethe_record_kind_parse(k, kind) < 0)
		return LETHE_ENOTFOUND;
	*seq = n;
	return 0;
}

int lethe_record_digest_path(char **out, const char *run_id, const char *rule)
{
	if (asprintf(out, "runs/%.2s/%s/digests/%s.txt", run_id, run_id, rule) < 0) {
		*out = NULL;
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	return 0;
}

const char *lethe_record_run_label(const char *request, int64_t replay_of, int64_t completes)
{
	if (!request)
		return "run";
	if (completes > 0)
		return "finish";
	return replay_of > 0 ? "replay" : request;
}

const char *lethe_record_intent_label(const json_t *intent)
{
	return lethe_record_run_label(json_string_value(json_object_get(intent, "request")),
				      json_integer_value(json_object_get(intent, "replay_of")),
				      json_integer_value(json_object_get(intent, "completes")));
}

int lethe_record_message(char **out, lethe_record_kind k, int64_t seq, const char *label,
			 const char *run_id)
{
	int n = run_id ? asprintf(out, "lethe: %s %08" PRId64 " %s %s", lethe_record_kind_name(k),
				  seq, label ? label : "run", run_id)
		: label ? asprintf(out, "lethe: %s %08" PRId64 " %s", lethe_record_kind_name(k), seq, label)
		       : asprintf(out, "lethe: %s %08" PRId64, lethe_record_kind_name(k), seq);

	if (n < 0) {
		*out = NULL;
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	return 0;
}

int lethe_record_message_parse(const char *message, lethe_record_kind *k, int64_t *seq)
{
	char kind[16];

	if (!message || sscanf(message, "lethe: %15s %" SCNd64, kind, seq) != 2 ||
	    lethe_record_kind_parse(k, kind) < 0)
		return LETHE_ENOTFOUND;
	return 0;
}

int lethe_record_describe(char **out, const json_t *record)
{
	const char *kind = json_string_value(json_object_get(record, "kind"));
	const char *by = json_string_value(json_object_get(record, "by"));
	const char *rule = json_string_value(json_object_get(record, "rule"));
	const char *approver = json_string_value(json_object_get(record, "approver"));
	const char *reason = json_string_value(json_object_get(record, "reason"));
	json_int_t hold = json_integer_value(json_object_get(record, "hold_id"));
	int n;

	*out = NULL;
	if (!kind || (strcmp(kind, "hold") && strcmp(kind, "release") &&
		      ((strcmp(kind, "export") && strcmp(kind, "intent")) || !by) &&
		      (strcmp(kind, "approval") || !approver || !reason)))
		return 0;
	if (!strcmp(kind, "approval"))
		n = asprintf(out, "by %s: %s", approver, reason);
	else if (!strcmp(kind, "export") || !strcmp(kind, "intent"))
		n = asprintf(out, "by %s", by);
	else if (!strcmp(kind, "hold"))
		n = asprintf(out, "%s%s%s%s", rule ? "rule " : "subject", rule ? rule : "",
			     by ? " by " : "", by ? by : "");
	else
		n = asprintf(out, "hold %" JSON_INTEGER_FORMAT "%s%s", hold, by ? " by " : "",
			     by ? by : "");
	if (n < 0) {
		*out = NULL;
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	return 0;
}

/* --- builders ---------------------------------------------------------------- */

json_t *lethe_record_new(lethe_record_kind k, int64_t seq)
{
	char host[256] = "", at[LETHE_ISO_TIME_SIZE];

	if (gethostname(host, sizeof(host) - 1) != 0)
		strcpy(host, "unknown");
	lethe_now_iso(at);
	return json_pack("{s:i, s:s, s:I, s:s, s:s, s:s}", "lethe_evidence", LETHE_RECORD_FORMAT,
			 "kind", lethe_record_kind_name(k), "seq", (json_int_t)seq, "tool",
			 "lethe " LETHE_VERSION, "host", host, "at", at);
}

void lethe_record_text_digest(char out[LETHE_DIGEST_SIZE], const lethe_token_key *k,
			      const char *text)
{
	lethe_digest(out, k, "hold-text", text, strlen(text));
}

/* An integer in decimal, as %" PRId64 " writes it, into the end of buf:
 * its first digit (or sign). */
static const char *decimal(char buf[24], int64_t v)
{
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	char *p = buf + 24;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	return p;
}

/* The text a row's key is digested as (lethe/record.h); *s points into buf
 * or the key. */
static size_t key_text(const char **s, char buf[32], const lethe_value *key)
{
	if (key->type == LETHE_VALUE_INTEGER) {
		*s = decimal(buf, key->i);
		return (size_t)(buf + 24 - *s);
	}
	if (key->type == LETHE_VALUE_REAL) {
		*s = buf;
		return (size_t)snprintf(buf, 32, "%.17g", key->r);
	}
	if (key->type == LETHE_VALUE_NULL) {
		*s = "";
		return 0;
	}
	*s = key->s;
	return key->len;
}

void lethe_record_row_digest_in(char out[LETHE_DIGEST_SIZE], const lethe_digest_ctx *c,
				const lethe_value *key)
{
	char buf[32];
	const char *s;
	size_t len = key_text(&s, buf, key);

	lethe_digest_value(out, c, s, len);
}

void lethe_record_row_digest_bin(unsigned char out[LETHE_DIGEST_BIN], const lethe_digest_ctx *c,
				 const lethe_value *key)
{
	char buf[32];
	const char *s;
	size_t len = key_text(&s, buf, key);

	lethe_digest_value_bin(out, c, s, len);
}

void lethe_record_row_digest(char out[LETHE_DIGEST_SIZE], const lethe_token_key *k,
			     const char *rule, const lethe_value *key)
{
	lethe_digest_ctx c;

	lethe_digest_start(&c, k, rule);
	lethe_record_row_digest_in(out, &c, key);
	lethe_digest_end(&c);
}

json_t *lethe_record_rule(const lethe_rule_plan *rp, lethe_action applied)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			 "name", rp->rule->name, "table", rp->rule->table,
			 "action", lethe_action_name(applied), "basis", rp->rule->basis,
			 "in_scope", (json_int_t)rp->in_scope, "due", (json_int_t)rp->due,
			 "not_due", (json_int_t)rp->not_due, "not_started", (json_int_t)rp->not_started,
			 "invalid", (json_int_t)rp->invalid, "held", (json_int_t)rp->held,
			 "blocked", (json_int_t)rp->blocked);

	/* run --plan: rows due that the plan did not name, left for a later run */
	if (o && rp->unplanned > 0 &&
	    json_object_set_new(o, "unplanned", json_integer(rp->unplanned)) < 0) {
		json_decref(o);
		return NULL;
	}
	/* PostgreSQL: due rows another transaction held locked, left for the next run */
	if (o && rp->skipped > 0 &&
	    json_object_set_new(o, "skipped", json_integer(rp->skipped)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *lethe_record_intent(const lethe_record_intent_info *in)
{
	json_t *o = json_pack("{s:s, s:s, s:{s:s, s:s}, s:O, s:O}", "run_id", in->run_id, "as_of",
			      in->as_of, "database", "path", in->database, "schema_sha256",
			      in->schema_sha256, "policy", in->policy, "rules", in->rules);

	if (o && in->approval > 0 &&
	    json_object_set_new(o, "approval", json_integer(in->approval)) < 0) {
		json_decref(o);
		return NULL;
	}
	if (o && in->plan_sha256 &&
	    json_object_set_new(o, "plan", json_pack("{s:s, s:s}", "sha256", in->plan_sha256,
						     "as_of", in->plan_as_of)) < 0) {
		json_decref(o);
		return NULL;
	}
	if (!o || !in->request)
		return o;
	if (json_object_set_new(o, "request", json_string(in->request)) < 0 ||
	    json_object_set_new(o, "subject", json_string(in->subject ? in->subject : "")) < 0 ||
	    (in->contact && json_object_set_new(o, "contact", json_string(in->contact)) < 0) ||
	    (in->received && (json_object_set_new(o, "received", json_string(in->received)) < 0 ||
			      json_object_set_new(o, "answered", json_string(in->as_of)) < 0)) ||
	    (in->replay_of > 0 && json_object_set_new(o, "replay_of", json_integer(in->replay_of)) < 0) ||
	    (in->completes > 0 && json_object_set_new(o, "completes", json_integer(in->completes)) < 0) ||
	    (in->by && json_object_set_new(o, "by", json_string(in->by)) < 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

lethe_record_kind lethe_record_end_kind(const char *result)
{
	return strcmp(result, "aborted") ? LETHE_RECORD_COMPLETION : LETHE_RECORD_ABORT;
}

json_t *lethe_record_end_rule(const json_t *intent_rule, int aborted, int64_t disposed,
			      const char *digest_path, int64_t digest_count)
{
	static const char *const counts[] = { "in_scope", "not_due", "not_started", "invalid",
					      "held", "blocked" };
	json_t *o = json_deep_copy(intent_rule);

	if (!o)
		return NULL;
	json_object_del(o, "due");
	/* an abort disposed of nothing and its counts say so */
	for (size_t k = 0; aborted && k < sizeof(counts) / sizeof(*counts); k++)
		json_object_set_new(o, counts[k], json_integer(0));
	if (json_object_set_new(o, "disposed", json_integer(disposed)) < 0 ||
	    json_object_set_new(o, "digests", digest_count > 0
						       ? json_pack("{s:s, s:I}", "path", digest_path,
								   "count", (json_int_t)digest_count)
						       : json_null()) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *lethe_record_end(const lethe_record_end_info *in)
{
	json_t *warnings = json_array();

	for (size_t i = 0; warnings && in->warnings && i < in->warnings->count; i++)
		json_array_append_new(warnings, json_string(in->warnings->items[i]));
	return json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:O, s:o}", "run_id", in->run_id,
			 "intent_seq", (json_int_t)in->intent_seq, "as_of", in->as_of,
			 "started_at", in->started_at, "ended_at", in->ended_at, "result",
			 in->result, "rules", in->rules, "warnings", warnings);
}

json_t *lethe_record_hold(int64_t hold_id, const char *reason_digest, const char *subject,
			  const char *rule, const char *where_digest, const char *until)
{
	/* until is null when absent, as lethe 0.1 wrote it; the others are left out */
	return json_pack("{s:I, s:s, s:s*, s:s*, s:s*, s:s?}", "hold_id", (json_int_t)hold_id,
			 "reason_digest", reason_digest, "subject", subject, "rule", rule,
			 "where_digest", where_digest, "until", until);
}

json_t *lethe_record_release(int64_t hold_id, const char *reason_digest)
{
	return json_pack("{s:I, s:s}", "hold_id", (json_int_t)hold_id, "reason_digest",
			 reason_digest);
}

json_t *lethe_record_export(const char *subject, const lethe_access_result *res,
			    const char *format, const char *received, const char *answered)
{
	json_t *tables = json_array();

	for (size_t i = 0; tables && i < res->ntables; i++)
		json_array_append_new(tables, json_pack("{s:s, s:I}", "table", res->tables[i].table,
							"rows", (json_int_t)res->tables[i].rows));
	return json_pack("{s:s, s:s, s:o, s:{s:s, s:s}, s:s*, s:s*}", "request", "access", "subject",
			 subject, "tables", tables, "archive", "format", format, "sha256", res->sha256,
			 "received", received, "answered", answered);
}
