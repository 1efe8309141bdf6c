/*
 * lethe/diag.h - a list of located faults, "FILE:LINE:COLUMN: message".
 *
 * `check` reports all faults of all files in one pass, so loaders append here
 * instead of stopping at the first fault.
 *
 * Invariants:
 *  - line and column are 1-based as a person counts them (libyaml marks are
 *    0-based: add 1). line 0 means "the file as a whole".
 *  - The list owns every string in it; lethe_diags_free() releases all.
 */
#ifndef LETHE_DIAG_H
#define LETHE_DIAG_H

#include <stddef.h>

typedef struct {
	char *file;     /* path as the user named it */
	int line;       /* 1-based, 0 = whole file */
	int column;     /* 1-based, 0 = whole line */
	char *message;  /* lowercase, no trailing newline */
} lethe_diag;

typedef struct {
	lethe_diag *items;
	size_t count;
	size_t alloc;
} lethe_diags;

#define LETHE_DIAGS_INIT { NULL, 0, 0 }

/* A position in a source file. file is borrowed from whoever owns the text. */
typedef struct {
	const char *file;
	int line;   /* 1-based */
	int column; /* 1-based */
} lethe_mark;

/* Append a fault; returns 0 or LETHE_ESOFTWARE when out of memory. */
int lethe_diags_add(lethe_diags *d, const char *file, int line, int column,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int lethe_diags_addm(lethe_diags *d, lethe_mark m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Sort by file, line, column (stable), so output reads top to bottom. */
void lethe_diags_sort(lethe_diags *d);

void lethe_diags_free(lethe_diags *d);

#endif
