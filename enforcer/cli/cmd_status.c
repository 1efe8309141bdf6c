/*
 * cmd_status.c - `lethe [-c FILE] status [--as-of DATE] [--json]`: the last
 * run as the evidence records it, what becomes due in the next 7 and 30 days,
 * evidence not yet pushed, holds in force, and warnings. Opens the database
 * read-only and writes nothing.
 *
 * Exit status: 0 whether or not there are warnings (monitoring reads them:
 * the text lists them, --json has "warnings"), except 1 when the evidence is
 * behind what lethe wrote (evidence_behind, lethe/evidence_tip.h); with
 * --exit-code, 2 when there are warnings (and the evidence is not behind);
 * otherwise as the contract says.
 *
 * --json prints JSON whatever happens: on a failure, an object
 * {"error": {"status": N, "message": "..."}} on stdout (the messages are on
 * stderr as always), so a monitoring pipe never parses an empty document.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cli.h"
#include "lethe/backend.h"
#include "lethe/error.h"
#include "lethe/evidence.h"
#include "lethe/status.h"

static const char usage_line[] = "usage: lethe [-c FILE] status [--as-of YYYY-MM-DD] [--json] [--exit-code]";

static void print_text(const lethe_status *st, const lethe_config *cfg)
{
	const lethe_status_run *r = &st->last;
	int64_t sum[3] = { 0, 0, 0 };

	if (r->present)
		printf("last run:  record %08" PRId64 ", as of %s, %s%s%s\n"
		       "           disposed %" PRId64 ", blocked %" PRId64 ", invalid %" PRId64
		       ", held %" PRId64 "\n", r->seq, r->as_of, r->result,
		       r->ended_at ? ", ended " : "", r->ended_at ? r->ended_at : "",
		       r->disposed, r->blocked, r->invalid, r->held);
	else
		printf("last run:  none recorded\n");
	for (size_t i = 0; i < st->nrules; i++) {
		sum[0] += st->rules[i].due_now;
		sum[1] += st->rules[i].due_soon;
		sum[2] += st->rules[i].due_later;
	}
	printf("due:       %" PRId64 " now, %" PRId64 " within %d days, %" PRId64 " within %d days\n",
	       sum[0], sum[1], LETHE_STATUS_SOON, sum[2], LETHE_STATUS_LATER);
	for (size_t i = 0; i < st->nrules; i++)
		if (st->rules[i].due_later)
			printf("           %-32s %8" PRId64 " %8" PRId64 " %8" PRId64 "\n", st->rules[i].name,
			       st->rules[i].due_now, st->rules[i].due_soon, st->rules[i].due_later);
	if (!cfg->remote)
		printf("unpushed:  no evidence.remote configured\n");
	else if (st->unpushed < 0)
		printf("unpushed:  unknown (remote '%s' unreadable)\n", cfg->remote);
	else
		printf("unpushed:  %" PRId64 " commit%s (remote '%s')\n", st->unpushed,
		       st->unpushed == 1 ? "" : "s", cfg->remote);
	printf("holds:     %zu in force\n", st->nholds);
	for (size_t i = 0; i < st->nholds; i++) {
		const lethe_status_hold *h = &st->holds[i];

		/* the subject's digest, never its key: status output goes to monitoring */
		printf("           hold %" PRId64 ": %s %s%s, until %s", h->id,
		       h->rule ? "rule" : "subject", h->rule ? h->rule : h->subject ? h->subject :
		       "(no hold record)", h->filtered ? " (filtered)" : "",
		       h->until ? h->until : "released");
		if (h->record)
			printf(" (record %08" PRId64 ")", h->record);
		printf("\n");
	}
	if (st->open_erasures)
		printf("erasures:  %zu open since %s: rows kept while a condition or a legal hold "
		       "holds; the daily run finishes them\n", st->open_erasures, st->open_since);
	else
		printf("erasures:  none open\n");
	printf("warnings:  %s\n", st->warnings.count ? "" : "none");
	for (size_t i = 0; i < st->warnings.count; i++)
		printf("  - %s\n", st->warnings.items[i]);
}

/* The error object of --json for a failure with exit status status. */
static int print_json_error(int status)
{
	const char *msg = lethe_error_last();

	if (!msg || !*msg)
		msg = status == 65 || status == 78 ? "configuration or policy faults (see stderr)" :
						     "status failed (see stderr)";
	cli_print_json(json_pack("{s:{s:i,s:s}}", "error", "status", status, "message", msg));
	return status;
}

static int status_main(const lethe_cli_opts *opts, int argc, char **argv, int *json);

int cmd_status(const lethe_cli_opts *opts, int argc, char **argv)
{
	int json = 0;
	int status = status_main(opts, argc, argv, &json);

	if (json && status > 1 && status != 2)
		print_json_error(status);
	return status;
}

static int status_main(const lethe_cli_opts *opts, int argc, char **argv, int *json_out)
{
	/* the options of status_options in main.c (checked there by cli_args.c) */
	static const struct option longopts[] = {
		{ "as-of", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "exit-code", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *as_of_arg = NULL;
	int json = 0, exit_code = 0, status, rc, c;
	lethe_status_input in = { 0 };
	lethe_status *st = NULL;
	lethe_evidence *ev = NULL;
	cli_register r;
	char *text = NULL;

	optind = 0; /* glibc: a full restart after cli_args.c's parsing */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': as_of_arg = optarg; break;
		case 'j': json = *json_out = 1; break;
		case 'e': exit_code = 1; break;
		case 'h': printf("%s\n", usage_line); return 0;
		default:
			cli_error("status: unexpected argument '%s'\n%s", argv[optind - 1], usage_line);
			return 64;
		}
	}
	if (optind != argc) {
		cli_error("status: unexpected argument '%s'\n%s", argv[optind], usage_line);
		return 64;
	}
	if ((status = cli_parse_as_of(&in.as_of, as_of_arg)))
		return status;
	if ((status = cli_register_open(&r, opts, LETHE_BACKEND_READONLY)))
		return status;
	const char *keys[] = { r.cfg->pseudonym_key, r.cfg->signing_key };

	if (r.cfg->evidence_repository && (rc = lethe_evidence_open(&ev, r.cfg->evidence_repository)) < 0) {
		status = cli_fail(rc);
		goto out;
	}
	in.be = r.be;
	in.policy = r.policy;
	in.ev = ev;
	in.remote = r.cfg->remote;
	in.keys = keys;
	in.nkeys = 2;
	if ((rc = lethe_status_new(&st, &in)) < 0) {
		status = cli_fail(rc);
		goto out;
	}
	if (json) {
		if ((rc = lethe_status_to_json(&text, st)) < 0) {
			status = cli_fail(rc);
			goto out;
		}
		printf("%s\n", text);
	} else {
		print_text(st, r.cfg);
	}
	/* a truncated evidence is a problem found, as verify says it (exit 1) */
	if (st->evidence_behind)
		status = 1;
	else if (exit_code && st->warnings.count)
		status = 2;
out:
	free(text);
	lethe_status_free(st);
	lethe_evidence_free(ev);
	cli_register_close(&r);
	return status;
}
