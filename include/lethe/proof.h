/*
 * lethe/proof.h - what the evidence says about one data subject or one row,
 * and a proof of it that anyone can check offline (docs/evidence-format.md,
 * "Proofs").
 *
 * lethe_evidence_find reads the evidence for a subject digest and for row
 * digests (lethe digest); lethe_proof_make turns what it found into a
 * self-contained proof (lethe prove): the signed commits with the records
 * and digest files as raw git objects, the trees from each commit down to
 * them, and the controller's statement of what is still kept.
 * lethe_proof_verify checks a proof with the allowed-signers file alone.
 *
 * Invariants:
 *  - Nothing here writes to the evidence or the register.
 *  - A proof holds objects on the way from a signed commit to a record or a
 *    digest file, nothing else: the trees list other files' names and ids
 *    (record numbers and kinds, run ids), and a digest file lists the keyed
 *    digests of the other rows that run disposed of, which the digest file
 *    exposes to every reader of the evidence already; no other subject's
 *    key, digest or record is in it.
 *  - The verifier trusts no id the proof states: every object is stored
 *    under the id git computes from its bytes, and every record and digest
 *    file is read from a commit whose signature it checked.
 *
 * Ownership: findings and proofs belong to the caller (_free accepts NULL).
 */
#ifndef LETHE_PROOF_H
#define LETHE_PROOF_H

#include <stddef.h>
#include <stdint.h>
#include "backend.h"
#include "calendar.h"
#include "evidence.h"
#include "policy.h"
#include "sshkey.h"
#include "token.h"

struct json_t;

#define LETHE_PROOF_FORMAT 1   /* a proof's `lethe_proof` field */

/* A row to look for: the rule whose digest files may hold it and the row's
 * keyed digest (lethe_record_row_digest). Borrowed. */
typedef struct {
	const char *rule;
	const char *digest;
} lethe_row_query;

/* The row queries of one key: per rule on a table, the digest its digest
 * files would hold for the row with that key. Owns everything. */
typedef struct {
	lethe_row_query *q;
	char (*digest)[LETHE_DIGEST_SIZE];
	size_t n;
} lethe_row_queries;

/*
 * For every rule on `table` (case-insensitive; with only_key, only rules
 * whose key column is only_key), the row digest of the key `key`
 * (lethe_record_row_digest) typed as that rule's key column stores it: an
 * integer when the column has INTEGER affinity (or is the rowid) and the
 * text is a whole decimal number, the text otherwise.
 */
int lethe_row_queries_for(lethe_row_queries *out, lethe_backend *be, const lethe_policy *p,
			  const lethe_token_key *k, const char *table, const char *only_key,
			  const char *key);
void lethe_row_queries_release(lethe_row_queries *q);

/* A record of the evidence (owned by the findings). */
typedef struct {
	int64_t seq;
	char commit[41];
	char *path;               /* records/SSSSS/NNNNNNNN-KIND.json */
	struct json_t *record;    /* the parsed record */
} lethe_found_record;

/* Where a row's digest was found: the completion that lists the digest
 * file holding it (an index into records). */
typedef struct {
	const char *rule;         /* borrowed from the query */
	const char *digest;       /* borrowed from the query */
	size_t completion;        /* index into lethe_evidence_findings.records */
	char *digests_path;
} lethe_found_row;

typedef struct {
	lethe_found_record *records;  /* in sequence order */
	size_t nrecords;
	lethe_found_row *rows;
	size_t nrows;
	int64_t head_seq;             /* the last record of main; 0 when empty */
	char head[41];
} lethe_evidence_findings;

/*
 * Read every record of main and collect, in sequence order: with subject (a
 * subject digest, or NULL) the erasure intents, holds and exports naming
 * it, the completions and aborts of those erasures, and the releases of
 * those holds; for every row query, each completion whose digest file of
 * that rule holds the digest (with the completion's record). *out owned by
 * the caller (lethe_evidence_findings_free).
 */
int lethe_evidence_find(lethe_evidence_findings **out, lethe_evidence *ev, const char *subject,
			const lethe_row_query *rows, size_t nrows);
void lethe_evidence_findings_free(lethe_evidence_findings *f);
/* Every record of main, of any kind (also kinds this version does not
 * write, named by their file), in sequence order: what a report reads. */
int lethe_evidence_records(lethe_evidence_findings **out, lethe_evidence *ev);
/* lethe_evidence_find, or with all every record. */
int lethe_evidence_records_matching(lethe_evidence_findings **out, lethe_evidence *ev,
				    const char *subject, const lethe_row_query *rows, size_t nrows,
				    int all);

/* Whether the record kind of f->records[i] is `kind`. */
int lethe_found_is(const lethe_found_record *r, const char *kind);

/* What a proof is made from (all borrowed). */
typedef struct {
	lethe_evidence *ev;
	const lethe_evidence_findings *found;   /* lethe_evidence_find for the subject */
	const char *subject_digest;
	const char *subject_text;       /* the key as digested (T of the subject digest) */
	const char *subject_table;
	struct json_t *kept;            /* borrowed array: the controller's statement
					   of the rows still kept (lethe_proof_kept) */
	const char *as_of;              /* YYYY-MM-DD of that statement */
} lethe_proof_input;

/* The proof's JSON (docs/evidence-format.md, "Proofs"); the caller owns it. */
int lethe_proof_make(struct json_t **out, const lethe_proof_input *in);

/*
 * The controller's statement of the subject's rows still in the register
 * at as_of, per rule of the subject's scope with rows: rule, table, basis,
 * action, rows, due now, held, next and last day a row becomes due. No row
 * key. *out a new JSON array owned by the caller.
 */
int lethe_proof_kept(struct json_t **out, lethe_backend *be, const lethe_policy *p,
		     const lethe_value *subject, lethe_day as_of);

/* What verifying a proof established: one readable line per fact (a
 * lethe_strvec-like list owned by the result). */
typedef struct {
	char subject[LETHE_DIGEST_SIZE];
	size_t commits, records, digest_files;
	int subject_checked;      /* the key was digested again with the pseudonym key */
	char **lines;
	size_t nlines, alloc;
} lethe_proof_result;

/*
 * Check the proof text[0..len): every object under the id its bytes give,
 * every commit it names signed by a key the allowed-signers file allows for
 * the committer at the commit's time, every record read from its commit and
 * naming its kind and sequence number, erasures, holds and exports naming
 * the proof's subject, completions naming their intents, digest files
 * matching their records' SHA-256 and counts and holding the row digests
 * claimed. With a pseudonym key (NULL: none) also the subject digest and
 * row digests recomputed from the key in the proof. 0 with *out filled;
 * LETHE_EVERIFY with the reason in the last error; LETHE_EDATA for a file
 * that is no proof.
 */
int lethe_proof_verify(lethe_proof_result *out, const char *text, size_t len,
		       const lethe_allowed_signers *signers, const lethe_token_key *key);
void lethe_proof_result_release(lethe_proof_result *r);

/* lethe_proof_verify of the file at path (LETHE_ENOINPUT when missing). */
int lethe_proof_verify_file(lethe_proof_result *out, const char *path,
			    const lethe_allowed_signers *signers, const lethe_token_key *key);

/* Write the proof to path: a new file (never over an existing one), mode
 * 0600 (it names the subject by its key). */
int lethe_proof_write(const char *path, const struct json_t *proof);

#endif
