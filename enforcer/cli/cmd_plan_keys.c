/*
 * cmd_plan_keys.c - `lethe plan --keys RULE`: the keys of the rows a run
 * would dispose of under RULE at the as-of, one a line on stdout, for the
 * operator's terminal (lethe_plan_due_keys). Nothing is recorded or logged:
 * the keys are personal data and never reach the evidence or the journal.
 * Text keys are printed as lethe_text_line makes them safe (no control
 * characters reach the terminal).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd_plan.h"
#include "lethe/error.h"
#include "lethe/text.h"

static int print_key(void *ctx, const lethe_value *key)
{
	char *line, *raw;

	(void)ctx;
	switch (key->type) {
	case LETHE_VALUE_INTEGER:
		printf("%" PRId64 "\n", key->i);
		return 0;
	case LETHE_VALUE_REAL:
		printf("%.17g\n", key->r);
		return 0;
	case LETHE_VALUE_TEXT:
		if (memchr(key->s, '\0', key->len)) {
			printf("(text with a NUL byte)\n");
			return 0;
		}
		if (!(raw = strndup(key->s, key->len)))
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		line = lethe_text_line(raw);
		free(raw);
		if (!line)
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		printf("%s\n", line);
		free(line);
		return 0;
	default:
		printf("%s\n", key->type == LETHE_VALUE_NULL ? "NULL" : "(blob)");
		return 0;
	}
}

int cli_plan_keys(const lethe_cli_opts *opts, cli_register *r, const char *rule, lethe_day as_of)
{
	int rc;

	(void)opts;
	for (size_t i = 0; i < r->policy->nrules; i++) {
		if (strcmp(r->policy->rules[i].name, rule))
			continue;
		if ((rc = lethe_plan_due_keys(r->be, r->policy, i, as_of, print_key, NULL)) < 0)
			return cli_fail(rc);
		return fflush(stdout) == 0 ? 0 : 74;
	}
	cli_error("plan --keys: no rule '%s' in the policy", rule);
	return 65;
}
