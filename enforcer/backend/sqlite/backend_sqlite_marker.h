/*
 * backend_sqlite_marker.h - what the run marker (backend_sqlite_marker.c)
 * and the merge of its digests (backend_sqlite_merge.c) share: how a
 * batch's sorted digests are stored in pieces (the layout is described in
 * backend_sqlite_marker.c) and their binary form. Internal to the SQLite
 * backend.
 */
#ifndef LETHE_BACKEND_SQLITE_MARKER_H
#define LETHE_BACKEND_SQLITE_MARKER_H

#include "backend_sqlite.h"
#include "lethe/token.h"

#define STR_(x) #x
#define STR(x) STR_(x)

#define BIN_DIGEST 32 /* LETHE_DIGEST_LEN hex digits */
#define PIECE_DIGESTS 256 /* digests in a piece: 8 KiB, two or three pages */
#define PIECE_BYTES (PIECE_DIGESTS * BIN_DIGEST)
#define PIECE_SHIFT 24 /* row id bits of the piece number: pieces a batch can have */

/* A digest's LETHE_DIGEST_LEN lowercase hex digits into BIN_DIGEST bytes;
 * LETHE_EDATA (out unspecified) for anything else. */
int lethe_sqlite_digest_to_bin(unsigned char out[BIN_DIGEST], const char *hex);
/* BIN_DIGEST bytes as LETHE_DIGEST_LEN lowercase hex digits and a NUL. */
void lethe_sqlite_digest_to_hex(char out[LETHE_DIGEST_SIZE], const unsigned char *bin);
/* Set the last error for a marker statement that failed with rc:
 * "cannot WHAT in 'PATH': why"; returns the error code. */
int lethe_sqlite_marker_fail(lethe_sqlite *be, int rc, const char *what);

#endif
