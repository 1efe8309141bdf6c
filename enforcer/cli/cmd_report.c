/*
 * cmd_report.c - `lethe [-c FILE] report --html DIR [--since YYYY-MM-DD]
 * [--as-of YYYY-MM-DD] [--language en|fi|sv] [--json]`: the compliance report
 * (lethe/report.h) written as DIR/index.html, one self-contained page;
 * with --json also its model on stdout. The language: --language, else
 * `language:` of lethe.yaml (the site's language, as erase, access and
 * notice take it: cli_lang.c), else LC_ALL, LC_MESSAGES or LANG when they
 * name one we have, else English.
 *
 * Reads only (the register read-only, the evidence); the page is written
 * to a temporary file in DIR and renamed over index.html, so a reader never
 * sees half a page. Exit 0, 64 usage, 73 DIR cannot be written, else as
 * the contract says.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli_evidence.h"
#include "lethe/error.h"
#include "lethe/report.h"

static const char usage_line[] =
	"usage: lethe [-c FILE] report --html DIR [--since YYYY-MM-DD] [--as-of YYYY-MM-DD]\n"
	"                             [--language en|fi|sv] [--json]";

/* The language: the option, else the site's (lethe.yaml), else the
 * locale's when it is one we have. */
static int language(lethe_report_language *out, const char *arg, const char *site)
{
	const char *names[] = { getenv("LC_ALL"), getenv("LC_MESSAGES"), getenv("LANG") };

	if (arg || site)
		return lethe_report_language_parse(out, arg ? arg : site) < 0 ?
			       (cli_fail(LETHE_EUSAGE), 64) : 0;
	*out = LETHE_REPORT_EN;
	for (size_t i = 0; i < 3; i++)
		if (names[i] && *names[i]) {
			if (lethe_report_language_parse(out, names[i]) < 0)
				*out = LETHE_REPORT_EN;
			break;
		}
	return 0;
}

static int write_page(const char *dir, const char *html)
{
	char *tmp = NULL, *final = NULL;
	size_t len = strlen(html);
	FILE *f = NULL;
	int status = 0;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		cli_error("cannot create '%s': %s", dir, strerror(errno));
		return 73;
	}
	if (asprintf(&tmp, "%s/.index.html.tmp", dir) < 0 || asprintf(&final, "%s/index.html", dir) < 0) {
		cli_error("out of memory");
		status = 70;
		goto out;
	}
	if (!(f = fopen(tmp, "w")) || fwrite(html, 1, len, f) != len || fflush(f) != 0 ||
	    fsync(fileno(f)) != 0) {
		cli_error("cannot write '%s': %s", tmp, strerror(errno));
		status = 73;
		goto out;
	}
	if (fclose(f) != 0 || (f = NULL, rename(tmp, final) != 0)) {
		f = NULL;
		cli_error("cannot write '%s': %s", final, strerror(errno));
		status = 73;
	}
out:
	if (f)
		fclose(f);
	if (status && tmp)
		unlink(tmp);
	free(tmp);
	free(final);
	return status;
}

int cmd_report(const lethe_cli_opts *opts, int argc, char **argv)
{
	const char *dir = NULL, *since_arg = NULL, *as_of_arg = NULL, *lang_arg = NULL, *v;
	lethe_report_input in = { 0 };
	lethe_report_language lang;
	json_t *model = NULL;
	char *html = NULL;
	int json = 0, status, rc;
	cli_evidence e;

	for (int i = 1; i < argc; i++) {
		int missing = 0;

		v = NULL;
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if ((v = cli_option_value(argc, argv, &i, "--html", &missing)))
			dir = v;
		else if ((v = cli_option_value(argc, argv, &i, "--since", &missing)))
			since_arg = v;
		else if ((v = cli_option_value(argc, argv, &i, "--as-of", &missing)))
			as_of_arg = v;
		else if ((v = cli_option_value(argc, argv, &i, "--language", &missing)))
			lang_arg = v;
		if (missing || (!v && strcmp(argv[i], "--json"))) {
			cli_error("report: %s '%s'\n%s", missing ? "missing value of" : "unexpected argument",
				  argv[i], usage_line);
			return 64;
		}
	}
	if (!dir) {
		cli_error("report: --html DIR is required\n%s", usage_line);
		return 64;
	}
	if (since_arg && lethe_day_parse(&in.since, since_arg) < 0) {
		cli_error("report: --since: bad date '%s' (expected YYYY-MM-DD)", since_arg);
		return 64;
	}
	if (lang_arg && (status = language(&lang, lang_arg, NULL)))
		return status;
	if ((status = cli_parse_as_of(&in.as_of, as_of_arg)))
		return status;
	if ((status = cli_evidence_open(&e, opts, 0)))
		return status;
	if (!lang_arg && (status = language(&lang, NULL, e.r.cfg->language)))
		goto out;
	in.be = e.r.be;
	in.policy = e.r.policy;
	in.ev = e.ev;
	in.repository = e.r.cfg->evidence_repository;
	in.allowed_signers = e.r.cfg->allowed_signers;
	if ((rc = lethe_report_model(&model, &in)) < 0 || (rc = lethe_report_html(&html, model, lang)) < 0) {
		status = cli_fail(rc);
		goto out;
	}
	if ((status = write_page(dir, html)))
		goto out;
	if (json) {
		status = cli_print_json(model);
		model = NULL;
	}
	cli_log(opts, CLI_INFO, "report written to '%s/index.html'", dir);
out:
	free(html);
	json_decref(model);
	cli_evidence_close(&e);
	return status;
}
