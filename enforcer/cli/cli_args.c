/*
 * cli_args.c - the command line from the table (main.c): global options
 * anywhere (before or after the command), each command's options with
 * getopt_long, `lethe help [CMD]`, `CMD --help` (subcommands too), and
 * "did you mean" for a mistyped command or option.
 *
 * A command gets a normalised argv: its name, the positional arguments
 * (subcommand first) in their order, then its own options as "--name" or
 * "--name" "VALUE" in their order, the global options removed (they are in
 * lethe_cli_opts). Each cmd_<name>.c reads that argv.
 *
 * Invariants: nothing here knows a command by name except help and
 * completion, which have no cmd_<name>.c; every option accepted is in the
 * table, so help, completion and lethe(1) cannot fall behind the parser.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "lethe/text.h"

static size_t count_options(const cli_option *o)
{
	size_t n = 0;

	while (o && o[n].name)
		n++;
	return n;
}

static const cli_command *find_command(const char *name)
{
	for (const cli_command *c = cli_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static void print_usage_lines(FILE *f, const char *usage, const char *first)
{
	const char *line = usage;

	while (line && *line) {
		const char *nl = strchr(line, '\n');
		int len = nl ? (int)(nl - line) : (int)strlen(line);

		fprintf(f, "%s lethe [-c FILE] %.*s\n", line == usage ? first : "      ", len, line);
		line = nl ? nl + 1 : NULL;
	}
}

static void print_options(FILE *f, const cli_option *o)
{
	for (; o && o->name; o++) {
		char left[64];

		if (o->letter)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->letter, o->name,
				 o->value ? " " : "", o->value ? o->value : "");
		else
			snprintf(left, sizeof(left), "--%s%s%s", o->name, o->value ? " " : "",
				 o->value ? o->value : "");
		fprintf(f, "  %-32s %s\n", left, o->help);
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: lethe [-c FILE] [-q|-v] COMMAND [ARGS]\n\ncommands:\n");
	for (const cli_command *c = cli_commands; c->name; c++)
		fprintf(f, "  %-11s %s\n", c->name, c->summary);
	fprintf(f, "\nglobal options (before or after the command):\n");
	print_options(f, cli_global_options);
	fprintf(f, "\n`lethe help COMMAND` or `lethe COMMAND --help` shows a command's options;\n"
		   "lethe(1) has the exit statuses. The configuration is -c FILE, else\n"
		   "$LETHE_CONFIG, else ./lethe.yaml, else /etc/lethe/lethe.yaml.\n");
}

static int command_help(const cli_command *c)
{
	print_usage_lines(stdout, c->usage, "usage:");
	printf("\n%s.\n", c->summary);
	if (count_options(c->options)) {
		printf("\noptions:\n");
		print_options(stdout, c->options);
	}
	printf("\nglobal options: -c FILE, -q, -v (lethe --help). See lethe(1) for the exit "
	       "statuses.\n");
	return 0;
}

static int unknown_command(const char *name)
{
	const char *names[64], *near;
	size_t n = 0;

	for (const cli_command *c = cli_commands; c->name && n + 1 < 64; c++)
		names[n++] = c->name;
	names[n] = NULL;
	near = lethe_text_nearest(name, names);
	cli_error("unknown command '%s'%s%s%s (lethe help lists them)", name,
		  near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
	return 64;
}

/* "unknown option '--jsn', did you mean '--json'?" among the command's and
 * the global options. */
static int unknown_option(const cli_command *c, const char *arg)
{
	size_t n = count_options(c ? c->options : NULL) + count_options(cli_global_options), k = 0;
	const char **names = calloc(n + 1, sizeof(*names)), *near = NULL;
	char word[128];

	if (names) {
		for (const cli_option *o = c ? c->options : NULL; o && o->name; o++)
			names[k++] = o->name;
		for (const cli_option *o = cli_global_options; o->name; o++)
			names[k++] = o->name;
		snprintf(word, sizeof(word), "%s", arg + strspn(arg, "-"));
		word[strcspn(word, "=")] = '\0';
		near = lethe_text_nearest(word, names);
	}
	cli_error("%s%sunknown option '%s'%s%s%s", c ? c->name : "", c ? ": " : "", arg,
		  near ? "; did you mean '--" : "", near ? near : "", near ? "'?" : "");
	free(names);
	return 64;
}

/* getopt_long's table: the global options, then the command's. Each
 * option's val is its index + 256 (globals keep their letter too). */
static struct option *long_options(const cli_command *c, size_t *nglobal)
{
	size_t ng = count_options(cli_global_options), nc = count_options(c ? c->options : NULL);
	struct option *lo = calloc(ng + nc + 1, sizeof(*lo));

	if (!lo)
		return NULL;
	for (size_t i = 0; i < ng + nc; i++) {
		const cli_option *o = i < ng ? &cli_global_options[i] : &c->options[i - ng];

		lo[i] = (struct option){ o->name, o->value ? required_argument : no_argument, NULL,
					 (int)(256 + i) };
	}
	*nglobal = ng;
	return lo;
}

typedef struct {
	lethe_cli_opts opts;
	int help, version;
	char **pos, **own;  /* positional arguments; the command's own options */
	char **made;        /* the "--name" strings in own, allocated here */
	int npos, nown, nmade;
} parsed;

static int set_global(parsed *p, const char *name, const char *value)
{
	if (!strcmp(name, "config"))
		p->opts.config_path = value;
	else if (!strcmp(name, "quiet"))
		p->opts.quiet = 1;
	else if (!strcmp(name, "verbose"))
		p->opts.verbose = 1;
	else if (!strcmp(name, "help"))
		p->help = 1;
	else if (!strcmp(name, "version"))
		p->version = 1;
	return 0;
}

/* Parse argv[1..] as global options, the command, its positional
 * arguments and options. 0, or 64 after saying why. */
static int parse(parsed *p, const cli_command **cmd, int argc, char **argv)
{
	char shorts[32] = "+:";
	size_t ng = 0, len = 2;
	struct option *lo;
	int ch, status = 0;

	*cmd = NULL;
	for (const cli_option *o = cli_global_options; o->name; o++)
		if (o->letter && len + 2 < sizeof(shorts)) {
			shorts[len++] = o->letter;
			if (o->value)
				shorts[len++] = ':';
		}
	shorts[len] = '\0';
	/* first pass: global options up to the command ("+": stop there) */
	if (!(lo = long_options(NULL, &ng)))
		return 70;
	optind = 0; /* glibc: a full restart, the mode of shorts included */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		const cli_option *o = NULL;

		if (ch >= 256)
			o = &cli_global_options[ch - 256];
		for (const cli_option *g = cli_global_options; !o && g->name; g++)
			if (g->letter && g->letter == ch)
				o = g;
		if (ch == ':') {
			cli_error("option '%s' needs a value", argv[optind - 1]);
			status = 64;
			break;
		}
		if (!o) {
			status = unknown_option(NULL, argv[optind - 1]);
			break;
		}
		set_global(p, o->name, optarg);
	}
	free(lo);
	if (status || optind >= argc)
		return status;
	if (!(*cmd = find_command(argv[optind])))
		return unknown_command(argv[optind]);
	/* second pass: the command's arguments, global options among them */
	int first = optind;
	char **sub = argv + first;
	int subc = argc - first;

	if (!(lo = long_options(*cmd, &ng)))
		return 70;
	p->pos = calloc((size_t)subc + 1, sizeof(char *));
	p->own = calloc(2 * (size_t)subc + 1, sizeof(char *));
	p->made = calloc((size_t)subc + 1, sizeof(char *));
	if (!p->pos || !p->own || !p->made) {
		free(lo);
		return 70;
	}
	shorts[0] = '-'; /* positional arguments in order, as option 1 */
	optind = 0; /* glibc: a full restart, the mode of shorts included */
	opterr = 0;
	while ((ch = getopt_long(subc, sub, shorts, lo, NULL)) != -1) {
		const cli_option *o = NULL;

		if (ch == 1) {
			p->pos[p->npos++] = optarg;
			continue;
		}
		if (ch == ':') {
			cli_error("%s: option '%s' needs a value", (*cmd)->name, sub[optind - 1]);
			status = 64;
			break;
		}
		if (ch >= 256 && (size_t)(ch - 256) < ng)
			o = &cli_global_options[ch - 256];
		else if (ch >= 256)
			o = &(*cmd)->options[ch - 256 - ng];
		for (const cli_option *g = cli_global_options; !o && g->name; g++)
			if (g->letter && g->letter == ch)
				o = g;
		if (!o) {
			status = unknown_option(*cmd, sub[optind - 1]);
			break;
		}
		if (ch < 256 || (size_t)(ch - 256) < ng) {
			set_global(p, o->name, optarg);
			continue;
		}
		/* the long name as the table spells it (getopt accepts abbreviations) */
		if (asprintf(&p->made[p->nmade], "--%s", o->name) < 0) {
			p->made[p->nmade] = NULL;
			status = 70;
			break;
		}
		p->own[p->nown++] = p->made[p->nmade++];
		if (o->value)
			p->own[p->nown++] = optarg;
	}
	for (; status == 0 && optind < subc; optind++) /* after "--" */
		p->pos[p->npos++] = sub[optind];
	free(lo);
	return status;
}

static void release(parsed *p)
{
	for (int i = 0; i < p->nmade; i++)
		free(p->made[i]);
	free(p->made);
	free(p->pos);
	free(p->own);
}

int cli_main(int argc, char **argv)
{
	parsed p = { 0 };
	const cli_command *cmd = NULL;
	char **args = NULL;
	int status = parse(&p, &cmd, argc, argv);

	if (status)
		goto out;
	if (p.version) {
		printf("lethe %s\n", LETHE_VERSION);
		goto out;
	}
	if (!cmd) {
		usage(p.help ? stdout : stderr);
		status = p.help ? 0 : 64;
		goto out;
	}
	if (!strcmp(cmd->name, "help")) {
		const cli_command *c = p.npos > 0 ? find_command(p.pos[0]) : NULL;

		if (p.npos == 0)
			usage(stdout);
		else
			status = c ? command_help(c) : unknown_command(p.pos[0]);
		goto out;
	}
	if (p.help) {
		status = command_help(cmd);
		goto out;
	}
	if (!strcmp(cmd->name, "completion")) {
		if (p.npos != 1) {
			cli_error("completion: name one shell: bash, zsh or fish");
			status = 64;
		} else {
			status = cli_completion(p.pos[0]);
		}
		goto out;
	}
	if (!(args = calloc((size_t)(1 + p.npos + p.nown + 1), sizeof(char *)))) {
		status = 70;
		goto out;
	}
	args[0] = (char *)cmd->name;
	memcpy(args + 1, p.pos, (size_t)p.npos * sizeof(char *));
	memcpy(args + 1 + p.npos, p.own, (size_t)p.nown * sizeof(char *));
	status = cmd->fn(&p.opts, 1 + p.npos + p.nown, args);
out:
	free(args);
	release(&p);
	return status;
}
