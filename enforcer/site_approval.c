/*
 * site_approval.c - approvals on a site (lethe/site.h, lethe/approval.h):
 * recording a person's approval, and the check a run makes on a site that
 * requires one.
 *
 * Invariants:
 *  - The approval record is signed twice: by the approver's own key inside
 *    the record (the proof of the person), and by the site's key on the
 *    commit, as every record.
 *  - A run relies on the newest approval only: a later approval of another
 *    policy set replaces an earlier one, and an approval whose signer the
 *    allowed signers no longer list as an approver approves nothing.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/approval.h"
#include "lethe/error.h"
#include "site_impl.h"
#include "util.h"

static int load_signers(lethe_allowed_signers **out, const lethe_site *s)
{
	if (!s->cfg->allowed_signers)
		return lethe_error_set(LETHE_ECONFIG, "'%s': 'evidence.allowed_signers' is not "
				       "configured; approvers are listed there", s->cfg->path);
	return lethe_allowed_signers_load(out, s->cfg->allowed_signers);
}

int lethe_site_approve(int64_t *seq, char digest[65], lethe_warnings *warnings, lethe_site *s,
		       const lethe_sshkey *approver_key, const char *reason)
{
	lethe_runlog_env env = lethe_site_env(s);
	lethe_allowed_signers *signers = NULL;
	json_t *fields = NULL;
	char at[LETHE_ISO_TIME_SIZE];
	int rc;

	if ((rc = lethe_site_require(s, LETHE_SITE_WRITE, "approve")) < 0 ||
	    (rc = load_signers(&signers, s)) < 0)
		return rc;
	lethe_now_iso(at);
	if ((rc = lethe_approval_new(&fields, s->policy, approver_key, signers, reason, at)) == 0 &&
	    (rc = lethe_runlog_record(seq, &env, "approval", fields)) == 0) {
		snprintf(digest, LETHE_SHA256_HEX_SIZE, "%s",
			 json_string_value(json_object_get(fields, "policy_digest")));
		lethe_site_push(s, warnings);
	}
	json_decref(fields);
	lethe_allowed_signers_free(signers);
	return rc;
}

int lethe_site_approved(int64_t *seq, lethe_site *s)
{
	lethe_allowed_signers *signers = NULL;
	json_t *rec = NULL, *files = NULL;
	char digest[LETHE_SHA256_HEX_SIZE], *what = NULL;
	const char *approved;
	int64_t n;
	int rc;

	if ((rc = lethe_site_require(s, LETHE_SITE_KEYS, "the approval check")) < 0 ||
	    (rc = load_signers(&signers, s)) < 0)
		return rc;
	if ((rc = lethe_approval_latest(&n, &rec, s->ev)) < 0 ||
	    (rc = lethe_policy_digest(digest, &files, s->policy)) < 0)
		goto out;
	if (!rec) {
		rc = lethe_error_set(LETHE_ECONFIG, "approval is required and no policy set was "
				     "approved yet (policy digest %.12s); an approver runs `lethe "
				     "approve --key KEY --reason TEXT`; nothing was changed", digest);
		goto out;
	}
	if (lethe_approval_check(rec, signers) < 0) {
		rc = lethe_error_set(LETHE_ECONFIG, "the newest approval (record %" PRId64 ") is not "
				     "valid: %s; nothing was changed", n, lethe_error_last());
		goto out;
	}
	approved = json_string_value(json_object_get(rec, "policy_digest"));
	if (strcmp(approved, digest)) {
		if ((rc = lethe_approval_diff(&what, json_object_get(rec, "policy"), files)) < 0)
			goto out;
		rc = lethe_error_set(LETHE_ECONFIG, "the policy set differs from the one approved by "
				     "'%s' (record %" PRId64 "): %s; it takes effect once approved "
				     "(lethe plan --compare shows the impact); nothing was changed",
				     json_string_value(json_object_get(rec, "approver")), n,
				     *what ? what : "its files changed");
		goto out;
	}
	*seq = n;
out:
	free(what);
	json_decref(rec);
	json_decref(files);
	lethe_allowed_signers_free(signers);
	return rc;
}
