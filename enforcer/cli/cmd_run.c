/*
 * cmd_run.c - `lethe [-c FILE] run [--as-of DATE] [--dry-run] [--json]
 * [--max-rows-per-rule N]`: dispose of what is due, one run at a time per
 * database.
 *
 * Exit status: 0 done; 65 invalid clocks were found (the rest was disposed)
 * or a rule exceeded the cap (nothing was disposed); 75 another run holds the
 * lock or the database is busy; 77 a key readable by others, or a database
 * (or its folder) that cannot be written; 79 the clock disagrees with the
 * evidence; others as the contract says.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "lethe/backend.h"
#include "lethe/clockguard.h"
#include "lethe/dispose.h"
#include "lethe/error.h"
#include "lethe/evidence.h"
#include "lethe/lock.h"
#include "lethe/runlog.h"
#include "lethe/sshkey.h"
#include "lethe/token.h"

typedef struct {
	const char *as_of;
	int dry_run;
	int json;
	int64_t max_rows;       /* -1: the configuration's */
	int allow_future;       /* --allow-future-as-of */
	int allow_clock_jump;   /* --allow-clock-jump */
} run_args;

static int parse_args(run_args *a, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *v = NULL;

		if (!strcmp(argv[i], "--json")) {
			a->json = 1;
		} else if (!strcmp(argv[i], "--dry-run")) {
			a->dry_run = 1;
		} else if (!strcmp(argv[i], "--allow-future-as-of")) {
			a->allow_future = 1;
		} else if (!strcmp(argv[i], "--allow-clock-jump")) {
			a->allow_clock_jump = 1;
		} else if (!strcmp(argv[i], "--as-of") && i + 1 < argc) {
			a->as_of = argv[++i];
		} else if (!strncmp(argv[i], "--as-of=", 8)) {
			a->as_of = argv[i] + 8;
		} else if ((!strcmp(argv[i], "--max-rows-per-rule") && i + 1 < argc && (v = argv[++i])) ||
			   (!strncmp(argv[i], "--max-rows-per-rule=", 20) && (v = argv[i] + 20))) {
			char *end;
			long long n = strtoll(v, &end, 10);

			if (!*v || *end || n < 0) {
				cli_error("--max-rows-per-rule: expected a number >= 0 (0: no limit), got '%s'", v);
				return 64;
			}
			a->max_rows = n;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: lethe [-c FILE] run [--as-of YYYY-MM-DD] [--dry-run] [--json]\n"
			       "                           [--max-rows-per-rule N] [--allow-future-as-of]\n"
			       "                           [--allow-clock-jump]\n");
			return -1;
		} else {
			cli_error("run: unexpected argument '%s'", argv[i]);
			return 64;
		}
	}
	return 0;
}

/* An as-of after today disposes early: only on purpose. 0 or 64. */
static int future_guard(const run_args *a, lethe_day as_of)
{
	lethe_day today;
	char day[11], now[11];

	cli_parse_as_of(&today, NULL);
	if (a->dry_run || a->allow_future || as_of <= today)
		return 0;
	lethe_day_format(as_of, day);
	lethe_day_format(today, now);
	cli_error("run: --as-of %s is after today (%s, UTC): a run disposes of what is due on its "
		  "as-of day; use plan or run --dry-run to look ahead, or --allow-future-as-of to "
		  "dispose early on purpose; nothing was changed", day, now);
	return 64;
}

/* The system clock against the evidence's last record and last run. 0 or
 * the exit status (79), before anything is recorded. */
static int clock_guard(const run_args *a, const cli_site *site, const lethe_config *cfg)
{
	lethe_clock_reference ref;
	int rc;

	if (a->allow_clock_jump)
		return 0;
	if ((rc = lethe_clock_reference_read(&ref, site->ev)) == 0 &&
	    (rc = lethe_clock_check(&ref, (int64_t)time(NULL), cfg->max_days_between_runs)) == 0)
		return 0;
	rc = cli_fail(rc);
	if (rc == 79)
		cli_error("check the system clock (timedatectl); if it is right, pass "
			  "--allow-clock-jump once; nothing was changed");
	return rc;
}

static void log_rules(const lethe_cli_opts *opts, const lethe_plan *plan, int dry_run)
{
	for (size_t i = 0; i < plan->nrules; i++) {
		const lethe_rule_plan *rp = &plan->rules[i];

		cli_log(opts, CLI_INFO, "rule '%s': %s %" PRId64 " of %" PRId64 " rows of '%s' (%s); "
			"not due %" PRId64 ", no clock %" PRId64 ", invalid %" PRId64 ", held %" PRId64
			", blocked %" PRId64, rp->rule->name, dry_run ? "would dispose of" : "disposed of",
			rp->due, rp->in_scope, rp->rule->table, lethe_action_name(rp->rule->action),
			rp->not_due, rp->not_started, rp->invalid, rp->held, rp->blocked);
	}
}

int cmd_run(const lethe_cli_opts *opts, int argc, char **argv)
{
	run_args a = { .max_rows = -1 };
	lethe_dispose_options o = { 0 };
	lethe_warnings warnings = { 0 };
	lethe_recovery recovered;
	lethe_runlog_env env = { 0 };
	cli_progress progress;
	lethe_runlog *rl = NULL;
	lethe_lock *lock = NULL;
	lethe_plan *result = NULL;
	cli_register r = { 0 };
	cli_site site = { 0 };
	char *text = NULL;
	int status, rc;

	if ((status = parse_args(&a, argc, argv)))
		return status < 0 ? 0 : status;
	if ((status = cli_parse_as_of(&o.as_of, a.as_of)))
		return status;
	if ((status = future_guard(&a, o.as_of)))
		return status;
	status = cli_register_open(&r, opts, a.dry_run ? LETHE_BACKEND_READONLY : 0);
	if (status)
		return status;
	o.dry_run = a.dry_run;
	o.max_rows_per_rule = a.max_rows >= 0 ? a.max_rows : r.cfg->max_rows_per_rule;
	o.residue_fast = r.cfg->residue_fast;
	if (!a.dry_run) {
		if ((rc = lethe_lock_acquire(&lock, r.cfg->database)) < 0) {
			status = cli_fail(rc);
			goto out;
		}
		if ((status = cli_site_open(&site, r.cfg)))
			goto out;
		if ((status = clock_guard(&a, &site, r.cfg)))
			goto out;
		env = (lethe_runlog_env){ .ev = site.ev, .signing_key = site.signing_key,
					  .digest_key = site.pseudonym_key, .be = r.be,
					  .policy = r.policy, .database = site.database };
		if ((rc = lethe_runlog_recover(&recovered, &env)) < 0) {
			status = cli_fail(rc);
			goto out;
		}
		if (recovered != LETHE_RECOVER_NOTHING)
			cli_log(opts, CLI_NOTICE, "an interrupted run was found and recorded as %s",
				recovered == LETHE_RECOVER_COMPLETED ? "recovered" : "aborted");
		if ((rc = lethe_runlog_new(&rl, &env, o.as_of)) < 0) {
			status = cli_fail(rc);
			goto out;
		}
		o.pseudonym_key = site.pseudonym_key;
		o.intent_hook = lethe_runlog_intent;
		o.batch_hook = lethe_runlog_batch;
		o.hook_ctx = rl;
	}
	cli_progress_start(&progress, opts);
	o.progress = cli_progress_update;
	o.progress_ctx = &progress;
	rc = lethe_dispose(&result, &warnings, r.be, r.policy, &o);
	cli_progress_end(&progress);
	if (result)
		log_rules(opts, result, a.dry_run);
	for (size_t i = 0; i < warnings.count; i++)
		cli_log(opts, CLI_WARNING, "%s", warnings.items[i]);
	if (rl && result) {
		int failed = rc < 0;
		int erc = lethe_runlog_complete(rl, result, &warnings, failed);

		if (erc < 0 && rc == 0)
			rc = erc;
		if (erc == 0)
			cli_site_push(opts, r.cfg, site.ev);
	}
	if (rc < 0) {
		status = cli_fail(rc);
		goto out;
	}
	if (a.json) {
		if ((rc = lethe_plan_to_json(&text, result, a.dry_run ? "due" : "disposed")) < 0) {
			status = cli_fail(rc);
			goto out;
		}
		printf("%s\n", text);
	} else {
		cli_print_plan(result, a.dry_run ? "DUE" : "DISPOSED");
	}
	cli_warn_invalid(opts, result);
	for (size_t i = 0; i < result->nrules; i++)
		if (result->rules[i].invalid)
			status = 65;
out:
	free(text);
	lethe_plan_free(result);
	lethe_warnings_free(&warnings);
	lethe_runlog_free(rl);
	cli_site_close(&site);
	lethe_lock_release(lock);
	cli_register_close(&r);
	return status;
}
