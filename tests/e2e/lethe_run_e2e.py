"""Helpers for the end-to-end tests of `lethe run`: a pseudonym key, the
expected token of a value computed independently (Python's hashlib, as
lethe/token.h specifies: keyed BLAKE2b-128, personal "lethe-token-v1"), a
dump of every table, and a configuration with a key and limits."""
import hashlib
import json
import os
import sqlite3

from lethe_e2e import check, run, write

TOKEN_PERSON = b"lethe-token-v1"


def make_key(dirpath):
    """32 random bytes in dirpath/keys/pseudonym.key, mode 0600; returns (path, bytes)."""
    key = os.urandom(32)
    path = os.path.join(dirpath, "keys", "pseudonym.key")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, key)
    os.close(fd)
    os.chmod(path, 0o600)
    return path, key


def token(key, value):
    """The token lethe must write for a non-NULL value (numbers by their decimal text)."""
    data = value if isinstance(value, bytes) else str(value).encode()
    return "tok_" + hashlib.blake2b(data, key=key, person=TOKEN_PERSON, digest_size=16).hexdigest()


TOKEN_ROW_PERSON = b"lethe-tokrow-v1"


def token_row(key, value, row_key):
    """The token lethe must write for a non-NULL value of a UNIQUE column: the
    value's length (8 bytes little-endian), the value, the row key's type letter
    and text (lethe/token.h, lethe_token_row)."""
    data = value if isinstance(value, bytes) else str(value).encode()
    if isinstance(row_key, bytes):
        tag, rk = b"b", row_key
    elif isinstance(row_key, int):
        tag, rk = b"i", str(row_key).encode()
    elif isinstance(row_key, float):
        tag, rk = b"r", ("%.17g" % row_key).encode()
    else:
        tag, rk = b"t", row_key.encode()
    h = hashlib.blake2b(key=key, person=TOKEN_ROW_PERSON, digest_size=16)
    h.update(len(data).to_bytes(8, "little") + data + tag + rk)
    return "tok_" + h.hexdigest()


_sites = [0]


def config(dirpath, database, policies, key_path=None, max_rows=None, no_key=False):
    """A lethe.yaml for a recording run: a site made by `lethe init` (signing key,
    evidence repository) in a fresh folder of dirpath, with the given pseudonym
    key (default: the site's own; none with no_key) and limits."""
    _sites[0] += 1
    site = os.path.join(dirpath, f"site{_sites[0]}")
    rc, out, err = run("init", site, "--database", database, "--policies", policies)
    assert rc == 0, err
    if key_path is None and not no_key:
        key_path = os.path.join(site, "keys", "pseudonym.key")
    path = os.path.join(dirpath, "lethe.yaml")
    text = f"database: {database}\npolicies: {policies}\n"
    if key_path:
        text += f"pseudonym_key: {key_path}\n"
    text += (f"evidence:\n  repository: {site}/evidence\n  signing_key: {site}/keys/lethe_ed25519\n"
             f"  allowed_signers: {site}/keys/allowed_signers\n")
    if max_rows is not None:
        text += f"limits:\n  max_rows_per_rule: {max_rows}\n"
    write(path, text)
    return path


def dump(db, evidence_head=False):
    """Every table's rows, in a stable order: a change to any stored value shows.
    lethe_evidence_head, where every record lethe writes is remembered (also by
    a run that disposes of nothing), is left out unless evidence_head is true."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return "\n".join(line for line in con.iterdump()
                         if evidence_head or "lethe_evidence_head" not in line)
    finally:
        con.close()


def rows(db, table, key="id"):
    """{key: row as a dict} of a table, read read-only."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        return {r[key]: dict(r) for r in con.execute(f'SELECT * FROM "{table}"')}
    finally:
        con.close()


def run_json(cfg, *args, env=None):
    """lethe run --json ARGS: (exit status, {rule name: object} or {}, stderr)."""
    rc, out, err = run("-c", cfg, "run", *args, "--json", env=env)
    try:
        obj = json.loads(out)
    except ValueError:
        return rc, {}, err
    return rc, {r["name"]: r for r in obj.get("rules", [])}, err


def plan_rules(cfg, as_of):
    rc, out, err = run("-c", cfg, "plan", "--as-of", as_of, "--json")
    check(rc == 0, f"plan --as-of {as_of} exits 0 (got {rc}) {err.strip()}")
    return {r["name"]: r for r in json.loads(out)["rules"]} if rc == 0 else {}


def evidence_records(cfg):
    """Every record of the evidence repository named in config file cfg, in commit order."""
    import subprocess
    with open(cfg) as f:
        repo = next(l.split(":", 1)[1].strip() for l in f if l.strip().startswith("repository:"))

    def git(*a):
        return subprocess.run(["git", "-C", repo, *a], capture_output=True, text=True).stdout
    out = []
    for rev in git("rev-list", "--reverse", "main").split():
        for p in git("diff-tree", "--no-commit-id", "--name-only", "-r", "--root", rev).split():
            if p.startswith("records/"):
                out.append(json.loads(git("show", f"{rev}:{p}")))
    return out


def same_set(got, want, what):
    """Set equality that names the difference, not the whole sets."""
    got, want = set(got), set(want)
    missing, extra = sorted(want - got)[:10], sorted(got - want)[:10]
    check(got == want, f"{what} ({len(want)} expected)" +
          (f": missing {missing}, unexpected {extra}" if got != want else ""))
