/*
 * test_backend_sqlite_scan.c - scans of the SQLite backend on real database
 * files: values, where/from/subject, stopping, errors, the classes decided
 * by thresholds (lethe_day of every clock spelling) and blocked detection
 * through dependents (children, grandchildren, no rule, cycles,
 * self-references).
 */
#include "backend_fixture.h"

/* --- scans --------------------------------------------------------------------- */

#define DAY 86400
#define NO_END 2932897 /* the day after 9999-12-31: no clock is past its end */

typedef struct {
	int nrows;
	int nblocked;
	long long keys[64];
	int cls[64];
	char text[64][32];
	int stop_after;         /* non-zero: return 42 after this many rows */
} probe;

/* Due when the clock's day is before `before`. */
static lethe_threshold before(lethe_day day)
{
	lethe_threshold t = {LETHE_DUE_BEFORE, day, NO_END};

	return t;
}

static int probe_row(void *ctx, const lethe_value *key, lethe_row_class cls, lethe_day day,
		     const lethe_value *subject)
{
	probe *p = ctx;
	int n = p->nrows++;

	(void)day;
	if (n < 64) {
		p->keys[n] = key->type == LETHE_VALUE_INTEGER ? key->i : -1;
		p->cls[n] = cls;
		if (subject->type == LETHE_VALUE_TEXT)
			snprintf(p->text[n], sizeof(p->text[n]), "%.*s", (int)subject->len,
				 subject->s);
		else
			snprintf(p->text[n], sizeof(p->text[n]), "<%d>", (int)subject->type);
	}
	p->nblocked += cls == LETHE_ROW_BLOCKED;
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

/* Every clock spelling through lethe_day: unix seconds, REAL, NULL, text
 * that is no date, an offset that crosses midnight, a date-time in Z. */
static int check_value_row(void *ctx, const lethe_value *key, lethe_row_class cls, lethe_day day,
			   const lethe_value *subject)
{
	int *n = ctx;

	switch (key->i) {
	case 1:
		ck_assert_int_eq(cls, LETHE_ROW_DUE);
		ck_assert_int_eq(day, 0);
		ck_assert_int_eq(subject->type, LETHE_VALUE_TEXT);
		ck_assert_uint_eq(subject->len, 3);
		ck_assert(memcmp(subject->s, "one", 3) == 0);
		break;
	case 2:
		ck_assert_int_eq(cls, LETHE_ROW_INVALID);
		ck_assert_int_eq(subject->type, LETHE_VALUE_BLOB);
		ck_assert_uint_eq(subject->len, 2);
		ck_assert(memcmp(subject->s, "\x00\xff", 2) == 0);
		break;
	case 3:
		ck_assert_int_eq(cls, LETHE_ROW_NOT_STARTED);
		ck_assert_int_eq(subject->type, LETHE_VALUE_NULL);
		break;
	case 4:
		ck_assert_int_eq(cls, LETHE_ROW_INVALID);
		ck_assert_int_eq(subject->type, LETHE_VALUE_TEXT);
		ck_assert_uint_eq(subject->len, 3);
		ck_assert(memcmp(subject->s, "a\0b", 3) == 0);
		break;
	case 5: /* 1970-01-02T01:00+02:00 is 23:00 UTC on 1970-01-01 */
		ck_assert_int_eq(cls, LETHE_ROW_DUE);
		ck_assert_int_eq(day, 0);
		break;
	case 6: /* -86401 seconds: 1969-12-30 */
		ck_assert_int_eq(cls, LETHE_ROW_DUE);
		ck_assert_int_eq(day, -2);
		break;
	case 7:
		ck_assert_int_eq(cls, LETHE_ROW_NOT_DUE);
		ck_assert_int_eq(day, 1);
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
			   .due = before(1), .row = check_value_row, .row_ctx = &n};

	make_db("CREATE TABLE t(k INTEGER PRIMARY KEY, v, s);"
		"INSERT INTO t VALUES (1, 1, 'one'), (2, 2.5, x'00ff'), (3, NULL, NULL),"
		" (4, 't', 'a' || char(0) || 'b'), (5, '1970-01-02T01:00+02:00', NULL),"
		" (6, -86401, NULL), (7, '1970-01-02Z', NULL);");
	be = open_db(LETHE_BACKEND_READONLY);
	ck_assert_int_eq(lethe_backend_scan(be, &scan), 0);
	ck_assert_int_eq(n, 7);
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

/* A count (lethe_tally inside the register) says what the rows of the same
 * scan say one by one: every class, the first and last day not yet due. */
static void assert_count_is_scan(lethe_backend *be, lethe_scan scan, int64_t total)
{
	probe p = {0};
	lethe_scan_counts counts;
	int64_t per_class[LETHE_ROW_NCLASSES] = {0}, sum = 0;

	scan.row = probe_row;
	scan.row_ctx = &p;
	ck_assert_int_eq(lethe_backend_scan(be, &scan), 0);
	for (int i = 0; i < p.nrows; i++)
		per_class[p.cls[i]]++;
	ck_assert_int_eq(lethe_backend_count(&counts, be, &scan), 0);
	for (int c = 0; c < LETHE_ROW_NCLASSES; c++) {
		ck_assert_msg(counts.n[c] == per_class[c], "class %d: count %lld, scan %lld", c,
			      (long long)counts.n[c], (long long)per_class[c]);
		sum += counts.n[c];
	}
	ck_assert_int_eq(sum, total);
}

START_TEST(count_every_class)
{
	lethe_backend *be;
	lethe_threshold th = {LETHE_DUE_BEFORE, 100, 1000};
	lethe_scan scan = {.table = "t", .key = "k", .from = "v", .held = "open = 1", .due = th};
	lethe_scan_counts counts;

	/* days 10, 99 (the last due day), 10 (held), 50 (not held: a NULL hold
	 * is no hold), 100 (the first not due), 150 (held, but not due), 999
	 * (the last valid), 1000 and 5000 (from invalid_from on), text that is
	 * no day, a real, NULL */
	make_db("CREATE TABLE t(k INTEGER PRIMARY KEY, v, open);"
		"INSERT INTO t VALUES (1, 10, 0), (2, 10, 1), (3, 50, NULL), (4, 150, 1),"
		" (5, 999, 0), (6, 5000, 0), (7, 'never', 0), (8, NULL, 1), (9, 2.5, 0),"
		" (10, 1000, 0), (11, 99, 0), (12, 100, 0);"
		"UPDATE t SET v = v * 86400 WHERE typeof(v) = 'integer';");
	be = open_db(LETHE_BACKEND_READONLY);
	assert_count_is_scan(be, scan, 12);
	ck_assert_int_eq(lethe_backend_count(&counts, be, &scan), 0);
	ck_assert_int_eq(counts.n[LETHE_ROW_DUE], 3);
	ck_assert_int_eq(counts.n[LETHE_ROW_HELD], 1);
	ck_assert_int_eq(counts.n[LETHE_ROW_NOT_DUE], 3);
	ck_assert_int_eq(counts.n[LETHE_ROW_INVALID], 4);
	ck_assert_int_eq(counts.n[LETHE_ROW_NOT_STARTED], 1);
	ck_assert_int_eq(counts.min_not_due, 100);
	ck_assert_int_eq(counts.max_not_due, 999);
	/* no hold: the same rows, without the inner level */
	scan.held = NULL;
	assert_count_is_scan(be, scan, 12);
	ck_assert_int_eq(lethe_backend_count(&counts, be, &scan), 0);
	ck_assert_int_eq(counts.n[LETHE_ROW_DUE], 4);
	ck_assert_int_eq(counts.min_not_due, 100);
	ck_assert_int_eq(counts.max_not_due, 999);
	/* nothing due */
	scan.due.kind = LETHE_DUE_NEVER;
	assert_count_is_scan(be, scan, 12);
	scan.held = "open = 1";
	assert_count_is_scan(be, scan, 12);
	/* no row at all: every count 0 */
	scan.due = th;
	scan.where = "k > 100";
	assert_count_is_scan(be, scan, 0);
	scan.held = NULL;
	assert_count_is_scan(be, scan, 0);
	lethe_backend_free(be);
}
END_TEST

/*
 * customers <- orders (ON DELETE CASCADE) <- items (ON DELETE CASCADE);
 * clocks are unix seconds of day 10, 50 or 500, due when the day is <= 100.
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
	"INSERT INTO items VALUES (100, 10, 50), (300, 30, 500);"
	"UPDATE customers SET closed = closed * 86400;"
	"UPDATE orders SET placed = placed * 86400;"
	"UPDATE items SET added = added * 86400;";

static int class_of(const probe *p, long long key)
{
	for (int i = 0; i < p->nrows && i < 64; i++)
		if (p->keys[i] == key)
			return p->cls[i];
	ck_abort_msg("no row %lld", key);
	return -1;
}

START_TEST(scan_blocked_by_dependents)
{
	lethe_backend *be;
	lethe_foreign_keys *fks = NULL;
	lethe_clock_rule order_rule = {.due = before(101), .where = "orders.status = 'closed'",
				       .from = "orders.placed"};
	lethe_clock_rule item_rule = {.due = before(101), .where = NULL, .from = "added"};
	lethe_dependents items = {.rules = &item_rule, .nrules = 1};
	lethe_dependents orders = {.rules = &order_rule, .nrules = 1,
				   .children = &items, .nchildren = 1};
	probe p = {0};
	lethe_scan scan = {.table = "customers", .key = "id", .from = "closed",
			   .due = before(101), .deps = &orders, .ndeps = 1,
			   .row = probe_row, .row_ctx = &p};
	lethe_scan_counts counts;

	make_db(shop_sql);
	be = open_db(LETHE_BACKEND_READONLY);
	ck_assert_int_eq(lethe_backend_foreign_keys(&fks, be), 0);
	orders.fk = find_fk(fks, "orders", "customer_id");
	items.fk = find_fk(fks, "items", "order_id");

	ck_assert_int_eq(lethe_backend_scan(be, &scan), 0);
	ck_assert_int_eq(p.nrows, 5);
	ck_assert_int_eq(class_of(&p, 1), LETHE_ROW_DUE);
	ck_assert_int_eq(class_of(&p, 2), LETHE_ROW_BLOCKED);  /* child not due */
	ck_assert_int_eq(class_of(&p, 3), LETHE_ROW_BLOCKED);  /* grandchild not due */
	ck_assert_int_eq(class_of(&p, 4), LETHE_ROW_DUE);      /* no children */
	ck_assert_int_eq(class_of(&p, 5), LETHE_ROW_NOT_DUE);  /* not due itself */
	/* the same classes counted inside the register */
	ck_assert_int_eq(lethe_backend_count(&counts, be, &scan), 0);
	ck_assert_int_eq(counts.n[LETHE_ROW_DUE], 2);
	ck_assert_int_eq(counts.n[LETHE_ROW_BLOCKED], 2);
	ck_assert_int_eq(counts.n[LETHE_ROW_NOT_DUE], 1);
	ck_assert_int_eq(counts.min_not_due, 500);
	ck_assert_int_eq(counts.max_not_due, 500);
	/* only the blocked rows, in key order */
	memset(&p, 0, sizeof(p));
	scan.classes = 1u << LETHE_ROW_BLOCKED;
	scan.limit = 10;
	ck_assert_int_eq(lethe_backend_scan(be, &scan), 0);
	ck_assert_int_eq(p.nrows, 2);
	ck_assert_int_eq(p.keys[0], 2);
	ck_assert_int_eq(p.keys[1], 3);
	scan.classes = 0;
	scan.limit = 0;

	/* Every clock due: only customer 5 is blocked, by an open order that
	 * the order rule's where does not select. */
	memset(&p, 0, sizeof(p));
	scan.due = order_rule.due = item_rule.due = before(1001);
	ck_assert_int_eq(lethe_backend_scan(be, &scan), 0);
	ck_assert_int_eq(p.nblocked, 1);
	ck_assert_int_eq(class_of(&p, 5), LETHE_ROW_BLOCKED);

	/* Children under no delete rule block whenever they exist. */
	memset(&p, 0, sizeof(p));
	orders.nrules = 0;
	orders.nchildren = 0;
	ck_assert_int_eq(lethe_backend_scan(be, &scan), 0);
	ck_assert_int_eq(class_of(&p, 1), LETHE_ROW_BLOCKED);
	ck_assert_int_eq(class_of(&p, 4), LETHE_ROW_DUE);
	ck_assert_int_eq(class_of(&p, 5), LETHE_ROW_BLOCKED);

	/* A cycle is blocked when any child row exists, whatever the rules. */
	memset(&p, 0, sizeof(p));
	orders.nrules = 1;
	orders.cycle = 1;
	ck_assert_int_eq(lethe_backend_scan(be, &scan), 0);
	ck_assert_int_eq(p.nblocked, 4);
	ck_assert_int_eq(class_of(&p, 4), LETHE_ROW_DUE);

	lethe_foreign_keys_free(fks);
	lethe_backend_free(be);
}
END_TEST

/* employees.manager_id references employees: the child table is the parent. */
START_TEST(scan_self_reference)
{
	lethe_backend *be;
	lethe_foreign_keys *fks = NULL;
	lethe_clock_rule rule = {.due = before(101), .where = "employees.left_at IS NOT NULL",
				 .from = "employees.left_at"};
	lethe_dependents reports = {.rules = &rule, .nrules = 1};
	probe p = {0};
	lethe_scan scan = {.table = "employees", .key = "id", .from = "left_at",
			   .where = "left_at IS NOT NULL",
			   .due = before(101), .deps = &reports, .ndeps = 1,
			   .row = probe_row, .row_ctx = &p};

	/* 1 left (due) and manages 2 (left, due); 3 left (due) and manages 4
	 * (still employed); 5 left, manages nobody. */
	make_db("CREATE TABLE employees(id INTEGER PRIMARY KEY, manager_id INT"
		" REFERENCES employees ON DELETE SET NULL, left_at INT);"
		"INSERT INTO employees VALUES (1, NULL, 10), (2, 1, 20), (3, NULL, 30),"
		" (4, 3, NULL), (5, NULL, 40);"
		"UPDATE employees SET left_at = left_at * 86400;");
	be = open_db(LETHE_BACKEND_READONLY);
	ck_assert_int_eq(lethe_backend_foreign_keys(&fks, be), 0);
	ck_assert_uint_eq(fks->count, 1);
	reports.fk = &fks->items[0];
	ck_assert_int_eq(lethe_backend_scan(be, &scan), 0);
	ck_assert_int_eq(p.nrows, 4);
	ck_assert_int_eq(class_of(&p, 1), LETHE_ROW_DUE);
	ck_assert_int_eq(class_of(&p, 2), LETHE_ROW_DUE);
	ck_assert_int_eq(class_of(&p, 3), LETHE_ROW_BLOCKED);
	ck_assert_int_eq(class_of(&p, 5), LETHE_ROW_DUE);
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
static int nested_row(void *ctx, const lethe_value *key, lethe_row_class cls, lethe_day day,
		      const lethe_value *subject)
{
	nested_ctx *c = ctx;
	lethe_table_info *t = NULL;

	(void)key;
	(void)cls;
	(void)day;
	(void)subject;
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
	tcase_add_test(tc, count_every_class);
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
