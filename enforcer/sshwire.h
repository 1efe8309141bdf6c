/*
 * sshwire.h - internal to sshkey.c, sshsig.c and allowed_signers.c: the
 * RFC 4251 wire encoding (uint32, string) and the "-----BEGIN X-----" base64
 * armour of OpenSSH files. Not a public header.
 *
 * Invariants:
 *  - A reader never reads past p + len: every get checks the remaining length
 *    first and, once it fails, the reader stays failed (ok = 0), so a parser
 *    may do several gets and check ok once.
 *  - A writer never writes past cap: an overflowing put sets ok = 0 and writes
 *    nothing. Callers size the buffer exactly and treat !ok as a bug.
 *  - Armour text is untrusted: the decoder takes a length, never relies on a
 *    terminating NUL, and accepts only the marker lines, base64 and "\r\n".
 */
#ifndef LETHE_SSHWIRE_H
#define LETHE_SSHWIRE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	const unsigned char *p;
	size_t len;
	size_t off;
	int ok;
} sshwire_reader;

typedef struct {
	unsigned char *p;
	size_t cap;
	size_t len;
	int ok;
} sshwire_writer;

void sshwire_reader_init(sshwire_reader *r, const void *p, size_t len);
/* Raw bytes: *out points into the reader's buffer. */
int sshwire_get_bytes(sshwire_reader *r, const unsigned char **out, size_t n);
int sshwire_get_u32(sshwire_reader *r, uint32_t *out);
/* A string: *out points into the buffer, *n is its length. */
int sshwire_get_string(sshwire_reader *r, const unsigned char **out, size_t *n);
/* 1 when the next string equals the C string want (and consumes it). */
int sshwire_get_string_eq(sshwire_reader *r, const char *want);
size_t sshwire_remaining(const sshwire_reader *r);

void sshwire_writer_init(sshwire_writer *w, void *p, size_t cap);
void sshwire_put_bytes(sshwire_writer *w, const void *p, size_t n);
void sshwire_put_u32(sshwire_writer *w, uint32_t v);
void sshwire_put_string(sshwire_writer *w, const void *p, size_t n);
void sshwire_put_cstring(sshwire_writer *w, const char *s);

/* "ssh-ed25519" public key blob (51 bytes). */
#define SSHWIRE_ED25519 "ssh-ed25519"
#define SSHWIRE_ED25519_BLOB_LEN (4 + 11 + 4 + 32)
void sshwire_ed25519_blob(unsigned char out[SSHWIRE_ED25519_BLOB_LEN],
			  const unsigned char pk[32]);
/* Parse a public key blob that must be exactly an ed25519 key. Returns 0, or
 * -1 when malformed, -2 when a well-formed blob of another key type. */
int sshwire_ed25519_parse(unsigned char pk[32], const unsigned char *blob,
			  size_t len);

/*
 * "-----BEGIN label-----\n" + base64 wrapped at 70 + "\n-----END label-----\n".
 * secret != 0: *out is sodium_malloc'd (free with sodium_free), else malloc'd.
 * Returns 0 or LETHE_ESOFTWARE.
 */
int sshwire_armour(char **out, const unsigned char *bin, size_t len,
		   const char *label, int secret);

/*
 * Decode the armour in text[0..len): optional blank space, the BEGIN line,
 * base64 lines of any width, the END line, optional blank space. *out is
 * sodium_malloc'd when secret (free with sodium_free) else malloc'd.
 * Returns 0, -1 when malformed (*why says what), LETHE_ESOFTWARE on no memory.
 */
int sshwire_unarmour(unsigned char **out, size_t *out_len, const char *text,
		     size_t len, const char *label, int secret, const char **why);

/* Untrusted bytes for a message: themselves when short printable ASCII,
 * otherwise "(unprintable)". buf must hold 68 bytes. */
const char *sshwire_printable(char buf[68], const unsigned char *p, size_t n);

#endif
