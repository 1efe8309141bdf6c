"""cmake --install into a DESTDIR (prefix /usr) places the binary, man pages,
the example /etc/lethe/lethe.yaml, the reference policies, the units, the
sysusers entry and bash completion; the installed binary runs the demo from
there (finding its policies beside itself) and a whole day on a site with the
example configuration and systemd-style credentials; the man pages render
without warnings; the units pass systemd-analyze verify and score at most 1.0
with systemd-analyze security --offline=yes (skipped, with a message, where
systemd-analyze is absent)."""
import json
import os
import re
import shutil
import subprocess
from lethe_e2e import check, equal, finish, tmpdir

BUILD = os.environ["LETHE_BUILD"]
d = tmpdir()
dest = os.path.join(d, "dest")
env = dict(os.environ, DESTDIR=dest)
p = subprocess.run(["cmake", "--install", BUILD, "--prefix", "/usr"], env=env, capture_output=True,
                   text=True)
equal(p.returncode, 0, f"cmake --install into DESTDIR ({p.stderr.strip()})")


def at(path):
    return os.path.join(dest, path.lstrip("/"))


LETHE = at("/usr/bin/lethe")
FILES = ["/usr/bin/lethe", "/usr/share/man/man1/lethe.1", "/usr/share/man/man5/lethe.yaml.5",
         "/usr/share/man/man5/lethe-policy.5", "/etc/lethe/lethe.yaml",
         "/usr/share/lethe/policies/10-bookkeeping.yaml", "/usr/lib/systemd/system/lethe.service",
         "/usr/lib/systemd/system/lethe.timer", "/usr/lib/sysusers.d/lethe.conf",
         "/usr/share/bash-completion/completions/lethe", "/usr/share/doc/lethe/operations.md",
         "/usr/share/locale/fi/LC_MESSAGES/lethe.mo", "/usr/share/locale/sv/LC_MESSAGES/lethe.mo",
         "/etc/lethe/lethe.yaml.example", "/usr/share/zsh/vendor-completions/_lethe",
         "/usr/share/fish/vendor_completions.d/lethe.fish"]
for f in FILES:
    check(os.path.isfile(at(f)), f"installed {f}")
check(os.access(LETHE, os.X_OK), "the installed lethe is executable")

# Crash points only in a test build: a build with the default options installs
# a binary without them (not even the name of the variable that triggers
# them). A test build (LETHE_TEST_HOOKS=ON) installs one with them, which
# shows that this check sees them; tests/run and .ci/run also install a
# default build and run this test on it.
with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
    hooks = re.search(r"^LETHE_TEST_HOOKS:BOOL=(ON|TRUE|1|YES)$", f.read(), re.M | re.I) is not None
if os.path.isfile(LETHE):
    with open(LETHE, "rb") as f:
        has = b"LETHE_TEST_CRASH" in f.read()
    if hooks:
        check(has, "a test build (LETHE_TEST_HOOKS=ON) installs its crash points")
    else:
        check(not has, "a default build installs a binary without crash points")


def lethe(*args, extra=None):
    e = dict(os.environ)
    e.pop("LETHE_CONFIG", None)
    e.pop("CREDENTIALS_DIRECTORY", None)
    e.update(extra or {})
    p = subprocess.run([LETHE, *args], env=e, capture_output=True, text=True, timeout=600)
    return p.returncode, p.stdout, p.stderr


rc, out, _ = lethe("--version")
check(rc == 0 and out.startswith("lethe "), f"--version: {out.strip()}")
rc, out, _ = lethe("help")
check(rc == 0 and all(c in out for c in ("check", "plan", "run", "status", "verify", "init", "demo")),
      "help lists every command")
for c in ("check", "plan", "run", "status", "verify", "init", "demo"):
    rc, out, _ = lethe(c, "--help")
    check(rc == 0 and out.startswith("usage: lethe"), f"{c} --help")

# The demo from the installed binary takes the installed policies.
shop = os.path.join(d, "shop")
rc, _, err = lethe("demo", shop, "--customers", "300")
equal(rc, 0, f"installed lethe demo ({err.strip()})")
cfg_text = open(os.path.join(shop, "lethe.yaml")).read()
check(os.path.realpath(at("/usr/share/lethe/policies")) in cfg_text,
      "demo uses the installed reference policies")
rc, _, err = lethe("-c", os.path.join(shop, "lethe.yaml"), "check")
equal(rc, 0, f"installed check on the demo ({err.strip()})")
rc, out, _ = lethe("-c", os.path.join(shop, "lethe.yaml"), "plan", "--as-of", "2026-11-01", "--json")
equal(rc, 0, "installed plan on the demo")
check(sum(r["due"] for r in json.loads(out)["rules"]) > 0, "the plan finds rows due")
rc, out, err = lethe("-c", os.path.join(shop, "lethe.yaml"), "notice", "--lang", "fi")
check(rc == 0 and out.startswith("# Rekisteri- ja tietosuojaseloste"),
      f"the installed lethe writes the Finnish notice with the installed catalog ({err.strip()})")

# A day as the service has it: the example configuration, keys as credentials.
site = os.path.join(d, "site")
rc, _, err = lethe("init", site, "--database", os.path.join(shop, "shop.sqlite"))
equal(rc, 0, f"installed init ({err.strip()})")
example = open(at("/etc/lethe/lethe.yaml")).read()
check("credential:pseudonym.key" in example and "credential:lethe_ed25519" in example,
      "the example configuration takes its keys from credentials")
example = (example.replace("/var/lib/lethe/shop.sqlite", os.path.join(shop, "shop.sqlite"))
           .replace("/etc/lethe/policies", at("/usr/share/lethe/policies"))
           .replace("/var/lib/lethe/evidence", os.path.join(site, "evidence"))
           .replace("/etc/lethe/keys", os.path.join(site, "keys")))
cfg = os.path.join(d, "lethe.yaml")
open(cfg, "w").write(example)
creds = {"CREDENTIALS_DIRECTORY": os.path.join(site, "keys")}
rc, _, err = lethe("-c", cfg, "check")
equal(rc, 78, "credentials without $CREDENTIALS_DIRECTORY: configuration error")
check("needs $CREDENTIALS_DIRECTORY" in err, f"... saying why: {err.strip()}")
rc, _, err = lethe("-q", "-c", cfg, "run", "--as-of", "2026-11-01", "--max-rows-per-rule", "0",
                   extra=creds)
equal(rc, 0, f"a run with the example configuration and credentials ({err.strip()})")
rc, out, err = lethe("-c", cfg, "status", "--json", "--as-of", "2026-11-01", extra=creds)
equal(rc, 0, f"status after the run ({err.strip()})")
check(json.loads(out)["last_run"]["result"] == "completed", "status shows the completed run")
rc, _, err = lethe("-c", cfg, "verify", extra=creds)
equal(rc, 0, f"the evidence verifies ({err.strip()})")

# Man pages render without warnings, and lethe(1) documents every command and exit status.
mandir = at("/usr/share/man")
menv = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
for page in ("man1/lethe.1", "man5/lethe.yaml.5", "man5/lethe-policy.5"):
    p = subprocess.run(["man", "--warnings", "-l", os.path.join(mandir, page)], env=menv,
                       capture_output=True, text=True)
    check(p.returncode == 0 and p.stdout.strip() and not p.stderr.strip(),
          f"man -l {page} renders without warnings {p.stderr.strip()!r}")
    if page.endswith("lethe.1"):
        text = p.stdout
        for c in ("check", "plan", "run", "status", "verify", "init", "demo", "help"):
            check(re.search(rf"^\s+{c}\b", text, re.M), f"lethe(1) documents {c}")
        for status in ("0", "1", "64", "65", "66", "70", "73", "74", "75", "77", "78"):
            check(re.search(rf"^\s+{status}\s*$", text, re.M), f"lethe(1) documents exit {status}")

# Bash completion completes commands and options.
comp = at("/usr/share/bash-completion/completions/lethe")
p = subprocess.run(["bash", "-c", f"source '{comp}'; COMP_WORDS=(lethe st); COMP_CWORD=1; _lethe; "
                    "echo ${COMPREPLY[@]}; COMP_WORDS=(lethe -c x.yaml run --d); COMP_CWORD=4; "
                    "_lethe; echo ${COMPREPLY[@]}"], capture_output=True, text=True)
equal(p.stdout.split("\n")[:2], ["status", "--dry-run"], "bash completion")

# The units.
service = open(at("/usr/lib/systemd/system/lethe.service")).read()
timer = open(at("/usr/lib/systemd/system/lethe.timer")).read()
for want in ("Type=oneshot", "User=lethe", "ExecStart=/usr/bin/lethe -c /etc/lethe/lethe.yaml run",
             "UMask=0077", "NoNewPrivileges=yes", "PrivateTmp=yes", "ProtectSystem=strict",
             "PrivateNetwork=yes", "SystemCallFilter=@system-service", "ReadWritePaths=/var/lib/lethe",
             "LoadCredential=pseudonym.key:", "RestartPreventExitStatus="):
    check(want in service, f"lethe.service has {want}")
check("75" not in re.search(r"RestartPreventExitStatus=(.*)", service).group(1).split(),
      "exit 75 (temporary) is retried")
for want in ("OnCalendar=daily", "Persistent=true", "RandomizedDelaySec="):
    check(want in timer, f"lethe.timer has {want}")

analyze = shutil.which("systemd-analyze")
if not analyze:
    print("skip: systemd-analyze is absent, the units are not verified or scored")
else:
    # verify checks that ExecStart exists, so the copy names the binary in the DESTDIR.
    units = os.path.join(d, "units")
    os.mkdir(units)
    open(os.path.join(units, "lethe.service"), "w").write(
        service.replace("ExecStart=/usr/bin/lethe", f"ExecStart={LETHE}"))
    open(os.path.join(units, "lethe.timer"), "w").write(timer)
    venv = dict(os.environ, MANPATH=mandir)  # Documentation=man:... must resolve
    p = subprocess.run([analyze, "verify", os.path.join(units, "lethe.service"),
                        os.path.join(units, "lethe.timer")], env=venv, capture_output=True,
                       text=True, cwd=units)
    check(p.returncode == 0 and not p.stderr.strip() and not p.stdout.strip(),
          f"systemd-analyze verify is clean: {(p.stdout + p.stderr).strip()!r}")
    p = subprocess.run([analyze, "security", "--offline=yes", at("/usr/lib/systemd/system/lethe.service")],
                       capture_output=True, text=True, cwd=units)
    m = re.search(r"Overall exposure level for lethe.service: ([0-9.]+) (\w+)", p.stdout)
    check(m is not None, f"systemd-analyze security scores the unit {p.stderr.strip()!r}")
    if m:
        check(float(m.group(1)) <= 1.0, f"exposure {m.group(1)} {m.group(2)} is at most 1.0")

# A second install keeps the operator's edited configuration and lays the
# new example beside it.
cfg_path = at("/etc/lethe/lethe.yaml")
check(os.path.isfile(at("/etc/lethe/lethe.yaml.example")), "lethe.yaml.example installed")
with open(cfg_path, "a") as f:
    f.write("# edited by the operator\n")
edited = open(cfg_path).read()
p = subprocess.run(["cmake", "--install", BUILD, "--prefix", "/usr"], env=env, capture_output=True,
                   text=True)
equal(p.returncode, 0, f"a second cmake --install ({p.stderr.strip()})")
equal(open(cfg_path).read(), edited, "a second install keeps the edited /etc/lethe/lethe.yaml")
finish()
