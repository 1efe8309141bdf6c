"""The throwaway database servers of the end-to-end tests stop when the test
that started them exits, whether it called stop() or not: a test that ends
early (a failed check exits, an exception) or forgets stop() must not leave
mariadbd or postgres running on the machine (test_erase_finish.py did, once
per run of the suite). Each server is started by a child Python process that
exits without stop(); its server's process must be gone afterwards."""
import os
import subprocess
import sys
import textwrap
import time

sys.path.insert(0, os.path.dirname(__file__))
from lethe_e2e import check, finish
import lethe_mariadb
import lethe_pg

HERE = os.path.dirname(os.path.abspath(__file__))

# The child prints the server's process id, then exits without stop().
CHILDREN = {
    "mariadb": """
        import lethe_e2e, lethe_mariadb
        s = lethe_mariadb.MariadbServer().start(lethe_e2e.tmpdir())
        print(s.proc.pid, flush=True)
        {end}
    """,
    "postgresql": """
        import os, lethe_e2e, lethe_pg
        s = lethe_pg.PostgresServer().start(lethe_e2e.tmpdir())
        print(open(os.path.join(s.data_dir, "postmaster.pid")).readline().strip(), flush=True)
        {end}
    """,
}
# how the child ends: normally, by sys.exit as a failed check does, by an exception
ENDS = ["pass", "raise SystemExit(1)", "raise RuntimeError('a test that fails')"]


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is not running (the server is not our child, but be exact)
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


available = {"mariadb": lethe_mariadb.binaries() is not None,
             "postgresql": lethe_pg.pg_bindir() is not None}
# as lethe_mariadb.require and lethe_pg.require: a missing server fails in
# CI and is skipped elsewhere
CI = os.environ.get("CI") == "true"
ran = 0
for engine, code in CHILDREN.items():
    if not available[engine]:
        check(not CI, f"{engine}: server binaries present (scripts/deps installs them)")
        continue
    for end in ENDS:
        p = subprocess.run([sys.executable, "-c", textwrap.dedent(code.format(end=end))], cwd=HERE,
                           capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, PYTHONPATH=HERE))
        first = p.stdout.strip().split("\n")[0] if p.stdout.strip() else ""
        if not first.isdigit():
            check(False, f"{engine}: the child started a server ({p.stderr.strip()[-500:]})")
            continue
        pid = int(first)
        deadline = time.monotonic() + 10
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        running = alive(pid)
        if running:
            os.kill(pid, 9)
        check(not running, f"{engine}: the server (pid {pid}) stopped when its test ended with `{end}`")
        ran += 1
if not ran and not CI:
    print("SKIP servers stop with their test: no PostgreSQL or MariaDB server binaries")
    sys.exit(77)
finish()
