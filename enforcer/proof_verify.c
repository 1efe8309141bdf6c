/*
 * proof_verify.c - checks a data subject's proof offline (lethe/proof.h):
 * needs the proof and the allowed-signers file, never the repository.
 *
 * Invariants:
 *  - Every object is stored in a repository in memory under the id git
 *    computes from its bytes; an object whose stated id differs is a
 *    tampered proof. Records and digest files are then read from the
 *    commits by path, so a changed byte anywhere below a commit either
 *    changes an id the signed commit names or is not found.
 *  - Every commit a fact rests on is signed (namespace "git") by a key the
 *    allowed-signers file lists for its committer at its committer time,
 *    and its message names the record read from it.
 *  - The kept statement is the controller's, unsigned: reported as such.
 */
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lethe/error.h"
#include "lethe/proof.h"
#include "lethe/record.h"
#include "lethe/sshsig.h"
#include "lethe/token.h"
#include "strbuf.h"
#include "util.h"

typedef struct {
	lethe_evidence *ev;
	const lethe_allowed_signers *signers;
	lethe_proof_result *res;
	json_t *proof;
	json_t *records;      /* {seq as text: record JSON} read from signed commits */
	const char *subject;
} checker;

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return lethe_error_set(LETHE_EVERIFY, "proof rejected: %s", msg);
}

static int say(lethe_proof_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int say(lethe_proof_result *r, const char *fmt, ...)
{
	char *line = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	if (r->nlines == r->alloc) {
		size_t a = r->alloc ? r->alloc * 2 : 16;
		char **grown = realloc(r->lines, a * sizeof(*grown));

		if (!grown) {
			free(line);
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		}
		r->lines = grown;
		r->alloc = a;
	}
	r->lines[r->nlines++] = line;
	return 0;
}

void lethe_proof_result_release(lethe_proof_result *r)
{
	for (size_t i = 0; r && i < r->nlines; i++)
		free(r->lines[i]);
	if (r)
		free(r->lines);
}

static const char *str(const json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

/* Every object under the id its bytes give. */
static int load_objects(checker *c)
{
	const char *id;
	json_t *o;

	json_object_foreach(json_object_get(c->proof, "objects"), id, o) {
		const char *type = str(o, "type"), *b64 = str(o, "data");
		size_t cap, len = 0;
		unsigned char *bin;
		char got[41];
		int rc;

		if (!type || !b64)
			return bad("object %s has no type or data", id);
		cap = strlen(b64) / 4 * 3 + 3;
		if (!(bin = malloc(cap)))
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		if (sodium_base642bin(bin, cap, b64, strlen(b64), NULL, &len, NULL,
				      sodium_base64_VARIANT_ORIGINAL) != 0) {
			free(bin);
			return bad("object %s is not base64", id);
		}
		rc = lethe_evidence_object_put(got, c->ev, type, bin, len);
		free(bin);
		if (rc < 0)
			return rc == LETHE_EUSAGE ? bad("object %s has type '%s'", id, type) : rc;
		if (strcmp(got, id))
			return bad("object %s was changed: its bytes are object %s", id, got);
	}
	return 0;
}

typedef struct {
	checker *c;
	int64_t seq;
	const char *path;
} commit_check;

static int check_commit(void *vctx, const lethe_evidence_commit_info *ci)
{
	commit_check *cc = vctx;
	unsigned char pk[32];
	lethe_record_kind kind;
	char expect[LETHE_RECORD_PATH_SIZE];
	int64_t seq;
	int rc;

	if (!ci->signature)
		return bad("commit %s is not signed", ci->oid);
	if (lethe_sshsig_verify(pk, ci->signature, ci->signature_len, "git", ci->signed_data,
				ci->signed_len) < 0)
		return bad("commit %s: %s", ci->oid, lethe_error_last());
	if ((rc = lethe_allowed_signers_find(cc->c->signers, ci->committer_email, pk, "git",
					     ci->committer_time)) < 0)
		return rc == LETHE_EVERIFY ? bad("commit %s: %s", ci->oid, lethe_error_last()) : rc;
	if (lethe_record_message_parse(ci->message, &kind, &seq) != 0 || seq != cc->seq)
		return bad("commit %s does not record %08" PRId64, ci->oid, cc->seq);
	lethe_record_path(expect, seq, kind);
	if (strcmp(expect, cc->path))
		return bad("commit %s records '%s', not '%s'", ci->oid, expect, cc->path);
	cc->c->res->commits++;
	return 0;
}

/* A file of commit, from the objects; a missing object is a proof that does
 * not hold what it claims. */
static int read_file(char **data, size_t *len, checker *c, const char *commit, const char *path)
{
	int rc = lethe_evidence_read(data, len, c->ev, commit, path);

	if (rc == LETHE_ENOTFOUND || rc == LETHE_EDATA)
		return bad("'%s' of commit %s is not in the proof", path, commit);
	return rc;
}

/* Each record: its signed commit, its bytes, its kind and number. */
static int load_records(checker *c)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(c->proof, "records"), i, e) {
		json_int_t seq = json_integer_value(json_object_get(e, "seq"));
		const char *commit = str(e, "commit"), *path = str(e, "path");
		commit_check cc = { c, seq, path };
		char *data = NULL, key[32];
		size_t len = 0;
		json_t *r;
		int rc;

		if (!commit || !path || seq < 1)
			return bad("record entry %zu lacks seq, commit or path", i);
		if ((rc = lethe_evidence_visit(c->ev, commit, check_commit, &cc)) < 0)
			return rc == LETHE_EDATA ? bad("commit %s is not in the proof", commit) : rc;
		if ((rc = read_file(&data, &len, c, commit, path)) < 0)
			return rc;
		r = json_loadb(data, len, 0, NULL);
		free(data);
		if (!json_is_object(r) || json_integer_value(json_object_get(r, "seq")) != seq) {
			json_decref(r);
			return bad("record '%s' is not record %08" PRId64, path, (int64_t)seq);
		}
		snprintf(key, sizeof(key), "%" PRId64, (int64_t)seq);
		json_object_set_new(c->records, key, r);
		c->res->records++;
	}
	return 0;
}

static json_t *record(checker *c, json_int_t seq)
{
	char key[32];

	snprintf(key, sizeof(key), "%" PRId64, (int64_t)seq);
	return json_object_get(c->records, key);
}

static const char *kind(const json_t *r)
{
	const char *k = str(r, "kind");

	return k ? k : "";
}

/* The intent of the proof that completion r closes, or NULL. */
static json_t *intent_of(checker *c, const json_t *r)
{
	json_t *i = record(c, json_integer_value(json_object_get(r, "intent_seq")));

	if (i && !strcmp(kind(i), "intent") && str(i, "run_id") && str(r, "run_id") &&
	    !strcmp(str(i, "run_id"), str(r, "run_id")))
		return i;
	return NULL;
}

/* Whether the proof holds the hold that release r releases. */
static int releases_a_hold(checker *c, const json_t *r)
{
	const char *key;
	json_t *h;

	json_object_foreach(c->records, key, h)
		if (!strcmp(kind(h), "hold") &&
		    json_equal(json_object_get(h, "hold_id"), json_object_get(r, "hold_id")))
			return 1;
	return 0;
}

/* What each record says about the subject. */
static int facts(checker *c)
{
	const char *key;
	json_t *r;

	json_object_foreach(c->records, key, r) {
		const char *k = kind(r), *s = str(r, "subject");
		json_int_t seq = json_integer_value(json_object_get(r, "seq"));
		int rc = 0;

		if (!strcmp(k, "intent") || !strcmp(k, "hold") || !strcmp(k, "export")) {
			if (!s || strcmp(s, c->subject))
				return bad("record %08" PRId64 " names another subject", (int64_t)seq);
		}
		if (!strcmp(k, "release") && !releases_a_hold(c, r))
			return bad("record %08" PRId64 " releases no hold of the subject", (int64_t)seq);
		if (!strcmp(k, "intent"))
			rc = say(c->res, "record %08" PRId64 ": erasure requested%s%s, run %s as of %s",
				 (int64_t)seq, str(r, "received") ? " on " : "",
				 str(r, "received") ? str(r, "received") : "", str(r, "run_id"),
				 str(r, "as_of"));
		else if (!strcmp(k, "hold"))
			rc = say(c->res, "record %08" PRId64 ": hold %" JSON_INTEGER_FORMAT
				 " placed on the subject%s%s", (int64_t)seq,
				 json_integer_value(json_object_get(r, "hold_id")),
				 str(r, "until") ? " until " : "", str(r, "until") ? str(r, "until") : "");
		else if (!strcmp(k, "export"))
			rc = say(c->res, "record %08" PRId64 ": access export answered on %s",
				 (int64_t)seq, str(r, "answered") ? str(r, "answered") : str(r, "at"));
		else if (!strcmp(k, "release"))
			rc = say(c->res, "record %08" PRId64 ": hold %" JSON_INTEGER_FORMAT " released",
				 (int64_t)seq, json_integer_value(json_object_get(r, "hold_id")));
		else if ((!strcmp(k, "completion") || !strcmp(k, "abort")) && intent_of(c, r))
			rc = say(c->res, "record %08" PRId64 ": erasure run %s %s, ended %s",
				 (int64_t)seq, str(r, "run_id"), str(r, "result"), str(r, "ended_at"));
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The digest file path of completion r: its rule entry, its sha256 in
 * `files`, its lines; *data the file (caller frees). */
static int digest_file(char **data, size_t *len, checker *c, json_int_t seq, const char *path,
		       const char *rule_name, json_t **rule_out)
{
	json_t *r = record(c, seq), *rule, *f;
	const char *commit = NULL, *sha = NULL;
	char hex[LETHE_SHA256_HEX_SIZE];
	json_int_t count = -1;
	size_t i;
	json_t *e;
	int rc;

	if (!r || strcmp(kind(r), "completion"))
		return bad("digest file '%s' names record %08" PRId64 ", no completion of the proof",
			   path, (int64_t)seq);
	json_array_foreach(json_object_get(r, "rules"), i, rule) {
		json_t *d = json_object_get(rule, "digests");

		if (str(d, "path") && !strcmp(str(d, "path"), path) &&
		    (!rule_name || (str(rule, "name") && !strcmp(str(rule, "name"), rule_name)))) {
			count = json_integer_value(json_object_get(d, "count"));
			*rule_out = rule;
		}
	}
	json_array_foreach(json_object_get(r, "files"), i, f)
		if (str(f, "path") && !strcmp(str(f, "path"), path))
			sha = str(f, "sha256");
	if (count < 0 || !sha)
		return bad("record %08" PRId64 " lists no digest file '%s'%s%s", (int64_t)seq, path,
			   rule_name ? " of rule " : "", rule_name ? rule_name : "");
	json_array_foreach(json_object_get(c->proof, "records"), i, e)
		if (json_integer_value(json_object_get(e, "seq")) == seq)
			commit = str(e, "commit");
	if ((rc = read_file(data, len, c, commit, path)) < 0)
		return rc;
	lethe_sha256_hex(hex, *data, *len);
	if (strcmp(hex, sha) || *len != (size_t)count * (LETHE_DIGEST_LEN + 1)) {
		free(*data);
		return bad("digest file '%s' does not match record %08" PRId64, path, (int64_t)seq);
	}
	c->res->digest_files++;
	return 0;
}

static int erasure_files(checker *c)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(c->proof, "digest_files"), i, e) {
		json_int_t seq = json_integer_value(json_object_get(e, "record"));
		const char *path = str(e, "path");
		json_t *rule = NULL, *r = record(c, seq);
		char *data = NULL;
		size_t len = 0;
		int rc;

		if (!path || !r || !intent_of(c, r))
			return bad("digest file entry %zu names no erasure of the subject", i);
		if ((rc = digest_file(&data, &len, c, seq, path, NULL, &rule)) < 0)
			return rc;
		free(data);
		if ((rc = say(c->res, "record %08" PRId64 ": rule %s %s %zu of the subject's rows "
				      "(digest file checked)", (int64_t)seq, str(rule, "name"),
				      str(rule, "action"), len / (LETHE_DIGEST_LEN + 1))) < 0)
			return rc;
	}
	return 0;
}

static int row_facts(checker *c, const lethe_token_key *key)
{
	const char *text = str(json_object_get(c->proof, "subject"), "key");
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(c->proof, "rows"), i, e) {
		const char *rule_name = str(e, "rule"), *digest = str(e, "digest"), *path = str(e, "path");
		json_int_t seq = json_integer_value(json_object_get(e, "record"));
		json_t *rule = NULL, *r = record(c, seq);
		char *data = NULL, mine[LETHE_DIGEST_SIZE];
		size_t len = 0, n, found = 0;
		int rc;

		if (!rule_name || !digest || !path || strlen(digest) != LETHE_DIGEST_LEN)
			return bad("row entry %zu lacks rule, digest or path", i);
		if (key && text) {
			lethe_digest(mine, key, rule_name, text, strlen(text));
			if (strcmp(mine, digest))
				return bad("row digest of rule %s is not the subject's", rule_name);
		}
		if ((rc = digest_file(&data, &len, c, seq, path, rule_name, &rule)) < 0)
			return rc;
		n = len / (LETHE_DIGEST_LEN + 1);
		for (size_t l = 0; l < n && !found; l++)
			found = !memcmp(data + l * (LETHE_DIGEST_LEN + 1), digest, LETHE_DIGEST_LEN);
		free(data);
		if (!found)
			return bad("digest file '%s' does not hold the row's digest", path);
		if ((rc = say(c->res, "record %08" PRId64 ": the subject's row of rule %s %s in run %s "
				      "as of %s (%s)", (int64_t)seq, rule_name, str(rule, "action"),
			       str(r, "run_id"), str(r, "as_of"), str(r, "result"))) < 0)
			return rc;
	}
	return 0;
}

/* The controller's statement of what is kept, reported as such. */
static int kept_facts(checker *c)
{
	json_t *e;
	size_t i;
	int rc;

	json_array_foreach(json_object_get(c->proof, "kept"), i, e) {
		const char *next = str(e, "next_due"), *last = str(e, "last_due");

		rc = say(c->res, "kept (the controller's statement as of %s, not signed): rule %s, "
				 "%" JSON_INTEGER_FORMAT " row(s), basis %s, %s%s%s%s",
			 str(c->proof, "as_of"), str(e, "rule"),
			 json_integer_value(json_object_get(e, "rows")), str(e, "basis"),
			 next ? "first due " : "no disposal day", next ? next : "",
			 last && next && strcmp(last, next) ? ", last due " : "",
			 last && next && strcmp(last, next) ? last : "");
		if (rc < 0)
			return rc;
	}
	return 0;
}

int lethe_proof_verify(lethe_proof_result *out, const char *text, size_t len,
		       const lethe_allowed_signers *signers, const lethe_token_key *key)
{
	checker c = { 0 };
	lethe_proof_result res = { 0 };
	json_error_t err;
	const char *digest, *subj_key;
	int rc;

	c.proof = json_loadb(text, len, 0, &err);
	if (!json_is_object(c.proof) ||
	    json_integer_value(json_object_get(c.proof, "lethe_proof")) != LETHE_PROOF_FORMAT) {
		json_decref(c.proof);
		return lethe_error_set(LETHE_EDATA, "not a lethe proof (format %d): %s",
				       LETHE_PROOF_FORMAT, err.text[0] ? err.text : "no lethe_proof field");
	}
	digest = str(json_object_get(c.proof, "subject"), "digest");
	subj_key = str(json_object_get(c.proof, "subject"), "key");
	if (!digest || strlen(digest) != LETHE_DIGEST_LEN) {
		rc = bad("no subject digest");
		goto out;
	}
	c.subject = digest;
	c.signers = signers;
	c.res = &res;
	snprintf(res.subject, sizeof(res.subject), "%s", digest);
	if (key) {
		char mine[LETHE_DIGEST_SIZE];

		if (!subj_key) {
			rc = bad("no subject key to digest");
			goto out;
		}
		lethe_digest(mine, key, "subject", subj_key, strlen(subj_key));
		if (strcmp(mine, digest)) {
			rc = bad("the subject digest is not the digest of the subject's key");
			goto out;
		}
		res.subject_checked = 1;
	}
	if (!(c.records = json_object()) || (rc = lethe_evidence_open_memory(&c.ev)) < 0) {
		rc = c.records ? rc : lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	if ((rc = load_objects(&c)) < 0 || (rc = load_records(&c)) < 0 || (rc = facts(&c)) < 0 ||
	    (rc = erasure_files(&c)) < 0 || (rc = row_facts(&c, key)) < 0 ||
	    (rc = kept_facts(&c)) < 0)
		goto out;
	*out = res;
	memset(&res, 0, sizeof(res));
out:
	lethe_proof_result_release(&res);
	lethe_evidence_free(c.ev);
	json_decref(c.records);
	json_decref(c.proof);
	return rc;
}

int lethe_proof_verify_file(lethe_proof_result *out, const char *path,
			    const lethe_allowed_signers *signers, const lethe_token_key *key)
{
	lethe_strbuf sb;
	int rc;

	if (access(path, F_OK) != 0)
		return lethe_error_set(LETHE_ENOINPUT, "cannot open proof '%s': no such file", path);
	lethe_strbuf_init(&sb);
	if ((rc = lethe_strbuf_read_file(&sb, path)) == 0)
		rc = lethe_proof_verify(out, sb.buf, sb.len, signers, key);
	lethe_strbuf_release(&sb);
	return rc;
}
