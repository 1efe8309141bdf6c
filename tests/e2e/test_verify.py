"""lethe verify on evidence repositories written with stock git plumbing and
signed with ssh-keygen (not with lethe's own code): a good history verifies;
every case of the tamper matrix exits 1 naming the first bad commit and the
damage; and stock git verify-commit and ssh-keygen -Y verify agree with lethe
on good and damaged commits."""
import json
import os
import subprocess
from lethe_e2e import check, equal, finish, run
from lethe_verify_e2e import (EMAIL, GOOD, RUN1, T0, build, d, expect_fail, intent, key, other,
                              sha, signers, verify)


def tampered(steps, i, field, old, new):
    """A copy of steps where one byte of steps[i][field] (the record, or a file) changed."""
    out = [dict(s, files=dict(s["files"])) for s in steps]
    if field == "record":
        assert old in out[i]["record"]
        out[i]["record"] = out[i]["record"].replace(old, new, 1)
    else:
        assert old in out[i]["files"][field]
        out[i]["files"][field] = out[i]["files"][field].replace(old, new, 1)
    return out


# --- a good history --------------------------------------------------------
good = build(GOOD)
rc, out, err = verify(good)
equal((rc, out), (0, f"ok: 4 commits, 4 records verified; head 00000004 {good.head}\n"),
      "the good history verifies and names its head")
rc, out, err = verify(good, "--json")
equal(json.loads(out) if rc == 0 else err, {"ok": True, "commits": 4, "records": 4,
                                            "bad_commit": None, "seq": None, "reason": None,
                                            "head": good.head, "head_seq": 4},
      "--json on the good history")

# stock git and OpenSSH accept lethe-format commits made without lethe
gitcfg = ["-c", "gpg.format=ssh", "-c", f"gpg.ssh.allowedSignersFile={signers}"]
for oid in good.oids:
    p = subprocess.run(["git", "--git-dir", good.path, *gitcfg, "verify-commit", oid],
                       capture_output=True)
    equal(p.returncode, 0, f"git verify-commit accepts good commit {oid[:12]}")


def split_signature(repo, oid):
    raw = repo.git("cat-file", "commit", oid).decode()
    head, body = raw.split("\n\n", 1)
    lines, sig, payload, in_sig = head.split("\n"), [], [], False
    for line in lines:
        if line.startswith("gpgsig "):
            in_sig = True
            sig.append(line[len("gpgsig "):])
        elif in_sig and line.startswith(" "):
            sig.append(line[1:])
        else:
            in_sig = False
            payload.append(line)
    return "\n".join(sig) + "\n", ("\n".join(payload) + "\n\n" + body).encode()


def ssh_verify(sig, payload):
    sigfile = os.path.join(d, "commit.sig")
    with open(sigfile, "w") as f:
        f.write(sig)
    return subprocess.run(["ssh-keygen", "-Y", "verify", "-f", signers, "-I", EMAIL, "-n", "git",
                           "-s", sigfile], input=payload, capture_output=True).returncode


sig, payload = split_signature(good, good.oids[1])
equal(ssh_verify(sig, payload), 0, "ssh-keygen -Y verify accepts a signature taken from a commit")
equal(ssh_verify(sig, payload.replace(b"completion", b"complet1on", 1)) != 0, True,
      "ssh-keygen -Y verify rejects the payload with one byte changed")

# --- the tamper matrix -----------------------------------------------------
digest_sha = sha(GOOD[1]["files"][f"runs/{RUN1[:2]}/{RUN1}/digests/old-orders.txt"]).encode()
expect_fail("a record's files sha changed by one byte, re-signed",
            build(tampered(GOOD, 1, "record", digest_sha,
                           (b"0" if digest_sha[:1] != b"0" else b"1") + digest_sha[1:])), 1,
            f"sha256 of 'runs/{RUN1[:2]}/{RUN1}/digests/old-orders.txt' does not match")

# one byte of the last record changed and the old signature kept
unsigned = build(GOOD[:3])
unsigned.commit(GOOD[3], T0 + 180)
sig4 = split_signature(unsigned, unsigned.oids[3])[0]
unsigned.oids.pop()
unsigned.tree = {}
unsigned.head = unsigned.oids[2]
for s in GOOD[:3]:
    unsigned.tree.update(s["files"])
    unsigned.tree[s["name"]] = s["record"]
changed = tampered(GOOD, 3, "record", b'"host": "test"', b'"host": "tesT"')[3]
bad = unsigned.commit(changed, T0 + 180, keep_sig="gpgsig " + "\n ".join(sig4.rstrip("\n").split("\n")))
expect_fail("a record changed by one byte, not re-signed", unsigned, 3, "signature does not verify")
p = subprocess.run(["git", "--git-dir", unsigned.path, *gitcfg, "verify-commit", bad],
                   capture_output=True)
check(p.returncode != 0, "git verify-commit rejects the commit changed by one byte")
sig, payload = split_signature(unsigned, bad)
check(ssh_verify(sig, payload) != 0, "ssh-keygen -Y verify rejects the commit changed by one byte")

DIGESTS = f"runs/{RUN1[:2]}/{RUN1}/digests/old-orders.txt"
first = GOOD[1]["files"][DIGESTS][:1]
expect_fail("a digest file changed by one byte",
            build(tampered(GOOD, 1, DIGESTS, first, b"e" if first == b"f" else b"f")), 1,
            f"sha256 of '{DIGESTS}' does not match")
expect_fail("a policy file changed by one byte",
            build(tampered(GOOD, 2, "policies/10-a.yaml", b"b", b"c")), 2,
            "sha256 of 'policies/10-a.yaml' does not match")
expect_fail("a commit removed from the middle", build([GOOD[0], GOOD[2], GOOD[3]]), 1,
            "is not number 00000002")
expect_fail("history re-signed with a key not allowed", build(GOOD, keyfile=other), 0,
            "which is not an allowed signer for 'lethe@test'")

appended = build(GOOD)
appended.commit(intent(5, "5" * 32, b"rules: [a, b]\n"), T0 + 600, signed=False)
expect_fail("an unsigned commit appended", appended, 4, "not signed")

mallory = build(GOOD[:3])
mallory.commit(GOOD[3], T0 + 180, email="mallory@test")
expect_fail("an allowed key signing for another committer", mallory, 3,
            "not an allowed signer for 'mallory@test'")

expect_fail("two commits swapped, times with them",
            build([GOOD[0], GOOD[1], GOOD[3], GOOD[2]], times=[T0, T0 + 60, T0 + 180, T0 + 120]),
            2, "is not number 00000003")
expect_fail("committer time going backwards",
            build(GOOD, times=[T0, T0 + 60, T0 + 30, T0 + 90]), 2,
            "earlier than the previous commit's")
expect_fail("two commits swapped, times in order",
            build([GOOD[0], GOOD[1], GOOD[3], GOOD[2]]), 2, "is not number 00000003")

rc, out, err = verify(mallory, "--json")
j = json.loads(out) if out else {}
equal((rc, j.get("ok"), j.get("commits"), j.get("bad_commit"), j.get("seq")),
      (1, False, 3, mallory.oids[3], None), "--json names the bad commit")

# --- errors and the configuration ------------------------------------------
equal(run("verify", "--allowed-signers", signers, os.path.join(d, "nowhere"))[0], 66,
      "a missing repository exits 66")
equal(run("verify", "--allowed-signers", signers, d)[0], 65, "a folder that is not git exits 65")
equal(run("verify", "--allowed-signers")[0], 64, "--allowed-signers without a file exits 64")
cfg = os.path.join(d, "lethe.yaml")
with open(cfg, "w") as f:
    f.write(f"database: {d}/shop.sqlite\npolicies: {d}\nevidence:\n  repository: {good.path}\n"
            f"  allowed_signers: {signers}\n")
rc, out, err = run("-c", cfg, "verify")
equal((rc, out, err), (0, f"ok: 4 commits, 4 records verified; head 00000004 {good.head}\n", ""),
      "verify takes the repository and signers from lethe.yaml")
finish()
