/*
 * evidence_impl.h - what evidence.c (writing, replication) and
 * evidence_read.c (reading) share: the handle and libgit2 error reporting.
 *
 * Invariants: only enforcer/evidence*.c include this header (and so git2.h).
 */
#ifndef LETHE_EVIDENCE_IMPL_H
#define LETHE_EVIDENCE_IMPL_H

#include <git2.h>
#include "lethe/evidence.h"

#define LETHE_EVIDENCE_MAIN "refs/heads/main"

struct lethe_evidence {
	git_repository *repo;
	char *dir;
	int64_t fixed_time;          /* 0: now */
	void (*hook)(void *ctx);     /* tests: before main moves */
	void *hook_ctx;
	char *scratch;               /* lethe_evidence_open_memory's folder, removed by _free */
	/* The trees the last lethe_evidence_diff read on its new side (one
	 * reference each, released by the next diff and by _free): the next
	 * commit's diff reads them again as its old side (evidence_diff.c). */
	struct lethe_kept_tree *kept;
	size_t nkept;
};

/* A tree kept from one diff to the next, and whether its entries are
 * stored in git's order (checked when it was read); looked: read by a path
 * lookup (lethe_evidence_tree_file_id), kept across diffs, a few at most. */
struct lethe_kept_tree {
	git_tree *tree;
	int in_order;
	int looked;
};

/* Release ev->kept (lethe_evidence_free). */
void lethe_evidence_forget_trees(lethe_evidence *ev);

/* Remove the folder at path and everything in it (a scratch repository). */
void lethe_evidence_remove_scratch(const char *path);

/* git_libgit2_init, with libssh2 started first without OpenSSL's engines
 * (evidence.c says why); paired with git_libgit2_shutdown as it is. */
int lethe_evidence_git_init(void);

/* Set the last error to "WHAT: <libgit2's message>" and return code. */
int lethe_evidence_git_fail(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A write into repo failed after libgit2 was asked to write size bytes (0:
 * a small object or a reference): set the last error to "cannot write
 * evidence to 'DIR': <the filesystem's reason> (WHAT)" when the filesystem
 * refuses such a write (evidence_why.c), else as lethe_evidence_git_fail.
 * Returns LETHE_EIO. */
int lethe_evidence_write_fail(git_repository *repo, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Parse a 40-hex commit id and look the commit up: LETHE_EDATA when it is
 * malformed or not a commit here. */
int lethe_evidence_lookup_commit(git_commit **out, lethe_evidence *ev, const char *hex);

/* A nameless remote for url on ev's repository. url.*.insteadOf is not
 * applied: libgit2 1.5 leaks pcre2 match data on every config glob (fixed
 * upstream in libgit2 PR #6382), and the evidence remote is configured in
 * lethe.yaml, not in the repository's config. */
int lethe_evidence_remote(git_remote **out, lethe_evidence *ev, const char *url);

#endif
