/*
 * lethe/notice.h - the privacy notice (rekisteri- ja tietosuojaseloste,
 * GDPR art. 13 and 14) and the record of processing activities (GDPR art.
 * 30(1)) of a register, written from its policy folder: the declarations
 * give the controller, purposes, categories, recipients, sources, data held
 * elsewhere, security and rights; the rules give every period and statute.
 *
 * Invariants:
 *  - Reads only the policy: no database, no personal data.
 *  - The text is in one language (lethe/i18n.h sets whose words); every
 *    declared text in that language exists (the policy loader faults a
 *    missing one), so nothing falls back to another language.
 *  - Markdown escapes the characters Markdown would read as markup; HTML is
 *    a complete UTF-8 document with every text escaped.
 */
#ifndef LETHE_NOTICE_H
#define LETHE_NOTICE_H

#include <stddef.h>
#include "declarations.h"
#include "policy.h"

typedef enum { LETHE_NOTICE_PRIVACY, LETHE_NOTICE_RECORD } lethe_notice_kind;
typedef enum { LETHE_NOTICE_MARKDOWN, LETHE_NOTICE_HTML } lethe_notice_format;

/* The document into *out (malloc'd, NUL-terminated, *len bytes; the caller
 * frees it). LETHE_EDATA when the policy has no declarations or does not
 * declare lang; LETHE_ESOFTWARE when out of memory. */
int lethe_notice_write(char **out, size_t *len, const lethe_policy *p, lethe_lang lang,
		       lethe_notice_kind kind, lethe_notice_format format);

#endif
