"""Truncation is detected: lethe remembers the last record it wrote in the
register (lethe_evidence_head). After main of the site's evidence is reset
back four commits (git update-ref), `run`, `erase` and `hold add` refuse
with exit 1 and a message naming the remembered record, and write nothing
(neither the register nor the evidence changes); `status` exits 1 and
reports it (text and --json); `lethe verify` of the site's own evidence and
`verify --expect-from-register` fail, while a plain verify of the shortened
repository, which is a valid history by itself, passes. Restoring main
makes everything work again. Before the fix the reset went unnoticed: new
records reused the removed sequence numbers."""
import hashlib
import json
import os
import sqlite3
import subprocess
from lethe_e2e import check, equal, finish, run, tmpdir
from lethe_run_e2e import dump
from lethe_subject_e2e import reference_site, rich_subject

d = tmpdir()
db, cfg, repo, _key = reference_site(d, 150)
shop = os.path.dirname(cfg)
signers = os.path.join(shop, "keys", "allowed_signers")


def git(*args):
    return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True).stdout.strip()


def records():
    return sorted(git("ls-tree", "-r", "--name-only", "main", "records/").split())


def register_head():
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute("SELECT seq, commit_id FROM lethe_evidence_head").fetchone()
    except sqlite3.Error:
        return None
    finally:
        con.close()


con = sqlite3.connect(db)
subject = rich_subject(con)
con.close()

rc, out, err = run("-c", cfg, "run", "--as-of", "2026-01-01")
equal(rc, 0, f"first run {err.strip()[-200:]}")
rc, out, err = run("-c", cfg, "hold", "add", "--rule", "chat-transcripts", "--reason", "case 1")
equal(rc, 0, f"hold add {err.strip()[-200:]}")
rc, out, err = run("-c", cfg, "hold", "release", "1", "--reason", "case closed")
equal(rc, 0, f"hold release {err.strip()[-200:]}")
rc, out, err = run("-c", cfg, "run", "--as-of", "2026-01-02")
equal(rc, 0, f"second run {err.strip()[-200:]}")
full = git("rev-parse", "main")
n = len(records())
equal(n, 6, "six records written")
equal(register_head(), (6, full), "the register remembers the last record and its commit")

# the rollback: main back four commits, as a hostile or careless reset would
subprocess.run(["git", "-C", repo, "update-ref", "refs/heads/main", "main~4"], check=True)
short = git("rev-parse", "main")
before_db = hashlib.sha256(dump(db, evidence_head=True).encode()).hexdigest()


def refused(what, *args):
    rc, out, err = run("-c", cfg, *args)
    equal(rc, 1, f"{what} refuses with exit 1 on a truncated main")
    check("behind" in err and "00000006" in err and full[:12] in err,
          f"{what} says the evidence is behind record 00000006 ({full[:12]}): {err.strip()[-300:]}")
    equal(git("rev-parse", "main"), short, f"{what} wrote no evidence")
    equal(hashlib.sha256(dump(db, evidence_head=True).encode()).hexdigest(), before_db,
          f"{what} changed nothing in the register (every table, lethe's own too)")


refused("run", "run", "--as-of", "2026-01-03")
refused("erase", "erase", "--subject", str(subject))
refused("hold add", "hold", "add", "--rule", "chat-transcripts", "--reason", "case 2")
archive = os.path.join(d, "access.zip")
refused("access", "access", "--subject", str(subject), "--output", archive)
check(not os.path.exists(archive), "access leaves no unrecorded archive behind")

rc, out, err = run("-c", cfg, "status")
equal(rc, 1, "status exits 1 on a truncated main")
check("behind" in out and "00000006" in out, f"status reports the evidence behind: {out.strip()[-300:]}")
rc, out, err = run("-c", cfg, "status", "--json")
equal(rc, 1, "status --json exits 1 too")
try:
    st = json.loads(out)
except ValueError:
    st = {}
equal(st.get("evidence_behind"), True, "status --json: evidence_behind")
check(any("behind" in w for w in st.get("warnings", [])), "status --json: the reason is a warning")

rc, out, err = run("-c", cfg, "verify")
equal(rc, 1, f"verify of the site's evidence fails against the register: {out.strip()}")
check("00000006" in out or full in out, "verify names what the register expected")
rc, out, err = run("-c", cfg, "verify", "--expect-from-register", "--allowed-signers", signers, repo)
equal(rc, 1, f"verify --expect-from-register REPOSITORY fails: {out.strip()}")
rc, out, err = run("verify", "--allowed-signers", signers, repo)
equal(rc, 0, f"the shortened history alone verifies (only the remembered head shows the loss): {out.strip()}")

# restoring main makes everything work again, numbering on from record 6
subprocess.run(["git", "-C", repo, "update-ref", "refs/heads/main", full], check=True)
rc, out, err = run("-c", cfg, "status")
equal(rc, 0, f"status after restoring main {out.strip()[-200:]}")
rc, out, err = run("-c", cfg, "run", "--as-of", "2026-01-03")
equal(rc, 0, f"run after restoring main {err.strip()[-200:]}")
equal(len(records()), 8, "the run after the restore records 7 and 8")
equal(register_head(), (8, git("rev-parse", "main")), "the register remembers record 8")
rc, out, err = run("-c", cfg, "verify")
equal(rc, 0, f"verify after restoring main: {out.strip()}")

# --- the remote keeps what was pushed ---------------------------------------
# With evidence.remote, the remote's main is a second memory: here the
# register forgets its head (as a restore of an old backup would), main is
# reset again, and the remote alone shows it.
remote = os.path.join(d, "remote.git")
subprocess.run(["git", "init", "-q", "--bare", remote], check=True)
with open(cfg) as f:
    text = f.read()
with open(cfg, "w") as f:
    f.write(text.replace("evidence:\n", f"evidence:\n  remote: {remote}\n", 1))
rc, out, err = run("-c", cfg, "hold", "add", "--rule", "chat-transcripts", "--reason", "case 3")
equal(rc, 0, f"hold add with a remote {err.strip()[-200:]}")
pushed = git("rev-parse", "main")
equal(subprocess.run(["git", "-C", remote, "rev-parse", "main"], capture_output=True,
                     text=True).stdout.strip(), pushed, "the hold record was pushed")
con = sqlite3.connect(db)
try:
    con.execute("DELETE FROM lethe_evidence_head")
    con.commit()
except sqlite3.Error as e:
    check(False, f"the register has lethe_evidence_head: {e}")
con.close()
subprocess.run(["git", "-C", repo, "update-ref", "refs/heads/main", "main~4"], check=True)
short = git("rev-parse", "main")
before_db = hashlib.sha256(dump(db, evidence_head=True).encode()).hexdigest()
rc, out, err = run("-c", cfg, "run", "--as-of", "2026-01-04")
equal(rc, 1, "run refuses a main behind its remote")
check("behind its remote" in err and pushed[:12] in err, f"run names the remote's commit: {err.strip()[-300:]}")
equal(git("rev-parse", "main"), short, "run behind the remote wrote no evidence")
equal(hashlib.sha256(dump(db, evidence_head=True).encode()).hexdigest(), before_db,
      "run behind the remote changed nothing in the register")
rc, out, err = run("-c", cfg, "status")
equal(rc, 1, "status exits 1 on a main behind its remote")
check("behind its remote" in out, "status reports the main behind its remote")
finish()
