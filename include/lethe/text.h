/*
 * lethe/text.h - text from outside (keys read from a register, names and
 * values read from a policy file) made safe to print in a message, a log
 * line or JSON.
 *
 * A key may hold anything SQLite stores as TEXT: newlines, terminal escapes,
 * bytes that are not UTF-8. Printed raw, it forges log lines ("\n<3>...", read
 * by journald as a new entry of another priority), repaints the operator's
 * terminal, or makes jansson refuse the whole JSON document. Every such text
 * goes through one of the functions below before it is printed.
 *
 * Escapes (one spelling each, so an escaped text maps back to one source):
 *  - "\\" for a backslash (lethe_text_quote only: lethe_text_line leaves
 *    backslashes alone, as it sanitises lines whose quoted parts are already
 *    escaped);
 *  - "\n", "\r", "\t" for those three;
 *  - "\xHH" for every other control character (U+0000-U+001F, U+007F) and
 *    for every byte that is not part of well-formed UTF-8;
 *  - "\u00HH" for the C1 controls U+0080-U+009F (well-formed UTF-8 that
 *    terminals still obey as escapes).
 * The result is valid UTF-8 without control characters.
 */
#ifndef LETHE_TEXT_H
#define LETHE_TEXT_H

#include <stddef.h>

/* How many characters of a source text an excerpt keeps; docs/operations.md. */
#define LETHE_EXCERPT_CHARS 40

/* Room for an excerpt: every kept character escaped as "\xHH" or a 4-byte
 * UTF-8 sequence, then "..." and the terminating NUL. */
#define LETHE_EXCERPT_SIZE (LETHE_EXCERPT_CHARS * 4 + 4)

/*
 * An excerpt of s[0..len) in out (of LETHE_EXCERPT_SIZE bytes): escaped as
 * above, backslashes included, at most LETHE_EXCERPT_CHARS characters of the
 * source, then "..." if there was more. Returns out, for use as a printf
 * argument.
 */
char *lethe_text_quote(char out[LETHE_EXCERPT_SIZE], const char *s, size_t len);

/*
 * The whole of the NUL-terminated s with control characters and bytes that
 * are not UTF-8 escaped, backslashes left as they are: a message becomes
 * one safe line. Returns a malloc'd string the caller frees, or NULL when
 * out of memory.
 */
char *lethe_text_line(const char *s);

/*
 * s as HTML text or attribute value: first made one safe line as
 * lethe_text_line does (control characters and bytes that are not UTF-8
 * escaped), then & < > " ' written as character references. NULL is "".
 * Returns a malloc'd string the caller frees, or NULL when out of memory.
 */
char *lethe_text_html(const char *s);

#endif
