"""Lethe's message catalogs are complete: every message marked in the sources
(_(), N_(), P_() of lethe/i18n.h, found by xgettext) is in po/fi.po and
po/sv.po, translated and not fuzzy, with the same printf conversions (msgfmt
--check-format); and each catalog answers its own language code, which the
command layer uses to prove a catalog was read."""
import glob
import os
import shutil
import subprocess
import sys
from lethe_e2e import SOURCE, check, equal, finish, tmpdir

if not shutil.which("xgettext") or not shutil.which("msgcmp"):
    print("SKIP gettext tools not installed (bash scripts/deps)")
    sys.exit(77)
d = tmpdir()
pot = os.path.join(d, "lethe.pot")
sources = sorted(glob.glob(os.path.join(SOURCE, "enforcer", "*.c")) +
                 glob.glob(os.path.join(SOURCE, "enforcer", "cli", "*.c")))
p = subprocess.run(["xgettext", "--language=C", "--from-code=UTF-8", "--keyword=_", "--keyword=N_",
                    "--keyword=P_:1,2", "--no-location", "-o", pot, *sources], capture_output=True, text=True)
equal(p.returncode, 0, f"xgettext extracts the messages ({p.stderr.strip()})")
check("warning" not in p.stderr, f"xgettext has no warnings: {p.stderr.strip()}")
count = open(pot, encoding="utf-8").read().count("\nmsgid ")
check(count > 80, f"the sources mark their messages ({count})")
for lang in ("fi", "sv"):
    po = os.path.join(SOURCE, "po", f"{lang}.po")
    p = subprocess.run(["msgcmp", po, pot], capture_output=True, text=True)
    equal(p.returncode, 0, f"{lang}.po has every message of the sources ({p.stderr.strip()[:500]})")
    p = subprocess.run(["msgfmt", "--check", "--statistics", "-o", os.devnull, po],
                       capture_output=True, text=True)
    equal(p.returncode, 0, f"{lang}.po compiles with --check ({p.stderr.strip()[:500]})")
    check("fuzzy" not in p.stderr and "untranslated" not in p.stderr,
          f"{lang}.po: every message translated, none fuzzy ({p.stderr.strip()})")
    text = open(po, encoding="utf-8").read()
    check(f'msgid "@language-code"\nmsgstr "{lang}"' in text, f"{lang}.po answers its own code")
finish()
