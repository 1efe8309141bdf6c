/*
 * backend_fixture.h - shared by the SQLite backend test programs: a fresh
 * temporary directory per test holding register.db, built with sqlite3
 * directly so the backend is never used to set up what it is checked against.
 * Included by exactly one file per test program (static definitions).
 */
#ifndef LETHE_TEST_BACKEND_FIXTURE_H
#define LETHE_TEST_BACKEND_FIXTURE_H

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>
#include "lethe/backend.h"
#include "lethe/error.h"

static char tmpdir[64];
static char dbpath[128];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/lethe-backend-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(dbpath, sizeof(dbpath), "%s/register.db", tmpdir);
}

static void teardown(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char p[512];

	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(tmpdir);
}

__attribute__((unused)) static void make_db(const char *sql)
{
	sqlite3 *db;
	char *err = NULL;

	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		ck_abort_msg("setup sql failed: %s", err);
	sqlite3_close(db);
}

static lethe_backend *open_db(unsigned flags)
{
	lethe_backend *be = NULL;
	int rc = lethe_backend_open(&be, dbpath, flags);

	ck_assert_msg(rc == 0, "open: %d %s", rc, lethe_error_last());
	return be;
}

__attribute__((unused)) static const lethe_foreign_key *find_fk(const lethe_foreign_keys *fks, const char *child,
					const char *col0)
{
	for (size_t i = 0; i < fks->count; i++)
		if (strcmp(fks->items[i].child_table, child) == 0 &&
		    strcmp(fks->items[i].child_columns[0], col0) == 0)
			return &fks->items[i];
	ck_abort_msg("no foreign key %s(%s)", child, col0);
	return NULL;
}

#endif
