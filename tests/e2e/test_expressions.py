"""Policy expressions stay expressions (issue 10, item 6).

A user expression (`where`, `from`, `subject`, a hold's `--where`) is pasted
by Lethe between its own parentheses. One that closes them, such as
`customer_id) OR (1`, must be refused by `check` (FILE:LINE:COL, exit 65) and
by every command before it is used: `erase` of one subject must not touch
anyone else's rows, `access` must not export them and write no file, `run`
must not loop, `hold add --where` must refuse it, and a hold written into the
register by hand with such a where stops the run. The register stays
byte-identical in every refused case. A recursive CTE is refused too. A
`where` that is valid but would run for hours is stopped by the time bound
(limits.statement_seconds) with a message naming the rule, exit 65, nothing
changed."""
import os
import re
import sqlite3
import subprocess
import time
from lethe_e2e import LETHE, check, equal, finish, run, sha256, tmpdir, write
from lethe_run_e2e import config, dump

d = tmpdir()
db = os.path.join(d, "shop.sqlite")
con = sqlite3.connect(db)
con.executescript("""
CREATE TABLE customers(id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
CREATE TABLE notes(id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id),
                   body TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE big(x INTEGER);
""")
for c in range(1, 6):
    con.execute("INSERT INTO customers VALUES (?, ?, '2015-01-01')", (c, f"c{c}@example.org"))
    for n in range(4):
        con.execute("INSERT INTO notes (customer_id, body, created_at) VALUES (?, ?, '2015-03-01')",
                    (c, f"note {n} of customer {c}"))
con.executemany("INSERT INTO big VALUES (?)", [(i,) for i in range(3000)])
con.commit()
con.close()

HEADER = """lethe: 1
register: Test register
controller: Test Oy
fiscal_year_end: 12-31
subject:
  table: customers
  key: id
  contact: [email]
rules:
  - name: old-notes
    basis: test
    table: notes
"""


def policy(subject="customer_id", frm="created_at", where=None):
    text = HEADER + f"    subject: {subject}\n    from: {frm}\n"
    if where is not None:
        text += f"    where: {where}\n"
    text += "    retain: 1 year\n    action: delete\n"
    return text


pol = os.path.join(d, "policies")
os.makedirs(pol)
pfile = os.path.join(pol, "notes.yaml")
write(pfile, policy())
cfg = config(d, db, pol)


def notes_of_others(subject):
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return c.execute("SELECT count(*) FROM notes WHERE customer_id <> ?", (subject,)).fetchone()[0]
    finally:
        c.close()


rc, out, err = run("-c", cfg, "check")
equal(rc, 0, f"the well-formed policy passes check ({err.strip()})")

# A where whose string and comment hold parentheses is one expression: accepted.
write(pfile, policy(where="\"body <> ')' /* ) */ AND customer_id > 0 -- (\""))
rc, out, err = run("-c", cfg, "check")
equal(rc, 0, f"parentheses inside a string and comments are fine ({err.strip()})")

ESCAPES = {
    "subject": policy(subject="customer_id) OR (1"),
    "where": policy(where='"0) OR (1"'),
    "from": policy(frm='"created_at) OR (1"'),
    "where (comment)": policy(where='"1) OR 1 /*"'),
    "where (recursive CTE)": policy(
        where='"(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) '
              'SELECT count(*) FROM n) > 0"'),
}
before = sha256(db)
before_dump = dump(db)
for what, text in ESCAPES.items():
    write(pfile, text)
    rc, out, err = run("-c", cfg, "check")
    equal(rc, 65, f"check refuses the {what} escape")
    check(re.search(r"notes\.yaml:\d+:\d+: '(subject|where|from)': ", err) is not None,
          f"check names FILE:LINE:COL for the {what} escape: {err.strip()[:200]}")
    rc, out, err = run("-c", cfg, "erase", "--subject", "1")
    equal(rc, 65, f"erase --subject 1 refuses the {what} escape")
    equal(notes_of_others(1), 16, f"after the refused erase ({what}) every other customer's notes are there")
    outp = os.path.join(d, "export.zip")
    rc, out, err = run("-c", cfg, "access", "--subject", "1", "--output", outp)
    equal(rc, 65, f"access --subject 1 refuses the {what} escape")
    check(not os.path.exists(outp), f"access ({what}) wrote no export")
    try:
        p = subprocess.run([LETHE, "-c", cfg, "run", "--as-of", "2020-01-01"], capture_output=True,
                           text=True, timeout=60)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        rc = "timeout"
    equal(rc, 65, f"run refuses the {what} escape")
    equal(sha256(db), before, f"the register is byte-identical after the refused {what} escape")
check(dump(db) == before_dump, "no row changed")

# hold add --where: refused before anything is recorded.
write(pfile, policy())
rc, out, err = run("-c", cfg, "hold", "add", "--reason", "audit", "--rule", "old-notes",
                   "--where", "0) OR (1")
equal(rc, 65, f"hold add --where '0) OR (1' is refused ({err.strip()})")
con = sqlite3.connect(db)
n = con.execute("SELECT count(*) FROM sqlite_schema WHERE name = 'lethe_holds'").fetchone()[0]
held = con.execute("SELECT count(*) FROM lethe_holds").fetchone()[0] if n else 0
con.close()
equal(held, 0, "no hold was added")

# A hold written into the register by hand with an escaping where: the run
# refuses instead of pasting it into its statements.
rc, out, err = run("-c", cfg, "hold", "add", "--reason", "audit", "--rule", "old-notes",
                   "--where", "customer_id = 2")
equal(rc, 0, f"a proper hold is added ({err.strip()})")
con = sqlite3.connect(db)
con.execute("UPDATE lethe_holds SET where_sql = '0) OR (1'")
con.commit()
con.close()
before = sha256(db)
rc, out, err = run("-c", cfg, "run", "--as-of", "2020-01-01")
equal(rc, 65, f"run refuses a hold whose where leaves its parentheses ({err.strip()})")
equal(sha256(db), before, "the register is byte-identical after the refused run")
con = sqlite3.connect(db)
con.execute("UPDATE lethe_holds SET released_at = '2019-01-01'")
con.commit()
con.close()

# The time bound: a valid where that would run for hours is stopped.
write(cfg, open(cfg).read() + "limits:\n  statement_seconds: 1\n")
write(pfile, policy(where='"(SELECT count(*) FROM big a, big b, big c WHERE a.x + b.x + c.x >= 0) > 0"'))
rc, out, err = run("-c", cfg, "check")
equal(rc, 0, f"check accepts the slow but finite where ({err.strip()})")
before = sha256(db)
for cmd in (["plan", "--as-of", "2020-01-01"], ["run", "--as-of", "2020-01-01"]):
    t0 = time.monotonic()
    try:
        p = subprocess.run([LETHE, "-c", cfg, *cmd], capture_output=True, text=True, timeout=60)
        rc, err = p.returncode, p.stderr
    except subprocess.TimeoutExpired:
        rc, err = "timeout", ""
    took = time.monotonic() - t0
    equal(rc, 65, f"{cmd[0]} with a where that runs for hours is stopped by the time bound")
    check(took < 30, f"{cmd[0]} stopped in {took:.1f} s")
    check("old-notes" in err and "statement_seconds" in err,
          f"{cmd[0]}: the message names the rule and the limit: {err.strip()[:300]}")
    equal(sha256(db), before, f"{cmd[0]}: the register is byte-identical")

# A bad limit is a configuration fault.
write(cfg, open(cfg).read().replace("statement_seconds: 1", "statement_seconds: 0"))
rc, out, err = run("-c", cfg, "check")
equal(rc, 78, f"limits.statement_seconds: 0 is a configuration fault ({err.strip()})")
finish()
