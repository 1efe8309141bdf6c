/*
 * lethe/subject.h - a data subject named on the command line: its key as a
 * value of the right type, whether it exists, and its contact values as
 * suppression tokens.
 *
 * Invariants: nothing here writes; the suppression token of a value is the
 * pseudonym token of its normalised form (trimmed; e-mail addresses in lower
 * case; phone numbers without spaces, dashes, dots or parentheses), so that
 * an address import can check "Matti.Meikalainen@Example.org " and match.
 */
#ifndef LETHE_SUBJECT_H
#define LETHE_SUBJECT_H

#include "backend.h"
#include "policy.h"
#include "token.h"

typedef struct {
	lethe_value value;   /* the key; text points into `text` */
	char *text;          /* owned */
} lethe_subject;

/* The policy's subject (subject.table, subject.key) with the key `arg`,
 * typed as the key column stores it. LETHE_ECONFIG without a subject in the
 * policy; LETHE_EDATA when no such subject exists ("no data subject ..."). */
int lethe_subject_find(lethe_subject *out, lethe_backend *be, const lethe_policy *p,
		       const char *arg);
void lethe_subject_release(lethe_subject *s);

/* The suppression token of a contact value (see the invariants). */
void lethe_suppression_token(char out[LETHE_TOKEN_SIZE], const lethe_token_key *k,
			     const char *value, size_t len);

/* The tokens of the subject's subject.contact values (non-NULL ones), as a
 * malloc'd array of malloc'd strings. */
int lethe_subject_contact_tokens(char ***out, size_t *n, lethe_backend *be, const lethe_policy *p,
				 const lethe_subject *s, const lethe_token_key *k);

#endif
