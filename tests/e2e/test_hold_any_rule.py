"""Holds hold, whichever rule reaches the row (issue 10, item 2). A hold placed
on rule B protects the rows of B's table that B's where (and the hold's
--where) select, also from an earlier rule A of the same table that selects
the same rows, from the cascade of a parent's deletion, and from erase; plan
counts them held under every rule that reaches them. A row B's where does not
select is not held by B's hold and goes as usual."""
import json
import os
import sqlite3
from lethe_e2e import check, equal, finish, run, tmpdir, write

AS_OF = "2026-06-01"
d = tmpdir()
db = os.path.join(d, "reg.sqlite")
con = sqlite3.connect(db)
con.executescript("""
PRAGMA foreign_keys = ON;
CREATE TABLE customers(id INTEGER PRIMARY KEY, left_at TEXT);
CREATE TABLE accounts(id INTEGER PRIMARY KEY,
    customer_id INTEGER REFERENCES customers(id) ON DELETE CASCADE,
    kind TEXT NOT NULL, closed TEXT);
-- customers 1..6 left long ago (due); customer 7 is current
INSERT INTO customers VALUES (1, '2019-01-01'), (2, '2019-01-01'), (3, '2019-01-01'),
    (4, '2019-01-01'), (5, '2019-01-01'), (6, '2019-01-01'), (7, NULL);
-- every account closed long ago: due under closed-accounts (and trial ones under trials)
INSERT INTO accounts VALUES
    (10, 7, 'trial', '2020-01-01'),   -- held by the hold on 'trials' (--where id = 10)
    (11, 7, 'paid',  '2020-01-01'),   -- 'trials' does not select it: the same hold misses it
    (12, 7, 'trial', '2020-01-01'),   -- not held: goes
    (20, 2, 'trial', '2020-01-01'),   -- held; its customer 2 is due: the delete must be blocked
    (30, 3, 'trial', '2020-01-01'),   -- held; customer 3 is erased: kept
    (31, 3, 'paid',  '2020-01-01'),   -- of customer 3, not held: erased
    (40, 4, 'paid',  '2020-01-01');   -- customer 4 due, account not held: both go
""")
con.commit()
con.close()
pol = os.path.join(d, "policies")
write(os.path.join(pol, "rules.yaml"), """lethe: 1
subject:
  table: customers
  key: id
rules:
  - name: closed-accounts
    basis: test
    table: accounts
    subject: customer_id
    from: closed
    retain: 1 year
    action: delete
  - name: trials
    basis: test
    table: accounts
    subject: customer_id
    where: kind = 'trial'
    from: closed
    retain: 30 days
    action: delete
  - name: former-customers
    basis: test
    table: customers
    subject: id
    from: left_at
    retain: 1 year
    action: delete
""")
rc, out, err = run("init", os.path.join(d, "site"), "--database", db, "--policies", pol)
equal(rc, 0, f"site ({err.strip()})")
cfg = os.path.join(d, "site", "lethe.yaml")


def lethe(*args):
    return run("-c", cfg, *args)


def plan():
    rc, out, err = lethe("plan", "--as-of", AS_OF, "--json")
    equal(rc, 0, f"plan ({err.strip()})")
    return {r["name"]: r for r in json.loads(out)["rules"]} if rc == 0 else {}


def ids(table):
    con = sqlite3.connect(db)
    try:
        return {r[0] for r in con.execute(f"SELECT id FROM {table}")}
    finally:
        con.close()


for where in ("id = 10", "id IN (11, 20, 30)"):
    rc, out, err = lethe("hold", "add", "--reason", "dispute", "--rule", "trials", "--where", where)
    equal(rc, 0, f"hold on rule 'trials' --where {where!r} ({err.strip()})")

p = plan()
# closed-accounts reaches 10, 20 and 30 first: they are held there, not due.
equal(p.get("closed-accounts", {}).get("held"), 3,
      "plan: the rows held through 'trials' count held under 'closed-accounts'")
equal(p.get("trials", {}).get("held"), 3, "plan: and held under 'trials' itself")
equal(p.get("closed-accounts", {}).get("due"), 4, "plan: 11, 12, 31, 40 are due under 'closed-accounts'")

rc, out, err = lethe("erase", "--subject", "3", "--json")
equal(rc, 0, f"erase of customer 3 ({err.strip()})")
check(30 in ids("accounts"), "erase keeps account 30, held through rule 'trials'")
check(31 not in ids("accounts"), "erase removes customer 3's account 31, which no hold covers")
check(3 in ids("customers"), "customer 3 stays: the held account 30 blocks the cascade")

rc, out, err = lethe("run", "--as-of", AS_OF, "--json")
equal(rc, 0, f"run ({err.strip()})")
accounts = ids("accounts")
check(10 in accounts, "run keeps account 10, held on 'trials' though 'closed-accounts' selects it")
check(11 not in accounts, "account 11 ('trials' does not select it) goes despite the hold's --where")
check(12 not in accounts and 40 not in accounts, "unheld due accounts go")
check(20 in accounts and 2 in ids("customers"),
      "customer 2 is kept: its held account blocks the delete that would cascade to it")
check(4 not in ids("customers"), "customer 4, with nothing held, goes")
check(30 in accounts, "account 30 is still held")

rc, out, err = lethe("verify")
equal(rc, 0, f"lethe verify passes ({out.strip()} {err.strip()})")
finish()
