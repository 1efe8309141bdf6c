# engines: sqlite postgresql mariadb
"""lethe replay after a restore, on every engine (lethe_engines.py): on the
reference shop (demo + init), a copy of the database is the backup (a file
copy, a template database, a dump); a customer erased before the backup, two
erased after it; the backup restored over the database brings the two back.
replay --dry-run reports them and changes nothing; replay erases them again
(chat transcripts, consents and marketing profile gone, the customer row's
name, e-mail and phone the pseudonym tokens computed here with hashlib,
orders kept for bookkeeping, the suppression list holding their addresses
again, every other customer as in the backup); the evidence has one erasure
per subject with replay_of naming the original intent and the same subject
digest; lethe verify passes; a second replay does nothing."""
import hashlib
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import lethe_engines
from lethe_e2e import check, equal, finish, run, sha256, tmpdir
from lethe_run_e2e import token, token_row
from lethe_subject_e2e import QUERIES

d = tmpdir()
shop = os.path.join(d, "shop")
eng = lethe_engines.engine().start(d)
eng.demo(shop, customers=300)
db = eng.location()
os.remove(os.path.join(shop, "lethe.yaml"))
rc, out, err = run("init", shop, "--database", db)
equal(rc, 0, f"init makes a site {err.strip()}")
cfg = os.path.join(shop, "lethe.yaml")
evidence = os.path.join(shop, "evidence")
with open(os.path.join(shop, "keys", "pseudonym.key")) as f:
    key = bytes.fromhex(f.read().strip())
COLUMNS = ["id", "customer_number", "name", "email", "phone", "created_at", "last_login_at",
           "last_purchase_at"]


def q(sql):
    return eng.sql(sql)


def count(table, cid):
    return int(q(f"SELECT count(*) FROM {table} WHERE customer_id = {int(cid)}")[0][0])


def customers():
    """{id: {column: value as text}} of every customer."""
    return {int(r[0]): dict(zip(COLUMNS, [lethe_engines.normalise(v) for v in r]))
            for r in q(f"SELECT {', '.join(COLUMNS)} FROM customers")}


def snapshot():
    """The SQLite file's SHA-256; on a server, every shop table's rows."""
    if eng.name == "sqlite":
        return sha256(db)
    return {t: eng.dump(t) for t in QUERIES}


def subject_digest(cid):
    """lethe_digest(key, "subject", id as text), computed here: keyed BLAKE2b-256, personal
    "lethe-digest-v1", over the domain's length (8 bytes little-endian), the domain, the data."""
    h = hashlib.blake2b(key=key, person=b"lethe-digest-v1", digest_size=32)
    h.update(len(b"subject").to_bytes(8, "little") + b"subject" + str(cid).encode())
    return h.hexdigest()


def lethe(*args):
    return run("-c", cfg, *args)


def records():
    """[(path, record)] of main, in seq order."""
    names = subprocess.run(["git", "-C", evidence, "ls-tree", "-r", "--name-only", "main", "records/"],
                           capture_output=True, text=True, check=True).stdout.split()
    return [(n, json.loads(subprocess.run(["git", "-C", evidence, "show", f"main:{n}"],
                                          capture_output=True, text=True, check=True).stdout))
            for n in sorted(names)]


# Customers with chats, orders, consents and a marketing profile.
picked = [int(r[0]) for r in q(
    "SELECT c.id FROM customers c WHERE "
    "EXISTS (SELECT 1 FROM chat_transcripts t WHERE t.customer_id = c.id) AND "
    "EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id) AND "
    "EXISTS (SELECT 1 FROM consents x WHERE x.customer_id = c.id) AND "
    "EXISTS (SELECT 1 FROM marketing_profiles p WHERE p.customer_id = c.id) "
    "AND c.email IS NOT NULL ORDER BY c.id LIMIT 3")]
equal(len(picked), 3, "the demo has customers with chats, orders, consents and profiles")
early, erased = picked[0], picked[1:]
before = customers()

rc, out, err = lethe("erase", "--subject", str(early))
equal(rc, 0, f"erase before the backup {err.strip()}")
backup = eng.backup(os.path.join(d, "backup"))
for cid in erased:
    rc, out, err = lethe("erase", "--subject", str(cid))
    equal(rc, 0, f"erase {cid} after the backup {err.strip()}")
orders = {cid: count("orders", cid) for cid in erased}
original = {n: r for n, r in records() if r.get("request") == "erasure"}
intent_of = {r["subject"]: r["seq"] for r in original.values()}
equal(len(intent_of), 3, "the evidence has three erasure intents")

# The restore.
eng.restore(backup)
was = customers()
backup_chats = {cid: count("chat_transcripts", cid) for cid in erased}
for cid in erased:
    check(backup_chats[cid] > 0, f"the restore brings customer {cid}'s chats back")
    rc, out, err = lethe("suppressed", before[cid]["email"])
    equal(rc, 1, f"after the restore customer {cid}'s address is off the suppression list")

# Dry run: reports, changes nothing.
digest, head = snapshot(), records()
rc, out, err = lethe("replay", "--dry-run", "--json")
equal(rc, 0, f"replay --dry-run exits 0 {err.strip()}")
got = json.loads(out) if rc == 0 else {}
equal(got.get("dry_run"), True, "the dry run says so")
equal(got.get("erasures"), 3, "the dry run counts three erasures in the evidence")
equal(sorted(s["subject"] for s in got.get("subjects", [])), sorted(str(c) for c in erased),
      "the dry run names the two subjects erased since the backup")
equal(snapshot(), digest, "replay --dry-run leaves the database as it was")
equal(len(records()), len(head), "replay --dry-run records nothing")

# Replay.
rc, out, err = lethe("replay", "--json")
equal(rc, 0, f"replay exits 0 {err.strip()}")
got = json.loads(out) if rc == 0 else {}
equal(got.get("subjects_erased"), 2, "replay erases two subjects again")
equal(got.get("subjects_found"), 3, "all three erased subjects are in the register")
per_rule = {r["rule"]: r["erased"] for r in got.get("rules", [])}
equal(per_rule.get("chat-transcripts"), sum(backup_chats.values()),
      "the summary counts the chat transcripts erased")
for cid in erased:
    for table in ["chat_transcripts", "consents", "marketing_profiles"]:
        equal(count(table, cid), 0, f"customer {cid}: no {table} rows after replay")
    equal(count("orders", cid), orders[cid], f"customer {cid}: orders kept for bookkeeping")
    row = customers()[cid]
    for col in ["name", "email", "phone"]:
        # email is UNIQUE: its token is bound to the row's key.
        tok = token_row(key, before[cid][col], cid) if col == "email" else token(key, before[cid][col])
        want = tok if before[cid][col] is not None else None
        equal(row[col], want, f"customer {cid}: {col} is its pseudonym token again")
    rc, out, err = lethe("suppressed", before[cid]["email"])
    equal(rc, 0, f"customer {cid}'s address is on the suppression list again")
now = customers()
check(all(now[c] == was[c] for c in was if c not in erased),
      "every other customer row is as in the backup")

recs = records()
replays = [r for n, r in recs if r.get("kind") == "intent" and "replay_of" in r]
equal(sorted(r.get("subject") for r in replays), sorted(subject_digest(c) for c in erased),
      "the replayed intents' subjects are the digests of the two customers' ids")
for r in replays:
    equal(r.get("request"), "erasure", f"replay intent {r['seq']} is an erasure")
    equal(r.get("replay_of"), intent_of.get(r.get("subject")),
          f"replay intent {r['seq']} names the original erasure of its subject")
done = {r["intent_seq"]: r["result"] for n, r in recs if r.get("kind") == "completion"}
check(all(done.get(r["seq"]) == "completed" for r in replays), "every replay erasure is completed")
rc, out, err = lethe("verify")
equal(rc, 0, f"lethe verify passes after replay {out.strip()} {err.strip()}")

# A second replay does nothing.
digest, n = snapshot(), len(recs)
rc, out, err = lethe("replay")
equal(rc, 0, f"a second replay exits 0 {err.strip()}")
check("erased again: 0" in out, f"a second replay erases nobody: {out.splitlines()[:2]}")
equal(len(records()), n, "a second replay records nothing")
equal(snapshot(), digest, "a second replay leaves the database as it was")
eng.stop()
finish()
