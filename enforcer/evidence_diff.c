/*
 * evidence_diff.c - what one evidence commit changed against another: the
 * verifier's way to read only what each commit adds, so verifying ten years
 * of daily runs stays linear in the history instead of re-listing trees.
 *
 * Invariant: like every evidence*.c file, the only place besides its
 * siblings that sees git2.h; callers get paths and a status letter.
 */
#include <git2.h>
#include <stdlib.h>
#include <string.h>
#include "evidence_impl.h"
#include "lethe/error.h"

typedef struct {
	int (*cb)(void *ctx, char status, const char *path);
	void *ctx;
	int rc;
} diff_walk;

static int one_file(const git_diff_delta *d, float progress, void *payload)
{
	diff_walk *w = payload;
	char status;

	(void)progress;
	switch (d->status) {
	case GIT_DELTA_ADDED:
		status = 'A';
		break;
	case GIT_DELTA_DELETED:
		status = 'D';
		break;
	default:
		status = 'M';
	}
	w->rc = w->cb(w->ctx, status, status == 'D' ? d->old_file.path : d->new_file.path);
	return w->rc ? -1 : 0;
}

static int commit_tree(git_tree **out, lethe_evidence *ev, const char *oid)
{
	git_commit *c = NULL;
	int rc;

	if (!oid || !*oid) {
		*out = NULL;
		return 0;
	}
	if ((rc = lethe_evidence_lookup_commit(&c, ev, oid)) != 0)
		return rc;
	rc = git_commit_tree(out, c) < 0 ?
		lethe_evidence_git_fail(LETHE_EDATA, "cannot read the tree of %s", oid) : 0;
	git_commit_free(c);
	return rc;
}

int lethe_evidence_diff(lethe_evidence *ev, const char *old_oid, const char *new_oid,
			int (*cb)(void *ctx, char status, const char *path), void *ctx)
{
	git_tree *a = NULL, *b = NULL;
	git_diff *diff = NULL;
	git_diff_options opts;
	diff_walk w = { cb, ctx, 0 };
	int rc;

	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	if (!ev || !new_oid || !cb)
		return lethe_error_set(LETHE_ESOFTWARE, "evidence diff: missing argument");
	if ((rc = commit_tree(&a, ev, old_oid)) != 0 || (rc = commit_tree(&b, ev, new_oid)) != 0)
		goto out;
	if (git_diff_tree_to_tree(&diff, ev->repo, a, b, &opts) < 0) {
		rc = lethe_evidence_git_fail(LETHE_EDATA, "cannot compare evidence commits");
		goto out;
	}
	if (git_diff_foreach(diff, one_file, NULL, NULL, NULL, &w) < 0 && !w.rc)
		rc = lethe_evidence_git_fail(LETHE_EDATA, "cannot compare evidence commits");
	else
		rc = w.rc;
out:
	git_diff_free(diff);
	git_tree_free(a);
	git_tree_free(b);
	return rc;
}
