/*
 * verify_cache.c - the files a record lists, read from the commit, and the
 * SHA-256 of every blob the verifier has hashed, by blob id. A blob id is git's hash of the blob's bytes, so a listed file
 * whose id was hashed before (the policy snapshot, listed again by every
 * intent) has the same SHA-256 and is not read again: ten years of daily
 * runs read each policy file once instead of 3,650 times.
 *
 * Invariants:
 *  - An open-addressing table keyed by the 40-hex blob id, linear probing,
 *    at most half full (it doubles before that); entries are never removed.
 *  - The stored SHA-256 was computed by the verifier from the blob's bytes
 *    (verify_record.c), never taken from a record.
 *  - The worker that prepared the commit (verify_pool.c) has usually found
 *    and hashed the listed files already, each thread with its own table;
 *    a file it did not find is looked up here again, so a missing file is
 *    reported where the checks meet it, in the same words.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "verify_impl.h"

/* The id's first 16 hex digits: already uniformly spread (a SHA-1). */
static size_t slot_of(const char *oid, size_t cap)
{
	uint64_t h = 0;

	for (int i = 0; i < 16 && oid[i]; i++)
		h = h << 4 | (uint64_t)(oid[i] <= '9' ? oid[i] - '0' : (oid[i] | 0x20) - 'a' + 10);
	return (size_t)h & (cap - 1);
}

const char *verify_hash_get(const verify_hashes *t, const char *blob_oid)
{
	if (!t->cap)
		return NULL;
	for (size_t i = slot_of(blob_oid, t->cap);; i = (i + 1) & (t->cap - 1)) {
		if (!t->v[i].oid[0])
			return NULL;
		if (!strcmp(t->v[i].oid, blob_oid))
			return t->v[i].sha256;
	}
}

static void place(verify_hash_entry *v, size_t cap, const verify_hash_entry *e)
{
	size_t i = slot_of(e->oid, cap);

	while (v[i].oid[0])
		i = (i + 1) & (cap - 1);
	v[i] = *e;
}

int verify_hash_put(verify_hashes *t, const char *blob_oid, const char *sha256)
{
	verify_hash_entry e;

	if (strlen(blob_oid) != 40 || strlen(sha256) != 64)
		return lethe_error_set(LETHE_ESOFTWARE, "verify: bad blob id or hash to remember");
	if (verify_hash_get(t, blob_oid))
		return 0;
	if (2 * (t->n + 1) > t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		verify_hash_entry *v = calloc(cap, sizeof(*v));

		if (!v)
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		for (size_t i = 0; i < t->cap; i++)
			if (t->v[i].oid[0])
				place(v, cap, &t->v[i]);
		free(t->v);
		t->v = v;
		t->cap = cap;
	}
	memcpy(e.oid, blob_oid, 41);
	memcpy(e.sha256, sha256, 65);
	place(t->v, t->cap, &e);
	t->n++;
	return 0;
}

void verify_hash_free(verify_hashes *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* What the worker found for path (verify_pool.c), or NULL. */
static const verify_listed *prepared(const verify_state *s, const char *path)
{
	for (size_t i = 0; s->p && i < s->p->nlisted; i++)
		if (!strcmp(s->p->listed[i].path, path))
			return &s->p->listed[i];
	return NULL;
}

/* The file at path in the commit: its blob id, as the worker found it, from
 * the commit's diff when the commit changed it, else from its tree. */
static int file_id(verify_state *s, const char *rec, char blob[41], const char *path)
{
	const verify_listed *l = prepared(s, path);
	int rc;

	if (l) {
		memcpy(blob, l->blob, 41);
		return 0;
	}
	for (size_t i = 0; i < s->nchanged; i++)
		if (s->changed[i].status != 'D' && !strcmp(s->changed[i].path, path)) {
			memcpy(blob, s->changed[i].blob, 41);
			return 0;
		}
	rc = lethe_evidence_file_id(blob, s->ev, s->c->oid, path);
	if (rc == LETHE_ENOTFOUND)
		return verify_fail(s, "%s: lists '%s', which is not in the commit", rec, path);
	return rc;
}

/* The file at path in the commit: its bytes (malloc'd). */
int verify_file_read(verify_state *s, const char *rec, char **data, size_t *len,
		     const char *path)
{
	char blob[41];
	int rc;

	if (s->read) {
		rc = s->read(data, len, s->read_ctx, path);
		if (rc == LETHE_ENOTFOUND)
			return verify_fail(s, "%s: lists '%s', which is not in the commit",
					   rec, path);
		return rc;
	}
	if ((rc = file_id(s, rec, blob, path)) < 0)
		return rc;
	return lethe_evidence_read_blob(data, len, s->ev, blob);
}

static void sha256_hex(char hex[65], const char *data, size_t len)
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)data, len);
	sodium_bin2hex(hex, 65, h, sizeof(h));
}

int verify_blob_sha256(char hex[65], verify_hashes *t, lethe_evidence *ev, const char *blob_oid)
{
	const char *known = verify_hash_get(t, blob_oid);
	char *data = NULL;
	size_t len;
	int rc;

	if (known) {
		memcpy(hex, known, 65);
		return 0;
	}
	if ((rc = lethe_evidence_read_blob(&data, &len, ev, blob_oid)) < 0)
		return rc;
	sha256_hex(hex, data, len);
	free(data);
	return verify_hash_put(t, blob_oid, hex);
}

/* The SHA-256 of the file at path in the commit, computed from its bytes
 * once per distinct blob id (verify_cache.c), on a worker thread when it
 * could (verify_pool.c). */
int verify_file_sha256(verify_state *s, const char *rec, char hex[65], const char *path)
{
	const verify_listed *l = prepared(s, path);
	char blob[41], *data = NULL;
	size_t len;
	int rc;

	if (l) {
		memcpy(hex, l->sha256, 65);
		return 0;
	}
	if (s->read) {
		if ((rc = verify_file_read(s, rec, &data, &len, path)) < 0)
			return rc;
		sha256_hex(hex, data, len);
		free(data);
		return 0;
	}
	if ((rc = file_id(s, rec, blob, path)) < 0)
		return rc;
	return verify_blob_sha256(hex, &s->hashes, s->ev, blob);
}
