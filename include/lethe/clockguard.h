/*
 * lethe/clockguard.h - a run's clock against the evidence: today is not in
 * the future (docs/disposal.md, "The as-of guard and its override").
 *
 * A run disposes of what is due on its as-of day, and the default as-of is
 * the system clock's today. A clock that jumped years ahead would dispose of
 * bookkeeping years early; one set back would sign records dated before the
 * ones already in the evidence. The evidence's commits carry the times the
 * earlier records were made, so they are the reference.
 *
 * Invariants: nothing here writes; the evidence is only read (walked from
 * its first commit to main, commit headers only, no files).
 */
#ifndef LETHE_CLOCKGUARD_H
#define LETHE_CLOCKGUARD_H

#include <stdint.h>
#include "evidence.h"

typedef struct {
	int64_t last_record;   /* committer time of main's commit; 0: empty evidence */
	int64_t last_run;      /* committer time of the last run's record (intent,
				  completion or abort); 0: no run recorded yet */
} lethe_clock_reference;

/* The reference times of the evidence. */
int lethe_clock_reference_read(lethe_clock_reference *out, lethe_evidence *ev);

/*
 * 0 when `now` (unix seconds) agrees with the reference; LETHE_ECLOCK with a
 * message saying which when now is earlier than the last record ("the clock
 * is behind the evidence") or today (UTC) is more than max_days days after
 * the day of the last run ("clock jumped").
 */
int lethe_clock_check(const lethe_clock_reference *ref, int64_t now, int64_t max_days);

#endif
