/*
 * verify.c - the auditor's verifier, commit level: the walk, signatures and
 * signers, linear history, time order, and the records/ folder growing by
 * exactly one record per commit. Record contents: verify_record.c.
 *
 * Invariants:
 *  - Checks run in the documented order and the first failure stops the walk:
 *    the report names the first bad commit and everything before it holds.
 *  - Per commit only the records/ listing, the new record and the files it
 *    lists are read, never whole trees; the previous listing is kept in
 *    memory (one path and blob id per record) and compared entry by entry.
 *  - Reasons are one lowercase line and name the commit by its first 12 hex
 *    digits (bad_commit has the full id); what fails the repository as a
 *    whole (replace refs and grafts, no main, a main behind what the auditor
 *    saw) has bad_commit "" and is checked before or after the walk.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "lethe/error.h"
#include "lethe/sshsig.h"
#include "verify_impl.h"

int verify_fail(verify_state *s, const char *fmt, ...)
{
	lethe_verify_report *r = s->rep;
	size_t n;
	va_list ap;

	snprintf(r->bad_commit, sizeof(r->bad_commit), "%s", s->c->oid);
	n = (size_t)snprintf(r->reason, sizeof(r->reason), "commit %.12s: ", s->c->oid);
	va_start(ap, fmt);
	vsnprintf(r->reason + n, sizeof(r->reason) - n, fmt, ap);
	va_end(ap);
	return LETHE_EVERIFY;
}

/* Signed, valid in namespace "git" (checked by the pool), by a key allowed
 * for the committer. */
static int check_signature(verify_state *s)
{
	const lethe_evidence_commit_info *c = s->c;
	const verify_prepared *p = s->p;
	const unsigned char *pk = p->signer;
	char *fp = NULL, why[512];
	int rc;

	if (!p->is_signed)
		return verify_fail(s, "not signed");
	if (p->sig_rc == LETHE_EVERIFY)
		return verify_fail(s, "signature does not verify: %s", p->sig_why);
	if (p->sig_rc < 0)
		return lethe_error_set(p->sig_rc, "%s", p->sig_why);
	rc = lethe_allowed_signers_find(s->signers, c->committer_email, pk, "git",
					c->committer_time);
	if (rc == 0)
		return 0;
	if (rc != LETHE_EVERIFY)
		return rc;
	snprintf(why, sizeof(why), "%s", lethe_error_last());
	if ((rc = lethe_sshkey_fingerprint(&fp, pk)) < 0)
		return rc;
	/* the store's reason adds something only when the key is listed at all */
	if (strstr(why, "is not an allowed signer"))
		rc = verify_fail(s, "signed by key %s which is not an allowed signer for '%s'", fp,
				 c->committer_email);
	else
		rc = verify_fail(s, "signed by key %s which is not an allowed signer for '%s' (%s)",
				 fp, c->committer_email, why);
	free(fp);
	return rc;
}

/* Linear history and time order against the previous commit of the walk. */
static int check_history(verify_state *s)
{
	const lethe_evidence_commit_info *c = s->c;

	if (!s->have_prev) {
		if (c->parent_count != 0)
			return verify_fail(s, "the first commit has %zu parents, not 0",
					   c->parent_count);
		return 0;
	}
	if (c->parent_count != 1)
		return verify_fail(s, "has %zu parents: history is not linear", c->parent_count);
	if (strcmp(c->parent, s->prev_oid) != 0)
		return verify_fail(s, "parent %.12s is not the previous commit %.12s", c->parent,
				   s->prev_oid);
	if (c->committer_time < s->prev_time)
		return verify_fail(s, "committer time %lld is earlier than the previous commit's "
				   "%lld", (long long)c->committer_time, (long long)s->prev_time);
	return 0;
}

/* A path changed outside records/, for verify_scope. */
static int note_change(verify_state *s, char status, const char *path, const char *blob)
{
	if (s->nchanged == s->capchanged) {
		size_t cap = s->capchanged ? 2 * s->capchanged : 16;
		verify_change *more = realloc(s->changed, cap * sizeof(*more));

		if (!more)
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		s->changed = more;
		s->capchanged = cap;
	}
	if (!(s->changed[s->nchanged].path = strdup(path)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	snprintf(s->changed[s->nchanged].blob, sizeof(s->changed[0].blob), "%s", blob);
	s->changed[s->nchanged++].status = status;
	return 0;
}

static void forget_commit(verify_state *s)
{
	for (size_t i = 0; i < s->nchanged; i++)
		free(s->changed[i].path);
	s->nchanged = 0;
	free(s->added);
	s->added = NULL;
	json_decref(s->record);
	s->record = NULL;
}

/* One file the commit changed: under records/ only one addition is allowed. */
static int diff_cb(void *ctx, char status, const char *path, const char *blob)
{
	verify_state *s = ctx;

	if (strncmp(path, "records/", 8) != 0)
		return note_change(s, status, path, blob);
	if (status == 'D')
		return verify_fail(s, "removes '%s'", path);
	if (status != 'A')
		return verify_fail(s, "changes '%s'", path);
	if (s->added)
		return verify_fail(s, "adds more than one record ('%s' and '%s')", s->added, path);
	if (!(s->added = strdup(path)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	snprintf(s->added_blob, sizeof(s->added_blob), "%s", blob);
	return 0;
}

/* "records/SSSSS/NNNNNNNN-KIND.json" with NNNNNNNN = want and SSSSS its first
 * five digits (one folder per thousand records): 0 and kind (malloc'd). */
static int parse_name(verify_state *s, char **kind, const char *path, int64_t want)
{
	const char *p = path + strlen("records/"), *dot;
	char num[9];
	size_t klen;

	if (strncmp(path, "records/", 8) != 0 || strlen(p) < 6 + 8 + 1 + 1 + 5 || p[5] != '/')
		goto bad;
	for (int i = 0; i < 5; i++)
		if (p[i] < '0' || p[i] > '9')
			goto bad;
	if (strncmp(p, p + 6, 5) != 0)
		goto bad;
	p += 6;
	for (int i = 0; i < 8; i++)
		if (p[i] < '0' || p[i] > '9')
			goto bad;
	if (p[8] != '-' || strchr(p, '/'))
		goto bad;
	dot = p + strlen(p) - 5;
	if (strcmp(dot, ".json") != 0 || dot == p + 9)
		goto bad;
	memcpy(num, p, 8);
	num[8] = '\0';
	if (strtoll(num, NULL, 10) != want)
		return verify_fail(s, "record '%s' is not number %08lld: the sequence has a gap "
				   "or is out of order", path, (long long)want);
	klen = (size_t)(dot - (p + 9));
	if (!(*kind = strndup(p + 9, klen)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	return 0;
bad:
	return verify_fail(s, "'%s' is not named records/SSSSS/NNNNNNNN-KIND.json", path);
}

/* records/ gains exactly one new record against the parent, whose number
 * follows the previous one; then its contents. */
static int check_records(verify_state *s)
{
	int64_t seq = s->nrecs + 1;
	char *kind = NULL;
	int rc = 0;

	if (s->p->diff_rc) {
		rc = lethe_error_set(s->p->diff_rc, "%s", s->p->diff_why ? s->p->diff_why :
				     "out of memory");
		goto out;
	}
	for (size_t i = 0; rc == 0 && i < s->p->nchanges; i++)
		rc = diff_cb(s, s->p->changes[i].status, s->p->changes[i].path,
			     s->p->changes[i].blob);
	if (rc < 0)
		goto out;
	if (!s->added) {
		rc = verify_fail(s, "adds no record");
		goto out;
	}
	if ((rc = parse_name(s, &kind, s->added, seq)) < 0)
		goto out;
	s->rep->seq = seq;
	if ((rc = verify_record(s, s->added, seq, kind)) < 0 ||
	    (rc = verify_scope(s, kind, seq)) < 0)
		goto out;
	s->nrecs = seq;
out:
	free(kind);
	forget_commit(s);
	return rc;
}

static int check_commit(verify_state *s, const verify_prepared *p)
{
	const lethe_evidence_commit_info *c = &p->info;
	int rc;

	if (p->rc)
		return lethe_error_set(p->rc, "%s", p->why ? p->why : "out of memory");
	s->c = c;
	s->p = p;
	s->rep->seq = -1;
	if ((rc = check_signature(s)) < 0 || (rc = check_history(s)) < 0 ||
	    (rc = check_records(s)) < 0)
		return rc;
	s->have_prev = 1;
	if (s->want_head && !strncmp(c->oid, s->want_head, strlen(s->want_head)))
		s->saw_head = 1;
	memcpy(s->prev_oid, c->oid, sizeof(s->prev_oid));
	s->prev_time = c->committer_time;
	s->rep->commits++;
	s->rep->records++;
	return 0;
}

/* Every commit of main, oldest first, prepared ahead by the pool. */
static int walk(verify_state *s, const char *repository)
{
	verify_pool *pool = NULL;
	size_t n = 0;
	int rc;

	/* the workers visit commits as the walk finds them */
	if ((rc = verify_pool_start(&pool, repository)) < 0 ||
	    (rc = lethe_evidence_first_parents(s->ev, verify_pool_found, pool)) < 0 ||
	    (rc = verify_pool_walked(pool, &n)) < 0)
		goto out;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = check_commit(s, verify_pool_get(pool, s->ev, i));
		/* s->c points into the slot: keep it for the report until here */
		s->c = NULL;
		s->p = NULL;
		verify_pool_done(pool, i);
	}
out:
	verify_pool_free(pool);
	return rc;
}

/* A failure of the repository as a whole (no commit to blame). */
static int repo_fail(verify_state *s, const char *fmt, ...)
{
	va_list ap;

	s->rep->bad_commit[0] = '\0';
	s->rep->seq = -1;
	va_start(ap, fmt);
	vsnprintf(s->rep->reason, sizeof(s->rep->reason), fmt, ap);
	va_end(ap);
	return LETHE_EVERIFY;
}

typedef struct {
	char *names;   /* "a, b, c" (malloc'd) */
	size_t count;
} name_list;

static int add_name(void *ctx, const char *what)
{
	name_list *l = ctx;
	char *more = NULL;

	if (asprintf(&more, "%s%s'%s'", l->names ? l->names : "", l->names ? ", " : "", what) < 0)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	free(l->names);
	l->names = more;
	l->count++;
	return 0;
}

/* Replace refs and grafts make stock git show something else than what
 * the signatures cover: their presence alone fails, naming each. */
static int check_substitutions(verify_state *s)
{
	name_list l = { NULL, 0 };
	int rc = lethe_evidence_substitutions(s->ev, add_name, &l);

	if (rc == 0 && l.count)
		rc = repo_fail(s, "the repository has %s %s: stock git would show other objects or "
			       "parents than the signed ones (remove %s, or check with git "
			       "--no-replace-objects on a clean clone)", l.count == 1 ? "a" : "these",
			       l.count == 1 ? "replace ref or graft file" : "replace refs or graft files",
			       l.names, l.count == 1 ? "it" : "them");
	free(l.names);
	return rc;
}

static int is_hex_prefix(const char *h)
{
	size_t n = strlen(h);

	if (n < 7 || n > 40)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return 0;
	return 1;
}

/* After a good walk: main reaches what the auditor saw before. */
static int check_expectations(verify_state *s, const lethe_verify_expect *e)
{
	if (e->at_least_seq > 0 && s->nrecs < e->at_least_seq)
		return repo_fail(s, "main ends at record %08lld, before record %08lld seen earlier: "
				 "the evidence was truncated or rolled back", (long long)s->nrecs,
				 (long long)e->at_least_seq);
	if (e->head && !s->saw_head)
		return repo_fail(s, "commit %s, seen earlier, is not on main's history: the evidence "
				 "was rolled back or rewritten", e->head);
	return 0;
}

int lethe_verify(lethe_verify_report *out, const char *repository,
		 const char *allowed_signers_path)
{
	return lethe_verify_expecting(out, repository, allowed_signers_path, NULL);
}

int lethe_verify_expecting(lethe_verify_report *out, const char *repository,
			   const char *allowed_signers_path, const lethe_verify_expect *expect)
{
	lethe_verify_report rep;
	lethe_allowed_signers *signers = NULL;
	verify_state s;
	char head[41];
	int rc;

	memset(&rep, 0, sizeof(rep));
	memset(&s, 0, sizeof(s));
	rep.seq = -1;
	s.rep = &rep;
	if (expect && expect->head && !is_hex_prefix(expect->head))
		return lethe_error_set(LETHE_EUSAGE, "'%s' is not a commit id (7 to 40 lowercase "
				       "hex digits)", expect->head);
	s.want_head = expect ? expect->head : NULL;
	if ((rc = lethe_allowed_signers_load(&signers, allowed_signers_path)) < 0)
		goto out;
	s.signers = signers;
	if ((rc = lethe_evidence_open(&s.ev, repository)) < 0)
		goto out;
	if ((rc = check_substitutions(&s)) < 0)
		goto done;
	rc = lethe_evidence_head(head, s.ev);
	if (rc == LETHE_ENOTFOUND)
		rc = repo_fail(&s, "the repository has no main branch (refs/heads/main): there is no "
			       "evidence to verify");
	if (rc < 0)
		goto done;
	rc = walk(&s, repository);
	if (rc == 0 && expect)
		rc = check_expectations(&s, expect);
	if (rc == 0) {
		memcpy(rep.head, s.prev_oid, sizeof(rep.head));
		rep.head_seq = s.nrecs;
	}
done:
	if (rc == LETHE_EVERIFY)
		lethe_error_set(LETHE_EVERIFY, "%s", rep.reason);
	if (rc == 0 || rc == LETHE_EVERIFY) {
		if (rc == 0)
			rep.seq = -1;
		*out = rep;
	}
out:
	forget_commit(&s);
	free(s.changed);
	free(s.intents);
	free(s.approvals);
	verify_hash_free(&s.hashes);
	lethe_evidence_free(s.ev);
	lethe_allowed_signers_free(signers);
	return rc;
}
