/*
 * vec.h - growable arrays for the library (internal).
 *
 * A growable array is three fields of its owner: a pointer to the items,
 * the count in use and the capacity, e.g. `T *items; size_t n, cap;`.
 *
 * Invariants:
 *  - items is NULL with cap 0, or malloc'd with room for cap items; n <= cap.
 *  - Growth doubles (at least 8), so n pushes cost O(n) copies in all.
 *  - On failure nothing changes: items, n and cap stay as they were, and the
 *    error is set (LETHE_ESOFTWARE, "out of memory"); the caller still owns
 *    and frees items.
 *
 * Usage:
 *   if ((rc = LETHE_VEC_RESERVE(s->items, s->n + 1, s->cap)) < 0)
 *           return rc;
 *   s->items[s->n++] = x;
 */
#ifndef LETHE_VEC_H
#define LETHE_VEC_H

#include <stddef.h>

/* A block with room for at least `want` items of `size` bytes, items' first
 * *cap items copied into it (items is then freed), *cap updated; NULL (and
 * nothing changed) when memory or the size's range runs out. */
void *lethe_vec_realloc(void *items, size_t *cap, size_t want, size_t size);

/* Store p into the pointer at slot; 0, or the out-of-memory error when p
 * is NULL. */
int lethe_vec_assign_(void *slot, void *p);

/* Make room for `want` items in `items` (an lvalue of pointer type) whose
 * capacity is the lvalue `cap`: 0, or LETHE_ESOFTWARE. The arguments are
 * evaluated more than once: pass no expression with side effects. */
#define LETHE_VEC_RESERVE(items, want, cap)                                                  \
	((size_t)(want) <= (cap) ? 0                                                          \
				 : lethe_vec_assign_(&(items), lethe_vec_realloc((items), &(cap),       \
									  (want), sizeof(*(items)))))

#endif
