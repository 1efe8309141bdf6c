/*
 * demo_maria.c - `lethe demo --database mariadb://...`: the reference shop
 * written into a MariaDB/MySQL database, with the generator of demo_gen.c
 * (the same rows as the SQLite file for the same seed) and typed clocks:
 * order_date is a DATE, every *_at column a DATETIME holding the
 * generator's UTC time (the session's time zone is +00:00).
 *
 * Invariants:
 *  - Every table is InnoDB; foreign keys are table constraints (the form
 *    every MariaDB and MySQL version enforces).
 *  - Values are parameters of one prepared INSERT per table (never SQL
 *    text); the rows are one transaction. MariaDB commits DDL implicitly, so
 *    a failed load leaves the tables it created (empty or partly filled);
 *    tables that already exist fail it before any row is written.
 *  - chat_transcripts has no full-text index here (as on PostgreSQL).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend/mariadb/backend_maria.h"
#include "demo_gen.h"
#include "lethe/error.h"

static const char *const maria_schema_sql =
	"CREATE TABLE customers (\n"
	"  id BIGINT PRIMARY KEY,\n"
	"  customer_number VARCHAR(255) NOT NULL UNIQUE,\n"
	"  name TEXT NOT NULL,\n"
	"  email VARCHAR(255) NOT NULL UNIQUE,\n"
	"  phone TEXT,\n"
	"  created_at DATETIME NOT NULL,\n"
	"  last_login_at DATETIME,\n"
	"  last_purchase_at DATETIME) ENGINE=InnoDB;\n"
	"CREATE TABLE addresses (\n"
	"  id BIGINT PRIMARY KEY,\n"
	"  customer_id BIGINT NOT NULL,\n"
	"  kind TEXT NOT NULL CHECK (kind IN ('billing', 'delivery')),\n"
	"  street TEXT NOT NULL,\n"
	"  postcode TEXT NOT NULL,\n"
	"  city TEXT NOT NULL,\n"
	"  FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE CASCADE) ENGINE=InnoDB;\n"
	"CREATE TABLE products (\n"
	"  id BIGINT PRIMARY KEY,\n"
	"  sku VARCHAR(255) NOT NULL UNIQUE,\n"
	"  name TEXT NOT NULL,\n"
	"  price_cents BIGINT NOT NULL) ENGINE=InnoDB;\n"
	"CREATE TABLE orders (\n"
	"  id BIGINT PRIMARY KEY,\n"
	"  customer_id BIGINT NOT NULL,\n"
	"  order_date DATE NOT NULL,\n"
	"  status TEXT NOT NULL CHECK (status IN\n"
	"    ('open', 'paid', 'delivered', 'cancelled', 'returned')),\n"
	"  total_cents BIGINT NOT NULL,\n"
	"  FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE RESTRICT) ENGINE=InnoDB;\n"
	"CREATE TABLE order_lines (\n"
	"  id BIGINT PRIMARY KEY,\n"
	"  order_id BIGINT NOT NULL,\n"
	"  product_id BIGINT NOT NULL,\n"
	"  qty BIGINT NOT NULL,\n"
	"  price_cents BIGINT NOT NULL,\n"
	"  FOREIGN KEY (order_id) REFERENCES orders(id) ON DELETE CASCADE,\n"
	"  FOREIGN KEY (product_id) REFERENCES products(id) ON DELETE RESTRICT) ENGINE=InnoDB;\n"
	"CREATE TABLE invoices (\n"
	"  id BIGINT PRIMARY KEY,\n"
	"  order_id BIGINT NOT NULL,\n"
	"  invoice_number VARCHAR(255) NOT NULL UNIQUE,\n"
	"  issued_at DATETIME NOT NULL,\n"
	"  billing_name TEXT NOT NULL,\n"
	"  billing_street TEXT NOT NULL,\n"
	"  billing_postcode TEXT NOT NULL,\n"
	"  billing_city TEXT NOT NULL,\n"
	"  FOREIGN KEY (order_id) REFERENCES orders(id) ON DELETE CASCADE) ENGINE=InnoDB;\n"
	"CREATE TABLE payments (\n"
	"  id BIGINT PRIMARY KEY,\n"
	"  invoice_id BIGINT NOT NULL,\n"
	"  method TEXT NOT NULL CHECK (method IN ('klarna', 'card', 'bank')),\n"
	"  klarna_reference TEXT,\n"
	"  paid_at DATETIME NOT NULL,\n"
	"  amount_cents BIGINT NOT NULL,\n"
	"  FOREIGN KEY (invoice_id) REFERENCES invoices(id) ON DELETE CASCADE) ENGINE=InnoDB;\n"
	"CREATE TABLE deliveries (\n"
	"  id BIGINT PRIMARY KEY,\n"
	"  order_id BIGINT NOT NULL,\n"
	"  carrier TEXT NOT NULL CHECK (carrier IN ('Posti', 'Matkahuolto')),\n"
	"  tracking_code TEXT NOT NULL,\n"
	"  recipient_name TEXT NOT NULL,\n"
	"  recipient_street TEXT NOT NULL,\n"
	"  recipient_postcode TEXT NOT NULL,\n"
	"  delivered_at DATETIME,\n"
	"  FOREIGN KEY (order_id) REFERENCES orders(id) ON DELETE CASCADE) ENGINE=InnoDB;\n"
	"CREATE TABLE returns (\n"
	"  id BIGINT PRIMARY KEY,\n"
	"  order_id BIGINT NOT NULL,\n"
	"  reason TEXT NOT NULL,\n"
	"  opened_at DATETIME NOT NULL,\n"
	"  closed_at DATETIME,\n"
	"  FOREIGN KEY (order_id) REFERENCES orders(id) ON DELETE CASCADE) ENGINE=InnoDB;\n"
	"CREATE TABLE complaints (\n"
	"  id BIGINT PRIMARY KEY,\n"
	"  customer_id BIGINT NOT NULL,\n"
	"  order_id BIGINT,\n"
	"  description TEXT NOT NULL,\n"
	"  opened_at DATETIME NOT NULL,\n"
	"  closed_at DATETIME,\n"
	"  FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE CASCADE,\n"
	"  FOREIGN KEY (order_id) REFERENCES orders(id) ON DELETE SET NULL) ENGINE=InnoDB;\n"
	"CREATE TABLE consents (\n"
	"  id BIGINT PRIMARY KEY,\n"
	"  customer_id BIGINT NOT NULL,\n"
	"  channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'post')),\n"
	"  given_at DATETIME NOT NULL,\n"
	"  withdrawn_at DATETIME,\n"
	"  source TEXT NOT NULL,\n"
	"  FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE CASCADE) ENGINE=InnoDB;\n"
	"CREATE TABLE marketing_bans (\n"
	"  id BIGINT PRIMARY KEY,\n"
	"  customer_id BIGINT,\n"
	"  channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'post')),\n"
	"  banned_at DATETIME NOT NULL,\n"
	"  email_token TEXT,\n"
	"  phone_token TEXT,\n"
	"  FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE SET NULL) ENGINE=InnoDB;\n"
	"CREATE TABLE marketing_profiles (\n"
	"  id BIGINT PRIMARY KEY,\n"
	"  customer_id BIGINT NOT NULL UNIQUE,\n"
	"  segments TEXT NOT NULL,\n"
	"  updated_at DATETIME NOT NULL,\n"
	"  FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE CASCADE) ENGINE=InnoDB;\n"
	"CREATE TABLE chat_transcripts (\n"
	"  id BIGINT PRIMARY KEY,\n"
	"  customer_id BIGINT,\n"
	"  started_at DATETIME NOT NULL,\n"
	"  ended_at DATETIME,\n"
	"  transcript TEXT NOT NULL,\n"
	"  FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE SET NULL) ENGINE=InnoDB;\n"
	"CREATE TABLE feedback (\n"
	"  id BIGINT PRIMARY KEY,\n"
	"  customer_id BIGINT,\n"
	"  order_id BIGINT,\n"
	"  received_at DATETIME NOT NULL,\n"
	"  rating BIGINT NOT NULL CHECK (rating BETWEEN 1 AND 5),\n"
	"  comment TEXT,\n"
	"  FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE SET NULL,\n"
	"  FOREIGN KEY (order_id) REFERENCES orders(id) ON DELETE SET NULL) ENGINE=InnoDB;\n"
	"CREATE TABLE page_events (\n"
	"  id BIGINT PRIMARY KEY,\n"
	"  customer_id BIGINT,\n"
	"  occurred_at DATETIME NOT NULL,\n"
	"  url TEXT NOT NULL,\n"
	"  ip_address TEXT,\n"
	"  user_agent TEXT NOT NULL,\n"
	"  postcode TEXT,\n"
	"  FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE SET NULL) ENGINE=InnoDB;\n"
	"CREATE TABLE change_history (\n"
	"  id BIGINT PRIMARY KEY,\n"
	"  customer_id BIGINT NOT NULL,\n"
	"  changed_at DATETIME NOT NULL,\n"
	"  field TEXT NOT NULL,\n"
	"  old_value TEXT,\n"
	"  new_value TEXT,\n"
	"  FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE CASCADE) ENGINE=InnoDB;\n"
	"CREATE TABLE sales_journal (\n"
	"  id BIGINT PRIMARY KEY,\n"
	"  entry_date DATE NOT NULL,\n"
	"  customer_number VARCHAR(255) NOT NULL,\n"
	"  invoice_number VARCHAR(255) NOT NULL,\n"
	"  account VARCHAR(16) NOT NULL,\n"
	"  amount_cents BIGINT NOT NULL) ENGINE=InnoDB;\n";

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

struct demo_maria {
	MYSQL *conn;
	MYSQL_STMT *insert[DEMO_NTABLES];
};

static int maria_fail(demo_maria *s, MYSQL_STMT *st, const char *what)
{
	return lethe_error_set(LETHE_EIO, "cannot %s the demo database: %s", what,
			       st ? mysql_stmt_error(st) : mysql_error(s->conn));
}

int demo_maria_row(demo_maria *s, demo_table t, int64_t id, const lethe_value *vals, size_t n)
{
	MYSQL_BIND b[8];

	if ((int)n + 1 != ncolumns[t] || n + 1 > 8)
		return lethe_error_set(LETHE_ESOFTWARE, "demo row of table %d has %zu values", (int)t, n);
	memset(b, 0, sizeof(b));
	b[0].buffer_type = MYSQL_TYPE_LONGLONG;
	b[0].buffer = &id;
	for (size_t i = 0; i < n; i++) {
		MYSQL_BIND *p = &b[i + 1];

		if (vals[i].type == LETHE_VALUE_INTEGER) {
			p->buffer_type = MYSQL_TYPE_LONGLONG;
			p->buffer = (void *)&vals[i].i;
		} else if (vals[i].type == LETHE_VALUE_TEXT) {
			p->buffer_type = MYSQL_TYPE_STRING;
			p->buffer = (void *)vals[i].s;
			p->buffer_length = vals[i].len;
		} else {
			p->buffer_type = MYSQL_TYPE_NULL;
		}
	}
	if (mysql_stmt_bind_param(s->insert[t], b) || mysql_stmt_execute(s->insert[t]))
		return maria_fail(s, s->insert[t], "write");
	return 0;
}

/* Run the statements of a script separated by ";\n" (Lethe's own text). */
static int script(demo_maria *s, const char *sql, const char *what)
{
	while (*sql) {
		const char *end = strstr(sql, ";\n");
		size_t len = end ? (size_t)(end - sql) : strlen(sql);

		if (mysql_real_query(s->conn, sql, len))
			return maria_fail(s, NULL, what);
		sql += len + (end ? 2 : 0);
	}
	return 0;
}

int demo_maria_build(demo_sink *sink, demo_maria **slot, const char *location, int64_t customers,
		     uint64_t seed)
{
	demo_maria s = { 0 };
	int rc;

	if ((rc = lethe_maria_connect(&s.conn, location)) < 0)
		return rc;
	if ((rc = script(&s, maria_schema_sql, "create the schema of")) < 0)
		goto out;
	for (int t = 0; t < DEMO_NTABLES; t++) {
		char sql[256];
		int len;

		len = snprintf(sql, sizeof(sql), "INSERT INTO %s VALUES (", tables[t]);
		for (int i = 0; i < ncolumns[t]; i++)
			len += snprintf(sql + len, sizeof(sql) - (size_t)len, "%s?", i ? ", " : "");
		snprintf(sql + len, sizeof(sql) - (size_t)len, ")");
		if (!(s.insert[t] = mysql_stmt_init(s.conn))) {
			rc = maria_fail(&s, NULL, "prepare the inserts of");
			goto out;
		}
		if (mysql_stmt_prepare(s.insert[t], sql, strlen(sql))) {
			rc = maria_fail(&s, s.insert[t], "prepare the inserts of");
			goto out;
		}
	}
	if ((rc = script(&s, "START TRANSACTION", "begin writing")) < 0)
		goto out;
	*slot = &s;
	rc = demo_generate(sink, customers, seed);
	*slot = NULL;
	if (rc == 0 && (rc = script(&s, "COMMIT", "commit")) == 0 &&
	    (rc = script(&s, demo_index_sql, "index")) == 0)
		rc = script(&s, "ANALYZE TABLE customers, orders", "analyze");
out:
	for (int t = 0; t < DEMO_NTABLES; t++)
		if (s.insert[t])
			mysql_stmt_close(s.insert[t]);
	if (s.conn)
		mysql_close(s.conn);
	return rc;
}
