/*
 * lethe/sshsig.h - SSH signatures (OpenSSH PROTOCOL.sshsig), the format git
 * uses for gpg.format=ssh: sign with a lethe_sshkey, verify an armoured
 * signature over a message in a namespace ("git" for commits).
 *
 * Invariants:
 *  - Only Ed25519 keys. Signing hashes with sha512; verifying accepts sha512
 *    and sha256, as ssh-keygen -Y verify does.
 *  - Verification checks the signature only: it returns the signer's public
 *    key and the caller decides whether that key is allowed (allowed-signers,
 *    lethe/sshkey.h).
 *  - Parsers take (text, len), never rely on a terminating NUL, and never read
 *    past the buffer: they are fuzzed.
 */
#ifndef LETHE_SSHSIG_H
#define LETHE_SSHSIG_H

#include <stddef.h>
#include "lethe/sshkey.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * "-----BEGIN SSH SIGNATURE-----\n" + base64 wrapped at 70 +
 * "\n-----END SSH SIGNATURE-----\n", as ssh-keygen -Y sign writes it.
 * ns must be non-empty. *armour malloc'd, caller frees.
 */
int lethe_sshsig_sign(char **armour, const lethe_sshkey *k, const char *ns,
		      const void *msg, size_t len);

/*
 * 0 and the signer's key in signer_pk when armour is a valid signature of msg
 * in namespace ns; LETHE_EVERIFY otherwise ("bad signature", "namespace 'file'
 * is not 'git'", "malformed ssh signature: ..."); LETHE_ESOFTWARE on no memory.
 */
int lethe_sshsig_verify(unsigned char signer_pk[32], const char *armour,
			size_t armour_len, const char *ns, const void *msg,
			size_t len);

/* A parsed signature blob; pointers point into the blob given to parse. */
typedef struct {
	unsigned char public_key[32];
	const unsigned char *ns;   /* namespace, not NUL-terminated */
	size_t ns_len;
	const char *hash;          /* "sha512" or "sha256" (static strings) */
	unsigned char signature[64];
} lethe_sshsig_blob;

/* Parse the binary blob (the armour's base64 decoded): LETHE_EVERIFY
 * "malformed ssh signature: ..." unless strictly well-formed. */
int lethe_sshsig_parse(lethe_sshsig_blob *out, const unsigned char *blob,
		       size_t len);

/* Decode the armour into the blob; *blob malloc'd, caller frees. */
int lethe_sshsig_unarmour(unsigned char **blob, size_t *blob_len,
			  const char *armour, size_t armour_len);

#ifdef __cplusplus
}
#endif
#endif
