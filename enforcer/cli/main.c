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
	{ "hold", cmd_hold, "legal holds: add, list, release" },
	{ "requests", cmd_requests, "the register of requests: list, add, extend (GDPR 12(3))" },
	{ "access", cmd_access, "export a data subject's data and what is kept, why and until when" },
	{ "replay", cmd_replay, "after a restore from a backup, erase again what was erased since" },
	{ "suppressed", cmd_suppressed, "exit 0 when a contact value is on the suppression list" },
	{ "demo", cmd_demo, "write the reference shop's register and a lethe.yaml into DIR" },
	{ "init", cmd_init, "create a site in DIR: lethe.yaml, keys, evidence repository" },
	{ "verify", cmd_verify, "check the evidence repository's signatures and records" },
	{ "status", cmd_status, "the last run, what becomes due soon, unpushed evidence, warnings" },
	{ "approve", cmd_approve, "approve the policy set in force with an approver's own key" },
	{ "prove", cmd_prove, "write a proof of what the evidence says about one data subject" },
	{ "verify-proof", cmd_verify_proof, "check a subject's proof offline with the allowed signers" },
	{ "report", cmd_report, "write the compliance report: a static HTML page over evidence and plan" },
	{ "digest", cmd_digest, "a row's or subject's keyed digest, and the runs that disposed of it" },
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
		   "  lethe [-c FILE] erase --subject KEY [--received YYYY-MM-DD] [--dry-run] [--json]\n"
		   "  lethe [-c FILE] access --subject KEY --output FILE.zip|FILE.tar.gz\n"
		   "                         [--received YYYY-MM-DD]\n"
		   "  lethe [-c FILE] requests [list] [--json]\n"
		   "  lethe [-c FILE] requests add --kind access|erasure --subject KEY\n"
		   "                           [--received YYYY-MM-DD]\n"
		   "  lethe [-c FILE] requests extend ID --until YYYY-MM-DD --reason TEXT\n"
		   "  lethe [-c FILE] replay [--dry-run] [--json]\n"
		   "  lethe [-c FILE] suppressed VALUE\n"
		   "  lethe [-c FILE] hold add --reason TEXT (--subject KEY | --rule NAME [--where SQL])\n"
		   "                       [--until YYYY-MM-DD]\n"
		   "  lethe [-c FILE] hold list [--json] | hold release ID --reason TEXT\n"
		   "  lethe demo DIR [--customers N] [--seed N] [--policies DIR]\n"
		   "  lethe init DIR [--database PATH] [--policies DIR]\n"
		   "  lethe [-c FILE] verify [--allowed-signers FILE] [--json] [REPOSITORY]\n"
		   "  lethe [-c FILE] status [--as-of YYYY-MM-DD] [--json]\n"
		   "  lethe [-c FILE] prove --subject KEY --output FILE [--as-of YYYY-MM-DD]\n"
		   "  lethe verify-proof FILE --allowed-signers FILE [--pseudonym-key FILE] [--json]\n"
		   "  lethe [-c FILE] digest (--table NAME | --rule NAME) --key KEY [--json]\n"
		   "  lethe [-c FILE] digest --subject KEY [--json]\n"
		   "  lethe [-c FILE] report --html DIR [--since YYYY-MM-DD] [--as-of YYYY-MM-DD]\n"
		   "                         [--language en|fi] [--json]\n\n"
		   "the configuration is -c FILE, else $LETHE_CONFIG, else ./lethe.yaml,\n"
		   "else /etc/lethe/lethe.yaml.\n");
}

/* The usage line of name from the list above, its summary, and where the
 * whole story is. 64 for an unknown command. */
static int command_help(const char *name)
{
	static const char *const lines[][2] = {
		{ "check", "lethe [-c FILE] check" },
		{ "plan", "lethe [-c FILE] plan [--as-of YYYY-MM-DD] [--json]" },
		{ "run", "lethe [-c FILE] run [--as-of YYYY-MM-DD] [--dry-run] [--json] [--max-rows-per-rule N]" },
		{ "demo", "lethe demo DIR [--customers N] [--seed N] [--policies DIR]" },
		{ "init", "lethe init DIR [--database PATH] [--policies DIR]" },
		{ "verify", "lethe [-c FILE] verify [--allowed-signers FILE] [--json] [REPOSITORY]" },
		{ "status", "lethe [-c FILE] status [--as-of YYYY-MM-DD] [--json]" },
		{ "prove", "lethe [-c FILE] prove --subject KEY --output FILE [--as-of YYYY-MM-DD]" },
		{ "verify-proof", "lethe verify-proof FILE --allowed-signers FILE [--pseudonym-key FILE] [--json]" },
		{ "report", "lethe [-c FILE] report --html DIR [--since YYYY-MM-DD] [--as-of YYYY-MM-DD] [--language en|fi] [--json]" },
		{ "digest", "lethe [-c FILE] digest (--table NAME | --rule NAME) --key KEY | --subject KEY [--json]" },
		{ "requests", "lethe [-c FILE] requests [list] [--json] | requests add --kind access|erasure "
			      "--subject KEY [--received YYYY-MM-DD] | requests extend ID --until YYYY-MM-DD "
			      "--reason TEXT" },
	};

	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		const char *line = commands[c].name;

		if (strcmp(name, commands[c].name))
			continue;
		for (size_t k = 0; k < sizeof(lines) / sizeof(*lines); k++)
			if (!strcmp(lines[k][0], name))
				line = lines[k][1];
		printf("usage: %s\n\n%s.\nSee lethe(1) for the options and exit statuses.\n", line,
		       commands[c].summary);
		return 0;
	}
	cli_error("unknown command '%s'", name);
	return 64;
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
	if (!strcmp(argv[i], "help") && i + 1 >= argc) {
		usage(stdout);
		return 0;
	}
	/* `lethe help COMMAND` and `lethe COMMAND --help`: the same text. */
	if (!strcmp(argv[i], "help") || (i + 1 < argc && (!strcmp(argv[i + 1], "--help") ||
							  !strcmp(argv[i + 1], "-h"))))
		return command_help(!strcmp(argv[i], "help") ? argv[i + 1] : argv[i]);
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (!strcmp(argv[i], commands[c].name))
			return commands[c].fn(&opts, argc - i, argv + i);
	cli_error("unknown command '%s'", argv[i]);
	usage(stderr);
	return 64;
}
