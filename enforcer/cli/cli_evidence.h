/*
 * cli_evidence.h - what prove, digest and report share: the register opened
 * read-only with the pseudonym key and the evidence (cmd_digest.c).
 */
#ifndef LETHE_CLI_EVIDENCE_H
#define LETHE_CLI_EVIDENCE_H

#include "cli.h"
#include "lethe/evidence.h"
#include "lethe/token.h"

typedef struct {
	cli_register r;
	lethe_token_key *key;      /* NULL when not asked for */
	lethe_evidence *ev;
} cli_evidence;

/* The register (read-only), the evidence repository and, with want_key,
 * the pseudonym key. 0 or the exit status (e released). */
int cli_evidence_open(cli_evidence *e, const lethe_cli_opts *opts, int want_key);
void cli_evidence_close(cli_evidence *e);

#endif
