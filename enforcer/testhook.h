/*
 * testhook.h - internal: crash points for the fault-injection tests.
 *
 * lethe_test_crash_point(NAME) kills the process with SIGKILL when the
 * environment variable LETHE_TEST_CRASH is "NAME" or "NAME:N" (at the Nth time
 * the point is reached). Without the variable it does nothing. It exists so
 * the tests can prove that a run killed at any step of the protocol leaves
 * database and evidence in agreement.
 */
#ifndef LETHE_TESTHOOK_H
#define LETHE_TESTHOOK_H

#include <stddef.h>

void lethe_test_crash_point(const char *name);

/* The batch size of a run: `dflt`, or the positive number in the environment
 * variable LETHE_TEST_BATCH. Small batches let the concurrency tests reach
 * many interleavings of a run with another writer in a short time. */
size_t lethe_test_batch_size(size_t dflt);

#endif
