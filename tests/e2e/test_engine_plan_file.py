# engines: sqlite postgresql mariadb
"""A signed plan applied exactly on every engine (LETHE_TEST_ENGINE,
lethe_engines.py): `lethe run --plan FILE` disposes of the planned rows that
are still due, and keeps rows that became due after the plan was signed and a
planned row made current again. The server engines lock a batch's due rows
and dispose of them in their own statements, so each must apply the plan
itself (test_plan_file covers the rest of signed plans on SQLite)."""
import datetime
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import lethe_e2e as e2e
import lethe_engines

TODAY = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
tmp = e2e.tmpdir()
eng = lethe_engines.engine().start(tmp)
try:
    policies = os.path.join(e2e.SOURCE, "policies")
    eng.demo(os.path.join(tmp, "demo"), customers=200, policies=policies)
    site = os.path.join(tmp, "site")
    rc, out, err = e2e.run("init", site, "--database", eng.location(), "--policies", policies)
    e2e.equal(rc, 0, f"init ({err.strip()})")
    cfg = os.path.join(site, "lethe.yaml")

    def lethe(*args):
        return e2e.run("-c", cfg, *args)

    def feedback_ids():
        return [int(r[0]) for r in eng.sql("SELECT id FROM feedback ORDER BY id")]

    rc, out, err = lethe("plan", "--keys", "feedback", "--as-of", TODAY)
    e2e.equal(rc, 0, f"plan --keys feedback ({err.strip()})")
    want = [int(k) for k in out.split()]
    e2e.check(len(want) > 3, f"the shop has feedback due ({len(want)})")
    plan = os.path.join(tmp, "p.plan")
    rc, out, err = lethe("plan", "--out", plan, "--as-of", TODAY)
    e2e.equal(rc, 0, f"plan --out ({err.strip()})")

    # since the plan: two rows became due, one planned row became current again
    not_due = [i for i in feedback_ids() if i not in want][:2]
    e2e.equal(len(not_due), 2, "two feedback rows are not due yet")
    current = want[0]
    eng.sql(f"UPDATE feedback SET received_at = '2001-01-01 00:00:00' WHERE id IN ({not_due[0]}, {not_due[1]})")
    eng.sql(f"UPDATE feedback SET received_at = '{TODAY} 00:00:00' WHERE id = {current}")
    before = feedback_ids()

    rc, out, err = lethe("run", "--plan", plan, "--json")
    e2e.equal(rc, 0, f"run --plan ({err.strip()[-300:]})")
    after = feedback_ids()
    planned_still_due = [k for k in want if k != current]
    e2e.equal(after, [i for i in before if i not in planned_still_due],
              "exactly the planned rows still due were disposed of")
    e2e.check(all(i in after for i in not_due), "rows that became due since the plan are kept")
    e2e.check(current in after, "a planned row that is no longer due is kept")
    fb = [r for r in json.loads(out)["rules"] if r["name"] == "feedback"][0]
    e2e.equal(fb["disposed"], len(planned_still_due), "the run's disposed count")
    e2e.equal(fb.get("unplanned"), 2, "the run counts the rows due but not planned")
    rc, out, err = lethe("verify")
    e2e.equal(rc, 0, f"verify accepts a run under a plan ({out.strip()} {err.strip()})")
finally:
    eng.stop()
e2e.finish()
