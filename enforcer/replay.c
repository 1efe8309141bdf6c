/*
 * replay.c - the erasures of the evidence, and the subjects of a restored
 * register they name again. See lethe/replay.h.
 *
 * Invariants:
 *  - The evidence is read once, in one pass over records/ of main (records
 *    are listed in seq order, their names being zero-padded): every intent
 *    and completion is read once, so the cost is linear in the records.
 *  - The set holds one entry per erasure intent while loading (completions
 *    name their intent by seq, and intents come in seq order, so a binary
 *    search finds it), then one per subject digest and contact digest (one
 *    per person erased: a key given to someone else after an erasure may
 *    have been erased again, for that other person), sorted by subject
 *    digest, then seq.
 *  - A subject of the register is the person an erasure names only when the
 *    erasure recorded no contact digest (older evidence, or a subject without
 *    contact values) or the subject's contact digest is the recorded one:
 *    a key alone never decides that a person is erased.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "lethe/error.h"
#include "lethe/record.h"
#include "lethe/replay.h"
#include "vec.h"

typedef struct {
	int64_t seq;
	char digest[LETHE_DIGEST_SIZE];
	char contact[LETHE_DIGEST_SIZE];   /* "" when the intent recorded none */
	int done;
} erasure;

struct lethe_replay_set {
	erasure *items;
	size_t n, cap;
};

typedef struct {
	lethe_replay_set *set;
	lethe_evidence *ev;
	const char *head;
} load_ctx;

static int add_intent(lethe_replay_set *s, const json_t *rec)
{
	const char *request = json_string_value(json_object_get(rec, "request"));
	const char *subject = json_string_value(json_object_get(rec, "subject"));
	const char *contact = json_string_value(json_object_get(rec, "contact"));
	json_int_t seq = json_integer_value(json_object_get(rec, "seq"));
	int rc;

	if (!request || strcmp(request, "erasure"))
		return 0;
	if (!subject || strlen(subject) != LETHE_DIGEST_SIZE - 1)
		return lethe_error_set(LETHE_EDATA, "evidence: erasure intent %" PRId64
				       " has no subject digest", (int64_t)seq);
	if ((rc = LETHE_VEC_RESERVE(s->items, s->n + 1, s->cap)) < 0)
		return rc;
	s->items[s->n].seq = seq;
	memcpy(s->items[s->n].digest, subject, LETHE_DIGEST_SIZE);
	if (contact && strlen(contact) == LETHE_DIGEST_SIZE - 1)
		memcpy(s->items[s->n].contact, contact, LETHE_DIGEST_SIZE);
	else
		s->items[s->n].contact[0] = '\0';
	s->items[s->n].done = 0;
	s->n++;
	return 0;
}

/* Whether a completion says its run disposed of what it set out to, or of
 * something before it failed. */
static int completion_done(const json_t *rec)
{
	const char *result = json_string_value(json_object_get(rec, "result"));
	json_int_t disposed = 0;
	const json_t *r;
	size_t i;

	if (!result)
		return 0;
	if (!strcmp(result, "completed") || !strcmp(result, "recovered"))
		return 1;
	json_array_foreach(json_object_get(rec, "rules"), i, r)
		disposed += json_integer_value(json_object_get(r, "disposed"));
	return !strcmp(result, "failed") && disposed > 0;
}

static void add_completion(lethe_replay_set *s, const json_t *rec)
{
	json_int_t intent = json_integer_value(json_object_get(rec, "intent_seq"));
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->items[mid].seq < intent)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->n && s->items[lo].seq == intent && completion_done(rec))
		s->items[lo].done = 1;
}

static int load_one(void *ctx, const char *path, const char *blob)
{
	load_ctx *c = ctx;
	lethe_record_kind kind;
	int64_t seq;
	json_t *rec;
	int rc;

	(void)blob;
	if (lethe_record_path_parse(path, &seq, &kind) < 0 ||
	    (kind != LETHE_RECORD_INTENT && kind != LETHE_RECORD_COMPLETION))
		return 0;
	if ((rc = lethe_record_load(&rec, c->ev, c->head, path)) < 0)
		return rc;
	if (kind == LETHE_RECORD_INTENT)
		rc = add_intent(c->set, rec);
	else
		add_completion(c->set, rec);
	json_decref(rec);
	return rc;
}

static int by_digest(const void *a, const void *b)
{
	const erasure *x = a, *y = b;
	int d = strcmp(x->digest, y->digest);

	return d ? d : (x->seq > y->seq) - (x->seq < y->seq);
}

/* Whether the kept entries of items[i]'s digest, from `first` on, have its
 * contact digest already. */
static int seen(const erasure *items, size_t first, size_t kept, const erasure *e)
{
	for (size_t j = first; j < kept; j++)
		if (!strcmp(items[j].contact, e->contact))
			return 1;
	return 0;
}

/* Keep the done erasures, one per subject and contact digest (its first),
 * sorted by digest and seq. */
static void settle(lethe_replay_set *s)
{
	size_t kept = 0, first = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->items[i].done)
			s->items[kept++] = s->items[i];
	s->n = kept;
	if (!kept)
		return;
	qsort(s->items, s->n, sizeof(*s->items), by_digest);
	kept = 1;
	for (size_t i = 1; i < s->n; i++) {
		if (strcmp(s->items[i].digest, s->items[first].digest))
			first = kept;
		else if (seen(s->items, first, kept, &s->items[i]))
			continue;
		s->items[kept++] = s->items[i];
	}
	s->n = kept;
}

int lethe_replay_set_load(lethe_replay_set **out, lethe_evidence *ev)
{
	lethe_replay_set *s = calloc(1, sizeof(*s));
	char head[41];
	load_ctx c = { s, ev, head };
	int rc;

	if (!s)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	rc = lethe_evidence_head(head, ev);
	if (rc == 0) {
		rc = lethe_evidence_list(ev, head, "records", load_one, &c);
		if (rc == LETHE_ENOTFOUND)
			rc = 0;
	} else if (rc == LETHE_ENOTFOUND) {
		rc = 0;
	}
	if (rc < 0) {
		lethe_replay_set_free(s);
		return rc;
	}
	settle(s);
	*out = s;
	return 0;
}

void lethe_replay_set_free(lethe_replay_set *s)
{
	if (!s)
		return;
	free(s->items);
	free(s);
}

size_t lethe_replay_set_count(const lethe_replay_set *s)
{
	return s->n;
}

int64_t lethe_replay_set_find(const lethe_replay_set *s, const char *digest, const char *contact,
			      int64_t *other)
{
	size_t lo = 0, hi = s->n;

	*other = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(s->items[mid].digest, digest) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < s->n && !strcmp(s->items[i].digest, digest); i++) {
		const char *c = s->items[i].contact;

		if (!*c || (contact && !strcmp(c, contact)))
			return s->items[i].seq;
		if (!*other)
			*other = s->items[i].seq;
	}
	return 0;
}

typedef struct {
	const lethe_policy *p;
	const lethe_table_info *t;  /* the subject table: its unique contact columns */
	const lethe_token_key *k;
	const lethe_replay_set *set;
	long column;            /* index of the key column; -1 before the first row */
	lethe_replay_match *items;
	size_t n, cap;
} match_ctx;

static int add_match(match_ctx *m, const lethe_value *key, const char *s, size_t len, int64_t seq,
		     int other_person)
{
	lethe_replay_match *x;
	int rc;

	if ((rc = LETHE_VEC_RESERVE(m->items, m->n + 1, m->cap)) < 0)
		return rc;
	x = &m->items[m->n];
	memset(x, 0, sizeof(*x));
	if (!(x->subject.text = strndup(s, len)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	x->subject.value = *key;
	if (key->type == LETHE_VALUE_TEXT)
		x->subject.value.s = x->subject.text;
	x->replay_of = seq;
	x->other_person = other_person;
	m->n++;
	return 0;
}

static int match_row(void *ctx, size_t ncols, const char *const *names, const lethe_value *values)
{
	match_ctx *m = ctx;
	const lethe_value *key;
	char buf[32], digest[LETHE_DIGEST_SIZE], contact[LETHE_DIGEST_SIZE];
	const char *s = NULL;
	size_t len = 0;
	int64_t seq, other = 0;
	int has = 0, rc;

	if (m->column < 0) {
		for (size_t i = 0; i < ncols && m->column < 0; i++)
			if (!strcasecmp(names[i], m->p->subject_key))
				m->column = (long)i;
		if (m->column < 0)
			return lethe_error_set(LETHE_ECONFIG, "subject key '%s' is not a column of '%s'",
					       m->p->subject_key, m->p->subject_table);
	}
	key = &values[m->column];
	/* a key that is neither integer nor text was never erased */
	if (lethe_subject_key_text(&s, &len, buf, key) < 0 ||
	    lethe_subject_digest(digest, m->k, key) < 0)
		return 0;
	if (!lethe_replay_set_find(m->set, digest, NULL, &other) && !other)
		return 0;
	/* an erasure names this key: is this the person it erased? */
	if ((rc = lethe_subject_identity_row(contact, &has, m->p, m->t, m->k, ncols, names,
					       values)) < 0)
		return rc;
	if ((seq = lethe_replay_set_find(m->set, digest, has ? contact : NULL, &other)))
		return add_match(m, key, s, len, seq, 0);
	return add_match(m, key, s, len, other, 1);
}

int lethe_replay_match_subjects(lethe_replay_match **out, size_t *n, lethe_backend *be,
				const lethe_policy *p, const lethe_token_key *k,
				const lethe_replay_set *set)
{
	match_ctx m = { p, NULL, k, set, -1, NULL, 0, 0 };
	lethe_table_info *t = NULL;
	int rc;

	if (!p->subject_table || !p->subject_key)
		return lethe_error_set(LETHE_ECONFIG, "the policy names no data subject "
				       "(a 'subject' with 'table' and 'key' in one policy file)");
	if (set->n == 0) {
		*out = NULL;
		*n = 0;
		return 0;
	}
	if ((rc = lethe_backend_table_info(&t, be, p->subject_table)) < 0)
		return rc;
	m.t = t;
	rc = lethe_backend_rows(be, p->subject_table, NULL, NULL, match_row, &m);
	lethe_table_info_free(t);
	if (rc < 0) {
		lethe_replay_matches_free(m.items, m.n);
		return rc;
	}
	*out = m.items;
	*n = m.n;
	return 0;
}

void lethe_replay_matches_free(lethe_replay_match *m, size_t n)
{
	for (size_t i = 0; m && i < n; i++)
		lethe_subject_release(&m[i].subject);
	free(m);
}
