/*
 * cli_lang.c - the language of what a data subject or the public reads
 * (erase, access, notice): --lang, else `language:` of lethe.yaml, else
 * English; and the process's message locale for gettext (lethe/i18n.h).
 *
 * Invariants:
 *  - A language the policies do not declare (declarations.languages) is
 *    refused before anything is written: its texts would be missing, and a
 *    silent fallback to another language is not an answer. Without
 *    declarations only English is spoken (the rules' own texts).
 *  - The catalog is looked for, in this order: beside the binary as
 *    installed (LETHE_BIN_TO_LOCALE), the build tree's locale/
 *    (LETHE_BUILD_LOCALEDIR), the configured LETHE_LOCALEDIR. A language
 *    whose catalog is not found, or does not answer, is an error, never
 *    English in disguise.
 *  - The locale is set once per process, here, before any text is made.
 */
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "lethe/declarations.h"
#include "lethe/i18n.h"

#ifndef LETHE_BIN_TO_LOCALE
#define LETHE_BIN_TO_LOCALE "../share/locale"
#endif
#ifndef LETHE_LOCALEDIR
#define LETHE_LOCALEDIR "/usr/share/locale"
#endif
#ifndef LETHE_BUILD_LOCALEDIR
#define LETHE_BUILD_LOCALEDIR "locale"
#endif

static int has_catalog(const char *dir, const char *code)
{
	char path[PATH_MAX];
	struct stat st;

	return snprintf(path, sizeof(path), "%s/%s/LC_MESSAGES/" LETHE_TEXTDOMAIN ".mo", dir, code) <
		       (int)sizeof(path) && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The folder holding code's catalog, into out (PATH_MAX), or -1. */
static int find_catalogs(char *out, const char *code)
{
	char exe[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL) {
			*slash = '\0';
			if (snprintf(out, PATH_MAX, "%s/%s", exe, LETHE_BIN_TO_LOCALE) < PATH_MAX &&
			    has_catalog(out, code))
				return 0;
		}
	}
	if (has_catalog(LETHE_BUILD_LOCALEDIR, code)) {
		snprintf(out, PATH_MAX, "%s", LETHE_BUILD_LOCALEDIR);
		return 0;
	}
	if (has_catalog(LETHE_LOCALEDIR, code)) {
		snprintf(out, PATH_MAX, "%s", LETHE_LOCALEDIR);
		return 0;
	}
	return -1;
}

int cli_lang_use(lethe_lang *out, const char *arg, const lethe_config *cfg,
		 const lethe_policy *policy)
{
	const struct lethe_declarations *d = policy ? policy->declarations : NULL;
	const char *code = arg ? arg : cfg && cfg->language ? cfg->language : "en";
	char dir[PATH_MAX];
	lethe_lang lang;

	if (lethe_lang_parse(&lang, code) < 0) {
		cli_error("unknown language '%s' (fi, sv or en)", code);
		return 64;
	}
	if (d ? !lethe_declarations_speak(d, lang) : lang != LETHE_LANG_EN) {
		cli_error("the policies declare no '%s' texts (declarations.languages in %s)", code,
			  policy ? policy->folder : "the policy folder");
		return 65;
	}
	/* gettext ignores LANGUAGE under the "C" locale; C.UTF-8 is built into
	 * glibc and also makes the catalogs' UTF-8 come out as written. */
	if (!setlocale(LC_MESSAGES, "C.UTF-8") || !setlocale(LC_CTYPE, "C.UTF-8")) {
		cli_error("cannot set the C.UTF-8 locale for messages");
		return 70;
	}
	setenv("LANGUAGE", code, 1);
	bind_textdomain_codeset(LETHE_TEXTDOMAIN, "UTF-8");
	if (lang == LETHE_LANG_EN) {
		*out = lang;
		return 0;
	}
	if (find_catalogs(dir, code) < 0) {
		cli_error("no '%s' message catalog (" LETHE_TEXTDOMAIN ".mo) installed in %s or %s",
			  code, LETHE_LOCALEDIR, LETHE_BUILD_LOCALEDIR);
		return 66;
	}
	bindtextdomain(LETHE_TEXTDOMAIN, dir);
	/* the catalog's own answer for its language code: a catalog that
	 * cannot be read answers in English */
	if (strcmp(_("@language-code"), code)) {
		cli_error("the '%s' message catalog in '%s' cannot be read", code, dir);
		return 66;
	}
	*out = lang;
	return 0;
}
