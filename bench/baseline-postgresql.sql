-- bench/baseline.sql for PostgreSQL (bench/run --engine postgresql): the same
-- disposals of the reference policies as of 2026-11-01, as a cron script
-- would write them for psql, in one transaction; typed clocks (order_date and
-- entry_date dates, *_at timestamptz in UTC). Each statement prints its rule
-- and count (name|count) so bench/run checks them against lethe's. The
-- residue work that follows (the same rewrite lethe does at level R2) is
-- bench/run's. An account's clock is the latest of sign-up, last login and
-- last purchase: greatest() skips NULLs.
SET TimeZone = 'UTC';
BEGIN;
-- inactive-account-addresses (clock reads customers, which is unchanged by pseudonymising);
-- kept while the account has a paid order not yet delivered
WITH d AS (DELETE FROM addresses
 WHERE (SELECT greatest(c.created_at, c.last_login_at, c.last_purchase_at)::date FROM customers c
        WHERE c.id = addresses.customer_id) < '2023-11-01'
 AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = addresses.customer_id AND o.status = 'paid')
 RETURNING 1) SELECT 'inactive-account-addresses', count(*) FROM d;
WITH d AS (UPDATE customers SET name = 'tok_' || md5(random()::text),
  email = 'tok_' || md5(random()::text),
  phone = CASE WHEN phone IS NULL THEN NULL ELSE 'tok_' || md5(random()::text) END
 WHERE greatest(created_at, last_login_at, last_purchase_at)::date < '2023-11-01'
 AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = customers.id AND o.status = 'paid')
 RETURNING 1) SELECT 'inactive-accounts', count(*) FROM d;
WITH d AS (DELETE FROM change_history WHERE changed_at::date < '2024-11-01'
 RETURNING 1) SELECT 'change-history', count(*) FROM d;
-- vouchers: 6 years from the end of the calendar year in which the fiscal year
-- (12-31) of the voucher's own date ended: due when that date is before 2020
WITH d AS (DELETE FROM payments WHERE paid_at::date < '2020-01-01'
 RETURNING 1) SELECT 'payments-vouchers', count(*) FROM d;
-- an invoice whose payment is not due would cascade into it
WITH d AS (DELETE FROM invoices WHERE issued_at::date < '2020-01-01'
 AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.invoice_id = invoices.id)
 RETURNING 1) SELECT 'invoices-vouchers', count(*) FROM d;
WITH d AS (DELETE FROM order_lines WHERE order_id IN (SELECT id FROM orders
 WHERE status <> 'open' AND order_date < '2020-01-01')
 RETURNING 1) SELECT 'order-lines-vouchers', count(*) FROM d;
-- the books: 10 years from the end of the fiscal year (12-31)
WITH d AS (DELETE FROM sales_journal WHERE entry_date < '2016-01-01'
 RETURNING 1) SELECT 'sales-journal', count(*) FROM d;
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
WITH d AS (DELETE FROM orders WHERE status <> 'open' AND order_date < '2020-01-01'
 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.order_id = orders.id)
 AND NOT EXISTS (SELECT 1 FROM returns r WHERE r.order_id = orders.id)
 AND NOT EXISTS (SELECT 1 FROM complaints c WHERE c.order_id = orders.id)
 AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.order_id = orders.id)
 AND NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = orders.id)
 AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.order_id = orders.id)
 RETURNING 1) SELECT 'orders-vouchers', count(*) FROM d;
-- marketing profiles before consents: the first rule's clock reads consents
WITH d AS (DELETE FROM marketing_profiles WHERE
 (SELECT greatest(c.created_at, c.last_login_at, c.last_purchase_at)::date FROM customers c
   WHERE c.id = marketing_profiles.customer_id) < '2023-11-01'
 OR (NOT EXISTS (SELECT 1 FROM consents c WHERE c.customer_id = marketing_profiles.customer_id
   AND c.withdrawn_at IS NULL)
  AND (SELECT max(c.withdrawn_at)::date FROM consents c
   WHERE c.customer_id = marketing_profiles.customer_id) < '2026-10-02')
 OR updated_at::date < '2024-11-01'
 RETURNING 1) SELECT 'marketing-profiles', count(*) FROM d;
WITH d AS (DELETE FROM consents WHERE withdrawn_at::date < '2023-11-01'
 RETURNING 1) SELECT 'consents-after-withdrawal', count(*) FROM d;
-- what ends with an account's pseudonymisation: the account's inactivity
-- clock (3 years), read from columns pseudonymising does not change
WITH d AS (DELETE FROM consents WHERE withdrawn_at IS NULL AND
 (SELECT greatest(c.created_at, c.last_login_at, c.last_purchase_at)::date FROM customers c
   WHERE c.id = consents.customer_id) < '2023-11-01'
 RETURNING 1) SELECT 'consents-of-pseudonymised-accounts', count(*) FROM d;
WITH d AS (UPDATE marketing_bans SET customer_id = NULL WHERE customer_id IS NOT NULL AND
 (SELECT greatest(c.created_at, c.last_login_at, c.last_purchase_at)::date FROM customers c
   WHERE c.id = marketing_bans.customer_id) < '2023-11-01'
 RETURNING 1) SELECT 'marketing-ban-links', count(*) FROM d;
WITH d AS (UPDATE page_events SET customer_id = NULL, ip_address = NULL, user_agent = '[redacted]',
  postcode = substr(postcode, 1, 3)
 WHERE occurred_at::date < '2025-09-01'
 RETURNING 1) SELECT 'web-analytics', count(*) FROM d;
-- an inactive account goes last, once nothing it would cascade into (or that
-- still points at it) is left
WITH d AS (DELETE FROM customers
 WHERE greatest(created_at, last_login_at, last_purchase_at)::date < '2023-11-01'
 AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = customers.id)
 AND NOT EXISTS (SELECT 1 FROM addresses a WHERE a.customer_id = customers.id)
 AND NOT EXISTS (SELECT 1 FROM complaints c WHERE c.customer_id = customers.id)
 AND NOT EXISTS (SELECT 1 FROM consents c WHERE c.customer_id = customers.id)
 AND NOT EXISTS (SELECT 1 FROM marketing_profiles m WHERE m.customer_id = customers.id)
 AND NOT EXISTS (SELECT 1 FROM change_history h WHERE h.customer_id = customers.id)
 AND NOT EXISTS (SELECT 1 FROM marketing_bans b WHERE b.customer_id = customers.id)
 AND NOT EXISTS (SELECT 1 FROM chat_transcripts t WHERE t.customer_id = customers.id)
 AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.customer_id = customers.id)
 AND NOT EXISTS (SELECT 1 FROM page_events e WHERE e.customer_id = customers.id)
 RETURNING 1) SELECT 'unreferenced-inactive-accounts', count(*) FROM d;
COMMIT;
