"""An approver's own key is usually protected by a passphrase. Lethe cannot
ask for the passphrase nor use ssh-agent, so `lethe approve --key` and
`lethe plan --out FILE --key` with such a key stop with exit 66 and a one-line
message naming the file, saying it is protected by a passphrase and what to
do; nothing is recorded and no plan file is written. The same person's key
without a passphrase then works (the refusal was about the passphrase)."""
import os
import subprocess
from lethe_e2e import check, equal, finish
from lethe_officer_e2e import Site

s = Site(customers=50, approval=True)
path = os.path.join(s.d, "carol")
subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "correct horse", "-C", "carol@example.org",
                "-f", path], check=True)
with open(path + ".pub") as f:
    kt, kb = f.read().split()[:2]
with open(s.signers, "a") as f:
    f.write(f'carol@example.org namespaces="lethe-approval,lethe-plan" {kt} {kb}\n')

rc, out, err = s.lethe("approve", "--key", path, "--reason", "reviewed, LEG-7")
equal(rc, 66, f"approve with a passphrase-protected key ({err.strip()})")
check(f"'{path}'" in err, "the message names the key file")
check("passphrase" in err and "ssh-keygen -t ed25519 -N ''" in err,
      "the message says why and what to do")
equal(len(err.strip().splitlines()), 1, "one line")
equal(len(s.records()), 0, "nothing was recorded")

plan = os.path.join(s.d, "plan.json")
rc, out, err = s.lethe("plan", "--out", plan, "--key", path)
equal(rc, 66, f"plan --out --key with a passphrase-protected key ({err.strip()})")
check(f"'{path}'" in err and "passphrase" in err, "the message names the key file and the passphrase")
check(not os.path.exists(plan), "no plan file was written")

# the same key without its passphrase is accepted: the refusal was about the passphrase
subprocess.run(["ssh-keygen", "-q", "-p", "-P", "correct horse", "-N", "", "-f", path], check=True,
               capture_output=True)
rc, out, err = s.lethe("approve", "--key", path, "--reason", "reviewed, LEG-7")
equal(rc, 0, f"approve with the key without a passphrase ({err.strip()})")
equal([r["kind"] for r in s.records()], ["approval"], "one approval recorded")
finish()
