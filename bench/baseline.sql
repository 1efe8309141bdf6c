-- The disposals of the reference policies (policies/) on the demo register as
-- of 2026-11-01, written as a cron script would: plain SQL in sqlite3, one
-- transaction, secure_delete on, the same WAL checkpoint as lethe, no VACUUM,
-- no evidence. Cut-off days are the policies' clocks worked out by hand for
-- that day (due: the clock's day + retention falls before 2026-11-01, which
-- gives exactly the due counts of `lethe plan --json`). Statements
-- run in lethe's dependency order (children before the parents they would
-- cascade from; a rule whose clock reads a table before the rule changing it),
-- and each prints changes() so bench/run can check that the baseline disposed
-- of as many rows per rule as `lethe run` did. Tokens are random, not keyed.
-- An account's clock is the latest of sign-up, last login and last purchase
-- (SQLite's max(a, b, c); the policies spell it in SQL every engine shares).
PRAGMA secure_delete = ON;
PRAGMA foreign_keys = ON;
BEGIN IMMEDIATE;
-- inactive-account-addresses (clock reads customers, which is unchanged by pseudonymising);
-- kept while the account has a paid order not yet delivered
DELETE FROM addresses WHERE (SELECT date(max(c.created_at, coalesce(c.last_login_at, c.created_at), coalesce(c.last_purchase_at, c.created_at)))
        FROM customers c WHERE c.id = addresses.customer_id) < '2023-11-01'
 AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = addresses.customer_id AND o.status = 'paid');
SELECT 'inactive-account-addresses', changes();
UPDATE customers SET name = 'tok_' || lower(hex(randomblob(16))),
  email = 'tok_' || lower(hex(randomblob(16))),
  phone = CASE WHEN phone IS NULL THEN NULL ELSE 'tok_' || lower(hex(randomblob(16))) END
 WHERE date(max(created_at, coalesce(last_login_at, created_at), coalesce(last_purchase_at, created_at))) < '2023-11-01'
 AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = customers.id AND o.status = 'paid');
SELECT 'inactive-accounts', changes();
DELETE FROM change_history WHERE date(changed_at) < '2024-11-01';
SELECT 'change-history', changes();
-- vouchers: 6 years from the end of the calendar year in which the fiscal year
-- (12-31) of the voucher's own date ended: due when that date is before 2020
DELETE FROM payments WHERE date(paid_at) < '2020-01-01';
SELECT 'payments-vouchers', changes();
-- an invoice whose payment is not due would cascade into it
DELETE FROM invoices WHERE date(issued_at) < '2020-01-01'
 AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.invoice_id = invoices.id);
SELECT 'invoices-vouchers', changes();
DELETE FROM order_lines WHERE order_id IN (SELECT id FROM orders
 WHERE status <> 'open' AND date(order_date) < '2020-01-01');
SELECT 'order-lines-vouchers', changes();
-- the books: 10 years from the end of the fiscal year (12-31)
DELETE FROM sales_journal WHERE date(entry_date) < '2016-01-01';
SELECT 'sales-journal', changes();
DELETE FROM deliveries WHERE date(delivered_at) < '2025-11-01';
SELECT 'deliveries', changes();
DELETE FROM returns WHERE date(closed_at) < '2023-11-01';
SELECT 'returns', changes();
DELETE FROM complaints WHERE date(closed_at) < '2023-11-01';
SELECT 'complaints', changes();
DELETE FROM chat_transcripts WHERE date(ended_at) < '2025-11-01';
SELECT 'chat-transcripts', changes();
DELETE FROM feedback WHERE date(received_at) < '2025-11-01';
SELECT 'feedback', changes();
-- an order whose dependents are not all gone would cascade into kept rows
DELETE FROM orders WHERE status <> 'open' AND date(order_date) < '2020-01-01'
 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.order_id = orders.id)
 AND NOT EXISTS (SELECT 1 FROM returns r WHERE r.order_id = orders.id)
 AND NOT EXISTS (SELECT 1 FROM complaints c WHERE c.order_id = orders.id)
 AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.order_id = orders.id)
 AND NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = orders.id)
 AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.order_id = orders.id);
SELECT 'orders-vouchers', changes();
-- marketing profiles before consents: the first rule's clock reads consents
DELETE FROM marketing_profiles WHERE
 (SELECT date(max(c.created_at, coalesce(c.last_login_at, c.created_at), coalesce(c.last_purchase_at, c.created_at)))
   FROM customers c WHERE c.id = marketing_profiles.customer_id) < '2023-11-01'
 OR (NOT EXISTS (SELECT 1 FROM consents c WHERE c.customer_id = marketing_profiles.customer_id
   AND c.withdrawn_at IS NULL)
  AND (SELECT date(max(c.withdrawn_at)) FROM consents c
   WHERE c.customer_id = marketing_profiles.customer_id) < '2026-10-02')
 OR date(updated_at) < '2024-11-01';
SELECT 'marketing-profiles', changes();
DELETE FROM consents WHERE date(withdrawn_at) < '2023-11-01';
SELECT 'consents-after-withdrawal', changes();
-- what ends with an account's pseudonymisation: the account's inactivity
-- clock (3 years), read from columns pseudonymising does not change
DELETE FROM consents WHERE withdrawn_at IS NULL AND
 (SELECT date(max(c.created_at, coalesce(c.last_login_at, c.created_at), coalesce(c.last_purchase_at, c.created_at)))
   FROM customers c WHERE c.id = consents.customer_id) < '2023-11-01';
SELECT 'consents-of-pseudonymised-accounts', changes();
UPDATE marketing_bans SET customer_id = NULL WHERE customer_id IS NOT NULL AND
 (SELECT date(max(c.created_at, coalesce(c.last_login_at, c.created_at), coalesce(c.last_purchase_at, c.created_at)))
   FROM customers c WHERE c.id = marketing_bans.customer_id) < '2023-11-01';
SELECT 'marketing-ban-links', changes();
UPDATE page_events SET customer_id = NULL, ip_address = NULL, user_agent = '[redacted]',
  postcode = substr(postcode, 1, 3)
 WHERE date(occurred_at) < '2025-09-01';
SELECT 'web-analytics', changes();
-- an inactive account goes last, once nothing it would cascade into (or that
-- still points at it) is left
DELETE FROM customers
 WHERE date(max(created_at, coalesce(last_login_at, created_at), coalesce(last_purchase_at, created_at))) < '2023-11-01'
 AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = customers.id)
 AND NOT EXISTS (SELECT 1 FROM addresses a WHERE a.customer_id = customers.id)
 AND NOT EXISTS (SELECT 1 FROM complaints c WHERE c.customer_id = customers.id)
 AND NOT EXISTS (SELECT 1 FROM consents c WHERE c.customer_id = customers.id)
 AND NOT EXISTS (SELECT 1 FROM marketing_profiles m WHERE m.customer_id = customers.id)
 AND NOT EXISTS (SELECT 1 FROM change_history h WHERE h.customer_id = customers.id)
 AND NOT EXISTS (SELECT 1 FROM marketing_bans b WHERE b.customer_id = customers.id)
 AND NOT EXISTS (SELECT 1 FROM chat_transcripts t WHERE t.customer_id = customers.id)
 AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.customer_id = customers.id)
 AND NOT EXISTS (SELECT 1 FROM page_events e WHERE e.customer_id = customers.id);
SELECT 'unreferenced-inactive-accounts', changes();
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
