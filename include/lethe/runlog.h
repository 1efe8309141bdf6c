/*
 * lethe/runlog.h - the evidence records of a run (docs/evidence-format.md):
 * recovery of an interrupted run, the intent before the first batch, the
 * per-batch marker in the database, and the completion after the last.
 * The records' format (kinds, paths, fields, commit messages) is
 * lethe/record.h's; this module numbers, fills and commits them.
 *
 * Invariants:
 *  - Records are written through the evidence store only; this module never
 *    sees git. It writes nothing personal: counts, rule names, keyed digests.
 *  - The database marker is written in each batch's own transaction, so the
 *    evidence can always be completed from what the database really holds.
 *  - The environment's pointers are borrowed and must outlive the run log.
 *  - With env->be, every record is refused (LETHE_EVERIFY) when main does not
 *    reach the head the register remembers, and remembered after its commit
 *    (lethe/evidence_tip.h).
 *  - A rule's `action` in the records is the one the run applies: its
 *    on_erasure action when env->request is "erasure".
 */
#ifndef LETHE_RUNLOG_H
#define LETHE_RUNLOG_H

#include <stdint.h>
#include "backend.h"
#include "evidence.h"
#include "plan.h"
#include "policy.h"
#include "sshkey.h"
#include "token.h"

typedef struct {
	lethe_evidence *ev;
	const lethe_sshkey *signing_key;
	const lethe_token_key *digest_key;   /* the pseudonym key */
	lethe_backend *be;
	const lethe_policy *policy;
	const char *database;                /* the register's path, made absolute */
	const char *request;                 /* NULL for runs; "erasure" */
	const char *subject_digest;          /* keyed digest of the subject's key */
	const char *subject_contact;         /* keyed digest of the subject's contact
						values (lethe_subject_identity), or NULL */
	const char *received;                /* an erasure request's received day, or NULL */
	int64_t replay_of;                   /* > 0: `lethe replay` re-applies the erasure
						whose intent has this seq; 0 otherwise */
	int64_t completes;                   /* > 0: the run finishes the erasure whose
						intent has this seq (rows it kept while a
						condition held); 0 otherwise */
	const char *by;                      /* an erasure's or replay's principal, or NULL */
	int64_t approval_seq;                /* > 0: the approval record the run relies on */
	const char *plan_sha256;             /* run --plan: the plan file's SHA-256 ... */
	const char *plan_as_of;              /* ... and its as-of; NULL otherwise */
} lethe_runlog_env;

typedef struct lethe_runlog lethe_runlog;

typedef enum {
	LETHE_RECOVER_NOTHING = 0,  /* the last run ended cleanly */
	LETHE_RECOVER_COMPLETED,    /* an interrupted run's batches were recorded */
	LETHE_RECOVER_ABORTED       /* an interrupted run disposed nothing */
} lethe_recovery;

/* Bring the evidence in line with the database after an interrupted run,
 * and drop markers of runs already recorded. Run before planning. */
int lethe_runlog_recover(lethe_recovery *what, const lethe_runlog_env *env);

/* A run log for a run at as_of; nothing is recorded yet. */
int lethe_runlog_new(lethe_runlog **out, const lethe_runlog_env *env, lethe_day as_of);
void lethe_runlog_free(lethe_runlog *rl);
const char *lethe_runlog_id(const lethe_runlog *rl);
/* The seq of the run's intent once recorded, 0 before. */
int64_t lethe_runlog_intent_seq(const lethe_runlog *rl);

/* lethe_dispose_options.intent_hook and .batch_hook; ctx is the run log. */
int lethe_runlog_intent(void *ctx, const lethe_plan *plan);
int lethe_runlog_batch(void *ctx, const lethe_rule *rule, const lethe_value *keys,
		       const unsigned char *applied, size_t n, int64_t changed);
/* lethe_dispose_options.key_hook: the batch's keys are digested on another
 * thread as its statement changes their rows; lethe_runlog_batch then takes
 * those digests when they are for exactly the keys it is given. */
void lethe_runlog_batch_keys(void *ctx, const lethe_rule *rule, size_t most,
			     void (**on_key)(void *ctx, const lethe_value *key), void **on_key_ctx);
/* lethe_dispose_options.seal_hook: once the batches are done, each rule's
 * digest file is written into the evidence's objects ahead of the
 * completion and the marker keeps only the files' ids
 * (lethe_backend_marker_seal), so the residue work does not copy the
 * digests (vacuum_follows: lethe_backend_marker_seal). Nothing to do on a
 * backend that cannot seal. */
int lethe_runlog_seal(void *ctx, int vacuum_follows);

/* The completion: counts of the run, digest files, warnings; result
 * "failed" instead of "completed" when the run stopped at an error after its
 * intent (the counts are then what was disposed before it). Then the run's
 * marker is cleared. Without a recorded intent it records nothing. */
int lethe_runlog_complete(lethe_runlog *rl, const lethe_plan *result, const lethe_warnings *w,
			  int failed);

/* A record outside a run (kind "hold", "release" or "export"; any other is
 * refused with LETHE_ESOFTWARE): the common fields, then every field of
 * `fields` (borrowed; NULL for none; built with lethe/record.h's
 * lethe_record_hold, _release or _export), no other files, in a
 * commit of its own. Only env->ev, env->signing_key and, when not NULL,
 * env->be (the evidence head, lethe/evidence_tip.h) are used. Refused
 * with LETHE_ETEMPFAIL when the evidence ends with an intent that nothing
 * closed: the next run or erasure must recover it first (recovery looks at
 * the last record only). Callers hold the database lock, so no run is
 * between its intent and its completion meanwhile. The record's sequence
 * number goes into *seq when not NULL. */
struct json_t;
int lethe_runlog_record(int64_t *seq, const lethe_runlog_env *env, const char *kind,
			const struct json_t *fields);

#endif
