"""PostgreSQL: a run while the shop keeps writing (engines.md section 2). A
second connection keeps making due customers current, adding sessions under
due customers and making due profiles current, committing each change with
a log row in the same transaction, for the whole of each run. Afterwards
none of the logged rows is disposed of. Also: one run at a time (a second
writer exits 75 naming the holder's server pid), and check refuses volatile
functions, clock readings and text clocks with FILE:LINE:COL. Modelled on
test_run_live_writer.py; the server is started by the test (lethe_pg.py)."""
import datetime
import json
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import lethe_e2e as e2e
import lethe_pg
from lethe_run_e2e import config

lethe_pg.require("PostgreSQL live writer")
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
CREATE TABLE customers (id bigint PRIMARY KEY, last_seen date NOT NULL);
CREATE TABLE sessions (id bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers(id) ON DELETE CASCADE, started date);
CREATE INDEX sessions_customer ON sessions (customer_id);
CREATE TABLE profiles (id bigint PRIMARY KEY, seen date NOT NULL, email text NOT NULL);
CREATE TABLE writer_log (kind text NOT NULL, id bigint NOT NULL, at timestamptz DEFAULT clock_timestamp());
INSERT INTO customers SELECT i, CASE WHEN (i * 7919) % 10 < 6 THEN DATE '2015-01-01' ELSE current_date END
    FROM generate_series(1, 3000) i;
INSERT INTO sessions (customer_id, started) SELECT i, current_date FROM generate_series(1, 3000, 17) i;
INSERT INTO profiles SELECT i, CASE WHEN (i * 104729) % 10 < 6 THEN DATE '2015-01-01' ELSE current_date END,
    'p' || i || '@example.org' FROM generate_series(1, 3000) i;
CREATE PROCEDURE writer(seconds float8) LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp(); r bigint; s bigint; n int;
BEGIN
  WHILE clock_timestamp() < t0 + make_interval(secs => seconds) LOOP
    BEGIN
      r := (SELECT id FROM customers WHERE last_seen = DATE '2015-01-01' ORDER BY random() LIMIT 1);
      IF r IS NOT NULL AND random() < 0.5 THEN
        UPDATE customers SET last_seen = current_date WHERE id = r AND last_seen = DATE '2015-01-01';
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n = 1 THEN INSERT INTO writer_log (kind, id) VALUES ('customer', r); END IF;
      ELSIF r IS NOT NULL THEN
        INSERT INTO sessions (customer_id, started) VALUES (r, current_date) RETURNING id INTO s;
        INSERT INTO writer_log (kind, id) VALUES ('session', s), ('customer', r);
      END IF;
      r := (SELECT id FROM profiles WHERE seen = DATE '2015-01-01' AND email NOT LIKE 'tok%'
            ORDER BY random() LIMIT 1);
      IF r IS NOT NULL THEN
        UPDATE profiles SET seen = current_date WHERE id = r AND seen = DATE '2015-01-01'
            AND email NOT LIKE 'tok%';
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n = 1 THEN INSERT INTO writer_log (kind, id) VALUES ('profile', r); END IF;
      END IF;
    EXCEPTION WHEN foreign_key_violation OR lock_not_available OR deadlock_detected THEN
      NULL;  -- the customer went before this insert: nothing of ours committed
    END;
    COMMIT;
    PERFORM pg_sleep(0.001 + random() * 0.004);
  END LOOP;
END $$;
"""

srv = lethe_pg.PostgresServer().start(d)
try:
    wrong, runs, touched_total = [], 0, 0
    for run_no in range(1, 4):
        db = f"live{run_no}"
        loc = srv.create_database(db)
        srv.sql(db, SCHEMA)
        work = os.path.join(d, db)
        os.makedirs(work)
        cfg = config(work, loc, pol)
        profiles0 = dict(srv.sql(db, "SELECT id, email FROM profiles"))
        writer = subprocess.Popen(srv.psql_cmd(db) + ["-c", "CALL writer(60)"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(0.2)
        rc, out, err = e2e.run("-c", cfg, "run", "--as-of", TODAY, "--json",
                               env={"LETHE_TEST_BATCH": str(random.choice([5, 20, 50, 200]))})
        writer.kill()
        writer.wait()
        e2e.equal(rc, 0, f"run {run_no} beside a writer ({err.strip()[-300:]})")
        runs += 1
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

    # one run at a time: another session holds the run lock
    holder = subprocess.Popen(srv.psql_cmd("live1") + ["-c", "SELECT pg_advisory_lock(465779301989), "
                                                         "pg_backend_pid(), pg_sleep(30)"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pid = None
    for _ in range(200):
        r = srv.sql("live1", "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted")
        if r:
            pid = r[0][0]
            break
        time.sleep(0.02)
    rc, out, err = e2e.run("-c", os.path.join(d, "live1", "lethe.yaml"), "run", "--as-of", TODAY)
    holder.kill()
    holder.wait()
    if pid:  # its server process outlives the client
        srv.sql("postgres", f"SELECT pg_terminate_backend({pid})")
    e2e.equal(rc, 75, "a second writer exits 75")
    e2e.check(pid is not None and f"pid {pid}" in err, f"and names the holder's pid {pid} ({err.strip()})")

    # check: volatile functions and the clock are refused where they stand
    e2e.write(os.path.join(d, "bad", "rules.yaml"), """lethe: 1
rules:
  - name: random-customers
    basis: test
    table: customers
    where: random() < 0.5
    from: last_seen
    retain: 1 year
    action: delete
  - name: today
    basis: test
    table: profiles
    from: CURRENT_DATE
    retain: 1 year
    action: delete
  - name: text-clock
    basis: test
    table: profiles
    from: email
    retain: 1 year
    action: delete
""")
    os.makedirs(os.path.join(d, "badsite"))
    bad = config(os.path.join(d, "badsite"), srv.location("live1"), os.path.join(d, "bad"))
    rc, out, err = e2e.run("-c", bad, "check")
    e2e.equal(rc, 65, "check refuses the policy")
    e2e.check("rules.yaml:6:" in err and "random" in err and "volatile" in err,
              f"random() refused at its line ({err.strip()})")
    e2e.check("rules.yaml:13:" in err and "current_date" in err, "CURRENT_DATE refused at its line")
    e2e.check("rules.yaml:19:" in err and "is text" in err and "::date" in err,
              "a text clock is refused with the cast to write")

    # a password in lethe.yaml is refused, wherever it is written
    for loc in ("postgresql://lethe:s3cret@localhost/shop", f"{srv.location('live1')} password=s3cret"):
        e2e.write(os.path.join(d, "pw", "lethe.yaml"), f"database: '{loc}'\npolicies: {pol}\n")
        rc, out, err = e2e.run("-c", os.path.join(d, "pw", "lethe.yaml"), "check")
        e2e.check(rc == 78 and "password" in err and "s3cret" not in err and "lethe.yaml:1:" in err,
                  f"check refuses a password in database: ({rc}: {err.strip()})")
finally:
    srv.stop()
e2e.finish()
