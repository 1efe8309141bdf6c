# engines: sqlite postgresql mariadb
"""Legal holds, on every engine (lethe_engines.py): a held row survives `run` and `erase` (plan counts it held,
the erasure answer says "kept: legal hold"), and goes after release; holds
and releases are signed evidence records that `lethe verify` accepts; a hold
whose --until has passed no longer holds; bad holds are refused."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import lethe_engines
from lethe_e2e import check, equal, finish, run, tmpdir

AS_OF = "2026-11-01"
d = tmpdir()
eng = lethe_engines.engine().start(d)
eng.demo(os.path.join(d, "db"), customers=200)
rc, out, err = run("init", os.path.join(d, "site"), "--database", eng.location())
equal(rc, 0, "site")
cfg = os.path.join(d, "site", "lethe.yaml")
# A customer with a chat that is due (ended long ago), and a due delivery of another.
subject = int(eng.sql("SELECT customer_id FROM chat_transcripts WHERE ended_at < '2024-01-01' "
                      "AND customer_id IS NOT NULL ORDER BY customer_id LIMIT 1")[0][0])
chats = [int(r[0]) for r in eng.sql(f"SELECT id FROM chat_transcripts WHERE customer_id = {subject} "
                                    "AND ended_at < '2024-01-01'")]
delivery = int(eng.sql("SELECT d.id FROM deliveries d JOIN orders o ON o.id = d.order_id "
                       f"WHERE d.delivered_at < '2024-01-01' AND o.customer_id <> {subject} "
                       "ORDER BY d.id LIMIT 1")[0][0])


def lethe(*args):
    return run("-c", cfg, *args)


def plan():
    rc, out, err = lethe("plan", "--as-of", AS_OF, "--json")
    return {r["name"]: r for r in json.loads(out)["rules"]}


def exists(table, rid):
    return int(eng.sql(f"SELECT count(*) FROM {table} WHERE id = {int(rid)}")[0][0]) == 1


before = plan()
rc, out, err = lethe("hold", "add", "--reason", "dispute 2026-17", "--subject", str(subject))
equal(rc, 0, f"hold on subject {subject} added ({err.strip()})")
subject_only = plan()
rc, out, err = lethe("hold", "add", "--reason", "claim", "--rule", "deliveries", "--where", f"id = {delivery}")
equal(rc, 0, "hold on one delivery added")
rc, out, err = lethe("hold", "add", "--reason", "old", "--rule", "feedback", "--until", "2020-01-01")
equal(rc, 0, "a hold that has already lapsed")
after = plan()
equal(after["chat-transcripts"]["held"], len(chats), "plan counts the subject's due chats held")
equal(after["chat-transcripts"]["due"], before["chat-transcripts"]["due"] - len(chats), "and not due")
equal(after["deliveries"]["held"], subject_only["deliveries"]["held"] + 1, "plan counts the held delivery")
equal(after["feedback"]["held"], 0, "a lapsed hold holds nothing")

rc, out, err = lethe("run", "--as-of", AS_OF)
equal(rc, 0, "run")
check(all(exists("chat_transcripts", c) for c in chats), "the held chats survive run")
check(exists("deliveries", delivery), "the held delivery survives run")

rc, out, err = lethe("erase", "--subject", str(subject), "--json")
equal(rc, 0, "erase of the held subject")
cats = {c["rule"]: c for c in json.loads(out)["categories"]}
equal(cats["chat-transcripts"]["kept_reason"], "kept: legal hold", "the answer says kept: legal hold")
check(all(exists("chat_transcripts", c) for c in chats), "the held chats survive erase")

rc, out, err = lethe("hold", "list", "--json")
holds = json.loads(out)
equal([h["in_force"] for h in holds], [True, True, True], "three holds listed")
rc, out, err = lethe("hold", "release", "1", "--reason", "settled")
equal(rc, 0, "release")
rc, out, err = lethe("hold", "release", "1", "--reason", "again")
equal(rc, 65, "releasing a released hold: 65")
rc, out, err = lethe("run", "--as-of", AS_OF)
equal(rc, 0, "run after release")
check(not any(exists("chat_transcripts", c) for c in chats), "after release the chats go")
check(exists("deliveries", delivery), "the delivery still held")

rc, out, err = lethe("hold", "add", "--reason", "x", "--rule", "deliveries", "--where", "random() > 0")
equal(rc, 65, "a hold's --where is checked like a policy expression")
rc, out, err = lethe("hold", "add", "--reason", "x", "--rule", "no-such-rule")
equal(rc, 65, "a hold on an unknown rule: 65")
rc, out, err = lethe("hold", "add", "--subject", "1")
equal(rc, 64, "a hold without a reason: 64")

repo = os.path.join(d, "site", "evidence")
kinds = subprocess.run(["git", "-C", repo, "log", "--format=%s"], capture_output=True, text=True).stdout
check("hold" in kinds and "release" in kinds, "holds and releases are evidence commits")
rc, out, err = run("verify", "--allowed-signers", os.path.join(d, "site", "keys", "allowed_signers"), repo)
equal(rc, 0, f"lethe verify passes ({out.strip()} {err.strip()})")
eng.stop()
finish()
