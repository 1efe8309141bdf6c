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
#include <stdint.h>
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
	struct lethe_kept_tree *next;  /* the new side's trees: ev->kept once the diff is done */
	size_t nnext, capnext;
} diff_walk;

/* At most this many trees are kept from one diff to the next: a commit of
 * the evidence changes a few folders (records/, records/SSSSS/, runs/...);
 * a diff across many commits keeps no more than this, the rest is read
 * again when needed. A bound on memory, not on what can be compared. */
#define KEEP_MAX 256

/* Folders read by path lookups and kept across diffs (the policy snapshot's
 * folder, which few commits change): the most recent LOOKED_MAX. */
#define LOOKED_MAX 8

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

/* in_order: known to be stored in git's order (a kept tree checked before). */
static int entries(tree_entries *v, const git_tree *t, int in_order)
{
	v->t = t;
	v->sorted = NULL;
	v->n = t ? git_tree_entrycount(t) : 0;
	for (size_t i = 1; !in_order && i < v->n; i++)
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

static struct lethe_kept_tree *kept_in(struct lethe_kept_tree *v, size_t n, const git_oid *id)
{
	for (size_t i = 0; i < n; i++)
		if (git_oid_equal(git_tree_id(v[i].tree), id))
			return &v[i];
	return NULL;
}

/* The tree kept from the previous diff with this id, or NULL. */
static const struct lethe_kept_tree *kept_tree(const lethe_evidence *ev, const git_oid *id)
{
	return kept_in(ev->kept, ev->nkept, id);
}

/* Keep t (a reference the caller gives) as read by a path lookup, in place
 * of the oldest such tree when LOOKED_MAX are kept; 0, or t is not kept. */
static int keep_looked(lethe_evidence *ev, git_tree *t)
{
	size_t looked = 0, oldest = SIZE_MAX, cap = ev->nkept;

	for (size_t i = 0; i < ev->nkept; i++)
		if (ev->kept[i].looked && looked++ == 0)
			oldest = i;
	if (looked >= LOOKED_MAX) {
		git_tree_free(ev->kept[oldest].tree);
		memmove(&ev->kept[oldest], &ev->kept[oldest + 1],
			(ev->nkept - oldest - 1) * sizeof(*ev->kept));
		ev->nkept--;
	}
	/* ev->kept's capacity is its count (its allocation is the walk's) */
	if (LETHE_VEC_RESERVE(ev->kept, ev->nkept + 1, cap) < 0)
		return -1;
	ev->kept[ev->nkept].tree = t;
	ev->kept[ev->nkept].in_order = 0;
	ev->kept[ev->nkept++].looked = 1;
	return 0;
}

/* One side's tree in compare(): NULL for none. */
typedef struct {
	git_tree *t;
	int owned;        /* the caller frees t; else ev->kept or the walk's next holds it */
	int in_order;     /* its entries are known to be in git's order */
	size_t next;      /* its index in the walk's next, or SIZE_MAX */
} side;

/* The tree id (NULL: none) on the old or the new side. s->t is the kept
 * one (old side) or one the walk keeps for the next diff (new side), valid
 * until the next diff; else the caller's (s->owned). */
static int tree(side *s, diff_walk *w, const git_oid *id, int new_side)
{
	const struct lethe_kept_tree *k;
	git_tree *t = NULL;
	int rc;

	memset(s, 0, sizeof(*s));
	s->next = SIZE_MAX;
	if (!id)
		return 0;
	k = kept_tree(w->ev, id);
	if (k && !new_side) {
		s->t = k->tree;
		s->in_order = k->in_order;
		return 0;
	}
	if (k ? git_tree_dup(&t, k->tree) < 0 : git_tree_lookup(&t, w->ev->repo, id) < 0)
		return lethe_evidence_git_fail(LETHE_EDATA, "cannot read a tree of '%s'", w->ev->dir);
	s->t = t;
	s->in_order = k && k->in_order;
	if (!new_side || w->nnext >= KEEP_MAX) {
		s->owned = 1;
		return 0;
	}
	if ((rc = LETHE_VEC_RESERVE(w->next, w->nnext + 1, w->capnext)) < 0) {
		git_tree_free(t);
		return rc;
	}
	s->next = w->nnext;
	w->next[w->nnext].tree = t;
	w->next[w->nnext].looked = 0;
	w->next[w->nnext++].in_order = 0;
	return 0;
}

/* Whether entry i of a and entry j of b are the same file or folder: same
 * name, id and mode (what one() would skip after the name comparison). */
static int same_entry(const git_tree_entry *a, const git_tree_entry *b)
{
	return git_oid_equal(git_tree_entry_id(a), git_tree_entry_id(b)) &&
	       git_tree_entry_filemode(a) == git_tree_entry_filemode(b) &&
	       !strcmp(git_tree_entry_name(a), git_tree_entry_name(b));
}

/* The trees a and b (NULL: empty) under prefix ("" or "folder/"). */
static int compare(diff_walk *w, const git_oid *a, const git_oid *b, const char *prefix)
{
	side sa, sb;
	tree_entries va = { 0 }, vb = { 0 };
	size_t i = 0, j = 0;
	int rc;

	if (a && b && git_oid_equal(a, b))
		return 0;
	memset(&sb, 0, sizeof(sb));
	if ((rc = tree(&sa, w, a, 0)) < 0 || (rc = tree(&sb, w, b, 1)) < 0 ||
	    (rc = entries(&va, sa.t, sa.in_order)) < 0 ||
	    (rc = entries(&vb, sb.t, sb.in_order)) < 0)
		goto out;
	/* checked now: the next diff, reading it as its old side, need not */
	if (sb.next != SIZE_MAX)
		w->next[sb.next].in_order = !vb.sorted;
	/* a folder that only grew (records/SSSSS/ gains one record a commit)
	 * starts with the entries it had: pass them without ordering them */
	while (i < va.n && i < vb.n && same_entry(entry_at(&va, i), entry_at(&vb, i)))
		i++;
	j = i;
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
	if (sa.owned)
		git_tree_free(sa.t);
	if (sb.owned)
		git_tree_free(sb.t);
	return rc;
}

void lethe_evidence_forget_trees(lethe_evidence *ev)
{
	for (size_t i = 0; i < ev->nkept; i++)
		git_tree_free(ev->kept[i].tree);
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

/* The diff of trees a and b (NULL: none); ev keeps b's side. */
static int diff(lethe_evidence *ev, const git_oid *a, const git_oid *b,
		int (*cb)(void *ctx, char status, const char *path, const char *blob_oid),
		void *ctx)
{
	diff_walk w = { ev, cb, ctx, NULL, 0, 0 };
	int rc = compare(&w, a, b, "");

	/* what was read as new is the next commit's old side; folders read by
	 * path stay (they are the same whatever the commit, by id) */
	for (size_t i = 0; i < ev->nkept; i++) {
		if (ev->kept[i].looked && !kept_in(w.next, w.nnext, git_tree_id(ev->kept[i].tree)) &&
		    LETHE_VEC_RESERVE(w.next, w.nnext + 1, w.capnext) == 0) {
			w.next[w.nnext++] = ev->kept[i];
			ev->kept[i].tree = NULL;
		}
	}
	lethe_evidence_forget_trees(ev);
	ev->kept = w.next;
	ev->nkept = w.nnext;
	return rc;
}

int lethe_evidence_diff(lethe_evidence *ev, const char *old_oid, const char *new_oid,
			int (*cb)(void *ctx, char status, const char *path, const char *blob_oid),
			void *ctx)
{
	git_oid a, b;
	int have_a = old_oid && *old_oid, rc;

	if (!ev || !new_oid || !cb)
		return lethe_error_set(LETHE_ESOFTWARE, "evidence diff: missing argument");
	if ((have_a && (rc = commit_tree_id(&a, ev, old_oid)) != 0) ||
	    (rc = commit_tree_id(&b, ev, new_oid)) != 0)
		return rc;
	return diff(ev, have_a ? &a : NULL, &b, cb, ctx);
}

static int tree_id(git_oid *out, const char *hex)
{
	if (!hex || strlen(hex) != 40 || git_oid_fromstr(out, hex) < 0)
		return lethe_error_set(LETHE_EDATA, "'%s' is not a tree id", hex ? hex : "");
	return 0;
}

int lethe_evidence_diff_trees(lethe_evidence *ev, const char *old_tree, const char *new_tree,
			      int (*cb)(void *ctx, char status, const char *path,
					const char *blob_oid),
			      void *ctx)
{
	git_oid a, b;
	int have_a = old_tree && *old_tree, rc;

	if (!ev || !new_tree || !cb)
		return lethe_error_set(LETHE_ESOFTWARE, "evidence diff: missing argument");
	if ((have_a && (rc = tree_id(&a, old_tree)) < 0) || (rc = tree_id(&b, new_tree)) < 0)
		return rc;
	return diff(ev, have_a ? &a : NULL, &b, cb, ctx);
}

/* Path lookups read what the last diff kept; other folders (the policy
 * snapshot, which few commits change) come from libgit2's cache or the
 * object database. Each component goes through git_tree_entry_byname, as
 * git_tree_entry_bypath does: empty components, a file in the middle and a
 * folder at the end are not found. */
int lethe_evidence_tree_file_id(char blob_oid[41], lethe_evidence *ev, const char *tree_oid,
				const char *path)
{
	git_oid cur;
	const char *p = path;
	int rc;

	if ((rc = tree_id(&cur, tree_oid)) < 0)
		return rc;
	for (;;) {
		const struct lethe_kept_tree *k = kept_tree(ev, &cur);
		git_tree *t = k ? k->tree : NULL;
		size_t n = strcspn(p, "/");
		git_object_t want = p[n] ? GIT_OBJECT_TREE : GIT_OBJECT_BLOB;
		const git_tree_entry *e = NULL;
		char *name = NULL;

		if (!t && git_tree_lookup(&t, ev->repo, &cur) < 0)
			return lethe_evidence_git_fail(LETHE_EDATA, "cannot read a tree of '%s'",
						       ev->dir);
		if (n && !(name = strndup(p, n)))
			rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		else if (n)
			e = git_tree_entry_byname(t, name);
		if (e && git_tree_entry_type(e) == want)
			git_oid_cpy(&cur, git_tree_entry_id(e));
		else if (rc == 0)
			rc = lethe_error_set(LETHE_ENOTFOUND, "no file '%s' in evidence tree %s",
					     path, tree_oid);
		free(name);
		if (!k && keep_looked(ev, t) < 0)
			git_tree_free(t);
		if (rc < 0 || !p[n])
			break;
		p += n + 1;
	}
	if (rc == 0)
		git_oid_tostr(blob_oid, 41, &cur);
	return rc;
}
