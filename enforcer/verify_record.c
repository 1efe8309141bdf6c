/*
 * verify_record.c - one record of the evidence repository against
 * docs/evidence-format.md: its fields and their types, the SHA-256 of every
 * file it lists, digest files, and the run it belongs to.
 *
 * Invariants:
 *  - Fields the format requires must be present with their type; extra
 *    fields are allowed (later versions may add some); a kind this version
 *    does not know is checked for the common fields only.
 *  - A file's hash is always computed from the bytes in the commit's tree
 *    (libsodium's SHA-256), never taken from the record; once per distinct
 *    blob id, since equal ids are equal bytes (verify_cache.c).
 *  - Every policy file and every digest file must also be listed in `files`
 *    (the format says `files` lists every file the commit added or replaced).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "lethe/record.h"
#include "verify_fields.h"
#include "verify_impl.h"

typedef verify_rec record;

/* A {"path", "sha256"} entry: the file is in the tree with that hash. */
static int check_file_entry(record *r, const char **path_out, json_t *e, const char *where)
{
	const char *path, *want;
	char hex[65];
	json_t *p = NULL;
	int rc;

	if (!json_is_object(e))
		return verify_fail(r->s, "%s: '%s' is not an object", r->path, where);
	if (verify_field(r, &p, e, where, "path", JSON_STRING) < 0 ||
	    verify_shaped(r, &want, e, where, "sha256", "hex64") < 0)
		return LETHE_EVERIFY;
	path = json_string_value(p);
	if ((rc = verify_file_sha256(r->s, r->path, hex, path)) < 0)
		return rc;
	if (strcmp(hex, want) != 0)
		return verify_fail(r->s, "%s: sha256 of '%s' does not match", r->path, path);
	if (path_out)
		*path_out = path;
	return 0;
}

/* The `files` entry for path, or NULL. */
static json_t *listed(record *r, const char *path)
{
	size_t i;
	json_t *e;

	json_array_foreach(r->files, i, e) {
		json_t *p = json_object_get(e, "path");

		if (json_is_string(p) && !strcmp(json_string_value(p), path))
			return e;
	}
	return NULL;
}

static int check_files(record *r)
{
	size_t i;
	json_t *e;
	char where[64];
	int rc;

	json_array_foreach(r->files, i, e) {
		snprintf(where, sizeof(where), "files[%zu].", i);
		if ((rc = check_file_entry(r, NULL, e, where)) < 0)
			return rc;
	}
	return 0;
}

/* A digest file: count lines of 64 lowercase hex digits, sorted. */
static int check_digests(record *r, const char *path, int64_t want)
{
	char *data = NULL;
	size_t len, lines = 0;
	const char *prev = NULL;
	int rc;

	if (!listed(r, path))
		return verify_fail(r->s, "%s: digest file '%s' is not in 'files'", r->path, path);
	if ((rc = verify_file_read(r->s, r->path, &data, &len, path)) < 0)
		return rc;
	for (size_t at = 0; at < len; at += 65, lines++) {
		const char *line = data + at;

		if (len - at < 65 || line[64] != '\n')
			goto bad;
		for (int i = 0; i < 64; i++)
			if (!((line[i] >= '0' && line[i] <= '9') || (line[i] >= 'a' && line[i] <= 'f')))
				goto bad;
		if (prev && memcmp(prev, line, 64) > 0) {
			rc = verify_fail(r->s, "%s: digest file '%s' is not sorted (line %zu)",
					 r->path, path, lines + 1);
			goto out;
		}
		prev = line;
	}
	if ((int64_t)lines != want)
		rc = verify_fail(r->s, "%s: digest file '%s' has %zu lines, not %lld", r->path,
				 path, lines, (long long)want);
	goto out;
bad:
	rc = verify_fail(r->s, "%s: digest file '%s' line %zu is not 64 lowercase hex digits",
			 r->path, path, lines + 1);
out:
	free(data);
	return rc;
}

/* The actions of docs/policy-language.md; a record's `action` is the one
 * the run applied. */
static int is_action(const char *s)
{
	static const char *const actions[] = { "delete", "pseudonymise", "mask", "keep" };

	for (size_t k = 0; k < sizeof(actions) / sizeof(actions[0]); k++)
		if (!strcmp(s, actions[k]))
			return 1;
	return 0;
}

/* One entry of `rules`: its names, its counts (due or disposed), its digests. */
static int check_rule(record *r, json_t *rule, size_t i, int completion, int aborted,
		      const char *run_id)
{
	static const char *const names[] = { "name", "table", "action", "basis" };
	static const char *const counts[] = { "in_scope", "not_due", "not_started", "invalid",
					      "held", "blocked" };
	char where[64], *want = NULL;
	const char *action;
	int64_t disposed, n, total = 0;
	json_t *v = NULL, *d = NULL;
	int rc;

	snprintf(where, sizeof(where), "rules[%zu].", i);
	if (!json_is_object(rule))
		return verify_fail(r->s, "%s: 'rules[%zu]' is not an object", r->path, i);
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (verify_field(r, &v, rule, where, names[k], JSON_STRING) < 0)
			return LETHE_EVERIFY;
	action = json_string_value(json_object_get(rule, "action"));
	if (!is_action(action))
		return verify_fail(r->s, "%s: '%saction' is '%s', not delete, pseudonymise, mask or keep",
				   r->path, where, action);
	for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		if (verify_count(r, &n, rule, where, counts[k]) < 0)
			return LETHE_EVERIFY;
		total += n;
	}
	/* run --plan: due rows the plan did not name (docs/evidence-format.md) */
	if (json_object_get(rule, "unplanned") && verify_count(r, NULL, rule, where, "unplanned") < 0)
		return LETHE_EVERIFY;
	/* due rows locked by another transaction, skipped (docs/evidence-format.md) */
	if (json_object_get(rule, "skipped") && verify_count(r, NULL, rule, where, "skipped") < 0)
		return LETHE_EVERIFY;
	if (!completion)
		return verify_count(r, NULL, rule, where, "due");
	if (verify_count(r, &disposed, rule, where, "disposed") < 0)
		return LETHE_EVERIFY;
	/* the action is the one the run applied (an erasure's on_erasure): a
	 * rule that kept its rows disposed of none */
	if (!strcmp(action, "keep") && disposed != 0)
		return verify_fail(r->s, "%s: 'rules[%zu]' keeps its rows but disposed of %lld",
				   r->path, i, (long long)disposed);
	if (aborted && total + disposed != 0)
		return verify_fail(r->s, "%s: an abort has non-zero counts in 'rules[%zu]'",
				   r->path, i);
	d = json_object_get(rule, "digests");
	if (!d || json_is_null(d)) {
		if (disposed != 0)
			return verify_fail(r->s, "%s: 'rules[%zu]' disposed of %lld rows but has no "
					   "digests", r->path, i, (long long)disposed);
		return 0;
	}
	if (!json_is_object(d))
		return verify_fail(r->s, "%s: '%sdigests' is not an object or null", r->path, where);
	if (disposed == 0)
		return verify_fail(r->s, "%s: 'rules[%zu]' disposed of nothing but has digests",
				   r->path, i);
	snprintf(where, sizeof(where), "rules[%zu].digests.", i);
	if (verify_field(r, &v, d, where, "path", JSON_STRING) < 0 || verify_count(r, &n, d, where, "count") < 0)
		return LETHE_EVERIFY;
	if (n != disposed)
		return verify_fail(r->s, "%s: 'rules[%zu]' digests count %lld is not disposed %lld",
				   r->path, i, (long long)n, (long long)disposed);
	/* as long as the rule's name makes it: no fixed capacity */
	if (asprintf(&want, "runs/%.2s/%s/digests/%s.txt", run_id, run_id,
		     json_string_value(json_object_get(rule, "name"))) < 0)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	if (strcmp(json_string_value(v), want) != 0)
		rc = verify_fail(r->s, "%s: digests of 'rules[%zu]' are at '%s', not '%s'",
				 r->path, i, json_string_value(v), want);
	else
		rc = check_digests(r, want, n);
	free(want);
	return rc;
}

static int check_rules(record *r, json_t *rec, int completion, int aborted, const char *run_id)
{
	json_t *rules, *rule;
	size_t i;
	int rc;

	if (verify_field(r, &rules, rec, "", "rules", JSON_ARRAY) < 0)
		return LETHE_EVERIFY;
	json_array_foreach(rules, i, rule)
		if ((rc = check_rule(r, rule, i, completion, aborted, run_id)) < 0)
			return rc;
	return 0;
}

/* What the run's commit subjects call it (lethe_record_intent_label): "run"
 * for lethe run, "erasure", "replay" (an erasure with replay_of) or "finish"
 * (with completes) for lethe erase, lethe replay and a run finishing an
 * erasure. */
static void intent_label(char out[16], json_t *rec)
{
	snprintf(out, 16, "%s", lethe_record_intent_label(rec));
}

/* A request's optional received and answered days (GDPR 12(3)), dates only. */
static int check_request_dates(record *r, json_t *rec)
{
	if ((json_object_get(rec, "received") && verify_shaped(r, NULL, rec, "", "received", "date") < 0) ||
	    (json_object_get(rec, "answered") && verify_shaped(r, NULL, rec, "", "answered", "date") < 0))
		return LETHE_EVERIFY;
	return 0;
}

/* `by` (optional, records since they name who acted): a principal of 1 to
 * 64 of A-Z a-z 0-9 . _ @ + -, one word of the commit subject. */
static int check_by(record *r, json_t *rec)
{
	json_t *by = json_object_get(rec, "by");
	const char *s = json_string_value(by);

	if (!by)
		return 0;
	if (!s || !*s || strlen(s) > 64 ||
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@+-") != strlen(s))
		return verify_fail(r->s, "%s: 'by' is not a principal", r->path);
	return 0;
}

/* An erasure's fields: the subject's digest and, when recorded, the digest
 * of its contact values (digests only: nothing personal). */
static int check_request(record *r, json_t *rec)
{
	json_t *v = NULL;

	if (!json_object_get(rec, "request"))
		return check_by(r, rec);
	if (verify_field(r, &v, rec, "", "request", JSON_STRING) < 0 ||
	    verify_shaped(r, NULL, rec, "", "subject", "hex64") < 0 ||
	    (json_object_get(rec, "contact") && verify_shaped(r, NULL, rec, "", "contact", "hex64") < 0) ||
	    check_request_dates(r, rec) < 0 || check_by(r, rec) < 0 ||
	    (json_object_get(rec, "replay_of") && verify_count(r, NULL, rec, "", "replay_of") < 0) ||
	    (json_object_get(rec, "completes") && verify_count(r, NULL, rec, "", "completes") < 0))
		return LETHE_EVERIFY;
	if (json_object_get(rec, "replay_of") && json_object_get(rec, "completes"))
		return verify_fail(r->s, "%s: an erasure is a replay or finishes another, not both",
				   r->path);
	return 0;
}

static int check_intent(record *r, json_t *rec, int64_t seq)
{
	verify_state *s = r->s;
	const char *run_id, *path;
	json_t *db = NULL, *policy = NULL, *e = NULL;
	char where[64];
	size_t i;
	int rc;

	if (verify_shaped(r, &run_id, rec, "", "run_id", "hex32") < 0 ||
	    verify_shaped(r, NULL, rec, "", "as_of", "date") < 0 ||
	    verify_field(r, &db, rec, "", "database", JSON_OBJECT) < 0 ||
	    verify_field(r, &e, db, "database.", "path", JSON_STRING) < 0 ||
	    verify_shaped(r, NULL, db, "database.", "schema_sha256", "hex64") < 0 ||
	    verify_field(r, &policy, rec, "", "policy", JSON_ARRAY) < 0)
		return LETHE_EVERIFY;
	/* A policy file must be listed in `files` with the same hash; check_files
	 * has hashed every listed file against the tree already, so the file is
	 * not read a second time. */
	json_array_foreach(policy, i, e) {
		json_t *p = NULL, *f;
		const char *want = NULL;

		snprintf(where, sizeof(where), "policy[%zu].", i);
		if (!json_is_object(e))
			return verify_fail(s, "%s: '%s' is not an object", r->path, where);
		if (verify_field(r, &p, e, where, "path", JSON_STRING) < 0 ||
		    verify_shaped(r, &want, e, where, "sha256", "hex64") < 0)
			return LETHE_EVERIFY;
		path = json_string_value(p);
		if (!(f = listed(r, path)))
			return verify_fail(s, "%s: policy file '%s' is not in 'files'", r->path, path);
		if (!json_is_string(json_object_get(f, "sha256")) ||
		    strcmp(json_string_value(json_object_get(f, "sha256")), want) != 0)
			return verify_fail(s, "%s: sha256 of '%s' does not match", r->path, path);
	}
	if ((rc = check_rules(r, rec, 0, 0, run_id)) < 0 || (rc = check_request(r, rec)) < 0 ||
	    (rc = verify_intent_approval(s, r->path, rec)) < 0)
		return rc;
	for (i = 0; i < s->nintents; i++)
		if (!strcmp(s->intents[i].run_id, run_id))
			return verify_fail(s, "%s: run id %s was already used by record %lld",
					   r->path, run_id, (long long)s->intents[i].seq);
	if (s->nintents == s->capintents) {
		size_t cap = s->capintents ? 2 * s->capintents : 64;
		verify_intent *more = realloc(s->intents, cap * sizeof(*more));

		if (!more)
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		s->intents = more;
		s->capintents = cap;
	}
	snprintf(s->intents[s->nintents].run_id, 33, "%s", run_id);
	s->intents[s->nintents].seq = seq;
	s->intents[s->nintents].closed_by = 0;
	intent_label(s->intents[s->nintents++].label, rec);
	return 0;
}

/* Intents are in sequence order: a binary search. */
verify_intent *verify_find_intent(verify_state *s, int64_t seq)
{
	size_t lo = 0, hi = s->nintents;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->intents[mid].seq == seq)
			return &s->intents[mid];
		if (s->intents[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int check_completion(record *r, json_t *rec, int64_t seq, int aborted)
{
	verify_state *s = r->s;
	const char *run_id, *result;
	verify_intent *in;
	int64_t intent_seq;
	json_t *v = NULL, *w = NULL;
	size_t i;
	int rc;

	if (verify_shaped(r, &run_id, rec, "", "run_id", "hex32") < 0 ||
	    verify_count(r, &intent_seq, rec, "", "intent_seq") < 0 ||
	    verify_shaped(r, NULL, rec, "", "as_of", "date") < 0 ||
	    verify_shaped(r, NULL, rec, "", "started_at", "time") < 0 ||
	    verify_shaped(r, NULL, rec, "", "ended_at", "time") < 0 ||
	    verify_field(r, &v, rec, "", "result", JSON_STRING) < 0 ||
	    verify_field(r, &v, rec, "", "warnings", JSON_ARRAY) < 0)
		return LETHE_EVERIFY;
	json_array_foreach(v, i, w)
		if (!json_is_string(w))
			return verify_fail(s, "%s: 'warnings[%zu]' is not a string", r->path, i);
	result = json_string_value(json_object_get(rec, "result"));
	if (aborted ? strcmp(result, "aborted") != 0
		    : strcmp(result, "completed") != 0 && strcmp(result, "recovered") != 0 &&
		      strcmp(result, "failed") != 0)
		return verify_fail(s, "%s: result '%s' is not %s", r->path, result,
				   aborted ? "'aborted'" : "'completed', 'failed' or 'recovered'");
	in = verify_find_intent(s, intent_seq);
	if (!in || intent_seq >= seq)
		return verify_fail(s, "%s: intent_seq %lld is not an earlier intent record",
				   r->path, (long long)intent_seq);
	if (strcmp(in->run_id, run_id) != 0)
		return verify_fail(s, "%s: run_id %s is not the run of intent %lld (%s)", r->path,
				   run_id, (long long)intent_seq, in->run_id);
	if (in->closed_by)
		return verify_fail(s, "%s: intent %lld was already closed by record %lld", r->path,
				   (long long)intent_seq, (long long)in->closed_by);
	if ((rc = check_rules(r, rec, 1, aborted, run_id)) < 0)
		return rc;
	in->closed_by = seq;
	return 0;
}

static int check_parsed(verify_state *s, const char *path, int64_t seq, const char *kind,
			json_t *rec, const char *parse_error, json_t **keep);

int verify_record(verify_state *s, const char *path, int64_t seq, const char *kind)
{
	json_error_t jerr;
	json_t *rec;
	char *data = NULL;
	size_t len;
	int rc;

	/* parsed ahead by the pool (verify_pool.c) when it was the commit's
	 * only change under records/, as it must be to get here */
	if (s->p && s->p->record_parsed)
		return check_parsed(s, path, seq, kind, json_incref(s->p->record),
				    s->p->record_error, &s->record);
	/* by the id the commit's diff gave: no second lookup of its path */
	if ((rc = lethe_evidence_read_blob(&data, &len, s->ev, s->added_blob)) < 0)
		return rc;
	rec = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	free(data);
	return check_parsed(s, path, seq, kind, rec, jerr.text, &s->record);
}

int verify_record_bytes(verify_state *s, const char *path, int64_t seq, const char *kind,
			const char *data, size_t len)
{
	json_error_t jerr;
	json_t *rec = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);

	return check_parsed(s, path, seq, kind, rec, jerr.text, NULL);
}

/* A text digest field, or (records of earlier versions) the text itself. */
static int text_or_digest(record *r, json_t *rec, const char *digest_name, const char *text_name,
			  int required)
{
	json_t *v = NULL;

	if (json_object_get(rec, digest_name))
		return verify_shaped(r, NULL, rec, "", digest_name, "hex64");
	if (json_object_get(rec, text_name))
		return verify_field(r, &v, rec, "", text_name, JSON_STRING);
	if (!required)
		return 0;
	return verify_fail(r->s, "%s: '%s' is missing", r->path, digest_name);
}

/* hold: its id, the reason's digest, exactly one of a subject digest and a
 * rule (a --where only with a rule), and a lapse day or none. */
static int check_hold(record *r, json_t *rec)
{
	json_t *v = NULL, *subject = json_object_get(rec, "subject");
	json_t *rule = json_object_get(rec, "rule"), *until = json_object_get(rec, "until");

	if (verify_count(r, NULL, rec, "", "hold_id") < 0 ||
	    text_or_digest(r, rec, "reason_digest", "reason", 1) < 0 || check_by(r, rec) < 0)
		return LETHE_EVERIFY;
	if (!subject == !rule)
		return verify_fail(r->s, "%s: a hold names either a 'subject' or a 'rule'", r->path);
	if (subject && verify_shaped(r, NULL, rec, "", "subject", "hex64") < 0)
		return LETHE_EVERIFY;
	if (rule && verify_field(r, &v, rec, "", "rule", JSON_STRING) < 0)
		return LETHE_EVERIFY;
	if (subject && (json_object_get(rec, "where_digest") || json_object_get(rec, "where")))
		return verify_fail(r->s, "%s: a subject hold has no 'where'", r->path);
	if (text_or_digest(r, rec, "where_digest", "where", 0) < 0)
		return LETHE_EVERIFY;
	if (until && !json_is_null(until) && verify_shaped(r, NULL, rec, "", "until", "date") < 0)
		return LETHE_EVERIFY;
	return 0;
}

static int check_release(record *r, json_t *rec)
{
	if (verify_count(r, NULL, rec, "", "hold_id") < 0 ||
	    text_or_digest(r, rec, "reason_digest", "reason", 1) < 0 || check_by(r, rec) < 0)
		return LETHE_EVERIFY;
	return 0;
}

/* export: an access request's subject digest, tables and archive, and who
 * answered it when named (`by`). */
static int check_export(record *r, json_t *rec)
{
	json_t *v = NULL, *tables = NULL, *archive = NULL, *t;
	const char *format;
	char where[48];
	size_t i;

	if (verify_field(r, &v, rec, "", "request", JSON_STRING) < 0 ||
	    verify_shaped(r, NULL, rec, "", "subject", "hex64") < 0 ||
	    verify_field(r, &tables, rec, "", "tables", JSON_ARRAY) < 0 ||
	    verify_field(r, &archive, rec, "", "archive", JSON_OBJECT) < 0 ||
	    verify_field(r, &v, archive, "archive.", "format", JSON_STRING) < 0 ||
	    verify_shaped(r, NULL, archive, "archive.", "sha256", "hex64") < 0 ||
	    check_request_dates(r, rec) < 0 || check_by(r, rec) < 0)
		return LETHE_EVERIFY;
	if (strcmp(json_string_value(json_object_get(rec, "request")), "access"))
		return verify_fail(r->s, "%s: an export's 'request' is not 'access'", r->path);
	format = json_string_value(v);
	if (strcmp(format, "zip") && strcmp(format, "tar.gz"))
		return verify_fail(r->s, "%s: 'archive.format' is neither zip nor tar.gz", r->path);
	json_array_foreach(tables, i, t) {
		snprintf(where, sizeof(where), "tables[%zu].", i);
		if (!json_is_object(t))
			return verify_fail(r->s, "%s: 'tables[%zu]' is not an object", r->path, i);
		if (verify_field(r, &v, t, where, "table", JSON_STRING) < 0 ||
		    verify_count(r, NULL, t, where, "rows") < 0)
			return LETHE_EVERIFY;
	}
	return 0;
}

/* rec: the record's JSON (a reference this takes), NULL with the parser's
 * reason; keep: the record, when it passed, for the commit-level checks. */
static int check_parsed(verify_state *s, const char *path, int64_t seq, const char *kind,
			json_t *rec, const char *parse_error, json_t **keep)
{
	record r = { s, path, NULL };
	json_t *v = NULL;
	int rc;

	if (!rec || !json_is_object(rec)) {
		rc = verify_fail(s, "%s: not a json object%s%s", path, rec ? "" : ": ",
				 rec ? "" : parse_error ? parse_error : "");
		goto out;
	}
	if (verify_field(&r, &v, rec, "", "lethe_evidence", JSON_INTEGER) < 0)
		goto fail;
	if (json_integer_value(v) != 1) {
		rc = verify_fail(s, "%s: format version %lld is not 1", path,
				 (long long)json_integer_value(v));
		goto out;
	}
	if (verify_field(&r, &v, rec, "", "kind", JSON_STRING) < 0)
		goto fail;
	if (strcmp(json_string_value(v), kind) != 0) {
		rc = verify_fail(s, "%s: kind '%s' does not match its name", path,
				 json_string_value(v));
		goto out;
	}
	if (verify_field(&r, &v, rec, "", "seq", JSON_INTEGER) < 0)
		goto fail;
	if (json_integer_value(v) != seq) {
		rc = verify_fail(s, "%s: seq %lld does not match its name", path,
				 (long long)json_integer_value(v));
		goto out;
	}
	if (verify_field(&r, &v, rec, "", "tool", JSON_STRING) < 0 ||
	    verify_field(&r, &v, rec, "", "host", JSON_STRING) < 0 ||
	    verify_shaped(&r, NULL, rec, "", "at", "time") < 0 ||
	    verify_field(&r, &r.files, rec, "", "files", JSON_ARRAY) < 0)
		goto fail;
	if ((rc = check_files(&r)) < 0)
		goto out;
	if (!strcmp(kind, "intent"))
		rc = check_intent(&r, rec, seq);
	else if (!strcmp(kind, "completion") || !strcmp(kind, "abort"))
		rc = check_completion(&r, rec, seq, !strcmp(kind, "abort"));
	else if (!strcmp(kind, "hold"))
		rc = check_hold(&r, rec);
	else if (!strcmp(kind, "release"))
		rc = check_release(&r, rec);
	else if (!strcmp(kind, "export"))
		rc = check_export(&r, rec);
	else if (!strcmp(kind, "approval"))
		rc = verify_approval_record(s, path, seq, rec);
	if (rc == 0 && keep)
		*keep = json_incref(rec);
	goto out;
fail:
	rc = LETHE_EVERIFY;
out:
	json_decref(rec);
	return rc;
}
