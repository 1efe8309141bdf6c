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
#include "digest_bin.h"
#include "lethe/token.h"

#define STR_(x) #x
#define STR(x) STR_(x)

#define BIN_DIGEST LETHE_DIGEST_BIN /* LETHE_DIGEST_LEN hex digits (digest_bin.h) */
#define PIECE_DIGESTS 256 /* digests in a piece: 8 KiB, two or three pages */
#define PIECE_BYTES (PIECE_DIGESTS * BIN_DIGEST)
#define PIECE_SHIFT 24 /* row id bits of the piece number: pieces a batch can have */

/* Set the last error for a marker statement that failed with rc:
 * "cannot WHAT in 'PATH': why"; returns the error code. */
int lethe_sqlite_marker_fail(lethe_sqlite *be, int rc, const char *what);

#endif
