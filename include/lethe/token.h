/*
 * lethe/token.h - keyed pseudonym tokens and evidence digests.
 *
 * A token replaces a value in a `pseudonymise` action: "tok_" followed by 32
 * lowercase hex digits (keyed BLAKE2b-128 of the value's bytes, personal
 * "lethe-token-v1"). The same value and key give the same token in every table
 * and column, so joins and UNIQUE constraints keep working; nothing about the
 * value is readable without the key.
 *
 * A digest is what the evidence records about a disposed row key: keyed
 * BLAKE2b-256 (personal "lethe-digest-v1") over a domain (e.g. the rule name)
 * and the data, as 64 lowercase hex digits. Digests and tokens never collide by
 * construction: different personalisation.
 *
 * The key file holds exactly 32 raw bytes, or 64 hex digits optionally
 * followed by one newline (what lethe_token_key_create writes). It must be a
 * regular file (not a symbolic link) with no group or other permission bits.
 *
 * Ownership: lethe_token_key_load allocates the key in libsodium's guarded,
 * locked memory; the caller owns it and frees it with lethe_token_key_free,
 * which wipes it.
 */
#ifndef LETHE_TOKEN_H
#define LETHE_TOKEN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LETHE_TOKEN_KEY_BYTES 32
#define LETHE_TOKEN_PREFIX "tok_"
#define LETHE_TOKEN_LEN 36      /* "tok_" + 32 hex digits */
#define LETHE_TOKEN_SIZE 37     /* with the terminating NUL */
#define LETHE_DIGEST_LEN 64     /* 64 hex digits */
#define LETHE_DIGEST_SIZE 65    /* with the terminating NUL */
#define LETHE_DIGEST_BIN 32     /* bytes: the digest before it is written in hex */

typedef struct lethe_token_key lethe_token_key;

/* Load the key file at path. Errors: LETHE_ENOINPUT (missing), LETHE_ENOPERM
 * (mode has a group/other bit, or the file cannot be opened for permission),
 * LETHE_EDATA (symbolic link, not a regular file, wrong content), LETHE_EIO,
 * LETHE_ESOFTWARE (libsodium or memory). *out is written only on success. */
int lethe_token_key_load(lethe_token_key **out, const char *path);

/* Create a new key file at path: 32 random bytes as 64 lowercase hex digits
 * and a newline, mode 0600, file and folder fsynced. Never overwrites:
 * an existing path (or a symbolic link) gives LETHE_ECANTCREAT. On failure no
 * file is left behind. */
int lethe_token_key_create(const char *path);

/* Wipe and free a key; accepts NULL. */
void lethe_token_key_free(lethe_token_key *k);

/* The token of value[0..len) under k: "tok_" + 32 lowercase hex digits + NUL. */
void lethe_token(char out[LETHE_TOKEN_SIZE], const lethe_token_key *k,
		 const void *value, size_t len);

/* The token of a value of a UNIQUE column: bound to the row's key too, so two
 * rows never receive the same token and pseudonymising one row can never
 * collide with, or replace, another. row_type is the key's type letter ('i'
 * integer, 'r' real, 't' text, 'b' blob) and row[0..row_len) its text
 * (numbers in decimal). Same shape as lethe_token; personalised
 * "lethe-tokrow-v1", input: the value's length (8 bytes, little-endian), the
 * value, row_type, row. */
void lethe_token_row(char out[LETHE_TOKEN_SIZE], const lethe_token_key *k,
		     const void *value, size_t len, char row_type, const void *row,
		     size_t row_len);

/* 1 when s[0..len) has exactly a token's shape, else 0. */
int lethe_token_looks_like(const char *s, size_t len);

/* The keyed digest of data[0..len) in domain (a NUL-terminated string, hashed
 * with a length prefix so ("ab","c") and ("a","bc") differ): 64 lowercase hex
 * digits + NUL. */
void lethe_digest(char out[LETHE_DIGEST_SIZE], const lethe_token_key *k,
		  const char *domain, const void *data, size_t len);

/* lethe_digest of many values in one domain, the same digests: the key, the
 * domain's length and the domain are hashed once (lethe_digest_start), then
 * each value from a copy of that state (lethe_digest_value). The context
 * holds key material: lethe_digest_end wipes it. Owner: the caller. */
typedef struct {
	_Alignas(64) unsigned char state[512]; /* libsodium's BLAKE2b state */
} lethe_digest_ctx;

void lethe_digest_start(lethe_digest_ctx *c, const lethe_token_key *k, const char *domain);
void lethe_digest_value(char out[LETHE_DIGEST_SIZE], const lethe_digest_ctx *c, const void *data,
			size_t len);
/* The same digest in binary: LETHE_DIGEST_BIN bytes, whose hex (lowercase,
 * byte by byte) is lethe_digest_value's text; their memcmp order is the
 * text's order. */
void lethe_digest_value_bin(unsigned char out[LETHE_DIGEST_BIN], const lethe_digest_ctx *c,
			    const void *data, size_t len);
void lethe_digest_end(lethe_digest_ctx *c);

#ifdef __cplusplus
}
#endif
#endif
