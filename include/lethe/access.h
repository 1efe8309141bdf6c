/*
 * lethe/access.h - a data subject's access request: every row linked to the
 * subject, one JSON file per table, and a plain-text summary of what each
 * category is kept for, for how long, on what basis and when each kept row
 * will be disposed of, in a .zip or .tar.gz archive.
 *
 * Invariants:
 *  - Nothing here writes to the register: rows are read through
 *    lethe_backend_rows and scans under the read-only authorizer.
 *  - The archive is created with O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600 (it
 *    holds personal data) and never overwrites; on failure the file this
 *    module created is removed.
 *  - A row appears once per table file, however many rules cover its table.
 *  - Only enforcer/access.c includes archive.h.
 */
#ifndef LETHE_ACCESS_H
#define LETHE_ACCESS_H

#include <stdint.h>
#include "backend.h"
#include "calendar.h"
#include "policy.h"
#include "subject.h"

typedef enum {
	LETHE_ARCHIVE_ZIP,
	LETHE_ARCHIVE_TAR_GZ
} lethe_archive_format;

typedef struct {
	char *table;      /* as the policy names it */
	char *file;       /* its file in the archive, "<table>.json" */
	int64_t rows;
} lethe_access_table;

typedef struct {
	lethe_access_table *tables;  /* the subject table first, then rules' tables */
	size_t ntables;
	char sha256[65];             /* of the archive's bytes, lowercase hex */
} lethe_access_result;

/* The archive format from the output's name: ".zip" or ".tar.gz" (case
 * insensitive); anything else is LETHE_EUSAGE. */
int lethe_access_format(lethe_archive_format *out, const char *path);

/* Write the subject's export to path (which must not exist: LETHE_ECANTCREAT
 * "'path' exists", also for a symbolic link). as_of is the day the disposal
 * days are counted against. *out owned by the caller:
 * lethe_access_result_free. */
int lethe_access_export(lethe_access_result **out, lethe_backend *be, const lethe_policy *p,
			const lethe_subject *s, lethe_day as_of, const char *path);
void lethe_access_result_free(lethe_access_result *r);

#endif
