"""PostgreSQL: user SQL in a policy cannot change the register or smuggle in
chance (issue 13, "User SQL is safe"):
- a volatile function hidden behind an operator (no call in the text) is
  refused by check at FILE:LINE:COL, found through the dependency catalogue
  of a temporary view over the expression (pg_depend, pg_operator.oprcode);
- a function marked STABLE that writes through a volatile one passes check,
  but plan runs it in a READ ONLY transaction: plan fails and nothing is
  written;
- the read-only role of docs/disposal.md (lethe_plan: USAGE and SELECT only)
  runs check and plan, with the same counts as the owner; its check names no
  missing privilege for planning;
- a rule reading a view over another rule's table is ordered before it (the
  view's base table found through pg_depend), so the run's log lists it first.
The server is started by the test (lethe_pg.py)."""
import datetime
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import lethe_e2e as e2e
import lethe_pg
from lethe_run_e2e import config, run_json

lethe_pg.require("PostgreSQL user SQL")
TODAY = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
d = e2e.tmpdir()
SCHEMA = """
CREATE TABLE customers (id bigint PRIMARY KEY, last_seen date NOT NULL);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, placed date NOT NULL);
CREATE TABLE audit (n int);
INSERT INTO customers SELECT i, CASE WHEN i % 2 = 0 THEN DATE '2015-01-01' ELSE current_date END
    FROM generate_series(1, 40) i;
INSERT INTO orders SELECT i, i, DATE '2015-01-01' FROM generate_series(1, 40) i;
CREATE VIEW recent_orders AS SELECT customer_id, placed FROM orders;
CREATE FUNCTION sneaky(date, int) RETURNS date VOLATILE LANGUAGE sql
    AS $$ INSERT INTO audit VALUES (1); SELECT $1 + $2 $$;
CREATE OPERATOR %% (LEFTARG = date, RIGHTARG = int, FUNCTION = sneaky);
CREATE FUNCTION writes() RETURNS void VOLATILE LANGUAGE sql AS $$ INSERT INTO audit VALUES (2) $$;
CREATE FUNCTION looks_stable(d date) RETURNS date STABLE LANGUAGE plpgsql
    AS $$ BEGIN PERFORM writes(); RETURN d; END $$;
"""
GOOD = """lethe: 1
rules:
  - name: inactive-customers
    basis: test
    table: customers
    from: last_seen
    retain: 1 year
    action: delete
"""


def site(name, rules, user=None):
    pol = os.path.join(d, name, "policies")
    e2e.write(os.path.join(pol, "rules.yaml"), rules)
    loc = srv.location("shop")
    if user:
        loc = loc.replace(f"user={srv.user}", f"user={user}")
    cfg = os.path.join(d, name, "lethe.yaml")
    e2e.write(cfg, f"database: '{loc}'\npolicies: {pol}\n")
    return cfg


srv = lethe_pg.PostgresServer().start(d)
try:
    loc = srv.create_database("shop")
    srv.sql("shop", SCHEMA)
    owner = site("owner", GOOD)
    rc, out, err = e2e.run("init", os.path.join(d, "owner", "site"), "--database", loc, "--policies",
                           os.path.join(d, "owner", "policies"))
    e2e.equal(rc, 0, f"init makes Lethe's own schema, which lethe_plan reads ({err.strip()[-200:]})")
    rc, out, err = e2e.run("-c", owner, "check")
    e2e.equal(rc, 0, f"the owner's check passes ({err.strip()[-300:]})")

    # 1. a volatile function behind an operator
    bad = site("operator", GOOD.replace("from: last_seen", "from: last_seen %% 0"))
    rc, out, err = e2e.run("-c", bad, "check")
    e2e.equal(rc, 65, f"check refuses a volatile function behind an operator ({err.strip()[-300:]})")
    e2e.check("rules.yaml:6:" in err and "sneaky" in err and "volatile" in err,
              f"naming the function at its line ({err.strip()})")
    e2e.equal(srv.value("shop", "SELECT count(*) FROM audit"), "0", "nothing was written by check")

    # 2. a writer marked STABLE: check cannot tell, plan's READ ONLY transaction stops it
    sly = site("stable", GOOD.replace("from: last_seen", "from: looks_stable(last_seen)"))
    rc, out, err = e2e.run("-c", sly, "plan", "--as-of", TODAY)
    e2e.check(rc != 0 and "read-only transaction" in err,
              f"plan fails in its read-only transaction ({rc}: {err.strip()[-300:]})")
    e2e.equal(srv.value("shop", "SELECT count(*) FROM audit"), "0", "and nothing was written by plan")

    # 3. the read-only role of docs/disposal.md
    srv.sql("shop", """CREATE ROLE lethe_plan LOGIN;
GRANT USAGE ON SCHEMA public, lethe TO lethe_plan;
GRANT SELECT ON ALL TABLES IN SCHEMA public, lethe TO lethe_plan;""")
    e2e.equal(srv.value("shop", "SELECT count(*) FROM information_schema.table_privileges WHERE "
                                "grantee = 'lethe_plan' AND privilege_type <> 'SELECT'"), "0",
              "lethe_plan may only read")
    ro = site("readonly", GOOD, user="lethe_plan")
    rc, out, err = e2e.run("-c", ro, "check")
    e2e.equal(rc, 0, f"check runs as the read-only role ({err.strip()[-300:]})")
    plans = []
    for cfg in (owner, ro):
        rc, out, err = e2e.run("-c", cfg, "plan", "--as-of", TODAY, "--json")
        e2e.equal(rc, 0, f"plan runs ({err.strip()[-300:]})")
        plans.append({r["name"]: r["due"] for r in json.loads(out)["rules"]} if rc == 0 else None)
    e2e.equal(plans[1], plans[0], "the read-only role's plan counts are the owner's")
    e2e.equal(plans[0], {"inactive-customers": 20}, "and they are the due rows")

    # 4. a rule reading a view over orders runs before the rule deleting orders:
    # in policy order the customers' clock (their last order) would be gone
    pol = os.path.join(d, "order", "policies")
    e2e.write(os.path.join(pol, "rules.yaml"), """lethe: 1
rules:
  - name: old-orders
    basis: test
    table: orders
    from: placed
    retain: 1 year
    action: delete
  - name: customers-by-orders
    basis: test
    table: customers
    from: (SELECT max(placed) FROM recent_orders r WHERE r.customer_id = customers.id)
    retain: 1 year
    action: delete
""")
    cfg = config(os.path.join(d, "order"), loc, pol)
    rc, rules, err = run_json(cfg, "--as-of", TODAY)
    e2e.equal(rc, 0, f"the run exits 0 ({err.strip()[-300:]})")
    e2e.equal({n: r.get("disposed") for n, r in rules.items()},
              {"old-orders": 40, "customers-by-orders": 40},
              "the rule reading the view ran first: every customer's last order was seen")
finally:
    srv.stop()
e2e.finish()
