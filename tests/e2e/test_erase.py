"""`lethe erase` on the reference shop (demo + lethe init), for a customer
with orders, chats, consents and a marketing profile:
- `--dry-run` changes nothing (byte-identical);
- `erase` removes the chat, consent and marketing data, pseudonymises the
  account (tok_ values), keeps the placed orders (all younger than their 6
  years) with their basis and the disposal days computed independently in
  SQL (end of the order's year + 6 years + 1 day), in text and in --json;
  every other customer is untouched;
- the contact e-mail joins the suppression list (any case, any spaces);
- the evidence has an erasure intent and a completion, `lethe verify`
  passes, and the e-mail is nowhere in the evidence;
- a second erase disposes of nothing new; an unknown subject exits 65;
- planted values (a chat transcript, a name) are gone from the bytes of the
  database file and any -wal/-journal."""
import json
import os
import sqlite3
import subprocess
from lethe_e2e import SOURCE, check, equal, finish, run, sha256, tmpdir
from lethe_run_e2e import config, dump
from lethe_subject_e2e import QUERIES, rich_subject

d = tmpdir()
rc, out, err = run("demo", os.path.join(d, "db"), "--customers", "300")
equal(rc, 0, "demo register")
db = os.path.join(d, "db", "shop.sqlite")
cfg = config(d, db, os.path.abspath(os.path.join(SOURCE, "policies")))
repo = os.path.join(os.path.dirname(cfg), "site1", "evidence")

PLANTED_CHAT = "plantedchat QWXZ-7731 my secret account story"
PLANTED_NAME = "Zorblatt Plantedname"
con = sqlite3.connect(db)
# a rich subject whose vouchers are all still within their 6 years (an
# erasure disposes of those already due: test_legal_periods.py)
subject = rich_subject(con, "2021-01-01")
email = con.execute("SELECT email FROM customers WHERE id = ?", (subject,)).fetchone()[0]
con.execute("UPDATE chat_transcripts SET transcript = ? WHERE id = "
            "(SELECT min(id) FROM chat_transcripts WHERE customer_id = ?)", (PLANTED_CHAT, subject))
con.execute("UPDATE customers SET name = ? WHERE id = ?", (PLANTED_NAME, subject))
con.commit()
con.close()


def others(db_path):
    """Every row of every shop table that is not the subject's, as text."""
    c = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return {t: c.execute(f'SELECT * FROM "{t}" WHERE NOT ({w}) ORDER BY id', {"s": subject}).fetchall()
                for t, w in QUERIES.items()}
    finally:
        c.close()


def count(table):
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return c.execute(f'SELECT count(*) FROM "{table}" WHERE {QUERIES[table]}', {"s": subject}).fetchone()[0]
    finally:
        c.close()


def expected_days():
    """First and last disposal day of the subject's placed orders, in SQL:
    end of the order's (fiscal = calendar) year + 6 years + 1 day."""
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return c.execute("SELECT min(d), max(d) FROM (SELECT date(order_date, 'start of year', "
                         "'+7 years') AS d FROM orders WHERE customer_id = ? AND status <> 'open')",
                         (subject,)).fetchone()
    finally:
        c.close()


def evidence_text():
    dump_ = subprocess.run(["git", "-C", repo, "cat-file", "--batch-all-objects", "--batch"],
                           capture_output=True).stdout.decode("utf-8", "replace")
    log = subprocess.run(["git", "-C", repo, "log", "--format=%B"], capture_output=True, text=True).stdout
    return dump_ + log


def records():
    names = subprocess.run(["git", "-C", repo, "ls-tree", "-r", "--name-only", "main", "records/"],
                           capture_output=True, text=True).stdout.split()
    return [json.loads(subprocess.run(["git", "-C", repo, "show", f"main:{n}"], capture_output=True,
                                      text=True).stdout) for n in names]


for variant in (email, email.upper(), f"  {email}  "):
    rc, out, err = run("-c", cfg, "suppressed", variant)
    equal(rc, 1, f"suppressed {variant!r} exits 1 before the erasure")

first, last = expected_days()
c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
placed_orders = c.execute("SELECT count(*) FROM orders WHERE customer_id = ? AND status <> 'open'",
                          (subject,)).fetchone()[0]
c.close()
check(first is not None, f"subject {subject} has placed orders (kept from {first} to {last})")
before_others = others(db)
before = sha256(db)
counts = {t: count(t) for t in QUERIES}
check(all(counts[t] for t in ("orders", "chat_transcripts", "consents", "marketing_profiles")),
      f"subject {subject} has orders, chats, consents and a marketing profile")

rc, out, err = run("-c", cfg, "erase", "--subject", str(subject), "--dry-run")
equal(rc, 0, f"erase --dry-run exits 0 ({err.strip()})")
equal(sha256(db), before, "erase --dry-run leaves the database byte-identical")
check("dry run" in out, "the dry run says so")

rc, out, err = run("-c", cfg, "erase", "--subject", str(subject))
equal(rc, 0, f"erase exits 0 ({err.strip()})")
for t in ("chat_transcripts", "consents", "marketing_profiles", "feedback", "deliveries"):
    equal(count(t), 0, f"the subject's {t} are gone")
for t in ("orders", "order_lines", "invoices", "payments"):
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    placed = c.execute(f"SELECT count(*) FROM {t} WHERE {QUERIES[t]}", {"s": subject}).fetchone()[0]
    c.close()
    equal(placed, counts[t], f"the subject's {t} are kept")
c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
row = c.execute("SELECT name, email, phone FROM customers WHERE id = ?", (subject,)).fetchone()
c.close()
check(row is not None and all(v is None or v.startswith("tok_") for v in row),
      f"the customer row is pseudonymised: {row}")
check("Kirjanpitolaki" in out, "the answer names the basis of the kept orders")
want_text = (f"to be disposed of on {first}" if first == last
             else f"to be disposed of between {first} and {last}")
check(want_text in out, f"the answer says '{want_text}'")
equal(others(db), before_others, "every other customer's rows are untouched")

for variant in (email, email.upper(), f"  {email}  "):
    rc, out2, err = run("-c", cfg, "suppressed", variant)
    equal(rc, 0, f"suppressed {variant!r} exits 0 after the erasure")
rc, out2, err = run("-c", cfg, "suppressed", "someone.else.9931@example.net")
equal(rc, 1, "another address is not suppressed")

recs = records()
intents = [r for r in recs if r.get("kind") == "intent" and r.get("request") == "erasure"]
equal(len(intents), 1, "the evidence has one erasure intent")
if intents:
    check(any(r.get("kind") == "completion" and r.get("run_id") == intents[0]["run_id"] for r in recs),
          "and its completion")
rc, vout, verr = run("-c", cfg, "verify")
equal(rc, 0, f"lethe verify passes ({vout.strip()} {verr.strip()})")
ev = evidence_text()
check(email not in ev and email.split("@")[0] not in ev, "the subject's e-mail is nowhere in the evidence")
check(PLANTED_NAME not in ev and "plantedchat" not in ev, "nor the planted name or chat")

# The --json answer of a second erase: nothing new, the kept orders' days.
after = sha256(db)
rc, out, err = run("-c", cfg, "erase", "--subject", str(subject), "--json")
equal(rc, 0, f"a second erase exits 0 ({err.strip()})")
cats = {c["rule"]: c for c in json.loads(out)["categories"]} if rc == 0 else {}
erased = {n: c["erased"] for n, c in cats.items() if c["erased"]}
equal(erased, {}, "a second erase disposes of nothing new")
o = cats.get("orders-vouchers", {})
equal((o.get("kept"), o.get("disposal_from"), o.get("disposal_until"), o.get("on_erasure")),
      (placed_orders, first, last, "keep"),
      "--json gives the kept orders' disposal days")
check("Kirjanpitolaki" in o.get("basis", ""), "--json gives the orders' basis")
equal(others(db), before_others, "other customers still untouched")

# Unknown subject: 65, nothing changed.
now = sha256(db)
nrec = len(records())
rc, out, err = run("-c", cfg, "erase", "--subject", "999999")
equal(rc, 65, "an unknown subject exits 65")
equal(sha256(db), now, "and changes nothing")
equal(len(records()), nrec, "and records nothing")

# Residue: the planted values are in no file of the database.
for name in sorted(os.listdir(os.path.dirname(db))):
    if not name.startswith("shop.sqlite") or name.endswith(".lock"):
        continue
    data = open(os.path.join(os.path.dirname(db), name), "rb").read()
    for planted in (PLANTED_CHAT, "QWXZ-7731", PLANTED_NAME, "Zorblatt", email):
        check(planted.encode() not in data, f"'{planted}' is not in the bytes of {name}")
finish()
