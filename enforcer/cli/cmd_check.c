/*
 * cmd_check.c - `lethe [-c FILE] check`: configuration, every policy file, and
 * the policy against the live schema. Opens the database read-only.
 */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "lethe/backend.h"
#include "lethe/check.h"

int cmd_check(const lethe_cli_opts *opts, int argc, char **argv)
{
	cli_register r;
	lethe_warnings w = { 0 };
	int status, rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: lethe [-c FILE] check\n");
			return 0;
		}
		cli_error("check: unexpected argument '%s'", argv[i]);
		return 64;
	}
	status = cli_register_open(&r, opts, LETHE_BACKEND_READONLY);
	if (status)
		return status;
	if (!opts->quiet)
		printf("ok: %zu rule%s in %zu file%s fit '%s'\n", r.policy->nrules,
		       r.policy->nrules == 1 ? "" : "s", r.policy->nfiles,
		       r.policy->nfiles == 1 ? "" : "s", r.cfg->database);
	/* tables linked to the subject that no rule covers: a warning, the
	 * policy still fits (exit 0) */
	if ((rc = lethe_check_coverage(&w, r.be, r.policy)) < 0)
		status = cli_fail(rc);
	else
		cli_warnings(opts, &w);
	lethe_warnings_free(&w);
	cli_register_close(&r);
	return status;
}
