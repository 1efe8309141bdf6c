/*
 * site_impl.h - the site object (lethe/site.h) shared by its files:
 * site.c (opening, run, erase), site_records.c (holds, export) and
 * site_replay.c.
 *
 * Invariants: cfg, policy and be are borrowed; lock, keys and evidence are
 * owned and set exactly for the flags the site was opened with (keys and
 * evidence with LETHE_SITE_KEYS or LETHE_SITE_WRITE, the lock with
 * LETHE_SITE_WRITE).
 */
#ifndef LETHE_SITE_IMPL_H
#define LETHE_SITE_IMPL_H

#include <limits.h>
#include "lethe/lock.h"
#include "lethe/site.h"
#include "lethe/sshkey.h"
#include "lethe/token.h"

struct lethe_site {
	const lethe_config *cfg;
	const lethe_policy *policy;
	lethe_backend *be;
	unsigned flags;
	lethe_lock *lock;
	lethe_token_key *pseudonym_key;
	lethe_sshkey *signing_key;
	lethe_evidence *ev;
	lethe_recovery recovered;
	char database[PATH_MAX];   /* the register's path, made absolute */
	lethe_day received;        /* lethe_site_set_received; 0: none given */
	char *actor;               /* lethe_site_set_actor; NULL: none given */
};

/* The run log environment of a record outside a run (holds, export). */
lethe_runlog_env lethe_site_env(const lethe_site *site);

/* approval.plan_above and approval.plan_first_run (site_plan.c): 0 when the
 * run at as_of needs no plan an approver signed or pf is one; LETHE_ECONFIG
 * saying why otherwise. Only writing sites are held to it. */
struct lethe_planfile;
int lethe_site_plan_required(lethe_site *s, const struct lethe_planfile *pf, lethe_day as_of);

/* lethe_site_erase, also for a run finishing the erasure whose intent has
 * seq `completes` (> 0): recorded with completes, answering no request. */
int lethe_site_erase_as(lethe_plan **done, lethe_warnings *warnings, lethe_site *s,
			const lethe_subject *subject, lethe_day as_of, int64_t replay_of,
			int64_t completes);

/* A plan's rows summed over its rules: held (held != 0) or due. */
int64_t lethe_site_plan_rows(const lethe_plan *p, int held);

/* Push to evidence.remote when configured; a failure is a warning. */
void lethe_site_push(lethe_site *site, lethe_warnings *warnings);

/* LETHE_ESOFTWARE unless the site was opened with all of `flags`. */
int lethe_site_require(const lethe_site *site, unsigned flags, const char *what);

/* The request register's side of an access or erasure (site_requests.c):
 * the day the request of `kind` from the subject with `digest` was received
 * (into received, "YYYY-MM-DD"): the one set by lethe_site_set_received, else
 * the oldest open request of that kind and subject, else as_of. */
int lethe_site_request_received(lethe_site *s, const char *kind, const char *digest,
				lethe_day as_of, char received[11]);
/* Mark that request answered on `answered` (adding it to the register when
 * it was not registered yet), in a transaction of its own. */
int lethe_site_request_answer(lethe_site *s, const char *kind, const char *digest,
			      const char *received, lethe_day answered);

#endif
