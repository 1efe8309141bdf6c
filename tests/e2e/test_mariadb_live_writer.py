"""MariaDB: a run while the shop keeps writing (engines.md section 2), as
test_pg_live_writer.py does on PostgreSQL. A second connection keeps making
due customers current, adding sessions under due customers and making due
profiles current, committing each change with a log row in the same
transaction, for the whole of each run. Afterwards none of the logged rows
is disposed of, and the run's answer is what the register lost. The server
is started by the test (lethe_mariadb.py)."""
import datetime
import json
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import lethe_e2e as e2e
import lethe_mariadb
from lethe_run_e2e import config

lethe_mariadb.require("MariaDB live writer")
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
  - name: profiles
    basis: test
    table: profiles
    from: seen
    retain: 1 year
    action: pseudonymise
    columns: [email]
""")

SCHEMA = """
CREATE TABLE customers (id bigint PRIMARY KEY, last_seen date NOT NULL) ENGINE=InnoDB;
CREATE TABLE sessions (id bigint AUTO_INCREMENT PRIMARY KEY, customer_id bigint NOT NULL,
    started date, KEY sessions_customer (customer_id),
    FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE) ENGINE=InnoDB;
CREATE TABLE profiles (id bigint PRIMARY KEY, seen date NOT NULL, email varchar(100) NOT NULL)
    ENGINE=InnoDB;
CREATE TABLE writer_log (kind varchar(20) NOT NULL, id bigint NOT NULL) ENGINE=InnoDB;
INSERT INTO customers SELECT seq, CASE WHEN (seq * 7919) % 10 < 6 THEN DATE '2015-01-01'
    ELSE CURDATE() END FROM seq_1_to_3000;
INSERT INTO sessions (customer_id, started) SELECT seq, CURDATE() FROM seq_1_to_3000_step_17;
INSERT INTO profiles SELECT seq, CASE WHEN (seq * 104729) % 10 < 6 THEN DATE '2015-01-01'
    ELSE CURDATE() END, CONCAT('p', seq, '@example.org') FROM seq_1_to_3000;
DELIMITER //
CREATE PROCEDURE writer(seconds DOUBLE)
BEGIN
  DECLARE t0 DATETIME(6) DEFAULT SYSDATE(6);
  DECLARE r BIGINT;
  SET SESSION innodb_lock_wait_timeout = 5;
  WHILE SYSDATE(6) < t0 + INTERVAL seconds SECOND DO
    BEGIN
      -- the customer went before this insert, a lock wait, a deadlock:
      -- nothing of this round committed
      DECLARE EXIT HANDLER FOR 1452, 1205, 1213 ROLLBACK;
      START TRANSACTION;
      SET r = (SELECT id FROM customers WHERE last_seen = DATE '2015-01-01' ORDER BY RAND() LIMIT 1);
      IF r IS NOT NULL AND RAND() < 0.5 THEN
        UPDATE customers SET last_seen = CURDATE() WHERE id = r AND last_seen = DATE '2015-01-01';
        IF ROW_COUNT() = 1 THEN INSERT INTO writer_log (kind, id) VALUES ('customer', r); END IF;
      ELSEIF r IS NOT NULL THEN
        INSERT INTO sessions (customer_id, started) VALUES (r, CURDATE());
        INSERT INTO writer_log (kind, id) VALUES ('session', LAST_INSERT_ID()), ('customer', r);
      END IF;
      SET r = (SELECT id FROM profiles WHERE seen = DATE '2015-01-01' AND email NOT LIKE 'tok%'
               ORDER BY RAND() LIMIT 1);
      IF r IS NOT NULL THEN
        UPDATE profiles SET seen = CURDATE() WHERE id = r AND seen = DATE '2015-01-01'
            AND email NOT LIKE 'tok%';
        IF ROW_COUNT() = 1 THEN INSERT INTO writer_log (kind, id) VALUES ('profile', r); END IF;
      END IF;
      COMMIT;
    END;
    DO SLEEP(0.001 + RAND() * 0.004);
  END WHILE;
END //
DELIMITER ;
"""

srv = lethe_mariadb.MariadbServer().start(d)
try:
    wrong, touched_total = [], 0
    for run_no in range(1, 3):
        db = f"live{run_no}"
        loc = srv.create_database(db)
        subprocess.run(srv.client_cmd(db), input=SCHEMA, text=True, check=True, timeout=120)
        work = os.path.join(d, db)
        os.makedirs(work)
        cfg = config(work, loc, pol)
        profiles0 = dict(srv.sql(db, "SELECT id, email FROM profiles"))
        writer = subprocess.Popen(srv.client_cmd(db) + ["-e", "CALL writer(60)"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(0.2)
        rc, out, err = e2e.run("-c", cfg, "run", "--as-of", TODAY, "--json",
                               env={"LETHE_TEST_BATCH": str(random.choice([5, 20, 50, 200]))})
        writer.kill()
        writer.wait()
        e2e.equal(rc, 0, f"run {run_no} beside a writer ({err.strip()[-300:]})")
        log = srv.sql(db, "SELECT kind, id FROM writer_log")
        touched_total += len(log)
        customers = {r[0] for r in srv.sql(db, "SELECT id FROM customers")}
        sessions = {r[0] for r in srv.sql(db, "SELECT id FROM sessions")}
        profiles = dict(srv.sql(db, "SELECT id, email FROM profiles"))
        for kind, key in log:
            if kind == "customer" and key not in customers:
                wrong.append(f"run {run_no}: customer {key}, made current, was deleted")
            if kind == "session" and key not in sessions:
                wrong.append(f"run {run_no}: session {key} was deleted")
            if kind == "profile" and profiles.get(key) != profiles0[key]:
                wrong.append(f"run {run_no}: profile {key}, seen again, was pseudonymised")
        if rc == 0:
            answer = {r["name"]: r["disposed"] for r in json.loads(out)["rules"]}
            lost = {"inactive-customers": 3000 - len(customers),
                    "profiles": sum(1 for k, e in profiles.items() if e != profiles0[k])}
            e2e.equal(answer, lost, f"run {run_no}: the answer is what the register lost")
    e2e.check(touched_total > 0, f"the writer changed rows during the runs ({touched_total})")
    e2e.check(not wrong, f"no row the writer kept current was disposed of ({len(wrong)}: {wrong[:5]})")
finally:
    srv.stop()
e2e.finish()
