/*
 * proof.c - a data subject's proof (lethe/proof.h): the raw git objects on
 * the way from each signed commit to the records and digest files that
 * concern the subject, and the controller's statement of what is kept.
 *
 * Invariants:
 *  - Objects are stored once, by id, base64 of their bytes (libsodium's
 *    codec): the verifier rebuilds them as git would.
 *  - The kept statement says counts and days per rule, never a row key.
 */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "lethe/check.h"
#include "lethe/error.h"
#include "lethe/plan.h"
#include "lethe/proof.h"
#include "lethe/record.h"
#include "util.h"

typedef struct {
	json_t *objects;   /* {id: {"type", "data"}} */
} pack;

static int add_object(void *vctx, const char *oid, const char *type, const void *data, size_t len)
{
	pack *p = vctx;
	size_t n = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
	char *b64;
	json_t *o;

	if (json_object_get(p->objects, oid))
		return 0;
	if (!(b64 = malloc(n)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	sodium_bin2base64(b64, n, data, len, sodium_base64_VARIANT_ORIGINAL);
	o = json_pack("{s:s, s:s}", "type", type, "data", b64);
	free(b64);
	if (!o || json_object_set_new(p->objects, oid, o) < 0)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	return 0;
}

/* The objects from commit down to path. */
static int add_path(pack *p, lethe_evidence *ev, const char *commit, const char *path)
{
	return lethe_evidence_path_objects(ev, commit, path, add_object, p);
}

/* Every digest file an erasure's completion lists: all its lines are the
 * subject's rows. */
static int erasure_digests(pack *p, json_t *files, const lethe_proof_input *in,
			   const lethe_found_record *r)
{
	json_t *rule;
	size_t k;
	int rc;

	json_array_foreach(json_object_get(r->record, "rules"), k, rule) {
		const char *path = json_string_value(json_object_get(json_object_get(rule, "digests"),
								     "path"));

		if (!path)
			continue;
		if ((rc = add_path(p, in->ev, r->commit, path)) < 0)
			return rc;
		if (json_array_append_new(files, json_pack("{s:I, s:s}", "record", (json_int_t)r->seq,
							   "path", path)) < 0)
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	return 0;
}

/* Whether completion r closes an erasure of the subject (its intent is among
 * the findings with request "erasure"). */
static int closes_erasure(const lethe_evidence_findings *f, const lethe_found_record *r)
{
	const char *run = json_string_value(json_object_get(r->record, "run_id"));

	for (size_t i = 0; run && i < f->nrecords; i++) {
		const json_t *o = f->records[i].record;
		const char *ir = json_string_value(json_object_get(o, "run_id"));

		if (lethe_found_is(&f->records[i], "intent") && ir && !strcmp(ir, run) &&
		    json_object_get(o, "request"))
			return 1;
	}
	return 0;
}

int lethe_proof_make(json_t **out, const lethe_proof_input *in)
{
	const lethe_evidence_findings *f = in->found;
	json_t *root, *records, *rows, *files;
	pack p;
	char now[LETHE_ISO_TIME_SIZE];
	int rc = 0;

	lethe_now_iso(now);
	root = json_pack("{s:i, s:s, s:s, s:{s:s, s:s, s:s}, s:{s:I, s:s}, s:s, s:O, s:[], s:[], s:[],"
			 " s:{}}",
			 "lethe_proof", LETHE_PROOF_FORMAT, "tool", "lethe " LETHE_VERSION, "made_at",
			 now, "subject", "digest", in->subject_digest, "key", in->subject_text,
			 "table", in->subject_table, "head", "seq", (json_int_t)f->head_seq, "commit",
			 f->head, "as_of", in->as_of, "kept", in->kept, "records", "rows",
			 "digest_files", "objects");
	if (!root)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	records = json_object_get(root, "records");
	rows = json_object_get(root, "rows");
	files = json_object_get(root, "digest_files");
	p.objects = json_object_get(root, "objects");
	for (size_t i = 0; i < f->nrecords && rc == 0; i++) {
		const lethe_found_record *r = &f->records[i];

		if ((rc = add_path(&p, in->ev, r->commit, r->path)) < 0)
			break;
		if (json_array_append_new(records, json_pack("{s:I, s:s, s:s}", "seq", (json_int_t)r->seq,
							     "commit", r->commit, "path", r->path)) < 0)
			rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		else if (lethe_found_is(r, "completion") && closes_erasure(f, r))
			rc = erasure_digests(&p, files, in, r);
	}
	for (size_t i = 0; i < f->nrows && rc == 0; i++) {
		const lethe_found_row *w = &f->rows[i];
		const lethe_found_record *r = &f->records[w->completion];

		if ((rc = add_path(&p, in->ev, r->commit, w->digests_path)) < 0)
			break;
		if (json_array_append_new(rows, json_pack("{s:s, s:s, s:I, s:s}", "rule", w->rule,
							  "digest", w->digest, "record",
							  (json_int_t)r->seq, "path",
							  w->digests_path)) < 0)
			rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	if (rc < 0) {
		json_decref(root);
		return rc;
	}
	*out = root;
	return 0;
}

int lethe_proof_kept(json_t **out, lethe_backend *be, const lethe_policy *p,
		     const lethe_value *subject, lethe_day as_of)
{
	lethe_plan_scope scope = { 0 };
	lethe_plan *plan = NULL;
	json_t *kept = json_array();
	int rc;

	if (!kept)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	if ((rc = lethe_plan_scope_init(&scope, p, subject, 0)) < 0 ||
	    (rc = lethe_plan_new_scoped(&plan, be, p, as_of, &scope)) < 0)
		goto out;
	for (size_t i = 0; i < plan->nrules; i++) {
		const lethe_rule_plan *rp = &plan->rules[i];
		char next[11] = "", last[11] = "";
		json_t *o;

		if (!rp->rule->subject || rp->in_scope == 0)
			continue;
		if (rp->has_next_due) {
			lethe_day_format(rp->next_due, next);
			lethe_day_format(rp->last_due, last);
		}
		o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s?, s:s?}", "rule",
			      rp->rule->name, "table", rp->rule->table, "basis", rp->rule->basis,
			      "action", lethe_action_name(rp->rule->action), "rows",
			      (json_int_t)rp->in_scope, "due", (json_int_t)rp->due, "held",
			      (json_int_t)rp->held, "not_started", (json_int_t)rp->not_started,
			      "next_due", *next ? next : NULL, "last_due", *last ? last : NULL);
		if (json_array_append_new(kept, o) < 0) {
			rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
			goto out;
		}
	}
out:
	lethe_plan_free(plan);
	lethe_plan_scope_release(&scope);
	if (rc < 0) {
		json_decref(kept);
		return rc;
	}
	*out = kept;
	return 0;
}

void lethe_row_queries_release(lethe_row_queries *q)
{
	if (!q)
		return;
	free(q->q);
	free(q->digest);
	memset(q, 0, sizeof(*q));
}

/* key typed for column c (NULL: the rowid), as lethe_subject_parse does. */
static void typed_key(lethe_value *v, const lethe_column_info *c, const char *key)
{
	char up[64];
	size_t i = 0;
	char *end;

	v->type = LETHE_VALUE_TEXT;
	v->s = key;
	v->len = strlen(key);
	if (c)
		for (; i + 1 < sizeof(up) && c->decl_type[i]; i++)
			up[i] = (char)(c->decl_type[i] >= 'a' && c->decl_type[i] <= 'z' ?
				       c->decl_type[i] - 32 : c->decl_type[i]);
	up[i] = '\0';
	if ((!c || strstr(up, "INT")) && *key) {
		long long n;

		errno = 0;
		n = strtoll(key, &end, 10);
		if (!*end && errno == 0) {
			v->type = LETHE_VALUE_INTEGER;
			v->i = n;
		}
	}
}

int lethe_row_queries_for(lethe_row_queries *out, lethe_backend *be, const lethe_policy *p,
			  const lethe_token_key *k, const char *table, const char *only_key,
			  const char *key)
{
	lethe_row_queries q = { 0 };
	lethe_table_info *t = NULL;
	int rc;

	if ((rc = lethe_backend_table_info(&t, be, table)) < 0)
		return rc;
	if (!(q.q = calloc(p->nrules + 1, sizeof(*q.q))) ||
	    !(q.digest = calloc(p->nrules + 1, sizeof(*q.digest)))) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < p->nrules; i++) {
		const lethe_rule *r = &p->rules[i];
		const char *col;
		lethe_value v;

		if (strcasecmp(r->table, table) || !(col = lethe_rule_key(r, t)))
			continue;
		if (only_key && strcasecmp(col, only_key))
			continue;
		typed_key(&v, lethe_table_column(t, col), key);
		lethe_record_row_digest(q.digest[q.n], k, r->name, &v);
		q.q[q.n].rule = r->name;
		q.q[q.n].digest = q.digest[q.n];
		q.n++;
	}
	*out = q;
	memset(&q, 0, sizeof(q));
out:
	lethe_row_queries_release(&q);
	lethe_table_info_free(t);
	return rc;
}

int lethe_proof_write(const char *path, const json_t *proof)
{
	char *text = json_dumps(proof, JSON_INDENT(1) | JSON_SORT_KEYS);
	int rc;

	if (!text)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	rc = lethe_file_create_new(path, 0600, text, strlen(text), "proof");
	free(text);
	return rc;
}
