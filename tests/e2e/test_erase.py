# engines: sqlite postgresql mariadb
"""`lethe erase` on the reference shop, on every engine (lethe_engines.py) (demo + lethe init), for a customer
with orders, chats, consents and a marketing profile:
- `--dry-run` changes nothing (the SQLite file byte-identical, a server's
  tables' rows identical);
- `erase` removes the chat, consent and marketing data, pseudonymises the
  account (tok_ values), keeps the placed orders (all younger than their 6
  years) with their basis and the disposal days computed independently in
  SQL (end of the order's year + 6 years + 1 day), in text and in --json;
  every other customer is untouched;
- the contact e-mail joins the suppression list (any case, any spaces);
- the evidence has an erasure intent and a completion, `lethe verify`
  passes, and the e-mail is nowhere in the evidence;
- a second erase disposes of nothing new; an unknown subject exits 65;
- on SQLite, planted values (a chat transcript, a name) are gone from the
  bytes of the database file and any -wal/-journal (a server's files:
  test_pg_residue.py, test_mariadb_residue.py)."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import lethe_engines
from lethe_e2e import SOURCE, check, equal, finish, run, sha256, tmpdir
from lethe_run_e2e import config
from lethe_subject_e2e import QUERIES, rich_subject, use_engine

d = tmpdir()
eng = lethe_engines.engine().start(d)
eng.demo(os.path.join(d, "db"), customers=300)
db = eng.location()
use_engine(eng)
cfg = config(d, db, os.path.abspath(os.path.join(SOURCE, "policies")))
repo = os.path.join(os.path.dirname(cfg), "site1", "evidence")

PLANTED_CHAT = "plantedchat QWXZ-7731 my secret account story"
PLANTED_NAME = "Zorblatt Plantedname"
# a rich subject whose vouchers are all still within their 6 years (an
# erasure disposes of those already due: test_legal_periods.py)
subject = rich_subject(db, "2021-01-01")
email = eng.sql(f"SELECT email FROM customers WHERE id = {subject}")[0][0]
first_chat = eng.sql(f"SELECT min(id) FROM chat_transcripts WHERE customer_id = {subject}")[0][0]
eng.sql(f"UPDATE chat_transcripts SET transcript = '{PLANTED_CHAT}' WHERE id = {first_chat}")
eng.sql(f"UPDATE customers SET name = '{PLANTED_NAME}' WHERE id = {subject}")


def where(table):
    return QUERIES[table].replace(":s", str(subject))


def others():
    """Every row of every shop table that is not the subject's, as text."""
    return {t: [[lethe_engines.normalise(v) for v in r]
                for r in eng.sql(f'SELECT * FROM {t} WHERE NOT ({where(t)}) ORDER BY id')]
            for t in QUERIES}


def snapshot():
    """The SQLite file's SHA-256; on a server, every shop table's rows."""
    if eng.name == "sqlite":
        return sha256(db)
    return {t: eng.dump(t) for t in QUERIES}


def count(table):
    return int(eng.sql(f"SELECT count(*) FROM {table} WHERE {where(table)}")[0][0])


def expected_days():
    """First and last disposal day of the subject's placed orders, computed
    here: end of the order's (fiscal = calendar) year + 6 years + 1 day."""
    days = [f"{int(r[0][:4]) + 7}-01-01" for r in
            eng.sql(f"SELECT order_date FROM orders WHERE customer_id = {subject} AND status <> 'open'")]
    return (min(days), max(days)) if days else (None, None)


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
placed_orders = int(eng.sql(f"SELECT count(*) FROM orders WHERE customer_id = {subject} "
                            "AND status <> 'open'")[0][0])
check(first is not None, f"subject {subject} has placed orders (kept from {first} to {last})")
before_others = others()
before = snapshot()
counts = {t: count(t) for t in QUERIES}
check(all(counts[t] for t in ("orders", "chat_transcripts", "consents", "marketing_profiles")),
      f"subject {subject} has orders, chats, consents and a marketing profile")

rc, out, err = run("-c", cfg, "erase", "--subject", str(subject), "--dry-run")
equal(rc, 0, f"erase --dry-run exits 0 ({err.strip()})")
equal(snapshot(), before, "erase --dry-run leaves the database as it was")
check("dry run" in out, "the dry run says so")

rc, out, err = run("-c", cfg, "erase", "--subject", str(subject))
equal(rc, 0, f"erase exits 0 ({err.strip()})")
for t in ("chat_transcripts", "consents", "marketing_profiles", "feedback", "deliveries"):
    equal(count(t), 0, f"the subject's {t} are gone")
for t in ("orders", "order_lines", "invoices", "payments"):
    equal(count(t), counts[t], f"the subject's {t} are kept")
rows = eng.sql(f"SELECT name, email, phone FROM customers WHERE id = {subject}")
row = rows[0] if rows else None
check(row is not None and all(v is None or v.startswith("tok_") for v in row),
      f"the customer row is pseudonymised: {row}")
check("Kirjanpitolaki" in out, "the answer names the basis of the kept orders")
want_text = (f"to be disposed of on {first}" if first == last
             else f"to be disposed of between {first} and {last}")
check(want_text in out, f"the answer says '{want_text}'")
equal(others(), before_others, "every other customer's rows are untouched")

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
equal(others(), before_others, "other customers still untouched")

# Unknown subject: 65, nothing changed.
now = snapshot()
nrec = len(records())
rc, out, err = run("-c", cfg, "erase", "--subject", "999999")
equal(rc, 65, "an unknown subject exits 65")
equal(snapshot(), now, "and changes nothing")
equal(len(records()), nrec, "and records nothing")

# Residue (SQLite): the planted values are in no file of the database.
for name in sorted(os.listdir(os.path.dirname(db))) if eng.name == "sqlite" else []:
    if not name.startswith("shop.sqlite") or name.endswith(".lock"):
        continue
    data = open(os.path.join(os.path.dirname(db), name), "rb").read()
    for planted in (PLANTED_CHAT, "QWXZ-7731", PLANTED_NAME, "Zorblatt", email):
        check(planted.encode() not in data, f"'{planted}' is not in the bytes of {name}")
eng.stop()
finish()
