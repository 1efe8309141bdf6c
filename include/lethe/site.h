/*
 * lethe/site.h - a site: one register with its policy, keys and evidence,
 * and the protocol every recording command follows on it. Run, erase,
 * replay, holds and the access export are calls on an open site; there is
 * no other public way to dispose of rows, so nothing is disposed of
 * without its evidence (docs/design.md, "Running").
 *
 * Opening a site for writing (LETHE_SITE_WRITE), in this order, each step
 * refusing before anything is written:
 *  0. checks that the effective user owns the evidence repository
 *     (lethe_evidence_check_owner: LETHE_ENOPERM naming the owner);
 *  1. takes the database lock (lethe/lock.h: LETHE_ETEMPFAIL while another
 *     run holds it);
 *  2. checks that pseudonym_key, evidence.repository and evidence.signing_key
 *     are configured (LETHE_ECONFIG) and that the database and its folder can
 *     be written (LETHE_ENOPERM);
 *  3. loads the keys and opens the evidence repository;
 *  4. checks the evidence head: main must reach what evidence.remote has and
 *     what the register remembers (lethe/evidence_tip.h; LETHE_EVERIFY);
 *  5. with LETHE_SITE_CLOCK, checks the system clock against the evidence
 *     (lethe/clockguard.h; LETHE_ECLOCK);
 *  6. recovers an interrupted run (lethe/runlog.h), reported by
 *     lethe_site_recovered.
 * A site opened with LETHE_SITE_KEYS only does steps 2 (without the
 * writable check) and 3: it reads the evidence and records an access
 * export, nothing else. A site opened with neither flag holds only the
 * register: run and erase on it are dry runs.
 *
 * Invariants:
 *  - A site not opened with LETHE_SITE_WRITE changes nothing in the
 *    register: run, erase and replay on it compute what would be done.
 *  - Every disposal through a writing site has its intent recorded before
 *    its first batch, a marker in each batch's transaction, and a
 *    completion after (or a recovery by the next opening).
 *  - Nothing here prints. Warnings (residue not removed, a push that
 *    failed, a replay subject skipped) are returned as lines in a
 *    lethe_warnings the caller owns; errors are codes with lethe_error_set.
 *
 * Ownership and life cycle: cfg, policy and be are borrowed (loaded and
 * checked by the caller, e.g. the CLI's cli_register_open, with be opened
 * read-write for LETHE_SITE_WRITE) and must outlive the site. The site owns
 * the lock, the keys and the evidence handle; lethe_site_free releases them
 * (the lock last). Results (plans, warnings, access results) belong to the
 * caller.
 */
#ifndef LETHE_SITE_H
#define LETHE_SITE_H

#include <stdint.h>
#include "access.h"
#include "backend.h"
#include "config.h"
#include "evidence.h"
#include "plan.h"
#include "policy.h"
#include "replay.h"
#include "runlog.h"
#include "subject.h"

struct json_t;
struct lethe_planfile;

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lethe_site lethe_site;

enum {
	LETHE_SITE_KEYS = 1 << 0,  /* load the keys, open the evidence (read) */
	LETHE_SITE_WRITE = 1 << 1, /* the whole protocol above; implies KEYS */
	LETHE_SITE_CLOCK = 1 << 2  /* with WRITE: check the clock (for runs) */
};

/* Open a site (see the steps above). *out is written only on success and
 * owned by the caller (lethe_site_free). */
int lethe_site_open(lethe_site **out, const lethe_config *cfg, const lethe_policy *policy,
		    lethe_backend *be, unsigned flags);

/* Release everything the site owns; accepts NULL. */
void lethe_site_free(lethe_site *site);

/* What the opening found of an interrupted run (LETHE_RECOVER_NOTHING for
 * sites not opened for writing). */
lethe_recovery lethe_site_recovered(const lethe_site *site);

/* The opened evidence (NULL without LETHE_SITE_KEYS); owned by the site. */
lethe_evidence *lethe_site_evidence(const lethe_site *site);

typedef struct {
	lethe_day as_of;
	int64_t max_rows_per_rule;   /* < 0: the configuration's; 0: no cap */
	/* Called after each batch: rows disposed so far, of total due. */
	void (*progress)(void *ctx, int64_t done, int64_t total);
	void *progress_ctx;
	/* Called (with progress_ctx) when the run moves on after the disposal
	 * and its clean-up: "signing" (the completion record), "pushing" (to
	 * evidence.remote). NULL: not told. */
	void (*phase)(void *ctx, const char *phase);
	/* run --plan: dispose of exactly the rows this signed plan names that
	 * are still due (lethe/planfile.h), as of its as-of; NULL: none. Needs
	 * LETHE_SITE_KEYS (its digests are keyed). */
	struct lethe_planfile *plan;
} lethe_site_run_options;

/*
 * Dispose of what is due at opts->as_of (a dry run on a site not opened for
 * writing), recorded as a run: intent, batches, completion, then a push to
 * evidence.remote (a failed push is a warning: the next run pushes again).
 * *result gets the counts (owned by the caller, lethe_plan_free; `due` is
 * what was disposed), also after a failure once the disposal started;
 * *warnings gets what needs attention (owned by the caller).
 */
int lethe_site_run(lethe_plan **result, lethe_warnings *warnings, lethe_site *site,
		   const lethe_site_run_options *opts);

/*
 * One data subject's erasure: every rule's on_erasure action on the
 * subject's rows at as_of, whatever their clocks. On a writing site the
 * subject's contact values join the suppression list first (as tokens, in
 * a transaction of their own) and the disposal is recorded as an erasure
 * (the subject's digest, its contact digest, and replay_of when > 0: the
 * seq of the original erasure's intent that `replay` applies again).
 * *done and *warnings as for lethe_site_run.
 */
int lethe_site_erase(lethe_plan **done, lethe_warnings *warnings, lethe_site *site,
		     const lethe_subject *subject, lethe_day as_of, int64_t replay_of);

/* What replay found for one subject an erasure of the evidence names. */
typedef struct {
	const lethe_replay_match *match;  /* the subject and its erasure */
	const lethe_plan *plan;           /* rows erased again (or due, dry run);
					     NULL when skipped */
	int skipped;                      /* the key now belongs to another person */
} lethe_site_replayed;

/*
 * Erase again, after a restore, every subject an erasure of the evidence
 * names whose rows came back (lethe/replay.h): for each subject with
 * something due, in the subject table's order, the erasure is applied as
 * lethe_site_erase does (with replay_of) and `each` is called with it and
 * that subject's warnings (borrowed for the call), or with skipped set and
 * a warning saying why when the key now belongs to another person.
 * Subjects with nothing due are passed over. Needs LETHE_SITE_KEYS; a dry
 * run without LETHE_SITE_WRITE. *erasures gets the number of erasures of
 * the evidence, *found the number of their subjects in the register. A
 * negative return of `each` stops the replay with that code.
 */
int lethe_site_replay(size_t *erasures, size_t *found, lethe_site *site, lethe_day as_of,
		      int (*each)(void *ctx, const lethe_site_replayed *r, const lethe_warnings *w),
		      void *ctx);

/* What a run did with one open erasure (lethe/backend.h). */
typedef struct {
	int64_t erasure;          /* the seq of the erasure's intent */
	const char *since;        /* the day the erasure was made */
	const lethe_plan *plan;   /* the rows disposed of now (due, on a dry run);
				     NULL when skipped */
	int skipped;              /* not the person erased: left for a person */
	int open;                 /* rows are still held: the erasure stays open */
} lethe_site_finished;

/*
 * Finish the erasures that kept rows under a legal hold or while a rule's
 * keep_while held (lethe_site_erase keeps the register of them): for each,
 * when rows of its subject became due under the erasure's scope, the erasure
 * is applied to them as lethe_site_erase does, recorded with `completes`
 * (the first erasure's intent seq), and `each` is called with what was
 * disposed of and the warnings (borrowed for the call); when the subject's
 * contact values are no longer those erased, `each` is called with skipped
 * set and a warning; an erasure of which nothing is held any more is
 * forgotten. Without LETHE_SITE_WRITE nothing is written and `plan` is what
 * would be disposed of. *open gets the number of erasures still open. A
 * negative return of `each` stops with that code.
 */
int lethe_site_finish_erasures(size_t *open, lethe_site *site, lethe_day as_of,
			       int (*each)(void *ctx, const lethe_site_finished *f,
					   const lethe_warnings *w),
			       void *ctx);

/* A legal hold to add: a subject (by its key as typed) or a rule, with an
 * optional --where filter of that rule's rows. Texts are borrowed. */
typedef struct {
	const char *reason;     /* required, non-empty */
	const char *subject;    /* a key of the policy's subject, or NULL */
	const char *rule;       /* a rule name, or NULL (exactly one of the two) */
	const char *where;      /* with rule only, or NULL */
	const char *until;      /* "YYYY-MM-DD", or NULL */
} lethe_site_hold;

/*
 * Add a hold on a writing site: the register's row and the evidence record
 * (kind "hold": the subject's keyed digest, the rule, and keyed digests of
 * the reason and the filter, never their texts) in one transaction, so a
 * hold in force always has its record; then a push. LETHE_EDATA for an
 * unknown rule or a filter the rule's table rejects; LETHE_EUSAGE for a
 * malformed request (no reason, both or neither of subject and rule, a
 * filter without a rule, a bad until date); the subject's lookup errors of
 * lethe_subject_find. *id and *seq get the hold's id and the record's seq.
 */
int lethe_site_hold_add(int64_t *id, int64_t *seq, lethe_warnings *warnings, lethe_site *site,
			const lethe_site_hold *hold);

/* Who places or releases holds through this site (a person's principal,
 * e.g. their login or e-mail: 1 to 64 of A-Z a-z 0-9 . _ @ + -): recorded
 * as `by` in hold and release records and their commit subjects, and kept
 * in the register. NULL: nobody named (records of earlier versions).
 * LETHE_EUSAGE for a name outside that alphabet. */
int lethe_site_set_actor(lethe_site *site, const char *by);

/* Release hold id with a reason, as lethe_site_hold_add records (kind
 * "release"). LETHE_ENOTFOUND when no hold id is in force. */
int lethe_site_hold_release(int64_t *seq, lethe_warnings *warnings, lethe_site *site, int64_t id,
			    const char *reason);

/*
 * A data subject's access export to path (lethe/access.h) on a site with
 * LETHE_SITE_KEYS, recorded as kind "export" (the subject's digest, rows
 * per table, the archive's SHA-256), then pushed. A site not opened for
 * writing takes the database lock for the time of the export, so the
 * record never lands between a run's intent and its completion. An export
 * that could not be recorded is removed: then the code is returned and
 * *removed is 1. *out owned by the caller (lethe_access_result_free).
 */
int lethe_site_export(lethe_access_result **out, int *removed, lethe_warnings *warnings,
		      lethe_site *site, const lethe_subject *subject, lethe_day as_of,
		      const char *path);

/* --- signed plans (lethe/planfile.h) ------------------------------------------- */

/*
 * Write the signed plan of the site's policy at as_of to path, a new file
 * (an existing one is LETHE_ECANTCREAT), on a site with LETHE_SITE_KEYS:
 * signed with signer, an approver's own key, or the site's signing key when
 * NULL. *plan gets its JSON (the caller's).
 */
int lethe_site_plan_write(struct json_t **plan, lethe_site *site, lethe_day as_of,
			  const lethe_sshkey *signer, const char *path);

/*
 * Whether plan may be applied by a run at as_of on this site: signed by the
 * site's key or by an approver (LETHE_EVERIFY otherwise), for this database
 * and this policy set (LETHE_EDATA saying what changed), as of as_of, which
 * has not passed (LETHE_EDATA). lethe_site_run checks it; exposed so that a
 * dry run can say so too.
 */
int lethe_site_plan_check(lethe_site *site, const struct lethe_planfile *plan, lethe_day as_of);

/* --- approvals (lethe/approval.h) --------------------------------------------- */

/*
 * Record a person's approval of the site's policy set on a writing site:
 * approver_key is the approver's own key, which evidence.allowed_signers
 * must list on an approver line (namespaces="lethe-approval"); reason is
 * one line. *seq gets the record's seq, digest the policy digest approved.
 * LETHE_ECONFIG without evidence.allowed_signers; LETHE_ENOPERM when the
 * key is no approver; LETHE_EUSAGE for a bad reason.
 */
int lethe_site_approve(int64_t *seq, char digest[65], lethe_warnings *warnings, lethe_site *site,
		       const lethe_sshkey *approver_key, const char *reason);

/*
 * Whether the site's policy set is the one the newest approval of the
 * evidence approved, and that approval is signed by an approver that
 * evidence.allowed_signers lists. 0 with *seq the approval's seq;
 * LETHE_ECONFIG saying what changed (or that nothing was approved, or why
 * the approval is not valid) otherwise. Needs LETHE_SITE_KEYS.
 */
int lethe_site_approved(int64_t *seq, lethe_site *site);

/* --- the register of requests (GDPR 12(3)) ------------------------------------
 * Every access export and erasure on a site with keys is a request the
 * register (lethe_backend_request_put) records: received, deadline (one
 * month later), answered. Subjects by their keyed digest only. */

/* The deadline of a request received on `received`: the same day of the
 * next month, clamped to that month's end (2026-01-31 -> 2026-02-28). */
int lethe_request_deadline(lethe_day *out, lethe_day received);

/* The day the request the next lethe_site_erase or lethe_site_export
 * answers was received (not after its as_of; the caller checks). Without
 * it, the oldest open request of that kind for the subject, else as_of. */
void lethe_site_set_received(lethe_site *site, lethe_day received);

/* Register a request received but not yet answered ("access" or "erasure"),
 * on a site with LETHE_SITE_KEYS and a backend opened read-write. *id gets
 * its number. LETHE_EUSAGE for an unknown kind. */
int lethe_site_request_add(int64_t *id, lethe_site *site, const char *kind,
			   const lethe_subject *subject, lethe_day received);

/* Extend open request id's deadline to `until`, with a reason (kept in the
 * register only): later than its deadline and at most three months after
 * receipt (GDPR 12(3): two further months), else LETHE_EUSAGE;
 * LETHE_ENOTFOUND when there is no open request id. */
int lethe_site_request_extend(lethe_site *site, int64_t id, lethe_day until, const char *reason);

#ifdef __cplusplus
}
#endif
#endif
