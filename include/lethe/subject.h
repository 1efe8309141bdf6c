/*
 * lethe/subject.h - a data subject named on the command line: its key as a
 * value of the right type, whether it exists, and its contact values as
 * suppression tokens.
 *
 * Invariants: nothing here writes; the suppression token of a value is the
 * pseudonym token of its normalised form (trimmed; e-mail addresses in NFC
 * and Unicode case folded, which for ASCII is lower case; other values, e.g.
 * phone numbers, in NFC without spaces, dashes, dots or parentheses), so that
 * an address import can check "Matti.Meikalainen@Example.org " and match,
 * and "ÄIJÄ@x.fi" matches "äijä@x.fi". A value that already is a token (a
 * rule pseudonymised it, or an interrupted erasure did) is its own
 * suppression token: a token is never tokenised again.
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
 * typed as the key column stores it: against a column of INTEGER affinity
 * (or the rowid) an argument that is a whole decimal number in range
 * ("8", "008", "+8") is the integer, anything else stays text. LETHE_ECONFIG without a subject in the
 * policy; LETHE_EDATA when no such subject exists ("no data subject ..."). */
int lethe_subject_find(lethe_subject *out, lethe_backend *be, const lethe_policy *p,
		       const char *arg);
void lethe_subject_release(lethe_subject *s);

/* The key `arg` typed as lethe_subject_find types it, whether or not such
 * a subject is (still) in the register: what a subject erased long ago is
 * digested with (lethe prove, lethe digest). */
int lethe_subject_parse(lethe_subject *out, lethe_backend *be, const lethe_policy *p,
			const char *arg);

/*
 * The canonical subject digest, the one way every record names a subject
 * (erasure and replay, hold, export): lethe_digest(pseudonym key,
 * "subject", T) where T is the key's typed value as text: an integer in
 * plain decimal (no plus sign, no leading zeros; "-" for negatives), so
 * `--subject 8`, `008` and `+8` against an INTEGER key are the same
 * subject; a text key its exact bytes. Typing follows lethe_subject_find
 * (the key column's affinity), so the digest is the same whether the key
 * came from the command line or from a row of the subject table.
 * LETHE_EDATA for a key that is neither integer nor text.
 */
#define LETHE_SUBJECT_KEY_TEXT 32
int lethe_subject_digest(char out[LETHE_DIGEST_SIZE], const lethe_token_key *k,
			 const lethe_value *key);
/* T above: *s and *len point into buf (integers) or into key (text). */
int lethe_subject_key_text(const char **s, size_t *len, char buf[LETHE_SUBJECT_KEY_TEXT],
			   const lethe_value *key);

/* The suppression token of a contact value (see the invariants).
 * LETHE_ESOFTWARE when out of memory. */
int lethe_suppression_token(char out[LETHE_TOKEN_SIZE], const lethe_token_key *k,
			    const char *value, size_t len);

/* Whether a value is on the suppression list: its suppression token, or
 * else the plain token of its exact bytes (what a rule's pseudonymise made
 * of a contact value in a column of no UNIQUE index before the subject was
 * erased). A value a rule replaced with a row token (a UNIQUE column) is on
 * the list only as that token, which depends on a row key the value alone
 * does not give: it is not found (docs/disposal.md, suppression). */
int lethe_suppression_lookup(int *found, lethe_backend *be, const lethe_token_key *k,
			     const char *value, size_t len);

/*
 * The identity of a subject, so that `lethe replay` can tell the person it
 * erased from another who has since been given the same key: the keyed
 * digest lethe_digest(k, "contact", D), where D has one line per
 * subject.contact column in policy order, each ended by "\n": the token a
 * rule's pseudonymise writes for the value in that column (integers as
 * decimal text; lethe_transform_token): in a column of no UNIQUE index the
 * plain lethe_token of its exact bytes; in a column of a UNIQUE index
 * (lethe_column_info.in_unique) the row token bound to the row's key
 * (lethe_token_row), the value of the key column of the first rule that
 * pseudonymises the column (lethe_rule_key), or the subject key when none
 * does; the value itself when it already is a token, or "-" when it is NULL
 * (or neither text nor integer). So the digest is the same whether or not a
 * rule has pseudonymised the values since. Limit: a rule keyed by the hidden
 * rowid (a table without a one-column primary key) binds row tokens to a
 * value no row read here holds; the subject key stands in, so once such a
 * rule has pseudonymised the column, replay no longer recognises the person
 * and skips it with a warning. *has is 0, and out untouched, when the policy
 * names no contact columns or all of them are NULL: such a subject has no
 * identity beyond its key. lethe_subject_identity reads the subject's row
 * (none, or more than one row with the key, give *has 0);
 * lethe_subject_identity_row digests a row already read, with t the subject
 * table's info (lethe_backend_table_info; borrowed).
 */
int lethe_subject_identity(char out[LETHE_DIGEST_SIZE], int *has, lethe_backend *be,
			   const lethe_policy *p, const lethe_subject *s, const lethe_token_key *k);
int lethe_subject_identity_row(char out[LETHE_DIGEST_SIZE], int *has, const lethe_policy *p,
			       const lethe_table_info *t, const lethe_token_key *k, size_t ncols,
			       const char *const *names, const lethe_value *v);

/* The tokens of the subject's subject.contact values (non-NULL ones), as a
 * malloc'd array of malloc'd strings. */
int lethe_subject_contact_tokens(char ***out, size_t *n, lethe_backend *be, const lethe_policy *p,
				 const lethe_subject *s, const lethe_token_key *k);

#endif
