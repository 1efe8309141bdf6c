/*
 * test_lock.c - one run at a time per database, with real processes: a lock
 * held by the parent refuses a child's acquire and the message names the
 * parent's pid; a child killed with SIGKILL leaves the lock free; release
 * keeps the file and empties it.
 */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lethe/error.h"
#include "lethe/lock.h"
#include "unit_tmpdir.h"

static char db[200];
static char lockfile[220];

/* Each test's database path is "<its folder>/shop.sqlite" (never created:
 * the lock only needs the path). */
static void setup(void)
{
	snprintf(db, sizeof(db), "%s/shop.sqlite", unit_tmpdir);
	snprintf(lockfile, sizeof(lockfile), "%s.lock", db);
}

static lethe_lock *acquire_ok(void)
{
	lethe_lock *l = NULL;
	int rc = lethe_lock_acquire(&l, db);

	ck_assert_msg(rc == 0, "acquire failed: %s", lethe_error_last());
	ck_assert_ptr_nonnull(l);
	return l;
}

/* The lock file's content (at most 63 bytes) into buf. */
static void read_lockfile(char buf[64])
{
	int fd = open(lockfile, O_RDONLY);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, 63);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	close(fd);
}

/* The message a refused acquire gives, naming want_pid ("123" or "unknown"). */
static void locked_message(char *want, size_t size, const char *want_pid)
{
	snprintf(want, size, "database '%s' is locked by another lethe run (pid %s)",
		 db, want_pid);
}

/* Acquire must fail with ETEMPFAIL naming "(pid <pid>)" or "(pid unknown)". */
static void acquire_locked(const char *want_pid)
{
	lethe_lock *sentinel = (lethe_lock *)&sentinel;
	lethe_lock *l = sentinel;
	char want[300];
	int rc = lethe_lock_acquire(&l, db);

	locked_message(want, sizeof(want), want_pid);
	ck_assert_msg(rc == LETHE_ETEMPFAIL, "rc %d: %s", rc, lethe_error_last());
	ck_assert_str_eq(lethe_error_last(), want);
	ck_assert_ptr_eq(l, sentinel);
}

/* Read all of fd (the child's report) into buf until EOF. */
static void read_report(int fd, char *buf, size_t size)
{
	size_t n = 0;
	ssize_t r;

	while (n < size - 1 && (r = read(fd, buf + n, size - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
}

static void wait_child(pid_t pid, int want_signal)
{
	int status = 0;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (want_signal) {
		ck_assert(WIFSIGNALED(status));
		ck_assert_int_eq(WTERMSIG(status), want_signal);
	} else {
		ck_assert(WIFEXITED(status));
		ck_assert_int_eq(WEXITSTATUS(status), 0);
	}
}

START_TEST(test_acquire_release_again)
{
	char content[64];
	char want[32];
	struct stat st;
	lethe_lock *l = acquire_ok();

	ck_assert_int_eq(lstat(lockfile, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 077, 0);
	read_lockfile(content);
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	ck_assert_str_eq(content, want);

	lethe_lock_release(l);
	ck_assert_int_eq(access(lockfile, F_OK), 0);     /* file kept */
	read_lockfile(content);
	ck_assert_str_eq(content, "");                  /* pid removed */

	l = acquire_ok();
	read_lockfile(content);
	ck_assert_str_eq(content, want);
	lethe_lock_release(l);
	lethe_lock_release(NULL);
}
END_TEST

START_TEST(test_child_refused_names_parent)
{
	lethe_lock *l = acquire_ok();
	char report[512], want[300], pid[32];
	int fds[2];
	pid_t child;

	ck_assert_int_eq(pipe(fds), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		lethe_lock *cl = NULL;
		int rc = lethe_lock_acquire(&cl, db);

		close(fds[0]);
		dprintf(fds[1], "%d %s", rc, lethe_error_last());
		_exit(cl == NULL ? 0 : 3);
	}
	close(fds[1]);
	read_report(fds[0], report, sizeof(report));
	close(fds[0]);
	wait_child(child, 0);

	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	locked_message(want, sizeof(want), pid);
	ck_assert_int_eq(atoi(report), LETHE_ETEMPFAIL);
	ck_assert_str_eq(strchr(report, ' ') + 1, want);

	/* The same process opening it again is refused as well. */
	acquire_locked(pid);
	lethe_lock_release(l);
	lethe_lock_release(acquire_ok());
}
END_TEST

START_TEST(test_killed_holder_leaves_lock_free)
{
	char ready[8], pid[32], content[64];
	int fds[2];
	pid_t child;
	lethe_lock *l;

	ck_assert_int_eq(pipe(fds), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		lethe_lock *cl = NULL;

		close(fds[0]);
		if (lethe_lock_acquire(&cl, db) == 0)
			dprintf(fds[1], "ok");
		close(fds[1]);
		for (;;)
			pause();
	}
	close(fds[1]);
	read_report(fds[0], ready, sizeof(ready));
	close(fds[0]);
	if (strcmp(ready, "ok") != 0)
		kill(child, SIGKILL);
	ck_assert_str_eq(ready, "ok");

	snprintf(pid, sizeof(pid), "%ld", (long)child);
	acquire_locked(pid);
	ck_assert_int_eq(kill(child, SIGKILL), 0);
	wait_child(child, SIGKILL);

	/* The stale file still names the dead child; the lock is free anyway. */
	read_lockfile(content);
	ck_assert_int_eq(atol(content), (long)child);
	l = acquire_ok();
	read_lockfile(content);
	ck_assert_int_eq(atol(content), (long)getpid());
	lethe_lock_release(l);
}
END_TEST

START_TEST(test_pid_unknown)
{
	/* A holder that has locked but not yet written its pid. */
	int fd = open(lockfile, O_RDWR | O_CREAT, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
	acquire_locked("unknown");
	ck_assert_int_eq(write(fd, "garbage\n", 8), 8);
	acquire_locked("unknown");
	close(fd);
	lethe_lock_release(acquire_ok());
}
END_TEST

START_TEST(test_refuses_symlink_and_missing_folder)
{
	char target[200];
	char content[64];
	lethe_lock *l = NULL;
	int fd;

	snprintf(target, sizeof(target), "%s/target", unit_tmpdir);
	fd = open(target, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "precious", 8), 8);
	close(fd);
	ck_assert_int_eq(symlink(target, lockfile), 0);
	ck_assert_int_eq(lethe_lock_acquire(&l, db), LETHE_ECANTCREAT);
	ck_assert_ptr_nonnull(strstr(lethe_error_last(), "symbolic link"));
	ck_assert_ptr_null(l);
	fd = open(target, O_RDONLY);
	ck_assert_int_eq(read(fd, content, sizeof(content)), 8);
	close(fd);

	snprintf(db, sizeof(db), "%s/no/such/shop.sqlite", unit_tmpdir);
	ck_assert_int_eq(lethe_lock_acquire(&l, db), LETHE_ECANTCREAT);
	ck_assert_ptr_nonnull(strstr(lethe_error_last(), "cannot open lock file"));
	ck_assert_ptr_null(l);
}
END_TEST

static Suite *lock_suite(void)
{
	Suite *s = suite_create("lock");
	TCase *tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, unit_tmpdir_base_setup, unit_tmpdir_base_teardown);
	tcase_add_checked_fixture(tc, unit_tmpdir_setup, NULL);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_acquire_release_again);
	tcase_add_test(tc, test_child_refused_names_parent);
	tcase_add_test(tc, test_killed_holder_leaves_lock_free);
	tcase_add_test(tc, test_pid_unknown);
	tcase_add_test(tc, test_refuses_symlink_and_missing_folder);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(lock_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
