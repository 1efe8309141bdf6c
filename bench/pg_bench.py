"""bench/run --engine postgresql: the reference shop in a throwaway
PostgreSQL server (tests/e2e/lethe_pg.py), per size:
  - the shop written once per size (`lethe demo --database`, or restored
    from --demo-cache DIR's pg_dump of an earlier run);
  - `lethe plan` time and peak memory;
  - `lethe run` (residue level R2: the changed tables rewritten, pg_statistic
    rewritten, WAL cycled) against the same disposals in plain SQL through
    psql (bench/baseline-postgresql.sql) followed by the same rewrite, on two
    copies of one database (CREATE DATABASE ... TEMPLATE); the per-rule
    counts of both are checked to be equal.
With --compare-build DIR, each repeat also times DIR/lethe's run on a third
copy (before/after figures measured in one session, the counts checked equal).
Figures are medians of --repeat runs; the server's own memory is not in the
peak figures (lethe's and psql's process only)."""
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "e2e"))
import lethe_pg  # noqa: E402

REWRITE_TABLES = ["customers", "addresses", "orders", "order_lines", "invoices", "payments",
                  "deliveries", "returns", "complaints", "consents", "marketing_bans",
                  "marketing_profiles", "chat_transcripts", "feedback", "page_events", "change_history",
                  "sales_journal"]


def load():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def long_sql(srv, db, text):
    """SQL that may take longer than lethe_pg's ten-minute psql timeout: a
    copy of a 1,000,000-customer database (CREATE DATABASE ... TEMPLATE)."""
    subprocess.run(srv.psql_cmd(db) + ["-c", text], check=True)


def load_shop(args, srv, n, master, loc, log, sh):
    """The reference shop of n customers into database master: `lethe demo
    --database`, or with --demo-cache DIR a pg_restore of DIR/pg-shop-N.dump
    (written by pg_dump after the first demo of that size). The demo's time,
    or NaN when restored (the restore's time is logged)."""
    cache = os.path.join(args.demo_cache, f"pg-shop-{n}.dump") if args.demo_cache else ""
    conn = ["-h", srv.dir, "-p", str(srv.port), "-U", srv.user]
    if cache and os.path.exists(cache):
        log(f"{n}: pg_restore of {cache}")
        t0 = time.perf_counter()
        subprocess.run([os.path.join(srv.bindir, "pg_restore"), *conn, "-d", master, "-j", "2",
                        "--no-owner", cache], check=True)
        log(f"{n}: restored in {time.perf_counter() - t0:.1f} s")
        return float("nan")
    log(f"{n}: lethe demo --database")
    t0 = time.perf_counter()
    sh(args.lethe, "-q", "demo", os.path.join(args.work, f"pgdemo-{n}"), "--customers", str(n),
       "--database", loc)
    demo_s = time.perf_counter() - t0
    if cache:
        os.makedirs(args.demo_cache, exist_ok=True)
        subprocess.run([os.path.join(srv.bindir, "pg_dump"), *conn, "-F", "c", "-Z", "1", "-f",
                        cache + ".tmp", master], check=True)
        os.replace(cache + ".tmp", cache)
        log(f"{n}: kept as {cache}")
    return demo_s


def rewrite_sql(srv, db):
    """The residue work lethe does at level R2, as SQL for psql."""
    segs = int(srv.value(db, "SELECT count(*) FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$'"))
    sql = "".join(f"VACUUM (FULL, ANALYZE) {t};\n" for t in REWRITE_TABLES)
    sql += "VACUUM FULL pg_catalog.pg_statistic;\nCHECKPOINT;\n"
    sql += "SELECT pg_switch_wal();\nCHECKPOINT;\n" * (segs + 1)
    return sql


def run(args, timed, log, lethe_counts, baseline_counts, sh):
    lethe = args.lethe
    srv = lethe_pg.PostgresServer().start(args.work, settings={"shared_buffers": "256MB",
                                                                 "max_wal_size": "1GB"})
    rows_out = []
    try:
        for n in [int(x) for x in args.customers.split(",")]:
            master = f"shop{n}"
            loc = srv.create_database(master)
            demo_s = load_shop(args, srv, n, master, loc, log, sh)
            mib = int(srv.value(master, "SELECT pg_database_size(current_database())")) / 2**20
            cfg = os.path.join(args.work, f"pgsite-{n}")
            sh(lethe, "-q", "init", cfg, "--database", loc,
               "--policies", os.path.join(os.path.dirname(HERE), "policies"))
            cfg = os.path.join(cfg, "lethe.yaml")
            plans, plan_rss, runs, run_rss, base, rew = [], [], [], [], [], []
            cmp_runs, cmp_rss, run_cpu, cmp_cpu, loads = [], [], [], [], [load()]
            for i in range(args.repeat):
                log(f"{n}: plan {i + 1}/{args.repeat}")
                w, rss, _ = timed([lethe, "-c", cfg, "plan", "--as-of", "2026-11-01", "--json"], args)
                plans.append(w)
                plan_rss.append(rss)
            for i in range(args.repeat):
                a, b = f"a{n}_{i}", f"b{n}_{i}"
                long_sql(srv, "postgres", f'CREATE DATABASE "{a}" TEMPLATE "{master}"')
                long_sql(srv, "postgres", f'CREATE DATABASE "{b}" TEMPLATE "{master}"')
                site = os.path.join(args.work, f"pgrun-{n}-{i}")
                sh(lethe, "-q", "init", site, "--database", srv.location(a),
                   "--policies", os.path.join(os.path.dirname(HERE), "policies"))
                log(f"{n}: lethe run {i + 1}/{args.repeat}")
                w, rss, out = timed([lethe, "-q", "-c", os.path.join(site, "lethe.yaml"), "run",
                                     "--as-of", "2026-11-01", "--json", "--max-rows-per-rule", "0"], args)
                runs.append(w)
                run_rss.append(rss)
                run_cpu.append(getattr(timed, "cpu", float("nan")))
                loads.append(load())
                lc = lethe_counts(out)
                log(f"{n}: psql baseline {i + 1}/{args.repeat}")
                w, _, out = timed(srv.psql_cmd(b) + ["-A", "-t", "-F", "|"], args,
                                  stdin=os.path.join(HERE, "baseline-postgresql.sql"))
                base.append(w)
                loads.append(load())
                bc = baseline_counts(out)
                if lc != bc:
                    sys.exit(f"bench/run: the psql baseline disposed of other counts than lethe:\n"
                             f"  lethe {lc}\n  psql  {bc}")
                rpath = os.path.join(args.work, f"rewrite-{n}-{i}.sql")
                with open(rpath, "w") as f:
                    f.write(rewrite_sql(srv, b))
                log(f"{n}: psql rewrite {i + 1}/{args.repeat}")
                w, _, _ = timed(srv.psql_cmd(b) + ["-A", "-t"], args, stdin=rpath)
                rew.append(w)
                loads.append(load())
                srv.drop_database(a)
                srv.drop_database(b)
                if args.compare_lethe:
                    # the same run by another build (--compare-build), on a third copy
                    c = f"c{n}_{i}"
                    long_sql(srv, "postgres", f'CREATE DATABASE "{c}" TEMPLATE "{master}"')
                    site = os.path.join(args.work, f"pgcmp-{n}-{i}")
                    sh(args.compare_lethe, "-q", "init", site, "--database", srv.location(c),
                       "--policies", os.path.join(os.path.dirname(HERE), "policies"))
                    log(f"{n}: compared build's lethe run {i + 1}/{args.repeat}")
                    w, rss, out = timed([args.compare_lethe, "-q", "-c", os.path.join(site, "lethe.yaml"),
                                         "run", "--as-of", "2026-11-01", "--json",
                                         "--max-rows-per-rule", "0"], args)
                    cmp_runs.append(w)
                    cmp_rss.append(rss)
                    cmp_cpu.append(getattr(timed, "cpu", float("nan")))
                    loads.append(load())
                    if lethe_counts(out) != lc:
                        sys.exit(f"bench/run: the compared build disposed of other counts:\n"
                                 f"  {lethe_counts(out)}\n  {lc}")
                    srv.drop_database(c)
            rows_out.append((n, demo_s, mib, statistics.median(plans), max(plan_rss) / 1024,
                             statistics.median(runs), max(run_rss) / 1024, statistics.median(base),
                             statistics.median(rew), sum(lc.values()),
                             statistics.median(cmp_runs) if cmp_runs else None,
                             max(cmp_rss) / 1024 if cmp_rss else None,
                             statistics.median(run_cpu), statistics.median(cmp_cpu) if cmp_cpu else None,
                             min(loads), max(loads)))
    finally:
        srv.stop()
    print(f"{'customers':>10} {'demo s':>7} {'db MiB':>7} {'plan s':>7} {'plan MiB':>9} {'run s':>7} "
          f"{'run MiB':>8} {'psql s':>7} {'rewrite s':>9} {'rows':>8}")
    for r in rows_out:
        print(f"{r[0]:>10} {r[1]:>7.1f} {r[2]:>7.0f} {r[3]:>7.2f} {r[4]:>9.1f} {r[5]:>7.2f} "
              f"{r[6]:>8.1f} {r[7]:>7.2f} {r[8]:>9.2f} {r[9]:>8}")
    for r in rows_out:
        sql = r[7] + r[8]
        print(f"{r[0]:>10} customers: run / (psql + rewrite) = {r[5]:.2f} / {sql:.2f} = {r[5] / sql:.2f}x; "
              f"lethe CPU {r[12]:.2f} s; 1-minute load {r[14]:.1f} to {r[15]:.1f}")
        if r[10] is not None:
            print(f"{'':>10} compared build ({args.compare_lethe}): run {r[10]:.2f} s, {r[11]:.1f} MiB, "
                  f"CPU {r[13]:.2f} s, {r[10] / sql:.2f}x; this build {r[10] / r[5]:.2f}x faster")
