"""run on the demo register at a fixed as-of disposes exactly what is due:
the rows that stay, the tokens of pseudonymised columns and every mask's
result are computed beforehand with independent SQL and Python (tokens with
hashlib); the run's JSON is the plan's; a dry run changes nothing; a second
run disposes nothing and changes no byte; plan afterwards shows nothing due."""
import os
import re
import sqlite3
from lethe_e2e import (add_months, check, clock_day, end_of_month, end_of_year, equal, finish,
                       run, sha256, tmpdir, write)
from lethe_run_e2e import config, dump, make_key, plan_rules, rows, run_json, same_set, token, token_row

AS_OF = "2026-11-01"
d = tmpdir()
rc, out, err = run("demo", os.path.join(d, "shop"), "--customers", "300")
equal(rc, 0, "demo writes the register")
db = os.path.join(d, "shop", "shop.sqlite")
key_path, key = make_key(d)
# Multi-byte characters where `first 12` cuts: it counts characters, not bytes.
con = sqlite3.connect(db)
con.execute("UPDATE chat_transcripts SET transcript = 'Hyvää yötä, ' || transcript WHERE id % 3 = 0")
con.commit()
con.close()


def years(day, n):
    return add_months(day, 12 * n)


ORDER_DATE = "(SELECT o.order_date FROM orders o WHERE o.id = {t}.order_id)"
PAY_DATE = ("(SELECT o.order_date FROM invoices i JOIN orders o ON o.id = i.order_id "
            "WHERE i.id = payments.invoice_id)")
# name: (table, where, from, counted_from, retain, end-of-retention SQL, action, columns)
RULES = {
    "customers": ("customers", None, "coalesce(last_login_at, created_at)", None, "3 years",
                  lambda x: years(x, 3), "pseudonymise", ["name", "email", "phone"]),
    "orders": ("orders", "status <> 'open'", "order_date", "end of year", "6 years",
               lambda x: years(end_of_year(x), 6), "delete", None),
    "order-lines": ("order_lines", None, ORDER_DATE.format(t="order_lines"), "end of year", "6 years",
                    lambda x: years(end_of_year(x), 6), "delete", None),
    "invoices": ("invoices", None, ORDER_DATE.format(t="invoices"), "end of year", "6 years",
                 lambda x: years(end_of_year(x), 6), "delete", None),
    "payments": ("payments", None, PAY_DATE, "end of year", "6 years",
                 lambda x: years(end_of_year(x), 6), "delete", None),
    "deliveries-names": ("deliveries", None, "delivered_at", None, "1 year",
                         lambda x: years(x, 1), "pseudonymise", ["recipient_name"]),
    "deliveries": ("deliveries", None, "delivered_at", "end of month", "5 years",
                   lambda x: years(end_of_month(x), 5), "delete", None),
    "returns": ("returns", None, "closed_at", None, "3 years", lambda x: years(x, 3), "delete", None),
    "complaints": ("complaints", None, "closed_at", None, "3 years", lambda x: years(x, 3),
                   "delete", None),
    "feedback": ("feedback", None, "received_at", None, "2 years", lambda x: years(x, 2), "mask",
                 {"comment": ('{redact: "[removed]"}', "text:[removed]")}),
    "web": ("page_events", None, "occurred_at", None, "14 months", lambda x: add_months(x, 14),
            "mask", {"ip_address": ("null", "null"), "user_agent": ("redact", "redact"),
             "postcode": ("first 3", "first 3")}),
    "chats": ("chat_transcripts", None, "ended_at", None, "12 months", lambda x: add_months(x, 12),
              "mask", {"started_at": ("month", "month"), "transcript": ("first 12", "first 12")}),
    "consents": ("consents", "withdrawn_at IS NOT NULL", "withdrawn_at", None, "30 days",
                 lambda x: f"date({x}, '+30 days')", "mask",
                 {"given_at": ("year", "year"), "source": ('"redact: withdrawn"', "text:withdrawn")}),
}

text = "lethe: 1\nrules:\n"
for name, (table, where, clock, cf, retain, _, action, cols) in RULES.items():
    text += f"  - name: {name}\n    basis: test\n    table: {table}\n"
    if where:
        text += f"    where: \"{where}\"\n"
    text += f"    from: \"{clock}\"\n"
    if cf:
        text += f"    counted_from: {cf}\n"
    text += f"    retain: {retain}\n    action: {action}\n"
    if isinstance(cols, list):
        text += f"    columns: [{', '.join(cols)}]\n"
    elif cols:
        text += "    columns:\n" + "".join(f"      {c}: {y}\n" for c, (y, _s) in cols.items())
text += "  - name: bans\n    basis: test\n    table: marketing_bans\n    action: keep\n"
write(os.path.join(d, "policies", "test.yaml"), text)
cfg = config(d, db, os.path.join(d, "policies"), key_path)


def due_sql(name):
    """1 when a row of the rule's table (named by its table) is due at AS_OF, blocking aside."""
    table, where, clock, cf, retain, end, action, cols = RULES[name]
    day = clock_day(clock)
    w = f"({where})" if where else "1"
    return f"({w} AND {day} IS NOT NULL AND {end(day)} < '{AS_OF}')"


# What deleting an order or an invoice touches, read from the schema by the
# test: CASCADE children must be due under their table's delete rule, SET NULL
# children (complaints, feedback) under any rule that disposes.
BLOCKED = {
    "invoices": f"EXISTS (SELECT 1 FROM payments WHERE payments.invoice_id = invoices.id "
                f"AND NOT {due_sql('payments')})",
}
BLOCKED["orders"] = f"""(
  EXISTS (SELECT 1 FROM order_lines WHERE order_lines.order_id = orders.id AND NOT {due_sql('order-lines')})
  OR EXISTS (SELECT 1 FROM invoices WHERE invoices.order_id = orders.id
             AND (NOT {due_sql('invoices')} OR {BLOCKED['invoices']}))
  OR EXISTS (SELECT 1 FROM deliveries WHERE deliveries.order_id = orders.id AND NOT {due_sql('deliveries')})
  OR EXISTS (SELECT 1 FROM returns WHERE returns.order_id = orders.id AND NOT {due_sql('returns')})
  OR EXISTS (SELECT 1 FROM complaints WHERE complaints.order_id = orders.id AND NOT {due_sql('complaints')})
  OR EXISTS (SELECT 1 FROM feedback WHERE feedback.order_id = orders.id AND NOT {due_sql('feedback')}))"""

# --- expectations, before anything runs -------------------------------------
con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
due_ids, blocked_ids = {}, {}
for name, (table, *_rest) in RULES.items():
    b = BLOCKED.get(name, "0")
    due_ids[name] = {r[0] for r in con.execute(
        f"SELECT id FROM {table} WHERE {due_sql(name)} AND NOT {b}")}
    blocked_ids[name] = {r[0] for r in con.execute(
        f"SELECT id FROM {table} WHERE {due_sql(name)} AND {b}")}
con.close()
TABLES = ["customers", "addresses", "orders", "order_lines", "invoices", "payments", "deliveries",
          "returns", "complaints", "feedback", "page_events", "chat_transcripts", "consents",
          "marketing_bans", "marketing_profiles", "change_history", "products"]
before = {t: rows(db, t) for t in TABLES}
deleted = {t: set() for t in TABLES}
for name, (table, _w, _c, _cf, _r, _e, action, _cols) in RULES.items():
    if action == "delete":
        deleted[table] |= due_ids[name]
# An order deleted takes its CASCADE children along; they are due themselves
# (else the order is blocked), so this adds nothing new: the test checks that.
for t in ["order_lines", "invoices", "deliveries", "returns"]:
    extra = {i for i, r in before[t].items() if r["order_id"] in deleted["orders"]} - deleted[t]
    equal(extra, set(), f"children of deleted orders in {t} are all due themselves")
check(len(deleted["orders"]) > 50 and len(blocked_ids["orders"]) > 0,
      f"the fixture deletes orders ({len(deleted['orders'])}) and blocks some ({len(blocked_ids['orders'])})")
for name in ["customers", "deliveries-names", "feedback", "web", "chats", "consents"]:
    check(len(due_ids[name]) > 0, f"the fixture has due rows for {name} ({len(due_ids[name])})")

# Equal names in customers and deliveries, to compare their tokens across tables.
shared = ({before["customers"][i]["name"] for i in due_ids["customers"]}
          & {before["deliveries"][i]["recipient_name"] for i in due_ids["deliveries-names"] - deleted["deliveries"]})
check(len(shared) >= 5, f"due customers and due deliveries share names ({len(shared)})")


def masked(strategy, v):
    """The contract's mask, written independently."""
    if v is None or strategy == "null":
        return None
    if strategy == "redact":
        return "[redacted]"
    if strategy.startswith("text:"):
        return strategy[5:]
    if strategy == "year":
        return v[:4]
    if strategy == "month":
        return v[:7]
    m = re.fullmatch(r"first (\d+)", strategy)
    return v[:int(m.group(1))]


expected = {}
for t in TABLES:
    exp = {}
    for i, r in before[t].items():
        if i in deleted[t]:
            continue
        r = dict(r)
        if t in ("feedback", "complaints") and r["order_id"] in deleted["orders"]:
            r["order_id"] = None     # ON DELETE SET NULL
        exp[i] = r
    expected[t] = exp
for name, (table, _w, _c, _cf, _r, _e, action, cols) in RULES.items():
    for i in due_ids[name]:
        if i not in expected[table]:
            continue
        r = expected[table][i]
        if action == "pseudonymise":
            for c in cols:
                # customers.email is UNIQUE: its token is bound to the row's key.
                tok = token_row(key, r[c], i) if (table, c) == ("customers", "email") else token(key, r[c])
                r[c] = None if r[c] is None else tok
        elif action == "mask":
            for c, (_y, s) in cols.items():
                r[c] = masked(s, r[c])

# --- plan, dry run ----------------------------------------------------------
plan = plan_rules(cfg, AS_OF)
for name in RULES:
    equal(plan.get(name, {}).get("due"), len(due_ids[name]), f"plan: {name} due")
    equal(plan.get(name, {}).get("blocked"), len(blocked_ids[name]), f"plan: {name} blocked")

sha_before = sha256(db)
rc, dry, err = run_json(cfg, "--as-of", AS_OF, "--dry-run")
equal(rc, 0, "run --dry-run exits 0")
equal(dry, plan, "run --dry-run --json is the plan")
equal(sha256(db), sha_before, "run --dry-run leaves the register byte-identical")
equal(sorted(os.listdir(os.path.dirname(db))), ["lethe.yaml", "shop.sqlite"],
      "run --dry-run leaves no lock, journal or other file")

# --- the run ----------------------------------------------------------------
rc, got, err = run_json(cfg, "--as-of", AS_OF)
if rc != 0:
    print(err)
equal(rc, 0, "run exits 0")
for name, p in plan.items():
    want = dict(p)
    want["disposed"] = want.pop("due")
    equal(got.get(name), want, f"run --json equals plan --json for {name}, with 'disposed'")

after = {t: rows(db, t) for t in TABLES}
for t in TABLES:
    same_set(after[t], expected[t], f"{t}: the remaining ids")
    wrong = [i for i in expected[t] if i in after[t] and after[t][i] != expected[t][i]]
    equal(wrong[:5], [], f"{t}: every remaining row holds exactly its expected values")

# Tokens: shape, exactly on the due rows, consistent across tables.
TOK = re.compile(r"tok_[0-9a-f]{32}")
for table, cols, rule in [("customers", ["name", "email", "phone"], "customers"),
                          ("deliveries", ["recipient_name"], "deliveries-names")]:
    tokened = {i for i, r in after[table].items() if any(r[c] and TOK.fullmatch(r[c]) for c in cols)}
    same_set(tokened, due_ids[rule] & set(after[table]), f"{table}: tokens exactly on the due rows")
pairs = {}
for i in due_ids["customers"]:
    pairs.setdefault(before["customers"][i]["name"], set()).add(after["customers"][i]["name"])
for i in due_ids["deliveries-names"] & set(after["deliveries"]):
    pairs.setdefault(before["deliveries"][i]["recipient_name"], set()).add(
        after["deliveries"][i]["recipient_name"])
equal([n for n, toks in pairs.items() if len(toks) != 1], [],
      "one name, one token, in customers and deliveries alike")
equal(len({next(iter(t)) for t in pairs.values()}), len(pairs), "different names, different tokens")

# Masks, spelled out on one due row each, beyond the row comparison above.
for table, rule, col, check_fn, what in [
        ("page_events", "web", "ip_address", lambda a, b: a is None, "null"),
        ("page_events", "web", "user_agent", lambda a, b: a == "[redacted]", "redact"),
        ("page_events", "web", "postcode", lambda a, b: a == (b and b[:3]), "first 3"),
        ("feedback", "feedback", "comment", lambda a, b: a == (None if b is None else "[removed]"), "redact: TEXT"),
        ("chat_transcripts", "chats", "started_at", lambda a, b: re.fullmatch(r"\d{4}-\d{2}", a), "month"),
        ("chat_transcripts", "chats", "transcript", lambda a, b: a == b[:12], "first 12"),
        ("consents", "consents", "given_at", lambda a, b: re.fullmatch(r"\d{4}", a), "year"),
        ("consents", "consents", "source", lambda a, b: a == "withdrawn", "redact: TEXT")]:
    ids = sorted(due_ids[rule])
    bad = [i for i in ids if not check_fn(after[table][i][col], before[table][i][col])]
    equal(bad[:5], [], f"{table}.{col}: {what} on all {len(ids)} due rows")

check(any(not before["chat_transcripts"][i]["transcript"][:12].isascii() for i in due_ids["chats"]),
      "first 12 is tried on text with multi-byte characters")

# --- a second run, plan afterwards -----------------------------------------
dump_after, sha_after = dump(db), sha256(db)
rc, again, err = run_json(cfg, "--as-of", AS_OF)
equal(rc, 0, "a second run exits 0")
equal({n: r.get("disposed") for n, r in again.items()}, {n: 0 for n in plan},
      "a second run with the same as-of disposes 0 everywhere")
equal(dump(db) == dump_after, True, "a second run changes no stored value")
# its only write is the evidence head it remembers (lethe/evidence_tip.h)
equal(sha256(db) == sha_after, False, "a second run remembers its records' evidence head")
after_plan = plan_rules(cfg, AS_OF)
equal({n: r.get("due") for n, r in after_plan.items()}, {n: 0 for n in plan}, "plan after the run: due 0")
equal(after_plan.get("orders", {}).get("blocked"), len(blocked_ids["orders"]),
      "plan after the run: the blocked orders are still blocked")
finish()
