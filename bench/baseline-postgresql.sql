-- bench/baseline.sql for PostgreSQL (bench/run --engine postgresql): the same
-- disposals of the reference policies as of 2026-11-01, as a cron script
-- would write them for psql, in one transaction; typed clocks (order_date a
-- date, *_at timestamptz in UTC). Each statement prints its rule and count
-- (name|count) so bench/run checks them against lethe's. The residue work
-- that follows (the same rewrite lethe does at level R2) is bench/run's.
SET TimeZone = 'UTC';
BEGIN;
-- inactive-account-addresses (clock reads customers, which is unchanged by pseudonymising)
WITH d AS (UPDATE addresses SET street = 'tok_' || md5(random()::text)
 WHERE (SELECT greatest(c.created_at, c.last_login_at,
        c.last_purchase_at)::date FROM customers c
        WHERE c.id = addresses.customer_id) < '2023-11-01'
 RETURNING 1) SELECT 'inactive-account-addresses', count(*) FROM d;
WITH d AS (UPDATE customers SET name = 'tok_' || md5(random()::text),
  email = 'tok_' || md5(random()::text),
  phone = CASE WHEN phone IS NULL THEN NULL ELSE 'tok_' || md5(random()::text) END
 WHERE greatest(created_at, last_login_at,
       last_purchase_at)::date < '2023-11-01'
 RETURNING 1) SELECT 'inactive-accounts', count(*) FROM d;
WITH d AS (DELETE FROM change_history WHERE changed_at::date < '2024-11-01'
 RETURNING 1) SELECT 'change-history', count(*) FROM d;
-- bookkeeping: 10 years from the end of the order's fiscal year (12-31)
WITH d AS (DELETE FROM payments WHERE invoice_id IN (SELECT i.id FROM invoices i JOIN orders o ON o.id = i.order_id
 WHERE o.status <> 'open' AND o.order_date < '2016-01-01')
 RETURNING 1) SELECT 'payments-bookkeeping', count(*) FROM d;
WITH d AS (DELETE FROM invoices WHERE order_id IN (SELECT id FROM orders
 WHERE status <> 'open' AND order_date < '2016-01-01')
 RETURNING 1) SELECT 'invoices-bookkeeping', count(*) FROM d;
WITH d AS (DELETE FROM order_lines WHERE order_id IN (SELECT id FROM orders
 WHERE status <> 'open' AND order_date < '2016-01-01')
 RETURNING 1) SELECT 'order-lines-bookkeeping', count(*) FROM d;
WITH d AS (DELETE FROM deliveries WHERE delivered_at::date < '2025-11-01'
 RETURNING 1) SELECT 'deliveries', count(*) FROM d;
WITH d AS (DELETE FROM returns WHERE closed_at::date < '2023-11-01'
 RETURNING 1) SELECT 'returns', count(*) FROM d;
WITH d AS (DELETE FROM complaints WHERE closed_at::date < '2023-11-01'
 RETURNING 1) SELECT 'complaints', count(*) FROM d;
WITH d AS (DELETE FROM chat_transcripts WHERE ended_at::date < '2025-11-01'
 RETURNING 1) SELECT 'chat-transcripts', count(*) FROM d;
WITH d AS (DELETE FROM feedback WHERE received_at::date < '2025-11-01'
 RETURNING 1) SELECT 'feedback', count(*) FROM d;
-- an order whose dependents are not all gone would cascade into kept rows
WITH d AS (DELETE FROM orders WHERE status <> 'open' AND order_date < '2016-01-01'
 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.order_id = orders.id)
 AND NOT EXISTS (SELECT 1 FROM returns r WHERE r.order_id = orders.id)
 AND NOT EXISTS (SELECT 1 FROM complaints c WHERE c.order_id = orders.id)
 AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.order_id = orders.id)
 AND NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = orders.id)
 AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.order_id = orders.id)
 RETURNING 1) SELECT 'orders-bookkeeping', count(*) FROM d;
-- marketing profiles before consents: the first rule's clock reads consents
WITH d AS (DELETE FROM marketing_profiles WHERE
 (NOT EXISTS (SELECT 1 FROM consents c WHERE c.customer_id = marketing_profiles.customer_id
   AND c.withdrawn_at IS NULL)
  AND (SELECT max(c.withdrawn_at)::date FROM consents c
   WHERE c.customer_id = marketing_profiles.customer_id) < '2026-10-02')
 OR updated_at::date < '2024-11-01'
 RETURNING 1) SELECT 'marketing-profiles', count(*) FROM d;
WITH d AS (DELETE FROM consents WHERE withdrawn_at::date < '2023-11-01'
 RETURNING 1) SELECT 'consents-after-withdrawal', count(*) FROM d;
WITH d AS (UPDATE page_events SET customer_id = NULL, ip_address = NULL, user_agent = '[redacted]',
  postcode = substr(postcode, 1, 3)
 WHERE occurred_at::date < '2025-09-01'
 RETURNING 1) SELECT 'web-analytics', count(*) FROM d;
COMMIT;
