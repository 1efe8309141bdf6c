"""The Debian package (debian/): built by dpkg-buildpackage from a copy of the
source tree, lintian clean at warning level; installed with dpkg into this
machine, it creates the lethe user, and the service's command runs as that
user; the operator edits /etc/lethe/lethe.yaml, and a second version
(a higher changelog entry, a changed example configuration) upgrades it
without a prompt and keeps the edited conffile; purge removes the files and
the conffile. In between, the recipes of docs/operations.md run as written
on the installed package (lethe_recipes.py): first run, monitoring, backup,
erasure by customer service, two key rotations in a row, restore with
replay. The machine is left as it was found: the package purged, what the
recipes made removed (/etc/lethe, /var/lib/lethe, /srv/backup, git's
system safe.directory), the lethe user removed when this test created it.

Needs root (dpkg -i); skipped (77) when not root or without dpkg-buildpackage,
and when a lethe is installed already (this test would replace it). Tests run
in parallel and by several people on one machine: a lock file serialises
the runs of this test, and dpkg is retried while another dpkg holds its lock."""
import fcntl
import glob
import json
import os
import pwd
import sqlite3
import shutil
import subprocess
import sys
import time
from lethe_e2e import check, equal, finish, tmpdir
from lethe_recipes import recipe, run_recipe, sh_blocks, systemd_shims

SRC = os.environ["LETHE_SOURCE"]
if shutil.which("dpkg-buildpackage") is None:
    print("SKIP: dpkg-buildpackage is absent (bash scripts/deps installs dpkg-dev and debhelper)")
    sys.exit(77)
if os.geteuid() != 0:
    print("SKIP: installing a package needs root")
    sys.exit(77)

lock = open("/run/lock/lethe-e2e-deb.lock", "w")
fcntl.flock(lock, fcntl.LOCK_EX)


def installed_version():
    p = subprocess.run(["dpkg-query", "-W", "-f=${Status} ${Version}", "lethe"],
                       capture_output=True, text=True)
    parts = p.stdout.split()
    return parts[-1] if p.returncode == 0 and "installed" in parts[:3] and parts[2] != "not-installed" \
        else None


if installed_version() or any(os.path.exists(p) for p in ("/usr/bin/lethe", "/etc/lethe", "/srv/backup")):
    print("SKIP: a lethe is installed on this machine already (/usr/bin/lethe, /etc/lethe, /srv/backup "
          "or the package); this test would replace it")
    sys.exit(77)


def user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


had_user = user_exists("lethe")
had_state = os.path.exists("/var/lib/lethe")
# the backup recipe declares the evidence safe in git's system configuration
gitconfig = open("/etc/gitconfig").read() if os.path.exists("/etc/gitconfig") else None
d = tmpdir()
os.chmod(d, 0o755)  # the lethe user reaches its site below


def sh(*args, cwd=None, env=None, timeout=900):
    return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def dpkg(*args):
    """dpkg, retried for up to two minutes while another dpkg holds its lock."""
    for _ in range(60):
        p = sh("dpkg", *args, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        if p.returncode == 0 or "lock" not in p.stderr:
            return p
        time.sleep(2)
    return p


# A copy of the tree: the files git knows, plus new ones it does not ignore.
src = os.path.join(d, "lethe")
p = sh("git", "-C", SRC, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
if p.returncode == 0:
    for rel in filter(None, p.stdout.split("\0")):
        if os.path.isfile(os.path.join(SRC, rel)):
            os.makedirs(os.path.dirname(os.path.join(src, rel)), exist_ok=True)
            shutil.copy2(os.path.join(SRC, rel), os.path.join(src, rel))
else:
    shutil.copytree(SRC, src, symlinks=True, ignore=lambda where, names: [
        n for n in names if where == SRC and (n.startswith("build") or n == ".git")])
for f in ("debian/control", "debian/rules", "debian/changelog", "debian/copyright",
          "debian/source/format", "debian/postinst", "debian/postrm"):
    check(os.path.isfile(os.path.join(src, f)), f"the source has {f}")

benv = dict(os.environ, DEB_BUILD_OPTIONS="nocheck parallel=2")
for k in ("LETHE", "LETHE_BUILD", "LETHE_SOURCE", "LETHE_CONFIG", "CFLAGS", "LDFLAGS"):
    benv.pop(k, None)


def build(extra=()):
    p = sh("dpkg-buildpackage", "-us", "-uc", "-b", *extra, cwd=src, env=benv, timeout=1500)
    equal(p.returncode, 0, f"dpkg-buildpackage {' '.join(extra)} ({p.stderr.strip()[-600:]})")
    if p.returncode != 0:
        print(p.stdout[-3000:])
        finish()


build()
debs = glob.glob(os.path.join(d, "lethe_0.1.0_*.deb"))
equal(len(debs), 1, "one lethe_0.1.0 .deb built")
if not debs:
    finish()
deb1 = debs[0]

if shutil.which("lintian"):
    changes = glob.glob(os.path.join(d, "lethe_0.1.0_*.changes"))
    p = sh("lintian", "--fail-on", "warning", "--display-level", ">=warning", *changes)
    check(p.returncode == 0, f"lintian is clean at warning level: {p.stdout.strip()!r}")
else:
    print("note: lintian is absent (bash scripts/deps installs it): not run")

p = sh("dpkg-deb", "-c", deb1)
listing = p.stdout
for path in ("./usr/bin/lethe", "./usr/share/man/man1/lethe.1.gz", "./usr/share/man/man5/lethe.yaml.5.gz",
             "./usr/share/man/man5/lethe-policy.5.gz", "./usr/share/bash-completion/completions/lethe",
             "./usr/share/zsh/vendor-completions/_lethe", "./usr/share/fish/vendor_completions.d/lethe.fish",
             "./lib/systemd/system/lethe.service", "./lib/systemd/system/lethe.timer",
             "./usr/lib/sysusers.d/lethe.conf", "./etc/lethe/lethe.yaml",
             "./usr/share/lethe/policies/10-bookkeeping.yaml", "./usr/share/doc/lethe/copyright",
             "./usr/share/doc/lethe/examples/lethe.yaml", "./usr/share/doc/lethe/examples/policies"):
    check(f" {path}" in listing, f"the package has {path}")
check("TEST_CRASH" not in open(deb1, "rb").read().decode("latin-1"), "the packaged binary has no crash points")

LETHE = "/usr/bin/lethe"
conf = "/etc/lethe/lethe.yaml"


try:
    p = dpkg("-i", deb1)
    equal(p.returncode, 0, f"dpkg -i {os.path.basename(deb1)} ({p.stderr.strip()})")
    equal(installed_version(), "0.1.0", "version 0.1.0 installed")
    for path in (LETHE, conf, "/lib/systemd/system/lethe.service", "/lib/systemd/system/lethe.timer",
                 "/usr/share/man/man1/lethe.1.gz", "/usr/share/man/man5/lethe-policy.5.gz"):
        check(os.path.exists(path), f"installed {path}")
    p = sh("dpkg-query", "-W", "-f=${Conffiles}", "lethe")
    check(conf in p.stdout, f"{conf} is a conffile")
    check(user_exists("lethe"), "the postinst created the user lethe")
    check(not os.path.exists("/etc/systemd/system/timers.target.wants/lethe.timer"),
          "the timer is not enabled before the site is set up")
    p = sh("man", "-w", "lethe-policy")
    check(p.returncode == 0 and "lethe-policy.5" in p.stdout, f"man finds lethe-policy(5): {p.stdout.strip()}")

    # docs/operations.md, executed as written on the installed package: the
    # first run, monitoring, a backup, an erasure by customer service, two key
    # rotations in a row, a restore of the register with replay. Only the
    # documented placeholder KEY is substituted; the register is the demo
    # shop at the documented /var/lib/lethe/shop.sqlite.
    blocks = sh_blocks(os.path.join(SRC, "docs/operations.md"))
    shims = systemd_shims(os.path.join(d, "shims"))
    env = {"PATH": (shims + ":" if shims else "") + "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root",
           "LANG": "C.UTF-8"}

    def recipe_ok(section, containing, what, code=None):
        rc, out = run_recipe(code or recipe(blocks, section, containing), env)
        equal(rc, 0, f"operations.md {what} ({out.strip()[-700:]})")
        return out

    def status():
        p = sh(LETHE, "status", "--json", env=dict(env, CREDENTIALS_DIRECTORY="/etc/lethe/keys"))
        return json.loads(p.stdout) if p.stdout.startswith("{") else {}

    def monitoring(when):
        """The monitoring recipe prints the warnings of status --json and
        fails exactly when there are some (the demo shop has some)."""
        warnings = status().get("warnings")
        rc, out = run_recipe(recipe(blocks, "What to monitor", "status --json | python3"), env)
        check(warnings is not None and rc == (1 if warnings else 0) and all(w in out for w in warnings),
              f"operations.md monitoring {when}: exit {rc}, warnings {warnings} ({out.strip()[-300:]})")

    p = sh(LETHE, "demo", os.path.join(d, "shop"), "--customers", "300")
    equal(p.returncode, 0, f"installed lethe demo ({p.stderr.strip()})")
    os.makedirs("/var/lib/lethe", mode=0o700, exist_ok=True)
    db = "/var/lib/lethe/shop.sqlite"
    shutil.copy(os.path.join(d, "shop", "shop.sqlite"), db)
    recipe_ok("First run", "install -d -m 0755 /etc/lethe/policies", "first run: policies")
    recipe_ok("First run", "lethe init", "first run: keys and evidence")
    recipe_ok("First run", "export CREDENTIALS_DIRECTORY", "first run: check and plan")
    out = recipe_ok("First run", "systemctl start lethe.service", "first run: the service's run and status")
    check("last run:  record" in out, "the first run is recorded (lethe status)")
    recipe_ok("First run", "enable --now lethe.timer", "first run: the timer")
    equal(status().get("last_run", {}).get("result"), "completed",
          "the service's run as the user lethe completed")
    owners = {os.lstat(os.path.join(r, n)).st_uid for r, ds, ns in os.walk("/var/lib/lethe/evidence")
              for n in ds + ns}
    equal(owners, {pwd.getpwnam("lethe").pw_uid}, "everything in the evidence belongs to lethe")
    monitoring("after the first run")

    # A backup of the register, then an erasure by customer service (the
    # systemd-run recipe), then two rotations and a restore with replay.
    recipe_ok("Backups and restore", "sqlite3", "backup")
    check(os.path.isdir("/srv/backup/lethe-evidence.mirror/objects"), "the evidence mirror is made")
    with sqlite3.connect(db) as c:
        # a customer whose e-mail is still in the clear after the first run
        key, email = c.execute("SELECT id, email FROM customers WHERE email LIKE '%@%' "
                               "ORDER BY id LIMIT 1").fetchone()

    def email_kept():
        with sqlite3.connect(db) as c:
            return c.execute("SELECT count(*) FROM customers WHERE email = ?", (email,)).fetchone()[0]

    erase = recipe(blocks, "Ownership", "systemd-run")
    check("--subject KEY" in erase, "the erasure recipe has the placeholder KEY")
    recipe_ok("Ownership", "systemd-run", "erasure by customer service (systemd-run as lethe)",
              code=erase.replace("--subject KEY", f"--subject {key}"))
    equal(email_kept(), 0, "the erased customer's e-mail is no longer in the register (deleted or "
          "pseudonymised)")
    recipe_ok("Key rotation", "ssh-keygen", "key rotation, first time")
    recipe_ok("First run", "", "a run signed by the new key", code="systemctl start lethe.service\n")
    time.sleep(1.1)  # the recipe names a retired key by the second
    recipe_ok("Key rotation", "ssh-keygen", "key rotation, second time in a row")
    recipe_ok("First run", "", "a run after the second rotation", code="systemctl start lethe.service\n")
    equal(len(glob.glob("/etc/lethe/keys/lethe_ed25519.old-*")), 2, "both retired signing keys are kept")
    signers = [ln for ln in open("/etc/lethe/keys/allowed_signers") if ln.strip()]
    equal(len(signers), 3, "allowed_signers has the three keys")
    p = sh(LETHE, "verify", env=dict(env, CREDENTIALS_DIRECTORY="/etc/lethe/keys"))
    equal(p.returncode, 0, f"every commit verifies across both rotations ({p.stderr.strip()[-300:]})")
    check(email_kept() == 0, "before the restore the customer is erased")
    with sqlite3.connect("/srv/backup/shop.sqlite") as c:
        equal(c.execute("SELECT count(*) FROM customers WHERE email = ?", (email,)).fetchone()[0], 1,
              "the backup predates the erasure (its register still has the e-mail)")
    recipe_ok("Backups and restore", "replay", "restore of the register with replay")
    equal(email_kept(), 0, "after the restore, replay erased the customer again")
    equal(status().get("last_run", {}).get("result"), "completed", "the run after the restore completed")
    monitoring("after the restore")

    # The operator edits the conffile.
    text = open(conf).read()
    edited = text + "# edited by the operator\n"
    open(conf, "w").write(edited)

    # Version 0.1.1: a changelog entry and a changed example configuration,
    # so that dpkg meets an edited conffile that the new version changes too.
    with open(os.path.join(src, "debian/changelog")) as f:
        old = f.read()
    with open(os.path.join(src, "debian/changelog"), "w") as f:
        f.write("lethe (0.1.1) unstable; urgency=medium\n\n  * Test upgrade.\n\n"
                " -- Lethe maintainers <lethe@lists.example.org>  Sun, 06 Dec 2026 10:00:00 +0000\n\n" + old)
    with open(os.path.join(src, "dist/lethe.yaml"), "a") as f:
        f.write("# a line new in 0.1.1\n")
    build(["-nc"])  # the same compiled tree: only the packaging is new
    debs = glob.glob(os.path.join(d, "lethe_0.1.1_*.deb"))
    equal(len(debs), 1, "one lethe_0.1.1 .deb built")
    p = dpkg("-i", "--force-confdef", "--force-confold", debs[0])
    equal(p.returncode, 0, f"dpkg -i the 0.1.1 package ({p.stderr.strip()})")
    equal(installed_version(), "0.1.1", "upgraded to 0.1.1")
    equal(open(conf).read(), edited, "the upgrade keeps the edited /etc/lethe/lethe.yaml")
    check(os.path.exists(conf + ".dpkg-dist") and "new in 0.1.1" in open(conf + ".dpkg-dist").read(),
          "the new version's configuration is beside it as lethe.yaml.dpkg-dist")
    recipe_ok("First run", "", "a run of the service after the upgrade", code="systemctl start lethe.service\n")
finally:
    p = dpkg("--purge", "lethe")
    equal(p.returncode, 0, f"dpkg --purge lethe ({p.stderr.strip()})")
    for path in (LETHE, conf, conf + ".dpkg-dist", "/lib/systemd/system/lethe.service",
                 "/lib/systemd/system/lethe.timer", "/usr/lib/sysusers.d/lethe.conf",
                 "/usr/share/doc/lethe", "/usr/share/lethe"):
        check(not os.path.exists(path), f"purge removed {path}")
    equal(installed_version(), None, "the package is no longer installed")
    # what the operator made by the recipes stays, as dpkg leaves it: keys and policies
    left = sorted(os.listdir("/etc/lethe")) if os.path.isdir("/etc/lethe") else []
    check(set(left) <= {"keys", "policies"}, f"purge left only the operator's files in /etc/lethe: {left}")
    shutil.rmtree("/etc/lethe", ignore_errors=True)
    shutil.rmtree("/srv/backup", ignore_errors=True)
    if gitconfig is None:
        if os.path.exists("/etc/gitconfig"):
            os.remove("/etc/gitconfig")
    else:
        open("/etc/gitconfig", "w").write(gitconfig)
    if not had_state and os.path.isdir("/var/lib/lethe"):
        shutil.rmtree("/var/lib/lethe")
    if not had_user and user_exists("lethe"):
        sh("userdel", "lethe")
        if sh("getent", "group", "lethe").returncode == 0:
            sh("groupdel", "lethe")
    check(user_exists("lethe") == had_user, "the lethe user is as it was before the test")
finish()
