"""plan's blocked counts equal an oracle written in plain SQL when the planner
shares sets of parent keys between its counts (enforcer/keyset.h), on
registers built to trip them: parent keys at chunk edges, negative, zero and
near 2**63; children whose referencing column holds text or reals that equal
an integer key (the set must give way to the subquery), a column without
affinity holding integers, a child kept by keep_while (a held row survives),
a SET NULL child under a mask rule whose already masked rows are left out of
its count (their column is NULL), a grandchild (a child blocked by its own
child), and a second parent whose children's keys are spread so far apart
that their set passes the memory budget and is dropped.

Every clock is far from its cut-off (old, recent or NULL), so the oracle is
SQL over the same register: a parent is blocked when a child row referencing
it (SQLite's own comparison, affinities and all) is not old, is kept, or is
blocked itself. Seeds: a fixed one, then a random one printed on failure
(LETHE_KEYSET_SEED=<n> replays one)."""
import os
import random
import sqlite3
from lethe_e2e import check, config, equal, finish, plan_json, tmpdir, write

AS_OF = "2026-11-01"
OLD, RECENT = "2001-03-04", "2026-09-15"
EDGES = [-(1 << 63) + 1, -32769, -32768, -1, 0, 1, 32767, 32768, 65535, 65536,
         1 << 40, (1 << 62) + 5, (1 << 63) - 1]

SCHEMA = """
CREATE TABLE p(id INTEGER PRIMARY KEY, made TEXT);
CREATE TABLE c_int(id INTEGER PRIMARY KEY, pid INTEGER REFERENCES p(id) ON DELETE CASCADE, made TEXT);
CREATE TABLE c_text(id INTEGER PRIMARY KEY, pid TEXT REFERENCES p(id) ON DELETE CASCADE, made TEXT);
CREATE TABLE c_real(id INTEGER PRIMARY KEY, pid REAL REFERENCES p(id) ON DELETE CASCADE, made TEXT);
CREATE TABLE c_any(id INTEGER PRIMARY KEY, pid REFERENCES p(id) ON DELETE CASCADE, made TEXT);
CREATE TABLE c_held(id INTEGER PRIMARY KEY, pid INTEGER REFERENCES p(id) ON DELETE CASCADE,
                    made TEXT, open INTEGER);
CREATE TABLE c_mask(id INTEGER PRIMARY KEY, pid INTEGER REFERENCES p(id) ON DELETE SET NULL,
                    made TEXT, note TEXT);
CREATE TABLE g(id INTEGER PRIMARY KEY, cid INTEGER REFERENCES c_int(id) ON DELETE CASCADE, made TEXT);
CREATE TABLE q(id INTEGER PRIMARY KEY, made TEXT);
CREATE TABLE q_kid(id INTEGER PRIMARY KEY, qid INTEGER REFERENCES q(id) ON DELETE CASCADE, made TEXT);
CREATE TABLE lethe_done(rule TEXT NOT NULL, key NOT NULL, PRIMARY KEY (rule, key)) WITHOUT ROWID;
"""

RULES = [  # name, table, retain, extra
    ("p-rule", "p", "2 years", ""),
    ("c-int", "c_int", "1 year", ""),
    ("c-text", "c_text", "1 year", ""),
    ("c-real", "c_real", "1 year", ""),
    ("c-any", "c_any", "1 year", ""),
    ("c-held", "c_held", "1 year", "    action: delete\n    keep_while: open = 1\n"
     "    kept_because: {en: open, fi: auki}\n"),
    ("c-mask", "c_mask", "1 year", "    action: mask\n    columns:\n      pid: null\n"),
    ("g-rule", "g", "3 years", ""),
    ("q-rule", "q", "2 years", ""),
    ("q-kid", "q_kid", "1 year", ""),
]


def generate(rng, d):
    db = os.path.join(d, "reg.sqlite")
    if os.path.exists(db):
        os.remove(db)
    con = sqlite3.connect(db)
    con.executescript(SCHEMA)
    clocks = [OLD] * 5 + [RECENT, None]
    kid_clocks = [OLD] * 12 + [RECENT, None]
    keys = EDGES + rng.sample(range(-100000, 100000), 40)
    con.executemany("INSERT INTO p VALUES (?, ?)", [(k, rng.choice(clocks)) for k in keys])

    def pid():
        return rng.choice(keys) if rng.random() < 0.95 else 123456789  # or an orphan

    n = 0
    for t in ("c_int", "c_text", "c_real", "c_any", "c_held", "c_mask"):
        for _ in range(20):
            n += 1
            v = pid()
            if t == "c_text":        # TEXT affinity keeps it text: '12' equals 12,
                v = rng.choice([str(v), str(v), f"{v}abc", "abc"])  # '12abc' and 'abc' none
            elif t == "c_real" and abs(v) < (1 << 52):
                v = rng.choice([float(v), v + 0.5])  # REAL affinity: 12.0 equals 12, 12.5 none
            made = rng.choice(kid_clocks)
            if t == "c_held":
                con.execute("INSERT INTO c_held VALUES (?, ?, ?, ?)", (n, v, made, int(rng.random() < 0.2)))
            elif t == "c_mask":
                done = rng.random() < 0.3
                # a masked row has its pid NULL; one recorded but re-linked is not done
                con.execute("INSERT INTO c_mask VALUES (?, ?, ?, 'x')",
                            (n, None if done and rng.random() < 0.8 else v, made))
                if done:
                    con.execute("INSERT INTO lethe_done VALUES ('c-mask', ?)", (n,))
            else:
                con.execute(f"INSERT INTO {t} VALUES (?, ?, ?)", (n, v, made))
    # fixed rows whose parents only the exact rules decide: 777777 is due (no
    # child equals it), 888888 blocked by a kept child, 999999 by a grandchild
    con.executemany("INSERT INTO p VALUES (?, ?)", [(777777, OLD), (888888, OLD), (999999, OLD)])
    con.execute("INSERT INTO c_text VALUES (900001, '777777abc', ?)", (RECENT,))
    con.execute("INSERT INTO c_real VALUES (900002, 777777.5, ?)", (RECENT,))
    con.execute("INSERT INTO c_held VALUES (900003, 888888, ?, 1)", (OLD,))
    con.execute("INSERT INTO c_int VALUES (900004, 999999, ?)", (OLD,))
    con.execute("INSERT INTO g VALUES (900005, 900004, ?)", (RECENT,))
    cints = [r[0] for r in con.execute("SELECT id FROM c_int WHERE id < 900000")]
    for i in range(60):
        con.execute("INSERT INTO g VALUES (?, ?, ?)", (10000 + i, rng.choice(cints), rng.choice(kid_clocks)))
    # 1,200 parents 65,536 apart, each with a child not yet due: their set
    # needs 1,200 chunks of 4 KiB, past the budget of all sets
    for i in range(1200):
        k = i * 65536 - 600 * 65536
        con.execute("INSERT INTO q VALUES (?, ?)", (k, rng.choice([OLD, OLD, RECENT])))
        con.execute("INSERT INTO q_kid VALUES (?, ?, ?)", (i + 1, k, rng.choice([OLD, RECENT])))
    con.commit()
    return db, con


NOT_DUE = "(coalesce({t}.made, '') <> '" + OLD + "')"
BLOCKED_P = " OR ".join(
    [f"EXISTS (SELECT 1 FROM c_int WHERE c_int.pid = p.id AND ({NOT_DUE.format(t='c_int')} OR "
     f"EXISTS (SELECT 1 FROM g WHERE g.cid = c_int.id AND {NOT_DUE.format(t='g')})))"] +
    [f"EXISTS (SELECT 1 FROM {t} WHERE {t}.pid = p.id AND {NOT_DUE.format(t=t)})"
     for t in ("c_text", "c_real", "c_any", "c_mask")] +
    [f"EXISTS (SELECT 1 FROM c_held WHERE c_held.pid = p.id AND ({NOT_DUE.format(t='c_held')} "
     "OR open = 1))"])
BLOCKED_C = f"EXISTS (SELECT 1 FROM g WHERE g.cid = c_int.id AND {NOT_DUE.format(t='g')})"
BLOCKED_Q = f"EXISTS (SELECT 1 FROM q_kid WHERE q_kid.qid = q.id AND {NOT_DUE.format(t='q_kid')})"


def oracle(con, table, blocked):
    sql = (f"SELECT count(*) FILTER (WHERE made = '{OLD}' AND NOT ({blocked})), "
           f"count(*) FILTER (WHERE made = '{OLD}' AND ({blocked})), "
           f"count(*) FILTER (WHERE made = '{RECENT}'), count(*) FILTER (WHERE made IS NULL) "
           f"FROM {table}")
    return dict(zip(("due", "blocked", "not_due", "not_started"), con.execute(sql).fetchone()))


d = tmpdir()
pol = os.path.join(d, "policies")
write(os.path.join(pol, "rules.yaml"), "lethe: 1\nrules:" + "".join(f"""
  - name: {name}
    basis: test
    table: {table}
    from: made
    retain: {retain}
{extra if extra else "    action: delete" + chr(10)}""" for name, table, retain, extra in RULES))

fixed = int(os.environ.get("LETHE_KEYSET_SEED", "0")) or None
seeds = [fixed] if fixed else [4321, random.randrange(1, 1 << 30)]
for seed in seeds:
    db, con = generate(random.Random(seed), d)
    cfg = config(d, db, pol)
    p = plan_json(cfg, AS_OF)
    for rule, table, blocked in (("p-rule", "p", BLOCKED_P), ("c-int", "c_int", BLOCKED_C),
                                 ("q-rule", "q", BLOCKED_Q)):
        want = oracle(con, table, blocked)
        for k, v in want.items():
            equal(p.get(rule, {}).get(k), v, f"seed {seed}: {rule} {k}")
        check(want["blocked"] > 0 and want["due"] > 0, f"seed {seed}: {rule} has rows blocked and due")
    con.close()
finish()
