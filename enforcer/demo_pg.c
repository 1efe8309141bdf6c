/*
 * demo_pg.c - `lethe demo --database URI`: the reference shop written into a
 * PostgreSQL database, with the generator of demo_gen.c (the same rows as
 * the SQLite file for the same seed) and typed clocks: order_date is a
 * date, every *_at column a timestamptz (the generator's UTC times).
 *
 * Invariants:
 *  - The load is one transaction: the database holds the whole shop or
 *    none of it; tables that already exist fail it (nothing is replaced).
 *  - Values are parameters of one prepared INSERT per table.
 *  - chat_transcripts has no full-text index here (the SQLite file's FTS5
 *    table and its triggers have no PostgreSQL counterpart in the demo).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include "demo_gen.h"
#include "lethe/error.h"

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
	"  customer_id bigint NOT NULL REFERENCES customers(id) ON DELETE CASCADE,\n"
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
	"  customer_id bigint NOT NULL REFERENCES customers(id) ON DELETE RESTRICT,\n"
	"  order_date date NOT NULL,\n"
	"  status text NOT NULL CHECK (status IN\n"
	"    ('open', 'paid', 'delivered', 'cancelled', 'returned')),\n"
	"  total_cents bigint NOT NULL);\n"
	"CREATE TABLE order_lines (\n"
	"  id bigint PRIMARY KEY,\n"
	"  order_id bigint NOT NULL REFERENCES orders(id) ON DELETE CASCADE,\n"
	"  product_id bigint NOT NULL REFERENCES products(id) ON DELETE RESTRICT,\n"
	"  qty bigint NOT NULL,\n"
	"  price_cents bigint NOT NULL);\n"
	"CREATE TABLE invoices (\n"
	"  id bigint PRIMARY KEY,\n"
	"  order_id bigint NOT NULL REFERENCES orders(id) ON DELETE CASCADE,\n"
	"  invoice_number text NOT NULL UNIQUE,\n"
	"  issued_at timestamptz NOT NULL,\n"
	"  billing_name text NOT NULL,\n"
	"  billing_street text NOT NULL,\n"
	"  billing_postcode text NOT NULL,\n"
	"  billing_city text NOT NULL);\n"
	"CREATE TABLE payments (\n"
	"  id bigint PRIMARY KEY,\n"
	"  invoice_id bigint NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,\n"
	"  method text NOT NULL CHECK (method IN ('klarna', 'card', 'bank')),\n"
	"  klarna_reference text,\n"
	"  paid_at timestamptz NOT NULL,\n"
	"  amount_cents bigint NOT NULL);\n"
	"CREATE TABLE deliveries (\n"
	"  id bigint PRIMARY KEY,\n"
	"  order_id bigint NOT NULL REFERENCES orders(id) ON DELETE CASCADE,\n"
	"  carrier text NOT NULL CHECK (carrier IN ('Posti', 'Matkahuolto')),\n"
	"  tracking_code text NOT NULL,\n"
	"  recipient_name text NOT NULL,\n"
	"  recipient_street text NOT NULL,\n"
	"  recipient_postcode text NOT NULL,\n"
	"  delivered_at timestamptz);\n"
	"CREATE TABLE returns (\n"
	"  id bigint PRIMARY KEY,\n"
	"  order_id bigint NOT NULL REFERENCES orders(id) ON DELETE CASCADE,\n"
	"  reason text NOT NULL,\n"
	"  opened_at timestamptz NOT NULL,\n"
	"  closed_at timestamptz);\n"
	"CREATE TABLE complaints (\n"
	"  id bigint PRIMARY KEY,\n"
	"  customer_id bigint NOT NULL REFERENCES customers(id) ON DELETE CASCADE,\n"
	"  order_id bigint REFERENCES orders(id) ON DELETE SET NULL,\n"
	"  description text NOT NULL,\n"
	"  opened_at timestamptz NOT NULL,\n"
	"  closed_at timestamptz);\n"
	"CREATE TABLE consents (\n"
	"  id bigint PRIMARY KEY,\n"
	"  customer_id bigint NOT NULL REFERENCES customers(id) ON DELETE CASCADE,\n"
	"  channel text NOT NULL CHECK (channel IN ('email', 'sms', 'post')),\n"
	"  given_at timestamptz NOT NULL,\n"
	"  withdrawn_at timestamptz,\n"
	"  source text NOT NULL);\n"
	"CREATE TABLE marketing_bans (\n"
	"  id bigint PRIMARY KEY,\n"
	"  customer_id bigint REFERENCES customers(id) ON DELETE SET NULL,\n"
	"  channel text NOT NULL CHECK (channel IN ('email', 'sms', 'post')),\n"
	"  banned_at timestamptz NOT NULL,\n"
	"  email_token text,\n"
	"  phone_token text);\n"
	"CREATE TABLE marketing_profiles (\n"
	"  id bigint PRIMARY KEY,\n"
	"  customer_id bigint NOT NULL UNIQUE REFERENCES customers(id) ON DELETE CASCADE,\n"
	"  segments text NOT NULL,\n"
	"  updated_at timestamptz NOT NULL);\n"
	"CREATE TABLE chat_transcripts (\n"
	"  id bigint PRIMARY KEY,\n"
	"  customer_id bigint REFERENCES customers(id) ON DELETE SET NULL,\n"
	"  started_at timestamptz NOT NULL,\n"
	"  ended_at timestamptz,\n"
	"  transcript text NOT NULL);\n"
	"CREATE TABLE feedback (\n"
	"  id bigint PRIMARY KEY,\n"
	"  customer_id bigint REFERENCES customers(id) ON DELETE SET NULL,\n"
	"  order_id bigint REFERENCES orders(id) ON DELETE SET NULL,\n"
	"  received_at timestamptz NOT NULL,\n"
	"  rating bigint NOT NULL CHECK (rating BETWEEN 1 AND 5),\n"
	"  comment text);\n"
	"CREATE TABLE page_events (\n"
	"  id bigint PRIMARY KEY,\n"
	"  customer_id bigint REFERENCES customers(id) ON DELETE SET NULL,\n"
	"  occurred_at timestamptz NOT NULL,\n"
	"  url text NOT NULL,\n"
	"  ip_address text,\n"
	"  user_agent text NOT NULL,\n"
	"  postcode text);\n"
	"CREATE TABLE change_history (\n"
	"  id bigint PRIMARY KEY,\n"
	"  customer_id bigint NOT NULL REFERENCES customers(id) ON DELETE CASCADE,\n"
	"  changed_at timestamptz NOT NULL,\n"
	"  field text NOT NULL,\n"
	"  old_value text,\n"
	"  new_value text);\n";

/* Columns per table, id included (demo_gen.h's order). */
static const int ncolumns[DEMO_NTABLES] = { 8, 6, 4, 5, 5, 8, 6, 8, 5, 6, 6, 6, 4, 5, 6, 7, 6 };
static const char *const tables[DEMO_NTABLES] = {
	"customers", "addresses", "products", "orders", "order_lines", "invoices", "payments",
	"deliveries", "returns", "complaints", "consents", "marketing_bans", "marketing_profiles",
	"chat_transcripts", "feedback", "page_events", "change_history",
};


/* Rows are sent in libpq's pipeline mode and their results read every
 * PIPELINE_ROWS rows: one round trip per batch instead of one per row. */
#define PIPELINE_ROWS 2000

struct demo_pg {
	PGconn *conn;
	int pending;            /* rows sent since the last sync */
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

/* Sync the pipeline and read every result up to the sync point. */
static int drain(demo_pg *s)
{
	PGresult *res;
	int rc = 0;

	if (!PQpipelineSync(s->conn))
		return pg_fail(s, NULL, "write");
	for (;;) {
		res = PQgetResult(s->conn);
		if (!res && PQstatus(s->conn) != CONNECTION_OK)
			return pg_fail(s, NULL, "write");
		if (!res)
			continue; /* the end of one query's results */
		if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			break;
		}
		if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0)
			rc = pg_fail(s, res, "write");
		else
			PQclear(res);
	}
	s->pending = 0;
	return rc;
}

int demo_pg_row(demo_pg *s, demo_table t, int64_t id, const lethe_value *vals, size_t n)
{
	const char *params[8];
	char ids[8][24], *heap[8] = { 0 }, name[8];
	int rc = 0;

	if ((int)n + 1 != ncolumns[t] || n + 1 > 8)
		return lethe_error_set(LETHE_ESOFTWARE, "demo row of table %d has %zu values", (int)t, n);
	snprintf(ids[0], sizeof(ids[0]), "%lld", (long long)id);
	params[0] = ids[0];
	for (size_t i = 0; i < n; i++) {
		params[i + 1] = NULL;
		if (vals[i].type == LETHE_VALUE_INTEGER) {
			snprintf(ids[i + 1], sizeof(ids[i + 1]), "%lld", (long long)vals[i].i);
			params[i + 1] = ids[i + 1];
		} else if (vals[i].type == LETHE_VALUE_TEXT) {
			if (!(heap[i + 1] = strndup(vals[i].s, vals[i].len))) {
				rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
				goto out;
			}
			params[i + 1] = heap[i + 1];
		}
	}
	snprintf(name, sizeof(name), "ins%d", (int)t);
	if (!PQsendQueryPrepared(s->conn, name, (int)n + 1, params, NULL, NULL, 0))
		rc = pg_fail(s, NULL, "write");
	else if (++s->pending >= PIPELINE_ROWS)
		rc = drain(s);
out:
	for (size_t i = 0; i < 8; i++)
		free(heap[i]);
	return rc;
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
	demo_pg s = { PQconnectdb(location), 0 };
	int rc = 0;

	if (!s.conn || PQstatus(s.conn) != CONNECTION_OK) {
		rc = lethe_error_set(LETHE_ENOINPUT, "cannot connect to the demo database: %s",
				     s.conn ? PQerrorMessage(s.conn) : "out of memory");
		goto out;
	}
	if ((rc = exec(&s, "BEGIN", "begin writing")) < 0 ||
	    (rc = exec(&s, pg_schema_sql, "create the schema of")) < 0)
		goto out;
	for (int t = 0; t < DEMO_NTABLES; t++) {
		char sql[256], name[8];
		int len;
		PGresult *res;

		len = snprintf(sql, sizeof(sql), "INSERT INTO %s VALUES (", tables[t]);
		for (int i = 0; i < ncolumns[t]; i++)
			len += snprintf(sql + len, sizeof(sql) - (size_t)len, "%s$%d", i ? ", " : "", i + 1);
		snprintf(sql + len, sizeof(sql) - (size_t)len, ")");
		snprintf(name, sizeof(name), "ins%d", t);
		res = PQprepare(s.conn, name, sql, 0, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			rc = pg_fail(&s, res, "prepare the inserts of");
			goto out;
		}
		PQclear(res);
	}
	if (!PQenterPipelineMode(s.conn)) {
		rc = pg_fail(&s, NULL, "write");
		goto out;
	}
	*slot = &s;
	rc = demo_generate(sink, customers, seed);
	*slot = NULL;
	if (rc == 0)
		rc = drain(&s);
	if (!PQexitPipelineMode(s.conn) && rc == 0)
		rc = pg_fail(&s, NULL, "write");
	if (rc == 0 && (rc = exec(&s, demo_index_sql, "index")) == 0 &&
	    (rc = exec(&s, "COMMIT", "commit")) == 0)
		rc = exec(&s, "ANALYZE", "analyze");
out:
	if (s.conn)
		PQfinish(s.conn);
	return rc;
}
