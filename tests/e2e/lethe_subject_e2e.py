"""Helpers for the end-to-end tests of data subjects' requests on the
reference shop: a customer with every kind of data, and every table's rows
of a customer written as independent SQL (not from the policy)."""

BY_ORDER = "order_id IN (SELECT id FROM orders WHERE customer_id = :s)"
# WHERE clauses of each table's rows of customer :s.
QUERIES = {
    "customers": "id = :s",
    "addresses": "customer_id = :s", "change_history": "customer_id = :s",
    "orders": "customer_id = :s", "order_lines": BY_ORDER, "invoices": BY_ORDER,
    "payments": f"invoice_id IN (SELECT id FROM invoices WHERE {BY_ORDER})",
    "consents": "customer_id = :s", "marketing_profiles": "customer_id = :s",
    "marketing_bans": "customer_id = :s", "deliveries": BY_ORDER, "returns": BY_ORDER,
    "complaints": "customer_id = :s", "chat_transcripts": "customer_id = :s",
    "feedback": "customer_id = :s", "page_events": "customer_id = :s",
}


def rich_subject(con):
    """The customer with placed orders, chats, consents and a marketing
    profile (and as many other kinds of data as possible)."""
    return con.execute("""
SELECT c.id FROM customers c
WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.status <> 'open')
  AND EXISTS (SELECT 1 FROM chat_transcripts t WHERE t.customer_id = c.id)
  AND EXISTS (SELECT 1 FROM consents t WHERE t.customer_id = c.id)
  AND EXISTS (SELECT 1 FROM marketing_profiles t WHERE t.customer_id = c.id)
ORDER BY (EXISTS (SELECT 1 FROM complaints t WHERE t.customer_id = c.id))
  + (EXISTS (SELECT 1 FROM page_events t WHERE t.customer_id = c.id)) DESC,
  (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) DESC LIMIT 1""").fetchone()[0]
