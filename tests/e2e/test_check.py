"""lethe check: all faults of all files in one pass as FILE:LINE:COLUMN,
loader faults and schema faults together, exit 65, and the distinct exit
codes for configuration faults (78) and missing files (66)."""
import os
import re
import sqlite3
from lethe_e2e import check, equal, finish, run, sha256, tmpdir, write

d = tmpdir()
db = os.path.join(d, "reg.sqlite")
con = sqlite3.connect(db)
con.executescript("""
CREATE TABLE child(id INTEGER PRIMARY KEY, made TEXT NOT NULL, note TEXT, code TEXT);
INSERT INTO child VALUES (1, '2020-01-01', 'x', 'a');
""")
con.close()

pol = os.path.join(d, "policies")
write(os.path.join(pol, "a.yaml"), """lethe: 1
rules:
  - name: Bad_Name
    basis: x
    table: child
    from: made
    retain: 10 yrs
    action: delete
  - name: ghost
    basis: x
    table: nosuch
    from: made
    retain: 1 year
    action: delete
""")
write(os.path.join(pol, "b.yaml"), """lethe: 1
rules:
  - name: good
    basis: x
    table: child
    from: random()
    retain: 1 year
    action: mask
    columns:
      made: null
      nosuch: redact
  - name: keyed
    basis: x
    table: child
    key: code
    where: note = 'x'; DELETE FROM child
    from: made
    retain: 1 year
    action: delete
""")
write(os.path.join(d, "lethe.yaml"), f"database: {db}\npolicies: policies\n")
cfg = os.path.join(d, "lethe.yaml")

before = sha256(db)
rc, out, err = run("-c", cfg, "check")
equal(rc, 65, "check on faulty policies exits 65")
print(err)
a, b = os.path.join(pol, "a.yaml"), os.path.join(pol, "b.yaml")
expect = [
    (a, 3, 11, "name"),          # Bad_Name does not match [a-z0-9-]+
    (a, 7, 13, "duration"),      # 10 yrs
    (a, 11, 12, "nosuch"),       # no such table
    (b, 6, 11, "random"),        # function not allowed
    (b, 10, 7, "null"),          # null mask on NOT NULL column
    (b, 11, 7, "nosuch"),        # no such column
    (b, 15, 10, "unique"),       # key not unique
    (b, 16, 12, "statement"),    # more than one statement
]
lines = err.splitlines()
for f, line, col, word in expect:
    pre = f"{f}:{line}:{col}: "
    hit = [x for x in lines if x.startswith(pre)]
    check(len(hit) == 1 and word in hit[0].lower(), f"fault at {os.path.basename(f)}:{line}:{col} mentions '{word}'")
located = [x for x in lines if re.match(r"^/.*:\d+:\d+: ", x)]
equal(len(located), len(expect), "exactly the expected faults, all reported in one pass")
equal(sha256(db), before, "check leaves the database byte-identical")

# A faulty configuration is a configuration error: 78, with its position.
write(os.path.join(d, "bad.yaml"), f"database: {db}\npolicies: policies\ncolour: blue\n")
rc, out, err = run("-c", os.path.join(d, "bad.yaml"), "check")
equal(rc, 78, "unknown configuration key exits 78")
check(os.path.join(d, "bad.yaml") + ":3:1:" in err, "configuration fault is located at 3:1")

# Missing files: 66, and the database is not created.
write(os.path.join(d, "nodb.yaml"), f"database: {d}/none.sqlite\npolicies: policies\n")
rc, out, err = run("-c", os.path.join(d, "nodb.yaml"), "check")
equal(rc, 66, "missing database exits 66")
check(not os.path.exists(os.path.join(d, "none.sqlite")), "a missing database is not created")
rc, out, err = run("-c", os.path.join(d, "absent.yaml"), "check")
equal(rc, 66, "missing configuration exits 66")
rc, out, err = run("check", cwd=d, env={"LETHE_CONFIG": os.path.join(d, "bad.yaml")})
equal(rc, 78, "$LETHE_CONFIG is used when -c is absent")
rc, out, err = run("plan", "--as-of", "2024-02-30", cwd=d)
equal(rc, 64, "impossible --as-of date is a usage error")
rc, out, err = run("frobnicate")
equal(rc, 64, "unknown command exits 64")

# The reference shop's policies fit the demo register.
shop = os.path.join(d, "shop")
rc, out, err = run("demo", shop, "--customers", "50")
equal(rc, 0, "demo writes the reference shop")
rc, out, err = run("-c", os.path.join(shop, "lethe.yaml"), "check")
print(out, err)
equal(rc, 0, "check passes on the reference policies against the demo register")
finish()
