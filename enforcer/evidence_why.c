/*
 * evidence_why.c - why a write into the evidence repository failed.
 *
 * libgit2's last error is often not the write's own: after a loose object
 * could not be written (a full disk), libgit2 goes on to look the object up
 * and reports "object not found - failed to find pack entry", and errno has
 * been overwritten by then. So, once libgit2 has failed, the filesystem is
 * asked directly: a temporary file as large as what was to be written (at
 * least one block, at most PROBE_MAX) is written, synced and removed in the
 * repository's objects folder, where libgit2 writes. Its error (ENOSPC,
 * EFBIG under a file size limit, EDQUOT, EROFS, EACCES) is the reason given;
 * when the probe succeeds, libgit2's message is given as before.
 *
 * Invariant: the probe never leaves a file behind (it is removed whether or
 * not the write worked) and never touches a file of the repository.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "evidence_impl.h"
#include "lethe/error.h"

#define PROBE_MIN 4096
#define PROBE_MAX (1u << 20)

/* errno of writing size bytes next to the repository's objects, or 0. */
static int probe(git_repository *repo, size_t size)
{
	size_t n = size < PROBE_MIN ? PROBE_MIN : size > PROBE_MAX ? PROBE_MAX : size;
	unsigned char *buf = malloc(n);
	char *path = NULL;
	uint32_t x = 2463534242u;
	int fd, e = 0;

	if (!buf || asprintf(&path, "%sobjects/lethe-probe-XXXXXX", git_repository_path(repo)) < 0) {
		free(buf);
		return 0;
	}
	/* Bytes no filesystem compresses away, as git's deflated objects. */
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)x;
	}
	if ((fd = mkstemp(path)) < 0) {
		e = errno;
	} else {
		for (size_t off = 0; off < n && !e;) {
			ssize_t w = write(fd, buf + off, n - off);

			if (w < 0 && errno != EINTR)
				e = errno;
			else if (w > 0)
				off += (size_t)w;
		}
		if (!e && fsync(fd) != 0)
			e = errno;
		close(fd);
		unlink(path);
	}
	free(path);
	free(buf);
	return e;
}

int lethe_evidence_write_fail(git_repository *repo, size_t size, const char *fmt, ...)
{
	char what[512];
	int e = probe(repo, size);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!e)
		return lethe_evidence_git_fail(LETHE_EIO, "%s", what);
	return lethe_error_set(LETHE_EIO, "cannot write evidence to '%s': %s (%s)",
			       git_repository_path(repo), strerror(e), what);
}
