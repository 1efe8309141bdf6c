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
peak figures (lethe's and the client's process only). CPU figures are the
client process's (lethe or mariadb, user + system, from getrusage of the
children) plus the server's (mariadbd's utime + stime from /proc over the same
step); the 1-minute load average at the start of each step is printed too.

With LETHE_BENCH_BEFORE=/path/to/an/older/lethe, each repeat also runs that
binary on a third copy, so the older and the newer run are measured against
the same baseline in one bench run."""
import os
import resource
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


def server_cpu(srv):
    """mariadbd's CPU seconds so far (utime + stime)."""
    with open(f"/proc/{srv.proc.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def measured(srv, timed, cmd, args, stdin=None):
    """timed(cmd) with its CPU: (wall, rss KiB, stdout, client CPU s, server CPU s, load1)."""
    load = os.getloadavg()[0]
    c0, s0 = children_cpu(), server_cpu(srv)
    w, rss, out = timed(cmd, args, stdin=stdin)
    return w, rss, out, children_cpu() - c0, server_cpu(srv) - s0, load


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
            before = os.environ.get("LETHE_BENCH_BEFORE")
            plans, plan_rss, base, reb = [], [], [], []
            runs = {"lethe": [], "before": []}   # (wall, rss, client cpu, server cpu, load)
            sqls, rebs = [], []                  # (wall, client cpu, server cpu, load)
            for i in range(args.repeat):
                log(f"{n}: plan {i + 1}/{args.repeat}")
                w, rss, _ = timed([lethe, "-c", cfg, "plan", "--as-of", "2026-11-01", "--json"], args)
                plans.append(w)
                plan_rss.append(rss)
            for i in range(args.repeat):
                a, b, o = f"a{n}_{i}", f"b{n}_{i}", f"o{n}_{i}"
                log(f"{n}: copies {i + 1}/{args.repeat}")
                clone(srv, master, a)
                clone(srv, master, b)
                if before:
                    clone(srv, master, o)
                for which, exe, db in [("lethe", lethe, a)] + ([("before", before, o)] if before else []):
                    site = os.path.join(args.work, f"mariarun-{which}-{n}-{i}")
                    sh(exe, "-q", "init", site, "--database", srv.location(db), "--policies", policies)
                    log(f"{n}: {which} run {i + 1}/{args.repeat}")
                    w, rss, out, cc, sc, load = measured(
                        srv, timed, [exe, "-q", "-c", os.path.join(site, "lethe.yaml"), "run",
                                     "--as-of", "2026-11-01", "--json", "--max-rows-per-rule", "0"], args)
                    runs[which].append((w, rss, cc, sc, load))
                    lc = lethe_counts(out)
                    if which == "lethe":
                        first = lc
                    elif lc != first:
                        sys.exit(f"bench/run: the older lethe disposed of other counts:\n"
                                 f"  newer {first}\n  older {lc}")
                lc = first
                log(f"{n}: mariadb baseline {i + 1}/{args.repeat}")
                w, _, out, cc, sc, load = measured(srv, timed, srv.client_cmd(b), args,
                                                   stdin=os.path.join(HERE, "baseline-mariadb.sql"))
                sqls.append((w, cc, sc, load))
                bc = baseline_counts(out.replace("\t", "|"))
                if lc != bc:
                    sys.exit(f"bench/run: the mariadb baseline disposed of other counts than lethe:\n"
                             f"  lethe {lc}\n  mariadb {bc}")
                rpath = os.path.join(args.work, f"rebuild-{n}-{i}.sql")
                with open(rpath, "w") as f:
                    f.write(rebuild_sql(srv))
                log(f"{n}: mariadb rebuild {i + 1}/{args.repeat}")
                s0 = server_cpu(srv)
                w, _, _, cc, _, load = measured(srv, timed, srv.client_cmd(b), args, stdin=rpath)
                t0 = time.perf_counter()
                purge(srv)
                rebs.append((w + time.perf_counter() - t0, cc, server_cpu(srv) - s0, load))
                for db in (a, b) + ((o,) if before else ()):
                    srv.drop_database(db)
            rows_out.append((n, demo_s, mib, statistics.median(plans), max(plan_rss) / 1024,
                             runs, sqls, rebs, sum(lc.values())))
    finally:
        srv.stop()
    def med(xs, k):
        return statistics.median(x[k] for x in xs)

    print(f"{'customers':>10} {'demo s':>7} {'db MiB':>7} {'plan s':>7} {'plan MiB':>9} {'rows':>8}")
    for r in rows_out:
        print(f"{r[0]:>10} {r[1]:>7.1f} {r[2]:>7.0f} {r[3]:>7.2f} {r[4]:>9.1f} {r[8]:>8}")
    print()
    print(f"{'customers':>10} {'step':>16} {'wall s':>8} {'client CPU s':>12} {'server CPU s':>12} "
          f"{'peak MiB':>8} {'load1':>6}")
    for r in rows_out:
        n, runs, sqls, rebs = r[0], r[5], r[6], r[7]
        for which in ("lethe", "before"):
            if runs[which]:
                print(f"{n:>10} {which + ' run':>16} {med(runs[which], 0):>8.2f} "
                      f"{med(runs[which], 2):>12.2f} {med(runs[which], 3):>12.2f} "
                      f"{max(x[1] for x in runs[which]) / 1024:>8.1f} {runs[which][0][4]:>6.2f}")
        print(f"{n:>10} {'mariadb SQL':>16} {med(sqls, 0):>8.2f} {med(sqls, 1):>12.2f} "
              f"{med(sqls, 2):>12.2f} {'':>8} {sqls[0][3]:>6.2f}")
        print(f"{n:>10} {'mariadb rebuild':>16} {med(rebs, 0):>8.2f} {med(rebs, 1):>12.2f} "
              f"{med(rebs, 2):>12.2f} {'':>8} {rebs[0][3]:>6.2f}")
        bw = med(sqls, 0) + med(rebs, 0)
        bc = med(sqls, 1) + med(sqls, 2) + med(rebs, 1) + med(rebs, 2)
        for which in ("lethe", "before"):
            if runs[which]:
                lc = med(runs[which], 2) + med(runs[which], 3)
                print(f"{n:>10} {which + ' ratio':>16} wall {med(runs[which], 0) / bw:.2f}x "
                      f"(SQL + rebuild {bw:.2f} s), CPU {lc / bc:.2f}x "
                      f"(client + server {lc:.2f} s against {bc:.2f} s)")
