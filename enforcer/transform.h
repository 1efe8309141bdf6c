/*
 * transform.h - internal: the new value of a pseudonymised or masked column
 * (lethe_change.transform). One transform per rule and batch.
 *
 * Invariants:
 *  - A returned TEXT value points into the transform's own buffer and stays
 *    valid until the next call; the backend copies it.
 *  - NULL stays NULL under every strategy (there is nothing to dispose).
 *  - Nothing of the old value survives in the new one beyond what the
 *    strategy keeps by definition (a year, a month, the first N characters).
 */
#ifndef LETHE_TRANSFORM_H
#define LETHE_TRANSFORM_H

#include "lethe/backend.h"
#include "lethe/policy.h"
#include "lethe/token.h"

typedef struct {
	const lethe_rule *rule;
	const lethe_token_key *key;   /* pseudonymise */
	const int *notnull;           /* per rule column: the column is NOT NULL */
	const int *unique;            /* per rule column: in a UNIQUE index (row tokens) */
	char buf[64];                 /* numbers as text, tokens, cut dates */
} lethe_transform;

/* What pseudonymise writes for a value given as text (integers and reals
 * as decimal text): the plain token of its bytes when row_key is NULL (a
 * column in no UNIQUE index), else the row token bound to row_key, the row's
 * key as stored, typed 'i', 'r', 't' or 'b' with numbers as decimal text
 * (lethe_token_row). The one place that framing is made: the subject's
 * contact digest (subject.c) must come out the same. LETHE_EDATA for a NULL
 * row_key. */
int lethe_transform_token(char out[LETHE_TOKEN_SIZE], const lethe_token_key *k,
			  const char *value, size_t len, const lethe_value *row_key);

/* lethe_change.transform; ctx is a lethe_transform. */
int lethe_transform_value(void *ctx, size_t column, const lethe_value *in, const lethe_value *key,
			  lethe_value *out);

#endif
