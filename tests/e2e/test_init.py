"""lethe init: a ready site with the right files and modes, a signing key
ssh-keygen reads, a configuration `lethe check` loads, a bare evidence
repository, and a second init that exits 73 leaving every file as it was."""
import os
import stat
import subprocess
from lethe_e2e import check, equal, finish, run, sha256, tmpdir

d = tmpdir()
demo = os.path.join(d, "demo")
rc, out, err = run("demo", demo, "--customers", "50")
equal(rc, 0, "demo writes a register to point the site at")
db = os.path.join(demo, "shop.sqlite")

site = os.path.join(d, "site")
rc, out, err = run("init", site, "--database", db)
print(out, err)
equal(rc, 0, "init exits 0")
check("PRIVATE KEY" not in out + err and "AAAA" not in out + err, "init prints no key material")


def path(*p):
    return os.path.join(site, *p)


def mode(p):
    return stat.S_IMODE(os.lstat(p).st_mode)


files = ["lethe.yaml", "keys/lethe_ed25519", "keys/lethe_ed25519.pub", "keys/allowed_signers",
         "keys/pseudonym.key"]
for f in files:
    check(os.path.isfile(path(f)), f"init creates {f}")
    check(f in out, f"init names {f} in its output")
equal(oct(mode(path("keys"))), oct(0o700), "keys/ is mode 0700")
equal(oct(mode(path("keys/lethe_ed25519"))), oct(0o600), "the signing key is mode 0600")
equal(oct(mode(path("keys/pseudonym.key"))), oct(0o600), "the pseudonym key is mode 0600")
equal(oct(mode(path("keys/allowed_signers"))), oct(0o644), "allowed_signers is mode 0644")

# ssh-keygen derives the same public key from the private key file
pub = subprocess.run(["ssh-keygen", "-y", "-f", path("keys/lethe_ed25519")],
                     capture_output=True, text=True)
equal(pub.returncode, 0, "ssh-keygen reads the signing key")
with open(path("keys/lethe_ed25519.pub")) as f:
    pubfile = f.read().split()
equal(pub.stdout.split()[:2], pubfile[:2], "ssh-keygen -y equals the .pub")
check(len(pubfile) == 3 and pubfile[2].startswith("lethe@"), "the key's comment is lethe@HOST")

with open(path("keys/allowed_signers")) as f:
    signers = f.read()
equal(signers, f'{pubfile[2]} namespaces="git" {pubfile[0]} {pubfile[1]}\n',
      "allowed_signers names the key for namespace git")
with open(path("keys/pseudonym.key")) as f:
    pk = f.read()
check(len(pk) == 65 and pk.endswith("\n") and all(c in "0123456789abcdef" for c in pk[:64]),
      "the pseudonym key is 64 hex digits")

bare = subprocess.run(["git", "-C", path("evidence"), "rev-parse", "--is-bare-repository"],
                      capture_output=True, text=True)
equal(bare.stdout.strip(), "true", "evidence/ is a bare git repository")
head = subprocess.run(["git", "-C", path("evidence"), "symbolic-ref", "HEAD"],
                      capture_output=True, text=True)
equal(head.stdout.strip(), "refs/heads/main", "its HEAD is main")

with open(path("lethe.yaml")) as f:
    yaml = f.read()
check(f"database: '{db}'" in yaml, "lethe.yaml points at --database")
check("signing_key: keys/lethe_ed25519" in yaml and "pseudonym_key: keys/pseudonym.key" in yaml,
      "lethe.yaml names the keys")

# the configuration loads and checks against the register
rc, out, err = run("-c", path("lethe.yaml"), "check")
print(out, err)
equal(rc, 0, "lethe check on the new site exits 0")


# a second init changes nothing
def snapshot(root):
    got = {}
    for dirpath, dirs, names in os.walk(root):
        for n in dirs + names:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            got[p] = (stat.S_IMODE(st.st_mode), sha256(p) if stat.S_ISREG(st.st_mode) else None)
    return got


before = snapshot(site)
rc, out, err = run("init", site, "--database", db)
equal(rc, 73, "a second init into the same DIR exits 73")
check("already exists" in err, "and says what exists")
check(snapshot(site) == before, "and leaves every file byte-identical")

# any one part existing is enough to refuse, and nothing is added
other = os.path.join(d, "other")
os.makedirs(os.path.join(other, "evidence"))
rc, out, err = run("init", other)
equal(rc, 73, "init refuses a DIR with an evidence/ already there")
equal(sorted(os.listdir(other)), ["evidence"], "and adds nothing")
equal(os.listdir(os.path.join(other, "evidence")), [], "nor touches evidence/")

# the default database is shop.sqlite next to lethe.yaml
plain = os.path.join(d, "plain")
rc, out, err = run("init", plain)
equal(rc, 0, "init without --database exits 0")
with open(os.path.join(plain, "lethe.yaml")) as f:
    check("database: shop.sqlite\n" in f.read(), "the default database is shop.sqlite")

rc, out, err = run("init")
equal(rc, 64, "init without DIR is a usage error")
rc, out, err = run("init", os.path.join(d, "x"), "--bogus")
equal(rc, 64, "an unknown option is a usage error")
check(not os.path.exists(os.path.join(d, "x")), "and creates nothing")
rc, out, err = run("init", os.path.join(d, "y"), "--database", "a\nb")
equal(rc, 64, "a database path with a newline is refused")
check(not os.path.exists(os.path.join(d, "y")), "and the DIR init made is removed again")

finish()
