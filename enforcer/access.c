/*
 * access.c - a data subject's export (lethe/access.h): the subject's rows of
 * the subject table and of every rule's table through its `subject`
 * expression, one JSON file per table, and summary.txt, in a zip or tar.gz
 * archive written with libarchive.
 *
 * Invariants:
 *  - The only module of lethe that includes archive.h.
 *  - Rows are read read-only; a table covered by several rules is read once,
 *    with the rules' scopes joined by OR, so each row appears once.
 *  - The archive goes straight to a file this module created (O_EXCL,
 *    O_NOFOLLOW, 0600); its SHA-256 is computed from the bytes as they are
 *    written. Any failure removes the file: no partial export is left.
 *  - JSON values: INTEGER and REAL as numbers, TEXT as strings, BLOB (and
 *    text that is not UTF-8) as {"base64": "..."} of its bytes, NULL as null.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "access_impl.h"
#include "util.h"
#include "lethe/error.h"
#include "lethe/plan.h"

int lethe_access_format(lethe_archive_format *out, const char *path)
{
	size_t n = strlen(path);

	if (n > 4 && !strcasecmp(path + n - 4, ".zip")) {
		*out = LETHE_ARCHIVE_ZIP;
		return 0;
	}
	if (n > 7 && !strcasecmp(path + n - 7, ".tar.gz")) {
		*out = LETHE_ARCHIVE_TAR_GZ;
		return 0;
	}
	return lethe_error_set(LETHE_EUSAGE, "'%s': the output must end in .zip or .tar.gz", path);
}

void lethe_access_result_free(lethe_access_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->ntables; i++) {
		free(r->tables[i].table);
		free(r->tables[i].file);
	}
	free(r->tables);
	free(r);
}

/* --- the archive, hashed as it is written ------------------------------------ */

typedef struct {
	int fd;
	crypto_hash_sha256_state sha;
} sink;

static la_ssize_t sink_write(struct archive *a, void *ctx, const void *buf, size_t len)
{
	sink *s = ctx;
	const char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(s->fd, p + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			archive_set_error(a, errno, "%s", strerror(errno));
			return -1;
		}
		done += (size_t)n;
	}
	crypto_hash_sha256_update(&s->sha, buf, len);
	return (la_ssize_t)len;
}

static int add_entry(struct archive *a, const char *name, const char *data, size_t len)
{
	struct archive_entry *e = archive_entry_new();
	int ok;

	if (!e)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0600);
	archive_entry_set_mtime(e, time(NULL), 0);
	ok = archive_write_header(a, e) == ARCHIVE_OK &&
	     (len == 0 || archive_write_data(a, data, len) == (la_ssize_t)len);
	archive_entry_free(e);
	if (!ok)
		return lethe_error_set(LETHE_EIO, "cannot write '%s' into the archive: %s", name,
				       archive_error_string(a));
	return 0;
}

/* --- rows as JSON ------------------------------------------------------------- */

static json_t *base64(const char *data, size_t len)
{
	size_t n = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
	char *b = malloc(n);
	json_t *v;

	if (!b)
		return NULL;
	sodium_bin2base64(b, n, (const unsigned char *)data, len, sodium_base64_VARIANT_ORIGINAL);
	v = json_pack("{s:s}", "base64", b);
	free(b);
	return v;
}

static json_t *value_json(const lethe_value *v)
{
	json_t *j;
	char buf[32];

	switch (v->type) {
	case LETHE_VALUE_INTEGER:
		return json_integer((json_int_t)v->i);
	case LETHE_VALUE_REAL:
		/* jansson refuses infinities: give them as text */
		if ((j = json_real(v->r)))
			return j;
		snprintf(buf, sizeof(buf), "%.17g", v->r);
		return json_string(buf);
	case LETHE_VALUE_TEXT:
		if ((j = json_stringn(v->s ? v->s : "", v->len)))
			return j;
		return base64(v->s, v->len);
	case LETHE_VALUE_BLOB:
		return base64(v->s, v->len);
	default:
		return json_null();
	}
}

typedef struct {
	json_t *rows;
	int rc;
} row_ctx;

static int add_row(void *vctx, size_t ncols, const char *const *names, const lethe_value *values)
{
	row_ctx *ctx = vctx;
	json_t *row = json_object();

	if (!row)
		return ctx->rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	for (size_t i = 0; i < ncols; i++) {
		json_t *v = value_json(&values[i]);

		if (!v || json_object_set_new(row, names[i], v) < 0) {
			json_decref(row);
			return ctx->rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		}
	}
	json_array_append_new(ctx->rows, row);
	return 0;
}

/* --- which rows of which table --------------------------------------------- */

/* The subject table's match: "KEY" = :lethe_subject, the key quoted. */
static char *key_match(const lethe_policy *p)
{
	size_t n = strlen(p->subject_key);
	char *w = malloc(2 * n + 32), *o = w;

	if (!w)
		return NULL;
	*o++ = '"';
	for (const char *k = p->subject_key; *k; k++) {
		if (*k == '"')
			*o++ = '"';
		*o++ = *k;
	}
	strcpy(o, "\" = :lethe_subject");
	return w;
}

/* Append "(\nexpr\n)" to *where, joined by OR. 0 or -1 (out of memory). */
static int or_append(char **where, const char *expr)
{
	char *joined = NULL;
	int n = *where ? asprintf(&joined, "%s OR (\n%s\n)", *where, expr)
		       : asprintf(&joined, "(\n%s\n)", expr);

	if (n < 0)
		return -1;
	free(*where);
	*where = joined;
	return 0;
}

/* The file name of a table: characters other than letters, digits, '_',
 * '-' and '.' become '_', and a leading '.' too, so no name can leave the
 * archive's top folder. */
static char *file_name(const char *table)
{
	char *f = malloc(strlen(table) + 6);
	size_t i = 0;

	if (!f)
		return NULL;
	for (; table[i]; i++) {
		char c = table[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == '_' || c == '-' || (c == '.' && i > 0);

		f[i] = ok ? c : '_';
	}
	strcpy(f + i, ".json");
	return f;
}

/* The tables to export (subject table first, then rules' tables in policy
 * order, each once) with their joined where; scope is an erasure scope,
 * whose `from` is each rule's bare subject match. */
static int gather_tables(lethe_access_result *res, char ***wheres, const lethe_policy *p,
			 const lethe_plan_scope *scope)
{
	size_t cap = p->nrules + 1;
	char **w = calloc(cap, sizeof(char *));
	char *km = key_match(p);
	int rc = 0;

	res->tables = calloc(cap, sizeof(*res->tables));
	if (!w || !km || !res->tables)
		goto oom;
	for (size_t i = 0; i <= p->nrules; i++) {
		const char *table = i == 0 ? p->subject_table : p->rules[i - 1].table;
		/* the subject match alone: rows outside a rule's `where` (an
		 * open order) are the subject's data too */
		const char *expr = i == 0 ? km : scope->from[i - 1];
		size_t t = 0;

		if (i > 0 && !p->rules[i - 1].subject)
			continue;
		while (t < res->ntables && strcasecmp(res->tables[t].table, table))
			t++;
		if (t == res->ntables) {
			if (!(res->tables[t].table = strdup(table)) ||
			    !(res->tables[t].file = file_name(table)))
				goto oom;
			res->ntables++;
		}
		if (or_append(&w[t], expr) < 0)
			goto oom;
	}
	*wheres = w;
	free(km);
	return 0;
oom:
	rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	for (size_t i = 0; w && i < cap; i++)
		free(w[i]);
	free(w);
	free(km);
	return rc;
}

static int export_table(struct archive *a, lethe_access_table *t, lethe_backend *be,
			const char *where, const lethe_value *subject)
{
	row_ctx ctx = { json_array(), 0 };
	json_t *doc = NULL;
	char *text = NULL;
	int rc;

	if (!ctx.rows)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	rc = lethe_backend_rows(be, t->table, where, subject, add_row, &ctx);
	if (rc != 0) {
		rc = ctx.rc ? ctx.rc : rc;
		goto out;
	}
	t->rows = (int64_t)json_array_size(ctx.rows);
	doc = json_pack("{s:s, s:I, s:O}", "table", t->table, "rows_count", (json_int_t)t->rows,
			"rows", ctx.rows);
	if (!doc || !(text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER))) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	rc = add_entry(a, t->file, text, strlen(text));
out:
	free(text);
	json_decref(doc);
	json_decref(ctx.rows);
	return rc;
}

/* --- the export ---------------------------------------------------------- */

static int open_archive(struct archive **out, lethe_archive_format f, sink *s)
{
	struct archive *a = archive_write_new();
	int ok;

	if (!a)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	if (f == LETHE_ARCHIVE_ZIP)
		ok = archive_write_set_format_zip(a) == ARCHIVE_OK;
	else
		ok = archive_write_set_format_pax_restricted(a) == ARCHIVE_OK &&
		     archive_write_add_filter_gzip(a) == ARCHIVE_OK;
	ok = ok && archive_write_set_bytes_in_last_block(a, 1) == ARCHIVE_OK &&
	     archive_write_open(a, s, NULL, sink_write, NULL) == ARCHIVE_OK;
	if (!ok) {
		lethe_error_set(LETHE_ESOFTWARE, "cannot start the archive: %s", archive_error_string(a));
		archive_write_free(a);
		return LETHE_ESOFTWARE;
	}
	*out = a;
	return 0;
}

static int write_export(lethe_access_result *res, sink *s, lethe_archive_format f,
			lethe_backend *be, const lethe_policy *p, const lethe_subject *subj,
			lethe_day as_of)
{
	lethe_plan_scope scope = { 0 };
	struct archive *a = NULL;
	char **wheres = NULL, *summary = NULL;
	size_t nwheres = p->nrules + 1, slen = 0;
	int rc;

	if ((rc = lethe_plan_scope_init(&scope, p, &subj->value, 1)) < 0 ||
	    (rc = gather_tables(res, &wheres, p, &scope)) < 0 || (rc = open_archive(&a, f, s)) < 0)
		goto out;
	for (size_t i = 0; i < res->ntables; i++)
		if ((rc = export_table(a, &res->tables[i], be, wheres[i], &subj->value)) < 0)
			goto out;
	if ((rc = lethe_access_summary(&summary, &slen, be, p, subj, as_of, res)) < 0 ||
	    (rc = add_entry(a, "summary.txt", summary, slen)) < 0)
		goto out;
	if (archive_write_close(a) != ARCHIVE_OK)
		rc = lethe_error_set(LETHE_EIO, "cannot finish the archive: %s", archive_error_string(a));
out:
	if (a)
		archive_write_free(a);
	for (size_t i = 0; wheres && i < nwheres; i++)
		free(wheres[i]);
	free(wheres);
	free(summary);
	lethe_plan_scope_release(&scope);
	return rc;
}

int lethe_access_export(lethe_access_result **out, lethe_backend *be, const lethe_policy *p,
			const lethe_subject *s, lethe_day as_of, const char *path)
{
	lethe_archive_format f = LETHE_ARCHIVE_ZIP; /* written by lethe_access_format; set for -O3 */
	lethe_access_result *res = NULL;
	sink snk = { .fd = -1 };
	int rc, bad, err;

	if ((rc = lethe_access_format(&f, path)) < 0)
		return rc;
	if (!p->subject_table || !p->subject_key)
		return lethe_error_set(LETHE_ECONFIG, "the policy names no data subject");
	if (sodium_init() < 0)
		return lethe_error_set(LETHE_ESOFTWARE, "cannot initialise libsodium");
	if (!(res = calloc(1, sizeof(*res))))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	snk.fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (snk.fd < 0) {
		rc = lethe_error_set(errno == EEXIST ? LETHE_ECANTCREAT :
				     errno == EACCES ? LETHE_ENOPERM : LETHE_ECANTCREAT,
				     errno == EEXIST ? "'%s' exists; an export never overwrites%s"
						     : "cannot create '%s': %s",
				     path, errno == EEXIST ? "" : strerror(errno));
		goto out;
	}
	crypto_hash_sha256_init(&snk.sha);
	if ((rc = write_export(res, &snk, f, be, p, s, as_of)) < 0)
		goto out;
	bad = fsync(snk.fd) != 0;
	err = errno;
	if (close(snk.fd) != 0 && !bad) {
		bad = 1;
		err = errno;
	}
	snk.fd = -2;   /* closed: still ours to remove on failure */
	if (bad) {
		rc = lethe_error_set(LETHE_EIO, "cannot write '%s': %s", path, strerror(err));
		goto out;
	}
	lethe_sha256_final_hex(res->sha256, &snk.sha);
	*out = res;
	res = NULL;
out:
	if (snk.fd >= 0)
		close(snk.fd);
	if (rc < 0 && snk.fd != -1)
		unlink(path);   /* created by us: no partial export stays */
	lethe_access_result_free(res);
	return rc;
}
