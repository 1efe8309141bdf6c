/*
 * lethe/planfile.h - a signed plan (`lethe plan --out FILE`, applied by
 * `lethe run --plan FILE`; docs/auditor-guide.md, "Signed plans"): the
 * as-of, the database, the policy digest and files, and per rule the keyed
 * digests of the keys due, so that a run disposes of exactly the planned
 * rows that are still due and nothing else.
 *
 * The file is the plan's JSON text (one object, ending with a newline)
 * followed by an SSH signature (PROTOCOL.sshsig armour, namespace
 * LETHE_PLAN_NAMESPACE) of exactly those bytes: `ssh-keygen -Y verify`
 * checks it with stock OpenSSH.
 *
 * Invariants:
 *  - No personal data: keys appear only as lethe_record_row_digest (keyed
 *    BLAKE2b with the pseudonym key, domain = the rule's name), the same
 *    digests a run's digest files hold.
 *  - A loaded plan has a valid signature; who signed it is the caller's to
 *    judge (lethe_planfile_signer).
 *  - A plan owns its memory (lethe_planfile_free); the digests of a rule
 *    are kept sorted, so admitting a key is a binary search.
 */
#ifndef LETHE_PLANFILE_H
#define LETHE_PLANFILE_H

#include <stddef.h>
#include <stdint.h>
#include "backend.h"
#include "calendar.h"
#include "policy.h"
#include "sshkey.h"
#include "token.h"

struct json_t;

#define LETHE_PLAN_NAMESPACE "lethe-plan"

typedef struct lethe_planfile lethe_planfile;

/* The signed plan of p on be at as_of, for the database at `database`
 * (absolute path), digests keyed with k, signed with signer: *text (malloc'd,
 * the caller's) of *len bytes. *counts (optional, the caller's) gets the
 * plan's JSON object. */
int lethe_planfile_make(char **text, size_t *len, struct json_t **plan, lethe_backend *be,
			const lethe_policy *p, lethe_day as_of, const char *database,
			const lethe_token_key *k, const lethe_sshkey *signer);

/* Parse text (name for messages) and check its signature. LETHE_EDATA when
 * malformed, LETHE_EVERIFY when the signature is not valid. */
int lethe_planfile_parse(lethe_planfile **out, const char *text, size_t len, const char *name);
void lethe_planfile_free(lethe_planfile *pf);
/* lethe_planfile_parse of the file at path; LETHE_ENOINPUT when missing. */
int lethe_planfile_load(lethe_planfile **out, const char *path);

/* Its signer's public key, as-of, database path, policy digest and files
 * (an array of {path, sha256}), and the SHA-256 (hex) of the whole file. */
const unsigned char *lethe_planfile_signer(const lethe_planfile *pf);
lethe_day lethe_planfile_as_of(const lethe_planfile *pf);
const char *lethe_planfile_database(const lethe_planfile *pf);
const char *lethe_planfile_policy_digest(const lethe_planfile *pf);
const struct json_t *lethe_planfile_policy(const lethe_planfile *pf);
const char *lethe_planfile_sha256(const lethe_planfile *pf);

/* Key digests with k (borrowed; must outlive the plan's use). */
void lethe_planfile_set_key(lethe_planfile *pf, const lethe_token_key *k);

/* lethe_scan.admit: 1 when the plan names key under rule, else 0. ctx is
 * the plan (with its key set). */
int lethe_planfile_admit(void *ctx, const char *rule, const lethe_value *key);

#endif
