/*
 * cmd_verify.c - `lethe [-c FILE] verify [--allowed-signers FILE] [--json]
 * [--expect-at-least SEQ] [--expect-head COMMIT] [--expect-from-register]
 * [REPOSITORY]`: the auditor's
 * check of an evidence repository; the expectations are what the auditor saw
 * last time (a main behind them was truncated or rolled back). The
 * configuration is read only for what the command line leaves out, so an
 * auditor with a clone and an allowed-signers file needs no lethe.yaml.
 * Verifying the site's own evidence (no REPOSITORY), or with
 * --expect-from-register, the register's remembered head (the last record
 * lethe wrote, lethe/evidence_tip.h) is expected too: a main reset behind it
 * fails. With the flag the register must be readable.
 * Exit 0 all holds, 1 a problem found, else the error's status.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "lethe/backend.h"
#include "lethe/error.h"
#include "lethe/evidence_tip.h"
#include "lethe/verify.h"

static void print_json(int ok, const lethe_verify_report *r)
{
	json_t *o = json_pack("{s:b, s:I, s:I}", "ok", ok, "commits", (json_int_t)r->commits,
			      "records", (json_int_t)r->records);
	char *text;

	if (!o)
		return;
	json_object_set_new(o, "bad_commit", ok || !r->bad_commit[0] ? json_null()
							     : json_string(r->bad_commit));
	json_object_set_new(o, "seq", ok || r->seq < 0 ? json_null() : json_integer(r->seq));
	json_object_set_new(o, "reason", ok ? json_null() : json_string(r->reason));
	json_object_set_new(o, "head", ok ? json_string(r->head) : json_null());
	json_object_set_new(o, "head_seq", ok ? json_integer(r->head_seq) : json_null());
	text = json_dumps(o, JSON_COMPACT);
	if (text)
		printf("%s\n", text);
	free(text);
	json_decref(o);
}

/* Fill in what the command line left out from lethe.yaml, and, when
 * asked (site not NULL), the database's path and the site's own evidence
 * repository into site[0] and site[1]. 0 or exit status. */
static int from_config(char **repo, char **signers, char **site, const lethe_cli_opts *opts)
{
	lethe_diags diags = LETHE_DIAGS_INIT;
	lethe_config *cfg = NULL;
	char *path = NULL;
	int rc, status = 0;

	if ((rc = lethe_config_locate(&path, opts->config_path)) < 0) {
		status = cli_fail(rc);
		goto out;
	}
	rc = lethe_config_load(&cfg, path, &diags);
	if (rc == LETHE_ECONFIG) {
		cli_print_diags(&diags);
		status = 78;
		goto out;
	} else if (rc < 0) {
		status = cli_fail(rc);
		goto out;
	}
	if (!*repo && !cfg->evidence_repository) {
		cli_error("verify: no REPOSITORY given and '%s' has no evidence.repository", path);
		status = 78;
		goto out;
	}
	if (!*signers && !cfg->allowed_signers) {
		cli_error("verify: no --allowed-signers given and '%s' has no "
			  "evidence.allowed_signers", path);
		status = 78;
		goto out;
	}
	if (!*repo && !(*repo = strdup(cfg->evidence_repository)))
		status = 70;
	if (!status && !*signers && !(*signers = strdup(cfg->allowed_signers)))
		status = 70;
	if (!status && site && cfg->database && !(site[0] = strdup(cfg->database)))
		status = 70;
	if (!status && site && cfg->evidence_repository &&
	    !(site[1] = strdup(cfg->evidence_repository)))
		status = 70;
out:
	lethe_diags_free(&diags);
	lethe_config_free(cfg);
	free(path);
	return status;
}

static const char usage_line[] = "usage: lethe [-c FILE] verify [--allowed-signers FILE] "
	"[--json] [--expect-at-least SEQ] [--expect-head COMMIT] [--expect-from-register] "
	"[REPOSITORY]";

/* The register's remembered evidence head as expectations: at least its
 * sequence number, and its commit unless the command line names one. With
 * required 0 a register that cannot be read expects nothing. 0 or exit status. */
static int from_register(lethe_verify_expect *e, char head[41], char *const site[2], int required)
{
	lethe_backend *be = NULL;
	lethe_evidence *ev = NULL;
	int64_t seq = 0;
	int found = 0, rc;

	if (!site[0] || !site[1]) {
		if (!required)
			return 0;
		cli_error("verify: --expect-from-register: no database or evidence.repository is "
			  "configured");
		return 78;
	}
	/* the head is the one remembered for the site's own repository, whatever
	 * copy of it is verified (an auditor's clone) */
	rc = lethe_backend_open(&be, site[0], LETHE_BACKEND_READONLY);
	if (rc == 0)
		rc = lethe_evidence_open(&ev, site[1]);
	if (rc == 0)
		rc = lethe_evidence_tip_load(&found, &seq, head, be, ev);
	lethe_evidence_free(ev);
	lethe_backend_free(be);
	if (rc < 0)
		return required ? cli_fail(rc) : 0;
	if (!found)
		return 0;
	if (seq > e->at_least_seq)
		e->at_least_seq = seq;
	if (!e->head)
		e->head = head;
	return 0;
}

/* --expect-at-least and --expect-head: 1 when argv[*i] was one, 0 when not,
 * or an exit status (64) for a bad value. */
static int expectation(lethe_verify_expect *e, int argc, char **argv, int *i)
{
	int missing = 0;
	const char *v;
	char *end;

	if ((v = cli_option_value(argc, argv, i, "--expect-at-least", &missing))) {
		long long n = strtoll(v, &end, 10);

		if (!*v || *end || n < 1) {
			cli_error("verify: --expect-at-least: '%s' is not a sequence number (1 or more)", v);
			return 64;
		}
		e->at_least_seq = n;
		return 1;
	}
	if (!missing && (v = cli_option_value(argc, argv, i, "--expect-head", &missing))) {
		e->head = v;
		return 1;
	}
	if (missing) {
		cli_error("verify: option '%s' needs a value", argv[*i]);
		return 64;
	}
	return 0;
}

int cmd_verify(const lethe_cli_opts *opts, int argc, char **argv)
{
	char *repo = NULL, *signers = NULL, *site[2] = { NULL, NULL }, head[41];
	lethe_verify_report rep;
	lethe_verify_expect expect = { 0, NULL };
	int json = 0, status = 0, rc, missing = 0, register_flag = 0, own = 0;

	for (int i = 1; i < argc; i++) {
		const char *v;

		if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if (!strcmp(argv[i], "--expect-from-register")) {
			register_flag = 1;
		} else if ((rc = expectation(&expect, argc, argv, &i))) {
			if (rc != 1) {
				status = rc;
				goto out;
			}
		} else if ((v = cli_option_value(argc, argv, &i, "--allowed-signers", &missing))) {
			free(signers);
			signers = strdup(v);
		} else if (missing) {
			cli_error("verify: option '--allowed-signers' needs a file");
			status = 64;
			goto out;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("%s\n", usage_line);
			goto out;
		} else if (argv[i][0] == '-' || repo) {
			cli_error("verify: unexpected argument '%s'", argv[i]);
			status = 64;
			goto out;
		} else {
			repo = strdup(argv[i]);
		}
	}
	own = !repo;
	if ((!repo || !signers || register_flag) &&
	    (status = from_config(&repo, &signers, own || register_flag ? site : NULL, opts)))
		goto out;
	if ((own || register_flag) && (status = from_register(&expect, head, site, register_flag)))
		goto out;
	rc = lethe_verify_expecting(&rep, repo, signers, &expect);
	if (rc < 0 && rc != LETHE_EVERIFY) {
		status = cli_fail(rc);
		goto out;
	}
	status = rc == 0 ? 0 : 1;
	if (json)
		print_json(rc == 0, &rep);
	else if (rc == 0)
		/* the head is what the auditor keeps to detect a rollback next time */
		printf("ok: %zu commit%s, %zu record%s verified; head %08lld %s\n", rep.commits,
		       rep.commits == 1 ? "" : "s", rep.records, rep.records == 1 ? "" : "s",
		       (long long)rep.head_seq, rep.head);
	else
		printf("FAIL: %s\n", rep.reason);
out:
	free(repo);
	free(signers);
	free(site[0]);
	free(site[1]);
	return status;
}
