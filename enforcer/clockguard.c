/*
 * clockguard.c - the system clock checked against the evidence before a run
 * (lethe/clockguard.h).
 *
 * Why the evidence: it is the one record of earlier times Lethe signs and
 * keeps; a commit's committer time is the clock of the run that made it. A
 * run record is found by its commit message, "lethe: KIND NNNNNNNN ..." with
 * a run's KIND (intent, completion or abort; lethe/record.h), like status.c
 * finds it.
 *
 * Invariant: reading only; the messages quote no personal data (times,
 * days and counts).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lethe/calendar.h"
#include "lethe/clockguard.h"
#include "lethe/error.h"
#include "lethe/record.h"
#include "util.h"

typedef struct {
	lethe_clock_reference *ref;
	int seen;               /* commits visited, newest first */
} reference_walk;

/* Newest first: the first commit is the last record; stop at the first run
 * record (intent, completion, abort). */
static int take(void *ctx, const lethe_evidence_commit_info *c)
{
	reference_walk *w = ctx;
	lethe_record_kind kind;
	int64_t seq;

	if (!w->seen++)
		w->ref->last_record = c->committer_time;
	if (lethe_record_message_parse(c->message, &kind, &seq) == 0 && lethe_record_kind_is_run(kind)) {
		w->ref->last_run = c->committer_time;
		return 1;
	}
	return 0;
}

/* Only the newest commits are loaded, back to the last run (usually the
 * head itself): this runs before every run, on histories of thousands of
 * commits. */
int lethe_clock_reference_read(lethe_clock_reference *out, lethe_evidence *ev)
{
	reference_walk w = { out, 0 };
	char *ids = NULL;
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = lethe_evidence_history(&ids, &n, ev)) < 0)
		return rc;
	for (size_t i = n; i-- > 0 && rc == 0;)
		rc = lethe_evidence_visit(ev, ids + 41 * i, take, &w);
	free(ids);
	return rc < 0 ? rc : 0;
}

static lethe_day day_of(int64_t t)
{
	return (lethe_day)(t >= 0 ? t / 86400 : (t - 86399) / 86400);
}

int lethe_clock_check(const lethe_clock_reference *ref, int64_t now, int64_t max_days)
{
	char a[21], b[21], d1[11], d2[11];
	int64_t gap;

	if (ref->last_record && now < ref->last_record) {
		lethe_time_iso(a, now);
		lethe_time_iso(b, ref->last_record);
		return lethe_error_set(LETHE_ECLOCK, "clock behind the evidence: the system clock says %s, "
				       "earlier than the last evidence record (%s)", a, b);
	}
	if (!ref->last_run)
		return 0;
	gap = (int64_t)day_of(now) - day_of(ref->last_run);
	if (gap > max_days) {
		lethe_day_format(day_of(now), d1);
		lethe_day_format(day_of(ref->last_run), d2);
		return lethe_error_set(LETHE_ECLOCK, "clock jumped: today is %s, %" PRId64 " days after "
				       "the last run (%s), more than limits.max_days_between_runs (%" PRId64 ")",
				       d1, gap, d2, max_days);
	}
	return 0;
}
