/*
 * approval.c - a person's approval of a policy set (lethe/approval.h,
 * docs/evidence-format.md "approval", "Policy digest").
 *
 * Invariants:
 *  - The policy digest is computed from the files' bytes as read now (or
 *    from a record's listed hashes), one "HEX  NAME\n" line per file in
 *    name order: what `sha256sum` prints in the policy folder.
 *  - An approval is accepted only with a valid signature in namespace
 *    LETHE_APPROVAL_NAMESPACE, by a key an approver line lists for the
 *    recorded principal at the recorded time, over the statement rebuilt
 *    from the recorded fields.
 *  - The record's `at` is the time the approver signed; the site's record
 *    keeps it (runlog.c), so the statement and the record agree.
 */
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/approval.h"
#include "lethe/calendar.h"
#include "lethe/error.h"
#include "lethe/record.h"
#include "lethe/sshsig.h"
#include "strbuf.h"
#include "util.h"

/* The digest of lines "HEX  NAME\n" from {path, sha256} entries. */
int lethe_policy_digest_of(char out[65], const json_t *files)
{
	lethe_strbuf sb = LETHE_STRBUF_INIT;
	size_t i;
	json_t *e;
	int rc = 0;

	json_array_foreach(files, i, e) {
		const char *path = json_string_value(json_object_get(e, "path"));
		const char *sha = json_string_value(json_object_get(e, "sha256"));
		const char *base;

		if (!path || !sha) {
			lethe_strbuf_release(&sb);
			return lethe_error_set(LETHE_EDATA, "policy entry %zu has no path or sha256", i);
		}
		base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
		if ((rc = lethe_strbuf_addf(&sb, "%s  %s\n", sha, base)) < 0) {
			lethe_strbuf_release(&sb);
			return rc;
		}
	}
	lethe_sha256_hex(out, lethe_strbuf_str(&sb), sb.len);
	lethe_strbuf_release(&sb);
	return 0;
}

int lethe_policy_digest(char out[65], json_t **files_out, const lethe_policy *p)
{
	json_t *files = json_array();
	char hex[LETHE_SHA256_HEX_SIZE];
	int rc = 0;

	if (!files)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	for (size_t i = 0; i < p->nfiles && rc == 0; i++) {
		lethe_strbuf sb = LETHE_STRBUF_INIT;
		char *copy = strdup(p->files[i]), *path = NULL;

		if (!copy || asprintf(&path, "policies/%s", basename(copy)) < 0) {
			free(copy);
			rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
			break;
		}
		free(copy);
		if (lethe_strbuf_read_file(&sb, p->files[i]) < 0)
			rc = lethe_error_set(LETHE_EIO, "cannot read policy file '%s'", p->files[i]);
		else {
			lethe_sha256_hex(hex, lethe_strbuf_str(&sb), sb.len);
			if (json_array_append_new(files, json_pack("{s:s, s:s}", "path", path,
								   "sha256", hex)) < 0)
				rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		}
		lethe_strbuf_release(&sb);
		free(path);
	}
	if (rc == 0)
		rc = lethe_policy_digest_of(out, files);
	if (rc == 0 && files_out)
		*files_out = json_incref(files);
	json_decref(files);
	return rc;
}

int lethe_approval_statement(char **out, const char *digest, const char *approver,
			     const char *reason, const char *at)
{
	if (!reason || !*reason)
		return lethe_error_set(LETHE_EUSAGE, "an approval needs a reason");
	for (const unsigned char *c = (const unsigned char *)reason; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return lethe_error_set(LETHE_EUSAGE, "the reason of an approval is one line "
					       "without control characters");
	if (asprintf(out, "lethe approval 1\npolicy_digest %s\napprover %s\nreason %s\nat %s\n",
		     digest, approver, reason, at) < 0) {
		*out = NULL;
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	return 0;
}

/* YYYY-MM-DDTHH:MM:SSZ as seconds since the epoch. */
static int iso_seconds(int64_t *out, const char *at)
{
	lethe_day d;
	int h, m, s;
	char day[11];

	if (!at || strlen(at) != 20 || at[10] != 'T' || at[19] != 'Z' ||
	    sscanf(at + 11, "%2d:%2d:%2d", &h, &m, &s) != 3)
		return lethe_error_set(LETHE_EDATA, "'%s' is not YYYY-MM-DDTHH:MM:SSZ", at ? at : "");
	snprintf(day, sizeof(day), "%.10s", at);
	if (lethe_day_parse(&d, day) < 0)
		return lethe_error_set(LETHE_EDATA, "'%s' is not YYYY-MM-DDTHH:MM:SSZ", at);
	*out = (int64_t)d * 86400 + h * 3600 + m * 60 + s;
	return 0;
}

/* An e-mail address in text (LOCAL@DOMAIN.TLD, the usual characters),
 * copied into out: 1, else 0. */
static int find_address(char out[128], const char *text)
{
	static const char local[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
				    "._%+-";
	static const char domain[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-";

	for (const char *at = strchr(text, '@'); at; at = strchr(at + 1, '@')) {
		const char *start = at;
		size_t dn = strspn(at + 1, domain);
		const char *dot = memchr(at + 1, '.', dn);

		while (start > text && strchr(local, start[-1]) && start[-1])
			start--;
		if (start < at && dot && dot > at + 1 && dot < at + dn) {
			snprintf(out, 128, "%.*s", (int)(at + 1 + dn - start), start);
			return 1;
		}
	}
	return 0;
}

int lethe_approval_new(json_t **out, const lethe_policy *p, const lethe_sshkey *key,
		       const lethe_allowed_signers *signers, const char *reason, const char *at)
{
	char digest[LETHE_SHA256_HEX_SIZE], *approver = NULL, *fp = NULL, *statement = NULL;
	char *sig = NULL, address[128];
	json_t *files = NULL;
	int64_t when;
	int rc;

	*out = NULL;
	/* the reason stays in the evidence for good (docs/evidence-format.md,
	 * "Reasons"): it must not name a person */
	if (reason && find_address(address, reason))
		return lethe_error_set(LETHE_EUSAGE, "the reason names the e-mail address '%s': it "
				       "would stay in the evidence for good; name policies and "
				       "tickets, not people", address);
	if ((rc = iso_seconds(&when, at)) < 0)
		return rc;
	rc = lethe_allowed_signers_first_explicit(&approver, signers, lethe_sshkey_public(key),
						  LETHE_APPROVAL_NAMESPACE, when);
	if (rc == LETHE_ENOTFOUND) {
		if (lethe_sshkey_fingerprint(&fp, lethe_sshkey_public(key)) == 0)
			rc = lethe_error_set(LETHE_ENOPERM, "key %s is not an approver: the allowed "
					     "signers list it on no line with namespaces=\"%s\"", fp,
					     LETHE_APPROVAL_NAMESPACE);
		goto out;
	}
	if (rc < 0 || (rc = lethe_sshkey_fingerprint(&fp, lethe_sshkey_public(key))) < 0 ||
	    (rc = lethe_policy_digest(digest, &files, p)) < 0 ||
	    (rc = lethe_approval_statement(&statement, digest, approver, reason, at)) < 0 ||
	    (rc = lethe_sshsig_sign(&sig, key, LETHE_APPROVAL_NAMESPACE, statement,
				    strlen(statement))) < 0)
		goto out;
	*out = json_pack("{s:s, s:O, s:s, s:s, s:s, s:s, s:s}", "policy_digest", digest, "policy",
			 files, "approver", approver, "key", fp, "reason", reason, "signature", sig,
			 "at", at);
	if (!*out)
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
out:
	json_decref(files);
	free(approver);
	free(fp);
	free(statement);
	free(sig);
	return rc;
}

int lethe_approval_check(const json_t *rec, const lethe_allowed_signers *signers)
{
	const char *digest = json_string_value(json_object_get(rec, "policy_digest"));
	const char *approver = json_string_value(json_object_get(rec, "approver"));
	const char *reason = json_string_value(json_object_get(rec, "reason"));
	const char *at = json_string_value(json_object_get(rec, "at"));
	const char *key = json_string_value(json_object_get(rec, "key"));
	const char *sig = json_string_value(json_object_get(rec, "signature"));
	json_t *policy = json_object_get(rec, "policy");
	char *statement = NULL, *fp = NULL, want[LETHE_SHA256_HEX_SIZE];
	unsigned char pk[32];
	int64_t when;
	int rc;

	if (!digest || !approver || !reason || !at || !key || !sig || !json_is_array(policy))
		return lethe_error_set(LETHE_EVERIFY, "the approval lacks a field");
	if ((rc = lethe_policy_digest_of(want, policy)) < 0 || strcmp(want, digest))
		return lethe_error_set(LETHE_EVERIFY, "the approval's policy_digest is not the "
				       "digest of its policy files");
	if ((rc = iso_seconds(&when, at)) < 0 ||
	    (rc = lethe_approval_statement(&statement, digest, approver, reason, at)) < 0)
		return lethe_error_set(LETHE_EVERIFY, "the approval is malformed: %s",
				       lethe_error_last());
	rc = lethe_sshsig_verify(pk, sig, strlen(sig), LETHE_APPROVAL_NAMESPACE, statement,
				 strlen(statement));
	free(statement);
	if (rc < 0)
		return lethe_error_set(LETHE_EVERIFY, "the approval's signature is not valid: %s",
				       lethe_error_last());
	if ((rc = lethe_sshkey_fingerprint(&fp, pk)) < 0)
		return rc;
	rc = strcmp(fp, key) ? lethe_error_set(LETHE_EVERIFY, "the approval was signed by %s, not "
					       "by its key %s", fp, key) : 0;
	free(fp);
	if (rc == 0 && lethe_allowed_signers_find_explicit(signers, approver, pk,
							   LETHE_APPROVAL_NAMESPACE, when) < 0)
		rc = lethe_error_set(LETHE_EVERIFY, "'%s' is not an approver: %s", approver,
				     lethe_error_last());
	return rc;
}

int lethe_approval_latest(int64_t *seq, json_t **rec, lethe_evidence *ev)
{
	return lethe_record_latest(seq, rec, ev, LETHE_RECORD_APPROVAL);
}

/* The sha256 of the entry of files whose base name is that of path, or NULL. */
static const char *sha_of(const json_t *files, const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t i;
	json_t *e;

	json_array_foreach(files, i, e) {
		const char *p = json_string_value(json_object_get(e, "path"));
		const char *b = p && strrchr(p, '/') ? strrchr(p, '/') + 1 : p;

		if (b && !strcmp(b, base))
			return json_string_value(json_object_get(e, "sha256"));
	}
	return NULL;
}

/* Add "WHAT NAME" for every entry of a whose sha differs in b (or is absent). */
static int diff_side(lethe_strbuf *sb, const json_t *a, const json_t *b, int changed_too,
		     const char *absent_word)
{
	size_t i;
	json_t *e;
	int rc = 0;

	json_array_foreach(a, i, e) {
		const char *p = json_string_value(json_object_get(e, "path"));
		const char *sha = json_string_value(json_object_get(e, "sha256"));
		const char *other = p ? sha_of(b, p) : NULL;
		const char *word = !other ? absent_word
				 : changed_too && sha && strcmp(sha, other) ? "changed" : NULL;

		if (p && word)
			rc = lethe_strbuf_addf(sb, "%s%s %s", sb->len ? ", " : "", word,
					       strrchr(p, '/') ? strrchr(p, '/') + 1 : p);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int lethe_approval_diff(char **out, const json_t *approved, const json_t *files)
{
	lethe_strbuf sb = LETHE_STRBUF_INIT;
	int rc;

	if ((rc = diff_side(&sb, files, approved, 1, "added")) < 0 ||
	    (rc = diff_side(&sb, approved, files, 0, "removed")) < 0) {
		lethe_strbuf_release(&sb);
		return rc;
	}
	if (!(*out = lethe_strbuf_detach(&sb, NULL)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	return 0;
}
