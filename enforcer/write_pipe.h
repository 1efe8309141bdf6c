/*
 * write_pipe.h - a writer on a thread of its own: the buffers one thread
 * produces are handed over in order to `write`, called on a second thread,
 * so that producing the next buffers (merging, hashing) and writing the last
 * ones (the object database deflates and hashes what it is given) use both
 * cores.
 *
 * Invariants:
 *  - `write` sees every non-empty buffer, in the order
 *    lethe_write_pipe_write took them, one call at a time, and only until its
 *    first failure; it is never called again once lethe_write_pipe_finish
 *    has returned.
 *  - The producer never waits for more than LETHE_WRITE_PIPE_SLOTS buffers
 *    to be written: memory is those slots, each as large as the largest
 *    buffer handed over.
 *  - Errors: a failed `write` makes every later lethe_write_pipe_write fail
 *    at once, and lethe_write_pipe_finish returns its code with its message
 *    (lethe_error_last) set on the producer's thread.
 *
 * Owner: the producer, from lethe_write_pipe_start to lethe_write_pipe_finish,
 * which frees it whatever happened. One producer thread.
 */
#ifndef LETHE_WRITE_PIPE_H
#define LETHE_WRITE_PIPE_H

#include <stddef.h>

#define LETHE_WRITE_PIPE_SLOTS 4

typedef struct lethe_write_pipe lethe_write_pipe;

/* A pipe to write(wctx, ...) on a thread of its own; *out NULL (and 0) when
 * no thread could be started: the caller then writes itself. */
int lethe_write_pipe_start(lethe_write_pipe **out, int (*write)(void *wctx, const void *buf, size_t len),
			   void *wctx);

/* Copy buf[0..len) into a free slot for the writer (waiting for one):
 * 0, or the writer's failure. Has the shape of `write`: ctx is the pipe. */
int lethe_write_pipe_write(void *ctx, const void *buf, size_t len);

/* Wait until every buffer is written (or the writer failed), end the thread
 * and free the pipe. rc is the producer's own result: when it is a failure
 * the buffers still queued are not written. Returns the writer's failure
 * (its message set on this thread) if it failed, else rc. NULL is fine
 * (returns rc). */
int lethe_write_pipe_finish(lethe_write_pipe *p, int rc);

#endif
