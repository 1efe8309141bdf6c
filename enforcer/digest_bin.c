/*
 * digest_bin.c - run digests in binary and sorted (digest_bin.h).
 *
 * Invariants:
 *  - Pure: no I/O, no state; the only allocation is the sort's bucket
 *    bounds (2^15 + 1 words at most, never a copy of the
 *    digests).
 *  - The binary form's byte order is the hex text's, so the sorted binary
 *    digests are the sorted lines of a digest file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "digest_bin.h"
#include "lethe/error.h"

/* The value of a lowercase hex digit, 16 for any other byte: a table,
 * because this runs for every disposed row (a branch per digit cost 2% of
 * a run). */
static const unsigned char hex_value[256] = {
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 10, 11, 12, 13, 14, 15, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
};

/* Lowercase hex (what lethe_digest writes) to binary: byte order is the
 * order of the hex text, so sorting either sorts both. */
int lethe_digest_to_bin(unsigned char out[LETHE_DIGEST_BIN], const char *hex)
{
	unsigned bad = 0;

	for (size_t i = 0; i < LETHE_DIGEST_BIN; i++) {
		unsigned hi = hex_value[(unsigned char)hex[2 * i]], lo = hex_value[(unsigned char)hex[2 * i + 1]];

		/* a NUL is not a digit: the string's end is never read past */
		if ((hi | lo) & 16) {
			bad = 1;
			break;
		}
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	if (bad)
		return lethe_error_set(LETHE_ESOFTWARE, "a run digest is not %d lowercase hex digits",
				       LETHE_DIGEST_LEN);
	if (hex[2 * LETHE_DIGEST_BIN])
		return lethe_error_set(LETHE_ESOFTWARE, "a run digest is too long");
	return 0;
}

void lethe_digest_to_hex(char out[LETHE_DIGEST_SIZE], const unsigned char *bin)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < LETHE_DIGEST_BIN; i++) {
		out[2 * i] = digits[bin[i] >> 4];
		out[2 * i + 1] = digits[bin[i] & 15];
	}
	out[LETHE_DIGEST_LEN] = '\0';
}

static int cmp_digest(const void *a, const void *b)
{
	return memcmp(a, b, LETHE_DIGEST_BIN);
}

/* Sorting a batch's digests was a tenth of a large run (qsort calls memcmp
 * through a pointer some 16 times per digest). Digests are keyed hashes, so
 * their first bytes are uniform: one counting pass over the first `bits`
 * bits (a few digests per bucket, at most 2^14 buckets) and one pass of
 * swaps put each digest in its bucket, in place, and each bucket is sorted
 * on its own, by insertion when small, by qsort when not (an unlucky
 * bucket). The order is memcmp's either way. In place, because a batch's
 * digests are its largest allocation but for its keys. */
#define SORT_MAX_BITS 14
#define SORT_INSERTION 16

static void sort_bucket(unsigned char *b, size_t n)
{
	unsigned char tmp[LETHE_DIGEST_BIN];

	if (n > SORT_INSERTION) {
		qsort(b, n, LETHE_DIGEST_BIN, cmp_digest);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		size_t j = i;

		memcpy(tmp, b + i * LETHE_DIGEST_BIN, LETHE_DIGEST_BIN);
		for (; j > 0 && memcmp(b + (j - 1) * LETHE_DIGEST_BIN, tmp, LETHE_DIGEST_BIN) > 0; j--)
			memcpy(b + j * LETHE_DIGEST_BIN, b + (j - 1) * LETHE_DIGEST_BIN, LETHE_DIGEST_BIN);
		memcpy(b + j * LETHE_DIGEST_BIN, tmp, LETHE_DIGEST_BIN);
	}
}

/* A digest's bucket: its first `bits` bits. */
static size_t bin_bucket(const unsigned char *d, unsigned bits)
{
	return ((size_t)d[0] << 8 | d[1]) >> (16 - bits);
}

/* Digest i to the place its bucket's next one goes, in place (an American
 * flag sort's pass): next[b] is where bucket b's next digest goes and
 * end[b] where the bucket ends; a digest already in its bucket's part stays,
 * any other is swapped with what sits where it goes, so each swap puts at
 * least one digest where it belongs. */
static void place_in_buckets(unsigned char *digests, size_t *next, const size_t *end, unsigned bits)
{
	unsigned char tmp[LETHE_DIGEST_BIN];

	for (size_t b = 0; b < (size_t)1 << bits; b++) {
		while (next[b] < end[b]) {
			unsigned char *d = digests + next[b] * LETHE_DIGEST_BIN;
			size_t to = bin_bucket(d, bits);

			if (to == b) {
				next[b]++;
				continue;
			}
			memcpy(tmp, d, LETHE_DIGEST_BIN);
			memcpy(d, digests + next[to] * LETHE_DIGEST_BIN, LETHE_DIGEST_BIN);
			memcpy(digests + next[to]++ * LETHE_DIGEST_BIN, tmp, LETHE_DIGEST_BIN);
		}
	}
}

int lethe_digests_sort(unsigned char *digests, size_t n)
{
	unsigned bits = 8;
	size_t *next, *end;

	while (bits < SORT_MAX_BITS && ((size_t)1 << bits) < n)
		bits++;
	next = calloc(((size_t)2 << bits) + 1, sizeof(*next));
	if (!next)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	end = next + ((size_t)1 << bits);
	/* end[b + 1] counts bucket b; then end[b] is where bucket b ends and
	 * next[b] where it starts */
	for (size_t i = 0; i < n; i++)
		end[bin_bucket(digests + i * LETHE_DIGEST_BIN, bits) + 1]++;
	for (size_t b = 1; b <= (size_t)1 << bits; b++)
		end[b] += end[b - 1];
	memcpy(next, end, ((size_t)1 << bits) * sizeof(*next));
	end++;
	place_in_buckets(digests, next, end, bits);
	for (size_t b = 0, from = 0; b < (size_t)1 << bits; from = end[b++])
		sort_bucket(digests + from * LETHE_DIGEST_BIN, end[b] - from);
	free(next);
	return 0;
}
