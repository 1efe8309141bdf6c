/*
 * cmd_plan_keys.c - `lethe plan --keys RULE`: the keys of the rows a run
 * would dispose of under RULE at the as-of, one a line, for the operator's
 * terminal (lethe_plan_due_keys). Nothing is recorded: the keys are personal
 * data and never reach the evidence or the log.
 */
#include <stdio.h>
#include "cmd_plan.h"
#include "lethe/error.h"
#include "lethe/text.h"

int cli_plan_keys(const lethe_cli_opts *opts, cli_register *r, const char *rule, lethe_day as_of)
{
	(void)opts;
	(void)r;
	(void)rule;
	(void)as_of;
	cli_error("plan --keys: not built yet");
	return 70;
}

int cli_plan_write(const lethe_cli_opts *opts, cli_register *r, const char *path, lethe_day as_of)
{
	(void)opts;
	(void)r;
	(void)path;
	(void)as_of;
	cli_error("plan --out: not built yet");
	return 70;
}
