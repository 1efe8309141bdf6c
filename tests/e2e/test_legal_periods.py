"""The reference policies (policies/) keep what Kirjanpitolaki 2:10 and the
other rules of docs/legal.md say, on real SQLite files, driving the CLI:

- vouchers (orders, order lines, invoices, payments) 6 years from the end of
  the calendar year in which the financial year of the voucher's own date
  ended; the books (sales journal) 10 years from the end of the financial
  year; with fiscal_year_end 12-31 and 04-30 (a voucher of 2017-06-01 is
  kept until 2024-12-31; a payment of the next year keeps its order);
- an erasure in year 7 of an order disposes of the order now, says so, and
  keeps the sales journal entry with its basis and day;
- an erasure with a paid, undelivered order keeps the name and address the
  delivery needs and says why; an open complaint is kept and says why;
  the marketing ban keeps no link to the customer; the daily `lethe run`
  keeps those rows while the parcel is on its way and the complaint open,
  and erases them in the first run after both ended, recorded as an erasure
  that `completes` the first;
- an inactive account is pseudonymised, stays (blocked) while a voucher
  refers to it, and is deleted by the run in which its last voucher goes;
- `check` warns of a table linked to the subject that no rule covers; `plan`
  and `status` warn of open orders and complaints whose clock never started
  for longer than their rule's stale_after, naming the rule and the count.

The register is the demo's schema with hand-planted rows, so every day below
is worked out by hand from the statute, not by lethe's arithmetic."""
import datetime
import json
import os
import shutil
import sqlite3
from lethe_e2e import SOURCE, check, equal, finish, plan_json, run, tmpdir, write
from lethe_subject_e2e import records, reference_site

d = tmpdir()
db, cfg, repo, _key = reference_site(d, 1)
today = datetime.datetime.now(datetime.timezone.utc).date()
Y = today.year

con = sqlite3.connect(db)
con.execute("PRAGMA foreign_keys = OFF")
tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                    "AND name NOT LIKE 'lethe%' AND name NOT LIKE 'chat_fts%'")]
for t in tables:
    con.execute(f'DELETE FROM "{t}"')
con.execute("PRAGMA foreign_keys = ON")
recent = (today - datetime.timedelta(days=5)).isoformat()
active = (today - datetime.timedelta(days=2)).isoformat()
con.executescript(f"""
INSERT INTO products VALUES (1, 'MM-1001', 'Pipo', 1990);
-- 1: the voucher example; 2: an order in its 7th year; 3: a paid order not yet
-- delivered and an open complaint; 4: an open order and an old open complaint
INSERT INTO customers VALUES
 (1, 'A0000001', 'Aino Vouchers', 'aino@example.org', '+358 40 111 1111', '2017-01-01', '{active}', '2018-01-05'),
 (2, 'A0000002', 'Eero Seitsemas', 'eero@example.org', '+358 40 222 2222', '{Y - 7}-01-01', '{active}', '{Y - 7}-03-10'),
 (3, 'A0000003', 'Lumi Paketti', 'lumi@example.org', '+358 40 333 3333', '{Y - 1}-01-01', '{active}', '{recent}'),
 (4, 'A0000004', 'Onni Avoin', 'onni@example.org', NULL, '2015-01-01', '{active}', NULL),
 (5, 'A0000005', 'Inka Passiivi', 'inka@example.org', NULL, '2020-01-01', '2021-03-01', '2021-03-01'),
 (6, 'A0000006', 'Ville Veto', 'ville@example.org', NULL, '2019-01-01', '2020-01-01', NULL);
-- 5: a consent never withdrawn, a marketing profile and a ban linked to the
-- account; 6: a consent withdrawn last year, whose proof outlives the account
INSERT INTO consents VALUES (1, 5, 'email', '2020-01-01 10:00:00', NULL, 'signup'),
 (2, 6, 'email', '2019-01-01 10:00:00', '{Y - 1}-06-01 10:00:00', 'signup');
INSERT INTO marketing_profiles VALUES (1, 5, 'hats', '{recent} 10:00:00');
INSERT INTO addresses VALUES (1, 3, 'billing', 'Pakettitie 3', '00100', 'Helsinki'),
 (2, 2, 'billing', 'Seiskatie 7', '33100', 'Tampere'), (3, 5, 'billing', 'Hiljainen 5', '90100', 'Oulu');
INSERT INTO orders VALUES
 (1, 1, '2017-06-01 10:00:00', 'delivered', 1990),
 (2, 2, '{Y - 7}-03-10 12:00:00', 'delivered', 1990),
 (3, 3, '{recent} 09:00:00', 'paid', 1990),
 (4, 4, '2015-05-05 08:00:00', 'open', 1990),
 (5, 5, '2021-03-01 08:00:00', 'delivered', 1990);
INSERT INTO order_lines VALUES (1, 1, 1, 1, 1990), (2, 2, 1, 1, 1990), (3, 3, 1, 1, 1990),
 (4, 4, 1, 1, 1990), (5, 5, 1, 1, 1990);
INSERT INTO invoices VALUES
 (1, 1, '2017-00000001', '2017-06-01 10:00:00', 'Aino Vouchers', 'Katu 1', '00100', 'Helsinki'),
 (2, 2, '{Y - 7}-00000002', '{Y - 7}-03-10 12:00:00', 'Eero Seitsemas', 'Seiskatie 7', '33100', 'Tampere'),
 (3, 3, '{Y}-00000003', '{recent} 09:00:00', 'Lumi Paketti', 'Pakettitie 3', '00100', 'Helsinki'),
 (5, 5, '2021-00000005', '2021-03-01 08:00:00', 'Inka Passiivi', 'Hiljainen 5', '90100', 'Oulu');
-- customer 1 paid in the next calendar year: the payment's own clock
INSERT INTO payments VALUES (1, 1, 'bank', NULL, '2018-01-05 09:00:00', 1990),
 (2, 2, 'card', NULL, '{Y - 7}-03-10 12:01:00', 1990),
 (3, 3, 'klarna', 'KL-0123456789ab', '{recent} 09:01:00', 1990),
 (5, 5, 'card', NULL, '2021-03-01 08:01:00', 1990);
INSERT INTO sales_journal VALUES (1, '2017-06-01', 'A0000001', '2017-00000001', '3000', 1990),
 (2, '{Y - 7}-03-10', 'A0000002', '{Y - 7}-00000002', '3000', 1990),
 (3, '{recent}', 'A0000003', '{Y}-00000003', '3000', 1990),
 (5, '2021-03-01', 'A0000005', '2021-00000005', '3000', 1990);
INSERT INTO deliveries VALUES (1, 1, 'Posti', 'JJFI1', 'Aino Vouchers', 'Katu 1', '00100', '2017-06-03 10:00:00'),
 (2, 2, 'Posti', 'JJFI2', 'Eero Seitsemas', 'Seiskatie 7', '33100', '{Y - 7}-03-12 10:00:00'),
 (3, 3, 'Posti', 'JJFI3', 'Lumi Paketti', 'Pakettitie 3', '00100', NULL);
INSERT INTO complaints VALUES (1, 3, 3, 'the colour is wrong', '{recent} 10:00:00', NULL),
 (2, 4, NULL, 'never answered', '2016-02-02 10:00:00', NULL);
INSERT INTO marketing_bans VALUES (1, 3, 'email', '{recent} 11:00:00', 'abcd', NULL),
 (2, 5, 'sms', '2021-01-01 11:00:00', NULL, 'ef01');
""")
con.commit()
con.close()


def plan_at(config, as_of):
    rc, out, err = run("-c", config, "plan", "--as-of", as_of, "--json")
    check(rc == 0, f"plan --as-of {as_of} exits 0 ({err.strip()[-200:]})")
    return {r["name"]: r for r in json.loads(out)["rules"]} if rc == 0 else {}


def due(plan, rule, key="due"):
    return plan.get(rule, {}).get(key)


# --- periods and clocks, financial year = calendar year ----------------------
# customer 1: order, line, invoice of 2017-06-01 are kept until 2023-12-31;
# the payment of 2018-01-05 until 2024-12-31, and it keeps its invoice and
# order (deleting them would cascade into it); the journal entry of
# 2017-06-01 until 2027-12-31.
policies = os.path.join(SOURCE, "policies")
p = plan_at(cfg, "2023-12-31")
equal([due(p, r) for r in ("orders-vouchers", "invoices-vouchers", "payments-vouchers")],
      [0, 0, 0], "12-31: no voucher of 2017 is due on 2023-12-31")
p = plan_at(cfg, "2024-01-01")
equal(due(p, "order-lines-vouchers"), 1, "12-31: the 2017 order line is due on 2024-01-01")
equal((due(p, "invoices-vouchers"), due(p, "invoices-vouchers", "blocked")), (0, 1),
      "12-31: the 2017 invoice is due but blocked by its 2018 payment")
equal((due(p, "orders-vouchers"), due(p, "orders-vouchers", "blocked")), (0, 1),
      "12-31: the 2017 order waits for its payment (blocked)")
equal(due(p, "payments-vouchers"), 0, "12-31: the payment of 2018-01-05 counts from 2018-12-31")
p = plan_at(cfg, "2025-01-01")
equal([due(p, r) for r in ("orders-vouchers", "invoices-vouchers", "payments-vouchers")],
      [1, 1, 1], "12-31: the whole 2017 voucher set is due on 2025-01-01")
p = plan_at(cfg, "2027-12-31")
equal(due(p, "sales-journal"), 0, "12-31: the journal entry of 2017-06-01 is kept on 2027-12-31")
p = plan_at(cfg, "2028-01-01")
equal(due(p, "sales-journal"), 1,
      "12-31: the journal entry of 2017-06-01 is due on 2028-01-01 (10 years from 2017-12-31)")

# --- the same register with a financial year ending 04-30 -------------------
april = os.path.join(d, "policies-april")
shutil.copytree(policies, april)
reg = os.path.join(april, "00-register.yaml")
with open(reg) as f:
    text = f.read()
check("fiscal_year_end: 12-31" in text, "the reference policies declare their fiscal year end")
write(reg, text.replace("fiscal_year_end: 12-31", "fiscal_year_end: 04-30"))
cfg_april = os.path.join(d, "april.yaml")
write(cfg_april, f"database: {db}\npolicies: {april}\n")
# 2017-06-01 belongs to the year ending 2018-04-30, which ended in 2018:
# kept until 2024-12-31; the payment of 2018-01-05 to the same year.
p = plan_at(cfg_april, "2024-12-31")
equal([due(p, r) for r in ("orders-vouchers", "invoices-vouchers", "payments-vouchers")],
      [0, 0, 0], "04-30: the voucher of 2017-06-01 is kept until 2024-12-31")
p = plan_at(cfg_april, "2025-01-01")
equal([due(p, r) for r in ("orders-vouchers", "invoices-vouchers", "payments-vouchers")],
      [1, 1, 1], "04-30: and due on 2025-01-01, payment included (same financial year)")
# the books: 10 years from the end of the financial year, 2018-04-30
pa = plan_at(cfg_april, "2028-04-30")
pb = plan_at(cfg_april, "2028-05-01")
equal((due(pa, "sales-journal"), due(pb, "sales-journal")), (0, 1),
      "04-30: the journal entry of 2017-06-01 is due on 2028-05-01")

# --- stale clocks and coverage -------------------------------------------------
rc, out, err = run("-c", cfg, "plan")
equal(rc, 0, "plan exits 0 with stale rows")
check("rule 'orders-vouchers': 1 row of 'orders' whose clock never started are older than 30 day(s)"
      in err, f"plan warns of the open order of 2015: {err.strip()[-300:]}")
check("rule 'complaints': 1 row of 'complaints'" in err and "older than 1 year(s)" in err,
      "plan warns of the complaint open since 2016 (not of the recent one)")
rc, out, err = run("-c", cfg, "status")
check("rule 'complaints': 1 row" in out + err and "rule 'orders-vouchers': 1 row" in out + err,
      f"status warns of the stale complaint and open order too: {(out + err).strip()[-400:]}")

rc, out, err = run("-c", cfg, "check")
equal(rc, 0, "check passes the reference policies")
check("no rule covers" not in err, f"every table linked to the subject has a rule: {err.strip()}")
con = sqlite3.connect(db)
con.executescript("""
CREATE TABLE wishlists (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id));
CREATE TABLE wish_items (id INTEGER PRIMARY KEY, wishlist_id INTEGER REFERENCES wishlists(id),
  product_id INTEGER REFERENCES products(id));
""")
con.close()
rc, out, err = run("-c", cfg, "check")
equal(rc, 0, "a table without a rule is a warning, not a fault")
check("table 'wishlists' refers to the data subject (through 'customers') but no rule covers it" in err,
      f"check names the uncovered table: {err.strip()}")
check("table 'wish_items' refers to the data subject (through 'wishlists')" in err,
      "and the one linked through it")

# --- erasure in year 7 of an order --------------------------------------------
rc, out, err = run("-c", cfg, "erase", "--subject", "2", "--json")
equal(rc, 0, f"erase of customer 2 exits 0 ({err.strip()[-200:]})")
cats = {c["rule"]: c for c in json.loads(out)["categories"]} if rc == 0 else {}
con = sqlite3.connect(db)
left = {t: con.execute(f"SELECT count(*) FROM {t} WHERE id = 2").fetchone()[0]
        for t in ("orders", "order_lines", "invoices", "payments", "sales_journal")}
con.close()
equal(left, {"orders": 0, "order_lines": 0, "invoices": 0, "payments": 0, "sales_journal": 1},
      f"year 7: the order and its vouchers are disposed of, the journal entry stays")
o = cats.get("orders-vouchers", {})
equal((o.get("erased"), o.get("erased_as"), o.get("already_due"), o.get("kept")),
      (1, "deleted", True, 0), "the answer says the order was deleted, its period over")
j = cats.get("sales-journal", {})
equal((j.get("kept"), j.get("disposal_from")), (1, f"{Y + 4}-01-01"),
      "the journal entry is kept 10 years from the end of its financial year")
check("Kirjanpitolaki" in j.get("basis", ""), "with its basis")
equal(cats.get("inactive-accounts", {}).get("erased_as"), "pseudonymised",
      "pseudonymised rows are called pseudonymised")

# --- erasure with a paid, undelivered order and an open complaint ------------
rc, out, err = run("-c", cfg, "erase", "--subject", "3")
equal(rc, 0, f"erase of customer 3 exits 0 ({err.strip()[-200:]})")
check("kept: 1 row, while an order you have paid for has not been delivered yet" in out,
      f"the answer says why the account is kept: {out}")
check("kept: 1 row, while your complaint is still being handled" in out,
      "and why the open complaint is kept")
con = sqlite3.connect(db)
equal(con.execute("SELECT name, email FROM customers WHERE id = 3").fetchone(),
      ("Lumi Paketti", "lumi@example.org"), "the name and e-mail the delivery needs are kept")
equal(con.execute("SELECT street FROM addresses WHERE customer_id = 3").fetchone(), ("Pakettitie 3",),
      "the delivery address is kept")
equal(con.execute("SELECT recipient_name, recipient_street FROM deliveries WHERE id = 3").fetchone(),
      ("Lumi Paketti", "Pakettitie 3"), "the parcel on its way keeps its recipient for the carrier")
check("kept: 1 row, while your parcel is still on its way" in out, "and the answer says why")
equal(con.execute("SELECT count(*) FROM complaints WHERE id = 1").fetchone()[0], 1,
      "the open complaint is kept")
equal(con.execute("SELECT customer_id, email_token FROM marketing_bans WHERE id = 1").fetchone(),
      (None, "abcd"), "the marketing ban stays as a token, without a link to the customer")
first = [r for r in records(repo) if r.get("kind") == "intent" and r.get("request")][-1]
con.close()
# the daily run while the parcel is on its way: the erasure stays open
rc, out, err = run("-c", cfg, "run", "--json")
equal(rc, 0, f"the run while the parcel is on its way exits 0 ({err.strip()[-200:]})")
equal(json.loads(out).get("erasures_finished") if rc == 0 else None, [],
      "the run finishes no erasure while its rows are held")
con = sqlite3.connect(db)
equal(con.execute("SELECT name FROM customers WHERE id = 3").fetchone(), ("Lumi Paketti",),
      "the name the delivery needs is still kept")
# once the parcel is delivered and the complaint closed, nothing keeps those
# rows: the next daily run finishes the erasure
con.execute("UPDATE orders SET status = 'delivered' WHERE id = 3")
con.execute(f"UPDATE deliveries SET delivered_at = '{recent} 12:00:00' WHERE id = 3")
con.execute(f"UPDATE complaints SET closed_at = '{recent} 13:00:00' WHERE id = 1")
con.commit()
con.close()
rc, out, err = run("-c", cfg, "run", "--json")
equal(rc, 0, f"the run after the conditions ended exits 0 ({err.strip()[-200:]})")
fin = json.loads(out).get("erasures_finished", []) if rc == 0 else []
equal([(f["still_open"], f["skipped"], f["disposed"] > 0) for f in fin], [(False, False, True)],
      f"the run finishes the erasure: {fin}")
con = sqlite3.connect(db)
row = con.execute("SELECT name, email FROM customers WHERE id = 3").fetchone()
check(row is not None and row[0].startswith("tok_") and row[1].startswith("tok_"),
      f"the run pseudonymises the name and e-mail kept for the delivery: {row}")
fins = [r for r in records(repo) if r.get("kind") == "intent" and "completes" in r]
equal([(r.get("request"), r.get("completes"), r.get("subject"), r.get("contact"), "received" in r)
       for r in fins], [("erasure", first["seq"], first["subject"], first["contact"], False)],
      "the evidence records one erasure that completes the first, same subject, no new request")
equal([f["erasure"] for f in fin], [first["seq"]], "the run's output names the erasure it finished")
equal([con.execute(q).fetchone()[0] for q in (
    "SELECT count(*) FROM addresses WHERE customer_id = 3",
    "SELECT count(*) FROM deliveries WHERE id = 3",
    "SELECT count(*) FROM complaints WHERE id = 1")], [0, 0, 0],
      "and deletes the address, the delivered parcel's recipient and the closed complaint")
equal(con.execute("SELECT count(*) FROM orders WHERE id = 3").fetchone()[0], 1, "the voucher stays")
con.close()

# --- an inactive account: pseudonymised, blocked by its voucher, then deleted --
# customer 5's last purchase was 2021-03-01: inactive for 3 years since
# 2024-03-02; its order of 2021-03-01 is a voucher until 2027-12-31.
rc, out, err = run("-c", cfg, "run")
equal(rc, 0, f"today's run exits 0 ({err.strip()[-200:]})")
con = sqlite3.connect(db)
row = con.execute("SELECT email FROM customers WHERE id = 5").fetchone()
check(row is not None and row[0].startswith("tok_"), f"the inactive account is pseudonymised: {row}")
equal(con.execute("SELECT count(*) FROM addresses WHERE customer_id = 5").fetchone()[0], 0,
      "its address is gone")
equal(con.execute("SELECT count(*) FROM consents WHERE customer_id = 5").fetchone()[0], 0,
      "its consent, never withdrawn, ends with it (no indefinite consent)")
equal(con.execute("SELECT count(*) FROM marketing_profiles WHERE customer_id = 5").fetchone()[0], 0,
      "its marketing profile, updated lately, goes with it")
equal(con.execute("SELECT customer_id, phone_token FROM marketing_bans WHERE id = 2").fetchone(),
      (None, "ef01"), "its marketing ban stays as a token, the link to the account cut")
row = con.execute("SELECT email FROM customers WHERE id = 6").fetchone()
check(row is not None and row[0].startswith("tok_"),
      f"the account whose withdrawn consent is still proof is pseudonymised, not deleted: {row}")
equal(con.execute("SELECT count(*) FROM consents WHERE id = 2").fetchone()[0], 1,
      "the withdrawn consent is kept as proof (3 years)")
con.close()
p = plan_at(cfg, today.isoformat())
equal(due(p, "unreferenced-inactive-accounts", "blocked"), 2,
      "the pseudonymised accounts are blocked while a voucher or a consent's proof is kept")
rc, out, err = run("-c", cfg, "run", "--as-of", "2028-01-01", "--allow-future-as-of",
                   "--allow-clock-jump", "--json")
equal(rc, 0, f"the run of 2028-01-01 exits 0 ({err.strip()[-300:]})")
con = sqlite3.connect(db)
equal(con.execute("SELECT count(*) FROM orders WHERE id = 5").fetchone()[0], 0,
      "the voucher of 2021 goes on 2028-01-01")
equal(con.execute("SELECT count(*) FROM customers WHERE id = 5").fetchone()[0], 0,
      "and the pseudonymised account with it, nothing kept referring to it any more")
equal(con.execute("SELECT count(*) FROM sales_journal WHERE id = 5").fetchone()[0], 1,
      "the books keep their entry (10 years) with the customer number")
con.close()

# customer 6's withdrawn consent is proof until {Y + 2}-06-01: the account
# stays blocked until then and goes with the consent in the same run.
last = f"{Y + 2}-06-01"
p = plan_at(cfg, last)
equal((due(p, "consents-after-withdrawal"), due(p, "unreferenced-inactive-accounts", "blocked")), (0, 1),
      f"on {last} the consent is still proof and keeps its account (blocked)")
gone = f"{Y + 2}-06-02"
rc, out, err = run("-c", cfg, "run", "--as-of", max(gone, "2028-01-02"), "--allow-future-as-of",
                   "--allow-clock-jump")
equal(rc, 0, f"the run after the consent's proof exits 0 ({err.strip()[-300:]})")
con = sqlite3.connect(db)
equal([con.execute(f"SELECT count(*) FROM {t} WHERE {c} = 6").fetchone()[0]
       for t, c in (("consents", "customer_id"), ("customers", "id"))], [0, 0],
      "the consent's proof and then the account are deleted")
con.close()

rc, out, err = run("-c", cfg, "verify")
equal(rc, 0, f"the evidence verifies ({out.strip()[-200:]})")
finish()
