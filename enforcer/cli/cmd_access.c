/*
 * cmd_access.c - `lethe [-c FILE] access --subject KEY --output FILE`: a data
 * subject's access request. Every row linked to the subject goes into FILE
 * (.zip or .tar.gz), one JSON file per table, with summary.txt saying what
 * each category is kept for, how long, on what basis and when each row will
 * be disposed of.
 *
 * The database is opened read-only and is not changed. The export is
 * recorded in the evidence (kind "export": the subject's keyed digest, the
 * row count per table and the archive's SHA-256, never its content); an
 * export that could not be recorded is removed. The database lock is held
 * meanwhile so the record never lands between a run's intent and completion.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "cli.h"
#include "lethe/access.h"
#include "lethe/error.h"
#include "lethe/lock.h"
#include "lethe/record.h"
#include "lethe/runlog.h"
#include "lethe/subject.h"

typedef struct {
	const char *subject;
	const char *output;
} access_args;

static int parse_args(access_args *a, int argc, char **argv)
{
	lethe_archive_format f;

	for (int i = 1; i < argc; i++) {
		static const char *const names[] = { "--subject", "--output" };
		const char **slots[] = { &a->subject, &a->output };
		int missing = 0, matched = 0;

		for (size_t k = 0; k < 2 && !matched; k++) {
			const char *v = cli_option_value(argc, argv, &i, names[k], &missing);

			if (missing) {
				cli_error("%s needs a value", names[k]);
				return 64;
			}
			if (v) {
				*slots[k] = v;
				matched = 1;
			}
		}
		if (matched)
			continue;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: lethe [-c FILE] access --subject KEY --output FILE.zip|FILE.tar.gz\n");
			return -1;
		}
		cli_error("access: unexpected argument '%s'", argv[i]);
		return 64;
	}
	if (!a->subject || !a->output) {
		cli_error("access: --subject KEY and --output FILE are required");
		return 64;
	}
	if (lethe_access_format(&f, a->output) < 0) {
		cli_error("%s", lethe_error_last());
		return 64;
	}
	return 0;
}

/* be (read-only is enough): the export is refused, like every record, on a
 * main behind the register's remembered head (lethe/evidence_tip.h). */
static int record(const cli_site *site, lethe_backend *be, const lethe_subject *s,
		  const lethe_access_result *res, const char *output)
{
	lethe_runlog_env env = { .ev = site->ev, .signing_key = site->signing_key, .be = be };
	char digest[LETHE_DIGEST_SIZE];
	json_t *fields;
	int rc;

	if ((rc = lethe_subject_digest(digest, site->pseudonym_key, &s->value)) < 0)
		return rc;
	fields = lethe_record_export(digest, res, strlen(output) > 4 &&
				     !strcasecmp(output + strlen(output) - 4, ".zip") ? "zip" : "tar.gz");
	if (!fields)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	rc = lethe_runlog_record(NULL, &env, "export", fields);
	json_decref(fields);
	return rc;
}

int cmd_access(const lethe_cli_opts *opts, int argc, char **argv)
{
	access_args a = { 0 };
	lethe_access_result *res = NULL;
	lethe_subject subject = { 0 };
	lethe_lock *lock = NULL;
	cli_register r = { 0 };
	cli_site site = { 0 };
	lethe_day today;
	int status, rc;

	if ((status = parse_args(&a, argc, argv)))
		return status < 0 ? 0 : status;
	cli_parse_as_of(&today, NULL);
	if ((status = cli_register_open(&r, opts, LETHE_BACKEND_READONLY)))
		return status;
	if ((status = cli_site_open_read(&site, r.cfg)))
		goto out;
	if ((rc = lethe_subject_find(&subject, r.be, r.policy, a.subject)) < 0 ||
	    (rc = lethe_lock_acquire(&lock, r.cfg->database)) < 0 ||
	    (rc = lethe_access_export(&res, r.be, r.policy, &subject, today, a.output)) < 0) {
		status = cli_fail(rc);
		goto out;
	}
	if ((rc = record(&site, r.be, &subject, res, a.output)) < 0) {
		unlink(a.output);
		status = cli_fail(rc);
		cli_error("the export was not recorded, so '%s' was removed", a.output);
		goto out;
	}
	cli_site_push(opts, r.cfg, site.ev);
	if (!opts->quiet) {
		printf("wrote %s for data subject %s (sha256 %s)\n", a.output, a.subject, res->sha256);
		for (size_t i = 0; i < res->ntables; i++)
			printf("  %-32s %lld row%s\n", res->tables[i].file,
			       (long long)res->tables[i].rows, res->tables[i].rows == 1 ? "" : "s");
		printf("  summary.txt\n");
	}
out:
	lethe_access_result_free(res);
	lethe_lock_release(lock);
	lethe_subject_release(&subject);
	cli_site_close(&site);
	cli_register_close(&r);
	return status;
}
