/*
 * sshwire.c - RFC 4251 wire encoding and OpenSSH base64 armour, bounds-checked
 * (see sshwire.h for the invariants). The parsers built on this are fuzzed, so
 * every length read from the input is compared with what remains before use.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "sshwire.h"

#define WRAP 70

void sshwire_reader_init(sshwire_reader *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->ok = 1;
}

size_t sshwire_remaining(const sshwire_reader *r)
{
	return r->ok ? r->len - r->off : 0;
}

int sshwire_get_bytes(sshwire_reader *r, const unsigned char **out, size_t n)
{
	if (!r->ok || n > r->len - r->off) {
		r->ok = 0;
		return -1;
	}
	*out = r->p + r->off;
	r->off += n;
	return 0;
}

int sshwire_get_u32(sshwire_reader *r, uint32_t *out)
{
	const unsigned char *b;

	if (sshwire_get_bytes(r, &b, 4) != 0)
		return -1;
	*out = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | (uint32_t)b[3];
	return 0;
}

int sshwire_get_string(sshwire_reader *r, const unsigned char **out, size_t *n)
{
	uint32_t len;

	if (sshwire_get_u32(r, &len) != 0 ||
	    sshwire_get_bytes(r, out, (size_t)len) != 0)
		return -1;
	*n = len;
	return 0;
}

int sshwire_get_string_eq(sshwire_reader *r, const char *want)
{
	const unsigned char *s;
	size_t n;

	if (sshwire_get_string(r, &s, &n) != 0)
		return 0;
	return n == strlen(want) && memcmp(s, want, n) == 0;
}

void sshwire_writer_init(sshwire_writer *w, void *p, size_t cap)
{
	w->p = p;
	w->cap = cap;
	w->len = 0;
	w->ok = 1;
}

void sshwire_put_bytes(sshwire_writer *w, const void *p, size_t n)
{
	if (!w->ok || n > w->cap - w->len) {
		w->ok = 0;
		return;
	}
	if (n > 0)
		memcpy(w->p + w->len, p, n);
	w->len += n;
}

void sshwire_put_u32(sshwire_writer *w, uint32_t v)
{
	unsigned char b[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 8), (unsigned char)v };

	sshwire_put_bytes(w, b, 4);
}

void sshwire_put_string(sshwire_writer *w, const void *p, size_t n)
{
	if (n > UINT32_MAX) {
		w->ok = 0;
		return;
	}
	sshwire_put_u32(w, (uint32_t)n);
	sshwire_put_bytes(w, p, n);
}

void sshwire_put_cstring(sshwire_writer *w, const char *s)
{
	sshwire_put_string(w, s, strlen(s));
}

void sshwire_ed25519_blob(unsigned char out[SSHWIRE_ED25519_BLOB_LEN],
			  const unsigned char pk[32])
{
	sshwire_writer w;

	sshwire_writer_init(&w, out, SSHWIRE_ED25519_BLOB_LEN);
	sshwire_put_cstring(&w, SSHWIRE_ED25519);
	sshwire_put_string(&w, pk, 32);
}

int sshwire_ed25519_parse(unsigned char pk[32], const unsigned char *blob,
			  size_t len)
{
	sshwire_reader r;
	const unsigned char *type, *key;
	size_t tn, kn;

	sshwire_reader_init(&r, blob, len);
	if (sshwire_get_string(&r, &type, &tn) != 0)
		return -1;
	if (tn != strlen(SSHWIRE_ED25519) || memcmp(type, SSHWIRE_ED25519, tn) != 0)
		return -2;
	if (sshwire_get_string(&r, &key, &kn) != 0 || kn != 32 ||
	    sshwire_remaining(&r) != 0)
		return -1;
	memcpy(pk, key, 32);
	return 0;
}

static void *alloc(size_t n, int secret)
{
	return secret ? sodium_malloc(n) : malloc(n);
}

static void release(void *p, int secret)
{
	if (secret)
		sodium_free(p);
	else
		free(p);
}

int sshwire_armour(char **out, const unsigned char *bin, size_t len,
		   const char *label, int secret)
{
	size_t b64cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	size_t b64len, lines, total, i, o;
	char *b64 = alloc(b64cap, secret), *text = NULL;
	int rc = LETHE_ESOFTWARE;

	if (!b64)
		goto out;
	sodium_bin2base64(b64, b64cap, bin, len, sodium_base64_VARIANT_ORIGINAL);
	b64len = strlen(b64);
	lines = (b64len + WRAP - 1) / WRAP;
	total = 2 * (strlen(label) + 16) + b64len + lines + 1;
	text = alloc(total, secret);
	if (!text)
		goto out;
	o = (size_t)snprintf(text, total, "-----BEGIN %s-----\n", label);
	for (i = 0; i < b64len; i += WRAP) {
		size_t n = b64len - i < WRAP ? b64len - i : WRAP;

		memcpy(text + o, b64 + i, n);
		o += n;
		text[o++] = '\n';
	}
	snprintf(text + o, total - o, "-----END %s-----\n", label);
	*out = text;
	text = NULL;
	rc = 0;
out:
	if (b64) {
		sodium_memzero(b64, b64cap);
		release(b64, secret);
	}
	if (text)
		release(text, secret);
	if (rc != 0)
		lethe_error_set(rc, "out of memory");
	return rc;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int sshwire_unarmour(unsigned char **out, size_t *out_len, const char *text,
		     size_t len, const char *label, int secret, const char **why)
{
	char begin[80], end[80];
	size_t bl, el, i = 0, j, b64len, cap, bin_len = 0;
	const char *b64, *endp;
	unsigned char *bin;

	bl = (size_t)snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label);
	el = (size_t)snprintf(end, sizeof(end), "-----END %s-----", label);
	while (i < len && is_blank(text[i]))
		i++;
	if (len - i < bl || memcmp(text + i, begin, bl) != 0) {
		*why = "missing begin line";
		return -1;
	}
	i += bl;
	if (i < len && text[i] == '\r')
		i++;
	if (i >= len || text[i] != '\n') {
		*why = "begin line not followed by a newline";
		return -1;
	}
	b64 = text + i + 1;
	endp = memmem(b64, len - i - 1, end, el);
	if (!endp) {
		*why = "missing end line";
		return -1;
	}
	b64len = (size_t)(endp - b64);
	for (j = (size_t)(endp - text) + el; j < len; j++) {
		if (!is_blank(text[j])) {
			*why = "text after the end line";
			return -1;
		}
	}
	cap = b64len / 4 * 3 + 3;
	bin = alloc(cap, secret);
	if (!bin)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	if (sodium_base642bin(bin, cap, b64, b64len, "\r\n", &bin_len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 || bin_len == 0) {
		sodium_memzero(bin, cap);
		release(bin, secret);
		*why = "invalid base64";
		return -1;
	}
	*out = bin;
	*out_len = bin_len;
	return 0;
}

const char *sshwire_printable(char buf[68], const unsigned char *p, size_t n)
{
	size_t i;

	if (n > 64)
		return "(unprintable)";
	for (i = 0; i < n; i++) {
		if (p[i] < 0x20 || p[i] > 0x7e || p[i] == '\'')
			return "(unprintable)";
		buf[i] = (char)p[i];
	}
	buf[n] = '\0';
	return buf;
}
