/*
 * token.c - keyed pseudonym tokens and evidence digests (lethe/token.h).
 *
 * Invariants:
 *  - The only file that touches libsodium for tokens. Key bytes live only in
 *    sodium_malloc'd memory (guard pages, locked when the memlock limit allows:
 *    sodium_malloc calls sodium_mlock itself and ignores its failure), read-only
 *    once loaded, wiped by sodium_free. The file's content is read into sodium
 *    memory too, so no copy of the key is left on the stack or the heap.
 *  - Formats are frozen: changing a personalisation string, an output length or
 *    the hex spelling changes every token and digest ever written, which would
 *    break joins between old and new pseudonyms and the evidence. The unit test
 *    pins known answers computed independently (Python's hashlib.blake2b).
 *  - A key file is opened without following symbolic links and without
 *    blocking (O_NONBLOCK, so a FIFO cannot hang us before fstat refuses it);
 *    it is refused, as ssh refuses a private key, when group or others have any
 *    permission on it.
 *  - Key creation never overwrites (O_EXCL) and leaves nothing behind on
 *    failure; the file and its folder are fsynced before success is reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lethe/error.h"
#include "lethe/token.h"
#include "digest_bin.h"
#include "util.h"

#define TOKEN_HASH_BYTES 16
#define DIGEST_HASH_BYTES LETHE_DIGEST_BIN
#define KEY_HEX_LEN (2 * LETHE_TOKEN_KEY_BYTES)
/* Longest valid key file (hex + "\n") plus one byte to detect longer ones. */
#define KEY_FILE_MAX (KEY_HEX_LEN + 2)

struct lethe_token_key {
	unsigned char bytes[LETHE_TOKEN_KEY_BYTES];
};

/* crypto_generichash_blake2b_PERSONALBYTES (16) bytes each, zero padded, as
 * Python's hashlib.blake2b(person=...) pads them. */
static const unsigned char TOKEN_PERSONAL[crypto_generichash_blake2b_PERSONALBYTES] =
	"lethe-token-v1";
static const unsigned char TOKEN_ROW_PERSONAL[crypto_generichash_blake2b_PERSONALBYTES] =
	"lethe-tokrow-v1";
static const unsigned char DIGEST_PERSONAL[crypto_generichash_blake2b_PERSONALBYTES] =
	"lethe-digest-v1";

static int sodium_ready(void)
{
	if (sodium_init() < 0)
		return lethe_error_set(LETHE_ESOFTWARE, "cannot initialise libsodium");
	return 0;
}

/* Map a failed open(2) of the key file to a code and message. */
static int open_error(const char *path, int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return lethe_error_set(LETHE_ENOINPUT,
			"pseudonym key '%s' does not exist: %s", path, strerror(e));
	case ELOOP:
		return lethe_error_set(LETHE_EDATA,
			"pseudonym key '%s' is a symbolic link: refusing to follow it, "
			"give the real file's path", path);
	case EACCES:
	case EPERM:
		return lethe_error_set(LETHE_ENOPERM,
			"cannot open pseudonym key '%s': %s", path, strerror(e));
	default:
		return lethe_error_set(LETHE_EIO,
			"cannot open pseudonym key '%s': %s", path, strerror(e));
	}
}

/* Read at most cap bytes of fd into buf; *got is the count read. */
static int read_all(int fd, unsigned char *buf, size_t cap, size_t *got,
		    const char *path)
{
	size_t n = 0;

	while (n < cap) {
		ssize_t r = read(fd, buf + n, cap - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return lethe_error_set(LETHE_EIO,
				"cannot read pseudonym key '%s': %s", path, strerror(errno));
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*got = n;
	return 0;
}

/* Decode the file's content into key: 32 raw bytes, or 64 hex digits with at
 * most one trailing newline. */
static int decode_key(unsigned char key[LETHE_TOKEN_KEY_BYTES],
		      const unsigned char *buf, size_t n, const char *path)
{
	size_t bin_len = 0;
	const char *end = NULL;

	if (n == LETHE_TOKEN_KEY_BYTES) {
		memcpy(key, buf, LETHE_TOKEN_KEY_BYTES);
		return 0;
	}
	if (n == KEY_HEX_LEN + 1 && buf[KEY_HEX_LEN] == '\n')
		n = KEY_HEX_LEN;
	if (n == KEY_HEX_LEN &&
	    sodium_hex2bin(key, LETHE_TOKEN_KEY_BYTES, (const char *)buf, n,
			   NULL, &bin_len, &end) == 0 &&
	    bin_len == LETHE_TOKEN_KEY_BYTES && end == (const char *)buf + n)
		return 0;
	return lethe_error_set(LETHE_EDATA,
		"pseudonym key '%s' must hold 32 bytes (raw, or as 64 hex digits)",
		path);
}

int lethe_token_key_load(lethe_token_key **out, const char *path)
{
	lethe_token_key *k = NULL;
	unsigned char *buf = NULL;
	size_t n = 0;
	struct stat st;
	int fd = -1;
	int rc;

	rc = sodium_ready();
	if (rc < 0)
		goto out;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		rc = open_error(path, errno);
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		rc = lethe_error_set(LETHE_EIO, "cannot stat pseudonym key '%s': %s",
				     path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = lethe_error_set(LETHE_EDATA,
			"pseudonym key '%s' is not a regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		rc = lethe_error_set(LETHE_ENOPERM,
			"pseudonym key '%s' is readable by others (mode %04o): chmod 600 '%s'",
			path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	buf = sodium_malloc(KEY_FILE_MAX);
	k = sodium_malloc(sizeof(*k));
	if (buf == NULL || k == NULL) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	rc = read_all(fd, buf, KEY_FILE_MAX, &n, path);
	if (rc < 0)
		goto out;
	rc = decode_key(k->bytes, buf, n, path);
	if (rc < 0)
		goto out;
	sodium_mprotect_readonly(k);
	*out = k;
	k = NULL;
out:
	if (fd >= 0)
		close(fd);
	sodium_free(buf);   /* wipes */
	sodium_free(k);     /* only on failure; wipes */
	return rc;
}

void lethe_token_key_free(lethe_token_key *k)
{
	sodium_free(k);     /* accepts NULL; makes it writable, wipes, unlocks */
}

int lethe_token_key_create(const char *path)
{
	unsigned char *key = NULL;
	char *hex = NULL;
	int rc;

	rc = sodium_ready();
	if (rc < 0)
		goto out;
	key = sodium_malloc(LETHE_TOKEN_KEY_BYTES);
	hex = sodium_malloc(KEY_HEX_LEN + 2);
	if (key == NULL || hex == NULL) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	randombytes_buf(key, LETHE_TOKEN_KEY_BYTES);
	sodium_bin2hex(hex, KEY_HEX_LEN + 1, key, LETHE_TOKEN_KEY_BYTES);
	hex[KEY_HEX_LEN] = '\n';
	/* never overwrites; the mode 0600 whatever the umask; durable or absent */
	rc = lethe_file_create_new(path, 0600, hex, KEY_HEX_LEN + 1, "pseudonym key");
out:
	sodium_free(hex);
	sodium_free(key);
	return rc;
}

void lethe_token(char out[LETHE_TOKEN_SIZE], const lethe_token_key *k,
		 const void *value, size_t len)
{
	unsigned char h[TOKEN_HASH_BYTES];

	crypto_generichash_blake2b_salt_personal(h, sizeof(h), value, len,
		k->bytes, sizeof(k->bytes), NULL, TOKEN_PERSONAL);
	memcpy(out, LETHE_TOKEN_PREFIX, 4);
	sodium_bin2hex(out + 4, LETHE_TOKEN_SIZE - 4, h, sizeof(h));
}

void lethe_token_row(char out[LETHE_TOKEN_SIZE], const lethe_token_key *k,
		     const void *value, size_t len, char row_type, const void *row,
		     size_t row_len)
{
	unsigned char type = (unsigned char)row_type;
	crypto_generichash_blake2b_state st;
	unsigned char h[TOKEN_HASH_BYTES], n[8];
	uint64_t v = len;

	for (size_t i = 0; i < sizeof(n); i++, v >>= 8)
		n[i] = (unsigned char)(v & 0xff);
	crypto_generichash_blake2b_init_salt_personal(&st, k->bytes, sizeof(k->bytes), sizeof(h),
						      NULL, TOKEN_ROW_PERSONAL);
	crypto_generichash_blake2b_update(&st, n, sizeof(n));
	crypto_generichash_blake2b_update(&st, value, len);
	crypto_generichash_blake2b_update(&st, &type, 1);
	crypto_generichash_blake2b_update(&st, row, row_len);
	crypto_generichash_blake2b_final(&st, h, sizeof(h));
	sodium_memzero(&st, sizeof(st));
	memcpy(out, LETHE_TOKEN_PREFIX, 4);
	sodium_bin2hex(out + 4, LETHE_TOKEN_SIZE - 4, h, sizeof(h));
}

static int is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int lethe_token_looks_like(const char *s, size_t len)
{
	size_t i;

	if (s == NULL || len != LETHE_TOKEN_LEN || memcmp(s, LETHE_TOKEN_PREFIX, 4) != 0)
		return 0;
	for (i = 4; i < len; i++)
		if (!is_lower_hex(s[i]))
			return 0;
	return 1;
}

_Static_assert(sizeof(crypto_generichash_blake2b_state) <= sizeof(((lethe_digest_ctx *)0)->state),
	       "lethe_digest_ctx holds a BLAKE2b state");
_Static_assert(_Alignof(crypto_generichash_blake2b_state) <= 64, "lethe_digest_ctx is aligned for it");

void lethe_digest_start(lethe_digest_ctx *c, const lethe_token_key *k, const char *domain)
{
	crypto_generichash_blake2b_state *st = (crypto_generichash_blake2b_state *)c->state;
	unsigned char prefix[8];
	uint64_t dlen = strlen(domain);
	int i;

	/* The domain's length as 8 little-endian bytes, then the domain, then the
	 * data: the split between domain and data is unambiguous. */
	for (i = 0; i < 8; i++)
		prefix[i] = (unsigned char)(dlen >> (8 * i));
	crypto_generichash_blake2b_init_salt_personal(st, k->bytes, sizeof(k->bytes), DIGEST_HASH_BYTES,
						      NULL, DIGEST_PERSONAL);
	crypto_generichash_blake2b_update(st, prefix, sizeof(prefix));
	crypto_generichash_blake2b_update(st, (const unsigned char *)domain, dlen);
}

void lethe_digest_value_bin(unsigned char out[LETHE_DIGEST_BIN], const lethe_digest_ctx *c,
			    const void *data, size_t len)
{
	crypto_generichash_blake2b_state st;

	memcpy(&st, c->state, sizeof(st));
	crypto_generichash_blake2b_update(&st, data, len);
	crypto_generichash_blake2b_final(&st, out, LETHE_DIGEST_BIN);
	sodium_memzero(&st, sizeof(st));
}

void lethe_digest_value(char out[LETHE_DIGEST_SIZE], const lethe_digest_ctx *c, const void *data,
			size_t len)
{
	unsigned char h[LETHE_DIGEST_BIN];

	lethe_digest_value_bin(h, c, data, len);
	/* the digest is public (it goes into the evidence): no need for
	 * sodium_bin2hex's constant time */
	lethe_digest_to_hex(out, h);
}

void lethe_digest_end(lethe_digest_ctx *c)
{
	sodium_memzero(c->state, sizeof(c->state));
}

void lethe_digest(char out[LETHE_DIGEST_SIZE], const lethe_token_key *k,
		  const char *domain, const void *data, size_t len)
{
	lethe_digest_ctx c;

	lethe_digest_start(&c, k, domain);
	lethe_digest_value(out, &c, data, len);
	lethe_digest_end(&c);
}
