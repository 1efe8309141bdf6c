/*
 * vec.c - growth of the library's arrays (vec.h).
 *
 * Invariant: a failed growth changes nothing the caller holds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "vec.h"

void *lethe_vec_realloc(void *items, size_t *cap, size_t want, size_t size)
{
	size_t n = *cap ? *cap : 8;
	void *grown;

	while (n < want) {
		if (n > SIZE_MAX / 2)
			return NULL;
		n *= 2;
	}
	if (size && n > SIZE_MAX / size)
		return NULL;
	if (!(grown = realloc(items, n * size)))
		return NULL;
	*cap = n;
	return grown;
}

int lethe_vec_assign_(void *slot, void *p)
{
	if (!p)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	/* slot is a T ** seen as void *: store the pointer's representation */
	memcpy(slot, &p, sizeof(p));
	return 0;
}
