/*
 * planfile.c - signed plans (lethe/planfile.h): writing one from the
 * planner's due keys, reading and checking one, and admitting a row.
 *
 * Invariants:
 *  - The signed bytes are the file's text up to the armour's first line;
 *    parsing never trusts a field before the signature over them held.
 *  - Digests are kept per rule as sorted 64-hex strings (the digest files'
 *    form); memory is the plan's (64 bytes a planned row), never the keys.
 *  - Rule names of the plan are matched exactly: a rule renamed since
 *    admits nothing (and its policy digest differs anyway).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/approval.h"
#include "lethe/error.h"
#include "lethe/plan.h"
#include "lethe/planfile.h"
#include "lethe/record.h"
#include "lethe/sshsig.h"
#include "strbuf.h"
#include "util.h"

#define ARMOUR_BEGIN "-----BEGIN SSH SIGNATURE-----"

typedef struct {
	char *name;
	char (*digests)[LETHE_DIGEST_SIZE];  /* sorted */
	size_t n;
} plan_rule;

struct lethe_planfile {
	json_t *body;
	unsigned char signer[32];
	lethe_day as_of;
	char sha256[LETHE_SHA256_HEX_SIZE];
	plan_rule *rules;
	size_t nrules;
	const lethe_token_key *key;
};

static int cmp_digest(const void *a, const void *b)
{
	return memcmp(a, b, LETHE_DIGEST_SIZE - 1);
}

/* --- writing ---------------------------------------------------------------- */

typedef struct {
	const lethe_token_key *k;
	const char *rule;
	char (*d)[LETHE_DIGEST_SIZE];
	size_t n, cap;
} collect;

static int collect_key(void *vctx, const lethe_value *key)
{
	collect *c = vctx;

	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 256;
		char (*more)[LETHE_DIGEST_SIZE] = realloc(c->d, cap * sizeof(*more));

		if (!more)
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		c->d = more;
		c->cap = cap;
	}
	lethe_record_row_digest(c->d[c->n++], c->k, c->rule, key);
	return 0;
}

/* One rule's entry: names, counts, and its due keys' digests, sorted. */
static json_t *rule_entry(lethe_backend *be, const lethe_policy *p, size_t i,
			  const lethe_rule_plan *rp, lethe_day as_of, const lethe_token_key *k)
{
	collect c = { k, p->rules[i].name, NULL, 0, 0 };
	json_t *digests = json_array(), *o = NULL;

	if (!digests || (rp->due && lethe_plan_due_keys(be, p, i, as_of, collect_key, &c) < 0))
		goto out;
	if (c.n)
		qsort(c.d, c.n, sizeof(*c.d), cmp_digest);
	for (size_t j = 0; j < c.n; j++)
		if (json_array_append_new(digests, json_string(c.d[j])) < 0)
			goto out;
	o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:O}", "name", p->rules[i].name, "table",
		      p->rules[i].table, "action", lethe_action_name(p->rules[i].action), "due",
		      (json_int_t)c.n, "held", (json_int_t)rp->held, "blocked",
		      (json_int_t)rp->blocked, "digests", digests);
out:
	json_decref(digests);
	free(c.d);
	return o;
}

int lethe_planfile_make(char **text, size_t *len, json_t **plan_out, lethe_backend *be,
			const lethe_policy *p, lethe_day as_of, const char *database,
			const lethe_token_key *k, const lethe_sshkey *signer)
{
	lethe_plan *plan = NULL;
	json_t *files = NULL, *rules = json_array(), *body = NULL;
	char digest[LETHE_SHA256_HEX_SIZE], day[11], at[LETHE_ISO_TIME_SIZE];
	char *json = NULL, *sig = NULL;
	lethe_strbuf sb = LETHE_STRBUF_INIT;
	int rc;

	*text = NULL;
	if ((rc = lethe_policy_digest(digest, &files, p)) < 0 ||
	    (rc = lethe_plan_new(&plan, be, p, as_of)) < 0)
		goto out;
	for (size_t i = 0; i < plan->nrules; i++) {
		json_t *e = rule_entry(be, p, i, &plan->rules[i], as_of, k);

		if (!e || json_array_append_new(rules, e) < 0) {
			rc = lethe_error_set(LETHE_ESOFTWARE, "plan of rule '%s': %s",
					     p->rules[i].name, lethe_error_last());
			goto out;
		}
	}
	lethe_day_format(as_of, day);
	lethe_now_iso(at);
	body = json_pack("{s:i, s:s, s:s, s:s, s:s, s:O, s:O}", "lethe_plan", 1, "as_of", day,
			 "made_at", at, "database", database, "policy_digest", digest, "policy",
			 files, "rules", rules);
	if (!body || !(json = json_dumps(body, JSON_SORT_KEYS | JSON_COMPACT)) ||
	    lethe_strbuf_adds(&sb, json) < 0 || lethe_strbuf_addch(&sb, '\n') < 0) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	if ((rc = lethe_sshsig_sign(&sig, signer, LETHE_PLAN_NAMESPACE, lethe_strbuf_str(&sb),
				    sb.len)) < 0 || (rc = lethe_strbuf_adds(&sb, sig)) < 0)
		goto out;
	*text = lethe_strbuf_detach(&sb, len);
	if (plan_out)
		*plan_out = json_incref(body);
out:
	lethe_strbuf_release(&sb);
	free(json);
	free(sig);
	json_decref(body);
	json_decref(files);
	json_decref(rules);
	lethe_plan_free(plan);
	return rc;
}

/* --- reading ---------------------------------------------------------------- */

void lethe_planfile_free(lethe_planfile *pf)
{
	if (!pf)
		return;
	for (size_t i = 0; i < pf->nrules; i++) {
		free(pf->rules[i].name);
		free(pf->rules[i].digests);
	}
	free(pf->rules);
	json_decref(pf->body);
	free(pf);
}

static int is_digest(const char *s)
{
	return s && strlen(s) == LETHE_DIGEST_SIZE - 1 &&
	       strspn(s, "0123456789abcdef") == LETHE_DIGEST_SIZE - 1;
}

/* The rules' digests into pf, checked and sorted. */
static int load_rules(lethe_planfile *pf, const char *name)
{
	json_t *rules = json_object_get(pf->body, "rules"), *r;
	size_t i;

	if (!json_is_array(rules) ||
	    !(pf->rules = calloc(json_array_size(rules) + 1, sizeof(*pf->rules))))
		return lethe_error_set(LETHE_EDATA, "plan '%s': no rules", name);
	json_array_foreach(rules, i, r) {
		plan_rule *pr = &pf->rules[pf->nrules];
		json_t *d = json_object_get(r, "digests"), *e;
		const char *rule = json_string_value(json_object_get(r, "name"));
		size_t j;

		if (!rule || !json_is_array(d))
			return lethe_error_set(LETHE_EDATA, "plan '%s': rule %zu has no name or "
					       "digests", name, i);
		if (!(pr->name = strdup(rule)) ||
		    !(pr->digests = calloc(json_array_size(d) + 1, sizeof(*pr->digests))))
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		pf->nrules++;
		json_array_foreach(d, j, e) {
			if (!is_digest(json_string_value(e)))
				return lethe_error_set(LETHE_EDATA, "plan '%s': rule '%s': digest %zu "
						       "is not 64 hex digits", name, rule, j);
			memcpy(pr->digests[pr->n++], json_string_value(e), LETHE_DIGEST_SIZE);
		}
		qsort(pr->digests, pr->n, sizeof(*pr->digests), cmp_digest);
	}
	return 0;
}

int lethe_planfile_parse(lethe_planfile **out, const char *text, size_t len, const char *name)
{
	lethe_planfile *pf = calloc(1, sizeof(*pf));
	const char *armour = NULL;
	json_error_t jerr;
	int rc;

	if (!pf)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	for (size_t at = 0; at < len; at++)
		if ((at == 0 || text[at - 1] == '\n') && len - at >= strlen(ARMOUR_BEGIN) &&
		    !memcmp(text + at, ARMOUR_BEGIN, strlen(ARMOUR_BEGIN))) {
			armour = text + at;
			break;
		}
	if (!armour) {
		rc = lethe_error_set(LETHE_EDATA, "plan '%s' is not signed (no SSH signature "
				     "after its JSON); write it with lethe plan --out", name);
		goto fail;
	}
	if (lethe_sshsig_verify(pf->signer, armour, len - (size_t)(armour - text),
				LETHE_PLAN_NAMESPACE, text, (size_t)(armour - text)) < 0) {
		rc = lethe_error_set(LETHE_EVERIFY, "plan '%s': its signature is not valid (%s): "
				     "the plan was changed after it was signed", name,
				     lethe_error_last());
		goto fail;
	}
	lethe_sha256_hex(pf->sha256, text, len);
	pf->body = json_loadb(text, (size_t)(armour - text), JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(pf->body) ||
	    json_integer_value(json_object_get(pf->body, "lethe_plan")) != 1 ||
	    lethe_day_parse(&pf->as_of, json_string_value(json_object_get(pf->body, "as_of"))
					? json_string_value(json_object_get(pf->body, "as_of"))
					: "") < 0 ||
	    !json_is_string(json_object_get(pf->body, "database")) ||
	    !json_is_string(json_object_get(pf->body, "policy_digest")) ||
	    !json_is_array(json_object_get(pf->body, "policy"))) {
		rc = lethe_error_set(LETHE_EDATA, "plan '%s' is not a lethe plan of format 1", name);
		goto fail;
	}
	if ((rc = load_rules(pf, name)) < 0)
		goto fail;
	*out = pf;
	return 0;
fail:
	lethe_planfile_free(pf);
	return rc;
}

int lethe_planfile_load(lethe_planfile **out, const char *path)
{
	lethe_strbuf sb = LETHE_STRBUF_INIT;
	int rc;

	if (lethe_strbuf_read_file(&sb, path) < 0) {
		lethe_strbuf_release(&sb);
		return lethe_error_set(LETHE_ENOINPUT, "cannot read plan '%s': %s", path,
				       lethe_error_last());
	}
	rc = lethe_planfile_parse(out, lethe_strbuf_str(&sb), sb.len, path);
	lethe_strbuf_release(&sb);
	return rc;
}

const unsigned char *lethe_planfile_signer(const lethe_planfile *pf)
{
	return pf->signer;
}

lethe_day lethe_planfile_as_of(const lethe_planfile *pf)
{
	return pf->as_of;
}

const char *lethe_planfile_database(const lethe_planfile *pf)
{
	return json_string_value(json_object_get(pf->body, "database"));
}

const char *lethe_planfile_policy_digest(const lethe_planfile *pf)
{
	return json_string_value(json_object_get(pf->body, "policy_digest"));
}

const json_t *lethe_planfile_policy(const lethe_planfile *pf)
{
	return json_object_get(pf->body, "policy");
}

const char *lethe_planfile_sha256(const lethe_planfile *pf)
{
	return pf->sha256;
}

void lethe_planfile_set_key(lethe_planfile *pf, const lethe_token_key *k)
{
	pf->key = k;
}

int lethe_planfile_admit(void *ctx, const char *rule, const lethe_value *key)
{
	const lethe_planfile *pf = ctx;
	char d[LETHE_DIGEST_SIZE];

	if (!pf->key || !rule)
		return 0;
	for (size_t i = 0; i < pf->nrules; i++) {
		if (strcmp(pf->rules[i].name, rule))
			continue;
		lethe_record_row_digest(d, pf->key, rule, key);
		return bsearch(d, pf->rules[i].digests, pf->rules[i].n, sizeof(*pf->rules[i].digests),
			       cmp_digest) != NULL;
	}
	return 0;
}
