"""`lethe prove`, `lethe verify-proof` and `lethe digest` on the reference shop
(demo + lethe init) after a daily run, an erasure and a hold:
- prove writes a proof (mode 0600) that verify-proof accepts offline: the
  evidence repository moved away, no lethe.yaml, only the proof and the
  allowed-signers file; with --pseudonym-key the subject digest and the row
  digest are recomputed; the facts match the evidence read with git (the
  erasure's intent and completion, each digest file's count, the run that
  pseudonymised the subject's account);
- the proof holds no other subject's digest or data (the held subject's
  digest, other customers' e-mails) and not the subject's own contact data;
- a tampered proof is rejected: a record's bytes changed (with or without
  recomputing every git id above it, the signed commit then no longer
  verifies), a signature changed, another subject's key and digest put in,
  the subject's key alone changed (with the pseudonym key), another
  allowed-signers file;
- digest prints the row digest (as the auditor guide's formula computes it)
  and the run that disposed of it; a row never disposed of says so."""
import base64
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from lethe_e2e import check, equal, finish, run, tmpdir
from lethe_subject_e2e import records, reference_site, rich_subject
from lethe_verify_e2e import keygen

d = tmpdir()
db, cfg, evidence, key = reference_site(d, 200)
signers = os.path.join(os.path.dirname(cfg), "keys", "allowed_signers")
keyfile = os.path.join(os.path.dirname(cfg), "keys", "pseudonym.key")


def digest(domain, data):
    """lethe_digest as docs/auditor-guide.md gives it."""
    dom = domain.encode()
    return hashlib.blake2b(len(dom).to_bytes(8, "little") + dom + data.encode(), digest_size=32,
                           key=key, person=b"lethe-digest-v1").hexdigest()


rc, out, err = run("-c", cfg, "-q", "run")
equal(rc, 0, f"daily run {err.strip()}")
con = sqlite3.connect(db)
subject = rich_subject(con)
ids = [r[0] for r in con.execute("SELECT id FROM customers ORDER BY id")]
emails = [r[0] for r in con.execute("SELECT email FROM customers WHERE email LIKE '%@%'")]
own_email = con.execute("SELECT email FROM customers WHERE id = ?", (subject,)).fetchone()[0]
con.close()
run_recs = [r for r in records(evidence) if r["kind"] == "completion"]
run_completion = run_recs[0]
acct = subprocess.run(["git", "-C", evidence, "show",
                       f"main:runs/{run_completion['run_id'][:2]}/{run_completion['run_id']}"
                       "/digests/inactive-accounts.txt"], capture_output=True, text=True).stdout.split()
# gone: an account the daily run pseudonymised; held: one it did not
gone = [i for i in ids if i != subject and digest("inactive-accounts", str(i)) in acct][0]
held = [i for i in ids if i != subject and digest("inactive-accounts", str(i)) not in acct][0]
rc, out, err = run("-c", cfg, "-q", "erase", "--subject", str(subject))
equal(rc, 0, f"erasure {err.strip()}")
rc, out, err = run("-c", cfg, "hold", "add", "--subject", str(held), "--reason", "court case 12")
equal(rc, 0, f"hold on another subject {err.strip()}")

recs = records(evidence)
sdig = digest("subject", str(subject))
intent = [r for r in recs if r["kind"] == "intent" and r.get("subject") == sdig]
equal(len(intent), 1, "one erasure intent names the subject")
completion = [r for r in recs if r["kind"] == "completion" and r["run_id"] == intent[0]["run_id"]][0]
row_dig = digest("inactive-accounts", str(gone))

proof = os.path.join(d, "proof.json")
rc, out, err = run("-c", cfg, "prove", "--subject", f"00{subject}", "--output", proof)
equal(rc, 0, f"prove {err.strip()}")
equal(oct(os.stat(proof).st_mode & 0o777), "0o600", "the proof is readable by its owner only")
rc, out, err = run("-c", cfg, "prove", "--subject", str(subject), "--output", proof)
check(rc != 0 and "exists" in err, f"prove never overwrites a file ({rc}, {err.strip()})")
text = open(proof).read()
check(str(held) not in json.load(open(proof))["subject"]["key"] and
      digest("subject", str(held)) not in text, "the held subject's digest is not in the proof")
check(not any(e in text for e in emails) and own_email not in text, "no e-mail is in the proof")

# Offline: the repository moved away, no configuration, another folder.
away = os.path.join(d, "away")
os.makedirs(away)
shutil.copy(proof, os.path.join(away, "proof.json"))
shutil.copy(signers, os.path.join(away, "allowed_signers"))
shutil.copy(keyfile, os.path.join(away, "pseudonym.key"))
os.rename(evidence, evidence + ".moved")
rc, out, err = run("verify-proof", "proof.json", "--allowed-signers", "allowed_signers", cwd=away)
equal(rc, 0, f"verify-proof offline {err.strip()}")
check(f"proof of subject {sdig}" in out, "it names the subject digest")
check(f"record {intent[0]['seq']:08d}: erasure requested" in out, "the erasure intent")
check(f"record {completion['seq']:08d}: erasure run {intent[0]['run_id']} completed" in out,
      "the erasure's completion")
for rule in completion["rules"]:
    if rule["digests"]:
        check(f"rule {rule['name']} {rule['action']} {rule['digests']['count']} of the subject's rows"
              in out, f"erasure digest file of {rule['name']}: {rule['digests']['count']} rows")
check("kept (the controller's statement" in out and "orders-bookkeeping" in out,
      "what is kept, with basis and days")
rc, out, err = run("verify-proof", "proof.json", "--allowed-signers", "allowed_signers",
                   "--pseudonym-key", "pseudonym.key", "--json", cwd=away)
j = json.loads(out) if rc == 0 else {}
equal((rc, j.get("ok"), j.get("subject_checked")), (0, True, True),
      "verify-proof --pseudonym-key recomputes the digests")

gone_proof = os.path.join(d, "gone.json")
os.rename(evidence + ".moved", evidence)
rc, out, err = run("-c", cfg, "prove", "--subject", str(gone), "--output", gone_proof)
equal(rc, 0, f"prove of a subject whose account a run pseudonymised {err.strip()}")
os.rename(evidence, evidence + ".moved")
shutil.copy(gone_proof, os.path.join(away, "gone.json"))
rc, out, err = run("verify-proof", "gone.json", "--allowed-signers", "allowed_signers",
                   "--pseudonym-key", "pseudonym.key", cwd=away)
equal(rc, 0, f"verify-proof of it {err.strip()}")
check(f"record {run_completion['seq']:08d}: the subject's row of rule inactive-accounts "
      f"pseudonymise in run {run_completion['run_id']}" in out, "the run that pseudonymised the account")
check(digest("subject", str(subject)) not in open(gone_proof).read(),
      "the erased subject's digest is not in another subject's proof")
gp = json.load(open(gone_proof))
mallory = keygen(os.path.join(d, "mallory"), "lethe@mallory")
with open(os.path.join(away, "other_signers"), "w") as f:
    f.write("lethe@mallory " + " ".join(open(mallory + ".pub").read().split()[:2]) + "\n")
rc, out, err = run("verify-proof", "proof.json", "--allowed-signers", "other_signers", cwd=away)
check(rc == 1 and "proof rejected" in err, f"another allowed-signers file: rejected ({err.strip()})")


def oid(kind, data):
    return hashlib.sha1(f"{kind} {len(data)}\0".encode() + data).hexdigest()


def obj(p, i):
    return base64.b64decode(p["objects"][i]["data"])


def put(p, kind, data):
    i = oid(kind, data)
    p["objects"][i] = {"type": kind, "data": base64.b64encode(data).decode()}
    return i


def tree_entries(data):
    out, i = [], 0
    while i < len(data):
        sp, nul = data.index(b" ", i), data.index(b"\0", i)
        out.append([data[i:sp], data[sp + 1:nul], data[nul + 1:nul + 21].hex()])
        i = nul + 21
    return out


def rewrite(p, commit, path, new_blob, sig=None):
    """Replace the file at path under commit, recompute every id up to a new
    commit (signature kept, or replaced by sig) and point the proof at it."""
    ctext = obj(p, commit)
    tree = ctext.split(b"\n", 1)[0].split()[1].decode()

    def down(tid, parts):
        ents = tree_entries(obj(p, tid))
        for e in ents:
            if e[1].decode() == parts[0]:
                e[2] = put(p, "blob", new_blob) if len(parts) == 1 else down(e[2], parts[1:])
        return put(p, "tree", b"".join(m + b" " + n + b"\0" + bytes.fromhex(h) for m, n, h in ents))

    new_tree = down(tree, path.split("/"))
    ctext = ctext.replace(f"tree {tree}".encode(), f"tree {new_tree}".encode(), 1)
    if sig:
        ctext = sig(ctext)
    new = put(p, "commit", ctext)
    for r in p["records"]:
        if r["commit"] == commit:
            r["commit"] = new
    return new


def tampered(what, change, *extra):
    p = json.load(open(proof))
    change(p)
    path = os.path.join(away, "bad.json")
    with open(path, "w") as f:
        json.dump(p, f)
    rc, out, err = run("verify-proof", path, "--allowed-signers", "allowed_signers", *extra, cwd=away)
    check(rc == 1 and "proof rejected" in err, f"{what}: rejected ({rc}, {err.strip()})")


def intent_entry(p):
    return [r for r in p["records"] if r["seq"] == intent[0]["seq"]][0]


def changed_record(p, recompute):
    e = intent_entry(p)
    rec = json.loads(obj(p, oid_of(p, e["commit"], e["path"])))
    rec["as_of"] = "2020-01-01"
    data = json.dumps(rec).encode()
    if recompute:
        rewrite(p, e["commit"], e["path"], data)
    else:
        p["objects"][oid_of(p, e["commit"], e["path"])]["data"] = base64.b64encode(data).decode()


def oid_of(p, commit, path):
    t = obj(p, commit).split(b"\n", 1)[0].split()[1].decode()
    for part in path.split("/"):
        t = [e[2] for e in tree_entries(obj(p, t)) if e[1].decode() == part][0]
    return t


def flip_sig(ctext):
    head, sig = ctext.split(b"gpgsig ", 1)
    lines = sig.split(b"\n")
    k = 3  # a line of the base64 body: flip one character
    lines[k] = lines[k][:5] + (b"A" if lines[k][5:6] != b"A" else b"B") + lines[k][6:]
    return head + b"gpgsig " + b"\n".join(lines)


def changed_signature(p):
    e = intent_entry(p)
    ctext = obj(p, e["commit"])
    new = put(p, "commit", flip_sig(ctext))
    e["commit"] = new


tampered("a record's bytes changed", lambda p: changed_record(p, False))
tampered("a record changed and every id above it recomputed", lambda p: changed_record(p, True))
tampered("a commit's signature changed", changed_signature)
tampered("another subject's key and digest",
         lambda p: p["subject"].update(key=str(held), digest=digest("subject", str(held))),
         "--pseudonym-key", "pseudonym.key")
tampered("another subject's digest (no key)",
         lambda p: p["subject"].update(digest=digest("subject", str(held))))
tampered("the subject's key alone changed", lambda p: p["subject"].update(key=str(held)),
         "--pseudonym-key", "pseudonym.key")
proof = gone_proof
tampered("a digest line claimed that no file holds",
         lambda p: p["rows"][0].update(digest=digest("inactive-accounts", str(held))))
os.rename(evidence + ".moved", evidence)

# lethe digest: the controller's question about one row.
rc, out, err = run("-c", cfg, "digest", "--rule", "inactive-accounts", "--key", str(gone))
equal(rc, 0, f"digest --rule {err.strip()}")
check(f"row digest {row_dig}" in out and f"disposed of by run {run_completion['run_id']}" in out,
      "digest names the row's digest and the run that disposed of it")
rc, out, err = run("-c", cfg, "digest", "--table", "customers", "--key", str(held), "--json")
j = json.loads(out)
equal([r["disposed"] for r in j["rows"] if r["digest"] == digest("inactive-accounts", str(held))],
      [[]], "a row no run disposed of: none")
rc, out, err = run("-c", cfg, "digest", "--subject", str(held), "--json")
j = json.loads(out)
equal((j["subject"], [r["kind"] for r in j["records"]]), (digest("subject", str(held)), ["hold"]),
      "digest --subject: the subject digest and the hold naming it")
rc, out, err = run("-c", cfg, "digest", "--key", "1")
equal(rc, 64, "digest without --table, --rule or --subject: usage")
rc, out, err = run("-c", cfg, "digest", "--rule", "nope", "--key", "1")
equal(rc, 65, "digest of an unknown rule")
rc, out, err = run("verify-proof", os.path.join(d, "missing.json"), "--allowed-signers", signers)
equal(rc, 66, "verify-proof of a missing file")
rc, out, err = run("verify-proof", signers, "--allowed-signers", signers)
equal(rc, 65, "verify-proof of a file that is no proof")
finish()
