/*
 * lock.c - one run at a time per database (lethe/lock.h).
 *
 * Invariants:
 *  - The lock is flock(LOCK_EX | LOCK_NB) on "<database>.lock": never waits,
 *    and the kernel drops it with the holder's last descriptor, so a killed
 *    run never leaves the database locked. The file itself is never removed:
 *    unlinking a lock file races with a process that has just opened it and
 *    would let two runs each lock a different inode.
 *  - The pid written into the file is only a hint for the message of a
 *    refused acquire; the flock alone decides who holds the lock. It is
 *    written after the flock succeeds, so a reader may briefly see an empty
 *    file and says "pid unknown".
 *  - The lock file is opened without following a symbolic link and must be a
 *    regular file, so a planted link cannot make us truncate another file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lethe/error.h"
#include "lethe/lock.h"

struct lethe_lock {
	int fd;
};

/* The holder's pid from the lock file, or 0 when unreadable or empty. */
static long read_holder(int fd)
{
	char buf[32];
	char *end = NULL;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	long pid;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (buf[0] < '0' || buf[0] > '9')
		return 0;
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno != 0 || *end != '\n' || pid <= 0)
		return 0;
	return pid;
}

static int locked_error(const char *database_path, int fd)
{
	long pid = read_holder(fd);

	if (pid > 0)
		return lethe_error_set(LETHE_ETEMPFAIL,
			"database '%s' is locked by another lethe run (pid %ld)",
			database_path, pid);
	return lethe_error_set(LETHE_ETEMPFAIL,
		"database '%s' is locked by another lethe run (pid unknown)",
		database_path);
}

static int open_lock_file(int *fd_out, const char *lock_path)
{
	struct stat st;
	int fd = open(lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0 && errno == ELOOP)
		return lethe_error_set(LETHE_ECANTCREAT,
			"lock file '%s' is a symbolic link: refusing to follow it", lock_path);
	if (fd < 0)
		return lethe_error_set(LETHE_ECANTCREAT, "cannot open lock file '%s': %s",
				       lock_path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		return lethe_error_set(LETHE_EIO, "cannot stat lock file '%s': %s",
				       lock_path, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return lethe_error_set(LETHE_ECANTCREAT,
			"lock file '%s' is not a regular file", lock_path);
	}
	*fd_out = fd;
	return 0;
}

static int write_pid(int fd, const char *lock_path)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)len, 0) != len)
		return lethe_error_set(LETHE_EIO, "cannot write lock file '%s': %s",
				       lock_path, strerror(errno));
	return 0;
}

int lethe_lock_acquire(lethe_lock **out, const char *database_path)
{
	lethe_lock *l = NULL;
	char *lock_path = NULL;
	int fd = -1;
	int rc;

	if (asprintf(&lock_path, "%s.lock", database_path) < 0) {
		lock_path = NULL;
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	rc = open_lock_file(&fd, lock_path);
	if (rc < 0)
		goto out;
	while ((rc = flock(fd, LOCK_EX | LOCK_NB)) < 0 && errno == EINTR)
		;
	if (rc < 0 && errno == EWOULDBLOCK) {
		rc = locked_error(database_path, fd);
		goto out;
	}
	if (rc < 0) {
		rc = lethe_error_set(LETHE_EIO, "cannot lock '%s': %s",
				     lock_path, strerror(errno));
		goto out;
	}
	rc = write_pid(fd, lock_path);
	if (rc < 0)
		goto out;
	l = malloc(sizeof(*l));
	if (l == NULL) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	l->fd = fd;
	fd = -1;
	*out = l;
out:
	if (fd >= 0)
		close(fd);      /* also drops a lock taken above */
	free(lock_path);
	return rc;
}

void lethe_lock_release(lethe_lock *l)
{
	if (l == NULL)
		return;
	/* Best effort: the pid is a hint, and the unlock below happens anyway
	 * (close would release it too). */
	if (ftruncate(l->fd, 0) < 0) {
		/* nothing to report from a release */
	}
	flock(l->fd, LOCK_UN);
	close(l->fd);
	free(l);
}
