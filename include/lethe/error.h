/*
 * lethe/error.h - return codes and the last error.
 *
 * Invariants:
 *  - Every library function returns 0 on success or one of the negative
 *    LETHE_E* codes below; nothing in the library prints or exits.
 *  - A function that fails sets the calling thread's last error with a one-line,
 *    lowercase message saying what failed first ("cannot open 'x': ...").
 *  - The codes map one to one onto the exit codes of the command-line contract
 *    (sysexits.h), see lethe_error_exit_code().
 */
#ifndef LETHE_ERROR_H
#define LETHE_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
	LETHE_OK = 0,
	LETHE_EVERIFY = -1,     /* verification found a problem      -> exit 1  */
	LETHE_EUSAGE = -64,     /* bad command line                  -> exit 64 */
	LETHE_EDATA = -65,      /* invalid policy or data            -> exit 65 */
	LETHE_ENOINPUT = -66,   /* a file is missing                 -> exit 66 */
	LETHE_ESOFTWARE = -70,  /* internal error, out of memory     -> exit 70 */
	LETHE_ECANTCREAT = -73, /* cannot create                     -> exit 73 */
	LETHE_EIO = -74,        /* I/O error                         -> exit 74 */
	LETHE_ETEMPFAIL = -75,  /* lock held, database busy: retry   -> exit 75 */
	LETHE_ENOPERM = -77,    /* permission (key readable by others)-> exit 77 */
	LETHE_ECONFIG = -78,    /* configuration error               -> exit 78 */
	LETHE_ECLOCK = -79,     /* the clock disagrees with the evidence -> exit 79 */
	LETHE_ENOTFOUND = -100  /* lookup found nothing (not an exit status) */
} lethe_error_code;

/* Set the calling thread's last error; returns code so callers can
 * `return lethe_error_set(LETHE_EIO, "cannot read '%s': %s", p, strerror(e));` */
int lethe_error_set(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The last error's message, or "" when none. Owned by the library, valid until
 * the next lethe call on the same thread. */
const char *lethe_error_last(void);

/* The last error's code (0 when none). */
int lethe_error_last_code(void);

void lethe_error_clear(void);

/* Map a return code to a process exit status (0, 1, 64..78). */
int lethe_error_exit_code(int code);

#ifdef __cplusplus
}
#endif
#endif
