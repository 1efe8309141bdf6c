/*
 * fuzz_sshkey.c - libFuzzer harness for the OpenSSH private key reader
 * (lethe_sshkey_parse) and the allowed-signers parser
 * (lethe_allowed_signers_parse), both on the input's bytes.
 *
 * Invariants:
 *  - The input is passed with its exact length and no terminating NUL, as the
 *    headers promise the parsers never read past the buffer (ASan checks).
 *  - What parses is used the way lethe uses it (public line, fingerprint,
 *    signing; signer lookups) and freed: leaks are findings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "lethe/sshkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void try_key(const uint8_t *data, size_t size)
{
	lethe_sshkey *k = NULL;
	char *line = NULL, *fp = NULL;
	unsigned char sig[64];

	if (lethe_sshkey_parse(&k, (const char *)data, size, "fuzz") != 0)
		return;
	if (lethe_sshkey_public_line(&line, k) != 0 ||
	    lethe_sshkey_fingerprint(&fp, lethe_sshkey_public(k)) != 0 ||
	    lethe_sshkey_sign(sig, k, data, size) != 0 || !lethe_sshkey_comment(k))
		abort();
	free(line);
	free(fp);
	lethe_sshkey_free(k);
}

static void try_signers(const uint8_t *data, size_t size)
{
	static const unsigned char zero[32];
	lethe_allowed_signers *s = NULL;
	char *principals = NULL;
	unsigned char pk[32];

	if (lethe_allowed_signers_parse(&s, (const char *)data, size, "fuzz") != 0)
		return;
	/* A key taken from the input, so that some lookups can match. */
	memcpy(pk, size >= 32 ? data + size - 32 : zero, 32);
	lethe_allowed_signers_find(s, NULL, pk, "git", 1700000000);
	lethe_allowed_signers_find(s, "lethe@host", pk, "git", 0);
	if (lethe_allowed_signers_principals_for_key(&principals, s, pk, "file", 1700000000) == 0)
		free(principals);
	lethe_allowed_signers_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	try_key(data, size);
	try_signers(data, size);
	lethe_error_clear();
	return 0;
}
