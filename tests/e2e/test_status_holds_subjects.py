"""On the reference shop (demo + init), with real commands: `lethe status`
reports the holds in force (id, rule or the subject's keyed digest from its
signed hold record, until, record; no key, reason or --where text) in text
and JSON, and drops released and lapsed ones; every evidence commit's subject
names what it records (run, erasure, replay, hold, release, export), and
lethe verify, which checks subjects against records, passes."""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from lethe_e2e import check, equal, finish, run, tmpdir

AS_OF = "2026-11-01"
d = tmpdir()
shop = os.path.join(d, "shop")
db = os.path.join(shop, "shop.sqlite")
rc, out, err = run("demo", shop, "--customers", "200")
equal(rc, 0, "demo writes the register")
os.remove(os.path.join(shop, "lethe.yaml"))
rc, out, err = run("init", shop, "--database", db)
equal(rc, 0, f"init makes a site ({err.strip()})")
cfg = os.path.join(shop, "lethe.yaml")
evidence = os.path.join(shop, "evidence")
with open(os.path.join(shop, "keys", "pseudonym.key")) as f:
    key = bytes.fromhex(f.read().strip())


def lethe(*args):
    return run("-c", cfg, *args)


def subject_digest(cid):
    """lethe_digest(key, "subject", id as text), computed here (docs/auditor-guide.md)."""
    h = hashlib.blake2b(key=key, person=b"lethe-digest-v1", digest_size=32)
    h.update(len(b"subject").to_bytes(8, "little") + b"subject" + str(cid).encode())
    return h.hexdigest()


con = sqlite3.connect(db)
held, erased, restored = [r[0] for r in con.execute(
    "SELECT c.id FROM customers c WHERE EXISTS (SELECT 1 FROM chat_transcripts t "
    "WHERE t.customer_id = c.id) AND c.email IS NOT NULL AND EXISTS (SELECT 1 FROM orders o "
    "WHERE o.customer_id = c.id AND o.order_date >= '2021-01-01') AND max(c.created_at, "
    "coalesce(c.last_login_at, ''), coalesce(c.last_purchase_at, '')) >= date(?, '-3 years') "
    "ORDER BY c.id LIMIT 3", (AS_OF,))]
# (customers with a recent order: vouchers keep the account, so that a run or
# an erasure pseudonymises it rather than deleting it; and active on AS_OF, so
# that the run leaves them alone and each erasure below has rows to dispose of:
# an account inactive for 3 years is already pseudonymised by the run, its
# erasure disposes of nothing and a replay rightly has nothing to do again)
con.close()

REASON = "dispute with jane.doe@example.com"
WHERE = "id = 42"
rc, out, err = lethe("hold", "add", "--reason", REASON, "--subject", str(held), "--until", "2030-01-01")
equal(rc, 0, f"a subject hold ({err.strip()})")
rc, out, err = lethe("hold", "add", "--reason", "claim", "--rule", "deliveries", "--where", WHERE)
equal(rc, 0, f"a filtered rule hold ({err.strip()})")
rc, out, err = lethe("hold", "add", "--reason", "lapsed", "--rule", "feedback", "--until", "2020-01-01")
equal(rc, 0, "a hold that has lapsed")
rc, out, err = lethe("hold", "add", "--reason", "short", "--rule", "feedback")
equal(rc, 0, "a hold released below")
rc, out, err = lethe("hold", "release", "4", "--reason", "done")
equal(rc, 0, "release of hold 4")


def records():
    """{hold_id: seq} of the hold records on main."""
    names = subprocess.run(["git", "--git-dir", evidence, "ls-tree", "-r", "--name-only", "main",
                            "records/"], capture_output=True, text=True, check=True).stdout.split()
    out = {}
    for n in names:
        if n.endswith("-hold.json"):
            r = json.loads(subprocess.run(["git", "--git-dir", evidence, "show", f"main:{n}"],
                                          capture_output=True, text=True, check=True).stdout)
            out[r["hold_id"]] = r["seq"]
    return out


seqs = records()
rc, out, err = lethe("status", "--json", "--as-of", AS_OF)
equal(rc, 0, f"status --json ({err.strip()})")
holds = json.loads(out)["holds"] if rc == 0 else []
equal([h["id"] for h in holds], [1, 2], "status lists the two holds in force, not the lapsed or released")
by_id = {h["id"]: h for h in holds}
equal({k: by_id.get(1, {}).get(k) for k in ("scope", "rule", "subject", "filtered", "until", "record")},
      {"scope": "subject", "rule": None, "subject": subject_digest(held), "filtered": False,
       "until": "2030-01-01", "record": seqs.get(1)},
      "the subject hold: its keyed digest and its hold record")
equal({k: by_id.get(2, {}).get(k) for k in ("scope", "rule", "subject", "filtered", "until", "record")},
      {"scope": "rule", "rule": "deliveries", "subject": None, "filtered": True, "until": None,
       "record": seqs.get(2)}, "the rule hold: its rule, filtered, no end")
equal([sorted(h) for h in holds], [["created_at", "filtered", "id", "record", "rule", "scope", "subject",
                                     "until"]] * 2, "a hold in the status has no key, reason or where field")
check("jane" not in out and WHERE not in out, "no reason or --where text anywhere in the status")
rc, out, err = lethe("status", "--as-of", AS_OF)
equal(rc, 0, "status (text)")
check("holds:     2 in force" in out, f"the text counts two holds ({out!r})")
check(f"hold 1: subject {subject_digest(held)}, until 2030-01-01 (record {seqs.get(1, 0):08d})" in out,
      "the text names the subject hold by its digest")
check(f"hold 2: rule deliveries (filtered), until released (record {seqs.get(2, 0):08d})" in out,
      "the text names the rule hold")
check("jane" not in out and WHERE not in out and f" {held} " not in out,
      "no reason, --where text or key in the text")
rc, out, err = lethe("status", "--json", "--as-of", "2030-01-02")
equal([h["id"] for h in json.loads(out)["holds"]] if rc == 0 else None, [2],
      "after its until the subject hold is no longer in force")

# --- every kind of commit, and its subject ----------------------------------
rc, out, err = lethe("run", "--as-of", AS_OF)
equal(rc, 0, "run")
rc, out, err = lethe("erase", "--subject", str(erased))
equal(rc, 0, f"erase ({err.strip()})")
backup = os.path.join(d, "backup.sqlite")
shutil.copyfile(db, backup)
rc, out, err = lethe("erase", "--subject", str(restored))
equal(rc, 0, f"erase after the backup ({err.strip()})")
shutil.copyfile(backup, db)
rc, out, err = lethe("replay")
equal(rc, 0, f"replay after the restore ({err.strip()})")
rc, out, err = lethe("access", "--subject", str(held), "--output", os.path.join(d, "export.zip"))
equal(rc, 0, f"access ({err.strip()})")

log = subprocess.run(["git", "--git-dir", evidence, "log", "--reverse", "--format=%s", "main"],
                     capture_output=True, text=True, check=True).stdout.splitlines()
words = [line.split()[1:2] + line.split()[3:4] for line in log]
kinds = [w[0] if w[0] in ("hold", "release", "export") else w[1] if len(w) > 1 else "?" for w in words]
equal(kinds, ["hold"] * 4 + ["release"] + ["run"] * 2 + ["erasure"] * 4 + ["replay"] * 2 + ["export"],
      f"each subject names its kind: {log}")
check(all(line.startswith("lethe: ") for line in log), "every subject starts 'lethe: '")
rc, out, err = run("verify", "--allowed-signers", os.path.join(shop, "keys", "allowed_signers"), evidence)
equal(rc, 0, f"lethe verify passes and checks the subjects ({out.strip()} {err.strip()})")
finish()
