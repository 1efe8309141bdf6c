"""The seal of a run's digests (docs/evidence-format.md, run protocol step 4):
once the batches are done, each rule's digest file is written into the
evidence's objects and the register keeps only the blobs' ids, so VACUUM
does not copy the digests and nothing clears them after it. A run leaves
no free page in the register; a run killed after the seal is recovered with
the very blobs the seal wrote, and the register's digests are gone before
the residue work."""
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
from lethe_e2e import check, equal, finish, require_test_hooks, run, tmpdir

require_test_hooks("the run killed after the seal")

AS_OF = "2026-11-01"
d = tmpdir()
rc, out, err = run("demo", os.path.join(d, "db"), "--customers", "200")
equal(rc, 0, "demo register")
template = os.path.join(d, "db", "shop.sqlite")


def site(name):
    root = os.path.join(d, name)
    os.makedirs(root)
    db = os.path.join(root, "shop.sqlite")
    shutil.copy(template, db)
    rc, out, err = run("init", os.path.join(root, "site"), "--database", db)
    assert rc == 0, err
    return os.path.join(root, "site", "lethe.yaml"), db, os.path.join(root, "site", "evidence")


def git(repo, *args):
    return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True)


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


# A clean run: no free page left (the digests were dropped before VACUUM),
# nothing of the run left in the register.
cfg, db, repo = site("clean")
rc, out, err = run("-c", cfg, "run", "--as-of", AS_OF, "--json")
equal(rc, 0, "clean run")
disposed = {r["name"]: r["disposed"] for r in json.loads(out)["rules"] if r["disposed"]}
check(sum(disposed.values()) > 500, "the clean run disposes a fair amount")
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
cfg, db, repo = site("sealed")
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
