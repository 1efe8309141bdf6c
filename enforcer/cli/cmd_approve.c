/*
 * cmd_approve.c - `lethe [-c FILE] approve --key KEY --reason TEXT [--json]`:
 * an approver approves the policy set in force with their own SSH key,
 * recorded as an `approval` record (lethe/approval.h, docs/evidence-format.md).
 *
 * Exit status: 0 recorded; 64 bad usage or reason; 66 the key file is
 * missing; 77 the key is no approver (no allowed-signers line with
 * namespaces="lethe-approval" lists it) or is readable by others; 78
 * evidence.allowed_signers is not configured; others as the contract says.
 */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "lethe/error.h"
#include "lethe/site.h"

static const char usage_text[] = "usage: lethe [-c FILE] approve --key KEY --reason TEXT [--json]";

int cmd_approve(const lethe_cli_opts *opts, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "reason", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *key_path = NULL, *reason = NULL;
	lethe_warnings warnings = { 0 };
	lethe_sshkey *key = NULL;
	lethe_site *site = NULL;
	cli_register r = { 0 };
	char digest[65] = "";
	int64_t seq = 0;
	int c, json = 0, status = 0, rc;

	optind = 0; /* glibc: a full restart after cli_args.c's parsing */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'k')
			key_path = optarg;
		else if (c == 'r')
			reason = optarg;
		else if (c == 'j')
			json = 1;
		else if (c == 'h') {
			printf("%s\n", usage_text);
			return 0;
		} else {
			cli_error("approve: bad option '%s'\n%s", argv[optind - 1], usage_text);
			return 64;
		}
	}
	if (optind != argc || !key_path || !reason) {
		cli_error("approve: --key and --reason are required\n%s", usage_text);
		return 64;
	}
	/* the approver's key first: a wrong key changes nothing and takes no lock */
	if ((rc = lethe_sshkey_load_any(&key, key_path, getenv("SSH_AUTH_SOCK"))) < 0)
		return cli_fail(rc);
	if ((status = cli_register_open(&r, opts, 0)))
		goto out;
	if ((rc = lethe_site_open(&site, r.cfg, r.policy, r.be, LETHE_SITE_WRITE)) < 0 ||
	    (rc = lethe_site_approve(&seq, digest, &warnings, site, key, reason)) < 0) {
		status = cli_fail(rc);
		goto out;
	}
	cli_warnings(opts, &warnings);
	if (json)
		status = cli_print_json(json_pack("{s:I, s:s}", "seq", (json_int_t)seq,
						  "policy_digest", digest));
	else if (!opts->quiet)
		printf("policy set %s approved (evidence record %" PRId64 ")\n", digest, seq);
out:
	lethe_warnings_free(&warnings);
	lethe_site_free(site);
	cli_register_close(&r);
	lethe_sshkey_free(key);
	return status;
}
