/*
 * unit_tmpdir.h - a temporary folder per test for Check unit tests (header
 * only: CMake builds every tests/unit/test_*.c as its own program).
 *
 * Why two levels: with CK_FORK a failed assertion ends the test's process
 * without running the checked teardown, so files made by a failed test would
 * stay in /tmp. The base folder is made and removed by an unchecked fixture,
 * which runs in the runner's own process; each test gets a fresh folder inside
 * it from the checked setup.
 *
 * Usage:
 *   tcase_add_unchecked_fixture(tc, unit_tmpdir_base_setup, unit_tmpdir_base_teardown);
 *   tcase_add_checked_fixture(tc, unit_tmpdir_setup, NULL);
 * then unit_tmpdir holds the test's folder.
 */
#ifndef LETHE_UNIT_TMPDIR_H
#define LETHE_UNIT_TMPDIR_H

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char unit_tmpdir_base[64];
static char unit_tmpdir[128];

static void unit_tmpdir_base_setup(void)
{
	strcpy(unit_tmpdir_base, "/tmp/lethe-unit-XXXXXX");
	if (mkdtemp(unit_tmpdir_base) == NULL) {
		perror("mkdtemp");
		exit(EXIT_FAILURE);
	}
}

static int unit_tmpdir_remove_one(const char *path, const struct stat *st,
				  int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void unit_tmpdir_base_teardown(void)
{
	nftw(unit_tmpdir_base, unit_tmpdir_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void unit_tmpdir_setup(void)
{
	snprintf(unit_tmpdir, sizeof(unit_tmpdir), "%s/XXXXXX", unit_tmpdir_base);
	ck_assert_ptr_nonnull(mkdtemp(unit_tmpdir));
}

#endif
