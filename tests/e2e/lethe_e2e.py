"""Shared helpers for the end-to-end tests: run the built `lethe` on real
files and compute expectations with independent SQL (Python's sqlite3).

The environment gives LETHE (the binary) and LETHE_SOURCE (the repository)."""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

LETHE = os.environ.get("LETHE") or os.path.join(os.path.dirname(__file__), "../../build/lethe")
SOURCE = os.environ.get("LETHE_SOURCE") or os.path.join(os.path.dirname(__file__), "../..")

failures = []


def run(*args, cwd=None, env=None):
    """Run lethe; returns (exit status, stdout, stderr)."""
    e = dict(os.environ)
    e.pop("LETHE_CONFIG", None)
    if env:
        e.update(env)
    cmd = [LETHE, *args]
    # LETHE_VALGRIND=1: every lethe under memcheck; an error or leak exits 99.
    if os.environ.get("LETHE_VALGRIND") and not e.get("LETHE_TEST_CRASH"):
        cmd = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
               "--errors-for-leak-kinds=definite,indirect", "--show-leak-kinds=definite,indirect",
               *cmd]
    p = subprocess.run(cmd, cwd=cwd, env=e, capture_output=True, text=True, timeout=1800)
    if p.returncode == 99:
        failures.append(f"valgrind: lethe {' '.join(args)}")
        print(f"FAIL valgrind found errors in: lethe {' '.join(args)}\n{p.stderr}")
    return p.returncode, p.stdout, p.stderr


def check(cond, what):
    if cond:
        print(f"ok   {what}")
    else:
        print(f"FAIL {what}")
        failures.append(what)


def equal(got, want, what):
    check(got == want, f"{what}: got {got!r}, want {want!r}")


def finish():
    n = len(failures)
    print(f"{n} failed" if n else "all passed")
    sys.exit(1 if n else 0)


# Crash points (LETHE_TEST_CRASH) exist only in a test build: CMake option
# LETHE_TEST_HOOKS, which tests/run and .ci/run turn on (enforcer/testhook.h).
HOOKS_HOW = "configure with -DLETHE_TEST_HOOKS=ON (tests/run does)"


def test_hooks():
    """Whether the lethe under test was built with crash points: only such a
    binary holds the name of the variable that triggers them."""
    with open(LETHE, "rb") as f:
        return b"LETHE_TEST_CRASH" in f.read()


def skip_note(what):
    print(f"SKIP {what}: {LETHE} has no crash points; {HOOKS_HOW}")


def require_test_hooks(what):
    """Exit 77 (ctest: skipped) unless the binary has crash points."""
    if not test_hooks():
        skip_note(what)
        sys.exit(77)


def tmpdir():
    d = tempfile.mkdtemp(prefix="lethe-e2e-")
    import atexit
    atexit.register(shutil.rmtree, d, True)
    return d


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def config(dirpath, database, policies):
    path = os.path.join(dirpath, "lethe.yaml")
    write(path, f"database: {database}\npolicies: {policies}\n")
    return path


def plan_json(cfg, as_of):
    rc, out, err = run("-c", cfg, "plan", "--as-of", as_of, "--json")
    if rc != 0:
        print(err)
    check(rc == 0, f"plan --as-of {as_of} exits 0 (got {rc})")
    return {r["name"]: r for r in json.loads(out)["rules"]} if rc == 0 else {}


# --- independent calendar arithmetic in SQL ------------------------------
# SQLite's own date(x, '+1 month') overflows (2024-01-31 -> 2024-03-02); the
# contract clamps to the month's end. When the day of month changed, the
# addition overflowed: go back to the last day of the month before.

def clock_day(x):
    """The UTC day of a clock value as SQL: ISO text or integer unix seconds."""
    # SQLite's date() passes impossible dates through (2024-02-30), a modifier
    # normalises them (to 2024-03-01),
    # and reads bare numbers as julian days: the contract calls both invalid.
    return (f"(CASE typeof({x}) WHEN 'integer' THEN date({x}, 'unixepoch') "
            f"WHEN 'text' THEN (CASE WHEN date(substr({x}, 1, 10), '+0 days') = substr({x}, 1, 10) "
            f"THEN date({x}) END) END)")


def add_months(day, n):
    return (f"(CASE WHEN strftime('%d', date({day}, '+{n} months')) = strftime('%d', {day}) "
            f"THEN date({day}, '+{n} months') "
            f"ELSE date({day}, '+{n} months', 'start of month', '-1 day') END)")


def add_days(day, n):
    return f"date({day}, '+{n} days')"


def end_of_year(day):
    return f"date({day}, 'start of year', '+1 year', '-1 day')"


def end_of_month(day):
    return f"date({day}, 'start of month', '+1 month', '-1 day')"
