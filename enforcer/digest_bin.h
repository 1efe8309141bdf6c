/*
 * digest_bin.h - run digests in binary: a keyed digest's LETHE_DIGEST_LEN
 * lowercase hex digits (lethe_digest) as LETHE_DIGEST_BIN bytes, whose byte
 * order is the order of the hex text (sorting either sorts both), and a
 * batch's digests sorted. Shared by the SQLite marker (the register keeps a
 * batch's digests in binary) and the digest files written ahead
 * (runlog_ahead.c).
 */
#ifndef LETHE_DIGEST_BIN_H
#define LETHE_DIGEST_BIN_H

#include <stddef.h>
#include "lethe/token.h"

#define LETHE_DIGEST_BIN 32 /* bytes: LETHE_DIGEST_LEN hex digits */

/* A digest's LETHE_DIGEST_LEN lowercase hex digits into LETHE_DIGEST_BIN
 * bytes; LETHE_ESOFTWARE (out unspecified) for anything else. */
int lethe_digest_to_bin(unsigned char out[LETHE_DIGEST_BIN], const char *hex);

/* LETHE_DIGEST_BIN bytes as LETHE_DIGEST_LEN lowercase hex digits and a NUL. */
void lethe_digest_to_hex(char out[LETHE_DIGEST_SIZE], const unsigned char *bin);

/* n digests (hex) in binary, sorted ascending (memcmp's order, repeats
 * kept): *out is malloc'd, n * LETHE_DIGEST_BIN bytes, set only on success. */
int lethe_digests_sort(unsigned char **out, const char *const *digests, size_t n);

#endif
