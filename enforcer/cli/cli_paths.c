/*
 * cli_paths.c - where the reference policies are when --policies is not
 * given: the installed copy (LETHE_DATADIR/policies, set by CMake from
 * GNUInstallDirs) when it exists, else the source tree's policies/ (so the
 * build tree works before anything is installed).
 */
#include <sys/stat.h>
#include "cli.h"

#ifndef LETHE_DATADIR
#define LETHE_DATADIR "/usr/share/lethe"
#endif
#ifndef LETHE_SOURCE_POLICIES
#define LETHE_SOURCE_POLICIES "policies"
#endif

const char *cli_default_policies(void)
{
	static const char *const candidates[] = { LETHE_DATADIR "/policies", LETHE_SOURCE_POLICIES };
	struct stat st;

	for (size_t i = 0; i < sizeof(candidates) / sizeof(*candidates); i++)
		if (stat(candidates[i], &st) == 0 && S_ISDIR(st.st_mode))
			return candidates[i];
	return LETHE_DATADIR "/policies";
}
