"""A site whose evidence belongs to the service user, used by root (docs/
operations.md, "Ownership"): root's read-only commands (status, status
--json, plan, verify) work on it; root's write commands (erase, hold add,
run) refuse with exit 77, a message naming the owner and how to run as the
owner, and leave no file of root's in the evidence or beside the register.
Also: libgit2's own message is kept when the evidence is not a repository;
status --json prints an error object when it fails; status --exit-code exits
2 on warnings. Needs root (chown); skipped (77) otherwise."""
import json
import re
import os
import sqlite3
import sys
from lethe_e2e import check, equal, finish, run, tmpdir

if os.geteuid() != 0:
    print("skip: needs root to give the evidence to another user")
    sys.exit(77)

OWNER = 65534  # nobody
d = tmpdir()
os.chmod(d, 0o755)
shop = os.path.join(d, "shop")
equal(run("demo", shop, "--customers", "100")[0], 0, "demo")
db = os.path.join(shop, "shop.sqlite")
site = os.path.join(d, "site")
rc, _, err = run("init", site, "--database", db)
equal(rc, 0, f"init ({err.strip()})")
cfg = os.path.join(site, "lethe.yaml")
ev = os.path.join(site, "evidence")
rc, _, err = run("-q", "-c", cfg, "run")
equal(rc, 0, f"a first run ({err.strip()})")

# status --exit-code: the warning of a fresh site (an old run is fine here:
# any warning will do, so make one by loosening a key's mode)
rc, out, _ = run("-c", cfg, "status", "--exit-code")
plain_rc, _, _ = run("-c", cfg, "status")
equal(plain_rc, 0, "status without --exit-code exits 0")
if "warnings:  none" in out:
    equal(rc, 0, "status --exit-code without warnings exits 0")
os.chmod(os.path.join(site, "keys", "pseudonym.key"), 0o644)
rc, out, _ = run("-c", cfg, "status", "--exit-code")
equal(rc, 2, "status --exit-code with a warning (a key readable by others) exits 2")
os.chmod(os.path.join(site, "keys", "pseudonym.key"), 0o600)

for root, dirs, files in os.walk(ev):
    for n in dirs + files:
        os.lchown(os.path.join(root, n), OWNER, OWNER)
os.chown(ev, OWNER, OWNER)


def root_owned(top):
    found = []
    for root, dirs, files in os.walk(top):
        for n in dirs + files:
            if os.lstat(os.path.join(root, n)).st_uid == 0:
                found.append(os.path.join(root, n))
    return found


shop_before = sorted(os.listdir(shop))
rc, out, err = run("-c", cfg, "status", "--json")
equal(rc, 0, f"root's status on the service's evidence ({err.strip()})")
check(json.loads(out or "null") is not None and "warnings" in json.loads(out), "status --json parses")
rc, out, err = run("-c", cfg, "verify")
equal(rc, 0, f"root's verify of the service's evidence ({err.strip()})")
rc, _, err = run("-c", cfg, "plan")
equal(rc, 0, f"root's plan ({err.strip()})")

con = sqlite3.connect(db)
key = str(con.execute("SELECT id FROM customers ORDER BY id LIMIT 1").fetchone()[0])
con.close()
for what, args in (("erase", ["erase", "--subject", key]),
                   ("hold add", ["hold", "add", "--reason", "audit", "--subject", key]),
                   ("run", ["run"])):
    rc, _, err = run("-c", cfg, *args)
    equal(rc, 77, f"root's {what} on the service's evidence refuses")
    check("belongs to user 'nobody'" in err and "run this command as 'nobody'" in err
          and "nothing was changed" in err, f"{what}: the message names the owner ({err.strip()})")
equal(root_owned(ev), [], "no file of root's in the evidence")
equal(sorted(os.listdir(shop)), shop_before, "no new file beside the register (no lock left)")

# libgit2's message is kept
notgit = os.path.join(d, "notgit")
os.mkdir(notgit)
text = re.sub(r"(?m)^(\s*repository:).*$", lambda m: m.group(1) + " " + notgit, open(cfg).read())
check(notgit in text, "a configuration naming a folder that is not a repository")
cfg2 = os.path.join(site, "other.yaml")
open(cfg2, "w").write(text)
rc, out, err = run("-c", cfg2, "status", "--json")
check("is not a git repository: " in err and "could not find repository" in err,
      f"libgit2's own message is kept ({err.strip()})")
check(rc not in (0, 1), f"status of a broken site fails (exit {rc})")
try:
    obj = json.loads(out)
except ValueError:
    obj = None
check(isinstance(obj, dict) and obj.get("error", {}).get("status") == rc
      and "not a git repository" in obj["error"].get("message", ""),
      f"status --json prints an error object on failure ({out.strip()!r})")
rc, out, err = run("-c", os.path.join(d, "missing.yaml"), "status", "--json")
check(rc == 66 and json.loads(out or "{}").get("error", {}).get("status") == 66,
      f"status --json with a missing configuration: an error object ({out.strip()!r})")
finish()
