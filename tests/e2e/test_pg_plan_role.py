"""The planning role's grants on PostgreSQL (docs/disposal.md, least
privilege): check and plan are meant to run as a role that may only read.
- check as a role that only reads (lethe_plan: USAGE and SELECT) says
  nothing about write access; as the superuser, the tables' owner, a role
  with DELETE on one table and one with UPDATE on one column only, check
  (exit 0) warns naming the role and each table it can write to, and why;
- with read_only: true in lethe.yaml (a planning site), check and plan as a
  writing role refuse (78) naming role and table, and plan as lethe_plan
  gives the same counts as the owner's; a writing command (run) refuses
  (78) before it connects, and nothing is deleted.
The server is started by the test (lethe_pg.py)."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import lethe_e2e as e2e
import lethe_pg

lethe_pg.require("PostgreSQL plan role")
AS_OF = "2026-11-01"
d = e2e.tmpdir()
SCHEMA = """
CREATE ROLE shop_owner LOGIN;
CREATE TABLE customers (id bigint PRIMARY KEY, last_seen date NOT NULL, name text);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, placed date NOT NULL);
ALTER TABLE customers OWNER TO shop_owner;
ALTER TABLE orders OWNER TO shop_owner;
INSERT INTO customers SELECT i, CASE WHEN i % 2 = 0 THEN DATE '2015-01-01' ELSE DATE '2026-10-01' END,
    'n' || i FROM generate_series(1, 40) i;
INSERT INTO orders SELECT i, i, CASE WHEN i % 3 = 0 THEN DATE '2015-01-01' ELSE DATE '2026-10-01' END
    FROM generate_series(1, 40) i;
"""
RULES = """lethe: 1
rules:
  - name: inactive-customers
    basis: test
    table: customers
    from: last_seen
    retain: 1 year
    action: delete
  - name: old-orders
    basis: test
    table: orders
    from: placed
    retain: 1 year
    action: delete
"""
ROLES = """
CREATE ROLE lethe_plan LOGIN;
GRANT USAGE ON SCHEMA public, lethe TO lethe_plan;
GRANT SELECT ON ALL TABLES IN SCHEMA public, lethe TO lethe_plan;
CREATE ROLE deleter LOGIN IN ROLE lethe_plan;
GRANT DELETE ON orders TO deleter;
CREATE ROLE renamer LOGIN IN ROLE lethe_plan;
GRANT UPDATE (name) ON customers TO renamer;
GRANT USAGE ON SCHEMA lethe TO shop_owner;
GRANT SELECT ON ALL TABLES IN SCHEMA lethe TO shop_owner;
"""


def site(name, user, extra=""):
    pol = os.path.join(d, "policies")
    e2e.write(os.path.join(pol, "rules.yaml"), RULES)
    loc = srv.location("shop").replace(f"user={srv.user}", f"user={user}")
    cfg = os.path.join(d, name, "lethe.yaml")
    e2e.write(cfg, f"database: '{loc}'\npolicies: {pol}\n{extra}")
    return cfg


def warnings(err):
    return [line for line in err.splitlines() if "can write to" in line]


def plan_counts(cfg):
    rc, out, err = e2e.run("-c", cfg, "plan", "--as-of", AS_OF, "--json")
    e2e.equal(rc, 0, f"plan as {cfg} ({err.strip()[-300:]})")
    return {r["name"]: r["due"] for r in json.loads(out)["rules"]} if rc == 0 else {}


srv = lethe_pg.PostgresServer().start(d)
try:
    loc = srv.create_database("shop")
    srv.sql("shop", SCHEMA)
    e2e.write(os.path.join(d, "policies", "rules.yaml"), RULES)
    rc, out, err = e2e.run("init", os.path.join(d, "init"), "--database", loc, "--policies",
                           os.path.join(d, "policies"))
    e2e.equal(rc, 0, f"init makes Lethe's own schema ({err.strip()[-200:]})")
    srv.sql("shop", ROLES)
    e2e.equal(srv.value("shop", "SELECT count(*) FROM information_schema.table_privileges WHERE "
                                "grantee = 'lethe_plan' AND privilege_type <> 'SELECT'"), "0",
              "lethe_plan may only read")

    # 1. check warns for every role that could write, naming role, tables and why
    want = {
        "lethe_plan": [],
        "postgres": ["role 'postgres' is a superuser and can write to register tables 'customers', "
                     "'orders'"],
        "shop_owner": ["role 'shop_owner' can write to register tables 'customers' (owner), "
                       "'orders' (owner)"],
        "deleter": ["role 'deleter' can write to register table 'orders' (DELETE)"],
        "renamer": ["role 'renamer' can write to register table 'customers' (UPDATE)"],
    }
    for user, lines in want.items():
        rc, out, err = e2e.run("-c", site(f"check-{user}", user), "check")
        e2e.equal(rc, 0, f"check as {user} passes ({err.strip()[-300:]})")
        got = warnings(err)
        e2e.equal(len(got), len(lines), f"check as {user}: {len(lines)} write-access warning(s) ({got})")
        for g, w in zip(got, lines):
            e2e.check(w in g and "may only read" in g and "warning" in g,
                      f"check as {user} warns: {w} ({g})")

    # 2. a planning site (read_only: true) refuses a role that could write
    owner_counts = plan_counts(site("plan-owner", "postgres"))
    e2e.check(owner_counts.get("inactive-customers", 0) > 0 and owner_counts.get("old-orders", 0) > 0,
              f"the owner's plan finds due rows ({owner_counts})")
    ro = site("ro-reader", "lethe_plan", "read_only: true\n")
    rc, out, err = e2e.run("-c", ro, "check")
    e2e.equal(rc, 0, f"a read_only site's check as lethe_plan passes ({err.strip()[-300:]})")
    e2e.equal(warnings(err), [], "and says nothing about write access")
    e2e.equal(plan_counts(ro), owner_counts, "plan as lethe_plan gives the owner's counts")
    for user in ("deleter", "postgres"):
        cfg = site(f"ro-{user}", user, "read_only: true\n")
        for cmd in (["check"], ["plan", "--as-of", AS_OF]):
            rc, out, err = e2e.run("-c", cfg, *cmd)
            e2e.equal(rc, 78, f"{cmd[0]} as {user} on a read_only site exits 78")
            e2e.check(f"role '{user}'" in err and "'orders'" in err and "read_only: true" in err,
                      f"{cmd[0]} as {user} names the role, the table and read_only ({err.strip()[-300:]})")
    before = srv.value("shop", "SELECT count(*) FROM customers")
    rc, out, err = e2e.run("-c", site("ro-run", "postgres", "read_only: true\n"), "run", "--as-of", AS_OF)
    e2e.equal(rc, 78, "run on a read_only site exits 78")
    e2e.check("read_only: true" in err, f"and says why ({err.strip()[-200:]})")
    e2e.equal(srv.value("shop", "SELECT count(*) FROM customers"), before, "nothing was deleted")
    rc, out, err = e2e.run("-c", site("bad", "postgres", "read_only: yes please\n"), "check")
    e2e.equal(rc, 78, "read_only must be true or false")
    e2e.check("read_only" in err and "lethe.yaml:3:" in err, f"named at FILE:LINE ({err.strip()[-200:]})")
finally:
    srv.stop()
e2e.finish()
