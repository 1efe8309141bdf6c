"""plan counts a due row as blocked when deleting it would cascade (or set
NULL, or fail a foreign key) into rows that are not due, directly or through
a grandchild; and the database file stays byte-identical."""
import os
import sqlite3
from lethe_e2e import check, config, equal, finish, plan_json, sha256, tmpdir, write

d = tmpdir()
db = os.path.join(d, "reg.sqlite")
con = sqlite3.connect(db)
con.executescript("""
CREATE TABLE parent(id INTEGER PRIMARY KEY, closed);
CREATE TABLE child(id INTEGER PRIMARY KEY,
  parent_id INTEGER REFERENCES parent(id) ON DELETE CASCADE, made TEXT);
CREATE INDEX child_parent ON child(parent_id);
CREATE TABLE grandchild(id INTEGER PRIMARY KEY,
  child_id INTEGER REFERENCES child(id) ON DELETE CASCADE, made TEXT);
CREATE TABLE note(id INTEGER PRIMARY KEY,
  parent_id INTEGER REFERENCES parent(id) ON DELETE SET NULL, made TEXT);
CREATE TABLE unruled(id INTEGER PRIMARY KEY,
  parent_id INTEGER REFERENCES parent(id) ON DELETE CASCADE);
INSERT INTO parent VALUES (1,'2020-01-01'),(2,'2020-01-01'),(3,'2020-01-01'),(4,'2020-01-01'),
  (5,'2020-01-01'),(6,'2020-01-01'),(7,'2025-06-15'),(8,NULL),(9,'garbage'),(10,'2020-01-01');
INSERT INTO child VALUES (1,2,'2020-01-01'),(2,3,'2025-06-01'),(3,4,'2020-01-01'),(4,10,NULL),
  (5,7,'2025-07-01');
INSERT INTO grandchild VALUES (1,3,'2025-06-01');
INSERT INTO note VALUES (1,5,'2025-06-01');
INSERT INTO unruled VALUES (1,6);
""")
con.commit()
con.close()

pol = os.path.join(d, "policies")
rules = "".join(f"""
  - name: {t}
    basis: test
    table: {t}
    from: {c}
    retain: 1 year
    action: delete
""" for t, c in [("parent", "closed"), ("child", "made"), ("grandchild", "made"), ("note", "made")])
write(os.path.join(pol, "rules.yaml"), "lethe: 1\nrules:" + rules)
cfg = config(d, db, pol)

before = sha256(db)
files_before = sorted(os.listdir(d))
p = plan_json(cfg, "2026-01-01")
if p:
    par = p["parent"]
    for k, v in dict(in_scope=10, due=2, blocked=5, not_due=1, not_started=1, invalid=1,
                     held=0, next_due="2026-06-16").items():
        equal(par[k], v, f"parent {k}")
    ch = p["child"]
    for k, v in dict(in_scope=5, due=1, blocked=1, not_due=2, not_started=1, invalid=0).items():
        equal(ch[k], v, f"child {k}")
    equal(p["grandchild"]["not_due"], 1, "grandchild not_due")
    equal(p["grandchild"]["next_due"], "2026-06-02", "grandchild next_due")
    equal(p["parent"]["invalid_examples"], ["9"], "parent invalid example key")

# Years later every clock has run out: only what no rule covers, what has no
# clock and what has an unknown clock still holds a parent back.
p = plan_json(cfg, "2030-01-01")
if p:
    equal(p["parent"]["due"], 6, "parent due in 2030")
    equal(p["parent"]["blocked"], 2, "parent blocked in 2030 (unruled child, child without clock)")

equal(sha256(db), before, "plan leaves the database byte-identical")
equal(sorted(os.listdir(d)), files_before, "plan leaves no -journal/-wal/-shm behind")
finish()
