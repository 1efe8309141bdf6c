/*
 * util.c - hex digests, UTC timestamps and durable new files (util.h).
 *
 * Invariant: lethe_file_create_new leaves either the whole file, synced, or
 * no file at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "lethe/error.h"
#include "util.h"

void lethe_hex(char *out, const void *bin, size_t n)
{
	sodium_bin2hex(out, 2 * n + 1, bin, n);
}

void lethe_sha256_hex(char out[LETHE_SHA256_HEX_SIZE], const void *data, size_t len)
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, data, len);
	lethe_hex(out, h, sizeof(h));
}

void lethe_sha256_final_hex(char out[LETHE_SHA256_HEX_SIZE], crypto_hash_sha256_state *st)
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256_final(st, h);
	lethe_hex(out, h, sizeof(h));
}

void lethe_time_iso(char out[LETHE_ISO_TIME_SIZE], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(out, LETHE_ISO_TIME_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, LETHE_ISO_TIME_SIZE, "%" PRId64, t);
}

void lethe_now_iso(char out[LETHE_ISO_TIME_SIZE])
{
	lethe_time_iso(out, (int64_t)time(NULL));
}

int lethe_fsync_folder(const char *path)
{
	char *copy = strdup(path);
	int fd, rc = 0;

	if (!copy)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		rc = lethe_error_set(LETHE_EIO, "cannot fsync the folder of '%s': %s", path,
				     strerror(errno));
	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

int lethe_file_create_new(const char *path, mode_t mode, const void *data, size_t len,
			  const char *what)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	int e;

	if (!what)
		what = "file";
	if (fd < 0 && errno == EEXIST)
		return lethe_error_set(LETHE_ECANTCREAT, "%s '%s' already exists: refusing to "
				       "overwrite it", what, path);
	if (fd < 0)
		return lethe_error_set(LETHE_ECANTCREAT, "cannot create %s '%s': %s", what, path,
				       strerror(errno));
	/* whatever the umask: the mode is the contract */
	if (fchmod(fd, mode) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		e = errno;
		close(fd);
		unlink(path);
		return lethe_error_set(LETHE_EIO, "cannot write %s '%s': %s", what, path,
				       strerror(e));
	}
	if (close(fd) != 0) {
		e = errno;
		unlink(path);
		return lethe_error_set(LETHE_EIO, "cannot write %s '%s': %s", what, path,
				       strerror(e));
	}
	if (lethe_fsync_folder(path) < 0) {
		unlink(path);
		return lethe_error_last_code();
	}
	return 0;
}
