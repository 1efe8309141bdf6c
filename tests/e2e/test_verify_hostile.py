"""lethe verify against hostile copies of good evidence (issue 11): replace
refs and grafts in the auditor's mirror make stock git show a forged record
or hide one with good signatures, and lethe verify fails naming them (so
does the stock-git recipe of docs/auditor-guide.md, run as written); a
signed commit that rewrites an earlier run's digest file fails; a
repository without main fails; a record time after its commit fails; a
subject that does not name its record fails; a main reset back four commits
verifies but --expect-at-least and --expect-head catch it."""
import json
import os
import re
import shutil
import subprocess
from lethe_e2e import SOURCE, check, equal, finish, run
from lethe_verify_e2e import (GOOD, RUN1, T0, build, completion, d, intent, record, sh, sha,
                              signers, verify)

RUN3 = "3" * 32
RUN4 = "4" * 32
EIGHT = GOOD + [intent(5, RUN3, b"rules: [a, b]\n"), completion(6, RUN3, 5),
                intent(7, RUN4, b"rules: [a, b]\n"), completion(8, RUN4, 7)]


def git(repo_path, *args, data=None):
    return sh("git", "--git-dir", repo_path, *args, data=data).decode()


def mirror(repo, name):
    """The auditor's `git clone --mirror` of repo, with allowed_signers beside it."""
    folder = os.path.join(d, name)
    os.makedirs(folder)
    sh("git", "clone", "-q", "--mirror", repo.path, os.path.join(folder, "evidence.git"))
    shutil.copy(signers, os.path.join(folder, "allowed_signers"))
    return folder


def lethe_verify(folder, *extra):
    return run("verify", "--allowed-signers", signers, *extra, os.path.join(folder, "evidence.git"))


def recipe():
    """The stock-git recipe of the auditor's guide: the one sh block after its marker."""
    with open(os.path.join(SOURCE, "docs", "auditor-guide.md")) as f:
        text = f.read()
    m = re.search(r"<!-- The block below is run as written by tests/e2e/test_verify_hostile.py.*?-->\n"
                  r"```sh\n(.*?)```", text, re.S)
    check(m is not None, "the auditor's guide has the tested stock-git recipe")
    return m.group(1) if m else "echo 'BAD: no recipe'"


RECIPE = recipe()


def run_recipe(folder):
    p = subprocess.run(["sh", "-c", RECIPE], cwd=folder, capture_output=True, text=True)
    return [line for line in p.stdout.splitlines() if line.startswith("BAD")]


# --- the clean mirror: lethe and the recipe agree it is good ----------------
good = build(GOOD)
clean = mirror(good, "clean")
rc, out, err = lethe_verify(clean)
equal(rc, 0, f"the clean mirror verifies ({out.strip()} {err.strip()})")
equal(run_recipe(clean), [], "the guide's recipe finds nothing wrong in the clean mirror")

# --- replace refs: a forged record blob shown under a good signature -------
REC3 = GOOD[2]["name"]
forged = GOOD[2]["record"].replace(b'"as_of": "2025-11-24"', b'"as_of": "2025-01-01"')
assert forged != GOOD[2]["record"]
real_blob = git(good.path, "rev-parse", f"{good.oids[2]}:{REC3}").strip()
fake_blob = git(good.path, "hash-object", "-w", "--stdin", data=forged).strip()
git(good.path, "replace", real_blob, fake_blob)
replaced = mirror(good, "replaced")
ev = os.path.join(replaced, "evidence.git")
shown = git(ev, "show", f"{good.oids[2]}:{REC3}").encode()
equal(shown, forged, "stock git shows the forged record under the mirror's replace ref")
p = subprocess.run(["git", "--git-dir", ev, "-c", "gpg.format=ssh", "-c",
                    f"gpg.ssh.allowedSignersFile={signers}", "verify-commit", good.oids[2]],
                   capture_output=True, text=True)
check(p.returncode == 0 and "Good" in p.stderr, "and git verify-commit calls its commit Good")
equal(git(ev, "--no-replace-objects", "show", f"{good.oids[2]}:{REC3}").encode(), GOOD[2]["record"],
      "git --no-replace-objects shows the signed record")
rc, out, err = lethe_verify(replaced)
equal(rc, 1, f"lethe verify fails on a mirror with a replace ref ({out.strip()} {err.strip()})")
check(f"refs/replace/{real_blob}" in out, "and names the replace ref")
rc, out, err = lethe_verify(replaced, "--json")
j = json.loads(out) if out.startswith("{") else {}
equal((j.get("ok"), j.get("bad_commit")), (False, None), "--json: not ok, no bad commit to name")
bad = run_recipe(replaced)
check(any(f"refs/replace/{real_blob}" in line for line in bad),
      f"the guide's recipe reports the replace ref: {bad}")
git(good.path, "replace", "-d", real_blob)

# --- grafts: commit 3 hidden from git log, every signature still good ------
grafted = mirror(good, "grafted")
ev = os.path.join(grafted, "evidence.git")
os.makedirs(os.path.join(ev, "info"), exist_ok=True)
with open(os.path.join(ev, "info", "grafts"), "w") as f:
    f.write(f"{good.oids[3]} {good.oids[1]}\n")
listed = git(ev, "rev-list", "main").split()
check(good.oids[2] not in listed and len(listed) == 3, "stock git log no longer shows commit 3")
rc, out, err = lethe_verify(grafted)
equal(rc, 1, f"lethe verify fails on a mirror with info/grafts ({out.strip()} {err.strip()})")
check("'info/grafts'" in out, "and names info/grafts")
bad = run_recipe(grafted)
check(any("info/grafts" in line for line in bad), f"the guide's recipe reports the grafts: {bad}")

# --- a signed commit rewriting an earlier run's digest file ----------------
DIG1 = f"runs/{RUN1[:2]}/{RUN1}/digests/old-orders.txt"
victim = GOOD[1]["files"][DIG1].split(b"\n")
rewritten = b"\n".join(victim[1:])  # one disposed row's digest dropped from run 1


def rewriting(listed):
    """Run 3's completion that also rewrites run 1's digest file, listing it or not."""
    step = completion(6, RUN3, 5)
    files = dict(step["files"], **{DIG1: rewritten})
    rec = json.loads(step["record"])
    if listed:
        rec["files"] = [{"path": p, "sha256": sha(b)} for p, b in files.items()]
    return dict(step, files=files, record=json.dumps(rec, indent=2).encode())


for listed in (True, False):
    repo = build(GOOD + [intent(5, RUN3, b"rules: [a, b]\n"), rewriting(listed)])
    what = "listed in its record" if listed else "not listed"
    rc, out, err = verify(repo)
    equal(rc, 1, f"a signed commit rewriting run 1's digest file ({what}) fails")
    check(out.startswith(f"FAIL: commit {repo.oids[5][:12]}:") and DIG1 in out,
          f"naming the commit and the path ({out.strip()} {err.strip()})")
    folder = mirror(repo, f"rewrite-{listed}")
    bad = run_recipe(folder)
    check(any(repo.oids[5] in line and DIG1 in line for line in bad),
          f"the guide's recipe reports the rewrite ({what}): {bad}")
# a record outside a run changes nothing else, and only an intent replaces policy files
hold = {"name": "records/00000/00000005-hold.json", "msg": "lethe: hold 00000005", "files": {},
        "record": record(5, "hold", {}, hold_id=1, reason="x", rule="chats")}
repo = build(GOOD + [hold])
equal(verify(repo)[0], 0, "a hold record that changes nothing else verifies")
repo = build(GOOD)
del repo.tree["policies/10-a.yaml"]
repo.commit(hold, T0 + 600)
rc, out, err = verify(repo)
equal((rc, "removes 'policies/10-a.yaml'" in out), (1, True),
      f"a hold commit that removes a policy file fails ({out.strip()})")

# --- no main -----------------------------------------------------------------
empty = os.path.join(d, "empty.git")
sh("git", "init", "-q", "--bare", "-b", "main", empty)
rc, out, err = run("verify", "--allowed-signers", signers, empty)
equal(rc, 1, f"a repository without main fails ({out.strip()} {err.strip()})")
check("no main branch" in out, "saying it has no main branch")
other = build(GOOD)
git(other.path, "branch", "-m", "main", "other")
rc, out, err = verify(other)
equal((rc, "no main branch" in out), (1, True), "a repository whose history is on another branch fails")

# --- record times against the commit's --------------------------------------
late = build(GOOD, times=[T0 - 3600 + 60 * j for j in range(4)])
rc, out, err = verify(late)
equal(rc, 1, "a record whose time is after its commit's fails")
check(out.startswith(f"FAIL: commit {late.oids[0][:12]}:") and "later than the commit's committer time" in out,
      f"naming the first such commit ({out.strip()})")

# --- subjects ----------------------------------------------------------------
for msg, why in ((f"lethe: completion 00000001 {RUN1}", "another kind"),
                 (f"lethe: intent 00000001 erasure {RUN1}", "an erasure for a run"),
                 (f"lethe: intent 00000002 {RUN1}", "another number"),
                 (f"lethe: intent 00000001 {RUN1}\n\nmore text", "a second line")):
    steps = [dict(GOOD[0], msg=msg)] + GOOD[1:]
    repo = build(steps)
    rc, out, err = verify(repo)
    equal(rc, 1, f"a subject naming {why} fails")
    check(out.startswith(f"FAIL: commit {repo.oids[0][:12]}:"), f"at its commit ({out.strip()})")
ok_msgs = build([dict(GOOD[0], msg=f"lethe: intent 00000001 run {RUN1}"),
                 dict(GOOD[1], msg=f"lethe: completion 00000002 run {RUN1}")] + GOOD[2:])
equal(verify(ok_msgs)[0], 0, "subjects with the run label verify")

# --- a main reset back four commits -----------------------------------------
eight = build(EIGHT)
rc, out, err = verify(eight)
equal((rc, out), (0, f"ok: 8 commits, 8 records verified; head 00000008 {eight.head}\n"),
      "eight commits verify and the head is reported for the auditor to keep")
git(eight.path, "update-ref", "refs/heads/main", eight.oids[3])
rc, out, err = verify(eight)
equal((rc, out), (0, f"ok: 4 commits, 4 records verified; head 00000004 {eight.oids[3]}\n"),
      "the truncated main verifies by itself")
rc, out, err = verify(eight, "--expect-at-least", "8")
equal(rc, 1, "--expect-at-least 8 fails on the truncated main")
check("main ends at record 00000004, before record 00000008" in out, f"saying so ({out.strip()})")
rc, out, err = verify(eight, "--expect-head", eight.oids[7])
equal(rc, 1, "--expect-head of the old head fails")
check(eight.oids[7] in out and "not on main's history" in out, f"naming it ({out.strip()})")
rc, out, err = verify(eight, "--expect-head", eight.oids[7][:12], "--json")
j = json.loads(out) if out.startswith("{") else {}
equal((rc, j.get("ok"), j.get("bad_commit")), (1, False, None), "--expect-head with a prefix, --json")
equal(verify(eight, "--expect-at-least", "4", "--expect-head", eight.oids[2])[0], 0,
      "expectations that the truncated main still meets pass")
equal(verify(eight, "--expect-at-least", "x")[0], 64, "--expect-at-least x is a usage error")
equal(verify(eight, "--expect-head", "zz")[0], 64, "--expect-head zz is a usage error")
finish()
