"""Messages, logs and JSON stay true and safe whatever the register, the disk
or the policy folder holds (issue 10, item 10):

 (a) a key that is not UTF-8 (or is cut inside a character) in the examples of
     invalid clocks: `plan --json` and `run --json` print valid JSON, escaped;
 (b) a VACUUM that fails after the run disposed of rows is reported as itself,
     with its cause, even when clearing the run marker fails next;
 (c) evidence that cannot be written says what the filesystem refused and where
     ("No space left on device", "File too large"), exit 74;
 (d) a policy file linked to a file outside the policy folder is not read (its
     lines never reach a message), quoted source text is bounded;
 (e) keys and names holding newlines or terminal escapes cannot forge log
     lines, on a terminal or in the journal's "<N>" format.

Parts (b) and (c) mount small tmpfs file systems (the tests run as root); a
file size limit (RLIMIT_FSIZE, SIGXFSZ ignored) stands for a full disk where
a mount is not possible."""
import atexit
import json
import os
import resource
import signal
import sqlite3
import subprocess
from lethe_e2e import LETHE, check, equal, finish, run, tmpdir, write
from lethe_run_e2e import config

AS_OF = "2026-01-01"
CONTROL = set(range(0x20)) | {0x7f}


def lethe(cfg, *args, preexec=None, journal=False):
    """lethe -c cfg ARGS with stderr in a file (JOURNAL_STREAM naming it when
    journal): (status, stdout, stderr as bytes)."""
    env = dict(os.environ)
    env.pop("LETHE_CONFIG", None)
    env.pop("JOURNAL_STREAM", None)
    path = os.path.join(tmpdir(), "stderr")
    with open(path, "wb") as f:
        if journal:
            st = os.fstat(f.fileno())
            env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
        p = subprocess.run([LETHE, "-c", cfg, *args], env=env, stdout=subprocess.PIPE, stderr=f,
                           preexec_fn=preexec, timeout=300)
    with open(path, "rb") as f:
        return p.returncode, p.stdout, f.read()


def fsize_limit(limit):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def clean_lines(err, what):
    """stderr is lines of printable UTF-8: no control character but the line ends."""
    check(all(b not in CONTROL for b in err.replace(b"\n", b"")),
          f"{what}: stderr has no raw control character: {err!r}")
    try:
        err.decode("utf-8")
        ok = True
    except UnicodeDecodeError:
        ok = False
    check(ok, f"{what}: stderr is valid UTF-8: {err!r}")


def rule(table, key="id", clock="made", extra=""):
    return (f"  - name: {table}-gone\n    basis: test\n    table: {table}\n    key: {key}\n"
            f"    from: {clock}\n    retain: 1 year\n    action: delete\n{extra}")


_mounts = []


def mount_tmpfs(path, kib):
    """A tmpfs of kib KiB at path (made); False when this machine cannot mount."""
    os.makedirs(path, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kib}k", "tmpfs", path],
                       capture_output=True, text=True)
    if p.returncode == 0:
        _mounts.append(path)
    return p.returncode == 0


def umount(path):
    subprocess.run(["umount", "-l", path], capture_output=True)
    _mounts.remove(path)


atexit.register(lambda: [umount(m) for m in list(_mounts)])
can_mount = mount_tmpfs(os.path.join(tmpdir(), "probe"), 64)
if can_mount:
    umount(_mounts[-1])
else:
    print("note: cannot mount a tmpfs here; the full-disk cases use RLIMIT_FSIZE only")


# --- (a) + (e) keys that are not UTF-8 or hold control characters -------------------------
d = tmpdir()
db = os.path.join(d, "reg.sqlite")
FORGED = "x\n<3>lethe: forged\x1b[2J\x9b2J"
LONG = "\u20ac" * 30  # 90 bytes: a cut at 64 bytes would split a character
con = sqlite3.connect(db)
con.execute("CREATE TABLE t(k TEXT PRIMARY KEY NOT NULL, made TEXT)")
con.execute("INSERT INTO t VALUES (CAST(x'41ff42' AS TEXT), 'never')")
con.execute("INSERT INTO t VALUES (?, 'never')", (FORGED,))
con.execute("INSERT INTO t VALUES (?, 'never')", (LONG,))
con.execute("INSERT INTO t VALUES ('due', '2020-01-01'), ('kept', '2025-12-01')")
con.commit()
con.close()
pol = os.path.join(d, "policies")
write(os.path.join(pol, "p.yaml"), "lethe: 1\nrules:\n" + rule("t", key="k"))
cfg = config(d, db, pol)

rc, out, err = lethe(cfg, "plan", "--as-of", AS_OF, "--json")
equal(rc, 0, "(a) plan --json with a key that is not UTF-8 exits 0")
try:
    plan = json.loads(out)
except ValueError:
    plan = {}
r = (plan.get("rules") or [{}])[0]
equal((r.get("due"), r.get("invalid")), (1, 3), "(a) plan --json counts one due and three invalid rows")
equal(sorted(r.get("invalid_examples", [])), sorted(["A\\xffB", "x\\n<3>lethe: forged\\x1b[2J\\u009b2J", LONG]),
      "(a) the examples are the keys escaped: \\xHH for bytes that are not UTF-8, \\n, \\x1b, \\u009b")
clean_lines(err, "(a) plan --json")

rc, out, err = lethe(cfg, "run", "--as-of", AS_OF, "--json")
equal(rc, 65, "(a) run --json with invalid clocks exits 65 (not 70)")
try:
    result = json.loads(out)
except ValueError:
    result = {}
r = (result.get("rules") or [{}])[0]
equal((r.get("disposed"), r.get("invalid")), (1, 3), "(a) run --json prints what it disposed of")
check(b"out of memory" not in err, f"(a) run --json says nothing of memory: {err!r}")
con = sqlite3.connect(db)
equal(sorted(k for (k,) in con.execute("SELECT CAST(k AS BLOB) FROM t")),
      sorted([b"A\xffB", FORGED.encode(), LONG.encode(), b"kept"]), "(a) the due row alone is gone")
con.close()

# A key longer than an excerpt is cut after 40 characters, never inside one.
con = sqlite3.connect(db)
con.execute("INSERT INTO t VALUES (?, 'never')", ("\u20ac" * 50,))
con.commit()
con.close()
rc, out, err = lethe(cfg, "plan", "--as-of", AS_OF, "--json")
plan = json.loads(out) if rc == 0 else {}
ex = (plan.get("rules") or [{}])[0].get("invalid_examples", [])
check("\u20ac" * 40 + "..." in ex, f"(a) a key of 50 characters is shown as its first 40 and '...': {ex}")

# (e) the same keys in text output and in the journal's format.
for journal in (False, True):
    what = "(e) journal" if journal else "(e) terminal"
    rc, out, err = lethe(cfg, "plan", "--as-of", AS_OF, journal=journal)
    equal(rc, 0, f"{what}: plan exits 0")
    clean_lines(err, what)
    lines = err.decode("utf-8", "replace").split("\n")
    check(not any(x.startswith("<3>lethe: forged") or x.startswith("lethe: forged") for x in lines),
          f"{what}: no forged line: {lines}")
    check(any("'x\\n<3>lethe: forged\\x1b[2J\\u009b2J'" in x for x in lines),
          f"{what}: the key is shown escaped on its warning line: {lines}")
    if journal:
        check(all(x.startswith("<") for x in lines if x), f"{what}: every line has our priority: {lines}")

# (e) a name in a fault: a policy key with a newline and an escape.
d2 = tmpdir()
pol2 = os.path.join(d2, "policies")
write(os.path.join(pol2, "p.yaml"), 'lethe: 1\n"a\\n<3>lethe: forged\\e[2J": 1\nrules:\n' + rule("t", key="k"))
cfg2 = config(d2, db, pol2)
rc, out, err = lethe(cfg2, "check")
equal(rc, 65, "(e) a policy with a forged key fails check with 65")
clean_lines(err, "(e) check")
lines = err.decode("utf-8", "replace").split("\n")
check(not any(x.startswith("<3>lethe: forged") for x in lines), f"(e) check: no forged line: {lines}")
check(any("unknown key 'a\\n<3>lethe: forged\\x1b[2J'" in x for x in lines),
      f"(e) check names the key escaped: {lines}")

# (e) a key in an error: pseudonymising the row breaks a CHECK constraint,
# and the error names the row's key.
d3 = tmpdir()
db3 = os.path.join(d3, "reg.sqlite")
con = sqlite3.connect(db3)
con.execute("CREATE TABLE p(k TEXT PRIMARY KEY NOT NULL, made TEXT, name TEXT CHECK (name NOT LIKE 'tok%'))")
con.execute("INSERT INTO p VALUES (?, '2020-01-01', 'Ella')", ("x\n<3>lethe: forged\x1b[2J",))
con.commit()
con.close()
pol3 = os.path.join(d3, "policies")
write(os.path.join(pol3, "p.yaml"), "lethe: 1\nrules:\n  - name: p-tok\n    basis: test\n    table: p\n    key: k\n"
      "    from: made\n    retain: 1 year\n    action: pseudonymise\n    columns: [name]\n")
cfg3 = config(d3, db3, pol3)
for journal in (False, True):
    what = "(e) error, journal" if journal else "(e) error, terminal"
    rc, out, err = lethe(cfg3, "run", "--as-of", AS_OF, journal=journal)
    check(rc != 0, f"{what}: the failing pseudonymisation fails the run (exit {rc})")
    clean_lines(err, what)
    lines = err.decode("utf-8", "replace").split("\n")
    check(not any(x.startswith("<3>lethe: forged") for x in lines), f"{what}: no forged line: {lines}")
    check(any("key 'x\\n<3>lethe: forged\\x1b[2J': CHECK constraint failed" in x for x in lines),
          f"{what}: the error names the key escaped: {lines}")

# --- (d) a policy linked to a file outside the folder ------------------------------------
d = tmpdir()
db = os.path.join(d, "reg.sqlite")
sqlite3.connect(db).executescript("CREATE TABLE t(id INTEGER PRIMARY KEY, made TEXT);")
secret = os.path.join(d, "shadow")
write(secret, "".join(f"user{i}:$6$SECRETSALT{i}$SECRETHASH{i}abcdefghijklmnopqrstuvwxyz:20228:0:99999:7:::\n"
                      for i in range(5)))
pol = os.path.join(d, "policies")
write(os.path.join(pol, "a.yaml"), "lethe: 1\nrules:\n" + rule("t"))
os.symlink(secret, os.path.join(pol, "z.yaml"))
cfg = config(d, db, pol)
for args in (("check",), ("plan", "--as-of", AS_OF), ("run", "--as-of", AS_OF)):
    rc, out, err = lethe(cfg, *args)
    equal(rc, 65, f"(d) {args[0]} with a policy linked out of the folder exits 65")
    check(b"SECRET" not in err and b"SECRET" not in out, f"(d) {args[0]} quotes nothing of the linked file: {err!r}")
    check(os.path.join(pol, "z.yaml").encode() in err and b"outside the policy folder" in err,
          f"(d) {args[0]} names the link and why it is not read: {err!r}")

# A linked policy folder and a link between files of the folder are fine.
os.remove(os.path.join(pol, "z.yaml"))
real = os.path.join(d, "real-policies")
os.rename(pol, real)
os.symlink(real, pol)
os.rename(os.path.join(real, "a.yaml"), os.path.join(real, "v3.yaml"))
os.symlink("v3.yaml", os.path.join(real, "current.yaml"))
os.rename(os.path.join(real, "v3.yaml"), os.path.join(real, "v3.yaml.txt"))
os.remove(os.path.join(real, "current.yaml"))
os.symlink("v3.yaml.txt", os.path.join(real, "current.yaml"))
rc, out, err = lethe(cfg, "check")
equal(rc, 0, f"(d) a linked folder with a link to a file of its own is read: {err!r}")

# Quoted source text is bounded: a long unknown key shows 40 characters.
write(os.path.join(real, "b.yaml"), "lethe: 1\n" + "k" * 30 + "SECRETTAIL" * 10 + ": 1\n")
rc, out, err = lethe(cfg, "check")
equal(rc, 65, "(d) an unknown key fails check")
check(("unknown key '" + "k" * 30 + "SECRETTAIL"[:10] + "...'").encode() in err and b"SECRETTAILSECRET" not in err,
      f"(d) the unknown key is quoted to 40 characters: {err!r}")


# --- (b) VACUUM fails after the run disposed of rows ---------------------------------------
def vacuum_register(path, due=200):
    """t first, then a table dropped (free pages low in the file for the run's
    own tables), then filler: the run's writes stay in the first pages while
    VACUUM needs a copy of the whole file."""
    con = sqlite3.connect(path)
    con.executescript(f"""
CREATE TABLE t(id INTEGER PRIMARY KEY, made TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {due})
  INSERT INTO t SELECT i, CASE WHEN i % 2 THEN '2020-01-01' ELSE '2025-12-01' END FROM n;
CREATE TABLE spare(id INTEGER PRIMARY KEY, pad BLOB);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10)
  INSERT INTO spare SELECT i, randomblob(3000) FROM n;
CREATE TABLE filler(id INTEGER PRIMARY KEY, pad BLOB);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
  INSERT INTO filler SELECT i, randomblob(3000) FROM n;
DROP TABLE spare;""")
    con.commit()
    con.close()


def evidence_of(cfg):
    """The evidence repository a configuration written by config() names."""
    with open(cfg) as f:
        line = [x for x in f if x.strip().startswith("repository:")][0]
    return line.split(":", 1)[1].strip()


def completion(ev):
    p = subprocess.run(["git", "-C", ev, "show", "main:records/00000/00000002-completion.json"],
                       capture_output=True, text=True)
    return json.loads(p.stdout) if p.returncode == 0 else {}


d = tmpdir()
db = os.path.join(d, "reg.sqlite")
vacuum_register(db)
pol = os.path.join(d, "policies")
write(os.path.join(pol, "p.yaml"), "lethe: 1\nrules:\n" + rule("t"))
cfg = config(d, db, pol)
rc, out, err = lethe(cfg, "run", "--as-of", AS_OF, preexec=fsize_limit(200 * 1024))
text = err.decode("utf-8", "replace")
equal(rc, 74, "(b) VACUUM past the file size limit: run exits 74")
check(f"cannot vacuum '{db}': disk I/O error (File too large)" in text,
      f"(b) the error is VACUUM's, with the operating system's reason: {text!r}")
equal(completion(evidence_of(cfg)).get("rules", [{}])[0].get("disposed"), 100,
      "(b) the completion records the rows disposed of before VACUUM failed")

if can_mount:
    # The register on a tmpfs that VACUUM fills; the evidence on the same
    # tmpfs, so that recording the completion can take the last blocks and
    # clearing the run marker fails too. The sizes are scanned downwards
    # until a run shows that case.
    seen_marker = False
    fixture = os.path.join(tmpdir(), "reg.sqlite")
    con = sqlite3.connect(fixture)
    con.executescript("""CREATE TABLE t(id INTEGER PRIMARY KEY, made TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
  INSERT INTO t SELECT i, '2020-01-01' FROM n;
CREATE TABLE filler(id INTEGER PRIMARY KEY, pad BLOB);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60)
  INSERT INTO filler SELECT i, randomblob(3000) FROM n;""")
    con.commit()
    con.close()
    for kib in range(520, 340, -4):
        d = tmpdir()
        m = os.path.join(d, "disk")
        if not mount_tmpfs(m, kib):
            break
        db = os.path.join(m, "reg.sqlite")
        subprocess.run(["cp", fixture, db], check=True)
        pol = os.path.join(d, "policies")
        write(os.path.join(pol, "p.yaml"), "lethe: 1\nrules:\n" + rule("t"))
        rc0, _, e0 = run("init", os.path.join(m, "site"), "--database", db, "--policies", pol)
        cfg = os.path.join(m, "site", "lethe.yaml")
        rc, out, err = lethe(cfg, "run", "--as-of", AS_OF) if rc0 == 0 else (0, b"", b"")
        text = err.decode("utf-8", "replace")
        check(b"not an error" not in err, f"(b) tmpfs {kib} KiB: no 'not an error': {text!r}")
        marker_left = rc0 == 0 and sqlite3.connect(db).execute(
            "SELECT count(*) FROM sqlite_schema WHERE name = 'lethe_runs'").fetchone()[0] and \
            sqlite3.connect(db).execute("SELECT count(*) FROM lethe_runs").fetchone()[0]
        recorded = completion(os.path.join(m, "site", "evidence")).get("result") == "failed"
        if "cannot vacuum" in text and recorded and marker_left:
            seen_marker = True
            equal(rc, 74, f"(b) tmpfs {kib} KiB: VACUUM and the marker fail on a full disk: exit 74")
            err_line = [x for x in text.split("\n") if "cannot vacuum" in x]
            check(bool(err_line) and err_line[0].startswith(f"lethe: cannot vacuum '{db}': database or disk is full")
                  and "cannot clear the run marker" in err_line[0],
                  f"(b) tmpfs {kib} KiB: the VACUUM error comes first, the marker's after it: {text!r}")
        umount(m)
        if seen_marker:
            break
    check(seen_marker, "(b) a full tmpfs made VACUUM and then the run marker's clearing fail")


# --- (c) evidence that cannot be written -----------------------------------------------------
def evidence_site(due=200):
    d = tmpdir()
    db = os.path.join(d, "reg.sqlite")
    con = sqlite3.connect(db)
    con.executescript(f"""CREATE TABLE t(id INTEGER PRIMARY KEY, made TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {due})
  INSERT INTO t SELECT i, '2020-01-01' FROM n;""")
    con.commit()
    con.close()
    pol = os.path.join(d, "policies")
    write(os.path.join(pol, "p.yaml"), "lethe: 1\nrules:\n" + rule("t"))
    cfg = config(d, db, pol)
    return d, db, cfg, evidence_of(cfg)


if can_mount:
    for kib in (24, 40, 64, 72, 92, 100):
        d, db, cfg, ev = evidence_site()
        os.rename(ev, ev + ".orig")
        mount_tmpfs(ev, kib)
        subprocess.run(["cp", "-a", ev + ".orig/.", ev], check=True)
        rc, out, err = lethe(cfg, "run", "--as-of", AS_OF)
        text = err.decode("utf-8", "replace")
        equal(rc, 74, f"(c) evidence on a full tmpfs of {kib} KiB: exit 74")
        check(f"cannot write evidence to '{os.path.realpath(ev)}/': No space left on device" in text,
              f"(c) tmpfs {kib} KiB: the message says where and why: {text!r}")
        check("object not found" not in text and "unknown git error" not in text,
              f"(c) tmpfs {kib} KiB: no misleading libgit2 text: {text!r}")
        umount(ev)

# A file size limit: the policy file (random text git cannot compress) is
# larger than the limit.
d, db, cfg, ev = evidence_site()
with open(os.path.join(d, "policies", "p.yaml"), "a") as f:
    f.write("".join("# " + os.urandom(60).hex() + "\n" for _ in range(2000)))
rc, out, err = lethe(cfg, "run", "--as-of", AS_OF, preexec=fsize_limit(64 * 1024))
text = err.decode("utf-8", "replace")
equal(rc, 74, "(c) evidence past the file size limit: exit 74")
check(f"cannot write evidence to '{os.path.realpath(ev)}/': File too large" in text,
      f"(c) file size limit: the message says where and why: {text!r}")
check(not [f for f in os.listdir(os.path.join(ev, "objects")) if f.startswith("lethe-probe")],
      "(c) finding the reason leaves no file in the repository")
con = sqlite3.connect(db)
equal(con.execute("SELECT count(*) FROM t").fetchone()[0], 200, "(c) nothing was disposed of")
con.close()

finish()
