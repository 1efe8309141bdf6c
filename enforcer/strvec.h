/*
 * strvec.h - a growable vector of owned strings (internal), after git's
 * strvec.
 *
 * Invariants:
 *  - v is NULL with n 0 and alloc 0 (the initial state), or malloc'd with
 *    room for alloc pointers, n < alloc and v[n] == NULL, so v can be passed
 *    where a NULL-terminated list is expected.
 *  - Owner: the vector owns v and every string in it; lethe_strvec_clear
 *    frees them all.
 *  - Adding copies the string; on failure nothing changes and the error is
 *    set (LETHE_ESOFTWARE, "out of memory").
 */
#ifndef LETHE_STRVEC_H
#define LETHE_STRVEC_H

#include <stddef.h>

typedef struct {
	char **v;
	size_t n, alloc;
} lethe_strvec;

#define LETHE_STRVEC_INIT { NULL, 0, 0 }

/* --- life cycle ------------------------------------------------------------- */

void lethe_strvec_init(lethe_strvec *sv);
/* Free every string and the vector; back in the initial state. */
void lethe_strvec_clear(lethe_strvec *sv);

/* --- adding ------------------------------------------------------------------ */

/* Append a copy of s: 0 or LETHE_ESOFTWARE. */
int lethe_strvec_push(lethe_strvec *sv, const char *s);
/* Append s itself, taken over (freed at once when it cannot be added). */
int lethe_strvec_push_owned(lethe_strvec *sv, char *s);
int lethe_strvec_pushf(lethe_strvec *sv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* --- reading ----------------------------------------------------------------- */

/* Whether the vector holds a string equal to s. */
int lethe_strvec_contains(const lethe_strvec *sv, const char *s);

#endif
