/*
 * strvec.c - the vector of owned strings (strvec.h).
 *
 * Invariant: v[n] == NULL whenever v is allocated.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "strvec.h"
#include "vec.h"

void lethe_strvec_init(lethe_strvec *sv)
{
	sv->v = NULL;
	sv->n = sv->alloc = 0;
}

void lethe_strvec_clear(lethe_strvec *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	lethe_strvec_init(sv);
}

int lethe_strvec_push_owned(lethe_strvec *sv, char *s)
{
	int rc;

	if (!s)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	if ((rc = LETHE_VEC_RESERVE(sv->v, sv->n + 2, sv->alloc)) < 0) {
		free(s);
		return rc;
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
	return 0;
}

int lethe_strvec_push(lethe_strvec *sv, const char *s)
{
	return lethe_strvec_push_owned(sv, strdup(s));
}

int lethe_strvec_pushf(lethe_strvec *sv, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return lethe_strvec_push_owned(sv, n < 0 ? NULL : s);
}

int lethe_strvec_contains(const lethe_strvec *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (!strcmp(sv->v[i], s))
			return 1;
	return 0;
}
