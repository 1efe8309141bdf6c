/*
 * cmd_digest.c - `lethe [-c FILE] digest (--table T | --rule R) --key KEY
 * [--json]` and `lethe digest --subject KEY [--json]`: for the controller,
 * whether a row was disposed of and when. It prints the row's keyed digest
 * per rule (docs/auditor-guide.md, "Was this row disposed of?") and every
 * run whose digest file holds it; with --subject, the subject digest and
 * every erasure, hold and export naming the subject, and the subject's own
 * row in the subject table's rules.
 *
 * Reads only; needs the pseudonym key. Exit 0 whether or not anything was
 * found (the output says), 64 usage, else as the contract says.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cli_evidence.h"
#include "lethe/backend.h"
#include "lethe/error.h"
#include "lethe/proof.h"
#include "lethe/subject.h"
#include "lethe/text.h"

static const char usage_line[] =
	"usage: lethe [-c FILE] digest (--table NAME | --rule NAME) --key KEY [--json]\n"
	"       lethe [-c FILE] digest --subject KEY [--json]";

int cli_evidence_open(cli_evidence *e, const lethe_cli_opts *opts, int want_key)
{
	int status, rc;

	memset(e, 0, sizeof(*e));
	if ((status = cli_register_open(&e->r, opts, LETHE_BACKEND_READONLY)))
		return status;
	if (!e->r.cfg->evidence_repository || (want_key && !e->r.cfg->pseudonym_key)) {
		cli_error("'%s': '%s' is not configured", e->r.cfg->path,
			  e->r.cfg->evidence_repository ? "pseudonym_key" : "evidence.repository");
		cli_register_close(&e->r);
		return 78;
	}
	if ((want_key && (rc = lethe_token_key_load(&e->key, e->r.cfg->pseudonym_key)) < 0) ||
	    (rc = lethe_evidence_open(&e->ev, e->r.cfg->evidence_repository)) < 0) {
		status = cli_fail(rc);
		cli_evidence_close(e);
		return status;
	}
	return 0;
}

void cli_evidence_close(cli_evidence *e)
{
	lethe_evidence_free(e->ev);
	lethe_token_key_free(e->key);
	cli_register_close(&e->r);
	memset(e, 0, sizeof(*e));
}

static const char *str(const json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

/* One row query's answer: the runs whose digest files hold it. */
static json_t *row_json(const lethe_evidence_findings *f, const lethe_row_query *q)
{
	json_t *runs = json_array();

	for (size_t i = 0; runs && i < f->nrows; i++) {
		const json_t *r = f->records[f->rows[i].completion].record;

		if (f->rows[i].digest != q->digest)
			continue;
		json_array_append_new(runs, json_pack("{s:I, s:s?, s:s?, s:s?, s:s?, s:s}", "record",
						      (json_int_t)f->records[f->rows[i].completion].seq,
						      "run_id", str(r, "run_id"), "as_of",
						      str(r, "as_of"), "ended_at", str(r, "ended_at"),
						      "result", str(r, "result"), "digests",
						      f->rows[i].digests_path));
	}
	return json_pack("{s:s, s:s, s:o}", "rule", q->rule, "digest", q->digest, "disposed", runs);
}

static void print_text(const json_t *root)
{
	json_t *rows = json_object_get(root, "rows"), *row, *recs, *rec;
	size_t i, k;

	if (str(root, "subject"))
		printf("subject digest %s\n", str(root, "subject"));
	json_array_foreach(rows, i, row) {
		json_t *runs = json_object_get(row, "disposed"), *run;

		printf("rule %s: row digest %s\n", str(row, "rule"), str(row, "digest"));
		if (json_array_size(runs) == 0)
			printf("  not disposed of by any run of the evidence\n");
		json_array_foreach(runs, k, run)
			printf("  disposed of by run %s as of %s (%s, ended %s; record %08" JSON_INTEGER_FORMAT
			       ", %s)\n", str(run, "run_id"), str(run, "as_of"), str(run, "result"),
			       str(run, "ended_at") ? str(run, "ended_at") : "-",
			       json_integer_value(json_object_get(run, "record")), str(run, "digests"));
	}
	recs = json_object_get(root, "records");
	if (str(root, "subject") && json_array_size(recs) == 0)
		printf("no record names this subject\n");
	json_array_foreach(recs, i, rec)
		printf("record %08" JSON_INTEGER_FORMAT ": %s%s%s%s%s\n",
		       json_integer_value(json_object_get(rec, "seq")), str(rec, "kind"),
		       str(rec, "request") ? " " : "", str(rec, "request") ? str(rec, "request") : "",
		       str(rec, "as_of") ? " as of " : "", str(rec, "as_of") ? str(rec, "as_of") : "");
}

int cmd_digest(const lethe_cli_opts *opts, int argc, char **argv)
{
	const char *table = NULL, *rule = NULL, *key = NULL, *subject = NULL, *v;
	lethe_row_queries q = { 0 };
	lethe_evidence_findings *f = NULL;
	lethe_subject s = { 0 };
	char sdigest[LETHE_DIGEST_SIZE] = "";
	int json = 0, status = 0, rc;
	cli_evidence e;
	json_t *root = NULL, *rows, *recs;

	for (int i = 1; i < argc; i++) {
		int missing = 0;

		v = NULL;

		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if ((v = cli_option_value(argc, argv, &i, "--table", &missing)))
			table = v;
		else if ((v = cli_option_value(argc, argv, &i, "--rule", &missing)))
			rule = v;
		else if ((v = cli_option_value(argc, argv, &i, "--key", &missing)))
			key = v;
		else if ((v = cli_option_value(argc, argv, &i, "--subject", &missing)))
			subject = v;
		if (missing || (!v && strcmp(argv[i], "--json"))) {
			cli_error("digest: %s '%s'\n%s", missing ? "missing value of" : "unexpected argument",
				  argv[i], usage_line);
			return 64;
		}
	}
	if (!subject == !key || (key && !table == !rule) || (subject && (table || rule))) {
		cli_error("digest: give --subject KEY, or --table or --rule with --key KEY\n%s",
			  usage_line);
		return 64;
	}
	if ((status = cli_evidence_open(&e, opts, 1)))
		return status;
	if (rule) {
		const lethe_rule *r = lethe_policy_rule(e.r.policy, rule);

		if (!r) {
			cli_error("digest: the policy has no rule '%s'", rule);
			status = 65;
			goto out;
		}
		table = r->table;
	}
	if (subject) {
		const char *t;
		size_t tlen;
		char buf[LETHE_SUBJECT_KEY_TEXT];

		if ((rc = lethe_subject_parse(&s, e.r.be, e.r.policy, subject)) < 0 ||
		    (rc = lethe_subject_digest(sdigest, e.key, &s.value)) < 0 ||
		    (rc = lethe_subject_key_text(&t, &tlen, buf, &s.value)) < 0 ||
		    (rc = lethe_row_queries_for(&q, e.r.be, e.r.policy, e.key, e.r.policy->subject_table,
						e.r.policy->subject_key, t)) < 0) {
			status = cli_fail(rc);
			goto out;
		}
	} else if ((rc = lethe_row_queries_for(&q, e.r.be, e.r.policy, e.key, table, NULL, key)) < 0) {
		status = cli_fail(rc);
		goto out;
	}
	if (q.n == 0 && !subject) {
		cli_error("digest: no rule of the policy disposes of rows of table '%s'", table);
		status = 65;
		goto out;
	}
	if (rule) { /* only the rule asked for */
		size_t found = 0;

		for (size_t i = 0; i < q.n; i++)
			if (!strcmp(q.q[i].rule, rule))
				q.q[found++] = q.q[i];
		q.n = found;
		if (!found) {
			cli_error("digest: rule '%s' has no key to digest", rule);
			status = 65;
			goto out;
		}
	}
	if ((rc = lethe_evidence_find(&f, e.ev, subject ? sdigest : NULL, q.q, q.n)) < 0) {
		status = cli_fail(rc);
		goto out;
	}
	root = json_pack("{s:s?, s:[], s:[]}", "subject", subject ? sdigest : NULL, "rows", "records");
	rows = json_object_get(root, "rows");
	recs = json_object_get(root, "records");
	for (size_t i = 0; i < q.n; i++)
		json_array_append_new(rows, row_json(f, &q.q[i]));
	for (size_t i = 0; subject && i < f->nrecords; i++) {
		const json_t *r = f->records[i].record;

		json_array_append_new(recs, json_pack("{s:I, s:s?, s:s?, s:s?, s:s?}", "seq",
						      (json_int_t)f->records[i].seq, "kind",
						      str(r, "kind"), "request", str(r, "request"),
						      "as_of", str(r, "as_of"), "at", str(r, "at")));
	}
	if (json)
		status = cli_print_json(root);
	else
		print_text(root);
	if (!json)
		json_decref(root);
out:
	lethe_evidence_findings_free(f);
	lethe_row_queries_release(&q);
	lethe_subject_release(&s);
	cli_evidence_close(&e);
	return status;
}
