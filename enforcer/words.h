/*
 * words.h - internal: the phrases that the access summary, the privacy
 * notice and the record of processing share, in the reader's language
 * (lethe/i18n.h): a rule's period, what its action does, a legal basis, the
 * data subject's rights.
 *
 * Invariants:
 *  - Every phrase is a catalog entry or built from catalog entries; no
 *    phrase holds SQL or a table name (a customer reads them).
 *  - Writers append to a FILE the caller owns (a memory stream).
 */
#ifndef LETHE_WORDS_H
#define LETHE_WORDS_H

#include <stdio.h>
#include "lethe/declarations.h"
#include "lethe/policy.h"

/* "6 years from the end of the financial year", "12 months", or "no fixed
 * period: kept while its purpose lasts" for a keep rule without retain. */
void lethe_words_period(FILE *f, const lethe_rule *r);

/* "deleted", "pseudonymised", "masked", "kept". */
const char *lethe_words_done(lethe_action a);

/* "contract (GDPR art. 6(1)(b))". */
void lethe_words_basis(FILE *f, lethe_basis b);

/* The data subject's rights under GDPR 7(3) and 15-22, one sentence each;
 * NULL after the last. */
const char *lethe_words_right(size_t i);

/* The language of the process's messages (lethe/i18n.h), which the command
 * layer chose: the catalog answers its own code; English without one. The
 * library's texts follow it, so Lethe's words and the declared texts are
 * always in one language. */
lethe_lang lethe_words_lang(void);

#endif
