"""No fixed capacity in the evidence path: a policy of 1,000 rules that all
dispose of rows (one digest file each in the completion's commit) runs to
its completion, `lethe verify` passes, and a second run (more rows due on a
later day) completes and verifies too. Before the fix the completion failed
with "too many evidence files in one commit" (exit 70) from 257 rules on,
and every later run failed the same way recovering it."""
import json
import os
import sqlite3
import subprocess
from lethe_e2e import check, equal, finish, run, tmpdir, write
from lethe_run_e2e import config

RULES = 1000
# a rule name longer than any fixed path buffer: its digest file's path follows it
LONG = "long-" + "x" * 600


def name(g):
    return LONG if g == 0 else f"group-{g:04d}"


d = tmpdir()
db = os.path.join(d, "reg.sqlite")
con = sqlite3.connect(db)
# one table per rule (rules of one table exclude each other's rows in SQL):
# one row due on 2026-01-01, one due only on 2027-01-01, one kept
for g in range(RULES):
    con.execute(f"CREATE TABLE t{g:04d}(id INTEGER PRIMARY KEY, made TEXT NOT NULL)")
    con.executemany(f"INSERT INTO t{g:04d}(made) VALUES (?)",
                    [("2020-01-01",), ("2025-06-01",), ("2026-06-01",)])
con.commit()
con.close()

pol = os.path.join(d, "policies")
write(os.path.join(pol, "rules.yaml"), "lethe: 1\nrules:\n" + "".join(
    f"  - name: {name(g)}\n    basis: test\n    table: t{g:04d}\n"
    f"    from: made\n    retain: 1 year\n    action: delete\n" for g in range(RULES)))
cfg = config(d, db, pol)
repo = os.path.join(d, "site1", "evidence")


def remaining():
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return sum(c.execute(f"SELECT count(*) FROM t{g:04d}").fetchone()[0] for g in range(RULES))
    finally:
        c.close()


def last_completion():
    names = subprocess.run(["git", "-C", repo, "ls-tree", "-r", "--name-only", "main", "records/"],
                           capture_output=True, text=True).stdout.split()
    last = sorted(names)[-1] if names else ""
    text = subprocess.run(["git", "-C", repo, "show", f"main:{last}"], capture_output=True,
                          text=True).stdout
    return last, (json.loads(text) if text else {})


for n, (as_of, left) in enumerate((("2026-01-01", 2 * RULES), ("2027-01-01", RULES)), 1):
    rc, out, err = run("-c", cfg, "--quiet", "run", "--as-of", as_of, "--allow-future-as-of", "--json")
    equal(rc, 0, f"run {n} with {RULES} disposing rules exits 0 ({err.strip()[-200:]})")
    equal(remaining(), left, f"run {n}: the due rows are gone")
    path, rec = last_completion()
    check(path.endswith("-completion.json"), f"run {n}: the evidence ends with a completion ({path})")
    equal(rec.get("result"), "completed", f"run {n}: completion result")
    equal(sum(1 for r in rec.get("rules", []) if r.get("digests")), RULES,
          f"run {n}: one digest file per rule")
    equal(sum(r.get("disposed", 0) for r in rec.get("rules", [])), RULES,
          f"run {n}: disposed rows recorded")
    check(any(r.get("name") == LONG and r.get("digests", {}) and
              r["digests"]["path"].endswith(f"/digests/{LONG}.txt") for r in rec.get("rules", [])),
          f"run {n}: the long rule name's digest file has its whole name")
    rc, out, err = run("-c", cfg, "verify")
    equal(rc, 0, f"run {n}: lethe verify passes ({out.strip()[-200:]} {err.strip()[-200:]})")

finish()
