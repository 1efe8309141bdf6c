/*
 * site_plan.c - signed plans on a site (lethe/site.h, lethe/planfile.h):
 * writing one with the site's keys, and the checks before a run applies one.
 *
 * Invariants:
 *  - A plan is applied only when every check holds: a valid signature by
 *    the site's own key or by an approver, the site's database, the policy
 *    set in force (same digest), and its as-of is the run's and not past.
 *  - Messages say what is stale and what to do: plan again.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lethe/approval.h"
#include "lethe/error.h"
#include "lethe/planfile.h"
#include "lethe/record.h"
#include "site_impl.h"
#include "util.h"

int lethe_site_plan_write(json_t **plan, lethe_site *s, lethe_day as_of,
			  const lethe_sshkey *signer, const char *path)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	*plan = NULL;
	if ((rc = lethe_site_require(s, LETHE_SITE_KEYS, "plan --out")) < 0 ||
	    (rc = lethe_planfile_make(&text, &len, plan, s->be, s->policy, as_of, s->database,
				      s->pseudonym_key, signer ? signer : s->signing_key)) < 0)
		return rc;
	rc = lethe_file_create_new(path, 0644, text, len, "plan");
	free(text);
	if (rc < 0) {
		json_decref(*plan);
		*plan = NULL;
	}
	return rc;
}

/* 1 when an approver line of the allowed signers lists the plan's signer. */
static int by_approver(const lethe_site *s, const lethe_planfile *pf)
{
	lethe_allowed_signers *signers = NULL;
	int yes = s->cfg->allowed_signers &&
		  lethe_allowed_signers_load(&signers, s->cfg->allowed_signers) == 0 &&
		  lethe_allowed_signers_find_explicit(signers, NULL, lethe_planfile_signer(pf),
						      LETHE_APPROVAL_NAMESPACE,
						      (int64_t)time(NULL)) == 0;

	lethe_allowed_signers_free(signers);
	return yes;
}

/* The site's own key, or a key an approver line lists. */
static int check_signer(lethe_site *s, const lethe_planfile *pf)
{
	const unsigned char *pk = lethe_planfile_signer(pf);
	char *fp = NULL;
	int rc;

	if (!memcmp(pk, lethe_sshkey_public(s->signing_key), 32) || by_approver(s, pf))
		return 0;
	if ((rc = lethe_sshkey_fingerprint(&fp, pk)) < 0)
		return rc;
	rc = lethe_error_set(LETHE_EVERIFY, "the plan is signed by key %s, which is neither this "
			     "site's signing key nor an approver's; nothing was changed", fp);
	free(fp);
	return rc;
}

int lethe_site_plan_check(lethe_site *s, const lethe_planfile *pf, lethe_day as_of)
{
	char digest[LETHE_SHA256_HEX_SIZE], day[11], today_s[11], *what = NULL;
	lethe_day today = (lethe_day)(time(NULL) / 86400);
	json_t *files = NULL;
	int rc;

	if ((rc = lethe_site_require(s, LETHE_SITE_KEYS, "run --plan")) < 0 ||
	    (rc = check_signer(s, pf)) < 0)
		return rc;
	lethe_day_format(lethe_planfile_as_of(pf), day);
	lethe_day_format(today, today_s);
	if (strcmp(lethe_planfile_database(pf), s->database))
		return lethe_error_set(LETHE_EDATA, "the plan is for database '%s', not '%s'; "
				       "nothing was changed", lethe_planfile_database(pf),
				       s->database);
	if (lethe_planfile_as_of(pf) < today)
		return lethe_error_set(LETHE_EDATA, "the plan as of %s is stale: that day has passed "
				       "(today is %s, UTC); plan again (lethe plan --out FILE); "
				       "nothing was changed", day, today_s);
	if (lethe_planfile_as_of(pf) != as_of)
		return lethe_error_set(LETHE_EDATA, "the plan is as of %s, not of the run's as-of; "
				       "nothing was changed", day);
	if ((rc = lethe_policy_digest(digest, &files, s->policy)) < 0)
		return rc;
	if (strcmp(digest, lethe_planfile_policy_digest(pf))) {
		rc = lethe_approval_diff(&what, lethe_planfile_policy(pf), files);
		if (rc == 0)
			rc = lethe_error_set(LETHE_EDATA, "the plan is stale: the policy set changed "
					     "since it was made (%s); plan again; nothing was "
					     "changed", *what ? what : "its files changed");
	}
	free(what);
	json_decref(files);
	return rc;
}

int lethe_site_plan_required(lethe_site *s, const lethe_planfile *pf, lethe_day as_of)
{
	const lethe_config *cfg = s->cfg;
	lethe_plan *plan = NULL;
	json_t *intent = NULL;
	int64_t seq = 0, total = 0;
	int rc;

	if ((!cfg->approval_plan_above && !cfg->approval_plan_first_run) ||
	    !(s->flags & LETHE_SITE_WRITE) || (pf && by_approver(s, pf)))
		return 0;
	if (cfg->approval_plan_first_run) {
		if ((rc = lethe_record_latest(&seq, &intent, s->ev, LETHE_RECORD_INTENT)) < 0)
			return rc;
		json_decref(intent);
		if (!seq)
			return lethe_error_set(LETHE_ECONFIG, "the first run of this site needs a plan "
					       "an approver signed (approval.plan_first_run): lethe "
					       "plan --out FILE --key APPROVER_KEY, then lethe run "
					       "--plan FILE; nothing was changed");
	}
	if (!cfg->approval_plan_above)
		return 0;
	if ((rc = lethe_plan_new(&plan, s->be, s->policy, as_of)) < 0)
		return rc;
	for (size_t i = 0; i < plan->nrules; i++)
		total += plan->rules[i].due;
	lethe_plan_free(plan);
	if (total > cfg->approval_plan_above)
		return lethe_error_set(LETHE_ECONFIG, "the run would dispose of %" PRId64 " rows, more "
				       "than approval.plan_above (%" PRId64 "): it needs a plan an "
				       "approver signed (lethe plan --out FILE --key APPROVER_KEY, "
				       "then lethe run --plan FILE); nothing was changed", total,
				       cfg->approval_plan_above);
	return 0;
}
