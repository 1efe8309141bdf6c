/*
 * strbuf.h - a growable string (internal), after git's strbuf.
 *
 * Invariants:
 *  - buf is NULL with len 0 and alloc 0 (the initial state: nothing is
 *    allocated until something is added), or malloc'd with alloc bytes,
 *    len < alloc and buf[len] == '\0'. The text may contain NUL bytes; len
 *    counts them.
 *  - Owner: the strbuf owns buf until lethe_strbuf_detach hands it over.
 *  - Every adding function either adds all of its text or nothing: on
 *    failure the buffer is unchanged and the error is set (LETHE_ESOFTWARE,
 *    "out of memory"); it returns 0 or that code.
 */
#ifndef LETHE_STRBUF_H
#define LETHE_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct {
	char *buf;
	size_t len, alloc;
} lethe_strbuf;

#define LETHE_STRBUF_INIT { NULL, 0, 0 }

/* --- life cycle ------------------------------------------------------------- */

void lethe_strbuf_init(lethe_strbuf *sb);
/* Free the text; the buffer is back in its initial state, ready for reuse. */
void lethe_strbuf_release(lethe_strbuf *sb);
/* Hand the text over (malloc'd, NUL-terminated, "" when empty; the caller
 * frees it; NULL when even "" cannot be allocated); *len gets its length
 * when not NULL. The buffer is back in its initial state. */
char *lethe_strbuf_detach(lethe_strbuf *sb, size_t *len);

/* --- reading ----------------------------------------------------------------- */

/* The text, "" while nothing is allocated; valid until the next change. */
const char *lethe_strbuf_str(const lethe_strbuf *sb);

/* --- growing and adding ------------------------------------------------------ */

/* Room for `extra` more bytes (and the NUL) without another allocation. */
int lethe_strbuf_grow(lethe_strbuf *sb, size_t extra);
int lethe_strbuf_add(lethe_strbuf *sb, const void *data, size_t len);
int lethe_strbuf_adds(lethe_strbuf *sb, const char *s);
int lethe_strbuf_addch(lethe_strbuf *sb, char c);
int lethe_strbuf_addf(lethe_strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int lethe_strbuf_vaddf(lethe_strbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Append the whole file at path: 0, or LETHE_EIO "cannot read 'PATH': ..."
 * (the buffer then unchanged). */
int lethe_strbuf_read_file(lethe_strbuf *sb, const char *path);

/* --- shrinking --------------------------------------------------------------- */

/* Keep the first len bytes (len <= sb->len); the allocation stays. */
void lethe_strbuf_setlen(lethe_strbuf *sb, size_t len);
/* Empty the text, keeping the allocation for reuse. */
void lethe_strbuf_reset(lethe_strbuf *sb);

#endif
