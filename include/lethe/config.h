/*
 * lethe/config.h - the deployment configuration, lethe.yaml.
 *
 * Invariants:
 *  - Every path in a loaded config is absolute or relative to the current
 *    directory: relative paths in the file are resolved against the file's own
 *    folder at load time.
 *  - Optional keys that are absent are NULL (paths) or their documented default.
 *  - The config owns all its strings; lethe_config_free() releases them.
 */
#ifndef LETHE_CONFIG_H
#define LETHE_CONFIG_H

#include <stdint.h>
#include "diag.h"

#define LETHE_DEFAULT_MAX_ROWS_PER_RULE 100000
/* limits.max_days_between_runs: a later run refuses (clock jump) */
#define LETHE_DEFAULT_MAX_DAYS_BETWEEN_RUNS 40

typedef struct {
	char *path;               /* the file that was loaded */
	char *database;           /* required */
	char *policies;           /* required: a folder of *.yaml */
	char *metrics;            /* metrics: node-exporter textfile a run writes (as
				     run --prometheus), against lethe.yaml's folder; NULL none */
	char *pseudonym_key;      /* optional here; needed by run/erase */
	char *evidence_repository;
	char *signing_key;
	char *allowed_signers;
	char *remote;
	int64_t max_rows_per_rule; /* limits.max_rows_per_rule, default above */
	int64_t statement_seconds; /* limits.statement_seconds, default LETHE_DEFAULT_STATEMENT_SECONDS (backend.h) */
	int64_t max_days_between_runs; /* limits.max_days_between_runs, default above */
	int residue_fast;          /* residue: fast (no VACUUM after a run); default full */
	int approval_required;     /* approval.required: a run applies only an approved
				      policy set (lethe/approval.h); default false */
	int64_t approval_plan_above; /* approval.plan_above: a run of more rows needs a
					plan an approver signed; 0 none */
	int approval_plan_first_run; /* approval.plan_first_run: so does a site's first run */
	int residue_no_wal;        /* residue: R1 (a server's WAL is not cycled); R0 is fast */
	char *language;            /* language: fi|sv|en of answers and notices; NULL = en */
	int read_only;             /* read_only: a planning site (check, plan, status...):
				      commands that write refuse, and so do check and plan
				      when the role could write to a register table */
	lethe_mark language_mark;

	/* where each key's value stands, for later faults (e.g. database missing) */
	lethe_mark database_mark;
	lethe_mark policies_mark;
} lethe_config;

/* Which file to load: explicit (from -c) if not NULL, else $LETHE_CONFIG,
 * else ./lethe.yaml, else /etc/lethe/lethe.yaml. *out is malloc'd.
 * LETHE_ENOINPUT when none exists (the message names what was tried). */
int lethe_config_locate(char **out, const char *explicit_path);

/* Load and validate a config file. Faults go to diags as FILE:LINE:COL.
 * Returns 0 with *out set; LETHE_ENOINPUT if the file is missing;
 * LETHE_ECONFIG if it has faults (all of them in diags, *out untouched). */
int lethe_config_load(lethe_config **out, const char *path, lethe_diags *diags);

void lethe_config_free(lethe_config *cfg);

#endif
