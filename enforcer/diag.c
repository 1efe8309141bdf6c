/*
 * diag.c - located faults. The list owns its strings.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/diag.h"
#include "lethe/error.h"
#include "vec.h"

static int diags_vadd(lethe_diags *d, const char *file, int line, int column,
		      const char *fmt, va_list ap)
{
	char *msg = NULL, *f = NULL;
	int rc = LETHE_VEC_RESERVE(d->items, d->count + 1, d->alloc);

	if (rc < 0)
		return rc;
	if (vasprintf(&msg, fmt, ap) < 0)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	f = strdup(file ? file : "");
	if (!f) {
		free(msg);
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	d->items[d->count].file = f;
	d->items[d->count].line = line;
	d->items[d->count].column = column;
	d->items[d->count].message = msg;
	d->count++;
	return 0;
}

int lethe_diags_add(lethe_diags *d, const char *file, int line, int column,
		    const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = diags_vadd(d, file, line, column, fmt, ap);
	va_end(ap);
	return rc;
}

int lethe_diags_addm(lethe_diags *d, lethe_mark m, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = diags_vadd(d, m.file, m.line, m.column, fmt, ap);
	va_end(ap);
	return rc;
}

static int diag_cmp(const lethe_diag *a, const lethe_diag *b)
{
	int c = strcmp(a->file, b->file);

	if (c)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->column != b->column)
		return a->column < b->column ? -1 : 1;
	return 0;
}

/* Insertion sort: stable, and fault lists are short. */
void lethe_diags_sort(lethe_diags *d)
{
	for (size_t i = 1; i < d->count; i++) {
		lethe_diag x = d->items[i];
		size_t j = i;

		while (j > 0 && diag_cmp(&d->items[j - 1], &x) > 0) {
			d->items[j] = d->items[j - 1];
			j--;
		}
		d->items[j] = x;
	}
}

void lethe_diags_free(lethe_diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->count; i++) {
		free(d->items[i].file);
		free(d->items[i].message);
	}
	free(d->items);
	d->items = NULL;
	d->count = d->alloc = 0;
}
