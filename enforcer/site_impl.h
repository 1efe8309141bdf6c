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
};

/* The run log environment of a record outside a run (holds, export). */
lethe_runlog_env lethe_site_env(const lethe_site *site);

/* Push to evidence.remote when configured; a failure is a warning. */
void lethe_site_push(lethe_site *site, lethe_warnings *warnings);

/* LETHE_ESOFTWARE unless the site was opened with all of `flags`. */
int lethe_site_require(const lethe_site *site, unsigned flags, const char *what);


#endif
