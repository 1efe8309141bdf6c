"""Helpers for the end-to-end tests of data subjects' requests on the
reference shop: a customer with every kind of data, and every table's rows
of a customer written as independent SQL (not from the policy); suppression
tokens and contact digests computed independently."""
import atexit
import hashlib
import json
import os
import sqlite3
import subprocess
import unicodedata

import lethe_engines
from lethe_e2e import equal, run
from lethe_run_e2e import token_row

BY_ORDER = "order_id IN (SELECT id FROM orders WHERE customer_id = :s)"
# WHERE clauses of each table's rows of customer :s.
QUERIES = {
    "customers": "id = :s",
    "addresses": "customer_id = :s", "change_history": "customer_id = :s",
    "orders": "customer_id = :s", "order_lines": BY_ORDER, "invoices": BY_ORDER,
    "payments": f"invoice_id IN (SELECT id FROM invoices WHERE {BY_ORDER})",
    "consents": "customer_id = :s", "marketing_profiles": "customer_id = :s",
    "marketing_bans": "customer_id = :s", "deliveries": BY_ORDER, "returns": BY_ORDER,
    "complaints": "customer_id = :s", "chat_transcripts": "customer_id = :s",
    "feedback": "customer_id = :s", "page_events": "customer_id = :s",
    "sales_journal": "customer_number = (SELECT c.customer_number FROM customers c WHERE c.id = :s)",
}


# The register of a reference site on a server (LETHE_TEST_ENGINE other than
# sqlite), by its location: rich_subject reads it through the engine.
_servers = {}


def reference_site(d, customers):
    """The reference shop in d/shop (demo), made a site by `lethe init` there:
    (database, lethe.yaml, evidence repository, pseudonym key bytes). On the
    engine LETHE_TEST_ENGINE names: on a server, database is its location
    (a throwaway server, stopped when the test exits)."""
    shop = os.path.join(d, "shop")
    eng = lethe_engines.engine()
    if eng.name == "sqlite":
        db = os.path.join(shop, "shop.sqlite")
        rc, out, err = run("demo", shop, "--customers", str(customers))
        equal(rc, 0, "demo writes the register")
    else:
        eng.start(d)
        atexit.register(eng.stop)
        eng.demo(shop, customers=customers)
        db = eng.location()
        _servers[db] = eng
    os.remove(os.path.join(shop, "lethe.yaml"))
    rc, out, err = run("init", shop, "--database", db)
    equal(rc, 0, f"init makes a site {err.strip()}")
    with open(os.path.join(shop, "keys", "pseudonym.key")) as f:
        key = bytes.fromhex(f.read().strip())
    return db, os.path.join(shop, "lethe.yaml"), os.path.join(shop, "evidence"), key


def use_engine(eng):
    """Let rich_subject read a started lethe_engines engine's register by its
    location (an SQLite file is read directly)."""
    if eng.name != "sqlite":
        _servers[eng.location()] = eng


def query(db, sql, *args):
    """The rows of one SQL query on the database, opened read-only."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def records(evidence):
    """The records of the evidence repository's main, in seq order."""
    names = subprocess.run(["git", "-C", evidence, "ls-tree", "-r", "--name-only", "main", "records/"],
                           capture_output=True, text=True, check=True).stdout.split()
    return [json.loads(subprocess.run(["git", "-C", evidence, "show", f"main:{n}"],
                                      capture_output=True, text=True, check=True).stdout)
            for n in sorted(names)]


def rich_subject(con, orders_since=None):
    """The customer with placed orders, chats, consents and a marketing
    profile (and as many other kinds of data as possible); with
    orders_since (YYYY-MM-DD), one with no order before that day. con is an
    sqlite3 connection or the database of reference_site (any engine)."""
    sql = RICH_SUBJECT.replace("{since}", "" if orders_since is None else
                               "AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id "
                               f"AND o.order_date < '{orders_since}')")
    if isinstance(con, str) and con in _servers:
        return int(_servers[con].sql(sql)[0][0])
    if isinstance(con, str):
        con = sqlite3.connect(f"file:{con}?mode=ro", uri=True)
        try:
            return con.execute(sql).fetchone()[0]
        finally:
            con.close()
    return con.execute(sql).fetchone()[0]


RICH_SUBJECT = """
SELECT c.id FROM customers c
WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.status <> 'open')
  {since}
  AND EXISTS (SELECT 1 FROM chat_transcripts t WHERE t.customer_id = c.id)
  AND EXISTS (SELECT 1 FROM consents t WHERE t.customer_id = c.id)
  AND EXISTS (SELECT 1 FROM marketing_profiles t WHERE t.customer_id = c.id)
ORDER BY CASE WHEN EXISTS (SELECT 1 FROM complaints t WHERE t.customer_id = c.id) THEN 1 ELSE 0 END
  + CASE WHEN EXISTS (SELECT 1 FROM page_events t WHERE t.customer_id = c.id) THEN 1 ELSE 0 END DESC,
  (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) DESC, c.id LIMIT 1"""


# Suppression tokens and contact digests, computed here as lethe/subject.h
# specifies them, with Python's own Unicode tables (unicodedata, str.casefold)
# and hashlib, independently of libunistring and libsodium.
TOKEN_PERSON = b"lethe-token-v1"
DIGEST_PERSON = b"lethe-digest-v1"
SPACE = " \t\n\v\f\r"


def raw_token(key, data):
    """The pseudonym token of data's exact bytes."""
    data = data if isinstance(data, bytes) else str(data).encode()
    return "tok_" + hashlib.blake2b(data, key=key, person=TOKEN_PERSON, digest_size=16).hexdigest()


def looks_like_token(v):
    return len(v) == 36 and v.startswith("tok_") and all(c in "0123456789abcdef" for c in v[4:])


def normalise(v):
    """Trimmed; e-mail addresses NFC of the case folding of NFD; other values
    NFC without spaces, dashes, dots and parentheses."""
    v = v.strip(SPACE)
    if "@" in v:
        return unicodedata.normalize("NFC", unicodedata.normalize("NFD", v).casefold())
    return unicodedata.normalize("NFC", "".join(c for c in v if c not in " -.()"))


def suppression_token(key, value):
    """What `lethe erase` puts on the suppression list for a contact value:
    a token as it is, anything else the token of its normalised form."""
    v = str(value)
    if looks_like_token(v.strip(SPACE)):
        return v.strip(SPACE)
    return raw_token(key, normalise(v).encode())


def contact_digest(key, values, row_keys=None):
    """The erasure intent's `contact`: keyed digest (domain "contact") of one
    line per contact column: what a rule's pseudonymise writes for the value,
    the token of its exact bytes, or in a UNIQUE column (row_keys[i] not
    None) the row token bound to the row's key; a token as it is; "-" for
    NULL."""
    row_keys = row_keys or [None] * len(values)

    def line(v, rk):
        if v is None:
            return "-"
        if looks_like_token(str(v)):
            return str(v)
        return raw_token(key, v) if rk is None else token_row(key, v, rk)
    values = [line(v, rk) for v, rk in zip(values, row_keys)]
    data = "".join(v + "\n" for v in values)
    h = hashlib.blake2b(key=key, person=DIGEST_PERSON, digest_size=32)
    h.update(len(b"contact").to_bytes(8, "little") + b"contact" + data.encode())
    return h.hexdigest()
