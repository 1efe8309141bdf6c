/*
 * cmd_check.c - `lethe [-c FILE] check`: configuration, every policy file, and
 * the policy against the live schema. Opens the database read-only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "lethe/backend.h"
#include "lethe/check.h"
#include "lethe/error.h"

/* What keeps a run from reaching the configured residue level: warnings
 * (the run reports the level it reaches), not faults. */
static void residue_warnings(const lethe_cli_opts *opts, cli_register *r)
{
	lethe_warnings w = { 0 };
	const char **tables = calloc(r->policy->nrules + 1, sizeof(*tables));
	unsigned flags = (r->cfg->residue_fast ? LETHE_FINALISE_NO_VACUUM : 0) |
			 (r->cfg->residue_no_wal ? LETHE_FINALISE_NO_WAL : 0);

	if (!tables)
		return;
	for (size_t i = 0; i < r->policy->nrules; i++)
		tables[i] = r->policy->rules[i].table;
	if (lethe_backend_residue_check(r->be, tables, r->policy->nrules, flags, &w) < 0)
		cli_error("check: %s", lethe_error_last());
	cli_warnings(opts, &w);
	lethe_warnings_free(&w);
	free(tables);
}
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
	residue_warnings(opts, &r);
	/* a role that could write to the register: check and plan should read
	 * only (a read_only: true site has refused already) */
	if ((rc = cli_register_write_access(&w, &r)) < 0)
		status = cli_fail(rc);
	cli_warnings(opts, &w);
	lethe_warnings_free(&w);
	w = (lethe_warnings){ 0 };
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
