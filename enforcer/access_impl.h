/*
 * access_impl.h - the pieces of an access export shared between access.c
 * (rows, archive) and access_summary.c (the readable summary).
 */
#ifndef LETHE_ACCESS_IMPL_H
#define LETHE_ACCESS_IMPL_H

#include <stddef.h>
#include "lethe/access.h"

/* The summary text (summary.txt), malloc'd into *out with its length;
 * tables are the files already gathered, for the table of contents. */
int lethe_access_summary(char **out, size_t *len, lethe_backend *be, const lethe_policy *p,
			 const lethe_subject *s, lethe_day as_of, const lethe_access_result *tables);

#endif
