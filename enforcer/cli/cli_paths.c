/*
 * cli_paths.c - where the reference policies are when --policies is not
 * given, the first folder of these that exists:
 *  1. beside the running binary as installed (LETHE_BIN_TO_DATA, e.g.
 *     "../share/lethe", from GNUInstallDirs): works under any prefix and in
 *     a DESTDIR;
 *  2. LETHE_DATADIR/policies, the configured install location;
 *  3. the source tree's policies/ (so the build tree works uninstalled).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"

#ifndef LETHE_BIN_TO_DATA
#define LETHE_BIN_TO_DATA "../share/lethe"
#endif
#ifndef LETHE_DATADIR
#define LETHE_DATADIR "/usr/share/lethe"
#endif
#ifndef LETHE_SOURCE_POLICIES
#define LETHE_SOURCE_POLICIES "policies"
#endif

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *cli_default_policies(void)
{
	static char beside[PATH_MAX];
	char exe[PATH_MAX], path[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL) {
			*slash = '\0';
			/* realpath: the folder written into lethe.yaml without "bin/.." */
			if (snprintf(path, sizeof(path), "%s/%s/policies", exe, LETHE_BIN_TO_DATA) <
			    (int)sizeof(path) && is_dir(path) && realpath(path, beside))
				return beside;
		}
	}
	if (is_dir(LETHE_DATADIR "/policies"))
		return LETHE_DATADIR "/policies";
	return LETHE_SOURCE_POLICIES;
}
