/*
 * cli_util.c - shared by the commands: printing errors and located faults,
 * reading options, making command-line paths absolute.
 */
#include <errno.h>
#include <pwd.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "lethe/error.h"
#include "lethe/text.h"

/* Whether stderr is the journal's stream: systemd sets JOURNAL_STREAM to
 * "DEVICE:INODE" of the stream it connected, which a redirection changes. */
int cli_to_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* One line on stderr: the message with control characters and bytes that are
 * not UTF-8 escaped (lethe/text.h), whatever it quotes (a key of the
 * register, a name from a policy, SQLite's text), so that nothing in it can
 * start another line, fake a journald priority or drive the terminal. */
static void put_line(const char *prefix, const char *msg)
{
	char *safe = lethe_text_line(msg);

	fprintf(stderr, "%s%s\n", prefix, safe ? safe : "out of memory");
	free(safe);
}

static void vlog(int level, const char *fmt, va_list ap)
{
	static const char *const names[] = { "", "", "", "", "warning: ", "", "", "" };
	char prefix[32], *msg = NULL;

	if (cli_to_journal())
		snprintf(prefix, sizeof(prefix), "<%d>", level);
	else
		snprintf(prefix, sizeof(prefix), "lethe: %s", level >= 0 && level < 8 ? names[level] : "");
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	put_line(prefix, msg ? msg : "out of memory");
	free(msg);
}

void cli_log(const lethe_cli_opts *opts, int level, const char *fmt, ...)
{
	va_list ap;

	if (opts && opts->quiet && level >= CLI_INFO)
		return;
	if (level >= CLI_DEBUG && !(opts && opts->verbose))
		return;
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(CLI_ERR, fmt, ap);
	va_end(ap);
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
		char *line = NULL;
		int n;

		/* the file's name is outside text too: the whole line is escaped */
		if (x->line > 0 && x->column > 0)
			n = asprintf(&line, "%s:%d:%d: %s", x->file, x->line, x->column, x->message);
		else if (x->line > 0)
			n = asprintf(&line, "%s:%d: %s", x->file, x->line, x->message);
		else
			n = asprintf(&line, "%s: %s", x->file, x->message);
		put_line("", n < 0 ? "out of memory" : line);
		if (n >= 0)
			free(line);
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

void cli_warnings(const lethe_cli_opts *opts, const lethe_warnings *w)
{
	for (size_t i = 0; i < w->count; i++)
		cli_log(opts, CLI_WARNING, "%s", w->items[i]);
}

const char *cli_actor(const char *by)
{
	const char *sudo = getenv("SUDO_USER");
	const struct passwd *pw;

	if (by)
		return by;
	if (sudo && *sudo && getuid() == 0)
		return sudo;
	pw = getpwuid(getuid());
	return pw && pw->pw_name && *pw->pw_name ? pw->pw_name : NULL;
}
