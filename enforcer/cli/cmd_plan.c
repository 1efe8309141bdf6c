/*
 * cmd_plan.c - `lethe [-c FILE] plan [--as-of DATE] [--json]`: per rule, what
 * a run on that day would dispose of. Opens the database read-only.
 * --compare DRAFT_DIR: the impact of a draft policy set (cmd_plan_compare.c);
 * --keys RULE: the keys a rule would dispose of, to the terminal only;
 * --out FILE: a signed plan for `run --plan` (cmd_plan_file.c).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cmd_plan.h"
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

static const char usage_text[] =
	"usage: lethe [-c FILE] plan [--as-of YYYY-MM-DD] [--json]\n"
	"       lethe [-c FILE] plan --compare DRAFT_DIR [--as-of YYYY-MM-DD] [--json]\n"
	"       lethe [-c FILE] plan --keys RULE [--as-of YYYY-MM-DD]\n"
	"       lethe [-c FILE] plan --out FILE [--key APPROVER_KEY] [--as-of YYYY-MM-DD]";

typedef struct {
	const char *as_of, *compare, *keys, *out, *key;
	int json;
} plan_args;

/* 0, -1 for --help (done), or the exit status. */
static int parse_args(plan_args *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "as-of", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "compare", required_argument, NULL, 'c' },
		{ "policies", required_argument, NULL, 'c' },
		{ "keys", required_argument, NULL, 'k' },
		{ "out", required_argument, NULL, 'o' },
		{ "key", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0; /* glibc: a full restart after cli_args.c's parsing */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': a->as_of = optarg; break;
		case 'j': a->json = 1; break;
		case 'c': a->compare = optarg; break;
		case 'k': a->keys = optarg; break;
		case 'o': a->out = optarg; break;
		case 'K': a->key = optarg; break;
		case 'h': printf("%s\n", usage_text); return -1;
		default:
			cli_error("plan: unexpected argument '%s'\n%s", argv[optind - 1], usage_text);
			return 64;
		}
	}
	if (optind != argc) {
		cli_error("plan: unexpected argument '%s'\n%s", argv[optind], usage_text);
		return 64;
	}
	if (!!a->compare + !!a->keys + !!a->out > 1 || ((a->keys || a->out) && a->json) ||
	    (a->key && !a->out)) {
		cli_error("plan: --compare, --keys and --out go alone (--json with --compare)\n%s",
			  usage_text);
		return 64;
	}
	return 0;
}

int cmd_plan(const lethe_cli_opts *opts, int argc, char **argv)
{
	plan_args a = { 0 };
	int status, rc;
	lethe_day as_of;
	lethe_plan *plan = NULL;
	lethe_warnings stale = { 0 };
	cli_register r;
	char *text = NULL;

	if ((status = parse_args(&a, argc, argv)))
		return status < 0 ? 0 : status;
	if ((status = cli_parse_as_of(&as_of, a.as_of)))
		return status;
	if ((status = cli_register_open(&r, opts, LETHE_BACKEND_READONLY)))
		return status;
	if (a.compare) {
		status = cli_plan_compare(opts, &r, a.compare, as_of, a.json);
		goto out;
	}
	if (a.keys) {
		status = cli_plan_keys(opts, &r, a.keys, as_of);
		goto out;
	}
	if (a.out) {
		status = cli_plan_write(opts, &r, a.out, a.key, as_of);
		goto out;
	}
	rc = lethe_plan_new_stale(&plan, &stale, r.be, r.policy, as_of);
	if (rc < 0) {
		status = cli_fail(rc);
		goto out;
	}
	if (a.json) {
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
	cli_warnings(opts, &stale);
out:
	lethe_warnings_free(&stale);
	free(text);
	lethe_plan_free(plan);
	cli_register_close(&r);
	return status;
}
