/*
 * testhook.h - internal: the test seams of the library, kept out of the
 * public headers (include/lethe/).
 *
 * lethe_test_crash_point(NAME) kills the process with SIGKILL when the
 * environment variable LETHE_TEST_CRASH is "NAME" or "NAME:N" (at the Nth time
 * the point is reached). It exists so the tests can prove that a run killed
 * at any step of the protocol leaves database and evidence in agreement.
 *
 * Invariant: crash points are compiled only in a test build (CMake option
 * LETHE_TEST_HOOKS, which tests/run and .ci/run turn on; default OFF). In
 * any other build each point is an empty macro and testhook.c is
 * not compiled: an installed binary has no crash point and no trace of the
 * LETHE_TEST_CRASH variable (tests/e2e/test_install.py checks it).
 */
#ifndef LETHE_TESTHOOK_H
#define LETHE_TESTHOOK_H

#include <stddef.h>
#include "lethe/evidence.h"

#ifdef LETHE_TEST_HOOKS
void lethe_test_crash_point(const char *name);
#else
/* nothing at all, not even a name in the debug information */
#define lethe_test_crash_point(name) ((void)(name))
#endif

/*
 * For the unit tests of the evidence and the verifier: the commit time used
 * by later commits on ev, unix seconds, UTC offset 0; 0 (the default) means
 * the current time.
 */
void lethe_evidence_set_time(lethe_evidence *ev, int64_t unix_seconds);

/*
 * For the unit tests of evidence.c: fn(ctx) is called by
 * lethe_evidence_commit after it has read main and written the commit
 * object, just before it moves main (to race another writer there). NULL
 * removes the hook. Not a crash point: present in every build, but not API.
 */
void lethe_evidence_set_test_hook(lethe_evidence *ev, void (*fn)(void *ctx), void *ctx);

/* The batch size of a run: `dflt`, or the positive number in the environment
 * variable LETHE_TEST_BATCH. Small batches let the concurrency tests reach
 * many interleavings of a run with another writer in a short time. */
#ifdef LETHE_TEST_HOOKS
size_t lethe_test_batch_size(size_t dflt);
#else
#define lethe_test_batch_size(dflt) (dflt)
#endif

#endif
