"""Impact preview (issue 15): `lethe plan --compare DRAFT_DIR` plans the reference
shop with a draft policy set and shows, per rule, what is due now and by 30, 90 and
365 days under the set in force and under the draft, the rules added, removed or
changed, and the edit behind each difference. The counts are checked against
`lethe plan` run separately on each set and day; the table fits 80 columns."""
import datetime
import json
import os
import shutil
from lethe_e2e import check, equal, finish, plan_json, run, sha256, write
from lethe_officer_e2e import Site

s = Site(customers=400)
today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
draft = os.path.join(s.d, "draft")
shutil.copytree(s.policies, draft)
path = os.path.join(draft, "10-bookkeeping.yaml")
with open(path) as f:
    text = f.read()
check("retain: 10 years" in text, "the reference bookkeeping rules keep 10 years")
write(path, text.replace("retain: 10 years", "retain: 6 years"))
os.unlink(os.path.join(draft, "50-analytics.yaml"))
write(os.path.join(draft, "60-newsletter.yaml"), """lethe: 1
rules:
  - name: old-feedback
    basis: GDPR art. 5(1)(e)
    table: feedback
    from: received_at
    retain: 1 year
    action: delete
""")
db_before = sha256(s.db)

rc, out, err = s.lethe("plan", "--compare", draft, "--as-of", today, "--json")
equal(rc, 0, f"plan --compare ({err.strip()[:300]})")
im = json.loads(out)
rules = {r["name"]: r for r in im["rules"]}
equal(im["as_of"], today, "the impact's as-of")
equal(im["horizons_days"], [0, 30, 90, 365], "the horizons")

# the counts are plan's, on each set and day
draft_cfg = os.path.join(s.d, "draft.yaml")
with open(s.cfg) as f:
    write(draft_cfg, "".join(ln if not ln.startswith("policies:") else f"policies: '{draft}'\n"
                             for ln in f))
names = [("now", 0), ("by_30_days", 30), ("by_90_days", 90), ("by_365_days", 365)]
for label, days in names:
    day = (datetime.date.fromisoformat(today) + datetime.timedelta(days=days)).isoformat()
    a = {n: r["due"] for n, r in plan_json(s.cfg, day).items()}
    b = {n: r["due"] for n, r in plan_json(draft_cfg, day).items()}
    got_a = {n: r["in_force"][label] for n, r in rules.items() if r["in_force"]}
    got_b = {n: r["draft"][label] for n, r in rules.items() if r["draft"]}
    equal(got_a, a, f"in-force counts {label} are plan's on {day}")
    equal(got_b, b, f"draft counts {label} are plan's on {day}")
    equal(im["totals"]["in_force"][label], sum(a.values()), f"in-force total {label}")
    equal(im["totals"]["draft"][label], sum(b.values()), f"draft total {label}")

# statuses and the edit behind each difference
for name in ("orders-bookkeeping", "order-lines-bookkeeping", "invoices-bookkeeping",
             "payments-bookkeeping"):
    r = rules[name]
    equal(r["status"], "changed", f"{name} is changed")
    equal(r["causes"], ["retain: 10 years -> 6 years"], f"{name}: the edit that caused it")
    check(r["draft"]["now"] > r["in_force"]["now"], f"{name}: more rows due now under the draft")
equal(rules["web-analytics"]["status"], "removed", "a rule of a file removed from the draft")
equal(rules["web-analytics"]["draft"], None, "a removed rule has no draft counts")
equal(rules["old-feedback"]["status"], "added", "a rule of a new file")
equal(rules["old-feedback"]["in_force"], None, "an added rule has no in-force counts")
for name, r in rules.items():
    if r["status"] == "unchanged":
        equal(r["in_force"], r["draft"], f"{name}: unchanged rule, same counts")
        equal(r["causes"], [], f"{name}: no edit")
equal(im["basis"]["draft"]["policies"], draft, "the basis names the draft")
check(len(im["basis"]["in_force"]["policy_digest"]) == 64, "the basis has the digests")

# the table: every line fits 80 columns, the edit is under its rule, totals and basis
rc, out, err = s.lethe("plan", "--compare", draft, "--as-of", today)
equal(rc, 0, "plan --compare, table")
lines = out.splitlines()
equal([ln for ln in lines if len(ln) > 80], [], "every line fits 80 columns")
at = lines.index("orders-bookkeeping (changed)")
check("edit: retain: 10 years -> 6 years" in "\n".join(lines[at:at + 6]),
      "the table names the edit under orders-bookkeeping")
o = rules["orders-bookkeeping"]
check(any(ln.split() == ["draft", *[str(o["draft"][k]) for k, _ in names]] for ln in lines[at:at + 6]),
      "the table's draft line of orders-bookkeeping has the JSON's counts")
check(any(ln.startswith("TOTAL difference") for ln in lines), "the table has totals")
check(any(ln.startswith("    basis: Kirjanpitolaki") for ln in lines), "the table has the legal basis")
check(any(ln.startswith("draft:") and draft in ln for ln in lines), "the table names the draft")

# a faulty draft is refused, naming the file
write(os.path.join(draft, "70-bad.yaml"), "lethe: 1\nrules:\n  - name: x\n    table: nosuch\n")
rc, out, err = s.lethe("plan", "--compare", draft, "--as-of", today)
equal(rc, 65, "a faulty draft is refused")
check("70-bad.yaml" in err, f"the fault names the file ({err.strip()[:200]})")
rc, out, err = s.lethe("plan", "--compare", os.path.join(s.d, "nosuch"))
equal(rc, 66, f"a missing draft folder ({err.strip()})")
equal(sha256(s.db), db_before, "the register is byte-identical")
finish()
