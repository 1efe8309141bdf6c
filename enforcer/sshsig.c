/*
 * sshsig.c - SSH signatures (PROTOCOL.sshsig) with Ed25519.
 *
 * Invariants:
 *  - What Ed25519 signs is "SSHSIG" || string namespace || string reserved
 *    (empty) || string hash || string H(message); the blob adds the version
 *    (1), the public key and the signature. Sign and verify build the signed
 *    bytes with the same function, so they cannot drift apart.
 *  - The blob parser is strict and bounds-checked (sshwire): exact magic,
 *    version 1, an ed25519 key, a non-empty namespace, empty reserved, hash
 *    sha512 or sha256, an ed25519 signature of 64 bytes, nothing after it.
 *  - Every verification failure is LETHE_EVERIFY with a one-line reason.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "lethe/sshsig.h"
#include "sshwire.h"

#define MAGIC "SSHSIG"
#define MAGIC_LEN 6
#define LABEL "SSH SIGNATURE"
#define MAX_NS 256

static int malformed(const char *why)
{
	return lethe_error_set(LETHE_EVERIFY, "malformed ssh signature: %s", why);
}

/* H(msg) under hash ("sha512" or "sha256"); returns its length. */
static size_t digest(unsigned char h[64], const char *hash, const void *msg, size_t len)
{
	if (strcmp(hash, "sha256") == 0) {
		crypto_hash_sha256(h, msg, len);
		return crypto_hash_sha256_BYTES;
	}
	crypto_hash_sha512(h, msg, len);
	return crypto_hash_sha512_BYTES;
}

/* The bytes Ed25519 signs; *out malloc'd. */
static int signed_data(unsigned char **out, size_t *out_len, const void *ns,
		       size_t ns_len, const char *hash, const void *msg, size_t len)
{
	unsigned char h[64];
	size_t hn = digest(h, hash, msg, len);
	size_t total = MAGIC_LEN + 4 + ns_len + 4 + 4 + strlen(hash) + 4 + hn;
	unsigned char *buf = malloc(total);
	sshwire_writer w;

	if (!buf)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	sshwire_writer_init(&w, buf, total);
	sshwire_put_bytes(&w, MAGIC, MAGIC_LEN);
	sshwire_put_string(&w, ns, ns_len);
	sshwire_put_string(&w, "", 0);
	sshwire_put_cstring(&w, hash);
	sshwire_put_string(&w, h, hn);
	*out = buf;
	*out_len = w.len;
	return 0;
}

static int ns_ok(const char *ns)
{
	return ns && *ns && strlen(ns) <= MAX_NS;
}

int lethe_sshsig_sign(char **armour, const lethe_sshkey *k, const char *ns,
		      const void *msg, size_t len)
{
	unsigned char pub[SSHWIRE_ED25519_BLOB_LEN], sig[64], *data = NULL, *blob = NULL;
	unsigned char sigblob[4 + 11 + 4 + 64];
	size_t data_len = 0, total;
	sshwire_writer w;
	int rc;

	if (!ns_ok(ns))
		return lethe_error_set(LETHE_EUSAGE, "ssh signature namespace is empty or too long");
	rc = signed_data(&data, &data_len, ns, strlen(ns), "sha512", msg, len);
	if (rc != 0)
		goto out;
	if ((rc = lethe_sshkey_sign(sig, k, data, data_len)) != 0)
		goto out;
	sshwire_ed25519_blob(pub, lethe_sshkey_public(k));
	sshwire_writer_init(&w, sigblob, sizeof(sigblob));
	sshwire_put_cstring(&w, SSHWIRE_ED25519);
	sshwire_put_string(&w, sig, 64);
	total = MAGIC_LEN + 4 + 4 + sizeof(pub) + 4 + strlen(ns) + 4 + 4 + 6 +
		4 + sizeof(sigblob);
	blob = malloc(total);
	if (!blob) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	sshwire_writer_init(&w, blob, total);
	sshwire_put_bytes(&w, MAGIC, MAGIC_LEN);
	sshwire_put_u32(&w, 1);
	sshwire_put_string(&w, pub, sizeof(pub));
	sshwire_put_cstring(&w, ns);
	sshwire_put_string(&w, "", 0);
	sshwire_put_cstring(&w, "sha512");
	sshwire_put_string(&w, sigblob, sizeof(sigblob));
	if (!w.ok || w.len != total) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "internal error encoding an ssh signature");
		goto out;
	}
	rc = sshwire_armour(armour, blob, total, LABEL, 0);
out:
	free(data);
	free(blob);
	return rc;
}

int lethe_sshsig_parse(lethe_sshsig_blob *out, const unsigned char *blob, size_t len)
{
	sshwire_reader r, s;
	const unsigned char *magic, *pub, *ns, *hash, *sigblob, *sig;
	size_t pubn = 0, nsn = 0, hashn = 0, sigblobn = 0, sign = 0;
	uint32_t version = 0;
	lethe_sshsig_blob b;
	int t;

	sshwire_reader_init(&r, blob, len);
	if (sshwire_get_bytes(&r, &magic, MAGIC_LEN) != 0 ||
	    memcmp(magic, MAGIC, MAGIC_LEN) != 0)
		return malformed("bad magic");
	if (sshwire_get_u32(&r, &version) != 0 || version != 1)
		return malformed("version is not 1");
	if (sshwire_get_string(&r, &pub, &pubn) != 0)
		return malformed("truncated public key");
	t = sshwire_ed25519_parse(b.public_key, pub, pubn);
	if (t == -2)
		return malformed("public key is not ssh-ed25519");
	if (t != 0)
		return malformed("bad public key");
	if (sshwire_get_string(&r, &ns, &nsn) != 0 || nsn == 0 || nsn > MAX_NS)
		return malformed("bad namespace");
	if (!sshwire_get_string_eq(&r, ""))
		return malformed("reserved field is not empty");
	if (sshwire_get_string(&r, &hash, &hashn) != 0)
		return malformed("truncated hash algorithm");
	if (hashn == 6 && memcmp(hash, "sha512", 6) == 0)
		b.hash = "sha512";
	else if (hashn == 6 && memcmp(hash, "sha256", 6) == 0)
		b.hash = "sha256";
	else
		return malformed("hash algorithm is not sha512 or sha256");
	if (sshwire_get_string(&r, &sigblob, &sigblobn) != 0)
		return malformed("truncated signature");
	if (sshwire_remaining(&r) != 0)
		return malformed("data after the signature");
	sshwire_reader_init(&s, sigblob, sigblobn);
	if (!sshwire_get_string_eq(&s, SSHWIRE_ED25519))
		return malformed("signature is not ssh-ed25519");
	if (sshwire_get_string(&s, &sig, &sign) != 0 || sign != 64 ||
	    sshwire_remaining(&s) != 0)
		return malformed("ed25519 signature is not 64 bytes");
	memcpy(b.signature, sig, 64);
	b.ns = ns;
	b.ns_len = nsn;
	*out = b;
	return 0;
}

int lethe_sshsig_unarmour(unsigned char **blob, size_t *blob_len,
			  const char *armour, size_t armour_len)
{
	const char *why = "";
	int rc = sshwire_unarmour(blob, blob_len, armour, armour_len, LABEL, 0, &why);

	return rc == -1 ? malformed(why) : rc;
}

int lethe_sshsig_verify(unsigned char signer_pk[32], const char *armour,
			size_t armour_len, const char *ns, const void *msg,
			size_t len)
{
	unsigned char *blob = NULL, *data = NULL;
	size_t blob_len = 0, data_len = 0;
	lethe_sshsig_blob b;
	char buf[68];
	int rc;

	if (sodium_init() < 0)
		return lethe_error_set(LETHE_ESOFTWARE, "cannot initialise libsodium");
	if (!ns_ok(ns))
		return lethe_error_set(LETHE_EUSAGE, "ssh signature namespace is empty or too long");
	if ((rc = lethe_sshsig_unarmour(&blob, &blob_len, armour, armour_len)) != 0 ||
	    (rc = lethe_sshsig_parse(&b, blob, blob_len)) != 0)
		goto out;
	if (b.ns_len != strlen(ns) || memcmp(b.ns, ns, b.ns_len) != 0) {
		rc = lethe_error_set(LETHE_EVERIFY, "namespace '%s' is not '%s'",
				     sshwire_printable(buf, b.ns, b.ns_len), ns);
		goto out;
	}
	if ((rc = signed_data(&data, &data_len, ns, strlen(ns), b.hash, msg, len)) != 0)
		goto out;
	if (crypto_sign_verify_detached(b.signature, data, data_len, b.public_key) != 0) {
		rc = lethe_error_set(LETHE_EVERIFY, "bad signature");
		goto out;
	}
	memcpy(signer_pk, b.public_key, 32);
out:
	free(blob);
	free(data);
	return rc;
}
