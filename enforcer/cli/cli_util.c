/*
 * cli_util.c - shared by the commands: printing errors and located faults,
 * reading options, making command-line paths absolute.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "lethe/error.h"

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("lethe: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_fail(int code)
{
	const char *msg = lethe_error_last();

	cli_error("%s", msg && *msg ? msg : "unknown error");
	return lethe_error_exit_code(code);
}

void cli_print_diags(lethe_diags *d)
{
	lethe_diags_sort(d);
	for (size_t i = 0; i < d->count; i++) {
		const lethe_diag *x = &d->items[i];

		if (x->line > 0 && x->column > 0)
			fprintf(stderr, "%s:%d:%d: %s\n", x->file, x->line, x->column, x->message);
		else if (x->line > 0)
			fprintf(stderr, "%s:%d: %s\n", x->file, x->line, x->message);
		else
			fprintf(stderr, "%s: %s\n", x->file, x->message);
	}
}

const char *cli_option_value(int argc, char **argv, int *i, const char *name, int *missing)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = 1;
		return NULL;
	}
	return argv[++*i];
}

int cli_absolute(char *out, const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/') {
		if (strlen(path) >= PATH_MAX) {
			cli_error("path '%s' is too long", path);
			return 64;
		}
		strcpy(out, path);
		return 0;
	}
	if (!getcwd(cwd, sizeof(cwd))) {
		cli_error("cannot get the current directory: %s", strerror(errno));
		return 74;
	}
	if ((size_t)snprintf(out, PATH_MAX, "%s/%s", cwd, path) >= PATH_MAX) {
		cli_error("path '%s' is too long", path);
		return 64;
	}
	return 0;
}
