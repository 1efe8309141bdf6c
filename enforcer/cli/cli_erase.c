/*
 * cli_erase.c - applying one data subject's erasure, shared by `lethe erase`
 * (the request) and `lethe replay` (the same erasure again after a restore):
 * recovery of an interrupted run, the subject's contact values onto the
 * suppression list, the disposal within the erasure scope, and its evidence.
 *
 * Invariants: the caller holds the database lock and has opened the site
 * for a real erasure; without a site nothing is written (a dry run). The
 * evidence's subject digest is lethe_subject_digest of the key's
 * typed value, so replay finds the subject again by the same digest; its contact
 * digest is lethe_subject_identity of the row before the erasure, so replay
 * can tell that person from another given the same key since.
 */
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "lethe/dispose.h"
#include "lethe/error.h"
#include "lethe/replay.h"
#include "lethe/runlog.h"

/* The subject's contact values join the suppression list, in a transaction
 * of their own before the erasure changes them. */
static int suppress(cli_register *r, const cli_site *site, const lethe_subject *s)
{
	char **tokens = NULL, now[21];
	size_t n = 0;
	int rc;

	cli_now_iso(now);
	rc = lethe_subject_contact_tokens(&tokens, &n, r->be, r->policy, s, site->pseudonym_key);
	if (rc == 0 && n && (rc = lethe_backend_begin(r->be)) == 0) {
		rc = lethe_backend_suppress(r->be, (const char *const *)tokens, n, now);
		rc = rc == 0 ? lethe_backend_commit(r->be) : rc;
		if (rc < 0)
			lethe_backend_rollback(r->be);
	}
	lethe_backend_names_free(tokens, n);
	return rc;
}

int cli_erase_apply(lethe_plan **done, const lethe_cli_opts *opts, cli_register *r, cli_site *site,
		    const lethe_subject *subject, const lethe_plan_scope *erasure, lethe_day as_of,
		    int64_t replay_of)
{
	lethe_dispose_options o = { 0 };
	lethe_warnings warnings = { 0 };
	lethe_runlog_env env = { 0 };
	lethe_recovery recovered;
	lethe_runlog *rl = NULL;
	char digest[LETHE_DIGEST_SIZE], contact[LETHE_DIGEST_SIZE];
	int rc = 0, identified = 0;

	*done = NULL;
	o.as_of = as_of;
	o.dry_run = site == NULL;
	o.scope = erasure;
	o.max_rows_per_rule = r->cfg->max_rows_per_rule;
	o.residue_fast = r->cfg->residue_fast;
	if (site) {
		/* the contact values as they are before the erasure changes them */
		if ((rc = lethe_subject_digest(digest, site->pseudonym_key, &subject->value)) < 0 ||
		    (rc = lethe_subject_identity(contact, &identified, r->be, r->policy, subject,
						 site->pseudonym_key)) < 0)
			goto out;
		env = (lethe_runlog_env){ .ev = site->ev, .signing_key = site->signing_key,
					  .digest_key = site->pseudonym_key, .be = r->be,
					  .policy = r->policy, .database = site->database,
					  .request = "erasure", .subject_digest = digest,
					  .subject_contact = identified ? contact : NULL,
					  .replay_of = replay_of };
		if ((rc = lethe_runlog_recover(&recovered, &env)) < 0 ||
		    (rc = suppress(r, site, subject)) < 0 ||
		    (rc = lethe_runlog_new(&rl, &env, as_of)) < 0)
			goto out;
		o.pseudonym_key = site->pseudonym_key;
		o.intent_hook = lethe_runlog_intent;
		o.batch_hook = lethe_runlog_batch;
		o.hook_ctx = rl;
	}
	rc = lethe_dispose(done, &warnings, r->be, r->policy, &o);
	for (size_t i = 0; i < warnings.count; i++)
		cli_log(opts, CLI_WARNING, "%s", warnings.items[i]);
	if (rl && *done) {
		int erc = lethe_runlog_complete(rl, *done, &warnings, rc < 0);

		rc = rc < 0 ? rc : erc;
		if (erc == 0)
			cli_site_push(opts, r->cfg, site->ev);
	}
out:
	lethe_warnings_free(&warnings);
	lethe_runlog_free(rl);
	return rc;
}
