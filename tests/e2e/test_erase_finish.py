# engines: sqlite postgresql mariadb
"""The daily `lethe run` finishes an erasure that kept rows while a condition
or a legal hold held (GDPR 17(3) excepts them only while it lasts), on every
engine (lethe_engines.py), on the reference shop:

- customer A has a paid order whose parcel is on its way and an open
  complaint; customer B is under a legal hold; customer C has a parcel on
  its way. Each is erased: the rows the conditions keep stay.
- A run while the conditions hold finishes nothing and keeps those rows.
- The parcels are delivered, the complaint closed, the hold released, and
  C's e-mail address changed (the key now shows other contact values: it may
  be another person). `run --dry-run` reports what would be disposed of and
  changes nothing.
- The next run disposes of A's and B's kept rows (the name and e-mail
  pseudonymised, the address, delivery and complaint deleted), records each
  as an erasure whose intent `completes` the first erasure (same subject and
  contact digests, no new request), and says so in its output; C is not
  touched and a warning says why, without the key; `lethe verify` passes.
- The run after that finishes nothing again; erasing C again (an operator's
  decision) disposes of its rows at once and closes it. `lethe status`
  counts the open erasures throughout."""
import datetime
import json
import os
import subprocess

import lethe_engines
from lethe_e2e import check, equal, finish, run, tmpdir
from lethe_subject_e2e import records

d = tmpdir()
shop = os.path.join(d, "shop")
eng = lethe_engines.engine().start(d)
eng.demo(shop, customers=60)
db = eng.location()
os.remove(os.path.join(shop, "lethe.yaml"))
rc, out, err = run("init", shop, "--database", db)
equal(rc, 0, f"init makes a site {err.strip()}")
cfg = os.path.join(shop, "lethe.yaml")
evidence = os.path.join(shop, "evidence")


def q(sql):
    return eng.sql(sql)


def one(sql):
    rows = q(sql)
    return rows[0][0] if rows else None


def lethe(*args):
    return run("-c", cfg, *args)


A, B, C = [int(r[0]) for r in q("SELECT id FROM customers ORDER BY id LIMIT 3")]
# active accounts: the run's own rules would dispose of an inactive one's rows
recent = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=2)).strftime("%Y-%m-%d")
q(f"UPDATE customers SET last_login_at = '{recent} 08:00:00' WHERE id IN ({A}, {B}, {C})")
# every earlier order of the three delivered and every case closed, so only
# the rows planted below keep anything
for cid in (A, B, C):
    q(f"UPDATE orders SET status = 'delivered' WHERE customer_id = {cid} AND status IN ('open', 'paid')")
    q(f"UPDATE deliveries SET delivered_at = '2026-01-02 10:00:00' WHERE delivered_at IS NULL "
      f"AND order_id IN (SELECT id FROM orders WHERE customer_id = {cid})")
    q(f"UPDATE complaints SET closed_at = '2026-01-03 10:00:00' WHERE closed_at IS NULL AND customer_id = {cid}")
    q(f"UPDATE returns SET closed_at = '2026-01-03 10:00:00' WHERE closed_at IS NULL "
      f"AND order_id IN (SELECT id FROM orders WHERE customer_id = {cid})")
for cid, oid in ((A, 900001), (C, 900003)):
    q(f"INSERT INTO orders (id, customer_id, order_date, status, total_cents) VALUES "
      f"({oid}, {cid}, '2026-11-28 09:00:00', 'paid', 1990)")
    q(f"INSERT INTO deliveries (id, order_id, carrier, tracking_code, recipient_name, recipient_street, "
      f"recipient_postcode, delivered_at) VALUES ({oid}, {oid}, 'Posti', 'JJFI{oid}', 'Recipient {cid}', "
      f"'Pakettitie {cid}', '00100', NULL)")
q(f"INSERT INTO complaints (id, customer_id, order_id, description, opened_at, closed_at) VALUES "
  f"(900001, {A}, 900001, 'the hat is too small', '2026-11-29 10:00:00', NULL)")
rc, out, err = lethe("hold", "add", "--subject", str(B), "--reason", "claim in court")
equal(rc, 0, f"a legal hold on customer B {err.strip()}")

names = {cid: one(f"SELECT name FROM customers WHERE id = {cid}") for cid in (A, B, C)}
for cid in (A, B, C):
    rc, out, err = lethe("erase", "--subject", str(cid), "--json")
    equal(rc, 0, f"erase customer {cid} {err.strip()[-300:]}")
    kept = sum(c["kept"] for c in json.loads(out)["categories"]) if rc == 0 else 0
    check(kept > 0, f"the erasure of {cid} keeps rows")
first = {r["subject"]: r for r in records(evidence) if r.get("kind") == "intent" and r.get("request")}
equal(len(first), 3, "three erasures in the evidence")


def state():
    return {
        "names": [one(f"SELECT name FROM customers WHERE id = {cid}") for cid in (A, B, C)],
        "deliveries": one("SELECT count(*) FROM deliveries WHERE id IN (900001, 900003)"),
        "complaint": one("SELECT count(*) FROM complaints WHERE id = 900001"),
        "b_orders": one(f"SELECT count(*) FROM orders WHERE customer_id = {B}"),
    }


def open_erasures():
    rc, out, err = lethe("status", "--json")
    return json.loads(out)["open_erasures"]["count"] if out.strip() else f"status failed: {err}"


equal(open_erasures(), 3, "status counts three open erasures")
rc, out, err = lethe("status")
check("erasures:  3 open since" in out, f"and says so: {out}")
held = state()
equal(held["names"], [names[A], names[B], names[C]], "the kept names are there after the erasures")
equal((held["deliveries"], held["complaint"]), ("2", "1"), "the parcels on their way and the open complaint are kept")

# --- a run while the conditions hold -------------------------------------------
rc, out, err = lethe("run", "--json")
equal(rc, 0, f"the run while the conditions hold exits 0 {err.strip()[-300:]}")
equal(json.loads(out).get("erasures_finished") if rc == 0 else None, [],
      "it finishes no erasure")
equal(state(), held, "and keeps what the conditions keep")

# --- the conditions end --------------------------------------------------------
q(f"UPDATE orders SET status = 'delivered' WHERE id IN (900001, 900003)")
q("UPDATE deliveries SET delivered_at = '2026-11-30 12:00:00' WHERE id IN (900001, 900003)")
q("UPDATE complaints SET closed_at = '2026-11-30 13:00:00' WHERE id = 900001")
q(f"UPDATE customers SET email = 'someone-else-{C}@example.org' WHERE id = {C}")
hold_id = json.loads(lethe("hold", "list", "--json")[1])[0]["id"]
rc, out, err = lethe("hold", "release", str(hold_id), "--reason", "settled")
equal(rc, 0, f"the hold is released {err.strip()}")
ended = state()
n_records = len(records(evidence))

rc, out, err = lethe("run", "--dry-run", "--json")
equal(rc, 0, f"run --dry-run exits 0 {err.strip()[-300:]}")
dry = json.loads(out).get("erasures_finished", []) if rc == 0 else []
check(all(f["disposed"] > 0 for f in dry) and len(dry) >= 2,
      f"the dry run says which erasures would be finished: {dry}")
equal(state(), ended, "run --dry-run changes nothing")
equal(len(records(evidence)), n_records, "and records nothing")

rc, out, err = lethe("run", "--json")
equal(rc, 0, f"the run after the conditions ended exits 0 {err.strip()[-300:]}")
fin = json.loads(out).get("erasures_finished", []) if rc == 0 else []
by_seq = {f["erasure"]: f for f in fin}
seq = dict(zip((A, B, C), sorted(r["seq"] for r in first.values())))
equal(sorted(by_seq), sorted(seq.values()), f"the run's output names the three open erasures: {fin}")
equal([(by_seq[seq[c]]["still_open"], by_seq[seq[c]]["skipped"], by_seq[seq[c]]["disposed"] > 0)
       for c in (A, B)], [(False, False, True)] * 2, "A's and B's erasures are finished")
equal((by_seq[seq[C]]["skipped"], by_seq[seq[C]]["disposed"]), (True, 0),
      "C's erasure is not: the contact values are not those erased")
check("not finished" in err and str(C) not in err.split("not finished")[1][:200]
      and f"someone-else-{C}" not in err, f"a warning says why, without the key: {err.strip()[-400:]}")
now = state()
check(now["names"][0].startswith("tok_") and now["names"][1].startswith("tok_"),
      f"A's and B's names, kept for the delivery and the hold, are pseudonymised now: {now['names']}")
equal(now["names"][2], names[C], "C's name is not touched")
equal((now["deliveries"], now["complaint"]), ("1", "0"),
      "A's delivered parcel and closed complaint are deleted; C's parcel stays")
equal(one(f"SELECT count(*) FROM chat_transcripts WHERE customer_id = {B}"), "0",
      "B's chats, held until now, are deleted")
fins = [r for r in records(evidence) if r.get("kind") == "intent" and "completes" in r]
equal(sorted((r["completes"], r["subject"], r.get("contact"), "received" in r, r["request"]) for r in fins),
      sorted((s["seq"], s["subject"], s.get("contact"), False, "erasure")
             for s in first.values() if s["seq"] != seq[C]),
      "the evidence has one finishing erasure per finished subject: completes, same digests, no request")
subjects = subprocess.run(["git", "-C", evidence, "log", "--format=%s", "main"], capture_output=True,
                          text=True, check=True).stdout.splitlines()
check(sum(" finish " in s for s in subjects) == 4,
      f"their commits say 'finish' (intent and completion of each): {subjects[:6]}")
equal(open_erasures(), 1, "one erasure is still open (C's)")
rc, out, err = lethe("verify")
equal(rc, 0, f"lethe verify passes {out.strip()[-200:]} {err.strip()[-200:]}")

# --- the next run: nothing more to finish; C stays open for a person -----------
rc, out, err = lethe("run", "--json")
equal(rc, 0, f"the next run exits 0 {err.strip()[-200:]}")
equal([(f["erasure"], f["skipped"]) for f in json.loads(out)["erasures_finished"]] if rc == 0 else None,
      [(seq[C], True)], "the next run finishes nothing; C is still left for a person")
rc, out, err = lethe("erase", "--subject", str(C))
equal(rc, 0, f"erasing C again {err.strip()[-200:]}")
equal((state()["deliveries"], state()["names"][2].startswith("tok_")), ("0", True),
      "the new erasure disposes of C's delivered parcel and name at once")
rc, out, err = lethe("run", "--json")
equal(json.loads(out)["erasures_finished"] if rc == 0 else None, [],
      "and nothing is left open after it")
equal(open_erasures(), 0, "status counts none open")
finish()
