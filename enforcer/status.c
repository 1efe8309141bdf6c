/*
 * status.c - the site's status from its evidence and its register.
 *
 * Invariants:
 *  - The evidence is walked once, oldest first, holding one record at a time
 *    (plus one short entry per rule name for the blocked streaks), so memory
 *    does not grow with the number of runs.
 *  - A record is found by its commit message, "lethe: KIND NNNNNNNN ...",
 *    and read from its record file of that commit (lethe/record.h); the message
 *    names no personal data, and the record file is what the verifier checks.
 *  - Holds in force come from the register (what planning obeys); a subject
 *    hold is named by the keyed digest of its signed hold record, found by
 *    hold_id during the walk (one short entry per hold record is kept).
 *  - "Blocked for over 30 days" is measured in as-of days of the completion
 *    records: a rule whose blocked count was above 0 in every completion from
 *    a day at least 30 days before the last one.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "lethe/error.h"
#include "lethe/evidence_tip.h"
#include "lethe/plan.h"
#include "lethe/record.h"
#include "lethe/status.h"
#include "vec.h"

typedef struct {
	char *name;
	lethe_day start, last;
	int active, seen;
} streak;

typedef struct {
	int64_t hold_id, seq;
	char *subject;  /* the record's subject digest, or NULL */
} hold_record;

typedef struct {
	lethe_evidence *ev;
	lethe_status *st;
	streak *streaks;
	size_t nstreaks, capstreaks;
	hold_record *hold_recs;
	size_t nhold_recs, caphold_recs;
	int64_t open_intent;     /* seq of an intent not yet ended; 0 none */
	lethe_day last_completion;
} walk_ctx;

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void run_clear(lethe_status_run *r)
{
	free(r->kind);
	free(r->run_id);
	free(r->as_of);
	free(r->started_at);
	free(r->ended_at);
	free(r->result);
	lethe_warnings_free(&r->residue);
	memset(r, 0, sizeof(*r));
}

static int64_t count_of(json_t *rule, const char *name)
{
	json_t *v = json_object_get(rule, name);

	return json_is_integer(v) ? json_integer_value(v) : 0;
}

/* The last run: every field copied out of the record. */
static int take_last(lethe_status_run *r, json_t *rec, const char *kind, int64_t seq)
{
	json_t *rule, *text;
	size_t i;

	run_clear(r);
	r->present = 1;
	r->seq = seq;
	r->kind = strdup(kind);
	r->run_id = dup_or_null(json_string_value(json_object_get(rec, "run_id")));
	r->as_of = dup_or_null(json_string_value(json_object_get(rec, "as_of")));
	r->started_at = dup_or_null(json_string_value(json_object_get(rec, "started_at")));
	r->ended_at = dup_or_null(json_string_value(json_object_get(rec, "ended_at")));
	r->result = dup_or_null(json_string_value(json_object_get(rec, "result")));
	if (!r->kind || !r->result || !r->as_of)
		return lethe_error_set(LETHE_EDATA, "record %08" PRId64 " lacks its result or as_of", seq);
	json_array_foreach(json_object_get(rec, "rules"), i, rule) {
		r->disposed += count_of(rule, "disposed");
		r->blocked += count_of(rule, "blocked");
		r->invalid += count_of(rule, "invalid");
		r->held += count_of(rule, "held");
	}
	json_array_foreach(json_object_get(rec, "warnings"), i, text)
		if (json_is_string(text) && lethe_warnings_add(&r->residue, "%s", json_string_value(text)) < 0)
			return LETHE_ESOFTWARE;
	return 0;
}

static streak *streak_for(walk_ctx *w, const char *name)
{
	streak *s;

	for (size_t i = 0; i < w->nstreaks; i++)
		if (!strcmp(w->streaks[i].name, name))
			return &w->streaks[i];
	if (LETHE_VEC_RESERVE(w->streaks, w->nstreaks + 1, w->capstreaks) < 0)
		return NULL;
	s = &w->streaks[w->nstreaks];
	memset(s, 0, sizeof(*s));
	if (!(s->name = strdup(name)))
		return NULL;
	w->nstreaks++;
	return s;
}

/* A completion record extends or ends each rule's streak of blocked runs. */
static int follow_streaks(walk_ctx *w, json_t *rec, lethe_day as_of)
{
	json_t *rule;
	size_t i;

	for (i = 0; i < w->nstreaks; i++)
		w->streaks[i].seen = 0;
	json_array_foreach(json_object_get(rec, "rules"), i, rule) {
		const char *name = json_string_value(json_object_get(rule, "name"));
		streak *s;

		if (!name)
			continue;
		if (!(s = streak_for(w, name)))
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		s->seen = 1;
		if (count_of(rule, "blocked") <= 0) {
			s->active = 0;
			continue;
		}
		if (!s->active)
			s->start = as_of;
		s->active = 1;
		s->last = as_of;
	}
	for (i = 0; i < w->nstreaks; i++)
		if (!w->streaks[i].seen)
			w->streaks[i].active = 0;
	w->last_completion = as_of;
	return 0;
}

/* A hold record: its hold id, sequence number and subject digest. */
static int note_hold(walk_ctx *w, json_t *rec, int64_t seq)
{
	json_t *id = json_object_get(rec, "hold_id");
	const char *subject = json_string_value(json_object_get(rec, "subject"));
	hold_record *more;

	if (!json_is_integer(id))
		return 0;
	if (LETHE_VEC_RESERVE(w->hold_recs, w->nhold_recs + 1, w->caphold_recs) < 0)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	more = w->hold_recs;
	more[w->nhold_recs].hold_id = json_integer_value(id);
	more[w->nhold_recs].seq = seq;
	if (!(more[w->nhold_recs].subject = dup_or_null(subject)) && subject)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	w->nhold_recs++;
	return 0;
}

static int on_commit(void *ctx, const lethe_evidence_commit_info *c)
{
	walk_ctx *w = ctx;
	lethe_record_kind kind;
	int64_t seq;
	json_t *rec = NULL;
	lethe_day as_of;
	int rc;

	if (lethe_record_message_parse(c->message, &kind, &seq) < 0) {
		char other[16];

		/* a kind this version does not know (a newer writer's) says nothing here */
		if (c->message && sscanf(c->message, "lethe: %15s %" SCNd64, other, &seq) == 2)
			return 0;
		return lethe_error_set(LETHE_EDATA, "commit %s is not a lethe record", c->oid);
	}
	if (kind == LETHE_RECORD_INTENT) {
		w->open_intent = seq;
		return 0;
	}
	if (kind != LETHE_RECORD_COMPLETION && kind != LETHE_RECORD_ABORT && kind != LETHE_RECORD_HOLD)
		return 0;
	if (kind != LETHE_RECORD_HOLD)
		w->open_intent = 0;
	if ((rc = lethe_record_read(&rec, w->ev, c->oid, seq, kind)) < 0)
		return rc;
	if (kind == LETHE_RECORD_HOLD)
		rc = note_hold(w, rec, seq);
	else if ((rc = take_last(&w->st->last, rec, lethe_record_kind_name(kind), seq)) == 0 &&
		 kind == LETHE_RECORD_COMPLETION && lethe_day_parse(&as_of, w->st->last.as_of) == 0)
		rc = follow_streaks(w, rec, as_of);
	json_decref(rec);
	return rc;
}

/* The walk's findings that need attention, as warnings. */
static int history_warnings(lethe_status *st, const walk_ctx *w)
{
	const lethe_status_run *r = &st->last;
	lethe_day last;
	int rc = 0;

	if (w->open_intent)
		rc = lethe_warnings_add(&st->warnings, "run %08" PRId64 " has an intent but no completion: "
					"it is running or was interrupted (the next run records it)",
					w->open_intent);
	if (!r->present)
		return rc < 0 ? rc : lethe_warnings_add(&st->warnings, "no run is recorded in the evidence yet");
	if (rc == 0 && strcmp(r->result, "completed"))
		rc = lethe_warnings_add(&st->warnings, "the last run (record %08" PRId64 ") ended '%s'",
					r->seq, r->result);
	if (rc == 0 && lethe_day_parse(&last, r->as_of) == 0 && st->as_of - last > 1)
		rc = lethe_warnings_add(&st->warnings, "the last run was for %s, %d days ago: is lethe.timer "
					"active?", r->as_of, (int)(st->as_of - last));
	for (size_t i = 0; rc == 0 && i < r->residue.count; i++)
		rc = lethe_warnings_add(&st->warnings, "the last run warned: %s", r->residue.items[i]);
	for (size_t i = 0; rc == 0 && i < w->nstreaks; i++) {
		const streak *s = &w->streaks[i];
		char since[11];

		if (!s->active || s->last != w->last_completion ||
		    s->last - s->start < LETHE_STATUS_BLOCKED_DAYS)
			continue;
		lethe_day_format(s->start, since);
		rc = lethe_warnings_add(&st->warnings, "rule '%s' has had blocked rows in every run since "
					"%s (%d days): their dependents are kept, see lethe plan", s->name,
					since, (int)(s->last - s->start));
	}
	return rc;
}

typedef struct {
	lethe_status *st;
	char day[11];   /* as-of: a hold whose until is before it has lapsed */
	int rc;
} holds_ctx;

static void hold_clear(lethe_status_hold *h)
{
	free(h->rule);
	free(h->subject);
	free(h->until);
	free(h->created_at);
}

/* One hold of the register: kept when in force at as-of. */
static int take_hold(void *ctx, const lethe_hold *h)
{
	holds_ctx *hc = ctx;
	lethe_status *st = hc->st;
	lethe_status_hold *more, *o;

	if (h->released_at || (h->until && strcmp(h->until, hc->day) < 0))
		return 0;
	if (!(more = realloc(st->holds, (st->nholds + 1) * sizeof(*more)))) {
		hc->rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		return 1;
	}
	st->holds = more;
	o = &st->holds[st->nholds++];
	memset(o, 0, sizeof(*o));
	o->id = h->id;
	o->filtered = h->rule && h->where;
	if ((h->rule && !(o->rule = strdup(h->rule))) || (h->until && !(o->until = strdup(h->until))) ||
	    !(o->created_at = strdup(h->created_at ? h->created_at : ""))) {
		hc->rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		return 1;
	}
	return 0;
}

/* The holds in force, each with its record's sequence number and digest. */
static int read_holds(lethe_status *st, lethe_backend *be, const walk_ctx *w)
{
	holds_ctx hc = { .st = st };
	int rc;

	lethe_day_format(st->as_of, hc.day);
	rc = lethe_backend_holds(be, take_hold, &hc);
	if (hc.rc)
		return hc.rc;
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < st->nholds; i++)
		for (size_t k = 0; w && k < w->nhold_recs; k++) {
			const hold_record *r = &w->hold_recs[k];
			lethe_status_hold *h = &st->holds[i];

			if (r->hold_id != h->id)
				continue;
			/* the latest record of that id: a restored register may reuse one */
			h->record = r->seq;
			free(h->subject);
			h->subject = NULL;
			if (!h->rule && r->subject && !(h->subject = strdup(r->subject)))
				return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		}
	return 0;
}

static void walk_free(walk_ctx *w)
{
	for (size_t i = 0; i < w->nstreaks; i++)
		free(w->streaks[i].name);
	free(w->streaks);
	for (size_t i = 0; i < w->nhold_recs; i++)
		free(w->hold_recs[i].subject);
	free(w->hold_recs);
}

/* GDPR 12(3): an open request whose deadline (or extension) is within
 * LETHE_STATUS_SOON days, or passed, is a warning. */
static int request_warning(void *ctx, const lethe_request *r)
{
	lethe_status *st = ctx;
	const char *deadline = r->extended_until ? r->extended_until : r->deadline;
	lethe_day d;

	if (r->answered || lethe_day_parse(&d, deadline) < 0 || d - st->as_of > LETHE_STATUS_SOON)
		return 0;
	if (d < st->as_of)
		return lethe_warnings_add(&st->warnings, "%s request %lld (received %s) is past its "
					  "deadline %s", r->kind, (long long)r->id, r->received,
					  deadline);
	return lethe_warnings_add(&st->warnings, "%s request %lld (received %s) is due by %s, in "
				  "%d days", r->kind, (long long)r->id, r->received, deadline,
				  (int)(d - st->as_of));
}

/* The erasures still open (lethe/backend.h), oldest first. */
static int count_open(void *ctx, const lethe_open_erasure *e)
{
	lethe_status *st = ctx;

	if (e->since && (!st->open_since[0] || strcmp(e->since, st->open_since) < 0))
		snprintf(st->open_since, sizeof(st->open_since), "%s", e->since);
	st->open_erasures++;
	return 0;
}

static int read_history(lethe_status *st, lethe_evidence *ev, lethe_backend *be)
{
	walk_ctx w = { .ev = ev, .st = st };
	int rc = ev ? lethe_evidence_walk(ev, on_commit, &w) : 0;

	if (rc == 0 && ev)
		rc = history_warnings(st, &w);
	if (rc == 0)
		rc = read_holds(st, be, &w);
	if (rc == 0)
		rc = lethe_backend_requests(be, request_warning, st);
	if (rc == 0)
		rc = lethe_backend_erasures_open(be, count_open, st);
	walk_free(&w);
	return rc;
}

/* Due counts at as-of, +7 and +30 days: three read-only plans; the first
 * also counts the rows stale at as-of into the status's warnings
 * (lethe_plan_new_stale, on that plan's threads). */
static int plan_ahead(lethe_status *st, lethe_backend *be, const lethe_policy *policy)
{
	static const int ahead[] = { 0, LETHE_STATUS_SOON, LETHE_STATUS_LATER };
	lethe_plan *plan = NULL;
	int rc = 0;

	for (size_t k = 0; k < 3 && rc == 0; k++) {
		rc = k == 0 ? lethe_plan_new_stale(&plan, &st->warnings, be, policy, st->as_of)
			    : lethe_plan_new(&plan, be, policy, st->as_of + ahead[k]);
		if (rc < 0)
			break;
		if (!st->rules) {
			st->rules = calloc(plan->nrules ? plan->nrules : 1, sizeof(*st->rules));
			if (!st->rules) {
				rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
				break;
			}
			st->nrules = plan->nrules;
		}
		for (size_t i = 0; i < plan->nrules && rc == 0; i++) {
			lethe_status_rule *sr = &st->rules[i];
			int64_t due = plan->rules[i].due;

			if (k == 0) {
				if (!(sr->name = strdup(plan->rules[i].rule->name)))
					rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
				sr->blocked = plan->rules[i].blocked;
			}
			*(k == 0 ? &sr->due_now : k == 1 ? &sr->due_soon : &sr->due_later) = due;
		}
		lethe_plan_free(plan);
		plan = NULL;
	}
	return rc;
}

/* The same rule as the key loaders: no permission for group or others. */
static int key_warnings(lethe_status *st, const char *const *keys, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		struct stat sb;

		if (!keys[i])
			continue;
		if (stat(keys[i], &sb) != 0)
			rc = lethe_warnings_add(&st->warnings, "cannot read key '%s': %s", keys[i],
						strerror(errno));
		else if (sb.st_mode & 077)
			rc = lethe_warnings_add(&st->warnings, "key '%s' has loose permissions (mode %04o): "
						"runs refuse it; chmod 600 '%s'", keys[i],
						(unsigned)(sb.st_mode & 07777), keys[i]);
	}
	return rc;
}

static int remote_status(lethe_status *st, lethe_evidence *ev, const char *remote)
{
	int64_t n;

	st->unpushed = -1;
	if (!ev || !remote)
		return 0;
	if (lethe_evidence_unpushed(&n, ev, remote) < 0)
		return lethe_warnings_add(&st->warnings, "cannot compare with the remote '%s': %s",
					  remote, lethe_error_last());
	st->unpushed = n;
	if (n > 0)
		return lethe_warnings_add(&st->warnings, "%" PRId64 " evidence commit%s not on the "
					  "remote '%s' yet", n, n == 1 ? " is" : "s are", remote);
	return 0;
}

/* The evidence behind what lethe wrote is a problem to report, not an error
 * that hides the rest of the status. */
static int tip_status(lethe_status *st, lethe_evidence *ev, lethe_backend *be, const char *remote)
{
	int rc = ev ? lethe_evidence_tip_check(ev, be) : 0;

	if (rc == 0 && ev && remote)
		rc = lethe_evidence_tip_check_remote(ev, remote);
	if (rc != LETHE_EVERIFY)
		return rc;
	st->evidence_behind = 1;
	return lethe_warnings_add(&st->warnings, "%s", lethe_error_last());
}

int lethe_status_new(lethe_status **out, const lethe_status_input *in)
{
	lethe_status *st = calloc(1, sizeof(*st));
	int rc;

	if (!st)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	st->as_of = in->as_of;
	if ((rc = plan_ahead(st, in->be, in->policy)) < 0)
		goto out;
	if ((rc = tip_status(st, in->ev, in->be, in->remote)) < 0 || (rc = read_history(st, in->ev, in->be)) < 0)
		goto out;
	if ((rc = remote_status(st, in->ev, in->remote)) < 0 ||
	    (rc = key_warnings(st, in->keys, in->nkeys)) < 0)
		goto out;
	*out = st;
	st = NULL;
out:
	lethe_status_free(st);
	return rc;
}

void lethe_status_free(lethe_status *st)
{
	if (!st)
		return;
	run_clear(&st->last);
	for (size_t i = 0; i < st->nrules; i++)
		free(st->rules[i].name);
	free(st->rules);
	for (size_t i = 0; i < st->nholds; i++)
		hold_clear(&st->holds[i]);
	free(st->holds);
	lethe_warnings_free(&st->warnings);
	free(st);
}

static json_t *strings_json(const lethe_warnings *w)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < w->count; i++)
		if (json_array_append_new(a, json_string(w->items[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *holds_json(const lethe_status *st)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < st->nholds; i++) {
		const lethe_status_hold *h = &st->holds[i];
		json_t *o = json_pack("{s:I, s:s, s:s?, s:s?, s:b, s:s?, s:s, s:o}", "id",
				      (json_int_t)h->id, "scope", h->rule ? "rule" : "subject",
				      "rule", h->rule, "subject", h->subject, "filtered", h->filtered,
				      "until", h->until, "created_at", h->created_at, "record",
				      h->record ? json_integer(h->record) : json_null());

		if (!o || json_array_append_new(a, o) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *last_json(const lethe_status_run *r)
{
	if (!r->present)
		return json_null();
	return json_pack("{s:I, s:s, s:s?, s:s, s:s?, s:s?, s:s, s:I, s:I, s:I, s:I, s:o*}",
			 "seq", (json_int_t)r->seq, "kind", r->kind, "run_id", r->run_id,
			 "as_of", r->as_of, "started_at", r->started_at, "ended_at", r->ended_at,
			 "result", r->result, "disposed", (json_int_t)r->disposed,
			 "blocked", (json_int_t)r->blocked, "invalid", (json_int_t)r->invalid,
			 "held", (json_int_t)r->held, "warnings", strings_json(&r->residue));
}

int lethe_status_to_json(char **out, const lethe_status *st)
{
	json_t *root = NULL, *rules = json_array();
	int64_t sum[3] = { 0, 0, 0 };
	char day[11], *text = NULL;
	int rc = 0;

	for (size_t i = 0; rules && i < st->nrules; i++) {
		const lethe_status_rule *r = &st->rules[i];

		sum[0] += r->due_now;
		sum[1] += r->due_soon;
		sum[2] += r->due_later;
		if (json_array_append_new(rules, json_pack("{s:s, s:I, s:I, s:I, s:I}", "name", r->name,
					  "due_now", (json_int_t)r->due_now,
					  "due_in_7_days", (json_int_t)r->due_soon,
					  "due_in_30_days", (json_int_t)r->due_later,
					  "blocked", (json_int_t)r->blocked)) < 0) {
			json_decref(rules);
			rules = NULL;
		}
	}
	lethe_day_format(st->as_of, day);
	root = json_pack("{s:s, s:o, s:I, s:I, s:I, s:o*, s:o, s:b, s:o, s:{s:I, s:o}, s:o*}",
			 "as_of", day,
			 "last_run", last_json(&st->last), "due_now", (json_int_t)sum[0],
			 "due_in_7_days", (json_int_t)sum[1], "due_in_30_days", (json_int_t)sum[2],
			 "rules", rules, "unpushed",
			 st->unpushed < 0 ? json_null() : json_integer(st->unpushed),
			 "evidence_behind", st->evidence_behind, "holds", holds_json(st),
			 "open_erasures", "count", (json_int_t)st->open_erasures, "oldest_since",
			 st->open_since[0] ? json_string(st->open_since) : json_null(),
			 "warnings", strings_json(&st->warnings));
	if (!root || !(text = json_dumps(root, JSON_INDENT(2)))) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	*out = text;
out:
	json_decref(root);
	return rc;
}
