"""Signed plans and the rows behind a count (issue 15): `lethe plan --out FILE`
writes a signed plan (as-of, policy digest, per-rule keyed digests of the due keys,
counts; no key); `lethe run --plan FILE` disposes of exactly the planned rows that
are still due, leaves rows that became due since for a later run, and refuses a
stale plan (policy changed, as-of passed, signature invalid, signer unknown).
`lethe plan --keys RULE` lists the keys a rule would dispose of, to the terminal."""
import datetime
import json
import os
import sqlite3
from lethe_e2e import add_months, check, equal, finish, sha256
from lethe_officer_e2e import Site

s = Site(customers=400)
today = datetime.datetime.now(datetime.timezone.utc).date()
TODAY = today.isoformat()
YESTERDAY = (today - datetime.timedelta(days=1)).isoformat()


def sql(q, *args):
    con = sqlite3.connect(s.db)
    try:
        return con.execute(q, args).fetchall()
    finally:
        con.close()


def feedback_ids():
    return [i for (i,) in sql("SELECT id FROM feedback ORDER BY id")]


def plan_file(path):
    with open(path) as f:
        text = f.read()
    body, sig = text.split("-----BEGIN SSH SIGNATURE-----", 1)
    return json.loads(body), text


# the rows behind a count: the due keys, as independent SQL finds them
rc, out, err = s.lethe("plan", "--keys", "feedback", "--as-of", TODAY)
equal(rc, 0, f"plan --keys feedback ({err.strip()})")
keys = [int(k) for k in out.split()]
want = [i for (i,) in sql(f"SELECT id FROM feedback WHERE {add_months('date(received_at)', 12)} "
                          f"< ? ORDER BY id", TODAY)]
check(len(want) > 5, f"the shop has feedback due ({len(want)})")
equal(keys, want, "plan --keys lists exactly the due keys, in key order")
rc, out, err = s.lethe("plan", "--keys", "nosuch")
equal(rc, 65, "plan --keys of an unknown rule")

# a signed plan: digests and counts, no key
p1 = os.path.join(s.d, "p1.plan")
rc, out, err = s.lethe("plan", "--out", p1, "--as-of", TODAY)
equal(rc, 0, f"plan --out ({err.strip()})")
body, text = plan_file(p1)
fb = [r for r in body["rules"] if r["name"] == "feedback"][0]
equal(fb["due"], len(want), "the plan counts the due feedback")
equal(len(fb["digests"]), len(want), "one digest per due key")
check(all(len(d) == 64 and set(d) <= set("0123456789abcdef") for d in fb["digests"]),
      "digests are 64 hex digits")
equal(body["as_of"], TODAY, "the plan's as-of")
emails = [e for (e,) in sql("SELECT email FROM customers WHERE email IS NOT NULL LIMIT 50")]
check(emails and not any(e in text for e in emails), "no e-mail of the register is in the plan")
check(all(set(r) == {"name", "table", "action", "due", "held", "blocked", "digests"}
          for r in body["rules"]), "a rule of the plan has names, counts and digests only")
rc, out, err = s.lethe("plan", "--out", p1, "--as-of", TODAY)
check(rc != 0, f"an existing plan file is not overwritten ({rc})")

# since the plan: two rows became due, one planned row became current again
not_due = [i for i in feedback_ids() if i not in want][:2]
equal(len(not_due), 2, "two feedback rows are not due yet")
current = want[0]
con = sqlite3.connect(s.db)
con.execute(f"UPDATE feedback SET received_at = '2001-01-01 00:00:00' WHERE id IN "
            f"({not_due[0]}, {not_due[1]})")
con.execute("UPDATE feedback SET received_at = ? WHERE id = ?", (TODAY + " 00:00:00", current))
con.commit()
con.close()
before = feedback_ids()

rc, out, err = s.lethe("run", "--plan", p1)
equal(rc, 0, f"run --plan ({err.strip()[-300:]})")
after = feedback_ids()
planned_still_due = [k for k in want if k != current]
equal(after, [i for i in before if i not in planned_still_due],
      "exactly the planned rows still due were disposed of")
check(all(i in after for i in not_due), "rows that became due since the plan are kept")
check(current in after, "a planned row that is no longer due is kept")
check("left for a later run" in err, "the run says rows were left for a later run")
recs = s.records()
intent = [r for r in recs if r["kind"] == "intent"][-1]
completion = [r for r in recs if r["kind"] == "completion"][-1]
equal(intent.get("plan", {}).get("sha256"), sha256(p1), "the intent names the plan's sha256")
equal(intent["plan"]["as_of"], TODAY, "the intent names the plan's as-of")
ir = [r for r in intent["rules"] if r["name"] == "feedback"][0]
equal(ir["due"], len(planned_still_due), "the intent's due is the planned rows still due")
equal(ir.get("unplanned"), 2, "the intent counts the rows due but not planned")
cr = [r for r in completion["rules"] if r["name"] == "feedback"][0]
equal(cr["disposed"], len(planned_still_due), "the completion's disposed")
digest_file = s.git("show", f"main:{cr['digests']['path']}").decode().split()
check(set(digest_file) <= set(fb["digests"]) and len(digest_file) == len(planned_still_due),
      "every disposed row's digest is one the plan named")
rc, out, err = s.lethe("verify")
equal(rc, 0, f"verify accepts a run under a plan ({out.strip()} {err.strip()})")


def refused(plan, status, words, what):
    n, state = len(s.records()), sha256(s.db)
    rc, out, err = s.lethe("run", "--plan", plan)
    equal(rc, status, f"{what}: exit status ({err.strip()})")
    check(all(w in err for w in words), f"{what}: the message says {words}")
    equal(len(s.records()), n, f"{what}: nothing recorded")
    equal(sha256(s.db), state, f"{what}: the register is unchanged")


# stale: the policy changed since the plan
p2 = os.path.join(s.d, "p2.plan")
equal(s.lethe("plan", "--out", p2)[0], 0, "a second plan")
path = os.path.join(s.policies, "40-service.yaml")
with open(path) as f:
    saved = f.read()
with open(path, "w") as f:
    f.write(saved.replace("retain: 12 months\n    action: delete\n",
                          "retain: 6 months\n    action: delete\n", 1))
refused(p2, 65, ["stale", "changed 40-service.yaml"], "a plan of another policy set")
with open(path, "w") as f:
    f.write(saved)
# stale: its as-of has passed
p3 = os.path.join(s.d, "p3.plan")
equal(s.lethe("plan", "--out", p3, "--as-of", YESTERDAY)[0], 0, "a plan as of yesterday")
refused(p3, 65, ["stale", "passed"], "a plan whose as-of has passed")
# its signature: a digest changed after signing
p4 = os.path.join(s.d, "p4.plan")
body, text = plan_file(p2)
victim = next(d for r in body["rules"] for d in r["digests"])
with open(p4, "w") as f:
    f.write(text.replace(victim, "0" * 64, 1))
refused(p4, 1, ["signature is not valid"], "a plan changed after signing")
# a signer that is neither the site nor an approver
stranger = s.key("stranger", "stranger@example.org")
p5 = os.path.join(s.d, "p5.plan")
equal(s.lethe("plan", "--out", p5, "--key", stranger)[0], 0, "a plan signed by a stranger's key")
refused(p5, 1, ["neither this site's signing key nor an approver's"], "a stranger's plan")
# an approver's plan is applied
alice = s.key("alice", "alice@example.org", namespaces="lethe-approval")
p6 = os.path.join(s.d, "p6.plan")
equal(s.lethe("plan", "--out", p6, "--key", alice)[0], 0, "a plan signed by an approver")
rc, out, err = s.lethe("run", "--plan", p6)
equal(rc, 0, f"an approver's plan is applied ({err.strip()[-200:]})")
rc, out, err = s.lethe("verify")
equal(rc, 0, "verify at the end")

# approval.plan_first_run and plan_above: a site's first run, and a big one, need a
# plan an approver signed
t = Site(customers=200)
with open(t.cfg, "a") as f:
    f.write("approval:\n  plan_first_run: true\n  plan_above: 50\n")
bob = t.key("bob", "bob@example.org", namespaces="lethe-approval")
rc, out, err = t.lethe("run")
equal(rc, 78, f"a first run without a plan is refused ({err.strip()})")
check("first run" in err, "the refusal names the first run")
q1 = os.path.join(t.d, "q1.plan")
equal(t.lethe("plan", "--out", q1)[0], 0, "a plan signed by the site's key")
rc, out, err = t.lethe("run", "--plan", q1)
equal(rc, 78, "the site's own signature does not approve a first run")
q2 = os.path.join(t.d, "q2.plan")
equal(t.lethe("plan", "--out", q2, "--key", bob)[0], 0, "a plan signed by the approver")
rc, out, err = t.lethe("run", "--plan", q2)
equal(rc, 0, f"the first run under an approver's plan ({err.strip()[-200:]})")
later = (today + datetime.timedelta(days=400)).isoformat()
rc, out, err = t.lethe("run", "--as-of", later, "--allow-future-as-of")
equal(rc, 78, f"a run above plan_above is refused ({err.strip()})")
check("more than approval.plan_above (50)" in err, "the refusal names the threshold")
rc, out, err = t.lethe("run", "--dry-run", "--as-of", later)
equal(rc, 0, "a dry run is not held to the threshold")
finish()
