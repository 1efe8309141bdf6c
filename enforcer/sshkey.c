/*
 * sshkey.c - OpenSSH Ed25519 private key files (PROTOCOL.key), unencrypted.
 *
 * Invariants:
 *  - The secret key and every buffer that held it (decoded file, private
 *    section, base64 text) live in sodium_malloc'd memory and are wiped and
 *    freed on every path.
 *  - The parser trusts no length: it goes through sshwire's bounds-checked
 *    reader and accepts exactly one ed25519 key, cipher and kdf "none", equal
 *    check ints, padding 1, 2, 3..., and a secret whose public half (and whose
 *    seed, re-derived) matches the public key.
 *  - Files are created with O_EXCL|O_NOFOLLOW so an existing file or a planted
 *    symbolic link is never overwritten; a half-written pair is removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lethe/error.h"
#include "lethe/sshkey.h"
#include "util.h"
#include "sshagent.h"
#include "sshwire.h"

#define MAGIC "openssh-key-v1"  /* followed by a NUL byte in the file */
#define MAGIC_LEN 15
#define LABEL "OPENSSH PRIVATE KEY"
#define MAX_KEY_FILE (64 * 1024)
#define MAX_COMMENT 1024

struct lethe_sshkey {
	unsigned char *sk;  /* sodium_malloc'd, 64 bytes: seed || pk; NULL when agent */
	unsigned char pk[32];
	char *comment;      /* malloc'd, never NULL */
	char *agent;        /* malloc'd socket of the ssh-agent that holds the secret, or NULL */
};

static int no_memory(void)
{
	return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
}

static int sodium_ready(void)
{
	if (sodium_init() < 0)
		return lethe_error_set(LETHE_ESOFTWARE, "cannot initialise libsodium");
	return 0;
}

void lethe_sshkey_free(lethe_sshkey *k)
{
	if (!k)
		return;
	sodium_free(k->sk); /* wipes */
	free(k->comment);
	free(k->agent);
	free(k);
}

/* A key object with room for the secret; comment copied from c[0..n). */
static lethe_sshkey *key_new(const char *c, size_t n)
{
	lethe_sshkey *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	k->sk = sodium_malloc(64);
	k->comment = malloc(n + 1);
	if (!k->sk || !k->comment) {
		lethe_sshkey_free(k);
		return NULL;
	}
	memcpy(k->comment, c, n);
	k->comment[n] = '\0';
	return k;
}

int lethe_sshkey_generate(lethe_sshkey **out, const char *comment)
{
	lethe_sshkey *k;
	int rc = sodium_ready();

	if (rc != 0)
		return rc;
	if (!comment)
		comment = "";
	if (strlen(comment) > MAX_COMMENT || strchr(comment, '\n'))
		return lethe_error_set(LETHE_EDATA, "key comment is too long or has a newline");
	k = key_new(comment, strlen(comment));
	if (!k)
		return no_memory();
	crypto_sign_keypair(k->pk, k->sk);
	*out = k;
	return 0;
}

const unsigned char *lethe_sshkey_public(const lethe_sshkey *k)
{
	return k->pk;
}

const char *lethe_sshkey_comment(const lethe_sshkey *k)
{
	return k->comment;
}

int lethe_sshkey_sign(unsigned char sig[64], const lethe_sshkey *k,
		      const void *data, size_t len)
{
	int rc = sodium_ready();

	if (rc != 0)
		return rc;
	if (k->agent)
		return lethe_sshagent_sign(sig, k->agent, k->pk, data, len);
	crypto_sign_detached(sig, NULL, data, len, k->sk);
	return 0;
}

/* base64 of the public key blob, malloc'd; unpadded when for a fingerprint. */
static char *b64(const unsigned char *bin, size_t len, int variant)
{
	size_t cap = sodium_base64_ENCODED_LEN(len, variant);
	char *s = malloc(cap);

	if (s)
		sodium_bin2base64(s, cap, bin, len, variant);
	return s;
}

int lethe_sshkey_public_line(char **out, const lethe_sshkey *k)
{
	unsigned char blob[SSHWIRE_ED25519_BLOB_LEN];
	char *enc, *line;

	sshwire_ed25519_blob(blob, k->pk);
	enc = b64(blob, sizeof(blob), sodium_base64_VARIANT_ORIGINAL);
	if (!enc || asprintf(&line, "%s %s", SSHWIRE_ED25519, enc) < 0) {
		free(enc);
		return no_memory();
	}
	free(enc);
	*out = line;
	return 0;
}

int lethe_sshkey_fingerprint(char **out, const unsigned char pk[32])
{
	unsigned char blob[SSHWIRE_ED25519_BLOB_LEN], h[crypto_hash_sha256_BYTES];
	char *enc, *fp;
	int rc = sodium_ready();

	if (rc != 0)
		return rc;
	sshwire_ed25519_blob(blob, pk);
	crypto_hash_sha256(h, blob, sizeof(blob));
	enc = b64(h, sizeof(h), sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	if (!enc || asprintf(&fp, "SHA256:%s", enc) < 0) {
		free(enc);
		return no_memory();
	}
	free(enc);
	*out = fp;
	return 0;
}

/* --- parsing ------------------------------------------------------------- */

static int bad(const char *name, const char *why)
{
	return lethe_error_set(LETHE_EDATA, "malformed private key '%s': %s", name, why);
}

/* The private section: check ints, key, comment, padding. */
static int parse_private(lethe_sshkey **out, const unsigned char *p, size_t n,
			 const unsigned char pk[32], const char *name)
{
	sshwire_reader r;
	uint32_t c1 = 0, c2 = 0;
	const unsigned char *kpk, *ksk, *comment, *pad;
	size_t kpkn = 0, kskn = 0, cn = 0, padn, i;
	unsigned char seed_pk[32], seed_sk[64];
	lethe_sshkey *k = NULL;
	int rc;

	sshwire_reader_init(&r, p, n);
	sshwire_get_u32(&r, &c1);
	sshwire_get_u32(&r, &c2);
	if (!r.ok)
		return bad(name, "truncated private section");
	if (c1 != c2)
		return bad(name, "check values differ (wrong passphrase or corrupt file)");
	if (!sshwire_get_string_eq(&r, SSHWIRE_ED25519))
		return bad(name, "private key is not ssh-ed25519");
	sshwire_get_string(&r, &kpk, &kpkn);
	sshwire_get_string(&r, &ksk, &kskn);
	sshwire_get_string(&r, &comment, &cn);
	if (!r.ok || kpkn != 32 || kskn != 64)
		return bad(name, "truncated or wrong-sized key");
	if (sodium_memcmp(kpk, pk, 32) != 0 || sodium_memcmp(ksk + 32, pk, 32) != 0)
		return bad(name, "private key does not match its public key");
	crypto_sign_seed_keypair(seed_pk, seed_sk, ksk);
	rc = sodium_memcmp(seed_pk, pk, 32);
	sodium_memzero(seed_sk, sizeof(seed_sk));
	if (rc != 0)
		return bad(name, "secret key does not derive its public key");
	if (cn > MAX_COMMENT || memchr(comment, '\0', cn) || memchr(comment, '\n', cn))
		return bad(name, "comment too long or has a NUL or newline");
	padn = sshwire_remaining(&r);
	if (padn >= 8 || sshwire_get_bytes(&r, &pad, padn) != 0)
		return bad(name, "bad padding");
	for (i = 0; i < padn; i++)
		if (pad[i] != (unsigned char)(i + 1))
			return bad(name, "bad padding");
	k = key_new((const char *)comment, cn);
	if (!k)
		return no_memory();
	memcpy(k->sk, ksk, 64);
	memcpy(k->pk, pk, 32);
	*out = k;
	return 0;
}

static int parse_blob(lethe_sshkey **out, const unsigned char *p, size_t n,
		      const char *name, int agent_hint)
{
	sshwire_reader r;
	const unsigned char *magic, *cipher, *pub, *priv;
	size_t ciphern = 0, pubn = 0, privn = 0;
	uint32_t nkeys = 0;
	unsigned char pk[32];
	char buf[68];
	int t;

	sshwire_reader_init(&r, p, n);
	if (sshwire_get_bytes(&r, &magic, MAGIC_LEN) != 0 ||
	    memcmp(magic, MAGIC, MAGIC_LEN) != 0)
		return bad(name, "not an openssh-key-v1 file");
	if (sshwire_get_string(&r, &cipher, &ciphern) != 0)
		return bad(name, "truncated header");
	if ((ciphern != 4 || memcmp(cipher, "none", 4) != 0) && agent_hint)
		return lethe_error_set(LETHE_ENOINPUT,
			"private key '%s' is protected by a passphrase, which lethe cannot ask for: "
			"add it to ssh-agent (ssh-add '%s') and give its public key file instead "
			"('%s.pub'), or give a key file without a passphrase, readable only by you "
			"(ssh-keygen -t ed25519 -N '' -f FILE; its .pub line in the allowed signers)",
			name, name, name);
	if (ciphern != 4 || memcmp(cipher, "none", 4) != 0)
		return lethe_error_set(LETHE_ENOINPUT,
			"private key '%s' is protected by a passphrase, and lethe can neither ask "
			"for it nor use ssh-agent: give a key file without a passphrase, readable "
			"only by you (ssh-keygen -t ed25519 -N '' -f FILE; its .pub line in the "
			"allowed signers)", name);
	if (!sshwire_get_string_eq(&r, "none") || !sshwire_get_string_eq(&r, ""))
		return bad(name, "kdf is not none");
	sshwire_get_u32(&r, &nkeys);
	sshwire_get_string(&r, &pub, &pubn);
	sshwire_get_string(&r, &priv, &privn);
	if (!r.ok)
		return bad(name, "truncated header");
	if (nkeys != 1)
		return bad(name, "not exactly one key");
	if (sshwire_remaining(&r) != 0)
		return bad(name, "data after the private section");
	t = sshwire_ed25519_parse(pk, pub, pubn);
	if (t == -2) {
		sshwire_reader_init(&r, pub, pubn);
		sshwire_get_string(&r, &cipher, &ciphern);
		return lethe_error_set(LETHE_EDATA,
			"private key '%s' is not an ed25519 key (type '%s')", name,
			sshwire_printable(buf, cipher, ciphern));
	}
	if (t != 0)
		return bad(name, "malformed public key");
	if (privn % 8 != 0)
		return bad(name, "private section is not a multiple of the block size");
	return parse_private(out, priv, privn, pk, name);
}

/* agent_hint: the key is a person's (lethe_sshkey_load_any), whose
 * passphrase-protected key can sign through ssh-agent. */
static int parse_text(lethe_sshkey **out, const char *text, size_t len, const char *name,
		      int agent_hint)
{
	unsigned char *bin = NULL;
	size_t bin_len = 0;
	const char *why = "";
	int rc = sodium_ready();

	if (rc != 0)
		return rc;
	rc = sshwire_unarmour(&bin, &bin_len, text, len, LABEL, 1, &why);
	if (rc == -1)
		rc = bad(name, why);
	if (rc != 0)
		goto out;
	rc = parse_blob(out, bin, bin_len, name, agent_hint);
out:
	sodium_free(bin);
	return rc;
}

int lethe_sshkey_parse(lethe_sshkey **out, const char *text, size_t len,
		       const char *name)
{
	return parse_text(out, text, len, name, 0);
}

static int load_file(lethe_sshkey **out, const char *path, int agent_hint)
{
	struct stat st;
	char *text = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, rc = sodium_ready();

	if (rc != 0)
		return rc;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		if (e == ENOENT)
			return lethe_error_set(LETHE_ENOINPUT, "private key '%s' does not exist", path);
		if (e == ELOOP)
			return lethe_error_set(LETHE_ENOPERM,
				"private key '%s' is a symbolic link: lethe refuses to follow it", path);
		return lethe_error_set(e == EACCES ? LETHE_ENOPERM : LETHE_EIO,
				       "cannot open private key '%s': %s", path, strerror(e));
	}
	if (fstat(fd, &st) != 0) {
		rc = lethe_error_set(LETHE_EIO, "cannot stat '%s': %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = lethe_error_set(LETHE_EDATA, "private key '%s' is not a regular file", path);
		goto out;
	}
	if (st.st_mode & 077) {
		rc = lethe_error_set(LETHE_ENOPERM,
			"private key '%s' is readable by others (mode %04o): chmod 600 '%s'",
			path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	if (st.st_size > MAX_KEY_FILE) {
		rc = lethe_error_set(LETHE_EDATA, "private key '%s' is too large", path);
		goto out;
	}
	text = sodium_malloc(MAX_KEY_FILE + 1);
	if (!text) {
		rc = no_memory();
		goto out;
	}
	while ((n = read(fd, text + got, MAX_KEY_FILE + 1 - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = lethe_error_set(LETHE_EIO, "cannot read '%s': %s", path, strerror(errno));
			goto out;
		}
		got += (size_t)n;
		if (got > MAX_KEY_FILE) {
			rc = lethe_error_set(LETHE_EDATA, "private key '%s' is too large", path);
			goto out;
		}
	}
	rc = parse_text(out, text, got, path, agent_hint);
out:
	sodium_free(text);
	close(fd);
	return rc;
}

int lethe_sshkey_load(lethe_sshkey **out, const char *path)
{
	return load_file(out, path, 0);
}

/* A public key file's one line, "ssh-ed25519 BASE64 [comment]": 1 and the
 * key and comment when text is one, 0 when it is something else. */
static int public_line(unsigned char pk[32], const char **comment, size_t *comment_len,
		       const char *text, size_t len)
{
	unsigned char blob[SSHWIRE_ED25519_BLOB_LEN + 1];
	const char *b64_start = text + 12, *end = text + len, *p;
	size_t blob_len = 0;

	if (len < 12 || memcmp(text, "ssh-ed25519 ", 12) != 0)
		return 0;
	for (p = b64_start; p < end && *p != ' ' && *p != '\n'; p++)
		;
	if (sodium_base642bin(blob, sizeof(blob), b64_start, (size_t)(p - b64_start), NULL,
			      &blob_len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    sshwire_ed25519_parse(pk, blob, blob_len) != 0)
		return 0;
	while (p < end && *p == ' ')
		p++;
	*comment = p;
	while (p < end && *p != '\n' && *p != '\r')
		p++;
	*comment_len = (size_t)(p - *comment);
	return 1;
}

int lethe_sshkey_load_any(lethe_sshkey **out, const char *path, const char *agent_socket)
{
	char text[4096];
	const char *comment = "";
	unsigned char pk[32];
	size_t comment_len = 0;
	ssize_t n = -1;
	struct stat st;
	lethe_sshkey *k;
	/* never blocks on a FIFO; anything but a regular file is load_file's to refuse */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), rc;

	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		n = read(fd, text, sizeof(text));
	if (fd >= 0)
		close(fd);
	if (n <= 0 || !public_line(pk, &comment, &comment_len, text, (size_t)n))
		return load_file(out, path, 1); /* its own message for a missing file */
	rc = lethe_sshagent_has(agent_socket, pk);
	if (rc == LETHE_ENOTFOUND)
		return lethe_error_set(LETHE_ENOINPUT, "ssh-agent does not hold the key of '%s': add "
				       "it with ssh-add (its private key file)", path);
	if (rc < 0) {
		char why[512];

		snprintf(why, sizeof(why), "%s", lethe_error_last());
		return lethe_error_set(rc, "'%s' is a public key, whose private key must be in "
				       "ssh-agent: %s", path, why);
	}
	if (!(k = calloc(1, sizeof(*k))) || !(k->comment = strndup(comment, comment_len)) ||
	    !(k->agent = strdup(agent_socket))) {
		lethe_sshkey_free(k);
		return no_memory();
	}
	memcpy(k->pk, pk, 32);
	*out = k;
	return 0;
}

/* --- writing ------------------------------------------------------------- */

/* The binary key file (before armour) in sodium_malloc'd *out. */
static int encode_blob(unsigned char **out, size_t *out_len, const lethe_sshkey *k)
{
	size_t cn = strlen(k->comment), priv = 131 + cn, padn = (8 - priv % 8) % 8;
	size_t total = MAGIC_LEN + 8 + 8 + 4 + 4 + 4 + SSHWIRE_ED25519_BLOB_LEN +
		       4 + priv + padn;
	unsigned char pub[SSHWIRE_ED25519_BLOB_LEN], *bin = sodium_malloc(total);
	uint32_t check = randombytes_random();
	sshwire_writer w;
	size_t i;

	if (!bin)
		return no_memory();
	sshwire_ed25519_blob(pub, k->pk);
	sshwire_writer_init(&w, bin, total);
	sshwire_put_bytes(&w, MAGIC, MAGIC_LEN);
	sshwire_put_cstring(&w, "none");
	sshwire_put_cstring(&w, "none");
	sshwire_put_cstring(&w, "");
	sshwire_put_u32(&w, 1);
	sshwire_put_string(&w, pub, sizeof(pub));
	sshwire_put_u32(&w, (uint32_t)(priv + padn));
	sshwire_put_u32(&w, check);
	sshwire_put_u32(&w, check);
	sshwire_put_cstring(&w, SSHWIRE_ED25519);
	sshwire_put_string(&w, k->pk, 32);
	sshwire_put_string(&w, k->sk, 64);
	sshwire_put_string(&w, k->comment, cn);
	for (i = 0; i < padn; i++)
		sshwire_put_bytes(&w, &(unsigned char){ (unsigned char)(i + 1) }, 1);
	if (!w.ok || w.len != total) {
		sodium_free(bin);
		return lethe_error_set(LETHE_ESOFTWARE, "internal error encoding a private key");
	}
	*out = bin;
	*out_len = total;
	return 0;
}

int lethe_sshkey_write(const lethe_sshkey *k, const char *path)
{
	unsigned char *bin = NULL;
	size_t bin_len = 0;
	char *armour = NULL, *pubpath = NULL, *publine = NULL, *pubtext = NULL;
	int rc, created = 0;

	if (!k->sk)
		return lethe_error_set(LETHE_EUSAGE, "a key held by ssh-agent cannot be written");

	if ((rc = sodium_ready()) != 0 || (rc = encode_blob(&bin, &bin_len, k)) != 0 ||
	    (rc = sshwire_armour(&armour, bin, bin_len, LABEL, 1)) != 0 ||
	    (rc = lethe_sshkey_public_line(&publine, k)) != 0)
		goto out;
	if (asprintf(&pubpath, "%s.pub", path) < 0) {
		pubpath = NULL;
		rc = no_memory();
		goto out;
	}
	if (asprintf(&pubtext, "%s%s%s\n", publine, *k->comment ? " " : "", k->comment) < 0) {
		pubtext = NULL;
		rc = no_memory();
		goto out;
	}
	/* each new (never over an existing file or through a planted link),
	 * with its mode whatever the umask, synced with its folder; a public
	 * key that cannot be made takes the private key with it */
	if ((rc = lethe_file_create_new(path, 0600, armour, strlen(armour), "signing key")) != 0)
		goto out;
	created = 1;
	rc = lethe_file_create_new(pubpath, 0644, pubtext, strlen(pubtext), "public key");
out:
	if (rc != 0 && created)
		unlink(path);
	sodium_free(bin);
	sodium_free(armour);
	free(pubpath);
	free(publine);
	free(pubtext);
	return rc;
}
