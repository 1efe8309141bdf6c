"""The bad-input matrix, end to end: for each fault `lethe run` (and, where it
reads the same input, `check` and `plan`) exits with the contract's status,
says what is wrong in one line naming the file, table or column, and leaves
the database and the evidence repository unchanged, byte for byte; where a
fault strikes in the middle of a run (a full disk), the database and the
evidence still agree and `lethe verify` passes.

The tests run as root, for whom file modes stop nothing: a read-only database
is made with the immutable attribute (chattr +i, which stops root too), and a
read-only folder likewise; a full disk is a file size limit (RLIMIT_FSIZE,
with SIGXFSZ ignored so writes fail with EFBIG) or a full tmpfs."""
import hashlib
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
from lethe_e2e import LETHE, check, equal, finish, run, tmpdir, write
import lethe_run_e2e
from lethe_run_e2e import config, dump

AS_OF = "2026-01-01"
PEOPLE = """
CREATE TABLE people(id INTEGER PRIMARY KEY, made TEXT, name TEXT, nick TEXT);
INSERT INTO people VALUES (1, '2020-01-01', 'Ella', 'e'), (2, '2025-12-01', 'Anna', 'a'),
  (3, '2020-03-01', 'Olli', 'o'), (4, NULL, 'Pia', 'p');
"""
RULES = ("  - name: people-gone\n    basis: test\n    table: people\n    where: id <> 3\n"
         "    from: made\n    retain: 1 year\n    action: delete\n"
         "  - name: people-nick\n    basis: test\n    table: people\n    where: id = 3\n"
         "    from: made\n    retain: 1 year\n    action: pseudonymise\n    columns: [name, nick]\n")


class Site:
    """A register, a policy folder and a recording site made by `lethe init`."""

    def __init__(self, sql=PEOPLE, rules=RULES, policy_extra=""):
        self.d = tmpdir()
        self.db = os.path.join(self.d, "reg.sqlite")
        con = sqlite3.connect(self.db)
        con.executescript(sql)
        con.commit()
        con.close()
        self.pol = os.path.join(self.d, "policies")
        write(os.path.join(self.pol, "rules.yaml"), "lethe: 1\n" + policy_extra + "rules:\n" + rules)
        self.cfg = config(self.d, self.db, self.pol)
        self.site = os.path.join(self.d, f"site{lethe_run_e2e._sites[0]}")
        self.ev = os.path.join(self.site, "evidence")

    def lethe(self, *args, preexec=None):
        return lethe_limited(self.cfg, *args, preexec=preexec)

    def snapshot(self):
        """SHA-256 of the database, its journal or WAL if any, and of every file of the
        evidence repository (git objects are content-addressed, so a new commit, a
        moved ref or a stray temporary file shows)."""
        snap = {}
        for suffix in ("", "-journal", "-wal", "-shm"):
            if os.path.exists(self.db + suffix):
                snap["db" + suffix] = sha256_file(self.db + suffix)
        for root, _, files in os.walk(self.ev):
            for f in files:
                p = os.path.join(root, f)
                snap[os.path.relpath(p, self.ev)] = sha256_file(p)
        return snap

    def head(self):
        return git(self.ev, "rev-parse", "--verify", "-q", "main").stdout.strip()

    def records(self):
        """The kinds of the records on main, oldest first."""
        out = git(self.ev, "log", "--reverse", "--format=%s", "main").stdout.split("\n")
        return [line.split()[1] for line in out if line.startswith("lethe: ")]

    def verify(self):
        return run("-c", self.cfg, "verify")


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def git(repo, *args):
    return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True)


def lethe_limited(cfg, *args, preexec=None):
    e = dict(os.environ)
    e.pop("LETHE_CONFIG", None)
    p = subprocess.run([LETHE, "-c", cfg, *args], env=e, capture_output=True, text=True, timeout=120,
                       preexec_fn=preexec)
    return p.returncode, p.stdout, p.stderr


def fsize_limit(limit):
    """A preexec_fn: writes past `limit` bytes of any file fail with EFBIG."""
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def one_line(err, *names):
    """stderr's error line: the one naming every name (lethe prefixes 'lethe: ')."""
    lines = [x for x in err.splitlines() if all(n in x for n in names)]
    return lines[0] if lines else None


def refused(s, what, args, status, names, before=None):
    """Run lethe ARGS on site s; assert the exit status, a line naming all of
    names, and that nothing changed."""
    before = before or s.snapshot()
    rc, out, err = s.lethe(*args)
    equal(rc, status, f"{what}: `{' '.join(args)}` exits {status}")
    check(one_line(err, *names) is not None,
          f"{what}: `{args[0]}` says so in one line naming {names}: {err.strip()!r}")
    check(s.snapshot() == before, f"{what}: `{args[0]}` leaves database and evidence byte-identical")
    return err


RUN = ("run", "--as-of", AS_OF)
PLAN = ("plan", "--as-of", AS_OF)

# --- a corrupt database -------------------------------------------------------
# 65 (invalid data): the file is there and readable but is not a register;
# `check` and `plan` refuse it too.
s = Site()
with open(s.db, "r+b") as f:
    f.write(b"this is not an sqlite file, it is garbage from a failed copy\n" * 2)
for args in (RUN, PLAN, ("check",)):
    refused(s, "a database with a garbage header", args, 65, [s.db, "not an sqlite database"])

# A valid header, a destroyed table page: SQLite sees the damage when it reads
# the table, which is before anything is recorded.
s = Site()
con = sqlite3.connect(s.db)
root = con.execute("SELECT rootpage FROM sqlite_schema WHERE name = 'people'").fetchone()[0]
page = con.execute("PRAGMA page_size").fetchone()[0]
con.close()
with open(s.db, "r+b") as f:
    f.seek((root - 1) * page)
    f.write(b"\xff" * page)
for args in (RUN, PLAN):
    refused(s, "a database with a destroyed table page", args, 65, ["people", "malformed"])

# --- a database locked by another writer --------------------------------------
# 75 (temporary: retry later). An exclusive lock stops even the first read.
s = Site()
# The holder is another process: POSIX locks belong to the process, and the
# snapshot's own open and close of the file would drop a lock held here.
HOLD = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN EXCLUSIVE")
con.execute("UPDATE people SET name = name")
print("locked", flush=True)
sys.stdin.readline()
con.execute("ROLLBACK")
"""
holder = subprocess.Popen(["python3", "-c", HOLD, s.db], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          text=True)
equal(holder.stdout.readline().strip(), "locked", "another process holds an exclusive lock")
refused(s, "a database locked exclusively by another writer", RUN, 75, [s.db, "locked"])
holder.communicate("\n", timeout=10)
equal(s.lethe(*RUN)[0], 0, "once the other writer is gone the run works")

# A writer that has written but not committed (a RESERVED lock) lets lethe
# read and plan, so the intent is recorded; the first batch waits for the
# lock in vain (5 s), fails with 75 and the run records that it failed: the
# database is unchanged and the evidence says that nothing was disposed.
s = Site()
holder = subprocess.Popen(["python3", "-c", HOLD.replace("EXCLUSIVE", "IMMEDIATE"), s.db],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
equal(holder.stdout.readline().strip(), "locked", "another process has written and not committed")
before = s.snapshot()
rc, out, err = s.lethe(*RUN)
holder.communicate("\n", timeout=10)
equal(rc, 75, "a database with an uncommitted writer: run exits 75")
check(one_line(err, s.db, "busy") is not None, f"uncommitted writer: the message names the database: {err!r}")
equal(s.snapshot()["db"], before["db"], "uncommitted writer: the database is byte-identical")
equal(s.verify()[0], 0, "uncommitted writer: the evidence verifies")
completion = json.loads(git(s.ev, "show", "main:records/00000/00000002-completion.json").stdout or "{}")
equal((completion.get("result"), [r.get("disposed") for r in completion.get("rules", [])]), ("failed", [0, 0]),
      "uncommitted writer: the completion says the run failed and disposed of nothing")

# --- a read-only database -------------------------------------------------------
# 77 (permission). Root ignores file modes, so the file is made immutable
# (chattr +i refuses writes to root too); mode 0444 is set as well so that the
# test means the same for a user who is not root.


def immutable(path, on):
    return subprocess.run(["chattr", "+i" if on else "-i", path], capture_output=True).returncode == 0


s = Site()
os.chmod(s.db, 0o444)
if immutable(s.db, True):
    try:
        for args in (RUN,):
            refused(s, "a read-only (immutable) database file", args, 77, [s.db, "read-only"])
        rc, out, err = s.lethe(*PLAN)
        equal(rc, 0, "a read-only database can still be planned")
    finally:
        immutable(s.db, False)
    # A read-only folder: the file is writable but SQLite cannot make its
    # rollback journal next to it, nor lethe its lock file. Made after a first
    # run so that the lock file already exists and only the journal is stopped.
    os.chmod(s.db, 0o644)
    s2 = Site()
    equal(s2.lethe("run", "--as-of", "2020-01-01")[0], 0, "a first run, which disposes nothing")
    if immutable(s2.d, True):
        try:
            refused(s2, "a database in a read-only folder", RUN, 77, [s2.d, "read-only"])
        finally:
            immutable(s2.d, False)
else:
    print("skip read-only database: chattr +i is not supported on this file system")

# --- a policy naming a column that was dropped since the last run ---------------
# 65 (invalid policy): reported as FILE:LINE:COLUMN by check and run alike.
s = Site()
equal(s.lethe(*RUN)[0], 0, "a first run with the column in place")
con = sqlite3.connect(s.db)
con.execute("ALTER TABLE people DROP COLUMN nick")
con.commit()
con.close()
pol_file = os.path.join(s.pol, "rules.yaml")
with open(pol_file) as f:
    line = next(i for i, x in enumerate(f.read().split("\n"), 1) if "columns: [name, nick]" in x)
col = "    columns: [name, nick]".index("nick") + 1
for args in ("check",), RUN, PLAN:
    err = refused(s, "a dropped column", args, 65, [f"{pol_file}:{line}:{col}:", "nick"])

# --- keys -----------------------------------------------------------------------
# A missing key is 66 (a file is missing); a key readable by others is 77.
for key, what in (("pseudonym.key", "the pseudonym key"), ("lethe_ed25519", "the signing key")):
    s = Site()
    path = os.path.join(s.site, "keys", key)
    os.chmod(path, 0o644)
    refused(s, f"{what} readable by others", RUN, 77, [path])
    os.rename(path, path + ".away")
    refused(s, f"{what} missing", RUN, 66, [path])

# --- an evidence repository that is not one ----------------------------------------
# An empty folder or a folder of something else: 65, as a database file that is
# not a database; a missing folder: 66.
s = Site()
shutil.rmtree(s.ev)
refused(s, "a missing evidence repository", RUN, 66, [s.ev])
os.makedirs(s.ev)
write(os.path.join(s.ev, "README"), "not a repository\n")
refused(s, "an evidence folder that is not a git repository", RUN, 65, [s.ev, "not a git repository"])

# --- a clock far in the past and far in the future ------------------------------------
s = Site()
before = s.snapshot()
before_dump = dump(s.db)
rc, out, err = s.lethe("run", "--as-of", "1970-01-01", "--json")
equal(rc, 0, "--as-of 1970-01-01: exit 0")
got = {r["name"]: r for r in json.loads(out)["rules"]} if rc == 0 else {}
equal([got.get(n, {}).get("disposed") for n in ("people-gone", "people-nick")], [0, 0],
      "--as-of 1970-01-01: nothing is due, nothing disposed")
# every stored value stays; only lethe's remembered evidence head moves
equal(dump(s.db), before_dump, "--as-of 1970-01-01: the register's data are unchanged")
check(s.verify()[0] == 0, "--as-of 1970-01-01: the run is recorded and verifies")
for bad in ("10000-01-01", "1969-13-01", "9999-12-32"):
    for args in (("run", "--as-of", bad), ("plan", "--as-of", bad)):
        refused(s, f"--as-of {bad}", args, 64, [bad])
before_dump = dump(s.db)
# the last day there is, on purpose (the as-of guard refuses it otherwise)
rc, out, err = s.lethe("run", "--as-of", "9999-12-31", "--allow-future-as-of", "--json")
equal(rc, 0, "--as-of 9999-12-31: exit 0")
got = {r["name"]: r for r in json.loads(out)["rules"]} if rc == 0 else {}
equal([(got.get(n, {}).get("disposed"), got.get(n, {}).get("not_started")) for n in ("people-gone",
                                                                                     "people-nick")],
      [(2, 1), (1, 0)], "--as-of 9999-12-31: every row with a clock is disposed, the one without stays")
con = sqlite3.connect(s.db)
equal([r[0] for r in con.execute("SELECT id FROM people ORDER BY id")], [3, 4], "the rows left")
con.close()
check(s.verify()[0] == 0, "--as-of 9999-12-31: the evidence verifies")

# --- a full disk ---------------------------------------------------------------------
# 74 (I/O error). RLIMIT_FSIZE makes every write past LIMIT bytes of a file fail
# with EFBIG, as a full disk fails it with ENOSPC. The evidence's files are git
# objects of a few hundred bytes; the database here is larger than the limit.
LIMIT = 64 * 1024
FILLER = ("CREATE TABLE filler(id INTEGER PRIMARY KEY, pad BLOB);"
          "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) "
          "INSERT INTO filler SELECT i, randomblob(3000) FROM n;")


def agree(s, what, want_kinds):
    """The database and the evidence agree: verify passes, the records are as
    expected, and a clean run afterwards finishes what is due."""
    rc, out, err = s.verify()
    equal(rc, 0, f"{what}: lethe verify passes ({err.strip()})")
    equal(s.records(), want_kinds, f"{what}: the records on main")


# The database fails: its pages lie past the limit. The intent is recorded
# first (small objects), the batch fails and is rolled back, the run records
# that it failed; the next run disposes of everything.
s = Site(sql=FILLER + PEOPLE)
before = dump(s.db)
rc, out, err = s.lethe(*RUN, preexec=fsize_limit(LIMIT))
equal(rc, 74, "database writes fail (file size limit): exit 74")
check(one_line(err, s.db) is not None, f"database writes fail: the message names the database: {err.strip()!r}")
# SQLite could not write the old pages back either, so its journal is left
# hot; the next connection that may write rolls it back, as lethe's next run will.
con = sqlite3.connect(s.db)
con.execute("SELECT count(*) FROM sqlite_schema").fetchone()
con.close()
check(not os.path.exists(s.db + "-journal"), "database writes fail: the journal is rolled back on the next open")
check(dump(s.db) == before, "database writes fail: every row unchanged (the batch rolled back)")
agree(s, "database writes fail", ["intent", "completion"])
completion = json.loads(git(s.ev, "show", "main:records/00000/00000002-completion.json").stdout or "{}")
equal((completion.get("result"), [r.get("disposed") for r in completion.get("rules", [])]), ("failed", [0, 0]),
      "database writes fail: the completion says the run failed and disposed of nothing")
rc, out, err = s.lethe(*RUN)
equal(rc, 0, "database writes fail: the next run, without the limit, works")
agree(s, "database writes fail, then a clean run", ["intent", "completion", "intent", "completion"])

# The evidence fails first: a policy file larger than the limit (its comment
# is random text, which git cannot compress) cannot be stored with the intent,
# so nothing is disposed and nothing is recorded.
noise = "".join("# " + os.urandom(60).hex() + "\n" for _ in range(2000))
s = Site(policy_extra=noise)
before = s.snapshot()
head = s.head()
rc, out, err = s.lethe(*RUN, preexec=fsize_limit(LIMIT))
equal(rc, 74, "evidence writes fail (file size limit): exit 74")
check(one_line(err, "evidence") is not None or one_line(err, s.ev) is not None,
      f"evidence writes fail: the message names the evidence: {err.strip()!r}")
equal(s.snapshot().get("db"), before["db"], "evidence writes fail: the database is byte-identical")
equal(s.head(), head, "evidence writes fail: main has not moved")
equal(git(s.ev, "fsck", "--no-dangling").returncode, 0, "evidence writes fail: git fsck passes")
# git may leave an object it wrote before the failure (the empty tree): it is
# unreferenced and harmless; nothing that existed changes or goes.
after = s.snapshot()
check(all(after.get(k) == v for k, v in before.items()), "evidence writes fail: no file changed or removed")
check(all(k.startswith("objects/") for k in set(after) - set(before)),
      f"evidence writes fail: at most unreferenced objects are left: {sorted(set(after) - set(before))}")
rc, out, err = s.lethe(*RUN)
equal(rc, 0, "evidence writes fail: the next run, without the limit, works")
agree(s, "evidence writes fail, then a clean run", ["intent", "completion"])

finish()
