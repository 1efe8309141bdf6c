/*
 * verify_impl.h - state shared by verify.c (commits, signatures, the
 * records/ folder) and verify_record.c (one record's JSON and its files).
 *
 * Invariants:
 *  - Each commit is compared with its parent only (lethe_evidence_diff): what
 *    it changed under records/ must be exactly one added record, so the work
 *    per commit does not grow with the history.
 *  - intents holds every intent record seen, in sequence order.
 *  - changed lists what the current commit did outside records/ and record
 *    is its accepted record (verify_record); both are released per commit.
 */
#ifndef LETHE_VERIFY_IMPL_H
#define LETHE_VERIFY_IMPL_H

#include <stdint.h>
#include "lethe/evidence.h"
#include "lethe/sshkey.h"
#include "lethe/verify.h"

typedef struct {
	char run_id[33];
	int64_t seq;
	int64_t closed_by;  /* seq of its completion or abort; 0 while open */
	char label[16];     /* what its commit subjects call the run: run, erasure, replay */
} verify_intent;

/* An approval record that passed (verify_approval.c). */
typedef struct {
	int64_t seq;
	char policy_digest[65];
} verify_approval;

/* One path the current commit changed outside records/. */
typedef struct {
	char status;        /* 'A' added, 'M' changed, 'D' removed */
	char *path;         /* owned */
	char blob[41];      /* its blob id (for 'D' the old one) */
} verify_change;

/* A blob id and the SHA-256 of its bytes (verify_cache.c). */
typedef struct {
	char oid[41];       /* "" in a free slot */
	char sha256[65];
} verify_hash_entry;

typedef struct {
	verify_hash_entry *v;  /* owned; cap slots, a power of two */
	size_t n, cap;
} verify_hashes;

struct json_t;

/* A file the record lists in `files`, found in the commit by the worker:
 * its blob id and the SHA-256 of its bytes (verify_pool.c). */
typedef struct {
	char *path;         /* owned */
	char blob[41];
	char sha256[65];
} verify_listed;

/* One commit as a worker prepared it (verify_pool.c); everything owned. */
typedef struct {
	int ready;                   /* handed over to verify.c */
	int visited;                 /* the commit's fields and signature are in */
	int rc;                      /* non-zero: preparing failed with why */
	char *why;
	lethe_evidence_commit_info info;  /* no signature or author fields */
	char *email, *message;       /* info's committer_email and message */
	int is_signed;
	int sig_rc;                  /* lethe_sshsig_verify's result ... */
	unsigned char signer[32];    /* ... its key when 0 ... */
	char *sig_why;               /* ... its reason when not */
	int diff_rc;                 /* non-zero: the diff failed with diff_why */
	char *diff_why;
	verify_change *changes;      /* the diff against the previous commit, in order */
	size_t nchanges, capchanges;
	int record_parsed;           /* the one record added was parsed: */
	struct json_t *record;       /* its JSON, or NULL with ... */
	char *record_error;          /* ... the parser's reason */
	verify_listed *listed;       /* the files it lists that were found in the commit */
	size_t nlisted, caplisted;
} verify_prepared;

typedef struct verify_pool verify_pool;

/* Start the workers on repository. While the walk from main runs, each
 * commit it finds (verify_pool_found, newest first) is visited ahead: its
 * fields and its signature check. Once the walk is over
 * (verify_pool_walked: *n commits) the workers prepare the commits oldest
 * first, the rest of the work. */
int verify_pool_start(verify_pool **out, const char *repository);

/* lethe_evidence_first_parents's callback, ctx the pool. */
int verify_pool_found(void *ctx, const char *oid);

int verify_pool_walked(verify_pool *p, size_t *n);

/* Commit i, once prepared (on this thread with ev when no worker could be
 * started); valid until verify_pool_done(p, i). */
verify_prepared *verify_pool_get(verify_pool *p, lethe_evidence *ev, size_t i);

/* verify.c is done with commits up to i: free them, let workers go on. */
void verify_pool_done(verify_pool *p, size_t i);

/* Stop and join the workers, free what is left. NULL is a no-op. */
void verify_pool_free(verify_pool *p);

/* Fill v for commit oid whose previous commit is prev (NULL: none), of
 * tree prev_tree when known (else it is read); hashes: the SHA-256 of
 * blobs this thread hashed before. */
void verify_prepare(lethe_evidence *ev, verify_hashes *hashes, const char *prev,
		    const char *prev_tree, const char *oid, verify_prepared *v);
void verify_prepared_free(verify_prepared *v);

typedef struct {
	lethe_evidence *ev;
	const lethe_allowed_signers *signers;
	lethe_verify_report *rep;
	const lethe_evidence_commit_info *c;  /* the commit being checked */
	const verify_prepared *p;  /* what the pool prepared for it (NULL: the fuzz harness) */
	int have_prev;
	char prev_oid[41];
	int64_t prev_time;
	int64_t nrecs;         /* records verified so far = the last seq */
	char *added;           /* the one new record of the current commit */
	char added_blob[41];   /* its blob id */
	verify_change *changed;  /* everything else it changed (owned, per commit) */
	size_t nchanged, capchanged;
	struct json_t *record; /* its record once verify_record accepted it (a reference) */
	verify_intent *intents;
	size_t nintents, capintents;
	const char *want_head;  /* a commit the walk must pass (--expect-head) or NULL */
	int saw_head;
	/* Where a record's listed files come from: NULL is the commit in ev
	 * (lethe_verify); the fuzz harness of tests/fuzz/ supplies its own, as
	 * it has records without a repository. Same contract as
	 * lethe_evidence_read. */
	int (*read)(char **data, size_t *len, void *ctx, const char *path);
	void *read_ctx;
	verify_hashes hashes;  /* SHA-256 by blob id, over the whole walk */
	verify_approval *approvals;  /* every approval record seen, in sequence order */
	size_t napprovals, capapprovals;
} verify_state;

/* The SHA-256 (64 hex digits) of the blob blob_oid if hashed before, or NULL. */
const char *verify_hash_get(const verify_hashes *t, const char *blob_oid);

/* Remember sha256 as the SHA-256 of blob_oid's bytes. */
int verify_hash_put(verify_hashes *t, const char *blob_oid, const char *sha256);

void verify_hash_free(verify_hashes *t);

/* The SHA-256 (64 hex digits) of blob blob_oid of ev: from t, or computed
 * from its bytes and remembered in t. */
int verify_blob_sha256(char hex[65], verify_hashes *t, lethe_evidence *ev, const char *blob_oid);

/* The file at path in the current commit (s->read's when set): its bytes
 * (malloc'd, NUL-terminated); rec names the record in reasons. */
int verify_file_read(verify_state *s, const char *rec, char **data, size_t *len,
		     const char *path);

/* Its SHA-256 (64 hex digits), computed from its bytes once per blob id. */
int verify_file_sha256(verify_state *s, const char *rec, char hex[65], const char *path);

/* Fill the report's reason with "commit ABBREV: " + fmt; returns LETHE_EVERIFY. */
int verify_fail(verify_state *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Check the record at path (records/NNNNNNNN-KIND.json) of the current
 * commit: its JSON, the files it lists, the run it belongs to. */
int verify_record(verify_state *s, const char *path, int64_t seq, const char *kind);

/* An approval record's fields (verify_approval.c): its policy digest
 * recomputed from `policy`, its approver's signature of the statement, and
 * the signer listed on an approver line for its principal at its time. */
int verify_approval_record(verify_state *s, const char *path, int64_t seq, struct json_t *rec);

/* An intent's optional `approval` (an earlier approval record of this
 * intent's policy digest) and `plan` (its shape and as-of). */
int verify_intent_approval(verify_state *s, const char *path, struct json_t *rec);

/* The intent with sequence number seq, or NULL. */
verify_intent *verify_find_intent(verify_state *s, int64_t seq);

/* After verify_record: what the commit changed besides its record is what the
 * record lists, inside its own run's folder or the policy snapshot; its
 * subject names the record; the record's times are not after the commit's
 * (verify_scope.c). */
int verify_scope(verify_state *s, const char *kind, int64_t seq);

/* The same on the record's bytes (data need not be NUL-terminated), for the
 * fuzz harness; s->c must be set (its oid names the commit in reasons). */
int verify_record_bytes(verify_state *s, const char *path, int64_t seq, const char *kind,
			const char *data, size_t len);

#endif
