/*
 * testhook.c - see testhook.h. Compiled only with LETHE_TEST_HOOKS (the
 * CMake option leaves this file out otherwise). The per-point counter is the
 * library's only static mutable state besides the last error; it exists in
 * test builds only.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "testhook.h"

void lethe_test_crash_point(const char *name)
{
	static int hits;
	const char *spec = getenv("LETHE_TEST_CRASH");
	size_t n = strlen(name);
	int want = 1;

	if (!spec || strncmp(spec, name, n) || (spec[n] && spec[n] != ':'))
		return;
	if (spec[n] == ':')
		want = atoi(spec + n + 1);
	if (++hits == want)
		kill(getpid(), SIGKILL);
}

size_t lethe_test_batch_size(size_t dflt)
{
	const char *spec = getenv("LETHE_TEST_BATCH");
	char *end;
	unsigned long long n;

	if (!spec || !*spec)
		return dflt;
	n = strtoull(spec, &end, 10);
	return *end || n == 0 ? dflt : (size_t)n;
}
