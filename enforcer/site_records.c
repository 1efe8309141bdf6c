/*
 * site_records.c - the records a site writes outside a run: legal holds,
 * their releases, and access exports.
 *
 * Invariants:
 *  - No text the operator types reaches the evidence. Reasons and a --where
 *    filter can name a person ("complaint of matti@example.org",
 *    "email = '...'"), and the evidence is append-only: the register keeps
 *    the texts, the record only their keyed digest (text_digest), so an
 *    auditor shown a text can check it against the record.
 *  - A hold's register row and its record are one transaction: the row is
 *    written, the record committed, then the row; a failed record leaves
 *    no hold behind, and a hold in force always has its record.
 *  - An export that could not be recorded does not stay on disk.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "lethe/error.h"
#include "lethe/record.h"
#include "site_impl.h"
#include "util.h"

/* A principal: what a commit subject can carry as one word. */
static int valid_actor(const char *by)
{
	size_t n = strlen(by);

	return n >= 1 && n <= 64 && strspn(by, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					       "0123456789._@+-") == n;
}

int lethe_site_set_actor(lethe_site *s, const char *by)
{
	char *copy = NULL;

	if (by && !valid_actor(by))
		return lethe_error_set(LETHE_EUSAGE, "--by: '%s' is not a principal (1 to 64 of "
				       "A-Z a-z 0-9 . _ @ + -)", by);
	if (by && !(copy = strdup(by)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	free(s->actor);
	s->actor = copy;
	return 0;
}

/* `by` into a record's fields when the site names who acts. */
static json_t *with_actor(json_t *fields, const lethe_site *s)
{
	if (fields && s->actor && json_object_set_new(fields, "by", json_string(s->actor)) < 0) {
		json_decref(fields);
		return NULL;
	}
	return fields;
}

/* The register's change (begun by the caller) and the record, then COMMIT;
 * anything failing rolls the change back. */
static int record_and_commit(int64_t *seq, lethe_site *s, const char *kind, json_t *fields)
{
	lethe_runlog_env env = lethe_site_env(s);
	int rc;

	if (!fields)
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	else if ((rc = lethe_runlog_record(seq, &env, kind, fields)) == 0)
		rc = lethe_backend_commit(s->be);
	if (rc < 0)
		lethe_backend_rollback(s->be);
	return rc;
}

/* The hold's scope into h, and the digests its record carries: the
 * subject's (subject_d, "" for a rule hold) and the --where text's
 * (where_d, "" when none). */
static int hold_scope(lethe_hold *h, lethe_subject *subject, char subject_d[LETHE_DIGEST_SIZE],
		      char where_d[LETHE_DIGEST_SIZE], lethe_site *s, const lethe_site_hold *req)
{
	char *why = NULL;
	const lethe_rule *r;
	int rc;

	subject_d[0] = where_d[0] = '\0';
	if (req->subject) {
		if ((rc = lethe_subject_find(subject, s->be, s->policy, req->subject)) < 0 ||
		    (rc = lethe_subject_digest(subject_d, s->pseudonym_key, &subject->value)) < 0)
			return rc;
		h->subject = subject->value;
		return 0;
	}
	if (!(r = lethe_policy_rule(s->policy, req->rule)))
		return lethe_error_set(LETHE_EDATA, "hold: no rule '%s' in the policy", req->rule);
	if (req->where && lethe_backend_check_expr(s->be, r->table, req->where, &why) < 0) {
		rc = lethe_error_set(LETHE_EDATA, "hold: --where: %s", why ? why : lethe_error_last());
		free(why);
		return rc;
	}
	if (req->where)
		lethe_record_text_digest(where_d, s->pseudonym_key, req->where);
	h->rule = req->rule;
	h->where = req->where;
	return 0;
}

int lethe_site_hold_add(int64_t *id, int64_t *seq, lethe_warnings *warnings, lethe_site *s,
			const lethe_site_hold *req)
{
	lethe_subject subject = { 0 };
	lethe_hold hold = { .subject = { .type = LETHE_VALUE_NULL } };
	json_t *fields = NULL;
	char now[21], reason_d[LETHE_DIGEST_SIZE], subject_d[LETHE_DIGEST_SIZE];
	char where_d[LETHE_DIGEST_SIZE];
	lethe_day until;
	int rc;

	if ((rc = lethe_site_require(s, LETHE_SITE_WRITE, "hold add")) < 0)
		return rc;
	if (!req->reason || !*req->reason || !req->subject == !req->rule ||
	    (req->where && !req->rule))
		return lethe_error_set(LETHE_EUSAGE, "hold: a reason and a subject or a rule are "
				       "required");
	if (req->until && lethe_day_parse(&until, req->until) < 0)
		return lethe_error_set(LETHE_EUSAGE, "--until: bad date '%s' (expected YYYY-MM-DD)",
				       req->until);
	lethe_now_iso(now);
	lethe_record_text_digest(reason_d, s->pseudonym_key, req->reason);
	if ((rc = hold_scope(&hold, &subject, subject_d, where_d, s, req)) < 0)
		goto out;
	hold.until = req->until;
	hold.created_at = now;
	hold.reason = req->reason;
	hold.placed_by = s->actor;
	if ((rc = lethe_backend_begin(s->be)) < 0 ||
	    (rc = lethe_backend_hold_add(id, s->be, &hold)) < 0) {
		lethe_backend_rollback(s->be);
		goto out;
	}
	fields = lethe_record_hold(*id, reason_d, *subject_d ? subject_d : NULL, req->rule,
				   *where_d ? where_d : NULL, req->until);
	fields = with_actor(fields, s);
	if ((rc = record_and_commit(seq, s, "hold", fields)) == 0)
		lethe_site_push(s, warnings);
out:
	json_decref(fields);
	lethe_subject_release(&subject);
	return rc;
}

int lethe_site_hold_release(int64_t *seq, lethe_warnings *warnings, lethe_site *s, int64_t id,
			    const char *reason)
{
	json_t *fields;
	char now[21], reason_d[LETHE_DIGEST_SIZE];
	int rc;

	if ((rc = lethe_site_require(s, LETHE_SITE_WRITE, "hold release")) < 0)
		return rc;
	if (!reason || !*reason)
		return lethe_error_set(LETHE_EUSAGE, "hold: a release needs a reason");
	lethe_now_iso(now);
	if ((rc = lethe_backend_begin(s->be)) < 0 ||
	    (rc = lethe_backend_hold_release(s->be, id, now, reason, s->actor)) < 0) {
		lethe_backend_rollback(s->be);
		return rc;
	}
	lethe_record_text_digest(reason_d, s->pseudonym_key, reason);
	fields = with_actor(lethe_record_release(id, reason_d), s);
	if ((rc = record_and_commit(seq, s, "release", fields)) == 0)
		lethe_site_push(s, warnings);
	json_decref(fields);
	return rc;
}

/* The export's record: be (read-only is enough) refuses it, like every
 * record, on a main behind the register's remembered head. */
static int record_export(lethe_site *s, const lethe_subject *subject,
			 const lethe_access_result *res, const char *path, lethe_day as_of,
			 lethe_warnings *warnings)
{
	lethe_runlog_env env = { .ev = s->ev, .signing_key = s->signing_key, .be = s->be };
	char digest[LETHE_DIGEST_SIZE], received[11], answered[11];
	size_t len = strlen(path);
	json_t *fields;
	int rc;

	if ((rc = lethe_subject_digest(digest, s->pseudonym_key, &subject->value)) < 0)
		return rc;
	if ((rc = lethe_site_request_received(s, "access", digest, as_of, received)) < 0)
		return rc;
	lethe_day_format(as_of, answered);
	fields = with_actor(lethe_record_export(digest, res, len > 4 &&
						!strcasecmp(path + len - 4, ".zip") ? "zip" : "tar.gz",
						received, answered), s);
	if (!fields)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	rc = lethe_runlog_record(NULL, &env, "export", fields);
	json_decref(fields);
	/* the export stands once recorded; a register that refuses is a warning */
	if (rc == 0 && lethe_site_request_answer(s, "access", digest, received, as_of) < 0)
		return lethe_warnings_add(warnings, "the request was not registered: %s",
					  lethe_error_last()) < 0 ? LETHE_ESOFTWARE : 0;
	return rc;
}

int lethe_site_export(lethe_access_result **out, int *removed, lethe_warnings *warnings,
		      lethe_site *s, const lethe_subject *subject, lethe_day as_of,
		      const char *path)
{
	lethe_access_result *res = NULL;
	lethe_lock *lock = NULL;
	int rc;

	*out = NULL;
	*removed = 0;
	if ((rc = lethe_site_require(s, LETHE_SITE_KEYS, "access export")) < 0)
		return rc;
	if (!s->lock && !lethe_location_is_server(s->cfg->database) &&
	    (rc = lethe_lock_acquire(&lock, s->cfg->database)) < 0)
		return rc;
	if ((rc = lethe_access_export(&res, s->be, s->policy, subject, as_of, path)) < 0)
		goto out;
	if ((rc = record_export(s, subject, res, path, as_of, warnings)) < 0) {
		unlink(path);
		*removed = 1;
		lethe_access_result_free(res);
		goto out;
	}
	lethe_site_push(s, warnings);
	*out = res;
out:
	lethe_lock_release(lock);
	return rc;
}
