"""The reference shop on PostgreSQL behaves as the SQLite file: the same
`plan --json` counts for several as-of days, and after `run` (with the same
pseudonym key) both registers hold the same rows and values, tokens
included. A PostgreSQL server is started by the test (lethe_pg.py); in CI a
missing server is a failure."""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
import lethe_e2e as e2e
import lethe_engines
import lethe_pg

lethe_pg.require("PostgreSQL shop comparison")
tmp = e2e.tmpdir()
policies = os.path.join(e2e.SOURCE, "policies")
engines = [lethe_engines.engine("sqlite").start(tmp), lethe_engines.engine("postgresql").start(tmp)]
try:
    configs = []
    for eng in engines:
        eng.demo(os.path.join(tmp, f"demo-{eng.name}"), customers=300, policies=policies)
        site = os.path.join(tmp, f"site-{eng.name}")
        rc, out, err = e2e.run("init", site, "--database", eng.location(), "--policies", policies)
        e2e.equal(rc, 0, f"init on {eng.name} ({err.strip()})")
        configs.append(os.path.join(site, "lethe.yaml"))
    # one pseudonym key for both, so their tokens can be compared
    shutil.copyfile(os.path.join(tmp, "site-sqlite", "keys", "pseudonym.key"),
                    os.path.join(tmp, "site-postgresql", "keys", "pseudonym.key"))

    def counts(cfg, day):
        rc, out, err = e2e.run("-c", cfg, "plan", "--json", "--as-of", day)
        e2e.equal(rc, 0, f"plan {day} ({err.strip()})")
        return [{k: r.get(k) for k in ("name", "in_scope", "due", "not_due", "not_started", "invalid",
                                        "held", "blocked", "next_due")}
                for r in json.loads(out)["rules"]] if rc == 0 else None

    for day in ("2020-02-29", "2024-12-31", "2026-10-31", "2031-06-30"):
        a, b = counts(configs[0], day), counts(configs[1], day)
        e2e.check(a is not None and a == b, f"plan --json counts agree on {day}")
        e2e.check(a is not None and sum(r["due"] for r in a) > 0 or day == "2020-02-29",
                  f"plan on {day} has due rows to compare")

    for cfg, eng in zip(configs, engines):
        rc, out, err = e2e.run("-c", cfg, "run", "--as-of", "2026-10-31")
        e2e.equal(rc, 0, f"run on {eng.name} ({err.strip()[-300:]})")

    tables = ["customers", "addresses", "orders", "order_lines", "invoices", "payments", "deliveries",
              "returns", "complaints", "consents", "marketing_bans", "marketing_profiles",
              "chat_transcripts", "feedback", "page_events", "change_history"]
    for t in tables:
        a, b = engines[0].dump(t), engines[1].dump(t)
        if t == "orders":  # order_date is a date on PostgreSQL, a timestamp text in the file
            a = [r[:2] + [r[2][:10]] + r[3:] for r in a]
        e2e.check(a == b, f"after run, '{t}' holds the same {len(a)} rows on both engines"
                  + ("" if a == b else f" (sqlite {len(a)}, postgresql {len(b)}; first difference "
                     f"{next(((x, y) for x, y in zip(a, b) if x != y), None)})"))
    toks = engines[1].sql("SELECT count(*) FROM customers WHERE name LIKE 'tok\\_%'")[0][0]
    e2e.check(int(toks) > 0, f"pseudonymised customers carry tokens on PostgreSQL ({toks})")
finally:
    for eng in engines:
        eng.stop()
e2e.finish()
