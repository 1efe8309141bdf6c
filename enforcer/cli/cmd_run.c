/*
 * cmd_run.c - `lethe [-c FILE] run [--as-of DATE] [--dry-run] [--json]
 * [--max-rows-per-rule N] [--plan FILE] [--prometheus FILE]`: dispose of what
 * is due, one run at a time per database; with --plan, exactly the rows of a
 * signed plan that are still due (lethe/planfile.h). Once the site is open,
 * every run ends with one summary line (run id, sequence, commit, totals,
 * result) and, with --prometheus, a metrics file (cli_run_report.c), whether
 * it succeeded or not. After its own disposal a run finishes the erasures
 * that kept rows while a condition or a legal hold held, once those rows are
 * due (lethe_site_finish_erasures): each is an erasure of its own in the
 * evidence, and a line of the output ("erasures_finished" in JSON).
 *
 * Exit status: 0 done; 65 invalid clocks were found (the rest was disposed)
 * or a rule exceeded the cap (nothing was disposed); 75 another run holds the
 * lock or the database is busy; 77 a key readable by others, or a database
 * (or its folder) that cannot be written; 79 the clock disagrees with the
 * evidence; 78 approval is required and the policy set is not approved; with
 * --plan, 65 a stale plan (policy changed, as-of passed, other database) and
 * 1 a plan whose signature is not valid or not the site's or an approver's;
 * others as the contract says.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cli.h"
#include "lethe/backend.h"
#include "lethe/error.h"
#include "lethe/planfile.h"
#include "lethe/site.h"
#include "lethe/status.h"

typedef struct {
	const char *as_of;
	const char *plan;       /* --plan FILE */
	const char *prometheus; /* --prometheus FILE */
	int dry_run;
	int json;
	int64_t max_rows;       /* -1: the configuration's */
	int allow_future;       /* --allow-future-as-of */
	int allow_clock_jump;   /* --allow-clock-jump */
} run_args;

static const char usage_text[] =
	"usage: lethe [-c FILE] run [--as-of YYYY-MM-DD] [--dry-run] [--json]\n"
	"                           [--max-rows-per-rule N] [--allow-future-as-of]\n"
	"                           [--allow-clock-jump] [--plan FILE]\n"
	"                           [--prometheus FILE]";

/* The options of run_options in main.c (cli_args.c has already checked
 * them against the table and normalised them). 0, -1 for --help (done),
 * or the exit status. */
static int parse_args(run_args *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "as-of", required_argument, NULL, 'a' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "max-rows-per-rule", required_argument, NULL, 'm' },
		{ "allow-future-as-of", no_argument, NULL, 'F' },
		{ "allow-clock-jump", no_argument, NULL, 'J' },
		{ "plan", required_argument, NULL, 'p' },
		{ "prometheus", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long long n;
	int c;

	optind = 0; /* glibc: a full restart after cli_args.c's parsing */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': a->as_of = optarg; break;
		case 'n': a->dry_run = 1; break;
		case 'j': a->json = 1; break;
		case 'F': a->allow_future = 1; break;
		case 'J': a->allow_clock_jump = 1; break;
		case 'p': a->plan = optarg; break;
		case 'P': a->prometheus = optarg; break;
		case 'm':
			n = strtoll(optarg, &end, 10);
			if (!*optarg || *end || n < 0) {
				cli_error("--max-rows-per-rule: expected a number >= 0 (0: no limit), "
					  "got '%s'", optarg);
				return 64;
			}
			a->max_rows = n;
			break;
		case 'h': printf("%s\n", usage_text); return -1;
		default:
			cli_error("run: unexpected argument '%s'\n%s", argv[optind - 1], usage_text);
			return 64;
		}
	}
	if (optind != argc) {
		cli_error("run: unexpected argument '%s'\n%s", argv[optind], usage_text);
		return 64;
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

static void log_rules(const lethe_cli_opts *opts, const lethe_plan *plan, int dry_run)
{
	for (size_t i = 0; i < plan->nrules; i++) {
		const lethe_rule_plan *rp = &plan->rules[i];

		cli_log(opts, CLI_INFO, "rule '%s': %s %" PRId64 " of %" PRId64 " rows of '%s' (%s); "
			"not due %" PRId64 ", no clock %" PRId64 ", invalid %" PRId64 ", held %" PRId64
			", blocked %" PRId64, rp->rule->name, dry_run ? "would dispose of" : "disposed of",
			rp->due, rp->in_scope, rp->rule->table, lethe_action_name(rp->rule->action),
			rp->not_due, rp->not_started, rp->invalid, rp->held, rp->blocked);
		if (rp->unplanned)
			cli_log(opts, CLI_NOTICE, "rule '%s': %" PRId64 " rows due but not in the plan "
				"were left for a later run", rp->rule->name, rp->unplanned);
		if (rp->skipped)
			cli_log(opts, CLI_NOTICE, "rule '%s': %" PRId64 " due rows locked by another "
				"transaction were skipped, left for the next run", rp->rule->name,
				rp->skipped);
	}
}

/* The site for the run: for writing (lock, keys, evidence, its head, the
 * clock unless --allow-clock-jump, recovery) or, for --dry-run, the
 * register only. 0 or the exit status. */
static int open_site(lethe_site **site, const lethe_cli_opts *opts, const run_args *a,
		     const cli_register *r)
{
	unsigned flags = a->dry_run ? (a->plan ? LETHE_SITE_KEYS : 0)
				    : LETHE_SITE_WRITE | (a->allow_clock_jump ? 0 : LETHE_SITE_CLOCK);
	lethe_recovery recovered;
	int rc, status;

	if ((rc = lethe_site_open(site, r->cfg, r->policy, r->be, flags)) < 0) {
		status = cli_fail(rc);
		if (rc == LETHE_ECLOCK)
			cli_error("check the system clock (timedatectl); if it is right, pass "
				  "--allow-clock-jump once; nothing was changed");
		return status;
	}
	if ((recovered = lethe_site_recovered(*site)) != LETHE_RECOVER_NOTHING)
		cli_log(opts, CLI_NOTICE, "an interrupted run was found and recorded as %s",
			recovered == LETHE_RECOVER_COMPLETED ? "recovered" : "aborted");
	return 0;
}

/* The erasures the run finished (lethe_site_finish_erasures), for the
 * output: [{erasure, since, disposed, rules, still_open, skipped}]. */
typedef struct {
	const lethe_cli_opts *opts;
	json_t *list;
} finish_ctx;

static int finished(void *ctx, const lethe_site_finished *f, const lethe_warnings *w)
{
	finish_ctx *c = ctx;
	json_t *rules = json_object();
	int64_t n = 0;

	cli_warnings(c->opts, w);
	for (size_t i = 0; f->plan && i < f->plan->nrules; i++)
		if (f->plan->rules[i].due) {
			n += f->plan->rules[i].due;
			json_object_set_new(rules, f->plan->rules[i].rule->name,
					    json_integer(f->plan->rules[i].due));
		}
	json_array_append_new(c->list, json_pack("{s:I, s:s, s:I, s:o, s:b, s:b}", "erasure",
						 (json_int_t)f->erasure, "since", f->since,
						 "disposed", (json_int_t)n, "rules", rules,
						 "still_open", f->open, "skipped", f->skipped));
	return 0;
}

static void print_finished(const json_t *list, int dry_run)
{
	size_t i;
	json_t *o;

	json_array_foreach(list, i, o) {
		json_int_t n = json_integer_value(json_object_get(o, "disposed"));

		printf("erasure %08" PRId64 " of %s: ", (int64_t)json_integer_value(
			       json_object_get(o, "erasure")), json_string_value(json_object_get(o, "since")));
		if (json_is_true(json_object_get(o, "skipped")))
			printf("not finished: the subject is not the person erased\n");
		else
			printf("%s %" PRId64 " row%s kept while a condition held%s\n",
			       dry_run ? "would dispose of" : "disposed of", (int64_t)n, n == 1 ? "" : "s",
			       json_is_true(json_object_get(o, "still_open")) ?
			       "; other rows are still held" : "; the erasure is finished");
	}
}

/* The result as JSON on stdout, with the run's record and the erasures it
 * finished. 0 or the exit status. */
static int print_json(const lethe_plan *result, const cli_run_record *rec, int dry_run, int status,
		      json_t *finished_list)
{
	char *text = NULL;
	json_t *root;
	int rc;

	if ((rc = lethe_plan_to_json(&text, result, dry_run ? "due" : "disposed")) < 0)
		return cli_fail(rc);
	root = json_loads(text, 0, NULL);
	free(text);
	if (!root || cli_run_json_add(root, rec, dry_run, status) < 0 ||
	    json_object_set_new(root, "erasures_finished", finished_list ?
				json_incref(finished_list) : json_array()) < 0) {
		json_decref(root);
		cli_error("run: out of memory");
		return 70;
	}
	return cli_print_json(root);
}

/* --prometheus: the status after the run (due soon, warnings, unpushed)
 * with the run's counts. 0 or the exit status. */
static int write_metrics(const run_args *a, const cli_register *r, lethe_site *site,
			 const cli_run_record *rec, const lethe_plan *result, int status)
{
	const char *keys[] = { r->cfg->pseudonym_key, r->cfg->signing_key };
	lethe_status_input in = { .be = r->be, .policy = r->policy, .remote = r->cfg->remote,
				  .keys = keys, .nkeys = 2 };
	cli_run_metrics m = { .rec = rec, .plan = result, .dry_run = a->dry_run, .status = status };
	lethe_status *st = NULL;
	int rc;

	in.ev = site ? lethe_site_evidence(site) : NULL;
	cli_parse_as_of(&in.as_of, NULL);
	if (site && (rc = lethe_status_new(&st, &in)) < 0)
		cli_log(NULL, CLI_WARNING, "metrics: no status after the run: %s", lethe_error_last());
	m.st = st;
	rc = cli_metrics_write(a->prometheus, &m);
	lethe_status_free(st);
	return rc;
}

int cmd_run(const lethe_cli_opts *opts, int argc, char **argv)
{
	run_args a = { .max_rows = -1 };
	lethe_site_run_options o = { 0 };
	lethe_warnings warnings = { 0 };
	cli_progress progress;
	lethe_plan *result = NULL;
	lethe_site *site = NULL;
	cli_register r = { 0 };
	cli_run_record rec = { 0 };
	finish_ctx fc = { opts, NULL };
	size_t still_open = 0;
	int64_t seq_before = 0;
	int status, rc;

	if ((status = parse_args(&a, argc, argv)))
		return status < 0 ? 0 : status;
	if ((status = cli_parse_as_of(&o.as_of, a.as_of)))
		return status;
	/* --plan: the plan's as-of is the run's (its checks refuse another) */
	if (a.plan) {
		if ((rc = lethe_planfile_load(&o.plan, a.plan)) < 0)
			return cli_fail(rc);
		if (!a.as_of)
			o.as_of = lethe_planfile_as_of(o.plan);
	}
	if ((status = future_guard(&a, o.as_of)) ||
	    (status = cli_register_open(&r, opts, a.dry_run ? LETHE_BACKEND_READONLY : 0)))
		goto out;
	/* metrics: in lethe.yaml is the timer's --prometheus; the option wins */
	if (!a.prometheus)
		a.prometheus = r.cfg->metrics;
	if ((status = open_site(&site, opts, &a, &r)))
		goto report;
	seq_before = cli_run_last_seq(lethe_site_evidence(site));
	o.max_rows_per_rule = a.max_rows;
	cli_progress_start(&progress, opts);
	o.progress = cli_progress_update;
	o.phase = cli_progress_phase;
	o.progress_ctx = &progress;
	rc = lethe_site_run(&result, &warnings, site, &o);
	cli_progress_end(&progress);
	if (result)
		log_rules(opts, result, a.dry_run);
	cli_warnings(opts, &warnings);
	/* the run's error is said before reading its record replaces it */
	if (rc < 0)
		status = cli_fail(rc);
	if (!a.dry_run)
		cli_run_record_read(&rec, lethe_site_evidence(site), seq_before);
	if (rc < 0) {
		if (a.json && result)
			print_json(result, &rec, a.dry_run, status, NULL);
		goto report;
	}
	for (size_t i = 0; i < result->nrules; i++)
		if (result->rules[i].invalid)
			status = 65;
	/* then the erasures whose kept rows are due now, each recorded on its own */
	if (!(fc.list = json_array()))
		status = cli_fail(lethe_error_set(LETHE_ESOFTWARE, "out of memory"));
	else if ((rc = lethe_site_finish_erasures(&still_open, site, o.as_of, finished, &fc)) < 0)
		status = cli_fail(rc);
	else if (still_open)
		cli_log(opts, CLI_INFO, "%zu erasure%s still keep%s rows while a condition or a legal "
			"hold holds", still_open, still_open == 1 ? "" : "s", still_open == 1 ? "s" : "");
	if (a.json) {
		if ((rc = print_json(result, &rec, a.dry_run, status, fc.list)))
			status = rc;
	} else {
		cli_print_plan(result, a.dry_run ? "DUE" : "DISPOSED");
		print_finished(fc.list, a.dry_run);
	}
	cli_warn_invalid(opts, result);
report:
	cli_run_summary(opts, &rec, result, a.dry_run, status);
	if (a.prometheus && (rc = write_metrics(&a, &r, site, &rec, result, status)) && !status)
		status = rc;
out:
	json_decref(fc.list);
	lethe_plan_free(result);
	lethe_warnings_free(&warnings);
	lethe_site_free(site);
	cli_register_close(&r);
	lethe_planfile_free(o.plan);
	return status;
}
