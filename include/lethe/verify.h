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
} lethe_verify_report;

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
 * An empty repository verifies with 0 commits.
 */
int lethe_verify(lethe_verify_report *out, const char *repository,
		 const char *allowed_signers_path);

#ifdef __cplusplus
}
#endif
#endif
