"""Shared helpers for the compliance officer's end-to-end tests
(test_approval.py, test_plan_compare.py, test_plan_file.py): a site on the
reference shop with its own copy of the reference policies, approver keys
made with ssh-keygen, and evidence commits written with stock git plumbing
(to plant records lethe itself would refuse to write)."""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import time
from lethe_e2e import SOURCE, equal, run, tmpdir


def sh(*args, data=None, env=None, cwd=None):
    e = dict(os.environ, **(env or {}))
    p = subprocess.run(args, input=data, capture_output=True, env=e, cwd=cwd)
    if p.returncode != 0:
        raise RuntimeError(f"{args}: {p.stderr.decode()}")
    return p.stdout


class Site:
    """demo + init in a temporary folder; policies copied to DIR/policies."""

    def __init__(self, customers=300, approval=False):
        self.d = tmpdir()
        rc, _, err = run("demo", os.path.join(self.d, "shop"), "--customers", str(customers))
        equal(rc, 0, f"demo writes the register {err}")
        self.db = os.path.join(self.d, "shop", "shop.sqlite")
        self.policies = os.path.join(self.d, "policies")
        shutil.copytree(os.path.join(SOURCE, "policies"), self.policies)
        rc, _, err = run("init", os.path.join(self.d, "site"), "--database", self.db,
                         "--policies", self.policies)
        equal(rc, 0, f"init makes a site {err}")
        self.cfg = os.path.join(self.d, "site", "lethe.yaml")
        self.repo = os.path.join(self.d, "site", "evidence")
        self.signers = os.path.join(self.d, "site", "keys", "allowed_signers")
        self.signing_key = os.path.join(self.d, "site", "keys", "lethe_ed25519")
        if approval:
            with open(self.cfg, "a") as f:
                f.write("approval:\n  required: true\n")

    def lethe(self, *args):
        return run("-c", self.cfg, *args)

    def key(self, name, email, namespaces=None):
        """An approver's own key; listed in the allowed signers with namespaces."""
        path = os.path.join(self.d, name)
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", email, "-f", path)
        if namespaces:
            with open(path + ".pub") as f:
                kt, kb = f.read().split()[:2]
            with open(self.signers, "a") as f:
                f.write(f'{email} namespaces="{namespaces}" {kt} {kb}\n')
        return path

    def git(self, *args, data=None, env=None):
        return sh("git", "--git-dir", self.repo, *args, data=data, env=env)

    def records(self):
        """Every record of main, oldest first."""
        out = []
        if subprocess.run(["git", "--git-dir", self.repo, "rev-parse", "-q", "--verify", "main"],
                          capture_output=True).returncode != 0:
            return out
        for line in self.git("ls-tree", "-r", "--name-only", "main", "records").decode().split():
            out.append(json.loads(self.git("show", f"main:{line}")))
        return out

    def plant(self, kind, fields):
        """Commit a record of kind with fields after main's last, signed by the site's
        key with ssh-keygen, as lethe would but without its checks."""
        recs = self.records()
        seq = len(recs) + 1
        with open(self.signing_key + ".pub") as f:
            email = f.read().split()[2]
        rec = dict(lethe_evidence=1, kind=kind, seq=seq, tool="test", host="test",
                   at=fields.pop("at"), files=[], **fields)
        blob = self.git("hash-object", "-w", "--stdin",
                        data=json.dumps(rec, indent=2, sort_keys=True).encode()).decode().strip()
        index = os.path.join(self.d, "plant.index")
        env = {"GIT_INDEX_FILE": index}
        self.git("read-tree", "main", env=env)
        path = f"records/{seq // 1000:05d}/{seq:08d}-{kind}.json"
        self.git("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
        tree = self.git("write-tree", env=env).decode().strip()
        os.remove(index)
        head = self.git("rev-parse", "main").decode().strip()
        # not before the last commit, not after now (a run refuses a clock behind the evidence)
        t = max(int(self.git("log", "-1", "--format=%ct", "main").decode()), int(time.time()))
        text = (f"tree {tree}\nparent {head}\nauthor Lethe <{email}> {t} +0000\n"
                f"committer Lethe <{email}> {t} +0000\n\nlethe: {kind} {seq:08d}\n").encode()
        sig = sh("ssh-keygen", "-q", "-Y", "sign", "-n", "git", "-f", self.signing_key, data=text)
        head_part, body = text.split(b"\n\n", 1)
        gpgsig = "gpgsig " + "\n ".join(sig.decode().rstrip("\n").split("\n"))
        text = head_part + b"\n" + gpgsig.encode() + b"\n\n" + body
        oid = self.git("hash-object", "-t", "commit", "-w", "--stdin", data=text).decode().strip()
        self.git("update-ref", "refs/heads/main", oid)
        return seq

    def dump(self):
        con = sqlite3.connect(self.db)
        try:
            return {t: con.execute(f'SELECT * FROM "{t}" ORDER BY 1').fetchall()
                    for (t,) in con.execute("SELECT name FROM sqlite_schema WHERE type = 'table' "
                                            "AND name NOT LIKE 'lethe%' AND name NOT LIKE 'sqlite%'")}
        finally:
            con.close()


def policy_digest(folder):
    """The policy digest as docs/evidence-format.md defines it: sha256sum's lines."""
    lines = ""
    for name in sorted(n for n in os.listdir(folder) if n.endswith(".yaml")):
        with open(os.path.join(folder, name), "rb") as f:
            lines += f"{hashlib.sha256(f.read()).hexdigest()}  {name}\n"
    return hashlib.sha256(lines.encode()).hexdigest()


def approval_statement(digest, approver, reason, at):
    return (f"lethe approval 1\npolicy_digest {digest}\napprover {approver}\nreason {reason}\n"
            f"at {at}\n").encode()


def sign_approval(keyfile, statement):
    return sh("ssh-keygen", "-q", "-Y", "sign", "-n", "lethe-approval", "-f", keyfile,
              data=statement).decode()
