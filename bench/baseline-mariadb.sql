-- bench/baseline.sql for MariaDB (bench/run --engine mariadb): the same
-- disposals of the reference policies as of 2026-11-01, as a cron script
-- would write them for the mariadb client, in one transaction (clocks as the
-- demo types them: order_date a DATE, *_at DATETIME in UTC). Each statement
-- is followed by its rule and count (name, ROW_COUNT()) so bench/run checks
-- them against lethe's. The residue work that follows (the same rebuild
-- lethe does at level R2) is bench/maria_bench.py's. Tokens are UUID()s: RAND()
-- has about 2^30 values and collides on a unique column at 10,000 rows.
SET time_zone = '+00:00';
START TRANSACTION;
-- inactive-account-addresses (clock reads customers, which is unchanged by pseudonymising)
UPDATE addresses SET street = CONCAT('tok_', REPLACE(UUID(), '-', ''))
 WHERE (SELECT CASE WHEN c.created_at IS NULL THEN NULL
   WHEN (c.last_login_at IS NULL OR c.last_login_at <= c.created_at) AND
   (c.last_purchase_at IS NULL OR c.last_purchase_at <= c.created_at) THEN c.created_at
   WHEN c.last_purchase_at IS NULL THEN c.last_login_at
   WHEN c.last_login_at IS NULL THEN c.last_purchase_at
   WHEN c.last_login_at >= c.last_purchase_at THEN c.last_login_at
   ELSE c.last_purchase_at END FROM customers c
        WHERE c.id = addresses.customer_id) < '2023-11-01';
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
   ELSE last_purchase_at END < '2023-11-01';
SELECT 'inactive-accounts', ROW_COUNT();
DELETE FROM change_history WHERE changed_at < '2024-11-01';
SELECT 'change-history', ROW_COUNT();
-- bookkeeping: 10 years from the end of the order's fiscal year (12-31)
DELETE FROM payments WHERE invoice_id IN (SELECT i.id FROM invoices i JOIN orders o ON o.id = i.order_id
 WHERE o.status <> 'open' AND o.order_date < '2016-01-01');
SELECT 'payments-bookkeeping', ROW_COUNT();
DELETE FROM invoices WHERE order_id IN (SELECT id FROM orders
 WHERE status <> 'open' AND order_date < '2016-01-01');
SELECT 'invoices-bookkeeping', ROW_COUNT();
DELETE FROM order_lines WHERE order_id IN (SELECT id FROM orders
 WHERE status <> 'open' AND order_date < '2016-01-01');
SELECT 'order-lines-bookkeeping', ROW_COUNT();
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
DELETE FROM orders WHERE status <> 'open' AND order_date < '2016-01-01'
 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.order_id = orders.id)
 AND NOT EXISTS (SELECT 1 FROM returns r WHERE r.order_id = orders.id)
 AND NOT EXISTS (SELECT 1 FROM complaints c WHERE c.order_id = orders.id)
 AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.order_id = orders.id)
 AND NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = orders.id)
 AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.order_id = orders.id);
SELECT 'orders-bookkeeping', ROW_COUNT();
-- marketing profiles before consents: the first rule's clock reads consents
DELETE FROM marketing_profiles WHERE
 (NOT EXISTS (SELECT 1 FROM consents c WHERE c.customer_id = marketing_profiles.customer_id
   AND c.withdrawn_at IS NULL)
  AND (SELECT max(c.withdrawn_at) FROM consents c
   WHERE c.customer_id = marketing_profiles.customer_id) < '2026-10-02')
 OR updated_at < '2024-11-01';
SELECT 'marketing-profiles', ROW_COUNT();
DELETE FROM consents WHERE withdrawn_at < '2023-11-01';
SELECT 'consents-after-withdrawal', ROW_COUNT();
UPDATE page_events SET customer_id = NULL, ip_address = NULL, user_agent = '[redacted]',
  postcode = substr(postcode, 1, 3)
 WHERE occurred_at < '2025-09-01';
SELECT 'web-analytics', ROW_COUNT();
COMMIT;
