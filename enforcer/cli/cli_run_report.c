/*
 * cli_run_report.c - what a run tells monitoring once it is over: the
 * record it wrote (run id, sequence, commit, result), one summary line for
 * the journal, the fields of run --json, and node-exporter textfile metrics
 * (run --prometheus FILE).
 *
 * Invariants:
 *  - Everything said comes from the run's own signed record (its completion
 *    or abort, the last record of main when its seq is above the one before
 *    the run) and the run's counts: never a key, a value or a reason, so
 *    nothing here can carry the personal data the run disposed of. Rule
 *    names are the policy's.
 *  - The metrics file is replaced atomically: written to a temporary file in
 *    the same folder, flushed to disk, then renamed over FILE, so the node
 *    exporter never reads half a file. A failure leaves FILE as it was and no
 *    temporary file behind.
 *  - lethe_last_success_timestamp_seconds survives failed runs: it is read
 *    back from the previous file when this run did not succeed.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "lethe/error.h"
#include "lethe/evidence.h"
#include "lethe/record.h"
int64_t cli_run_last_seq(lethe_evidence *ev)
{
	int64_t seq = 0;
	json_t *rec = NULL;

	if (!ev || lethe_record_last(&seq, &rec, ev) < 0)
		seq = 0;
	json_decref(rec);
	return seq;
}

void cli_run_record_read(cli_run_record *out, lethe_evidence *ev, int64_t seq_before)
{
	json_t *rec = NULL;
	int64_t seq = 0;
	const char *s;

	memset(out, 0, sizeof(*out));
	if (!ev || lethe_record_last(&seq, &rec, ev) < 0 || !rec || seq <= seq_before) {
		json_decref(rec);
		return;
	}
	out->present = 1;
	out->seq = seq;
	if ((s = json_string_value(json_object_get(rec, "run_id"))))
		snprintf(out->run_id, sizeof(out->run_id), "%s", s);
	if ((s = json_string_value(json_object_get(rec, "result"))))
		snprintf(out->result, sizeof(out->result), "%s", s);
	if (lethe_evidence_head(out->commit, ev) < 0)
		out->commit[0] = '\0';
	json_decref(rec);
}

/* The run's result word: its record's, else what the exit status says. */
static const char *result_word(const cli_run_record *rec, int dry_run, int status)
{
	if (dry_run)
		return "dry-run";
	if (rec->present && rec->result[0])
		return rec->result;
	return status == 0 ? "nothing-recorded" : "failed";
}

static void totals(int64_t t[4], const lethe_plan *plan)
{
	t[0] = t[1] = t[2] = t[3] = 0;
	for (size_t i = 0; plan && i < plan->nrules; i++) {
		t[0] += plan->rules[i].due;
		t[1] += plan->rules[i].blocked;
		t[2] += plan->rules[i].invalid;
		t[3] += plan->rules[i].held;
	}
}

/* The summary as a journal entry of its own fields (cli_journal.c); 0 sent. */
static int summary_to_journal(const char *msg, int level, const cli_run_record *rec,
			      const int64_t t[4], const char *result, int status)
{
	char prio[4], seq[24], num[5][24];
	const cli_journal_field f[] = {
		{ "MESSAGE", msg }, { "PRIORITY", prio }, { "SYSLOG_IDENTIFIER", "lethe" },
		/* the same for every run summary: journalctl MESSAGE_ID=... lists them */
		{ "MESSAGE_ID", "9d1c4e0b7a2f4c3e8b5d6a1f0e2c7b94" },
		{ "LETHE_RUN_ID", rec->present && rec->run_id[0] ? rec->run_id : NULL },
		{ "LETHE_SEQ", rec->present ? seq : NULL },
		{ "LETHE_COMMIT", rec->commit[0] ? rec->commit : NULL },
		{ "LETHE_RESULT", result }, { "LETHE_EXIT", num[4] },
		{ "LETHE_DISPOSED", num[0] }, { "LETHE_BLOCKED", num[1] },
		{ "LETHE_INVALID", num[2] }, { "LETHE_HELD", num[3] },
	};

	snprintf(prio, sizeof(prio), "%d", level);
	snprintf(seq, sizeof(seq), "%" PRId64, rec->seq);
	for (int i = 0; i < 4; i++)
		snprintf(num[i], sizeof(num[i]), "%" PRId64, t[i]);
	snprintf(num[4], sizeof(num[4]), "%d", status);
	return cli_journal_send(f, sizeof(f) / sizeof(*f));
}

void cli_run_summary(const lethe_cli_opts *opts, const cli_run_record *rec, const lethe_plan *plan,
		     int dry_run, int status)
{
	/* the priority says how it went: notice, warning when the run completed
	 * but exits non-zero (invalid clocks), err when it failed */
	int level = status == 0 ? CLI_NOTICE :
		    rec->present && !strcmp(rec->result, "completed") ? CLI_WARNING : CLI_ERR;
	const char *result = result_word(rec, dry_run, status);
	char *msg = NULL;
	int64_t t[4];

	totals(t, plan);
	/* one line, key=value words: journalctl -g 'run summary' finds it; under
	 * systemd the same line goes to the journal with its fields */
	if (asprintf(&msg, "run summary: run_id=%s seq=%" PRId64 " commit=%s disposed=%" PRId64
		     " blocked=%" PRId64 " invalid=%" PRId64 " held=%" PRId64 " result=%s exit=%d",
		     rec->present && rec->run_id[0] ? rec->run_id : "-", rec->present ? rec->seq : 0,
		     rec->commit[0] ? rec->commit : "-", t[0], t[1], t[2], t[3], result, status) < 0) {
		cli_log(opts, level, "run summary: out of memory (result=%s exit=%d)", result, status);
		return;
	}
	if (!cli_to_journal() || summary_to_journal(msg, level, rec, t, result, status) != 0)
		cli_log(opts, level, "%s", msg);
	free(msg);
}

int cli_run_json_add(json_t *root, const cli_run_record *rec, int dry_run, int status)
{
	if (!json_is_object(root))
		return -1;
	return json_object_set_new(root, "run_id", rec->present && rec->run_id[0] ?
				   json_string(rec->run_id) : json_null()) |
	       json_object_set_new(root, "sequence", rec->present ? json_integer(rec->seq) : json_null()) |
	       json_object_set_new(root, "commit", rec->commit[0] ? json_string(rec->commit) : json_null()) |
	       json_object_set_new(root, "result", json_string(result_word(rec, dry_run, status)));
}

/* A label value of the text format: \, " and newline escaped. */
static void label(FILE *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(b, "\\%c", *v);
		else if (*v == '\n')
			fprintf(b, "\\n");
		else
			fprintf(b, "%c", *v);
	}
}

static void metric_head(FILE *b, const char *name, const char *help)
{
	fprintf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static void rule_metric(FILE *b, const char *name, const char *rule, const char *extra,
			int64_t v)
{
	fprintf(b, "%s{rule=\"", name);
	label(b, rule);
	fprintf(b, "\"%s} %" PRId64 "\n", extra ? extra : "", v);
}

/* The previous file's last success, 0 when there is none. */
static int64_t previous_success(const char *path)
{
	static const char name[] = "lethe_last_success_timestamp_seconds ";
	char line[256];
	int64_t v = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, sizeof(name) - 1))
			v = strtoll(line + sizeof(name) - 1, NULL, 10);
	fclose(f);
	return v;
}

static void format_metrics(FILE *b, const cli_run_metrics *m, int64_t now, int64_t success)
{
	int ok = m->status == 0 && !m->dry_run;

	metric_head(b, "lethe_last_run_timestamp_seconds", "when the last run ended (unix time)");
	fprintf(b, "lethe_last_run_timestamp_seconds %" PRId64 "\n", now);
	metric_head(b, "lethe_last_run_success", "1 when the last run ended with exit status 0");
	fprintf(b, "lethe_last_run_success %d\n", ok);
	metric_head(b, "lethe_last_run_exit_status", "the exit status of the last run");
	fprintf(b, "lethe_last_run_exit_status %d\n", m->status);
	metric_head(b, "lethe_last_success_timestamp_seconds",
		    "when a run last ended with exit status 0 (unix time; 0 never)");
	fprintf(b, "lethe_last_success_timestamp_seconds %" PRId64 "\n", success);
	if (m->rec && m->rec->present) {
		metric_head(b, "lethe_last_run_sequence", "the sequence number of the last run's record");
		fprintf(b, "lethe_last_run_sequence %" PRId64 "\n", m->rec->seq);
	}
	if (m->plan && m->plan->nrules) {
		metric_head(b, "lethe_rule_rows_disposed", "rows the last run disposed of, per rule");
		for (size_t i = 0; i < m->plan->nrules; i++)
			rule_metric(b, "lethe_rule_rows_disposed", m->plan->rules[i].rule->name, NULL,
				    m->plan->rules[i].due);
		metric_head(b, "lethe_rule_rows_blocked", "rows the last run found blocked, per rule");
		for (size_t i = 0; i < m->plan->nrules; i++)
			rule_metric(b, "lethe_rule_rows_blocked", m->plan->rules[i].rule->name, NULL,
				    m->plan->rules[i].blocked);
	}
	if (!m->st)
		return;
	metric_head(b, "lethe_rule_rows_due", "rows due now, within 7 and within 30 days, per rule");
	for (size_t i = 0; i < m->st->nrules; i++) {
		const lethe_status_rule *r = &m->st->rules[i];

		rule_metric(b, "lethe_rule_rows_due", r->name, ",within=\"0d\"", r->due_now);
		rule_metric(b, "lethe_rule_rows_due", r->name, ",within=\"7d\"", r->due_soon);
		rule_metric(b, "lethe_rule_rows_due", r->name, ",within=\"30d\"", r->due_later);
	}
	metric_head(b, "lethe_warnings", "what needs attention, as lethe status lists it");
	fprintf(b, "lethe_warnings %zu\n", m->st->warnings.count);
	metric_head(b, "lethe_evidence_behind", "1 when main does not reach what lethe last wrote");
	fprintf(b, "lethe_evidence_behind %d\n", m->st->evidence_behind);
	if (m->st->unpushed >= 0) {
		metric_head(b, "lethe_evidence_unpushed_commits", "evidence commits the remote lacks");
		fprintf(b, "lethe_evidence_unpushed_commits %" PRId64 "\n", m->st->unpushed);
	}
}

int cli_metrics_write(const char *path, const cli_run_metrics *m)
{
	int64_t now = (int64_t)time(NULL);
	int64_t success = m->status == 0 && !m->dry_run ? now : previous_success(path);
	char *text = NULL, *tmp = NULL;
	size_t len = 0;
	FILE *b = open_memstream(&text, &len), *f = NULL;
	int fd = -1, err = 0;

	if (b) {
		format_metrics(b, m, now, success);
		err = ferror(b);
		err = fclose(b) != 0 || err;
	}
	if (!b || err || asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0) {
		free(text);
		cli_error("cannot write metrics '%s': out of memory", path);
		return 70;
	}
	/* mode 0644: the node exporter runs as another user */
	errno = 0;
	if ((fd = mkstemp(tmp)) < 0 || fchmod(fd, 0644) != 0 || !(f = fdopen(fd, "w")) ||
	    fwrite(text, 1, len, f) != len || fflush(f) != 0 || fsync(fileno(f)) != 0)
		err = errno ? errno : EIO;
	if (f && fclose(f) != 0 && !err)
		err = errno ? errno : EIO;
	else if (!f && fd >= 0)
		close(fd);
	if (!err && rename(tmp, path) != 0)
		err = errno;
	if (err && fd >= 0)
		unlink(tmp);
	if (err)
		cli_error("cannot write metrics '%s': %s", path, strerror(err));
	free(tmp);
	free(text);
	return err ? 73 : 0;
}
