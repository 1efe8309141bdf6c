"""plan's blocked counts equal a per-row oracle on generated registers whose
parent has several dependent tables with different periods (the order in which
the planner tests them), dependents three levels deep (its nested pass), a
SET NULL child, a table without rules and a self-referencing key (a cycle).

Every clock is far from its cut-off (an old day, a recent day, or NULL), so
the oracle needs no calendar: old rows are due, recent and NULL rows are not,
and a row is blocked when a row that deleting it would touch (cascade, or a
SET NULL child that lives on) is not due, or, for a cascade, is blocked
itself; any row under a self-reference blocks. Seeds: a fixed one, then a
random one printed on failure (LETHE_BLOCKED_SEED=<n> replays one)."""
import os
import random
import sqlite3
from lethe_e2e import check, config, equal, finish, plan_json, tmpdir, write

AS_OF = "2026-11-01"
OLD, RECENT = "2001-03-04", "2026-09-15"

# table: (parent table, ON DELETE, retain); a's parent column is a self-reference
TABLES = {
    "a": (None, None, "2 years"),
    "b_short": ("a", "CASCADE", "1 year"),
    "b_long": ("a", "CASCADE", "10 years"),
    "b_mid": ("b_short", "CASCADE", "3 years"),
    "c_deep": ("b_mid", "CASCADE", "5 years"),
    "n_null": ("a", "SET NULL", "1 year"),
    "u_none": ("b_long", "CASCADE", None),
}


def generate(rng, d):
    db = os.path.join(d, "reg.sqlite")
    if os.path.exists(db):
        os.remove(db)
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE a(id INTEGER PRIMARY KEY, up INTEGER REFERENCES a(id) "
                "ON DELETE CASCADE, made TEXT)")
    for t, (parent, action, _) in TABLES.items():
        if parent:
            con.execute(f"CREATE TABLE {t}(id INTEGER PRIMARY KEY, pid INTEGER "
                        f"REFERENCES {parent}(id) ON DELETE {action}, made TEXT)")
            con.execute(f"CREATE INDEX {t}_pid ON {t}(pid)")
    rows = {t: [] for t in TABLES}
    clocks = [OLD] * 6 + [RECENT, None]
    for t, (parent, _, _) in TABLES.items():  # parents come before their children
        for i in range(1, (40 if t == "a" else 30) + 1):
            if t == "a":
                pid = rng.randint(1, i - 1) if i > 1 and rng.random() < 0.1 else None
            else:
                pid = rng.randint(1, len(rows[parent]) + 5)
                pid = pid if pid <= len(rows[parent]) else None  # an orphan: no parent
            rows[t].append((i, pid, rng.choice(clocks)))
        con.executemany(f"INSERT INTO {t} VALUES (?, ?, ?)", rows[t])
    con.commit()
    con.close()
    return db, rows


def oracle(rows):
    due = {t: {i for i, _, m in rows[t] if m == OLD and TABLES[t][2]} for t in TABLES}
    kids = {t: [c for c, v in TABLES.items() if v[0] == t] for t in TABLES}

    def blocked(t, key):
        if t == "a" and any(up == key for _, up, _ in rows["a"]):
            return True  # a self-reference: any row under it blocks
        for c in kids[t]:
            for i, pid, _ in rows[c]:
                if pid != key:
                    continue
                if i not in due[c]:
                    return True
                if TABLES[c][1] == "CASCADE" and blocked(c, i):
                    return True
        return False

    out = {}
    for t in TABLES:
        if not TABLES[t][2]:
            continue
        n = dict(due=0, blocked=0, not_due=0, not_started=0)
        for i, _, m in rows[t]:
            if m is None:
                n["not_started"] += 1
            elif m != OLD:
                n["not_due"] += 1
            elif blocked(t, i):
                n["blocked"] += 1
            else:
                n["due"] += 1
        out[t] = n
    return out


d = tmpdir()
pol = os.path.join(d, "policies")
write(os.path.join(pol, "rules.yaml"), "lethe: 1\nrules:" + "".join(f"""
  - name: {t.replace("_", "-")}
    basis: test
    table: {t}
    from: made
    retain: {retain}
    action: delete
""" for t, (_, _, retain) in TABLES.items() if retain))

fixed = int(os.environ.get("LETHE_BLOCKED_SEED", "0")) or None
seeds = [fixed] if fixed else [1234, random.randrange(1, 1 << 30)]
for seed in seeds:
    db, rows = generate(random.Random(seed), d)
    cfg = config(d, db, pol)
    p = plan_json(cfg, AS_OF)
    want = oracle(rows)
    for t, n in want.items():
        for k, v in n.items():
            equal(p.get(t.replace("_", "-"), {}).get(k), v, f"seed {seed}: {t} {k}")
    check(sum(n["blocked"] for n in want.values()) > 0, f"seed {seed}: some row is blocked")
finish()
