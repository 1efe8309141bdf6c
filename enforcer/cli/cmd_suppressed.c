/*
 * cmd_suppressed.c - `lethe [-c FILE] suppressed VALUE`: exit 0 when an
 * e-mail address or phone number is on the suppression list (a marketing ban
 * that survived an erasure), 1 when not. An address import calls it before
 * adding an address. The value is compared as a token: the list holds no
 * addresses. Case is folded the Unicode way ("ÄIJÄ@x.fi" is "äijä@x.fi"),
 * see lethe/subject.h. A value a rule had replaced with a row token (a
 * UNIQUE column) before the erasure is not found: that token depends on a
 * row key the value alone does not give.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "lethe/backend.h"
#include "lethe/error.h"
#include "lethe/subject.h"
#include "lethe/token.h"

int cmd_suppressed(const lethe_cli_opts *opts, int argc, char **argv)
{
	lethe_token_key *key = NULL;
	lethe_config *cfg = NULL;
	lethe_backend *be = NULL;
	lethe_diags diags = LETHE_DIAGS_INIT;
	char *path = NULL;
	int found = 0, rc, status = 0;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: lethe [-c FILE] suppressed VALUE\n");
		return 0;
	}
	if (argc != 2) {
		cli_error("usage: lethe [-c FILE] suppressed VALUE");
		return 64;
	}
	if ((rc = lethe_config_locate(&path, opts->config_path)) < 0 ||
	    (rc = lethe_config_load(&cfg, path, &diags)) < 0) {
		cli_print_diags(&diags);
		status = rc == LETHE_ECONFIG ? 78 : cli_fail(rc);
		goto out;
	}
	if (!cfg->pseudonym_key) {
		cli_error("'%s': 'pseudonym_key' is not configured", cfg->path);
		status = 78;
		goto out;
	}
	if ((rc = lethe_token_key_load(&key, cfg->pseudonym_key)) < 0 ||
	    (rc = lethe_backend_open(&be, cfg->database, LETHE_BACKEND_READONLY)) < 0) {
		status = cli_fail(rc);
		goto out;
	}
	if ((rc = lethe_suppression_lookup(&found, be, key, argv[1], strlen(argv[1]))) < 0) {
		status = cli_fail(rc);
		goto out;
	}
	if (!opts->quiet)
		printf("%s\n", found ? "suppressed" : "not suppressed");
	status = found ? 0 : 1;
out:
	lethe_backend_free(be);
	lethe_token_key_free(key);
	lethe_config_free(cfg);
	lethe_diags_free(&diags);
	free(path);
	return status;
}
