/*
 * test_dispose_order.c - the order in which a run applies its rules
 * (enforcer/dispose_order.c), on real SQLite schemas: children before the
 * deletion of their parents along foreign keys, mask before delete on one
 * table, a clock that reads another table before the rule changing it, a
 * cycle reported and broken in policy order, policy order otherwise.
 */
#include <check.h>
#include "lethe/dispose.h"
#include "lethe/error.h"
#include "register_fixture.h"

/* The order as "2,1,0" and the cycle flag, given the rows due per rule. */
static void order_due_is(const lethe_policy *p, const int64_t *due, const char *want, int want_cycle)
{
	lethe_backend *be = rf_open(LETHE_BACKEND_READONLY);
	size_t *order = NULL;
	char got[128] = "";
	int cycle = -1, rc = lethe_dispose_order(&order, &cycle, be, p, due);

	ck_assert_msg(rc == 0, "order: %d %s", rc, lethe_error_last());
	for (size_t i = 0; i < p->nrules; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%zu", i ? "," : "", order[i]);
	ck_assert_str_eq(got, want);
	ck_assert_int_eq(cycle, want_cycle);
	free(order);
	lethe_backend_free(be);
}

static void order_is(const lethe_policy *p, const char *want, int want_cycle)
{
	order_due_is(p, NULL, want, want_cycle);
}

static const char family_db[] =
	"CREATE TABLE customers (id INTEGER PRIMARY KEY, d TEXT);"
	"CREATE TABLE orders (id INTEGER PRIMARY KEY, "
	"customer_id INTEGER REFERENCES customers(id) ON DELETE CASCADE, d TEXT);"
	"CREATE TABLE items (id INTEGER PRIMARY KEY, "
	"order_id INTEGER REFERENCES orders(id) ON DELETE CASCADE, d TEXT);"
	"CREATE TABLE logs (id INTEGER PRIMARY KEY, d TEXT);";

/* A deletion on each table of family_db, in this order: c, l, o, i. */
#define FAMILY_RULES \
	"  - {name: c, basis: b, table: customers, from: d, retain: 1 day, action: delete}\n" \
	"  - {name: l, basis: b, table: logs, from: d, retain: 1 day, action: delete}\n" \
	"  - {name: o, basis: b, table: orders, from: d, retain: 1 day, action: delete}\n" \
	"  - {name: i, basis: b, table: items, from: d, retain: 1 day, action: delete}\n"

START_TEST(test_order_children_before_parents)
{
	lethe_policy *p;

	rf_db(family_db);
	p = rf_policy("rules:\n" FAMILY_RULES);
	/* logs is free first; items before orders before customers */
	order_is(p, "1,3,2,0", 0);
	lethe_policy_free(p);
}
END_TEST

/* A cascade reaches grandchildren: with no rule on orders, items still goes
 * before customers. */
START_TEST(test_order_grandchild_before_grandparent)
{
	lethe_policy *p;

	rf_db(family_db);
	p = rf_policy("rules:\n"
		      "  - {name: c, basis: b, table: customers, from: d, retain: 1 day, action: delete}\n"
		      "  - {name: i, basis: b, table: items, from: d, retain: 1 day, action: delete}\n");
	order_is(p, "1,0", 0);
	lethe_policy_free(p);
}
END_TEST

/* A pseudonymised parent changes no child: no reason to reorder. */
START_TEST(test_order_policy_order_otherwise)
{
	lethe_policy *p;

	rf_db(family_db);
	p = rf_policy("rules:\n"
		      "  - {name: c, basis: b, table: customers, from: d, retain: 1 day, "
		      "action: pseudonymise, columns: [d]}\n"
		      "  - {name: l, basis: b, table: logs, from: d, retain: 1 day, action: delete}\n"
		      "  - {name: o, basis: b, table: orders, from: d, retain: 1 day, action: delete}\n"
		      "  - {name: k, basis: b, table: customers, action: keep}\n");
	order_is(p, "0,1,2,3", 0);
	lethe_policy_free(p);
}
END_TEST

/* Of the rules free to run, the one with the most rows due first, ties in
 * policy order; a rule that must wait still waits, however many rows it
 * has: items (5 due) before orders (9) before customers (1,000), logs (7)
 * before orders as soon as items is done. */
START_TEST(test_order_most_due_first_where_free)
{
	static const int64_t due[] = { 1000, 7, 9, 5, 7 };
	static const int64_t even[] = { 3, 3, 3, 3, 3 };
	lethe_policy *p;

	rf_db(family_db);
	p = rf_policy("rules:\n" FAMILY_RULES
		      "  - {name: m, basis: b, table: logs, from: d, retain: 2 days, action: mask, "
		      "columns: {d: null}}\n");
	/* free at first: l (7), i (5), m (7), and m must precede l (mask before
	 * delete): m, then l (7) over i (5), then i, o, c */
	order_due_is(p, due, "4,1,3,2,0", 0);
	/* equal counts: policy order among the free ones, as with none */
	order_due_is(p, even, "3,2,0,4,1", 0);
	order_is(p, "3,2,0,4,1", 0);
	lethe_policy_free(p);
}
END_TEST

/* On one table: mask and pseudonymise before delete, whatever the policy order. */
START_TEST(test_order_mask_before_delete)
{
	lethe_policy *p;

	rf_db(family_db);
	p = rf_policy("rules:\n"
		      "  - {name: del, basis: b, table: logs, from: d, retain: 2 years, action: delete}\n"
		      "  - {name: msk, basis: b, table: logs, from: d, retain: 1 year, action: mask, "
		      "columns: {d: year}}\n");
	order_is(p, "1,0", 0);
	lethe_policy_free(p);
}
END_TEST

static const char abc_db[] =
	"CREATE TABLE a (id INTEGER PRIMARY KEY, d TEXT);"
	"CREATE TABLE b (id INTEGER PRIMARY KEY, d TEXT);"
	"CREATE TABLE c (id INTEGER PRIMARY KEY, d TEXT);";

/* A rule whose clock reads another table runs before the rule deleting there. */
START_TEST(test_order_clock_reads)
{
	lethe_policy *p;

	rf_db(abc_db);
	p = rf_policy("rules:\n"
		      "  - {name: b, basis: b, table: b, from: d, retain: 1 day, action: delete}\n"
		      "  - {name: a, basis: b, table: a, from: '(SELECT max(d) FROM b WHERE b.id = a.id)', "
		      "retain: 1 day, action: delete}\n");
	order_is(p, "1,0", 0);
	lethe_policy_free(p);
}
END_TEST

/* c is free and goes first; a and b read each other's tables: a cycle,
 * reported and broken in policy order. */
START_TEST(test_order_cycle)
{
	lethe_policy *p;

	rf_db(abc_db);
	p = rf_policy("rules:\n"
		      "  - {name: a, basis: b, table: a, from: '(SELECT max(d) FROM b WHERE b.id = a.id)', "
		      "retain: 1 day, action: delete}\n"
		      "  - {name: b, basis: b, table: b, from: d, retain: 1 day, action: delete, "
		      "where: 'id NOT IN (SELECT id FROM a)'}\n"
		      "  - {name: c, basis: b, table: c, from: d, retain: 1 day, action: delete}\n");
	order_is(p, "2,0,1", 1);
	lethe_policy_free(p);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		test_order_children_before_parents,
		test_order_grandchild_before_grandparent,
		test_order_policy_order_otherwise,
		test_order_mask_before_delete,
		test_order_most_due_first_where_free,
		test_order_clock_reads,
		test_order_cycle,
	};

	return rf_main("dispose_order", tests, sizeof(tests) / sizeof(tests[0]));
}
