"""MariaDB: a table that references itself among a rule's dependents
(customers.referred_by, ON DELETE SET NULL; categories.parent_id, ON DELETE
CASCADE) is planned and disposed of as on SQLite: the same register on an
SQLite file and in a throwaway MariaDB server (lethe_mariadb.py) gives the
same plan counts and the same rows left, a current row is never disposed of
and no row is deleted under a kept child. Before, MariaDB refused the rule
("references itself: not yet supported")."""
import json
import os
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import lethe_e2e as e2e
import lethe_mariadb
from lethe_run_e2e import config

lethe_mariadb.require("MariaDB self-referencing table")
AS_OF = "2026-06-01"
d = e2e.tmpdir()
pol = os.path.join(d, "policies")
e2e.write(os.path.join(pol, "rules.yaml"), """lethe: 1
rules:
  - name: customers
    basis: test
    table: customers
    from: seen
    retain: 1 year
    action: delete
  - name: categories
    basis: test
    table: categories
    from: retired
    retain: 1 year
    action: delete
  - name: items
    basis: test
    table: items
    from: sold
    retain: 1 year
    action: delete
""")

# (id, referred_by, seen): 1 old, referred 2 (old) and 3 (current); 4 old,
# referred 5 (old) who referred 6 (current); 7 old alone; 8 current, referred 9 (old)
CUSTOMERS = [(1, None, "2015-01-01"), (2, 1, "2015-02-01"), (3, 1, "2026-05-01"),
             (4, None, "2015-01-01"), (5, 4, "2015-01-01"), (6, 5, "2026-05-01"),
             (7, None, "2015-01-01"), (8, None, "2026-05-01"), (9, 8, "2015-01-01")]
# (id, parent_id, retired): a tree under 1 all retired; 10 retired with a
# live child 11; 20 live with a retired child 21; 30 retired, a grandchild live
CATEGORIES = [(1, None, "2015-01-01"), (2, 1, "2015-01-01"), (3, 2, "2015-01-01"),
              (10, None, "2015-01-01"), (11, 10, None),
              (20, None, None), (21, 20, "2015-01-01"),
              (30, None, "2015-01-01"), (31, 30, "2015-01-01"), (32, 31, None)]
# items in categories: an old item in 3 (due), a current item in 31
ITEMS = [(1, 3, "2015-01-01"), (2, 31, "2026-05-01")]


def values(rows):
    return ", ".join("(" + ", ".join("NULL" if v is None else repr(v) for v in r) + ")" for r in rows)


SQLITE = f"""
PRAGMA foreign_keys = ON;
CREATE TABLE customers (id INTEGER PRIMARY KEY, referred_by INTEGER
  REFERENCES customers(id) ON DELETE SET NULL, seen TEXT NOT NULL);
CREATE TABLE categories (id INTEGER PRIMARY KEY, parent_id INTEGER
  REFERENCES categories(id) ON DELETE CASCADE, retired TEXT);
CREATE TABLE items (id INTEGER PRIMARY KEY, category_id INTEGER NOT NULL
  REFERENCES categories(id) ON DELETE CASCADE, sold TEXT NOT NULL);
INSERT INTO customers VALUES {values(CUSTOMERS)};
INSERT INTO categories VALUES {values(CATEGORIES)};
INSERT INTO items VALUES {values(ITEMS)};
"""
MARIA = f"""
CREATE TABLE customers (id bigint PRIMARY KEY, referred_by bigint, seen date NOT NULL,
  FOREIGN KEY (referred_by) REFERENCES customers (id) ON DELETE SET NULL) ENGINE=InnoDB;
CREATE TABLE categories (id bigint PRIMARY KEY, parent_id bigint, retired date,
  FOREIGN KEY (parent_id) REFERENCES categories (id) ON DELETE CASCADE) ENGINE=InnoDB;
CREATE TABLE items (id bigint PRIMARY KEY, category_id bigint NOT NULL, sold date NOT NULL,
  FOREIGN KEY (category_id) REFERENCES categories (id) ON DELETE CASCADE) ENGINE=InnoDB;
INSERT INTO customers VALUES {values(CUSTOMERS)};
INSERT INTO categories VALUES {values(CATEGORIES)};
INSERT INTO items VALUES {values(ITEMS)};
"""


def plan(cfg):
    rc, out, err = e2e.run("-c", cfg, "plan", "--as-of", AS_OF, "--json")
    e2e.equal(rc, 0, f"plan ({err.strip()[-300:]})")
    return {r["name"]: {k: r.get(k) for k in ("due", "blocked", "held", "not_due")}
            for r in json.loads(out)["rules"]} if rc == 0 else {}


def run(cfg, engine):
    rc, out, err = e2e.run("-c", cfg, "run", "--as-of", AS_OF, "--json", "--allow-future-as-of")
    e2e.equal(rc, 0, f"run on {engine} ({err.strip()[-300:]})")
    return {r["name"]: r["disposed"] for r in json.loads(out)["rules"]} if rc == 0 else {}


# SQLite: the reference
sd = os.path.join(d, "sqlite")
os.makedirs(sd)
db = os.path.join(sd, "reg.sqlite")
con = sqlite3.connect(db)
con.executescript(SQLITE)
con.close()
scfg = config(sd, db, pol)
splan = plan(scfg)
sran = run(scfg, "SQLite")
con = sqlite3.connect(db)
sleft = {t: sorted(tuple(str(v) if v is not None else None for v in r)
                   for r in con.execute(f"SELECT * FROM {t}")) for t in ("customers", "categories", "items")}
con.close()
e2e.check(splan.get("categories", {}).get("blocked", 0) > 0, f"SQLite blocks some categories ({splan})")

srv = lethe_mariadb.MariadbServer().start(d)
try:
    loc = srv.create_database("shop")
    subprocess.run(srv.client_cmd("shop"), input=MARIA, text=True, check=True, timeout=120)
    md = os.path.join(d, "maria")
    os.makedirs(md)
    mcfg = config(md, loc, pol)
    mplan = plan(mcfg)
    e2e.equal(mplan, splan, "MariaDB plans as SQLite")
    mran = run(mcfg, "MariaDB")
    e2e.equal(mran, sran, "MariaDB disposes of what SQLite does")
    mleft = {t: sorted(tuple(v for v in r) for r in srv.sql("shop", f"SELECT * FROM {t}"))
             for t in ("customers", "categories", "items")}
    e2e.equal(mleft, sleft, "the same rows are left on both")
    ids = {t: {r[0] for r in rows} for t, rows in mleft.items()}
    for cid, _, seen in CUSTOMERS:
        if seen >= "2025":
            e2e.check(str(cid) in ids["customers"], f"current customer {cid} kept")
    for cid, _, retired in CATEGORIES:
        if retired is None:
            e2e.check(str(cid) in ids["categories"], f"live category {cid} kept")
    e2e.check("2" in ids["items"], "the current item (its category's grandparent retired) kept")
    e2e.check("10" in ids["categories"] and "30" in ids["categories"],
              "a retired category with a live descendant is kept")
    rc, out, err = e2e.run("-c", mcfg, "plan", "--as-of", AS_OF, "--json")
    e2e.equal(rc, 0, "plan again after the run")
finally:
    srv.stop()
e2e.finish()
