"""The manual against the code, so neither can fall behind the other:
lethe(1)'s EXIT STATUS documents every exit status the code defines (the
LETHE_E* codes of include/lethe/error.h and the literal statuses the commands
of enforcer/cli/ return) and no status the code never gives; lethe-policy(5)
documents every key the policy parser accepts (header, subject, rule and
declarations keys, whose lists are read from enforcer/policy.c,
policy_rule.c and declarations.c), every action and every mask strategy."""
import os
import re
from lethe_e2e import check, finish

SRC = os.environ["LETHE_SOURCE"]


def read(rel):
    with open(os.path.join(SRC, rel), encoding="utf-8") as f:
        return f.read()


# --- exit statuses --------------------------------------------------------
error_h = read("include/lethe/error.h")
defined = {}
for name, value, comment in re.findall(r"(LETHE_E\w+)\s*=\s*-(\d+)\s*,?\s*/\*(.*?)\*/", error_h):
    if "not an exit status" not in comment:
        defined[int(value)] = f"include/lethe/error.h {name}"
check(len(defined) >= 10, f"error.h defines the LETHE_E* exit codes: {sorted(defined)}")

cli = os.path.join(SRC, "enforcer/cli")
for fn in sorted(os.listdir(cli)):
    if not fn.endswith(".c"):
        continue
    text = read(os.path.join("enforcer/cli", fn))
    # return N; status = N; status = COND ? N : M; return COND ? N : M
    for m in re.finditer(r"\b(?:return|status\s*=)\s+([^;{}]*?);", text):
        expr = m.group(1)
        if re.fullmatch(r"\d+", expr.strip()):
            values = [expr.strip()]
        elif "?" in expr:
            values = re.findall(r"(?<![\w.])(\d+)(?![\w.])", expr.split("?", 1)[1])
        else:
            continue
        line = text.count("\n", 0, m.start()) + 1
        for v in values:
            if int(v) <= 127:
                defined.setdefault(int(v), f"enforcer/cli/{fn}:{line}")
defined.pop(-1, None)

man = read("docs/man/lethe.1.scd")
section = re.search(r"^# EXIT STATUS\n(.*?)^# ", man, re.S | re.M)
check(section is not None, "lethe(1) has an EXIT STATUS section")
documented = {int(v) for v in re.findall(r"^\*(\d+)\*\s*$", section.group(1) if section else "", re.M)}
for code, where in sorted(defined.items()):
    check(code in documented, f"exit {code} ({where}) is documented in lethe(1) EXIT STATUS")
for code in sorted(documented - set(defined)):
    check(False, f"lethe(1) documents exit {code}, which the code never gives")

# --- policy keys ----------------------------------------------------------
def string_arrays(rel, pattern):
    """The strings of each C array whose declaration matches pattern."""
    text = read(rel)
    out = []
    for m in re.finditer(pattern + r"\s*=\s*\{(.*?)\};", text, re.S):
        out += re.findall(r'"([^"]*)"', m.group(1))
    return out


keys = {}
for rel, pattern in (("enforcer/policy.c", r"header_keys\[\]"), ("enforcer/policy.c", r"subject_keys\[\]"),
                     ("enforcer/policy_rule.c", r"rule_keys\[\]"),
                     ("enforcer/policy_rule.c", r"action_names\[\]"),
                     ("enforcer/declarations.c", r"decl_keys\[\]"),
                     ("enforcer/declarations.c", r"\bkeys\[\]")):
    found = string_arrays(rel, pattern)
    check(found, f"{rel} has {pattern}")
    for k in found:
        if k not in ("fi", "sv", "en"):  # the language codes are values, documented as such
            keys.setdefault(k, f"{rel} {pattern}")
masks = string_arrays("enforcer/policy_rule.c", r"words\[\]")
check({"null", "redact", "year", "month"} <= set(masks), f"mask strategies read: {masks}")
for k in masks:
    keys.setdefault(k, "enforcer/policy_rule.c mask strategy")
strategies = re.search(r'#define STRATEGIES "([^"]*)"', read("enforcer/policy_rule.c"))
check(strategies is not None, "policy_rule.c names its mask strategies (STRATEGIES)")
for s in (strategies.group(1).split(", ") if strategies else []):
    keys.setdefault(s.split()[0].rstrip(":"), "enforcer/policy_rule.c STRATEGIES")
for must in ("on_erasure", "columns", "triggers", "keep_while", "contact", "purposes", "first"):
    check(must in keys, f"the parser's keys include {must}")

page = read("docs/man/lethe-policy.5.scd")
for k, where in sorted(keys.items()):
    # a key is documented as a bold word: *key*, *key:* or *key* _N_
    check(re.search(r"\*" + re.escape(k) + r":?\*", page),
          f"lethe-policy(5) documents '{k}' ({where})")
finish()
