/*
 * cmd_prove.c - a data subject's proof:
 *   lethe [-c FILE] prove --subject KEY --output FILE [--as-of DATE]
 *   lethe verify-proof FILE --allowed-signers FILE [--pseudonym-key FILE] [--json]
 * prove writes what the evidence says about the subject (erasures with
 * their digest files, holds, exports, the subject's own row disposed by a
 * run) as signed commits and raw objects, and what is still kept
 * (lethe/proof.h). verify-proof checks it without the repository and
 * without lethe.yaml.
 *
 * The proof names the subject by its key (it is made for that person) and
 * holds no other subject's key or data; it is written mode 0600 and never
 * over an existing file. Exit: prove 0, 66 nothing configured, ...;
 * verify-proof 0 holds, 1 rejected, 65 not a proof, 66 a file missing.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli_evidence.h"
#include "lethe/error.h"
#include "lethe/proof.h"
#include "lethe/subject.h"

static const char prove_usage[] =
	"usage: lethe [-c FILE] prove --subject KEY --output FILE [--as-of YYYY-MM-DD]";
static const char verify_usage[] =
	"usage: lethe verify-proof FILE --allowed-signers FILE [--pseudonym-key FILE] [--json]";

int cmd_prove(const lethe_cli_opts *opts, int argc, char **argv)
{
	const char *subject = NULL, *output = NULL, *as_of_arg = NULL, *v, *t;
	char sdigest[LETHE_DIGEST_SIZE], buf[LETHE_SUBJECT_KEY_TEXT], day[11], *text = NULL;
	lethe_row_queries q = { 0 };
	lethe_evidence_findings *f = NULL;
	lethe_subject s = { 0 };
	json_t *kept = NULL, *proof = NULL;
	lethe_day as_of;
	size_t tlen;
	int status, rc;
	cli_evidence e;

	for (int i = 1; i < argc; i++) {
		int missing = 0;

		if ((v = cli_option_value(argc, argv, &i, "--subject", &missing)))
			subject = v;
		else if ((v = cli_option_value(argc, argv, &i, "--output", &missing)))
			output = v;
		else if ((v = cli_option_value(argc, argv, &i, "--as-of", &missing)))
			as_of_arg = v;
		if (missing || !v) {
			cli_error("prove: %s '%s'\n%s", missing ? "missing value of" : "unexpected argument",
				  argv[i], prove_usage);
			return 64;
		}
	}
	if (!subject || !output) {
		cli_error("prove: --subject and --output are required\n%s", prove_usage);
		return 64;
	}
	if ((status = cli_parse_as_of(&as_of, as_of_arg)))
		return status;
	lethe_day_format(as_of, day);
	if ((status = cli_evidence_open(&e, opts, 1)))
		return status;
	if ((rc = lethe_subject_parse(&s, e.r.be, e.r.policy, subject)) < 0 ||
	    (rc = lethe_subject_digest(sdigest, e.key, &s.value)) < 0 ||
	    (rc = lethe_subject_key_text(&t, &tlen, buf, &s.value)) < 0 ||
	    (rc = lethe_row_queries_for(&q, e.r.be, e.r.policy, e.key, e.r.policy->subject_table,
					e.r.policy->subject_key, t)) < 0 ||
	    (rc = lethe_evidence_find(&f, e.ev, sdigest, q.q, q.n)) < 0 ||
	    (rc = lethe_proof_kept(&kept, e.r.be, e.r.policy, &s.value, as_of)) < 0) {
		status = cli_fail(rc);
		goto out;
	}
	lethe_proof_input in = { e.ev, f, sdigest, t, e.r.policy->subject_table, kept, day };

	if ((rc = lethe_proof_make(&proof, &in)) < 0 || (rc = lethe_proof_write(output, proof)) < 0) {
		status = cli_fail(rc);
		goto out;
	}
	cli_log(opts, CLI_INFO, "proof of subject %s written to '%s': %zu record%s, %zu row%s "
		"disposed by runs, %zu rule%s keeping rows", sdigest, output, f->nrecords,
		f->nrecords == 1 ? "" : "s", f->nrows, f->nrows == 1 ? "" : "s",
		json_array_size(kept), json_array_size(kept) == 1 ? "" : "s");
out:
	free(text);
	json_decref(proof);
	json_decref(kept);
	lethe_evidence_findings_free(f);
	lethe_row_queries_release(&q);
	lethe_subject_release(&s);
	cli_evidence_close(&e);
	return status;
}

int cmd_verify_proof(const lethe_cli_opts *opts, int argc, char **argv)
{
	const char *file = NULL, *signers_path = NULL, *key_path = NULL, *v;
	lethe_allowed_signers *signers = NULL;
	lethe_token_key *key = NULL;
	lethe_proof_result res = { 0 };
	int json = 0, status = 0, rc;

	(void)opts;
	for (int i = 1; i < argc; i++) {
		int missing = 0;

		if (!strcmp(argv[i], "--json")) {
			json = 1;
			continue;
		}
		if ((v = cli_option_value(argc, argv, &i, "--allowed-signers", &missing)))
			signers_path = v;
		else if ((v = cli_option_value(argc, argv, &i, "--pseudonym-key", &missing)))
			key_path = v;
		else if (!missing && argv[i][0] != '-' && !file)
			v = file = argv[i];
		if (missing || !v) {
			cli_error("verify-proof: %s '%s'\n%s", missing ? "missing value of" :
				  "unexpected argument", argv[i], verify_usage);
			return 64;
		}
	}
	if (!file || !signers_path) {
		cli_error("verify-proof: FILE and --allowed-signers are required\n%s", verify_usage);
		return 64;
	}
	if ((rc = lethe_allowed_signers_load(&signers, signers_path)) < 0 ||
	    (key_path && (rc = lethe_token_key_load(&key, key_path)) < 0)) {
		status = cli_fail(rc);
		goto out;
	}
	rc = lethe_proof_verify_file(&res, file, signers, key);
	if (json) {
		json_t *lines = json_array();

		for (size_t i = 0; rc == 0 && i < res.nlines; i++)
			json_array_append_new(lines, json_string(res.lines[i]));
		status = cli_print_json(json_pack("{s:b, s:s?, s:s?, s:I, s:I, s:I, s:b, s:o}", "ok",
						  rc == 0, "subject", rc == 0 ? res.subject : NULL,
						  "reason", rc ? lethe_error_last() : NULL, "commits",
						  (json_int_t)res.commits, "records",
						  (json_int_t)res.records, "digest_files",
						  (json_int_t)res.digest_files, "subject_checked",
						  res.subject_checked, "facts", lines));
		if (rc < 0)
			status = lethe_error_exit_code(rc);
		goto out;
	}
	if (rc < 0) {
		status = cli_fail(rc);
		goto out;
	}
	printf("ok: proof of subject %s%s: %zu signed commit%s, %zu record%s, %zu digest file%s\n",
	       res.subject, res.subject_checked ? " (digest of its key checked)" : "", res.commits,
	       res.commits == 1 ? "" : "s", res.records, res.records == 1 ? "" : "s",
	       res.digest_files, res.digest_files == 1 ? "" : "s");
	for (size_t i = 0; i < res.nlines; i++)
		printf("  %s\n", res.lines[i]);
out:
	lethe_proof_result_release(&res);
	lethe_token_key_free(key);
	lethe_allowed_signers_free(signers);
	return status;
}
