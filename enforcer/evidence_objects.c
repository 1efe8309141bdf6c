/*
 * evidence_objects.c - raw git objects: a repository in memory built from
 * objects handed over (a proof's, in a scratch repository removed when it is
 * freed), and the objects on the way from a commit to one of its files
 * (what a proof carries).
 *
 * Invariants:
 *  - An object's id is always the one git computes from its bytes: a proof
 *    cannot name an object by an id its bytes do not hash to.
 *  - The scratch repository has no refs; it is read by id only
 *    (lethe_evidence_visit, lethe_evidence_read), and removed by
 *    lethe_evidence_free.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "evidence_impl.h"
#include "lethe/error.h"

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void lethe_evidence_remove_scratch(const char *path)
{
	nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A scratch bare repository in $TMPDIR (libgit2's in-memory object store
 * hands out object data without the terminating NUL its commit parser
 * relies on, so the objects go through its ordinary loose-object store). */
int lethe_evidence_open_memory(lethe_evidence **out)
{
	const char *tmp = getenv("TMPDIR");
	git_repository *repo = NULL;
	lethe_evidence *ev = NULL;
	char *dir = NULL;
	int rc = 0;

	if (lethe_evidence_git_init() < 0)
		return lethe_evidence_git_fail(LETHE_ESOFTWARE, "cannot initialise libgit2");
	if (asprintf(&dir, "%s/lethe-proof-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0) {
		dir = NULL;
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	if (!mkdtemp(dir)) {
		rc = lethe_error_set(LETHE_ECANTCREAT, "cannot create a scratch folder '%s': %s", dir,
				     strerror(errno));
		free(dir);
		dir = NULL;
		goto out;
	}
	if (git_repository_init(&repo, dir, 1) < 0) {
		rc = lethe_evidence_git_fail(LETHE_ECANTCREAT, "cannot make a scratch repository");
		goto out;
	}
	if (!(ev = calloc(1, sizeof(*ev))) || !(ev->dir = strdup("(proof)"))) {
		free(ev);
		ev = NULL;
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	ev->repo = repo;
	ev->scratch = dir;
	repo = NULL;
	dir = NULL;
	*out = ev;
out:
	git_repository_free(repo);
	if (dir) {
		lethe_evidence_remove_scratch(dir);
		free(dir);
	}
	if (rc)
		git_libgit2_shutdown();
	return rc;
}

static int object_type(git_object_t *t, const char *type)
{
	*t = git_object_string2type(type ? type : "");
	if (*t != GIT_OBJECT_COMMIT && *t != GIT_OBJECT_TREE && *t != GIT_OBJECT_BLOB)
		return lethe_error_set(LETHE_EUSAGE, "'%s' is not an object type of the evidence",
				       type ? type : "");
	return 0;
}

int lethe_evidence_object_put(char oid[41], lethe_evidence *ev, const char *type,
			      const void *data, size_t len)
{
	git_odb *odb = NULL;
	git_object_t t;
	git_oid id;
	int rc;

	if ((rc = object_type(&t, type)) < 0)
		return rc;
	if (git_repository_odb(&odb, ev->repo) < 0)
		return lethe_evidence_git_fail(LETHE_EIO, "cannot open the object store");
	if (git_odb_write(&id, odb, data, len, t) < 0)
		rc = lethe_evidence_git_fail(LETHE_EIO, "cannot store a %s object", type);
	else
		git_oid_tostr(oid, 41, &id);
	git_odb_free(odb);
	return rc;
}

/* cb for the object id, read raw from the store. */
static int emit(git_odb *odb, const git_oid *id,
		int (*cb)(void *ctx, const char *oid, const char *type, const void *data, size_t len),
		void *ctx)
{
	git_odb_object *o = NULL;
	char hex[41];
	int rc;

	git_oid_tostr(hex, sizeof(hex), id);
	if (git_odb_read(&o, odb, id) < 0)
		return lethe_evidence_git_fail(LETHE_EDATA, "cannot read object %s", hex);
	rc = cb(ctx, hex, git_object_type2string(git_odb_object_type(o)), git_odb_object_data(o),
		git_odb_object_size(o));
	git_odb_object_free(o);
	return rc;
}

int lethe_evidence_path_objects(lethe_evidence *ev, const char *commit_oid, const char *path,
				int (*cb)(void *ctx, const char *oid, const char *type,
					  const void *data, size_t len),
				void *ctx)
{
	git_commit *c = NULL;
	git_tree *root = NULL;
	git_odb *odb = NULL;
	char *prefix = NULL;
	int rc;

	if ((rc = lethe_evidence_lookup_commit(&c, ev, commit_oid)) != 0)
		return rc;
	if (git_repository_odb(&odb, ev->repo) < 0 || git_commit_tree(&root, c) < 0) {
		rc = lethe_evidence_git_fail(LETHE_EDATA, "cannot read the tree of %s", commit_oid);
		goto out;
	}
	if ((rc = emit(odb, git_commit_id(c), cb, ctx)) || (rc = emit(odb, git_tree_id(root), cb, ctx)))
		goto out;
	if (!(prefix = strdup(path))) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	/* each folder on the way, then the file: prefixes ending at a '/' or the end */
	for (size_t i = 0, n = strlen(path); i <= n && rc == 0; i++) {
		git_tree_entry *e = NULL;
		int g;

		if (path[i] != '/' && path[i] != '\0')
			continue;
		prefix[i] = '\0';
		g = git_tree_entry_bypath(&e, root, prefix);
		if (g == GIT_ENOTFOUND)
			rc = lethe_error_set(LETHE_ENOTFOUND, "no file '%s' in evidence commit %s", path,
					     commit_oid);
		else if (g < 0)
			rc = lethe_evidence_git_fail(LETHE_EDATA, "cannot read '%s' of %s", prefix,
						     commit_oid);
		else
			rc = emit(odb, git_tree_entry_id(e), cb, ctx);
		git_tree_entry_free(e);
		prefix[i] = path[i];
	}
out:
	free(prefix);
	git_tree_free(root);
	git_odb_free(odb);
	git_commit_free(c);
	return rc;
}

/* The blob at path of commit, or NULL (*b untouched) when there is none. */
static int blob_at(git_blob **b, lethe_evidence *ev, const char *commit, const char *path)
{
	git_commit *c = NULL;
	git_tree *t = NULL;
	git_tree_entry *e = NULL;
	int rc = 0;

	if (!commit || !path)
		return 0;
	if ((rc = lethe_evidence_lookup_commit(&c, ev, commit)) != 0)
		return rc;
	if (git_commit_tree(&t, c) < 0)
		rc = lethe_evidence_git_fail(LETHE_EDATA, "cannot read the tree of %s", commit);
	else if (git_tree_entry_bypath(&e, t, path) == 0 && git_tree_entry_type(e) == GIT_OBJECT_BLOB &&
		 git_blob_lookup(b, ev->repo, git_tree_entry_id(e)) < 0)
		rc = lethe_evidence_git_fail(LETHE_EDATA, "cannot read '%s' of %s", path, commit);
	git_tree_entry_free(e);
	git_tree_free(t);
	git_commit_free(c);
	return rc;
}

int lethe_evidence_patch(char **out, lethe_evidence *ev, const char *old_commit,
			 const char *old_path, const char *new_commit, const char *new_path)
{
	git_blob *a = NULL, *b = NULL;
	git_patch *patch = NULL;
	git_buf buf = { 0 };
	git_diff_options o;
	int rc;

	git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION);
	o.context_lines = 2;
	if ((rc = blob_at(&a, ev, old_commit, old_path)) < 0 ||
	    (rc = blob_at(&b, ev, new_commit, new_path)) < 0)
		goto out;
	if (git_patch_from_blobs(&patch, a, old_path, b, new_path, &o) < 0 ||
	    git_patch_to_buf(&buf, patch) < 0) {
		rc = lethe_evidence_git_fail(LETHE_EIO, "cannot compare '%s'", new_path ? new_path :
					     old_path ? old_path : "");
		goto out;
	}
	if (!(*out = strndup(buf.ptr ? buf.ptr : "", buf.size)))
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
out:
	git_buf_dispose(&buf);
	git_patch_free(patch);
	git_blob_free(a);
	git_blob_free(b);
	return rc;
}
