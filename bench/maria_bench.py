"""bench/run --engine mariadb: the reference shop in a throwaway MariaDB
server (tests/e2e/lethe_mariadb.py), per size:
  - `lethe plan` time and peak memory;
  - `lethe run` (residue level R2: the changed tables rebuilt by OPTIMIZE
    TABLE, the redo log replaced, the binary log rotated and purged) against
    the same disposals in plain SQL through the mariadb client
    (bench/baseline-mariadb.sql) followed by the same rebuild, on two copies
    of one database (tables re-created from SHOW CREATE TABLE and filled by
    INSERT ... SELECT); the per-rule counts of both are checked to be equal.
Figures are medians of --repeat runs; the server's own memory is not in the
peak figures (lethe's and the client's process only)."""
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "e2e"))
import lethe_mariadb  # noqa: E402

REBUILD_TABLES = ["customers", "addresses", "orders", "order_lines", "invoices", "payments",
                  "deliveries", "returns", "complaints", "consents", "marketing_bans",
                  "marketing_profiles", "chat_transcripts", "feedback", "page_events", "change_history"]


def rebuild_sql(srv):
    """The residue work lethe does at level R2, as SQL for the client."""
    size = int(srv.value(None, "SELECT @@innodb_log_file_size"))
    sql = "".join(f"OPTIMIZE TABLE `{t}`;\n" for t in REBUILD_TABLES)
    sql += f"SET GLOBAL innodb_log_file_size = {size + 2**20};\n"
    sql += f"SET GLOBAL innodb_log_file_size = {size};\n"
    sql += "FLUSH BINARY LOGS;\n"
    return sql


def purge(srv):
    """PURGE BINARY LOGS TO the current file (the client cannot take the
    name from a query: read here, as lethe does)."""
    cur = srv.sql(None, "SHOW MASTER STATUS")[0][0]
    srv.sql(None, f"PURGE BINARY LOGS TO '{cur}'")


def clone(srv, master, target):
    """A copy of database `master` as `target`, foreign keys included."""
    srv.sql(None, f"CREATE DATABASE `{target}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
    tables = [r[0] for r in srv.sql(master, "SHOW TABLES")]
    ddl = ["SET FOREIGN_KEY_CHECKS = 0;"]
    for t in tables:
        ddl.append(srv.sql(master, f"SHOW CREATE TABLE `{t}`")[0][1] + ";")
        ddl.append(f"INSERT INTO `{t}` SELECT * FROM `{master}`.`{t}`;")
    srv.sql(target, "\n".join(ddl))


def run(args, timed, log, lethe_counts, baseline_counts, sh):
    lethe = args.lethe
    srv = lethe_mariadb.MariadbServer().start(args.work, settings={
        "innodb_buffer_pool_size": "256M", "innodb_log_file_size": "96M",
        "innodb_log_buffer_size": "16M", "innodb_flush_log_at_trx_commit": "1"})
    policies = os.path.join(os.path.dirname(HERE), "policies")
    rows_out = []
    try:
        for n in [int(x) for x in args.customers.split(",")]:
            master = f"shop{n}"
            loc = srv.create_database(master)
            d = os.path.join(args.work, f"mariademo-{n}")
            log(f"{n}: lethe demo --database")
            t0 = time.perf_counter()
            sh(lethe, "-q", "demo", d, "--customers", str(n), "--database", loc)
            demo_s = time.perf_counter() - t0
            mib = float(srv.value(master, "SELECT sum(data_length + index_length) FROM "
                                  "information_schema.tables WHERE table_schema = DATABASE()")) / 2**20
            cfg = os.path.join(args.work, f"mariasite-{n}")
            sh(lethe, "-q", "init", cfg, "--database", loc, "--policies", policies)
            cfg = os.path.join(cfg, "lethe.yaml")
            plans, plan_rss, runs, run_rss, base, reb = [], [], [], [], [], []
            for i in range(args.repeat):
                log(f"{n}: plan {i + 1}/{args.repeat}")
                w, rss, _ = timed([lethe, "-c", cfg, "plan", "--as-of", "2026-11-01", "--json"], args)
                plans.append(w)
                plan_rss.append(rss)
            for i in range(args.repeat):
                a, b = f"a{n}_{i}", f"b{n}_{i}"
                log(f"{n}: copies {i + 1}/{args.repeat}")
                clone(srv, master, a)
                clone(srv, master, b)
                site = os.path.join(args.work, f"mariarun-{n}-{i}")
                sh(lethe, "-q", "init", site, "--database", srv.location(a), "--policies", policies)
                log(f"{n}: lethe run {i + 1}/{args.repeat}")
                w, rss, out = timed([lethe, "-q", "-c", os.path.join(site, "lethe.yaml"), "run",
                                     "--as-of", "2026-11-01", "--json", "--max-rows-per-rule", "0"], args)
                runs.append(w)
                run_rss.append(rss)
                lc = lethe_counts(out)
                log(f"{n}: mariadb baseline {i + 1}/{args.repeat}")
                w, _, out = timed(srv.client_cmd(b), args, stdin=os.path.join(HERE, "baseline-mariadb.sql"))
                base.append(w)
                bc = baseline_counts(out.replace("\t", "|"))
                if lc != bc:
                    sys.exit(f"bench/run: the mariadb baseline disposed of other counts than lethe:\n"
                             f"  lethe {lc}\n  mariadb {bc}")
                rpath = os.path.join(args.work, f"rebuild-{n}-{i}.sql")
                with open(rpath, "w") as f:
                    f.write(rebuild_sql(srv))
                log(f"{n}: mariadb rebuild {i + 1}/{args.repeat}")
                w, _, _ = timed(srv.client_cmd(b), args, stdin=rpath)
                t0 = time.perf_counter()
                purge(srv)
                reb.append(w + time.perf_counter() - t0)
                srv.drop_database(a)
                srv.drop_database(b)
            rows_out.append((n, demo_s, mib, statistics.median(plans), max(plan_rss) / 1024,
                             statistics.median(runs), max(run_rss) / 1024, statistics.median(base),
                             statistics.median(reb), sum(lc.values())))
    finally:
        srv.stop()
    print(f"{'customers':>10} {'demo s':>7} {'db MiB':>7} {'plan s':>7} {'plan MiB':>9} {'run s':>7} "
          f"{'run MiB':>8} {'sql s':>7} {'rebuild s':>9} {'rows':>8}")
    for r in rows_out:
        print(f"{r[0]:>10} {r[1]:>7.1f} {r[2]:>7.0f} {r[3]:>7.2f} {r[4]:>9.1f} {r[5]:>7.2f} "
              f"{r[6]:>8.1f} {r[7]:>7.2f} {r[8]:>9.2f} {r[9]:>8}")
