/*
 * verify_impl.h - state shared by verify.c (commits, signatures, the
 * records/ folder) and verify_record.c (one record's JSON and its files).
 *
 * Invariants:
 *  - recs holds the records/ listing of the last good commit, in path order
 *    (which is sequence order: the numbers are zero-padded to 8 digits).
 *  - intents holds every intent record seen, in sequence order.
 */
#ifndef LETHE_VERIFY_IMPL_H
#define LETHE_VERIFY_IMPL_H

#include <stdint.h>
#include "lethe/evidence.h"
#include "lethe/sshkey.h"
#include "lethe/verify.h"

typedef struct {
	char *path;
	char blob[41];
} verify_rec;

typedef struct {
	char run_id[33];
	int64_t seq;
	int64_t closed_by;  /* seq of its completion or abort; 0 while open */
} verify_intent;

typedef struct {
	lethe_evidence *ev;
	const lethe_allowed_signers *signers;
	lethe_verify_report *rep;
	const lethe_evidence_commit_info *c;  /* the commit being checked */
	int have_prev;
	char prev_oid[41];
	int64_t prev_time;
	verify_rec *recs;
	size_t nrecs, caprecs;
	size_t listed;         /* records/ entries seen in the current listing */
	verify_rec added;      /* the one new record of the current commit */
	verify_intent *intents;
	size_t nintents, capintents;
	/* Where a record's listed files come from: NULL is the commit in ev
	 * (lethe_verify); the fuzz harness of tests/fuzz/ supplies its own, as
	 * it has records without a repository. Same contract as
	 * lethe_evidence_read. */
	int (*read)(char **data, size_t *len, void *ctx, const char *path);
	void *read_ctx;
} verify_state;

/* Fill the report's reason with "commit ABBREV: " + fmt; returns LETHE_EVERIFY. */
int verify_fail(verify_state *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Check the record at path (records/NNNNNNNN-KIND.json) of the current
 * commit: its JSON, the files it lists, the run it belongs to. */
int verify_record(verify_state *s, const char *path, int64_t seq, const char *kind);

/* The same on the record's bytes (data need not be NUL-terminated), for the
 * fuzz harness; s->c must be set (its oid names the commit in reasons). */
int verify_record_bytes(verify_state *s, const char *path, int64_t seq, const char *kind,
			const char *data, size_t len);

#endif
