/*
 * evidence_read.c - reading the evidence store for the verifier and for
 * recovery: main, the history oldest first, files and folders of a commit,
 * and what the remote lacks.
 *
 * Invariants:
 *  - The walk holds only the commit ids of the whole history (20 bytes each:
 *    ten years of daily runs is about 70 KiB); one commit's contents are
 *    loaded at a time and released after its callback.
 *  - Nothing here writes to the repository.
 *  - Objects are read by id from the object database only: libgit2 1.5
 *    reads neither replace refs nor grafts, and checks every object's hash
 *    on read (GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, on by default), so
 *    what is read is what the signed ids name. lethe_evidence_substitutions
 *    names what would make stock git show something else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "evidence_impl.h"
#include "lethe/error.h"
#include "vec.h"

int lethe_evidence_lookup_commit(git_commit **out, lethe_evidence *ev, const char *hex)
{
	git_oid oid;

	if (!hex || strlen(hex) != 40 || git_oid_fromstr(&oid, hex) < 0)
		return lethe_error_set(LETHE_EDATA, "'%s' is not a commit id", hex ? hex : "");
	if (git_commit_lookup(out, ev->repo, &oid) < 0)
		return lethe_evidence_git_fail(LETHE_EDATA, "no commit '%s' in '%s'", hex, ev->dir);
	return 0;
}

/* main's id; LETHE_ENOTFOUND (without setting an error message) when absent. */
static int main_id(git_oid *out, lethe_evidence *ev)
{
	int g = git_reference_name_to_id(out, ev->repo, LETHE_EVIDENCE_MAIN);

	if (g == GIT_ENOTFOUND)
		return LETHE_ENOTFOUND;
	if (g < 0)
		return lethe_evidence_git_fail(LETHE_EIO, "cannot read main of '%s'", ev->dir);
	return 0;
}

int lethe_evidence_head(char out_oid[41], lethe_evidence *ev)
{
	git_oid oid;
	int rc = main_id(&oid, ev);

	if (rc == LETHE_ENOTFOUND)
		return lethe_error_set(LETHE_ENOTFOUND, "evidence repository '%s' has no commit yet",
				       ev->dir);
	if (rc == 0)
		git_oid_tostr(out_oid, 41, &oid);
	return rc;
}

const char *lethe_evidence_path(const lethe_evidence *ev)
{
	return git_repository_path(ev->repo);
}

int lethe_evidence_reaches(int *yes, lethe_evidence *ev, const char *commit)
{
	git_oid head, want;
	git_commit *c = NULL;
	int rc = main_id(&head, ev), g;

	*yes = 0;
	if (rc == LETHE_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	if (!commit || strlen(commit) != 40 || git_oid_fromstr(&want, commit) < 0)
		return lethe_error_set(LETHE_EDATA, "'%s' is not a commit id", commit ? commit : "");
	if (git_oid_equal(&head, &want)) {
		*yes = 1;
		return 0;
	}
	/* a commit the repository no longer has is not on main (reset and pruned) */
	if (git_commit_lookup(&c, ev->repo, &want) < 0)
		return 0;
	git_commit_free(c);
	g = git_graph_descendant_of(ev->repo, &head, &want);
	if (g < 0)
		return lethe_evidence_git_fail(LETHE_EIO, "cannot walk main of '%s'", ev->dir);
	*yes = g;
	return 0;
}

/* The ids of main's first-parent chain, newest first; found (NULL: none)
 * is told each one as the walk finds it. */
static int first_parents_told(git_oid **out, size_t *count, lethe_evidence *ev,
			      int (*found)(void *ctx, const char *oid), void *ctx)
{
	git_oid *ids = NULL, cur;
	size_t n = 0, cap = 0;
	int rc = main_id(&cur, ev);

	if (rc == LETHE_ENOTFOUND) {
		*out = NULL;
		*count = 0;
		return 0;
	}
	if (rc)
		return rc;
	for (;;) {
		git_commit *c = NULL;

		if ((rc = LETHE_VEC_RESERVE(ids, n + 1, cap)) < 0)
			goto out;
		ids[n++] = cur;
		if (found) {
			char hex[41];

			git_oid_tostr(hex, sizeof(hex), &cur);
			if ((rc = found(ctx, hex)) != 0)
				goto out;
		}
		if (git_commit_lookup(&c, ev->repo, &cur) < 0) {
			rc = lethe_evidence_git_fail(LETHE_EDATA, "cannot read a commit of '%s'",
						     ev->dir);
			goto out;
		}
		if (git_commit_parentcount(c) == 0) {
			git_commit_free(c);
			break;
		}
		git_oid_cpy(&cur, git_commit_parent_id(c, 0));
		git_commit_free(c);
	}
	*out = ids;
	*count = n;
	ids = NULL;
out:
	free(ids);
	return rc;
}

static int first_parents(git_oid **out, size_t *count, lethe_evidence *ev)
{
	return first_parents_told(out, count, ev, NULL, NULL);
}

int lethe_evidence_first_parents(lethe_evidence *ev, int (*found)(void *ctx, const char *oid),
				 void *ctx)
{
	git_oid *ids = NULL;
	size_t n = 0;
	int rc = first_parents_told(&ids, &n, ev, found, ctx);

	free(ids);
	return rc;
}

static void who(const char **name, const char **email, int64_t *when, int *offset,
		const git_signature *s)
{
	*name = s->name;
	*email = s->email;
	*when = (int64_t)s->when.time;
	*offset = s->when.offset;
}

/* Load one commit into info (pointers into c, sig and data) and call cb. */
static int visit(lethe_evidence *ev, const git_oid *id,
		 int (*cb)(void *ctx, const lethe_evidence_commit_info *c), void *ctx)
{
	lethe_evidence_commit_info info;
	git_commit *c = NULL;
	git_buf sig = { 0 }, data = { 0 };
	git_oid oid = *id;
	int rc = 0, g;

	memset(&info, 0, sizeof(info));
	if (git_commit_lookup(&c, ev->repo, &oid) < 0) {
		rc = lethe_evidence_git_fail(LETHE_EDATA, "cannot read a commit of '%s'", ev->dir);
		goto out;
	}
	git_oid_tostr(info.oid, sizeof(info.oid), &oid);
	info.parent_count = git_commit_parentcount(c);
	if (info.parent_count)
		git_oid_tostr(info.parent, sizeof(info.parent), git_commit_parent_id(c, 0));
	git_oid_tostr(info.tree, sizeof(info.tree), git_commit_tree_id(c));
	who(&info.author_name, &info.author_email, &info.author_time, &info.author_offset,
	    git_commit_author(c));
	who(&info.committer_name, &info.committer_email, &info.committer_time,
	    &info.committer_offset, git_commit_committer(c));
	info.message = git_commit_message(c);
	g = git_commit_extract_signature(&sig, &data, ev->repo, &oid, NULL);
	if (g == 0) {
		info.signature = sig.ptr;
		info.signature_len = sig.size;
		info.signed_data = data.ptr;
		info.signed_len = data.size;
	} else if (g != GIT_ENOTFOUND) {
		rc = lethe_evidence_git_fail(LETHE_EDATA, "cannot read the signature of %s",
					     info.oid);
		goto out;
	}
	rc = cb(ctx, &info);
out:
	git_buf_dispose(&sig);
	git_buf_dispose(&data);
	git_commit_free(c);
	return rc;
}

int lethe_evidence_walk(lethe_evidence *ev,
			int (*cb)(void *ctx, const lethe_evidence_commit_info *c), void *ctx)
{
	git_oid *ids = NULL;
	size_t n = 0;
	int rc = first_parents(&ids, &n, ev);

	for (size_t i = n; rc == 0 && i > 0; i--)
		rc = visit(ev, &ids[i - 1], cb, ctx);
	free(ids);
	return rc;
}

int lethe_evidence_history(char **ids, size_t *count, lethe_evidence *ev)
{
	git_oid *oids = NULL;
	size_t n = 0;
	int rc = first_parents(&oids, &n, ev);

	*ids = NULL;
	*count = 0;
	if (rc == 0 && n && !(*ids = malloc(n * 41)))
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	if (rc == 0) {
		for (size_t i = 0; i < n; i++)
			git_oid_tostr(*ids + 41 * i, 41, &oids[n - 1 - i]);
		*count = n;
	}
	free(oids);
	return rc;
}

int lethe_evidence_visit(lethe_evidence *ev, const char *commit_oid,
			 int (*cb)(void *ctx, const lethe_evidence_commit_info *c), void *ctx)
{
	git_oid id;

	if (!commit_oid || strlen(commit_oid) != 40 || git_oid_fromstr(&id, commit_oid) < 0)
		return lethe_error_set(LETHE_EDATA, "'%s' is not a commit id",
				       commit_oid ? commit_oid : "");
	return visit(ev, &id, cb, ctx);
}

/* The id of the entry at path in commit_oid's tree, a blob. */
static int file_oid(git_oid *out, lethe_evidence *ev, const char *commit_oid, const char *path)
{
	git_commit *c = NULL;
	git_tree *t = NULL;
	git_tree_entry *e = NULL;
	int rc, g;

	if ((rc = lethe_evidence_lookup_commit(&c, ev, commit_oid)) != 0)
		goto out;
	if (git_commit_tree(&t, c) < 0) {
		rc = lethe_evidence_git_fail(LETHE_EDATA, "cannot read the tree of %s", commit_oid);
		goto out;
	}
	g = git_tree_entry_bypath(&e, t, path);
	if (g == GIT_ENOTFOUND || (g == 0 && git_tree_entry_type(e) != GIT_OBJECT_BLOB)) {
		rc = lethe_error_set(LETHE_ENOTFOUND, "no file '%s' in evidence commit %s", path,
				     commit_oid);
		goto out;
	}
	if (g < 0) {
		rc = lethe_evidence_git_fail(LETHE_EDATA, "cannot read '%s' of %s", path, commit_oid);
		goto out;
	}
	git_oid_cpy(out, git_tree_entry_id(e));
out:
	git_tree_entry_free(e);
	git_tree_free(t);
	git_commit_free(c);
	return rc;
}

/* The blob id's bytes, copied with a terminating NUL; what names the file in
 * messages (its path, or its id). */
static int blob_bytes(char **data, size_t *len, lethe_evidence *ev, const git_oid *id,
		      const char *what, const char *commit_oid)
{
	git_blob *b = NULL;
	char *copy;
	size_t n;

	if (git_blob_lookup(&b, ev->repo, id) < 0)
		return lethe_evidence_git_fail(LETHE_EDATA, "cannot read '%s' of %s", what,
					       commit_oid);
	n = (size_t)git_blob_rawsize(b);
	if (!(copy = malloc(n + 1))) {
		git_blob_free(b);
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	memcpy(copy, git_blob_rawcontent(b), n);
	copy[n] = '\0';
	git_blob_free(b);
	*data = copy;
	*len = n;
	return 0;
}

int lethe_evidence_read(char **data, size_t *len, lethe_evidence *ev,
			const char *commit_oid, const char *path)
{
	git_oid id;
	int rc = file_oid(&id, ev, commit_oid, path);

	return rc ? rc : blob_bytes(data, len, ev, &id, path, commit_oid);
}

int lethe_evidence_file_id(char blob_oid[41], lethe_evidence *ev, const char *commit_oid,
			   const char *path)
{
	git_oid id;
	int rc = file_oid(&id, ev, commit_oid, path);

	if (rc == 0)
		git_oid_tostr(blob_oid, 41, &id);
	return rc;
}

int lethe_evidence_read_blob(char **data, size_t *len, lethe_evidence *ev, const char *blob_oid)
{
	git_oid id;

	if (!blob_oid || strlen(blob_oid) != 40 || git_oid_fromstr(&id, blob_oid) < 0)
		return lethe_error_set(LETHE_EDATA, "'%s' is not a blob id", blob_oid ? blob_oid : "");
	return blob_bytes(data, len, ev, &id, blob_oid, ev->dir);
}

typedef struct {
	int (*cb)(void *ctx, const char *what);
	void *ctx;
	int rc;
} substitution_walk;

static int one_replace_ref(const char *name, void *payload)
{
	substitution_walk *w = payload;

	w->rc = w->cb(w->ctx, name);
	return w->rc ? -1 : 0;
}

/* git reads these files of the git directory to show other parents than a
 * commit has (grafts; shallow marks commits as roots). */
static const char *const graft_files[] = { "info/grafts", "shallow" };

int lethe_evidence_substitutions(lethe_evidence *ev, int (*cb)(void *ctx, const char *what),
				 void *ctx)
{
	substitution_walk w = { cb, ctx, 0 };
	const char *gitdir = git_repository_path(ev->repo);
	int g;

	g = git_reference_foreach_glob(ev->repo, "refs/replace/*", one_replace_ref, &w);
	if (w.rc)
		return w.rc;
	if (g < 0 && g != GIT_ENOTFOUND)
		return lethe_evidence_git_fail(LETHE_EIO, "cannot list the references of '%s'", ev->dir);
	for (size_t i = 0; i < sizeof(graft_files) / sizeof(graft_files[0]); i++) {
		char *path = NULL;
		int rc;

		if (asprintf(&path, "%s%s", gitdir, graft_files[i]) < 0)
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		/* present at all counts: git reads an empty shallow file as none,
		 * but a file an attacker placed is worth naming either way */
		rc = access(path, F_OK) == 0 ? cb(ctx, graft_files[i]) : 0;
		free(path);
		if (rc)
			return rc;
	}
	return 0;
}

typedef struct {
	const char *prefix;  /* the folder with its '/', or "" */
	int (*cb)(void *ctx, const char *path, const char *blob_oid);
	void *ctx;
	int rc;
} list_walk;

/*
 * git's tree order sorts a folder as if its name ended with '/', so a
 * pre-order walk yields full paths in byte order.
 */
static int list_one(const char *root, const git_tree_entry *e, void *payload)
{
	list_walk *w = payload;
	char hex[41], *path = NULL;

	if (git_tree_entry_type(e) != GIT_OBJECT_BLOB)
		return 0;
	git_oid_tostr(hex, sizeof(hex), git_tree_entry_id(e));
	if (asprintf(&path, "%s%s%s", w->prefix, root, git_tree_entry_name(e)) < 0) {
		w->rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		return -1;
	}
	w->rc = w->cb(w->ctx, path, hex);
	free(path);
	return w->rc ? -1 : 0;
}

int lethe_evidence_list(lethe_evidence *ev, const char *commit_oid, const char *folder,
			int (*cb)(void *ctx, const char *path, const char *blob_oid), void *ctx)
{
	git_commit *c = NULL;
	git_tree *t = NULL, *sub = NULL;
	git_tree_entry *e = NULL;
	list_walk w = { "", cb, ctx, 0 };
	char *prefix = NULL;
	int rc, g;

	if ((rc = lethe_evidence_lookup_commit(&c, ev, commit_oid)) != 0)
		goto out;
	if (git_commit_tree(&t, c) < 0) {
		rc = lethe_evidence_git_fail(LETHE_EDATA, "cannot read the tree of %s", commit_oid);
		goto out;
	}
	if (folder && *folder) {
		size_t fl = strlen(folder);

		g = git_tree_entry_bypath(&e, t, folder);
		if (g == GIT_ENOTFOUND || (g == 0 && git_tree_entry_type(e) != GIT_OBJECT_TREE)) {
			rc = lethe_error_set(LETHE_ENOTFOUND, "no folder '%s' in evidence commit %s",
					     folder, commit_oid);
			goto out;
		}
		if (g < 0 || git_tree_lookup(&sub, ev->repo, git_tree_entry_id(e)) < 0) {
			rc = lethe_evidence_git_fail(LETHE_EDATA, "cannot read '%s' of %s", folder,
						     commit_oid);
			goto out;
		}
		if (asprintf(&prefix, "%s%s", folder, folder[fl - 1] == '/' ? "" : "/") < 0) {
			rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
			goto out;
		}
		w.prefix = prefix;
	}
	g = git_tree_walk(sub ? sub : t, GIT_TREEWALK_PRE, list_one, &w);
	if (w.rc)
		rc = w.rc;
	else if (g < 0)
		rc = lethe_evidence_git_fail(LETHE_EDATA, "cannot list evidence commit %s",
					     commit_oid);
out:
	free(prefix);
	git_tree_free(sub);
	git_tree_entry_free(e);
	git_tree_free(t);
	git_commit_free(c);
	return rc;
}

/* The remote's main: 0 and *found = 1 with its id, or *found = 0. */
static int remote_main(git_oid *out, int *found, lethe_evidence *ev, const char *url)
{
	git_remote *r = NULL;
	const git_remote_head **heads = NULL;
	size_t n = 0;
	int rc = 0;

	*found = 0;
	if (lethe_evidence_remote(&r, ev, url) < 0 ||
	    git_remote_connect(r, GIT_DIRECTION_FETCH, NULL, NULL, NULL) < 0 ||
	    git_remote_ls(&heads, &n, r) < 0) {
		rc = lethe_evidence_git_fail(LETHE_EIO, "cannot read the evidence remote '%s'", url);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (!strcmp(heads[i]->name, LETHE_EVIDENCE_MAIN)) {
			git_oid_cpy(out, &heads[i]->oid);
			*found = 1;
		}
out:
	git_remote_free(r);
	return rc;
}

int lethe_evidence_remote_head(char out_oid[41], int *found, lethe_evidence *ev,
			       const char *remote_url)
{
	git_oid oid;
	int rc = remote_main(&oid, found, ev, remote_url);

	if (rc == 0 && *found)
		git_oid_tostr(out_oid, 41, &oid);
	return rc;
}

int lethe_evidence_unpushed(int64_t *count, lethe_evidence *ev, const char *remote_url)
{
	git_oid local, remote, *ids = NULL;
	git_odb *odb = NULL;
	size_t ahead = 0, behind = 0, n = 0;
	int found, rc;

	if ((rc = remote_main(&remote, &found, ev, remote_url)) != 0)
		return rc;
	rc = main_id(&local, ev);
	if (rc == LETHE_ENOTFOUND) {
		*count = 0;
		return 0;
	}
	if (rc)
		return rc;
	if (!found) {
		if ((rc = first_parents(&ids, &n, ev)) == 0)
			*count = (int64_t)n;
		free(ids);
		return rc;
	}
	if (git_repository_odb(&odb, ev->repo) < 0) {
		rc = lethe_evidence_git_fail(LETHE_EIO, "cannot open the objects of '%s'", ev->dir);
		goto out;
	}
	if (!git_odb_exists(odb, &remote)) {
		rc = lethe_error_set(LETHE_EDATA,
				     "the main of evidence remote '%s' has commits not in '%s'",
				     remote_url, ev->dir);
		goto out;
	}
	if (git_graph_ahead_behind(&ahead, &behind, ev->repo, &local, &remote) < 0) {
		rc = lethe_evidence_git_fail(LETHE_EIO, "cannot compare main with '%s'", remote_url);
		goto out;
	}
	*count = (int64_t)ahead;
out:
	git_odb_free(odb);
	return rc;
}
