/*
 * dispose_order.c - the order in which a run applies its rules.
 *
 * A rule must run before another when the other would change what the first
 * one sees:
 *  - it reads (in its table, `where` or `from`) a table the other changes;
 *    a deletion changes its table and every table that references it
 *    through foreign keys, transitively (cascades, SET NULL, and RESTRICT
 *    children that must go first);
 *  - on the same table, mask and pseudonymise run before delete.
 * Of the rules free to run, the one with the most rows due goes first, ties
 * in policy order: a rule's digest file is written into the evidence on
 * another core once its batches are over (runlog_ahead.c), so the largest
 * files are written while the rules after them run instead of holding up
 * the end of the run. The graph is tiny (rules x rules), so a simple O(n^2)
 * topological sort is plenty.
 *
 * Invariant: reads nothing but the schema; never writes.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "lethe/dispose.h"
#include "lethe/error.h"

typedef struct {
	char **names;
	size_t count;
} name_set;

static int set_has(const name_set *s, const char *name)
{
	for (size_t i = 0; i < s->count; i++)
		if (!strcasecmp(s->names[i], name))
			return 1;
	return 0;
}

static int set_add(name_set *s, const char *name)
{
	char **grown;

	if (set_has(s, name))
		return 0;
	if (!(grown = realloc(s->names, (s->count + 1) * sizeof(char *))))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	s->names = grown;
	if (!(s->names[s->count] = strdup(name)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	s->count++;
	return 0;
}

static void set_free(name_set *s)
{
	lethe_backend_names_free(s->names, s->count);
	s->names = NULL;
	s->count = 0;
}

static int reads_of(name_set *out, lethe_backend *be, const lethe_rule *r)
{
	const char *exprs[2] = { r->where, r->from };
	int rc = set_add(out, r->table);

	for (size_t i = 0; i < 2 && rc == 0; i++) {
		char **names = NULL;
		size_t n = 0;

		if (!exprs[i])
			continue;
		if ((rc = lethe_backend_tables_read(&names, &n, be, r->table, exprs[i])) < 0)
			break;
		for (size_t j = 0; j < n && rc == 0; j++)
			rc = set_add(out, names[j]);
		lethe_backend_names_free(names, n);
	}
	return rc;
}

/* The table of r, and for a delete every table referencing it, transitively. */
static int changes_of(name_set *out, const lethe_foreign_keys *fks, const lethe_rule *r)
{
	int rc = set_add(out, r->table);

	if (r->action != LETHE_ACTION_DELETE)
		return rc;
	for (size_t done = 0; done < out->count && rc == 0; done++)
		for (size_t i = 0; i < fks->count && rc == 0; i++)
			if (!strcasecmp(fks->items[i].parent_table, out->names[done]))
				rc = set_add(out, fks->items[i].child_table);
	return rc;
}

static int intersects(const name_set *a, const name_set *b)
{
	for (size_t i = 0; i < a->count; i++)
		if (set_has(b, a->names[i]))
			return 1;
	return 0;
}

/* Must rule a run before rule b? */
static int before(const lethe_rule *a, const lethe_rule *b, const name_set *reads_a,
		  const name_set *changes_b)
{
	if (!strcasecmp(a->table, b->table))
		return a->action != LETHE_ACTION_DELETE && b->action == LETHE_ACTION_DELETE;
	return intersects(reads_a, changes_b);
}

int lethe_dispose_order(size_t **out, int *cycle, lethe_backend *be, const lethe_policy *policy,
			const int64_t *due)
{
	size_t n = policy->nrules, placed = 0;
	name_set *reads = calloc(n ? n : 1, sizeof(*reads));
	name_set *changes = calloc(n ? n : 1, sizeof(*changes));
	unsigned char *edge = calloc(n ? n * n : 1, 1), *done = calloc(n ? n : 1, 1);
	size_t *order = calloc(n ? n : 1, sizeof(*order));
	lethe_foreign_keys *fks = NULL;
	int rc;

	*cycle = 0;
	if (!reads || !changes || !edge || !done || !order) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	if ((rc = lethe_backend_foreign_keys(&fks, be)) < 0)
		goto out;
	for (size_t i = 0; i < n && rc == 0; i++)
		if ((rc = reads_of(&reads[i], be, &policy->rules[i])) == 0)
			rc = changes_of(&changes[i], fks, &policy->rules[i]);
	if (rc < 0)
		goto out;
	for (size_t a = 0; a < n; a++)
		for (size_t b = 0; b < n; b++)
			if (a != b)
				edge[a * n + b] = (unsigned char)before(&policy->rules[a], &policy->rules[b],
									&reads[a], &changes[b]);
	while (placed < n) {
		size_t pick = n;

		/* Of the rules that wait for no unplaced rule, the one with the
		 * most rows due, the first in policy order of those */
		for (size_t b = 0; b < n; b++) {
			int ready = !done[b];

			for (size_t a = 0; a < n && ready; a++)
				if (!done[a] && a != b && edge[a * n + b])
					ready = 0;
			if (ready && (pick == n || (due && due[b] > due[pick])))
				pick = b;
		}
		if (pick == n) { /* a cycle: take the first unplaced rule */
			*cycle = 1;
			for (pick = 0; done[pick]; pick++)
				;
		}
		done[pick] = 1;
		order[placed++] = pick;
	}
	*out = order;
	order = NULL;
out:
	for (size_t i = 0; reads && changes && i < n; i++) {
		set_free(&reads[i]);
		set_free(&changes[i]);
	}
	free(reads);
	free(changes);
	free(edge);
	free(done);
	free(order);
	lethe_foreign_keys_free(fks);
	return rc;
}
