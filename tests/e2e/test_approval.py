"""Approvals (issue 15): on a site with `approval: {required: true}`, `lethe run`
applies only a policy set that a person approved with their own key, listed as an
approver in the allowed signers; it refuses anything else with exit 78, saying what
changed, and disposes of nothing. A forged approval (signed by a key that is no
approver) is refused by run and rejected by verify. Without the setting, nothing
changes (the rest of the suite)."""
import hashlib
import os
import subprocess
import tempfile
from lethe_e2e import check, equal, finish
from lethe_officer_e2e import Site, approval_statement, policy_digest, sign_approval

s = Site(customers=300, approval=True)
alice = s.key("alice", "alice@example.org", namespaces="lethe-approval")
mallory = s.key("mallory", "mallory@example.org", namespaces="git")
before = s.dump()

# nothing approved yet: refused, nothing disposed, nothing recorded
rc, out, err = s.lethe("run")
equal(rc, 78, f"run refuses an unapproved policy set ({err.strip()})")
check("no policy set was approved" in err, "the refusal says nothing was approved yet")
check(s.dump() == before, "the register is unchanged after the refusal")
equal(len(s.records()), 0, "nothing was recorded")

# a key that is no approver (listed for git only) cannot approve
rc, out, err = s.lethe("approve", "--key", mallory, "--reason", "looks fine")
equal(rc, 77, f"approve with a key that is no approver ({err.strip()})")
check("not an approver" in err, "the refusal says the key is not an approver")
rc, out, err = s.lethe("approve", "--key", alice, "--reason", "two\nlines")
equal(rc, 64, "a reason of two lines is refused")
equal(len(s.records()), 0, "neither refusal was recorded")

# alice approves: a signed record naming her, her key and the reason
rc, out, err = s.lethe("approve", "--key", alice, "--reason", "reviewed with legal, LEG-42")
equal(rc, 0, f"alice approves ({err.strip()})")
recs = s.records()
equal([r["kind"] for r in recs], ["approval"], "one approval record")
a = recs[0]
equal(a["approver"], "alice@example.org", "the record names the approver")
equal(a["reason"], "reviewed with legal, LEG-42", "the record carries the reason")
equal(a["policy_digest"], policy_digest(s.policies), "the digest is sha256sum's of the policy folder")
check(a["key"].startswith("SHA256:"), "the record carries the key's fingerprint")
check(a["signature"].startswith("-----BEGIN SSH SIGNATURE-----"), "the approver's signature is inside")
# stock OpenSSH accepts the approver's signature of the statement
with tempfile.NamedTemporaryFile("w", delete=False) as f:
    f.write(a["signature"])
p = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", s.signers, "-I", "alice@example.org",
                    "-n", "lethe-approval", "-s", f.name],
                   input=approval_statement(a["policy_digest"], a["approver"], a["reason"], a["at"]),
                   capture_output=True)
os.unlink(f.name)
equal(p.returncode, 0, f"ssh-keygen -Y verify accepts the approval ({p.stdout.decode().strip()})")

# approved: the run goes ahead and its intent names the approval
rc, out, err = s.lethe("run")
equal(rc, 0, f"run with the approved policy set ({err.strip()[-200:]})")
check(s.dump() != before, "the run disposed of rows")
intent = [r for r in s.records() if r["kind"] == "intent"][-1]
equal(intent.get("approval"), a["seq"], "the intent names the approval it relied on")
rc, out, err = s.lethe("verify")
equal(rc, 0, f"verify accepts approvals and the intent ({out.strip()} {err.strip()})")

# an edit after the approval: refused, saying which file changed
path = os.path.join(s.policies, "10-bookkeeping.yaml")
with open(path) as f:
    text = f.read()
with open(path, "w") as f:
    f.write(text.replace("retain: 10 years", "retain: 6 years"))
after_run = s.dump()
n = len(s.records())
rc, out, err = s.lethe("run")
equal(rc, 78, "run refuses the edited policy set")
check("changed 10-bookkeeping.yaml" in err and "alice@example.org" in err,
      f"the refusal says what changed and who approved what ({err.strip()})")
check(s.dump() == after_run, "nothing was disposed of by the refused run")
equal(len(s.records()), n, "the refused run recorded nothing")
# a new file is named as added
with open(os.path.join(s.policies, "60-extra.yaml"), "w") as f:
    f.write("lethe: 1\nrules: []\n")
rc, out, err = s.lethe("run")
check(rc == 78 and "added 60-extra.yaml" in err, f"an added file is named ({err.strip()})")
os.unlink(os.path.join(s.policies, "60-extra.yaml"))

# a forged approval of the edited set: signed by mallory (no approver), claiming alice
digest = policy_digest(s.policies)
at = max(r["at"] for r in s.records())
policy = [{"path": f"policies/{n}", "sha256": hashlib.sha256(open(os.path.join(s.policies, n), "rb").read()).hexdigest()}
          for n in sorted(os.listdir(s.policies)) if n.endswith(".yaml")]
stmt = approval_statement(digest, "alice@example.org", "forged", at)
fp = a["key"]
s.plant("approval", dict(at=at, policy_digest=digest, policy=policy, approver="alice@example.org",
                         key=fp, reason="forged", signature=sign_approval(mallory, stmt)))
rc, out, err = s.lethe("run")
equal(rc, 78, f"run refuses a forged approval ({err.strip()})")
check("not valid" in err, "the refusal says the approval is not valid")
check(s.dump() == after_run, "nothing was disposed of under the forged approval")
rc, out, err = s.lethe("verify")
equal(rc, 1, "verify rejects the forged approval")
check("approval" in out + err, f"verify names the approval record ({(out + err).strip()[:300]})")

# the approval key in lethe.yaml is checked like every other
with open(s.cfg) as f:
    text = f.read()
for bad, words in (("approval:\n  required: yes\n", "'required' must be true or false"),
                   ("approval:\n  needed: true\n", "needed"),
                   ("approval: true\n", "'approval': expected a mapping"),
                   ("approval:\n  plan_above: 0\n", "'plan_above' must be a positive integer")):
    with open(s.cfg, "w") as f:
        f.write(text.replace("approval:\n  required: true\n", bad))
    rc, out, err = s.lethe("check")
    check(rc == 78 and words in err and "lethe.yaml:" in err,
          f"a bad approval key is a configuration fault naming the line ({rc}, {err.strip()[:200]})")
finish()
