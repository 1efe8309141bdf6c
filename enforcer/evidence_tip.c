/*
 * evidence_tip.c - the evidence head remembered in the register, and the
 * check that main still reaches it (lethe/evidence_tip.h).
 *
 * Invariants: reads and writes only lethe_evidence_head through the
 * backend and main through the evidence store; prints nothing.
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include "lethe/error.h"
#include "lethe/evidence_tip.h"
#include "util.h"

int lethe_evidence_tip_load(int *found, int64_t *seq, char commit[41], lethe_backend *be,
			    lethe_evidence *ev)
{
	return lethe_backend_evidence_head(found, seq, commit, be, lethe_evidence_path(ev));
}

int lethe_evidence_tip_check(lethe_evidence *ev, lethe_backend *be)
{
	char commit[41], head[41];
	int64_t seq = 0;
	int found = 0, yes = 0, rc;

	if ((rc = lethe_evidence_tip_load(&found, &seq, commit, be, ev)) < 0 || !found)
		return rc;
	if ((rc = lethe_evidence_reaches(&yes, ev, commit)) < 0 || yes)
		return rc;
	rc = lethe_evidence_head(head, ev);
	if (rc < 0 && rc != LETHE_ENOTFOUND)
		return rc;
	return lethe_error_set(LETHE_EVERIFY, "the evidence is behind what lethe wrote: main (%.12s) "
			       "does not reach record %08" PRId64 " (commit %.12s) that the register "
			       "remembers; the evidence repository was reset, truncated or rewritten, "
			       "and lethe writes no record until it is restored (docs/operations.md, "
			       "\"Evidence behind the register\")",
			       rc == LETHE_ENOTFOUND ? "absent" : head, seq, commit);
}

int lethe_evidence_tip_check_remote(lethe_evidence *ev, const char *remote_url)
{
	char remote[41];
	int found = 0, yes = 0, rc;

	/* unreachable remote: not evidence of a rollback; the push warns */
	if (lethe_evidence_remote_head(remote, &found, ev, remote_url) < 0 || !found)
		return 0;
	if ((rc = lethe_evidence_reaches(&yes, ev, remote)) < 0 || yes)
		return rc;
	return lethe_error_set(LETHE_EVERIFY, "the evidence is behind its remote '%s': local main "
			       "does not reach the remote's main (commit %.12s); the evidence repository "
			       "was reset or rewritten, and lethe writes no record until it is restored "
			       "(docs/operations.md, \"Evidence behind the register\")", remote_url, remote);
}

int lethe_evidence_tip_save(lethe_backend *be, lethe_evidence *ev, int64_t seq, const char *commit)
{
	char at[LETHE_ISO_TIME_SIZE];

	lethe_now_iso(at);
	return lethe_backend_evidence_head_set(be, lethe_evidence_path(ev), seq, commit, at);
}
