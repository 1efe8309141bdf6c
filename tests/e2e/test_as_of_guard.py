"""Today is not in the future (issue 10, item 8; issue 11's "clock behind").

`run` disposes of what is due on its as-of day. It refuses an --as-of after
today's UTC date (exit 64, the register byte-identical, no evidence commit)
unless --allow-future-as-of; `plan` and `run --dry-run` stay free. With the
system clock behind the last evidence record, or more than
limits.max_days_between_runs (default 40) days after the last run, `run`
refuses (exit 79) and says which, unless --allow-clock-jump.

The clock is moved for real with libfaketime (LD_PRELOAD), no test seam:
every time() the binary and libgit2 call sees the faked clock."""
import datetime
import glob
import json
import os
import sqlite3
import subprocess
from lethe_e2e import check, equal, finish, run, sha256, tmpdir, write
from lethe_run_e2e import config

FAKETIME = (glob.glob("/usr/lib/*/faketime/libfaketime.so.1") +
            glob.glob("/usr/lib/faketime/libfaketime.so.1"))
check(bool(FAKETIME), "libfaketime is installed (scripts/deps installs it)")


def faked(offset):
    """The environment for a lethe whose clock is `offset` (libfaketime syntax:
    "-10m", "+50d") away from the real one."""
    env = {"LD_PRELOAD": FAKETIME[0] if FAKETIME else "", "FAKETIME": offset,
           "FAKETIME_DONT_RESET": "1"}
    # an ASan build wants its runtime first; libfaketime only wraps time calls
    env["ASAN_OPTIONS"] = (os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0").lstrip(":")
    return env


today = datetime.datetime.now(datetime.timezone.utc).date()
tomorrow = today + datetime.timedelta(days=1)

d = tmpdir()
db = os.path.join(d, "shop.sqlite")
con = sqlite3.connect(db)
con.executescript("""
CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL, created_at TEXT NOT NULL);
""")
# one note due long ago, one due exactly tomorrow (created a year before it),
# one due next year
con.execute("INSERT INTO notes VALUES (1, 'old', '2001-01-01')")
con.execute("INSERT INTO notes VALUES (2, 'due tomorrow', date(?, '-1 year'))", (today.isoformat(),))
con.execute("INSERT INTO notes VALUES (3, 'recent', ?)", (today.isoformat(),))
con.commit()
con.close()

pol = os.path.join(d, "policies")
os.makedirs(pol)
write(os.path.join(pol, "notes.yaml"), """lethe: 1
rules:
  - name: old-notes
    basis: test
    table: notes
    from: created_at
    retain: 1 year
    action: delete
""")
cfg = config(d, db, pol)
repo = os.path.join(d, "site1", "evidence")


def head():
    p = subprocess.run(["git", "-C", repo, "rev-parse", "--verify", "-q", "main"],
                       capture_output=True, text=True)
    return p.stdout.strip()


def ids():
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return sorted(r[0] for r in c.execute("SELECT id FROM notes"))
    finally:
        c.close()


def refused(args, want, env, what, says):
    before, before_head = sha256(db), head()
    rc, out, err = run("-c", cfg, *args, env=env)
    equal(rc, want, f"{what} is refused ({err.strip()[:300]})")
    for want_text in ([says] if isinstance(says, str) else says):
        check(want_text in err, f"{what}: the message says '{want_text}'")
    equal(sha256(db), before, f"{what}: the register is byte-identical")
    equal(head(), before_head, f"{what}: no new evidence commit")


# --- a future as-of ----------------------------------------------------------------
T = tomorrow.isoformat()
before = sha256(db)
rc, out, err = run("-c", cfg, "plan", "--as-of", T, "--json")
equal(rc, 0, f"plan --as-of {T} (tomorrow) is free ({err.strip()})")
equal(json.loads(out)["rules"][0]["due"] if rc == 0 else None, 2, "two notes are due tomorrow")
rc, out, err = run("-c", cfg, "plan", "--json")
equal(json.loads(out)["rules"][0]["due"] if rc == 0 else None, 1, "one note is due today")
rc, out, err = run("-c", cfg, "run", "--as-of", T, "--dry-run")
equal(rc, 0, f"run --dry-run --as-of {T} is free ({err.strip()})")
equal(sha256(db), before, "the dry run changed nothing")
refused(["run", "--as-of", T], 64, None, f"run --as-of {T} (tomorrow)", "after today")
refused(["run", "--as-of", "2099-01-01"], 64, None, "run --as-of 2099-01-01", "--allow-future-as-of")
equal(ids(), [1, 2, 3], "nothing was disposed")

rc, out, err = run("-c", cfg, "run", "--as-of", T, "--allow-future-as-of")
equal(rc, 0, f"run --as-of {T} --allow-future-as-of disposes on purpose ({err.strip()})")
equal(ids(), [3], "the override disposed of what is due tomorrow")

# --- the clock behind the evidence ----------------------------------------------------
# (the last record was made seconds ago: ten minutes back is behind it; also
# two days back, behind the day of the last run)
for off in ("-10m", "-2d"):
    refused(["run"], 79, faked(off), f"run with the clock {off} behind", "clock behind the evidence")
rc, out, err = run("-c", cfg, "run", "--dry-run", env=faked("-2d"))
equal(rc, 0, f"run --dry-run with the clock behind is free ({err.strip()})")
rc, out, err = run("-c", cfg, "plan", env=faked("-2d"))
equal(rc, 0, f"plan with the clock behind is free ({err.strip()})")

# --- a clock jump ---------------------------------------------------------------------
refused(["run"], 79, faked("+50d"), "run 50 days after the last run (default limit 40)",
        ["clock jumped", "more than limits.max_days_between_runs (40)"])
write(cfg, open(cfg).read() + "limits:\n  max_days_between_runs: 60\n")
rc, out, err = run("-c", cfg, "run", env=faked("+50d"))
equal(rc, 0, f"with limits.max_days_between_runs: 60 a run 50 days later goes ahead ({err.strip()})")
refused(["run"], 79, faked("+120d"), "run 70 days after that run (limit 60)",
        ["clock jumped", "more than limits.max_days_between_runs (60)"])
rc, out, err = run("-c", cfg, "run", "--allow-clock-jump", env=faked("+120d"))
equal(rc, 0, f"--allow-clock-jump lets the run go ahead ({err.strip()})")
rc, out, err = run("-c", cfg, "run", env=faked("+121d"))
equal(rc, 0, f"the next day's run goes ahead without any flag ({err.strip()})")

write(cfg, open(cfg).read().replace("max_days_between_runs: 60", "max_days_between_runs: -1"))
rc, out, err = run("-c", cfg, "check")
equal(rc, 78, f"limits.max_days_between_runs: -1 is a configuration fault ({err.strip()})")
finish()
