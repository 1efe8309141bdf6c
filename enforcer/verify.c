/*
 * verify.c - the auditor's verifier, commit level: the walk, signatures and
 * signers, linear history, time order, and the records/ folder growing by
 * exactly one record per commit. Record contents: verify_record.c.
 *
 * Invariants:
 *  - Checks run in the documented order and the first failure stops the walk:
 *    the report names the first bad commit and everything before it holds.
 *  - Per commit only the records/ listing, the new record and the files it
 *    lists are read, never whole trees; the previous listing is kept in
 *    memory (one path and blob id per record) and compared entry by entry.
 *  - Reasons are one lowercase line and name the commit by its first 12 hex
 *    digits (bad_commit has the full id).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "lethe/sshsig.h"
#include "verify_impl.h"

int verify_fail(verify_state *s, const char *fmt, ...)
{
	lethe_verify_report *r = s->rep;
	size_t n;
	va_list ap;

	snprintf(r->bad_commit, sizeof(r->bad_commit), "%s", s->c->oid);
	n = (size_t)snprintf(r->reason, sizeof(r->reason), "commit %.12s: ", s->c->oid);
	va_start(ap, fmt);
	vsnprintf(r->reason + n, sizeof(r->reason) - n, fmt, ap);
	va_end(ap);
	return LETHE_EVERIFY;
}

/* Signed, valid in namespace "git", by a key allowed for the committer. */
static int check_signature(verify_state *s)
{
	const lethe_evidence_commit_info *c = s->c;
	unsigned char pk[32];
	char *fp = NULL, why[512];
	int rc;

	if (!c->signature)
		return verify_fail(s, "not signed");
	rc = lethe_sshsig_verify(pk, c->signature, c->signature_len, "git", c->signed_data,
				 c->signed_len);
	if (rc == LETHE_EVERIFY)
		return verify_fail(s, "signature does not verify: %s", lethe_error_last());
	if (rc < 0)
		return rc;
	rc = lethe_allowed_signers_find(s->signers, c->committer_email, pk, "git",
					c->committer_time);
	if (rc == 0)
		return 0;
	if (rc != LETHE_EVERIFY)
		return rc;
	snprintf(why, sizeof(why), "%s", lethe_error_last());
	if ((rc = lethe_sshkey_fingerprint(&fp, pk)) < 0)
		return rc;
	/* the store's reason adds something only when the key is listed at all */
	if (strstr(why, "is not an allowed signer"))
		rc = verify_fail(s, "signed by key %s which is not an allowed signer for '%s'", fp,
				 c->committer_email);
	else
		rc = verify_fail(s, "signed by key %s which is not an allowed signer for '%s' (%s)",
				 fp, c->committer_email, why);
	free(fp);
	return rc;
}

/* Linear history and time order against the previous commit of the walk. */
static int check_history(verify_state *s)
{
	const lethe_evidence_commit_info *c = s->c;

	if (!s->have_prev) {
		if (c->parent_count != 0)
			return verify_fail(s, "the first commit has %zu parents, not 0",
					   c->parent_count);
		return 0;
	}
	if (c->parent_count != 1)
		return verify_fail(s, "has %zu parents: history is not linear", c->parent_count);
	if (strcmp(c->parent, s->prev_oid) != 0)
		return verify_fail(s, "parent %.12s is not the previous commit %.12s", c->parent,
				   s->prev_oid);
	if (c->committer_time < s->prev_time)
		return verify_fail(s, "committer time %lld is earlier than the previous commit's "
				   "%lld", (long long)c->committer_time, (long long)s->prev_time);
	return 0;
}

/* One file the commit changed: under records/ only one addition is allowed. */
static int diff_cb(void *ctx, char status, const char *path)
{
	verify_state *s = ctx;

	if (strncmp(path, "records/", 8) != 0)
		return 0;
	if (status == 'D')
		return verify_fail(s, "removes '%s'", path);
	if (status != 'A')
		return verify_fail(s, "changes '%s'", path);
	if (s->added)
		return verify_fail(s, "adds more than one record ('%s' and '%s')", s->added, path);
	if (!(s->added = strdup(path)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	return 0;
}

/* "records/SSSSS/NNNNNNNN-KIND.json" with NNNNNNNN = want and SSSSS its first
 * five digits (one folder per thousand records): 0 and kind (malloc'd). */
static int parse_name(verify_state *s, char **kind, const char *path, int64_t want)
{
	const char *p = path + strlen("records/"), *dot;
	char num[9];
	size_t klen;

	if (strncmp(path, "records/", 8) != 0 || strlen(p) < 6 + 8 + 1 + 1 + 5 || p[5] != '/')
		goto bad;
	for (int i = 0; i < 5; i++)
		if (p[i] < '0' || p[i] > '9')
			goto bad;
	if (strncmp(p, p + 6, 5) != 0)
		goto bad;
	p += 6;
	for (int i = 0; i < 8; i++)
		if (p[i] < '0' || p[i] > '9')
			goto bad;
	if (p[8] != '-' || strchr(p, '/'))
		goto bad;
	dot = p + strlen(p) - 5;
	if (strcmp(dot, ".json") != 0 || dot == p + 9)
		goto bad;
	memcpy(num, p, 8);
	num[8] = '\0';
	if (strtoll(num, NULL, 10) != want)
		return verify_fail(s, "record '%s' is not number %08lld: the sequence has a gap "
				   "or is out of order", path, (long long)want);
	klen = (size_t)(dot - (p + 9));
	if (!(*kind = strndup(p + 9, klen)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	return 0;
bad:
	return verify_fail(s, "'%s' is not named records/SSSSS/NNNNNNNN-KIND.json", path);
}

/* records/ gains exactly one new record against the parent, whose number
 * follows the previous one; then its contents. */
static int check_records(verify_state *s)
{
	int64_t seq = s->nrecs + 1;
	char *kind = NULL;
	int rc;

	rc = lethe_evidence_diff(s->ev, s->have_prev ? s->prev_oid : NULL, s->c->oid, diff_cb, s);
	if (rc < 0)
		goto out;
	if (!s->added) {
		rc = verify_fail(s, "adds no record");
		goto out;
	}
	if ((rc = parse_name(s, &kind, s->added, seq)) < 0)
		goto out;
	s->rep->seq = seq;
	if ((rc = verify_record(s, s->added, seq, kind)) < 0)
		goto out;
	s->nrecs = seq;
out:
	free(kind);
	free(s->added);
	s->added = NULL;
	return rc;
}

static int commit_cb(void *ctx, const lethe_evidence_commit_info *c)
{
	verify_state *s = ctx;
	int rc;

	s->c = c;
	s->rep->seq = -1;
	if ((rc = check_signature(s)) < 0 || (rc = check_history(s)) < 0 ||
	    (rc = check_records(s)) < 0)
		return rc;
	s->have_prev = 1;
	memcpy(s->prev_oid, c->oid, sizeof(s->prev_oid));
	s->prev_time = c->committer_time;
	s->rep->commits++;
	s->rep->records++;
	return 0;
}

int lethe_verify(lethe_verify_report *out, const char *repository,
		 const char *allowed_signers_path)
{
	lethe_verify_report rep;
	lethe_allowed_signers *signers = NULL;
	verify_state s;
	int rc;

	memset(&rep, 0, sizeof(rep));
	memset(&s, 0, sizeof(s));
	rep.seq = -1;
	s.rep = &rep;
	if ((rc = lethe_allowed_signers_load(&signers, allowed_signers_path)) < 0)
		goto out;
	s.signers = signers;
	if ((rc = lethe_evidence_open(&s.ev, repository)) < 0)
		goto out;
	rc = lethe_evidence_walk(s.ev, commit_cb, &s);
	if (rc == LETHE_EVERIFY)
		lethe_error_set(LETHE_EVERIFY, "%s", rep.reason);
	if (rc == 0 || rc == LETHE_EVERIFY) {
		if (rc == 0)
			rep.seq = -1;
		*out = rep;
	}
out:
	free(s.added);
	free(s.intents);
	lethe_evidence_free(s.ev);
	lethe_allowed_signers_free(signers);
	return rc;
}
