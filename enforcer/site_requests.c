/*
 * site_requests.c - the register of data subjects' requests on a site
 * (lethe/site.h, "the register of requests"): GDPR 12(3) requires an answer
 * within one month of receipt, extendable by two further months with a
 * reason, and the register is what shows it.
 *
 * Invariants: the register keeps subjects as their keyed digest (the same
 * digest the evidence carries), never the key; deadlines come from the
 * calendar's month arithmetic (lethe_day_add, clamped to the month's end);
 * an extension never reaches past three months after receipt.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "site_impl.h"

int lethe_request_deadline(lethe_day *out, lethe_day received)
{
	return lethe_day_add(out, received, (lethe_duration){ 1, LETHE_UNIT_MONTH });
}

void lethe_site_set_received(lethe_site *s, lethe_day received)
{
	s->received = received;
}

/* The oldest open request of a kind and subject (by_id 0), or request by_id. */
typedef struct {
	const char *kind, *digest;
	int64_t by_id;
	int found;
	int64_t id;
	char received[11], deadline[11];
	int open;
} find_ctx;

static int find_one(void *ctx, const lethe_request *r)
{
	find_ctx *f = ctx;

	if (f->by_id ? r->id != f->by_id :
	    (r->answered || strcmp(r->kind, f->kind) || strcmp(r->subject, f->digest)))
		return 0;
	f->found = 1;
	f->id = r->id;
	f->open = !r->answered;
	snprintf(f->received, sizeof(f->received), "%s", r->received);
	snprintf(f->deadline, sizeof(f->deadline), "%s", r->deadline);
	return 1;
}

static int find(find_ctx *f, lethe_site *s)
{
	int rc = lethe_backend_requests(s->be, find_one, f);

	return rc < 0 ? rc : 0;
}

static int put(int64_t *id, lethe_site *s, const lethe_request *r)
{
	int rc;

	if ((rc = lethe_backend_begin(s->be)) < 0 ||
	    (rc = lethe_backend_request_put(id, s->be, r)) < 0 ||
	    (rc = lethe_backend_commit(s->be)) < 0) {
		lethe_backend_rollback(s->be);
		return rc;
	}
	return 0;
}

int lethe_site_request_received(lethe_site *s, const char *kind, const char *digest,
				lethe_day as_of, char received[11])
{
	find_ctx f = { .kind = kind, .digest = digest };
	int rc;

	if (s->received) {
		lethe_day_format(s->received, received);
		return 0;
	}
	if ((rc = find(&f, s)) < 0)
		return rc;
	if (f.found)
		memcpy(received, f.received, 11);
	else
		lethe_day_format(as_of, received);
	return 0;
}

int lethe_site_request_answer(lethe_site *s, const char *kind, const char *digest,
			      const char *received, lethe_day answered)
{
	find_ctx f = { .kind = kind, .digest = digest };
	char answered_s[11], deadline_s[11];
	lethe_request r = { .kind = kind, .subject = digest, .received = received,
			    .deadline = deadline_s, .answered = answered_s };
	lethe_day rec, deadline;
	int64_t id;
	int rc;

	lethe_day_format(answered, answered_s);
	if ((rc = find(&f, s)) < 0)
		return rc;
	if (f.found && !strcmp(f.received, received)) {
		/* a registered request: its answer is set, its extension kept */
		r.id = f.id;
		return put(&id, s, &r);
	}
	if (lethe_day_parse(&rec, received) < 0 || (rc = lethe_request_deadline(&deadline, rec)) < 0)
		return lethe_error_set(LETHE_EDATA, "request: bad received date '%s'", received);
	lethe_day_format(deadline, deadline_s);
	return put(&id, s, &r);
}

int lethe_site_request_add(int64_t *id, lethe_site *s, const char *kind,
			   const lethe_subject *subject, lethe_day received)
{
	char digest[LETHE_DIGEST_SIZE], received_s[11], deadline_s[11];
	lethe_request r = { .kind = kind, .subject = digest, .received = received_s,
			    .deadline = deadline_s };
	lethe_day deadline;
	int rc;

	if ((rc = lethe_site_require(s, LETHE_SITE_KEYS, "request add")) < 0)
		return rc;
	if (!kind || (strcmp(kind, "access") && strcmp(kind, "erasure")))
		return lethe_error_set(LETHE_EUSAGE, "request: kind must be 'access' or 'erasure'");
	if ((rc = lethe_subject_digest(digest, s->pseudonym_key, &subject->value)) < 0 ||
	    (rc = lethe_request_deadline(&deadline, received)) < 0)
		return rc;
	lethe_day_format(received, received_s);
	lethe_day_format(deadline, deadline_s);
	return put(id, s, &r);
}

int lethe_site_request_extend(lethe_site *s, int64_t id, lethe_day until, const char *reason)
{
	find_ctx f = { .by_id = id };
	char until_s[11], limit_s[11];
	lethe_request r = { .id = id, .extended_until = until_s, .extension_reason = reason };
	lethe_day received, deadline, limit;
	int64_t out;
	int rc;

	if (!reason || !*reason)
		return lethe_error_set(LETHE_EUSAGE, "request: an extension needs a reason");
	if ((rc = find(&f, s)) < 0)
		return rc;
	if (!f.found || !f.open)
		return lethe_error_set(LETHE_ENOTFOUND, "no open request %lld", (long long)id);
	if (lethe_day_parse(&received, f.received) < 0 || lethe_day_parse(&deadline, f.deadline) < 0 ||
	    lethe_day_add(&limit, received, (lethe_duration){ 3, LETHE_UNIT_MONTH }) < 0)
		return lethe_error_set(LETHE_EDATA, "request %lld: bad dates in the register",
				       (long long)id);
	lethe_day_format(until, until_s);
	lethe_day_format(limit, limit_s);
	if (until <= deadline)
		return lethe_error_set(LETHE_EUSAGE, "request %lld: --until %s is not after its "
				       "deadline %s", (long long)id, until_s, f.deadline);
	if (until > limit)
		return lethe_error_set(LETHE_EUSAGE, "request %lld: --until %s is more than three "
				       "months after receipt (at most %s, GDPR 12(3))", (long long)id,
				       until_s, limit_s);
	return put(&out, s, &r);
}
