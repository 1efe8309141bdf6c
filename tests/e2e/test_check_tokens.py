"""Tokens never destroy rows (issue 10, item 5). A customer pseudonymised
years ago, who registers again with the same e-mail and is pseudonymised in
turn, must not collide with the first: under ON CONFLICT REPLACE the
collision deleted the first customer (and cascaded into its orders), under a
plain UNIQUE it failed the rule on every later run. A UNIQUE column's token
is bound to the row's key (lethe_token_row), so both customers stay with
different tokens, while a non-UNIQUE column keeps the plain token that links
equal values. check refuses what every run would fail on: a constant mask on
a UNIQUE column, pseudonymising an INTEGER column of a STRICT table, masking a
generated column, pseudonymising a column a foreign key references; run and replay
refuse them too, the register byte-identical."""
import sqlite3
from lethe_check_e2e import accepted, ids, refused, setup
from lethe_e2e import check, equal, finish, tmpdir
from lethe_run_e2e import make_key, rows, run_json, token, token_row

PSEUDO = ("  - name: customers\n    basis: test\n    table: customers\n    from: made\n"
          "    retain: 1 year\n    action: pseudonymise\n    columns: [name, email]\n")

# --- 1. the returning customer -------------------------------------------------
for what, email, index in [
        ("UNIQUE ON CONFLICT REPLACE", "email TEXT UNIQUE ON CONFLICT REPLACE", ""),
        ("UNIQUE", "email TEXT UNIQUE", ""),
        ("UNIQUE INDEX on lower(email)", "email TEXT", "CREATE UNIQUE INDEX c_email ON customers(lower(email));")]:
    d = tmpdir()
    key_path, key = make_key(d)
    db, cfg = setup(d, "shop.sqlite", f"""
CREATE TABLE customers(id INTEGER PRIMARY KEY, made TEXT NOT NULL, name TEXT, {email});
{index}
CREATE TABLE orders(id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id) ON DELETE CASCADE);
INSERT INTO customers VALUES (1, '2020-01-01', 'Ella', 'ella@example.com');
INSERT INTO orders VALUES (10, 1);
""", PSEUDO, key_path=key_path)
    rc, got, err = run_json(cfg, "--as-of", "2026-01-01")
    equal((rc, got.get("customers", {}).get("disposed")), (0, 1), f"{what}: the first run pseudonymises customer 1")
    con = sqlite3.connect(db)
    con.execute("INSERT INTO customers VALUES (2, '2025-06-01', 'Ella', 'ella@example.com')")
    con.execute("INSERT INTO orders VALUES (11, 2)")
    con.commit()
    con.close()
    rc, got, err = run_json(cfg, "--as-of", "2027-01-01", "--allow-future-as-of")
    equal((rc, got.get("customers", {}).get("disposed")), (0, 1),
          f"{what}: the next run pseudonymises the returning customer {err.strip()}")
    equal(ids(db, "customers"), {1, 2}, f"{what}: both customers are still there")
    equal(ids(db, "orders"), {10, 11}, f"{what}: no order was cascade-deleted")
    c = rows(db, "customers")
    equal([c.get(i, {}).get("email") for i in (1, 2)],
          [token_row(key, "ella@example.com", 1), token_row(key, "ella@example.com", 2)],
          f"{what}: the UNIQUE email's tokens are bound to each row's key")
    equal([c.get(i, {}).get("name") for i in (1, 2)], [token(key, "Ella")] * 2,
          f"{what}: the non-UNIQUE name keeps the plain token, equal names still link")
    rc, got, err = run_json(cfg, "--as-of", "2028-01-01", "--allow-future-as-of")
    equal((rc, got.get("customers", {}).get("disposed")), (0, 0), f"{what}: a later run has nothing to do")

# --- 2. what every run would fail on -----------------------------------------------
d = tmpdir()
MASK = ("  - name: r\n    basis: test\n    table: {t}\n    from: made\n    retain: 1 year\n"
        "    action: mask\n    columns:\n      {c}: {s}\n")
PSEU = ("  - name: r\n    basis: test\n    table: {t}\n    from: made\n    retain: 1 year\n"
        "    action: pseudonymise\n    columns: [{c}]\n")
NICKS = """CREATE TABLE nicks(id INTEGER PRIMARY KEY, made TEXT NOT NULL, nick TEXT UNIQUE);
INSERT INTO nicks VALUES (1, '2020-01-01', 'anna'), (2, '2020-01-01', 'bert');"""
for strategy in ["redact", '"redact: gone"', "year", "first 1"]:
    db, cfg = setup(d, "nicks.sqlite", NICKS, MASK.format(t="nicks", c="nick", s=strategy))
    refused(cfg, db, f"mask {strategy} on a UNIQUE column", ["'nick'", "nicks", "UNIQUE"])
    d = tmpdir()
db, cfg = setup(d, "nicks.sqlite", NICKS, MASK.format(t="nicks", c="nick", s="null"))
accepted(cfg, "mask null on a UNIQUE column")
rc, got, err = run_json(cfg, "--as-of", "2026-01-01")
equal((rc, [r["nick"] for r in rows(db, "nicks").values()]), (0, [None, None]),
      f"mask null on a UNIQUE column runs {err.strip()}")

STRICT = """CREATE TABLE s(id INTEGER PRIMARY KEY, made TEXT NOT NULL, pin INTEGER, note TEXT, x ANY) STRICT;
INSERT INTO s VALUES (1, '2020-01-01', 1234, 'n', 5);"""
db, cfg = setup(d, "strict.sqlite", STRICT, PSEU.format(t="s", c="pin"))
refused(cfg, db, "pseudonymise an INTEGER column of a STRICT table", ["'pin'", "STRICT", "'s'"])
db, cfg = setup(d, "strict-mask.sqlite", STRICT, MASK.format(t="s", c="pin", s="redact"))
refused(cfg, db, "redact an INTEGER column of a STRICT table", ["'pin'", "STRICT"])
db, cfg = setup(d, "strict-ok.sqlite", STRICT, PSEU.format(t="s", c="note, x"))
accepted(cfg, "pseudonymise TEXT and ANY columns of a STRICT table")
rc, got, err = run_json(cfg, "--as-of", "2026-01-01")
check(rc == 0 and all(v.startswith("tok_") for v in (rows(db, "s")[1]["note"], rows(db, "s")[1]["x"])),
      f"TEXT and ANY columns of a STRICT table are pseudonymised {err.strip()}")

GEN = """CREATE TABLE g(id INTEGER PRIMARY KEY, made TEXT NOT NULL, first TEXT, last TEXT,
  full TEXT GENERATED ALWAYS AS (first || ' ' || last) STORED);
INSERT INTO g(id, made, first, last) VALUES (1, '2020-01-01', 'Ella', 'Nieminen');"""
db, cfg = setup(d, "gen.sqlite", GEN, MASK.format(t="g", c="full", s="null"))
refused(cfg, db, "mask a generated column", ["'full'", "generated", "'g'"])
db, cfg = setup(d, "gen-ok.sqlite", GEN, PSEU.format(t="g", c="first, last"))
accepted(cfg, "pseudonymise the columns a generated column is computed from")

FK = """CREATE TABLE accounts(id INTEGER PRIMARY KEY, made TEXT NOT NULL, handle TEXT NOT NULL UNIQUE, bio TEXT);
CREATE TABLE posts(id INTEGER PRIMARY KEY, author TEXT REFERENCES accounts(handle));
INSERT INTO accounts VALUES (1, '2020-01-01', 'ella', 'hi');
INSERT INTO posts VALUES (1, 'ella');"""
db, cfg = setup(d, "fk.sqlite", FK, PSEU.format(t="accounts", c="handle"))
refused(cfg, db, "pseudonymise a column a foreign key references", ["'handle'", "posts", "foreign key"])
db, cfg = setup(d, "fk-ok.sqlite", FK, PSEU.format(t="accounts", c="bio"))
accepted(cfg, "pseudonymise a column no foreign key references")
finish()
