/*
 * site.c - a site (lethe/site.h): opening it, the protocol's order of
 * checks, and the two disposals, run and erase.
 *
 * Invariants:
 *  - Every check of the opening comes before the first write, and the
 *    recovery of an interrupted run is the first write.
 *  - lethe_dispose is called with the run log's intent and batch hooks on
 *    a writing site, and as a dry run on any other: this file is the only
 *    caller of lethe_dispose.
 *  - Warnings are returned, never printed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "dispose_impl.h"
#include "lethe/clockguard.h"
#include "lethe/error.h"
#include "lethe/evidence_tip.h"
#include "lethe/planfile.h"
#include "site_impl.h"
#include "util.h"

/* Whether the run can write the database: the file, and its folder, where
 * SQLite makes its rollback journal (and lethe its lock file). SQLite opens a
 * read-only file read-only without a word and fails at the first write, by
 * which time the run's intent is recorded; access(2) asks the kernel, which
 * also refuses root an immutable file or a read-only mount. */
static int writable(const char *database)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(database, '/');

	if (access(database, W_OK) != 0)
		return lethe_error_set(LETHE_ENOPERM, "database '%s' is read-only: %s", database,
				       strerror(errno));
	if (!slash)
		strcpy(dir, ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == database ? 1 : (int)(slash - database),
			 database);
	if (access(dir, W_OK | X_OK) != 0)
		return lethe_error_set(LETHE_ENOPERM, "folder '%s' of database '%s' is read-only: %s; "
				       "sqlite writes its journal there", dir, database, strerror(errno));
	return 0;
}

/* Steps 2 and 3 of the opening: configured, writable, keys, evidence. */
static int open_keys(lethe_site *s, int write)
{
	static const char *const names[] = { "pseudonym_key", "evidence.repository",
					     "evidence.signing_key" };
	const lethe_config *cfg = s->cfg;
	const char *values[] = { cfg->pseudonym_key, cfg->evidence_repository, cfg->signing_key };
	int rc;

	for (size_t i = 0; i < 3; i++)
		if (!values[i])
			return lethe_error_set(LETHE_ECONFIG, "'%s': '%s' is not configured; a run "
					       "records signed evidence (lethe init DIR makes a site)",
					       cfg->path, names[i]);
	/* a server's location is taken as written (its run lock is the backend's) */
	if (lethe_location_is_server(cfg->database))
		snprintf(s->database, sizeof(s->database), "%s", cfg->database);
	else if (!realpath(cfg->database, s->database))
		return lethe_error_set(LETHE_ENOINPUT, "cannot resolve '%s'", cfg->database);
	else if (write && (rc = writable(s->database)) < 0)
		return rc;

	if ((rc = lethe_token_key_load(&s->pseudonym_key, cfg->pseudonym_key)) < 0 ||
	    (rc = lethe_sshkey_load(&s->signing_key, cfg->signing_key)) < 0 ||
	    (rc = lethe_evidence_open(&s->ev, cfg->evidence_repository)) < 0)
		return rc;
	return 0;
}

/* Steps 4 to 6: a writer on a main reset behind what its remote has, or
 * behind the head the register remembers, would reuse the removed sequence
 * numbers; a clock behind the evidence would sign records its own verifier
 * rejects. Only then is an interrupted run recovered. */
static int open_write(lethe_site *s)
{
	lethe_runlog_env env = lethe_site_env(s);
	lethe_clock_reference ref;
	int rc;

	if (s->cfg->remote && (rc = lethe_evidence_tip_check_remote(s->ev, s->cfg->remote)) < 0)
		return rc;
	if ((rc = lethe_evidence_tip_check(s->ev, s->be)) < 0)
		return rc;
	if ((s->flags & LETHE_SITE_CLOCK) &&
	    ((rc = lethe_clock_reference_read(&ref, s->ev)) < 0 ||
	     (rc = lethe_clock_check(&ref, (int64_t)time(NULL), s->cfg->max_days_between_runs)) < 0))
		return rc;
	return lethe_runlog_recover(&s->recovered, &env);
}

int lethe_site_open(lethe_site **out, const lethe_config *cfg, const lethe_policy *policy,
		    lethe_backend *be, unsigned flags)
{
	lethe_site *s = calloc(1, sizeof(*s));
	int rc = 0;

	if (!s)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	if (flags & LETHE_SITE_WRITE)
		flags |= LETHE_SITE_KEYS;
	*s = (lethe_site){ .cfg = cfg, .policy = policy, .be = be, .flags = flags };
	/* before the lock: a refused writer leaves no file of its own behind */
	if ((flags & LETHE_SITE_WRITE) && cfg->evidence_repository &&
	    (rc = lethe_evidence_check_owner(cfg->evidence_repository)) < 0)
		goto fail;
	if ((flags & LETHE_SITE_WRITE) && !lethe_location_is_server(cfg->database) &&
	    (rc = lethe_lock_acquire(&s->lock, cfg->database)) < 0)
		goto fail;
	if ((flags & LETHE_SITE_KEYS) && (rc = open_keys(s, flags & LETHE_SITE_WRITE)) < 0)
		goto fail;
	if ((flags & LETHE_SITE_WRITE) && (rc = open_write(s)) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	lethe_site_free(s);
	return rc;
}

void lethe_site_free(lethe_site *s)
{
	if (!s)
		return;
	lethe_evidence_free(s->ev);
	lethe_sshkey_free(s->signing_key);
	lethe_token_key_free(s->pseudonym_key);
	lethe_lock_release(s->lock);
	free(s->actor);
	free(s);
}

lethe_recovery lethe_site_recovered(const lethe_site *s)
{
	return s->recovered;
}

lethe_evidence *lethe_site_evidence(const lethe_site *s)
{
	return s->ev;
}

lethe_runlog_env lethe_site_env(const lethe_site *s)
{
	return (lethe_runlog_env){ .ev = s->ev, .signing_key = s->signing_key,
				   .digest_key = s->pseudonym_key, .be = s->be,
				   .policy = s->policy, .database = s->database };
}

int lethe_site_require(const lethe_site *s, unsigned flags, const char *what)
{
	if ((s->flags & flags) == flags)
		return 0;
	return lethe_error_set(LETHE_ESOFTWARE, "%s needs a site opened %s", what,
			       flags & LETHE_SITE_WRITE ? "for writing" : "with its keys");
}

void lethe_site_push(lethe_site *s, lethe_warnings *warnings)
{
	char *why = NULL;

	if (!s->cfg->remote)
		return;
	if (lethe_evidence_push(s->ev, s->cfg->remote, &why) < 0)
		lethe_warnings_add(warnings, "cannot push the evidence to '%s': %s; the next run "
				   "pushes again", s->cfg->remote, why ? why : lethe_error_last());
	free(why);
}

/* The run log's hooks, and what the caller does once the intent is
 * recorded and before the first batch (an erasure's open entry). */
typedef struct {
	lethe_runlog *rl;
	int (*after_intent)(void *ctx, int64_t seq, const lethe_plan *plan);
	void *ctx;
} hooks;

static int intent_hook(void *ctx, const lethe_plan *plan)
{
	hooks *h = ctx;
	int rc = lethe_runlog_intent(h->rl, plan);

	if (rc == 0 && h->after_intent)
		rc = h->after_intent(h->ctx, lethe_runlog_intent_seq(h->rl), plan);
	return rc;
}

static int batch_hook(void *ctx, const lethe_rule *rule, const lethe_value *keys,
		      const unsigned char *applied, size_t n, int64_t changed)
{
	return lethe_runlog_batch(((hooks *)ctx)->rl, rule, keys, applied, n, changed);
}

static void key_hook(void *ctx, const lethe_rule *rule, size_t most,
		     void (**on_key)(void *ctx, const lethe_value *key), void **on_key_ctx)
{
	lethe_runlog_batch_keys(((hooks *)ctx)->rl, rule, most, on_key, on_key_ctx);
}

static int seal_hook(void *ctx, int vacuum_follows)
{
	return lethe_runlog_seal(((hooks *)ctx)->rl, vacuum_follows);
}

/* The disposal under env (NULL: a dry run), recorded by a run log when
 * env is set: intent, batches, completion, push. h: after_intent, or NULL. */
static int dispose(lethe_plan **out, lethe_warnings *warnings, lethe_site *s,
		   lethe_dispose_options *o, const lethe_runlog_env *env,
		   void (*phase)(void *ctx, const char *phase), hooks *h)
{
	hooks none = { 0 };
	lethe_runlog *rl = NULL;
	int rc;

	if (!h)
		h = &none;

	*out = NULL;
	o->dry_run = env == NULL;
	o->residue_fast = s->cfg->residue_fast;
	o->residue_no_wal = s->cfg->residue_no_wal;
	if (env) {
		if ((rc = lethe_runlog_new(&rl, env, o->as_of)) < 0)
			return rc;
		o->pseudonym_key = s->pseudonym_key;
		h->rl = rl;
		o->intent_hook = intent_hook;
		o->batch_hook = batch_hook;
		o->key_hook = key_hook;
		o->seal_hook = seal_hook;
		o->hook_ctx = h;
	}
	rc = lethe_dispose(out, warnings, s->be, s->policy, o);
	if (rl && *out) {
		/* the completion carries the warnings of the disposal only */
		int erc;

		if (phase)
			phase(o->progress_ctx, "signing");
		erc = lethe_runlog_complete(rl, *out, warnings, rc < 0);
		rc = rc < 0 ? rc : erc;
		if (erc == 0 && s->cfg->remote && phase)
			phase(o->progress_ctx, "pushing");
		if (erc == 0)
			lethe_site_push(s, warnings);
	}
	lethe_runlog_free(rl);
	return rc;
}

int lethe_site_run(lethe_plan **result, lethe_warnings *warnings, lethe_site *s,
		   const lethe_site_run_options *opts)
{
	lethe_dispose_options o = { 0 };
	lethe_runlog_env env = lethe_site_env(s);
	char plan_day[11];

	o.as_of = opts->as_of;
	o.max_rows_per_rule = opts->max_rows_per_rule >= 0 ? opts->max_rows_per_rule
							     : s->cfg->max_rows_per_rule;
	o.progress = opts->progress;
	o.progress_ctx = opts->progress_ctx;
	/* a site that requires approval applies the approved policy set only */
	if (s->cfg->approval_required && (s->flags & LETHE_SITE_WRITE)) {
		int rc = lethe_site_approved(&env.approval_seq, s);

		if (rc < 0)
			return rc;
	}
	/* big runs, and a site's first, may need a plan an approver signed */
	{
		int rc = lethe_site_plan_required(s, opts->plan, opts->as_of);

		if (rc < 0)
			return rc;
	}
	/* a signed plan: exactly its rows that are still due */
	if (opts->plan) {
		int rc = lethe_site_plan_check(s, opts->plan, opts->as_of);

		if (rc < 0)
			return rc;
		lethe_planfile_set_key(opts->plan, s->pseudonym_key);
		o.admit = lethe_planfile_admit;
		o.admit_ctx = opts->plan;
		env.plan_sha256 = lethe_planfile_sha256(opts->plan);
		lethe_day_format(lethe_planfile_as_of(opts->plan), plan_day);
		env.plan_as_of = plan_day;
	}
	return dispose(result, warnings, s, &o, s->flags & LETHE_SITE_WRITE ? &env : NULL,
		       opts->phase, NULL);
}

/* The subject's contact values join the suppression list, in a transaction
 * of their own before the erasure changes them. */
static int suppress(lethe_site *s, const lethe_subject *subject)
{
	char **tokens = NULL, now[21];
	size_t n = 0;
	int rc;

	lethe_now_iso(now);
	rc = lethe_subject_contact_tokens(&tokens, &n, s->be, s->policy, subject, s->pseudonym_key);
	if (rc == 0 && n && (rc = lethe_backend_begin(s->be)) == 0) {
		rc = lethe_backend_suppress(s->be, (const char *const *)tokens, n, now);
		rc = rc == 0 ? lethe_backend_commit(s->be) : rc;
		if (rc < 0)
			lethe_backend_rollback(s->be);
	}
	lethe_backend_names_free(tokens, n);
	return rc;
}

/* An erasure's entry in the register of open erasures (lethe/backend.h).
 * Written as soon as the intent is recorded when the plan the intent records
 * holds rows of the subject (legal holds, keep_while), before the first
 * batch, so a crash at any later point leaves it in line with the intent.
 * Settled after the disposal by what the register then holds, not by that
 * plan: a row another writer made held (a complaint re-opened) between the
 * plan and its batch was kept by the batch's re-check, and keeps the erasure
 * open; only an erasure of whose subject nothing is held or due any more is
 * closed. A run finishing the erasure keeps the entry as the erasure wrote
 * it (its first seq and day). */
typedef struct {
	lethe_site *s;
	const lethe_subject *subject;
	const char *contact;     /* lethe_subject_identity, or NULL */
	int64_t replay_of, completes;
	lethe_day as_of;
	int64_t seq;             /* the intent's, once recorded */
} open_entry;

int64_t lethe_site_plan_rows(const lethe_plan *p, int held)
{
	int64_t n = 0;

	for (size_t i = 0; i < p->nrules; i++)
		n += held ? p->rules[i].held : p->rules[i].due;
	return n;
}

/* Open (keep) or close the subject's entry, in a transaction of its own. */
static int put_entry(open_entry *e, int open)
{
	char since[11];
	int rc;

	if (open && e->completes > 0)
		return 0;
	lethe_day_format(e->as_of, since);
	if ((rc = lethe_backend_begin(e->s->be)) < 0)
		return rc;
	rc = open ? lethe_backend_erasure_open(e->s->be, &(lethe_open_erasure){
				.subject = e->subject->value, .contact = e->contact, .since = since,
				.erasure = e->replay_of > 0 ? e->replay_of : e->seq })
		  : lethe_backend_erasure_close(e->s->be, &e->subject->value);
	if (rc == 0)
		return lethe_backend_commit(e->s->be);
	lethe_backend_rollback(e->s->be);
	return rc;
}

static int record_open(void *ctx, int64_t seq, const lethe_plan *plan)
{
	open_entry *e = ctx;

	e->seq = seq;
	return lethe_site_plan_rows(plan, 1) > 0 ? put_entry(e, 1) : 0;
}

/* After a disposal that completed: what is still held, or due (rows added
 * or made held meanwhile), keeps the erasure open. */
static int settle_entry(open_entry *e, const lethe_plan_scope *scope)
{
	lethe_plan *now = NULL;
	int rc;

	if ((rc = lethe_plan_new_scoped(&now, e->s->be, e->s->policy, e->as_of, scope)) == 0)
		rc = put_entry(e, lethe_site_plan_rows(now, 1) > 0 || lethe_site_plan_rows(now, 0) > 0);
	lethe_plan_free(now);
	return rc;
}

int lethe_site_erase(lethe_plan **done, lethe_warnings *warnings, lethe_site *s,
		     const lethe_subject *subject, lethe_day as_of, int64_t replay_of)
{
	return lethe_site_erase_as(done, warnings, s, subject, as_of, replay_of, 0);
}

/* The evidence's subject digest is lethe_subject_digest of the key's typed
 * value, so replay finds the subject again by the same digest; its contact
 * digest is lethe_subject_identity of the row before the erasure, so replay
 * can tell that person from another given the same key since. */
int lethe_site_erase_as(lethe_plan **done, lethe_warnings *warnings, lethe_site *s,
			const lethe_subject *subject, lethe_day as_of, int64_t replay_of,
			int64_t completes)
{
	lethe_dispose_options o = { 0 };
	lethe_plan_scope scope = { 0 };
	lethe_runlog_env env = lethe_site_env(s);
	char digest[LETHE_DIGEST_SIZE], contact[LETHE_DIGEST_SIZE], received[11];
	int rc, identified = 0, write = (s->flags & LETHE_SITE_WRITE) != 0;
	open_entry entry = { s, subject, NULL, replay_of, completes, as_of, 0 };
	hooks h = { .after_intent = record_open, .ctx = &entry };

	*done = NULL;
	if ((rc = lethe_plan_scope_init(&scope, s->policy, &subject->value, 1)) < 0)
		return rc;
	o.as_of = as_of;
	o.scope = &scope;
	o.max_rows_per_rule = s->cfg->max_rows_per_rule;
	if (write) {
		/* the contact values as they are before the erasure changes them */
		if ((rc = lethe_subject_digest(digest, s->pseudonym_key, &subject->value)) < 0 ||
		    (rc = lethe_subject_identity(contact, &identified, s->be, s->policy, subject,
						 s->pseudonym_key)) < 0)
			goto out;
		env.request = "erasure";
		env.subject_digest = digest;
		env.subject_contact = identified ? contact : NULL;
		env.replay_of = replay_of;
		env.completes = completes;
		env.by = s->actor;
		entry.contact = env.subject_contact;
		/* a replay, or a run finishing an erasure, answers no new request
		 * and finds the contact values on the list already */
		if (replay_of <= 0 && completes <= 0) {
			if ((rc = lethe_site_request_received(s, "erasure", digest, as_of, received)) < 0)
				goto out;
			env.received = received;
		}
		if (completes <= 0 && (rc = suppress(s, subject)) < 0)
			goto out;
	}
	rc = dispose(done, warnings, s, &o, write ? &env : NULL, NULL, write ? &h : NULL);
	if (rc == 0 && write && entry.seq)
		rc = settle_entry(&entry, &scope);
	if (rc == 0 && env.received &&
	    lethe_site_request_answer(s, "erasure", digest, received, as_of) < 0)
		rc = lethe_warnings_add(warnings, "the request was not registered: %s",
					lethe_error_last()) < 0 ? LETHE_ESOFTWARE : 0;
out:
	lethe_plan_scope_release(&scope);
	return rc;
}
