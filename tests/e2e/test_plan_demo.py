"""plan on the demo register at a fixed as-of: every count of every rule
equals what independent SQL computes (SQLite's date functions, with the
month-end clamp written out), including odd clock spellings, invalid clocks
and blocked cascades. The register stays byte-identical."""
import os
import sqlite3
from lethe_e2e import (add_days, add_months, check, clock_day, config, end_of_month, equal,
                       finish, plan_json, run, sha256, tmpdir, write)

AS_OF = "2026-11-01"
d = tmpdir()
rc, out, err = run("demo", os.path.join(d, "shop"), "--customers", "400")
equal(rc, 0, "demo writes the register")
db = os.path.join(d, "shop", "shop.sqlite")

# Plant clock values of every accepted spelling, and some invalid ones.
con = sqlite3.connect(db)
con.executescript("""
-- a column without type affinity keeps integers and reals as they are given
ALTER TABLE page_events ADD COLUMN seen_at;
UPDATE page_events SET seen_at = occurred_at;
UPDATE page_events SET seen_at = 'last tuesday' WHERE id IN (1, 2, 3);
UPDATE page_events SET seen_at = CAST(strftime('%s', occurred_at) AS INTEGER) WHERE id BETWEEN 10 AND 40;
UPDATE page_events SET seen_at = replace(occurred_at, ' ', 'T') || 'Z' WHERE id BETWEEN 41 AND 60;
UPDATE page_events SET seen_at = replace(occurred_at, ' ', 'T') || '+03:00' WHERE id BETWEEN 61 AND 80;
UPDATE page_events SET seen_at = substr(occurred_at, 1, 10) WHERE id BETWEEN 81 AND 100;
UPDATE page_events SET seen_at = 1.5 WHERE id = 101;
UPDATE page_events SET seen_at = NULL WHERE id = 102;
UPDATE change_history SET changed_at = '2024-02-30' WHERE id IN (5, 6);
""")
con.commit()
con.close()

# (name, table, where, clock SQL, end-of-retention SQL builder, action, columns)
FY = "06-30"


def end_of_fy(day):
    # the first 06-30 on or after the day
    return (f"(CASE WHEN strftime('%m-%d', {day}) <= '{FY}' "
            f"THEN strftime('%Y', {day}) || '-{FY}' "
            f"ELSE (strftime('%Y', {day}) + 1) || '-{FY}' END)")


def years(day, n):
    return add_months(day, 12 * n)


ORDER_DATE = "(SELECT o.order_date FROM orders o WHERE o.id = {t}.order_id)"
rules = [
    ("orders", "orders", "status <> 'open'", "order_date",
     lambda x: years(end_of_fy(x), 10), "delete", ""),
    ("order-lines", "order_lines", None, ORDER_DATE.format(t="order_lines"),
     lambda x: years(end_of_fy(x), 10), "delete", ""),
    ("invoices", "invoices", None, ORDER_DATE.format(t="invoices"),
     lambda x: years(end_of_fy(x), 10), "delete", ""),
    ("payments", "payments", None,
     "(SELECT o.order_date FROM invoices i JOIN orders o ON o.id = i.order_id WHERE i.id = payments.invoice_id)",
     lambda x: years(end_of_fy(x), 10), "delete", ""),
    ("deliveries", "deliveries", None, "delivered_at",
     lambda x: add_months(end_of_month(x), 12), "delete", ""),
    ("returns", "returns", None, "closed_at", lambda x: years(x, 3), "delete", ""),
    ("complaints", "complaints", None, "closed_at", lambda x: years(x, 3), "delete", ""),
    ("feedback", "feedback", None, "received_at", lambda x: add_months(x, 12), "mask",
     "    columns:\n      comment: redact\n"),
    ("web", "page_events", None, "seen_at", lambda x: add_months(x, 14), "mask",
     "    columns:\n      ip_address: null\n"),
    ("chats", "chat_transcripts", None, "ended_at", lambda x: add_days(x, 52 * 7), "delete", ""),
    ("history", "change_history", None, "changed_at", lambda x: add_days(x, 730), "delete", ""),
]
spell = {"orders": ("end of fiscal year", "10 years"), "order-lines": ("end of fiscal year", "10 years"),
         "invoices": ("end of fiscal year", "10 years"), "payments": ("end of fiscal year", "10 years"),
         "deliveries": ("end of month", "12 months"), "returns": (None, "3 years"),
         "complaints": (None, "3 years"), "feedback": (None, "12 months"), "web": (None, "14 months"),
         "chats": (None, "52 weeks"), "history": (None, "730 days")}
text = f"lethe: 1\nfiscal_year_end: {FY}\nrules:\n"
for name, table, where, clock, _, action, cols in rules:
    cf, retain = spell[name]
    text += f"  - name: {name}\n    basis: test\n    table: {table}\n"
    if where:
        text += f"    where: {where}\n"
    text += f"    from: \"{clock}\"\n"
    if cf:
        text += f"    counted_from: {cf}\n"
    text += f"    retain: {retain}\n    action: {action}\n{cols}"
text += "  - name: bans\n    basis: test\n    table: marketing_bans\n    action: keep\n"
write(os.path.join(d, "policies", "test.yaml"), text)
cfg = config(d, db, os.path.join(d, "policies"))


def due_sql(rule):
    """1 when a row of the rule's table (named by its table) is due at AS_OF."""
    name, table, where, clock, end, action, cols = rule
    day = clock_day(clock)
    w = f"({where})" if where else "1"
    return f"({w} AND {day} IS NOT NULL AND {end(day)} < '{AS_OF}')"


R = {r[0]: r for r in rules}
# What deleting an order touches (the test's own reading of the schema):
# CASCADE children must be due under their delete rule, SET NULL children due
# under any rule; payments hang off invoices.
blocked_orders = f"""(
  EXISTS (SELECT 1 FROM order_lines WHERE order_lines.order_id = orders.id AND NOT {due_sql(R['order-lines'])})
  OR EXISTS (SELECT 1 FROM invoices WHERE invoices.order_id = orders.id AND (NOT {due_sql(R['invoices'])}
     OR EXISTS (SELECT 1 FROM payments WHERE payments.invoice_id = invoices.id AND NOT {due_sql(R['payments'])})))
  OR EXISTS (SELECT 1 FROM deliveries WHERE deliveries.order_id = orders.id AND NOT {due_sql(R['deliveries'])})
  OR EXISTS (SELECT 1 FROM returns WHERE returns.order_id = orders.id AND NOT {due_sql(R['returns'])})
  OR EXISTS (SELECT 1 FROM complaints WHERE complaints.order_id = orders.id AND NOT {due_sql(R['complaints'])})
  OR EXISTS (SELECT 1 FROM feedback WHERE feedback.order_id = orders.id AND NOT {due_sql(R['feedback'])}))"""
blocked_invoices = f"EXISTS (SELECT 1 FROM payments WHERE payments.invoice_id = invoices.id AND NOT {due_sql(R['payments'])})"
blocked = {"orders": blocked_orders, "invoices": blocked_invoices}

before = sha256(db)
plan = plan_json(cfg, AS_OF)
con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
total_due = total_blocked = 0
for rule in rules:
    name, table, where, clock, end, action, cols = rule
    day = clock_day(clock)
    w = f"({where})" if where else "1"
    b = blocked.get(name, "0")
    q = f"""SELECT count(*),
      sum({day} IS NOT NULL AND {end(day)} < '{AS_OF}' AND NOT {b}),
      sum({day} IS NOT NULL AND {end(day)} >= '{AS_OF}'),
      sum(({clock}) IS NULL),
      sum(({clock}) IS NOT NULL AND {day} IS NULL),
      sum({day} IS NOT NULL AND {end(day)} < '{AS_OF}' AND {b}),
      min(CASE WHEN {day} IS NOT NULL AND {end(day)} >= '{AS_OF}' THEN date({end(day)}, '+1 day') END)
      FROM {table} WHERE {w}"""
    want = [x if x is not None else 0 for x in con.execute(q).fetchone()]
    want[6] = want[6] or None
    got = plan.get(name, {})
    keys = ["in_scope", "due", "not_due", "not_started", "invalid", "blocked", "next_due"]
    for k, v in zip(keys, want):
        equal(got.get(k), v, f"{name} {k}")
    total_due += want[1]
    total_blocked += want[5]
equal(plan.get("web", {}).get("invalid"), 4, "web: 3 unparseable texts and one REAL are invalid")
equal(plan.get("history", {}).get("invalid"), 2, "history: impossible dates are invalid")
equal(plan.get("bans", {}).get("in_scope"), con.execute("SELECT count(*) FROM marketing_bans").fetchone()[0],
      "keep rule counts its rows in scope")
equal(plan.get("bans", {}).get("due"), 0, "keep rule disposes nothing")
check(total_due > 1000, f"the fixture disposes a fair amount ({total_due} rows due)")
check(total_blocked > 0, f"some orders are blocked by open complaints ({total_blocked})")
con.close()
equal(sha256(db), before, "plan leaves the register byte-identical")

# The text table names every rule; the reference policies plan too.
rc, out, err = run("-c", cfg, "plan", "--as-of", AS_OF)
equal(rc, 0, "plan prints a table")
check(all(r[0] in out for r in rules), "the table names every rule")
rc, out, err = run("-c", os.path.join(d, "shop", "lethe.yaml"), "plan", "--as-of", AS_OF, "--json")
equal(rc, 0, "plan with the reference policies")
finish()
