/*
 * main.c - global options and the command table. Each command lives in its
 * own cmd_<name>.c and returns the exit status of the contract.
 */
#include <stdio.h>
#include <string.h>
#include "cli.h"

typedef struct {
	const char *name;
	lethe_cmd_fn fn;
	const char *summary;
} command;

static const command commands[] = {
	{ "check", cmd_check, "validate lethe.yaml and every policy file against the database" },
	{ "plan", cmd_plan, "show what a run would dispose of, today or --as-of DATE" },
	{ "run", cmd_run, "dispose of what is due; --dry-run shows what it would do" },
	{ "erase", cmd_erase, "erase a data subject's data, keeping what must be kept" },
	{ "replay", cmd_replay, "after a restore from a backup, erase again what was erased since" },
	{ "suppressed", cmd_suppressed, "exit 0 when a contact value is on the suppression list" },
	{ "demo", cmd_demo, "write the reference shop's register and a lethe.yaml into DIR" },
	{ "init", cmd_init, "create a site in DIR: lethe.yaml, keys, evidence repository" },
	{ "verify", cmd_verify, "check the evidence repository's signatures and records" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: lethe [-c FILE] [-q|-v] COMMAND [ARGS]\n\n");
	fprintf(f, "commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n  lethe [-c FILE] check\n"
		   "  lethe [-c FILE] plan [--as-of YYYY-MM-DD] [--json]\n"
		   "  lethe [-c FILE] run [--as-of YYYY-MM-DD] [--dry-run] [--json]\n"
		   "                      [--max-rows-per-rule N]\n"
		   "  lethe [-c FILE] erase --subject KEY [--dry-run] [--json]\n"
		   "  lethe [-c FILE] replay [--dry-run] [--json]\n"
		   "  lethe [-c FILE] suppressed VALUE\n"
		   "  lethe demo DIR [--customers N] [--seed N] [--policies DIR]\n"
		   "  lethe init DIR [--database PATH] [--policies DIR]\n"
		   "  lethe [-c FILE] verify [--allowed-signers FILE] [--json] [REPOSITORY]\n\n"
		   "the configuration is -c FILE, else $LETHE_CONFIG, else ./lethe.yaml,\n"
		   "else /etc/lethe/lethe.yaml.\n");
}

int main(int argc, char **argv)
{
	lethe_cli_opts opts = { 0 };
	int i = 1;

	for (; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
			if (i + 1 >= argc) {
				cli_error("option '%s' needs a file", a);
				return 64;
			}
			opts.config_path = argv[++i];
		} else if (!strncmp(a, "--config=", 9)) {
			opts.config_path = a + 9;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			opts.quiet = 1;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			opts.verbose = 1;
		} else if (!strcmp(a, "--version")) {
			printf("lethe %s\n", LETHE_VERSION);
			return 0;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (a[0] == '-') {
			cli_error("unknown option '%s'", a);
			usage(stderr);
			return 64;
		} else {
			break;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 64;
	}
	if (!strcmp(argv[i], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (!strcmp(argv[i], commands[c].name))
			return commands[c].fn(&opts, argc - i, argv + i);
	cli_error("unknown command '%s'", argv[i]);
	usage(stderr);
	return 64;
}
