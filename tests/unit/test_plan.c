/*
 * test_plan.c - what a plan counts (enforcer/plan.c), on real SQLite files:
 * every counted_from kind, month-end clamping, 29 February, the fiscal year
 * end, NULL and invalid clocks, holds, a parent blocked by a child that is
 * not due, access and erasure scopes, and the JSON the contract fixes.
 *
 * Every expectation is computed by hand from policy-language.md, "Counting":
 * end = start + retain (clamped), due when as-of > end, next_due = end + 1.
 */
#include <check.h>
#include <jansson.h>
#include "lethe/error.h"
#include "lethe/plan.h"
#include "register_fixture.h"

START_TEST(test_plan_counted_from_kinds)
{
	lethe_policy *p;
	lethe_plan *plan;

	rf_db("CREATE TABLE tm (id INTEGER PRIMARY KEY, d TEXT);"
	      "CREATE TABLE ty (id INTEGER PRIMARY KEY, d TEXT);"
	      "CREATE TABLE tf (id INTEGER PRIMARY KEY, d TEXT);"
	      "CREATE TABLE td (id INTEGER PRIMARY KEY, d TEXT);"
	      /* end of month + 1 day: 02-10 and 02-29 end 03-01 (due 03-02); 03-01 ends 04-01 */
	      "INSERT INTO tm VALUES (1, '2024-02-10'), (2, '2024-02-29'), (3, '2024-03-01');"
	      /* end of year + 1 month: 2023 rows end 2024-01-31; 2024-01-01 ends 2025-01-31 */
	      "INSERT INTO ty VALUES (1, '2023-05-05'), (2, '2023-12-31'), (3, '2024-01-01');"
	      /* fiscal year ends 06-30, + 1 year: 2023-06-30 and 2022-12-31 end 2024-06-30,
	       * 2023-07-01 ends 2025-06-30 */
	      "INSERT INTO tf VALUES (1, '2023-06-30'), (2, '2023-07-01'), (3, '2022-12-31');"
	      /* the day itself + 2 weeks: 06-16 ends 06-30, 06-17 ends 07-01 */
	      "INSERT INTO td VALUES (1, '2024-06-16'), (2, '2024-06-17');");
	p = rf_policy("fiscal_year_end: 06-30\nrules:\n"
		      "  - {name: m, basis: b, table: tm, from: d, counted_from: end of month, "
		      "retain: 1 day, action: delete}\n"
		      "  - {name: y, basis: b, table: ty, from: d, counted_from: end of year, "
		      "retain: 1 month, action: delete}\n"
		      "  - {name: f, basis: b, table: tf, from: d, counted_from: end of fiscal year, "
		      "retain: 1 year, action: delete}\n"
		      "  - {name: d, basis: b, table: td, from: d, retain: 2 weeks, action: delete}\n");

	plan = rf_plan(p, "2024-03-01");
	rf_counts(&plan->rules[0], 3, 0, 3, 0, 0, 0, 0);
	rf_next_due(&plan->rules[0], "2024-03-02");
	lethe_plan_free(plan);

	plan = rf_plan(p, "2024-03-02");
	ck_assert_uint_eq(plan->nrules, 4);
	ck_assert_ptr_eq(plan->rules[2].rule, &p->rules[2]);
	rf_counts(&plan->rules[0], 3, 2, 1, 0, 0, 0, 0);
	rf_next_due(&plan->rules[0], "2024-04-02");
	rf_counts(&plan->rules[1], 3, 2, 1, 0, 0, 0, 0);
	rf_next_due(&plan->rules[1], "2025-02-01");
	rf_counts(&plan->rules[2], 3, 0, 3, 0, 0, 0, 0);
	rf_next_due(&plan->rules[2], "2024-07-01");
	rf_counts(&plan->rules[3], 2, 0, 2, 0, 0, 0, 0);
	rf_next_due(&plan->rules[3], "2024-07-01");
	lethe_plan_free(plan);

	plan = rf_plan(p, "2024-06-30");
	rf_counts(&plan->rules[2], 3, 0, 3, 0, 0, 0, 0);
	rf_counts(&plan->rules[3], 2, 0, 2, 0, 0, 0, 0);
	lethe_plan_free(plan);

	plan = rf_plan(p, "2024-07-01");
	rf_counts(&plan->rules[0], 3, 3, 0, 0, 0, 0, 0);
	ck_assert_int_eq(plan->rules[0].has_next_due, 0);
	rf_counts(&plan->rules[1], 3, 2, 1, 0, 0, 0, 0);
	rf_counts(&plan->rules[2], 3, 2, 1, 0, 0, 0, 0);
	rf_next_due(&plan->rules[2], "2025-07-01");
	rf_counts(&plan->rules[3], 2, 1, 1, 0, 0, 0, 0);
	rf_next_due(&plan->rules[3], "2024-07-02");
	lethe_plan_free(plan);
	lethe_policy_free(p);
}
END_TEST

/* 2024-01-31 + 1 month = 2024-02-29; 2023-01-31 + 1 month = 2023-02-28;
 * 2020-02-29 + 1 year = 2021-02-28; 2024-02-29 + 1 year = 2025-02-28. */
START_TEST(test_plan_month_end_and_29_february)
{
	lethe_policy *p;
	lethe_plan *plan;

	rf_db("CREATE TABLE a (id INTEGER PRIMARY KEY, d TEXT);"
	      "CREATE TABLE b (id INTEGER PRIMARY KEY, d TEXT);"
	      "INSERT INTO a VALUES (1, '2024-01-31'), (2, '2023-01-31'), "
	      "(3, '2024-02-29 23:59:59'), (4, '2024-03-31');"
	      "INSERT INTO b VALUES (1, '2020-02-29'), (2, '2024-02-29');");
	p = rf_policy("rules:\n"
		      "  - {name: a, basis: b, table: a, from: d, retain: 1 month, action: delete}\n"
		      "  - {name: b, basis: b, table: b, from: d, retain: 1 year, action: delete}\n");

	plan = rf_plan(p, "2024-02-29");
	rf_counts(&plan->rules[0], 4, 1, 3, 0, 0, 0, 0);       /* only 2023-01-31 */
	rf_next_due(&plan->rules[0], "2024-03-01");
	lethe_plan_free(plan);

	plan = rf_plan(p, "2024-03-01");
	rf_counts(&plan->rules[0], 4, 2, 2, 0, 0, 0, 0);
	rf_next_due(&plan->rules[0], "2024-03-30");           /* 2024-02-29 + 1 month + 1 */
	ck_assert_int_eq(plan->rules[0].last_due, rf_day("2024-05-01"));
	lethe_plan_free(plan);

	plan = rf_plan(p, "2021-02-28");
	rf_counts(&plan->rules[1], 2, 0, 2, 0, 0, 0, 0);
	rf_next_due(&plan->rules[1], "2021-03-01");
	lethe_plan_free(plan);

	plan = rf_plan(p, "2021-03-01");
	rf_counts(&plan->rules[1], 2, 1, 1, 0, 0, 0, 0);
	rf_next_due(&plan->rules[1], "2025-03-01");
	lethe_plan_free(plan);
	lethe_policy_free(p);
}
END_TEST

/* NULL: not started; text that is no ISO-8601 date, impossible dates, REAL
 * and BLOB: invalid, with their keys as examples; integer unix seconds and
 * offsets give the UTC day. Keep rules count their rows as not due. */
START_TEST(test_plan_null_and_invalid_clocks)
{
	lethe_policy *p;
	lethe_plan *plan;

	rf_db("CREATE TABLE c (id INTEGER PRIMARY KEY, d);"
	      "INSERT INTO c VALUES (1, NULL), (2, 'not a date'), (3, '2024-02-30'), (4, 1.5), "
	      "(5, X'00'), (6, 1709251199), (7, '2024-02-29T23:30:00-01:00'), (8, -1);"
	      "CREATE TABLE k (id INTEGER PRIMARY KEY, d);"
	      "INSERT INTO k VALUES (1, '2000-01-01'), (2, NULL);");
	p = rf_policy("rules:\n"
		      "  - {name: c, basis: b, table: c, from: d, retain: 1 day, action: delete}\n"
		      "  - {name: k, basis: b, table: k, action: keep}\n");
	/* 6: 2024-02-29T23:59:59Z ends 03-01; 7: 2024-03-01 UTC ends 03-02; 8: 1969-12-31 */
	plan = rf_plan(p, "2024-03-02");
	rf_counts(&plan->rules[0], 8, 2, 1, 1, 4, 0, 0);
	rf_next_due(&plan->rules[0], "2024-03-03");
	ck_assert_uint_eq(plan->rules[0].ninvalid_examples, 4);
	ck_assert_str_eq(plan->rules[0].invalid_examples[0], "2");
	ck_assert_str_eq(plan->rules[0].invalid_examples[1], "3");
	ck_assert_str_eq(plan->rules[0].invalid_examples[2], "4");
	ck_assert_str_eq(plan->rules[0].invalid_examples[3], "5");
	rf_counts(&plan->rules[1], 2, 0, 2, 0, 0, 0, 0);
	ck_assert_int_eq(plan->rules[1].has_next_due, 0);
	lethe_plan_free(plan);
	lethe_policy_free(p);
}
END_TEST

/* A rule hold with a where, a subject hold, a hold until the as-of day: in
 * force; a released hold and one whose until has passed: not. A held row
 * counts as held only when it is due. */
START_TEST(test_plan_holds)
{
	lethe_policy *p;
	lethe_plan *plan;

	rf_db("CREATE TABLE o (id INTEGER PRIMARY KEY, customer_id INTEGER, d TEXT);"
	      "INSERT INTO o VALUES (1, 1, '2024-01-01'), (2, 1, '2024-01-01'), (3, 1, '2024-01-01'),"
	      "(4, 1, '2024-01-01'), (5, 1, '2024-01-01'), (6, 7, '2024-01-01'), (7, 7, '2024-03-01'),"
	      "(8, 9, '2024-01-01');"
	      "CREATE TABLE lethe_holds (id INTEGER PRIMARY KEY, subject, rule TEXT, "
	      "where_sql TEXT, until TEXT, created_at TEXT NOT NULL, released_at TEXT, reason TEXT, "
	      "release_reason TEXT);"
	      "INSERT INTO lethe_holds (subject, rule, where_sql, until, created_at, released_at) VALUES "
	      "(NULL, 'o', 'id = 2', NULL, '2024-01-02', NULL),"
	      "(7, NULL, NULL, NULL, '2024-01-02', NULL),"
	      "(NULL, 'o', 'id = 3', NULL, '2024-01-02', '2024-02-01'),"
	      "(NULL, 'o', 'id = 4', '2024-03-01', '2024-01-02', NULL),"
	      "(NULL, 'o', 'id = 5', '2024-03-02', '2024-01-02', NULL),"
	      "(9, NULL, NULL, '2024-03-02', '2024-01-02', NULL);");
	p = rf_policy("rules:\n  - {name: o, basis: b, table: o, subject: customer_id, from: d, "
		      "retain: 1 day, action: delete}\n");
	plan = rf_plan(p, "2024-03-02");
	/* due 1, 3, 4; held 2 (rule), 5 (rule, until today), 6 (subject 7), 8 (subject 9,
	 * until today); 7 not due */
	rf_counts(&plan->rules[0], 8, 3, 1, 0, 0, 4, 0);
	lethe_plan_free(plan);
	/* the holds on 5 and subject 9 have passed; row 7 is due now, and held by subject 7 */
	plan = rf_plan(p, "2024-03-03");
	rf_counts(&plan->rules[0], 8, 5, 0, 0, 0, 3, 0);
	lethe_plan_free(plan);
	lethe_policy_free(p);
}
END_TEST

/* A due parent whose deletion would cascade into a child that is not due is
 * blocked; one whose children are all due is not. */
START_TEST(test_plan_blocked_parent)
{
	lethe_policy *p;
	lethe_plan *plan;

	rf_db("CREATE TABLE customers (id INTEGER PRIMARY KEY, d TEXT);"
	      "CREATE TABLE orders (id INTEGER PRIMARY KEY, "
	      "customer_id INTEGER REFERENCES customers(id) ON DELETE CASCADE, d TEXT);"
	      "INSERT INTO customers VALUES (1, '2020-01-01'), (2, '2020-01-01'), (3, '2020-01-01'),"
	      "(4, '2024-03-01');"
	      "INSERT INTO orders VALUES (10, 1, '2024-01-01'), (20, 2, '2010-01-01');");
	p = rf_policy("rules:\n"
		      "  - {name: customers, basis: b, table: customers, from: d, retain: 1 year, "
		      "action: delete}\n"
		      "  - {name: orders, basis: b, table: orders, from: d, retain: 10 years, "
		      "action: delete}\n");
	plan = rf_plan(p, "2024-03-02");
	rf_counts(&plan->rules[0], 4, 2, 1, 0, 0, 0, 1);      /* 1 blocked by order 10 */
	rf_counts(&plan->rules[1], 2, 1, 1, 0, 0, 0, 0);
	rf_next_due(&plan->rules[1], "2034-01-02");
	lethe_plan_free(plan);
	lethe_policy_free(p);
}
END_TEST

static const char scope_db[] =
	"CREATE TABLE o (id INTEGER PRIMARY KEY, customer_id INTEGER, d TEXT);"
	"INSERT INTO o VALUES (1, 7, '2024-01-01'), (2, 7, '2024-03-01'), (3, 8, '2024-01-01'),"
	"(4, 7, NULL);"
	"CREATE TABLE logs (id INTEGER PRIMARY KEY, d TEXT);"
	"INSERT INTO logs VALUES (1, '2000-01-01'), (2, '2000-01-01');"
	"CREATE TABLE inv (id INTEGER PRIMARY KEY, customer_id INTEGER, d TEXT);"
	"INSERT INTO inv VALUES (1, 7, '2024-01-01'), (2, 8, '2000-01-01');"
	"CREATE TABLE lethe_holds (id INTEGER PRIMARY KEY, subject, rule TEXT, "
	"where_sql TEXT, until TEXT, created_at TEXT NOT NULL, released_at TEXT, reason TEXT, "
	"release_reason TEXT);"
	"INSERT INTO lethe_holds (rule, where_sql, created_at) VALUES ('o', 'id = 2', '2024-01-02');";

static const char scope_policy[] =
	"rules:\n"
	"  - {name: o, basis: b, table: o, subject: customer_id, from: d, retain: 1 day, "
	"action: delete}\n"
	"  - {name: logs, basis: b, table: logs, from: d, retain: 1 day, action: delete}\n"
	"  - {name: inv, basis: b, table: inv, subject: customer_id, from: d, retain: 10 years, "
	"action: delete, on_erasure: keep}\n";

static lethe_plan *scoped(const lethe_policy *p, int64_t subject, int erasure)
{
	lethe_value v = { .type = LETHE_VALUE_INTEGER, .i = subject };
	lethe_plan_scope s;
	lethe_backend *be = rf_open(LETHE_BACKEND_READONLY);
	lethe_plan *plan = NULL;
	int rc;

	ck_assert_int_eq(lethe_plan_scope_init(&s, p, &v, erasure), 0);
	rc = lethe_plan_new_scoped(&plan, be, p, rf_day("2024-03-02"), &s);
	ck_assert_msg(rc == 0, "plan: %d %s", rc, lethe_error_last());
	lethe_plan_scope_release(&s);
	lethe_backend_free(be);
	return plan;
}

/* An access scope counts the subject's rows by their clocks; an erasure
 * makes them due under on_erasure whatever their clocks (keep: due only by
 * the rule's own clock);
 * rules without subject are out of both; holds still hold. */
START_TEST(test_plan_scoped)
{
	lethe_policy *p;
	lethe_plan *plan;

	rf_db(scope_db);
	p = rf_policy(scope_policy);
	plan = scoped(p, 7, 0);
	rf_counts(&plan->rules[0], 3, 1, 1, 1, 0, 0, 0);
	rf_counts(&plan->rules[1], 0, 0, 0, 0, 0, 0, 0);
	rf_counts(&plan->rules[2], 1, 0, 1, 0, 0, 0, 0);
	lethe_plan_free(plan);

	plan = scoped(p, 7, 1);
	rf_counts(&plan->rules[0], 3, 2, 0, 0, 0, 1, 0);      /* row 2 held, NULL clock due */
	rf_counts(&plan->rules[1], 0, 0, 0, 0, 0, 0, 0);
	rf_counts(&plan->rules[2], 1, 0, 1, 0, 0, 0, 0);
	lethe_plan_free(plan);

	/* subject 8's invoice of 2000 is past its 10 years: an erasure keeps
	 * nothing whose period is over, on_erasure: keep or not */
	plan = scoped(p, 8, 1);
	rf_counts(&plan->rules[0], 1, 1, 0, 0, 0, 0, 0);
	rf_counts(&plan->rules[2], 1, 1, 0, 0, 0, 0, 0);
	lethe_plan_free(plan);

	plan = scoped(p, 9, 1);                               /* nobody */
	for (size_t i = 0; i < 3; i++)
		rf_counts(&plan->rules[i], 0, 0, 0, 0, 0, 0, 0);
	lethe_plan_free(plan);
	lethe_policy_free(p);
}
END_TEST

/* An erasure's parent row is blocked by a child that cascades from it but
 * belongs to another subject (the child's subject is not its foreign key). */
START_TEST(test_plan_erasure_blocked_by_other_subject)
{
	lethe_policy *p;
	lethe_plan *plan;

	rf_db("CREATE TABLE customers (id INTEGER PRIMARY KEY, d TEXT);"
	      "CREATE TABLE orders (id INTEGER PRIMARY KEY, "
	      "customer_id INTEGER REFERENCES customers(id) ON DELETE CASCADE, buyer_id INTEGER, "
	      "d TEXT);"
	      "INSERT INTO customers VALUES (7, '2024-03-01'), (8, '2024-03-01');"
	      "INSERT INTO orders VALUES (1, 7, 7, '2024-03-01'), (2, 8, 7, '2024-03-01'),"
	      "(3, 8, 8, '2024-03-01');");
	p = rf_policy("rules:\n"
		      "  - {name: c, basis: b, table: customers, subject: id, from: d, retain: 1 year, "
		      "action: delete}\n"
		      "  - {name: o, basis: b, table: orders, subject: buyer_id, from: d, "
		      "retain: 1 year, action: delete}\n");
	plan = scoped(p, 7, 1);
	rf_counts(&plan->rules[0], 1, 1, 0, 0, 0, 0, 0);      /* its only child is 7's too */
	rf_counts(&plan->rules[1], 2, 2, 0, 0, 0, 0, 0);
	lethe_plan_free(plan);
	plan = scoped(p, 8, 1);
	rf_counts(&plan->rules[0], 1, 0, 0, 0, 0, 0, 1);      /* order 2 is subject 7's */
	rf_counts(&plan->rules[1], 1, 1, 0, 0, 0, 0, 0);
	lethe_plan_free(plan);
	lethe_policy_free(p);
}
END_TEST

static json_int_t jint(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	ck_assert_msg(json_is_integer(v), "'%s' is no integer", k);
	return json_integer_value(v);
}

START_TEST(test_plan_json)
{
	lethe_policy *p;
	lethe_plan *plan;
	json_error_t err;
	json_t *root, *r;
	char *text = NULL;

	rf_db("CREATE TABLE c (id INTEGER PRIMARY KEY, d);"
	      "INSERT INTO c VALUES (1, NULL), (2, 'bad'), (3, '2024-01-01'), (4, '2024-03-01');"
	      "CREATE TABLE k (id INTEGER PRIMARY KEY, d);");
	p = rf_policy("rules:\n"
		      "  - {name: c, basis: Law 1 §, table: c, from: d, retain: 1 day, action: delete}\n"
		      "  - {name: k, basis: b, table: k, action: keep}\n");
	plan = rf_plan(p, "2024-03-02");
	ck_assert_int_eq(lethe_plan_to_json(&text, plan, "disposed"), 0);
	root = json_loads(text, 0, &err);
	ck_assert_msg(root != NULL, "%s", err.text);
	ck_assert_str_eq(json_string_value(json_object_get(root, "as_of")), "2024-03-02");
	ck_assert_uint_eq(json_array_size(json_object_get(root, "rules")), 2);
	r = json_array_get(json_object_get(root, "rules"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(r, "name")), "c");
	ck_assert_str_eq(json_string_value(json_object_get(r, "table")), "c");
	ck_assert_str_eq(json_string_value(json_object_get(r, "action")), "delete");
	ck_assert_str_eq(json_string_value(json_object_get(r, "basis")), "Law 1 §");
	ck_assert_int_eq(jint(r, "in_scope"), 4);
	ck_assert_int_eq(jint(r, "disposed"), 1);
	ck_assert_ptr_null(json_object_get(r, "due"));
	ck_assert_int_eq(jint(r, "not_due"), 1);
	ck_assert_int_eq(jint(r, "not_started"), 1);
	ck_assert_int_eq(jint(r, "invalid"), 1);
	ck_assert_int_eq(jint(r, "held"), 0);
	ck_assert_int_eq(jint(r, "blocked"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(r, "next_due")), "2024-03-03");
	ck_assert_uint_eq(json_array_size(json_object_get(r, "invalid_examples")), 1);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(r, "invalid_examples"), 0)),
			 "2");
	r = json_array_get(json_object_get(root, "rules"), 1);
	ck_assert_str_eq(json_string_value(json_object_get(r, "action")), "keep");
	ck_assert_int_eq(jint(r, "in_scope"), 0);
	ck_assert(json_is_null(json_object_get(r, "next_due")));
	json_decref(root);
	free(text);

	ck_assert_int_eq(lethe_plan_to_json(&text, plan, "due"), 0);
	root = json_loads(text, 0, &err);
	ck_assert_ptr_nonnull(root);
	ck_assert_int_eq(jint(json_array_get(json_object_get(root, "rules"), 0), "due"), 1);
	json_decref(root);
	free(text);
	lethe_plan_free(plan);
	lethe_policy_free(p);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		test_plan_counted_from_kinds,
		test_plan_month_end_and_29_february,
		test_plan_null_and_invalid_clocks,
		test_plan_holds,
		test_plan_blocked_parent,
		test_plan_scoped,
		test_plan_erasure_blocked_by_other_subject,
		test_plan_json,
	};

	return rf_main("plan", tests, sizeof(tests) / sizeof(tests[0]));
}
