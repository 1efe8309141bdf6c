/*
 * evidence_diff.c - what one evidence commit changed against another: the
 * verifier's way to read only what each commit adds, so verifying ten years
 * of daily runs stays linear in the history instead of re-listing trees.
 *
 * The two trees are compared entry by entry, descending only into folders
 * whose ids differ (equal ids prove equal contents), and a file is reported
 * with its blob id, so the caller can read it without looking its path up
 * again. git_diff_tree_to_tree did the same comparison but also consulted
 * attributes and diff drivers for every changed file, which cost more than
 * the comparison itself.
 *
 * Invariants:
 *  - Like every evidence*.c file, the only place besides its siblings that
 *    sees git2.h; callers get paths, a status letter and a blob id.
 *  - Paths come in git's tree order (a folder sorts as if its name ended in
 *    '/'), which is the byte order of full paths. A tree stored out of that
 *    order (no git writes one; a hostile one could) is sorted first, so the
 *    comparison never pairs the wrong entries.
 *  - Every entry that is not a folder is a "file" here (blobs, symbolic
 *    links, submodule links): a change of its id or its mode is 'M'; a
 *    file that becomes a folder is 'D' of the file and 'A' of everything
 *    under the folder, as git diff reports it.
 */
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "evidence_impl.h"
#include "lethe/error.h"

typedef struct {
	lethe_evidence *ev;
	int (*cb)(void *ctx, char status, const char *path, const char *blob_oid);
	void *ctx;
} diff_walk;

static int cmp_entries(const void *a, const void *b)
{
	return git_tree_entry_cmp(*(const git_tree_entry *const *)a,
				  *(const git_tree_entry *const *)b);
}

/* A tree's entries in git's order: *v (malloc'd, NULL when none) points
 * into t. */
static int entries(const git_tree_entry ***v, size_t *n, const git_tree *t)
{
	*v = NULL;
	*n = t ? git_tree_entrycount(t) : 0;
	if (*n == 0)
		return 0;
	if (!(*v = malloc(*n * sizeof(**v))))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	for (size_t i = 0; i < *n; i++)
		(*v)[i] = git_tree_entry_byindex(t, i);
	for (size_t i = 1; i < *n; i++)
		if (git_tree_entry_cmp((*v)[i - 1], (*v)[i]) > 0) {
			qsort(*v, *n, sizeof(**v), cmp_entries);
			break;
		}
	return 0;
}

static int is_folder(const git_tree_entry *e)
{
	return e && git_tree_entry_type(e) == GIT_OBJECT_TREE;
}

static int compare(diff_walk *w, const git_oid *a, const git_oid *b, const char *prefix);

/* One path present on one side or both (a: old, b: new; NULL: absent). */
static int one(diff_walk *w, const git_tree_entry *a, const git_tree_entry *b, const char *prefix)
{
	const git_tree_entry *e = b ? b : a;
	char *path = NULL, hex[41];
	int rc;

	/* most entries are equal: no path is built for them */
	if (a && b && git_oid_equal(git_tree_entry_id(a), git_tree_entry_id(b)) &&
	    git_tree_entry_filemode(a) == git_tree_entry_filemode(b))
		return 0;
	if (asprintf(&path, "%s%s%s", prefix, git_tree_entry_name(e), is_folder(e) ? "/" : "") < 0)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	if (is_folder(e)) {
		rc = compare(w, a ? git_tree_entry_id(a) : NULL, b ? git_tree_entry_id(b) : NULL,
			     path);
	} else {
		git_oid_tostr(hex, sizeof(hex), git_tree_entry_id(e));
		rc = w->cb(w->ctx, !a ? 'A' : !b ? 'D' : 'M', path, hex);
	}
	free(path);
	return rc;
}

static int tree(git_tree **out, diff_walk *w, const git_oid *id)
{
	*out = NULL;
	if (id && git_tree_lookup(out, w->ev->repo, id) < 0)
		return lethe_evidence_git_fail(LETHE_EDATA, "cannot read a tree of '%s'", w->ev->dir);
	return 0;
}

/* The trees a and b (NULL: empty) under prefix ("" or "folder/"). */
static int compare(diff_walk *w, const git_oid *a, const git_oid *b, const char *prefix)
{
	git_tree *ta = NULL, *tb = NULL;
	const git_tree_entry **va = NULL, **vb = NULL;
	size_t na, nb, i = 0, j = 0;
	int rc;

	if (a && b && git_oid_equal(a, b))
		return 0;
	if ((rc = tree(&ta, w, a)) < 0 || (rc = tree(&tb, w, b)) < 0 ||
	    (rc = entries(&va, &na, ta)) < 0 || (rc = entries(&vb, &nb, tb)) < 0)
		goto out;
	while (rc == 0 && (i < na || j < nb)) {
		int c = i == na ? 1 : j == nb ? -1 : git_tree_entry_cmp(va[i], vb[j]);

		if (c < 0)
			rc = one(w, va[i++], NULL, prefix);
		else if (c > 0)
			rc = one(w, NULL, vb[j++], prefix);
		else
			rc = one(w, va[i++], vb[j++], prefix);
	}
out:
	free(va);
	free(vb);
	git_tree_free(ta);
	git_tree_free(tb);
	return rc;
}

static int commit_tree_id(git_oid *out, lethe_evidence *ev, const char *oid)
{
	git_commit *c = NULL;
	int rc;

	if ((rc = lethe_evidence_lookup_commit(&c, ev, oid)) != 0)
		return rc;
	git_oid_cpy(out, git_commit_tree_id(c));
	git_commit_free(c);
	return 0;
}

int lethe_evidence_diff(lethe_evidence *ev, const char *old_oid, const char *new_oid,
			int (*cb)(void *ctx, char status, const char *path, const char *blob_oid),
			void *ctx)
{
	diff_walk w = { ev, cb, ctx };
	git_oid a, b;
	int have_a = old_oid && *old_oid, rc;

	if (!ev || !new_oid || !cb)
		return lethe_error_set(LETHE_ESOFTWARE, "evidence diff: missing argument");
	if ((have_a && (rc = commit_tree_id(&a, ev, old_oid)) != 0) ||
	    (rc = commit_tree_id(&b, ev, new_oid)) != 0)
		return rc;
	return compare(&w, have_a ? &a : NULL, &b, "");
}
