"""A throwaway MariaDB server for the end-to-end tests: mariadb-install-db
into a temporary folder, mariadbd started on a Unix socket in that folder and
a free TCP port on 127.0.0.1, stopped (SHUTDOWN, then SIGKILL) and removed by
the test itself. One server per test file.

Works as root (mariadbd then runs with --user=root, which it accepts when told
so explicitly; the folder is ours alone) and as a normal user.
The server keeps its binlog on (row format, full row images: the residue
tests need it) and InnoDB small, so start-up takes about a second.

In CI (CI=true) a missing server is a failure, never a skip: require() exits
1 there and 77 (ctest: skipped) elsewhere."""
import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def binaries():
    """(install_db, mariadbd, client) or None."""
    inst = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
    server = shutil.which("mariadbd") or ("/usr/sbin/mariadbd" if os.access("/usr/sbin/mariadbd", os.X_OK) else None)
    client = shutil.which("mariadb") or shutil.which("mysql")
    if inst and server and client:
        return inst, server, client
    return None


def require(what="MariaDB tests"):
    """Exit unless a server can be started: 1 in CI, 77 (skip) elsewhere."""
    if binaries():
        return
    ci = os.environ.get("CI") == "true"
    print(f"{'FAIL' if ci else 'SKIP'} {what}: no MariaDB server binaries "
          "(apt-get install mariadb-server; scripts/deps does)")
    sys.exit(1 if ci else 77)


def unescape(v):
    """The batch format's escapes: \\n \\t \\0 \\\\."""
    out, i = [], 0
    while i < len(v):
        if v[i] == "\\" and i + 1 < len(v):
            out.append({"n": "\n", "t": "\t", "0": "\0", "\\": "\\"}.get(v[i + 1], v[i + 1]))
            i += 2
        else:
            out.append(v[i])
            i += 1
    return "".join(out)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MariadbServer:
    """One server per test file. Use start(tmpdir) then stop() (or `with`)."""

    def __init__(self):
        self.bins = binaries()
        self.dir = None
        self.data_dir = None
        self.socket = None
        self.port = None
        self.user = "root"
        self.proc = None
        self._own_tmp = False

    def start(self, tmpdir=None, settings=None):
        """Install a data folder and start mariadbd. settings: extra
        `--name=value` server options as a dict."""
        if not self.bins:
            raise RuntimeError("no MariaDB server binaries found")
        inst, server, _ = self.bins
        if tmpdir is None:
            tmpdir = tempfile.mkdtemp(prefix="lethe-maria.")
            self._own_tmp = True
        self.dir = os.path.join(tmpdir, "mariadb")
        os.makedirs(self.dir, exist_ok=True)
        self.data_dir = os.path.join(self.dir, "data")
        self.socket = os.path.join(self.dir, "sock")
        self.port = free_port()
        user = "root" if os.geteuid() == 0 else None
        self.user = "root" if os.geteuid() == 0 else os.environ.get("USER") or "lethe"
        cnf = os.path.join(self.dir, "my.cnf")
        opts = {"datadir": self.data_dir, "socket": self.socket, "port": str(self.port),
                "bind-address": "127.0.0.1", "pid-file": os.path.join(self.dir, "pid"),
                "log-error": os.path.join(self.dir, "log"), "skip-name-resolve": None,
                "innodb-buffer-pool-size": "16M", "innodb-log-file-size": "4M",
                "innodb-log-buffer-size": "2M",
                "innodb-flush-log-at-trx-commit": "0", "innodb-doublewrite": "0",
                "log-bin": os.path.join(self.data_dir, "binlog"), "binlog-format": "ROW",
                "server-id": "1", "character-set-server": "utf8mb4",
                "collation-server": "utf8mb4_bin", "performance-schema": "OFF",
                "max-connections": "30", "tmpdir": os.path.join(self.dir, "tmp")}
        os.makedirs(os.path.join(self.dir, "tmp"), exist_ok=True)
        for k, v in (settings or {}).items():
            opts[k.replace("_", "-")] = v
        with open(cnf, "w") as f:
            f.write("[mariadbd]\n")
            for k, v in opts.items():
                f.write(k if v is None else f"{k}={v}")
                f.write("\n")
        self.cnf = cnf
        args = [inst, f"--defaults-file={cnf}", "--auth-root-authentication-method=socket",
                "--skip-test-db"]
        if user:
            args.append("--user=root")
        self._run(args)
        cmd = [server, f"--defaults-file={cnf}"] + (["--user=root"] if user else [])
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # stopped when the test exits, whether it calls stop() or not (a failed
        # check exits early); registered after lethe_e2e.tmpdir()'s removal,
        # so it runs before it (test_servers_stop.py)
        atexit.register(self.stop)
        # wait for the socket to accept a query (poll the process, no fixed sleep)
        deadline = time.monotonic() + 60
        while True:
            p = subprocess.run(self.client_cmd(None) + ["-e", "SELECT 1"], capture_output=True)
            if p.returncode == 0:
                break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("mariadbd did not start: " + self._log_tail())
            time.sleep(0.05)
        if os.geteuid() != 0 and self.user != "root":
            # mariadb-install-db made the invoking user a socket-authenticated account
            pass
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self._own_tmp and self.dir:
            shutil.rmtree(os.path.dirname(self.dir), ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def _log_tail(self):
        log = os.path.join(self.dir, "log")
        return open(log, errors="replace").read()[-2000:] if os.path.exists(log) else ""

    def _run(self, cmd):
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise RuntimeError(f"{cmd[0]} failed ({p.returncode}): {p.stderr}{p.stdout}"
                               f"{self._log_tail()}")
        return p

    # -- databases -----------------------------------------------------------
    def location(self, dbname):
        """The mariadb:// URI lethe's `database:` takes (socket, no password)."""
        from urllib.parse import quote
        return f"mariadb://{self.user}@localhost/{dbname}?socket={quote(self.socket, safe='')}"

    def create_database(self, name):
        self.sql(None, f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        return self.location(name)

    def drop_database(self, name):
        self.sql(None, f"DROP DATABASE IF EXISTS `{name}`")

    def client_cmd(self, dbname):
        cmd = [self.bins[2], "--no-defaults", f"--socket={self.socket}", f"--user={self.user}",
               "--batch", "--skip-column-names"]
        return cmd + ([dbname] if dbname else [])

    def sql(self, dbname, text, check=True):
        """Run SQL through the mariadb client; the rows of the statements'
        results as lists of strings (NULL as None; the text 'NULL' reads as
        None too: the batch format does not tell them apart)."""
        p = subprocess.run(self.client_cmd(dbname) + ["--execute", "SET time_zone='+00:00';" + text],
                           capture_output=True, text=True, timeout=600)
        if check and p.returncode != 0:
            raise RuntimeError(f"mariadb failed: {p.stderr.strip()}")
        rows = []
        for line in p.stdout.split("\n"):
            if line == "":
                continue
            rows.append([None if v == "NULL" else unescape(v) for v in line.split("\t")])
        return rows

    def value(self, dbname, text):
        r = self.sql(dbname, text)
        return r[0][0] if r else None
