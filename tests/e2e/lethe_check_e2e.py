"""Helpers for the tests of what `lethe check` refuses (docs/disposal.md, "What
check refuses, and why"): small registers made with Python's sqlite3, one
policy file, and the assertion that check refuses a schema with the policy
position and the object named, and that run (and erase) refuse it too with
the register byte-identical."""
import os
import re
import sqlite3
from lethe_e2e import check, equal, run, sha256, write
from lethe_run_e2e import config, run_json

AS_OF = "2026-01-01"


def make(d, name, sql):
    """A register d/name built by the SQL script."""
    db = os.path.join(d, name)
    con = sqlite3.connect(db)
    con.executescript(sql)
    con.commit()
    con.close()
    return db


def setup(d, name, sql, rules, header="", key_path=None):
    """A register, a policy folder with rules.yaml (header keys, then `rules`),
    and a lethe.yaml with a site made by lethe init (and key_path as its
    pseudonym key when given); returns (db, cfg)."""
    db = make(d, name, sql)
    pol = os.path.join(d, "policies-" + name)
    write(os.path.join(pol, "rules.yaml"), "lethe: 1\n" + header + "rules:\n" + rules)
    return db, config(d, db, pol, key_path)


def refused(cfg, db, what, names, subject=None):
    """check exits 65 naming rules.yaml:LINE:COL and every string of names; run
    exits 65 naming them too, replay (and erase --subject, when given) exit 65,
    and the register is left byte-identical. Returns check's stderr."""
    before = sha256(db)
    rc, _out, err = run("-c", cfg, "check")
    equal(rc, 65, f"{what}: check exits 65")
    check(re.search(r"rules\.yaml:\d+:\d+: ", err) is not None and all(n in err for n in names),
          f"{what}: check names the policy position and {names}: {err.strip()!r}")
    rc, _got, rerr = run_json(cfg, "--as-of", AS_OF)
    equal(rc, 65, f"{what}: run exits 65")
    check(all(n in rerr for n in names), f"{what}: run names {names}: {rerr.strip()!r}")
    if subject is not None:
        rc, _out, rerr = run("-c", cfg, "erase", "--subject", str(subject))
        equal(rc, 65, f"{what}: erase exits 65")
    rc, _out, rerr = run("-c", cfg, "replay")
    equal(rc, 65, f"{what}: replay exits 65")
    equal(sha256(db), before, f"{what}: the register is byte-identical")
    return err


def accepted(cfg, what):
    """check exits 0."""
    rc, _out, err = run("-c", cfg, "check")
    equal(rc, 0, f"{what}: check exits 0 {err.strip()}")


def ids(db, table, key="id"):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {r[0] for r in con.execute(f'SELECT "{key}" FROM "{table}"')}
    finally:
        con.close()
