/*
 * cli_util.c - printing shared by the commands: errors and located faults.
 */
#include <stdarg.h>
#include <stdio.h>
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
