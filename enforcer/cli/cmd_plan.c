/*
 * cmd_plan.c - `lethe [-c FILE] plan [--as-of DATE] [--json]`: per rule, what
 * a run on that day would dispose of. Opens the database read-only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"
#include "lethe/backend.h"
#include "lethe/error.h"
#include "lethe/plan.h"

static void print_table(const lethe_plan *plan)
{
	int wname = 4, wtable = 5;
	char day[11];

	for (size_t i = 0; i < plan->nrules; i++) {
		int n = (int)strlen(plan->rules[i].rule->name), t = (int)strlen(plan->rules[i].rule->table);

		wname = n > wname ? n : wname;
		wtable = t > wtable ? t : wtable;
	}
	lethe_day_format(plan->as_of, day);
	printf("plan as of %s\n\n", day);
	printf("%-*s  %-*s  %-12s %9s %9s %9s %9s %7s %6s %7s  %s\n", wname, "RULE", wtable, "TABLE",
	       "ACTION", "IN SCOPE", "DUE", "NOT DUE", "NO CLOCK", "INVALID", "HELD", "BLOCKED",
	       "NEXT DUE");
	for (size_t i = 0; i < plan->nrules; i++) {
		const lethe_rule_plan *rp = &plan->rules[i];

		if (rp->has_next_due)
			lethe_day_format(rp->next_due, day);
		printf("%-*s  %-*s  %-12s %9" PRId64 " %9" PRId64 " %9" PRId64 " %9" PRId64
		       " %7" PRId64 " %6" PRId64 " %7" PRId64 "  %s\n",
		       wname, rp->rule->name, wtable, rp->rule->table,
		       lethe_action_name(rp->rule->action), rp->in_scope, rp->due, rp->not_due,
		       rp->not_started, rp->invalid, rp->held, rp->blocked,
		       rp->has_next_due ? day : "-");
	}
}

/* Invalid clocks are the compliance officer's to fix: say where, on stderr. */
static void warn_invalid(const lethe_plan *plan)
{
	for (size_t i = 0; i < plan->nrules; i++) {
		const lethe_rule_plan *rp = &plan->rules[i];

		if (!rp->invalid)
			continue;
		fprintf(stderr, "lethe: warning: rule '%s': %" PRId64 " row%s of '%s' with an invalid "
			"clock (never disposed), e.g. key%s", rp->rule->name, rp->invalid,
			rp->invalid == 1 ? "" : "s", rp->rule->table,
			rp->ninvalid_examples == 1 ? "" : "s");
		for (size_t j = 0; j < rp->ninvalid_examples; j++)
			fprintf(stderr, "%s'%s'", j ? ", " : " ", rp->invalid_examples[j]);
		fputc('\n', stderr);
	}
}

int cli_parse_as_of(lethe_day *out, const char *arg)
{
	if (!arg) {
		*out = (lethe_day)(time(NULL) / 86400);
		return 0;
	}
	if (lethe_day_parse(out, arg) < 0) {
		cli_error("--as-of: bad date '%s' (expected YYYY-MM-DD)", arg);
		return 64;
	}
	return 0;
}

int cmd_plan(const lethe_cli_opts *opts, int argc, char **argv)
{
	const char *as_of_arg = NULL;
	int json = 0, status, rc;
	lethe_day as_of;
	lethe_plan *plan = NULL;
	cli_register r;
	char *text = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if (!strcmp(argv[i], "--as-of") && i + 1 < argc) {
			as_of_arg = argv[++i];
		} else if (!strncmp(argv[i], "--as-of=", 8)) {
			as_of_arg = argv[i] + 8;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: lethe [-c FILE] plan [--as-of YYYY-MM-DD] [--json]\n");
			return 0;
		} else {
			cli_error("plan: unexpected argument '%s'", argv[i]);
			return 64;
		}
	}
	if ((status = cli_parse_as_of(&as_of, as_of_arg)))
		return status;
	if ((status = cli_register_open(&r, opts, LETHE_BACKEND_READONLY)))
		return status;
	rc = lethe_plan_new(&plan, r.be, r.policy, as_of);
	if (rc < 0) {
		status = cli_fail(rc);
		goto out;
	}
	if (json) {
		if ((rc = lethe_plan_to_json(&text, plan, "due")) < 0) {
			status = cli_fail(rc);
			goto out;
		}
		printf("%s\n", text);
	} else {
		print_table(plan);
	}
	if (!opts->quiet)
		warn_invalid(plan);
out:
	free(text);
	lethe_plan_free(plan);
	cli_register_close(&r);
	return status;
}
