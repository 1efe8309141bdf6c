/*
 * runlog.c - the evidence records of a run, per docs/evidence-format.md.
 *
 * Invariants:
 *  - Every record commit adds exactly one records/SSSSS/NNNNNNNN-KIND.json whose
 *    `files` lists, with SHA-256, every other file the commit adds.
 *  - Sequence numbers come from the last record in the repository, never
 *    from local state, so two sites writing one repository would collide on
 *    the compare-and-swap of main instead of forking the history.
 *  - Counts of disposed rows in a completion are the marker's: what the
 *    database committed, whether the run ended normally or was recovered.
 */
#include <inttypes.h>
#include <jansson.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "lethe/dispose.h"
#include "lethe/error.h"
#include "lethe/evidence_tip.h"
#include "lethe/runlog.h"
#include "testhook.h"

struct lethe_runlog {
	const lethe_runlog_env *env;
	lethe_day as_of;
	char run_id[33];
	char started_at[21];
	int64_t intent_seq;     /* 0 until the intent is recorded */
};

/* The files of one commit. Growable: a run has one digest file per rule
 * that disposed of something, and a policy may have any number of rules.
 * Owner: the changes own every pointer in `owned` (paths, data and stream
 * contexts of items); changes_free releases them and the arrays. */
typedef struct {
	lethe_evidence_change *items;
	char (*sha)[65];        /* per item: SHA-256 of a streamed item, known beforehand */
	size_t n, cap;
	void **owned;
	size_t nowned, capowned;
} changes;

static void changes_free(changes *c)
{
	for (size_t i = 0; i < c->nowned; i++)
		free(c->owned[i]);
	free(c->owned);
	free(c->items);
	free(c->sha);
	memset(c, 0, sizeof(*c));
}

/* Take over p (freed at once when it cannot be recorded). */
static int changes_own(changes *c, void *p)
{
	if (c->nowned == c->capowned) {
		size_t cap = c->capowned ? 2 * c->capowned : 16;
		void **more = realloc(c->owned, cap * sizeof(*more));

		if (!more) {
			free(p);
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		}
		c->owned = more;
		c->capowned = cap;
	}
	c->owned[c->nowned++] = p;
	return 0;
}

/* Room for one more item. */
static int changes_reserve(changes *c)
{
	size_t cap = c->cap ? 2 * c->cap : 16;
	lethe_evidence_change *items;
	char (*sha)[65];

	if (c->n < c->cap)
		return 0;
	if (!(items = realloc(c->items, cap * sizeof(*items))))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	c->items = items;
	if (!(sha = realloc(c->sha, cap * sizeof(*sha))))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	c->sha = sha;
	c->cap = cap;
	return 0;
}

/* Add a file (data taken over) or, with data NULL, remove a path. */
static int changes_add(changes *c, const char *path, char *data, size_t len)
{
	char *p;
	int rc;

	if (data && (rc = changes_own(c, data)) < 0)
		return rc;
	if (!(p = strdup(path)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	if ((rc = changes_own(c, p)) < 0 || (rc = changes_reserve(c)) < 0)
		return rc;
	memset(&c->items[c->n], 0, sizeof(c->items[c->n]));
	c->items[c->n].path = p;
	c->items[c->n].data = data ? data : "";
	c->items[c->n].len = len;
	c->items[c->n].remove = data == NULL;
	c->sha[c->n][0] = '\0';
	c->n++;
	return 0;
}

static void now_iso(char out[21])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void sha256_hex(char out[65], const void *data, size_t len)
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, data, len);
	sodium_bin2hex(out, 65, h, sizeof(h));
}

static json_t *base_record(const char *kind, int64_t seq)
{
	char host[256] = "", at[21];

	if (gethostname(host, sizeof(host) - 1) != 0)
		strcpy(host, "unknown");
	now_iso(at);
	return json_pack("{s:i, s:s, s:I, s:s, s:s, s:s}", "lethe_evidence", 1, "kind", kind,
			 "seq", (json_int_t)seq, "tool", "lethe " LETHE_VERSION, "host", host, "at", at);
}

/* The last record of the repository: its seq, and the parsed JSON (or NULL
 * when the repository is empty). */
typedef struct {
	char *last;     /* malloc'd; NULL until a record is seen */
} last_path;

static int remember_last(void *ctx, const char *path, const char *blob)
{
	last_path *lp = ctx;
	char *copy = strdup(path);

	(void)blob;
	if (!copy)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	free(lp->last);
	lp->last = copy;
	return 0;
}

static int last_record(int64_t *seq, json_t **record, lethe_evidence *ev)
{
	char head[41], *data = NULL;
	size_t len = 0;
	last_path lp = { NULL };
	json_error_t jerr;
	const char *base;
	int rc;

	*seq = 0;
	*record = NULL;
	rc = lethe_evidence_head(head, ev);
	if (rc == LETHE_ENOTFOUND)
		return 0;
	if (rc < 0 || (rc = lethe_evidence_list(ev, head, "records", remember_last, &lp)) < 0)
		goto out;
	if (!lp.last) {
		rc = lethe_error_set(LETHE_EDATA, "evidence repository has commits but no records");
		goto out;
	}
	base = strrchr(lp.last, '/') ? strrchr(lp.last, '/') + 1 : lp.last;
	*seq = strtoll(base, NULL, 10);
	if ((rc = lethe_evidence_read(&data, &len, ev, head, lp.last)) < 0)
		goto out;
	*record = json_loadb(data, len, 0, &jerr);
	free(data);
	if (!*record)
		rc = lethe_error_set(LETHE_EDATA, "evidence record '%s' is not valid json: %s", lp.last,
				     jerr.text);
out:
	free(lp.last);
	return rc;
}

/* last_record, after checking that main still reaches the last record
 * written as the register remembers it (lethe/evidence_tip.h): a main reset
 * behind it would make the next record reuse a removed sequence number.
 * Without a register (env->be NULL) there is nothing to check against. */
static int evidence_tip(int64_t *seq, json_t **record, const lethe_runlog_env *env)
{
	int rc;

	*seq = 0;
	*record = NULL;
	if (env->be && (rc = lethe_evidence_tip_check(env->ev, env->be)) < 0)
		return rc;
	return last_record(seq, record, env->ev);
}

/* What a run's commit subjects call it (docs/evidence-format.md): "run",
 * "erasure", or "replay" for an erasure that re-applies an earlier one. */
static const char *run_label(const char *request, int64_t replay_of)
{
	if (!request)
		return "run";
	return replay_of > 0 ? "replay" : request;
}

/* Commit `record` (taken over) as records/SEQ-KIND.json with the files in c;
 * the subject is "lethe: KIND SEQ", for a run's records "LABEL RUNID" after. */
static int commit_record(const lethe_runlog_env *env, json_t *record, int64_t seq, const char *kind,
			 changes *c, const char *label, const char *run_id)
{
	json_t *files = json_array();
	char path[64], msg[128], hex[65], oid[41];
	char *text = NULL;
	int rc;

	for (size_t i = 0; i < c->n; i++) {
		const lethe_evidence_change *ch = &c->items[i];

		if (ch->remove)
			continue;
		if (ch->stream)
			memcpy(hex, c->sha[i], sizeof(hex));
		else
			sha256_hex(hex, ch->data, ch->len);
		json_array_append_new(files, json_pack("{s:s, s:s}", "path", ch->path, "sha256", hex));
	}
	json_object_set_new(record, "files", files);
	text = json_dumps(record, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(record);
	if (!text)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	/* one folder per thousand records keeps every tree a commit changes small */
	snprintf(path, sizeof(path), "records/%05" PRId64 "/%08" PRId64 "-%s.json", seq / 1000, seq, kind);
	if ((rc = changes_add(c, path, text, strlen(text))) < 0)
		return rc;
	snprintf(msg, sizeof(msg), "lethe: %s %08" PRId64 "%s%s%s%s", kind, seq, run_id ? " " : "",
		 run_id ? label : "", run_id ? " " : "", run_id ? run_id : "");
	if ((rc = lethe_evidence_commit(oid, env->ev, env->signing_key, c->items, c->n, msg)) < 0)
		return rc;
	/* Remembered outside the evidence (lethe/evidence_tip.h), best effort:
	 * a register that refuses the write (busy, full: the run then fails
	 * at its own write) leaves the head behind, which is safe, and must not
	 * keep this record's run from being completed. */
	if (env->be)
		(void)lethe_evidence_tip_save(env->be, env->ev, seq, oid);
	return 0;
}

/* --- the run log ------------------------------------------------------------ */

int lethe_runlog_new(lethe_runlog **out, const lethe_runlog_env *env, lethe_day as_of)
{
	lethe_runlog *rl = calloc(1, sizeof(*rl));
	unsigned char id[16];

	if (!rl)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	if (sodium_init() < 0) {
		free(rl);
		return lethe_error_set(LETHE_ESOFTWARE, "cannot initialise libsodium");
	}
	randombytes_buf(id, sizeof(id));
	sodium_bin2hex(rl->run_id, sizeof(rl->run_id), id, sizeof(id));
	rl->env = env;
	rl->as_of = as_of;
	now_iso(rl->started_at);
	*out = rl;
	return 0;
}

void lethe_runlog_free(lethe_runlog *rl)
{
	free(rl);
}

const char *lethe_runlog_id(const lethe_runlog *rl)
{
	return rl->run_id;
}

/* The action a rule applies in this run: an erasure applies each rule's
 * on_erasure action (lethe_plan_action), a run its normal one. The records
 * carry this one, not the policy's normal action. */
static lethe_action applied_action(const lethe_runlog_env *env, const lethe_rule *r)
{
	return env->request && !strcmp(env->request, "erasure") ? r->on_erasure : r->action;
}

static json_t *rule_json(const lethe_runlog_env *env, const lethe_rule_plan *rp,
			 const char *due_name)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			 "name", rp->rule->name, "table", rp->rule->table,
			 "action", lethe_action_name(applied_action(env, rp->rule)),
			 "basis", rp->rule->basis,
			 "in_scope", (json_int_t)rp->in_scope, due_name, (json_int_t)rp->due,
			 "not_due", (json_int_t)rp->not_due, "not_started", (json_int_t)rp->not_started,
			 "invalid", (json_int_t)rp->invalid, "held", (json_int_t)rp->held,
			 "blocked", (json_int_t)rp->blocked);
}

static int read_file(char **data, size_t *len, const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return lethe_error_set(LETHE_EIO, "cannot read policy file '%s'", path);
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
		fclose(f);
		*data = buf;
		*len = (size_t)n;
		return 0;
	}
	free(buf);
	fclose(f);
	return lethe_error_set(LETHE_EIO, "cannot read policy file '%s'", path);
}

static int schema_sha256(char out[65], lethe_backend *be)
{
	char *text = NULL;
	size_t len = 0;
	int rc = lethe_backend_schema_text(&text, &len, be);

	if (rc == 0)
		sha256_hex(out, text, len);
	free(text);
	return rc;
}

int lethe_runlog_intent(void *ctx, const lethe_plan *plan)
{
	lethe_runlog *rl = ctx;
	const lethe_runlog_env *env = rl->env;
	json_t *record = NULL, *last = NULL, *rules = json_array(), *policy = json_array();
	changes c = { .n = 0 };
	char day[11], schema[65], hex[65], *path = NULL;
	int64_t seq;
	int rc;

	if ((rc = evidence_tip(&seq, &last, env)) < 0 || (rc = schema_sha256(schema, env->be)) < 0)
		goto out;
	if ((rc = changes_add(&c, "policies", NULL, 0)) < 0)
		goto out;
	for (size_t i = 0; i < env->policy->nfiles; i++) {
		char *data = NULL, *copy = strdup(env->policy->files[i]);
		size_t len = 0;

		if (!copy || (rc = read_file(&data, &len, env->policy->files[i])) < 0) {
			free(copy);
			rc = rc < 0 ? rc : lethe_error_set(LETHE_ESOFTWARE, "out of memory");
			goto out;
		}
		free(path);
		path = NULL;
		if (asprintf(&path, "policies/%s", basename(copy)) < 0) {
			path = NULL;
			free(copy);
			free(data);
			rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
			goto out;
		}
		free(copy);
		sha256_hex(hex, data, len);
		json_array_append_new(policy, json_pack("{s:s, s:s}", "path", path, "sha256", hex));
		if ((rc = changes_add(&c, path, data, len)) < 0)
			goto out;
	}
	for (size_t i = 0; i < plan->nrules; i++)
		json_array_append_new(rules, rule_json(env, &plan->rules[i], "due"));
	lethe_day_format(rl->as_of, day);
	record = base_record("intent", seq + 1);
	json_object_set_new(record, "run_id", json_string(rl->run_id));
	json_object_set_new(record, "as_of", json_string(day));
	json_object_set_new(record, "database", json_pack("{s:s, s:s}", "path", env->database,
							  "schema_sha256", schema));
	if (env->request) {
		json_object_set_new(record, "request", json_string(env->request));
		json_object_set_new(record, "subject", json_string(env->subject_digest ?
								   env->subject_digest : ""));
		if (env->subject_contact)
			json_object_set_new(record, "contact", json_string(env->subject_contact));
		if (env->replay_of > 0)
			json_object_set_new(record, "replay_of", json_integer(env->replay_of));
	}
	json_object_set(record, "policy", policy);
	json_object_set(record, "rules", rules);
	rc = commit_record(env, record, seq + 1, "intent", &c,
			   run_label(env->request, env->replay_of), rl->run_id);
	record = NULL;
	if (rc == 0)
		rl->intent_seq = seq + 1;
	lethe_test_crash_point("after-intent");
out:
	free(path);
	json_decref(record);
	json_decref(last);
	json_decref(rules);
	json_decref(policy);
	changes_free(&c);
	return rc;
}

static void key_digest(char out[LETHE_DIGEST_SIZE], const lethe_token_key *k, const char *rule,
		       const lethe_value *key)
{
	char buf[32];
	const char *s = key->s;
	size_t len = key->len;

	if (key->type == LETHE_VALUE_INTEGER) {
		len = (size_t)snprintf(buf, sizeof(buf), "%" PRId64, key->i);
		s = buf;
	} else if (key->type == LETHE_VALUE_REAL) {
		len = (size_t)snprintf(buf, sizeof(buf), "%.17g", key->r);
		s = buf;
	} else if (key->type == LETHE_VALUE_NULL) {
		s = "";
		len = 0;
	}
	lethe_digest(out, k, rule, s, len);
}

int lethe_runlog_batch(void *ctx, const lethe_rule *rule, const lethe_value *keys,
		       const unsigned char *applied, size_t n, int64_t changed)
{
	lethe_runlog *rl = ctx;
	char (*digests)[LETHE_DIGEST_SIZE] = calloc(n ? n : 1, LETHE_DIGEST_SIZE);
	const char **list = calloc(n ? n : 1, sizeof(char *));
	size_t count = 0;
	int rc;

	if (!digests || !list) {
		free(digests);
		free(list);
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		if (applied && !applied[i])
			continue;
		key_digest(digests[count], rl->env->digest_key, rule->name, &keys[i]);
		list[count] = digests[count];
		count++;
	}
	rc = lethe_backend_mark(rl->env->be, rl->run_id, rule->name, changed, list, count);
	free(list);
	free(digests);
	lethe_test_crash_point("batch");
	return rc;
}

/* A rule's digest file, from the marker: sorted lines, one per disposed row.
 * It is read twice, never held whole: once for its SHA-256 and length (the
 * record lists them), once streamed into the evidence. */
typedef struct {
	lethe_backend *be;
	char run_id[33];
	char *rule;
	int (*write)(void *wctx, const void *buf, size_t len);
	void *wctx;
	crypto_hash_sha256_state sha;
	int64_t count;
} digest_file;

static int hash_digest(void *ctx, const char *digest)
{
	digest_file *f = ctx;

	crypto_hash_sha256_update(&f->sha, (const unsigned char *)digest, strlen(digest));
	crypto_hash_sha256_update(&f->sha, (const unsigned char *)"\n", 1);
	f->count++;
	return 0;
}

static int write_digest(void *ctx, const char *digest)
{
	digest_file *f = ctx;
	char line[LETHE_DIGEST_SIZE + 1];
	size_t n = strlen(digest);

	if (n > LETHE_DIGEST_LEN)
		return lethe_error_set(LETHE_EDATA, "a run digest is too long");
	memcpy(line, digest, n);
	line[n] = '\n';
	return f->write(f->wctx, line, n + 1);
}

static int stream_digests(void *ctx, int (*write)(void *wctx, const void *buf, size_t len), void *wctx)
{
	digest_file *f = ctx;

	f->write = write;
	f->wctx = wctx;
	return lethe_backend_marker_digests(f->be, f->run_id, f->rule, write_digest, f);
}

/* Add the rule's digest file to c as a stream; *count its lines (0: none added). */
static int add_digest_file(changes *c, int64_t *count, const lethe_runlog_env *env,
			   const char *run_id, const char *rule, const char *path)
{
	digest_file *f = calloc(1, sizeof(*f));
	unsigned char h[crypto_hash_sha256_BYTES];
	int rc;

	*count = 0;
	if (!f || !(f->rule = strdup(rule))) {
		free(f);
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	f->be = env->be;
	snprintf(f->run_id, sizeof(f->run_id), "%s", run_id);
	crypto_hash_sha256_init(&f->sha);
	rc = lethe_backend_marker_digests(env->be, run_id, rule, hash_digest, f);
	if (rc < 0 || f->count == 0) {
		free(f->rule);
		free(f);
		return rc;
	}
	crypto_hash_sha256_final(&f->sha, h);
	*count = f->count;
	/* freed with the changes: f->rule first, so f is still there to free */
	if ((rc = changes_own(c, f->rule)) < 0) {
		free(f);
		return rc;
	}
	if ((rc = changes_own(c, f)) < 0 || (rc = changes_add(c, path, NULL, 0)) < 0)
		return rc;
	sodium_bin2hex(c->sha[c->n - 1], sizeof(c->sha[c->n - 1]), h, sizeof(h));
	c->items[c->n - 1].remove = 0;
	c->items[c->n - 1].stream = stream_digests;
	c->items[c->n - 1].stream_ctx = f;
	return 0;
}

/* Per rule: the marker's disposed count (absent: 0). */
typedef struct {
	const char *rule;
	int64_t disposed;
} rule_count;

static int find_count(void *ctx, const char *rule, int64_t disposed)
{
	rule_count *rc = ctx;

	if (!strcmp(rc->rule, rule))
		rc->disposed = disposed;
	return 0;
}

/* The rules of a completion: counts from `src` (one object per rule, with
 * the due or disposed field named due_name), disposed from the marker, and
 * the digest files added to c. */
static int completion_rules(json_t *rules, changes *c, const lethe_runlog_env *env, const char *run_id,
			    json_t *src, const char *due_name, int aborted)
{
	size_t i;
	json_t *r;
	int rc = 0;

	json_array_foreach(src, i, r) {
		json_t *o = json_deep_copy(r);
		const char *name = json_string_value(json_object_get(r, "name"));
		rule_count count = { name ? name : "", 0 };
		int64_t lines = 0;
		int found = 0;
		char *path = NULL;

		if (!o || !name) {
			json_decref(o);
			return lethe_error_set(LETHE_EDATA, "evidence: a rule without a name");
		}
		json_object_del(o, due_name);
		/* an abort disposed of nothing and its counts say so */
		if (aborted) {
			static const char *const counts[] = { "in_scope", "not_due", "not_started",
							      "invalid", "held", "blocked" };

			for (size_t k = 0; k < sizeof(counts) / sizeof(*counts); k++)
				json_object_set_new(o, counts[k], json_integer(0));
		}
		if ((rc = lethe_backend_marker(&found, env->be, run_id, find_count, &count)) < 0) {
			json_decref(o);
			return rc;
		}
		json_object_set_new(o, "disposed", json_integer(count.disposed));
		if (asprintf(&path, "runs/%.2s/%s/digests/%s.txt", run_id, run_id, name) < 0) {
			json_decref(o);
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		}
		if ((rc = add_digest_file(c, &lines, env, run_id, name, path)) < 0) {
			free(path);
			json_decref(o);
			return rc;
		}
		json_object_set_new(o, "digests", lines > 0 ? json_pack("{s:s, s:I}", "path", path,
									 "count", (json_int_t)lines)
							     : json_null());
		free(path);
		json_array_append_new(rules, o);
	}
	return 0;
}

static int record_end(const lethe_runlog_env *env, const char *label, const char *run_id,
		      int64_t intent_seq, const char *as_of, const char *started_at, const char *result, json_t *src_rules,
		      const char *due_name, const lethe_warnings *w)
{
	json_t *record = NULL, *last = NULL, *rules = json_array(), *warnings = json_array();
	const char *kind = strcmp(result, "aborted") ? "completion" : "abort";
	changes c = { .n = 0 };
	char ended[21];
	int64_t seq;
	int rc;

	if ((rc = evidence_tip(&seq, &last, env)) < 0)
		goto out;
	if ((rc = completion_rules(rules, &c, env, run_id, src_rules, due_name,
				   !strcmp(result, "aborted"))) < 0)
		goto out;
	for (size_t i = 0; w && i < w->count; i++)
		json_array_append_new(warnings, json_string(w->items[i]));
	now_iso(ended);
	record = base_record(kind, seq + 1);
	json_object_set_new(record, "run_id", json_string(run_id));
	json_object_set_new(record, "intent_seq", json_integer(intent_seq));
	json_object_set_new(record, "as_of", json_string(as_of));
	json_object_set_new(record, "started_at", json_string(started_at));
	json_object_set_new(record, "ended_at", json_string(ended));
	json_object_set_new(record, "result", json_string(result));
	json_object_set(record, "rules", rules);
	json_object_set(record, "warnings", warnings);
	rc = commit_record(env, record, seq + 1, kind, &c, label, run_id);
	record = NULL;
	lethe_test_crash_point("after-completion");
	/* The completion holds the digests now: the marker has done its job. */
	if (rc == 0)
		rc = lethe_backend_marker_clear(env->be, run_id);
out:
	json_decref(record);
	json_decref(last);
	json_decref(rules);
	json_decref(warnings);
	changes_free(&c);
	return rc;
}

int lethe_runlog_complete(lethe_runlog *rl, const lethe_plan *result, const lethe_warnings *w,
			  int failed)
{
	json_t *rules = json_array();
	char day[11], *first = NULL;
	int rc, first_code = 0;

	if (!rl->intent_seq) {
		json_decref(rules);
		return 0;
	}
	for (size_t i = 0; i < result->nrules; i++)
		json_array_append_new(rules, rule_json(rl->env, &result->rules[i], "due"));
	lethe_day_format(rl->as_of, day);
	/* A failed run's error (a VACUUM that found the disk full) is what the
	 * caller reports: recording the completion must not replace it, even
	 * when it fails too (the same full disk), so both are kept, first
	 * first. */
	if (failed) {
		first_code = lethe_error_last_code();
		first = strdup(lethe_error_last());
	}
	lethe_test_crash_point("before-completion");
	rc = record_end(rl->env, run_label(rl->env->request, rl->env->replay_of), rl->run_id,
			rl->intent_seq, day, rl->started_at,
			failed ? "failed" : "completed", rules, "due", w);
	json_decref(rules);
	if (failed && first && *first) {
		char *then = rc < 0 ? strdup(lethe_error_last()) : NULL;

		if (then)
			lethe_error_set(first_code, "%s; then %s", first, then);
		else
			lethe_error_set(first_code, "%s", first);
		free(then);
	}
	free(first);
	return rc;
}

int lethe_runlog_recover(lethe_recovery *what, const lethe_runlog_env *env)
{
	lethe_warnings owed = { 0 };
	json_t *last = NULL;
	const char *kind, *run_id, *as_of, *at;
	int64_t seq;
	int found = 0, rc;

	*what = LETHE_RECOVER_NOTHING;
	if ((rc = evidence_tip(&seq, &last, env)) < 0)
		return rc;
	kind = last ? json_string_value(json_object_get(last, "kind")) : NULL;
	if (kind && !strcmp(kind, "intent")) {
		run_id = json_string_value(json_object_get(last, "run_id"));
		as_of = json_string_value(json_object_get(last, "as_of"));
		at = json_string_value(json_object_get(last, "at"));
		if (!run_id || !as_of || !at) {
			json_decref(last);
			return lethe_error_set(LETHE_EDATA, "evidence: the last intent record is incomplete");
		}
		if ((rc = lethe_backend_marker(&found, env->be, run_id, NULL, NULL)) == 0 &&
		    /* a run killed before its residue work: the record says so */
		    (rc = lethe_dispose_owed_warning(&owed, env->be)) == 0) {
			/* labelled as the interrupted run's intent, not as this one */
			rc = record_end(env, run_label(json_string_value(json_object_get(last, "request")),
						       json_integer_value(json_object_get(last, "replay_of"))),
					run_id, seq, as_of, at, found ? "recovered" : "aborted",
					json_object_get(last, "rules"), "due", &owed);
			*what = found ? LETHE_RECOVER_COMPLETED : LETHE_RECOVER_ABORTED;
		}
	}
	json_decref(last);
	lethe_warnings_free(&owed);
	/* Markers of runs whose completion exists (a crash right after it). */
	if (rc == 0)
		rc = lethe_backend_marker_clear(env->be, "*");
	return rc;
}

/* --- records outside a run --------------------------------------------------- */

int lethe_runlog_record(int64_t *out_seq, const lethe_runlog_env *env, const char *kind,
			const struct json_t *fields)
{
	json_t *record = NULL, *last = NULL;
	changes c = { .n = 0 };
	const char *last_kind;
	int64_t seq;
	int rc;

	if ((rc = evidence_tip(&seq, &last, env)) < 0)
		goto out;
	last_kind = last ? json_string_value(json_object_get(last, "kind")) : NULL;
	if (last_kind && !strcmp(last_kind, "intent")) {
		rc = lethe_error_set(LETHE_ETEMPFAIL, "the evidence ends with the intent of an "
				     "interrupted run (record %" PRId64 "); `lethe run` recovers it, "
				     "then try again", seq);
		goto out;
	}
	if (!(record = base_record(kind, seq + 1))) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	/* the common fields stay as base_record made them */
	if (fields && (json_object_update_missing(record, (json_t *)fields) < 0)) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	rc = commit_record(env, record, seq + 1, kind, &c, NULL, NULL);
	record = NULL;
	if (rc == 0 && out_seq)
		*out_seq = seq + 1;
out:
	json_decref(record);
	json_decref(last);
	changes_free(&c);
	return rc;
}
