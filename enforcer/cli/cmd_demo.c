/*
 * cmd_demo.c - `lethe demo DIR [--customers N] [--seed N] [--policies DIR]`:
 * write the reference shop's register and a lethe.yaml into DIR.
 *
 * Invariants: usage errors print `lethe: ...` and return 64 before anything
 * is written; the policy folder written into lethe.yaml is absolute (a
 * relative --policies is joined to the current directory, because lethe.yaml's
 * own relative paths would be read against DIR instead). The folder need not
 * exist yet: `lethe check` reports it when it is used.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "lethe/demo.h"
#include "lethe/error.h"

static const char usage_line[] =
	"usage: lethe demo DIR [--customers N] [--seed N] [--policies DIR] [--database URI]";

/* A whole decimal number in [min, max]; 0 or -1. */
static int parse_u64(uint64_t *out, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int cmd_demo(const lethe_cli_opts *opts, int argc, char **argv)
{
	lethe_demo_options o = LETHE_DEMO_OPTIONS_INIT;
	const char *dir = NULL, *policies = cli_default_policies(), *v;
	char resolved[PATH_MAX];
	uint64_t n;
	int rc;

	for (int i = 1; i < argc; i++) {
		int missing = 0;

		if ((v = cli_option_value(argc, argv, &i, "--customers", &missing))) {
			if (parse_u64(&n, v, 1, 10000000) != 0) {
				cli_error("--customers wants a number from 1 to 10000000, not '%s'", v);
				return 64;
			}
			o.customers = (int64_t)n;
		} else if ((v = cli_option_value(argc, argv, &i, "--seed", &missing))) {
			if (parse_u64(&n, v, 0, UINT64_MAX) != 0) {
				cli_error("--seed wants a whole number, not '%s'", v);
				return 64;
			}
			o.seed = n;
		} else if ((v = cli_option_value(argc, argv, &i, "--policies", &missing))) {
			policies = v;
		} else if ((v = cli_option_value(argc, argv, &i, "--database", &missing))) {
			o.database = v;
		} else if (missing) {
			cli_error("option '%s' needs a value\n%s", argv[i], usage_line);
			return 64;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			cli_error("unknown option '%s'\n%s", argv[i], usage_line);
			return 64;
		} else if (dir) {
			cli_error("one DIR only, got '%s' and '%s'\n%s", dir, argv[i], usage_line);
			return 64;
		} else {
			dir = argv[i];
		}
	}
	if (!dir) {
		cli_error("demo needs a DIR\n%s", usage_line);
		return 64;
	}
	if ((rc = cli_absolute(resolved, policies)) != 0)
		return rc;
	policies = resolved;
	o.policies_dir = policies;
	rc = lethe_demo_write(dir, &o);
	if (rc)
		return cli_fail(rc);
	if (!opts->quiet)
	{
		if (o.database)
			printf("wrote the shop into '%s' (%" PRId64 " customers) and '%s/lethe.yaml'\n",
			       o.database, o.customers, dir);
		else
			printf("wrote '%s/shop.sqlite' (%" PRId64 " customers) and '%s/lethe.yaml'\n",
			       dir, o.customers, dir);
	}
	return 0;
}
