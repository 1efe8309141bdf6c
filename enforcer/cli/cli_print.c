/*
 * cli_print.c - plans and run results for people: the table on stdout and
 * the warnings about invalid clocks on stderr.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include <stdlib.h>
#include "cli.h"
#include "lethe/error.h"
#include "lethe/text.h"

void cli_print_plan(const lethe_plan *plan, const char *due_label)
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
	       "ACTION", "IN SCOPE", due_label, "NOT DUE", "NO CLOCK", "INVALID", "HELD", "BLOCKED",
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
void cli_warn_invalid(const lethe_cli_opts *opts, const lethe_plan *plan)
{
	for (size_t i = 0; i < plan->nrules; i++) {
		const lethe_rule_plan *rp = &plan->rules[i];

		if (!rp->invalid)
			continue;
		/* room for every example whole: quoted, escaped and cut (lethe/text.h) */
		char keys[LETHE_PLAN_EXAMPLES * (LETHE_EXCERPT_SIZE + 4)] = "";
		size_t used = 0;

		for (size_t j = 0; j < rp->ninvalid_examples && used < sizeof(keys); j++)
			used += (size_t)snprintf(keys + used, sizeof(keys) - used, "%s'%s'",
						 j ? ", " : " ", rp->invalid_examples[j]);
		cli_log(opts, CLI_WARNING, "rule '%s': %" PRId64 " row%s of '%s' with an invalid "
			"clock (never disposed), e.g. key%s%s", rp->rule->name, rp->invalid,
			rp->invalid == 1 ? "" : "s", rp->rule->table,
			rp->ninvalid_examples == 1 ? "" : "s", keys);
	}
}


int cli_print_json(struct json_t *root)
{
	char *text = root ? json_dumps(root, JSON_INDENT(2)) : NULL;

	json_decref(root);
	if (!text)
		return cli_fail(lethe_error_set(LETHE_ESOFTWARE, "out of memory"));
	printf("%s\n", text);
	free(text);
	return 0;
}
