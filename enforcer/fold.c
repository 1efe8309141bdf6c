/*
 * fold.c - Unicode normalisation and case folding (fold.h), by libunistring
 * (u8_casefold and u8_normalize): canonical caseless matching as the Unicode
 * standard defines it (NFC of the case folding of NFD), not hand-made tables.
 *
 * Invariants: valid UTF-8 in, valid UTF-8 out; text that is not valid UTF-8
 * is never passed to libunistring (which would replace bytes) but folded
 * ASCII-only, as Lethe did before it folded Unicode, so values of either kind
 * keep their earlier tokens where they have ASCII only.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <uninorm.h>
#include <unistr.h>
#include "fold.h"
#include "lethe/error.h"

static int ascii_fold(char **out, size_t *outlen, const char *s, size_t len, int fold_case)
{
	char *o = malloc(len + 1);

	if (!o)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	for (size_t i = 0; i < len; i++)
		o[i] = fold_case ? (char)tolower((unsigned char)s[i]) : s[i];
	*out = o;
	*outlen = len;
	return 0;
}

int lethe_text_fold(char **out, size_t *outlen, const char *s, size_t len, int fold_case)
{
	const uint8_t *u = (const uint8_t *)s;
	uint8_t *r;
	size_t n = 0;

	*out = NULL;
	*outlen = 0;
	if (len == 0 || u8_check(u, len) != NULL)
		return ascii_fold(out, outlen, s, len, fold_case);
	r = fold_case ? u8_casefold(u, len, NULL, UNINORM_NFC, NULL, &n)
		      : u8_normalize(UNINORM_NFC, u, len, NULL, &n);
	if (!r)
		return lethe_error_set(LETHE_ESOFTWARE, "cannot fold text: out of memory");
	*out = (char *)r;
	*outlen = n;
	return 0;
}
