/*
 * test_backend_sqlite_triggers.c - what the schema tells about keys and
 * columns (collations, rowid aliases, generated columns, expression indexes),
 * the text check of FTS index triggers, the list of triggers a change fires,
 * and apply's refusal of a trigger nobody checked, on real SQLite files.
 */
#include "backend_fixture.h"
#include "../../enforcer/backend/sqlite/trigger_sql.h"

START_TEST(schema_keys_and_collations)
{
	lethe_backend *be;
	lethe_table_info *t = NULL;
	const lethe_column_info *c;

	make_db("CREATE TABLE m(id INTEGER PRIMARY KEY, a TEXT NOT NULL COLLATE NOCASE, "
		" b TEXT COLLATE NOCASE UNIQUE, c TEXT UNIQUE, e TEXT, rowid TEXT, "
		" g TEXT GENERATED ALWAYS AS (upper(e)) VIRTUAL);"
		"CREATE UNIQUE INDEX m_a ON m(a COLLATE BINARY);"
		"CREATE UNIQUE INDEX m_e ON m(lower(e));"
		"CREATE TABLE d(k INTEGER PRIMARY KEY DESC, v);"
		"CREATE TABLE w(k TEXT PRIMARY KEY, v) WITHOUT ROWID;"
		"CREATE TABLE h(rowid, _rowid_, oid);");
	be = open_db(LETHE_BACKEND_READONLY);
	ck_assert_int_eq(lethe_backend_table_info(&t, be, "m"), 0);
	c = lethe_table_column(t, "id");
	ck_assert(c->rowid_alias && c->unique && c->in_unique);
	c = lethe_table_column(t, "a");
	ck_assert_str_eq(c->collation, "NOCASE");
	ck_assert(!c->unique && c->unique_other_collation && c->in_unique);
	c = lethe_table_column(t, "b");
	ck_assert(c->unique && !c->unique_other_collation && !c->notnull);
	ck_assert_str_eq(lethe_table_column(t, "c")->collation, "BINARY");
	ck_assert(lethe_table_column(t, "c")->unique);
	c = lethe_table_column(t, "e");
	ck_assert(!c->unique && c->in_unique);      /* read by lower(e) */
	ck_assert(lethe_table_column(t, "g")->generated);
	ck_assert(!lethe_table_column(t, "rowid")->unique);
	/* the row identity the backend offers: the first unshadowed name */
	ck_assert_str_eq(t->row_key, "_rowid_");
	lethe_table_info_free(t);

	ck_assert_int_eq(lethe_backend_table_info(&t, be, "d"), 0);
	/* INTEGER PRIMARY KEY DESC is no rowid alias: it has an index. */
	c = lethe_table_column(t, "k");
	ck_assert(!c->rowid_alias && c->unique && !c->notnull);
	ck_assert_str_eq(t->row_key, "rowid");
	lethe_table_info_free(t);

	ck_assert_int_eq(lethe_backend_table_info(&t, be, "w"), 0);
	c = lethe_table_column(t, "k");
	ck_assert(c->unique && c->notnull && !c->rowid_alias);
	ck_assert_ptr_null(t->row_key);      /* WITHOUT ROWID: no row identity */
	lethe_table_info_free(t);

	ck_assert_int_eq(lethe_backend_table_info(&t, be, "h"), 0);
	ck_assert_ptr_null(t->row_key);      /* every name of the rowid shadowed */
	lethe_table_info_free(t);
	lethe_backend_free(be);
}
END_TEST

static int stub_is_fts(void *ctx, const char *table)
{
	(void)ctx;
	return strncmp(table, "fts", 3) == 0;
}

static int fts_sync(const char *body)
{
	static const char *const names[] = {"id", "rowid"};
	lethe_trigger_env env = { names, 2, stub_is_fts, NULL };
	char sql[1024];

	snprintf(sql, sizeof(sql), "CREATE TRIGGER x AFTER DELETE ON t WHEN old.id > 0 BEGIN %s END", body);
	return lethe_trigger_fts_sync(sql, &env);
}

START_TEST(fts_sync_shapes)
{
	ck_assert_int_eq(fts_sync("DELETE FROM fts WHERE rowid = old.id;"), 1);
	ck_assert_int_eq(fts_sync("DELETE FROM \"fts\" WHERE old.rowid == rowid; -- c\n"), 1);
	ck_assert_int_eq(fts_sync("INSERT INTO fts(rowid, body) VALUES (new.id, new.body);"), 1);
	ck_assert_int_eq(fts_sync("INSERT INTO fts(fts, rowid, b) VALUES ('delete', old.id, old.b);"), 1);
	ck_assert_int_eq(fts_sync("UPDATE fts SET b = new.b WHERE rowid = old.id;"), 1);
	ck_assert_int_eq(fts_sync("INSERT INTO fts(docid, b) VALUES (new.id, new.b); "
				  "DELETE FROM fts2 WHERE docid = old.id;"), 1);
	/* another row, another table, other statements, other commands */
	ck_assert_int_eq(fts_sync("DELETE FROM fts WHERE rowid = old.id + 1;"), 0);
	ck_assert_int_eq(fts_sync("DELETE FROM fts WHERE rowid = old.other;"), 0);
	ck_assert_int_eq(fts_sync("DELETE FROM fts;"), 0);
	ck_assert_int_eq(fts_sync("DELETE FROM audit WHERE rowid = old.id;"), 0);
	ck_assert_int_eq(fts_sync("INSERT INTO fts(fts) VALUES ('rebuild');"), 0);
	ck_assert_int_eq(fts_sync("INSERT INTO fts(fts, rowid, b) VALUES ('delete', new.id, new.b);"), 0);
	ck_assert_int_eq(fts_sync("INSERT INTO fts(rowid, b) VALUES (new.other, new.b);"), 0);
	ck_assert_int_eq(fts_sync("INSERT INTO fts(rowid, b) SELECT id, b FROM t;"), 0);
	ck_assert_int_eq(fts_sync("UPDATE fts SET rowid = 5 WHERE rowid = old.id;"), 0);
	ck_assert_int_eq(fts_sync("DELETE FROM fts WHERE rowid = old.id; SELECT RAISE(IGNORE);"), 0);
	ck_assert_int_eq(fts_sync(""), 0);
	ck_assert_int_eq(lethe_sql_creates_fts("CREATE VIRTUAL TABLE x USING FTS5(a)"), 1);
	ck_assert_int_eq(lethe_sql_creates_fts("CREATE VIRTUAL TABLE x USING rtree(a, b, c)"), 0);
	ck_assert_int_eq(lethe_sql_fts_of("CREATE VIRTUAL TABLE f USING fts5(b, content='t', "
					  "content_rowid='id')", "f", "T"), 1);
	ck_assert_int_eq(lethe_sql_fts_of("CREATE VIRTUAL TABLE f USING fts5(b, content=u)", "f", "t"), 0);
	ck_assert_int_eq(lethe_sql_fts_of("CREATE TRIGGER a AFTER INSERT ON t BEGIN INSERT INTO "
					  "\"f\"(rowid, b) VALUES (new.id, new.b); END", "F", "t"), 1);
	ck_assert_int_eq(lethe_sql_fts_of("CREATE TRIGGER a AFTER UPDATE ON t BEGIN INSERT INTO "
					  "f(rowid, b) VALUES (new.id, new.b); END", "f", "t"), 0);
	ck_assert_int_eq(lethe_sql_fts_of("CREATE TRIGGER a AFTER INSERT ON t BEGIN INSERT INTO "
					  "g(rowid, b) VALUES (new.id, new.b); END", "f", "t"), 0);
	ck_assert_int_eq(lethe_sql_mentions("CREATE UNIQUE INDEX i ON t(lower(\"E\"))", "e"), 1);
	ck_assert_int_eq(lethe_sql_mentions("CREATE UNIQUE INDEX e ON t(lower(f))", "e"), 0);
}
END_TEST

typedef struct {
	char names[8][32];
	int harmless[8];
	int n;
} seen;

static int note(void *ctx, const char *trigger, int harmless)
{
	seen *s = ctx;

	ck_assert_int_lt(s->n, 8);
	snprintf(s->names[s->n], sizeof(s->names[0]), "%s", trigger);
	s->harmless[s->n++] = harmless;
	return 0;
}

static int seen_as(const seen *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->names[i], name))
			return s->harmless[i];
	return -1;
}

static const char SHOP[] =
	"CREATE TABLE c(id INTEGER PRIMARY KEY, name TEXT, email TEXT);"
	"CREATE TABLE audit(id INTEGER PRIMARY KEY, old TEXT);"
	"CREATE VIRTUAL TABLE c_fts USING fts5(name);"
	"CREATE TRIGGER c_ai AFTER INSERT ON c BEGIN"
	" INSERT INTO c_fts(rowid, name) VALUES (new.id, new.name); END;"
	"CREATE TABLE other(id INTEGER PRIMARY KEY, note TEXT);"
	"CREATE VIRTUAL TABLE other_fts USING fts5(note);"
	"CREATE TRIGGER other_ai AFTER INSERT ON other BEGIN"
	" INSERT INTO other_fts(rowid, note) VALUES (new.id, new.note); END;"
	"CREATE TRIGGER c_ad AFTER DELETE ON c BEGIN DELETE FROM c_fts WHERE rowid = old.id; END;"
	"CREATE TRIGGER c_au AFTER UPDATE OF name ON c BEGIN DELETE FROM c_fts WHERE rowid = old.id;"
	" INSERT INTO c_fts(rowid, name) VALUES (new.id, new.name); END;"
	"CREATE TRIGGER c_mail AFTER UPDATE OF email ON c BEGIN"
	" INSERT INTO audit(old) VALUES (old.email); END;"
	"INSERT INTO c VALUES (1, 'Ella', 'e@x'), (2, 'Anna', 'a@x');";

START_TEST(change_triggers_listed)
{
	static const char *const name[] = {"name"}, *const both[] = {"name", "email"};
	lethe_change c = { .table = "c", .key = "id", .delete = 1 };
	lethe_backend *be;
	seen s = { 0 };

	make_db(SHOP);
	be = open_db(LETHE_BACKEND_READONLY);
	ck_assert_int_eq(lethe_backend_change_triggers(be, &c, note, &s), 0);
	ck_assert_int_eq(s.n, 1);
	ck_assert_int_eq(seen_as(&s, "c_ad"), 1);

	memset(&s, 0, sizeof(s));
	c.delete = 0;
	c.columns = name;
	c.ncolumns = 1;
	ck_assert_int_eq(lethe_backend_change_triggers(be, &c, note, &s), 0);
	ck_assert_int_eq(s.n, 1);
	ck_assert_int_eq(seen_as(&s, "c_au"), 1);

	memset(&s, 0, sizeof(s));
	c.columns = both;
	c.ncolumns = 2;
	ck_assert_int_eq(lethe_backend_change_triggers(be, &c, note, &s), 0);
	ck_assert_int_eq(s.n, 2);
	ck_assert_int_eq(seen_as(&s, "c_mail"), 0);
	lethe_backend_free(be);

	/* the same shape into another table's index: not this row's entry */
	make_db("CREATE TRIGGER c_bad AFTER DELETE ON c BEGIN DELETE FROM other_fts WHERE rowid = old.id; END;");
	be = open_db(LETHE_BACKEND_READONLY);
	memset(&s, 0, sizeof(s));
	c.delete = 1;
	ck_assert_int_eq(lethe_backend_change_triggers(be, &c, note, &s), 0);
	ck_assert_int_eq(s.n, 2);
	ck_assert_int_eq(seen_as(&s, "c_ad"), 1);
	ck_assert_int_eq(seen_as(&s, "c_bad"), 0);
	lethe_backend_free(be);
}
END_TEST

static int keep_value(void *ctx, size_t column, const lethe_value *in, const lethe_value *key,
		      lethe_value *out)
{
	(void)ctx;
	(void)column;
	(void)key;
	*out = *in;
	return 0;
}

static int count_rows(const char *table)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char sql[128];
	int n;

	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* apply analyses the triggers again inside its transaction: a trigger added
 * after check (or never checked) is refused before anything changes. */
START_TEST(apply_refuses_unchecked_trigger)
{
	static const char *const both[] = {"name", "email"}, *const ack[] = {"C_MAIL"};
	lethe_value key = { .type = LETHE_VALUE_INTEGER, .i = 1 };
	lethe_change c = { .table = "c", .key = "id", .columns = both, .ncolumns = 2,
			   .transform = keep_value, .rule = "r" };
	lethe_backend *be;
	int64_t changed = 0;

	make_db(SHOP);
	be = open_db(0);
	ck_assert_int_eq(lethe_backend_begin(be), 0);
	ck_assert_int_eq(lethe_backend_apply(&changed, be, &c, &key, 1), LETHE_EDATA);
	ck_assert_ptr_nonnull(strstr(lethe_error_last(), "'c_mail'"));
	lethe_backend_rollback(be);
	ck_assert_int_eq(count_rows("audit"), 0);

	c.triggers = ack;
	c.ntriggers = 1;
	ck_assert_int_eq(lethe_backend_begin(be), 0);
	ck_assert_int_eq(lethe_backend_apply(&changed, be, &c, &key, 1), 0);
	ck_assert_int_eq(lethe_backend_commit(be), 0);
	ck_assert_int_eq(changed, 1);
	ck_assert_int_eq(count_rows("audit"), 1);

	/* a delete fires only the FTS trigger: proven, so it runs */
	c.delete = 1;
	c.triggers = NULL;
	c.ntriggers = 0;
	ck_assert_int_eq(lethe_backend_begin(be), 0);
	ck_assert_int_eq(lethe_backend_apply(&changed, be, &c, &key, 1), 0);
	ck_assert_int_eq(lethe_backend_commit(be), 0);
	ck_assert_int_eq(count_rows("c"), 1);
	lethe_backend_free(be);
}
END_TEST

/* A schema changed after it was checked (pinned) is found inside the write
 * transaction, before anything is written; Lethe's own tables do not count. */
START_TEST(begin_refuses_changed_schema)
{
	lethe_backend *be;

	make_db(SHOP);
	be = open_db(0);
	ck_assert_int_eq(lethe_backend_pin_schema(be), 0);
	make_db("CREATE TABLE lethe_x(a); ANALYZE;");
	ck_assert_int_eq(lethe_backend_begin(be), 0);
	lethe_backend_rollback(be);
	make_db("CREATE TRIGGER late AFTER DELETE ON c BEGIN DELETE FROM other; END;");
	ck_assert_int_eq(lethe_backend_begin(be), LETHE_ETEMPFAIL);
	ck_assert_ptr_nonnull(strstr(lethe_error_last(), "schema"));
	ck_assert_int_eq(lethe_backend_begin(be), LETHE_ETEMPFAIL);   /* nothing left open */
	ck_assert_int_eq(lethe_backend_pin_schema(be), 0);
	ck_assert_int_eq(lethe_backend_begin(be), 0);
	lethe_backend_rollback(be);
	lethe_backend_free(be);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("backend_sqlite_triggers");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, schema_keys_and_collations);
	tcase_add_test(tc, fts_sync_shapes);
	tcase_add_test(tc, change_triggers_listed);
	tcase_add_test(tc, apply_refuses_unchecked_trigger);
	tcase_add_test(tc, begin_refuses_changed_schema);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
