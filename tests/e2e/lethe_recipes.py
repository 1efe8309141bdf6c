"""The shell recipes of docs/operations.md, for a test that runs them as
written on an installed Lethe (test_deb.py): extraction of the fenced sh
blocks by section, and, where systemd is not running (a container), small
stand-ins for systemctl, systemd-run and journalctl that do what the recipes
ask of them: systemd-run -p User= -p LoadCredential= runs the command as that
user with the credentials copied to a $CREDENTIALS_DIRECTORY only that user
can read; systemctl start lethe.service runs the installed unit's ExecStart
the same way (its User= and LoadCredential= lines); the other verbs say what
they would do and succeed."""
import os
import re
import subprocess
import textwrap

SYSTEMD_RUN = r"""#!/bin/bash
# stand-in for systemd-run (tests/e2e/lethe_recipes.py): no systemd here
set -euo pipefail
user=root
creds=$(mktemp -d)
trap 'rm -rf "$creds"' EXIT
while [ $# -gt 0 ]; do
  case "$1" in
    --quiet|--pipe|--wait|--collect) shift ;;
    -p) case "$2" in
          User=*) user=${2#User=} ;;
          LoadCredential=*) c=${2#LoadCredential=}; cp "${c#*:}" "$creds/${c%%:*}" ;;
        esac
        shift 2 ;;
    *) break ;;
  esac
done
chmod 0500 "$creds"; chmod 0400 "$creds"/* 2>/dev/null || true
chown -R "$user" "$creds"
runuser -u "$user" -- env CREDENTIALS_DIRECTORY="$creds" "$@"
"""

SYSTEMCTL = r"""#!/bin/bash
# stand-in for systemctl (tests/e2e/lethe_recipes.py): no systemd here
set -euo pipefail
if [ "$1" = start ] && [ "${2:-}" = lethe.service ]; then
  unit=/lib/systemd/system/lethe.service
  args=(-p "User=$(sed -n 's/^User=//p' "$unit")")
  while read -r c; do args+=(-p "LoadCredential=$c"); done < <(sed -n 's/^LoadCredential=//p' "$unit")
  # shellcheck disable=SC2046
  exec systemd-run --wait "${args[@]}" $(sed -n 's/^ExecStart=//p' "$unit")
fi
echo "systemctl $* (stand-in: no systemd here)"
"""

JOURNALCTL = """#!/bin/sh
echo "journalctl $* (stand-in: no systemd here)"
"""


def systemd_shims(folder):
    """A folder to put first on PATH when systemd is not running, else None."""
    if os.path.isdir("/run/systemd/system"):
        return None
    os.makedirs(folder, exist_ok=True)
    for name, text in (("systemd-run", SYSTEMD_RUN), ("systemctl", SYSTEMCTL), ("journalctl", JOURNALCTL)):
        path = os.path.join(folder, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o755)
    return folder


def sh_blocks(markdown_path):
    """[(section heading, code)] of every ```sh block, dedented (blocks in
    list items are indented)."""
    text = open(markdown_path, encoding="utf-8").read()
    out, section = [], ""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^(#+) (.*)", lines[i])
        if m:
            section = m.group(2)
        m = re.match(r"^( *)```sh\s*$", lines[i])
        if m:
            indent, body = m.group(1), []
            i += 1
            while not re.match(rf"^{indent}```\s*$", lines[i]):
                body.append(lines[i])
                i += 1
            out.append((section, textwrap.dedent("\n".join(body)) + "\n"))
        i += 1
    return out


def recipe(blocks, section, containing):
    """The one block of that section holding that text."""
    found = [code for s, code in blocks if s.startswith(section) and containing in code]
    if len(found) != 1:
        raise LookupError(f"operations.md: {len(found)} sh blocks in '{section}' with {containing!r}")
    return found[0]


def run_recipe(code, env, cwd="/"):
    """The block in bash -e -o pipefail, as an operator pastes it; its
    exports kept in env. (status, stdout + stderr)."""
    script = code + "\necho '@@env'; env -0\n"
    p = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], env=env, cwd=cwd,
                       capture_output=True, timeout=900)
    out = p.stdout.decode(errors="replace")
    shown, _, envs = out.partition("@@env\n")
    if p.returncode == 0 and re.search(r"^\s*export ", code, re.M):
        for kv in envs.split("\0"):
            k, eq, v = kv.partition("=")
            if eq and k in re.findall(r"^\s*export (\w+)=", code, re.M):
                env[k] = v
    return p.returncode, shown + p.stderr.decode(errors="replace")
