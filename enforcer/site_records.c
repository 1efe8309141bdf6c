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
#include "site_impl.h"

/* The keyed digest a record carries in place of an operator's text:
 * lethe_digest(pseudonym key, "hold-text", text) (docs/evidence-format.md). */
static json_t *text_digest(const lethe_token_key *k, const char *text)
{
	char d[LETHE_DIGEST_SIZE];

	lethe_digest(d, k, "hold-text", text, strlen(text));
	return json_string(d);
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

/* The hold's scope into h and the record's fields. */
static int hold_scope(lethe_hold *h, lethe_subject *subject, json_t *fields, lethe_site *s,
		      const lethe_site_hold *req)
{
	char digest[LETHE_DIGEST_SIZE], *why = NULL;
	const lethe_rule *r;
	int rc;

	if (req->subject) {
		if ((rc = lethe_subject_find(subject, s->be, s->policy, req->subject)) < 0 ||
		    (rc = lethe_subject_digest(digest, s->pseudonym_key, &subject->value)) < 0)
			return rc;
		json_object_set_new(fields, "subject", json_string(digest));
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
	json_object_set_new(fields, "rule", json_string(req->rule));
	if (req->where)
		json_object_set_new(fields, "where_digest", text_digest(s->pseudonym_key, req->where));
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
	char now[21];
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
	lethe_site_now(now);
	fields = json_pack("{s:o, s:s?}", "reason_digest", text_digest(s->pseudonym_key, req->reason),
			   "until", req->until);
	if (!fields) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	if ((rc = hold_scope(&hold, &subject, fields, s, req)) < 0)
		goto out;
	hold.until = req->until;
	hold.created_at = now;
	hold.reason = req->reason;
	if ((rc = lethe_backend_begin(s->be)) < 0 ||
	    (rc = lethe_backend_hold_add(id, s->be, &hold)) < 0) {
		lethe_backend_rollback(s->be);
		goto out;
	}
	json_object_set_new(fields, "hold_id", json_integer(*id));
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
	char now[21];
	int rc;

	if ((rc = lethe_site_require(s, LETHE_SITE_WRITE, "hold release")) < 0)
		return rc;
	if (!reason || !*reason)
		return lethe_error_set(LETHE_EUSAGE, "hold: a release needs a reason");
	lethe_site_now(now);
	if ((rc = lethe_backend_begin(s->be)) < 0 ||
	    (rc = lethe_backend_hold_release(s->be, id, now, reason)) < 0) {
		lethe_backend_rollback(s->be);
		return rc;
	}
	fields = json_pack("{s:I, s:o}", "hold_id", (json_int_t)id, "reason_digest",
			   text_digest(s->pseudonym_key, reason));
	if ((rc = record_and_commit(seq, s, "release", fields)) == 0)
		lethe_site_push(s, warnings);
	json_decref(fields);
	return rc;
}

/* The export's record: be (read-only is enough) refuses it, like every
 * record, on a main behind the register's remembered head. */
static int record_export(lethe_site *s, const lethe_subject *subject,
			 const lethe_access_result *res, const char *path)
{
	lethe_runlog_env env = { .ev = s->ev, .signing_key = s->signing_key, .be = s->be };
	char digest[LETHE_DIGEST_SIZE];
	size_t len = strlen(path);
	json_t *fields, *tables;
	int rc;

	if ((rc = lethe_subject_digest(digest, s->pseudonym_key, &subject->value)) < 0)
		return rc;
	tables = json_array();
	for (size_t i = 0; tables && i < res->ntables; i++)
		json_array_append_new(tables, json_pack("{s:s, s:I}", "table", res->tables[i].table,
							"rows", (json_int_t)res->tables[i].rows));
	fields = json_pack("{s:s, s:s, s:o, s:{s:s, s:s}}", "request", "access", "subject", digest,
			   "tables", tables, "archive", "format",
			   len > 4 && !strcasecmp(path + len - 4, ".zip") ? "zip" : "tar.gz",
			   "sha256", res->sha256);
	if (!fields)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	rc = lethe_runlog_record(NULL, &env, "export", fields);
	json_decref(fields);
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
	if (!s->lock && (rc = lethe_lock_acquire(&lock, s->cfg->database)) < 0)
		return rc;
	if ((rc = lethe_access_export(&res, s->be, s->policy, subject, as_of, path)) < 0)
		goto out;
	if ((rc = record_export(s, subject, res, path)) < 0) {
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
