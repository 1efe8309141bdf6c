"""An engine-neutral register for the end-to-end tests: the same test drives
lethe on an SQLite file or a PostgreSQL database (later MariaDB), chosen by
LETHE_TEST_ENGINE (set by CMake from the test's "# engines: ..." line).

    eng = lethe_engines.engine()          # from LETHE_TEST_ENGINE, default sqlite
    eng.start(tmpdir)                     # a throwaway server when there is one
    cfg = eng.demo(dir, customers=200)    # lethe demo into the engine; lethe.yaml path
    eng.sql("SELECT count(*) FROM customers")   # rows as lists of strings / None
    eng.dump("customers")                 # every row, normalised for comparison
    eng.stop()

Values are normalised so that both engines compare equal for the same data:
text as is, integers as decimal text, a timestamp as "YYYY-MM-DD HH:MM:SS"
(PostgreSQL's +00 suffix dropped: the session runs in UTC)."""
import os
import sqlite3
import subprocess

import lethe_e2e as e2e
import lethe_pg


def normalise(v):
    if v is None:
        return None
    v = str(v)
    if len(v) == 22 and v.endswith("+00") and v[4] == "-" and v[10] == " ":
        return v[:19]
    return v


class SqliteEngine:
    name = "sqlite"

    def start(self, tmpdir):
        self.db = None
        return self

    def stop(self):
        pass

    def demo(self, folder, customers=200, seed=1, policies=None):
        args = ["demo", folder, "--customers", str(customers), "--seed", str(seed)]
        if policies:
            args += ["--policies", policies]
        rc, out, err = e2e.run(*args)
        if rc != 0:
            raise RuntimeError(f"lethe demo failed: {err}")
        self.db = os.path.join(folder, "shop.sqlite")
        return os.path.join(folder, "lethe.yaml")

    def location(self):
        return self.db

    def sql(self, text):
        con = sqlite3.connect(self.db)
        try:
            cur = con.executescript(text) if text.count(";") > 1 else con.execute(text)
            rows = [[None if v is None else str(v) for v in r] for r in cur.fetchall()]
            con.commit()
            return rows
        finally:
            con.close()

    def dump(self, table, order="id"):
        return [[normalise(v) for v in r] for r in self.sql(f'SELECT * FROM "{table}" ORDER BY {order}')]

    def backup(self, path):
        """A copy of the register as it is now (lethe must not be running)."""
        import shutil
        shutil.copyfile(self.db, path)
        return path

    def restore(self, backup):
        import shutil
        shutil.copyfile(backup, self.db)


class PostgresEngine:
    name = "postgresql"

    def start(self, tmpdir):
        lethe_pg.require()
        self.server = lethe_pg.PostgresServer().start(tmpdir)
        self.dbname = "shop"
        self.loc = self.server.create_database(self.dbname)
        return self

    def stop(self):
        self.server.stop()

    def demo(self, folder, customers=200, seed=1, policies=None):
        args = ["demo", folder, "--customers", str(customers), "--seed", str(seed),
                "--database", self.loc]
        if policies:
            args += ["--policies", policies]
        rc, out, err = e2e.run(*args)
        if rc != 0:
            raise RuntimeError(f"lethe demo failed: {err}")
        return os.path.join(folder, "lethe.yaml")

    def location(self):
        return self.loc

    def sql(self, text):
        return self.server.sql(self.dbname, "SET TimeZone = 'UTC';\n" + text)

    def dump(self, table, order="id"):
        return [[normalise(v) for v in r] for r in self.sql(f'SELECT * FROM "{table}" ORDER BY {order}')]


    def backup(self, name):
        """A copy of the database as it is now, as another database."""
        name = os.path.basename(name)
        self.server.sql("postgres", f'CREATE DATABASE "{name}" TEMPLATE "{self.dbname}"')
        return name

    def restore(self, backup):
        self.server.sql("postgres", f'DROP DATABASE "{self.dbname}" WITH (FORCE)')
        self.server.sql("postgres", f'CREATE DATABASE "{self.dbname}" TEMPLATE "{backup}"')


ENGINES = {"sqlite": SqliteEngine, "postgresql": PostgresEngine}


def engine(name=None):
    name = name or os.environ.get("LETHE_TEST_ENGINE") or "sqlite"
    return ENGINES[name]()
