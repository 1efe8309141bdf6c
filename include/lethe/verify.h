/*
 * lethe/verify.h - the auditor's verifier: checks an evidence repository
 * against docs/evidence-format.md, written from that document and not from
 * the writer's code, so that the writer is not trusted.
 *
 * Invariants:
 *  - Reads the repository only through lethe/evidence.h; never writes.
 *  - Stops at the first bad commit: everything before it holds.
 *  - The report owns no memory (fixed buffers), so it needs no _free.
 */
#ifndef LETHE_VERIFY_H
#define LETHE_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
	size_t commits;        /* commits that passed every check */
	size_t records;        /* records that passed every check */
	char bad_commit[41];   /* the first bad commit; "" when all holds */
	int64_t seq;           /* its record's sequence number; -1 when unknown */
	char reason[1024];     /* one lowercase line; "" when all holds */
	char head[41];         /* main's commit when every commit holds; "" otherwise */
	int64_t head_seq;      /* its record's sequence number; 0 otherwise */
} lethe_verify_report;

/* What the auditor saw before: a main that is behind it was truncated or
 * rolled back (docs/auditor-guide.md, "Detect a rollback"). */
typedef struct {
	int64_t at_least_seq;  /* main must reach this sequence number; 0 none */
	const char *head;      /* a commit id (or a prefix of at least 7 hex
				* digits) that must be on main's history; NULL none */
} lethe_verify_expect;

/*
 * Check every commit of repository's main from the first: signed, signature
 * valid (namespace "git"), signer allowed for the committer's e-mail at the
 * committer time by the allowed-signers file, history linear, committer time
 * not going backwards, exactly one new record per commit with contiguous
 * sequence numbers, nothing under records/ changed or removed, the record's
 * fields and the SHA-256 of every file it lists, digest files well-formed,
 * completions and aborts naming an earlier intent of the same run, at most
 * one per intent.
 *
 * Returns 0 when all holds; LETHE_EVERIFY on the first problem (*out filled
 * in, and the reason also in the last error); on any other code *out is not
 * written: LETHE_ENOINPUT (repository or allowed-signers file missing),
 * LETHE_EDATA (not a git repository, malformed allowed-signers file), LETHE_EIO.
 *
 * Before the walk, and failing with bad_commit "": the repository has no
 * replace ref (refs/replace/...), no info/grafts and no shallow file (stock
 * git would show other objects or parents than the signed ones; the reason
 * names them all), and it has a main. Per commit, besides the above: it
 * changes only files its record lists, inside its own run's folder or the
 * policy snapshot; its subject names its record; the record's time is not
 * later than the commit's.
 */
int lethe_verify(lethe_verify_report *out, const char *repository,
		 const char *allowed_signers_path);

/* lethe_verify, then the expectations (NULL: none): failing with bad_commit
 * "" when main ends before expect->at_least_seq or expect->head is not on
 * main's history. */
int lethe_verify_expecting(lethe_verify_report *out, const char *repository,
			   const char *allowed_signers_path, const lethe_verify_expect *expect);

#ifdef __cplusplus
}
#endif
#endif
