"""`lethe run` disposes exactly what is due and leaves no residue.

A register built here holds distinctive values (random markers, new on every
run of the test) in a plain column, an indexed column, a value long enough to
need overflow pages, an FTS5-indexed text (scanned for whole values and for
single tokens; an FTS4 index of the same text and an fts5vocab table beside
it) and columns that a rule pseudonymises (indexed) or masks; the
same kinds of values sit in rows that are kept, with their own markers. After
`lethe run` the raw bytes of the database file and of every -wal, -journal and
-shm file are scanned, while a connection is open and after it is closed: no
marker of a disposed value may be found, every kept marker must be (so the
scan can see). Rollback journal (DELETE and PERSIST) and WAL are both run.

In WAL mode a reader holding a read transaction open across the run keeps the
checkpoint from truncating the WAL: lethe must succeed and warn on stderr
naming the cause. What remains where is printed, and then checked to go once
the reader and every connection are closed (SQLite checkpoints on the last
close).

A control shows the scan can fail: deleting the same rows with plain SQL
(secure_delete on, triggers keeping the FTS5 index in step) leaves the tokens
of the deleted texts in the FTS5 index, and the scan finds them."""
import os
import re
import secrets
import sqlite3
from lethe_e2e import check, equal, finish, run, tmpdir, write
from lethe_run_e2e import config

ROWS = 3000
AS_OF = "2026-01-01"
OLD, RECENT = "2015-03-01", "2025-09-01"          # due / not due under "retain: 1 year"
TAIL = 12                                         # hex digits of a token scanned for
STAT4 = any("ENABLE_STAT4" in r[0] for r in sqlite3.connect(":memory:").execute("PRAGMA compile_options"))
KINDS = ("name", "email", "bio", "chat", "vemail", "vagent")


def is_due(i):
    return i % 3 == 0


def late(i):
    """Due rows written in the last transaction before the run (in WAL mode
    their content is then only in the -wal file)."""
    return i % 6 == 3


class Markers:
    def __init__(self):
        # Due values sort before kept ones (the first third of each index):
        # deleting them then merges index pages, and SQLite's page rebuild
        # leaves fragments of moved keys in the pages' unused space, which
        # secure_delete does not clear. With random order that happens in
        # some runs only; this way in every run, unless lethe cleans it.
        self.due = {k: "RESIDUE0" + secrets.token_hex(8) + k for k in KINDS}
        self.kept = {k: "RESIDUE1" + secrets.token_hex(8) + k for k in KINDS}
        # FTS5 stores terms prefix-compressed: a term shares its leading bytes
        # with the term before it, so the scan looks for each token's last
        # TAIL hex digits, which a random neighbour shares with odds ~ 1e-7.
        self.tokens = {i: ["zqxwv" + secrets.token_hex(8) for _ in range(2)] for i in range(1, ROWS + 1)}

    def of(self, i):
        return self.due if is_due(i) else self.kept

    def tails(self, due):
        return {t[-TAIL:].encode() for i, ts in self.tokens.items() if is_due(i) == due for t in ts}


FILLER = "lorem ipsum dolor sit amet consectetur adipiscing elit "


def rows(m, ids):
    for i in ids:
        mk = m.of(i)
        clock = OLD if is_due(i) else RECENT
        bio = None
        if i % 25 == 0:  # 20 kB: the marker lands on overflow pages
            bio = "".join(f"{FILLER * 18}{mk['bio']}-{i} " for _ in range(20))
        person = (i, clock, f"{mk['name']}-{i}", f"{mk['email']}-{i}@example.org", bio)
        chat = (i, clock, f"hello {m.tokens[i][0]} about order {mk['chat']}-{i} and {m.tokens[i][1]} thanks")
        visit = (i, clock, f"{mk['vemail']}-{i}@example.net", f"Mozilla/5.0 {mk['vagent']}-{i}")
        yield person, chat, visit


SCHEMA = """
CREATE TABLE people(id INTEGER PRIMARY KEY, closed TEXT, name TEXT, email TEXT, bio TEXT);
CREATE INDEX people_email ON people(email);
CREATE TABLE chats(id INTEGER PRIMARY KEY, made TEXT, transcript TEXT);
CREATE VIRTUAL TABLE chat_fts USING fts5(transcript);
CREATE VIRTUAL TABLE chat_vocab USING fts5vocab(chat_fts, 'row');
CREATE VIRTUAL TABLE chat_fts4 USING fts4(transcript);
CREATE TRIGGER chats_ai AFTER INSERT ON chats BEGIN
  INSERT INTO chat_fts(rowid, transcript) VALUES (new.id, new.transcript);
  INSERT INTO chat_fts4(docid, transcript) VALUES (new.id, new.transcript);
END;
CREATE TRIGGER chats_ad AFTER DELETE ON chats BEGIN
  DELETE FROM chat_fts WHERE rowid = old.id;
  DELETE FROM chat_fts4 WHERE docid = old.id;
END;
CREATE TRIGGER chats_au AFTER UPDATE ON chats BEGIN
  DELETE FROM chat_fts WHERE rowid = old.id;
  INSERT INTO chat_fts(rowid, transcript) VALUES (new.id, new.transcript);
  DELETE FROM chat_fts4 WHERE docid = old.id;
  INSERT INTO chat_fts4(docid, transcript) VALUES (new.id, new.transcript);
END;
CREATE TABLE visits(id INTEGER PRIMARY KEY, at TEXT, email TEXT, agent TEXT);
CREATE INDEX visits_email ON visits(email);
"""

POLICY = f"""lethe: 1
rules:
  - name: people
    basis: test
    table: people
    from: closed
    retain: 1 year
    action: delete
  - name: chats
    basis: test
    table: chats
    from: made
    retain: 1 year
    action: delete
  - name: visit-emails
    basis: test
    table: visits
    from: at
    retain: 1 year
    action: pseudonymise
    columns: [email]
  - name: visit-agents
    basis: test
    table: visits
    from: at
    retain: 1 year
    action: mask
    columns:
      agent: redact
"""


def insert(con, m, ids):
    con.execute("BEGIN")
    for person, chat, visit in rows(m, ids):
        con.execute("INSERT INTO people VALUES (?,?,?,?,?)", person)
        con.execute("INSERT INTO chats VALUES (?,?,?)", chat)
        con.execute("INSERT INTO visits VALUES (?,?,?,?)", visit)
    con.execute("COMMIT")


def build(d, mode, m):
    """The register in journal mode `mode`; returns the database path and the
    writer's connection, left open and idle (so that in WAL mode the last
    transaction stays in the -wal file until lethe runs)."""
    db = os.path.join(d, "reg.sqlite")
    con = sqlite3.connect(db, isolation_level=None)
    con.execute(f"PRAGMA journal_mode={mode}")
    con.execute("PRAGMA wal_autocheckpoint=0")
    con.executescript(SCHEMA)
    insert(con, m, [i for i in range(1, ROWS + 1) if not late(i)])
    con.execute("ANALYZE")
    if mode == "wal":
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    # The last transaction: due rows between rows already written, so pages
    # holding earlier due rows split (and, with PERSIST, their pre-images
    # stay in the -journal).
    insert(con, m, [i for i in range(1, ROWS + 1) if late(i)])
    pol = os.path.join(d, "policies")
    write(os.path.join(pol, "rules.yaml"), POLICY)
    key = os.path.join(d, "pseudonym.key")
    write(key, secrets.token_hex(32) + "\n")
    os.chmod(key, 0o600)
    cfg = config(d, db, pol, key_path=key)
    return db, cfg, con


def db_files(db):
    d, base = os.path.split(db)
    return {n: os.path.join(d, n) for n in sorted(os.listdir(d)) if n.startswith(base)}


def count_tails(data, tails):
    n = 0
    for run_ in re.finditer(rb"[0-9a-f]{%d,}" % TAIL, data):
        s = run_.group()
        n += sum(s[k:k + TAIL] in tails for k in range(len(s) - TAIL + 1))
    return n


def scan(db, m):
    """{(due?, kind): {file: count}} over the raw bytes of every file of db."""
    found = {}
    for name, path in db_files(db).items():
        with open(path, "rb") as f:
            data = f.read()
        for due, mk in ((True, m.due), (False, m.kept)):
            for k, v in mk.items():
                found.setdefault((due, k), {})[name] = data.count(v.encode())
            found.setdefault((due, "token"), {})[name] = count_tails(data, m.tails(due))
    return found


def total(found, due, kind):
    return sum(found[(due, kind)].values())


def where(found, due, kind):
    return ", ".join(f"{n}: {c}" for n, c in found[(due, kind)].items() if c) or "nowhere"


def expect_clean(found, what):
    for kind in KINDS + ("token",):
        check(total(found, True, kind) == 0,
              f"{what}: no disposed {kind} marker left (found {where(found, True, kind)})")
        check(total(found, False, kind) > 0, f"{what}: kept {kind} markers found ({where(found, False, kind)})")


def expect_logical(db, m):
    con = sqlite3.connect(db)
    due = ROWS // 3
    equal(con.execute("SELECT count(*) FROM people").fetchone()[0], ROWS - due, "people rows left")
    equal(con.execute("SELECT count(*) FROM people WHERE id % 3 = 0").fetchone()[0], 0, "due people rows left")
    equal(con.execute("SELECT count(*) FROM chats").fetchone()[0], ROWS - due, "chats left")
    kept, gone = m.tokens[1][0], m.tokens[3][0]
    equal(con.execute("SELECT count(*) FROM chat_fts WHERE chat_fts MATCH ?", (kept,)).fetchone()[0], 1,
          "a kept text is still found by its token")
    equal(con.execute("SELECT count(*) FROM chat_fts WHERE chat_fts MATCH ?", (gone,)).fetchone()[0], 0,
          "a disposed text is not found by its token")
    equal(con.execute("SELECT count(*) FROM chat_fts4 WHERE chat_fts4 MATCH ?", (gone,)).fetchone()[0], 0,
          "a disposed text is not found by its token in FTS4")
    equal(con.execute("SELECT count(*) FROM chat_vocab WHERE term IN (?, ?)", (kept, gone)).fetchone()[0], 1,
          "fts5vocab lists the kept token only")
    equal(con.execute("SELECT count(*) FROM visits WHERE id % 3 = 0 AND agent = '[redacted]' "
                      "AND email NOT LIKE 'RESIDUE%'").fetchone()[0], due, "due visits masked and pseudonymised")
    equal(con.execute("SELECT count(*) FROM visits WHERE id % 3 <> 0 AND email LIKE 'RESIDUE%' "
                      "AND agent LIKE 'Mozilla%'").fetchone()[0], ROWS - due, "kept visits unchanged")
    equal(con.execute("PRAGMA integrity_check").fetchone()[0], "ok", "integrity_check")
    con.close()


def expect_present_before(db, m, mode):
    """The scan sees the disposed values before the run, where this mode puts them."""
    found = scan(db, m)
    for kind in KINDS + ("token",):
        check(total(found, True, kind) > 0, f"{mode}: disposed {kind} markers present before the run")
    if mode == "wal":
        check(found[(True, "name")].get("reg.sqlite-wal", 0) > 0, "wal: due rows sit in the -wal before the run")
    if mode == "persist":
        check(found[(True, "name")].get("reg.sqlite-journal", 0) > 0,
              "persist: the persistent -journal holds pre-images with due rows before the run")


def lethe_run(cfg):
    rc, out, err = run("-c", cfg, "run", "--as-of", AS_OF)
    if rc != 0:
        print(out, err)
    return rc, err


def scenario(mode):
    d = tmpdir()
    m = Markers()
    db, cfg, writer = build(d, mode, m)
    expect_present_before(db, m, mode)
    rc, err = lethe_run(cfg)
    equal(rc, 0, f"{mode}: run exits 0")
    check("warning" not in err.lower(), f"{mode}: run gives no warning (stderr: {err.strip()!r})")
    probe = sqlite3.connect(db)
    probe.execute("SELECT count(*) FROM people").fetchone()
    expect_clean(scan(db, m), f"{mode}, connections open")
    probe.close()
    writer.close()
    expect_clean(scan(db, m), f"{mode}, closed")
    if STAT4:
        con = sqlite3.connect(db)
        rows_ = con.execute("SELECT count(*) FROM sqlite_stat4 WHERE tbl = 'people'").fetchone()[0]
        check(rows_ > 0, f"{mode}: sqlite_stat4 holds samples of people after the run")
        con.close()
    expect_logical(db, m)


def wal_reader():
    d = tmpdir()
    m = Markers()
    db, cfg, writer = build(d, "wal", m)
    reader = sqlite3.connect(db, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM people").fetchone()
    rc, err = lethe_run(cfg)
    print("wal with an open reader, stderr of the run:\n" + err)
    equal(rc, 0, "wal with an open reader: run still exits 0")
    check("not truncated" in err and "another connection is reading" in err and "reg.sqlite-wal" in err,
          f"wal with an open reader: warning names the cause (stderr: {err.strip()!r})")
    found = scan(db, m)
    # What remains while the reader holds its snapshot: the disposed rows are
    # gone from what SQLite reads, but the checkpoint could copy none of the
    # run's pages back, so their old images stay in the main file (and the
    # frames written before the run in the -wal).
    print("wal with an open reader, disposed markers still in the files:")
    for kind in KINDS + ("token",):
        print(f"  {kind}: {where(found, True, kind)}")
    check(sum(total(found, True, k) for k in KINDS) > 0,
          "wal with an open reader: old content remains until a checkpoint (as the warning says)")
    reader.close()
    writer.close()
    expect_clean(scan(db, m), "wal, reader gone and every connection closed")
    expect_logical(db, m)


def control():
    """Plain SQL deletes (secure_delete on) leave FTS5 tokens: the scan finds them.
    A few rows only: a large delete can happen to trigger FTS5's own merge."""
    d = tmpdir()
    m = Markers()
    db, _, writer = build(d, "delete", m)
    gone = [3, 6, 9, 12, 15]
    writer.execute("PRAGMA secure_delete=ON")
    writer.execute(f"DELETE FROM chats WHERE id IN ({','.join(map(str, gone))})")
    writer.close()
    with open(db, "rb") as f:
        data = f.read()
    values = sum(data.count(f"{m.due['chat']}-{i} ".encode()) for i in gone)
    tokens = count_tails(data, {t[-TAIL:].encode() for i in gone for t in m.tokens[i]})
    equal(values, 0, "control: secure_delete zeroes the deleted whole values")
    check(tokens > 0, f"control: tokens of deleted texts stay in the FTS5 index (found {tokens})")


def rowids_kept():
    """VACUUM would renumber a table with neither an INTEGER PRIMARY KEY nor an
    index: lethe then skips it, says why, and the rowids stay."""
    d = tmpdir()
    db = os.path.join(d, "reg.sqlite")
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("CREATE TABLE logs(at TEXT, msg TEXT)")
    con.executemany("INSERT INTO logs VALUES (?, ?)", [(OLD if i % 2 else RECENT, f"m{i}") for i in range(1, 101)])
    con.close()
    pol = os.path.join(d, "policies")
    write(os.path.join(pol, "rules.yaml"), "lethe: 1\nrules:\n  - name: logs\n    basis: test\n"
          "    table: logs\n    from: at\n    retain: 1 year\n    action: delete\n")
    rc, err = lethe_run(config(d, db, pol))
    equal(rc, 0, "rowid table: run exits 0")
    check("not vacuumed" in err and "'logs'" in err, f"rowid table: warning names the table (stderr: {err.strip()!r})")
    con = sqlite3.connect(db)
    equal(con.execute("SELECT group_concat(rowid) FROM (SELECT rowid FROM logs ORDER BY rowid LIMIT 3)").fetchone()[0],
          "2,4,6", "rowid table: the kept rows keep their rowids")
    con.close()


print(f"sqlite {sqlite3.sqlite_version}, stat4 {'compiled in' if STAT4 else 'not compiled in'}")
control()
for mode in ("delete", "persist", "wal"):
    scenario(mode)
wal_reader()
rowids_kept()
finish()
