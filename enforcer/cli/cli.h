/*
 * cli.h - the command layer: one cmd_<name>.c per command, dispatched from
 * main.c. Only this layer prints and chooses exit statuses.
 *
 * Every command has the signature of lethe_cmd_fn: argv[0] is the command's
 * name, the global options (-c FILE) are already parsed into opts, and the
 * return value is the process exit status of the contract (0, 1, 64..78).
 */
#ifndef LETHE_CLI_H
#define LETHE_CLI_H

#include "lethe/config.h"
#include "lethe/diag.h"
#include "lethe/policy.h"

typedef struct {
	const char *config_path;  /* -c FILE, or NULL */
	int quiet;
	int verbose;
} lethe_cli_opts;

typedef int (*lethe_cmd_fn)(const lethe_cli_opts *opts, int argc, char **argv);

int cmd_check(const lethe_cli_opts *opts, int argc, char **argv);
int cmd_plan(const lethe_cli_opts *opts, int argc, char **argv);
int cmd_demo(const lethe_cli_opts *opts, int argc, char **argv);

/* "lethe: MESSAGE\n" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print the last library error and return its exit status. */
int cli_fail(int code);

/* Print every fault as FILE:LINE:COLUMN: message, sorted. */
void cli_print_diags(lethe_diags *d);

#endif
