"""An approver whose key is protected by a passphrase approves through
ssh-agent: a real `ssh-agent` with the key added by `ssh-add` (the
passphrase given by SSH_ASKPASS), and `lethe approve --key KEY.pub` (the
public key file) asks the agent to sign.
- without an agent (SSH_AUTH_SOCK empty), or with an agent that does not
  hold the key, approve stops with 66 and a one-line message naming the
  file and saying what to do; nothing is recorded;
- the passphrase-protected private key given directly still gets its clear
  error (66), which now says to add it to ssh-agent and give the .pub file;
- with the key in the agent: exit 0, one approval record whose approver,
  fingerprint and signature are the key's (checked with ssh-keygen -Y
  verify on the approval statement), its commit subject names the approver
  and the reason, stock `git verify-commit` accepts the commit and `lethe
  verify` passes; the run then applies the approved set;
- a reason that names an e-mail address is refused (64): it would stay in
  the evidence and its commit subject for good;
- `plan --out FILE --key KEY.pub` signs a plan through the agent too
  (ssh-keygen -Y verify -n lethe-plan accepts it)."""
import json
import os
import subprocess
from lethe_e2e import check, equal, finish, run
from lethe_officer_e2e import Site, approval_statement

s = Site(customers=50, approval=True)
key = os.path.join(s.d, "carol")
PASS = "correct horse battery"
subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", PASS, "-C", "carol@example.org",
                "-f", key], check=True)
with open(key + ".pub") as f:
    kt, kb = f.read().split()[:2]
with open(s.signers, "a") as f:
    f.write(f'carol@example.org namespaces="lethe-approval,lethe-plan" {kt} {kb}\n')
REASON = "reviewed bookkeeping 10 to 6 years, LEG-7"


def lethe(*args, sock=""):
    return run("-c", s.cfg, *args, env={"SSH_AUTH_SOCK": sock, "SSH_AGENT_PID": ""})


rc, out, err = lethe("approve", "--key", key + ".pub", "--reason", REASON)
equal(rc, 66, f"a public key file without an agent ({err.strip()})")
check(f"'{key}.pub'" in err and "ssh-agent" in err and "SSH_AUTH_SOCK" in err,
      "the message names the file and says that ssh-agent is needed")
equal(len(err.strip().splitlines()), 1, "one line")

rc, out, err = lethe("approve", "--key", key, "--reason", REASON)
equal(rc, 66, f"the passphrase-protected private key itself ({err.strip()})")
check(f"'{key}'" in err and "passphrase" in err and f"ssh-add '{key}'" in err and
      f"'{key}.pub'" in err and "ssh-keygen -t ed25519 -N ''" in err,
      "the message suggests ssh-agent (ssh-add, the .pub file) or a key without a passphrase")
equal(len(err.strip().splitlines()), 1, "one line")
equal(len(s.records()), 0, "nothing was recorded")

# a real agent, started here and stopped by its pid at the end
agent = subprocess.run(["ssh-agent", "-s", "-a", os.path.join(s.d, "agent.sock")],
                       capture_output=True, text=True, check=True).stdout
sock = agent.split("SSH_AUTH_SOCK=")[1].split(";")[0]
pid = int(agent.split("SSH_AGENT_PID=")[1].split(";")[0])
try:
    rc, out, err = lethe("approve", "--key", key + ".pub", "--reason", REASON, sock=sock)
    equal(rc, 66, f"an agent without the key ({err.strip()})")
    check("does not hold" in err and "ssh-add" in err and f"'{key}.pub'" in err,
          "the message says the agent does not hold the key")
    equal(len(s.records()), 0, "nothing was recorded")

    askpass = os.path.join(s.d, "askpass")
    with open(askpass, "w") as f:
        f.write(f"#!/bin/sh\necho '{PASS}'\n")
    os.chmod(askpass, 0o700)
    p = subprocess.run(["ssh-add", key], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                       env=dict(os.environ, SSH_AUTH_SOCK=sock, SSH_ASKPASS=askpass,
                                SSH_ASKPASS_REQUIRE="force", DISPLAY=":0"))
    equal(p.returncode, 0, f"ssh-add of the passphrase-protected key {p.stderr.strip()}")

    rc, out, err = lethe("approve", "--key", key + ".pub", "--reason",
                         "as asked by matti.virtanen@example.org, LEG-8", sock=sock)
    check(rc == 64 and "'matti.virtanen@example.org'" in err and "evidence" in err,
          f"a reason naming an e-mail address is refused: it would stay in the evidence ({rc} {err.strip()})")
    equal(len(s.records()), 0, "nothing was recorded")

    rc, out, err = lethe("approve", "--key", key + ".pub", "--reason", REASON, "--json",
                         sock=sock)
    equal(rc, 0, f"approve --key KEY.pub signs through the agent ({err.strip()})")
    recs = s.records()
    equal([r["kind"] for r in recs], ["approval"], "one approval recorded")
    a = recs[0]
    equal((a["approver"], a["reason"]), ("carol@example.org", REASON), "approver and reason")
    fp = subprocess.run(["ssh-keygen", "-l", "-f", key + ".pub"], capture_output=True, text=True,
                        check=True).stdout.split()[1]
    equal(a["key"], fp, "the record names the key's fingerprint")
    stmt = approval_statement(a["policy_digest"], a["approver"], a["reason"], a["at"])
    sigfile = os.path.join(s.d, "approval.sig")
    with open(sigfile, "w") as f:
        f.write(a["signature"])
    p = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", s.signers, "-I", "carol@example.org",
                        "-n", "lethe-approval", "-s", sigfile], input=stmt, capture_output=True)
    equal(p.returncode, 0, f"ssh-keygen -Y verify accepts the agent's signature {p.stderr!r}")

    subject = s.git("log", "-1", "--format=%s", "main").decode().strip()
    equal(subject, f"lethe: approval 00000001 by carol@example.org: {REASON}",
          "the commit subject names the approver and the reason")
    p = subprocess.run(["git", "--git-dir", s.repo, "-c", "gpg.format=ssh", "-c",
                        f"gpg.ssh.allowedSignersFile={s.signers}", "verify-commit", "main"],
                       capture_output=True, text=True)
    check(p.returncode == 0 and "Good" in p.stderr, f"git verify-commit accepts it {p.stderr.strip()}")
    rc, out, err = lethe("verify", sock=sock)
    equal(rc, 0, f"lethe verify passes {out.strip()} {err.strip()}")
    rc, out, err = lethe("run", "--json", sock=sock)
    equal(rc, 0, f"run applies the approved set {err.strip()}")
    intent = [r for r in s.records() if r["kind"] == "intent"]
    check(intent and intent[0].get("approval") == 1, "the run's intent relies on the approval")

    plan = os.path.join(s.d, "plan.json")
    rc, out, err = lethe("plan", "--out", plan, "--key", key + ".pub", sock=sock)
    equal(rc, 0, f"plan --out --key KEY.pub through the agent ({err.strip()})")
    data = open(plan, "rb").read()
    cut = data.index(b"-----BEGIN SSH SIGNATURE-----")
    with open(sigfile, "wb") as f:
        f.write(data[cut:])
    p = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", s.signers, "-I", "carol@example.org",
                        "-n", "lethe-plan", "-s", sigfile], input=data[:cut], capture_output=True)
    equal(p.returncode, 0, f"the plan's signature is carol's {p.stderr!r}")
    json.loads(data[:cut])
finally:
    os.kill(pid, 15)
finish()
