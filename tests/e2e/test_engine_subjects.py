# engines: sqlite postgresql
"""Holds, erasure, access, replay and status on every engine (LETHE_TEST_ENGINE,
lethe_engines.py): a subject's hold keeps their due rows through a run; an
erasure removes their chats and pseudonymises the account; an access export
is written; after a restore from a backup, replay erases again; verify
accepts the evidence throughout."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
import lethe_e2e as e2e
import lethe_engines

AS_OF = "2026-11-01"
tmp = e2e.tmpdir()
eng = lethe_engines.engine().start(tmp)
try:
    policies = os.path.join(e2e.SOURCE, "policies")
    eng.demo(os.path.join(tmp, "demo"), customers=200, policies=policies)
    site = os.path.join(tmp, "site")
    rc, out, err = e2e.run("init", site, "--database", eng.location(), "--policies", policies)
    e2e.equal(rc, 0, f"init ({err.strip()})")
    cfg = os.path.join(site, "lethe.yaml")

    def lethe(*args):
        return e2e.run("-c", cfg, *args)

    def chats(cid):
        return int(eng.sql(f"SELECT count(*) FROM chat_transcripts WHERE customer_id = {cid}")[0][0])

    def plan():
        rc, out, err = lethe("plan", "--as-of", AS_OF, "--json")
        e2e.equal(rc, 0, f"plan ({err.strip()})")
        return {r["name"]: r for r in json.loads(out)["rules"]}

    # the customers with the most chats: most of them are due by AS_OF
    ids = [int(r[0]) for r in eng.sql("SELECT customer_id FROM chat_transcripts WHERE customer_id IS NOT "
                                      "NULL GROUP BY customer_id ORDER BY count(*) DESC, customer_id "
                                      "LIMIT 3")]
    held = ids[0]
    # subjects with recent chats, which the run leaves (not due yet)
    erased, other = [int(r[0]) for r in eng.sql(
        "SELECT customer_id FROM chat_transcripts WHERE customer_id IS NOT NULL "
        f"AND customer_id <> {held} AND ended_at >= '2026-03-01' "
        "GROUP BY customer_id ORDER BY max(ended_at) DESC, customer_id LIMIT 2")]
    before = plan()
    rc, out, err = lethe("hold", "add", "--reason", "dispute 17", "--subject", str(held))
    e2e.equal(rc, 0, f"hold on subject {held} ({err.strip()})")
    hold_id = re.search(r"\d+", out + err).group(0) if rc == 0 else "1"
    after = plan()
    e2e.check(after["chat-transcripts"]["held"] > 0, f"plan counts held chats "
              f"({after['chat-transcripts']['held']})")
    e2e.equal(after["chat-transcripts"]["due"] + after["chat-transcripts"]["held"],
              before["chat-transcripts"]["due"], "held rows are no longer due")
    n_held = chats(held)
    rc, out, err = lethe("run", "--as-of", AS_OF)
    e2e.equal(rc, 0, f"run with a hold ({err.strip()[-300:]})")
    e2e.equal(chats(held), n_held, "the held subject's chats survive the run")
    rc, out, err = lethe("hold", "list")
    e2e.check(rc == 0 and "dispute 17" in out, "hold list shows the hold")
    rc, out, err = lethe("hold", "release", hold_id, "--reason", "settled")
    e2e.equal(rc, 0, f"hold released ({err.strip()})")
    e2e.check(plan()["chat-transcripts"]["held"] == 0, "nothing held after the release")

    backup = eng.backup(os.path.join(tmp, "backup"))
    n_other = chats(other)
    e2e.check(chats(erased) > 0, f"subject {erased} has chats left before the erasure")
    rc, out, err = lethe("erase", "--subject", str(erased), "--received", AS_OF)
    e2e.equal(rc, 0, f"erase subject {erased} ({err.strip()[-300:]})")
    e2e.equal(chats(erased), 0, "the erased subject's chats are gone")
    name = eng.sql(f"SELECT name FROM customers WHERE id = {erased}")[0][0]
    e2e.check(name.startswith("tok_"), "the erased account is pseudonymised")
    e2e.check(n_other > 0 and chats(other) == n_other, f"another subject's chats stay ({n_other})")

    out_zip = os.path.join(tmp, "access.zip")
    rc, out, err = lethe("access", "--subject", str(other), "--output", out_zip)
    e2e.check(rc == 0 and os.path.getsize(out_zip) > 0, f"access export written ({err.strip()[-200:]})")
    rc, out, err = lethe("status")
    e2e.equal(rc, 0, f"status ({err.strip()})")

    eng.restore(backup)
    e2e.check(chats(erased) > 0, "the restore brings the erased chats back")
    rc, out, err = lethe("replay")
    e2e.equal(rc, 0, f"replay ({err.strip()[-300:]})")
    e2e.equal(chats(erased), 0, "replay erases them again")
    rc, out, err = lethe("verify")
    e2e.equal(rc, 0, f"verify ({err.strip()})")
finally:
    eng.stop()
e2e.finish()
