/*
 * evidence_find.c - the records of main that concern one data subject or
 * one row (lethe/proof.h): what `lethe digest` prints and `lethe prove`
 * packs.
 *
 * Invariants:
 *  - Reads main at one head: the records are listed from its tree, and the
 *    commit of record N is the N-th commit of main's first-parent history
 *    (sequence numbers start at 1 and grow by one per commit; the verifier
 *    checks it, and a proof's verifier checks each commit's message).
 *  - A digest file is searched as the format writes it: sorted lines of 64
 *    hex digits, each ended by a newline.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "lethe/proof.h"
#include "lethe/record.h"
#include "lethe/token.h"

typedef struct {
	lethe_evidence *ev;
	lethe_evidence_findings *f;
	char *ids;
	size_t nids;
	int rc;
} find_walk;

int lethe_found_is(const lethe_found_record *r, const char *kind)
{
	const char *k = json_string_value(json_object_get(r->record, "kind"));

	return k && !strcmp(k, kind);
}

void lethe_evidence_findings_free(lethe_evidence_findings *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nrecords; i++) {
		free(f->records[i].path);
		json_decref(f->records[i].record);
	}
	for (size_t i = 0; i < f->nrows; i++)
		free(f->rows[i].digests_path);
	free(f->records);
	free(f->rows);
	free(f);
}

/* Every record of main, parsed, in sequence order (the tree lists them so). */
static int list_record(void *vctx, const char *path, const char *blob)
{
	find_walk *w = vctx;
	lethe_evidence_findings *f = w->f;
	lethe_found_record *r;
	lethe_record_kind kind;
	json_error_t err;
	char *data = NULL;
	size_t len = 0;
	int64_t seq;
	int rc;

	if (lethe_record_path_parse(path, &seq, &kind) != 0) {
		/* a kind this version does not write (e.g. an approval): by its name */
		const char *base = strrchr(path, '/');
		long long n;
		char k[32];

		if (!base || sscanf(base + 1, "%8lld-%31[a-z].json", &n, k) != 2)
			return 0;
		seq = n;
	}
	if (seq < 1 || (size_t)seq > w->nids)
		return lethe_error_set(LETHE_EDATA, "record '%s' has no commit on main", path);
	if ((rc = lethe_evidence_read_blob(&data, &len, w->ev, blob)) < 0)
		return rc;
	if (f->nrecords % 64 == 0) {
		lethe_found_record *grown = realloc(f->records, (f->nrecords + 64) * sizeof(*grown));

		if (!grown) {
			free(data);
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		}
		f->records = grown;
	}
	r = &f->records[f->nrecords];
	memset(r, 0, sizeof(*r));
	r->seq = seq;
	memcpy(r->commit, w->ids + 41 * (size_t)(seq - 1), 41);
	r->record = json_loadb(data, len, 0, &err);
	free(data);
	if (!json_is_object(r->record) || !(r->path = strdup(path))) {
		json_decref(r->record);
		return lethe_error_set(LETHE_EDATA, "record '%s' is not a JSON object", path);
	}
	f->nrecords++;
	return 0;
}

static const char *str(const json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

/* Whether the sorted digest file data holds the line digest. */
static int holds_line(const char *data, size_t len, const char *digest)
{
	size_t lo = 0, hi = len / (LETHE_DIGEST_LEN + 1);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(data + mid * (LETHE_DIGEST_LEN + 1), digest, LETHE_DIGEST_LEN);

		if (c == 0)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int add_row(lethe_evidence_findings *f, const lethe_row_query *q, size_t completion,
		   const char *path)
{
	lethe_found_row *grown = realloc(f->rows, (f->nrows + 1) * sizeof(*grown));

	if (!grown)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	f->rows = grown;
	f->rows[f->nrows] = (lethe_found_row){ q->rule, q->digest, completion, strdup(path) };
	if (!f->rows[f->nrows].digests_path)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	f->nrows++;
	return 0;
}

/* Each completion's digest file of q->rule that holds q->digest. */
static int find_row(lethe_evidence_findings *f, lethe_evidence *ev, const lethe_row_query *q)
{
	for (size_t i = 0; i < f->nrecords; i++) {
		json_t *rules = json_object_get(f->records[i].record, "rules"), *rule;
		size_t k;

		if (!lethe_found_is(&f->records[i], "completion"))
			continue;
		json_array_foreach(rules, k, rule) {
			const char *path = str(json_object_get(rule, "digests"), "path");
			char *data = NULL;
			size_t len = 0;
			int rc, hit;

			if (!path || !str(rule, "name") || strcmp(str(rule, "name"), q->rule))
				continue;
			if ((rc = lethe_evidence_read(&data, &len, ev, f->head, path)) < 0)
				return rc;
			hit = holds_line(data, len, q->digest);
			free(data);
			if (hit && (rc = add_row(f, q, i, path)) < 0)
				return rc;
		}
	}
	return 0;
}

/* Whether record r concerns the subject: names it, or closes an erasure or
 * releases a hold kept already (earlier in sequence order). */
static int concerns(const lethe_evidence_findings *f, size_t upto, const json_t *r,
		    const char *subject)
{
	const char *s = str(r, "subject"), *kind = str(r, "kind");

	if (!kind)
		return 0;
	if (s && !strcmp(s, subject))
		return 1;
	for (size_t i = 0; i < upto; i++) {
		const json_t *o = f->records[i].record;

		if (!strcmp(kind, "release") && json_equal(json_object_get(o, "hold_id"),
							   json_object_get(r, "hold_id")) &&
		    lethe_found_is(&f->records[i], "hold"))
			return 1;
		if ((!strcmp(kind, "completion") || !strcmp(kind, "abort")) &&
		    lethe_found_is(&f->records[i], "intent") && str(o, "run_id") &&
		    str(r, "run_id") && !strcmp(str(o, "run_id"), str(r, "run_id")))
			return 1;
	}
	return 0;
}

/* Keep the records concerning the subject or holding a found row. */
static void keep_relevant(lethe_evidence_findings *f, const char *subject)
{
	size_t kept = 0;

	for (size_t i = 0; i < f->nrecords; i++) {
		int keep = subject && concerns(f, kept, f->records[i].record, subject);

		for (size_t r = 0; r < f->nrows && !keep; r++)
			keep = f->rows[r].completion == i;
		if (!keep) {
			free(f->records[i].path);
			json_decref(f->records[i].record);
			continue;
		}
		for (size_t r = 0; r < f->nrows; r++)
			if (f->rows[r].completion == i)
				f->rows[r].completion = kept;
		f->records[kept++] = f->records[i];
	}
	f->nrecords = kept;
}

int lethe_evidence_find(lethe_evidence_findings **out, lethe_evidence *ev, const char *subject,
			const lethe_row_query *rows, size_t nrows)
{
	return lethe_evidence_records_matching(out, ev, subject, rows, nrows, 0);
}

int lethe_evidence_records(lethe_evidence_findings **out, lethe_evidence *ev)
{
	return lethe_evidence_records_matching(out, ev, NULL, NULL, 0, 1);
}

int lethe_evidence_records_matching(lethe_evidence_findings **out, lethe_evidence *ev,
				    const char *subject, const lethe_row_query *rows, size_t nrows,
				    int all)
{
	find_walk w = { ev, NULL, NULL, 0, 0 };
	int rc;

	if (!(w.f = calloc(1, sizeof(*w.f))))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	if ((rc = lethe_evidence_history(&w.ids, &w.nids, ev)) < 0)
		goto out;
	if (w.nids == 0) {
		*out = w.f;
		w.f = NULL;
		goto out;
	}
	memcpy(w.f->head, w.ids + 41 * (w.nids - 1), 41);
	w.f->head_seq = (int64_t)w.nids;
	if ((rc = lethe_evidence_list(ev, w.f->head, "records", list_record, &w)) < 0)
		goto out;
	for (size_t i = 0; i < nrows && rc == 0; i++)
		rc = find_row(w.f, ev, &rows[i]);
	if (rc < 0)
		goto out;
	if (!all)
		keep_relevant(w.f, subject);
	*out = w.f;
	w.f = NULL;
out:
	lethe_evidence_findings_free(w.f);
	free(w.ids);
	return rc;
}
