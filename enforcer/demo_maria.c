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
 *  - Values are parameters of prepared multi-row INSERTs (never SQL text):
 *    the rows of each table are buffered (values copied) and written
 *    ROWS_PER_INSERT at a time, every table's buffer in the order of
 *    tables[] (parents before children) whenever one fills, so a row's
 *    parent is always written before it; one round trip per statement
 *    instead of per row. The rows are one transaction. MariaDB commits
 *    DDL implicitly, so
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
#include "strbuf.h"

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

/* Rows per INSERT statement: at most 8 columns, so at most 4,000
 * parameters (a statement takes 65,535). */
#define ROWS_PER_INSERT 500

/* The rows of one table not written yet: row r's values at
 * vals[r * ncolumns ...], the id first; text copied (malloc'd, owned). */
typedef struct {
	size_t n;
	lethe_value vals[ROWS_PER_INSERT * 8];
} pending;

struct demo_maria {
	MYSQL *conn;
	MYSQL_STMT *full[DEMO_NTABLES];   /* the INSERT of ROWS_PER_INSERT rows */
	pending *rows[DEMO_NTABLES];
};

static int maria_fail(demo_maria *s, MYSQL_STMT *st, const char *what)
{
	return lethe_error_set(LETHE_EIO, "cannot %s the demo database: %s", what,
			       st ? mysql_stmt_error(st) : mysql_error(s->conn));
}

static void pending_clear(pending *p, int ncols)
{
	for (size_t i = 0; i < p->n * (size_t)ncols; i++)
		if (p->vals[i].type == LETHE_VALUE_TEXT)
			free((char *)p->vals[i].s);
	p->n = 0;
}

/* A prepared "INSERT INTO t VALUES (?, ...), ..." of n rows. */
static int prepare_insert(MYSQL_STMT **out, demo_maria *s, demo_table t, size_t n)
{
	lethe_strbuf sql = LETHE_STRBUF_INIT;
	MYSQL_STMT *st;
	int rc = 0;

	lethe_strbuf_addf(&sql, "INSERT INTO %s VALUES ", tables[t]);
	for (size_t r = 0; r < n; r++) {
		lethe_strbuf_adds(&sql, r ? ", (?" : "(?");
		for (int i = 1; i < ncolumns[t]; i++)
			lethe_strbuf_adds(&sql, ", ?");
		lethe_strbuf_adds(&sql, ")");
	}
	if (!(st = mysql_stmt_init(s->conn))) {
		rc = maria_fail(s, NULL, "prepare the inserts of");
	} else if (mysql_stmt_prepare(st, lethe_strbuf_str(&sql), sql.len)) {
		rc = maria_fail(s, st, "prepare the inserts of");
		mysql_stmt_close(st);
	} else {
		*out = st;
	}
	lethe_strbuf_release(&sql);
	return rc;
}

/* Write table t's pending rows in one statement. */
static int flush_table(demo_maria *s, demo_table t)
{
	pending *p = s->rows[t];
	size_t nb = p->n * (size_t)ncolumns[t];
	MYSQL_STMT *st = s->full[t];
	MYSQL_BIND *b;
	int rc = 0;

	if (p->n == 0)
		return 0;
	if (!(b = calloc(nb, sizeof(*b))))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	for (size_t i = 0; i < nb; i++) {
		lethe_value *v = &p->vals[i];

		if (v->type == LETHE_VALUE_INTEGER) {
			b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			b[i].buffer = &v->i;
		} else if (v->type == LETHE_VALUE_TEXT) {
			b[i].buffer_type = MYSQL_TYPE_STRING;
			b[i].buffer = (void *)v->s;
			b[i].buffer_length = v->len;
		} else {
			b[i].buffer_type = MYSQL_TYPE_NULL;
		}
	}
	if (p->n < ROWS_PER_INSERT && (rc = prepare_insert(&st, s, t, p->n)) < 0)
		goto out;
	if (mysql_stmt_bind_param(st, b) || mysql_stmt_execute(st))
		rc = maria_fail(s, st, "write");
	if (st != s->full[t])
		mysql_stmt_close(st);
out:
	free(b);
	pending_clear(p, ncolumns[t]);
	return rc;
}

/* Every table's pending rows, parents first. */
static int flush_all(demo_maria *s)
{
	int rc = 0;

	for (int t = 0; t < DEMO_NTABLES && rc == 0; t++)
		rc = flush_table(s, (demo_table)t);
	return rc;
}

int demo_maria_row(demo_maria *s, demo_table t, int64_t id, const lethe_value *vals, size_t n)
{
	pending *p = s->rows[t];
	lethe_value *row;

	if ((int)n + 1 != ncolumns[t] || n + 1 > 8)
		return lethe_error_set(LETHE_ESOFTWARE, "demo row of table %d has %zu values", (int)t, n);
	row = &p->vals[p->n * (size_t)ncolumns[t]];
	row[0] = (lethe_value){ .type = LETHE_VALUE_INTEGER, .i = id };
	for (size_t i = 0; i < n; i++) {
		row[i + 1] = vals[i];
		if (vals[i].type == LETHE_VALUE_TEXT) {
			char *copy = malloc(vals[i].len + 1);

			if (!copy) {
				/* the row is not counted: free its copies so far */
				for (size_t j = 1; j <= i; j++)
					if (row[j].type == LETHE_VALUE_TEXT)
						free((char *)row[j].s);
				return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
			}
			memcpy(copy, vals[i].s, vals[i].len);
			copy[vals[i].len] = 0;
			row[i + 1].s = copy;
		} else if (vals[i].type != LETHE_VALUE_INTEGER) {
			row[i + 1].type = LETHE_VALUE_NULL;
		}
	}
	if (++p->n == ROWS_PER_INSERT)
		return flush_all(s);
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
		if (!(s.rows[t] = calloc(1, sizeof(*s.rows[t])))) {
			rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
			goto out;
		}
		if ((rc = prepare_insert(&s.full[t], &s, (demo_table)t, ROWS_PER_INSERT)) < 0)
			goto out;
	}
	if ((rc = script(&s, "START TRANSACTION", "begin writing")) < 0)
		goto out;
	*slot = &s;
	rc = demo_generate(sink, customers, seed);
	*slot = NULL;
	if (rc == 0)
		rc = flush_all(&s);
	if (rc == 0 && (rc = script(&s, "COMMIT", "commit")) == 0 &&
	    (rc = script(&s, demo_index_sql, "index")) == 0)
		rc = script(&s, "ANALYZE TABLE customers, orders", "analyze");
out:
	for (int t = 0; t < DEMO_NTABLES; t++) {
		if (s.full[t])
			mysql_stmt_close(s.full[t]);
		if (s.rows[t])
			pending_clear(s.rows[t], ncolumns[t]);
		free(s.rows[t]);
	}
	if (s.conn)
		mysql_close(s.conn);
	return rc;
}
