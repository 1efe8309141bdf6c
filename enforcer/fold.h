/*
 * fold.h - internal: Unicode normalisation and case folding of text values
 * (suppression tokens compare contact values in this form). The only module
 * that uses libunistring.
 *
 * Ownership: lethe_text_fold's *out is malloc'd; the caller frees it.
 */
#ifndef LETHE_FOLD_H
#define LETHE_FOLD_H

#include <stddef.h>

/*
 * s[0..len) in NFC, case folded first when fold_case (full Unicode case
 * folding, language independent: "ÄIJÄ" and "äijä" fold alike, as do "ß"
 * and "SS"). ASCII text gives ASCII text: lower case when folded, the same
 * bytes otherwise. Text that is not valid UTF-8 cannot be normalised: its
 * ASCII letters are folded and every other byte is kept as it is. *out is
 * not NUL-terminated, *outlen its length; LETHE_ESOFTWARE when out of memory.
 */
int lethe_text_fold(char **out, size_t *outlen, const char *s, size_t len, int fold_case);

#endif
