"""A legal hold on a data subject with a delete rule on the subject table
itself: the blocked check nests customers -> orders -> invoices -> payments,
each level with the hold's expression. SQLite's parser keeps at most 100
entries on its stack; before the fix the run failed with "parser stack
overflow" (exit 65) for such a policy (the reference policies plus a rule
deleting accounts). Now plan and run go through, and the held customer stays."""
import os
import shutil
import sqlite3
from lethe_e2e import SOURCE, check, equal, finish, run, tmpdir

AS_OF = "2026-11-01"
d = tmpdir()
rc, out, err = run("demo", os.path.join(d, "db"), "--customers", "120")
equal(rc, 0, "demo")
db = os.path.join(d, "db", "shop.sqlite")
pol = os.path.join(d, "policies")
shutil.copytree(os.path.join(SOURCE, "policies"), pol)
with open(os.path.join(pol, "90-accounts.yaml"), "w") as f:
    f.write("lethe: 1\nrules:\n  - name: old-accounts\n    basis: test\n    table: customers\n"
            "    subject: id\n    from: created_at\n    retain: 10 years\n    action: delete\n")
rc, out, err = run("init", os.path.join(d, "site"), "--database", db, "--policies", pol)
equal(rc, 0, f"site ({err.strip()})")
cfg = os.path.join(d, "site", "lethe.yaml")
con = sqlite3.connect(db)
subject = con.execute("SELECT min(customer_id) FROM orders").fetchone()[0]
con.close()
rc, out, err = run("-c", cfg, "hold", "add", "--reason", "dispute", "--subject", str(subject))
equal(rc, 0, f"hold on subject {subject} ({err.strip()})")
rc, out, err = run("-c", cfg, "plan", "--as-of", AS_OF)
equal(rc, 0, f"plan exits 0 ({err.strip()[-200:]})")
rc, out, err = run("-c", cfg, "run", "--as-of", AS_OF)
equal(rc, 0, f"run exits 0 ({err.strip()[-300:]})")
check("parser stack overflow" not in err, "no parser stack overflow")
con = sqlite3.connect(db)
equal(con.execute("SELECT count(*) FROM customers WHERE id = ?", (subject,)).fetchone()[0], 1,
      "the held customer stays")
con.close()
finish()
