"""run, one at a time and politely: a second run while the lock is held
exits 75 naming the holder's pid, a holder killed with SIGKILL leaves no lock
behind; a database busy with another writer gives 75 after the busy timeout
with nothing half-done; and the log: one line per rule on stderr, journal
priorities when stderr is the JOURNAL_STREAM, -q dropping the info lines."""
import fcntl
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from lethe_e2e import LETHE, check, equal, finish, run, sha256, tmpdir, write
from lethe_run_e2e import config, dump, run_json

AS_OF = "2026-01-01"
d = tmpdir()
db = os.path.join(d, "reg.sqlite")
con = sqlite3.connect(db)
con.executescript("""
CREATE TABLE events(id INTEGER PRIMARY KEY, made);
CREATE TABLE notes(id INTEGER PRIMARY KEY, made TEXT, body TEXT);
""")
con.close()
pol = os.path.join(d, "policies")
write(os.path.join(pol, "rules.yaml"), """lethe: 1
rules:
  - name: events
    basis: test
    table: events
    from: made
    retain: 1 year
    action: delete
  - name: notes
    basis: test
    table: notes
    from: made
    retain: 1 year
    action: mask
    columns:
      body: redact
""")
cfg = config(d, db, pol)
lock_path = db + ".lock"


fills = [0]


def fill(n_due):
    """n_due due rows in each table, two rows not due, one invalid clock in events.
    Notes get new keys each time: a masked key is recorded as done by its rule."""
    con = sqlite3.connect(db)
    con.execute("DELETE FROM events")
    fills[0] += 1
    for i in range(1, n_due + 1):
        con.execute("INSERT INTO events VALUES (?, '2020-01-01')", (i,))
        con.execute("INSERT INTO notes VALUES (?, '2020-01-01', 'secret')", (100 * fills[0] + i,))
    con.execute("INSERT INTO events VALUES (1000, '2025-12-01'), (1001, 'someday')")
    con.commit()
    con.close()


def ids(table):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {r[0] for r in con.execute(f"SELECT id FROM {table}")}
    finally:
        con.close()


# --- 5. the lock ------------------------------------------------------------------
fill(3)
before = sha256(db)
fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
os.ftruncate(fd, 0)
os.write(fd, f"{os.getpid()}\n".encode())
rc, got, err = run_json(cfg, "--as-of", AS_OF)
equal(rc, 75, "a run while another holds the lock exits 75")
check(f"pid {os.getpid()}" in err, f"it names the holder's pid {os.getpid()}: {err.strip()!r}")
equal(sha256(db), before, "the refused run changed nothing")
os.ftruncate(fd, 0)
rc, got, err = run_json(cfg, "--as-of", AS_OF)
equal(rc, 75, "a held lock without a pid still refuses")
check("pid unknown" in err, f"and says the pid is unknown: {err.strip()!r}")
fcntl.flock(fd, fcntl.LOCK_UN)
os.close(fd)
rc, got, err = run_json(cfg, "--as-of", AS_OF)
equal((rc, got.get("events", {}).get("disposed")), (65, 3),
      "after the lock is released a run works (65: one invalid clock)")
equal(ids("events"), {1000, 1001}, "the due rows are gone")

fill(3)
holder = subprocess.Popen([sys.executable, "-c", """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
os.ftruncate(fd, 0)
os.write(fd, f"{os.getpid()}\\n".encode())
print("locked", flush=True)
time.sleep(60)
""", lock_path], stdout=subprocess.PIPE, text=True)
equal(holder.stdout.readline().strip(), "locked", "a child process holds the lock")
rc, got, err = run_json(cfg, "--as-of", AS_OF)
equal(rc, 75, "a run while the child holds the lock exits 75")
check(f"pid {holder.pid}" in err, f"it names the child's pid {holder.pid}: {err.strip()!r}")
os.kill(holder.pid, signal.SIGKILL)
holder.wait()
holder.stdout.close()
rc, got, err = run_json(cfg, "--as-of", AS_OF)
equal((rc, got.get("events", {}).get("disposed")), (65, 3),
      "a holder killed with SIGKILL leaves no lock behind: the next run works")

# --- 6. a busy database --------------------------------------------------------------
fill(3)
writer = sqlite3.connect(db, isolation_level=None)
equal(writer.execute("PRAGMA journal_mode").fetchone()[0], "delete", "the register is in rollback-journal mode")
writer.execute("BEGIN IMMEDIATE")
writer.execute("UPDATE notes SET body = body WHERE id = 1")
before = dump(db)
t0 = time.monotonic()
rc, got, err = run_json(cfg, "--as-of", AS_OF)
took = time.monotonic() - t0
equal(rc, 75, "a run on a database another connection is writing exits 75")
check(4 <= took < 15, f"after the busy timeout of 5 s ({took:.1f} s)")
check("busy" in err, f"stderr says the database is busy: {err.strip()!r}")
writer.execute("ROLLBACK")
writer.close()
check(dump(db) == before, "the busy run left nothing half-done")
rc, got, err = run_json(cfg, "--as-of", AS_OF)
equal((rc, got.get("events", {}).get("disposed"), got.get("notes", {}).get("disposed")), (65, 3, 3),
      "once the writer is gone a run disposes what is due")

# --- 8. logging ----------------------------------------------------------------------


def run_logged(*args, journal=None):
    """lethe with stderr in a file; JOURNAL_STREAM the file's own "dev:ino" when
    journal is True, else the given text. Returns (status, stderr lines)."""
    path = os.path.join(d, "stderr.txt")
    env = dict(os.environ)
    env.pop("LETHE_CONFIG", None)
    env.pop("JOURNAL_STREAM", None)
    with open(path, "w") as f:
        st = os.fstat(f.fileno())
        if journal is True:
            env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
        elif journal:
            env["JOURNAL_STREAM"] = journal
        p = subprocess.run([LETHE, *args], env=env, stdout=subprocess.DEVNULL, stderr=f, timeout=60)
    with open(path) as f:
        return p.returncode, f.read().splitlines()


fill(2)
rc, lines = run_logged("-c", cfg, "run", "--as-of", AS_OF)
equal(rc, 65, "logging run exits 65 (one invalid clock)")
for name, table, n in [("events", "events", 2), ("notes", "notes", 2)]:
    mine = [l for l in lines if l.startswith(f"lethe: rule '{name}': disposed of")]
    equal(len(mine), 1, f"one line for rule {name}")
    check(bool(mine) and re.fullmatch(rf"lethe: rule '{name}': disposed of {n} of \d+ rows of '{table}' "
                                      r"\(\w+\); not due \d+, no clock \d+, invalid \d+, held \d+, blocked \d+",
                                      mine[0]), f"with its counts: {mine}")
check(any(l.startswith("lethe: warning: rule 'events'") and "'1001'" in l for l in lines),
      f"the invalid clock is a warning naming the key: {lines}")

fill(2)
rc, lines = run_logged("-c", cfg, "run", "--as-of", AS_OF, journal=True)
equal(rc, 65, "journal run exits 65")
check(len(lines) >= 3 and all(l[:3] in ("<6>", "<4>") for l in lines),
      f"with JOURNAL_STREAM on stderr every line starts with a priority: {lines}")
check(any(l.startswith("<6>rule 'events': disposed of 2") for l in lines), "rule lines are info (<6>)")
check(any(l.startswith("<6>rule 'notes': disposed of 2") for l in lines), "each rule's line is info (<6>)")
check(any(l.startswith("<4>rule 'events'") and "invalid clock" in l for l in lines),
      "the invalid clock is a warning (<4>)")
check(not any("lethe: " in l for l in lines), "no 'lethe: ' prefix for the journal")

rc, lines = run_logged("-q", "-c", cfg, "run", "--as-of", AS_OF, journal=True)
equal(rc, 65, "-q run exits 65")
check(len(lines) >= 1 and all(l.startswith("<4>") for l in lines), f"-q drops the info lines: {lines}")

rc, lines = run_logged("-q", "-c", cfg, "run", "--as-of", AS_OF)
check(len(lines) >= 1 and all(l.startswith("lethe: warning: ") for l in lines),
      f"-q without the journal keeps the warnings: {lines}")

st = os.stat(db)
rc, lines = run_logged("-c", cfg, "run", "--as-of", AS_OF, journal=f"{st.st_dev}:{st.st_ino}")
check(len(lines) >= 3 and all(l.startswith("lethe: ") for l in lines),
      f"JOURNAL_STREAM naming another file keeps the 'lethe: ' prefix: {lines}")
rc, lines = run_logged("-c", cfg, "run", "--as-of", AS_OF, journal="garbage")
check(len(lines) >= 3 and all(l.startswith("lethe: ") for l in lines),
      f"a malformed JOURNAL_STREAM keeps the 'lethe: ' prefix: {lines}")
finish()
