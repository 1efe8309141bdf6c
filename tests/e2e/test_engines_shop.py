"""The reference shop on PostgreSQL and on MariaDB behaves as the SQLite
file: the same `plan --json` counts for several as-of days, and after `run`
(with the same pseudonym key) every register holds the same rows and values,
tokens included. The servers are started by the test (lethe_pg.py,
lethe_mariadb.py); in CI a missing server is a failure."""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
import lethe_e2e as e2e
import lethe_engines
import lethe_mariadb
import lethe_pg

lethe_pg.require("PostgreSQL shop comparison")
lethe_mariadb.require("MariaDB shop comparison")
tmp = e2e.tmpdir()
policies = os.path.join(e2e.SOURCE, "policies")
engines = [lethe_engines.engine(name).start(tmp) for name in ("sqlite", "postgresql", "mariadb")]
try:
    configs = []
    for eng in engines:
        eng.demo(os.path.join(tmp, f"demo-{eng.name}"), customers=300, policies=policies)
        site = os.path.join(tmp, f"site-{eng.name}")
        rc, out, err = e2e.run("init", site, "--database", eng.location(), "--policies", policies)
        e2e.equal(rc, 0, f"init on {eng.name} ({err.strip()})")
        configs.append(os.path.join(site, "lethe.yaml"))
    # one pseudonym key for all, so their tokens can be compared
    for eng in engines[1:]:
        shutil.copyfile(os.path.join(tmp, "site-sqlite", "keys", "pseudonym.key"),
                        os.path.join(tmp, f"site-{eng.name}", "keys", "pseudonym.key"))

    def counts(cfg, day):
        rc, out, err = e2e.run("-c", cfg, "plan", "--json", "--as-of", day)
        e2e.equal(rc, 0, f"plan {day} ({err.strip()})")
        return [{k: r.get(k) for k in ("name", "in_scope", "due", "not_due", "not_started", "invalid",
                                        "held", "blocked", "next_due")}
                for r in json.loads(out)["rules"]] if rc == 0 else None

    for day in ("2020-02-29", "2024-12-31", "2026-10-31", "2031-06-30"):
        a = counts(configs[0], day)
        for cfg, eng in zip(configs[1:], engines[1:]):
            b = counts(cfg, day)
            e2e.check(a is not None and a == b, f"plan --json counts on {eng.name} agree on {day}"
                      + ("" if a == b else f" (first difference "
                         f"{next(((x, y) for x, y in zip(a or [], b or []) if x != y), None)})"))
        e2e.check(a is not None and sum(r["due"] for r in a) > 0 or day == "2020-02-29",
                  f"plan on {day} has due rows to compare")

    for cfg, eng in zip(configs, engines):
        rc, out, err = e2e.run("-c", cfg, "run", "--as-of", "2026-10-31")
        e2e.equal(rc, 0, f"run on {eng.name} ({err.strip()[-300:]})")

    tables = ["customers", "addresses", "orders", "order_lines", "invoices", "payments", "deliveries",
              "returns", "complaints", "consents", "marketing_bans", "marketing_profiles",
              "chat_transcripts", "feedback", "page_events", "change_history"]
    for t in tables:
        a = engines[0].dump(t)
        if t == "orders":  # order_date is a date on the servers, a timestamp text in the file
            a = [r[:2] + [r[2][:10]] + r[3:] for r in a]
        for eng in engines[1:]:
            b = eng.dump(t)
            e2e.check(a == b, f"after run, '{t}' holds the same {len(a)} rows on sqlite and {eng.name}"
                      + ("" if a == b else f" (sqlite {len(a)}, {eng.name} {len(b)}; first difference "
                         f"{next(((x, y) for x, y in zip(a, b) if x != y), None)})"))
    for eng in engines[1:]:
        toks = eng.sql("SELECT count(*) FROM customers WHERE name LIKE 'tok\\_%'")[0][0]
        e2e.check(int(toks) > 0, f"pseudonymised customers carry tokens on {eng.name} ({toks})")
finally:
    for eng in engines:
        eng.stop()
e2e.finish()
