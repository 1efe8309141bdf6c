"""lethe status after real runs on a site made with `lethe init`: before any
run it says so; after runs it reports the last completion record (compared
with the record read back with git), the due counts of the plans at +7 and
+30 days, a rule blocked for over 30 days of runs, a key with loose
permissions, unpushed commits against a real remote, and it writes nothing."""
import json
import os
import subprocess
from lethe_e2e import check, equal, finish, run, sha256, tmpdir

d = tmpdir()
rc, _, err = run("demo", os.path.join(d, "shop"), "--customers", "200")
equal(rc, 0, "demo writes the register")
db = os.path.join(d, "shop", "shop.sqlite")
site = os.path.join(d, "site")
rc, _, err = run("init", site, "--database", db)
equal(rc, 0, f"init makes a site ({err.strip()})")
cfg = os.path.join(site, "lethe.yaml")
evidence = os.path.join(site, "evidence")


def status(as_of):
    rc, out, err = run("-c", cfg, "status", "--json", "--as-of", as_of)
    equal(rc, 0, f"status --as-of {as_of} exits 0 ({err.strip()})")
    return json.loads(out)


def plan_due(as_of):
    rc, out, _ = run("-c", cfg, "plan", "--json", "--as-of", as_of)
    return {r["name"]: r["due"] for r in json.loads(out)["rules"]}


s = status("2026-01-01")
equal(s["last_run"], None, "no run yet: last_run is null")
check(any("no run is recorded" in w for w in s["warnings"]), "no run yet: a warning says so")
equal(s["holds"], [], "no holds")
equal(s["unpushed"], None, "no remote: unpushed is null")

for day in ("2026-01-01", "2026-01-20", "2026-02-05"):
    rc, _, err = run("-q", "-c", cfg, "run", "--as-of", day)
    equal(rc, 0, f"run --as-of {day} ({err.strip()})")

before = sha256(db)
s = status("2026-02-05")
equal(sha256(db), before, "status leaves the database byte-identical")
git = ["git", "--git-dir", evidence]
names = subprocess.run(git + ["ls-tree", "-r", "--name-only", "main", "records/"], capture_output=True,
                       text=True, check=True).stdout.split()
last = sorted(n for n in names if n.endswith("-completion.json"))[-1]
rec = json.loads(subprocess.run(git + ["show", f"main:{last}"], capture_output=True, text=True,
                                check=True).stdout)
lr = s["last_run"]
equal(lr["seq"], rec["seq"], "last_run is the last completion record")
for k in ("run_id", "as_of", "started_at", "ended_at", "result"):
    equal(lr[k], rec[k], f"last_run.{k} is the record's")
equal(lr["disposed"], sum(r["disposed"] for r in rec["rules"]), "last_run.disposed sums the record")
equal(lr["blocked"], sum(r["blocked"] for r in rec["rules"]), "last_run.blocked sums the record")
equal(lr["as_of"], "2026-02-05", "the last run is the one of 2026-02-05")

for ahead, key in (("2026-02-12", "due_in_7_days"), ("2026-03-07", "due_in_30_days"),
                   ("2026-02-05", "due_now")):
    want = plan_due(ahead)
    got = {r["name"]: r[key] for r in s["rules"]}
    equal(got, want, f"{key} per rule is plan --as-of {ahead}")
    equal(s[key], sum(want.values()), f"{key} total")
check(s["due_in_30_days"] > s["due_now"], "something becomes due within 30 days")

blocked = [r["name"] for r in rec["rules"] if r["blocked"] > 0]
check(len(blocked) > 0, f"the demo has blocked rules: {blocked}")
for name in blocked:
    check(any(f"rule '{name}' has had blocked rows in every run since 2026-01-01 (35 days)" in w
              for w in s["warnings"]), f"warning: '{name}' blocked for over 30 days")
equal(sum("has had blocked rows" in w for w in s["warnings"]), len(blocked),
      "no blocked warning for the other rules")

# Blocked for only 19 days of runs: no warning (a fresh site, two runs).
site2 = os.path.join(d, "site2")
run("demo", os.path.join(d, "shop2"), "--customers", "200")
run("init", site2, "--database", os.path.join(d, "shop2", "shop.sqlite"))
for day in ("2026-01-01", "2026-01-20"):
    run("-c", os.path.join(site2, "lethe.yaml"), "run", "--as-of", day)
rc, out, _ = run("-c", os.path.join(site2, "lethe.yaml"), "status", "--json", "--as-of", "2026-01-20")
check(not any("blocked rows" in w for w in json.loads(out)["warnings"]),
      "blocked for 19 days of runs: no warning")

# A key readable by others is a warning; a late run too.
key = os.path.join(site, "keys", "pseudonym.key")
os.chmod(key, 0o644)
s = status("2026-02-10")
check(any(f"key '{key}' has loose permissions (mode 0644)" in w for w in s["warnings"]),
      "warning: key with loose permissions")
check(any("the last run was for 2026-02-05, 5 days ago" in w for w in s["warnings"]),
      "warning: the last run is 5 days old")
os.chmod(key, 0o600)
check(not any("loose permissions" in w for w in status("2026-02-05")["warnings"]),
      "no key warning at mode 0600")

# A remote that has fewer commits: unpushed counts them.
remote = os.path.join(d, "remote.git")
subprocess.run(["git", "init", "-q", "--bare", remote], check=True)
subprocess.run(git + ["push", "-q", remote, "main~2:refs/heads/main"], check=True)
text = open(cfg).read().replace("evidence:\n", f"evidence:\n  remote: {remote}\n", 1)
open(cfg, "w").write(text)
s = status("2026-02-05")
equal(s["unpushed"], 2, "unpushed: the remote lacks two commits")
check(any("2 evidence commits are not on the remote" in w for w in s["warnings"]), "warning: unpushed")
rc, out, _ = run("-c", cfg, "status", "--as-of", "2026-02-05")
check("unpushed:  2 commits" in out and "last run:  record" in out, "text output names them")
rc, out, _ = run("-c", cfg, "status", "--bogus")
equal(rc, 64, "unknown option: 64")
finish()
