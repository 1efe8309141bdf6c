/*
 * test_sqlite_vfs.c - the SQLite backend's VFS (backend_sqlite_vfs.h) on real
 * database files: a journal's writes are gathered into runs; a process
 * killed at any instant of a transaction, syncing or not, leaves a database
 * that SQLite's own recovery makes whole; a journal write that fails (a full
 * disk) fails the transaction, nothing more reaches the database, and the
 * database comes back as it was.
 *
 * Under the VFS, where a test needs to see or break the file writes, sits
 * "under": the unix VFS with every write counted and journal writes failing
 * past a budget. It is registered as the default before the backend's VFS is
 * first asked for, so the backend's VFS wraps it (Check runs each test in a
 * process of its own).
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>
#include "backend/sqlite/backend_sqlite_vfs.h"
#include "register_fixture.h"

#define ROWS 2000

static char dbpath[200];

/* --- "under": the unix VFS, counted, with a journal budget ------------------ */

typedef struct {
	sqlite3_file base;
	sqlite3_file *real;
	int journal;
} under_file;

static sqlite3_vfs *unix_vfs;
static sqlite3_vfs under_vfs;
static long journal_writes, journal_bytes, db_writes, db_writes_after_failure;
static long journal_writes_after_failure;
static long journal_budget = -1; /* bytes until one journal write fails; -1: none */
static int journal_failed;
static long writes_seen, die_at = -1; /* the process ends before write die_at */

#define UREAL(p) (((under_file *)(p))->real)

static int u_close(sqlite3_file *p) { return UREAL(p)->pMethods->xClose(UREAL(p)); }
static int u_read(sqlite3_file *p, void *b, int n, sqlite3_int64 o)
{
	return UREAL(p)->pMethods->xRead(UREAL(p), b, n, o);
}
static int u_write(sqlite3_file *p, const void *b, int n, sqlite3_int64 o)
{
	/* killed: whatever SQLite wrote before is in the operating system, the
	 * rest is lost */
	if (++writes_seen == die_at)
		_exit(9);
	if (!((under_file *)p)->journal) {
		db_writes++;
		db_writes_after_failure += journal_failed;
	} else {
		journal_writes++;
		journal_bytes += n;
		journal_writes_after_failure += journal_failed;
		/* one write fails, as on a disk that fills and is then freed */
		if (journal_budget >= 0 && (journal_budget -= n) < 0) {
			journal_budget = -1;
			journal_failed = 1;
			return SQLITE_FULL;
		}
	}
	return UREAL(p)->pMethods->xWrite(UREAL(p), b, n, o);
}
static int u_truncate(sqlite3_file *p, sqlite3_int64 s) { return UREAL(p)->pMethods->xTruncate(UREAL(p), s); }
static int u_sync(sqlite3_file *p, int f) { return UREAL(p)->pMethods->xSync(UREAL(p), f); }
static int u_size(sqlite3_file *p, sqlite3_int64 *s) { return UREAL(p)->pMethods->xFileSize(UREAL(p), s); }
static int u_lock(sqlite3_file *p, int l) { return UREAL(p)->pMethods->xLock(UREAL(p), l); }
static int u_unlock(sqlite3_file *p, int l) { return UREAL(p)->pMethods->xUnlock(UREAL(p), l); }
static int u_reserved(sqlite3_file *p, int *o) { return UREAL(p)->pMethods->xCheckReservedLock(UREAL(p), o); }
static int u_control(sqlite3_file *p, int op, void *a) { return UREAL(p)->pMethods->xFileControl(UREAL(p), op, a); }
static int u_sector(sqlite3_file *p) { return UREAL(p)->pMethods->xSectorSize(UREAL(p)); }
static int u_device(sqlite3_file *p) { return UREAL(p)->pMethods->xDeviceCharacteristics(UREAL(p)); }

/* journal_mode DELETE only: no shared memory, no memory map */
static const sqlite3_io_methods under_methods = {
	1, u_close, u_read, u_write, u_truncate, u_sync, u_size, u_lock, u_unlock, u_reserved,
	u_control, u_sector, u_device, NULL, NULL, NULL, NULL, NULL, NULL,
};

static int u_open(sqlite3_vfs *v, const char *name, sqlite3_file *p, int flags, int *out)
{
	under_file *f = (under_file *)p;
	int rc;

	(void)v;
	f->real = (sqlite3_file *)(f + 1);
	f->journal = (flags & SQLITE_OPEN_MAIN_JOURNAL) != 0;
	rc = unix_vfs->xOpen(unix_vfs, name, f->real, flags, out);
	p->pMethods = rc == SQLITE_OK ? &under_methods : NULL;
	return rc;
}

/* Make "under" the default VFS, then the backend's VFS on top of it. */
static void install_under(void)
{
	unix_vfs = sqlite3_vfs_find("unix");
	ck_assert_ptr_nonnull(unix_vfs);
	under_vfs = *unix_vfs;
	under_vfs.zName = "under";
	under_vfs.szOsFile = (int)sizeof(under_file) + unix_vfs->szOsFile;
	under_vfs.xOpen = u_open;
	under_vfs.pNext = NULL;
	ck_assert_int_eq(sqlite3_vfs_register(&under_vfs, 1), SQLITE_OK);
	ck_assert_str_eq(lethe_sqlite_vfs(), "lethe");
}

/* --- helpers ------------------------------------------------------------- */

static sqlite3 *open_with(const char *vfs)
{
	sqlite3 *db = NULL;

	ck_assert_int_eq(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs),
			 SQLITE_OK);
	return db;
}

static void exec_ok(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &err);

	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, err ? err : "?");
}

static sqlite3_int64 query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	sqlite3_int64 v;

	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* A register of ROWS rows, v = 0 everywhere, pages enough for a 64 KiB
 * cache to spill many times in one transaction. Made with the unix VFS. */
static void make_register(void)
{
	sqlite3 *db;

	char journal[220];

	snprintf(dbpath, sizeof(dbpath), "%s/shop.sqlite", unit_tmpdir);
	snprintf(journal, sizeof(journal), "%s-journal", dbpath);
	unlink(dbpath);
	unlink(journal);
	db = open_with("unix");
	exec_ok(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL CHECK (v < 1000000), pad BLOB);"
		    "CREATE INDEX t_v ON t (v, pad);"
		    /* a trigger and a CHECK: SQLite can undo one statement alone */
		    "CREATE TABLE audit (n INTEGER);"
		    "CREATE TRIGGER t_audit AFTER UPDATE ON t WHEN new.v < 0 BEGIN "
		    "INSERT INTO audit VALUES (new.v); END;"
		    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
		    "INSERT INTO t SELECT i, 0, randomblob(600) FROM n;");
	sqlite3_close(db);
}

/* The database as the unix VFS finds it (a hot journal rolled back first):
 * whole, ROWS rows, every row at the same v; returns that v. */
static sqlite3_int64 whole(void)
{
	sqlite3 *db = open_with("unix");
	sqlite3_stmt *st = NULL;
	sqlite3_int64 v;

	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM t"), ROWS);
	ck_assert_int_eq(query_int(db, "SELECT count(DISTINCT v) FROM t"), 1);
	v = query_int(db, "SELECT min(v) FROM t");
	sqlite3_close(db);
	return v;
}

/* --- tests --------------------------------------------------------------- */

/* One transaction that journals every page: far fewer journal writes than
 * the default's three a page, and the database as it should be after. */
START_TEST(journal_writes_gathered)
{
	sqlite3 *db;
	long pages;

	install_under();
	make_register();
	db = open_with("lethe");
	/* a cache that holds the transaction: spills would sync the journal
	 * (and write its run) every few pages */
	exec_ok(db, "PRAGMA synchronous = FULL; PRAGMA cache_size = -4096;");
	journal_writes = journal_bytes = 0;
	exec_ok(db, "BEGIN; UPDATE t SET v = 1, pad = randomblob(600); COMMIT;");
	sqlite3_close(db);
	pages = journal_bytes / (4096 + 8);
	ck_assert_int_gt(pages, 400);
	ck_assert_msg(journal_writes * 4 < pages, "%ld journal writes for %ld pages", journal_writes,
		      pages);
	ck_assert_int_eq(whole(), 1);
}
END_TEST

/* Three transactions that each rewrite every row through a 64 KiB cache
 * (many spills); the process ends before its write number die_at, or never. */
static void transactions(const char *sync)
{
	sqlite3 *db = NULL;
	char sql[96];

	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE, "lethe") != SQLITE_OK)
		_exit(2);
	snprintf(sql, sizeof(sql), "PRAGMA synchronous = %s; PRAGMA cache_size = -64;", sync);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		_exit(3);
	for (int i = 0; i < 3; i++)
		if (sqlite3_exec(db, "BEGIN IMMEDIATE; UPDATE t SET v = v + 1, pad = randomblob(600);"
				     "COMMIT;", NULL, NULL, NULL) != SQLITE_OK)
			_exit(4);
	sqlite3_close(db);
}

/* The process is killed before a write chosen at random among all the
 * writes its transactions make (the instants where what the files hold
 * changes), and the database must be whole: synchronous FULL (the
 * backend's) and OFF (where the VFS no longer lets database writes overtake
 * the journal). */
static void killed(const char *sync)
{
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	long total;

	install_under();
	make_register();
	transactions(sync);
	total = writes_seen;
	ck_assert_int_eq(whole(), 3);
	printf("test_sqlite_vfs: killed (synchronous %s): %ld writes, seed %u\n", sync, total, seed);
	fflush(stdout);
	srand(seed);
	for (int i = 0; i < 60; i++) {
		pid_t pid;
		int status;
		sqlite3_int64 v;

		make_register();
		writes_seen = 0;
		die_at = 1 + rand() % (total * 9 / 10); /* the count varies a little */
		if ((pid = fork()) == 0) {
			transactions(sync);
			_exit(0);
		}
		ck_assert_int_ge(pid, 0);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 9,
			      "the child did not end at write %ld (status %d)", die_at, status);
		v = whole();
		ck_assert_msg(v >= 0 && v <= 3, "v %lld after write %ld", (long long)v, die_at);
	}
}

START_TEST(killed_at_any_instant_syncing)
{
	killed("FULL");
}
END_TEST

START_TEST(killed_at_any_instant_not_syncing)
{
	killed("OFF");
}
END_TEST

/* A register opened through the VFS with `pragmas`, whose journal's next
 * write after 512 KiB fails; `sql` is run and must fail with SQLITE_FULL
 * having met that write. */
static sqlite3 *fail_journal(const char *pragmas, const char *sql)
{
	sqlite3 *db;

	install_under();
	make_register();
	db = open_with("lethe");
	exec_ok(db, pragmas);
	db_writes = 0;
	journal_budget = 512 * 1024;
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL) & 0xff, SQLITE_FULL);
	ck_assert_int_eq(journal_failed, 1);
	return db;
}

/* One write of the journal fails once it has taken 512 KiB, as on a disk
 * that fills (and is freed again just after). The transaction fails with
 * SQLITE_FULL; nothing more reaches the journal, whose file now lacks bytes
 * SQLite believes written; SQLite rolls back from what the file holds, as
 * with the default VFS, and the database is as it was. */
START_TEST(full_disk)
{
	sqlite3 *db = fail_journal("PRAGMA synchronous = FULL; PRAGMA cache_size = -64;",
				   "BEGIN; UPDATE t SET v = 1, pad = randomblob(600); COMMIT;");
	char journal[220];

	/* the failure came in the middle: the cache had spilled into the database */
	ck_assert_int_gt(db_writes - db_writes_after_failure, 50);
	/* rolled back by ROLLBACK, or (a failure that came from a sync leaves the
	 * journal hot) by the next read, which the backend makes at once
	 * (lethe_sqlite_recover) */
	(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	ck_assert_int_eq(sqlite3_get_autocommit(db), 1);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM t WHERE v = 1"), 0);
	ck_assert_int_eq(journal_writes_after_failure, 0);
	/* rolled back in place: the pages spilled were written back */
	ck_assert_int_gt(db_writes_after_failure, 0);
	snprintf(journal, sizeof(journal), "%s-journal", dbpath);
	ck_assert_int_ne(access(journal, F_OK), 0);
	sqlite3_close(db);
	ck_assert_int_eq(whole(), 0);
}
END_TEST

/* The same failure, met by a journal write (the cache holds every page the
 * statement changes, so nothing is synced before it), in a table with a
 * trigger and a CHECK, where SQLite may undo the statement alone and keep
 * the transaction open. The journal's file lacks the records of the lost
 * run, so such an undo would be partial: the transaction must not commit,
 * and the database must be as it was. (SQLite 3.40 rolls the whole
 * transaction back here; the VFS refusing every later journal sync is what
 * would stop the commit if it did not.) */
START_TEST(full_disk_transaction_goes_on)
{
	sqlite3 *db = fail_journal("PRAGMA synchronous = FULL; PRAGMA cache_size = -1024; BEGIN;",
				   "UPDATE t SET v = v + 1, pad = randomblob(600)");

	ck_assert_int_eq(db_writes, 0);
	ck_assert_int_ne(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	ck_assert_int_eq(sqlite3_get_autocommit(db), 1);
	sqlite3_close(db);
	ck_assert_int_eq(whole(), 0);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		journal_writes_gathered,
		killed_at_any_instant_syncing,
		killed_at_any_instant_not_syncing,
		full_disk,
		full_disk_transaction_goes_on,
	};

	return rf_main("sqlite_vfs", tests, sizeof(tests) / sizeof(tests[0]));
}
