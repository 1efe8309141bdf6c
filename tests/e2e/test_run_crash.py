"""Fault injection: a run killed with SIGKILL at each step of the protocol,
then run again. Every time the database and the evidence agree: the
evidence's disposed counts (completions and recoveries together) equal the
rows a clean run disposes, the register ends exactly as after a clean run,
every commit is signed and verifies with stock git, and the digest files
have one line per disposed row. Then the seal of a run's digests before its
residue work: no free page left, and a recovery after it names the sealed
blobs."""
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
from lethe_e2e import LETHE, check, equal, finish, require_test_hooks, run, tmpdir

require_test_hooks("the fault-injection runs")

AS_OF = "2026-11-01"
d = tmpdir()
rc, out, err = run("demo", os.path.join(d, "db"), "--customers", "200")
equal(rc, 0, "demo register")
template = os.path.join(d, "db", "shop.sqlite")


def site(name):
    """A fresh site with its own copy of the register."""
    root = os.path.join(d, name)
    os.makedirs(root)
    db = os.path.join(root, "shop.sqlite")
    shutil.copy(template, db)
    rc, out, err = run("init", os.path.join(root, "site"), "--database", db)
    assert rc == 0, err
    return os.path.join(root, "site", "lethe.yaml"), db, os.path.join(root, "site")


def counts(db):
    con = sqlite3.connect(db)
    tables = [r[0] for r in con.execute(
        "SELECT name FROM sqlite_schema WHERE type='table' AND name NOT LIKE 'lethe%' "
        "AND name NOT LIKE 'sqlite%' AND name NOT LIKE '%fts%' ORDER BY name")]
    res = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    # pseudonymised and masked values, by content
    res["tokens"] = con.execute("SELECT count(*) FROM customers WHERE email LIKE 'tok_%'").fetchone()[0]
    res["masked"] = con.execute("SELECT count(*) FROM page_events WHERE ip_address IS NULL").fetchone()[0]
    con.close()
    return res


def git(repo, *args):
    return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True)


def evidence(sitedir):
    """Disposed per rule over every completion record; and checks on commits."""
    repo = os.path.join(sitedir, "evidence")
    allowed = os.path.join(sitedir, "keys", "allowed_signers")
    revs = git(repo, "rev-list", "--reverse", "main").stdout.split()
    total, kinds, ok_sig, digest_ok = {}, [], True, True
    for i, rev in enumerate(revs, 1):
        v = git(repo, "-c", "gpg.format=ssh", "-c", f"gpg.ssh.allowedSignersFile={allowed}",
                "verify-commit", rev)
        ok_sig = ok_sig and v.returncode == 0
        added = git(repo, "diff-tree", "--no-commit-id", "--name-only", "-r", "--root", rev).stdout.split()
        recs = [p for p in added if p.startswith("records/")]
        if len(recs) != 1 or not recs[0].startswith(f"records/{i // 1000:05d}/{i:08d}-"):
            ok_sig = False
            continue
        rec = json.loads(git(repo, "show", f"{rev}:{recs[0]}").stdout)
        kinds.append(rec["kind"] + ("/" + rec["result"] if "result" in rec else ""))
        if rec["kind"] == "completion":
            for r in rec["rules"]:
                total[r["name"]] = total.get(r["name"], 0) + r["disposed"]
                if r["digests"]:
                    lines = git(repo, "show", f"{rev}:{r['digests']['path']}").stdout.split()
                    digest_ok = digest_ok and len(lines) == r["disposed"] == r["digests"]["count"] \
                        and lines == sorted(lines)
    return total, kinds, ok_sig, digest_ok


# The reference: one clean run.
cfg, db, sitedir = site("clean")
rc, out, err = run("-c", cfg, "run", "--as-of", AS_OF, "--json")
equal(rc, 0, "clean run")
want_db = counts(db)
want_disposed = {r["name"]: r["disposed"] for r in json.loads(out)["rules"]}
check(sum(want_disposed.values()) > 500, "the clean run disposes a fair amount")

points = ["after-intent", "batch:1", "after-batch:1", "batch:4", "after-batch:6",
          "before-finalise", "before-seal", "after-seal", "before-completion", "after-completion"]
for point in points:
    cfg, db, sitedir = site("crash-" + point.replace(":", "-"))
    rc, out, err = run("-c", cfg, "run", "--as-of", AS_OF, env={"LETHE_TEST_CRASH": point})
    equal(rc, -signal.SIGKILL, f"{point}: the run was killed")
    rc, out, err = run("-c", cfg, "run", "--as-of", AS_OF, "--json")
    equal(rc, 0, f"{point}: the next run succeeds")
    got_db = counts(db)
    equal(got_db, want_db, f"{point}: the register ends as after a clean run")
    total, kinds, ok_sig, digest_ok = evidence(sitedir)
    equal({k: v for k, v in total.items() if v}, {k: v for k, v in want_disposed.items() if v},
          f"{point}: the evidence counts every disposed row exactly once")
    check(ok_sig, f"{point}: every commit is signed, verifies with git, adds one record in sequence")
    rc, out, err = run("-c", cfg, "verify")
    equal(rc, 0, f"{point}: lethe verify passes ({out.strip()}{err.strip()})")
    check(digest_ok, f"{point}: digest files have one sorted line per disposed row")
    print(f"     {point}: records {kinds}")
    con = sqlite3.connect(db)
    left = sum(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
               for (t,) in con.execute("SELECT name FROM sqlite_schema WHERE type = 'table' AND "
                                       "name IN ('lethe_run_digests', 'lethe_run_digest_batches', "
                                       "'lethe_run_digest_pieces', 'lethe_run_files')")
               .fetchall())
    con.close()
    equal(left, 0, f"{point}: no run digests are left in the register")

# A run an older Lethe left unfinished: its digests in either older form,
# one row each in lethe_run_digests (hex text) or a batch in one blob of
# lethe_run_digest_batches. The recovery's evidence still names every
# disposed row: the older rows are merged with the newer batches' pieces.
cfg, db, sitedir = site("crash-older-marker")
rc, out, err = run("-c", cfg, "run", "--as-of", AS_OF, env={"LETHE_TEST_CRASH": "after-batch:6"})
equal(rc, -signal.SIGKILL, "older marker: the run was killed")
con = sqlite3.connect(db)
batches = {}
for rid, rule, blob in con.execute("SELECT id, rule, digests FROM lethe_run_digest_pieces ORDER BY id"):
    b = batches.setdefault(rid >> 24, [rule, b""])
    b[1] += blob
batches = [batches[k] for k in sorted(batches)]
check(len(batches) >= 3, "older marker: the killed run left several batches")
check(any(len(b) > 8192 for _, b in batches), "older marker: a batch spans several pieces")
con.execute("CREATE TABLE lethe_run_digests (rule TEXT NOT NULL, digest TEXT NOT NULL)")
con.execute("CREATE TABLE lethe_run_digest_batches (id INTEGER PRIMARY KEY, rule TEXT NOT NULL, "
            "digests BLOB NOT NULL)")
# all but the last batch move to the older tables: the three forms are read at once
for i, (rule, blob) in enumerate(batches[:-1]):
    if i % 2:
        con.execute("INSERT INTO lethe_run_digest_batches (rule, digests) VALUES (?, ?)", (rule, blob))
    else:
        con.executemany("INSERT INTO lethe_run_digests VALUES (?, ?)",
                        [(rule, blob[i:i + 32].hex()) for i in range(0, len(blob), 32)])
con.execute("DELETE FROM lethe_run_digest_pieces WHERE id >> 24 <> (SELECT max(id) >> 24 "
            "FROM lethe_run_digest_pieces)")
con.commit()
con.close()
rc, out, err = run("-c", cfg, "run", "--as-of", AS_OF, "--json")
equal(rc, 0, "older marker: the next run succeeds")
total, kinds, ok_sig, digest_ok = evidence(sitedir)
equal({k: v for k, v in total.items() if v}, {k: v for k, v in want_disposed.items() if v},
      "older marker: the evidence counts every disposed row exactly once")
check(digest_ok, "older marker: digest files have one sorted line per disposed row")
rc, out, err = run("-c", cfg, "verify")
equal(rc, 0, f"older marker: lethe verify passes ({out.strip()}{err.strip()})")
con = sqlite3.connect(db)
equal(sum(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in
          ("lethe_run_digests", "lethe_run_digest_batches", "lethe_run_digest_pieces")), 0,
      "older marker: the older tables are emptied")
con.close()

def tables(db):
    con = sqlite3.connect(db)
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
    res = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
           for t in ("lethe_run_digest_pieces", "lethe_run_files") if t in names}
    files = con.execute("SELECT rule, blob, sha256, lines FROM lethe_run_files").fetchall() \
        if "lethe_run_files" in names else []
    free = con.execute("PRAGMA freelist_count").fetchone()[0]
    con.close()
    return res, files, free


def completion_files(repo):
    """rule -> (blob id, sha256, count) of the last completion's digest files."""
    rec_path = [p for p in git(repo, "ls-tree", "-r", "--name-only", "main").stdout.split()
                if p.startswith("records/")][-1]
    rec = json.loads(git(repo, "show", f"main:{rec_path}").stdout)
    equal(rec["kind"], "completion", "the last record is a completion")
    shas = {f["path"]: f["sha256"] for f in rec["files"]}
    res = {}
    for r in rec["rules"]:
        if r["digests"]:
            p = r["digests"]["path"]
            res[r["name"]] = (git(repo, "rev-parse", f"main:{p}").stdout.strip(), shas[p],
                              r["digests"]["count"])
    return res


# The seal (docs/evidence-format.md, run protocol step 4): once the batches
# are done, each rule's digest file is written into the evidence's objects
# and the register keeps only the blobs' ids, so VACUUM does not copy the
# digests and nothing clears them after it. A clean run leaves no free page
# in the register; a run killed after the seal is recovered with the very
# blobs the seal wrote.
cfg, db, sitedir = site("seal-clean")
repo = os.path.join(sitedir, "evidence")
rc, out, err = run("-c", cfg, "run", "--as-of", AS_OF, "--json")
equal(rc, 0, "clean run")
disposed = {k: v for k, v in want_disposed.items() if v}
counts, files, free = tables(db)
equal(free, 0, "a run leaves no free page in the register")
equal(sum(counts.values()), 0, "no digests nor sealed files are left in the register")
got = completion_files(repo)
equal({k: v[2] for k, v in got.items()}, disposed, "a digest file per rule, a line per disposed row")
rc, out, err = run("-c", cfg, "verify")
equal(rc, 0, f"lethe verify passes ({out.strip()}{err.strip()})")

# Killed right after the seal, before the residue work: the register has
# the files, not the digests; the blobs are in the evidence's objects,
# named by no commit yet; the next run's recovery names exactly them.
cfg, db, sitedir = site("sealed")
repo = os.path.join(sitedir, "evidence")
rc, out, err = run("-c", cfg, "run", "--as-of", AS_OF, env={"LETHE_TEST_CRASH": "after-seal"})
equal(rc, -signal.SIGKILL, "the run was killed after the seal")
counts, files, free = tables(db)
equal(counts.get("lethe_run_digest_pieces", 0), 0, "the seal dropped the digests from the register")
equal({f[0]: f[3] for f in files}, disposed, "the seal kept a file per rule with its line count")
for rule, blob, sha, lines in files:
    equal(git(repo, "cat-file", "-t", blob).stdout.strip(), "blob", f"{rule}: the sealed blob exists")
    data = git(repo, "cat-file", "blob", blob).stdout
    equal(len(data.splitlines()), lines, f"{rule}: the sealed blob has its lines")
    equal(hashlib.sha256(data.encode()).hexdigest(), sha, f"{rule}: its SHA-256 is the sealed one")
rc, out, err = run("-c", cfg, "run", "--as-of", AS_OF, "--json")
equal(rc, 0, f"the next run recovers ({err.strip()})")
rc, out, err = run("-c", cfg, "verify")
equal(rc, 0, f"lethe verify passes after the recovery ({out.strip()}{err.strip()})")
# the completion that recovered the run (the one before the second run's)
revs = git(repo, "rev-list", "main").stdout.split()
found = None
for rev in revs:
    for p in git(repo, "diff-tree", "--no-commit-id", "--name-only", "-r", rev).stdout.split():
        if p.startswith("records/") and p.endswith("-completion.json"):
            rec = json.loads(git(repo, "show", f"{rev}:{p}").stdout)
            if rec.get("result") == "recovered":
                found = (rev, rec)
check(found is not None, "a completion recovered the killed run")
rev, rec = found or (None, {"rules": []})
named = {r["name"]: git(repo, "rev-parse", f"{rev}:{r['digests']['path']}").stdout.strip()
         for r in rec["rules"] if r["digests"]}
equal(named, {f[0]: f[1] for f in files}, "the recovery names the blobs the seal wrote")
counts, files, free = tables(db)
equal(sum(counts.values()), 0, "nothing of the runs is left in the register")

finish()
