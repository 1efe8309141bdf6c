/*
 * cli_journal.c - one entry with structured fields for systemd's journal,
 * sent by the journal's native protocol (systemd's "Native Journal
 * Protocol": one datagram of fields to /run/systemd/journal/socket), so
 * that a run's summary can be found by its fields (journalctl
 * LETHE_RESULT=failed, LETHE_RUN_ID=...) and not only by its words. Lethe
 * does not link libsystemd: the protocol is a few lines.
 *
 * Invariants: the only module that speaks to journald; it sends only when
 * stderr is the journal's stream (cli_to_journal(), JOURNAL_STREAM), and says
 * whether it did, so the caller writes the stderr line instead when not
 * (no socket, a datagram too large, any error). A field's value is written
 * with its length (the protocol's binary form) whenever it holds a newline,
 * so a value can never add a field. In a test build (LETHE_TEST_HOOKS) the
 * environment variable LETHE_TEST_JOURNAL_SOCKET names another socket, for
 * a test that binds its own; no other build reads it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "cli.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

static const char *socket_path(void)
{
#ifdef LETHE_TEST_HOOKS
	const char *test = getenv("LETHE_TEST_JOURNAL_SOCKET");

	if (test && *test)
		return test;
#endif
	return JOURNAL_SOCKET;
}

/* KEY=value\n, or KEY\n<64-bit little-endian length>value\n when the value
 * holds a newline. */
static void put_field(FILE *b, const cli_journal_field *f)
{
	size_t len = strlen(f->value);

	if (!memchr(f->value, '\n', len)) {
		fprintf(b, "%s=%s\n", f->key, f->value);
		return;
	}
	fprintf(b, "%s\n", f->key);
	for (int i = 0; i < 8; i++)
		fputc((int)(((uint64_t)len >> (8 * i)) & 0xff), b);
	fwrite(f->value, 1, len, b);
	fputc('\n', b);
}

int cli_journal_send(const cli_journal_field *fields, size_t n)
{
	const char *path = socket_path();
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *buf = NULL;
	size_t size = 0;
	FILE *b;
	ssize_t sent;
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (!(b = open_memstream(&buf, &size)))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (fields[i].value)
			put_field(b, &fields[i]);
	err = ferror(b);
	if (fclose(b) != 0 || err) {
		free(buf);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		free(buf);
		return -1;
	}
	sent = sendto(fd, buf, size, MSG_NOSIGNAL, (const struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	free(buf);
	return sent == (ssize_t)size ? 0 : -1;
}
