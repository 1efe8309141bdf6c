"""PostgreSQL residue levels, proven by scanning the bytes of $PGDATA of a
throwaway server (autovacuum and wal_compression off, 1 MB WAL segments).
Planted values of due rows in a plain column, an indexed column, an
out-of-line TOAST value (storage EXTERNAL, uncompressed) and a pseudonymised
column:
  residue: R0  - the run says R0; the values are still in the relation files
                 (a DELETE removes no bytes), as docs/disposal.md says;
  residue: R1  - none is left in the database's relation files;
  residue: R2  - none in the relation files nor in pg_wal (page headers
                 stripped before scanning);
while the kept rows' values are found in every case (the scan can see)."""
import datetime
import glob
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
import lethe_e2e as e2e
import lethe_pg
from lethe_run_e2e import config

lethe_pg.require("PostgreSQL residue")
TODAY = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
d = e2e.tmpdir()
pol = os.path.join(d, "policies")
e2e.write(os.path.join(pol, "rules.yaml"), """lethe: 1
rules:
  - name: people
    basis: test
    table: people
    from: last_seen
    retain: 1 year
    action: delete
  - name: profiles
    basis: test
    table: profiles
    from: seen
    retain: 1 year
    action: pseudonymise
    columns: [email]
""")


def schema(tag):
    return f"""
CREATE TABLE people (id bigint PRIMARY KEY, last_seen date NOT NULL, plain text, indexed text, big text);
ALTER TABLE people ALTER COLUMN big SET STORAGE EXTERNAL;
CREATE INDEX people_indexed ON people (indexed);
CREATE TABLE profiles (id bigint PRIMARY KEY, seen date NOT NULL, email text NOT NULL);
INSERT INTO people SELECT i, CASE WHEN i % 2 = 0 THEN DATE '2015-01-01' ELSE current_date END,
    format('{tag}PLAIN%s-%s', CASE WHEN i % 2 = 0 THEN 'DUE' ELSE 'KEEP' END, i),
    format('{tag}INDEX%s-%s', CASE WHEN i % 2 = 0 THEN 'DUE' ELSE 'KEEP' END, i),
    repeat(format('{tag}TOAST%s-%s;', CASE WHEN i % 2 = 0 THEN 'DUE' ELSE 'KEEP' END, i), 200)
    FROM generate_series(1, 60) i;
INSERT INTO profiles SELECT i, CASE WHEN i % 2 = 0 THEN DATE '2015-01-01' ELSE current_date END,
    format('{tag}MAIL%s-%s@example.org', CASE WHEN i % 2 = 0 THEN 'DUE' ELSE 'KEEP' END, i)
    FROM generate_series(1, 60) i;
CHECKPOINT;
UPDATE people SET plain = plain WHERE id % 3 = 0;  -- full-page images in the WAL
"""


def relation_bytes(db):
    oid = srv.value("postgres", f"SELECT oid FROM pg_database WHERE datname = '{db}'")
    data = b""
    for path in sorted(glob.glob(os.path.join(srv.data_dir, "base", oid, "*"))):
        with open(path, "rb") as f:
            data += f.read()
    return data


def wal_bytes():
    """Every WAL segment with its page headers taken out (a value may span
    two pages): 40 bytes on a segment's first page, 24 on the others."""
    out = []
    for path in sorted(glob.glob(os.path.join(srv.data_dir, "pg_wal", "0*"))):
        with open(path, "rb") as f:
            seg = f.read()
        for off in range(0, len(seg), 8192):
            out.append(seg[off + (40 if off == 0 else 24):off + 8192])
    return b"".join(out)


def kinds(tag, what):
    return {"plain column": f"{tag}PLAIN{what}-2".encode(), "indexed column": f"{tag}INDEX{what}-2".encode(),
            "TOAST value": f"{tag}TOAST{what}-2;".encode(), "pseudonymised column": f"{tag}MAIL{what}-2@".encode()}


srv = lethe_pg.PostgresServer().start(d, settings={"wal_level": "replica"})
try:
    for level, tag in (("R0", "ZQA"), ("R1", "ZQB"), ("R2", "ZQC")):
        db = f"res{level.lower()}"
        loc = srv.create_database(db)
        srv.sql(db, schema(tag))
        os.makedirs(os.path.join(d, db))
        cfg = config(os.path.join(d, db), loc, pol)
        with open(cfg, "a") as f:
            f.write(f"residue: {level}\n")
        rc, out, err = e2e.run("-c", cfg, "run", "--as-of", TODAY)
        e2e.equal(rc, 0, f"run at {level} ({err.strip()[-300:]})")
        e2e.check(f"level {level} reached" in err, f"the run states level {level} ({err.strip()[-400:]})")
        e2e.equal(srv.value(db, "SELECT count(*) FROM people"), "30", f"{level}: due people deleted")
        e2e.equal(srv.value(db, "SELECT count(*) FROM profiles WHERE email LIKE 'tok%'"), "30",
                  f"{level}: due profiles pseudonymised")
        rel = relation_bytes(db)
        # kept values: the scan can see what it looks for (due ones end in 2 with
        # even ids: -2, -12...; kept ones are odd: -21, -23)
        for what, value in kinds(tag, "KEEP").items():
            e2e.check(value.replace(b"-2", b"-21") in rel, f"{level}: a kept {what} is found in the relation files")
        for what, value in kinds(tag, "DUE").items():
            found = value in rel
            if level == "R0" and what != "pseudonymised column":
                e2e.check(found, f"R0: the disposed {what} is still in the relation files (documented)")
            elif level != "R0":
                e2e.check(not found, f"{level}: no disposed {what} in the relation files")
        if level == "R2":
            wal = wal_bytes()
            for what, value in kinds(tag, "DUE").items():
                e2e.check(value not in wal, f"R2: no disposed {what} in pg_wal")
finally:
    srv.stop()
e2e.finish()
