"""lethe replay erases the person it erased, not whoever has the key now
(issue 10 item 7). On the reference shop (demo + init):

- backup B1 is taken; a new customer X registers (SQLite gives X the next
  integer key, K); backup B2 is taken; X and an older customer T are erased
  (each erasure intent records `contact`, the keyed digest of the contact
  values, computed here independently: the e-mail, UNIQUE, by its row token
  bound to the customer's key; the phone by its plain token);
- B1 is restored: K is free again, and the next new customer, Y, is given
  K. replay --dry-run and replay erase T again and skip K: Y's rows are
  untouched, Y's address is not suppressed, stderr warns naming the key, the
  JSON lists it under subjects_skipped with X's erasure; exit 0; verify passes;
- B2 is restored: K is X again, and replay erases X again (replay_of X's
  erasure) and T; a second replay does nothing;
- B2 is restored again and the daily run comes first, pseudonymising X's
  e-mail and phone (X has been inactive for years): replay still recognises
  X and erases X again."""
import json
import os
import shutil
import sqlite3
from lethe_e2e import check, equal, finish, run, sha256, tmpdir
from lethe_run_e2e import token_row
from lethe_subject_e2e import contact_digest, records, query, reference_site

d = tmpdir()
db, cfg, evidence, key = reference_site(d, 120)


def lethe(*args):
    return run("-c", cfg, *args)


def q(sql, *args):
    return query(db, sql, *args)


def person(cid):
    """Everything of customer cid that an erasure changes."""
    return (q("SELECT * FROM customers WHERE id = ?", cid),
            q("SELECT * FROM chat_transcripts WHERE customer_id = ? ORDER BY id", cid),
            q("SELECT * FROM consents WHERE customer_id = ? ORDER BY id", cid),
            q("SELECT * FROM marketing_profiles WHERE customer_id = ? ORDER BY id", cid))


def register(name, email, phone, since="-2 days"):
    """A new customer as the shop's application adds one: SQLite picks the
    key. With a chat, a consent and a marketing profile."""
    con = sqlite3.connect(db)
    cur = con.execute("INSERT INTO customers (customer_number, name, email, phone, created_at) "
                      "VALUES ('N' || (SELECT max(id) + 1 FROM customers), ?, ?, ?, "
                      "datetime('now', ?))", (name, email, phone, since))
    cid = cur.lastrowid
    con.execute("INSERT INTO chat_transcripts (customer_id, started_at, ended_at, transcript) "
                "VALUES (?, datetime('now', '-1 day'), datetime('now', '-1 day'), ?)",
                (cid, f"Asiakas: Hei, olen {name}."))
    con.execute("INSERT INTO consents (customer_id, channel, given_at, source) "
                "VALUES (?, 'email', datetime('now', '-1 day'), 'checkout')", (cid,))
    con.execute("INSERT INTO marketing_profiles (customer_id, segments, updated_at) "
                "VALUES (?, 'new', datetime('now', '-1 day'))", (cid,))
    # an order (a voucher kept 6 years) keeps the account, pseudonymised,
    # after an erasure; without one the erasure deletes the account itself
    con.execute("INSERT INTO orders (customer_id, order_date, status, total_cents) "
                "VALUES (?, datetime('now', '-1 day'), 'delivered', 1990)", (cid,))
    con.commit()
    con.close()
    return cid


t = q("SELECT c.id FROM customers c WHERE EXISTS (SELECT 1 FROM chat_transcripts x "
      "WHERE x.customer_id = c.id) AND c.phone IS NOT NULL AND EXISTS (SELECT 1 FROM orders o "
      "WHERE o.customer_id = c.id AND o.order_date >= '2021-01-01') ORDER BY c.id LIMIT 1")[0][0]
top = q("SELECT max(id) FROM customers")[0][0]
b1 = os.path.join(d, "b1.sqlite")
shutil.copyfile(db, b1)
# X has not logged in for years: the inactive-accounts rule will pseudonymise
# X's e-mail and phone on the next run.
x = register("Xenia Erased", "Xenia.Erased@Example.org", "+358 40 111 2222", "-5 years")
equal(x, top + 1, "the new customer X gets the next integer key")
b2 = os.path.join(d, "b2.sqlite")
shutil.copyfile(db, b2)
contacts = {c: q("SELECT email, phone FROM customers WHERE id = ?", c)[0] for c in (x, t)}
for cid in (x, t):
    rc, out, err = lethe("erase", "--subject", str(cid))
    equal(rc, 0, f"erase {cid} {err.strip()}")
intents = [r for r in records(evidence) if r.get("kind") == "intent" and r.get("request") == "erasure"]
equal(len(intents), 2, "two erasure intents")
seq_x = intents[0]["seq"] if intents else None
for r, cid in zip(intents, (x, t)):
    # customers.email is UNIQUE: its token is bound to the customer's key
    equal(r.get("contact"), contact_digest(key, contacts[cid], (cid, None)),
          f"the erasure of {cid} records the keyed digest of its e-mail and phone")

# Restore B1: K is free, and the next customer to register is given it.
shutil.copyfile(b1, db)
y = register("Yrjö Innocent", "yrjo.innocent@example.org", "+358 50 333 4444")
equal(y, x, "the new customer Y is given X's old key")
y_before = person(y)
digest = sha256(db)
rc, out, err = lethe("replay", "--dry-run", "--json")
equal(rc, 0, f"replay --dry-run exits 0 {err.strip()}")
got = json.loads(out) if rc == 0 and out.strip() else {}
equal([s["subject"] for s in got.get("subjects", [])], [str(t)], "the dry run would erase T only")
equal([(s.get("subject"), s.get("erasure")) for s in got.get("subjects_skipped", [])],
      [(str(y), seq_x)], "the dry run reports Y's key as skipped, naming X's erasure")
equal(sha256(db), digest, "the dry run changes nothing")

rc, out, err = lethe("replay", "--json")
equal(rc, 0, f"replay exits 0 when it skipped a key {err.strip()}")
got = json.loads(out) if rc == 0 and out.strip() else {}
equal(got.get("subjects_erased"), 1, "replay erases one subject again")
equal([(s.get("subject"), s.get("erasure")) for s in got.get("subjects_skipped", [])],
      [(str(y), seq_x)], "replay's JSON lists Y's key as skipped")
warned = [line for line in err.splitlines() if f"'{y}'" in line]
check(len(warned) == 1 and "another person" in warned[0],
      f"replay warns on stderr naming the skipped key: {err.strip()!r}")
equal(person(y), y_before, "Y's account, chat, consent and profile are untouched")
rc, out, err = lethe("suppressed", "yrjo.innocent@example.org")
equal(rc, 1, "Y's address is not suppressed")
equal(q("SELECT count(*) FROM chat_transcripts WHERE customer_id = ?", t)[0][0], 0,
      "T, the person erased, is erased again")
rc, out, err = lethe("replay")
check(rc == 0 and f"subject {y} " in out and "skipped" in out,
      f"the text summary names the skipped key: {out.strip()!r}")
rc, out, err = lethe("verify")
equal(rc, 0, f"lethe verify accepts the records {out.strip()} {err.strip()}")

# Restore B2: K is X again, who must be erased again.
shutil.copyfile(b2, db)
rc, out, err = lethe("replay", "--json")
equal(rc, 0, f"replay after the second restore {err.strip()}")
got = json.loads(out) if rc == 0 and out.strip() else {}
equal(sorted((s["subject"], s["replay_of"]) for s in got.get("subjects", [])),
      sorted([(str(x), seq_x), (str(t), intents[1]["seq"] if len(intents) > 1 else None)]),
      "X and T are erased again, each naming its own erasure")
equal(got.get("subjects_skipped"), [], "nobody is skipped")
equal(q("SELECT count(*) FROM chat_transcripts WHERE customer_id = ?", x)[0][0], 0,
      "X's chat is gone again")
check(q("SELECT email FROM customers WHERE id = ?", x)[0][0].startswith("tok_"),
      "X's address is a token again")
rc, out, err = lethe("suppressed", "xenia.erased@example.org")
equal(rc, 0, "X's address is suppressed again")
digest = sha256(db)
rc, out, err = lethe("replay", "--json")
got = json.loads(out) if rc == 0 and out.strip() else {}
equal((rc, got.get("subjects_erased"), got.get("subjects_skipped")), (0, 0, []),
      "a second replay does nothing")
equal(sha256(db), digest, "a second replay leaves the database byte-identical")

# Restore B2 again, and the daily run comes first: it pseudonymises X's
# e-mail and phone (an inactive account). X is still the person erased.
shutil.copyfile(b2, db)
rc, out, err = lethe("run")
equal(rc, 0, f"the daily run after the restore {err.strip()[-300:]}")
check(all(v.startswith("tok_") for v in q("SELECT email, phone FROM customers WHERE id = ?", x)[0]),
      "the run replaced X's e-mail and phone with tokens")
equal(q("SELECT email FROM customers WHERE id = ?", x)[0][0],
      token_row(key, "Xenia.Erased@Example.org", x),
      "X's e-mail, UNIQUE, became the row token bound to X's key")
rc, out, err = lethe("replay", "--json")
equal(rc, 0, f"replay after the run {err.strip()}")
got = json.loads(out) if rc == 0 and out.strip() else {}
check((str(x), seq_x) in [(s["subject"], s["replay_of"]) for s in got.get("subjects", [])],
      f"X, pseudonymised by the run, is still recognised and erased again: {got.get('subjects')}")
equal(got.get("subjects_skipped"), [], "nobody is skipped")
equal(q("SELECT count(*) FROM chat_transcripts WHERE customer_id = ?", x)[0][0], 0,
      "X's chat is gone again")
digest = sha256(db)
rc, out, err = lethe("replay", "--json")
got = json.loads(out) if rc == 0 and out.strip() else {}
equal((rc, got.get("subjects_erased"), got.get("subjects_skipped")), (0, 0, []),
      "a second replay does nothing")
equal(sha256(db), digest, "a second replay leaves the database byte-identical")
rc, out, err = lethe("verify")
equal(rc, 0, f"lethe verify passes at the end {out.strip()} {err.strip()}")
finish()
