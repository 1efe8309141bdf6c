/*
 * cmd_notice.c - `lethe [-c FILE] notice [--record] [--format md|html]
 * [--lang fi|sv|en] [--policies DIR] [--output FILE]`: the register's privacy
 * notice (rekisteri- ja tietosuojaseloste), or with --record its record of
 * processing activities (GDPR art. 30), written from the policy folder
 * (lethe/notice.h).
 *
 * Reads only the policy folder: --policies DIR, else the configuration's
 * `policies`. No database is opened, nothing is recorded. Every fault of the
 * folder is printed and nothing is written (65). --output is replaced
 * atomically (written beside it, then renamed), so a reader never sees half
 * a notice.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "lethe/error.h"
#include "lethe/notice.h"

typedef struct {
	const char *lang, *format, *policies, *output;
	int record;
} notice_args;

static int parse_args(notice_args *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "lang", required_argument, NULL, 'l' },
		{ "format", required_argument, NULL, 'f' },
		{ "policies", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "record", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0; /* glibc: a full restart after cli_args.c's parsing */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case 'l': a->lang = optarg; break;
		case 'f': a->format = optarg; break;
		case 'p': a->policies = optarg; break;
		case 'o': a->output = optarg; break;
		case 'r': a->record = 1; break;
		case 'h':
			printf("usage: lethe [-c FILE] notice [--record] [--format md|html] "
			       "[--lang fi|sv|en] [--policies DIR] [--output FILE]\n");
			return -1;
		default:
			cli_error("notice: unknown or incomplete option '%s'", argv[optind - 1]);
			return 64;
		}
	}
	if (optind < argc) {
		cli_error("notice: unexpected argument '%s'", argv[optind]);
		return 64;
	}
	if (a->format && strcmp(a->format, "md") && strcmp(a->format, "html")) {
		cli_error("notice: --format must be md or html, not '%s'", a->format);
		return 64;
	}
	return 0;
}

/* text into path through path.tmp and a rename. 0 or the exit status. */
static int write_file(const char *path, const char *text, size_t len)
{
	char *tmp = NULL;
	FILE *f;
	int ok;

	if (asprintf(&tmp, "%s.tmp", path) < 0) {
		cli_error("out of memory");
		return 70;
	}
	if (!(f = fopen(tmp, "w"))) {
		cli_error("cannot create '%s': %s", tmp, strerror(errno));
		free(tmp);
		return 73;
	}
	ok = fwrite(text, 1, len, f) == len;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, path) != 0) {
		cli_error("cannot write '%s': %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return 74;
	}
	free(tmp);
	return 0;
}

int cmd_notice(const lethe_cli_opts *opts, int argc, char **argv)
{
	notice_args a = { 0 };
	lethe_diags diags = LETHE_DIAGS_INIT;
	lethe_config *cfg = NULL;
	lethe_policy *policy = NULL;
	char *path = NULL, *text = NULL;
	size_t len = 0;
	lethe_lang lang;
	int status, rc;

	if ((status = parse_args(&a, argc, argv)))
		return status < 0 ? 0 : status;
	/* the configuration gives the folder and the default language; with
	 * --policies it is read only when there is one */
	rc = lethe_config_locate(&path, opts->config_path);
	if (rc == 0)
		rc = lethe_config_load(&cfg, path, &diags);
	if (rc == LETHE_ECONFIG) {
		cli_print_diags(&diags);
		status = 78;
		goto out;
	} else if (rc < 0 && (!a.policies || opts->config_path)) {
		status = cli_fail(rc);
		goto out;
	}
	rc = lethe_policy_load(&policy, a.policies ? a.policies : cfg->policies, &diags, 0);
	if (rc == LETHE_EDATA) {
		cli_print_diags(&diags);
		cli_error("%zu fault%s found; no notice was written", diags.count,
			  diags.count == 1 ? "" : "s");
		status = 65;
		goto out;
	} else if (rc < 0) {
		status = cli_fail(rc);
		goto out;
	}
	if ((status = cli_lang_use(&lang, a.lang, cfg, policy)))
		goto out;
	if ((rc = lethe_notice_write(&text, &len, policy, lang,
				     a.record ? LETHE_NOTICE_RECORD : LETHE_NOTICE_PRIVACY,
				     a.format && !strcmp(a.format, "html") ? LETHE_NOTICE_HTML
									: LETHE_NOTICE_MARKDOWN)) < 0) {
		status = cli_fail(rc);
		goto out;
	}
	if (a.output) {
		if (!(status = write_file(a.output, text, len)))
			cli_log(opts, CLI_INFO, "wrote %s", a.output);
	} else if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
		cli_error("cannot write the notice: %s", strerror(errno));
		status = 74;
	}
out:
	free(text);
	free(path);
	lethe_policy_free(policy);
	lethe_config_free(cfg);
	lethe_diags_free(&diags);
	return status;
}
