/*
 * backend_run.c - the public lethe_backend_* functions for Lethe's own
 * records of a run in the register: the run marker and its digests, their
 * seal, the evidence head, and the clean-up owed. Argument checks, then
 * dispatch through the backend's ops (backend_impl.h), as in backend.c.
 *
 * Invariants:
 *  - This file knows no database library.
 *  - The sealed-digest functions are optional ops: a backend without them
 *    is not sealable (lethe_backend_marker_sealable), and the run then
 *    streams its digests from the marker at completion.
 */
#include <string.h>
#include "backend_impl.h"
#include "lethe/error.h"

int lethe_backend_mark(lethe_backend *be, const char *run_id, const char *rule,
		       int64_t disposed, const unsigned char *digests, size_t ndigests)
{
	if (!be || !run_id || !rule || (ndigests && !digests))
		return lethe_error_set(LETHE_ESOFTWARE, "mark: missing argument");
	return be->ops->mark(be, run_id, rule, disposed, digests, ndigests);
}

int lethe_backend_marker(int *found, lethe_backend *be, const char *run_id,
			 int (*cb)(void *ctx, const char *rule, int64_t disposed), void *ctx)
{
	if (!found || !be || !run_id)
		return lethe_error_set(LETHE_ESOFTWARE, "marker: missing argument");
	return be->ops->marker(found, be, run_id, cb, ctx);
}

int lethe_backend_marker_digests(lethe_backend *be, const char *run_id, const char *rule,
				 int (*cb)(void *ctx, const char *digest), void *ctx)
{
	if (!be || !run_id || !rule || !cb)
		return lethe_error_set(LETHE_ESOFTWARE, "marker digests: missing argument");
	return be->ops->marker_digests(be, run_id, rule, cb, ctx);
}

int lethe_backend_marker_sealable(const lethe_backend *be)
{
	return be && be->ops->marker_seal && be->ops->marker_sealed;
}

int lethe_backend_marker_seal(lethe_backend *be, const char *run_id, const lethe_marker_file *files,
			      size_t n, int vacuum_follows)
{
	if (!lethe_backend_marker_sealable(be) || !run_id || (n && !files))
		return lethe_error_set(LETHE_ESOFTWARE, "marker seal: missing argument");
	return be->ops->marker_seal(be, run_id, files, n, vacuum_follows);
}

int lethe_backend_marker_sealed(int *found, lethe_marker_file *out, lethe_backend *be,
				const char *run_id, const char *rule)
{
	if (!found || !out || !be || !run_id || !rule)
		return lethe_error_set(LETHE_ESOFTWARE, "marker sealed: missing argument");
	*found = 0;
	return lethe_backend_marker_sealable(be) ? be->ops->marker_sealed(found, out, be, run_id, rule) : 0;
}

int lethe_backend_evidence_head(int *found, int64_t *seq, char commit[41], lethe_backend *be,
				const char *repository)
{
	if (!found || !seq || !commit || !be || !repository)
		return lethe_error_set(LETHE_ESOFTWARE, "evidence head: missing argument");
	return be->ops->evidence_head(found, seq, commit, be, repository);
}

int lethe_backend_evidence_head_set(lethe_backend *be, const char *repository, int64_t seq,
				    const char *commit, const char *at)
{
	if (!be || !repository || !commit || strlen(commit) != 40 || !at)
		return lethe_error_set(LETHE_ESOFTWARE, "evidence head: missing argument");
	return be->ops->evidence_head_set(be, repository, seq, commit, at);
}

int lethe_backend_marker_clear(lethe_backend *be, const char *run_id)
{
	if (!be || !run_id)
		return lethe_error_set(LETHE_ESOFTWARE, "marker clear: missing argument");
	return be->ops->marker_clear(be, run_id);
}

int lethe_backend_cleanup_owe(lethe_backend *be)
{
	if (!be)
		return lethe_error_set(LETHE_ESOFTWARE, "cleanup owe: missing argument");
	return be->ops->cleanup_owe(be);
}

int lethe_backend_cleanup_owed(char **since, lethe_backend *be)
{
	if (!since || !be)
		return lethe_error_set(LETHE_ESOFTWARE, "cleanup owed: missing argument");
	return be->ops->cleanup_owed(since, be);
}

int lethe_backend_cleanup_done(lethe_backend *be)
{
	if (!be)
		return lethe_error_set(LETHE_ESOFTWARE, "cleanup done: missing argument");
	return be->ops->cleanup_done(be);
}
