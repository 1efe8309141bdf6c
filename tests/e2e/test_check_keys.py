"""Keys that are really unique (issue 10, item 4): a rule's key must name
exactly one row under the comparison the disposing statement makes
(`WHERE key = ?`). check refuses a key column that shadows the rowid, a key
whose unique index compares under another collation than the column (NOCASE
or RTRIM column, BINARY index), and a key that may hold NULL; run, erase and replay
refuse them too with the register byte-identical. A rule without a key on a
table whose column is named rowid uses the real rowid (_rowid_ or oid), and
keys whose index matches their collation work."""
import sqlite3
from lethe_check_e2e import AS_OF, accepted, ids, refused, setup
from lethe_e2e import equal, finish, tmpdir
from lethe_run_e2e import run_json


def rule(table, key=None, subject=False):
    return (f"  - name: r\n    basis: test\n    table: {table}\n" + (f"    key: {key}\n" if key else "") +
            ("    subject: id\n" if subject else "") +
            "    from: made\n    retain: 1 year\n    action: delete\n")


def left(db, table, column):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return sorted(r[0] for r in con.execute(f'SELECT "{column}" FROM "{table}"'))
    finally:
        con.close()


d = tmpdir()
# --- 1. a column named rowid ---------------------------------------------------
VISITS = """
CREATE TABLE visits(rowid TEXT, made TEXT NOT NULL, page TEXT);
INSERT INTO visits VALUES ('x', '2020-01-01', 'old-a'), ('x', '2025-12-01', 'new-b'),
  ('y', '2020-01-01', 'old-c');
"""
db, cfg = setup(d, "visits.sqlite", VISITS, rule("visits"))
accepted(cfg, "no key on a table with a column named rowid")
rc, got, err = run_json(cfg, "--as-of", AS_OF)
equal(rc, 0, f"run exits 0 {err.strip()}")
equal(left(db, "visits", "page"), ["new-b"], "only the two due rows are gone, by their real rowid")

db, cfg = setup(d, "visits-key.sqlite", VISITS, rule("visits", key="rowid"))
refused(cfg, db, "key: rowid when a column hides the rowid", ["'rowid'", "visits", "_rowid_"])
db, cfg = setup(d, "visits-oid.sqlite", VISITS, rule("visits", key="oid"))
accepted(cfg, "key: oid when only rowid is hidden")
db, cfg = setup(d, "hidden.sqlite", "CREATE TABLE t(rowid, oid, _rowid_, made TEXT NOT NULL);",
                rule("t"))
refused(cfg, db, "every rowid name hidden", ["'t'", "give the rule a 'key'"])

# --- 2. a collation the unique index does not share ------------------------------
for coll, a, b in [("NOCASE", "abc", "ABC"), ("RTRIM", "abc", "abc  ")]:
    db, cfg = setup(d, f"members-{coll}.sqlite", f"""
CREATE TABLE members(id INTEGER PRIMARY KEY, code TEXT NOT NULL COLLATE {coll}, made TEXT NOT NULL);
CREATE UNIQUE INDEX members_code ON members(code COLLATE BINARY);
INSERT INTO members VALUES (1, '{a}', '2020-01-01'), (2, '{b}', '2025-12-01');
""", rule("members", key="code", subject=True), "subject:\n  table: members\n  key: id\n")
    refused(cfg, db, f"a {coll} key with a BINARY unique index", ["'code'", "members", coll], subject=1)
    equal(ids(db, "members"), {1, 2}, f"{coll}: the row not due is there")

# The index's collation is the column's (or stricter than BINARY): accepted, exact.
for col, idx in [("COLLATE NOCASE UNIQUE", ""), ("UNIQUE", ""),
                 ("", "CREATE UNIQUE INDEX m_code ON members(code COLLATE NOCASE);")]:
    db, cfg = setup(d, "members-ok.sqlite", f"""
CREATE TABLE members(id INTEGER PRIMARY KEY, code TEXT NOT NULL {col}, made TEXT NOT NULL);
{idx}
INSERT INTO members VALUES (1, 'abc', '2020-01-01'), (2, 'XYZ', '2025-12-01'), (3, 'def', '2020-01-01');
""", rule("members", key="code"))
    accepted(cfg, f"key column '{col}' {idx}")
    rc, got, err = run_json(cfg, "--as-of", AS_OF)
    equal((rc, ids(db, "members")), (0, {2}), f"'{col}' {idx}: run disposes exactly the due rows")
    d = tmpdir()

# --- 3. keys that may be NULL ------------------------------------------------------------
NULLS = "INSERT INTO tickets(code, made) VALUES (NULL, '2020-01-01'), (NULL, '2020-01-01'), ('t3', '2025-12-01');"
db, cfg = setup(d, "tickets.sqlite", "CREATE TABLE tickets(code TEXT UNIQUE, made TEXT NOT NULL);" + NULLS,
                rule("tickets", key="code"))
refused(cfg, db, "a UNIQUE key that may be NULL", ["'code'", "tickets", "NULL"])
db, cfg = setup(d, "tickets-pk.sqlite", "CREATE TABLE tickets(code TEXT PRIMARY KEY, made TEXT NOT NULL);" +
                NULLS, rule("tickets"))
refused(cfg, db, "a TEXT PRIMARY KEY that may be NULL (no key given)", ["'code'", "tickets", "NULL"])
db, cfg = setup(d, "tickets-nn.sqlite", "CREATE TABLE tickets(code TEXT NOT NULL PRIMARY KEY, "
                "made TEXT NOT NULL); INSERT INTO tickets VALUES ('t1', '2020-01-01'), ('t2', '2025-12-01');",
                rule("tickets"))
accepted(cfg, "a NOT NULL TEXT PRIMARY KEY")
rc, got, err = run_json(cfg, "--as-of", AS_OF)
equal((rc, ids(db, "tickets", "code")), (0, {"t2"}), "NOT NULL TEXT PRIMARY KEY: run disposes the due row")
db, cfg = setup(d, "tickets-wr.sqlite", "CREATE TABLE tickets(code TEXT PRIMARY KEY, made TEXT NOT NULL) "
                "WITHOUT ROWID; INSERT INTO tickets VALUES ('t1', '2020-01-01'), ('t2', '2025-12-01');",
                rule("tickets"))
accepted(cfg, "the primary key of a WITHOUT ROWID table (never NULL)")
finish()
