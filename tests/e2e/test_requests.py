"""The register of requests (GDPR 12(3): an answer within one month of
receipt, extendable by two further months with a reason), on the reference
shop:
- `access` and `erase` with --received register an answered request with its
  deadline (2026-01-31 -> 2026-02-28, 2026-03-15 -> 2026-04-15), computed
  independently in SQL; a --received after today or unparsable exits 64 and
  registers nothing;
- `requests add` registers an open request; `requests` (text and --json)
  lists every request oldest first; an open request whose deadline is within
  7 days, or passed, makes `status` warn (text and --json);
- `requests extend` moves the deadline (then status no longer warns) and is
  refused beyond three months from receipt;
- a later `erase` answers the open request, keeping its received day;
- the evidence records received and answered dates, holds neither a subject
  key nor the extension's reason, the register holds digests only, and
  `lethe verify` passes; the verifier refuses a `received` that is not a
  date in an erasure intent (signed by hand)."""
import datetime
import json
import os
import sqlite3
from lethe_e2e import SOURCE, add_months, check, equal, finish, run, tmpdir
from lethe_run_e2e import config, evidence_records

d = tmpdir()
rc, out, err = run("demo", os.path.join(d, "db"), "--customers", "120")
equal(rc, 0, "demo register")
db = os.path.join(d, "db", "shop.sqlite")
cfg = config(d, db, os.path.abspath(os.path.join(SOURCE, "policies")))

today = datetime.datetime.now(datetime.timezone.utc).date()


def day(n):
    """Today + n days, as YYYY-MM-DD."""
    return (today + datetime.timedelta(days=n)).isoformat()


def months_after(received, n):
    """received + n months, clamped to the month's end, by SQLite's calendar."""
    return sqlite3.connect(":memory:").execute("SELECT " + add_months(f"'{received}'", n)).fetchone()[0]


def register():
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return c.execute("SELECT id, kind, subject_digest, received, deadline, answered_at, "
                         "extended_until, extension_reason FROM lethe_requests ORDER BY id").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        c.close()


def listed():
    rc, out, err = run("-c", cfg, "requests", "--json")
    equal(rc, 0, f"requests --json exits 0 ({err.strip()})")
    return json.loads(out) if rc == 0 else []


con = sqlite3.connect(db)
ids = [r[0] for r in con.execute("SELECT id FROM customers WHERE name NOT LIKE 'tok_%' ORDER BY id LIMIT 4")]
con.close()
s_access, s_erase, s_open, s_late = (str(i) for i in ids)

equal(months_after("2026-01-31", 1), "2026-02-28", "the SQL reference clamps to the month's end")

# access and erase with --received
rc, out, err = run("-c", cfg, "access", "--subject", s_access, "--output", os.path.join(d, "a.zip"),
                   "--received", "2026-01-31")
equal(rc, 0, f"access --received 2026-01-31 exits 0 ({err.strip()})")
rc, out, err = run("-c", cfg, "erase", "--subject", s_erase, "--received", "2026-03-15")
equal(rc, 0, f"erase --received 2026-03-15 exits 0 ({err.strip()})")
reg = register()
equal([(r[1], r[3], r[4], r[5]) for r in reg],
      [("access", "2026-01-31", "2026-02-28", today.isoformat()),
       ("erasure", "2026-03-15", "2026-04-15", today.isoformat())],
      "the register has both requests: kind, received, deadline (one month), answered today")

# bad --received: after today, unparsable; nothing registered
for args in (["access", "--subject", s_access, "--output", os.path.join(d, "b.zip"), "--received", day(1)],
             ["erase", "--subject", s_erase, "--received", day(1)],
             ["erase", "--subject", s_erase, "--received", "2026-02-30"],
             ["access", "--subject", s_access, "--output", os.path.join(d, "c.zip"), "--received", "yesterday"],
             ["requests", "add", "--kind", "access", "--subject", s_open, "--received", day(1)],
             ["requests", "add", "--kind", "complaint", "--subject", s_open]):
    rc, out, err = run("-c", cfg, *args)
    equal(rc, 64, f"{' '.join(args[:2] + args[-2:])} exits 64")
equal(len(register()), 2, "refused requests register nothing")
check(not os.path.exists(os.path.join(d, "b.zip")), "and write no export")

# open requests: one due within 7 days, one past its deadline
near, late = day(-26), day(-40)
rc, out, err = run("-c", cfg, "requests", "add", "--kind", "erasure", "--subject", s_open, "--received", near)
equal(rc, 0, f"requests add (received {near}) exits 0 ({err.strip()})")
rc, out, err = run("-c", cfg, "requests", "add", "--kind", "access", "--subject", s_late, "--received", late)
equal(rc, 0, f"requests add (received {late}) exits 0 ({err.strip()})")
lst = listed()
equal([(r["kind"], r["received"], r["deadline"], r["state"]) for r in lst],
      sorted([("access", "2026-01-31", "2026-02-28", "answered"),
              ("erasure", "2026-03-15", "2026-04-15", "answered"),
              ("erasure", near, months_after(near, 1), "open"),
              ("access", late, months_after(late, 1), "open")], key=lambda t: t[1]),
      "requests --json lists all four, oldest received first, with deadlines and state")
open_id = next((r["id"] for r in lst if r["received"] == near), None)
late_id = next((r["id"] for r in lst if r["received"] == late), None)
rc, out, err = run("-c", cfg, "requests")
equal(rc, 0, "requests (text) exits 0")
check(months_after(near, 1) in out and "open" in out and "2026-04-15" in out,
      "the text lists deadlines and open requests")

rc, out, err = run("-c", cfg, "status", "--json")
warnings = json.loads(out).get("warnings", []) if out.strip().startswith("{") else []
near_w = [w for w in warnings if f"request {open_id} " in w]
late_w = [w for w in warnings if f"request {late_id} " in w]
check(len(near_w) == 1 and months_after(near, 1) in near_w[0] and "due by" in near_w[0],
      f"status --json warns of the request due within 7 days ({warnings})")
check(len(late_w) == 1 and "past its deadline" in late_w[0],
      f"status --json warns of the request past its deadline ({warnings})")
check(not any("2026-04-15" in w or "2026-02-28" in w for w in warnings), "answered requests do not warn")
rc, out, err = run("-c", cfg, "status")
check(f"request {open_id} " in out and f"request {late_id} " in out, "status text warns too")

# extension: at most three months from receipt, with a reason
REASON = "Plantedreason many linked accounts to search"
too_far = (datetime.date.fromisoformat(months_after(near, 3)) + datetime.timedelta(days=1)).isoformat()
rc, out, err = run("-c", cfg, "requests", "extend", str(open_id), "--until", too_far, "--reason", REASON)
equal(rc, 64, f"an extension to {too_far}, past three months from receipt, exits 64")
rc, out, err = run("-c", cfg, "requests", "extend", str(open_id), "--until", months_after(near, 2))
equal(rc, 64, "an extension without a reason exits 64")
equal([r[6] for r in register() if r[0] == open_id], [None], "refused extensions change nothing")
rc, out, err = run("-c", cfg, "requests", "extend", str(open_id), "--until", months_after(near, 3),
                   "--reason", REASON)
equal(rc, 0, f"an extension to three months after receipt exits 0 ({err.strip()})")
equal([(r[6], r[7]) for r in register() if r[0] == open_id], [(months_after(near, 3), REASON)],
      "the register keeps the extension and its reason")
rc, out, err = run("-c", cfg, "status", "--json")
warnings = json.loads(out).get("warnings", []) if out.strip().startswith("{") else []
check(not any(f"request {open_id} " in w for w in warnings) and any(f"request {late_id} " in w for w in warnings),
      "after the extension status no longer warns of it, still of the late one")

# the erasure answers the open request, its received day kept
rc, out, err = run("-c", cfg, "erase", "--subject", s_open)
equal(rc, 0, f"erase of the registered subject exits 0 ({err.strip()})")
row = [r for r in register() if r[0] == open_id]
equal([(r[3], r[5], r[6]) for r in row], [(near, today.isoformat(), months_after(near, 3))],
      "the open request is answered today, received and extension kept")
equal(len(register()), 4, "no new request for it")

# evidence: dates, digests, no key, no reason
recs = evidence_records(cfg)
erasures = [r for r in recs if r.get("kind") == "intent" and r.get("request") == "erasure"]
exports = [r for r in recs if r.get("kind") == "export"]
equal([(r.get("received"), r.get("answered")) for r in erasures],
      [("2026-03-15", today.isoformat()), (near, today.isoformat())],
      "each erasure intent records received and answered")
equal([(r.get("received"), r.get("answered")) for r in exports], [("2026-01-31", today.isoformat())],
      "the export records received and answered")
digests = {r[2] for r in register()}
check(all(len(x) == 64 and all(c in "0123456789abcdef" for c in x) for x in digests),
      "the register holds subject digests only")
equal({r["subject"] for r in erasures + exports}, {r[2] for r in register() if r[5]},
      "the evidence's subject digests are the register's")
text = json.dumps(recs)
check(REASON not in text, "the extension's reason is not in the evidence")
for r in erasures + exports:
    check(set(r) & {"subject_key", "key"} == set(), "no record carries a key field")
rc, out, err = run("-c", cfg, "verify")
equal(rc, 0, f"lethe verify passes ({out.strip()} {err.strip()})")

# the independent verifier: received and answered, when present, are dates
import lethe_verify_e2e as V  # noqa: E402  (builds its own signed repositories)


def erasure_intent(**dates):
    step = V.intent(1, V.RUN1, b"rules: [a]\n")
    rec = json.loads(step["record"])
    rec.update(request="erasure", subject="ab" * 32, **dates)
    step["record"] = json.dumps(rec, indent=2).encode()
    return step


good = V.build([erasure_intent(received="2025-11-01", answered="2025-11-24"), V.completion(2, V.RUN1, 1)])
rc, out, err = V.verify(good)
equal(rc, 0, f"verify accepts an erasure intent with received and answered dates ({out.strip()})")
for field, value in (("received", "2025-11-1"), ("answered", "yesterday")):
    bad = V.build([erasure_intent(**{field: value}), V.completion(2, V.RUN1, 1)])
    V.expect_fail(f"an erasure intent with {field} {value!r}", bad, 0, field)
finish()
