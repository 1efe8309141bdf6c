/*
 * test_demo.c - the reference shop: a small register written into a temp
 * folder and checked with SQL for its shape, its integrity, its determinism,
 * the scenarios the policies rely on, and its refusal to overwrite.
 */
#include <check.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lethe/demo.h"
#include "lethe/error.h"

#define CUSTOMERS 200

static const char *const tables[] = {
	"customers", "addresses", "products", "orders", "order_lines", "invoices",
	"payments", "deliveries", "returns", "complaints", "consents", "marketing_bans",
	"marketing_profiles", "chat_transcripts", "feedback", "page_events",
	"change_history", "chat_fts", "sales_journal"
};
#define NTABLES (sizeof(tables) / sizeof(tables[0]))

/* child table, column, parent table, ON DELETE */
static const char *const fks[][4] = {
	{ "addresses", "customer_id", "customers", "CASCADE" },
	{ "orders", "customer_id", "customers", "RESTRICT" },
	{ "order_lines", "order_id", "orders", "CASCADE" },
	{ "order_lines", "product_id", "products", "RESTRICT" },
	{ "invoices", "order_id", "orders", "CASCADE" },
	{ "payments", "invoice_id", "invoices", "CASCADE" },
	{ "deliveries", "order_id", "orders", "CASCADE" },
	{ "returns", "order_id", "orders", "CASCADE" },
	{ "complaints", "customer_id", "customers", "CASCADE" },
	{ "complaints", "order_id", "orders", "SET NULL" },
	{ "consents", "customer_id", "customers", "CASCADE" },
	{ "marketing_bans", "customer_id", "customers", "SET NULL" },
	{ "marketing_profiles", "customer_id", "customers", "CASCADE" },
	{ "chat_transcripts", "customer_id", "customers", "SET NULL" },
	{ "feedback", "customer_id", "customers", "SET NULL" },
	{ "feedback", "order_id", "orders", "SET NULL" },
	{ "page_events", "customer_id", "customers", "SET NULL" },
	{ "change_history", "customer_id", "customers", "CASCADE" },
};
#define NFKS (sizeof(fks) / sizeof(fks[0]))

static char tmpdir[64];

static void setup(void)
{
	strcpy(tmpdir, "/tmp/lethe-demo-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Write a register with `seed` into tmpdir/sub; returns the database path. */
static char *write_shop(const char *sub, uint64_t seed)
{
	lethe_demo_options o = LETHE_DEMO_OPTIONS_INIT;
	char *dir, *db;
	int rc;

	o.customers = CUSTOMERS;
	o.seed = seed;
	o.policies_dir = "/srv/policies";
	ck_assert_int_ne(asprintf(&dir, "%s/%s", tmpdir, sub), -1);
	rc = lethe_demo_write(dir, &o);
	ck_assert_msg(rc == 0, "lethe_demo_write: %d %s", rc, lethe_error_last());
	ck_assert_int_ne(asprintf(&db, "%s/shop.sqlite", dir), -1);
	free(dir);
	return db;
}

static sqlite3 *open_ro(const char *path)
{
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	return db;
}

/* The single integer a query returns. */
static int64_t q_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v;

	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s",
		      sql, sqlite3_errmsg(db));
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Rows a query returns (a query that returns no rows is "clean"). */
static int q_rows(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int n = 0;

	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		n++;
	sqlite3_finalize(st);
	return n;
}

/* BLAKE2b of every row of every table, with each value's type. */
static void digest_all(sqlite3 *db, unsigned char out[32])
{
	crypto_generichash_state h;

	crypto_generichash_init(&h, NULL, 0, 32);
	for (size_t t = 0; t < NTABLES; t++) {
		char sql[128];
		sqlite3_stmt *st;

		snprintf(sql, sizeof(sql), "SELECT rowid, * FROM %s ORDER BY rowid", tables[t]);
		ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
		crypto_generichash_update(&h, (const unsigned char *)sql, strlen(sql));
		while (sqlite3_step(st) == SQLITE_ROW)
			for (int c = 0; c < sqlite3_column_count(st); c++) {
				unsigned char type = (unsigned char)sqlite3_column_type(st, c);
				const unsigned char *v = sqlite3_column_blob(st, c);
				int len = sqlite3_column_bytes(st, c);

				crypto_generichash_update(&h, &type, 1);
				crypto_generichash_update(&h, (const unsigned char *)&len, sizeof(len));
				if (v)
					crypto_generichash_update(&h, v, (unsigned long long)len);
			}
		sqlite3_finalize(st);
	}
	crypto_generichash_final(&h, out, 32);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

START_TEST(test_shape)
{
	char *path = write_shop("shop", 1), journal[256], yaml_path[256];
	sqlite3 *db = open_ro(path);
	char sql[512], *yaml;
	size_t len;

	for (size_t t = 0; t < NTABLES; t++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_schema WHERE name = '%s'",
			 tables[t]);
		ck_assert_msg(q_int(db, sql) == 1, "table %s missing", tables[t]);
	}
	for (size_t i = 0; i < NFKS; i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM pragma_foreign_key_list('%s') "
			 "WHERE \"from\" = '%s' AND \"table\" = '%s' AND on_delete = '%s'",
			 fks[i][0], fks[i][1], fks[i][2], fks[i][3]);
		ck_assert_msg(q_int(db, sql) == 1, "%s.%s -> %s %s", fks[i][0], fks[i][1],
			      fks[i][2], fks[i][3]);
		/* Some index leads with the foreign-key column. */
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM pragma_index_list('%s') l, "
			 "pragma_index_info(l.name) i WHERE i.seqno = 0 AND i.name = '%s'",
			 fks[i][0], fks[i][1]);
		ck_assert_msg(q_int(db, sql) >= 1, "no index on %s.%s", fks[i][0], fks[i][1]);
	}
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM pragma_foreign_key_list('products')"), 0);
	ck_assert_int_eq(q_rows(db, "PRAGMA foreign_key_check"), 0);
	ck_assert_int_eq(q_rows(db, "PRAGMA integrity_check"), 1);
	ck_assert_int_eq(q_int(db, "SELECT integrity_check = 'ok' FROM pragma_integrity_check"), 1);
	ck_assert_int_eq(q_int(db, "SELECT journal_mode = 'delete' FROM pragma_journal_mode"), 1);
	/* No rule may make a NOT NULL column NULL: the masked ones are nullable. */
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM pragma_table_info('page_events') "
			       "WHERE name IN ('ip_address', 'postcode', 'customer_id') AND \"notnull\" = 0"), 3);
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM customers"), CUSTOMERS);
	sqlite3_close(db);

	snprintf(journal, sizeof(journal), "%s-journal", path);
	ck_assert_int_ne(access(journal, F_OK), 0);
	snprintf(yaml_path, sizeof(yaml_path), "%s/shop/lethe.yaml", tmpdir);
	yaml = slurp(yaml_path, &len);
	ck_assert_ptr_nonnull(strstr(yaml, "\ndatabase: shop.sqlite\n"));
	ck_assert_ptr_nonnull(strstr(yaml, "\npolicies: '/srv/policies'\n"));
	ck_assert_ptr_nonnull(strstr(yaml, "\n# pseudonym_key: "));
	free(yaml);
	free(path);
}
END_TEST

START_TEST(test_volumes_and_scenarios)
{
	char *path = write_shop("shop", 7);
	sqlite3 *db = open_ro(path);
	int64_t orders = q_int(db, "SELECT count(*) FROM orders");

	ck_assert_int_ge(orders, CUSTOMERS * 25 / 10);
	ck_assert_int_le(orders, CUSTOMERS * 45 / 10);
	ck_assert_int_gt(q_int(db, "SELECT count(*) FROM customers WHERE id NOT IN "
			       "(SELECT customer_id FROM orders)"), 0);
	/* One invoice and one payment per placed order, a delivery per delivered one. */
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM orders WHERE status <> 'open'"),
			 q_int(db, "SELECT count(*) FROM invoices"));
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM invoices"),
			 q_int(db, "SELECT count(*) FROM payments"));
	/* The books: one sales journal entry per invoice, on its day, with the
	 * customer's number and the amount. */
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM sales_journal j JOIN invoices i ON "
			       "i.invoice_number = j.invoice_number JOIN orders o ON o.id = i.order_id "
			       "JOIN customers c ON c.id = o.customer_id WHERE j.entry_date = "
			       "substr(i.issued_at, 1, 10) AND j.customer_number = c.customer_number "
			       "AND j.amount_cents = o.total_cents"),
			 q_int(db, "SELECT count(*) FROM invoices"));
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM sales_journal"),
			 q_int(db, "SELECT count(*) FROM invoices"));
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM orders WHERE status IN ('delivered', 'returned')"),
			 q_int(db, "SELECT count(*) FROM deliveries"));
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM payments WHERE (method = 'klarna') "
			       "<> (klarna_reference IS NOT NULL)"), 0);
	/* History: at least 8 years, inside the fixed bounds. */
	ck_assert_int_ge(q_int(db, "SELECT julianday(max(order_date)) - julianday(min(order_date)) "
			       "FROM orders"), 8 * 365);
	ck_assert_int_eq(q_int(db, "SELECT min(created_at) >= '" LETHE_DEMO_FIRST_DAY "' AND "
			       "max(created_at) < date('" LETHE_DEMO_LAST_DAY "', '+1 day') FROM customers"), 1);
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM page_events WHERE occurred_at >= "
			       "date('" LETHE_DEMO_LAST_DAY "', '+1 day')"), 0);
	/* Orders older than ten full fiscal years with a complaint still open. */
	ck_assert_int_ge(q_int(db, "SELECT count(*) FROM complaints c JOIN orders o ON o.id = c.order_id "
			       "WHERE c.closed_at IS NULL AND o.order_date < date('" LETHE_DEMO_LAST_DAY
			       "', 'start of year', '-10 years')"), 1);
	/* Ordering of "before" and "after" timestamps. */
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM consents WHERE withdrawn_at < given_at"), 0);
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM returns WHERE closed_at < opened_at"), 0);
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM chat_transcripts WHERE ended_at < started_at"), 0);
	ck_assert_int_gt(q_int(db, "SELECT count(*) FROM consents WHERE withdrawn_at IS NOT NULL"), 0);
	ck_assert_int_gt(q_int(db, "SELECT count(*) FROM orders WHERE status IN ('open', 'paid')"), 0);
	/* Every customer with a consent has a profile, and only they. */
	ck_assert_int_eq(q_int(db, "SELECT count(DISTINCT customer_id) FROM consents"),
			 q_int(db, "SELECT count(*) FROM marketing_profiles"));
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM marketing_bans WHERE email_token IS NULL "
			       "AND phone_token IS NULL"), 0);
	ck_assert_int_ge(q_int(db, "SELECT count(*) FROM page_events"), CUSTOMERS * 5);
	/* The full-text index follows the transcripts. */
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM chat_fts"),
			 q_int(db, "SELECT count(*) FROM chat_transcripts"));
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM chat_transcripts t JOIN chat_fts f "
			       "ON f.rowid = t.id WHERE f.transcript IS NOT t.transcript"), 0);
	ck_assert_int_gt(q_int(db, "SELECT count(*) FROM chat_fts WHERE chat_fts MATCH 'asiakaspalvelu'"), 0);
	sqlite3_close(db);
	free(path);
}
END_TEST

START_TEST(test_deterministic)
{
	char *a = write_shop("a", 42), *b = write_shop("b", 42), *c = write_shop("c", 43);
	unsigned char da[32], db_[32], dc[32];
	sqlite3 *db;
	char *fa, *fb;
	size_t la, lb;

	db = open_ro(a);
	digest_all(db, da);
	sqlite3_close(db);
	db = open_ro(b);
	digest_all(db, db_);
	sqlite3_close(db);
	db = open_ro(c);
	digest_all(db, dc);
	sqlite3_close(db);
	ck_assert_mem_eq(da, db_, 32);
	ck_assert_mem_ne(da, dc, 32);
	/* The files themselves are identical too. */
	fa = slurp(a, &la);
	fb = slurp(b, &lb);
	ck_assert_uint_eq(la, lb);
	ck_assert_int_eq(memcmp(fa, fb, la), 0);
	free(fa);
	free(fb);
	free(a);
	free(b);
	free(c);
}
END_TEST

START_TEST(test_refuses_to_overwrite)
{
	char *path = write_shop("shop", 1), dir[128], yaml[160];
	lethe_demo_options o = LETHE_DEMO_OPTIONS_INIT;
	struct stat before, after;
	size_t l1, l2;
	char *y1, *y2;

	snprintf(dir, sizeof(dir), "%s/shop", tmpdir);
	snprintf(yaml, sizeof(yaml), "%s/lethe.yaml", dir);
	ck_assert_int_eq(stat(path, &before), 0);
	y1 = slurp(yaml, &l1);
	o.customers = 10;
	o.policies_dir = "/elsewhere";
	ck_assert_int_eq(lethe_demo_write(dir, &o), LETHE_ECANTCREAT);
	ck_assert_ptr_nonnull(strstr(lethe_error_last(), "already exists"));
	ck_assert_int_eq(stat(path, &after), 0);
	ck_assert_int_eq(before.st_size, after.st_size);
	ck_assert_int_eq(before.st_ino, after.st_ino);
	y2 = slurp(yaml, &l2);
	ck_assert_str_eq(y1, y2);

	/* A lethe.yaml of the user's own is not overwritten either. */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(lethe_demo_write(dir, &o), LETHE_ECANTCREAT);
	ck_assert_int_ne(access(path, F_OK), 0);
	free(y1);
	free(y2);
	free(path);
}
END_TEST

START_TEST(test_bad_options)
{
	lethe_demo_options o = LETHE_DEMO_OPTIONS_INIT;
	char dir[128];

	snprintf(dir, sizeof(dir), "%s/x", tmpdir);
	o.customers = 0;
	ck_assert_int_eq(lethe_demo_write(dir, &o), LETHE_EUSAGE);
	/* missing parents are made (mkdir -p); a parent that is a file is not */
	snprintf(dir, sizeof(dir), "%s/afile", tmpdir);
	FILE *f = fopen(dir, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	snprintf(dir, sizeof(dir), "%s/afile/parent", tmpdir);
	o.customers = 5;
	ck_assert_int_eq(lethe_demo_write(dir, &o), LETHE_ECANTCREAT);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("demo");
	TCase *tc = tcase_create("demo");
	SRunner *sr;
	int failed;

	if (sodium_init() < 0)
		return 1;
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_shape);
	tcase_add_test(tc, test_volumes_and_scenarios);
	tcase_add_test(tc, test_deterministic);
	tcase_add_test(tc, test_refuses_to_overwrite);
	tcase_add_test(tc, test_bad_options);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
