"""`lethe access --by PRINCIPAL` names who answered an access request: the
export record carries `by` and its commit subject ends " by PRINCIPAL";
`lethe verify` accepts it, and rejects a record whose `by` is not a
principal or whose subject names someone else. Without --by the record and
subject are as before (old records keep verifying). A --by that is not a
principal (a space, too long) is a usage error before anything is exported
or recorded."""
import os
from lethe_e2e import check, equal, finish
from lethe_officer_e2e import Site

s = Site(customers=50)


def subject_of(seq):
    return s.git("log", "-1", "--format=%s", "main").decode().strip()


out1 = os.path.join(s.d, "a1.zip")
rc, out, err = s.lethe("access", "--subject", "12", "--output", out1, "--by", "cs.anna@shop.example")
equal(rc, 0, f"access --by ({err.strip()})")
recs = s.records()
equal([r["kind"] for r in recs], ["export"], "one export record")
equal(recs[-1].get("by"), "cs.anna@shop.example", "the record names who answered")
equal(subject_of(recs[-1]["seq"]), f"lethe: export {recs[-1]['seq']:08d} by cs.anna@shop.example",
      "the commit subject names who answered")

out2 = os.path.join(s.d, "a2.zip")
rc, out, err = s.lethe("access", "--subject", "13", "--output", out2)
equal(rc, 0, f"access without --by ({err.strip()})")
recs = s.records()
check("by" not in recs[-1], "without --by the record has no 'by'")
equal(subject_of(recs[-1]["seq"]), f"lethe: export {recs[-1]['seq']:08d}", "and the subject is as before")
rc, out, err = s.lethe("verify")
equal(rc, 0, f"verify accepts exports with and without 'by' ({out.strip()} {err.strip()})")

for bad in ("anna smith", "x" * 65, ""):
    path = os.path.join(s.d, "bad.zip")
    rc, out, err = s.lethe("access", "--subject", "14", "--output", path, "--by", bad)
    equal(rc, 64, f"--by '{bad[:10]}' is a usage error ({err.strip()})")
    check(not os.path.exists(path), "nothing exported")
equal(len(s.records()), 2, "nothing recorded for the refused --by")

# a signed export record whose `by` is not a principal: verify rejects it, naming the field
first = s.records()[0]
fields = {k: v for k, v in first.items() if k not in ("kind", "seq", "files", "lethe_evidence", "tool", "host")}
fields["by"] = "anna smith"
s.plant("export", fields)
rc, out, err = s.lethe("verify")
check(rc != 0, "verify rejects an export whose 'by' is not a principal")
check("'by' is not a principal" in out + err, f"and says so ({(out + err).strip()[-200:]})")
finish()
