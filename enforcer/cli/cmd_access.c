/*
 * cmd_access.c - `lethe [-c FILE] access --subject KEY --output FILE`: a data
 * subject's access request. Every row linked to the subject goes into FILE
 * (.zip or .tar.gz), one JSON file per table, with summary.txt saying what
 * each category is kept for, how long, on what basis and when each row will
 * be disposed of, and the rest of GDPR art. 15 from the declarations, in
 * the language of --lang (else lethe.yaml's `language`, else English).
 *
 * The database is not changed except for the register of requests
 * (lethe_requests: received, answered, by subject digest). The export is
 * recorded in the evidence (kind "export": the subject's keyed digest, the
 * row count per table and the archive's SHA-256, never its content); an
 * export that could not be recorded is removed. The database lock is held
 * meanwhile so the record never lands between a run's intent and completion.
 */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "lethe/access.h"
#include "lethe/error.h"
#include "lethe/site.h"
#include "lethe/subject.h"

typedef struct {
	const char *subject;
	const char *output;
	const char *received;
	const char *lang;
	const char *by;            /* who answers the request (the record's `by`); NULL: not named */
} access_args;

static int parse_args(access_args *a, int argc, char **argv)
{
	lethe_archive_format f;

	for (int i = 1; i < argc; i++) {
		static const char *const names[] = { "--subject", "--output", "--received", "--lang", "--by" };
		const char **slots[] = { &a->subject, &a->output, &a->received, &a->lang, &a->by };
		int missing = 0, matched = 0;

		for (size_t k = 0; k < sizeof(names) / sizeof(*names) && !matched; k++) {
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
			printf("usage: lethe [-c FILE] access --subject KEY --output FILE.zip|FILE.tar.gz "
			       "[--received YYYY-MM-DD] [--lang fi|sv|en] [--by PRINCIPAL]\n");
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

int cmd_access(const lethe_cli_opts *opts, int argc, char **argv)
{
	access_args a = { 0 };
	lethe_access_result *res = NULL;
	lethe_warnings warnings = { 0 };
	lethe_subject subject = { 0 };
	lethe_site *site = NULL;
	cli_register r = { 0 };
	lethe_day today, received;
	lethe_lang lang;
	int status, rc, removed = 0;

	if ((status = parse_args(&a, argc, argv)))
		return status < 0 ? 0 : status;
	cli_parse_as_of(&today, NULL);
	if ((status = cli_parse_received(&received, a.received)))
		return status;
	/* read-write for the register of requests only: the export changes nothing else */
	if ((status = cli_register_open(&r, opts, 0)))
		return status;
	if ((status = cli_lang_use(&lang, a.lang, r.cfg, r.policy))) {
		cli_register_close(&r);
		return status;
	}
	if ((rc = lethe_site_open(&site, r.cfg, r.policy, r.be, LETHE_SITE_KEYS)) == 0 && a.received)
		lethe_site_set_received(site, received);
	if (rc < 0 || (rc = lethe_site_set_actor(site, a.by)) < 0 ||
	    (rc = lethe_subject_find(&subject, r.be, r.policy, a.subject)) < 0 ||
	    (rc = lethe_site_export(&res, &removed, &warnings, site, &subject, today, a.output)) < 0) {
		status = cli_fail(rc);
		if (removed)
			cli_error("the export was not recorded, so '%s' was removed", a.output);
		goto out;
	}
	cli_warnings(opts, &warnings);
	if (!opts->quiet) {
		printf("wrote %s for data subject %s (sha256 %s)\n", a.output, a.subject, res->sha256);
		for (size_t i = 0; i < res->ntables; i++)
			printf("  %-32s %lld row%s\n", res->tables[i].file,
			       (long long)res->tables[i].rows, res->tables[i].rows == 1 ? "" : "s");
		printf("  summary.txt\n");
	}
out:
	lethe_access_result_free(res);
	lethe_warnings_free(&warnings);
	lethe_subject_release(&subject);
	lethe_site_free(site);
	cli_register_close(&r);
	return status;
}
