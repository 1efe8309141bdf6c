/*
 * record_io.c - the files of a record's commit, the commit itself, and
 * reading records back (lethe/record.h).
 *
 * Invariants:
 *  - A record commit adds exactly one records/SSSSS/NNNNNNNN-KIND.json whose
 *    `files` lists, with SHA-256, every other file the commit adds.
 *  - The last record is found by listing records/ of main, never from local
 *    state, so two sites writing one repository collide on the
 *    compare-and-swap of main instead of forking the history.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "lethe/record.h"
#include "util.h"
#include "vec.h"

void lethe_record_files_free(lethe_record_files *f)
{
	for (size_t i = 0; i < f->nowned; i++)
		free(f->owned[i]);
	free(f->owned);
	free(f->items);
	free(f->sha);
	memset(f, 0, sizeof(*f));
}

int lethe_record_files_own(lethe_record_files *f, void *p)
{
	int rc = LETHE_VEC_RESERVE(f->owned, f->nowned + 1, f->capowned);

	if (rc < 0) {
		free(p);
		return rc;
	}
	f->owned[f->nowned++] = p;
	return 0;
}

int lethe_record_files_add(lethe_record_files *f, const char *path, char *data, size_t len)
{
	char *p;
	int rc;

	if (data && (rc = lethe_record_files_own(f, data)) < 0)
		return rc;
	if (!(p = strdup(path)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	if ((rc = lethe_record_files_own(f, p)) < 0 ||
	    (rc = LETHE_VEC_RESERVE(f->items, f->n + 1, f->cap)) < 0 ||
	    (rc = LETHE_VEC_RESERVE(f->sha, f->n + 1, f->shacap)) < 0)
		return rc;
	memset(&f->items[f->n], 0, sizeof(f->items[f->n]));
	f->items[f->n].path = p;
	f->items[f->n].data = data ? data : "";
	f->items[f->n].len = len;
	f->items[f->n].remove = data == NULL;
	f->sha[f->n][0] = '\0';
	f->n++;
	return 0;
}

int lethe_record_files_add_stream(lethe_record_files *f, const char *path, const char *sha256, size_t len,
				  int (*stream)(void *ctx, int (*write)(void *wctx, const void *buf,
									size_t len),
						void *wctx),
				  void *ctx)
{
	int rc = lethe_record_files_add(f, path, NULL, 0);

	if (rc < 0)
		return rc;
	snprintf(f->sha[f->n - 1], sizeof(f->sha[f->n - 1]), "%s", sha256);
	f->items[f->n - 1].remove = 0;
	f->items[f->n - 1].stream = stream;
	f->items[f->n - 1].len = len;
	f->items[f->n - 1].stream_ctx = ctx;
	return 0;
}

int lethe_record_files_add_blob(lethe_record_files *f, const char *path, const char *sha256,
				const char *blob)
{
	char *id = strdup(blob);
	int rc;

	if (!id)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	if ((rc = lethe_record_files_own(f, id)) < 0 || (rc = lethe_record_files_add(f, path, NULL, 0)) < 0)
		return rc;
	snprintf(f->sha[f->n - 1], sizeof(f->sha[f->n - 1]), "%s", sha256);
	f->items[f->n - 1].remove = 0;
	f->items[f->n - 1].blob = id;
	return 0;
}

int lethe_record_commit(char oid[41], lethe_evidence *ev, const lethe_sshkey *key, json_t *record,
			lethe_record_files *f, const char *label, const char *run_id)
{
	json_t *files = json_array();
	const char *kind_name = json_string_value(json_object_get(record, "kind"));
	int64_t seq = json_integer_value(json_object_get(record, "seq"));
	char path[LETHE_RECORD_PATH_SIZE], hex[LETHE_SHA256_HEX_SIZE], *text = NULL, *msg = NULL;
	char *what = NULL;
	lethe_record_kind kind;
	int rc;

	if (!record || !files) {
		json_decref(files);
		json_decref(record);
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	if (lethe_record_kind_parse(&kind, kind_name) < 0 || seq <= 0) {
		json_decref(files);
		json_decref(record);
		return lethe_error_set(LETHE_ESOFTWARE, "a record without its kind or seq");
	}
	for (size_t i = 0; i < f->n; i++) {
		const lethe_evidence_change *ch = &f->items[i];

		if (ch->remove)
			continue;
		if (ch->stream || ch->blob)
			memcpy(hex, f->sha[i], sizeof(hex));
		else
			lethe_sha256_hex(hex, ch->data, ch->len);
		json_array_append_new(files, json_pack("{s:s, s:s}", "path", ch->path, "sha256", hex));
	}
	json_object_set_new(record, "files", files);
	text = json_dumps(record, JSON_INDENT(2) | JSON_SORT_KEYS);
	if ((run_id || !label) && (rc = lethe_record_describe(&what, record)) < 0) {
		free(text);
		json_decref(record);
		return rc;
	}
	json_decref(record);
	if (!text) {
		free(what);
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	/* a run's record that names who acted (an erasure's intent): "... LABEL
	 * RUNID by WHO"; other records: "... DESCRIPTION" */
	if (run_id && what) {
		char *tail = NULL;

		if (asprintf(&tail, "%s %s", run_id, what) < 0)
			tail = NULL;
		free(what);
		what = tail;
		if (!what) {
			free(text);
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		}
	}
	lethe_record_path(path, seq, kind);
	if ((rc = lethe_record_files_add(f, path, text, strlen(text))) < 0 ||
	    (rc = lethe_record_message(&msg, kind, seq, run_id || !what ? label : what,
				       run_id && what ? what : run_id)) < 0) {
		free(what);
		return rc;
	}
	rc = lethe_evidence_commit(oid, ev, key, f->items, f->n, msg);
	free(what);
	free(msg);
	return rc;
}

int lethe_record_load(json_t **out, lethe_evidence *ev, const char *commit, const char *path)
{
	char *data = NULL;
	size_t len = 0;
	json_error_t jerr;
	int rc;

	*out = NULL;
	if ((rc = lethe_evidence_read(&data, &len, ev, commit, path)) < 0)
		return rc;
	*out = json_loadb(data, len, 0, &jerr);
	free(data);
	if (!*out)
		return lethe_error_set(LETHE_EDATA, "evidence record '%s' is not valid json: %s", path,
				       jerr.text);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return lethe_error_set(LETHE_EDATA, "evidence record '%s' of commit %s is not a "
				       "JSON object", path, commit);
	}
	return 0;
}

int lethe_record_read(json_t **out, lethe_evidence *ev, const char *commit, int64_t seq,
		      lethe_record_kind k)
{
	char path[LETHE_RECORD_PATH_SIZE];

	lethe_record_path(path, seq, k);
	return lethe_record_load(out, ev, commit, path);
}

/* The last path of the listing (records come in seq order, their names
 * being zero-padded). */
static int remember_last(void *ctx, const char *path, const char *blob)
{
	char **last = ctx, *copy = strdup(path);

	(void)blob;
	if (!copy)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	free(*last);
	*last = copy;
	return 0;
}

int lethe_record_last(int64_t *seq, json_t **out, lethe_evidence *ev)
{
	char head[41], *last = NULL;
	lethe_record_kind kind;
	int rc;

	*seq = 0;
	*out = NULL;
	rc = lethe_evidence_head(head, ev);
	if (rc == LETHE_ENOTFOUND)
		return 0;
	if (rc < 0 || (rc = lethe_evidence_list(ev, head, "records", remember_last, &last)) < 0)
		goto out;
	if (!last) {
		rc = lethe_error_set(LETHE_EDATA, "evidence repository has commits but no records");
		goto out;
	}
	if (lethe_record_path_parse(last, seq, &kind) < 0) {
		rc = lethe_error_set(LETHE_EDATA, "evidence: '%s' is not a record's name", last);
		goto out;
	}
	rc = lethe_record_load(out, ev, head, last);
out:
	free(last);
	return rc;
}

typedef struct {
	lethe_record_kind kind;
	char *last;
} latest_of;

/* The last path of the listing of that kind (records come in seq order). */
static int remember_kind(void *ctx, const char *path, const char *blob)
{
	latest_of *l = ctx;
	lethe_record_kind k;
	int64_t seq;
	char *copy;

	(void)blob;
	if (lethe_record_path_parse(path, &seq, &k) < 0 || k != l->kind)
		return 0;
	if (!(copy = strdup(path)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	free(l->last);
	l->last = copy;
	return 0;
}

int lethe_record_latest(int64_t *seq, json_t **out, lethe_evidence *ev, lethe_record_kind k)
{
	latest_of l = { k, NULL };
	lethe_record_kind got;
	char head[41];
	int rc;

	*seq = 0;
	*out = NULL;
	rc = lethe_evidence_head(head, ev);
	if (rc == LETHE_ENOTFOUND)
		return 0;
	if (rc < 0 || (rc = lethe_evidence_list(ev, head, "records", remember_kind, &l)) < 0 ||
	    !l.last)
		goto out;
	if ((rc = lethe_record_path_parse(l.last, seq, &got)) == 0)
		rc = lethe_record_load(out, ev, head, l.last);
out:
	free(l.last);
	return rc;
}
