/*
 * lethe/record.h - the evidence record format, owned in one place
 * (docs/evidence-format.md): record kinds, their paths and commit messages,
 * the builders of each kind's JSON, the files a record's commit adds, and
 * reading a record by sequence number, by path and the last one.
 *
 * Every writer of evidence (runlog.c; the hold, release and export
 * commands through lethe_runlog_record) builds its records here, and every
 * reader but the verifier reads them here. The verifier (verify*.c) is the
 * auditor's independent second implementation of the same contract and
 * deliberately does not use this module.
 *
 * Invariants:
 *  - Builders never put personal data into a record: they take counts,
 *    rule and table names, and keyed digests (the subject digest is
 *    lethe_subject_digest, lethe/subject.h, the one canonical computation;
 *    operator texts go in as lethe_record_text_digest).
 *  - Builders return a new JSON object (the caller owns it, json_decref) or
 *    NULL when memory runs out; borrowed arguments are copied or referenced
 *    (json_t arrays get an extra reference), never taken.
 *  - The record of a commit is the only file under records/ it adds; its
 *    `files` lists every other file the commit adds, with SHA-256
 *    (lethe_record_commit fills it from the lethe_record_files).
 */
#ifndef LETHE_RECORD_H
#define LETHE_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include "access.h"
#include "backend.h"
#include "evidence.h"
#include "plan.h"
#include "policy.h"
#include "sshkey.h"
#include "token.h"

struct json_t;

#define LETHE_RECORD_FORMAT 1        /* the records' `lethe_evidence` field */
#define LETHE_RECORD_PATH_SIZE 64    /* records/SSSSS/NNNNNNNN-KIND.json and the NUL */

/* --- kinds, paths and messages ---------------------------------------------- */

typedef enum {
	LETHE_RECORD_INTENT,
	LETHE_RECORD_COMPLETION,
	LETHE_RECORD_ABORT,
	LETHE_RECORD_HOLD,
	LETHE_RECORD_RELEASE,
	LETHE_RECORD_EXPORT,
	LETHE_RECORD_APPROVAL         /* lethe/approval.h builds its fields */
} lethe_record_kind;

/* "intent", "completion", ...: the name in paths, messages and `kind`. */
const char *lethe_record_kind_name(lethe_record_kind k);
/* 0, or LETHE_ENOTFOUND (no error set) for a name that is no kind. */
int lethe_record_kind_parse(lethe_record_kind *out, const char *name);
/* Whether records of the kind belong to a run (intent, completion, abort). */
int lethe_record_kind_is_run(lethe_record_kind k);

/* records/SSSSS/NNNNNNNN-KIND.json: one folder per thousand records. */
void lethe_record_path(char out[LETHE_RECORD_PATH_SIZE], int64_t seq, lethe_record_kind k);
/* The sequence number and kind of a record path (its last component is
 * enough): 0, or LETHE_ENOTFOUND (no error set) for anything else. */
int lethe_record_path_parse(const char *path, int64_t *seq, lethe_record_kind *k);
/* runs/XX/RUNID/digests/RULE.txt, malloc'd into *out (caller frees). */
int lethe_record_digest_path(char **out, const char *run_id, const char *rule);

/* What a run's commit messages call it: "run", "erasure" (request),
 * "replay" for an erasure re-applying an earlier one after a restore
 * (replay_of > 0), or "finish" for the run's finishing of an erasure that
 * kept rows while a condition or a legal hold held (completes > 0). */
const char *lethe_record_run_label(const char *request, int64_t replay_of, int64_t completes);
/* The same label read from an intent record (its request, replay_of and
 * completes). */
const char *lethe_record_intent_label(const struct json_t *intent);
/* The commit message "lethe: KIND NNNNNNNN", for a run's records followed
 * by " LABEL RUNID", for others followed by " LABEL" when label is not NULL
 * (lethe_record_describe); malloc'd into *out (caller frees). */
int lethe_record_message(char **out, lethe_record_kind k, int64_t seq, const char *label,
			 const char *run_id);
/* What the commit subject of a record outside a run says after "lethe:
 * KIND NNNNNNNN": a hold's scope ("subject" or "rule NAME"), a release's
 * "hold ID", each followed by " by PRINCIPAL" when the record has `by`; an
 * export or an erasure's intent with `by` (access, erase, replay --by):
 * "by PRINCIPAL" (an intent's after its "LABEL RUNID"); an approval's "by
 * APPROVER: REASON" (its reason is in the record already: one line, about
 * policies, never a data subject); *out NULL for other kinds (their subject
 * says no more). Never a hold's reason: it may name a person and stays in
 * the register (docs/evidence-format.md, "Texts of holds"). */
int lethe_record_describe(char **out, const struct json_t *record);
/* The kind and sequence number of a commit message: 0, or LETHE_ENOTFOUND
 * (no error set) when it is not a record's message. */
int lethe_record_message_parse(const char *message, lethe_record_kind *k, int64_t *seq);

/* --- builders ----------------------------------------------------------------- */

/* The common fields: lethe_evidence, kind, seq, tool, host, and `at` (now). */
struct json_t *lethe_record_new(lethe_record_kind k, int64_t seq);

/* The keyed digest a record carries in place of a text an operator typed
 * (hold reasons, --where filters): lethe_digest(key, "hold-text", text). */
void lethe_record_text_digest(char out[LETHE_DIGEST_SIZE], const lethe_token_key *k,
			      const char *text);

/* A line of a run's digest file: the keyed digest of a disposed row's key,
 * lethe_digest(key, domain = rule name, key as text: integers in decimal,
 * reals as %.17g, NULL as ""). */
/* The same with the rule's digest context (lethe_digest_start with domain =
 * the rule's name), for many rows. */
void lethe_record_row_digest_in(char out[LETHE_DIGEST_SIZE], const lethe_digest_ctx *c,
				const lethe_value *key);
/* The same digest in binary (lethe_digest_value_bin). */
void lethe_record_row_digest_bin(unsigned char out[LETHE_DIGEST_BIN], const lethe_digest_ctx *c,
				 const lethe_value *key);
void lethe_record_row_digest(char out[LETHE_DIGEST_SIZE], const lethe_token_key *k,
			     const char *rule, const lethe_value *key);

/* An intent's entry for one rule: names, the action the run applies
 * (`applied`: on_erasure in an erasure), and the plan's counts. */
struct json_t *lethe_record_rule(const lethe_rule_plan *rp, lethe_action applied);

typedef struct {
	const char *run_id, *as_of;
	const char *database, *schema_sha256;
	const char *request;          /* NULL for a run; "erasure" */
	const char *subject;          /* with request: the subject digest */
	const char *contact;          /* with request, optional: the contact digest */
	const char *received;         /* with request, optional: the day it was received
					 (then `answered` is as_of) */
	int64_t replay_of;            /* > 0: the intent seq a replay re-applies */
	int64_t completes;            /* > 0: the intent seq of the erasure whose kept
					 rows this one disposes of (lethe run) */
	const char *by;               /* with request, optional: who erased or replayed
					 (lethe_site_set_actor), a principal */
	int64_t approval;             /* > 0: the approval record the run relies on */
	const char *plan_sha256;      /* run --plan: the plan file's SHA-256 and as-of */
	const char *plan_as_of;
	struct json_t *policy;        /* borrowed array of {path, sha256} */
	struct json_t *rules;         /* borrowed array of lethe_record_rule */
} lethe_record_intent_info;

/* An intent's own fields (no common fields, no `files`). */
struct json_t *lethe_record_intent(const lethe_record_intent_info *in);

/* "abort" for result "aborted", else "completion". */
lethe_record_kind lethe_record_end_kind(const char *result);

/* A completion's (or abort's) entry for one rule, from its intent's entry:
 * `due` becomes `disposed`, an abort's counts are 0, and `digests` is
 * {path, count} or null when digest_count is 0. */
struct json_t *lethe_record_end_rule(const struct json_t *intent_rule, int aborted,
				     int64_t disposed, const char *digest_path, int64_t digest_count);

typedef struct {
	const char *run_id;
	int64_t intent_seq;
	const char *as_of, *started_at, *ended_at;
	const char *result;           /* completed, failed, recovered, aborted */
	struct json_t *rules;         /* borrowed array of lethe_record_end_rule */
	const lethe_warnings *warnings; /* NULL for none */
} lethe_record_end_info;

/* A completion's or abort's own fields. */
struct json_t *lethe_record_end(const lethe_record_end_info *in);

/* A hold's fields: subject (a subject digest) or rule (with an optional
 * where_digest); until NULL for none. Digests are lethe_record_text_digest. */
struct json_t *lethe_record_hold(int64_t hold_id, const char *reason_digest, const char *subject,
				 const char *rule, const char *where_digest, const char *until);
struct json_t *lethe_record_release(int64_t hold_id, const char *reason_digest);
/* An export's fields: the subject digest, the archive's tables, format
 * ("zip" or "tar.gz") and SHA-256, and when not NULL the request's received
 * and answered days. */
struct json_t *lethe_record_export(const char *subject, const lethe_access_result *res,
				   const char *format, const char *received, const char *answered);

/* --- the files of a record's commit ------------------------------------------ */

/* Growable. Owner: the files own every pointer handed to them (paths, data,
 * stream contexts given to lethe_record_files_own); lethe_record_files_free
 * releases them and the arrays. Zero-initialised is empty. */
typedef struct {
	lethe_evidence_change *items;
	char (*sha)[65];              /* per item: a streamed item's SHA-256, hex */
	size_t n, cap, shacap;
	void **owned;
	size_t nowned, capowned;
} lethe_record_files;

void lethe_record_files_free(lethe_record_files *f);
/* Take over p (freed at once when it cannot be recorded). */
int lethe_record_files_own(lethe_record_files *f, void *p);
/* Add a file (data taken over) or, with data NULL, remove path. */
int lethe_record_files_add(lethe_record_files *f, const char *path, char *data, size_t len);
/* Add a streamed file whose SHA-256 (hex) and length (len, or 0 when not
 * known) are known beforehand; ctx is borrowed (own it with
 * lethe_record_files_own). */
int lethe_record_files_add_stream(lethe_record_files *f, const char *path, const char *sha256, size_t len,
				  int (*stream)(void *ctx, int (*write)(void *wctx, const void *buf,
									size_t len),
						void *wctx),
				  void *ctx);

/* Add a file already written as blob `blob` (40 hex digits,
 * lethe_evidence_write_blob) whose SHA-256 (hex) is sha256. */
int lethe_record_files_add_blob(lethe_record_files *f, const char *path, const char *sha256,
				const char *blob);

/* Commit `record` (taken over, its kind and seq as lethe_record_new made
 * them) as its record file, with `files` added from f, and f's files, in
 * one signed commit with the record's message (label and run_id for a
 * run's records, else NULL). The new commit's id goes into oid. */
int lethe_record_commit(char oid[41], lethe_evidence *ev, const lethe_sshkey *key,
			struct json_t *record, lethe_record_files *f, const char *label,
			const char *run_id);

/* --- reading ------------------------------------------------------------------ */

/* The record at path of commit (a JSON object; the caller owns it). */
int lethe_record_load(struct json_t **out, lethe_evidence *ev, const char *commit,
		      const char *path);
/* The record with sequence number seq and kind k of commit. */
int lethe_record_read(struct json_t **out, lethe_evidence *ev, const char *commit, int64_t seq,
		      lethe_record_kind k);
/* The newest record of kind k on main: its seq and JSON (caller owns); 0
 * and NULL when there is none. */
int lethe_record_latest(int64_t *seq, struct json_t **out, lethe_evidence *ev, lethe_record_kind k);

/* The last record of main: its seq and JSON (caller owns); 0 and NULL when
 * the repository has no commit yet. */
int lethe_record_last(int64_t *seq, struct json_t **out, lethe_evidence *ev);

#endif
