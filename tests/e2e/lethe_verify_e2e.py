"""Evidence repositories written with stock git plumbing and signed with
ssh-keygen, not with lethe's own code, for the verifier's end-to-end tests
(test_verify.py, test_verify_hostile.py): records of the format, a Repo
that commits them, and lethe verify on it."""
import hashlib
import json
import os
import subprocess
from lethe_e2e import check, equal, run, tmpdir

d = tmpdir()
EMAIL = "lethe@test"
RUN1 = "0123456789abcdef0123456789abcdef"
RUN2 = "fedcba9876543210fedcba9876543210"
T0 = 1764000000


def sh(*args, data=None, env=None):
    e = dict(os.environ, **(env or {}))
    p = subprocess.run(args, input=data, capture_output=True, env=e)
    if p.returncode != 0:
        raise RuntimeError(f"{args}: {p.stderr.decode()}")
    return p.stdout


def keygen(name, comment):
    path = os.path.join(d, name)
    sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path)
    return path


key = keygen("lethe_ed25519", EMAIL)
other = keygen("other_ed25519", EMAIL)
signers = os.path.join(d, "allowed_signers")
with open(key + ".pub") as f:
    kt, kb = f.read().split()[:2]
with open(signers, "w") as f:
    f.write(f'{EMAIL} namespaces="git" {kt} {kb}\n')


def sha(b):
    return hashlib.sha256(b).hexdigest()


def record(seq, kind, files, **fields):
    rec = {"lethe_evidence": 1, "kind": kind, "seq": seq, "tool": "lethe 0.1.0", "host": "test",
           "at": "2025-11-24T16:00:00Z",
           "files": [{"path": p, "sha256": sha(b)} for p, b in files.items()]}
    rec.update(fields)
    return json.dumps(rec, indent=2).encode()


def rules(count_name, n, digests=False, run_id=None):
    r = {"name": "old-orders", "table": "orders", "action": "delete", "basis": "bookkeeping",
         "in_scope": n + 5, count_name: n, "not_due": 5, "not_started": 0, "invalid": 0,
         "held": 0, "blocked": 0}
    if digests:
        r["digests"] = {"path": f"runs/{run_id[:2]}/{run_id}/digests/old-orders.txt", "count": n}
    return [r]


def intent(seq, run_id, policy):
    files = {"policies/10-a.yaml": policy}
    return {"name": f"records/{seq // 1000:05d}/{seq:08d}-intent.json", "msg": f"lethe: intent {seq:08d} {run_id}",
            "files": files,
            "record": record(seq, "intent", files, run_id=run_id, as_of="2025-11-24",
                             database={"path": "/srv/shop.sqlite", "schema_sha256": sha(b"s")},
                             policy=[{"path": "policies/10-a.yaml", "sha256": sha(policy)}],
                             rules=rules("due", 3))}


def completion(seq, run_id, intent_seq):
    digests = b"".join(hashlib.sha256(bytes([i])).hexdigest().encode() + b"\n" for i in range(3))
    digests = b"".join(sorted(digests.splitlines(keepends=True)))
    files = {f"runs/{run_id[:2]}/{run_id}/digests/old-orders.txt": digests}
    return {"name": f"records/{seq // 1000:05d}/{seq:08d}-completion.json",
            "msg": f"lethe: completion {seq:08d} {run_id}", "files": files,
            "record": record(seq, "completion", files, run_id=run_id, intent_seq=intent_seq,
                             as_of="2025-11-24", started_at="2025-11-24T16:00:00Z",
                             ended_at="2025-11-24T16:00:05Z", result="completed",
                             rules=rules("disposed", 3, True, run_id), warnings=[])}


GOOD = [intent(1, RUN1, b"rules: [a]\n"), completion(2, RUN1, 1),
        intent(3, RUN2, b"rules: [a, b]\n"), completion(4, RUN2, 3)]


def sign(text, keyfile):
    sig = sh("ssh-keygen", "-q", "-Y", "sign", "-n", "git", "-f", keyfile, data=text)
    lines = sig.decode().rstrip("\n").split("\n")
    return "gpgsig " + "\n ".join(lines) + "\n"


def with_sig(text, sig):
    """Insert the gpgsig header after the committer line."""
    head, body = text.split(b"\n\n", 1)
    return head + b"\n" + sig.encode().rstrip(b"\n") + b"\n\n" + body


class Repo:
    count = 0

    def __init__(self):
        Repo.count += 1
        self.path = os.path.join(d, f"repo{Repo.count}.git")
        sh("git", "init", "-q", "--bare", "-b", "main", self.path)
        self.tree = {}
        self.head = None
        self.oids = []

    def git(self, *args, data=None, env=None):
        return sh("git", "--git-dir", self.path, *args, data=data, env=env)

    def write_tree(self):
        index = os.path.join(d, "index.tmp")
        if os.path.exists(index):
            os.remove(index)
        lines = []
        for p, b in sorted(self.tree.items()):
            oid = self.git("hash-object", "-w", "--stdin", data=b).decode().strip()
            lines.append(f"100644 blob {oid}\t{p}\n")
        env = {"GIT_INDEX_FILE": index}
        self.git("update-index", "--add", "--index-info", data="".join(lines).encode(), env=env)
        return self.git("write-tree", env=env).decode().strip()

    def commit(self, step, t, keyfile=key, email=EMAIL, signed=True, keep_sig=None):
        """Add the step's files and record; a signed commit unless told otherwise.
        keep_sig: a gpgsig header to reuse (a commit changed without re-signing)."""
        self.tree.update(step["files"])
        self.tree[step["name"]] = step["record"]
        text = f"tree {self.write_tree()}\n"
        if self.head:
            text += f"parent {self.head}\n"
        text = (text + f"author Lethe <{email}> {t} +0000\ncommitter Lethe <{email}> {t} +0000\n\n"
                f"{step['msg']}\n").encode()
        if keep_sig is not None:
            text = with_sig(text, keep_sig)
        elif signed:
            text = with_sig(text, sign(text, keyfile))
        oid = self.git("hash-object", "-t", "commit", "-w", "--stdin", data=text).decode().strip()
        self.git("update-ref", "refs/heads/main", oid)
        self.head = oid
        self.oids.append(oid)
        return oid


def build(steps, times=None, **kw):
    r = Repo()
    for i, s in enumerate(steps):
        r.commit(s, (times or [T0 + 60 * j for j in range(len(steps))])[i], **kw)
    return r


def verify(repo, *extra):
    return run("verify", "--allowed-signers", signers, *extra, repo.path)


def expect_fail(what, repo, bad_index, reason):
    rc, out, err = verify(repo)
    equal(rc, 1, f"{what}: exit status")
    check(out.startswith(f"FAIL: commit {repo.oids[bad_index][:12]}:"),
          f"{what}: names commit {bad_index + 1} ({out.strip()!r} {err.strip()!r})")
    check(reason in out, f"{what}: the reason says {reason!r}")
