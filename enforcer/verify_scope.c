/*
 * verify_scope.c - what one evidence commit may do besides adding its
 * record (docs/evidence-format.md, "What a commit may change"):
 *  - every file it adds or changes outside records/ is listed in its record's
 *    `files`, and every listed file lies in the record's own space: the
 *    policy snapshot (policies/NAME, an intent only) or its own run's folder
 *    (runs/XX/RUNID/, intents, completions and aborts); it removes nothing
 *    but policy files that an intent replaces. So a signed commit cannot
 *    rewrite an earlier run's digest file, even when its record lists it.
 *  - its subject is "lethe: KIND NNNNNNNN", for a run's records followed by
 *    the run id, optionally preceded by what the run was (run, erasure,
 *    replay), and nothing else;
 *  - the record's time `at` (and a completion's `ended_at`) is not later
 *    than the commit's committer time: the record is made before the commit.
 *
 * Invariants:
 *  - Runs only after verify_record accepted the record (s->record), so the
 *    fields used here have their types; s->changed is the commit's diff
 *    against its parent outside records/.
 *  - Reasons name the path or the subject; never a record's content.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lethe/calendar.h"
#include "lethe/error.h"
#include "verify_impl.h"

/* The run a record belongs to (intent, completion, abort), or NULL. */
static const char *run_of(const char *kind, json_t *rec)
{
	if (strcmp(kind, "intent") && strcmp(kind, "completion") && strcmp(kind, "abort"))
		return NULL;
	return json_string_value(json_object_get(rec, "run_id"));
}

static int is_policy_file(const char *path)
{
	return !strncmp(path, "policies/", 9) && path[9] && !strchr(path + 9, '/');
}

/* path is in the space the record may write: its run's folder or, for an
 * intent, the policy snapshot. */
static int in_own_space(const char *path, const char *kind, const char *run_id)
{
	size_t n;

	if (!strcmp(kind, "intent") && is_policy_file(path))
		return 1;
	if (!run_id || strlen(run_id) != 32)
		return 0;
	/* runs/XX/RUNID/ with XX the run id's first two digits */
	n = strlen("runs/XX/") + 32 + 1;
	return strlen(path) > n && !strncmp(path, "runs/", 5) && !strncmp(path + 5, run_id, 2) &&
	       path[7] == '/' && !strncmp(path + 8, run_id, 32) && path[40] == '/';
}

static int is_listed(json_t *files, const char *path)
{
	size_t i;
	json_t *e;

	json_array_foreach(files, i, e) {
		const char *p = json_string_value(json_object_get(e, "path"));

		if (p && !strcmp(p, path))
			return 1;
	}
	return 0;
}

static int check_changes(verify_state *s, const char *kind, json_t *rec, const char *path)
{
	json_t *files = json_object_get(rec, "files"), *e;
	const char *run_id = run_of(kind, rec);
	size_t i;

	json_array_foreach(files, i, e) {
		const char *p = json_string_value(json_object_get(e, "path"));

		if (p && !in_own_space(p, kind, run_id))
			return verify_fail(s, "%s: lists '%s', outside %s", path, p,
					   !strcmp(kind, "intent") ?
					   "its own run's folder and the policy snapshot" :
					   run_id ? "its own run's folder" :
					   "what its kind may change (nothing)");
	}
	for (i = 0; i < s->nchanged; i++) {
		const verify_change *ch = &s->changed[i];

		if (ch->status == 'D') {
			if (!strcmp(kind, "intent") && is_policy_file(ch->path))
				continue;
			return verify_fail(s, "removes '%s'", ch->path);
		}
		if (!is_listed(files, ch->path))
			return verify_fail(s, "%s '%s', which its record does not list",
					   ch->status == 'A' ? "adds" : "changes", ch->path);
	}
	return 0;
}

/* A hold's or release's subject after "lethe: KIND NNNNNNNN " (written since
 * records name who acted): "subject" or "rule NAME" for a hold, "hold ID"
 * for a release, then " by BY" when the record has `by`; for an export
 * with `by` (access --by) "by BY"; for an approval (written since subjects
 * name approvers) "by APPROVER: REASON". NULL for other kinds, and when out
 * of memory (*oom set). */
static char *outside_run_subject(const char *kind, json_t *rec, int *oom)
{
	const char *by = json_string_value(json_object_get(rec, "by"));
	const char *rule = json_string_value(json_object_get(rec, "rule"));
	char *s = NULL;
	int n;

	if (!strcmp(kind, "hold"))
		n = asprintf(&s, "%s%s%s%s", rule ? "rule " : "subject", rule ? rule : "",
			     by ? " by " : "", by ? by : "");
	else if (!strcmp(kind, "export") && by)
		n = asprintf(&s, "by %s", by);
	else if (!strcmp(kind, "approval") && json_is_string(json_object_get(rec, "approver")) &&
		 json_is_string(json_object_get(rec, "reason")))
		n = asprintf(&s, "by %s: %s", json_string_value(json_object_get(rec, "approver")),
			     json_string_value(json_object_get(rec, "reason")));
	else if (!strcmp(kind, "release"))
		n = asprintf(&s, "hold %lld%s%s",
			     (long long)json_integer_value(json_object_get(rec, "hold_id")),
			     by ? " by " : "", by ? by : "");
	else
		return NULL;
	if (n < 0) {
		*oom = 1;
		return NULL;
	}
	return s;
}

/* The one-line subject: "lethe: KIND NNNNNNNN" [" " [LABEL " "] RUNID], or
 * for a hold or release "lethe: KIND NNNNNNNN" [" " SCOPE [" by " BY]]. An
 * intent whose record names who acted (`by`, erase and replay --by) says
 * exactly "lethe: intent NNNNNNNN LABEL RUNID by BY": such records are
 * newer than every shorter form. */
static int check_subject(verify_state *s, const char *kind, int64_t seq, json_t *rec)
{
	const char *msg = s->c->message ? s->c->message : "";
	size_t len = strcspn(msg, "\n");
	const char *run_id = run_of(kind, rec), *label = NULL;
	char *want[5] = { NULL, NULL, NULL, NULL, NULL };
	char *outside = NULL;
	int ok = 0, rc = 0, oom = 0;

	if (run_id) {
		verify_intent *in = verify_find_intent(s, strcmp(kind, "intent") ? json_integer_value(
				json_object_get(rec, "intent_seq")) : seq);

		label = in ? in->label : "run";
	}
	/* one line: a final newline at most */
	if (msg[len] == '\n' && msg[len + 1] != '\0')
		return verify_fail(s, "the commit message has more than one line");
	if (asprintf(&want[0], "lethe: %s %08lld", kind, (long long)seq) < 0 ||
	    (run_id && (asprintf(&want[1], "%s %s", want[0], run_id) < 0 ||
			asprintf(&want[2], "%s %s %s", want[0], label, run_id) < 0 ||
			/* written before subjects named erasures and replays */
			asprintf(&want[3], "%s run %s", want[0], run_id) < 0)) ||
	    (!run_id && ((outside = outside_run_subject(kind, rec, &oom)), oom)) ||
	    (outside && asprintf(&want[4], "%s %s", want[0], outside) < 0)) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	if (run_id && !strcmp(kind, "intent") && json_is_string(json_object_get(rec, "by"))) {
		char *exact = NULL;

		if (asprintf(&exact, "%s by %s", want[2], json_string_value(json_object_get(rec,
											"by"))) < 0) {
			rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < 5; i++)
			free(want[i]);
		memset(want, 0, sizeof(want));
		want[0] = exact;
		run_id = NULL; /* the message below names the exact subject */
	}
	for (size_t i = 0; i < 5; i++)
		if (want[i] && strlen(want[i]) == len && !strncmp(want[i], msg, len))
			ok = 1;
	if (!ok)
		rc = verify_fail(s, "subject '%.*s' does not name its record: want '%s%s%s%s'",
				 (int)(len > 200 ? 200 : len), msg, want[0], run_id ? " " : "",
				 run_id ? label : "", run_id ? " RUNID" : "");
out:
	free(outside);
	for (size_t i = 0; i < 5; i++)
		free(want[i]);
	return rc;
}

/* "YYYY-MM-DDTHH:MM:SSZ" (shape checked by verify_record) as unix seconds. */
static int iso_seconds(int64_t *out, const char *s)
{
	int y, mo, d, h, mi, se;
	lethe_day day;

	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ", &y, &mo, &d, &h, &mi, &se) != 6 ||
	    lethe_day_from_ymd(&day, y, mo, d) < 0 || h > 23 || mi > 59 || se > 60)
		return -1;
	*out = (int64_t)day * 86400 + h * 3600 + mi * 60 + se;
	return 0;
}

static int check_times(verify_state *s, const char *kind, json_t *rec, const char *path)
{
	static const char *const names[] = { "at", "ended_at" };
	int64_t t, ct = s->c->committer_time;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = json_string_value(json_object_get(rec, names[i]));

		if (i > 0 && strcmp(kind, "completion") && strcmp(kind, "abort"))
			break;
		if (iso_seconds(&t, v) < 0)
			return verify_fail(s, "%s: '%s' %s is not a date and time", path, names[i],
					   v ? v : "");
		if (t > ct) {
			char when[32];
			time_t tt = (time_t)ct;
			struct tm tm;

			gmtime_r(&tt, &tm);
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
			return verify_fail(s, "%s: '%s' %s is later than the commit's committer time "
					   "%s", path, names[i], v, when);
		}
	}
	return 0;
}

int verify_scope(verify_state *s, const char *kind, int64_t seq)
{
	json_t *rec = s->record;
	const char *path = s->added;
	int rc;

	if (!rec)
		return lethe_error_set(LETHE_ESOFTWARE, "verify: no record to check the commit against");
	if ((rc = check_changes(s, kind, rec, path)) < 0 ||
	    (rc = check_subject(s, kind, seq, rec)) < 0 || (rc = check_times(s, kind, rec, path)) < 0)
		return rc;
	return 0;
}
