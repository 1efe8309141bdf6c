"""MariaDB: a hold written into lethe_holds by the site's own SQL (not by
`lethe hold`) in a transaction that is still open when a run starts
disposing is serialised against the disposal (engines.md section 2), as
PostgreSQL's SHARE lock on its holds table does: the run's batch waits for
the hold's transaction, then sees the hold, and the held subject's rows stay.
Without the serialisation the batch reads the holds before the hold commits
and deletes the subject's rows. The server is started by the test
(lethe_mariadb.py)."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import lethe_e2e as e2e
import lethe_mariadb
from lethe_run_e2e import config

lethe_mariadb.require("MariaDB direct-SQL hold")
d = e2e.tmpdir()
pol = os.path.join(d, "policies")
e2e.write(os.path.join(pol, "rules.yaml"), """lethe: 1
subject:
  table: customers
  key: id
rules:
  - name: inactive-customers
    basis: test
    table: customers
    subject: id
    from: last_seen
    retain: 1 year
    action: delete
""")

SCHEMA = """
CREATE TABLE customers (id bigint PRIMARY KEY, last_seen date NOT NULL) ENGINE=InnoDB;
INSERT INTO customers SELECT seq, DATE '2015-01-01' FROM seq_1_to_400;
INSERT INTO customers VALUES (401, CURDATE());
"""
HELD = "123"

srv = lethe_mariadb.MariadbServer().start(d)
try:
    loc = srv.create_database("shop")
    subprocess.run(srv.client_cmd("shop"), input=SCHEMA, text=True, check=True, timeout=120)
    cfg = config(d, loc, pol)
    # one hold by subject placed through lethe (a current customer): the plan
    # then asks lethe_holds for held subjects in every disposing statement
    rc, _, err = e2e.run("-c", cfg, "hold", "add", "--subject", "401", "--reason", "other case")
    e2e.equal(rc, 0, f"hold through lethe ({err.strip()})")
    # the site's own SQL: a hold on subject HELD, its transaction left open
    # while the run starts
    holder = subprocess.Popen(srv.client_cmd("shop") + ["--unbuffered"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    holder.stdin.write("START TRANSACTION;\n"
                       f"INSERT INTO lethe_holds (subject, subject_type, created_at, reason) VALUES "
                       f"('{HELD}', 1, '2026-01-01T00:00:00Z', 'litigation');\n"
                       "SELECT 'inserted';\n")
    holder.stdin.flush()
    e2e.equal(holder.stdout.readline().strip(), "inserted", "the hold's transaction is open")
    run = subprocess.Popen([e2e.LETHE, "-c", cfg, "run", "--json"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True,
                           env=dict(os.environ, LETHE_TEST_BATCH="50"))
    # the run plans, then its first batch waits for the hold's transaction
    deadline = time.monotonic() + 60
    waiting = False
    while time.monotonic() < deadline and run.poll() is None and not waiting:
        waiting = bool(srv.sql(None, "SELECT id FROM information_schema.processlist WHERE "
                               "id <> CONNECTION_ID() AND info LIKE '%FROM lethe_hold_gate%'"))
        time.sleep(0.05)
    e2e.check(waiting, "the run's batch waits for the open hold's transaction")
    time.sleep(0.3)
    holder.stdin.write("COMMIT;\n")
    holder.stdin.close()
    holder.wait(timeout=60)
    out, err = run.communicate(timeout=300)
    e2e.equal(run.returncode, 0, f"run beside the open hold ({err.strip()[-300:]})")
    left = {r[0] for r in srv.sql("shop", "SELECT id FROM customers")}
    e2e.check(HELD in left, f"customer {HELD}, held by SQL in an open transaction, is kept")
    e2e.equal(left, {HELD, "401"}, "every other due customer was disposed of")
    if run.returncode == 0:
        answer = {r["name"]: r["disposed"] for r in json.loads(out)["rules"]}
        e2e.equal(answer.get("inactive-customers"), 399, "the run's answer is what went")
finally:
    srv.stop()
e2e.finish()
