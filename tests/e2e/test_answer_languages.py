"""The erasure answer and the access summary in Finnish, Swedish and English,
compared line by line with the expected texts in data/answers/ (a small
register: an account, its orders kept as vouchers, an open complaint kept
while it is handled (kept_because in each language), its chats), where only the
day of the request ({today}) varies; the erasure answer names the controller,
the contact, the supervisory authority and a court (GDPR 12(4)); the real
erasure answers exactly what its dry run said (no day of a row the erasure
disposes of given for a row it keeps); --lang picks the language, else
lethe.yaml's `language`, else English; a language the declarations lack is
refused (65) and one Lethe does not speak is a usage error (64), before
anything is erased or exported.

LETHE_UPDATE_ANSWERS=1 rewrites the expected files from the binary (then
read them: they are what a customer gets)."""
import datetime
import os
import shutil
import sqlite3
import zipfile
from lethe_e2e import SOURCE, check, equal, finish, run, tmpdir, write

DATA = os.path.join(SOURCE, "tests", "e2e", "data", "answers")
UPDATE = os.environ.get("LETHE_UPDATE_ANSWERS")
today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()

d = tmpdir()
policies = os.path.join(d, "policies")
os.makedirs(policies)
shutil.copy(os.path.join(DATA, "policies.yaml"), policies)
db = os.path.join(d, "shop.sqlite")
con = sqlite3.connect(db)
con.executescript("""
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, last_seen TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id),
                     order_date TEXT);
CREATE TABLE chats (id INTEGER PRIMARY KEY, customer_id INTEGER, ended_at TEXT);
CREATE TABLE complaints (id INTEGER PRIMARY KEY, customer_id INTEGER, opened_at TEXT, closed_at TEXT);
INSERT INTO customers VALUES (1, 'Maija Meikäläinen', 'maija@example.com', '2030-01-01'),
                             (2, 'Other Person', 'other@example.com', '2030-01-01');
INSERT INTO orders VALUES (10, 1, '2029-03-01'), (11, 1, '2030-05-01'), (12, 1, NULL), (13, 2, '2029-01-01');
INSERT INTO chats VALUES (20, 1, '2030-06-01'), (21, 1, '2030-07-15'), (22, 2, '2030-06-01');
INSERT INTO complaints VALUES (30, 1, '2020-01-01', NULL), (31, 1, '2030-02-01', '2030-03-01');
""")
con.commit()
con.close()
rc, out, err = run("init", os.path.join(d, "site"), "--database", db, "--policies", policies)
equal(rc, 0, f"init ({err.strip()})")
cfg = os.path.join(d, "site", "lethe.yaml")
base_cfg = open(cfg, encoding="utf-8").read()


def expected(name, got):
    path = os.path.join(DATA, name)
    if UPDATE:
        with open(path, "w", encoding="utf-8") as f:
            f.write(got.replace(today, "{today}"))
    with open(path, encoding="utf-8") as f:
        want = f.read().replace("{today}", today)
    if got != want:
        for i, (g, w) in enumerate(zip(got.split("\n"), want.split("\n"))):
            if g != w:
                print(f"  first difference at line {i + 1}:\n    got:  {g!r}\n    want: {w!r}")
                break
    equal(got, want, f"{name}: the text is the expected one")


dry_answers = {}
for lang in ("fi", "sv", "en"):
    rc, out, err = run("-c", cfg, "erase", "--subject", "1", "--dry-run", "--lang", lang)
    equal(rc, 0, f"erase --lang {lang} ({err.strip()})")
    dry_answers[lang] = out
    expected(f"erase.{lang}.txt", out)
    archive = os.path.join(d, f"access-{lang}.zip")
    rc, out, err = run("-c", cfg, "access", "--subject", "1", "--output", archive, "--lang", lang)
    equal(rc, 0, f"access --lang {lang} ({err.strip()})")
    if rc != 0:
        continue
    with zipfile.ZipFile(archive) as z:
        expected(f"summary.{lang}.txt", z.read("summary.txt").decode("utf-8"))

# The three answers differ only in words: the same days and counts.
texts = {lang: open(os.path.join(DATA, f"erase.{lang}.txt"), encoding="utf-8").read() for lang in ("fi", "sv", "en")}
digits = {lang: [w.strip("().:") for w in t.replace(",", " ").replace("(", " ").split() if any(c.isdigit() for c in w)]
          for lang, t in texts.items()}
equal(digits["fi"], digits["en"], "fi and en give the same numbers and days")
equal(digits["sv"], digits["en"], "sv and en give the same numbers and days")
check("Ott" not in texts["fi"] and "erased" not in texts["fi"] and "kept" not in texts["sv"],
      "no English word in the Finnish or Swedish answer")
for lang, words in (("fi", ("Rekisterinpitäjä: Testi Oy", "Tietosuojavaltuutetun toimisto, https://tietosuoja.fi",
                            "tuomioistuimen")),
                    ("sv", ("Personuppgiftsansvarig: Testi Oy", "Dataombudsmannens byrå", "domstol")),
                    ("en", ("Controller: Testi Oy, info@testi.example", "Contact: Customer service, info@testi.example",
                            "lodge a complaint with the supervisory authority", "court (GDPR art. 79)"))):
    for w in words:
        check(w in dry_answers[lang], f"the {lang} answer says where to turn: {w!r}")
check("2033-02-02" not in dry_answers["en"],
      "the open complaint kept is not given the day of the closed one the erasure deletes")

# lethe.yaml's language is the default; --lang overrides it.
write(cfg, base_cfg + "language: sv\n")
rc, out, err = run("-c", cfg, "erase", "--subject", "1", "--dry-run")
equal(rc, 0, "erase with language: sv")
check(out.startswith("Begäran om radering"), f"lethe.yaml's language is the default: {out[:40]!r}")
rc, out, err = run("-c", cfg, "erase", "--subject", "1", "--dry-run", "--lang", "en")
check(out.startswith("Erasure request"), "--lang overrides lethe.yaml")
archive = os.path.join(d, "access-default.zip")
rc, out, err = run("-c", cfg, "access", "--subject", "1", "--output", archive)
equal(rc, 0, f"access with language: sv ({err.strip()})")
if rc == 0:
    with zipfile.ZipFile(archive) as z:
        check(z.read("summary.txt").decode("utf-8").startswith("Personuppgifter som förvaras om dig"),
              "the access summary follows lethe.yaml's language too")

# A language the declarations lack: refused before anything is done.
write(cfg, base_cfg)
text = open(os.path.join(policies, "policies.yaml"), encoding="utf-8").read()
write(os.path.join(policies, "policies.yaml"), text.replace("languages: [fi, sv, en]", "languages: [fi, en]")
      .replace(", sv: ", ", xx: "))
rc, out, err = run("-c", cfg, "check")
check(rc == 65 and "unknown key 'xx'" in err, f"an unknown language key is a fault: {err.strip()[:200]}")
write(os.path.join(policies, "policies.yaml"), text.replace("languages: [fi, sv, en]", "languages: [fi, en]"))
rc, out, err = run("-c", cfg, "erase", "--subject", "1", "--lang", "sv")
equal(rc, 65, f"erase --lang sv without Swedish texts is refused ({err.strip()})")
check("no 'sv' texts" in err, "and says why")
rc, out, err = run("-c", cfg, "erase", "--subject", "1", "--lang", "de")
equal(rc, 64, "erase --lang de is a usage error")
write(cfg, base_cfg + "language: sv\n")
rc, out, err = run("-c", cfg, "check")
equal(rc, 65, "check faults lethe.yaml's language when the declarations lack it")
check("lethe.yaml:" in err and "no 'sv' texts" in err, f"at lethe.yaml's line: {err.strip()}")
con = sqlite3.connect(db)
equal(con.execute("SELECT name FROM customers WHERE id = 1").fetchone()[0], "Maija Meikäläinen",
      "nothing was erased by the refused requests")
con.close()

# The erasure itself answers what its dry run said, but for "dry run".
write(cfg, base_cfg)
write(os.path.join(policies, "policies.yaml"), text)
rc, out, err = run("-c", cfg, "erase", "--subject", "1", "--lang", "fi")
equal(rc, 0, f"erase --lang fi ({err.strip()})")
dry = dry_answers["fi"].split("\n")
dry[0] = dry[0][:dry[0].index(today) + len(today)]
equal(out, "\n".join(dry), "the erasure answers word for word what its dry run said")
con = sqlite3.connect(db)
equal(con.execute("SELECT id FROM complaints WHERE customer_id = 1").fetchall(), [(30,)],
      "the open complaint is kept, the closed one deleted")
con.close()
finish()
