/*
 * lethe/sshkey.h - OpenSSH Ed25519 keys (the signing key of the evidence
 * repository) and allowed-signers files (who may sign, as git's
 * gpg.ssh.allowedSignersFile and ssh-keygen(1) "ALLOWED SIGNERS").
 *
 * Invariants:
 *  - A lethe_sshkey holds its 64-byte secret (libsodium's seed || pk) in
 *    sodium_malloc'd memory; lethe_sshkey_free wipes it. The secret never
 *    leaves the object: signing goes through lethe_sshkey_sign.
 *  - A key loaded from a public key file (lethe_sshkey_load_any) has no
 *    secret here: ssh-agent holds it and makes its signatures.
 *  - Private key files are the OpenSSH format ssh-keygen writes, unencrypted
 *    (cipher and kdf "none"); lethe refuses encrypted keys, keys of other types
 *    and keys whose file mode gives any permission to group or others.
 *  - Parsers take (text, len), never rely on a terminating NUL, and never read
 *    past the buffer: they are fuzzed.
 */
#ifndef LETHE_SSHKEY_H
#define LETHE_SSHKEY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lethe_sshkey lethe_sshkey;

/* A new random key. *out is owned by the caller: lethe_sshkey_free. */
int lethe_sshkey_generate(lethe_sshkey **out, const char *comment);

/* Wipe and free (NULL is fine). */
void lethe_sshkey_free(lethe_sshkey *k);

/*
 * Write private_path (mode 0600, OpenSSH format, unencrypted) and
 * private_path + ".pub" ("ssh-ed25519 BASE64 comment\n", mode 0644), both
 * created with O_EXCL|O_NOFOLLOW and fsynced with their folder. An existing
 * file gives LETHE_ECANTCREAT and nothing is left behind.
 */
int lethe_sshkey_write(const lethe_sshkey *k, const char *private_path);

/*
 * Load an unencrypted OpenSSH ed25519 private key file.
 * LETHE_ENOINPUT missing, or encrypted (protected by a passphrase: unusable
 * here, as a missing file is; the message says what to do); LETHE_ENOPERM
 * group/other mode bits or a symbolic link; LETHE_EDATA malformed or not
 * ed25519; LETHE_EIO read error.
 */
int lethe_sshkey_load(lethe_sshkey **out, const char *private_path);

/*
 * A person's key (an approver's): an unencrypted private key file as
 * lethe_sshkey_load, or a public key file ("ssh-ed25519 BASE64 comment",
 * as ssh-keygen writes KEY.pub) whose private key ssh-agent at agent_socket
 * (SSH_AUTH_SOCK) holds, so that a key protected by a passphrase can sign:
 * lethe_sshkey_sign then asks the agent. LETHE_ENOINPUT also when no agent
 * is reachable or it does not hold the key; a passphrase-protected private
 * key's message suggests the agent.
 */
int lethe_sshkey_load_any(lethe_sshkey **out, const char *path, const char *agent_socket);

/* Parse the text of a private key file; name is used in messages only. */
int lethe_sshkey_parse(lethe_sshkey **out, const char *text, size_t len,
		       const char *name);

/* The 32-byte public key, owned by k. */
const unsigned char *lethe_sshkey_public(const lethe_sshkey *k);

/* The comment ("" when none), owned by k. */
const char *lethe_sshkey_comment(const lethe_sshkey *k);

/* Ed25519 signature of data (detached, 64 bytes). */
int lethe_sshkey_sign(unsigned char sig[64], const lethe_sshkey *k,
		      const void *data, size_t len);

/* "ssh-ed25519 BASE64" (no comment, no newline); *out malloc'd, caller frees. */
int lethe_sshkey_public_line(char **out, const lethe_sshkey *k);

/* "SHA256:..." as ssh-keygen -l prints it; *out malloc'd, caller frees. */
int lethe_sshkey_fingerprint(char **out, const unsigned char pk[32]);

/* --- allowed signers ------------------------------------------------------ */

typedef struct lethe_allowed_signers lethe_allowed_signers;

/*
 * Parse an allowed-signers file: lines
 *   principals [options] ssh-ed25519 BASE64 [comment]
 * '#' comments and blank lines skipped; principals is a comma-separated list
 * of names or fnmatch patterns ('*', '?'; a leading '!' negates); options
 * namespaces="a,b" (patterns too), valid-after=, valid-before=
 * (YYYYMMDD[HHMM[SS]][Z]; without Z local time, as ssh-keygen), cert-authority.
 * Lines with other key types and cert-authority lines are skipped (lethe has
 * no certificates). A malformed line is LETHE_EDATA "path:line: ...".
 * *out owned by the caller: lethe_allowed_signers_free.
 */
int lethe_allowed_signers_parse(lethe_allowed_signers **out, const char *text,
				size_t len, const char *name);
/* LETHE_ENOINPUT when missing, LETHE_EIO on read error. */
int lethe_allowed_signers_load(lethe_allowed_signers **out, const char *path);
void lethe_allowed_signers_free(lethe_allowed_signers *s);

/*
 * 0 when some line lists key pk for principal (NULL: any principal) with
 * namespace ns allowed and when_unix inside its validity; otherwise
 * LETHE_EVERIFY with the reason of the closest line ("key SHA256:... is not
 * an allowed signer", "... is not allowed for principal 'x'", "... is not
 * allowed to sign namespace 'git'", "signature time is before valid-after",
 * "signature time is after valid-before").
 */
int lethe_allowed_signers_find(const lethe_allowed_signers *s,
			       const char *principal,
			       const unsigned char pk[32], const char *ns,
			       int64_t when_unix);

/* lethe_allowed_signers_find, but a line without a namespaces option does
 * not allow ns: only lines that name it (e.g. approver lines,
 * lethe/approval.h). */
int lethe_allowed_signers_find_explicit(const lethe_allowed_signers *s,
					const char *principal,
					const unsigned char pk[32], const char *ns,
					int64_t when_unix);

/* The first principal of the first line that allows pk for ns explicitly
 * (as lethe_allowed_signers_find_explicit) at when_unix; *out malloc'd,
 * caller frees. LETHE_ENOTFOUND when none. */
int lethe_allowed_signers_first_explicit(char **out, const lethe_allowed_signers *s,
					 const unsigned char pk[32], const char *ns,
					 int64_t when_unix);

/*
 * The principals fields of every line that allows pk for namespace ns at
 * when_unix, joined with ',' (as ssh-keygen -Y find-principals); *out
 * malloc'd, caller frees. LETHE_ENOTFOUND when none.
 */
int lethe_allowed_signers_principals_for_key(char **out,
					     const lethe_allowed_signers *s,
					     const unsigned char pk[32],
					     const char *ns, int64_t when_unix);

#ifdef __cplusplus
}
#endif
#endif
