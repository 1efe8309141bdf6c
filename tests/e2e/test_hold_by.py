"""Who placed and released a hold: `hold add --by`, `hold release` without it
(the user who ran the command), on the reference shop:
- `hold list` (text and --json) shows each hold's kind, reason, who placed it
  and who released it;
- the records carry `by`, the commit subjects say the kind, the scope and who
  (`lethe: hold 00000001 rule complaints by dpo@shop.example`, `lethe:
  release 00000002 hold 1 by USER`), never the reason; `lethe verify` passes;
- a --by that is not a principal is refused (64) and nothing is recorded;
- the verifier accepts the subjects of earlier versions (`lethe: hold N`, no
  `by`) and rejects a subject whose `by` is not the record's, or a `by` that
  is not a principal (hand-signed histories)."""
import json
import os
import pwd
import subprocess
from lethe_e2e import check, equal, finish, run, tmpdir
from lethe_subject_e2e import records, reference_site
from lethe_verify_e2e import GOOD, T0, build, expect_fail, record, verify

d = tmpdir()
db, cfg, evidence, key = reference_site(d, 50)
me = pwd.getpwuid(os.getuid()).pw_name
env = {"SUDO_USER": ""}

rc, out, err = run("-c", cfg, "hold", "add", "--rule", "complaints", "--reason",
                   "claim of a customer", "--by", "dpo@shop.example", env=env)
equal(rc, 0, f"hold add --by {err.strip()}")
rc, out, err = run("-c", cfg, "hold", "add", "--subject", "3", "--reason", "court order 7", env=env)
equal(rc, 0, f"hold add without --by {err.strip()}")
rc, out, err = run("-c", cfg, "hold", "release", "1", "--reason", "settled", env=env)
equal(rc, 0, f"hold release {err.strip()}")
rc, out, err = run("-c", cfg, "hold", "add", "--rule", "complaints", "--reason", "x", "--by",
                   "Mallory Q; rm", env=env)
check(rc == 64 and "not a principal" in err, f"a --by that is no principal: 64 ({rc} {err.strip()})")

subjects = subprocess.run(["git", "-C", evidence, "log", "--reverse", "--format=%s", "main"],
                          capture_output=True, text=True, check=True).stdout.splitlines()
equal(subjects, ["lethe: hold 00000001 rule complaints by dpo@shop.example",
                 f"lethe: hold 00000002 subject by {me}",
                 f"lethe: release 00000003 hold 1 by {me}"], "commit subjects: kind, scope and who")
check(not any("claim" in s or "court" in s or "settled" in s for s in subjects),
      "no reason in a commit subject")
recs = records(evidence)
equal([r.get("by") for r in recs], ["dpo@shop.example", me, me], "the records name who acted")
rc, out, err = run("-c", cfg, "verify")
equal(rc, 0, f"verify accepts them {out.strip()} {err.strip()}")

rc, out, err = run("-c", cfg, "hold", "list")
check("placed by: dpo@shop.example" in out and f"released by: {me}" in out and
      "reason: claim of a customer" in out and "rule complaints" in out and "subject 3" in out,
      f"hold list shows kinds, reasons and who ({out!r})")
rc, out, err = run("-c", cfg, "hold", "list", "--json")
j = json.loads(out)
equal([(h["scope"], h["placed_by"], h.get("released_by"), h["reason"]) for h in j],
      [("rule", "dpo@shop.example", me, "claim of a customer"), ("subject", me, None, "court order 7")],
      "hold list --json: scope, placed_by, released_by, reason")

# Hand-signed histories: the old subject, a subject naming another, a bad `by`.
def hold(seq, msg, **fields):
    return {"name": f"records/00000/{seq:08d}-hold.json", "msg": msg, "files": {},
            "record": record(seq, "hold", {}, hold_id=1, reason_digest="a" * 64, rule="chats",
                             **fields)}


equal(verify(build(GOOD + [hold(5, "lethe: hold 00000005")]))[0], 0,
      "an earlier version's hold subject verifies")
equal(verify(build(GOOD + [hold(5, "lethe: hold 00000005 rule chats by ann", by="ann")]))[0], 0,
      "a hold subject naming who verifies")
expect_fail("a subject naming another than the record's by",
            build(GOOD + [hold(5, "lethe: hold 00000005 rule chats by bob", by="ann")]), 4,
            "does not name its record")
expect_fail("a subject naming someone the record does not",
            build(GOOD + [hold(5, "lethe: hold 00000005 rule chats by bob")]), 4,
            "does not name its record")
expect_fail("a by that is not a principal",
            build(GOOD + [hold(5, "lethe: hold 00000005", by="a b")]), 4, "is not a principal")
finish()
