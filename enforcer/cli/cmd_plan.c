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
	lethe_warnings stale = { 0 };
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
		cli_print_plan(plan, "DUE");
	}
	if (!opts->quiet)
		cli_warn_invalid(opts, plan);
	if ((rc = lethe_plan_stale(&stale, r.be, r.policy, as_of)) < 0)
		status = cli_fail(rc);
	else
		cli_warnings(opts, &stale);
out:
	lethe_warnings_free(&stale);
	free(text);
	lethe_plan_free(plan);
	cli_register_close(&r);
	return status;
}
