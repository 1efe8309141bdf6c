"""A run's digest files hold exactly the keyed digests of the keys each rule
disposed of, sorted, one per line (docs/evidence-format.md, "Digest files"),
whichever thread computed a batch's digests or wrote a rule's file: a batch
that can change at least 4,096 rows is digested by a thread while its
statement runs (from the keys the statement hands out as it changes each
row, enforcer/runlog_stream.c), a smaller one after it, a rule's file is written
ahead from the spool of its marked batches while later rules' batches run
(enforcer/runlog_ahead.c), and the seal writes the others on two threads,
largest rule first (enforcer/runlog.c, enforcer/runlog_digests.c).

The oracle is independent of lethe: the keys of every table are read before
and after the run on the reference shop, each disposed key's digest is
computed here (hashlib), and
  - a delete rule's keys are those gone from its table: with several delete
    rules on one table, each gone key is in exactly one of their files;
  - a pseudonymise or mask rule's keys are its rows of lethe_done.
Run with batches fixed below 4,096 rows (digested after the statement) and
above (while it runs), and with batches sized by time."""
import hashlib
import os
import sqlite3
import subprocess

import yaml

from lethe_e2e import SOURCE, check, equal, finish, run, tmpdir
from lethe_subject_e2e import DIGEST_PERSON, reference_site


def digest(key, rule, text):
    dom = rule.encode()
    h = hashlib.blake2b(key=key, person=DIGEST_PERSON, digest_size=32)
    h.update(len(dom).to_bytes(8, "little") + dom + text.encode())
    return h.hexdigest()


def rules():
    out = []
    pol = os.path.join(SOURCE, "policies")
    for name in sorted(os.listdir(pol)):
        with open(os.path.join(pol, name)) as f:
            doc = yaml.safe_load(f)
        for r in (doc or {}).get("rules", []):
            out.append(r)
    return out


def keys(db, table):
    con = sqlite3.connect(db)
    try:
        return {r[0] for r in con.execute(f'SELECT id FROM "{table}"')}
    finally:
        con.close()


def git(repo, *args):
    return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True, check=True).stdout


def case(name, batch):
    d = tmpdir()
    db, cfg, evidence, key = reference_site(os.path.join(d, name), 2000)
    rs = [r for r in rules() if r.get("action") != "keep"]
    tables = {r["table"] for r in rs}
    before = {t: keys(db, t) for t in tables}
    env = {"LETHE_TEST_BATCH": str(batch)} if batch else None
    rc, out, err = run("-c", cfg, "-q", "run", "--as-of", "2026-11-01", "--max-rows-per-rule", "0", env=env)
    equal(rc, 0, f"{name}: the run completes {err.strip()}")
    after = {t: keys(db, t) for t in tables}
    con = sqlite3.connect(db)
    done = {}
    for rule, k in con.execute("SELECT rule, key FROM lethe_done"):
        done.setdefault(rule, set()).add(k)
    con.close()

    # the run's digest files, from the completion's tree
    files = {}
    listing = git(evidence, "ls-tree", "-r", "--name-only", "main").split()
    for path in listing:
        if "/digests/" in path:
            rule = os.path.basename(path)[:-len(".txt")]
            files[rule] = git(evidence, "show", f"main:{path}").splitlines()
    check(len(files) >= 10, f"{name}: the run wrote a digest file per rule that disposed ({len(files)})")
    for rule, lines in files.items():
        check(lines == sorted(lines), f"{name}: '{rule}' is sorted")
        equal(len(lines), len(set(lines)), f"{name}: '{rule}' has each digest once")

    biggest = 0
    for table in sorted(tables):
        gone = before[table] - after[table]
        deleters = [r["name"] for r in rs if r["table"] == table and r["action"] == "delete"]
        for r in rs:
            if r["table"] != table or r["action"] == "delete":
                continue
            want = sorted(digest(key, r["name"], str(k)) for k in done.get(r["name"], ()))
            have = files.get(r["name"], [])
            equal(len(have), len(want), f"{name}: '{r['name']}' has a line per row it changed")
            check(have == want, f"{name}: '{r['name']}' lists the digests of exactly the rows it changed")
            biggest = max(biggest, len(want))
        if not deleters:
            continue
        have = {r: set(files.get(r, [])) for r in deleters}
        where = {}
        for k in gone:
            owners = [r for r in deleters if digest(key, r, str(k)) in have[r]]
            where[k] = owners
        wrong = [k for k, o in where.items() if len(o) != 1]
        equal(wrong[:5], [], f"{name}: every key gone from '{table}' is in exactly one of its files")
        listed = sum(len(h) for h in have.values())
        equal(listed, len(gone), f"{name}: the files of '{table}' list only its {len(gone)} gone keys")
        biggest = max(biggest, len(gone))
    check(biggest >= 8192, f"{name}: a rule disposed of enough rows for two threads ({biggest})")


case("one-thread", 1000)
case("two-threads", 6000)
case("by-time", 0)
finish()
