/*
 * test_backend_sqlite_scan.c - scans of the SQLite backend on real database
 * files: values, where/from/subject, stopping, errors, lethe_due calls and
 * blocked detection through dependents (children, grandchildren, no rule,
 * cycles, self-references).
 */
#include "backend_fixture.h"

/* --- scans --------------------------------------------------------------------- */

typedef struct {
	int calls[16];          /* lethe_due calls per rule id */
	int due_limit;          /* clock integer <= due_limit is due */
	int nrows;
	int nblocked;
	long long keys[64];
	int blocked[64];
	char text[64][32];
	int stop_after;         /* non-zero: return 42 after this many rows */
	int fail_due;
} probe;

static int probe_due(void *ctx, int rule_id, const lethe_value *clock)
{
	probe *p = ctx;

	if (rule_id >= 0 && rule_id < 16)
		p->calls[rule_id]++;
	if (p->fail_due)
		return lethe_error_set(LETHE_EIO, "due failed");
	return clock->type == LETHE_VALUE_INTEGER && clock->i <= p->due_limit;
}

static int probe_row(void *ctx, const lethe_value *key, const lethe_value *clock,
		     const lethe_value *subject, int blocked)
{
	probe *p = ctx;
	int n = p->nrows++;

	ck_assert_ptr_nonnull(clock);
	if (n < 64) {
		p->keys[n] = key->type == LETHE_VALUE_INTEGER ? key->i : -1;
		p->blocked[n] = blocked;
		if (subject->type == LETHE_VALUE_TEXT)
			snprintf(p->text[n], sizeof(p->text[n]), "%.*s", (int)subject->len,
				 subject->s);
		else
			snprintf(p->text[n], sizeof(p->text[n]), "<%d>", (int)subject->type);
	}
	p->nblocked += blocked;
	if (p->stop_after && p->nrows == p->stop_after)
		return 42;
	return 0;
}

START_TEST(scan_values)
{
	lethe_backend *be;
	probe p = {0};
	lethe_scan scan = {.table = "we\"ird", .key = "rowid", .from = "v", .subject = "s",
			   .row = probe_row, .row_ctx = &p};
	int seen[5] = {0};

	make_db("CREATE TABLE \"we\"\"ird\"(v, s);"
		"INSERT INTO \"we\"\"ird\" VALUES (1, 'one'), (2.5, x'00ff'), (NULL, NULL),"
		" ('t', 'a' || char(0) || 'b'), (5, 'five');");
	be = open_db(LETHE_BACKEND_READONLY);
	ck_assert_int_eq(lethe_backend_scan(be, &scan), 0);
	ck_assert_int_eq(p.nrows, 5);
	ck_assert_int_eq(p.nblocked, 0);
	for (int i = 0; i < 5; i++) {
		ck_assert(p.keys[i] >= 1 && p.keys[i] <= 5);
		seen[p.keys[i] - 1]++;
	}
	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(seen[i], 1);
		if (p.keys[i] == 1)
			ck_assert_str_eq(p.text[i], "one");
		if (p.keys[i] == 3)
			ck_assert_str_eq(p.text[i], "<0>"); /* LETHE_VALUE_NULL */
	}

	/* where, and the row callback stopping the scan with its own code. */
	memset(&p, 0, sizeof(p));
	scan.where = "typeof(v) IN ('integer', 'real') -- numbers only";
	ck_assert_int_eq(lethe_backend_scan(be, &scan), 0);
	ck_assert_int_eq(p.nrows, 3);
	memset(&p, 0, sizeof(p));
	p.stop_after = 2;
	ck_assert_int_eq(lethe_backend_scan(be, &scan), 42);
	ck_assert_int_eq(p.nrows, 2);

	/* A bad expression is a data error naming the problem. */
	scan.where = "nope > 1";
	ck_assert_int_eq(lethe_backend_scan(be, &scan), LETHE_EDATA);
	ck_assert_ptr_nonnull(strstr(lethe_error_last(), "no such column: nope"));
	scan.where = "random() > 0";
	ck_assert_int_eq(lethe_backend_scan(be, &scan), LETHE_EDATA);
	ck_assert_ptr_nonnull(strstr(lethe_error_last(), "function 'random' is not allowed"));
	lethe_backend_free(be);
}
END_TEST

static int check_value_row(void *ctx, const lethe_value *key, const lethe_value *clock,
			   const lethe_value *subject, int blocked)
{
	int *n = ctx;

	(void)blocked;
	switch (key->i) {
	case 1:
		ck_assert_int_eq(clock->type, LETHE_VALUE_INTEGER);
		ck_assert_int_eq(clock->i, 1);
		ck_assert_int_eq(subject->type, LETHE_VALUE_TEXT);
		ck_assert_uint_eq(subject->len, 3);
		ck_assert(memcmp(subject->s, "one", 3) == 0);
		break;
	case 2:
		ck_assert_int_eq(clock->type, LETHE_VALUE_REAL);
		ck_assert(clock->r == 2.5);
		ck_assert_int_eq(subject->type, LETHE_VALUE_BLOB);
		ck_assert_uint_eq(subject->len, 2);
		ck_assert(memcmp(subject->s, "\x00\xff", 2) == 0);
		break;
	case 3:
		ck_assert_int_eq(clock->type, LETHE_VALUE_NULL);
		ck_assert_int_eq(subject->type, LETHE_VALUE_NULL);
		break;
	case 4:
		ck_assert_int_eq(subject->type, LETHE_VALUE_TEXT);
		ck_assert_uint_eq(subject->len, 3);
		ck_assert(memcmp(subject->s, "a\0b", 3) == 0);
		break;
	default:
		break;
	}
	(*n)++;
	return 0;
}

START_TEST(scan_value_types)
{
	lethe_backend *be;
	int n = 0;
	lethe_scan scan = {.table = "t", .key = "k", .from = "v", .subject = "s",
			   .row = check_value_row, .row_ctx = &n};

	make_db("CREATE TABLE t(k INTEGER PRIMARY KEY, v, s);"
		"INSERT INTO t VALUES (1, 1, 'one'), (2, 2.5, x'00ff'), (3, NULL, NULL),"
		" (4, 't', 'a' || char(0) || 'b');");
	be = open_db(LETHE_BACKEND_READONLY);
	ck_assert_int_eq(lethe_backend_scan(be, &scan), 0);
	ck_assert_int_eq(n, 4);
	/* Absent from/subject come through as NULL values. */
	n = 0;
	scan.from = NULL;
	scan.subject = NULL;
	scan.key = "rowid";
	scan.where = "k = 3";
	ck_assert_int_eq(lethe_backend_scan(be, &scan), 0);
	ck_assert_int_eq(n, 1);
	lethe_backend_free(be);
}
END_TEST

/*
 * customers <- orders (ON DELETE CASCADE) <- items (ON DELETE CASCADE);
 * clocks are plain integers, due when <= 100.
 *   customer 1: order 10 (clock 50, due), item 100 (clock 50, due)  -> free
 *   customer 2: order 20 (clock 500, not due)                        -> blocked
 *   customer 3: order 30 (due), item 300 (clock 500, not due)        -> blocked
 *   customer 4: no orders                                            -> free
 *   customer 5: clock 500, not due itself                            -> not blocked
 */
static const char shop_sql[] =
	"CREATE TABLE customers(id INTEGER PRIMARY KEY, closed INT);"
	"CREATE TABLE orders(id INTEGER PRIMARY KEY, customer_id INT"
	" REFERENCES customers ON DELETE CASCADE, placed INT, status TEXT);"
	"CREATE TABLE items(id INTEGER PRIMARY KEY, order_id INT"
	" REFERENCES orders(id) ON DELETE CASCADE, added INT);"
	"INSERT INTO customers VALUES (1, 10), (2, 10), (3, 10), (4, 10), (5, 500);"
	"INSERT INTO orders VALUES (10, 1, 50, 'closed'), (20, 2, 500, 'closed'),"
	" (30, 3, 50, 'closed'), (50, 5, 500, 'open');"
	"INSERT INTO items VALUES (100, 10, 50), (300, 30, 500);";

static int blocked_of(const probe *p, long long key)
{
	for (int i = 0; i < p->nrows && i < 64; i++)
		if (p->keys[i] == key)
			return p->blocked[i];
	ck_abort_msg("no row %lld", key);
	return -1;
}

START_TEST(scan_blocked_by_dependents)
{
	lethe_backend *be;
	lethe_foreign_keys *fks = NULL;
	lethe_clock_rule order_rule = {.id = 2, .where = "orders.status = 'closed'",
				       .from = "orders.placed"};
	lethe_clock_rule item_rule = {.id = 3, .where = NULL, .from = "added"};
	lethe_dependents items = {.rules = &item_rule, .nrules = 1};
	lethe_dependents orders = {.rules = &order_rule, .nrules = 1,
				   .children = &items, .nchildren = 1};
	probe p = {.due_limit = 100};
	lethe_scan scan = {.table = "customers", .key = "id", .from = "closed",
			   .self_rule_id = 1, .deps = &orders, .ndeps = 1,
			   .due = probe_due, .due_ctx = &p, .row = probe_row, .row_ctx = &p};

	make_db(shop_sql);
	be = open_db(LETHE_BACKEND_READONLY);
	ck_assert_int_eq(lethe_backend_foreign_keys(&fks, be), 0);
	orders.fk = find_fk(fks, "orders", "customer_id");
	items.fk = find_fk(fks, "items", "order_id");

	ck_assert_int_eq(lethe_backend_scan(be, &scan), 0);
	ck_assert_int_eq(p.nrows, 5);
	ck_assert_int_eq(blocked_of(&p, 1), 0);
	ck_assert_int_eq(blocked_of(&p, 2), 1);  /* child not due */
	ck_assert_int_eq(blocked_of(&p, 3), 1);  /* grandchild not due */
	ck_assert_int_eq(blocked_of(&p, 4), 0);  /* no children */
	ck_assert_int_eq(blocked_of(&p, 5), 0);  /* not due itself */
	ck_assert_int_eq(p.calls[1], 5);         /* once per customer */
	ck_assert_int_eq(p.calls[2], 3);         /* orders of due customers, status closed */
	ck_assert_int_eq(p.calls[3], 2);         /* items of due orders */
	ck_assert_int_eq(p.calls[0] + p.calls[4], 0);

	/* Every clock due: only customer 5 is blocked, by an open order that
	 * the order rule's where does not select. */
	memset(&p, 0, sizeof(p));
	p.due_limit = 1000;
	ck_assert_int_eq(lethe_backend_scan(be, &scan), 0);
	ck_assert_int_eq(p.nblocked, 1);
	ck_assert_int_eq(blocked_of(&p, 5), 1);

	/* Children under no delete rule block whenever they exist. */
	memset(&p, 0, sizeof(p));
	p.due_limit = 1000;
	orders.nrules = 0;
	orders.nchildren = 0;
	ck_assert_int_eq(lethe_backend_scan(be, &scan), 0);
	ck_assert_int_eq(blocked_of(&p, 1), 1);
	ck_assert_int_eq(blocked_of(&p, 4), 0);
	ck_assert_int_eq(blocked_of(&p, 5), 1);
	ck_assert_int_eq(p.calls[2], 0);

	/* A cycle is blocked when any child row exists, whatever the rules. */
	memset(&p, 0, sizeof(p));
	p.due_limit = 1000;
	orders.nrules = 1;
	orders.cycle = 1;
	ck_assert_int_eq(lethe_backend_scan(be, &scan), 0);
	ck_assert_int_eq(p.nblocked, 4);
	ck_assert_int_eq(blocked_of(&p, 4), 0);

	/* A failing due callback ends the scan with its code. */
	memset(&p, 0, sizeof(p));
	p.fail_due = 1;
	ck_assert_int_eq(lethe_backend_scan(be, &scan), LETHE_EIO);
	ck_assert_str_eq(lethe_error_last(), "due failed");

	lethe_foreign_keys_free(fks);
	lethe_backend_free(be);
}
END_TEST

/* employees.manager_id references employees: the child table is the parent. */
START_TEST(scan_self_reference)
{
	lethe_backend *be;
	lethe_foreign_keys *fks = NULL;
	lethe_clock_rule rule = {.id = 1, .where = "employees.left_at IS NOT NULL",
				 .from = "employees.left_at"};
	lethe_dependents reports = {.rules = &rule, .nrules = 1};
	probe p = {.due_limit = 100};
	lethe_scan scan = {.table = "employees", .key = "id", .from = "left_at",
			   .where = "left_at IS NOT NULL",
			   .self_rule_id = 1, .deps = &reports, .ndeps = 1,
			   .due = probe_due, .due_ctx = &p, .row = probe_row, .row_ctx = &p};

	/* 1 left (due) and manages 2 (left, due); 3 left (due) and manages 4
	 * (still employed); 5 left, manages nobody. */
	make_db("CREATE TABLE employees(id INTEGER PRIMARY KEY, manager_id INT"
		" REFERENCES employees ON DELETE SET NULL, left_at INT);"
		"INSERT INTO employees VALUES (1, NULL, 10), (2, 1, 20), (3, NULL, 30),"
		" (4, 3, NULL), (5, NULL, 40);");
	be = open_db(LETHE_BACKEND_READONLY);
	ck_assert_int_eq(lethe_backend_foreign_keys(&fks, be), 0);
	ck_assert_uint_eq(fks->count, 1);
	reports.fk = &fks->items[0];
	ck_assert_int_eq(lethe_backend_scan(be, &scan), 0);
	ck_assert_int_eq(p.nrows, 4);
	ck_assert_int_eq(blocked_of(&p, 1), 0);
	ck_assert_int_eq(blocked_of(&p, 2), 0);
	ck_assert_int_eq(blocked_of(&p, 3), 1);
	ck_assert_int_eq(blocked_of(&p, 5), 0);
	lethe_foreign_keys_free(fks);
	lethe_backend_free(be);
}
END_TEST

typedef struct {
	lethe_backend *be;
	int n;
} nested_ctx;

/* Uses the backend from inside a row callback: the authorizer must not
 * refuse the backend's own schema queries there. */
static int nested_row(void *ctx, const lethe_value *key, const lethe_value *clock,
		      const lethe_value *subject, int blocked)
{
	nested_ctx *c = ctx;
	lethe_table_info *t = NULL;

	(void)key;
	(void)clock;
	(void)subject;
	(void)blocked;
	ck_assert_int_eq(lethe_backend_table_info(&t, c->be, "orders"), 0);
	ck_assert_uint_eq(t->ncolumns, 4);
	lethe_table_info_free(t);
	c->n++;
	return 0;
}

START_TEST(scan_callback_uses_backend)
{
	nested_ctx c = {0};
	lethe_scan scan = {.table = "customers", .key = "id", .row = nested_row, .row_ctx = &c};

	make_db(shop_sql);
	c.be = open_db(LETHE_BACKEND_READONLY);
	ck_assert_int_eq(lethe_backend_scan(c.be, &scan), 0);
	ck_assert_int_eq(c.n, 5);
	lethe_backend_free(c.be);
}
END_TEST

static Suite *backend_suite(void)
{
	Suite *s = suite_create("backend_sqlite_scan");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, scan_values);
	tcase_add_test(tc, scan_value_types);
	tcase_add_test(tc, scan_blocked_by_dependents);
	tcase_add_test(tc, scan_self_reference);
	tcase_add_test(tc, scan_callback_uses_backend);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(backend_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
