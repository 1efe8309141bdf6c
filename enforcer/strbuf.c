/*
 * strbuf.c - the growable string (strbuf.h).
 *
 * Invariant: every path that changes buf keeps buf[len] == '\0'.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "strbuf.h"
#include "vec.h"

void lethe_strbuf_init(lethe_strbuf *sb)
{
	sb->buf = NULL;
	sb->len = sb->alloc = 0;
}

void lethe_strbuf_release(lethe_strbuf *sb)
{
	free(sb->buf);
	lethe_strbuf_init(sb);
}

char *lethe_strbuf_detach(lethe_strbuf *sb, size_t *len)
{
	char *s = sb->buf ? sb->buf : strdup("");

	if (len)
		*len = sb->len;
	lethe_strbuf_init(sb);
	return s;
}

const char *lethe_strbuf_str(const lethe_strbuf *sb)
{
	return sb->buf ? sb->buf : "";
}

int lethe_strbuf_grow(lethe_strbuf *sb, size_t extra)
{
	int fresh = sb->buf == NULL, rc;

	if (extra >= (size_t)-1 - sb->len)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	if ((rc = LETHE_VEC_RESERVE(sb->buf, sb->len + extra + 1, sb->alloc)) < 0)
		return rc;
	if (fresh)
		sb->buf[0] = '\0';
	return 0;
}

int lethe_strbuf_add(lethe_strbuf *sb, const void *data, size_t len)
{
	int rc = lethe_strbuf_grow(sb, len);

	if (rc < 0)
		return rc;
	if (len)
		memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
	return 0;
}

int lethe_strbuf_adds(lethe_strbuf *sb, const char *s)
{
	return lethe_strbuf_add(sb, s, strlen(s));
}

int lethe_strbuf_addch(lethe_strbuf *sb, char c)
{
	return lethe_strbuf_add(sb, &c, 1);
}

int lethe_strbuf_vaddf(lethe_strbuf *sb, const char *fmt, va_list ap)
{
	va_list again;
	int n, rc;

	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, again);
	va_end(again);
	if (n < 0)
		return lethe_error_set(LETHE_ESOFTWARE, "cannot format '%s'", fmt);
	if ((rc = lethe_strbuf_grow(sb, (size_t)n)) < 0)
		return rc;
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
	return 0;
}

int lethe_strbuf_addf(lethe_strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = lethe_strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
	return rc;
}

int lethe_strbuf_read_file(lethe_strbuf *sb, const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t before = sb->len, n;
	char chunk[8192];
	int rc = 0, e;

	if (!f)
		return lethe_error_set(LETHE_EIO, "cannot read '%s': %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if ((rc = lethe_strbuf_add(sb, chunk, n)) < 0)
			break;
	e = errno;
	if (rc == 0 && ferror(f))
		rc = lethe_error_set(LETHE_EIO, "cannot read '%s': %s", path, strerror(e));
	fclose(f);
	if (rc < 0)
		lethe_strbuf_setlen(sb, before);
	return rc;
}

void lethe_strbuf_setlen(lethe_strbuf *sb, size_t len)
{
	if (!sb->buf || len > sb->len)
		return;
	sb->len = len;
	sb->buf[len] = '\0';
}

void lethe_strbuf_reset(lethe_strbuf *sb)
{
	lethe_strbuf_setlen(sb, 0);
}
