/*
 * runlog_impl.h - what runlog.c and runlog_digests.c share: the run log
 * itself and the completion's digest files.
 */
#ifndef LETHE_RUNLOG_IMPL_H
#define LETHE_RUNLOG_IMPL_H

#include <stdint.h>
#include "lethe/record.h"
#include "lethe/runlog.h"
#include "util.h"

struct lethe_runlog {
	const lethe_runlog_env *env;
	lethe_day as_of;
	char run_id[33];
	char started_at[LETHE_ISO_TIME_SIZE];
	int64_t intent_seq;     /* 0 until the intent is recorded */
};

/* Add the rule's digest file to files, sealed (written ahead,
 * lethe_runlog_seal) or as a stream from the marker; *count its lines (0:
 * none added). */
int lethe_runlog_add_digest_file(lethe_record_files *files, int64_t *count, const lethe_runlog_env *env,
				 const char *run_id, const char *rule, const char *path);

#endif
