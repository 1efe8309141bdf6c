/*
 * lethe/i18n.h - Lethe's own words in the reader's language, through
 * gettext (po/fi.po and po/sv.po, compiled by msgfmt at build time, installed under
 * LOCALEDIR/LANG/LC_MESSAGES/lethe.mo).
 *
 * Invariants:
 *  - The source strings are English and are the English text: there is no
 *    en catalog.
 *  - Only the command layer chooses the language (cli_lang.c sets the
 *    process's message locale once, before any text is written, as gettext
 *    requires); library code only looks words up.
 *  - Every msgid is marked with _() or N_() where it stands, so xgettext finds
 *    it (tests/e2e/test_translations.py checks the catalogs are complete).
 */
#ifndef LETHE_I18N_H
#define LETHE_I18N_H

#include <libintl.h>

#define LETHE_TEXTDOMAIN "lethe"

#define _(s) dgettext(LETHE_TEXTDOMAIN, s)
#define N_(s) (s)
#define P_(s, p, n) dngettext(LETHE_TEXTDOMAIN, s, p, (unsigned long)(n))

#endif
