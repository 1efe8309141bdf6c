# engines: sqlite postgresql
"""The records of an erasure carry the action each rule really applied: its
`on_erasure` action (docs/policy-language.md: default the rule's `action`),
not its normal one, except that a rule with `on_erasure: keep` and an action
of its own applies that action to the subject's rows already due by their
own clock (an erasure keeps nothing whose period is over). On the reference
shop the bookkeeping rules say `action: delete, on_erasure: keep`: the
signed erasure intent and its completion must say `delete` for them, the
subject's rows not yet due stay, and `lethe verify` must pass. A normal
`lethe run` afterwards records the normal actions. The expectation is read
from the policy files with PyYAML, independently of lethe. Before the fix
the intent said `delete` for rules that kept the subject's rows."""
import glob
import json
import os
import subprocess
import yaml
from lethe_e2e import SOURCE, check, equal, finish, run, tmpdir
from lethe_subject_e2e import reference_site, rich_subject

d = tmpdir()
db, cfg, repo, _key = reference_site(d, 200)
policies = {}
keeps = []
for path in sorted(glob.glob(os.path.join(d, "shop", "policies", "*.yaml")) or
                   glob.glob(os.path.join(SOURCE, "policies", "*.yaml"))):
    with open(path) as f:
        for r in (yaml.safe_load(f) or {}).get("rules", []):
            e = r.get("on_erasure", r["action"])
            # the erasure action: by the rule's own clock where it keeps on erasure
            policies[r["name"]] = (r["action"], r["action"] if e == "keep" else e)
            if e == "keep" and r["action"] != "keep":
                keeps.append(r["name"])
check(keeps, "the policy has rules that keep on erasure")
by_clock = keeps

subject = rich_subject(db)


def records(kind):
    names = subprocess.run(["git", "-C", repo, "ls-tree", "-r", "--name-only", "main", "records/"],
                           capture_output=True, text=True).stdout.split()
    out = []
    for n in sorted(x for x in names if x.endswith(f"-{kind}.json")):
        text = subprocess.run(["git", "-C", repo, "show", f"main:{n}"], capture_output=True,
                              text=True).stdout
        out.append(json.loads(text))
    return out


rc, out, err = run("-c", cfg, "erase", "--subject", str(subject))
equal(rc, 0, f"erase exits 0 {err.strip()[-200:]}")
intents = [r for r in records("intent") if r.get("request") == "erasure"]
equal(len(intents), 1, "one erasure intent")
intent = intents[0] if intents else {"rules": [], "run_id": ""}
got = {r["name"]: r["action"] for r in intent["rules"]}
equal(set(got), set(policies), "the intent lists every rule of the policy")
equal(got, {n: e for n, (a, e) in policies.items()}, "the erasure intent's actions are the on_erasure ones")
comp = [r for r in records("completion") if r.get("run_id") == intent["run_id"]]
equal(len(comp), 1, "the erasure has a completion")
equal({r["name"]: r["action"] for r in (comp[0]["rules"] if comp else [])},
      {n: e for n, (a, e) in policies.items()}, "the erasure completion's actions are the on_erasure ones")
check(by_clock and all(got.get(n) == "delete" for n in by_clock),
      f"rules that keep on erasure record the action of their due rows: {by_clock}")

rc, out, err = run("-c", cfg, "run")
equal(rc, 0, f"a normal run exits 0 {err.strip()[-200:]}")
runs = [r for r in records("intent") if "request" not in r]
equal({r["name"]: r["action"] for r in (runs[-1]["rules"] if runs else [])},
      {n: a for n, (a, e) in policies.items()}, "a normal run's intent records the normal actions")
rc, out, err = run("-c", cfg, "verify")
equal(rc, 0, f"lethe verify passes: {out.strip()}")
finish()
