/*
 * backend_sqlite_deps_sql.c - the SQL pieces a scan shares with its blocked
 * check (backend_sqlite_scan_sql.c composes the rest): a user expression in
 * its parentheses, a column reference, <due> of a threshold, and <blocked>
 * over a rule's dependent sets, with the sets of parent keys a plan's counts
 * share (enforcer/keyset.h) asked first. backend_sqlite_scan_sql.c's header
 * describes the query these are part of.
 *
 * Invariants:
 *  - Tables are never aliased, but for a self-referencing key (see
 *    lethe_sqlite_append_blocked): user expressions name their own table.
 *  - A set is asked only when ks is given (a plan's count) and the set is
 *    READY; its answer is NULL for a non-integer key, and the EXISTS decides.
 */
#include <limits.h>
#include <string.h>
#include <strings.h>
#include "backend_sqlite.h"
#include "keyset.h"
#include "lethe/error.h"

/* "(\nexpr\n)" or `dflt`; the newlines end a trailing `--` comment. */
void lethe_sqlite_append_expr(sqlite3_str *s, const char *expr, const char *dflt)
{
	if (expr)
		sqlite3_str_appendf(s, "(\n%s\n)", expr);
	else
		sqlite3_str_appendall(s, dflt);
}

void lethe_sqlite_append_column_ref(sqlite3_str *s, const char *table, const char *column)
{
	lethe_sqlite_append_ident(s, table);
	sqlite3_str_appendchar(s, 1, '.');
	lethe_sqlite_append_ident(s, column);
}

/* <due>: true when the clock `from` is due under th, NULL or false else. */
void lethe_sqlite_append_due(sqlite3_str *s, const lethe_threshold *th, const char *from)
{
	switch (th->kind) {
	case LETHE_DUE_BEFORE:
		sqlite3_str_appendall(s, "lethe_day(");
		lethe_sqlite_append_expr(s, from, "NULL");
		sqlite3_str_appendf(s, ") < %d", (int)th->due_before);
		break;
	case LETHE_DUE_MATCH:
		lethe_sqlite_append_expr(s, from, "NULL");
		sqlite3_str_appendall(s, " = 1");
		break;
	default:
		sqlite3_str_appendall(s, "0");
	}
}

static void append_due_any(sqlite3_str *s, const lethe_dependents *d)
{
	size_t i;

	if (d->nrules == 0) {
		sqlite3_str_appendall(s, "0");
		return;
	}
	for (i = 0; i < d->nrules; i++) {
		sqlite3_str_appendall(s, i ? " OR coalesce(" : "coalesce(");
		lethe_sqlite_append_expr(s, d->rules[i].where, "1");
		sqlite3_str_appendall(s, " AND ");
		lethe_sqlite_append_due(s, &d->rules[i].due, d->rules[i].from);
		sqlite3_str_appendall(s, ", 0)");
	}
}

static int append_deps(sqlite3_str *s, const char *parent, const lethe_dependents *deps,
		       size_t ndeps, int depth, lethe_keysets *ks);

/* Which part of a dependent set's condition an EXISTS tests: its own rows
 * not due (or, in a cycle, any row), or its rows blocked through their own
 * dependents. */
enum dep_part { DEP_NOT_DUE, DEP_NESTED };

static int append_dep(sqlite3_str *s, const char *parent, const lethe_dependents *d, int depth,
		      enum dep_part part, lethe_keysets *ks)
{
	const lethe_foreign_key *fk = d->fk;
	const char *child;
	size_t j;
	int rc = 0, self, set;

	if (!fk || fk->ncolumns == 0)
		return lethe_error_set(LETHE_ESOFTWARE, "scan: dependents without a foreign key");
	child = fk->child_table;
	self = strcasecmp(child, parent) == 0;
	/* the set's answer when it has one (keyset.h), else the subquery's */
	set = self ? -1 : lethe_keysets_find(ks, d);
	if (set >= 0 && lethe_keysets_ready(ks, set)) {
		sqlite3_str_appendf(s, "coalesce(lethe_keyset_has(%d, ", set);
		lethe_sqlite_append_column_ref(s, parent, fk->parent_columns[0]);
		sqlite3_str_appendall(s, "), ");
	} else {
		set = -1;
	}
	sqlite3_str_appendall(s, self ? "(SELECT EXISTS (SELECT 1 FROM " : "EXISTS (SELECT 1 FROM ");
	lethe_sqlite_append_ident(s, child);
	/* the condition before the key equalities: SQLite's parser keeps every
	 * operand left pending on its stack (at most 100 entries), so a nested
	 * level costs fewer entries when its own terms are already reduced */
	sqlite3_str_appendall(s, " WHERE ");
	if (d->cycle) {
		sqlite3_str_appendall(s, "1");
	} else if (part == DEP_NOT_DUE) {
		sqlite3_str_appendall(s, "NOT (");
		append_due_any(s, d);
		sqlite3_str_appendall(s, ")");
	} else {
		rc = append_deps(s, child, d->children, d->nchildren, depth + 1, ks);
	}
	for (j = 0; j < fk->ncolumns; j++) {
		sqlite3_str_appendall(s, " AND ");
		lethe_sqlite_append_column_ref(s, child, fk->child_columns[j]);
		sqlite3_str_appendall(s, " = ");
		if (self)
			sqlite3_str_appendf(s, "lethe_k%d.k%d", depth, (int)j);
		else
			lethe_sqlite_append_column_ref(s, parent, fk->parent_columns[j]);
	}
	sqlite3_str_appendall(s, ")");
	if (self) {
		sqlite3_str_appendall(s, " FROM (SELECT ");
		for (j = 0; j < fk->ncolumns; j++) {
			lethe_sqlite_append_column_ref(s, parent, fk->parent_columns[j]);
			sqlite3_str_appendf(s, " AS k%d%s", (int)j, j + 1 < fk->ncolumns ? ", " : "");
		}
		sqlite3_str_appendf(s, ") AS lethe_k%d)", depth);
	}
	if (set >= 0)
		sqlite3_str_appendall(s, ")");
	return rc;
}

/* How soon a dependent set's rows stop being due, the order in which
 * append_deps tests the sets: a set whose rows are never due (no rule, a
 * cycle, only rules that never fall due) first, then by the latest
 * due_before of its rules, so that the set most likely to hold a row not yet
 * due, which blocks at once, is looked at before the others. */
static long long dep_order(const lethe_dependents *d)
{
	long long latest = -1;

	if (d->cycle)
		return -1;
	for (size_t i = 0; i < d->nrules; i++) {
		long long t = d->rules[i].due.kind == LETHE_DUE_BEFORE ? d->rules[i].due.due_before
			    : d->rules[i].due.kind == LETHE_DUE_MATCH ? LLONG_MAX : -1;

		if (t > latest)
			latest = t;
	}
	return latest;
}

/* The set after `prev` (ndeps: none yet) in dep_order, ties in foreign key
 * order; ndeps after the last. */
static size_t next_dep(const lethe_dependents *deps, size_t ndeps, size_t prev)
{
	long long po = prev < ndeps ? dep_order(&deps[prev]) : 0;
	size_t best = ndeps;

	for (size_t i = 0; i < ndeps; i++) {
		long long o = dep_order(&deps[i]);

		if (prev < ndeps && (o < po || (o == po && i <= prev)))
			continue;
		if (best == ndeps || o < dep_order(&deps[best]))
			best = i;
	}
	return best;
}

/*
 * <blocked> over deps: (dep OR ...), written as two passes whose OR equals
 * the one EXISTS per set of the top of the file, since EXISTS (a OR b) is
 * EXISTS (a) OR EXISTS (b):
 *   1. per set, EXISTS a row of it not due (a cycle: any row), sets in
 *      dep_order; cheap, as the row's own clock decides;
 *   2. per set with dependents of its own, EXISTS a row of it blocked by
 *      them (<nested>), only once no set had a row not due.
 * SQLite stops an OR at its first true term, so a parent blocked by a row
 * not due never pays for the nested sets' subqueries.
 */
static int append_deps(sqlite3_str *s, const char *parent, const lethe_dependents *deps,
		       size_t ndeps, int depth, lethe_keysets *ks)
{
	size_t i;
	int rc = 0, first = 1;

	sqlite3_str_appendall(s, "(");
	for (i = next_dep(deps, ndeps, ndeps); i < ndeps && rc == 0; i = next_dep(deps, ndeps, i)) {
		if (!first)
			sqlite3_str_appendall(s, " OR ");
		first = 0;
		rc = append_dep(s, parent, &deps[i], depth, DEP_NOT_DUE, ks);
	}
	for (i = next_dep(deps, ndeps, ndeps); i < ndeps && rc == 0; i = next_dep(deps, ndeps, i)) {
		if (deps[i].cycle || !deps[i].nchildren)
			continue;
		sqlite3_str_appendall(s, " OR ");
		rc = append_dep(s, parent, &deps[i], depth, DEP_NESTED, ks);
	}
	sqlite3_str_appendall(s, ")");
	return rc;
}

int lethe_sqlite_guard_deps(const char *rule, const lethe_dependents *deps, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		for (size_t k = 0; k < deps[i].nrules && rc == 0; k++)
			if ((rc = lethe_sqlite_expr_guard(rule, "where", deps[i].rules[k].where)) == 0)
				rc = lethe_sqlite_expr_guard(rule, "from", deps[i].rules[k].from);
		if (rc == 0)
			rc = lethe_sqlite_guard_deps(rule, deps[i].children, deps[i].nchildren);
	}
	return rc;
}

int lethe_sqlite_append_blocked(sqlite3_str *s, const char *table, const lethe_dependents *deps,
				size_t ndeps, struct lethe_keysets *ks)
{
	return append_deps(s, table, deps, ndeps, 0, ks);
}
