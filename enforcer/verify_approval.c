/*
 * verify_approval.c - the auditor's check of approval records and of the
 * intents that rely on one (docs/evidence-format.md, "approval", "Policy
 * digest"), written from the format, not from the writer (approval.c).
 *
 * Invariants:
 *  - The policy digest is recomputed from the record's `policy` lines and
 *    the statement from its fields; nothing the record says about itself is
 *    taken on trust.
 *  - The approver's key must be listed for the recorded principal on a line
 *    that names the namespace "lethe-approval" (a line without namespaces
 *    is no approver line), valid at the record's `at`.
 *  - Approvals seen are kept in sequence order (seq and digest only), so an
 *    intent's `approval` is checked without reading an earlier commit.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/calendar.h"
#include "lethe/error.h"
#include "lethe/sshsig.h"
#include "strbuf.h"
#include "util.h"
#include "verify_impl.h"

#define NAMESPACE "lethe-approval"

static const char *str(json_t *rec, const char *name)
{
	return json_string_value(json_object_get(rec, name));
}

static int is_hex64(const char *s)
{
	if (!s || strlen(s) != 64)
		return 0;
	return strspn(s, "0123456789abcdef") == 64;
}

/* SHA-256 of "HEX  BASENAME\n" per entry of `policy`. */
static int policy_digest(verify_state *s, const char *path, char out[65], json_t *policy)
{
	lethe_strbuf sb = LETHE_STRBUF_INIT;
	size_t i;
	json_t *e;

	if (!json_is_array(policy))
		return verify_fail(s, "%s: 'policy' is missing or not an array", path);
	json_array_foreach(policy, i, e) {
		const char *p = str(e, "path"), *sha = str(e, "sha256"), *base;

		if (!p || !is_hex64(sha)) {
			lethe_strbuf_release(&sb);
			return verify_fail(s, "%s: 'policy[%zu]' needs a path and a sha256 of 64 hex "
					   "digits", path, i);
		}
		base = strrchr(p, '/') ? strrchr(p, '/') + 1 : p;
		if (lethe_strbuf_addf(&sb, "%s  %s\n", sha, base) < 0) {
			lethe_strbuf_release(&sb);
			return LETHE_ESOFTWARE;
		}
	}
	lethe_sha256_hex(out, lethe_strbuf_str(&sb), sb.len);
	lethe_strbuf_release(&sb);
	return 0;
}

/* The record's `at` as seconds since the epoch (its shape was checked). */
static int64_t at_seconds(const char *at)
{
	lethe_day d = 0;
	char day[11];
	int h = 0, m = 0, sec = 0;

	snprintf(day, sizeof(day), "%.10s", at);
	lethe_day_parse(&d, day);
	sscanf(at + 11, "%2d:%2d:%2d", &h, &m, &sec);
	return (int64_t)d * 86400 + h * 3600 + m * 60 + sec;
}

static int signature(verify_state *s, const char *path, json_t *rec, const char *digest)
{
	const char *approver = str(rec, "approver"), *reason = str(rec, "reason");
	const char *at = str(rec, "at"), *key = str(rec, "key"), *sig = str(rec, "signature");
	char *statement = NULL, *fp = NULL;
	unsigned char pk[32];
	int rc;

	for (const unsigned char *c = (const unsigned char *)reason; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return verify_fail(s, "%s: 'reason' holds a control character", path);
	if (!*reason || !*approver)
		return verify_fail(s, "%s: 'reason' and 'approver' must not be empty", path);
	if (asprintf(&statement, "lethe approval 1\npolicy_digest %s\napprover %s\nreason %s\n"
		     "at %s\n", digest, approver, reason, at) < 0)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	rc = lethe_sshsig_verify(pk, sig, strlen(sig), NAMESPACE, statement, strlen(statement));
	free(statement);
	if (rc == LETHE_ESOFTWARE)
		return rc;
	if (rc < 0)
		return verify_fail(s, "%s: the approver's signature is not valid: %s", path,
				   lethe_error_last());
	if ((rc = lethe_sshkey_fingerprint(&fp, pk)) < 0)
		return rc;
	rc = strcmp(fp, key) ? verify_fail(s, "%s: signed by key %s, not by its 'key' %s", path,
					   fp, key) : 0;
	free(fp);
	if (rc < 0)
		return rc;
	if (!s->signers)
		return verify_fail(s, "%s: no allowed signers to check the approver against", path);
	if (lethe_allowed_signers_find_explicit(s->signers, approver, pk, NAMESPACE,
						at_seconds(at)) < 0)
		return verify_fail(s, "%s: '%s' is not an approver (no allowed-signers line with "
				   "namespaces=\"%s\"): %s", path, approver, NAMESPACE,
				   lethe_error_last());
	return 0;
}

int verify_approval_record(verify_state *s, const char *path, int64_t seq, json_t *rec)
{
	static const char *const strings[] = { "approver", "key", "reason", "signature" };
	const char *digest = str(rec, "policy_digest");
	char want[65];
	int rc;

	for (size_t i = 0; i < sizeof(strings) / sizeof(*strings); i++)
		if (!str(rec, strings[i]))
			return verify_fail(s, "%s: '%s' is missing or not a string", path, strings[i]);
	if (!is_hex64(digest))
		return verify_fail(s, "%s: 'policy_digest' is not 64 hex digits", path);
	if ((rc = policy_digest(s, path, want, json_object_get(rec, "policy"))) < 0)
		return rc;
	if (strcmp(want, digest))
		return verify_fail(s, "%s: 'policy_digest' is not the digest of its 'policy'", path);
	if ((rc = signature(s, path, rec, digest)) < 0)
		return rc;
	if (s->napprovals == s->capapprovals) {
		size_t cap = s->capapprovals ? 2 * s->capapprovals : 8;
		verify_approval *more = realloc(s->approvals, cap * sizeof(*more));

		if (!more)
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		s->approvals = more;
		s->capapprovals = cap;
	}
	s->approvals[s->napprovals].seq = seq;
	snprintf(s->approvals[s->napprovals++].policy_digest, 65, "%s", digest);
	return 0;
}

/* An intent's optional `plan`: {sha256: 64 hex, as_of: the intent's as_of}. */
static int intent_plan(verify_state *s, const char *path, json_t *rec)
{
	json_t *p = json_object_get(rec, "plan");
	const char *as_of;

	if (!p)
		return 0;
	as_of = str(p, "as_of");
	if (!json_is_object(p) || !is_hex64(str(p, "sha256")) || !as_of)
		return verify_fail(s, "%s: 'plan' is not {\"sha256\": 64 hex digits, \"as_of\": "
				   "a date}", path);
	if (!str(rec, "as_of") || strcmp(as_of, str(rec, "as_of")))
		return verify_fail(s, "%s: the plan's as_of %s is not the run's", path, as_of);
	return 0;
}

int verify_intent_approval(verify_state *s, const char *path, json_t *rec)
{
	json_t *a = json_object_get(rec, "approval");
	char digest[65];
	int rc;

	if ((rc = intent_plan(s, path, rec)) < 0)
		return rc;
	if (!a)
		return 0;
	if (!json_is_integer(a))
		return verify_fail(s, "%s: 'approval' is not an integer", path);
	if ((rc = policy_digest(s, path, digest, json_object_get(rec, "policy"))) < 0)
		return rc;
	for (size_t i = 0; i < s->napprovals; i++)
		if (s->approvals[i].seq == json_integer_value(a)) {
			if (strcmp(s->approvals[i].policy_digest, digest))
				return verify_fail(s, "%s: the run's policy is not the one approval "
						   "%lld approved", path,
						   (long long)json_integer_value(a));
			return 0;
		}
	return verify_fail(s, "%s: 'approval' %lld is not an earlier approval record", path,
			   (long long)json_integer_value(a));
}
