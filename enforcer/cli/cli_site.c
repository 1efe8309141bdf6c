/*
 * cli_site.c - what a recording command (run, erase, holds) needs beyond
 * check and plan: the pseudonym key, the signing key and the evidence
 * repository; and pushing the evidence to its remote.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <stdlib.h>
#include "cli.h"
#include "lethe/error.h"
#include "lethe/evidence_tip.h"

/* Whether the run can write the database: the file, and its folder, where
 * SQLite makes its rollback journal (and lethe its lock file). SQLite opens a
 * read-only file read-only without a word and fails at the first write, by
 * which time the run's intent is recorded; access(2) asks the kernel, which
 * also refuses root an immutable file or a read-only mount. */
static int writable(const char *database)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(database, '/');

	if (access(database, W_OK) != 0) {
		cli_error("database '%s' is read-only: %s", database, strerror(errno));
		return 77;
	}
	if (!slash)
		strcpy(dir, ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == database ? 1 : (int)(slash - database),
			 database);
	if (access(dir, W_OK | X_OK) != 0) {
		cli_error("folder '%s' of database '%s' is read-only: %s; sqlite writes its journal "
			  "there", dir, database, strerror(errno));
		return 77;
	}
	return 0;
}

static int site_open(cli_site *site, const lethe_config *cfg, int write)
{
	static const char *const names[] = { "pseudonym_key", "evidence.repository",
					     "evidence.signing_key" };
	const char *values[] = { cfg->pseudonym_key, cfg->evidence_repository, cfg->signing_key };
	int rc;

	for (size_t i = 0; i < 3; i++)
		if (!values[i]) {
			cli_error("'%s': '%s' is not configured; a run records signed evidence "
				  "(lethe init DIR makes a site)", cfg->path, names[i]);
			return 78;
		}
	if (!realpath(cfg->database, site->database)) {
		cli_error("cannot resolve '%s'", cfg->database);
		return 66;
	}
	if (write && (rc = writable(site->database)))
		return rc;
	if ((rc = lethe_token_key_load(&site->pseudonym_key, cfg->pseudonym_key)) < 0 ||
	    (rc = lethe_sshkey_load(&site->signing_key, cfg->signing_key)) < 0 ||
	    (rc = lethe_evidence_open(&site->ev, cfg->evidence_repository)) < 0)
		return cli_fail(rc);
	/* A writer on a main reset behind what its remote has would reuse the
	 * removed sequence numbers (the register's head is checked with each
	 * record, lethe/evidence_tip.h). */
	if (write && cfg->remote && (rc = lethe_evidence_tip_check_remote(site->ev, cfg->remote)) < 0)
		return cli_fail(rc);
	return 0;
}

int cli_site_open(cli_site *site, const lethe_config *cfg)
{
	return site_open(site, cfg, 1);
}

int cli_site_open_read(cli_site *site, const lethe_config *cfg)
{
	return site_open(site, cfg, 0);
}

void cli_site_close(cli_site *site)
{
	lethe_evidence_free(site->ev);
	lethe_sshkey_free(site->signing_key);
	lethe_token_key_free(site->pseudonym_key);
}

void cli_site_push(const lethe_cli_opts *opts, const lethe_config *cfg, lethe_evidence *ev)
{
	char *why = NULL;

	if (!cfg->remote)
		return;
	if (lethe_evidence_push(ev, cfg->remote, &why) < 0)
		cli_log(opts, CLI_WARNING, "cannot push the evidence to '%s': %s; the next run "
			"pushes again", cfg->remote, why ? why : lethe_error_last());
	free(why);
}

