"""Residue work is never skipped silently (issue 10, item 9).

A. A run killed between its last batch and its clean-up (crash points
   after-batch of its only batch, and before-finalise) leaves the tokens of the disposed texts in the FTS5 index:
   the raw bytes of the file show them, and the register records that clean-up
   is owed. The next run, with nothing left to dispose of, does the clean-up
   first: the tokens are gone, nothing is owed any more. The recovered
   completion of the killed run carries the warning that clean-up is owed, the
   next run's completion says it was done; `lethe verify` accepts both.
B. A run that fails part-way (a mask refused by a CHECK after the chats were
   deleted) records the same in its failed completion; the next run cleans.
C. A VACUUM kept from running (rollback journal, another connection holding a
   read transaction) leaves clean-up owed: the run's completion says so, the
   register still says it is owed, and the next run without the reader does it.
Both in rollback-journal (DELETE) mode; A also in WAL mode."""
import json
import os
import secrets
import signal
import sqlite3
from lethe_e2e import check, equal, finish, run, tmpdir, write
from lethe_run_e2e import config, evidence_records

AS_OF = "2026-01-01"
OLD, RECENT = "2015-03-01", "2025-09-01"
ROWS = 60
TAIL = 12   # FTS5 stores terms prefix-compressed: scan for each token's last hex digits
d = tmpdir()


def is_due(i):
    return i % 3 == 0


def build(name, mode, fts, failing=False):
    """A register (chats, FTS5-indexed when fts) and a site for it; with
    failing, a second rule masks a note whose CHECK refuses the mask, so the
    run fails after the chats are disposed of."""
    work = os.path.join(d, name)
    os.makedirs(work)
    db = os.path.join(work, "reg.sqlite")
    con = sqlite3.connect(db, isolation_level=None)
    con.execute(f"PRAGMA journal_mode={mode}")
    con.execute("CREATE TABLE chats(id INTEGER PRIMARY KEY, made TEXT, transcript TEXT)")
    if fts:
        con.executescript("""
        CREATE VIRTUAL TABLE chat_fts USING fts5(transcript);
        CREATE TRIGGER chats_ai AFTER INSERT ON chats BEGIN
          INSERT INTO chat_fts(rowid, transcript) VALUES (new.id, new.transcript);
        END;
        CREATE TRIGGER chats_ad AFTER DELETE ON chats BEGIN
          DELETE FROM chat_fts WHERE rowid = old.id;
        END;
        """)
    tokens = {i: "zqxwv" + secrets.token_hex(8) for i in range(1, ROWS + 1)}
    # One statement, so the index is one segment that keeps every term until
    # the optimise. (Row by row, FTS5 writes a segment per statement, and the
    # merge that a run's one large delete sets off rewrites them all without
    # the deleted terms: nothing would be left for the clean-up to prove.)
    rows = [[i, OLD if is_due(i) else RECENT, f"hello {tokens[i]} thanks"] for i in range(1, ROWS + 1)]
    con.execute("INSERT INTO chats SELECT value->>0, value->>1, value->>2 FROM json_each(?)",
                (json.dumps(rows),))
    con.close()
    policy = ("lethe: 1\nrules:\n  - name: chats\n    basis: test\n"
              "    table: chats\n    from: made\n    retain: 1 year\n    action: delete\n")
    if failing:
        con = sqlite3.connect(db)
        con.execute("CREATE TABLE notes(id INTEGER PRIMARY KEY, made TEXT, "
                    "body TEXT CHECK (body <> '[redacted]'))")
        con.execute("INSERT INTO notes VALUES (1, ?, 'private')", (OLD,))
        con.commit()
        con.close()
        policy += ("  - name: notes\n    basis: test\n    table: notes\n    from: made\n"
                   "    retain: 1 year\n    action: mask\n    columns:\n      body: redact\n")
    pol = os.path.join(work, "policies")
    write(os.path.join(pol, "rules.yaml"), policy)
    return config(work, db, pol), db, tokens


def due_tails_found(db, tokens):
    """How many disposed tokens the raw bytes of db and its side files still hold."""
    data = b""
    for suffix in ("", "-wal", "-journal"):
        if os.path.exists(db + suffix):
            with open(db + suffix, "rb") as f:
                data += f.read()
    return sum(1 for i, t in tokens.items() if is_due(i) and t[-TAIL:].encode() in data)


def kept_tails_found(db, tokens):
    with open(db, "rb") as f:
        data = f.read()
    return sum(1 for i, t in tokens.items() if not is_due(i) and t[-TAIL:].encode() in data)


def owed(db):
    con = sqlite3.connect(db)
    try:
        if not con.execute("SELECT 1 FROM sqlite_schema WHERE name = 'lethe_cleanup_owed'").fetchone():
            return 0
        return con.execute("SELECT count(*) FROM lethe_cleanup_owed").fetchone()[0]
    finally:
        con.close()


def completions(cfg):
    return [r for r in evidence_records(cfg) if r["kind"] == "completion"]


def lethe_run(cfg, env=None):
    return run("-c", cfg, "run", "--as-of", AS_OF, "--json", env=env)


def crash_then_clean(mode, point):
    cfg, db, tokens = build(f"crash-{mode}", mode, True)
    rc, out, err = lethe_run(cfg, env={"LETHE_TEST_CRASH": point})
    equal(rc, -signal.SIGKILL, f"{mode}: the run was killed between its last batch and its clean-up")
    con = sqlite3.connect(db)
    left = con.execute("SELECT count(*) FROM chats WHERE made = ?", (OLD,)).fetchone()[0]
    con.close()
    equal(left, 0, f"{mode}: its batches were committed")
    found = due_tails_found(db, tokens)
    check(found > 0, f"{mode}: the tokens of disposed texts are still in the file bytes "
          f"({found} of {ROWS // 3})")
    equal(owed(db), 1, f"{mode}: the register records that clean-up is owed")

    rc, out, err = lethe_run(cfg)
    equal(rc, 0, f"{mode}: the next run succeeds ({err.strip()[:200]})")
    disposed = {r["name"]: r["disposed"] for r in json.loads(out)["rules"]} if out else {}
    equal(disposed, {"chats": 0}, f"{mode}: the next run has nothing to dispose of")
    equal(due_tails_found(db, tokens), 0, f"{mode}: after it no disposed token is in the file bytes")
    equal(kept_tails_found(db, tokens), ROWS - ROWS // 3, f"{mode}: every kept token is (the scan sees)")
    equal(owed(db), 0, f"{mode}: nothing is owed any more")
    comps = completions(cfg)
    equal([c["result"] for c in comps], ["recovered", "completed"],
          f"{mode}: the killed run is recovered, the next one completes")
    if len(comps) == 2:
        check(any("clean-up is owed" in w for w in comps[0]["warnings"]),
              f"{mode}: the recovered completion warns that clean-up is owed ({comps[0]['warnings']})")
        check(any("clean-up owed since" in w and "was done" in w for w in comps[1]["warnings"]),
              f"{mode}: the next completion says the owed clean-up was done ({comps[1]['warnings']})")
    rc, out, err = run("-c", cfg, "verify")
    equal(rc, 0, f"{mode}: lethe verify accepts the warnings ({out.strip()} {err.strip()})")


def failed_part_way():
    cfg, db, tokens = build("failed", "delete", True, failing=True)
    rc, out, err = lethe_run(cfg)
    check(rc != 0, f"failed: the run fails on the note after disposing of the chats (exit {rc})")
    con = sqlite3.connect(db)
    left = con.execute("SELECT count(*) FROM chats WHERE made = ?", (OLD,)).fetchone()[0]
    con.close()
    equal(left, 0, "failed: the chats' batch was committed")
    check(due_tails_found(db, tokens) > 0, "failed: the disposed texts' tokens are in the file bytes")
    comps = completions(cfg)
    check(comps and comps[-1]["result"] == "failed" and
          any("clean-up is owed" in w for w in comps[-1]["warnings"]),
          f"failed: its completion is 'failed' and records that clean-up is owed "
          f"({comps[-1]['warnings'] if comps else None})")
    con = sqlite3.connect(db)
    con.execute("DELETE FROM notes")   # the operator removes the cause
    con.commit()
    con.close()
    rc, out, err = lethe_run(cfg)
    equal(rc, 0, f"failed: the next run, with nothing due, succeeds ({err.strip()[:200]})")
    equal(due_tails_found(db, tokens), 0, "failed: after it no disposed token is in the file bytes")
    equal(owed(db), 0, "failed: nothing is owed any more")
    rc, out, err = run("-c", cfg, "verify")
    equal(rc, 0, f"failed: lethe verify passes ({out.strip()} {err.strip()})")


def vacuum_kept_from_running():
    cfg, db, tokens = build("vacuum-busy", "delete", False)
    rc, out, err = lethe_run(cfg, env={"LETHE_TEST_CRASH": "before-finalise"})
    equal(rc, -signal.SIGKILL, "busy: the first run was killed before its clean-up")
    # Recover it without running (a recording command recovers an interrupted run).
    rc, out, err = run("-c", cfg, "hold", "add", "--reason", "recovery", "--rule", "chats",
                       "--where", "id < 0")
    equal(rc, 0, f"busy: hold add recovers the interrupted run ({err.strip()[:200]})")
    reader = sqlite3.connect(db, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM chats").fetchone()
    rc, out, err = lethe_run(cfg)
    equal(rc, 0, f"busy: a run while a reader blocks VACUUM exits 0 ({err.strip()[:300]})")
    check("not vacuumed" in err, "busy: it warns that the database was not vacuumed")
    equal(owed(db), 1, "busy: the register still says clean-up is owed")
    last = completions(cfg)[-1]
    check(any("clean-up is owed" in w for w in last["warnings"]),
          f"busy: the run's completion records that clean-up is owed ({last['warnings']})")
    reader.rollback()
    reader.close()
    rc, out, err = lethe_run(cfg)
    equal(rc, 0, f"busy: the next run without the reader succeeds ({err.strip()[:200]})")
    equal(owed(db), 0, "busy: it did the clean-up; nothing is owed")
    last = completions(cfg)[-1]
    check(any("was done" in w for w in last["warnings"]) and
          not any("clean-up is owed" in w for w in last["warnings"]),
          f"busy: its completion says the owed clean-up was done ({last['warnings']})")
    rc, out, err = run("-c", cfg, "verify")
    equal(rc, 0, f"busy: lethe verify passes ({out.strip()} {err.strip()})")


# One batch: the crash after it is the crash before the clean-up.
crash_then_clean("delete", "after-batch:1")
crash_then_clean("wal", "before-finalise")
failed_part_way()
vacuum_kept_from_running()
finish()
