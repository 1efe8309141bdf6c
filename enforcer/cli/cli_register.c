/*
 * cli_register.c - load configuration, policy and database for a command,
 * reporting all faults of all files in one pass before giving up.
 *
 * Exit status precedence: a configuration that cannot be read or has faults
 * (78, or 66 when missing) stops everything; otherwise policy faults and
 * schema faults are gathered together and give 65.
 */
#include <stdlib.h>
#include "cli.h"
#include "lethe/backend.h"
#include "lethe/check.h"
#include "lethe/declarations.h"
#include "lethe/error.h"

int cli_register_write_access(lethe_warnings *found, cli_register *r)
{
	const char **tables = calloc(r->policy->nrules + 1, sizeof(*tables));
	int rc;

	if (!tables)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	for (size_t i = 0; i < r->policy->nrules; i++)
		tables[i] = r->policy->rules[i].table;
	rc = lethe_backend_write_access(found, r->be, tables, r->policy->nrules);
	free(tables);
	return rc;
}

/* read_only: true in lethe.yaml (a planning site): a command that writes
 * refuses before it connects; one that reads refuses when its role could
 * write to a register table. 0 or the exit status. */
static int read_only_site(cli_register *r, unsigned backend_flags, int connected)
{
	lethe_warnings w = { 0 };
	int status = 0;

	if (!connected) {
		if (backend_flags & LETHE_BACKEND_READONLY)
			return 0;
		cli_error("'%s' sets read_only: true: this command writes to the register; "
			  "run it from a site whose role may write", r->cfg->path);
		return 78;
	}
	if (!r->policy)
		return 0;
	if (cli_register_write_access(&w, r) < 0)
		return cli_fail(lethe_error_last_code());
	for (size_t i = 0; i < w.count; i++)
		cli_error("%s (refused: '%s' sets read_only: true)", w.items[i], r->cfg->path);
	if (w.count)
		status = 78;
	lethe_warnings_free(&w);
	return status;
}

void cli_register_close(cli_register *r)
{
	lethe_backend_free(r->be);
	lethe_policy_free(r->policy);
	lethe_config_free(r->cfg);
	r->be = NULL;
	r->policy = NULL;
	r->cfg = NULL;
}

int cli_register_open(cli_register *r, const lethe_cli_opts *opts, unsigned backend_flags)
{
	lethe_diags diags = LETHE_DIAGS_INIT;
	char *path = NULL;
	int rc, status = 0, policy_faulty = 0;

	r->cfg = NULL;
	r->policy = NULL;
	r->be = NULL;

	rc = lethe_config_locate(&path, opts->config_path);
	if (rc < 0) {
		status = cli_fail(rc);
		goto out;
	}
	rc = lethe_config_load(&r->cfg, path, &diags);
	if (rc == LETHE_ECONFIG) {
		cli_print_diags(&diags);
		status = 78;
		goto out;
	} else if (rc < 0) {
		status = cli_fail(rc);
		goto out;
	}

	rc = lethe_policy_load(&r->policy, r->cfg->policies, &diags, 1);
	if (rc == LETHE_EDATA) {
		policy_faulty = 1;
	} else if (rc < 0) {
		status = cli_fail(rc);
		goto out;
	}

	if (r->cfg->read_only && (status = read_only_site(r, backend_flags, 0)))
		goto out;
	rc = lethe_backend_open(&r->be, r->cfg->database, backend_flags);
	if (rc == 0)
		rc = lethe_backend_set_time_limit(r->be, r->cfg->statement_seconds);
	if (rc < 0) {
		cli_print_diags(&diags);
		status = cli_fail(rc);
		goto out;
	}
	if (r->cfg->read_only && (status = read_only_site(r, backend_flags, 1)))
		goto out;
	if (r->policy) {
		rc = lethe_check_schema(r->be, r->policy, &diags);
		if (rc < 0 && rc != LETHE_EDATA) {
			cli_print_diags(&diags);
			status = cli_fail(rc);
			goto out;
		}
	}
	/* lethe.yaml's language must be one the policies have texts in */
	if (r->policy && r->cfg->language &&
	    lethe_declarations_language_fault(r->policy->declarations, r->cfg->language,
					      r->cfg->language_mark, &diags) < 0) {
		status = cli_fail(rc = LETHE_ESOFTWARE);
		goto out;
	}
	if (policy_faulty || diags.count > 0) {
		cli_print_diags(&diags);
		cli_error("%zu fault%s found; nothing was changed", diags.count,
			  diags.count == 1 ? "" : "s");
		status = 65;
	}
out:
	if (status)
		cli_register_close(r);
	lethe_diags_free(&diags);
	free(path);
	return status;
}
