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

void lethe_test_crash_point(const char *name);

#endif
