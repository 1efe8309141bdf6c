/*
 * cmd_plan_file.c - `lethe plan --out FILE [--key APPROVER_KEY]`: the signed
 * plan `lethe run --plan FILE` applies (lethe/planfile.h). The file holds
 * counts and keyed digests, no key; it is created new (an existing file is
 * refused) and the summary goes to stdout.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd_plan.h"
#include "lethe/error.h"
#include "lethe/site.h"

int cli_plan_write(const lethe_cli_opts *opts, cli_register *r, const char *path,
		   const char *key_path, lethe_day as_of)
{
	lethe_sshkey *key = NULL;
	lethe_site *site = NULL;
	json_t *plan = NULL, *rule;
	char day[11];
	size_t i;
	int64_t total = 0;
	int rc, status = 0;

	if ((key_path && (rc = lethe_sshkey_load_any(&key, key_path, getenv("SSH_AUTH_SOCK"))) < 0) ||
	    (rc = lethe_site_open(&site, r->cfg, r->policy, r->be, LETHE_SITE_KEYS)) < 0 ||
	    (rc = lethe_site_plan_write(&plan, site, as_of, key, path)) < 0) {
		status = cli_fail(rc);
		goto out;
	}
	lethe_day_format(as_of, day);
	json_array_foreach(json_object_get(plan, "rules"), i, rule) {
		json_int_t due = json_integer_value(json_object_get(rule, "due"));

		total += due;
		if (!opts->quiet && due)
			printf("%-40s %9" JSON_INTEGER_FORMAT "\n",
			       json_string_value(json_object_get(rule, "name")), due);
	}
	if (!opts->quiet)
		printf("plan as of %s written to '%s': %" PRId64 " rows due, signed by %s; "
		       "lethe run --plan applies it on %s\n", day, path, total,
		       key ? "the approver's key" : "the site's key", day);
out:
	json_decref(plan);
	lethe_site_free(site);
	lethe_sshkey_free(key);
	return status;
}
