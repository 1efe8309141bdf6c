"""What a run tells monitoring, on a site made with `lethe init` and a real
bare remote: `run --prometheus FILE` writes node-exporter textfile metrics
(read here by a strict parser of the Prometheus text format) atomically
(a new file renamed over the old, no temporary file left), after a refused
run too, keeping the last success; `run --json` carries the run id, sequence,
commit and result of the record it wrote (checked against git); one summary
line per run, with a journald priority under systemd; the progress line on a
terminal names its phase (clean-up, signing, pushing) once the rows are
disposed instead of "0 s left"."""
import json
import os
import pty
import re
import subprocess
import time
from lethe_e2e import LETHE, check, equal, finish, run, tmpdir

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'


def parse_metrics(text):
    """The samples of a text-format file as {(name, ((label, value), ...)): float}.
    Strict: every line a HELP, TYPE or sample; a TYPE before a family's
    samples, once; no duplicate series; the file ends with a newline."""
    types, samples, errors = {}, {}, []
    if not text.endswith("\n"):
        errors.append("no final newline")
    for n, line in enumerate(text.splitlines(), 1):
        m = re.fullmatch(rf"# (HELP|TYPE) ({NAME}) (.+)", line)
        if m:
            if m.group(1) == "TYPE":
                if m.group(2) in types or m.group(3) not in ("gauge", "counter", "untyped"):
                    errors.append(f"line {n}: bad or repeated TYPE")
                types[m.group(2)] = m.group(3)
            continue
        m = re.fullmatch(rf"({NAME})(?:\{{((?:{LABEL})(?:,{LABEL})*)\}})? (\S+)", line)
        if not m:
            errors.append(f"line {n}: not a sample: {line!r}")
            continue
        name, labels = m.group(1), tuple(re.findall(LABEL, m.group(2) or ""))
        if name not in types:
            errors.append(f"line {n}: {name} has no TYPE before it")
        try:
            value = float(m.group(m.lastindex))
        except ValueError:
            errors.append(f"line {n}: bad value")
            continue
        if (name, labels) in samples:
            errors.append(f"line {n}: repeated series")
        samples[(name, labels)] = value
    return samples, errors


# The Prometheus project's own parser (Debian's python3-prometheus-client,
# installed by scripts/deps for Debian's /usr/bin/python3) must read the
# same samples as the strict one above.
OFFICIAL = """
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in fam.samples:
        out[json.dumps([s.name, sorted(s.labels.items())])] = s.value
print(json.dumps(out))
"""


def official_parse(path):
    """{(name, labels): value} as prometheus_client reads the file, or None
    when Debian's python3-prometheus-client is not installed."""
    py = "/usr/bin/python3"
    if not os.path.exists(py) or subprocess.run([py, "-c", "import prometheus_client"],
                                                capture_output=True).returncode:
        return None
    p = subprocess.run([py, "-c", OFFICIAL, path], capture_output=True, text=True)
    equal(p.returncode, 0, f"prometheus_client parses {path} ({p.stderr.strip()[-300:]})")
    if p.returncode:
        return {}
    return {(k[0], tuple(tuple(x) for x in k[1])): v
            for k, v in ((json.loads(k), v) for k, v in json.loads(p.stdout).items())}


def check_official(path, samples):
    got = official_parse(path)
    if got is None:
        if os.environ.get("CI"):
            check(False, "python3-prometheus-client is installed in CI (scripts/deps)")
        else:
            print("skip: python3-prometheus-client is absent, the official parser is not run")
        return
    diff = sorted(set(got.items()) ^ set(samples.items()))
    equal(diff, [], f"prometheus_client reads the same {len(samples)} samples as the strict parser")


d = tmpdir()
equal(run("demo", os.path.join(d, "shop"), "--customers", "300")[0], 0, "demo")
db = os.path.join(d, "shop", "shop.sqlite")
site = os.path.join(d, "site")
rc, _, err = run("init", site, "--database", db)
equal(rc, 0, f"init ({err.strip()})")
cfg = os.path.join(site, "lethe.yaml")
evidence = os.path.join(site, "evidence")
remote = os.path.join(d, "remote.git")
subprocess.run(["git", "init", "-q", "--bare", remote], check=True)
text = open(cfg).read().replace("evidence:\n", f"evidence:\n  remote: {remote}\n", 1)
open(cfg, "w").write(text)
textfiles = os.path.join(d, "textfiles")
os.mkdir(textfiles)
prom = os.path.join(textfiles, "lethe.prom")
git = ["git", "--git-dir", evidence]

# A run: --json with its record, metrics, one summary line.
t0 = int(time.time())
rc, out, err = run("-c", cfg, "run", "--as-of", "2026-01-01", "--json", "--prometheus", prom)
equal(rc, 0, f"run --json --prometheus ({err.strip()})")
res = json.loads(out)
head = subprocess.run(git + ["rev-parse", "main"], capture_output=True, text=True).stdout.strip()
names = subprocess.run(git + ["ls-tree", "-r", "--name-only", "main", "records/"], capture_output=True,
                       text=True).stdout.split()
last = sorted(names)[-1]
rec = json.loads(subprocess.run(git + ["show", f"main:{last}"], capture_output=True, text=True).stdout)
equal(res.get("commit"), head, "run --json: commit is main's head")
equal(res.get("sequence"), rec["seq"], "run --json: sequence is the completion record's")
equal(res.get("run_id"), rec["run_id"], "run --json: run_id is the record's")
equal(res.get("result"), "completed", "run --json: result")
disposed = {r["name"]: r["disposed"] for r in res["rules"]}
check(sum(disposed.values()) > 0, f"the run disposed of rows ({disposed})")

lines = [ln for ln in err.splitlines() if "run summary:" in ln]
equal(len(lines), 1, "one summary line per run")
want = (f"run_id={rec['run_id']} seq={rec['seq']} commit={head} disposed={sum(disposed.values())}")
check(lines and want in lines[0] and "result=completed exit=0" in lines[0], f"summary line: {lines}")

samples, errors = parse_metrics(open(prom).read())
equal(errors, [], "the metrics file parses strictly")
check_official(prom, samples)
equal(oct(os.stat(prom).st_mode & 0o777), "0o644", "metrics readable by the node exporter")
equal(sorted(os.listdir(textfiles)), ["lethe.prom"], "no temporary file left")
equal(samples.get(("lethe_last_run_success", ())), 1.0, "last run success")
ts = samples.get(("lethe_last_success_timestamp_seconds", ()), 0)
check(t0 <= ts <= time.time() + 1, f"last success timestamp is the run's ({ts})")
equal(samples.get(("lethe_last_run_sequence", ())), float(rec["seq"]), "last run sequence")
for name, n in disposed.items():
    equal(samples.get(("lethe_rule_rows_disposed", (("rule", name),))), float(n),
          f"rows disposed of rule {name}")
rc, out, _ = run("-c", cfg, "status", "--json")
st = json.loads(out)
for r in st["rules"]:
    for window, key in (("0d", "due_now"), ("7d", "due_soon"), ("30d", "due_later")):
        if key in r:
            equal(samples.get(("lethe_rule_rows_due", (("rule", r["name"]), ("within", window)))),
                  float(r[key]), f"due {window} of rule {r['name']}")
check(any(k[0] == "lethe_rule_rows_due" for k in samples), "due soon per rule")
equal(samples.get(("lethe_warnings", ())), float(len(st["warnings"])), "warnings as status counts them")
equal(samples.get(("lethe_evidence_unpushed_commits", ())), 0.0, "pushed: nothing unpushed")

# A refused run (over the cap): success 0, its exit status, the last success
# kept; the file replaced by rename (a new inode), not rewritten in place.
ino = os.stat(prom).st_ino
rc, out, err = run("-c", cfg, "run", "--as-of", "2026-06-01", "--max-rows-per-rule", "1",
                   "--prometheus", prom)
equal(rc, 65, f"over the cap: 65 ({err.strip()})")
samples, errors = parse_metrics(open(prom).read())
equal(errors, [], "the metrics file of a refused run parses")
check_official(prom, samples)
check(os.stat(prom).st_ino != ino, "the metrics file was replaced by a rename")
equal(samples.get(("lethe_last_run_success", ())), 0.0, "refused run: success 0")
equal(samples.get(("lethe_last_run_exit_status", ())), 65.0, "refused run: its exit status")
equal(samples.get(("lethe_last_success_timestamp_seconds", ())), ts, "the last success is kept")
lines = [ln for ln in err.splitlines() if "run summary:" in ln]
check(len(lines) == 1 and "result=failed exit=65" in lines[0], f"refused run: summary line {lines}")

# Under systemd (stderr is JOURNAL_STREAM) the summary line has a priority.
errfile = os.path.join(d, "journal.txt")
with open(errfile, "w") as f:
    s = os.fstat(f.fileno())
    p = subprocess.run([LETHE, "-c", cfg, "run", "--as-of", "2026-01-02"], stdout=subprocess.DEVNULL,
                       stderr=f, env=dict(os.environ, JOURNAL_STREAM=f"{s.st_dev}:{s.st_ino}",
                                                  # no journal socket: the stderr line (test_journal)
                                                  LETHE_TEST_JOURNAL_SOCKET=os.path.join(d, "none")))
equal(p.returncode, 0, "run under a journal stream")
lines = [ln for ln in open(errfile).read().splitlines() if "run summary:" in ln]
check(len(lines) == 1 and lines[0].startswith("<5>run summary: run_id="),
      f"journal: one summary line at priority notice ({lines})")

# The progress line on a terminal names the phases after the disposal.
master, slave = pty.openpty()
p = subprocess.Popen([LETHE, "-c", cfg, "run", "--as-of", "2027-06-01", "--allow-future-as-of"],
                     stdout=subprocess.DEVNULL, stderr=slave)
os.close(slave)
tty = b""
while True:
    try:
        chunk = os.read(master, 65536)
    except OSError:
        break
    if not chunk:
        break
    tty += chunk
p.wait()
os.close(master)
tty = tty.decode(errors="replace")
equal(p.returncode, 0, "run on a terminal")

# `metrics:` in lethe.yaml (against its folder) is --prometheus for the timer's
# plain `lethe run`; the option still wins.
open(cfg, "a").write("metrics: lethe-site.prom\n")
site_prom = os.path.join(site, "lethe-site.prom")
rc, out, err = run("-c", cfg, "run", "--as-of", "2027-07-01", "--allow-future-as-of")
equal(rc, 0, f"run with metrics: in lethe.yaml ({err.strip()})")
check(os.path.isfile(site_prom), "metrics: writes the file beside lethe.yaml")
samples, errors = parse_metrics(open(site_prom).read())
equal(errors, [], "the metrics file of metrics: parses")
equal(samples.get(("lethe_last_run_success", ())), 1.0, "metrics: the run succeeded")
os.unlink(site_prom)
mtime = os.stat(prom).st_mtime_ns
rc, out, err = run("-c", cfg, "run", "--as-of", "2027-07-02", "--allow-future-as-of", "--prometheus", prom)
equal(rc, 0, f"run --prometheus beside metrics: ({err.strip()})")
check(os.stat(prom).st_mtime_ns != mtime and not os.path.exists(site_prom),
      "--prometheus wins over metrics:")
at = [tty.rfind(f"lethe: {phase}:") for phase in ("disposing", "clean-up", "signing", "pushing")]
check(all(i >= 0 for i in at[1:]), f"progress shows clean-up, signing and pushing ({at})")
check(at == sorted(at), f"in that order, after the last disposing line ({at})")
for m in re.finditer(r"disposing: (\d+) of (\d+) rows", tty):
    check(int(m.group(1)) < int(m.group(2)), f"a time left only while rows remain ({m.group(0)})")
finish()
