"""Under systemd (stderr is the JOURNAL_STREAM), a run's summary goes to the
journal as one entry with structured fields, by the journal's native
protocol (a datagram of fields to journald's socket): MESSAGE, PRIORITY,
SYSLOG_IDENTIFIER, MESSAGE_ID, LETHE_RUN_ID, LETHE_SEQ, LETHE_COMMIT,
LETHE_RESULT, LETHE_EXIT and the totals, agreeing with run --json and the
evidence; a failed run's entry has priority err. Without a journal socket,
or when stderr is not the journal's stream, the summary is the stderr line
as before. The socket is the test's own, bound at a path given by the
test-only LETHE_TEST_JOURNAL_SOCKET (a test build); the fields are parsed as
journald parses them, the binary form included."""
import json
import os
import socket
import struct
import subprocess
from lethe_e2e import LETHE, check, equal, finish, require_test_hooks, run, tmpdir

require_test_hooks("the journal socket of a test")


def parse_entry(data):
    """The fields of a native-protocol datagram: KEY=value lines, or KEY, a
    newline, a 64-bit little-endian length, the value and a newline."""
    fields, i = {}, 0
    while i < len(data):
        nl = data.index(b"\n", i)
        eq = data.find(b"=", i, nl)
        if eq >= 0:
            key, value, i = data[i:eq], data[eq + 1:nl], nl + 1
        else:
            key = data[i:nl]
            (n,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            value = data[nl + 9:nl + 9 + n]
            if data[nl + 9 + n:nl + 10 + n] != b"\n":
                raise ValueError("binary field without its newline")
            i = nl + 10 + n
        k = key.decode()
        if not k or not all(c.isupper() or c.isdigit() or c == "_" for c in k):
            raise ValueError(f"bad field name {k!r}")
        fields[k] = value.decode()
    return fields


d = tmpdir()
equal(run("demo", os.path.join(d, "shop"), "--customers", "300")[0], 0, "demo")
site = os.path.join(d, "site")
rc, _, err = run("init", site, "--database", os.path.join(d, "shop", "shop.sqlite"))
equal(rc, 0, f"init ({err.strip()})")
cfg = os.path.join(site, "lethe.yaml")
sock_path = os.path.join(d, "journal.socket")
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(sock_path)
sock.setblocking(False)


def run_under_journal(*args, journal_socket=sock_path, stream_matches=True):
    """lethe with stderr in a file that JOURNAL_STREAM names (or another
    one), the journal socket at journal_socket. (status, stdout, stderr
    text, the entries received)."""
    errfile = os.path.join(d, "stderr.txt")
    with open(errfile, "w") as f:
        s = os.fstat(f.fileno())
        env = dict(os.environ, LETHE_TEST_JOURNAL_SOCKET=journal_socket,
                   JOURNAL_STREAM=f"{s.st_dev}:{s.st_ino + (0 if stream_matches else 1)}")
        p = subprocess.run([LETHE, "-c", cfg, *args], stdout=subprocess.PIPE, stderr=f, env=env,
                           text=True)
    entries = []
    while True:
        try:
            entries.append(parse_entry(sock.recv(1 << 20)))
        except BlockingIOError:
            break
    return p.returncode, p.stdout, open(errfile).read(), entries


# A run: its summary is one journal entry, not a stderr line.
rc, out, err, entries = run_under_journal("run", "--as-of", "2026-01-01", "--json")
equal(rc, 0, f"run under the journal ({err.strip()})")
equal(len(entries), 1, "one journal entry per run")
res = json.loads(out) if out.startswith("{") else {}
e = entries[0] if entries else {}
check(e.get("MESSAGE", "").startswith("run summary: run_id="), f"MESSAGE is the summary: {e.get('MESSAGE')!r}")
equal(e.get("PRIORITY"), "5", "PRIORITY notice")
equal(e.get("SYSLOG_IDENTIFIER"), "lethe", "SYSLOG_IDENTIFIER")
check(len(e.get("MESSAGE_ID", "")) == 32, "a MESSAGE_ID for run summaries")
equal(e.get("LETHE_RUN_ID"), res.get("run_id"), "LETHE_RUN_ID is run --json's run_id")
equal(e.get("LETHE_SEQ"), str(res.get("sequence")), "LETHE_SEQ is the record's sequence")
head = subprocess.run(["git", "--git-dir", os.path.join(site, "evidence"), "rev-parse", "main"],
                      capture_output=True, text=True).stdout.strip()
equal(e.get("LETHE_COMMIT"), head, "LETHE_COMMIT is the evidence's main")
equal(e.get("LETHE_RESULT"), "completed", "LETHE_RESULT")
equal(e.get("LETHE_EXIT"), "0", "LETHE_EXIT")
disposed = sum(r.get("disposed", r.get("due", 0)) for r in res.get("rules", []))
equal(e.get("LETHE_DISPOSED"), str(disposed), "LETHE_DISPOSED is the run's total")
for k in ("LETHE_BLOCKED", "LETHE_INVALID", "LETHE_HELD"):
    check(e.get(k, "").isdigit(), f"{k} is a count")
check(f"disposed={disposed} " in e.get("MESSAGE", ""), "the MESSAGE carries the same totals")
check("run summary" not in err, "the summary is not also on stderr")
equal(res.get("result"), "completed", "run --json's result")

# A failed run (a rule over the row cap): priority err, result failed, exit 65.
rc, _, err, entries = run_under_journal("run", "--as-of", "2026-06-01", "--max-rows-per-rule", "1")
equal(rc, 65, "a run over the cap fails")
e = entries[0] if len(entries) == 1 else {}
equal((e.get("PRIORITY"), e.get("LETHE_RESULT"), e.get("LETHE_EXIT")), ("3", "failed", "65"),
      "the failed run's entry: priority err, result failed, exit 65")
check(err.strip() and all(ln.startswith("<") for ln in err.splitlines()),
      "the run's other messages are still on stderr with priorities")

# No journal socket: the stderr line, with its priority.
rc, _, err, entries = run_under_journal("run", "--as-of", "2026-01-02",
                                        journal_socket=os.path.join(d, "absent.socket"))
equal(rc, 0, "run without a journal socket")
lines = [ln for ln in err.splitlines() if "run summary:" in ln]
check(len(lines) == 1 and lines[0].startswith("<5>run summary: run_id="),
      f"without a socket: the stderr line at priority notice ({lines})")

# stderr redirected away from the journal's stream: nothing to the journal.
rc, _, err, entries = run_under_journal("run", "--as-of", "2026-01-03", stream_matches=False)
equal(rc, 0, "run with stderr redirected")
equal(len(entries), 0, "nothing sent when stderr is not the journal's stream")
lines = [ln for ln in err.splitlines() if "run summary:" in ln]
check(len(lines) == 1 and lines[0].startswith("lethe: run summary: run_id="),
      f"redirected: the plain stderr line ({lines})")
sock.close()
finish()
