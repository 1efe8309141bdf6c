"""run's safety on small hand-made registers: a delete that would cascade
into a row not due is blocked (parent and child stay); a rule over
limits.max_rows_per_rule stops the run before anything is disposed, unless
--max-rows-per-rule lifts the cap; rows with invalid clocks are left alone
and reported while the other due rows go (exit 65); a constraint that fails a
batch names the rule and the key and rolls that batch back (exit 65); a
pseudonym key readable by others (77) or not configured (78) stops the run
before anything changes."""
import os
import shutil
import sqlite3
from lethe_e2e import check, equal, finish, sha256, tmpdir, write
from lethe_run_e2e import config, dump, make_key, run_json

AS_OF = "2026-01-01"


def make(d, name, sql):
    db = os.path.join(d, name)
    con = sqlite3.connect(db)
    con.executescript(sql)
    con.commit()
    con.close()
    return db


def ids(db, table):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {r[0] for r in con.execute(f"SELECT id FROM {table}")}
    finally:
        con.close()


def policy(d, text):
    pol = os.path.join(d, "policies")
    write(os.path.join(pol, "rules.yaml"), "lethe: 1\nrules:\n" + text)
    return pol


def delete_rule(name, table, clock="made", retain="1 year"):
    return (f"  - name: {name}\n    basis: test\n    table: {table}\n    from: {clock}\n"
            f"    retain: {retain}\n    action: delete\n")


# --- 2. a blocked cascade -----------------------------------------------------
d = tmpdir()
db = make(d, "reg.sqlite", """
CREATE TABLE parent(id INTEGER PRIMARY KEY, made TEXT);
CREATE TABLE child(id INTEGER PRIMARY KEY,
  parent_id INTEGER NOT NULL REFERENCES parent(id) ON DELETE CASCADE, made TEXT);
CREATE INDEX child_parent ON child(parent_id);
-- parent 1: due, its child 10 is not due (blocked); parent 2: due, no child;
-- parent 3: due, its child 30 due too; parent 4: not due.
INSERT INTO parent VALUES (1, '2020-01-01'), (2, '2020-01-01'), (3, '2020-01-01'), (4, '2025-06-01');
INSERT INTO child VALUES (10, 1, '2025-06-01'), (30, 3, '2020-01-01'), (40, 4, '2020-01-01');
""")
cfg = config(d, db, policy(d, delete_rule("parent", "parent") + delete_rule("child", "child")))
rc, got, err = run_json(cfg, "--as-of", AS_OF)
equal(rc, 0, "blocked cascade: run exits 0")
equal({k: got.get("parent", {}).get(k) for k in ("disposed", "blocked", "not_due")},
      {"disposed": 2, "blocked": 1, "not_due": 1}, "blocked cascade: parent counts")
equal({k: got.get("child", {}).get(k) for k in ("disposed", "blocked", "not_due")},
      {"disposed": 2, "blocked": 0, "not_due": 1}, "blocked cascade: child counts")
equal(ids(db, "parent"), {1, 4}, "the blocked parent stays, the due ones go")
equal(ids(db, "child"), {10}, "the child that is not due stays")

# --- 3. limits.max_rows_per_rule ---------------------------------------------
d = tmpdir()
db = make(d, "reg.sqlite", """
CREATE TABLE small(id INTEGER PRIMARY KEY, made TEXT);
CREATE TABLE big(id INTEGER PRIMARY KEY, made TEXT);
INSERT INTO small VALUES (1, '2020-01-01'), (2, '2025-12-01');
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 8)
INSERT INTO big SELECT i, CASE WHEN i <= 5 THEN '2020-01-01' ELSE '2025-12-01' END FROM n;
""")
pristine = os.path.join(d, "pristine.sqlite")
shutil.copyfile(db, pristine)
pol = policy(d, delete_rule("small", "small") + delete_rule("big-table", "big"))
cfg = config(d, db, pol, max_rows=3)
before = sha256(db)
rc, got, err = run_json(cfg, "--as-of", AS_OF)
equal(rc, 65, "over the cap: exit 65")
check("rule 'big-table'" in err and "5 rows" in err and "2 more" in err and "nothing was disposed" in err,
      f"over the cap: stderr names the rule, its rows and the excess: {err.strip()!r}")
equal(sha256(db), before, "over the cap: nothing at all is disposed (byte-identical), not even the rule within it")
equal(sorted(x for x in os.listdir(d) if not x.startswith("site")),
      sorted(["reg.sqlite", "pristine.sqlite", "policies", "lethe.yaml", "reg.sqlite.lock"]),
      "over the cap: no journal is left behind")
rc, got, err = run_json(cfg, "--as-of", AS_OF, "--max-rows-per-rule", "4")
equal(rc, 65, "--max-rows-per-rule 4 is still below 5 due rows")
equal(sha256(db), before, "--max-rows-per-rule 4: nothing disposed")
rc, got, err = run_json(cfg, "--as-of", AS_OF, "--max-rows-per-rule", "5")
equal(rc, 0, "--max-rows-per-rule 5 (exactly the due rows) lifts the cap for that run")
equal((got.get("big-table", {}).get("disposed"), got.get("small", {}).get("disposed")), (5, 1),
      "--max-rows-per-rule 5: every due row disposed")
equal(ids(db, "big"), {6, 7, 8}, "--max-rows-per-rule 5: the rows not due stay")
shutil.copyfile(pristine, db)
rc, got, err = run_json(cfg, "--as-of", AS_OF, "--max-rows-per-rule", "0")
equal(rc, 0, "--max-rows-per-rule 0 means no limit")
equal(ids(db, "big"), {6, 7, 8}, "--max-rows-per-rule 0: the due rows are gone")
equal(ids(db, "small"), {2}, "--max-rows-per-rule 0: the other rule's due row is gone")
shutil.copyfile(pristine, db)
rc, got, err = run_json(cfg, "--as-of", AS_OF)
equal(rc, 65, "the cap of the configuration holds again on the next run")
rc = run_json(cfg, "--as-of", AS_OF, "--max-rows-per-rule", "-1")[0]
equal(rc, 64, "--max-rows-per-rule -1 is a usage error")

# --- 4. invalid clocks --------------------------------------------------------
d = tmpdir()
db = make(d, "reg.sqlite", """
CREATE TABLE events(id INTEGER PRIMARY KEY, made);
INSERT INTO events VALUES (1, '2020-01-01'), (2, 'last tuesday'), (3, '2020-02-30'), (4, 1.5),
  (5, '2025-12-01'), (6, NULL), (7, 1577836800), (8, '2020-06-01T10:00:00Z');
""")
cfg = config(d, db, policy(d, delete_rule("events", "events")))
rc, got, err = run_json(cfg, "--as-of", AS_OF)
equal(rc, 65, "invalid clocks: exit 65")
e = got.get("events", {})
equal({k: e.get(k) for k in ("disposed", "invalid", "not_due", "not_started")},
      {"disposed": 3, "invalid": 3, "not_due": 1, "not_started": 1}, "invalid clocks: counts")
equal(ids(db, "events"), {2, 3, 4, 5, 6}, "rows with invalid clocks stay, the other due rows are disposed")
check("rule 'events'" in err and "invalid clock" in err and all(f"'{k}'" in err for k in (2, 3, 4)),
      f"invalid clocks: stderr names the rule and the keys: {err.strip()!r}")
rc, got, err = run_json(cfg, "--as-of", AS_OF)
equal((rc, got.get("events", {}).get("disposed"), got.get("events", {}).get("invalid")), (65, 0, 3),
      "invalid clocks: the next run reports them again and disposes nothing")

# --- 7. a constraint fails a batch -------------------------------------------
d = tmpdir()
db = make(d, "reg.sqlite", """
CREATE TABLE codes(id INTEGER PRIMARY KEY, made TEXT, code TEXT CHECK (length(code) < 5));
INSERT INTO codes VALUES (1, '2025-12-01', 'abc'), (2, '2020-01-01', 'de'), (3, '2020-01-01', 'fg');
CREATE TABLE nicks(id INTEGER PRIMARY KEY, made TEXT, nick TEXT UNIQUE);
INSERT INTO nicks VALUES (1, '2020-01-01', 'anna'), (2, '2020-01-01', 'bert'), (3, '2025-12-01', 'cid'),
  (4, '2020-01-01', NULL);
""")
mask = ("  - name: {n}\n    basis: test\n    table: {t}\n    from: made\n    retain: 1 year\n"
        "    action: mask\n    columns:\n      {c}: {s}\n")
cfg = config(d, db, policy(d, mask.format(n="code-mask", t="codes", c="code", s="redact")))
before = dump(db)
rc, got, err = run_json(cfg, "--as-of", AS_OF)
equal(rc, 65, "CHECK violated by redact: exit 65")
check("rule 'code-mask'" in err and "key 2" in err and "CHECK" in err.upper(),
      f"CHECK violated: stderr names the rule and the key: {err.strip()!r}")
check(dump(db) == before, "CHECK violated: the batch is rolled back, every row unchanged")

cfg = config(d, db, policy(d, mask.format(n="nick-mask", t="nicks", c="nick", s='"redact: same"')))
rc, got, err = run_json(cfg, "--as-of", AS_OF)
# A constant mask on a UNIQUE column would fail on every run: check refuses it
# before anything is written (tests/e2e/test_check_tokens.py has the rest).
equal(rc, 65, "UNIQUE made equal by redact: exit 65")
check("rules.yaml:" in err and "'nick'" in err and "UNIQUE" in err.upper(),
      f"UNIQUE: stderr names the policy position and the column: {err.strip()!r}")
check(dump(db) == before, "UNIQUE: nothing changed")

# --- the pseudonym key ---------------------------------------------------------
d = tmpdir()
db = make(d, "reg.sqlite", """
CREATE TABLE people(id INTEGER PRIMARY KEY, made TEXT, name TEXT);
INSERT INTO people VALUES (1, '2020-01-01', 'Ella'), (2, '2025-12-01', 'Anna');
""")
pol = policy(d, "  - name: people\n    basis: test\n    table: people\n    from: made\n"
                "    retain: 1 year\n    action: pseudonymise\n    columns: [name]\n")
before = sha256(db)
rc, got, err = run_json(config(d, db, pol, no_key=True), "--as-of", AS_OF)
equal(rc, 78, "a run without pseudonym_key: exit 78")
check("pseudonym_key" in err, f"stderr names the missing key: {err.strip()!r}")
key_path, key = make_key(d)
os.chmod(key_path, 0o640)
rc, got, err = run_json(config(d, db, pol, key_path), "--as-of", AS_OF)
equal(rc, 77, "a pseudonym key readable by the group: exit 77")
equal(sha256(db), before, "no key, or a key readable by others: nothing changed")
os.chmod(key_path, 0o600)
rc, got, err = run_json(config(d, db, pol, key_path), "--as-of", AS_OF)
equal((rc, got.get("people", {}).get("disposed")), (0, 1), "with the key at mode 0600 the run works")
# --- a masked row is left alone only while it stays masked --------------------
# The key of a masked row can come back with new personal data: SQLite reuses
# the highest rowid after a delete, and an application may rewrite the row.
d = tmpdir()
db = make(d, "reg.sqlite", """
CREATE TABLE notes(id INTEGER PRIMARY KEY, made TEXT, body TEXT);
INSERT INTO notes VALUES (1, '2020-01-01', 'secret one'), (2, '2020-01-01', 'secret two');
""")
pol = policy(d, "  - name: notes\n    basis: test\n    table: notes\n    from: made\n"
                "    retain: 1 year\n    action: mask\n    columns:\n      body: redact\n")
cfg = config(d, db, pol)
rc, got, err = run_json(cfg, "--as-of", AS_OF)
equal((rc, got.get("notes", {}).get("disposed")), (0, 2), "both notes masked")
con = sqlite3.connect(db)
con.executescript("""
DELETE FROM notes WHERE id = 2;
INSERT INTO notes VALUES (2, '2020-01-01', 'new secret in a reused key');
UPDATE notes SET body = 'rewritten secret' WHERE id = 1;
""")
con.commit()
con.close()
rc, got, err = run_json(cfg, "--as-of", AS_OF)
equal((rc, got.get("notes", {}).get("disposed")), (0, 2),
      "a reused key and a rewritten row are masked again")
con = sqlite3.connect(db)
equal([r[0] for r in con.execute("SELECT body FROM notes ORDER BY id")], ["[redacted]", "[redacted]"],
      "no new secret survives")
con.close()
rc, got, err = run_json(cfg, "--as-of", AS_OF)
equal(got.get("notes", {}).get("disposed"), 0, "and then they are left alone")
finish()
