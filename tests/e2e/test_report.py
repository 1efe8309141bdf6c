"""`lethe report --html DIR` on the reference shop after a year of runs (every
30 days), a policy change, holds, requests, an erasure and an export, opened
in headless Chromium (Debian's `chromium`; the test installs it when it is
missing and it can, and skips otherwise):
- the page loads with no network (`unshare -n`) and no console message, and
  references nothing outside itself (no URL, script, link, image);
- its text matches the evidence read with git and the register read with
  SQL: every commit verified (count and head), runs per month and rows
  disposed per month (totals), the requests' counts in time, late, open and
  overdue, each hold's reason and who placed it, the policy change's diff,
  "none" for approvals, one row per record in the commit table;
- --json gives the same model; --language fi writes Finnish;
- after the last commit is replaced by an unsigned copy, the page says
  verification failed at that record and marks it failed."""
import datetime
import json
import os
import re
import shutil
import sqlite3
import subprocess
from lethe_e2e import check, equal, finish, run, tmpdir
from lethe_report_e2e import HELD, year_of_runs
from lethe_subject_e2e import records


def chromium():
    path = shutil.which("chromium")
    if not path and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
                       capture_output=True, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        path = shutil.which("chromium")
    return path


browser = chromium()
if not browser:
    print("SKIP: no chromium (apt-get install chromium)")
    raise SystemExit(77)


def open_page(path):
    """The DOM as Chromium built it and its console lines, with no network."""
    cmd = [browser, "--headless", "--no-sandbox", "--enable-logging=stderr", "--v=0",
           "--dump-dom", "file://" + os.path.abspath(path)]
    if os.geteuid() == 0 and shutil.which("unshare"):
        cmd = ["unshare", "-n"] + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    return p.stdout, [line for line in p.stderr.splitlines() if ":CONSOLE" in line]


def text_of(dom):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom.split("<main>", 1)[-1])).replace("&amp;", "&")


d = tmpdir()
# The console capture works: a page that logs is seen logging.
ctl = os.path.join(d, "ctl.html")
with open(ctl, "w") as f:
    f.write("<!DOCTYPE html><p>x</p><script>console.error('probe')</script>")
check(any("probe" in c for c in open_page(ctl)[1]), "chromium's console is captured")

cfg, db, evidence, policies = year_of_runs(d)
out_dir = os.path.join(d, "report")
rc, out, err = run("-c", cfg, "report", "--html", out_dir, "--json")
equal(rc, 0, f"report {err.strip()}")
model = json.loads(out)
page = os.path.join(out_dir, "index.html")
html = open(page).read()
check(not re.search(r"https?:|<script|<link|<img|src=|@import|url\(", html, re.I),
      "the page references nothing outside itself")
dom, console = open_page(page)
equal(console, [], "no console message while loading")
check("</html>" in dom and "<svg" in dom, "chromium loaded the page with its charts")
t = text_of(dom)

recs = records(evidence)
ncommits = int(subprocess.run(["git", "-C", evidence, "rev-list", "--count", "main"],
                              capture_output=True, text=True).stdout)
head = subprocess.run(["git", "-C", evidence, "rev-parse", "main"], capture_output=True,
                      text=True).stdout.strip()
check(f"Every commit verified: {ncommits} commits, {ncommits} records; head record {ncommits}, "
      f"commit {head}." in t, f"verification: {ncommits} commits, head {head[:12]}")
rows = re.findall(r"<tr><td class=\"n\">(\d+)</td><td>[^<]*</td><td>[^<]*</td><td><code>([0-9a-f]{40})"
                  r"</code></td><td class=\"ok\">ok</td></tr>", dom)
equal(len(rows), len(recs), "one verified row per record in the commit table")

labels = {r["run_id"]: ("erasure" if "request" in r else "run") for r in recs if r["kind"] == "intent"}
runs = sum(1 for r in recs if r["kind"] == "completion" and labels[r["run_id"]] == "run"
           and r["result"] == "completed")
disposed = sum(rule["disposed"] for r in recs if r["kind"] == "completion" for rule in r["rules"])
m = re.search(r"runs-chart.*?<caption>The chart's numbers</caption>(.*?)</table>", dom, re.S)
run_totals = m and [int(x) for x in re.findall(r"<td class=\"n\">(\d+)</td></tr>", m.group(1))]
months = m and re.findall(r"<th scope=\"row\">(\d{4}-\d\d)</th>", m.group(1))
check(m is not None and sum(run_totals) == runs + 1, f"runs per month add up to {runs} runs and 1 erasure")
equal(len(months or []), 13, "thirteen months of runs, gaps included")
m = re.search(r"disposed-chart.*?<caption>The chart's numbers</caption>(.*?)</table>", dom, re.S)
got = m and sum(int(x) for x in re.findall(r"<td class=\"n\">(\d+)</td></tr>", m.group(1)))
equal(got, disposed, "rows disposed per month add up to the evidence's")

con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
today = str(datetime.date.today())
state = {"in time": 0, "late": 0, "open": 0, "overdue": 0}
for received, deadline, ext, answered in con.execute(
        "SELECT received, deadline, extended_until, answered_at FROM lethe_requests"):
    due = ext or deadline
    state["in time" if answered and answered <= due else "late" if answered else
          "overdue" if today > due else "open"] += 1
n = sum(state.values())
equal(state, {"in time": 1, "late": 1, "open": 1, "overdue": 1}, "the register has each kind of request")
check(f"{n} requests: {state['in time']} answered in time, {state['late']} late, {state['open']} open, "
      f"{state['overdue']} overdue." in t, "requests: answered in time, late, open, overdue")
for reason, by in con.execute("SELECT reason, placed_by FROM lethe_holds"):
    check(reason in t and by in t, f"hold '{reason}' placed by {by}")
check("dispute settled" in t, "a release's reason")
con.close()
answers = sorted((r["subject"], r["by"]) for r in recs if r.get("by") and r.get("answered") and
                 (r["kind"] == "export" or (r["kind"] == "intent" and "replay_of" not in r)))
equal(len(answers), 2, "the evidence names who answered the erasure and the export")
equal(sorted((r["subject"], r.get("answered_by")) for r in model["requests"] if r.get("answered")),
      sorted((subj[:12], by) for subj, by in answers),
      "the report names who answered each request (short subject digest), as its record does")
check(all(by in t for _, by in answers), "who answered is on the page")
check("-    retain: 14 months" in dom and "+    retain: 12 months" in dom,
      "the policy change's diff")
check(re.search(r"Approvals and approvers</h2><p>none</p>", dom) is not None, "approvals: none")
check(HELD not in re.findall(r"subject (\w+)", t), "a subject hold shows no key")
equal((model["verification"]["state"], len(model["commits"])), ("ok", len(recs)), "--json: the model")

rc, out, err = run("-c", cfg, "report", "--html", out_dir, "--language", "fi")
equal(rc, 0, f"report --language fi {err.strip()}")
t = text_of(open_page(page)[0])
check("Jokainen commit tarkastettu" in t and "Säilytysmääräykset" in t, "Finnish texts")
rc, out, err = run("-c", cfg, "report", "--html", out_dir, "--language", "xx")
equal(rc, 64, "an unknown language")
since = str(datetime.date.today() - datetime.timedelta(days=60))
rc, out, err = run("-c", cfg, "report", "--html", out_dir, "--since", since, "--json")
j = json.loads(out) if rc == 0 else {}
check(rc == 0 and j["runs_by_month"] and min(j["runs_by_month"]) >= since[:7] and
      min(c["day"] for c in j["commits"]) >= since, f"--since {since} leaves earlier records out")

# The last commit replaced by an unsigned copy of it: verification fails there.
g = ["git", "-C", evidence]
last = subprocess.run(g + ["cat-file", "commit", "main"], capture_output=True, text=True).stdout
tree = re.search(r"^tree (\w+)", last, re.M).group(1)
parent = re.search(r"^parent (\w+)", last, re.M).group(1)
msg = last.split("\n\n", 1)[1]
bad = subprocess.run(g + ["commit-tree", tree, "-p", parent, "-m", msg.strip()], capture_output=True,
                     text=True, env=dict(os.environ, GIT_AUTHOR_NAME="Lethe", GIT_COMMITTER_NAME="Lethe",
                                         GIT_AUTHOR_EMAIL="x@y", GIT_COMMITTER_EMAIL="x@y")).stdout.strip()
subprocess.run(g + ["update-ref", "refs/heads/main", bad], check=True)
rc, out, err = run("-c", cfg, "report", "--html", out_dir)
equal(rc, 0, f"report of a repository that fails verification {err.strip()}")
dom = open_page(page)[0]
t = text_of(dom)
check(f"Verification FAILED at record {len(recs)}, commit {bad}" in t, "the page says where it failed")
check(re.search(rf"<code>{bad}</code></td><td class=\"bad\">failed</td>", dom) is not None,
      "the commit is marked failed")
finish()
