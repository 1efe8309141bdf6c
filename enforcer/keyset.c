/*
 * keyset.c - the parent keys a dependent set keeps (keyset.h).
 *
 * Invariants (besides keyset.h's):
 *  - The array of sets is fixed once registration is over: ids are indexes
 *    into it and stay valid while the keysets live.
 *  - A set's bits: an open-addressing table of chunks, each the bits of
 *    32,768 consecutive integers (chunk index v >> 15, arithmetic), the
 *    table at most half full. Only the producing thread writes it, before
 *    publishing; after that nobody does.
 *  - `used` counts the bytes of every set's chunks and tables, against the
 *    budget; a set dropped for the budget gives its bytes back.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "keyset.h"
#include "plan_impl.h"
#include "lethe/error.h"
#include "strbuf.h"

#define CHUNK_BITS 15
#define CHUNK_WORDS ((1u << CHUNK_BITS) / 64)

enum set_state { SET_NEW, SET_PRODUCING, SET_READY, SET_UNUSABLE };

typedef struct {
	char *sig;              /* the node's signature (keyset.h) */
	char *children;         /* the signature of its children, as a scan's deps */
	char *table;            /* C */
	char *column;           /* C.c */
	char *where, *from;     /* its one rule's (where NULL: every row) */
	lethe_threshold due;
	_Atomic int state;      /* enum set_state; READY is never left */
	int spoiled;
	/* the bits: nslots slots, each a chunk index and its words (NULL: free) */
	int64_t *index;
	uint64_t **words;
	size_t nslots, nchunks;
} keyset;

struct lethe_keysets {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	keyset *sets;
	size_t n;
	size_t budget;
	atomic_size_t used;
};

/* --- signatures ----------------------------------------------------------- */

static int add_str(lethe_strbuf *sb, const char *s)
{
	/* length-prefixed: no content can pass for a separator */
	if (!s)
		return lethe_strbuf_adds(sb, "-|");
	return lethe_strbuf_addf(sb, "%zu:", strlen(s)) < 0 ? -1 : lethe_strbuf_add(sb, s, strlen(s));
}

static int add_node(lethe_strbuf *sb, const lethe_dependents *d);

static int add_list(lethe_strbuf *sb, const lethe_dependents *deps, size_t n)
{
	int rc = lethe_strbuf_addch(sb, '[');

	for (size_t i = 0; i < n && rc == 0; i++)
		rc = add_node(sb, &deps[i]);
	return rc < 0 ? rc : lethe_strbuf_addch(sb, ']');
}

static int add_node(lethe_strbuf *sb, const lethe_dependents *d)
{
	const lethe_foreign_key *fk = d->fk;
	int rc = lethe_strbuf_addch(sb, '{');

	rc = rc < 0 ? rc : add_str(sb, fk->child_table);
	rc = rc < 0 ? rc : add_str(sb, fk->parent_table);
	for (size_t j = 0; j < fk->ncolumns && rc == 0; j++)
		if ((rc = add_str(sb, fk->child_columns[j])) == 0)
			rc = add_str(sb, fk->parent_columns[j]);
	rc = rc < 0 ? rc : lethe_strbuf_addf(sb, "a%d c%d r%zu", (int)fk->on_delete, d->cycle,
					      d->nrules);
	for (size_t i = 0; i < d->nrules && rc == 0; i++) {
		const lethe_clock_rule *r = &d->rules[i];

		rc = lethe_strbuf_addf(sb, "(%d %ld %ld)", (int)r->due.kind, (long)r->due.due_before,
				       (long)r->due.invalid_from);
		rc = rc < 0 ? rc : add_str(sb, r->where);
		rc = rc < 0 ? rc : add_str(sb, r->from);
	}
	rc = rc < 0 ? rc : add_list(sb, d->children, d->nchildren);
	return rc < 0 ? rc : lethe_strbuf_addch(sb, '}');
}

static char *node_sig(const lethe_dependents *d)
{
	lethe_strbuf sb;

	lethe_strbuf_init(&sb);
	if (add_node(&sb, d) < 0) {
		lethe_strbuf_release(&sb);
		return NULL;
	}
	return lethe_strbuf_detach(&sb, NULL);
}

static char *list_sig(const lethe_dependents *deps, size_t n)
{
	lethe_strbuf sb;

	lethe_strbuf_init(&sb);
	if (add_list(&sb, deps, n) < 0) {
		lethe_strbuf_release(&sb);
		return NULL;
	}
	return lethe_strbuf_detach(&sb, NULL);
}

static int streq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* --- life cycle ------------------------------------------------------------- */

int lethe_keysets_new(lethe_keysets **out, size_t budget)
{
	lethe_keysets *ks = calloc(1, sizeof(*ks));

	if (!ks)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	pthread_mutex_init(&ks->lock, NULL);
	pthread_cond_init(&ks->changed, NULL);
	ks->budget = budget;
	atomic_init(&ks->used, 0);
	*out = ks;
	return 0;
}

static void set_clear(lethe_keysets *ks, keyset *s)
{
	for (size_t i = 0; i < s->nslots; i++)
		free(s->words[i]);
	atomic_fetch_sub(&ks->used, s->nchunks * CHUNK_WORDS * sizeof(uint64_t) +
			 s->nslots * (sizeof(int64_t) + sizeof(uint64_t *)));
	free(s->index);
	free(s->words);
	s->index = NULL;
	s->words = NULL;
	s->nslots = s->nchunks = 0;
}

void lethe_keysets_free(lethe_keysets *ks)
{
	if (!ks)
		return;
	for (size_t i = 0; i < ks->n; i++) {
		keyset *s = &ks->sets[i];

		set_clear(ks, s);
		free(s->sig);
		free(s->children);
		free(s->table);
		free(s->column);
		free(s->where);
		free(s->from);
	}
	free(ks->sets);
	pthread_cond_destroy(&ks->changed);
	pthread_mutex_destroy(&ks->lock);
	free(ks);
}

/* A node a scan could produce: one column, not the parent's own table, no
 * cycle, exactly one rule, by day (lethe_keysets_claim matches the rest). */
static int producible(const lethe_dependents *d)
{
	const lethe_foreign_key *fk = d->fk;

	return fk && fk->ncolumns == 1 && !d->cycle && d->nrules == 1 &&
	       strcasecmp(fk->child_table, fk->parent_table) != 0 &&
	       d->rules[0].due.kind == LETHE_DUE_BEFORE && d->rules[0].from;
}

static int find_sig(const lethe_keysets *ks, const char *sig)
{
	for (size_t i = 0; i < ks->n; i++)
		if (strcmp(ks->sets[i].sig, sig) == 0)
			return (int)i;
	return -1;
}

static int dup_or_null(char **out, const char *s)
{
	*out = s ? strdup(s) : NULL;
	return s && !*out ? -1 : 0;
}

static int register_node(lethe_keysets *ks, const lethe_dependents *d)
{
	keyset *grown, *s;
	char *sig;

	if (!producible(d))
		return 0;
	if (!(sig = node_sig(d)))
		return -1;
	if (find_sig(ks, sig) >= 0) {
		free(sig);
		return 0;
	}
	if (!(grown = realloc(ks->sets, (ks->n + 1) * sizeof(*grown)))) {
		free(sig);
		return -1;
	}
	ks->sets = grown;
	s = &ks->sets[ks->n++];
	memset(s, 0, sizeof(*s));
	s->sig = sig;
	s->due = d->rules[0].due;
	if (!(s->children = list_sig(d->children, d->nchildren)) ||
	    dup_or_null(&s->table, d->fk->child_table) < 0 ||
	    dup_or_null(&s->column, d->fk->child_columns[0]) < 0 ||
	    dup_or_null(&s->where, d->rules[0].where) < 0 ||
	    dup_or_null(&s->from, d->rules[0].from) < 0)
		return -1;
	return 0;
}

int lethe_keysets_register(lethe_keysets *ks, const lethe_dependents *deps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (register_node(ks, &deps[i]) < 0 ||
		    lethe_keysets_register(ks, deps[i].children, deps[i].nchildren) < 0)
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	return 0;
}

/* --- consumers ---------------------------------------------------------------- */

int lethe_keysets_find(const lethe_keysets *ks, const lethe_dependents *d)
{
	char *sig;
	int id;

	if (!ks || !producible(d) || !(sig = node_sig(d)))
		return -1;
	id = find_sig(ks, sig);
	free(sig);
	return id;
}

static int any_producing(lethe_keysets *ks, const lethe_dependents *deps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int id = lethe_keysets_find(ks, &deps[i]);

		if (id >= 0 && ks->sets[id].state == SET_PRODUCING)
			return 1;
		if (any_producing(ks, deps[i].children, deps[i].nchildren))
			return 1;
	}
	return 0;
}

void lethe_keysets_wait(lethe_keysets *ks, const lethe_dependents *deps, size_t n)
{
	if (!ks)
		return;
	pthread_mutex_lock(&ks->lock);
	while (any_producing(ks, deps, n))
		pthread_cond_wait(&ks->changed, &ks->lock);
	pthread_mutex_unlock(&ks->lock);
}

int lethe_keysets_ready(lethe_keysets *ks, int id)
{
	int ready;

	if (!ks || id < 0 || (size_t)id >= ks->n)
		return 0;
	pthread_mutex_lock(&ks->lock);
	ready = ks->sets[id].state == SET_READY;
	pthread_mutex_unlock(&ks->lock);
	return ready;
}

static size_t slot_of(const keyset *s, int64_t chunk)
{
	uint64_t h = (uint64_t)chunk * 0x9E3779B97F4A7C15ull;

	return (size_t)(h >> 32) & (s->nslots - 1);
}

int lethe_keysets_has(const lethe_keysets *ks, int id, int64_t v)
{
	const keyset *s;
	int64_t chunk = v >> CHUNK_BITS;
	uint32_t bit = (uint32_t)((uint64_t)v & ((1u << CHUNK_BITS) - 1));

	if (!ks || id < 0 || (size_t)id >= ks->n)
		return -1;
	s = &ks->sets[id];
	/* an expression of the policy may name any set: only a READY one answers */
	if (atomic_load(&s->state) != SET_READY)
		return -1;
	if (s->nslots == 0)
		return 0;
	for (size_t i = slot_of(s, chunk);; i = (i + 1) & (s->nslots - 1)) {
		if (!s->words[i])
			return 0;
		if (s->index[i] == chunk)
			return (int)((s->words[i][bit / 64] >> (bit % 64)) & 1);
	}
}

/* --- producers ---------------------------------------------------------------- */

/* 1 when the rows the scan leaves out as already done (lethe_scan.done_rule)
 * reference no parent through `column`: the rule masks it to NULL, and a row
 * counts as done only while the column is still NULL. */
static int leaves_out_none(const lethe_scan *scan, const char *column)
{
	if (!scan->done_rule)
		return 1;
	for (size_t i = 0; i < scan->ndone_columns; i++)
		if (scan->done_columns[i].form == LETHE_DONE_NULL &&
		    strcasecmp(scan->done_columns[i].column, column) == 0)
			return 1;
	return 0;
}

int lethe_keysets_claim(int **ids, size_t *n, lethe_keysets *ks, const lethe_scan *scan)
{
	int *list = NULL;
	size_t count = 0;
	char *children = NULL, *where = NULL;
	int rc = 0;

	*ids = NULL;
	*n = 0;
	/* every row of the table, counted, its class decided by the rule alone:
	 * a row survives when it is not due, held or blocked, which is the
	 * dependent set's condition when the set's where is the one a held row
	 * gets (lethe_plan_dependent_where) */
	if (!ks || scan->where || scan->nexclude || scan->admit ||
	    scan->after_key || scan->limit > 0 || scan->classes || scan->bind_subject ||
	    scan->due.kind != LETHE_DUE_BEFORE || !scan->from)
		return 0;
	if (lethe_plan_dependent_where(&where, NULL, scan->held) < 0 ||
	    !(children = list_sig(scan->deps, scan->ndeps))) {
		free(where);
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	pthread_mutex_lock(&ks->lock);
	for (size_t i = 0; i < ks->n; i++) {
		keyset *s = &ks->sets[i];
		int *grown;

		if (s->state != SET_NEW || strcasecmp(s->table, scan->table) || !streq(s->from, scan->from) ||
		    !streq(s->where, where) || !leaves_out_none(scan, s->column) ||
		    s->due.due_before != scan->due.due_before ||
		    s->due.invalid_from != scan->due.invalid_from || strcmp(s->children, children))
			continue;
		if (!(grown = realloc(list, (count + 1) * sizeof(*grown)))) {
			rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
			break;
		}
		list = grown;
		list[count++] = (int)i;
		s->state = SET_PRODUCING;
		s->spoiled = 0;
	}
	if (rc < 0)
		for (size_t i = 0; i < count; i++)
			ks->sets[list[i]].state = SET_NEW;
	pthread_mutex_unlock(&ks->lock);
	free(children);
	free(where);
	if (rc < 0) {
		free(list);
		return rc;
	}
	*ids = list;
	*n = count;
	return 0;
}

const char *lethe_keysets_column(const lethe_keysets *ks, int id)
{
	return ks->sets[id].column;
}

void lethe_keysets_spoil(lethe_keysets *ks, int id)
{
	keyset *s = &ks->sets[id];

	if (!s->spoiled) {
		s->spoiled = 1;
		set_clear(ks, s);
	}
}

/* Room for bytes more, within the budget. */
static int take(lethe_keysets *ks, size_t bytes)
{
	size_t used = atomic_fetch_add(&ks->used, bytes);

	if (used + bytes <= ks->budget)
		return 0;
	atomic_fetch_sub(&ks->used, bytes);
	return -1;
}

/* Double the slots (at least 16), moving every chunk. */
static int grow(lethe_keysets *ks, keyset *s)
{
	size_t n = s->nslots ? s->nslots * 2 : 16;
	int64_t *index;
	uint64_t **words;
	keyset moved;

	if (take(ks, n * (sizeof(int64_t) + sizeof(uint64_t *))) < 0)
		return -1;
	index = malloc(n * sizeof(*index));
	words = calloc(n, sizeof(*words));
	if (!index || !words) {
		free(index);
		free(words);
		atomic_fetch_sub(&ks->used, n * (sizeof(int64_t) + sizeof(uint64_t *)));
		return -1;
	}
	moved = *s;
	moved.index = index;
	moved.words = words;
	moved.nslots = n;
	for (size_t i = 0; i < s->nslots; i++) {
		size_t j;

		if (!s->words[i])
			continue;
		for (j = slot_of(&moved, s->index[i]); words[j]; j = (j + 1) & (n - 1))
			;
		index[j] = s->index[i];
		words[j] = s->words[i];
	}
	atomic_fetch_sub(&ks->used, s->nslots * (sizeof(int64_t) + sizeof(uint64_t *)));
	free(s->index);
	free(s->words);
	s->index = index;
	s->words = words;
	s->nslots = n;
	return 0;
}

void lethe_keysets_add_int(lethe_keysets *ks, int id, int64_t v)
{
	keyset *s = &ks->sets[id];
	int64_t chunk = v >> CHUNK_BITS;
	uint32_t bit = (uint32_t)((uint64_t)v & ((1u << CHUNK_BITS) - 1));
	size_t i;

	if (s->spoiled)
		return;
	if (s->nslots) {
		for (i = slot_of(s, chunk); s->words[i]; i = (i + 1) & (s->nslots - 1))
			if (s->index[i] == chunk) {
				s->words[i][bit / 64] |= 1ull << (bit % 64);
				return;
			}
	}
	/* a new chunk: keep the table at most half full */
	if ((s->nchunks + 1) * 2 > s->nslots && grow(ks, s) < 0)
		goto spoil;
	if (take(ks, CHUNK_WORDS * sizeof(uint64_t)) < 0)
		goto spoil;
	for (i = slot_of(s, chunk); s->words[i]; i = (i + 1) & (s->nslots - 1))
		;
	if (!(s->words[i] = calloc(CHUNK_WORDS, sizeof(uint64_t)))) {
		atomic_fetch_sub(&ks->used, CHUNK_WORDS * sizeof(uint64_t));
		goto spoil;
	}
	s->index[i] = chunk;
	s->nchunks++;
	s->words[i][bit / 64] |= 1ull << (bit % 64);
	return;
spoil:
	lethe_keysets_spoil(ks, id);
}

void lethe_keysets_publish(lethe_keysets *ks, const int *ids, size_t n, int ok)
{
	if (!ks || !n)
		return;
	pthread_mutex_lock(&ks->lock);
	for (size_t i = 0; i < n; i++) {
		keyset *s = &ks->sets[ids[i]];

		if (ok && !s->spoiled) {
			s->state = SET_READY;
			continue;
		}
		set_clear(ks, s);
		s->state = ok ? SET_UNUSABLE : SET_NEW;
		s->spoiled = 0;
	}
	pthread_cond_broadcast(&ks->changed);
	pthread_mutex_unlock(&ks->lock);
}
