/*
 * site_finish.c - a run finishes the erasures that kept rows (lethe/site.h,
 * lethe_site_finish_erasures): an erasure keeps a subject's rows under a
 * legal hold or while a rule's keep_while holds (a parcel on its way, an open
 * complaint), and GDPR 17(3) excepts them only while that lasts. The
 * register of open erasures (lethe/backend.h) names those subjects; each run
 * applies the erasure again to the rows that became due, recorded as an
 * erasure with `completes`, and forgets the subject once nothing is held.
 *
 * Invariants:
 *  - A key is not a person: a subject whose contact digest
 *    (lethe_subject_identity) is no longer the one its erasure recorded is
 *    not erased; a warning says so (without the key) and the entry stays for
 *    a person to decide. A subject whose row is gone has no identity left to
 *    compare, and its remaining rows are the erased person's.
 *  - Nothing is disposed of but what the erasure's own scope makes due at
 *    as_of: the same plan `lethe erase` would apply, through
 *    lethe_site_erase_as, so holds, keep_while and the re-check at
 *    disposal hold as they do for an erasure.
 *  - Memory grows with the number of open erasures, not with the register.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "site_impl.h"

typedef struct {
	lethe_subject subject;  /* owned text */
	int64_t erasure;
	char *contact, *since;
} entry;

typedef struct {
	entry *items;
	size_t n, cap;
} entries;

static void entries_free(entries *e)
{
	for (size_t i = 0; i < e->n; i++) {
		lethe_subject_release(&e->items[i].subject);
		free(e->items[i].contact);
		free(e->items[i].since);
	}
	free(e->items);
}

/* A copy of one open erasure (the backend's row is borrowed). */
static int add_entry(void *ctx, const lethe_open_erasure *o)
{
	entries *e = ctx;
	char buf[LETHE_SUBJECT_KEY_TEXT];
	const char *text;
	size_t len;
	entry *it;

	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 8;
		entry *items = realloc(e->items, cap * sizeof(*items));

		if (!items)
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		e->items = items;
		e->cap = cap;
	}
	it = &e->items[e->n];
	*it = (entry){ .erasure = o->erasure };
	if (lethe_subject_key_text(&text, &len, buf, &o->subject) < 0)
		return lethe_error_set(LETHE_EDATA, "open erasure %08" PRId64 ": a key neither "
				       "integer nor text", o->erasure);
	it->subject.text = strndup(text, len);
	it->contact = o->contact ? strdup(o->contact) : NULL;
	it->since = strdup(o->since ? o->since : "");
	if (!it->subject.text || !it->since || (o->contact && !it->contact)) {
		free(it->subject.text);
		free(it->contact);
		free(it->since);
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	it->subject.value = o->subject;
	if (o->subject.type == LETHE_VALUE_TEXT || o->subject.type == LETHE_VALUE_BLOB)
		it->subject.value.s = it->subject.text;
	e->n++;
	return 0;
}

/* Whether the subject is still the person the erasure erased. */
static int same_person(int *same, lethe_site *s, const entry *e)
{
	char now[LETHE_DIGEST_SIZE];
	int has = 0, rc;

	*same = 1;
	if (!e->contact || !s->pseudonym_key)
		return 0;
	if ((rc = lethe_subject_identity(now, &has, s->be, s->policy, &e->subject,
					 s->pseudonym_key)) < 0)
		return rc;
	*same = !has || !strcmp(now, e->contact);
	return 0;
}

static int forget(lethe_site *s, const entry *e)
{
	int rc;

	if (!(s->flags & LETHE_SITE_WRITE))
		return 0;
	if ((rc = lethe_backend_begin(s->be)) < 0)
		return rc;
	if ((rc = lethe_backend_erasure_close(s->be, &e->subject.value)) == 0)
		return lethe_backend_commit(s->be);
	lethe_backend_rollback(s->be);
	return rc;
}

static int finish_one(size_t *open, lethe_site *s, const entry *e, lethe_day as_of,
		      int (*each)(void *, const lethe_site_finished *, const lethe_warnings *),
		      void *ctx)
{
	lethe_site_finished f = { .erasure = e->erasure, .since = e->since };
	lethe_plan_scope scope = { 0 };
	lethe_plan *due = NULL, *done = NULL;
	lethe_warnings w = { 0 };
	int rc, same;

	if ((rc = same_person(&same, s, e)) < 0)
		return rc;
	if (!same) {
		f.skipped = f.open = 1;
		++*open;
		if ((rc = lethe_warnings_add(&w, "erasure %08" PRId64 " (open since %s) is not "
					     "finished: its subject's contact values are no longer "
					     "those it erased; if it is the same person, erase the "
					     "subject again with 'lethe erase' (its key is in "
					     "lethe_erasures_open)", e->erasure, e->since)) == 0)
			rc = each(ctx, &f, &w);
		goto out;
	}
	if ((rc = lethe_plan_scope_init(&scope, s->policy, &e->subject.value, 1)) < 0 ||
	    (rc = lethe_plan_new_scoped(&due, s->be, s->policy, as_of, &scope)) < 0)
		goto out;
	if (lethe_site_plan_rows(due, 0) == 0) {
		/* nothing became due: still held, or every row gone its own way */
		if (lethe_site_plan_rows(due, 1) > 0)
			++*open;
		else
			rc = forget(s, e);
		goto out;
	}
	if (!(s->flags & LETHE_SITE_WRITE)) {
		f.plan = due;
		f.open = lethe_site_plan_rows(due, 1) > 0;
		*open += (size_t)f.open;
		rc = each(ctx, &f, &w);
		goto out;
	}
	rc = lethe_site_erase_as(&done, &w, s, &e->subject, as_of, 0, e->erasure);
	if (done) {
		int erc;

		f.plan = done;
		f.open = lethe_site_plan_rows(done, 1) > 0;
		*open += (size_t)f.open;
		/* what was disposed of is reported also when the erasure stopped */
		if ((erc = each(ctx, &f, &w)) < 0 && rc == 0)
			rc = erc;
	}
out:
	lethe_warnings_free(&w);
	lethe_plan_free(due);
	lethe_plan_free(done);
	lethe_plan_scope_release(&scope);
	return rc;
}

int lethe_site_finish_erasures(size_t *open, lethe_site *s, lethe_day as_of,
			       int (*each)(void *ctx, const lethe_site_finished *f,
					   const lethe_warnings *w),
			       void *ctx)
{
	entries e = { 0 };
	int rc;

	*open = 0;
	if ((rc = lethe_backend_erasures_open(s->be, add_entry, &e)) == 0)
		for (size_t i = 0; i < e.n && rc == 0; i++)
			rc = finish_one(open, s, &e.items[i], as_of, each, ctx);
	entries_free(&e);
	return rc;
}
