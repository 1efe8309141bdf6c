"""Triggers on ruled tables (issue 10, item 3): a trigger that deletes or
updates other rows, or copies what is disposed into an audit table, does what
no rule said and the blocked-row analysis cannot see. check refuses every
trigger a rule's disposal would run (on DELETE, on UPDATE OF a column the
rule changes, nested, or on a table reached by ON DELETE CASCADE) unless it
is proven to keep an FTS index in step with the same row, or the rule
acknowledges it under `triggers`; run, erase and replay refuse the same, with the
register byte-identical. Triggers that do not fire for the rule, FTS5
triggers of the usual shapes and acknowledged triggers work."""
import os
import sqlite3
from lethe_check_e2e import AS_OF, accepted, ids, refused, setup
from lethe_e2e import equal, finish, run, tmpdir
from lethe_run_e2e import run_json

SHOP = """
CREATE TABLE customers(id INTEGER PRIMARY KEY, made TEXT NOT NULL, name TEXT, email TEXT);
CREATE TABLE orders(id INTEGER PRIMARY KEY, customer_id INTEGER, total INTEGER);
CREATE TABLE audit(id INTEGER PRIMARY KEY, customer_id INTEGER, old_email TEXT);
INSERT INTO customers VALUES (1, '2020-01-01', 'Ella', 'ella@example.com'),
  (2, '2025-12-01', 'Anna', 'anna@example.com'), (3, '2020-01-01', 'Bert', 'bert@example.com');
INSERT INTO orders VALUES (10, 1, 100), (11, 2, 200), (12, 3, 300);
"""
HEADER = "subject:\n  table: customers\n  key: id\n"
DELETE = ("  - name: customers\n    basis: test\n    table: customers\n    subject: id\n"
          "    from: made\n    retain: 1 year\n    action: delete\n")
PSEUDO = ("  - name: customers\n    basis: test\n    table: customers\n    subject: id\n"
          "    from: made\n    retain: 1 year\n    action: pseudonymise\n    columns: [{cols}]\n")

# --- 1. a cascade by trigger: deleting a customer deletes orders no rule made due
d = tmpdir()
db, cfg = setup(d, "cascade.sqlite", SHOP + """
CREATE TRIGGER customers_cascade AFTER DELETE ON customers BEGIN
  DELETE FROM orders WHERE customer_id = old.id;
END;""", DELETE, HEADER)
refused(cfg, db, "a trigger that deletes other rows", ["customers_cascade", "customers"], subject=1)
equal(ids(db, "orders"), {10, 11, 12}, "no order was deleted by the trigger")

# --- 2. an audit trigger keeps what is pseudonymised -----------------------------
AUDIT = SHOP + """
CREATE TRIGGER email_audit AFTER UPDATE OF email ON customers BEGIN
  INSERT INTO audit(customer_id, old_email) VALUES (old.id, old.email);
END;"""
db, cfg = setup(d, "audit.sqlite", AUDIT, PSEUDO.format(cols="name, email"), HEADER)
refused(cfg, db, "an audit trigger on a pseudonymised column", ["email_audit"], subject=1)

# The same trigger does not fire when the rule leaves email alone.
db, cfg = setup(d, "audit-name.sqlite", AUDIT, PSEUDO.format(cols="name"), HEADER)
accepted(cfg, "UPDATE OF email, rule changes name only")
rc, got, err = run_json(cfg, "--as-of", AS_OF)
equal(rc, 0, f"run with a trigger that does not fire exits 0 {err.strip()}")
equal(got.get("customers", {}).get("disposed"), 2, "two customers pseudonymised")

# Acknowledged: the rule says the trigger is wanted; it runs.
db, cfg = setup(d, "audit-ack.sqlite", AUDIT, PSEUDO.format(cols="name, email") +
                "    triggers:\n      email_audit: acknowledged\n", HEADER)
accepted(cfg, "an acknowledged trigger")
rc, got, err = run_json(cfg, "--as-of", AS_OF)
equal(rc, 0, f"run with an acknowledged trigger exits 0 {err.strip()}")
con = sqlite3.connect(db)
equal(sorted(r[0] for r in con.execute("SELECT customer_id FROM audit")), [1, 3],
      "the acknowledged trigger ran for the two disposed rows")
con.close()

# A value other than 'acknowledged' is a policy fault.
db, cfg = setup(d, "audit-bad.sqlite", AUDIT, PSEUDO.format(cols="name, email") +
                "    triggers:\n      email_audit: yes\n", HEADER)
refused(cfg, db, "triggers: NAME: yes", ["acknowledged"])

# --- 3. nested: ON DELETE CASCADE reaches a table whose trigger writes elsewhere
db, cfg = setup(d, "nested.sqlite", """
CREATE TABLE customers(id INTEGER PRIMARY KEY, made TEXT NOT NULL);
CREATE TABLE sessions(id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id) ON DELETE CASCADE);
CREATE TABLE log(id INTEGER PRIMARY KEY, note TEXT);
CREATE TABLE kept(id INTEGER PRIMARY KEY, note TEXT);
INSERT INTO customers VALUES (1, '2020-01-01'), (2, '2025-12-01');
INSERT INTO sessions VALUES (5, 1), (6, 2);
INSERT INTO kept VALUES (1, 'must stay');
CREATE TRIGGER sessions_gone AFTER DELETE ON sessions BEGIN
  DELETE FROM kept;
END;""", DELETE.replace("    subject: id\n", "") +
    "  - name: sessions\n    basis: test\n    table: sessions\n    from: \"'2020-01-01'\"\n"
    "    retain: 1 year\n    action: delete\n")
refused(cfg, db, "a trigger on a table reached by ON DELETE CASCADE", ["sessions_gone"])
equal(ids(db, "kept"), {1}, "the row the nested trigger would delete is there")

# --- 4. FTS5 index triggers of the usual shapes are proven harmless ------------
FTS = """
CREATE TABLE notes(id INTEGER PRIMARY KEY, made TEXT NOT NULL, body TEXT);
CREATE VIRTUAL TABLE notes_fts USING fts5(body);
CREATE VIRTUAL TABLE notes_ext USING fts5(body, content='notes', content_rowid='id');
CREATE TRIGGER notes_ai AFTER INSERT ON notes BEGIN
  INSERT INTO notes_fts(rowid, body) VALUES (new.id, new.body);
  INSERT INTO notes_ext(rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER notes_ad AFTER DELETE ON notes BEGIN
  DELETE FROM notes_fts WHERE rowid = old.id;
  INSERT INTO notes_ext(notes_ext, rowid, body) VALUES ('delete', old.id, old.body);
END;
CREATE TRIGGER "notes au" AFTER UPDATE ON notes BEGIN
  DELETE FROM notes_fts WHERE rowid = old.id;
  INSERT INTO notes_fts(rowid, body) VALUES (new.id, new.body);
  INSERT INTO notes_ext(notes_ext, rowid, body) VALUES ('delete', old.id, old.body);
  INSERT INTO notes_ext(rowid, body) VALUES (new.id, new.body);
END;
INSERT INTO notes(id, made, body) VALUES (1, '2020-01-01', 'secret one'), (2, '2025-12-01', 'kept two'),
  (3, '2020-01-01', 'secret three');
"""
NOTES = "  - name: notes\n    basis: test\n    table: notes\n    from: made\n    retain: 1 year\n"
for action in ["    action: delete\n", "    action: mask\n    columns:\n      body: redact\n"]:
    db, cfg = setup(d, f"fts-{action.split()[1]}.sqlite", FTS, NOTES + action)
    accepted(cfg, f"FTS5 triggers, {action.split()[1]}")
    rc, got, err = run_json(cfg, "--as-of", AS_OF)
    equal(rc, 0, f"run with FTS5 triggers ({action.split()[1]}) exits 0 {err.strip()}")
    con = sqlite3.connect(db)
    equal(con.execute("SELECT rowid FROM notes_fts WHERE notes_fts MATCH 'secret'").fetchall(), [],
          f"{action.split()[1]}: the disposed text is out of the FTS index")
    equal(con.execute("SELECT rowid FROM notes_fts WHERE notes_fts MATCH 'kept'").fetchall(), [(2,)],
          f"{action.split()[1]}: the kept row is still indexed")
    con.close()

# A look-alike that deletes another row's entry is not harmless.
db, cfg = setup(d, "fts-other.sqlite", FTS.replace(
    "DELETE FROM notes_fts WHERE rowid = old.id;\n  INSERT INTO notes_ext(notes_ext",
    "DELETE FROM notes_fts WHERE rowid = old.id + 1;\n  INSERT INTO notes_ext(notes_ext", 1),
    NOTES + "    action: delete\n")
refused(cfg, db, "an FTS trigger for another row", ["notes_ad"])
# A trigger writing a plain table through FTS-like text is not harmless either.
db, cfg = setup(d, "fts-plain.sqlite", FTS.replace("CREATE VIRTUAL TABLE notes_fts USING fts5(body);",
                                                  "CREATE TABLE notes_fts(body);"),
                NOTES + "    action: delete\n")
refused(cfg, db, "a trigger writing a plain table", ["notes_ad"])

# The same shapes into the index of another table would dispose of that table's data.
db, cfg = setup(d, "fts-foreign.sqlite", FTS + """
CREATE TABLE people(id INTEGER PRIMARY KEY, made TEXT NOT NULL);
INSERT INTO people VALUES (1, '2020-01-01'), (2, '2025-12-01');
CREATE TRIGGER people_ad AFTER DELETE ON people BEGIN
  DELETE FROM notes_fts WHERE rowid = old.id;
END;""", "  - name: people\n    basis: test\n    table: people\n    from: made\n    retain: 1 year\n"
            "    action: delete\n")
refused(cfg, db, "an FTS trigger into another table's index", ["people_ad"])

# --- 5. the reference shop passes check --------------------------------------------
shop = os.path.join(d, "shop")
rc, out, err = run("demo", shop, "--customers", "50")
equal(rc, 0, f"lethe demo exits 0 {err.strip()}")
rc, out, err = run("-c", os.path.join(shop, "lethe.yaml"), "check")
equal(rc, 0, f"the reference shop (FTS5 triggers on chat_transcripts) passes check {err.strip()}")
finish()
