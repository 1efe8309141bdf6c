/*
 * util.h - small shared helpers of the library (internal): hex digests,
 * UTC timestamps, and creating a new file durably.
 *
 * Invariants: no global state; errors are set with lethe_error_set and
 * returned as negative lethe codes; nothing prints.
 */
#ifndef LETHE_UTIL_H
#define LETHE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sodium.h>

#define LETHE_SHA256_HEX_SIZE 65   /* 64 lowercase hex digits and the NUL */
#define LETHE_ISO_TIME_SIZE 21     /* YYYY-MM-DDTHH:MM:SSZ and the NUL */

/* Lowercase hex of n bytes into out, which has room for 2 * n + 1. */
void lethe_hex(char *out, const void *bin, size_t n);

/* SHA-256 of data, as hex. */
void lethe_sha256_hex(char out[LETHE_SHA256_HEX_SIZE], const void *data, size_t len);

/* Finish a streamed SHA-256 (the state is spent), as hex. */
void lethe_sha256_final_hex(char out[LETHE_SHA256_HEX_SIZE], crypto_hash_sha256_state *st);

/* t (seconds since the epoch) as YYYY-MM-DDTHH:MM:SSZ in UTC; out of
 * gmtime's range, the decimal seconds. */
void lethe_time_iso(char out[LETHE_ISO_TIME_SIZE], int64_t t);

/* Now, as lethe_time_iso. */
void lethe_now_iso(char out[LETHE_ISO_TIME_SIZE]);

/* fsync the folder that holds path, so a new entry in it is durable. */
int lethe_fsync_folder(const char *path);

/* Create path as a new file (O_CREAT|O_EXCL|O_NOFOLLOW: an existing file or
 * a planted symbolic link is refused, LETHE_ECANTCREAT), with exactly `mode`
 * whatever the umask, holding data; the file and its folder fsync'd before
 * returning. On any failure after the create the file is removed, so a
 * half-written file never stays. `what` names the file in messages
 * ("pseudonym key"); NULL says "file". */
int lethe_file_create_new(const char *path, mode_t mode, const void *data, size_t len,
			  const char *what);

#endif
