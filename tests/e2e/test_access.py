# engines: sqlite postgresql mariadb
"""`lethe access` on the reference shop, on every engine (lethe_engines.py): the export holds exactly the
subject's rows (an independent SQL query per table, every value compared),
nothing of another customer, in zip and tar.gz; the database's content stays
identical but for Lethe's own tables (on a server: every shop table's rows) (lethe_requests gains one answered
access request per export; lethe_evidence_head remembers the evidence head); the evidence gains one export record (counts and the
archive's SHA-256, no content) and `lethe verify` passes; an unknown subject
exits 65 and creates no file; an existing output is never overwritten."""
import base64
import hashlib
import io
import json
import os
import sqlite3
import stat
import subprocess
import sys
import tarfile
import zipfile

sys.path.insert(0, os.path.dirname(__file__))
import lethe_engines
from lethe_e2e import SOURCE, check, equal, finish, run, sha256, tmpdir
from lethe_run_e2e import config
from lethe_subject_e2e import QUERIES, rich_subject, use_engine

d = tmpdir()
eng = lethe_engines.engine().start(d)
eng.demo(os.path.join(d, "db"), customers=300)
db = eng.location()
use_engine(eng)
cfg = config(d, db, os.path.abspath(os.path.join(SOURCE, "policies")))
repo = os.path.join(os.path.dirname(cfg), "site1", "evidence")
subject = rich_subject(db)
OWN = {"postgresql": "lethe.lethe_requests", "mariadb": "lethe_requests", "sqlite": "lethe_requests"}
SHOP_TABLES = {
    "postgresql": "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                  "AND table_type = 'BASE TABLE' ORDER BY 1",
    "mariadb": "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() "
               "AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'lethe%' ORDER BY 1",
}


def where(table):
    return QUERIES[table].replace(":s", str(subject))


def expected(table):
    """The subject's rows of table: on SQLite every value as stored (typed);
    on a server every value as the server prints it, as text."""
    if eng.name == "sqlite":
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        con.row_factory = sqlite3.Row
        try:
            rows = con.execute(f'SELECT * FROM "{table}" WHERE {where(table)} ORDER BY id')
            return [{k: (base64.b64encode(r[k]).decode() if isinstance(r[k], bytes) else r[k])
                     for k in r.keys()} for r in rows]
        finally:
            con.close()
    return [[lethe_engines.normalise(v) for v in r]
            for r in eng.sql(f"SELECT * FROM {table} WHERE {where(table)} ORDER BY id")]


def exported(rows):
    """An export's rows as expected() gives them."""
    if eng.name == "sqlite" or not isinstance(rows, list):
        return rows
    return [[lethe_engines.normalise(v) for v in r.values()] for r in rows]


want = {t: expected(t) for t in QUERIES}
emails = [r[0] for r in eng.sql(f"SELECT email FROM customers WHERE id <> {subject}")]
own_email = eng.sql(f"SELECT email FROM customers WHERE id = {subject}")[0][0]
check(sum(len(v) for v in want.values()) > 10, f"subject {subject} has data in several tables")
check(all(want[t] for t in ("orders", "order_lines", "consents")), "the subject has orders and consents")


def members(path):
    """{name: bytes} of a zip or tar.gz."""
    if path.endswith(".zip"):
        with zipfile.ZipFile(path) as z:
            return {n: z.read(n) for n in z.namelist()}
    with tarfile.open(path, "r:gz") as t:
        return {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}


def records():
    names = subprocess.run(["git", "-C", repo, "ls-tree", "-r", "--name-only", "main", "records/"],
                           capture_output=True, text=True).stdout.split()
    return names


def record(name):
    return json.loads(subprocess.run(["git", "-C", repo, "show", f"main:{name}"],
                                     capture_output=True, text=True).stdout)


def db_files():
    if eng.name != "sqlite":
        return []
    return sorted(n for n in os.listdir(os.path.dirname(db)) if n.startswith("shop.sqlite")
                  and not n.endswith(".lock"))


def content(path):
    """The database's content without what access may write: the register of
    requests and the evidence head it remembers (Lethe's own tables); on a
    server, every row of every shop table."""
    if eng.name != "sqlite":
        text = json.dumps({t[0]: eng.dump(t[0]) for t in eng.sql(SHOP_TABLES[eng.name])})
        return hashlib.sha256(text.encode()).hexdigest()
    c = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    lines = [x for x in c.iterdump() if "lethe_requests" not in x and "lethe_evidence_head" not in x]
    c.close()
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def requests():
    try:
        return [tuple(r) for r in eng.sql(f"SELECT kind, answered_at FROM {OWN[eng.name]}")]
    except (sqlite3.OperationalError, RuntimeError):
        return []


before = content(db)
files_before = db_files()
for ext in ("zip", "tar.gz"):
    outp = os.path.join(d, f"export.{ext}")
    nrec = len(records())
    rc, out, err = run("-c", cfg, "access", "--subject", str(subject), "--output", outp)
    equal(rc, 0, f"access --output *.{ext} exits 0 ({err.strip()})")
    if rc:
        continue
    equal(stat.S_IMODE(os.stat(outp).st_mode), 0o600, f"{ext}: the export is mode 0600")
    m = members(outp)
    equal(sorted(m), sorted([f"{t}.json" for t in QUERIES] + ["summary.txt"]),
          f"{ext}: one JSON file per table and summary.txt")
    for t in QUERIES:
        doc = json.loads(m.get(f"{t}.json", b"{}"))
        got = exported(doc.get("rows"))
        equal(got, want[t], f"{ext}: {t}.json holds exactly the subject's {len(want[t])} rows, every value")
    blob = b"".join(m.values())
    check(own_email.encode() in blob, f"{ext}: the subject's own e-mail is found (the search can see)")
    leaked = [e for e in emails if e.encode() in blob]
    equal(leaked, [], f"{ext}: none of {len(emails)} other customers' e-mails is in the export")
    raw = open(outp, "rb").read()
    equal([e for e in emails if e.encode() in raw], [], f"{ext}: nor in the archive's raw bytes")
    summary = m.get("summary.txt", b"").decode()
    check("Kirjanpitolaki" in summary and "10 years from the end of the financial year" in summary,
          f"{ext}: summary names the bookkeeping basis and period")
    check("to be deleted on " in summary, f"{ext}: summary gives disposal days of kept rows")
    equal(content(db), before, f"{ext}: the database's content is identical but for lethe_requests")
    equal(db_files(), files_before, f"{ext}: no journal or WAL file appeared")
    recs = records()
    equal(len(recs), nrec + 1, f"{ext}: the evidence gained one record")
    if len(recs) == nrec + 1:
        rec = record(recs[-1])
        equal(rec.get("kind"), "export", f"{ext}: the record is an export")
        equal(rec.get("archive", {}).get("sha256"), sha256(outp), f"{ext}: the record has the archive's sha256")
        equal({x["table"]: x["rows"] for x in rec.get("tables", [])}, {t: len(v) for t, v in want.items()},
              f"{ext}: the record has the row count per table")
        equal(rec.get("files"), [], f"{ext}: no file was added besides the record")
        text = json.dumps(rec)
        check(own_email not in text and str(subject) not in text.replace(rec["subject"], "")
              .replace(rec["archive"]["sha256"], "").replace(rec["at"], ""),
              f"{ext}: the record holds neither the e-mail nor the key")
        check(len(rec.get("subject", "")) == 64, f"{ext}: the subject is a 64-hex-digit digest")
rc, out, err = run("-c", cfg, "verify")
equal(rc, 0, f"lethe verify passes after the exports ({out.strip()} {err.strip()})")

# Refusals: unknown subject, existing file, bad extension, missing options.
nrec = len(records())
missing = os.path.join(d, "nobody.zip")
rc, out, err = run("-c", cfg, "access", "--subject", "999999", "--output", missing)
equal(rc, 65, "an unknown subject exits 65")
check(not os.path.exists(missing), "and no file is created")
existing = os.path.join(d, "export.zip")
old = sha256(existing)
rc, out, err = run("-c", cfg, "access", "--subject", str(subject), "--output", existing)
equal(rc, 73, "an existing output exits 73")
equal(sha256(existing), old, "and is left as it was")
link = os.path.join(d, "link.zip")
os.symlink(os.path.join(d, "target.zip"), link)
rc, out, err = run("-c", cfg, "access", "--subject", str(subject), "--output", link)
equal(rc, 73, "a symbolic link as output exits 73")
check(not os.path.exists(os.path.join(d, "target.zip")), "and nothing is written through it")
for args in (["--subject", str(subject), "--output", os.path.join(d, "x.tar")],
             ["--subject", str(subject)], ["--output", os.path.join(d, "y.zip")]):
    rc, out, err = run("-c", cfg, "access", *args)
    equal(rc, 64, f"access {' '.join(a for a in args if not a.startswith('/'))} exits 64")
check(not os.path.exists(os.path.join(d, "x.tar")), "no file for a bad extension")
equal(len(records()), nrec, "refused exports record nothing")
equal(content(db), before, "the database's content is still identical")
equal(len(requests()), 2, "two access requests registered, none for the refused exports")
check(all(k == "access" and a for k, a in requests()), "both answered")
eng.stop()
finish()
