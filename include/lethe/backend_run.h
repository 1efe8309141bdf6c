/*
 * lethe/backend_run.h - what a run keeps in the register itself, through the
 * storage interface (lethe/backend.h, which includes this header): the run
 * markers and their seal, the clean-up a disposal still owes, and the last
 * record written to the evidence. enforcer/backend/backend_run.c dispatches
 * them to the engine's operations.
 *
 * Invariants:
 *  - A marker is written in the same transaction as its batch, so the
 *    evidence can always be brought in line with what the register
 *    committed (docs/evidence-format.md, "The run protocol").
 *  - Markers hold run ids, rule names, counts and keyed digests: nothing
 *    that identifies a person without the key.
 */
#ifndef LETHE_BACKEND_RUN_H
#define LETHE_BACKEND_RUN_H

#include <stddef.h>
#include <stdint.h>
#include "backend.h"

/* --- run markers: what a run committed, kept in the register itself ------------
 * Written in the same transaction as a batch, so the evidence can always be
 * brought in line with what really happened (docs/evidence-format.md). */

/* Inside the open transaction: add `disposed` to (run_id, rule)'s count, one
 * to the run's batches, and store the batch's key digests: ndigests of
 * LETHE_DIGEST_BIN bytes each (lethe_record_row_digest_bin), sorted
 * ascending (memcmp's order), borrowed. Each engine keeps them in its own
 * form; lethe_backend_marker_digests gives them back as hex. */
int lethe_backend_mark(lethe_backend *be, const char *run_id, const char *rule,
		       int64_t disposed, const unsigned char *digests, size_t ndigests);

/* Whether a run left a marker, and its per-rule counts through cb. 0 with
 * *found set; cb may be NULL. */
int lethe_backend_marker(int *found, lethe_backend *be, const char *run_id,
			 int (*cb)(void *ctx, const char *rule, int64_t disposed), void *ctx);

/* A run's digests of one rule in ascending order, one call each. */
int lethe_backend_marker_digests(lethe_backend *be, const char *run_id, const char *rule,
				 int (*cb)(void *ctx, const char *digest), void *ctx);

/* A rule's digest file written ahead into the evidence (a blob no commit
 * names yet, lethe_evidence_write_blob): what the completion lists. */
typedef struct {
	const char *rule;       /* borrowed */
	char blob[41];          /* the blob's id, hex */
	char sha256[65];        /* of the file, hex */
	int64_t lines;          /* digests in it, one per line */
} lethe_marker_file;

/* Whether the backend can seal a run's digests (lethe_backend_marker_seal). */
int lethe_backend_marker_sealable(const lethe_backend *be);

/* In one transaction of its own: remember the files (their rules' digests
 * are in them) and drop the run's digests from the marker, so the residue
 * work that follows does not copy them. The counts stay. vacuum_follows:
 * the caller's residue work rewrites the whole file next, so the dropped
 * digests (the evidence's own lines, not disposed content) need not be
 * overwritten where they lay first. */
int lethe_backend_marker_seal(lethe_backend *be, const char *run_id, const lethe_marker_file *files,
			      size_t n, int vacuum_follows);

/* The file a seal remembered for (run_id, rule): *found 0 when none (the
 * digests are then lethe_backend_marker_digests'). Fills all of *out but
 * rule. */
int lethe_backend_marker_sealed(int *found, lethe_marker_file *out, lethe_backend *be,
				const char *run_id, const char *rule);

/* Forget a run's digests and counts once its completion is recorded ("*":
 * every run's). Its own transaction. */
int lethe_backend_marker_clear(lethe_backend *be, const char *run_id);

/* --- clean-up owed: residue work a disposal still needs -------------------------
 * Recorded in the register in the transaction of the first batch that
 * disposes of rows, forgotten only once the residue work (finalise) completed
 * (docs/disposal.md, "Clean-up owed"). */

/* Inside the open transaction: record that clean-up is owed (kept if it
 * already is, with its first time). */
int lethe_backend_cleanup_owe(lethe_backend *be);
/* *since: when clean-up became owed ("YYYY-MM-DDTHH:MM:SSZ", malloc'd, the
 * caller's), or NULL when nothing is owed. */
int lethe_backend_cleanup_owed(char **since, lethe_backend *be);
/* Forget that clean-up is owed. Its own transaction. */
int lethe_backend_cleanup_done(lethe_backend *be);

/* --- the evidence head: the last record Lethe wrote, kept outside the evidence --
 * A main behind it was reset, truncated or rewritten (lethe/evidence_tip.h). */

/* The head remembered for the evidence repository at `repository` (its
 * absolute path): *found 0 when none is (a register from before this was
 * kept, or nothing written there yet); else its seq and 40-hex commit. */
int lethe_backend_evidence_head(int *found, int64_t *seq, char commit[41], lethe_backend *be,
				const char *repository);
/* Remember seq and commit for `repository` (at: when, YYYY-MM-DDTHH:MM:SSZ).
 * Joins the open transaction if any, else commits by itself. */
int lethe_backend_evidence_head_set(lethe_backend *be, const char *repository, int64_t seq,
				    const char *commit, const char *at);

#endif
