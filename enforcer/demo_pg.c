/*
 * demo_pg.c - `lethe demo --database URI`: the reference shop written into a
 * PostgreSQL database, with the generator of demo_gen.c (the same rows as
 * the SQLite file for the same seed) and typed clocks: order_date is a
 * date, every *_at column a timestamptz (the generator's UTC times).
 *
 * Invariants:
 *  - The load is one transaction: the database holds the whole shop or
 *    none of it; tables that already exist fail it (nothing is replaced).
 *  - Values travel as data of COPY FROM STDIN (text format, escaped by
 *    copy_value), never as SQL text.
 *  - The foreign keys are added after the rows are in (each checked once
 *    over the whole table), before the commit: a loaded shop holds them.
 *  - chat_transcripts has no full-text index here (the SQLite file's FTS5
 *    table and its triggers have no PostgreSQL counterpart in the demo).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include "demo_gen.h"
#include "lethe/error.h"
#include "strbuf.h"

static const char pg_schema_sql[] =
	"SET TimeZone = 'UTC';\n"
"CREATE TABLE customers (\n"
	"  id bigint PRIMARY KEY,\n"
	"  customer_number text NOT NULL UNIQUE,\n"
	"  name text NOT NULL,\n"
	"  email text NOT NULL UNIQUE,\n"
	"  phone text,\n"
	"  created_at timestamptz NOT NULL,\n"
	"  last_login_at timestamptz,\n"
	"  last_purchase_at timestamptz);\n"
	"CREATE TABLE addresses (\n"
	"  id bigint PRIMARY KEY,\n"
	"  customer_id bigint NOT NULL,\n"
	"  kind text NOT NULL CHECK (kind IN ('billing', 'delivery')),\n"
	"  street text NOT NULL,\n"
	"  postcode text NOT NULL,\n"
	"  city text NOT NULL);\n"
	"CREATE TABLE products (\n"
	"  id bigint PRIMARY KEY,\n"
	"  sku text NOT NULL UNIQUE,\n"
	"  name text NOT NULL,\n"
	"  price_cents bigint NOT NULL);\n"
	"CREATE TABLE orders (\n"
	"  id bigint PRIMARY KEY,\n"
	"  customer_id bigint NOT NULL,\n"
	"  order_date date NOT NULL,\n"
	"  status text NOT NULL CHECK (status IN\n"
	"    ('open', 'paid', 'delivered', 'cancelled', 'returned')),\n"
	"  total_cents bigint NOT NULL);\n"
	"CREATE TABLE order_lines (\n"
	"  id bigint PRIMARY KEY,\n"
	"  order_id bigint NOT NULL,\n"
	"  product_id bigint NOT NULL,\n"
	"  qty bigint NOT NULL,\n"
	"  price_cents bigint NOT NULL);\n"
	"CREATE TABLE invoices (\n"
	"  id bigint PRIMARY KEY,\n"
	"  order_id bigint NOT NULL,\n"
	"  invoice_number text NOT NULL UNIQUE,\n"
	"  issued_at timestamptz NOT NULL,\n"
	"  billing_name text NOT NULL,\n"
	"  billing_street text NOT NULL,\n"
	"  billing_postcode text NOT NULL,\n"
	"  billing_city text NOT NULL);\n"
	"CREATE TABLE payments (\n"
	"  id bigint PRIMARY KEY,\n"
	"  invoice_id bigint NOT NULL,\n"
	"  method text NOT NULL CHECK (method IN ('klarna', 'card', 'bank')),\n"
	"  klarna_reference text,\n"
	"  paid_at timestamptz NOT NULL,\n"
	"  amount_cents bigint NOT NULL);\n"
	"CREATE TABLE deliveries (\n"
	"  id bigint PRIMARY KEY,\n"
	"  order_id bigint NOT NULL,\n"
	"  carrier text NOT NULL CHECK (carrier IN ('Posti', 'Matkahuolto')),\n"
	"  tracking_code text NOT NULL,\n"
	"  recipient_name text NOT NULL,\n"
	"  recipient_street text NOT NULL,\n"
	"  recipient_postcode text NOT NULL,\n"
	"  delivered_at timestamptz);\n"
	"CREATE TABLE returns (\n"
	"  id bigint PRIMARY KEY,\n"
	"  order_id bigint NOT NULL,\n"
	"  reason text NOT NULL,\n"
	"  opened_at timestamptz NOT NULL,\n"
	"  closed_at timestamptz);\n"
	"CREATE TABLE complaints (\n"
	"  id bigint PRIMARY KEY,\n"
	"  customer_id bigint NOT NULL,\n"
	"  order_id bigint,\n"
	"  description text NOT NULL,\n"
	"  opened_at timestamptz NOT NULL,\n"
	"  closed_at timestamptz);\n"
	"CREATE TABLE consents (\n"
	"  id bigint PRIMARY KEY,\n"
	"  customer_id bigint NOT NULL,\n"
	"  channel text NOT NULL CHECK (channel IN ('email', 'sms', 'post')),\n"
	"  given_at timestamptz NOT NULL,\n"
	"  withdrawn_at timestamptz,\n"
	"  source text NOT NULL);\n"
	"CREATE TABLE marketing_bans (\n"
	"  id bigint PRIMARY KEY,\n"
	"  customer_id bigint,\n"
	"  channel text NOT NULL CHECK (channel IN ('email', 'sms', 'post')),\n"
	"  banned_at timestamptz NOT NULL,\n"
	"  email_token text,\n"
	"  phone_token text);\n"
	"CREATE TABLE marketing_profiles (\n"
	"  id bigint PRIMARY KEY,\n"
	"  customer_id bigint NOT NULL UNIQUE,\n"
	"  segments text NOT NULL,\n"
	"  updated_at timestamptz NOT NULL);\n"
	"CREATE TABLE chat_transcripts (\n"
	"  id bigint PRIMARY KEY,\n"
	"  customer_id bigint,\n"
	"  started_at timestamptz NOT NULL,\n"
	"  ended_at timestamptz,\n"
	"  transcript text NOT NULL);\n"
	"CREATE TABLE feedback (\n"
	"  id bigint PRIMARY KEY,\n"
	"  customer_id bigint,\n"
	"  order_id bigint,\n"
	"  received_at timestamptz NOT NULL,\n"
	"  rating bigint NOT NULL CHECK (rating BETWEEN 1 AND 5),\n"
	"  comment text);\n"
	"CREATE TABLE page_events (\n"
	"  id bigint PRIMARY KEY,\n"
	"  customer_id bigint,\n"
	"  occurred_at timestamptz NOT NULL,\n"
	"  url text NOT NULL,\n"
	"  ip_address text,\n"
	"  user_agent text NOT NULL,\n"
	"  postcode text);\n"
	"CREATE TABLE change_history (\n"
	"  id bigint PRIMARY KEY,\n"
	"  customer_id bigint NOT NULL,\n"
	"  changed_at timestamptz NOT NULL,\n"
	"  field text NOT NULL,\n"
	"  old_value text,\n"
	"  new_value text);\n"
	"CREATE TABLE sales_journal (\n"
	"  id bigint PRIMARY KEY,\n"
	"  entry_date date NOT NULL,\n"
	"  customer_number text NOT NULL,\n"
	"  invoice_number text NOT NULL,\n"
	"  account text NOT NULL,\n"
	"  amount_cents bigint NOT NULL);\n";

/* The foreign keys, added after the load: checking each once by a join is
 * far faster than a trigger per copied row. Their names are the ones inline
 * REFERENCES would get (table_column_fkey). */
static const char pg_foreign_key_sql[] =
	"ALTER TABLE addresses ADD FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE CASCADE;\n"
	"ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE RESTRICT;\n"
	"ALTER TABLE order_lines ADD FOREIGN KEY (order_id) REFERENCES orders(id) ON DELETE CASCADE;\n"
	"ALTER TABLE order_lines ADD FOREIGN KEY (product_id) REFERENCES products(id) ON DELETE RESTRICT;\n"
	"ALTER TABLE invoices ADD FOREIGN KEY (order_id) REFERENCES orders(id) ON DELETE CASCADE;\n"
	"ALTER TABLE payments ADD FOREIGN KEY (invoice_id) REFERENCES invoices(id) ON DELETE CASCADE;\n"
	"ALTER TABLE deliveries ADD FOREIGN KEY (order_id) REFERENCES orders(id) ON DELETE CASCADE;\n"
	"ALTER TABLE returns ADD FOREIGN KEY (order_id) REFERENCES orders(id) ON DELETE CASCADE;\n"
	"ALTER TABLE complaints ADD FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE CASCADE;\n"
	"ALTER TABLE complaints ADD FOREIGN KEY (order_id) REFERENCES orders(id) ON DELETE SET NULL;\n"
	"ALTER TABLE consents ADD FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE CASCADE;\n"
	"ALTER TABLE marketing_bans ADD FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE SET NULL;\n"
	"ALTER TABLE marketing_profiles ADD FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE CASCADE;\n"
	"ALTER TABLE chat_transcripts ADD FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE SET NULL;\n"
	"ALTER TABLE feedback ADD FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE SET NULL;\n"
	"ALTER TABLE feedback ADD FOREIGN KEY (order_id) REFERENCES orders(id) ON DELETE SET NULL;\n"
	"ALTER TABLE page_events ADD FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE SET NULL;\n"
	"ALTER TABLE change_history ADD FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE CASCADE;\n";

/* Columns per table, id included (demo_gen.h's order). */
static const int ncolumns[] = { 8, 6, 4, 5, 5, 8, 6, 8, 5, 6, 6, 6, 4, 5, 6, 7, 6, 6 };
static const char *const tables[] = {
	"customers", "addresses", "products", "orders", "order_lines", "invoices", "payments",
	"deliveries", "returns", "complaints", "consents", "marketing_bans", "marketing_profiles",
	"chat_transcripts", "feedback", "page_events", "change_history", "sales_journal",
};
/* one entry per demo table: a table added to demo_gen.h without one here
 * would be a NULL name at run time */
_Static_assert(sizeof(ncolumns) / sizeof(*ncolumns) == DEMO_NTABLES, "ncolumns per demo table");
_Static_assert(sizeof(tables) / sizeof(*tables) == DEMO_NTABLES, "a name per demo table");


/* Rows are buffered per table in COPY's text format and sent by one COPY
 * FROM STDIN when a table's buffer reaches COPY_FLUSH bytes (and at the
 * end): a round trip and a statement per megabyte, not per row. */
#define COPY_FLUSH (1u << 20)

struct demo_pg {
	PGconn *conn;
	lethe_strbuf rows[DEMO_NTABLES];  /* COPY text not yet sent, per table */
};

static int pg_fail(demo_pg *s, PGresult *res, const char *what)
{
	const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	int rc = lethe_error_set(LETHE_EIO, "cannot %s the demo database '%s': %s", what,
				 PQdb(s->conn) ? PQdb(s->conn) : "?",
				 m ? m : PQerrorMessage(s->conn));

	PQclear(res);
	return rc;
}

/* Send table t's buffered rows by COPY and empty the buffer. */
static int flush(demo_pg *s, int t)
{
	lethe_strbuf *b = &s->rows[t];
	char sql[64];
	PGresult *res;
	int rc = 0;

	if (b->len == 0)
		return 0;
	snprintf(sql, sizeof(sql), "COPY %s FROM STDIN", tables[t]);
	res = PQexec(s->conn, sql);
	if (PQresultStatus(res) != PGRES_COPY_IN)
		return pg_fail(s, res, "write");
	PQclear(res);
	if (PQputCopyData(s->conn, lethe_strbuf_str(b), (int)b->len) != 1 ||
	    PQputCopyEnd(s->conn, NULL) != 1)
		return pg_fail(s, NULL, "write");
	/* the COPY's own result, then NULL */
	while ((res = PQgetResult(s->conn))) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0)
			rc = pg_fail(s, res, "write");
		else
			PQclear(res);
	}
	lethe_strbuf_reset(b);
	return rc;
}

/* One value in COPY's text format: \N for NULL, text with its backslashes,
 * tabs, newlines and carriage returns escaped. */
static int copy_value(lethe_strbuf *b, const lethe_value *v)
{
	int rc = 0;

	if (v->type == LETHE_VALUE_INTEGER)
		return lethe_strbuf_addf(b, "%lld", (long long)v->i);
	if (v->type != LETHE_VALUE_TEXT)
		return lethe_strbuf_add(b, "\\N", 2);
	for (size_t i = 0; i < v->len && rc == 0; i++) {
		char c = v->s[i];

		if (c == '\\' || c == '\t' || c == '\n' || c == '\r') {
			rc = lethe_strbuf_addch(b, '\\');
			c = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : c;
		}
		if (rc == 0)
			rc = lethe_strbuf_addch(b, c);
	}
	return rc;
}

int demo_pg_row(demo_pg *s, demo_table t, int64_t id, const lethe_value *vals, size_t n)
{
	lethe_strbuf *b = &s->rows[t];
	int rc;

	if ((int)n + 1 != ncolumns[t])
		return lethe_error_set(LETHE_ESOFTWARE, "demo row of table %d has %zu values", (int)t, n);
	rc = lethe_strbuf_addf(b, "%lld", (long long)id);
	for (size_t i = 0; i < n && rc == 0; i++)
		if ((rc = lethe_strbuf_addch(b, '\t')) == 0)
			rc = copy_value(b, &vals[i]);
	if (rc == 0)
		rc = lethe_strbuf_addch(b, '\n');
	if (rc < 0)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	return b->len >= COPY_FLUSH ? flush(s, (int)t) : 0;
}

static int exec(demo_pg *s, const char *sql, const char *what)
{
	PGresult *res = PQexec(s->conn, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return pg_fail(s, res, what);
	PQclear(res);
	return 0;
}

int demo_pg_build(demo_sink *sink, demo_pg **slot, const char *location, int64_t customers,
		  uint64_t seed)
{
	demo_pg s = { .conn = PQconnectdb(location) };
	int rc = 0;

	for (int t = 0; t < DEMO_NTABLES; t++)
		lethe_strbuf_init(&s.rows[t]);
	if (!s.conn || PQstatus(s.conn) != CONNECTION_OK) {
		rc = lethe_error_set(LETHE_ENOINPUT, "cannot connect to the demo database: %s",
				     s.conn ? PQerrorMessage(s.conn) : "out of memory");
		goto out;
	}
	if ((rc = exec(&s, "BEGIN", "begin writing")) < 0 ||
	    (rc = exec(&s, pg_schema_sql, "create the schema of")) < 0)
		goto out;
	*slot = &s;
	rc = demo_generate(sink, customers, seed);
	*slot = NULL;
	for (int t = 0; t < DEMO_NTABLES && rc == 0; t++)
		rc = flush(&s, t);
	/* indexes and keys are built once over the loaded rows, with more
	 * sort memory than the server's default (this transaction only) */
	if (rc == 0 && (rc = exec(&s, "SET LOCAL maintenance_work_mem = '256MB'", "index")) == 0 &&
	    (rc = exec(&s, demo_index_sql, "index")) == 0 &&
	    (rc = exec(&s, pg_foreign_key_sql, "add the foreign keys of")) == 0 &&
	    (rc = exec(&s, "COMMIT", "commit")) == 0)
		rc = exec(&s, "ANALYZE", "analyze");
out:
	for (int t = 0; t < DEMO_NTABLES; t++)
		lethe_strbuf_release(&s.rows[t]);
	if (s.conn)
		PQfinish(s.conn);
	return rc;
}
