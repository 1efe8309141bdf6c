/*
 * lethe/approval.h - a person's approval of a policy set
 * (docs/evidence-format.md, "approval"): the policy digest, the statement
 * an approver signs with their own SSH key, the record's fields, and the
 * check `lethe run` makes before it applies a policy on a site that
 * requires approval.
 *
 * Approvers are the keys an allowed-signers file lists on an approver line:
 * one whose namespaces option names LETHE_APPROVAL_NAMESPACE explicitly
 * (lethe_allowed_signers_find_explicit). Lethe's own signing key, listed
 * for "git" only, is therefore no approver, and neither is a line without
 * namespaces.
 *
 * Invariants:
 *  - Nothing here prints or writes the evidence: the site records the
 *    fields built here (lethe_site_approve).
 *  - The statement is rebuilt from the record's fields, never stored, so a
 *    field changed after signing breaks the signature.
 *  - Results are the caller's: JSON objects (json_decref) and malloc'd
 *    strings (free).
 */
#ifndef LETHE_APPROVAL_H
#define LETHE_APPROVAL_H

#include <stdint.h>
#include "evidence.h"
#include "policy.h"
#include "sshkey.h"

struct json_t;

#define LETHE_APPROVAL_NAMESPACE "lethe-approval"

/* The policy digest of p (64 hex digits and the NUL) and, when files is not
 * NULL, {"path": "policies/NAME", "sha256": HEX} per file in name order (a
 * new array). LETHE_EIO when a file cannot be read. */
int lethe_policy_digest(char out[65], struct json_t **files, const lethe_policy *p);

/* The policy digest of a record's `policy` array (its paths' base names). */
int lethe_policy_digest_of(char out[65], const struct json_t *files);

/* The five-line statement an approver signs; *out malloc'd. LETHE_EUSAGE for
 * a reason that is empty or holds a control character. */
int lethe_approval_statement(char **out, const char *policy_digest, const char *approver,
			     const char *reason, const char *at);

/* An approval's fields (docs/evidence-format.md) for policy p, signed by
 * approver_key at `at`: the approver is the principal of the approver line
 * that lists the key. LETHE_ENOPERM when no approver line lists it;
 * LETHE_EUSAGE for a reason that names an e-mail address (it would stay in
 * the evidence and its commit subject for good). */
int lethe_approval_new(struct json_t **out, const lethe_policy *p, const lethe_sshkey *approver_key,
		       const lethe_allowed_signers *signers, const char *reason, const char *at);

/* 0 when rec (an approval record) is signed by an approver that signers
 * lists, over its own fields, and its policy_digest is its policy's;
 * LETHE_EVERIFY with the reason otherwise. */
int lethe_approval_check(const struct json_t *rec, const lethe_allowed_signers *signers);

/* The newest approval record of the evidence (its seq and JSON, the
 * caller's); 0 with *rec NULL when there is none. */
int lethe_approval_latest(int64_t *seq, struct json_t **rec, lethe_evidence *ev);

/* What differs between the approved files (an approval's `policy`) and
 * `files` (lethe_policy_digest's): "changed 10-bookkeeping.yaml, added
 * 40-x.yaml, removed 20-y.yaml"; *out malloc'd, "" when nothing. */
int lethe_approval_diff(char **out, const struct json_t *approved, const struct json_t *files);

#endif
