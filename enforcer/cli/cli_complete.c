/*
 * cli_complete.c - `lethe completion bash|zsh|fish`: a completion script
 * made from the command table (main.c), so it offers every command,
 * subcommand and option the parser accepts. The build runs it to make the
 * installed scripts (dist/install.cmake).
 *
 * Values named FILE, DIR or REPOSITORY complete as paths, an "a|b" value
 * as its words; other values (KEY, TEXT, dates) get no suggestion.
 */
#include <stdio.h>
#include <string.h>
#include "cli.h"

static int is_path(const char *value)
{
	return value && (!strcmp(value, "FILE") || !strcmp(value, "DIR") ||
			 !strcmp(value, "REPOSITORY"));
}

/* "a|b" -> "a b" into out (of size n); "" when value is not a choice. */
static const char *choices(char *out, size_t n, const char *value)
{
	out[0] = '\0';
	if (!value || !strchr(value, '|') || strlen(value) >= n)
		return out;
	for (size_t i = 0; value[i]; i++)
		out[i] = value[i] == '|' ? ' ' : value[i];
	out[strlen(value)] = '\0';
	return out;
}

/* text for inside single quotes, with its apostrophes dropped to a
 * typographic one (zsh and fish quote differently; a help text needs
 * neither's escaping then), and ':' (zsh's separator) as ' -'. */
static const char *sq(char *out, size_t n, const char *text)
{
	size_t k = 0;

	for (size_t i = 0; text[i] && k + 4 < n; i++) {
		if (text[i] == '\'') {
			memcpy(out + k, "\xe2\x80\x99", 3);
			k += 3;
		} else if (text[i] == ':' || text[i] == '[' || text[i] == ']') {
			out[k++] = ' ';
		} else {
			out[k++] = text[i];
		}
	}
	out[k] = '\0';
	return out;
}

static void words_of_options(const cli_option *o)
{
	for (; o && o->name; o++)
		printf(" --%s", o->name);
}

static void bash(void)
{
	char ch[128];

	printf("# bash completion for lethe, made by `lethe completion bash`\n"
	       "_lethe() {\n"
	       "  local cur prev cmd= i w\n"
	       "  cur=${COMP_WORDS[COMP_CWORD]}\n  prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	       "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
	       "    w=${COMP_WORDS[i]}\n"
	       "    case $w in -c|--config) ((i++)) ;; -*) ;; *) cmd=$w; break ;; esac\n"
	       "  done\n"
	       "  case $prev in\n");
	for (const cli_option *o = cli_global_options; o->name; o++)
		if (o->value)
			printf("    -%c|--%s) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n",
			       o->letter, o->name);
	printf("  esac\n  case $cmd:$prev in\n");
	for (const cli_command *c = cli_commands; c->name; c++)
		for (const cli_option *o = c->options; o->name; o++) {
			if (!o->value)
				continue;
			printf("    %s:--%s) ", c->name, o->name);
			if (is_path(o->value))
				printf("COMPREPLY=($(compgen %s -- \"$cur\")); return ;;\n",
				       strcmp(o->value, "DIR") ? "-f" : "-d");
			else
				printf("COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")); return ;;\n",
				       choices(ch, sizeof(ch), o->value));
		}
	printf("  esac\n  case $cmd in\n    '')\n      COMPREPLY=($(compgen -W \"");
	for (const cli_command *c = cli_commands; c->name; c++)
		printf("%s%s", c == cli_commands ? "" : " ", c->name);
	words_of_options(cli_global_options);
	printf(" -c -q -v -h\" -- \"$cur\")) ;;\n");
	for (const cli_command *c = cli_commands; c->name; c++) {
		printf("    %s) COMPREPLY=($(compgen -W \"", c->name);
		if (c->subcommands)
			printf("%s", c->subcommands);
		if (!strcmp(c->name, "help"))
			for (const cli_command *h = cli_commands; h->name; h++)
				printf(" %s", h->name);
		words_of_options(c->options);
		words_of_options(cli_global_options);
		printf("\" -- \"$cur\"))");
		if (strstr(c->usage, "DIR") || strstr(c->usage, "REPOSITORY"))
			printf("; [[ $cur != -* ]] && COMPREPLY+=($(compgen -d -- \"$cur\"))");
		printf(" ;;\n");
	}
	printf("  esac\n}\ncomplete -F _lethe lethe\n");
}

static void zsh(void)
{
	char ch[128], t[256];

	printf("#compdef lethe\n# zsh completion for lethe, made by `lethe completion zsh`\n"
	       "_lethe() {\n  local -a commands\n  commands=(\n");
	for (const cli_command *c = cli_commands; c->name; c++)
		printf("    '%s:%s'\n", c->name, sq(t, sizeof(t), c->summary));
	printf("  )\n  local -a globals\n  globals=(\n");
	for (const cli_option *o = cli_global_options; o->name; o++)
		printf("    '--%s[%s]%s'\n", o->name, sq(t, sizeof(t), o->help),
		       o->value ? ":file:_files" : "");
	printf("  )\n  local cmd i\n"
	       "  for ((i = 2; i < CURRENT; i++)); do\n"
	       "    case ${words[i]} in -c|--config) ((i++)) ;; -*) ;; *) cmd=${words[i]}; break ;; esac\n"
	       "  done\n"
	       "  if [[ -z $cmd ]]; then\n"
	       "    _arguments -s $globals '-c[the configuration]:file:_files' '-q' '-v' '-h' "
	       "'*:: :->cmd' && return\n"
	       "    _describe -t commands 'lethe command' commands\n    return\n  fi\n"
	       "  case $cmd in\n");
	for (const cli_command *c = cli_commands; c->name; c++) {
		printf("    %s) _arguments $globals", c->name);
		for (const cli_option *o = c->options; o->name; o++) {
			printf(" '--%s[%s]", o->name, sq(t, sizeof(t), o->help));
			if (is_path(o->value))
				printf(":%s:_files%s", o->value, strcmp(o->value, "DIR") ? "" : " -/");
			else if (*choices(ch, sizeof(ch), o->value))
				printf(":%s:(%s)", o->value, ch);
			else if (o->value)
				printf(":%s: ", o->value);
			printf("'");
		}
		if (c->subcommands)
			printf(" '1:subcommand:(%s)'", c->subcommands);
		else if (!strcmp(c->name, "help"))
			printf(" '1:command:((${commands}))'");
		else if (strstr(c->usage, "DIR") || strstr(c->usage, "REPOSITORY"))
			printf(" '*:path:_files'");
		printf(" ;;\n");
	}
	printf("  esac\n}\n_lethe \"$@\"\n");
}

static void fish(void)
{
	char ch[128], t[256];

	printf("# fish completion for lethe, made by `lethe completion fish`\n"
	       "complete -c lethe -f\n");
	for (const cli_option *o = cli_global_options; o->name; o++)
		printf("complete -c lethe%s%c -l %s%s -d '%s'\n", o->letter ? " -s " : "",
		       o->letter ? o->letter : ' ', o->name, o->value ? " -r -F" : "",
		       sq(t, sizeof(t), o->help));
	printf("set -l lethe_commands");
	for (const cli_command *c = cli_commands; c->name; c++)
		printf(" %s", c->name);
	printf("\n");
	for (const cli_command *c = cli_commands; c->name; c++) {
		printf("complete -c lethe -n \"not __fish_seen_subcommand_from $lethe_commands\" -a %s "
		       "-d '%s'\n", c->name, sq(t, sizeof(t), c->summary));
		if (c->subcommands)
			printf("complete -c lethe -n \"__fish_seen_subcommand_from %s\" -a '%s'\n", c->name,
			       c->subcommands);
		for (const cli_option *o = c->options; o->name; o++) {
			printf("complete -c lethe -n \"__fish_seen_subcommand_from %s\" -l %s", c->name,
			       o->name);
			if (is_path(o->value))
				printf(" -r -F");
			else if (*choices(ch, sizeof(ch), o->value))
				printf(" -x -a '%s'", ch);
			else if (o->value)
				printf(" -x");
			printf(" -d '%s'\n", sq(t, sizeof(t), o->help));
		}
	}
	printf("complete -c lethe -n \"__fish_seen_subcommand_from help\" -a \"$lethe_commands\"\n");
}

int cli_completion(const char *shell)
{
	if (!strcmp(shell, "bash"))
		bash();
	else if (!strcmp(shell, "zsh"))
		zsh();
	else if (!strcmp(shell, "fish"))
		fish();
	else {
		cli_error("completion: unknown shell '%s' (bash, zsh, fish)", shell);
		return 64;
	}
	return 0;
}
