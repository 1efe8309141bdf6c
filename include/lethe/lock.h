/*
 * lethe/lock.h - one run at a time per database.
 *
 * The lock is an flock(2) on "<database_path>.lock", so the kernel releases it
 * when the holder exits or is killed: a stale file is harmless and is kept.
 * While held, the file holds the holder's pid in decimal and a newline, read
 * only to name the holder in the message of a refused acquire.
 *
 * The lock belongs to the open file description: a process that forks while
 * holding it shares it with the child until both have closed it (the
 * descriptor is close-on-exec, so programs run with exec never inherit it).
 *
 * Ownership: lethe_lock_acquire allocates the handle; the caller owns it and
 * gives it back with lethe_lock_release.
 */
#ifndef LETHE_LOCK_H
#define LETHE_LOCK_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lethe_lock lethe_lock;

/* Take the lock of database_path without waiting. Errors: LETHE_ETEMPFAIL
 * when another run holds it ("database 'x' is locked by another lethe run
 * (pid N)"), LETHE_ECANTCREAT when the lock file cannot be opened or created
 * (or is a symbolic link or not a regular file), LETHE_EIO, LETHE_ESOFTWARE.
 * *out is written only on success. */
int lethe_lock_acquire(lethe_lock **out, const char *database_path);

/* Remove the pid from the lock file, unlock, close and free; keeps the file.
 * Accepts NULL. */
void lethe_lock_release(lethe_lock *l);

#ifdef __cplusplus
}
#endif
#endif
