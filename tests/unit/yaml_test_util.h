/*
 * yaml_test_util.h - helpers shared by the config and policy tests: a temp
 * folder with real files, and looking up one located fault.
 * Header-only (static inline) because each test file is its own program.
 */
#ifndef LETHE_YAML_TEST_UTIL_H
#define LETHE_YAML_TEST_UTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/diag.h"

/* A fresh folder under /tmp; the caller removes it with tu_rmtree. */
static inline char *tu_mkdtemp(void)
{
	char *d = strdup("/tmp/lethe-test-XXXXXX");

	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_nonnull(mkdtemp(d));
	return d;
}

static inline void tu_rmtree(const char *dir)
{
	char *cmd = NULL;

	ck_assert_int_ge(asprintf(&cmd, "rm -rf '%s'", dir), 0);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

/* Write text to dir/name (name may contain one folder level that exists). */
static inline char *tu_write(const char *dir, const char *name, const char *text)
{
	char *path = NULL;
	FILE *f;

	ck_assert_int_ge(asprintf(&path, "%s/%s", dir, name), 0);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* The fault at file (suffix match) line:column whose message contains text;
 * fails the test, listing every fault, when there is none. */
static inline const lethe_diag *tu_find(const lethe_diags *d, const char *file,
					int line, int column, const char *text)
{
	size_t fl = strlen(file);

	for (size_t i = 0; i < d->count; i++) {
		const lethe_diag *x = &d->items[i];
		size_t xl = strlen(x->file);

		if (xl >= fl && !strcmp(x->file + xl - fl, file) && x->line == line &&
		    x->column == column && strstr(x->message, text))
			return x;
	}
	for (size_t i = 0; i < d->count; i++)
		fprintf(stderr, "  have %s:%d:%d: %s\n", d->items[i].file,
			d->items[i].line, d->items[i].column, d->items[i].message);
	ck_abort_msg("no fault %s:%d:%d containing \"%s\"", file, line, column, text);
	return NULL;
}

#endif
