/*
 * demo_gen.h - internal to the demo module: the generator (demo_gen.c, plain
 * C, no SQLite) produces the reference shop's rows and hands them one at a
 * time to a sink (demo_sqlite.c), which owns the schema and the statements.
 *
 * Invariants:
 *  - The generator is deterministic: its only source of variation is the seed
 *    (a splitmix64 stream), never rand(), the clock or the environment.
 *  - Rows arrive parents first, so the sink may enforce foreign keys.
 *  - Every row's id is assigned by the generator (1, 2, 3... per table) and
 *    passed separately; vals hold the other columns in the order listed below.
 *  - Values are borrowed for the duration of the call only.
 */
#ifndef LETHE_DEMO_GEN_H
#define LETHE_DEMO_GEN_H

#include <stddef.h>
#include <stdint.h>
#include "lethe/backend.h"

/* Columns after id, in the order the generator passes them. */
typedef enum {
	DEMO_CUSTOMERS,          /* customer_number, name, email, phone, created_at, last_login_at, last_purchase_at */
	DEMO_ADDRESSES,          /* customer_id, kind, street, postcode, city */
	DEMO_PRODUCTS,           /* sku, name, price_cents */
	DEMO_ORDERS,             /* customer_id, order_date, status, total_cents */
	DEMO_ORDER_LINES,        /* order_id, product_id, qty, price_cents */
	DEMO_INVOICES,           /* order_id, invoice_number, issued_at, billing_name, billing_street, billing_postcode, billing_city */
	DEMO_PAYMENTS,           /* invoice_id, method, klarna_reference, paid_at, amount_cents */
	DEMO_DELIVERIES,         /* order_id, carrier, tracking_code, recipient_name, recipient_street, recipient_postcode, delivered_at */
	DEMO_RETURNS,            /* order_id, reason, opened_at, closed_at */
	DEMO_COMPLAINTS,         /* customer_id, order_id, description, opened_at, closed_at */
	DEMO_CONSENTS,           /* customer_id, channel, given_at, withdrawn_at, source */
	DEMO_MARKETING_BANS,     /* customer_id, channel, banned_at, email_token, phone_token */
	DEMO_MARKETING_PROFILES, /* customer_id, segments, updated_at */
	DEMO_CHAT_TRANSCRIPTS,   /* customer_id, started_at, ended_at, transcript */
	DEMO_FEEDBACK,           /* customer_id, order_id, received_at, rating, comment */
	DEMO_PAGE_EVENTS,        /* customer_id, occurred_at, url, ip_address, user_agent, postcode */
	DEMO_CHANGE_HISTORY,     /* customer_id, changed_at, field, old_value, new_value */
	DEMO_NTABLES
} demo_table;

typedef struct demo_sink demo_sink;

/* Insert one row of table t: id, then vals (n of them, in the order above).
 * 0 or a negative LETHE_E* code with the last error set. */
int demo_sink_row(demo_sink *sink, demo_table t, int64_t id,
		  const lethe_value *vals, size_t n);

/* The indexes both sinks create after the load (demo_sqlite.c; the same SQL
 * on SQLite and PostgreSQL). */
extern const char demo_index_sql[];

/* demo_pg.c: the PostgreSQL sink. demo_sink_row hands rows to
 * demo_pg_row while demo_pg_build runs (it sets *slot, the sink's pg). */
typedef struct demo_pg demo_pg;
int demo_pg_row(demo_pg *s, demo_table t, int64_t id, const lethe_value *vals, size_t n);
int demo_pg_build(demo_sink *sink, demo_pg **slot, const char *location, int64_t customers,
		  uint64_t seed);

/* Generate the whole register into sink: the products, then `customers`
 * customers with everything that hangs off them. 0 or the sink's error. */
int demo_generate(demo_sink *sink, int64_t customers, uint64_t seed);

#endif
