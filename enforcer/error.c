/*
 * error.c - the per-thread last error (as libgit2's git_error_last()).
 *
 * Invariant: the message buffer is thread-local, so concurrent threads never
 * see each other's errors; it is the only mutable state of the library.
 */
#include <stdarg.h>
#include <stdio.h>
#include "lethe/error.h"

static _Thread_local char last_message[1024];
static _Thread_local int last_code;

int lethe_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_message, sizeof(last_message), fmt, ap);
	va_end(ap);
	last_code = code;
	return code;
}

const char *lethe_error_last(void)
{
	return last_message;
}

int lethe_error_last_code(void)
{
	return last_code;
}

void lethe_error_clear(void)
{
	last_message[0] = '\0';
	last_code = 0;
}

int lethe_error_exit_code(int code)
{
	switch (code) {
	case LETHE_OK:
		return 0;
	case LETHE_EVERIFY:
		return 1;
	case LETHE_EUSAGE:
	case LETHE_EDATA:
	case LETHE_ENOINPUT:
	case LETHE_ESOFTWARE:
	case LETHE_ECANTCREAT:
	case LETHE_EIO:
	case LETHE_ETEMPFAIL:
	case LETHE_ENOPERM:
	case LETHE_ECONFIG:
	case LETHE_ECLOCK:
		return -code;
	default:
		return 70;
	}
}
