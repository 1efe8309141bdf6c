/*
 * site_replay.c - erasures done again after a restore (lethe/site.h,
 * lethe_site_replay): the evidence's erasures (lethe/replay.h), their
 * subjects found again in the register, and each one whose rows came back
 * erased as `lethe erase` erases, recorded with replay_of.
 *
 * Invariants:
 *  - A key is not a person: a subject whose contact values differ from
 *    those its erasure recorded is skipped with a warning, never erased.
 *  - Subjects with nothing due under the erasure scope (erased before the
 *    backup, or replayed already) are passed over, so a second replay
 *    does nothing.
 */
#include <inttypes.h>
#include "lethe/error.h"
#include "site_impl.h"

/* Re-erase one subject when any of its rows came back. */
static int replay_one(lethe_site *s, const lethe_replay_match *m, lethe_day as_of,
		      int (*each)(void *, const lethe_site_replayed *, const lethe_warnings *),
		      void *ctx)
{
	lethe_site_replayed r = { .match = m };
	lethe_warnings w = { 0 };
	lethe_plan_scope scope = { 0 };
	lethe_plan *due = NULL, *done = NULL;
	int rc, erc;

	if ((rc = lethe_plan_scope_init(&scope, s->policy, &m->subject.value, 1)) < 0 ||
	    (rc = lethe_plan_new_scoped(&due, s->be, s->policy, as_of, &scope)) < 0)
		goto out;
	if (lethe_site_plan_rows(due, 0) == 0)
		goto out;
	if (m->other_person) {
		r.skipped = 1;
		lethe_warnings_add(&w, "replay: subject '%s' skipped (erasure %08" PRId64 "): the "
				   "key now belongs to another person: the contact values differ "
				   "from those the erasure recorded; if it is the same person, "
				   "erase it with 'lethe erase --subject'", m->subject.text,
				   m->replay_of);
		rc = each(ctx, &r, &w);
		goto out;
	}
	if (!(s->flags & LETHE_SITE_WRITE)) {
		r.plan = due;
		rc = each(ctx, &r, &w);
		goto out;
	}
	rc = lethe_site_erase(&done, &w, s, &m->subject, as_of, m->replay_of);
	r.plan = done;
	/* what was erased, and the warnings, are reported also when the
	 * erasure stopped part way; the callback prints, it sets no error */
	if ((done || w.count) && (erc = each(ctx, &r, &w)) < 0 && rc == 0)
		rc = erc;
out:
	lethe_warnings_free(&w);
	lethe_plan_free(due);
	lethe_plan_free(done);
	lethe_plan_scope_release(&scope);
	return rc;
}

int lethe_site_replay(size_t *erasures, size_t *found, lethe_site *s, lethe_day as_of,
		      int (*each)(void *ctx, const lethe_site_replayed *r, const lethe_warnings *w),
		      void *ctx)
{
	lethe_replay_set *set = NULL;
	lethe_replay_match *m = NULL;
	size_t n = 0;
	int rc;

	*erasures = *found = 0;
	if ((rc = lethe_site_require(s, LETHE_SITE_KEYS, "replay")) < 0)
		return rc;
	if ((rc = lethe_replay_set_load(&set, s->ev)) < 0 ||
	    (rc = lethe_replay_match_subjects(&m, &n, s->be, s->policy, s->pseudonym_key, set)) < 0)
		goto out;
	*erasures = lethe_replay_set_count(set);
	*found = n;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = replay_one(s, &m[i], as_of, each, ctx);
out:
	lethe_replay_matches_free(m, n);
	lethe_replay_set_free(set);
	return rc;
}
