"""docs/legal.md against the reference policies (policies/), so neither can
fall behind the other: every rule has its row in a table of docs/legal.md,
with its period as the rule's `retain` says and a day its clock starts
from; the section of the row cites every article and statute of the rule's
`basis` (5(1)(e), 917/2014, 205 §, ...) and explains why in prose."""
import os
import re
from lethe_e2e import SOURCE, check, equal, finish

POLICIES = os.path.join(SOURCE, "policies")
with open(os.path.join(SOURCE, "docs", "legal.md"), encoding="utf-8") as f:
    doc = f.read()


def rules():
    """[(name, retain or None, basis)] of every rule of policies/, read
    from the YAML's plain layout (two-space list items, four-space keys)."""
    out = []
    for fn in sorted(os.listdir(POLICIES)):
        if not fn.endswith(".yaml"):
            continue
        with open(os.path.join(POLICIES, fn), encoding="utf-8") as f:
            text = f.read()
        for block in re.split(r"^  - name: ", text, flags=re.M)[1:]:
            name = block.split("\n", 1)[0].strip()
            retain = re.search(r"^    retain: (.+)$", block, re.M)
            basis = re.search(r"^    basis: (.+)$", block, re.M)
            out.append((name, retain.group(1).strip() if retain else None, basis.group(1) if basis else ""))
    return out


sections = re.split(r"^## ", doc, flags=re.M)
found = rules()
check(len(found) >= 20, f"the reference policies are read ({len(found)} rules)")
for name, retain, basis in found:
    section = next((s for s in sections if f"| `{name}` |" in s), None)
    check(section is not None, f"docs/legal.md has a row for rule {name}")
    if section is None:
        continue
    row = next(l for l in section.split("\n") if l.startswith(f"| `{name}` |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    header = next(l for l in section.split("\n") if l.startswith("| rule |"))
    heads = [c.strip() for c in header.strip("|").split("|")]
    equal(len(cells), len(heads), f"{name}: the row fills every column")
    cell = dict(zip(heads, cells))
    check(cell.get("period") and cell.get("clock"), f"{name}: a period and a clock ({cell})")
    if retain:
        check(retain in cell.get("period", ""), f"{name}: the period says {retain!r}: {cell.get('period')!r}")
    for ref in re.findall(r"\d+/\d{4}|\d+ §|\d+\(\d+\)(?:\([a-z]\))?", basis):
        check(ref in section, f"{name}: its section cites {ref} of its basis {basis!r}")
    prose = [p for p in section.split("\n\n") if not p.lstrip().startswith("|") and len(p) > 200]
    check(prose, f"{name}: its section says why in prose")
finish()
