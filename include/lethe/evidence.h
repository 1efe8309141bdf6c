/*
 * lethe/evidence.h - the evidence store: a bare git repository whose
 * refs/heads/main is a linear history of commits signed with lethe's SSH key
 * (gpg.format=ssh, so stock `git verify-commit` checks them).
 *
 * Invariants:
 *  - Only enforcer/evidence*.c include git2.h: every other module (the
 *    auditor's verifier among them) reads the store through this header.
 *  - Every commit written here is signed (namespace "git"), has the current
 *    main as its only parent (none for the first), author and committer
 *    "Lethe" <signing key's comment>, and moves main by compare-and-swap: a
 *    main that moved since it was read gives LETHE_ETEMPFAIL and main is left
 *    as the other writer set it (the new commit object stays unreferenced).
 *  - Object ids are 40 lowercase hex digits (SHA-1 repositories).
 *  - A lethe_evidence handle is used by one thread at a time (libgit2's rule);
 *    each open handle holds one git_libgit2_init, released by _free.
 */
#ifndef LETHE_EVIDENCE_H
#define LETHE_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>
#include "lethe/sshkey.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lethe_evidence lethe_evidence;

/*
 * Create a new, empty bare repository at dir (parent folders made as needed)
 * with HEAD on refs/heads/main. An existing repository is refused:
 * LETHE_ECANTCREAT.
 */
int lethe_evidence_create(const char *dir);

/*
 * Open the repository at dir (no search in parent folders), whoever owns
 * it. LETHE_ENOINPUT when dir is missing, LETHE_EDATA "'dir' is not a git
 * repository: LIBGIT2'S MESSAGE". *out owned by the caller:
 * lethe_evidence_free.
 */
int lethe_evidence_open(lethe_evidence **out, const char *dir);
void lethe_evidence_free(lethe_evidence *ev);

/*
 * Before writing to the repository at dir: 0 when the effective user owns
 * it, else LETHE_ENOPERM naming the owner and how to run as the owner (a
 * write by another user, root included, would leave objects the owner
 * cannot change). LETHE_ENOINPUT when dir is missing.
 */
int lethe_evidence_check_owner(const char *dir);

/*
 * One change of a commit's tree. data != NULL: add or replace the file at
 * path (nested paths like "runs/000001/manifest.json" make their folders).
 * remove != 0: remove the file or the whole folder at path (nothing to remove
 * is fine). Paths are relative, '/'-separated, without empty, "." or ".."
 * components and without ".git".
 */
typedef struct {
	const char *path;
	const void *data;
	size_t len;
	int remove;
	/* Instead of data, optionally: the content written piece by piece
	 * through write(), so a large file (a rule's digests) is never whole in
	 * memory. Returns 0 or a LETHE_E* code. len is then the exact number
	 * of bytes it writes, or 0 when not known beforehand (slower: the
	 * stream is kept in a temporary file first); a stream that writes
	 * another number of bytes than a nonzero len fails the commit. */
	int (*stream)(void *ctx, int (*write)(void *wctx, const void *buf, size_t len), void *wctx);
	void *stream_ctx;
	/* Instead of data or a stream, optionally: the id (40 hex digits) of a
	 * blob already in the repository (lethe_evidence_write_blob); the
	 * commit fails when the repository lacks it. */
	const char *blob;
} lethe_evidence_change;

/*
 * Write a blob of exactly len bytes (len > 0) from stream into the
 * repository's object database, before any commit names it; out_oid: its
 * id, for lethe_evidence_change.blob. A blob no commit names is harmless
 * (git gc prunes it). LETHE_EIO for a git failure or a stream that wrote
 * another number of bytes.
 */
int lethe_evidence_write_blob(char out_oid[41], lethe_evidence *ev, size_t len,
			      int (*stream)(void *ctx, int (*write)(void *wctx, const void *buf,
								    size_t len),
					    void *wctx),
			      void *ctx);

/*
 * A new signed commit on main: its tree is main's tree (empty when main does
 * not exist yet) with every removal applied first, then every addition.
 * message gets a final "\n" when it lacks one. out_oid: the new commit.
 * LETHE_ETEMPFAIL "evidence repository changed during the run" when main moved
 * meanwhile; LETHE_EUSAGE for a bad path; LETHE_EIO for a git failure.
 */
int lethe_evidence_commit(char out_oid[41], lethe_evidence *ev,
			  const lethe_sshkey *key,
			  const lethe_evidence_change *changes, size_t n,
			  const char *message);

/* --- reading ---------------------------------------------------------------- */

/* The commit main points to; LETHE_ENOTFOUND when the repository is empty. */
int lethe_evidence_head(char out_oid[41], lethe_evidence *ev);

/* The repository's absolute path as libgit2 resolved it (owned by ev):
 * what the register's remembered head is keyed by. */
const char *lethe_evidence_path(const lethe_evidence *ev);

/* *yes = 1 when main is `commit` (40 hex digits) or has it in its history;
 * 0 when not, when main is absent, or when the repository lacks the commit. */
int lethe_evidence_reaches(int *yes, lethe_evidence *ev, const char *commit);

/* One commit as the verifier needs it. Every pointer is owned by the walk
 * and valid only during the callback. */
typedef struct {
	char oid[41];
	size_t parent_count;
	char parent[41];          /* the first parent; "" when none */
	char tree[41];
	const char *author_name, *author_email;
	int64_t author_time;      /* unix seconds */
	int author_offset;        /* minutes east of UTC */
	const char *committer_name, *committer_email;
	int64_t committer_time;
	int committer_offset;
	const char *message;      /* the full message, as stored */
	const char *signature;    /* the gpgsig armour; NULL when unsigned */
	size_t signature_len;
	const char *signed_data;  /* the commit without its gpgsig header; NULL when unsigned */
	size_t signed_len;
} lethe_evidence_commit_info;

/*
 * Call cb for every commit of main from the first to main itself, following
 * first parents. Only the ids are collected up front; each commit is loaded
 * for its callback. A non-zero cb return stops the walk and is returned.
 * An empty repository calls nothing and returns 0.
 */
int lethe_evidence_walk(lethe_evidence *ev,
			int (*cb)(void *ctx, const lethe_evidence_commit_info *c),
			void *ctx);

/*
 * The ids of the commits lethe_evidence_walk would visit, in its order:
 * *ids (malloc'd, caller frees) holds count NUL-terminated 40-hex ids, the
 * i-th at *ids + 41 * i. An empty repository gives count 0 and NULL.
 */
int lethe_evidence_history(char **ids, size_t *count, lethe_evidence *ev);

/* The same commits newest first, as the walk from main finds them:
 * found(ctx, oid) for each (a non-zero return stops the walk and is
 * returned), so a caller can start on them before the walk is over. */
int lethe_evidence_first_parents(lethe_evidence *ev, int (*found)(void *ctx, const char *oid),
				 void *ctx);

/* cb for the one commit commit_oid, as lethe_evidence_walk calls it. */
int lethe_evidence_visit(lethe_evidence *ev, const char *commit_oid,
			 int (*cb)(void *ctx, const lethe_evidence_commit_info *c), void *ctx);

/*
 * What makes stock git show other objects or parents than the ones stored
 * under their ids: cb(ctx, what) for every replace ref (what is its name,
 * "refs/replace/ID") and for the graft files "info/grafts" and "shallow" when
 * present. This library reads none of them (objects are read by id, hashes
 * checked). A non-zero cb return stops and is returned.
 */
int lethe_evidence_substitutions(lethe_evidence *ev, int (*cb)(void *ctx, const char *what),
				 void *ctx);

/*
 * The file at path in commit commit_oid: *data malloc'd (caller frees, with a
 * terminating NUL not counted in *len). LETHE_ENOTFOUND when there is no
 * such file; LETHE_EDATA when commit_oid is not a commit of this repository.
 */
int lethe_evidence_read(char **data, size_t *len, lethe_evidence *ev,
			const char *commit_oid, const char *path);

/*
 * The blob id (40 hex digits) of the file at path in commit commit_oid:
 * LETHE_ENOTFOUND when there is no such file, LETHE_EDATA as
 * lethe_evidence_read. Equal ids mean equal bytes, so a caller that hashed
 * one blob need not read it again.
 */
int lethe_evidence_file_id(char blob_oid[41], lethe_evidence *ev, const char *commit_oid,
			   const char *path);

/* The blob blob_oid: *data malloc'd as by lethe_evidence_read; LETHE_EDATA
 * when it is not a blob of this repository. */
int lethe_evidence_read_blob(char **data, size_t *len, lethe_evidence *ev,
			     const char *blob_oid);

/*
 * Call cb(ctx, path, blob_oid) for every file under folder ("" for all) in
 * commit commit_oid, recursively, in byte order of path (paths are full,
 * from the root). A non-zero cb return stops and is returned.
 * LETHE_ENOTFOUND when folder does not exist.
 */
int lethe_evidence_list(lethe_evidence *ev, const char *commit_oid,
			const char *folder,
			int (*cb)(void *ctx, const char *path, const char *blob_oid),
			void *ctx);

/* --- replication ------------------------------------------------------------ */

/* What commit new_oid changed against old_oid (NULL or "": the empty tree):
 * one call per file with 'A' added, 'M' modified or 'D' deleted, in path
 * order, with the file's blob id (the new one; for 'D' the old one). Only
 * folders whose ids differ are read. A non-zero return from cb stops the
 * walk and is returned. */
int lethe_evidence_diff(lethe_evidence *ev, const char *old_oid, const char *new_oid,
			int (*cb)(void *ctx, char status, const char *path, const char *blob_oid),
			void *ctx);

/* The same between two trees (old_tree NULL or "": the empty tree), for a
 * caller that has the commits' tree ids already. A diff keeps the trees it
 * read on its new side until the next diff on ev, which reads them from
 * there (comparing each commit with its parent reads each folder once). */
int lethe_evidence_diff_trees(lethe_evidence *ev, const char *old_tree, const char *new_tree,
			      int (*cb)(void *ctx, char status, const char *path,
					const char *blob_oid),
			      void *ctx);

/* lethe_evidence_file_id for the tree tree_oid (a commit's tree): the blob
 * id of the file at path, LETHE_ENOTFOUND when there is none, found through
 * the trees the last diff kept where it can. */
int lethe_evidence_tree_file_id(char blob_oid[41], lethe_evidence *ev, const char *tree_oid,
				const char *path);

/*
 * Push refs/heads/main to remote_url (a path or URL, without a configured
 * remote; url.*.insteadOf of the repository config is not applied).
 * LETHE_EIO on failure with the reason in *why (malloc'd, caller
 * frees; NULL on success) and in the last error. No credentials are
 * offered: local paths and file:// URLs work, a remote that asks for
 * authentication fails with LETHE_EIO.
 */
int lethe_evidence_push(lethe_evidence *ev, const char *remote_url, char **why);

/*
 * The number of commits on main that the remote's main does not have (all of
 * them when the remote has no main). LETHE_EIO when the remote cannot be
 * read; LETHE_EDATA when the remote's main is not known locally (it has
 * commits this repository lacks).
 */
int lethe_evidence_unpushed(int64_t *count, lethe_evidence *ev, const char *remote_url);

/* The remote's main (*found 0 when it has none); LETHE_EIO when the remote
 * cannot be read. */
int lethe_evidence_remote_head(char out_oid[41], int *found, lethe_evidence *ev,
			       const char *remote_url);

/* --- raw objects (proofs) ------------------------------------------------- */

/*
 * A scratch repository that holds only the objects put into it (a proof's,
 * lethe/proof.h), in a new folder of $TMPDIR (else /tmp) that
 * lethe_evidence_free removes: every reader above works on it, and a file
 * whose commit, trees or blob are missing is simply not there. *out as
 * lethe_evidence_open.
 */
int lethe_evidence_open_memory(lethe_evidence **out);

/* Store an object of type "commit", "tree" or "blob" with these bytes (its
 * content, without git's header): its id, which git computes from the
 * bytes, goes into oid. LETHE_EUSAGE for another type. */
int lethe_evidence_object_put(char oid[41], lethe_evidence *ev, const char *type,
			      const void *data, size_t len);

/*
 * cb(ctx, oid, type, data, len) for every object a reader needs to reach the
 * file at path from commit commit_oid: the commit, its root tree, each
 * folder's tree on the way, and the file's blob, in that order (data valid
 * during the call only). LETHE_ENOTFOUND when there is no such file.
 */
int lethe_evidence_path_objects(lethe_evidence *ev, const char *commit_oid, const char *path,
				int (*cb)(void *ctx, const char *oid, const char *type,
					  const void *data, size_t len),
				void *ctx);

/* The unified diff (2 lines of context) of the file old_path in old_commit
 * against new_path in new_commit, as git prints it; either side NULL (or
 * a file that is not there) is an empty file. *out malloc'd, caller frees;
 * "" when they are equal. */
int lethe_evidence_patch(char **out, lethe_evidence *ev, const char *old_commit,
			 const char *old_path, const char *new_commit, const char *new_path);

#ifdef __cplusplus
}
#endif
#endif
