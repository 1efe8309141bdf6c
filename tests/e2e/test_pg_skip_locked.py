"""PostgreSQL: rows another transaction holds locked during a run are skipped
(FOR UPDATE SKIP LOCKED), counted and left for the next run, never lost. A
second connection holds a row lock on three due customers, spread over the
pages of a small batch size, for the whole first run. That run disposes of
every other due row (the pages after a skipped row are still done), says how
many it skipped in its log, its --json answer and its completion record, and
keeps the three; the next run, the locks gone, disposes of exactly them.
The server is started by the test (lethe_pg.py)."""
import datetime
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import lethe_e2e as e2e
import lethe_pg
from lethe_run_e2e import config, evidence_records, run_json

lethe_pg.require("PostgreSQL skipped rows")
TODAY = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
d = e2e.tmpdir()
pol = os.path.join(d, "policies")
e2e.write(os.path.join(pol, "rules.yaml"), """lethe: 1
rules:
  - name: inactive-customers
    basis: test
    table: customers
    from: last_seen
    retain: 1 year
    action: delete
""")
# customers 1..100; those with id % 3 = 0 are current, the others due
SCHEMA = """
CREATE TABLE customers (id bigint PRIMARY KEY, last_seen date NOT NULL);
INSERT INTO customers SELECT i, CASE WHEN i % 3 = 0 THEN current_date ELSE DATE '2015-01-01' END
    FROM generate_series(1, 100) i;
"""
LOCKED = [2, 41, 97]          # due, in the first, a middle and the last page
srv = lethe_pg.PostgresServer().start(d)
holder = None
try:
    loc = srv.create_database("shop")
    srv.sql("shop", SCHEMA)
    cfg = config(d, loc, pol)
    due = {str(i) for i in range(1, 101) if i % 3}
    keep = {str(i) for i in range(1, 101) if i % 3 == 0}
    ids = ",".join(map(str, LOCKED))
    holder = subprocess.Popen(srv.psql_cmd("shop") + ["-c", "BEGIN; SELECT id FROM customers WHERE id IN "
                                                      f"({ids}) FOR UPDATE; SELECT pg_sleep(120); COMMIT"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(500):  # until the three rows are locked by the holder
        if srv.value("shop", f"SELECT count(*) FROM (SELECT id FROM customers WHERE id IN ({ids}) "
                             "FOR UPDATE SKIP LOCKED) AS l") == "0":
            break
        time.sleep(0.02)
    else:
        raise RuntimeError("the holder did not lock the rows")

    rc, rules, err = run_json(cfg, "--as-of", TODAY, env={"LETHE_TEST_BATCH": "10"})
    e2e.equal(rc, 0, f"the run beside the lock holder exits 0 ({err.strip()[-300:]})")
    r = rules.get("inactive-customers", {})
    e2e.equal(r.get("skipped"), 3, "--json counts the three locked rows as skipped")
    e2e.equal(r.get("disposed"), len(due) - 3, "every other due row is disposed of")
    e2e.check("3 due rows locked by another transaction were skipped" in err,
              f"the log says so ({err.strip()[-300:]})")
    left = {row[0] for row in srv.sql("shop", "SELECT id FROM customers")}
    e2e.equal(left, keep | {str(i) for i in LOCKED}, "the locked rows and the current ones are left")
    done = [x for x in evidence_records(cfg) if x.get("kind") == "completion"]
    last = done[-1]["rules"][0] if done and done[-1].get("rules") else {}
    e2e.equal(last.get("skipped"), 3, "the completion record counts them")
    rc, out, err = e2e.run("-c", cfg, "verify")
    e2e.equal(rc, 0, f"the evidence with a skipped count verifies ({err.strip()[-300:]})")

    holder.kill()
    holder.wait()
    srv.sql("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE query LIKE '%pg_sleep(120)%' AND pid <> pg_backend_pid()")
    for _ in range(500):
        if srv.value("shop", f"SELECT count(*) FROM (SELECT id FROM customers WHERE id IN ({ids}) "
                             "FOR UPDATE SKIP LOCKED) AS l") == "3":
            break
        time.sleep(0.02)
    rc, rules, err = run_json(cfg, "--as-of", TODAY, env={"LETHE_TEST_BATCH": "10"})
    e2e.equal(rc, 0, f"the next run exits 0 ({err.strip()[-300:]})")
    r = rules.get("inactive-customers", {})
    e2e.equal(r.get("disposed"), 3, "the next run disposes of the three rows skipped before")
    e2e.equal(r.get("skipped"), None, "and skips none")
    left = {row[0] for row in srv.sql("shop", "SELECT id FROM customers")}
    e2e.equal(left, keep, "only the current customers are left")
finally:
    if holder and holder.poll() is None:
        holder.kill()
        holder.wait()
    srv.stop()
e2e.finish()
