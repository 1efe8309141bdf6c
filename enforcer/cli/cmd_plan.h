/*
 * cmd_plan.h - the parts of `lethe plan` in files of their own (local to
 * the plan command; main.c and cli.h know cmd_plan only).
 */
#ifndef LETHE_CMD_PLAN_H
#define LETHE_CMD_PLAN_H

#include "cli.h"

/* --compare DRAFT: the impact table (or JSON) of the draft policy folder
 * against r's policy at as_of. 0 or the exit status (65 draft faults). */
int cli_plan_compare(const lethe_cli_opts *opts, cli_register *r, const char *draft,
		     lethe_day as_of, int json);

/* --keys RULE: the keys rule would dispose of at as_of, one a line on
 * stdout (never into the evidence). 0 or the exit status. */
int cli_plan_keys(const lethe_cli_opts *opts, cli_register *r, const char *rule, lethe_day as_of);

/* --out FILE: the signed plan of r at as_of (lethe/planfile.h), signed
 * with the approver's key at key_path, else the site's signing key. */
int cli_plan_write(const lethe_cli_opts *opts, cli_register *r, const char *path,
		   const char *key_path, lethe_day as_of);

#endif
