/*
 * test_backend_sqlite.c - the SQLite backend on real database files: opening,
 * read-only guarantees, the authorizer (through check_expr), table info and
 * foreign keys. Scans are in test_backend_sqlite_scan.c.
 */
#include "backend_fixture.h"
#include "digest_bin.h"

static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* --- opening ---------------------------------------------------------------- */

START_TEST(open_missing_file)
{
	lethe_backend *be = NULL;

	ck_assert_int_eq(lethe_backend_open(&be, dbpath, 0), LETHE_ENOINPUT);
	ck_assert_ptr_null(be);
	ck_assert_ptr_nonnull(strstr(lethe_error_last(), "no such file"));
	ck_assert_ptr_nonnull(strstr(lethe_error_last(), dbpath));
	ck_assert(!exists(dbpath));
	ck_assert_int_eq(lethe_backend_open(&be, dbpath, LETHE_BACKEND_READONLY), LETHE_ENOINPUT);
	ck_assert(!exists(dbpath));
}
END_TEST

START_TEST(open_not_a_database)
{
	lethe_backend *be = NULL;
	char want[256];
	FILE *f = fopen(dbpath, "w");

	ck_assert_ptr_nonnull(f);
	fputs("this is a plain text file, long enough to have a header of sorts.\n", f);
	for (int i = 0; i < 100; i++)
		fputs("padding padding padding padding\n", f);
	fclose(f);
	ck_assert_int_eq(lethe_backend_open(&be, dbpath, LETHE_BACKEND_READONLY), LETHE_EDATA);
	snprintf(want, sizeof(want), "'%s' is not an sqlite database", dbpath);
	ck_assert_str_eq(lethe_error_last(), want);
	ck_assert_int_eq(lethe_backend_open(&be, dbpath, 0), LETHE_EDATA);
	ck_assert_ptr_null(be);
	/* A directory is not a database either. */
	ck_assert_int_eq(lethe_backend_open(&be, tmpdir, 0), LETHE_EDATA);
}
END_TEST

START_TEST(open_locked_is_tempfail)
{
	lethe_backend *be = NULL;
	sqlite3 *db;

	make_db("CREATE TABLE t(a);");
	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);", NULL, NULL,
				      NULL), SQLITE_OK);
	ck_assert_int_eq(lethe_backend_open(&be, dbpath, LETHE_BACKEND_READONLY), LETHE_ETEMPFAIL);
	ck_assert_ptr_null(be);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	be = open_db(LETHE_BACKEND_READONLY);
	lethe_backend_free(be);
}
END_TEST

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int count_rows(void *ctx, const lethe_value *key, lethe_row_class cls, lethe_day day,
		      const lethe_value *subject)
{
	(void)key;
	(void)cls;
	(void)day;
	(void)subject;
	(*(int *)ctx)++;
	return 0;
}

START_TEST(readonly_leaves_file_identical)
{
	lethe_backend *be;
	lethe_table_info *t = NULL;
	lethe_foreign_keys *fks = NULL;
	char *before, *after, *err = NULL, side[160];
	size_t nbefore, nafter;
	int rows = 0;
	static const char *const suffixes[] = {"-journal", "-wal", "-shm"};

	make_db("CREATE TABLE c(id INTEGER PRIMARY KEY, born TEXT);"
		"CREATE TABLE o(id INTEGER PRIMARY KEY, c INTEGER REFERENCES c ON DELETE CASCADE);"
		"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) "
		"INSERT INTO c SELECT i, date('2000-01-01', '+' || i || ' days') FROM n;"
		"INSERT INTO o SELECT id, id FROM c;");
	before = slurp(dbpath, &nbefore);

	be = open_db(LETHE_BACKEND_READONLY);
	ck_assert_int_eq(lethe_backend_table_info(&t, be, "c"), 0);
	ck_assert_int_eq(lethe_backend_foreign_keys(&fks, be), 0);
	ck_assert_int_eq(lethe_backend_check_expr(be, "c", "born < '2001-01-01'", &err), 0);
	{
		/* every clock due */
		lethe_threshold all = {LETHE_DUE_BEFORE, 2932897, 2932897};
		lethe_clock_rule rule = {.due = all, .where = NULL, .from = "o.id"};
		lethe_dependents dep = {.fk = &fks->items[0], .rules = &rule, .nrules = 1};
		lethe_scan scan = {.table = "c", .key = "id", .from = "born", .subject = "id",
				   .due = all, .deps = &dep, .ndeps = 1,
				   .row = count_rows, .row_ctx = &rows};

		ck_assert_int_eq(lethe_backend_scan(be, &scan), 0);
	}
	ck_assert_int_eq(rows, 500);
	lethe_table_info_free(t);
	lethe_foreign_keys_free(fks);
	lethe_backend_free(be);

	after = slurp(dbpath, &nafter);
	ck_assert_uint_eq(nbefore, nafter);
	ck_assert(memcmp(before, after, nbefore) == 0);
	for (size_t i = 0; i < 3; i++) {
		snprintf(side, sizeof(side), "%s%s", dbpath, suffixes[i]);
		ck_assert_msg(!exists(side), "%s was created", side);
	}
	free(before);
	free(after);
}
END_TEST

/* --- the authorizer through check_expr ------------------------------------------- */

static void expect_refused(lethe_backend *be, const char *expr, const char *want)
{
	char *err = NULL;
	int rc = lethe_backend_check_expr(be, "t", expr, &err);

	ck_assert_msg(rc == LETHE_EDATA, "'%s' accepted (rc %d)", expr, rc);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, want) != NULL, "'%s': got '%s', want '%s'", expr, err, want);
	free(err);
}

static void expect_accepted(lethe_backend *be, const char *expr)
{
	char *err = NULL;
	int rc = lethe_backend_check_expr(be, "t", expr, &err);

	ck_assert_msg(rc == 0, "'%s' refused: %s", expr, err ? err : lethe_error_last());
	ck_assert_ptr_null(err);
}

START_TEST(check_expr_refusals)
{
	lethe_backend *be;
	size_t n0, n1;
	char *before, *after;

	make_db("CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, doc TEXT);"
		"CREATE TABLE other(t_id INTEGER, x);"
		"INSERT INTO t VALUES (1, 'x', '{}');");
	before = slurp(dbpath, &n0);
	be = open_db(0);
	expect_refused(be, "(SELECT 1); DELETE FROM t", "more than one statement");
	expect_refused(be, "a = 1; DELETE FROM t", "more than one statement");
	expect_refused(be, "1) FROM t; DELETE FROM t; SELECT (1", "more than one statement");
	expect_refused(be, "1) FROM t; ATTACH 'x.db' AS x; SELECT (1", "more than one statement");
	expect_refused(be, "1); DROP TABLE t; --", "more than one statement");
	expect_refused(be, "1) FROM t; PRAGMA writable_schema=1; SELECT (1", "more than one statement");
	expect_refused(be, "(SELECT count(*) FROM pragma_table_info('t'))", "pragma is not allowed");
	expect_refused(be, "random()", "function 'random' is not allowed");
	expect_refused(be, "randomblob(4)", "function 'randomblob' is not allowed");
	expect_refused(be, "load_extension('x')", "function 'load_extension' is not allowed");
	expect_refused(be, "changes()", "function 'changes' is not allowed");
	expect_refused(be, "last_insert_rowid()", "function 'last_insert_rowid' is not allowed");
	expect_refused(be, "total_changes()", "function 'total_changes' is not allowed");
	expect_refused(be, "sqlite_version()", "function 'sqlite_version' is not allowed");
	expect_refused(be, "CURRENT_DATE", "function 'current_date' is not allowed");
	expect_refused(be, "a = (SELECT random())", "function 'random' is not allowed");
	expect_refused(be, "no_such_function(a)", "no such function: no_such_function");
	expect_refused(be, "nope = 1", "no such column: nope");
	expect_refused(be, "", "empty expression");
	expect_refused(be, "  \n\t ", "empty expression");
	expect_refused(be, "a = ", "syntax error");
	expect_refused(be, "max(id)", "misuse of aggregate: max()");
	expect_refused(be, "count(*) > 1", "misuse of aggregate");
	/* Expressions stay between Lethe's parentheses (expr_lex.c). */
	expect_refused(be, "id) OR (1", "closes a parenthesis");
	expect_refused(be, "(id", "never closed");
	expect_refused(be, "1 /* ", "unterminated comment");
	expect_refused(be, "a = ')", "unterminated");
	expect_refused(be, "a = [x", "unterminated");
	expect_refused(be, "$a(x)", "parameters");
	expect_refused(be, "a = x'41') OR (1", "closes a parenthesis");
	expect_refused(be, "a = 'it''s' ) OR ( 'x'", "closes a parenthesis");
	expect_refused(be, "a = 1 -- comment\n) OR (1", "closes a parenthesis");
	expect_refused(be, "a = 1 /*/", "unterminated comment");
	expect_accepted(be, "a /*/ ) */ = 1");
	expect_refused(be, "a = :lethe_subject", "parameters");
	expect_refused(be, "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
		       "WHERE i < 3) SELECT count(*) FROM n)", "recursive queries");
	/* lethe_day is the backend's own, pure: a policy may use it too. */
	expect_accepted(be, "lethe_day(a) < 20000");
	lethe_backend_free(be);
	after = slurp(dbpath, &n1);
	ck_assert_uint_eq(n0, n1);
	ck_assert(memcmp(before, after, n0) == 0);
	free(before);
	free(after);
}
END_TEST

START_TEST(check_expr_accepted)
{
	lethe_backend *be;
	char *err = NULL;

	make_db("CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, doc TEXT);"
		"CREATE TABLE other(t_id INTEGER, x);");
	be = open_db(LETHE_BACKEND_READONLY);
	expect_accepted(be, "coalesce(a, 'none')");
	expect_accepted(be, "date(a, '+7 years')");
	expect_accepted(be, "substr(a, 1, 4) = '2020'");
	expect_accepted(be, "EXISTS (SELECT 1 FROM other WHERE other.t_id = t.id)");
	expect_accepted(be, "(SELECT max(x) FROM other WHERE other.t_id = t.id)");
	expect_accepted(be, "CASE WHEN a IS NULL THEN 0 ELSE 1 END");
	expect_accepted(be, "json_extract(doc, '$.closed_at')");
	expect_accepted(be, "EXISTS (SELECT 1 FROM json_each(t.doc) WHERE value = 1)");
	expect_accepted(be, "a -- a trailing comment");
	expect_accepted(be, "julianday(a) - julianday('2020-01-01') > 30");
	expect_accepted(be, "(WITH c(i) AS (SELECT 1) SELECT count(*) FROM c)");
	expect_accepted(be, "a = 'it''s (' AND a <> x'28' AND \"a\" = `a`");
	expect_accepted(be, "a = ')' OR a = \"(\" -- )\n OR a = ']' /* ) */");
	/* The table name is quoted, not pasted. */
	ck_assert_int_eq(lethe_backend_check_expr(be, "t\" WHERE 1; --", "1", &err), LETHE_EDATA);
	ck_assert_str_eq(err, "no such table: t\" WHERE 1; --");
	free(err);
	lethe_backend_free(be);
}
END_TEST

/* --- schema -------------------------------------------------------------------- */

START_TEST(table_info_shapes)
{
	lethe_backend *be;
	lethe_table_info *t = NULL;
	const lethe_column_info *c;

	make_db("CREATE TABLE customers(id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE,"
		" ssn TEXT, nick TEXT, a INT, b INT, UNIQUE(a, b));"
		"CREATE UNIQUE INDEX customers_ssn ON customers(ssn);"
		"CREATE UNIQUE INDEX customers_nick ON customers(nick) WHERE nick IS NOT NULL;"
		"CREATE UNIQUE INDEX customers_lower ON customers(lower(email));"
		"CREATE TABLE log(at TEXT, msg);"
		"CREATE TABLE pairs(x TEXT, y INT, z, PRIMARY KEY (y, x)) WITHOUT ROWID;"
		"CREATE TABLE s(k INTEGER PRIMARY KEY, v TEXT) STRICT;"
		"CREATE TABLE single(code TEXT PRIMARY KEY);"
		"CREATE VIEW active AS SELECT id, email FROM customers;");
	be = open_db(LETHE_BACKEND_READONLY);

	ck_assert_int_eq(lethe_backend_table_info(&t, be, "CUSTOMERS"), 0);
	ck_assert_str_eq(t->name, "customers");
	ck_assert(!t->is_view && !t->without_rowid && !t->strict);
	ck_assert_uint_eq(t->ncolumns, 6);
	ck_assert_int_eq(t->npk, 1);
	c = lethe_table_column(t, "id");
	ck_assert(c && c->pk == 1 && c->unique && strcmp(c->decl_type, "INTEGER") == 0);
	c = lethe_table_column(t, "Email");
	ck_assert(c && c->notnull && c->unique && c->pk == 0);
	ck_assert(lethe_table_column(t, "ssn")->unique);
	ck_assert(!lethe_table_column(t, "nick")->unique);   /* partial index */
	ck_assert(!lethe_table_column(t, "a")->unique);      /* composite */
	ck_assert(!lethe_table_column(t, "b")->notnull);
	ck_assert_ptr_null(lethe_table_column(t, "nope"));
	lethe_table_info_free(t);

	ck_assert_int_eq(lethe_backend_table_info(&t, be, "log"), 0);
	ck_assert_int_eq(t->npk, 0);
	ck_assert_str_eq(lethe_table_column(t, "msg")->decl_type, "");
	ck_assert(!lethe_table_column(t, "at")->unique);
	lethe_table_info_free(t);

	ck_assert_int_eq(lethe_backend_table_info(&t, be, "pairs"), 0);
	ck_assert(t->without_rowid);
	ck_assert_int_eq(t->npk, 2);
	ck_assert_int_eq(lethe_table_column(t, "y")->pk, 1);
	ck_assert_int_eq(lethe_table_column(t, "x")->pk, 2);
	ck_assert(!lethe_table_column(t, "x")->unique);
	lethe_table_info_free(t);

	ck_assert_int_eq(lethe_backend_table_info(&t, be, "s"), 0);
	ck_assert(t->strict);
	lethe_table_info_free(t);

	ck_assert_int_eq(lethe_backend_table_info(&t, be, "single"), 0);
	ck_assert(lethe_table_column(t, "code")->unique);
	lethe_table_info_free(t);

	ck_assert_int_eq(lethe_backend_table_info(&t, be, "active"), 0);
	ck_assert(t->is_view);
	ck_assert_uint_eq(t->ncolumns, 2);
	ck_assert_int_eq(t->npk, 0);
	lethe_table_info_free(t);

	t = NULL;
	ck_assert_int_eq(lethe_backend_table_info(&t, be, "missing"), LETHE_ENOTFOUND);
	ck_assert_ptr_null(t);
	ck_assert_int_eq(lethe_backend_table_info(&t, be, "customers_ssn"), LETHE_ENOTFOUND);
	ck_assert_int_eq(lethe_backend_table_info(&t, be, "x'); DROP TABLE log; --"),
			 LETHE_ENOTFOUND);
	lethe_backend_free(be);
}
END_TEST

START_TEST(foreign_keys_all)
{
	lethe_backend *be;
	lethe_foreign_keys *fks = NULL;
	const lethe_foreign_key *fk;

	make_db("CREATE TABLE p(id INTEGER PRIMARY KEY);"
		"CREATE TABLE cp(y INT, x TEXT, PRIMARY KEY (x, y));"
		"CREATE TABLE c(a REFERENCES p ON DELETE CASCADE,"
		" b REFERENCES p(id) ON DELETE SET NULL,"
		" c REFERENCES P ON DELETE SET DEFAULT,"
		" d REFERENCES p ON DELETE RESTRICT,"
		" e REFERENCES p,"
		" f TEXT, g INT,"
		" FOREIGN KEY (f, g) REFERENCES cp ON DELETE CASCADE,"
		" FOREIGN KEY (g, f) REFERENCES cp(y, x));"
		"CREATE TABLE lonely(z);");
	be = open_db(LETHE_BACKEND_READONLY);
	ck_assert_int_eq(lethe_backend_foreign_keys(&fks, be), 0);
	ck_assert_uint_eq(fks->count, 7);

	fk = find_fk(fks, "c", "a");
	ck_assert_str_eq(fk->parent_table, "p");
	ck_assert_uint_eq(fk->ncolumns, 1);
	ck_assert_str_eq(fk->parent_columns[0], "id");
	ck_assert_int_eq(fk->on_delete, LETHE_FK_CASCADE);
	ck_assert_int_eq(find_fk(fks, "c", "b")->on_delete, LETHE_FK_SET_NULL);
	fk = find_fk(fks, "c", "c");
	ck_assert_int_eq(fk->on_delete, LETHE_FK_SET_DEFAULT);
	ck_assert_str_eq(fk->parent_table, "p"); /* the parent's own spelling */
	ck_assert_int_eq(find_fk(fks, "c", "d")->on_delete, LETHE_FK_RESTRICT);
	ck_assert_int_eq(find_fk(fks, "c", "e")->on_delete, LETHE_FK_NO_ACTION);

	/* Omitted parent columns: the parent's primary key in key order (x, y). */
	fk = find_fk(fks, "c", "f");
	ck_assert_str_eq(fk->parent_table, "cp");
	ck_assert_uint_eq(fk->ncolumns, 2);
	ck_assert_str_eq(fk->child_columns[1], "g");
	ck_assert_str_eq(fk->parent_columns[0], "x");
	ck_assert_str_eq(fk->parent_columns[1], "y");
	ck_assert_int_eq(fk->on_delete, LETHE_FK_CASCADE);
	fk = find_fk(fks, "c", "g");
	ck_assert_str_eq(fk->child_columns[1], "f");
	ck_assert_str_eq(fk->parent_columns[0], "y");
	ck_assert_str_eq(fk->parent_columns[1], "x");
	lethe_foreign_keys_free(fks);
	lethe_backend_free(be);
}
END_TEST

/* --- run markers: a batch's digests come back sorted ------------------------ */

typedef struct {
	char (*got)[65];
	size_t n, cap;
} digest_list;

static int collect_digest(void *ctx, const char *digest)
{
	digest_list *l = ctx;

	ck_assert_uint_lt(l->n, l->cap);
	ck_assert_uint_eq(strlen(digest), 64);
	memcpy(l->got[l->n++], digest, 65);
	return 0;
}

static int cmp_hex(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Batches of 70,000 (more digests than the sort's 65,536 buckets, so buckets
 * hold several), 300 and 1 digests, with repeats and digests sharing their
 * first bytes: the marker hands each rule's digests back in ascending order,
 * every one of them, as the completion's merge needs. */
START_TEST(marker_digests_sorted)
{
	static const size_t sizes[] = { 70000, 300, 1 };
	size_t total = 70301, k = 0;
	char (*want)[65] = calloc(total, 65);
	const char **list = calloc(total, sizeof(*list));
	digest_list l = { calloc(total, 65), 0, total };
	uint64_t x = 88172645463325252ULL;
	lethe_backend *be;

	ck_assert_ptr_nonnull(want);
	ck_assert_ptr_nonnull(list);
	ck_assert_ptr_nonnull(l.got);
	for (size_t i = 0; i < total; i++) {
		for (int j = 0; j < 64; j++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			want[i][j] = "0123456789abcdef"[x & 15];
		}
		if (i % 1000 == 7)      /* the same digest twice */
			memcpy(want[i], want[i - 1], 64);
		else if (i % 1000 == 9) /* the same first bytes */
			memcpy(want[i], want[i - 1], 8);
		list[i] = want[i];
	}
	make_db("CREATE TABLE t(id INTEGER PRIMARY KEY);");
	be = open_db(0);
	ck_assert_int_eq(lethe_backend_begin(be), 0);
	/* each batch as the run hands it over: binary and sorted (the
	 * sort's own buckets are exercised by the 70,000) */
	for (size_t b = 0; b < 3; k += sizes[b++]) {
		unsigned char *bin = calloc(sizes[b], LETHE_DIGEST_BIN);

		ck_assert_ptr_nonnull(bin);
		for (size_t i = 0; i < sizes[b]; i++)
			ck_assert_int_eq(lethe_digest_to_bin(bin + i * LETHE_DIGEST_BIN, list[k + i]), 0);
		ck_assert_int_eq(lethe_digests_sort(bin, sizes[b]), 0);
		ck_assert_msg(lethe_backend_mark(be, "r1", "rule", (int64_t)sizes[b], bin, sizes[b]) == 0,
			      "mark: %s", lethe_error_last());
		free(bin);
	}
	ck_assert_int_eq(lethe_backend_commit(be), 0);
	ck_assert_msg(lethe_backend_marker_digests(be, "r1", "rule", collect_digest, &l) == 0, "digests: %s",
		      lethe_error_last());
	ck_assert_uint_eq(l.n, total);
	qsort(want, total, 65, cmp_hex);
	for (size_t i = 0; i < total; i++)
		ck_assert_msg(strcmp(l.got[i], want[i]) == 0, "digest %zu: %s, not %s", i, l.got[i], want[i]);
	lethe_backend_free(be);
	free(want);
	free(list);
	free(l.got);
}
END_TEST

static Suite *backend_suite(void)
{
	Suite *s = suite_create("backend_sqlite");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, open_missing_file);
	tcase_add_test(tc, open_not_a_database);
	tcase_add_test(tc, open_locked_is_tempfail);
	tcase_add_test(tc, readonly_leaves_file_identical);
	tcase_add_test(tc, check_expr_refusals);
	tcase_add_test(tc, check_expr_accepted);
	tcase_add_test(tc, table_info_shapes);
	tcase_add_test(tc, foreign_keys_all);
	tcase_add_test(tc, marker_digests_sorted);
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
