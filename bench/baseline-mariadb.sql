-- bench/baseline.sql for MariaDB (bench/run --engine mariadb): the same
-- disposals of the reference policies as of 2026-11-01 (the statements of
-- bench/baseline-postgresql.sql), as a cron script would write them for the
-- mariadb client, in one transaction (clocks as the demo types them:
-- order_date and entry_date DATEs, *_at DATETIME in UTC; x < 'D' on a
-- DATETIME is its day before D). Each statement is followed by its rule and
-- count (name, ROW_COUNT()) so bench/run checks them against lethe's. The
-- residue work that follows (the same rebuild lethe does at level R2) is
-- bench/maria_bench.py's. An account's clock is the latest of sign-up, last
-- login and last purchase (a CASE: GREATEST() is NULL when one is NULL).
-- Tokens are UUID()s: RAND() has about 2^30 values and collides on a unique
-- column at 10,000 rows.
SET time_zone = '+00:00';
START TRANSACTION;
-- inactive-account-addresses (clock reads customers, which is unchanged by pseudonymising);
-- kept while the account has a paid order not yet delivered
DELETE FROM addresses
 WHERE (SELECT CASE WHEN c.created_at IS NULL THEN NULL
   WHEN (c.last_login_at IS NULL OR c.last_login_at <= c.created_at) AND
   (c.last_purchase_at IS NULL OR c.last_purchase_at <= c.created_at) THEN c.created_at
   WHEN c.last_purchase_at IS NULL THEN c.last_login_at
   WHEN c.last_login_at IS NULL THEN c.last_purchase_at
   WHEN c.last_login_at >= c.last_purchase_at THEN c.last_login_at
   ELSE c.last_purchase_at END FROM customers c
        WHERE c.id = addresses.customer_id) < '2023-11-01'
 AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = addresses.customer_id AND o.status = 'paid');
SELECT 'inactive-account-addresses', ROW_COUNT();
UPDATE customers SET name = CONCAT('tok_', REPLACE(UUID(), '-', '')),
  email = CONCAT('tok_', REPLACE(UUID(), '-', '')),
  phone = CASE WHEN phone IS NULL THEN NULL ELSE CONCAT('tok_', REPLACE(UUID(), '-', '')) END
 WHERE CASE WHEN created_at IS NULL THEN NULL
   WHEN (last_login_at IS NULL OR last_login_at <= created_at) AND
   (last_purchase_at IS NULL OR last_purchase_at <= created_at) THEN created_at
   WHEN last_purchase_at IS NULL THEN last_login_at
   WHEN last_login_at IS NULL THEN last_purchase_at
   WHEN last_login_at >= last_purchase_at THEN last_login_at
   ELSE last_purchase_at END < '2023-11-01'
 AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = customers.id AND o.status = 'paid');
SELECT 'inactive-accounts', ROW_COUNT();
DELETE FROM change_history WHERE changed_at < '2024-11-01';
SELECT 'change-history', ROW_COUNT();
-- vouchers: 6 years from the end of the calendar year in which the fiscal year
-- (12-31) of the voucher's own date ended: due when that date is before 2020
DELETE FROM payments WHERE paid_at < '2020-01-01';
SELECT 'payments-vouchers', ROW_COUNT();
-- an invoice whose payment is not due would cascade into it
DELETE FROM invoices WHERE issued_at < '2020-01-01'
 AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.invoice_id = invoices.id);
SELECT 'invoices-vouchers', ROW_COUNT();
DELETE FROM order_lines WHERE order_id IN (SELECT id FROM orders
 WHERE status <> 'open' AND order_date < '2020-01-01');
SELECT 'order-lines-vouchers', ROW_COUNT();
-- the books: 10 years from the end of the fiscal year (12-31)
DELETE FROM sales_journal WHERE entry_date < '2016-01-01';
SELECT 'sales-journal', ROW_COUNT();
DELETE FROM deliveries WHERE delivered_at < '2025-11-01';
SELECT 'deliveries', ROW_COUNT();
DELETE FROM returns WHERE closed_at < '2023-11-01';
SELECT 'returns', ROW_COUNT();
DELETE FROM complaints WHERE closed_at < '2023-11-01';
SELECT 'complaints', ROW_COUNT();
DELETE FROM chat_transcripts WHERE ended_at < '2025-11-01';
SELECT 'chat-transcripts', ROW_COUNT();
DELETE FROM feedback WHERE received_at < '2025-11-01';
SELECT 'feedback', ROW_COUNT();
-- an order whose dependents are not all gone would cascade into kept rows
DELETE FROM orders WHERE status <> 'open' AND order_date < '2020-01-01'
 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.order_id = orders.id)
 AND NOT EXISTS (SELECT 1 FROM returns r WHERE r.order_id = orders.id)
 AND NOT EXISTS (SELECT 1 FROM complaints c WHERE c.order_id = orders.id)
 AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.order_id = orders.id)
 AND NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = orders.id)
 AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.order_id = orders.id);
SELECT 'orders-vouchers', ROW_COUNT();
-- marketing profiles before consents: the first rule's clock reads consents
DELETE FROM marketing_profiles WHERE
 (SELECT CASE WHEN c.created_at IS NULL THEN NULL
   WHEN (c.last_login_at IS NULL OR c.last_login_at <= c.created_at) AND
   (c.last_purchase_at IS NULL OR c.last_purchase_at <= c.created_at) THEN c.created_at
   WHEN c.last_purchase_at IS NULL THEN c.last_login_at
   WHEN c.last_login_at IS NULL THEN c.last_purchase_at
   WHEN c.last_login_at >= c.last_purchase_at THEN c.last_login_at
   ELSE c.last_purchase_at END FROM customers c
   WHERE c.id = marketing_profiles.customer_id) < '2023-11-01'
 OR (NOT EXISTS (SELECT 1 FROM consents c WHERE c.customer_id = marketing_profiles.customer_id
   AND c.withdrawn_at IS NULL)
  AND (SELECT max(c.withdrawn_at) FROM consents c
   WHERE c.customer_id = marketing_profiles.customer_id) < '2026-10-02')
 OR updated_at < '2024-11-01';
SELECT 'marketing-profiles', ROW_COUNT();
DELETE FROM consents WHERE withdrawn_at < '2023-11-01';
SELECT 'consents-after-withdrawal', ROW_COUNT();
-- what ends with an account's pseudonymisation: the account's inactivity
-- clock (3 years), read from columns pseudonymising does not change
DELETE FROM consents WHERE withdrawn_at IS NULL AND
 (SELECT CASE WHEN c.created_at IS NULL THEN NULL
   WHEN (c.last_login_at IS NULL OR c.last_login_at <= c.created_at) AND
   (c.last_purchase_at IS NULL OR c.last_purchase_at <= c.created_at) THEN c.created_at
   WHEN c.last_purchase_at IS NULL THEN c.last_login_at
   WHEN c.last_login_at IS NULL THEN c.last_purchase_at
   WHEN c.last_login_at >= c.last_purchase_at THEN c.last_login_at
   ELSE c.last_purchase_at END FROM customers c
   WHERE c.id = consents.customer_id) < '2023-11-01';
SELECT 'consents-of-pseudonymised-accounts', ROW_COUNT();
UPDATE marketing_bans SET customer_id = NULL WHERE customer_id IS NOT NULL AND
 (SELECT CASE WHEN c.created_at IS NULL THEN NULL
   WHEN (c.last_login_at IS NULL OR c.last_login_at <= c.created_at) AND
   (c.last_purchase_at IS NULL OR c.last_purchase_at <= c.created_at) THEN c.created_at
   WHEN c.last_purchase_at IS NULL THEN c.last_login_at
   WHEN c.last_login_at IS NULL THEN c.last_purchase_at
   WHEN c.last_login_at >= c.last_purchase_at THEN c.last_login_at
   ELSE c.last_purchase_at END FROM customers c
   WHERE c.id = marketing_bans.customer_id) < '2023-11-01';
SELECT 'marketing-ban-links', ROW_COUNT();
UPDATE page_events SET customer_id = NULL, ip_address = NULL, user_agent = '[redacted]',
  postcode = substr(postcode, 1, 3)
 WHERE occurred_at < '2025-09-01';
SELECT 'web-analytics', ROW_COUNT();
-- an inactive account goes last, once nothing it would cascade into (or that
-- still points at it) is left
DELETE FROM customers
 WHERE CASE WHEN created_at IS NULL THEN NULL
   WHEN (last_login_at IS NULL OR last_login_at <= created_at) AND
   (last_purchase_at IS NULL OR last_purchase_at <= created_at) THEN created_at
   WHEN last_purchase_at IS NULL THEN last_login_at
   WHEN last_login_at IS NULL THEN last_purchase_at
   WHEN last_login_at >= last_purchase_at THEN last_login_at
   ELSE last_purchase_at END < '2023-11-01'
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
SELECT 'unreferenced-inactive-accounts', ROW_COUNT();
COMMIT;
