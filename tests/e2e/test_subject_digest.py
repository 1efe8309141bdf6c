"""The canonical subject digest (docs/evidence-format.md): every record that
names a data subject (a subject hold, an access export, an erasure and its
replay) carries lethe_digest(pseudonym key, "subject", T), T the key's typed
value as text. Against an INTEGER key `8`, `008` and `+8` are the same
subject (T = "8"), so the hold, export, erasure and replay records of one
person carry the same digest whichever spelling was typed; against a TEXT
key `008` and `8` are different subjects with different digests. The
digests are computed here independently (hashlib), and lethe verify
accepts the evidence."""
import hashlib
import os
import shutil
import sqlite3

from lethe_e2e import check, equal, finish, run, tmpdir, write
from lethe_subject_e2e import DIGEST_PERSON, records, reference_site


def digest(key, text):
    h = hashlib.blake2b(key=key, person=DIGEST_PERSON, digest_size=32)
    h.update(len(b"subject").to_bytes(8, "little") + b"subject" + text.encode())
    return h.hexdigest()


def subjects_of(evidence, kind, request=None):
    return [r.get("subject") for r in records(evidence)
            if r.get("kind") == kind and (request is None or r.get("request") == request)]


d = tmpdir()

# --- an INTEGER key: the reference shop --------------------------------------
db, cfg, evidence, key = reference_site(d, 60)
con = sqlite3.connect(db)
sid, other = [r[0] for r in con.execute("SELECT id FROM customers ORDER BY id LIMIT 2")]
con.close()
want = digest(key, str(sid))


def lethe(*args):
    return run("-c", cfg, *args)


rc, out, err = lethe("hold", "add", "--reason", "dispute", "--subject", f"00{sid}")
equal(rc, 0, f"hold add --subject 00{sid} ({err.strip()})")
rc, out, err = lethe("hold", "add", "--reason", "dispute", "--subject", str(other))
equal(rc, 0, f"hold add --subject {other} ({err.strip()})")
rc, out, err = lethe("access", "--subject", f"+{sid}", "--output", os.path.join(d, "a.zip"))
equal(rc, 0, f"access --subject +{sid} ({err.strip()})")
rc, out, err = lethe("hold", "release", "1", "--reason", "settled")
equal(rc, 0, f"the hold is released before the erasure ({err.strip()})")
backup = os.path.join(d, "backup.sqlite")
shutil.copyfile(db, backup)
rc, out, err = lethe("erase", "--subject", f"0{sid}")
equal(rc, 0, f"erase --subject 0{sid} ({err.strip()})")
# A restore brings the subject back; replay erases it again by its digest.
shutil.copyfile(backup, db)
rc, out, err = lethe("replay")
equal(rc, 0, f"replay after the restore ({err.strip()} {out.strip()})")

holds = subjects_of(evidence, "hold")
equal(holds, [want, digest(key, str(other))],
      f"the hold records carry the digest of '{sid}' (typed 00{sid}) and of '{other}'")
equal(subjects_of(evidence, "export"), [want], f"the export record (typed +{sid}) carries the same digest")
erasures = subjects_of(evidence, "intent", "erasure")
equal(erasures, [want, want], f"the erasure (typed 0{sid}) and its replay carry the same digest")
check(holds and holds[0] != holds[1], "different subjects have different digests")
rc, out, err = lethe("verify")
equal(rc, 0, f"lethe verify passes ({out.strip()} {err.strip()})")

# --- a TEXT key: '008' and '8' are two members -------------------------------
site = os.path.join(d, "text")
tdb = os.path.join(site, "club.sqlite")
os.makedirs(site)
con = sqlite3.connect(tdb)
con.executescript("""
CREATE TABLE members (code TEXT PRIMARY KEY NOT NULL, email TEXT, joined_at TEXT NOT NULL);
INSERT INTO members VALUES ('008', 'a@example.org', '2020-01-01'), ('8', 'b@example.org', '2020-01-01');
""")
con.close()
write(os.path.join(site, "policies", "club.yaml"), """lethe: 1
register: club members
controller: Test club
subject:
  table: members
  key: code
  contact: [email]
rules:
  - name: old-members
    description: members are kept for ten years
    basis: test
    table: members
    subject: code
    from: joined_at
    retain: 10 years
    action: delete
""")
rc, out, err = run("init", os.path.join(site, "site"), "--database", tdb,
                   "--policies", os.path.join(site, "policies"))
equal(rc, 0, f"init of the club site ({err.strip()})")
tcfg = os.path.join(site, "site", "lethe.yaml")
with open(os.path.join(site, "site", "keys", "pseudonym.key")) as f:
    tkey = bytes.fromhex(f.read().strip())
for typed in ("008", "8"):
    rc, out, err = run("-c", tcfg, "hold", "add", "--reason", "r", "--subject", typed)
    equal(rc, 0, f"hold add --subject {typed} on a TEXT key ({err.strip()})")
rc, out, err = run("-c", tcfg, "hold", "add", "--reason", "r", "--subject", "+8")
equal(rc, 65, "a TEXT key '+8' names no member")
equal(subjects_of(os.path.join(site, "site", "evidence"), "hold"), [digest(tkey, "008"), digest(tkey, "8")],
      "TEXT keys are digested as their exact text: '008' and '8' differ")
rc, out, err = run("-c", tcfg, "verify")
equal(rc, 0, f"lethe verify passes on the club site ({out.strip()} {err.strip()})")
finish()
