"""Nothing personal in the evidence: plant distinctive personal data in the
register, run, then dump every object of the evidence repository (blobs,
trees, commits with their messages) and search it for the planted values and
for every name, e-mail, phone, street and chat text of the register."""
import os
import shutil
import sqlite3
import subprocess
from lethe_e2e import check, equal, finish, run, tmpdir

d = tmpdir()
rc, out, err = run("demo", os.path.join(d, "db"), "--customers", "150")
equal(rc, 0, "demo register")
db = os.path.join(d, "db", "shop.sqlite")
con = sqlite3.connect(db)
# Old, inactive customers whose data is disposed; their values are planted.
con.executescript("""
UPDATE customers SET name = 'Zyxwa Plantedname', email = 'planted.person@example.org',
  phone = '+358401234567', last_login_at = '2016-01-01 10:00:00', last_purchase_at = NULL,
  created_at = '2016-01-01 09:00:00' WHERE id = 1;
UPDATE chat_transcripts SET transcript = 'my card is 4111111111111111 plantedsecret'
  WHERE id = (SELECT min(id) FROM chat_transcripts);
""")
con.commit()
values = set()
for q in ["SELECT name, email, phone FROM customers", "SELECT street FROM addresses",
          "SELECT transcript FROM chat_transcripts", "SELECT recipient_name FROM deliveries",
          "SELECT ip_address FROM page_events WHERE ip_address IS NOT NULL"]:
    for row in con.execute(q):
        values.update(v for v in row if isinstance(v, str) and len(v) >= 6)
con.close()

rc, out, err = run("init", os.path.join(d, "site"), "--database", db)
equal(rc, 0, "init")
cfg = os.path.join(d, "site", "lethe.yaml")
rc, out, err = run("-c", cfg, "run", "--as-of", "2026-11-01")
equal(rc, 0, "run")
check("Plantedname" not in err + out, "the run's own output holds no planted value")

repo = os.path.join(d, "site", "evidence")
dump = subprocess.run(["git", "-C", repo, "cat-file", "--batch-all-objects", "--batch"],
                      capture_output=True).stdout.decode("utf-8", "replace")
log = subprocess.run(["git", "-C", repo, "log", "--format=%B%n%an%n%ae%n%cn%n%ce"],
                     capture_output=True, text=True).stdout
check(len(dump) > 10000, f"the evidence holds something to search ({len(dump)} bytes)")
for planted in ["Zyxwa", "Plantedname", "planted.person", "+358401234567", "4111111111111111",
                "plantedsecret"]:
    check(planted not in dump and planted not in log, f"planted '{planted}' is nowhere in the evidence")
found = sorted(v for v in values if v in dump or v in log)
equal(found, [], f"none of {len(values)} personal values of the register is in the evidence")
finish()
