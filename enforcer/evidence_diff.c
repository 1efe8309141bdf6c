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
 *  - The trees a diff reads on its new side stay referenced in the handle
 *    (ev->kept, at most KEEP_MAX) until the next diff, which finds there,
 *    by tree id, the trees it reads on its old side: comparing each commit
 *    with its parent reads each folder of the history once, whatever
 *    libgit2's object cache holds.
 */
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "evidence_impl.h"
#include "lethe/error.h"
#include "vec.h"

typedef struct {
	lethe_evidence *ev;
	int (*cb)(void *ctx, char status, const char *path, const char *blob_oid);
	void *ctx;
	git_tree **next;     /* the new side's trees: ev->kept once the diff is done */
	size_t nnext, capnext;
} diff_walk;

/* At most this many trees are kept from one diff to the next: a commit of
 * the evidence changes a few folders (records/, records/SSSSS/, runs/...);
 * a diff across many commits keeps no more than this, the rest is read
 * again when needed. A bound on memory, not on what can be compared. */
#define KEEP_MAX 256

/* A tree's entries in git's order: entry i of t, or of the sorted copy
 * (malloc'd) when t is stored out of order. */
typedef struct {
	const git_tree *t;
	const git_tree_entry **sorted;  /* NULL: t is in order */
	size_t n;
} tree_entries;

static int cmp_entries(const void *a, const void *b)
{
	return git_tree_entry_cmp(*(const git_tree_entry *const *)a,
				  *(const git_tree_entry *const *)b);
}

static const git_tree_entry *entry_at(const tree_entries *v, size_t i)
{
	return v->sorted ? v->sorted[i] : git_tree_entry_byindex(v->t, i);
}

static int entries(tree_entries *v, const git_tree *t)
{
	v->t = t;
	v->sorted = NULL;
	v->n = t ? git_tree_entrycount(t) : 0;
	for (size_t i = 1; i < v->n; i++)
		if (git_tree_entry_cmp(git_tree_entry_byindex(t, i - 1),
				       git_tree_entry_byindex(t, i)) > 0) {
			if (!(v->sorted = malloc(v->n * sizeof(*v->sorted))))
				return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
			for (size_t j = 0; j < v->n; j++)
				v->sorted[j] = git_tree_entry_byindex(t, j);
			qsort(v->sorted, v->n, sizeof(*v->sorted), cmp_entries);
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

/* The tree kept from the previous diff with this id, or NULL. */
static git_tree *kept_tree(const lethe_evidence *ev, const git_oid *id)
{
	for (size_t i = 0; i < ev->nkept; i++)
		if (git_oid_equal(git_tree_id(ev->kept[i]), id))
			return ev->kept[i];
	return NULL;
}

/* The tree id (NULL: none) on the old or the new side. *out is the kept
 * one (old side) or one the walk keeps for the next diff (new side), valid
 * until the next diff; else the caller's, *owned set. */
static int tree(git_tree **out, int *owned, diff_walk *w, const git_oid *id, int new_side)
{
	git_tree *t = NULL, *k;

	*out = NULL;
	*owned = 0;
	if (!id)
		return 0;
	k = kept_tree(w->ev, id);
	if (k && !new_side) {
		*out = k;
		return 0;
	}
	if (k ? git_tree_dup(&t, k) < 0 : git_tree_lookup(&t, w->ev->repo, id) < 0)
		return lethe_evidence_git_fail(LETHE_EDATA, "cannot read a tree of '%s'", w->ev->dir);
	if (new_side && w->nnext < KEEP_MAX) {
		int rc = LETHE_VEC_RESERVE(w->next, w->nnext + 1, w->capnext);

		if (rc < 0) {
			git_tree_free(t);
			return rc;
		}
		w->next[w->nnext++] = t;
	} else {
		*owned = 1;
	}
	*out = t;
	return 0;
}

/* The trees a and b (NULL: empty) under prefix ("" or "folder/"). */
static int compare(diff_walk *w, const git_oid *a, const git_oid *b, const char *prefix)
{
	git_tree *ta = NULL, *tb = NULL;
	tree_entries va = { 0 }, vb = { 0 };
	size_t i = 0, j = 0;
	int own_a = 0, own_b = 0, rc;

	if (a && b && git_oid_equal(a, b))
		return 0;
	if ((rc = tree(&ta, &own_a, w, a, 0)) < 0 || (rc = tree(&tb, &own_b, w, b, 1)) < 0 ||
	    (rc = entries(&va, ta)) < 0 || (rc = entries(&vb, tb)) < 0)
		goto out;
	while (rc == 0 && (i < va.n || j < vb.n)) {
		const git_tree_entry *ea = i < va.n ? entry_at(&va, i) : NULL;
		const git_tree_entry *eb = j < vb.n ? entry_at(&vb, j) : NULL;
		int c = !ea ? 1 : !eb ? -1 : git_tree_entry_cmp(ea, eb);

		/* c < 0: only in a; c > 0: only in b; 0: in both */
		rc = one(w, c <= 0 ? ea : NULL, c >= 0 ? eb : NULL, prefix);
		i += c <= 0;
		j += c >= 0;
	}
out:
	free(va.sorted);
	free(vb.sorted);
	if (own_a)
		git_tree_free(ta);
	if (own_b)
		git_tree_free(tb);
	return rc;
}

void lethe_evidence_forget_trees(lethe_evidence *ev)
{
	for (size_t i = 0; i < ev->nkept; i++)
		git_tree_free(ev->kept[i]);
	free(ev->kept);
	ev->kept = NULL;
	ev->nkept = 0;
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
	diff_walk w = { ev, cb, ctx, NULL, 0, 0 };
	git_oid a, b;
	int have_a = old_oid && *old_oid, rc;

	if (!ev || !new_oid || !cb)
		return lethe_error_set(LETHE_ESOFTWARE, "evidence diff: missing argument");
	if ((have_a && (rc = commit_tree_id(&a, ev, old_oid)) != 0) ||
	    (rc = commit_tree_id(&b, ev, new_oid)) != 0)
		return rc;
	rc = compare(&w, have_a ? &a : NULL, &b, "");
	/* what was read as new is the next commit's old side */
	lethe_evidence_forget_trees(ev);
	ev->kept = w.next;
	ev->nkept = w.nnext;
	return rc;
}
