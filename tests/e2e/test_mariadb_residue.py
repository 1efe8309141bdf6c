"""MariaDB residue levels, proven by scanning the bytes of the data folder
of a throwaway server (binary log on, row format, full row images; the
tables' dirty pages flushed by FLUSH TABLES ... FOR EXPORT before each
scan). Planted values of due rows in a plain column, an indexed column, an
off-page BLOB value and a pseudonymised column:
  residue: R0  - the run says R0; the deleted values are still in the
                 table's .ibd and in the binary log, as docs/disposal.md says;
  residue: R1  - none is left in the tables' .ibd files;
  residue: R2  - none in the .ibd files, the redo log (ib_logfile0) nor the
                 binary log;
while the kept rows' values are found in every case (the scan can see).
Also: check names the settings that keep a level out of reach."""
import datetime
import glob
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import lethe_e2e as e2e
import lethe_mariadb
from lethe_run_e2e import config

lethe_mariadb.require("MariaDB residue")
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
    def v(kind):
        return f"CONCAT('{tag}{kind}', IF(seq % 2 = 0, 'DUE', 'KEEP'), '-', seq"
    return f"""
CREATE TABLE people (id bigint PRIMARY KEY, last_seen date NOT NULL, plain varchar(100),
    indexed varchar(100), big mediumtext, KEY people_indexed (indexed)) ENGINE=InnoDB;
CREATE TABLE profiles (id bigint PRIMARY KEY, seen date NOT NULL, email varchar(100) NOT NULL)
    ENGINE=InnoDB;
INSERT INTO people SELECT seq, IF(seq % 2 = 0, DATE '2015-01-01', CURDATE()), {v('PLAIN')}),
    {v('INDEX')}), REPEAT({v('BLOB')}, ';'), 600) FROM seq_1_to_60;
INSERT INTO profiles SELECT seq, IF(seq % 2 = 0, DATE '2015-01-01', CURDATE()),
    {v('MAIL')}, '@example.org') FROM seq_1_to_60;
"""


def read(paths):
    data = b""
    for path in sorted(paths):
        with open(path, "rb") as f:
            data += f.read()
    return data


def flush(db):
    """The tables' dirty pages written to their .ibd files."""
    srv.sql(db, "FLUSH TABLES people, profiles FOR EXPORT; UNLOCK TABLES")


def kinds(tag, what):
    return {"plain column": f"{tag}PLAIN{what}-2".encode(), "indexed column": f"{tag}INDEX{what}-2".encode(),
            "off-page BLOB value": f"{tag}BLOB{what}-2;".encode(),
            "pseudonymised column": f"{tag}MAIL{what}-2@".encode()}


srv = lethe_mariadb.MariadbServer().start(d)
try:
    for level, tag in (("R0", "ZQA"), ("R1", "ZQB"), ("R2", "ZQC")):
        db = f"res{level.lower()}"
        loc = srv.create_database(db)
        subprocess.run(srv.client_cmd(db), input=schema(tag), text=True, check=True, timeout=120)
        os.makedirs(os.path.join(d, db))
        cfg = config(os.path.join(d, db), loc, pol)
        with open(cfg, "a") as f:
            f.write(f"residue: {level}\n")
        if level == "R0":
            rc, out, err = e2e.run("-c", cfg, "check")
            e2e.check(rc == 0 and "innodb_immediate_scrub_data_uncompressed is OFF" in err
                      and "binlog_row_image FULL" in err,
                      f"check names the settings that leave residue ({rc}: {err.strip()[-400:]})")
        rc, out, err = e2e.run("-c", cfg, "run", "--as-of", TODAY)
        e2e.equal(rc, 0, f"run at {level} ({err.strip()[-300:]})")
        e2e.check(f"level {level} reached" in err, f"the run states level {level} ({err.strip()[-400:]})")
        e2e.equal(srv.value(db, "SELECT count(*) FROM people"), "30", f"{level}: due people deleted")
        e2e.equal(srv.value(db, "SELECT count(*) FROM profiles WHERE email LIKE 'tok%'"), "30",
                  f"{level}: due profiles pseudonymised")
        flush(db)
        ibd = read(glob.glob(os.path.join(srv.data_dir, db, "*.ibd")))
        binlog = read(glob.glob(os.path.join(srv.data_dir, "binlog.0*")))
        # kept values: the scan can see what it looks for (due ones end in 2 with
        # even ids: -2, -12...; kept ones are odd: -21, -23)
        for what, value in kinds(tag, "KEEP").items():
            e2e.check(value.replace(b"-2", b"-21") in ibd, f"{level}: a kept {what} is found in the .ibd files")
        for what, value in kinds(tag, "DUE").items():
            found = value in ibd
            if level == "R0" and what != "pseudonymised column":
                e2e.check(found, f"R0: the disposed {what} is still in the .ibd files (documented)")
            elif level != "R0":
                e2e.check(not found, f"{level}: no disposed {what} in the .ibd files")
        if level == "R0":
            e2e.check(kinds(tag, "DUE")["plain column"] in binlog,
                      "R0: the binary log still holds the deleted rows (documented)")
        if level == "R2":
            redo = read([os.path.join(srv.data_dir, "ib_logfile0")])
            for what, value in kinds(tag, "DUE").items():
                e2e.check(value not in redo, f"R2: no disposed {what} in the redo log")
                e2e.check(value not in binlog, f"R2: no disposed {what} in the binary log")

    # a compressed table keeps R1 out of reach: check says so, the run reports R0
    srv.sql("resr1", "ALTER TABLE profiles ROW_FORMAT=COMPRESSED")
    rc, out, err = e2e.run("-c", os.path.join(d, "resr1", "lethe.yaml"), "check")
    e2e.check(rc == 0 and "R1 is out of reach" in err and "'profiles' is compressed" in err,
              f"check names the compressed table ({rc}: {err.strip()[-300:]})")
finally:
    srv.stop()
e2e.finish()
