"""A throwaway PostgreSQL server for the end-to-end tests: initdb into a
temporary folder, started on a Unix socket only (no TCP port is opened, so
parallel tests never collide), stopped and removed by the test itself.

Works as root (the server then runs as the `postgres` system user through
runuser, since PostgreSQL refuses to run as root) and as a normal user.
Recipe and measured times: /work/shared/design/engines.md section 4
(initdb about 1 s with --no-sync, start about 0.1 s).

In CI (CI=true) a missing server is a failure, never a skip: require() exits
1 there and 77 (ctest: skipped) elsewhere."""
import atexit
import os
import pwd
import shutil
import subprocess
import sys
import tempfile

PG_BINDIRS = ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin",
              "/usr/lib/postgresql/17/bin"]


def pg_bindir():
    """The folder holding initdb and pg_ctl, or None."""
    for d in [os.environ.get("LETHE_PG_BINDIR")] + PG_BINDIRS:
        if d and os.access(os.path.join(d, "initdb"), os.X_OK):
            return d
    return None


def require(what="PostgreSQL tests"):
    """Exit unless a server can be started: 1 in CI, 77 (skip) elsewhere."""
    if pg_bindir() and shutil.which("psql"):
        return
    ci = os.environ.get("CI") == "true"
    print(f"{'FAIL' if ci else 'SKIP'} {what}: no PostgreSQL server binaries "
          "(apt-get install postgresql-15; scripts/deps does)")
    sys.exit(1 if ci else 77)


class PostgresServer:
    """One server per test file. Use start(tmpdir) then stop() (or `with`)."""

    def __init__(self):
        self.bindir = pg_bindir()
        self.dir = None
        self.data_dir = None
        self.port = 54329
        self.user = "postgres"
        self._as = []        # the command prefix that runs as the server's owner
        self._own_tmp = False

    # -- life cycle ----------------------------------------------------------
    def start(self, tmpdir=None, settings=None, initdb_args=()):
        """initdb and start. settings: extra `-c name=value` server options."""
        if not self.bindir:
            raise RuntimeError("no PostgreSQL server binaries found")
        if tmpdir is None:
            tmpdir = tempfile.mkdtemp(prefix="lethe-pg.")
            self._own_tmp = True
        self.dir = os.path.join(tmpdir, "pg")
        os.makedirs(self.dir, exist_ok=True)
        self.data_dir = os.path.join(self.dir, "data")
        if os.geteuid() == 0:
            # PostgreSQL will not run as root: the postgres user owns the
            # cluster, and every folder above it must let that user through.
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            p = os.path.dirname(self.dir)
            while p and p != "/":
                st = os.stat(p)
                if not st.st_mode & 0o001:
                    os.chmod(p, st.st_mode | 0o001)
                p = os.path.dirname(p)
            self._as = ["runuser", "-u", "postgres", "--"]
        self.user = "postgres"
        opts = {"listen_addresses": "''", "unix_socket_directories": f"'{self.dir}'",
                "port": str(self.port), "fsync": "off", "autovacuum": "off",
                "wal_compression": "off", "full_page_writes": "on",
                "max_connections": "30", "shared_buffers": "16MB",
                # few, small WAL segments: residue level R2 cycles them all
                "min_wal_size": "2MB", "max_wal_size": "32MB"}
        opts.update(settings or {})
        self._run([os.path.join(self.bindir, "initdb"), "-D", self.data_dir, "-U", self.user,
                   "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions",
                   *(initdb_args or ["--wal-segsize=1"])])
        o = " ".join(f"-c {k}={v}" for k, v in opts.items())
        # stopped when the test exits, whether it calls stop() or not (a failed
        # check exits early); registered after lethe_e2e.tmpdir()'s removal,
        # so it runs before it (test_servers_stop.py)
        atexit.register(self.stop)
        self._run([os.path.join(self.bindir, "pg_ctl"), "-D", self.data_dir, "-l",
                   os.path.join(self.dir, "log"), "-w", "-s", "-o", o, "start"])
        return self

    def stop(self):
        if self.data_dir and os.path.exists(os.path.join(self.data_dir, "postmaster.pid")):
            subprocess.run(self._as + [os.path.join(self.bindir, "pg_ctl"), "-D", self.data_dir,
                                       "-m", "immediate", "-s", "stop"],
                           capture_output=True, timeout=60)
        if self._own_tmp and self.dir:
            shutil.rmtree(os.path.dirname(self.dir), ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def _run(self, cmd):
        p = subprocess.run(self._as + cmd, capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            log = os.path.join(self.dir, "log")
            tail = open(log).read()[-2000:] if os.path.exists(log) else ""
            raise RuntimeError(f"{cmd[0]} failed ({p.returncode}): {p.stderr}{tail}")
        return p

    # -- databases -----------------------------------------------------------
    def location(self, dbname):
        """The libpq key/value string lethe's `database:` takes (no password)."""
        return f"host={self.dir} port={self.port} user={self.user} dbname={dbname}"

    def uri(self, dbname):
        """The same as a postgresql:// URI (the socket folder as host)."""
        from urllib.parse import quote
        return f"postgresql:///{dbname}?host={quote(self.dir, safe='')}&port={self.port}&user={self.user}"

    def create_database(self, name):
        self.sql("postgres", f'CREATE DATABASE "{name}"')
        return self.location(name)

    def drop_database(self, name):
        self.sql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def psql_cmd(self, dbname):
        return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", self.dir, "-p",
                str(self.port), "-U", self.user, "-d", dbname]

    def sql(self, dbname, text, check=True):
        """Run SQL through psql; the rows of the last statement as lists of
        strings (NULL as None)."""
        p = subprocess.run(self.psql_cmd(dbname) + ["-A", "-t", "-F", "\x1f", "-R", "\x1d",
                                                    "-P", "null=\x1e", "-f", "-"],
                           input=text, capture_output=True, text=True, timeout=600)
        if check and p.returncode != 0:
            raise RuntimeError(f"psql failed: {p.stderr.strip()}")
        rows = []
        for line in p.stdout.split("\x1d"):
            line = line.strip("\n") if line.endswith("\n") and "\x1f" not in line[-1:] else line
            if line == "" or line == "\n":
                continue
            rows.append([None if v == "\x1e" else v for v in line.split("\x1f")])
        return rows

    def value(self, dbname, text):
        r = self.sql(dbname, text)
        return r[0][0] if r else None
