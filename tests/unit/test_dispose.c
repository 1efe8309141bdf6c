/*
 * test_dispose.c - carrying out a plan (lethe_dispose, include/lethe/dispose.h)
 * on real SQLite files: a dry run changes no byte, a run removes exactly the
 * due rows and keeps held and blocked ones, the cap refuses before anything
 * is written, pseudonymise and mask write the known answers and are not
 * applied twice, and the batch hooks see exactly the disposed keys.
 *
 * Only the public API is used (lethe_dispose and its options), so the tests
 * follow the library's contract, not its internals; every row check reads
 * the file back with sqlite3 directly.
 */
#include <check.h>
#include "dispose_impl.h" /* internal: the engine below the site object */
#include "lethe/error.h"
#include "register_fixture.h"

/* The whole file, malloc'd. */
static unsigned char *file_bytes(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void file_unchanged(const unsigned char *before, size_t len)
{
	size_t now_len;
	unsigned char *now = file_bytes(rf_dbpath, &now_len);

	ck_assert_uint_eq(now_len, len);
	ck_assert_msg(memcmp(now, before, len) == 0, "register.db changed");
	free(now);
}

/* What the hooks saw. */
typedef struct {
	int intents;
	int64_t intent_due;
	int batches;
	int64_t keys[64];
	size_t nkeys;
	size_t batch_len[16];
	int64_t changed;
	int not_applied;
	int fail_batch;        /* fail this batch (1-based); 0: never */
	int64_t progress_done[16], progress_total;
	int progresses;
} seen;

static int on_intent(void *ctx, const lethe_plan *plan)
{
	seen *s = ctx;

	s->intents++;
	for (size_t i = 0; i < plan->nrules; i++)
		s->intent_due += plan->rules[i].due;
	return 0;
}

static int on_batch(void *ctx, const lethe_rule *rule, const lethe_value *keys,
		    const unsigned char *applied, size_t n, int64_t changed)
{
	seen *s = ctx;

	(void)rule;
	ck_assert_int_lt(s->batches, 16);
	s->batch_len[s->batches++] = n;
	if (s->fail_batch == s->batches)
		return lethe_error_set(LETHE_EIO, "hook failed");
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(keys[i].type, LETHE_VALUE_INTEGER);
		ck_assert_uint_lt(s->nkeys, 64);
		s->keys[s->nkeys++] = keys[i].i;
		s->not_applied += applied && !applied[i];
	}
	s->changed += changed;
	return 0;
}

static void on_progress(void *ctx, int64_t done, int64_t total)
{
	seen *s = ctx;

	ck_assert_int_lt(s->progresses, 16);
	s->progress_done[s->progresses++] = done;
	s->progress_total = total;
}

static lethe_dispose_options options(const char *as_of, seen *s)
{
	lethe_dispose_options o = { 0 };

	o.as_of = rf_day(as_of);
	o.residue_fast = 1;
	o.batch_hook = on_batch;
	o.intent_hook = on_intent;
	o.hook_ctx = s;
	o.progress = on_progress;
	o.progress_ctx = s;
	return o;
}

/* Run lethe_dispose on a read-write backend; *out receives the counts. */
static int dispose(lethe_plan **out, const lethe_policy *p, const lethe_dispose_options *o)
{
	lethe_backend *be = rf_open(0);
	lethe_warnings w = { 0 };
	int rc;

	*out = NULL;
	rc = lethe_dispose(out, &w, be, p, o);
	lethe_warnings_free(&w);
	lethe_backend_free(be);
	return rc;
}

static void ids_are(const char *table, const char *want)
{
	char sql[160], *got;

	snprintf(sql, sizeof(sql), "SELECT coalesce(group_concat(id, ','), '') FROM "
		 "(SELECT id FROM %s ORDER BY id)", table);
	got = rf_text(sql);
	ck_assert_msg(strcmp(got, want) == 0, "%s: rows %s, want %s", table, got, want);
	free(got);
}

/* customers 1 and 3 are due but blocked (order 10 is not due, order 21 is
 * held); 2 and 7 are due (2's order 20 is due too); 4 not due; 5 NULL;
 * 6 invalid. */
static const char family_db[] =
	"CREATE TABLE customers (id INTEGER PRIMARY KEY, d);"
	"CREATE TABLE orders (id INTEGER PRIMARY KEY, "
	"customer_id INTEGER REFERENCES customers(id) ON DELETE CASCADE, d TEXT);"
	"INSERT INTO customers VALUES (1, '2020-01-01'), (2, '2020-01-01'), (3, '2020-01-01'),"
	"(4, '2024-03-01'), (5, NULL), (6, 'bad'), (7, '2020-01-01');"
	"INSERT INTO orders VALUES (10, 1, '2024-01-01'), (20, 2, '2010-01-01'), "
	"(21, 3, '2010-01-01');"
	"CREATE TABLE lethe_holds (id INTEGER PRIMARY KEY, subject, rule TEXT, "
	"where_sql TEXT, until TEXT, created_at TEXT NOT NULL, released_at TEXT, reason TEXT, "
	"release_reason TEXT);"
	"INSERT INTO lethe_holds (rule, where_sql, created_at) VALUES ('orders', 'id = 21', "
	"'2024-01-02');";

static const char family_policy[] =
	"rules:\n"
	"  - {name: customers, basis: b, table: customers, from: d, retain: 1 year, action: delete}\n"
	"  - {name: orders, basis: b, table: orders, from: d, retain: 10 years, action: delete}\n";

START_TEST(test_dispose_dry_run_changes_nothing)
{
	lethe_policy *p;
	lethe_plan *plan, *run;
	lethe_dispose_options o;
	unsigned char *before;
	size_t len;
	seen s = { 0 };

	rf_db(family_db);
	p = rf_policy(family_policy);
	before = file_bytes(rf_dbpath, &len);
	o = options("2024-03-02", &s);
	o.dry_run = 1;
	ck_assert_int_eq(dispose(&run, p, &o), 0);
	file_unchanged(before, len);
	ck_assert_int_eq(s.intents + s.batches + s.progresses, 0);
	plan = rf_plan(p, "2024-03-02");
	for (size_t i = 0; i < 2; i++) {
		const lethe_rule_plan *a = &plan->rules[i];
		rf_counts(&run->rules[i], a->in_scope, a->due, a->not_due, a->not_started, a->invalid,
			  a->held, a->blocked);
	}
	rf_counts(&run->rules[0], 7, 2, 1, 1, 1, 0, 2);
	ids_are("customers", "1,2,3,4,5,6,7");
	lethe_plan_free(plan);
	lethe_plan_free(run);
	lethe_policy_free(p);
	free(before);
}
END_TEST

START_TEST(test_dispose_deletes_exactly_due_rows)
{
	lethe_policy *p;
	lethe_plan *run;
	lethe_dispose_options o;
	seen s = { 0 };

	rf_db(family_db);
	p = rf_policy(family_policy);
	o = options("2024-03-02", &s);
	ck_assert_msg(dispose(&run, p, &o) == 0, "%s", lethe_error_last());
	rf_counts(&run->rules[0], 7, 2, 1, 1, 1, 0, 2);
	rf_counts(&run->rules[1], 3, 1, 1, 0, 0, 1, 0);
	ids_are("customers", "1,3,4,5,6");
	ids_are("orders", "10,21");
	ck_assert_int_eq(s.intents, 1);
	ck_assert_int_eq(s.intent_due, 3);
	ck_assert_int_eq(s.changed, 3);
	ck_assert_int_eq(s.not_applied, 0);
	lethe_plan_free(run);

	/* the same as-of again: nothing more */
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(dispose(&run, p, &o), 0);
	ck_assert_int_eq(run->rules[0].due + run->rules[1].due, 0);
	ck_assert_int_eq(s.batches, 0);
	ids_are("customers", "1,3,4,5,6");
	ids_are("orders", "10,21");
	lethe_plan_free(run);
	lethe_policy_free(p);
}
END_TEST

/* A rule with more due rows than the cap: refused before the intent, no byte
 * written. At exactly the cap the run goes ahead. */
START_TEST(test_dispose_cap_refuses_before_writing)
{
	lethe_policy *p;
	lethe_plan *run;
	lethe_dispose_options o;
	unsigned char *before;
	size_t len;
	seen s = { 0 };

	rf_db("CREATE TABLE t (id INTEGER PRIMARY KEY, d TEXT);"
	      "INSERT INTO t VALUES (1, '2020-01-01'), (2, '2020-01-01'), (3, '2020-01-01'),"
	      "(4, '2024-03-01');");
	p = rf_policy("rules:\n  - {name: t, basis: b, table: t, from: d, retain: 1 day, "
		      "action: delete}\n");
	before = file_bytes(rf_dbpath, &len);
	o = options("2024-03-02", &s);
	o.max_rows_per_rule = 2;
	ck_assert_int_eq(dispose(&run, p, &o), LETHE_EDATA);
	ck_assert_ptr_null(run);
	ck_assert_msg(strstr(lethe_error_last(), "'t' would dispose of 3 rows") &&
		      strstr(lethe_error_last(), "nothing was disposed"), "%s", lethe_error_last());
	ck_assert_int_eq(s.intents + s.batches, 0);
	file_unchanged(before, len);

	o.max_rows_per_rule = 3;
	ck_assert_int_eq(dispose(&run, p, &o), 0);
	ck_assert_int_eq(run->rules[0].due, 3);
	ids_are("t", "4");
	lethe_plan_free(run);
	lethe_policy_free(p);
	free(before);
}
END_TEST

START_TEST(test_dispose_pseudonymise_and_mask)
{
	lethe_policy *p;
	lethe_plan *run;
	lethe_dispose_options o;
	lethe_token_key *k = rf_kat_key();
	seen s = { 0 };
	char *v;

	rf_db("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT UNIQUE, d TEXT);"
	      "INSERT INTO customers VALUES (7, 'Bob', 'bob@example.com', '2020-01-01'),"
	      "(8, 'Eve', 'eve@example.com', '2024-03-01'), (9, NULL, NULL, '2020-01-01');"
	      "CREATE TABLE events (id INTEGER PRIMARY KEY, ip TEXT, ua TEXT, note TEXT, "
	      "day TEXT NOT NULL, pc TEXT, d TEXT);"
	      "INSERT INTO events VALUES (1, '10.0.0.1', 'Mozilla', 'x', '2023-05-06', 'Äänekoski', "
	      "'2020-01-01'), (2, '10.0.0.2', 'Curl', 'y', '2023-05-06', '00100', '2024-03-01'),"
	      "(3, '10.0.0.3', 'Wget', 'z', 'someday', '日本語テキスト', '2020-01-01');");
	p = rf_policy("rules:\n"
		      "  - {name: pz, basis: b, table: customers, from: d, retain: 1 year, "
		      "action: pseudonymise, columns: [name, email]}\n"
		      "  - name: mk\n    basis: b\n    table: events\n    from: d\n    retain: 1 year\n"
		      "    action: mask\n    columns:\n      ip: null\n      ua: redact\n"
		      "      note: \"redact: (gone)\"\n      day: year\n      pc: first 3\n");
	o = options("2024-03-02", &s);
	o.pseudonym_key = k;
	ck_assert_msg(dispose(&run, p, &o) == 0, "%s", lethe_error_last());
	rf_counts(&run->rules[0], 3, 2, 1, 0, 0, 0, 0);
	rf_counts(&run->rules[1], 3, 2, 1, 0, 0, 0, 0);
	lethe_plan_free(run);

	v = rf_text("SELECT name || '|' || email FROM customers WHERE id = 7");
	ck_assert_str_eq(v, TOK_BOB "|" ROW_BOB_I7);
	free(v);
	v = rf_text("SELECT name || '|' || email FROM customers WHERE id = 8");
	ck_assert_str_eq(v, "Eve|eve@example.com");
	free(v);
	ck_assert_int_eq(rf_int("SELECT name IS NULL AND email IS NULL FROM customers WHERE id = 9"), 1);
	v = rf_text("SELECT quote(ip) || '|' || ua || '|' || note || '|' || day || '|' || pc "
		    "FROM events WHERE id = 1");
	ck_assert_str_eq(v, "NULL|[redacted]|(gone)|2023|Ään");
	free(v);
	v = rf_text("SELECT quote(ip) || '|' || ua || '|' || note || '|' || day || '|' || pc "
		    "FROM events WHERE id = 2");
	ck_assert_str_eq(v, "'10.0.0.2'|Curl|y|2023-05-06|00100");
	free(v);
	/* no date on a NOT NULL column: the redaction, nothing of the value */
	v = rf_text("SELECT day || '|' || pc FROM events WHERE id = 3");
	ck_assert_str_eq(v, "[redacted]|日本語");
	free(v);

	/* done by their rule: the same as-of changes nothing more */
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(dispose(&run, p, &o), 0);
	ck_assert_int_eq(run->rules[0].due + run->rules[1].due, 0);
	ck_assert_int_eq(s.batches, 0);
	lethe_plan_free(run);
	v = rf_text("SELECT name || '|' || email FROM customers WHERE id = 7");
	ck_assert_str_eq(v, TOK_BOB "|" ROW_BOB_I7);
	free(v);
	lethe_token_key_free(k);
	lethe_policy_free(p);
}
END_TEST

static const char batch_db[] =
	"CREATE TABLE t (id INTEGER PRIMARY KEY, d TEXT);"
	"INSERT INTO t VALUES (1, '2020-01-01'), (2, '2020-01-01'), (3, '2020-01-01'),"
	"(4, '2024-03-01'), (5, '2020-01-01'), (6, '2020-01-01');";
static const char batch_policy[] =
	"rules:\n  - {name: t, basis: b, table: t, from: d, retain: 1 day, action: delete}\n";

/* Batches of at most 2 keys; together exactly the due keys, in key order,
 * each applied; progress counts up to the total. */
START_TEST(test_dispose_batch_hooks_see_disposed_keys)
{
	lethe_policy *p;
	lethe_plan *run;
	lethe_dispose_options o;
	seen s = { 0 };
	int64_t want[] = { 1, 2, 3, 5, 6 };

	rf_db(batch_db);
	p = rf_policy(batch_policy);
	o = options("2024-03-02", &s);
	o.batch_size = 2;
	ck_assert_msg(dispose(&run, p, &o) == 0, "%s", lethe_error_last());
	ck_assert_int_eq(run->rules[0].due, 5);
	ck_assert_int_eq(s.intent_due, 5);
	ck_assert_uint_eq(s.nkeys, 5);
	for (size_t i = 0; i < 5; i++)
		ck_assert_int_eq(s.keys[i], want[i]);
	ck_assert_int_ge(s.batches, 3);
	for (int b = 0; b < s.batches; b++)
		ck_assert_msg(s.batch_len[b] >= 1 && s.batch_len[b] <= 2, "batch %d: %zu keys", b,
			      s.batch_len[b]);
	ck_assert_int_eq(s.not_applied, 0);
	ck_assert_int_eq(s.changed, 5);
	ck_assert_int_eq(s.progresses, s.batches);
	ck_assert_int_eq(s.progress_done[s.progresses - 1], 5);
	ck_assert_int_eq(s.progress_total, 5);
	ids_are("t", "4");
	lethe_plan_free(run);
	lethe_policy_free(p);
}
END_TEST

/* A hook failing in the second batch: the first batch stays committed, the
 * second is rolled back, and the counts say what was disposed. */
START_TEST(test_dispose_failing_batch_hook)
{
	lethe_policy *p;
	lethe_plan *run;
	lethe_dispose_options o;
	seen s = { 0 };
	char want[32] = "";
	int rc;

	rf_db(batch_db);
	p = rf_policy(batch_policy);
	o = options("2024-03-02", &s);
	o.batch_size = 2;
	s.fail_batch = 2;
	rc = dispose(&run, p, &o);
	ck_assert_int_eq(rc, LETHE_EIO);
	ck_assert_ptr_nonnull(run);
	ck_assert_uint_eq(s.nkeys, s.batch_len[0]);
	ck_assert_int_eq(run->rules[0].due, (int64_t)s.nkeys);
	/* the rows left: every row but the first batch's keys */
	for (int64_t id = 1; id <= 6; id++) {
		int gone = 0;

		for (size_t i = 0; i < s.nkeys; i++)
			gone |= s.keys[i] == id;
		if (!gone)
			snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%lld",
				 *want ? "," : "", (long long)id);
	}
	ids_are("t", want);
	ck_assert_int_eq(rf_int("SELECT count(*) FROM t"), 6 - (long long)s.nkeys);
	lethe_plan_free(run);
	lethe_policy_free(p);
}
END_TEST

/* Batch sizes are an outcome of the time a batch took: they double while
 * batches are quick, up to a ceiling, and halve when one is slow, down to
 * LETHE_DISPOSE_BATCH. */
START_TEST(test_dispose_batch_size_follows_time)
{
	const int64_t ms = 1000000;
	size_t n = LETHE_DISPOSE_BATCH;
	int steps = 0;

	ck_assert_uint_eq(lethe_dispose_next_batch(1000, 10 * ms), 2000);
	ck_assert_uint_eq(lethe_dispose_next_batch(1000, 500 * ms), 1000);
	ck_assert_uint_eq(lethe_dispose_next_batch(8000, 1500 * ms), 4000);
	ck_assert_uint_eq(lethe_dispose_next_batch(LETHE_DISPOSE_BATCH, 5000 * ms), LETHE_DISPOSE_BATCH);
	while (steps < 100 && n != lethe_dispose_next_batch(n, ms)) {
		n = lethe_dispose_next_batch(n, ms);
		steps++;
	}
	ck_assert_uint_eq(n, LETHE_DISPOSE_BATCH_CEILING);
	ck_assert_int_lt(steps, 10);
	ck_assert_uint_eq(lethe_dispose_next_batch(n, 2000 * ms), LETHE_DISPOSE_BATCH_CEILING / 2);
}
END_TEST

typedef struct {
	int64_t rows[2];        /* keys handed over, per rule */
	size_t batches[2];
	int64_t first[2];       /* keys in each rule's first batch */
} per_rule;

static int count_per_rule(void *ctx, const lethe_rule *rule, const lethe_value *keys,
			  const unsigned char *applied, size_t n, int64_t changed)
{
	per_rule *c = ctx;
	int i = rule->name[0] == 'b';

	(void)keys;
	(void)applied;
	(void)changed;
	if (!c->batches[i]++)
		c->first[i] = (int64_t)n;
	c->rows[i] += (int64_t)n;
	return 0;
}

/* Two rules of 150,000 rows each. b has more rows due, so it runs first and
 * starts at 1,000 rows; a starts from b's speed, at a size that is not a
 * power of two times 1,000, and goes on in ranges of that size and more.
 * Both still dispose of exactly the due rows (every odd id of a, two ids in
 * three of b), nothing kept, nothing twice. */
START_TEST(test_dispose_later_rule_ranges_exact)
{
	lethe_policy *p;
	lethe_plan *run;
	lethe_dispose_options o = { 0 };
	per_rule c;
	char *left;

	memset(&c, 0, sizeof(c));
	rf_db("CREATE TABLE a (id INTEGER PRIMARY KEY, d TEXT);"
	      "CREATE TABLE b (id INTEGER PRIMARY KEY, d TEXT);"
	      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 150000) "
	      "INSERT INTO a SELECT i, CASE WHEN i % 2 THEN '2020-01-01' ELSE '2024-03-01' END FROM n;"
	      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 150000) "
	      "INSERT INTO b SELECT i, CASE WHEN i % 3 THEN '2020-01-01' ELSE '2024-03-01' END FROM n;");
	p = rf_policy("rules:\n"
		      "  - {name: a, basis: x, table: a, from: d, retain: 1 day, action: delete}\n"
		      "  - {name: b, basis: x, table: b, from: d, retain: 1 day, action: delete}\n");
	o.as_of = rf_day("2024-03-02");
	o.residue_fast = 1;
	o.batch_hook = count_per_rule;
	o.hook_ctx = &c;
	ck_assert_msg(dispose(&run, p, &o) == 0, "%s", lethe_error_last());
	ck_assert_int_eq(c.rows[0], 75000);
	ck_assert_int_eq(c.rows[1], 100000);
	ck_assert_int_eq(run->rules[0].due, 75000);
	ck_assert_int_eq(run->rules[1].due, 100000);
	/* b's first batch is the run's first: 1,000 rows, two in three due */
	ck_assert_int_eq(c.first[1], 667);
	left = rf_text("SELECT (SELECT count(*) FROM a WHERE id % 2 = 0) || ',' || (SELECT count(*) FROM a) "
		       "|| ',' || (SELECT count(*) FROM b WHERE id % 3 = 0) || ',' || (SELECT count(*) FROM b)");
	ck_assert_str_eq(left, "75000,75000,50000,50000");
	free(left);
	lethe_plan_free(run);
	lethe_policy_free(p);
}
END_TEST

/* What the statement handed to on_key while it ran, against what the batch
 * returned. */
typedef struct {
	int64_t *seen;
	size_t nseen, cap;
	int batches, streamed, matched;
	int64_t total;
} key_stream;

static void on_key(void *ctx, const lethe_value *key)
{
	key_stream *k = ctx;

	ck_assert_int_eq(key->type, LETHE_VALUE_INTEGER);
	if (k->nseen == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 1024;
		k->seen = realloc(k->seen, k->cap * sizeof(*k->seen));
		ck_assert_ptr_nonnull(k->seen);
	}
	k->seen[k->nseen++] = key->i;
}

static void on_batch_keys(void *ctx, const lethe_rule *rule, size_t most,
			  void (**fn)(void *ctx, const lethe_value *key), void **fn_ctx)
{
	key_stream *k = ctx;

	(void)rule;
	ck_assert_uint_gt(most, 0);
	k->nseen = 0;
	*fn = on_key;
	*fn_ctx = k;
}

static int on_batch_streamed(void *ctx, const lethe_rule *rule, const lethe_value *keys,
			     const unsigned char *applied, size_t n, int64_t changed)
{
	key_stream *k = ctx;
	int same = k->nseen == n;

	(void)rule;
	ck_assert_ptr_null(applied);
	ck_assert_int_eq(changed, (int64_t)n);
	for (size_t i = 0; same && i < n; i++)
		same = keys[i].type == LETHE_VALUE_INTEGER && keys[i].i == k->seen[i];
	k->batches++;
	k->streamed += k->nseen > 0;
	k->matched += same;
	k->total += (int64_t)n;
	return 0;
}

/* The SQLite backend hands each changed key to lethe_change.on_key from
 * inside the batch's statement (its RETURNING clause): for a delete and a
 * mask rule, over batches that grow from 1,000 rows, every batch's keys are
 * exactly those on_key saw, in the same order, and the rows are disposed
 * of as without it. */
START_TEST(test_dispose_key_hook_sees_each_batch_keys)
{
	lethe_policy *p;
	lethe_plan *run;
	lethe_dispose_options o = { 0 };
	key_stream k = { 0 };
	char *left;

	rf_db("CREATE TABLE a (id INTEGER PRIMARY KEY, d TEXT);"
	      "CREATE TABLE m (id INTEGER PRIMARY KEY, d TEXT, ip TEXT);"
	      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30000) "
	      "INSERT INTO a SELECT i, CASE WHEN i % 3 THEN '2020-01-01' ELSE '2024-03-01' END FROM n;"
	      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) "
	      "INSERT INTO m SELECT i * 7, CASE WHEN i % 2 THEN '2020-01-01' ELSE '2024-03-01' END, "
	      "'10.0.0.' || (i % 250) FROM n;");
	p = rf_policy("rules:\n"
		      "  - {name: a, basis: x, table: a, from: d, retain: 1 day, action: delete}\n"
		      "  - {name: m, basis: x, table: m, from: d, retain: 1 day, action: mask, "
		      "columns: {ip: null}}\n");
	o.as_of = rf_day("2024-03-02");
	o.residue_fast = 1;
	o.key_hook = on_batch_keys;
	o.batch_hook = on_batch_streamed;
	o.hook_ctx = &k;
	ck_assert_msg(dispose(&run, p, &o) == 0, "%s", lethe_error_last());
	ck_assert_int_eq(k.total, 20000 + 10000);
	ck_assert_int_ge(k.batches, 4);
	ck_assert_int_eq(k.streamed, k.batches);
	ck_assert_int_eq(k.matched, k.batches);
	left = rf_text("SELECT (SELECT count(*) FROM a) || ',' || (SELECT count(*) FROM a WHERE id % 3) "
		       "|| ',' || (SELECT count(*) FROM m WHERE ip IS NULL) || ',' || "
		       "(SELECT count(*) FROM m WHERE ip IS NULL AND d = '2020-01-01')");
	ck_assert_str_eq(left, "10000,0,10000,10000");
	free(left);
	free(k.seen);
	lethe_plan_free(run);
	lethe_policy_free(p);
}
END_TEST

/* A rule's first batch follows the run's latest timed batch: the rows that
 * speed fits in an eighth of the half second a batch grows under, never
 * below LETHE_DISPOSE_BATCH or above the ceiling; with nothing timed yet,
 * LETHE_DISPOSE_BATCH. */
START_TEST(test_dispose_first_batch_follows_the_run)
{
	const int64_t ms = 1000000;

	ck_assert_uint_eq(lethe_dispose_first_batch(0, 0), LETHE_DISPOSE_BATCH);
	ck_assert_uint_eq(lethe_dispose_first_batch(50000, 0), LETHE_DISPOSE_BATCH);
	/* 100,000 rows in 250 ms: 25,000 in 62.5 ms */
	ck_assert_uint_eq(lethe_dispose_first_batch(100000, 250 * ms), 25000);
	/* twice as fast, twice as many */
	ck_assert_uint_eq(lethe_dispose_first_batch(100000, 125 * ms), 50000);
	/* a slow rule before: not below the first size */
	ck_assert_uint_eq(lethe_dispose_first_batch(1000, 900 * ms), LETHE_DISPOSE_BATCH);
	/* a very fast one: not above the ceiling */
	ck_assert_uint_eq(lethe_dispose_first_batch(LETHE_DISPOSE_BATCH_CEILING, 1 * ms),
			  LETHE_DISPOSE_BATCH_CEILING);
	ck_assert_uint_eq(lethe_dispose_first_batch(SIZE_MAX, 1), LETHE_DISPOSE_BATCH_CEILING);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		test_dispose_dry_run_changes_nothing,
		test_dispose_deletes_exactly_due_rows,
		test_dispose_cap_refuses_before_writing,
		test_dispose_pseudonymise_and_mask,
		test_dispose_batch_hooks_see_disposed_keys,
		test_dispose_failing_batch_hook,
		test_dispose_batch_size_follows_time,
		test_dispose_first_batch_follows_the_run,
		test_dispose_later_rule_ranges_exact,
		test_dispose_key_hook_sees_each_batch_keys,
	};

	return rf_main("dispose", tests, sizeof(tests) / sizeof(tests[0]));
}
