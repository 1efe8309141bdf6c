/*
 * text.c - escaping text from outside for messages, logs and JSON; see
 * lethe/text.h for the spelling.
 *
 * Invariants:
 *  - One function, escape(), decides what is escaped and how; the two entry
 *    points differ only in the bound and in whether backslashes are doubled.
 *  - The output is valid UTF-8 and holds no byte below 0x20 and no DEL or C1
 *    control: whatever the input, it cannot start a line, a journald
 *    priority prefix or a terminal escape sequence.
 */
#include <stdlib.h>
#include <string.h>
#include "lethe/text.h"

/* Length of the well-formed UTF-8 sequence at s (1-4), or 0 when the bytes
 * there are not one: overlong forms, surrogates and values past U+10FFFF are
 * not UTF-8 either (RFC 3629). *cp is the code point. */
static size_t utf8_seq(const unsigned char *s, size_t len, unsigned *cp)
{
	unsigned c = s[0], min;
	size_t n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, c &= 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, c &= 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, c &= 0x07, min = 0x10000;
	else
		return 0;
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/*
 * Escape s[0..len) into out[0..size) (size 0: only count), keeping at most
 * max source characters (0: all) and marking a cut with "...". Returns the
 * length of the whole result; out is NUL-terminated when size > 0 and holds
 * as much as fits.
 */
static size_t escape(char *out, size_t size, const char *src, size_t len, size_t max,
		     int backslash)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0, chars = 0, i = 0;
	char piece[8];

	while (i < len) {
		unsigned cp = 0;
		size_t n = utf8_seq(s + i, len - i, &cp), pl = 0;

		if (max && chars == max) {
			memcpy(piece, "...", 3);
			pl = 3;
			i = len;
		} else if (n == 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) {
			/* not UTF-8 (one byte at a time) or a control character */
			unsigned b = n ? cp : s[i];
			const char *named = b == '\n' ? "\\n" : b == '\r' ? "\\r" : b == '\t' ? "\\t" : NULL;

			if (named) {
				memcpy(piece, named, 2);
				pl = 2;
			} else if (n == 2) { /* a C1 control, well-formed: not the raw byte */
				memcpy(piece, "\\u00", 4);
				piece[4] = hex[b >> 4];
				piece[5] = hex[b & 15];
				pl = 6;
			} else {
				piece[0] = '\\';
				piece[1] = 'x';
				piece[2] = hex[b >> 4];
				piece[3] = hex[b & 15];
				pl = 4;
			}
			i += n ? n : 1;
			chars++;
		} else if (backslash && cp == '\\') {
			memcpy(piece, "\\\\", 2);
			pl = 2;
			i++;
			chars++;
		} else {
			memcpy(piece, s + i, n);
			pl = n;
			i += n;
			chars++;
		}
		for (size_t k = 0; k < pl; k++, o++)
			if (o + 1 < size)
				out[o] = piece[k];
	}
	if (size)
		out[o < size ? o : size - 1] = '\0';
	return o;
}

char *lethe_text_quote(char out[LETHE_EXCERPT_SIZE], const char *s, size_t len)
{
	escape(out, LETHE_EXCERPT_SIZE, s ? s : "", s ? len : 0, LETHE_EXCERPT_CHARS, 1);
	return out;
}

char *lethe_text_line(const char *s)
{
	size_t len = strlen(s), n = escape(NULL, 0, s, len, 0, 0);
	char *out = malloc(n + 1);

	if (out)
		escape(out, n + 1, s, len, 0, 0);
	return out;
}

char *lethe_text_html(const char *s)
{
	char *line = lethe_text_line(s ? s : ""), *out, *o;
	size_t n = 0;

	if (!line)
		return NULL;
	for (const char *p = line; *p; p++)
		n += *p == '&' ? 5 : *p == '<' || *p == '>' ? 4 : *p == '"' || *p == '\'' ? 5 : 1;
	if (!(out = malloc(n + 1))) {
		free(line);
		return NULL;
	}
	o = out;
	for (const char *p = line; *p; p++) {
		const char *rep = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;" :
				  *p == '"' ? "&#34;" : *p == '\'' ? "&#39;" : NULL;

		if (rep) {
			memcpy(o, rep, strlen(rep));
			o += strlen(rep);
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	free(line);
	return out;
}
