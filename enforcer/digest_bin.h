/*
 * digest_bin.h - run digests in binary: a keyed digest's LETHE_DIGEST_BIN
 * bytes (lethe_digest_value_bin) and its LETHE_DIGEST_LEN lowercase hex
 * digits (lethe_digest), whose orders agree (sorting either sorts both), and
 * a batch's digests sorted. A run's batch hook (runlog.c) computes a batch's
 * digests in binary and sorts them once; the marker (lethe_backend_mark)
 * and the digest files written ahead (runlog_ahead.c) take that one array,
 * and the hex text is written only where an engine or a file needs it.
 */
#ifndef LETHE_DIGEST_BIN_H
#define LETHE_DIGEST_BIN_H

#include <stddef.h>
#include "lethe/token.h"

/* A digest's LETHE_DIGEST_LEN lowercase hex digits into LETHE_DIGEST_BIN
 * bytes; LETHE_ESOFTWARE (out unspecified) for anything else. */
int lethe_digest_to_bin(unsigned char out[LETHE_DIGEST_BIN], const char *hex);

/* LETHE_DIGEST_BIN bytes as LETHE_DIGEST_LEN lowercase hex digits and a NUL. */
void lethe_digest_to_hex(char out[LETHE_DIGEST_SIZE], const unsigned char *bin);

/* n binary digests (n * LETHE_DIGEST_BIN bytes, lethe_digest_value_bin)
 * sorted ascending in place (memcmp's order, repeats kept); on failure (out
 * of memory) they are as they were. No copy of them is made: a batch's
 * digests are its largest allocation. */
int lethe_digests_sort(unsigned char *digests, size_t n);

#endif
