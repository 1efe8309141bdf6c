"""No personal data in evidence from holds: the reason of a hold, its
--where filter and the reason of its release are kept in the register
(lethe_holds; `hold list` shows them) and the evidence carries only their
keyed digest lethe_digest(pseudonym key, "hold-text", text), computed here
independently. Neither text appears in any object of the evidence
repository (every blob, tree and commit, `git cat-file --batch-all-objects`),
and lethe verify passes."""
import hashlib
import json
import os
import sqlite3
import subprocess

from lethe_e2e import check, equal, finish, run, tmpdir
from lethe_subject_e2e import DIGEST_PERSON, records, reference_site


def text_digest(key, text):
    h = hashlib.blake2b(key=key, person=DIGEST_PERSON, digest_size=32)
    h.update(len(b"hold-text").to_bytes(8, "little") + b"hold-text" + text.encode())
    return h.hexdigest()


d = tmpdir()
db, cfg, evidence, key = reference_site(d, 40)
con = sqlite3.connect(db)
sid, email = con.execute("SELECT id, email FROM customers WHERE email IS NOT NULL ORDER BY id LIMIT 1").fetchone()
con.close()
REASON = f"complaint of {email} about invoice 7781"
WHERE = f"recipient_name = 'Quillonia Vantabrook-{sid}'"
RELEASE = f"settled with {email}"
SUBJECT_REASON = "tax audit of Zebulon Marchetti-Okafor"


def lethe(*args):
    return run("-c", cfg, *args)


rc, out, err = lethe("hold", "add", "--reason", REASON, "--rule", "deliveries", "--where", WHERE)
equal(rc, 0, f"a rule hold with a --where and a reason naming a person ({err.strip()})")
rc, out, err = lethe("hold", "add", "--reason", SUBJECT_REASON, "--subject", str(sid))
equal(rc, 0, f"a subject hold ({err.strip()})")
rc, out, err = lethe("hold", "release", "1", "--reason", RELEASE)
equal(rc, 0, f"the rule hold is released with a reason ({err.strip()})")

objects = subprocess.run(["git", "-C", evidence, "cat-file", "--batch-all-objects", "--batch"],
                         capture_output=True, check=True).stdout
for what, text in (("the hold reason", REASON), ("the --where text", WHERE),
                   ("the release reason", RELEASE), ("the subject hold's reason", SUBJECT_REASON),
                   ("the e-mail address", email), ("the name in --where", "Quillonia")):
    check(text.encode() not in objects, f"{what} is in no object of the evidence repository")

recs = records(evidence)
holds = [r for r in recs if r.get("kind") == "hold"]
releases = [r for r in recs if r.get("kind") == "release"]
equal([(r.get("reason_digest"), r.get("where_digest")) for r in holds],
      [(text_digest(key, REASON), text_digest(key, WHERE)), (text_digest(key, SUBJECT_REASON), None)],
      "the hold records carry the keyed digests of the reason and the --where text")
equal([r.get("reason_digest") for r in releases], [text_digest(key, RELEASE)],
      "the release record carries the keyed digest of its reason")
for digest in (text_digest(key, REASON), text_digest(key, WHERE), text_digest(key, RELEASE)):
    check(digest.encode() in objects, "the digest is in the evidence repository")
check(all("reason" not in r and "where" not in r for r in holds + releases),
      "no record has a 'reason' or 'where' text field")

rc, out, err = lethe("verify")
equal(rc, 0, f"lethe verify passes ({out.strip()} {err.strip()})")

rc, out, err = lethe("hold", "list", "--json")
equal(rc, 0, "hold list --json")
listed = json.loads(out) if rc == 0 else []
equal([(h.get("reason"), h.get("where"), h.get("release_reason")) for h in listed],
      [(REASON, WHERE, RELEASE), (SUBJECT_REASON, None, None)],
      "hold list --json shows the texts from the register")
rc, out, err = lethe("hold", "list")
check(rc == 0 and REASON in out and WHERE in out and RELEASE in out and SUBJECT_REASON in out,
      f"hold list shows the reasons and the --where text:\n{out}")
rc, out, err = lethe("status", "--json")
check(rc == 0 and email not in out and "Zebulon" not in out, "status --json shows no hold text")
finish()
