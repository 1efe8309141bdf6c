"""Who erased and who replayed: `erase --by`, `erase` without it (the user
who ran the command) and `replay --by`, on the reference shop, with a
backup restored between:
- each erasure's intent record carries `by` and its commit subject says
  `lethe: intent NNNNNNNN erasure RUNID by WHO` (a replay's `... replay
  RUNID by WHO`); completions keep their subjects; `lethe verify` and stock
  `git verify-commit` pass;
- a --by that is not a principal is refused (64) and nothing is recorded
  or erased;
- `report --html` shows who in its table of commits, and who answered each
  request in its table of requests;
- the verifier accepts an erasure intent of an earlier version (no `by`,
  no ` by` in the subject) and rejects an intent whose subject names
  another than its `by`, or drops it, or whose `by` is not a principal
  (hand-signed histories)."""
import os
import pwd
import shutil
import sqlite3
import subprocess
from lethe_e2e import check, equal, finish, run, tmpdir
from lethe_subject_e2e import records, reference_site
from lethe_verify_e2e import GOOD, build, completion, expect_fail, record, sha, verify

d = tmpdir()
db, cfg, evidence, key = reference_site(d, 40)
me = pwd.getpwuid(os.getuid()).pw_name
env = {"SUDO_USER": ""}
con = sqlite3.connect(db)
ids = [r[0] for r in con.execute("SELECT c.id FROM customers c WHERE EXISTS (SELECT 1 FROM orders o "
                                 "WHERE o.customer_id = c.id) ORDER BY c.id LIMIT 2")]
con.close()
equal(len(ids), 2, "two customers with orders")


def lethe(*args):
    return run("-c", cfg, *args, env=env)


def subjects():
    return subprocess.run(["git", "-C", evidence, "log", "--reverse", "--format=%s", "main"],
                          capture_output=True, text=True, check=True).stdout.splitlines()


rc, out, err = lethe("erase", "--subject", str(ids[0]), "--by", "Mallory Q; rm")
check(rc == 64 and "not a principal" in err, f"a --by that is no principal: 64 ({rc} {err.strip()})")
check(subprocess.run(["git", "-C", evidence, "rev-parse", "-q", "--verify", "main"],
                    capture_output=True).returncode != 0, "nothing was recorded")

rc, out, err = lethe("erase", "--subject", str(ids[0]), "--by", "cs-anna@shop.example")
equal(rc, 0, f"erase --by {err.strip()}")
backup = os.path.join(d, "backup.sqlite")
shutil.copyfile(db, backup)
rc, out, err = lethe("erase", "--subject", str(ids[1]))
equal(rc, 0, f"erase without --by {err.strip()}")
shutil.copyfile(backup, db)  # the restore brings the second customer back
rc, out, err = lethe("replay", "--by", "ops@shop.example", "--json")
equal(rc, 0, f"replay --by {err.strip()}")

recs = records(evidence)
intents = [r for r in recs if r["kind"] == "intent"]
equal([(r.get("by"), "replay_of" in r) for r in intents],
      [("cs-anna@shop.example", False), (me, False), ("ops@shop.example", True)],
      "each erasure's intent names who erased; the replay's who replayed")
check(all("by" not in r for r in recs if r["kind"] != "intent"), "completions carry no by")
subj = subjects()
want = [f"lethe: intent {intents[0]['seq']:08d} erasure {intents[0]['run_id']} by cs-anna@shop.example",
        f"lethe: intent {intents[1]['seq']:08d} erasure {intents[1]['run_id']} by {me}",
        f"lethe: intent {intents[2]['seq']:08d} replay {intents[2]['run_id']} by ops@shop.example"]
equal([s for s in subj if s.startswith("lethe: intent")], want, "intent subjects say who")
equal([s for s in subj if s.startswith("lethe: completion")],
      [f"lethe: completion {r['seq']:08d} {lab} {r['run_id']}" for r, lab in
       zip([r for r in recs if r["kind"] == "completion"], ["erasure", "erasure", "replay"])],
      "completion subjects are as before")
rc, out, err = lethe("verify")
equal(rc, 0, f"lethe verify passes {out.strip()} {err.strip()}")
signers = os.path.join(os.path.dirname(cfg), "keys", "allowed_signers")
p = subprocess.run(["git", "-C", evidence, "-c", "gpg.format=ssh", "-c",
                    f"gpg.ssh.allowedSignersFile={signers}", "verify-commit", "main~1"],
                   capture_output=True, text=True)
check(p.returncode == 0 and "Good" in p.stderr, f"git verify-commit of the replay's intent {p.stderr.strip()}")

out_dir = os.path.join(d, "report")
rc, out, err = lethe("report", "--html", out_dir)
equal(rc, 0, f"report --html {err.strip()}")
html = open(os.path.join(out_dir, "index.html")).read()
check("intent erasure, cs-anna@shop.example" in html and "intent replay, ops@shop.example" in html,
      "the report's commits name who erased and who replayed")
check("Answered by" in html and "<td>cs-anna@shop.example</td>" in html,
      "the report's requests name who answered the erasure request")

# Hand-signed histories.
RUN3 = "00112233445566778899aabbccddeeff"


def erasure(seq, msg, **fields):
    files = {"policies/10-a.yaml": b"rules: [a]\n"}
    return {"name": f"records/00000/{seq:08d}-intent.json", "msg": msg, "files": files,
            "record": record(seq, "intent", files, run_id=RUN3, as_of="2025-11-24",
                             database={"path": "/srv/shop.sqlite", "schema_sha256": sha(b"s")},
                             policy=[{"path": "policies/10-a.yaml", "sha256": sha(b"rules: [a]\n")}],
                             rules=[], request="erasure", subject="b" * 64, **fields)}


end = completion(6, RUN3, 5)
equal(verify(build(GOOD + [erasure(5, f"lethe: intent 00000005 erasure {RUN3}"), end]))[0], 0,
      "an earlier version's erasure intent verifies")
equal(verify(build(GOOD + [erasure(5, f"lethe: intent 00000005 erasure {RUN3} by ann", by="ann"),
                           end]))[0], 0, "an erasure intent naming who verifies")
expect_fail("a subject naming another than the record's by",
            build(GOOD + [erasure(5, f"lethe: intent 00000005 erasure {RUN3} by bob", by="ann"), end]),
            4, "does not name its record")
expect_fail("a subject leaving out the record's by",
            build(GOOD + [erasure(5, f"lethe: intent 00000005 erasure {RUN3}", by="ann"), end]),
            4, "does not name its record")
expect_fail("a subject naming someone the record does not",
            build(GOOD + [erasure(5, f"lethe: intent 00000005 erasure {RUN3} by bob"), end]),
            4, "does not name its record")
expect_fail("a by that is not a principal",
            build(GOOD + [erasure(5, f"lethe: intent 00000005 erasure {RUN3} by a b", by="a b"), end]),
            4, "is not a principal")
# a run finishing an erasure (completes): its subject says finish, not erasure
equal(verify(build(GOOD + [erasure(5, f"lethe: intent 00000005 finish {RUN3}", completes=1), end]))[0],
      0, "a finishing erasure's intent verifies")
expect_fail("a finishing erasure labelled as an erasure",
            build(GOOD + [erasure(5, f"lethe: intent 00000005 erasure {RUN3}", completes=1), end]),
            4, "does not name its record")
expect_fail("an erasure both replayed and finishing",
            build(GOOD + [erasure(5, f"lethe: intent 00000005 finish {RUN3}", completes=1, replay_of=1),
                          end]), 4, "not both")
expect_fail("a completes that is not a sequence number",
            build(GOOD + [erasure(5, f"lethe: intent 00000005 finish {RUN3}", completes="1"), end]),
            4, "completes")
finish()
