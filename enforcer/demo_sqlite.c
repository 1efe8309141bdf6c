/*
 * demo_sqlite.c - `lethe demo`: writes the reference shop's register
 * (DIR/shop.sqlite) and a lethe.yaml pointing at it and at a policy folder.
 *
 * This file and the SQLite backend are the only files that include sqlite3.h:
 * the generator (demo_gen.c) only produces values and hands them to the sink
 * below, which owns the schema and one prepared INSERT per table.
 *
 * Invariants:
 *  - Nothing is overwritten: an existing DIR/shop.sqlite or DIR/lethe.yaml is
 *    LETHE_ECANTCREAT before anything is written. The register is built in
 *    DIR/shop.sqlite.tmp and link()ed to its name (which fails rather than
 *    replaces), so DIR/shop.sqlite is either absent or complete, closed, in
 *    the rollback-journal (DELETE) mode and without a -journal beside it.
 *  - On failure nothing of ours is left behind (temporary file, journal, the
 *    register when lethe.yaml cannot be written).
 *  - The schema is what a real shop would declare: foreign keys with their
 *    ON DELETE actions, an index on every foreign-key column, ISO dates as
 *    text, and chat_fts (FTS5) kept in sync with chat_transcripts by triggers.
 *    The load runs with foreign_keys=ON in one transaction.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>
#include "demo_gen.h"
#include "lethe/demo.h"
#include "lethe/error.h"

#define MAX_CUSTOMERS 10000000

static const char schema_sql[] =
	"CREATE TABLE customers (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  customer_number TEXT NOT NULL UNIQUE,\n"
	"  name TEXT NOT NULL,\n"
	"  email TEXT NOT NULL UNIQUE,\n"
	"  phone TEXT,\n"
	"  created_at TEXT NOT NULL,\n"
	"  last_login_at TEXT,\n"
	"  last_purchase_at TEXT);\n"
	"CREATE TABLE addresses (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,\n"
	"  kind TEXT NOT NULL CHECK (kind IN ('billing', 'delivery')),\n"
	"  street TEXT NOT NULL,\n"
	"  postcode TEXT NOT NULL,\n"
	"  city TEXT NOT NULL);\n"
	"CREATE TABLE products (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  sku TEXT NOT NULL UNIQUE,\n"
	"  name TEXT NOT NULL,\n"
	"  price_cents INTEGER NOT NULL);\n"
	"CREATE TABLE orders (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE RESTRICT,\n"
	"  order_date TEXT NOT NULL,\n"
	"  status TEXT NOT NULL CHECK (status IN\n"
	"    ('open', 'paid', 'delivered', 'cancelled', 'returned')),\n"
	"  total_cents INTEGER NOT NULL);\n"
	"CREATE TABLE order_lines (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  order_id INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,\n"
	"  product_id INTEGER NOT NULL REFERENCES products(id) ON DELETE RESTRICT,\n"
	"  qty INTEGER NOT NULL,\n"
	"  price_cents INTEGER NOT NULL);\n"
	"CREATE TABLE invoices (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  order_id INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,\n"
	"  invoice_number TEXT NOT NULL UNIQUE,\n"
	"  issued_at TEXT NOT NULL,\n"
	"  billing_name TEXT NOT NULL,\n"
	"  billing_street TEXT NOT NULL,\n"
	"  billing_postcode TEXT NOT NULL,\n"
	"  billing_city TEXT NOT NULL);\n"
	"CREATE TABLE payments (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  invoice_id INTEGER NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,\n"
	"  method TEXT NOT NULL CHECK (method IN ('klarna', 'card', 'bank')),\n"
	"  klarna_reference TEXT,\n"
	"  paid_at TEXT NOT NULL,\n"
	"  amount_cents INTEGER NOT NULL);\n"
	"CREATE TABLE deliveries (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  order_id INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,\n"
	"  carrier TEXT NOT NULL CHECK (carrier IN ('Posti', 'Matkahuolto')),\n"
	"  tracking_code TEXT NOT NULL,\n"
	"  recipient_name TEXT NOT NULL,\n"
	"  recipient_street TEXT NOT NULL,\n"
	"  recipient_postcode TEXT NOT NULL,\n"
	"  delivered_at TEXT);\n"
	"CREATE TABLE returns (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  order_id INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,\n"
	"  reason TEXT NOT NULL,\n"
	"  opened_at TEXT NOT NULL,\n"
	"  closed_at TEXT);\n"
	"CREATE TABLE complaints (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,\n"
	"  order_id INTEGER REFERENCES orders(id) ON DELETE SET NULL,\n"
	"  description TEXT NOT NULL,\n"
	"  opened_at TEXT NOT NULL,\n"
	"  closed_at TEXT);\n"
	"CREATE TABLE consents (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,\n"
	"  channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'post')),\n"
	"  given_at TEXT NOT NULL,\n"
	"  withdrawn_at TEXT,\n"
	"  source TEXT NOT NULL);\n"
	"CREATE TABLE marketing_bans (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  customer_id INTEGER REFERENCES customers(id) ON DELETE SET NULL,\n"
	"  channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'post')),\n"
	"  banned_at TEXT NOT NULL,\n"
	"  email_token TEXT,\n"
	"  phone_token TEXT);\n"
	"CREATE TABLE marketing_profiles (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  customer_id INTEGER NOT NULL UNIQUE REFERENCES customers(id) ON DELETE CASCADE,\n"
	"  segments TEXT NOT NULL,\n"
	"  updated_at TEXT NOT NULL);\n"
	"CREATE TABLE chat_transcripts (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  customer_id INTEGER REFERENCES customers(id) ON DELETE SET NULL,\n"
	"  started_at TEXT NOT NULL,\n"
	"  ended_at TEXT,\n"
	"  transcript TEXT NOT NULL);\n"
	"CREATE VIRTUAL TABLE chat_fts USING fts5(transcript);\n"
	"CREATE TRIGGER chat_transcripts_ai AFTER INSERT ON chat_transcripts BEGIN\n"
	"  INSERT INTO chat_fts(rowid, transcript) VALUES (new.id, new.transcript);\n"
	"END;\n"
	"CREATE TRIGGER chat_transcripts_ad AFTER DELETE ON chat_transcripts BEGIN\n"
	"  DELETE FROM chat_fts WHERE rowid = old.id;\n"
	"END;\n"
	"CREATE TRIGGER chat_transcripts_au AFTER UPDATE ON chat_transcripts BEGIN\n"
	"  DELETE FROM chat_fts WHERE rowid = old.id;\n"
	"  INSERT INTO chat_fts(rowid, transcript) VALUES (new.id, new.transcript);\n"
	"END;\n"
	"CREATE TABLE feedback (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  customer_id INTEGER REFERENCES customers(id) ON DELETE SET NULL,\n"
	"  order_id INTEGER REFERENCES orders(id) ON DELETE SET NULL,\n"
	"  received_at TEXT NOT NULL,\n"
	"  rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),\n"
	"  comment TEXT);\n"
	"CREATE TABLE page_events (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  customer_id INTEGER REFERENCES customers(id) ON DELETE SET NULL,\n"
	"  occurred_at TEXT NOT NULL,\n"
	"  url TEXT NOT NULL,\n"
	"  ip_address TEXT,\n"
	"  user_agent TEXT NOT NULL,\n"
	"  postcode TEXT);\n"
	"CREATE TABLE change_history (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,\n"
	"  changed_at TEXT NOT NULL,\n"
	"  field TEXT NOT NULL,\n"
	"  old_value TEXT,\n"
	"  new_value TEXT);\n";

/* Created after the load: building an index once is faster than keeping it
 * up to date row by row. marketing_profiles.customer_id has its UNIQUE one. */
const char demo_index_sql[] =
	"CREATE INDEX addresses_customer_id ON addresses(customer_id);\n"
	"CREATE INDEX orders_customer_id ON orders(customer_id);\n"
	"CREATE INDEX order_lines_order_id ON order_lines(order_id);\n"
	"CREATE INDEX order_lines_product_id ON order_lines(product_id);\n"
	"CREATE INDEX invoices_order_id ON invoices(order_id);\n"
	"CREATE INDEX payments_invoice_id ON payments(invoice_id);\n"
	"CREATE INDEX deliveries_order_id ON deliveries(order_id);\n"
	"CREATE INDEX returns_order_id ON returns(order_id);\n"
	"CREATE INDEX complaints_customer_id ON complaints(customer_id);\n"
	"CREATE INDEX complaints_order_id ON complaints(order_id);\n"
	"CREATE INDEX consents_customer_id ON consents(customer_id);\n"
	"CREATE INDEX marketing_bans_customer_id ON marketing_bans(customer_id);\n"
	"CREATE INDEX chat_transcripts_customer_id ON chat_transcripts(customer_id);\n"
	"CREATE INDEX feedback_customer_id ON feedback(customer_id);\n"
	"CREATE INDEX feedback_order_id ON feedback(order_id);\n"
	"CREATE INDEX page_events_customer_id ON page_events(customer_id);\n"
	"CREATE INDEX change_history_customer_id ON change_history(customer_id);\n";

/* In demo_table order; the columns after id as listed in demo_gen.h. */
static const char *const insert_sql[DEMO_NTABLES] = {
	"INSERT INTO customers VALUES (?,?,?,?,?,?,?,?)",
	"INSERT INTO addresses VALUES (?,?,?,?,?,?)",
	"INSERT INTO products VALUES (?,?,?,?)",
	"INSERT INTO orders VALUES (?,?,?,?,?)",
	"INSERT INTO order_lines VALUES (?,?,?,?,?)",
	"INSERT INTO invoices VALUES (?,?,?,?,?,?,?,?)",
	"INSERT INTO payments VALUES (?,?,?,?,?,?)",
	"INSERT INTO deliveries VALUES (?,?,?,?,?,?,?,?)",
	"INSERT INTO returns VALUES (?,?,?,?,?)",
	"INSERT INTO complaints VALUES (?,?,?,?,?,?)",
	"INSERT INTO consents VALUES (?,?,?,?,?,?)",
	"INSERT INTO marketing_bans VALUES (?,?,?,?,?,?)",
	"INSERT INTO marketing_profiles VALUES (?,?,?,?)",
	"INSERT INTO chat_transcripts VALUES (?,?,?,?,?)",
	"INSERT INTO feedback VALUES (?,?,?,?,?,?)",
	"INSERT INTO page_events VALUES (?,?,?,?,?,?,?)",
	"INSERT INTO change_history VALUES (?,?,?,?,?,?)",
};

struct demo_sink {
	demo_pg *pg;            /* non-NULL: rows go to PostgreSQL (demo_pg.c) */
	sqlite3 *db;
	const char *path;
	sqlite3_stmt *insert[DEMO_NTABLES];
};

static int db_fail(demo_sink *s, const char *what)
{
	return lethe_error_set(LETHE_EIO, "cannot %s '%s': %s", what, s->path,
			       sqlite3_errmsg(s->db));
}

int demo_sink_row(demo_sink *s, demo_table t, int64_t id, const lethe_value *vals,
		  size_t n)
{
	sqlite3_stmt *st = s->insert[t];
	int rc = SQLITE_OK;

	if (s->pg)
		return demo_pg_row(s->pg, t, id, vals, n);
	if ((size_t)sqlite3_bind_parameter_count(st) != n + 1)
		return lethe_error_set(LETHE_ESOFTWARE, "demo row of table %d has %zu values",
				       (int)t, n);
	sqlite3_bind_int64(st, 1, id);
	for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
		int col = (int)i + 2;

		switch (vals[i].type) {
		case LETHE_VALUE_INTEGER:
			rc = sqlite3_bind_int64(st, col, vals[i].i);
			break;
		case LETHE_VALUE_TEXT:
			rc = sqlite3_bind_text(st, col, vals[i].s, (int)vals[i].len,
					       SQLITE_TRANSIENT);
			break;
		default:
			rc = sqlite3_bind_null(st, col);
			break;
		}
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : db_fail(s, "write");
}

/* Build the whole register into s->path, which does not exist yet. */
static int build(demo_sink *s, const lethe_demo_options *o)
{
	int rc = 0, t;

	if (sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			    NULL) != SQLITE_OK) {
		rc = db_fail(s, "create");
		goto out;
	}
	/* The default rollback journal keeps the file self-contained; a large
	 * page cache keeps the load and the index build in memory. */
	if (sqlite3_exec(s->db, "PRAGMA journal_mode=DELETE; PRAGMA foreign_keys=ON;"
			 "PRAGMA cache_size=-131072; BEGIN;", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(s->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_fail(s, "create the schema of");
		goto out;
	}
	for (t = 0; t < DEMO_NTABLES; t++)
		if (sqlite3_prepare_v3(s->db, insert_sql[t], -1, SQLITE_PREPARE_PERSISTENT,
				       &s->insert[t], NULL) != SQLITE_OK) {
			rc = db_fail(s, "prepare the inserts of");
			goto out;
		}
	rc = demo_generate(s, o->customers, o->seed);
	if (rc)
		goto out;
	if (sqlite3_exec(s->db, demo_index_sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(s->db, "COMMIT; ANALYZE;", NULL, NULL, NULL) != SQLITE_OK)
		rc = db_fail(s, "write");
out:
	for (t = 0; t < DEMO_NTABLES; t++)
		sqlite3_finalize(s->insert[t]);
	if (sqlite3_close(s->db) != SQLITE_OK && !rc)
		rc = lethe_error_set(LETHE_EIO, "cannot close '%s'", s->path);
	s->db = NULL;
	return rc;
}

/* lethe.yaml: database and policies; the keys and evidence commented out
 * until `lethe init` makes them. The policy path is single-quoted YAML
 * (quotes doubled), so any path without control characters stays literal. */
static int write_config(const char *path, const char *policies, const char *database)
{
	FILE *f = NULL;
	int fd, rc = 0;

	for (const char *p = policies; *p; p++)
		if ((unsigned char)*p < 0x20)
			return lethe_error_set(LETHE_EUSAGE,
					       "policies path '%s' has a control character", policies);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		rc = lethe_error_set(LETHE_ECANTCREAT, "cannot create '%s': %s", path,
				     strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	fputs("# The reference shop (Minime.fi, Nisuva Oy), written by `lethe demo`.\n"
	      "# Relative paths are relative to this file's folder.\n"
	      "database: ", f);
	if (database) {
		fputc('\'', f);
		for (const char *p = database; *p; p++) {
			if (*p == '\'')
				fputc('\'', f);
			fputc(*p, f);
		}
		fputs("'\n", f);
	} else {
		fputs("shop.sqlite\n", f);
	}
	fputs("policies: '", f);
	for (const char *p = policies; *p; p++) {
		if (*p == '\'')
			fputc('\'', f);
		fputc(*p, f);
	}
	fputs("'\n"
	      "# Made by `lethe init`; uncomment once they exist:\n"
	      "# pseudonym_key: keys/pseudonym.key\n"
	      "# evidence:\n"
	      "#   repository: evidence/\n"
	      "#   signing_key: keys/lethe_ed25519\n"
	      "#   allowed_signers: keys/allowed_signers\n"
	      "# limits:\n"
	      "#   max_rows_per_rule: 100000\n", f);
	if (fclose(f) != 0)
		rc = lethe_error_set(LETHE_EIO, "cannot write '%s': %s", path, strerror(errno));
out:
	return rc;
}

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int lethe_demo_write(const char *dir, const lethe_demo_options *opts)
{
	lethe_demo_options o = LETHE_DEMO_OPTIONS_INIT;
	demo_sink sink = { 0 };
	char *db = NULL, *tmp = NULL, *journal = NULL, *yaml = NULL;
	int rc = 0;

	if (opts)
		o = *opts;
	if (o.customers < 1 || o.customers > MAX_CUSTOMERS)
		return lethe_error_set(LETHE_EUSAGE, "number of customers %lld is not in 1..%d",
				       (long long)o.customers, MAX_CUSTOMERS);
	if (!o.policies_dir)
		o.policies_dir = "policies/";
	if (asprintf(&db, "%s/shop.sqlite", dir) < 0 ||
	    asprintf(&tmp, "%s/shop.sqlite.tmp", dir) < 0 ||
	    asprintf(&journal, "%s/shop.sqlite.tmp-journal", dir) < 0 ||
	    asprintf(&yaml, "%s/lethe.yaml", dir) < 0) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		rc = lethe_error_set(LETHE_ECANTCREAT, "cannot create '%s': %s", dir,
				     strerror(errno));
		goto out;
	}
	if (o.database) {
		if (exists(yaml)) {
			rc = lethe_error_set(LETHE_ECANTCREAT, "'%s' already exists", yaml);
			goto out;
		}
		for (const char *p = o.database; *p; p++)
			if ((unsigned char)*p < 0x20) {
				rc = lethe_error_set(LETHE_EUSAGE, "database has a control character");
				goto out;
			}
		if ((rc = demo_pg_build(&sink, &sink.pg, o.database, o.customers, o.seed)) == 0)
			rc = write_config(yaml, o.policies_dir, o.database);
		goto out;
	}
	if (exists(db) || exists(yaml)) {
		rc = lethe_error_set(LETHE_ECANTCREAT, "'%s' already exists",
				     exists(db) ? db : yaml);
		goto out;
	}
	/* A leftover of an interrupted demo is ours to replace. */
	unlink(tmp);
	unlink(journal);
	sink.path = tmp;
	rc = build(&sink, &o);
	if (rc)
		goto out;
	if (link(tmp, db) != 0) {
		rc = lethe_error_set(LETHE_ECANTCREAT, "cannot create '%s': %s", db,
				     strerror(errno));
		goto out;
	}
	rc = write_config(yaml, o.policies_dir, NULL);
	if (rc)
		unlink(db);
out:
	if (tmp && !o.database) {
		unlink(tmp);
		unlink(journal);
	}
	free(db);
	free(tmp);
	free(journal);
	free(yaml);
	return rc;
}
