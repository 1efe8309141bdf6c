/*
 * lethe/evidence_tip.h - truncation detection: Lethe remembers, outside the
 * evidence repository (in the register, lethe_evidence_head), the sequence
 * number and commit of the last record it wrote. A main that does not reach
 * that commit was reset, truncated or rewritten: new records would reuse
 * the removed sequence numbers, so writers refuse (docs/operations.md,
 * "Evidence behind the register").
 *
 * Invariants:
 *  - The remembered head only moves forward with what Lethe itself wrote,
 *    after the commit is on main; a crash in between leaves it one record
 *    behind, which is safe (behind the evidence is never an error).
 *  - A register without a remembered head (older sites) checks nothing
 *    until the first record is written. Heads are kept per repository
 *    path: a register given a new site's repository starts afresh there.
 *  - Remembering is best effort for writers: a register that cannot be
 *    written (busy, full) leaves the head behind, never the record unmade.
 */
#ifndef LETHE_EVIDENCE_TIP_H
#define LETHE_EVIDENCE_TIP_H

#include <stdint.h>
#include "backend.h"
#include "evidence.h"

/* The remote (evidence.remote) keeps what was pushed: 0 when local main
 * reaches the remote's main (or the remote has none, or cannot be read:
 * the push reports that); LETHE_EVERIFY with a reason when local main lacks
 * it, i.e. was reset behind what was pushed. */
int lethe_evidence_tip_check_remote(lethe_evidence *ev, const char *remote_url);

/* The head remembered for ev's repository (lethe_evidence_path). */
int lethe_evidence_tip_load(int *found, int64_t *seq, char commit[41], lethe_backend *be,
			    lethe_evidence *ev);

/* 0 when main reaches the register's remembered head (or none is
 * remembered); LETHE_EVERIFY with a one-line reason when it does not; other
 * codes when the register or the repository cannot be read. */
int lethe_evidence_tip_check(lethe_evidence *ev, lethe_backend *be);

/* Remember record seq at commit (40 hex digits) as the last one written to
 * ev's repository. */
int lethe_evidence_tip_save(lethe_backend *be, lethe_evidence *ev, int64_t seq, const char *commit);

#endif
