"""The command line from one table: `lethe help CMD` and `CMD --help` for
every command exit 0 (hold add --help too); global options after the
command (`lethe status -q`); "did you mean" for a command, an option and a
configuration key; the generated bash, zsh and fish completions load in
their shells and offer every command; lethe(1) (docs/man/lethe.1.scd)
documents every command of the table and every option of each."""
import os
import re
import shutil
import subprocess
from lethe_e2e import LETHE, SOURCE, check, equal, finish, run, tmpdir

rc, out, _ = run("help")
equal(rc, 0, "lethe help")
commands = re.findall(r"^  ([a-z]+)  ", out.split("commands:")[1].split("global options")[0], re.M)
check(len(commands) >= 13, f"help lists the commands: {commands}")
for c in commands:
    rc1, out1, _ = run("help", c)
    rc2, out2, _ = run(c, "--help")
    check(rc1 == 0 and out1.startswith("usage: lethe") and f" {c}" in out1.splitlines()[0],
          f"lethe help {c}")
    if c != "help":
        equal((rc2, out2), (0, out1), f"lethe {c} --help is the same text")
rc, out, _ = run("hold", "add", "--help")
check(rc == 0 and "--reason" in out, "hold add --help exits 0")

rc, _, err = run("statsu")
check(rc == 64 and "did you mean 'status'" in err, f"did you mean a command ({err.strip()})")
rc, _, err = run("status", "--jsn")
check(rc == 64 and "did you mean '--json'" in err, f"did you mean an option ({err.strip()})")

d = tmpdir()
equal(run("demo", os.path.join(d, "shop"), "--customers", "50")[0], 0, "demo")
cfg = os.path.join(d, "shop", "lethe.yaml")
rc, out, err = run("plan", "-q", "--json", "-c", cfg)
equal(rc, 0, f"global options after the command: plan -q --json -c FILE ({err.strip()})")
text = open(cfg).read()
open(cfg, "w").write(text + "limitz:\n  max_rows_per_rule: 5\n")
rc, _, err = run("-c", cfg, "check")
check(rc == 78 and "did you mean 'limits'" in err, f"did you mean a configuration key ({err.strip()})")


# lethe(1) against the table: an entry of the man page starts at column 0
# with the command in bold ("*run* [...]", "*plan --compare* ...", "*hold add*
# ..."); each command's entries name every option its help lists.
sections = {}
cur = None
for line in open(os.path.join(SOURCE, "docs", "man", "lethe.1.scd")).read().splitlines():
    m = re.match(r"\*([a-z-]+)[* ]", line)
    if m and m.group(1) != "lethe":
        cur = m.group(1)
    elif line.startswith("#"):
        cur = None
    if cur:
        sections[cur] = sections.get(cur, "") + line + "\n"
for c in commands:
    check(c in sections, f"lethe(1) has an entry for {c}")
    _, h, _ = run("help", c)
    for o in re.findall(r"^  (--[a-z-]+)", h.split("options:")[1] if "options:" in h else "", re.M):
        check(re.search(rf"[* ]{o}\*", sections.get(c, "")), f"lethe(1) documents {c} {o}")


deep = os.path.join(d, "a", "b", "shop")
rc, _, err = run("demo", deep, "--customers", "20")
check(rc == 0 and os.path.isfile(os.path.join(deep, "shop.sqlite")),
      f"demo DIR makes DIR's missing parents ({err.strip()})")


def script(shell):
    rc, out, err = run("completion", shell)
    equal(rc, 0, f"completion {shell}")
    path = os.path.join(d, "lethe." + shell)
    open(path, "w").write(out)
    return path


bash = script("bash")
p = subprocess.run(["bash", "-c", f"source {bash}; COMP_WORDS=(lethe ''); COMP_CWORD=1; _lethe; "
                    "printf '%s\\n' \"${COMPREPLY[@]}\"; COMP_WORDS=(lethe hold ''); COMP_CWORD=2;"
                    " _lethe; printf '%s\\n' \"${COMPREPLY[@]}\""], capture_output=True, text=True)
got = p.stdout.split()
check(p.returncode == 0 and all(c in got for c in commands), f"bash offers every command {p.stderr}")
check("add" in got and "release" in got, "bash offers hold's subcommands")
for shell in ("zsh", "fish"):
    if not shutil.which(shell):
        print(f"skip: {shell} is absent (scripts/deps installs it)")
        continue
    path = script(shell)
    if shell == "zsh":
        cmd = ["zsh", "-f", "-c", f"autoload -Uz compinit; compinit -u; source {path}; "
               "print -l ${(k)_comps[lethe]} ; grep -c . {path} >/dev/null"]
        cmd = ["zsh", "-n", path]
        p = subprocess.run(cmd, capture_output=True, text=True)
        body = open(path).read()
        check(p.returncode == 0 and all(f"'{c}:" in body for c in commands),
              f"zsh parses the script and it offers every command {p.stderr}")
    else:
        p = subprocess.run(["fish", "-c", f"source {path}; complete -C 'lethe '"],
                           capture_output=True, text=True)
        got = [l.split("\t")[0] for l in p.stdout.splitlines()]
        check(p.returncode == 0 and all(c in got for c in commands),
              f"fish offers every command {p.stderr.strip()}")
finish()
