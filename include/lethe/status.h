/*
 * lethe/status.h - how a site is doing, for the operator and for monitoring:
 * the last run as its evidence records it, what becomes due soon, evidence
 * not yet pushed, holds in force, and what needs attention.
 *
 * Invariants:
 *  - Nothing here writes: the evidence is read through lethe/evidence.h and
 *    the register is only planned (lethe_plan_new), so a status taken between
 *    two runs changes neither.
 *  - Everything the status says about past runs comes from the signed records
 *    of the evidence, never from the database's markers.
 *  - A status owns all its strings; lethe_status_free() releases them.
 */
#ifndef LETHE_STATUS_H
#define LETHE_STATUS_H

#include <stdint.h>
#include "backend.h"
#include "calendar.h"
#include "evidence.h"
#include "policy.h"

/* Days ahead for which lethe_status_new counts what becomes due. */
#define LETHE_STATUS_SOON 7
#define LETHE_STATUS_LATER 30
/* A rule blocked in every run over this many days (of as-of) is a warning. */
#define LETHE_STATUS_BLOCKED_DAYS 30

typedef struct {
	char *name;
	int64_t due_now, due_soon, due_later; /* due at as-of, +7 and +30 days */
	int64_t blocked;                      /* blocked rows at as-of */
} lethe_status_rule;

typedef struct {
	int present;              /* 0: no completion or abort recorded yet */
	int64_t seq;              /* the record's sequence number */
	char *kind;               /* "completion" or "abort" */
	char *run_id, *as_of, *started_at, *ended_at, *result;
	int64_t disposed, blocked, invalid, held; /* summed over the rules */
	lethe_warnings residue;   /* the record's "warnings": residue left behind */
} lethe_status_run;

/* A legal hold in force at as-of, as the register has it; what could be
 * personal data (the subject's key, the reason, a --where text) is not
 * here: a subject appears as the keyed digest its signed hold record carries. */
typedef struct {
	int64_t id;
	char *rule;               /* the rule of a rule hold; NULL for a subject hold */
	char *subject;            /* a subject hold's keyed digest from its record; NULL
				   * for a rule hold or when no record names the hold */
	int filtered;             /* a rule hold limited by a --where filter */
	char *until;              /* "YYYY-MM-DD" or NULL: until released */
	char *created_at;
	int64_t record;           /* its hold record's sequence number; 0 when not found */
} lethe_status_hold;

typedef struct {
	lethe_day as_of;
	lethe_status_run last;
	lethe_status_rule *rules; /* one per policy rule, policy order */
	size_t nrules;
	int64_t unpushed;         /* commits the remote lacks; -1 no remote or unknown */
	int evidence_behind;      /* main does not reach the last record the register
				   * remembers writing (lethe/evidence_tip.h): a
				   * problem; the reason is among the warnings */
	lethe_status_hold *holds; /* holds in force at as-of, by id */
	size_t nholds;
	size_t open_erasures;     /* erasures keeping rows while a condition or a hold
				   * holds (lethe_erasures_open); the run finishes them */
	char open_since[11];      /* the oldest one's day, "" when none */
	lethe_warnings warnings;  /* one line each: what needs attention */
} lethe_status;

typedef struct {
	lethe_backend *be;          /* the register, read-only is enough */
	const lethe_policy *policy;
	lethe_evidence *ev;         /* NULL: no evidence repository configured */
	const char *remote;         /* evidence.remote or NULL */
	const char *const *keys;    /* key files whose permissions are checked */
	size_t nkeys;
	lethe_day as_of;            /* today */
} lethe_status_input;

/* Gather the status. An unreadable remote or key is a warning, not an
 * error; a register or evidence that cannot be read is an error (its code).
 * *out owned by the caller: lethe_status_free. */
int lethe_status_new(lethe_status **out, const lethe_status_input *in);
void lethe_status_free(lethe_status *st);

/* The status as a JSON object (indented, malloc'd into *out). */
int lethe_status_to_json(char **out, const lethe_status *st);

#endif
