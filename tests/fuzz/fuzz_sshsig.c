/*
 * fuzz_sshsig.c - libFuzzer harness for the SSH signature reader: the input
 * as armour (lethe_sshsig_verify over a fixed message in namespace "git"),
 * and as a binary blob (lethe_sshsig_parse); the armour is also unarmoured
 * and its blob parsed.
 *
 * Invariants:
 *  - Exact-length buffers, no terminating NUL (ASan catches over-reads).
 *  - A blob that parses has a namespace inside the blob and a known hash.
 *  - The seed corpus holds a real signature of MESSAGE made by
 *    ssh-keygen -Y sign, so the fuzzer starts from the path that verifies.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "lethe/sshsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The message the seed signatures sign (tests/fuzz/README.md). */
#define MESSAGE "lethe fuzz message\n"

static void try_blob(const unsigned char *blob, size_t len)
{
	lethe_sshsig_blob b;

	if (lethe_sshsig_parse(&b, blob, len) != 0)
		return;
	if (b.ns < blob || b.ns_len > len || b.ns + b.ns_len > blob + len || !b.hash ||
	    (strcmp(b.hash, "sha512") != 0 && strcmp(b.hash, "sha256") != 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char pk[32], *blob = NULL;
	size_t blob_len;

	lethe_sshsig_verify(pk, (const char *)data, size, "git", MESSAGE, strlen(MESSAGE));
	try_blob(data, size);
	if (lethe_sshsig_unarmour(&blob, &blob_len, (const char *)data, size) == 0) {
		try_blob(blob, blob_len);
		free(blob);
	}
	lethe_error_clear();
	return 0;
}
