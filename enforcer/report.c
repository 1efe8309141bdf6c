/*
 * report.c - the report's model (lethe/report.h): the evidence read once
 * (lethe_evidence_records), the auditor's verifier run over it, the
 * register's holds and requests, and the plan at the start of each of the
 * next twelve months.
 *
 * Invariants:
 *  - A subject appears only as the first 12 hex digits of its keyed digest,
 *    taken from the evidence (holds) or the register of requests (which
 *    keeps only digests); a hold's --where filter is not shown (it may name
 *    a person), only that there is one.
 *  - Every commit's verification result is the verifier's: all "ok" when it
 *    passed; else those before the first bad commit "ok", that commit
 *    "failed" with the reason, the rest "not checked" (it stops there).
 *  - Months are "YYYY-MM" of a record's as_of (runs) or at (others), UTC.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "lethe/plan.h"
#include "lethe/proof.h"
#include "lethe/record.h"
#include "lethe/report.h"
#include "lethe/verify.h"
#include "util.h"

#define SHORT_DIGEST 12

static const char *str(const json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

/* The record's day: as_of for a run's records, else the day of `at`. */
static void record_day(char out[11], const json_t *r)
{
	const char *d = str(r, "as_of") ? str(r, "as_of") : str(r, "at");

	snprintf(out, 11, "%.10s", d ? d : "");
}

static void add(json_t *obj, const char *key, json_int_t n)
{
	json_t *v = json_object_get(obj, key);

	if (v)
		json_integer_set(v, json_integer_value(v) + n);
	else
		json_object_set_new(obj, key, json_integer(n));
}

/* The verification of every commit (see the invariants). */
static json_t *verification(const lethe_report_input *in, lethe_verify_report *rep, int *rc_out)
{
	int rc;

	memset(rep, 0, sizeof(*rep));
	rep->seq = -1;
	if (!in->allowed_signers) {
		*rc_out = 1;
		return json_pack("{s:s}", "state", "not run");
	}
	rc = lethe_verify_expecting(rep, in->repository, in->allowed_signers, NULL);
	*rc_out = rc;
	if (rc == 0)
		return json_pack("{s:s, s:I, s:I, s:s, s:I}", "state", "ok", "commits",
				 (json_int_t)rep->commits, "records", (json_int_t)rep->records, "head",
				 rep->head, "head_seq", (json_int_t)rep->head_seq);
	if (rc == LETHE_EVERIFY)
		return json_pack("{s:s, s:I, s:s, s:I, s:s}", "state", "failed", "commits",
				 (json_int_t)rep->commits, "bad_commit", rep->bad_commit, "seq",
				 (json_int_t)rep->seq, "reason", rep->reason);
	return json_pack("{s:s, s:s}", "state", "error", "reason", lethe_error_last());
}

static const char *commit_state(int vrc, const lethe_verify_report *rep, const lethe_found_record *r,
				int *after_bad)
{
	if (vrc == 0)
		return "ok";
	if (vrc != LETHE_EVERIFY || !rep->bad_commit[0])
		return "not checked";
	if (*after_bad)
		return "not checked";
	if (!strcmp(rep->bad_commit, r->commit)) {
		*after_bad = 1;
		return "failed";
	}
	return "ok";
}

/* run_id -> "run", "erasure", "replay" or "finish", from the intents. */
static json_t *run_labels(const lethe_evidence_findings *f)
{
	json_t *labels = json_object();

	for (size_t i = 0; labels && i < f->nrecords; i++) {
		const json_t *r = f->records[i].record;

		if (lethe_found_is(&f->records[i], "intent") && str(r, "run_id"))
			json_object_set_new(labels, str(r, "run_id"),
					    json_string(lethe_record_intent_label(r)));
	}
	return labels;
}

/* A commit's one-line summary: its kind and what it is about. */
static json_t *summary(const json_t *r, const json_t *labels)
{
	const char *kind = str(r, "kind") ? str(r, "kind") : "?";
	const char *label = str(r, "run_id") ? str(labels, str(r, "run_id")) : NULL;

	return json_pack("{s:s, s:s?, s:s?, s:s?, s:s?}", "kind", kind, "label", label, "result",
			 str(r, "result"), "rule", str(r, "rule"), "by", str(r, "by"));
}

/* Per month: runs and their results; rows disposed per rule. */
static void tally(json_t *model, const lethe_evidence_findings *f, const json_t *labels,
		  const char *since)
{
	json_t *runs = json_object_get(model, "runs_by_month");
	json_t *disposed = json_object_get(model, "disposed_by_month");

	for (size_t i = 0; i < f->nrecords; i++) {
		const json_t *r = f->records[i].record, *rule;
		const char *label = str(r, "run_id") ? str(labels, str(r, "run_id")) : NULL;
		char day[11], month[16];
		size_t k;

		if (!lethe_found_is(&f->records[i], "completion") && !lethe_found_is(&f->records[i], "abort"))
			continue;
		record_day(day, r);
		if (since && strcmp(day, since) < 0)
			continue;
		snprintf(month, sizeof(month), "%.7s", day);
		if (!json_object_get(runs, month))
			json_object_set_new(runs, month, json_object());
		if (!label || !strcmp(label, "run"))
			add(json_object_get(runs, month), str(r, "result") ? str(r, "result") : "?", 1);
		else
			add(json_object_get(runs, month), "erasures", 1);
		json_array_foreach(json_object_get(r, "rules"), k, rule) {
			const char *name = str(rule, "name");
			json_int_t n = json_integer_value(json_object_get(rule, "disposed"));

			if (!name || n <= 0)
				continue;
			if (!json_object_get(disposed, month))
				json_object_set_new(disposed, month, json_object());
			add(json_object_get(disposed, month), name, n);
		}
	}
}

/* Intents whose policy files differ from the previous intent's: per file
 * added, removed or changed, with git's diff. */
static int policy_changes(json_t *list, lethe_evidence *ev, const lethe_evidence_findings *f,
			  const char *since)
{
	const lethe_found_record *prev = NULL;

	for (size_t i = 0; i < f->nrecords; i++) {
		const lethe_found_record *cur = &f->records[i];
		json_t *files, *p, *change;
		const json_t *was = prev ? json_object_get(prev->record, "policy") : NULL;
		char day[11];
		size_t k, m;
		int rc;

		if (!lethe_found_is(cur, "intent"))
			continue;
		files = json_array();
		json_array_foreach(json_object_get(cur->record, "policy"), k, p) {
			const json_t *q, *old = NULL;

			json_array_foreach(was, m, q)
				if (str(q, "path") && str(p, "path") && !strcmp(str(q, "path"), str(p, "path")))
					old = q;
			if (old && json_equal(json_object_get(old, "sha256"), json_object_get(p, "sha256")))
				continue;
			json_array_append_new(files, json_pack("{s:s?, s:s}", "path", str(p, "path"),
							       "status", old ? "changed" : "added"));
		}
		json_array_foreach(was, m, p) {
			const json_t *q;
			int still = 0;

			json_array_foreach(json_object_get(cur->record, "policy"), k, q)
				still |= str(q, "path") && str(p, "path") && !strcmp(str(q, "path"), str(p, "path"));
			if (!still)
				json_array_append_new(files, json_pack("{s:s?, s:s}", "path", str(p, "path"),
								       "status", "removed"));
		}
		record_day(day, cur->record);
		if (json_array_size(files) && (!since || strcmp(day, since) >= 0)) {
			json_t *e;

			json_array_foreach(files, k, e) {
				const char *path = str(e, "path"), *st = str(e, "status");
				char *patch = NULL;

				if (!prev || !path)
					continue;
				if ((rc = lethe_evidence_patch(&patch, ev, strcmp(st, "added") ? prev->commit : NULL,
							       strcmp(st, "added") ? path : NULL,
							       strcmp(st, "removed") ? cur->commit : NULL,
							       strcmp(st, "removed") ? path : NULL)) < 0) {
					json_decref(files);
					return rc;
				}
				json_object_set_new(e, "diff", json_string(patch));
				free(patch);
			}
			change = json_pack("{s:I, s:s, s:s, s:b, s:o}", "seq", (json_int_t)cur->seq, "day", day,
					   "commit", cur->commit, "initial", prev == NULL, "files", files);
			json_array_append_new(list, change);
		} else {
			json_decref(files);
		}
		prev = cur;
	}
	return 0;
}

static void short_digest(char out[SHORT_DIGEST + 1], const char *d)
{
	snprintf(out, SHORT_DIGEST + 1, "%s", d ? d : "");
}

typedef struct {
	json_t *list;
	const lethe_evidence_findings *f;
} hold_walk;

static int one_hold(void *ctx, const lethe_hold *h)
{
	hold_walk *w = ctx;
	const char *subject = NULL;
	char sd[SHORT_DIGEST + 1] = "";
	int64_t seq = 0;

	/* the subject as its hold record names it, never its key */
	for (size_t i = 0; i < w->f->nrecords; i++) {
		const json_t *r = w->f->records[i].record;

		if (lethe_found_is(&w->f->records[i], "hold") &&
		    json_integer_value(json_object_get(r, "hold_id")) == h->id) {
			subject = str(r, "subject");
			seq = w->f->records[i].seq;
		}
	}
	short_digest(sd, subject);
	json_array_append_new(w->list, json_pack(
		"{s:I, s:s, s:s?, s:s?, s:b, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:I}", "id",
		(json_int_t)h->id, "scope", h->rule ? "rule" : "subject", "rule", h->rule, "subject",
		h->rule ? NULL : *sd ? sd : "?", "filtered", h->where != NULL, "reason", h->reason,
		"placed_by", h->placed_by, "created_at", h->created_at, "until", h->until,
		"released_at", h->released_at, "released_by", h->released_by, "release_reason",
		h->release_reason, "record", (json_int_t)seq));
	return 0;
}

typedef struct {
	json_t *list;
	lethe_day as_of;
	json_t *answered_by;  /* "KIND SUBJECT ANSWERED" -> who answered (the record's by) */
} request_walk;

/* Who answered each request the evidence names: an erasure's intent (not a
 * replay's, nor a run's finishing of it) or an export, with `by`, by kind,
 * full subject digest and day. */
static json_t *answers_by(const lethe_evidence_findings *f)
{
	json_t *map = json_object();

	for (size_t i = 0; map && i < f->nrecords; i++) {
		const json_t *r = f->records[i].record;
		int erasure = lethe_found_is(&f->records[i], "intent") && str(r, "request") &&
			      !json_object_get(r, "replay_of") && !json_object_get(r, "completes");
		char *k = NULL;

		if (!str(r, "by") || !str(r, "subject") || !str(r, "answered") ||
		    (!erasure && !lethe_found_is(&f->records[i], "export")))
			continue;
		if (asprintf(&k, "%s %s %s", erasure ? "erasure" : "access", str(r, "subject"),
			     str(r, "answered")) >= 0)
			json_object_set_new(map, k, json_string(str(r, "by")));
		free(k);
	}
	return map;
}

static int one_request(void *ctx, const lethe_request *r)
{
	request_walk *w = ctx;
	const char *due = r->extended_until ? r->extended_until : r->deadline;
	char sd[SHORT_DIGEST + 1], today[11];
	const char *state, *by = NULL;
	char *k = NULL;

	lethe_day_format(w->as_of, today);
	short_digest(sd, r->subject);
	if (r->answered && asprintf(&k, "%s %s %s", r->kind, r->subject, r->answered) >= 0)
		by = json_string_value(json_object_get(w->answered_by, k));
	free(k);
	if (r->answered)
		state = due && strcmp(r->answered, due) <= 0 ? "in time" : "late";
	else
		state = due && strcmp(today, due) > 0 ? "overdue" : "open";
	json_array_append_new(w->list, json_pack("{s:I, s:s?, s:s, s:s?, s:s?, s:s?, s:s?, s:s, s:s?}",
						 "id", (json_int_t)r->id, "kind", r->kind, "subject", sd,
						 "received", r->received, "deadline", r->deadline,
						 "extended_until", r->extended_until, "answered",
						 r->answered, "state", state, "answered_by", by));
	return 0;
}

/* Per rule, the rows that become due in each of the next 12 months: the
 * plan at the first day of each month after as_of, less the one before. */
static int due_ahead(json_t *out, const lethe_report_input *in)
{
	lethe_plan *prev = NULL, *cur = NULL;
	int y, m, d, rc;

	lethe_day_to_ymd(in->as_of, &y, &m, &d);
	if ((rc = lethe_plan_new(&prev, in->be, in->policy, in->as_of)) < 0)
		return rc;
	for (int k = 0; k < 12; k++) {
		lethe_day first;
		char month[32];
		json_t *row;

		if (++m > 12) {
			m = 1;
			y++;
		}
		if ((rc = lethe_day_from_ymd(&first, y, m, 1)) < 0 ||
		    (rc = lethe_plan_new(&cur, in->be, in->policy, first)) < 0)
			break;
		/* month k: rows due on the first of the next month but not before */
		snprintf(month, sizeof(month), "%04d-%02d", m == 1 ? y - 1 : y, m == 1 ? 12 : m - 1);
		row = json_object();
		for (size_t i = 0; i < cur->nrules; i++) {
			int64_t n = cur->rules[i].due - prev->rules[i].due;

			if (n > 0)
				json_object_set_new(row, cur->rules[i].rule->name, json_integer(n));
		}
		json_object_set_new(out, month, row);
		lethe_plan_free(prev);
		prev = cur;
		cur = NULL;
	}
	lethe_plan_free(prev);
	lethe_plan_free(cur);
	return rc;
}

/* Rows due now, per rule (what the next run disposes of). */
static int due_now(json_t *out, const lethe_report_input *in)
{
	lethe_plan *plan = NULL;
	int rc = lethe_plan_new(&plan, in->be, in->policy, in->as_of);

	for (size_t i = 0; rc == 0 && i < plan->nrules; i++)
		json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "rule",
						     plan->rules[i].rule->name, "action",
						     lethe_action_name(plan->rules[i].rule->action), "basis",
						     plan->rules[i].rule->basis, "due",
						     (json_int_t)plan->rules[i].due, "held",
						     (json_int_t)plan->rules[i].held, "in_scope",
						     (json_int_t)plan->rules[i].in_scope));
	lethe_plan_free(plan);
	return rc;
}

int lethe_report_model(json_t **out, const lethe_report_input *in)
{
	lethe_evidence_findings *f = NULL;
	lethe_verify_report rep;
	json_t *model, *labels = NULL, *commits, *approvals, *rules;
	char since[11] = "", today[11], now[LETHE_ISO_TIME_SIZE];
	int rc, vrc = 0, after_bad = 0;

	lethe_day_format(in->as_of, today);
	if (in->since)
		lethe_day_format(in->since, since);
	lethe_now_iso(now);
	model = json_pack("{s:s?, s:s?, s:s, s:s?, s:s, s:o, s:[], s:{}, s:{}, s:{}, s:[], s:[], s:[],"
			  " s:[], s:[], s:[]}", "register", in->policy->register_name, "controller",
			  in->policy->controller, "as_of", today, "since", *since ? since : NULL,
			  "made_at", now, "verification", verification(in, &rep, &vrc), "commits",
			  "runs_by_month", "disposed_by_month", "due_by_month", "due_now", "holds",
			  "requests", "policy_changes", "approvals", "rules");
	if (!model)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	rules = json_object_get(model, "rules");
	for (size_t i = 0; i < in->policy->nrules; i++)
		json_array_append_new(rules, json_string(in->policy->rules[i].name));
	if ((rc = lethe_evidence_records(&f, in->ev)) < 0 || !(labels = run_labels(f)))
		goto out;
	commits = json_object_get(model, "commits");
	approvals = json_object_get(model, "approvals");
	for (size_t i = 0; i < f->nrecords; i++) {
		const json_t *r = f->records[i].record;
		const char *state = commit_state(vrc, &rep, &f->records[i], &after_bad);
		char day[11];
		json_t *c;

		/* the verifier stops before reading the record of a commit whose
		 * signature fails: its number is the record's */
		if (!strcmp(state, "failed") && rep.seq < 0)
			json_object_set_new(json_object_get(model, "verification"), "seq",
					    json_integer(f->records[i].seq));
		record_day(day, r);
		if (*since && strcmp(day, since) < 0)
			continue;
		c = summary(r, labels);
		json_object_set_new(c, "seq", json_integer(f->records[i].seq));
		json_object_set_new(c, "commit", json_string(f->records[i].commit));
		json_object_set_new(c, "day", json_string(day));
		json_object_set_new(c, "verified", json_string(state));
		json_array_append_new(commits, c);
		if (lethe_found_is(&f->records[i], "approval"))
			json_array_append_new(approvals, json_pack(
				"{s:I, s:s, s:s?, s:s?, s:s?, s:s?}", "seq", (json_int_t)f->records[i].seq,
				"day", day, "approver", str(r, "approver"), "key", str(r, "key"), "reason",
				str(r, "reason"), "policy_digest", str(r, "policy_digest")));
	}
	tally(model, f, labels, *since ? since : NULL);
	if ((rc = policy_changes(json_object_get(model, "policy_changes"), in->ev, f,
				 *since ? since : NULL)) < 0)
		goto out;
	hold_walk hw = { json_object_get(model, "holds"), f };
	request_walk rw = { json_object_get(model, "requests"), in->as_of, answers_by(f) };

	rc = lethe_backend_requests(in->be, one_request, &rw);
	json_decref(rw.answered_by);
	if (rc < 0 || (rc = lethe_backend_holds(in->be, one_hold, &hw)) < 0 ||
	    (rc = due_now(json_object_get(model, "due_now"), in)) < 0 ||
	    (rc = due_ahead(json_object_get(model, "due_by_month"), in)) < 0)
		goto out;
out:
	json_decref(labels);
	lethe_evidence_findings_free(f);
	if (rc < 0) {
		json_decref(model);
		return rc;
	}
	*out = model;
	return 0;
}
