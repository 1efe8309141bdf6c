/*
 * cmd_hold.c - legal holds:
 *   lethe hold add --reason TEXT (--subject KEY | --rule NAME [--where SQL]) [--until DATE]
 *   lethe hold list [--json]
 *   lethe hold release ID --reason TEXT
 * A held row is never disposed by run or erase (plan counts it `held`).
 * Every hold and release is a signed evidence record first (the audit
 * trail; a subject appears there only as its keyed digest), then the
 * register's lethe_holds row (what planning reads, with no key at hand).
 *
 * Invariant: no text the operator types reaches the evidence. Reasons and a
 * --where filter can name a person ("complaint of matti@example.org",
 * "email = '...'"), and the evidence is append-only: the register keeps the
 * texts (`hold list` shows them), the record only their keyed digest
 * (lethe_record_text_digest), so an auditor shown a text can check it against the record.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "lethe/backend.h"
#include "lethe/error.h"
#include "lethe/lock.h"
#include "lethe/record.h"
#include "lethe/runlog.h"
#include "lethe/subject.h"
#include "lethe/text.h"

typedef struct {
	const char *reason, *subject, *rule, *where, *until, *id;
	int json;
} hold_args;

static int parse(hold_args *a, int argc, char **argv, int from)
{
	static const char *const names[] = { "--reason", "--subject", "--rule", "--where", "--until" };

	for (int i = from; i < argc; i++) {
		const char **slots[] = { &a->reason, &a->subject, &a->rule, &a->where, &a->until };
		int matched = 0;

		for (size_t k = 0; k < 5 && !matched; k++) {
			int missing = 0;
			const char *v = cli_option_value(argc, argv, &i, names[k], &missing);

			if (missing) {
				cli_error("hold: %s needs a value", names[k]);
				return 64;
			}
			if (v) {
				*slots[k] = v;
				matched = 1;
			}
		}
		if (matched)
			continue;
		if (!strcmp(argv[i], "--json"))
			a->json = 1;
		else if (argv[i][0] != '-' && !a->id)
			a->id = argv[i];
		else {
			cli_error("hold: unexpected argument '%s'", argv[i]);
			return 64;
		}
	}
	return 0;
}

/* Open what a recording command needs, under the lock. */
typedef struct {
	cli_register r;
	cli_site site;
	lethe_lock *lock;
	lethe_runlog_env env;
} hold_ctx;

static int open_all(hold_ctx *h, const lethe_cli_opts *opts)
{
	int status, rc;
	lethe_recovery rec;

	if ((status = cli_register_open(&h->r, opts, 0)))
		return status;
	if ((rc = lethe_lock_acquire(&h->lock, h->r.cfg->database)) < 0)
		return cli_fail(rc);
	if ((status = cli_site_open(&h->site, h->r.cfg)))
		return status;
	h->env = (lethe_runlog_env){ .ev = h->site.ev, .signing_key = h->site.signing_key,
				     .digest_key = h->site.pseudonym_key, .be = h->r.be,
				     .policy = h->r.policy, .database = h->site.database };
	if ((rc = lethe_runlog_recover(&rec, &h->env)) < 0)
		return cli_fail(rc);
	return 0;
}

static void close_all(hold_ctx *h)
{
	cli_site_close(&h->site);
	lethe_lock_release(h->lock);
	cli_register_close(&h->r);
}

static int hold_add(const lethe_cli_opts *opts, const hold_args *a)
{
	hold_ctx h = { 0 };
	lethe_subject subject = { 0 };
	lethe_hold hold = { .subject = { .type = LETHE_VALUE_NULL } };
	json_t *fields = NULL;
	char now[21], digest[LETHE_DIGEST_SIZE], reason_d[LETHE_DIGEST_SIZE];
	char where_d[LETHE_DIGEST_SIZE], *why = NULL;
	lethe_day until;
	int64_t id = 0, seq = 0;
	int status, rc;

	if (!a->reason || !*a->reason || (!a->subject == !a->rule) || (a->where && !a->rule)) {
		cli_error("usage: lethe hold add --reason TEXT (--subject KEY | --rule NAME [--where SQL]) "
			  "[--until YYYY-MM-DD]");
		return 64;
	}
	if (a->until && lethe_day_parse(&until, a->until) < 0) {
		cli_error("--until: bad date '%s' (expected YYYY-MM-DD)", a->until);
		return 64;
	}
	if ((status = open_all(&h, opts)))
		goto out;
	cli_now_iso(now);
	lethe_record_text_digest(reason_d, h.site.pseudonym_key, a->reason);
	if (a->subject) {
		if ((rc = lethe_subject_find(&subject, h.r.be, h.r.policy, a->subject)) < 0) {
			status = cli_fail(rc);
			goto out;
		}
		if ((rc = lethe_subject_digest(digest, h.site.pseudonym_key, &subject.value)) < 0) {
			status = cli_fail(rc);
			goto out;
		}
		hold.subject = subject.value;
	} else {
		const lethe_rule *r = lethe_policy_rule(h.r.policy, a->rule);

		if (!r) {
			cli_error("hold: no rule '%s' in the policy", a->rule);
			status = 65;
			goto out;
		}
		if (a->where && lethe_backend_check_expr(h.r.be, r->table, a->where, &why) < 0) {
			cli_error("hold: --where: %s", why ? why : lethe_error_last());
			status = 65;
			goto out;
		}
		if (a->where)
			lethe_record_text_digest(where_d, h.site.pseudonym_key, a->where);
		hold.rule = a->rule;
		hold.where = a->where;
	}
	hold.until = a->until;
	hold.created_at = now;
	hold.reason = a->reason;
	/* The register's row first inside a transaction, the evidence record,
	 * then COMMIT: a failed record leaves no hold behind, and a hold in
	 * force always has its record. */
	if ((rc = lethe_backend_begin(h.r.be)) < 0 ||
	    (rc = lethe_backend_hold_add(&id, h.r.be, &hold)) < 0) {
		lethe_backend_rollback(h.r.be);
		status = cli_fail(rc);
		goto out;
	}
	fields = lethe_record_hold(id, reason_d, a->subject ? digest : NULL,
				   a->subject ? NULL : a->rule, a->where ? where_d : NULL, a->until);
	if ((rc = fields ? 0 : lethe_error_set(LETHE_ESOFTWARE, "out of memory")) < 0 ||
	    (rc = lethe_runlog_record(&seq, &h.env, "hold", fields)) < 0 ||
	    (rc = lethe_backend_commit(h.r.be)) < 0) {
		lethe_backend_rollback(h.r.be);
		status = cli_fail(rc);
		goto out;
	}
	printf("hold %" PRId64 " added (evidence record %" PRId64 ")\n", id, seq);
	cli_site_push(opts, h.r.cfg, h.site.ev);
out:
	free(why);
	json_decref(fields);
	lethe_subject_release(&subject);
	close_all(&h);
	return status;
}

static int hold_release(const lethe_cli_opts *opts, const hold_args *a)
{
	hold_ctx h = { 0 };
	json_t *fields = NULL;
	char now[21], reason_d[LETHE_DIGEST_SIZE], *end;
	long long id = a->id ? strtoll(a->id, &end, 10) : 0;
	int64_t seq = 0;
	int status, rc;

	if (!a->id || *end || id <= 0 || !a->reason || !*a->reason || a->subject || a->rule) {
		cli_error("usage: lethe hold release ID --reason TEXT");
		return 64;
	}
	if ((status = open_all(&h, opts)))
		goto out;
	cli_now_iso(now);
	if ((rc = lethe_backend_begin(h.r.be)) < 0 ||
	    (rc = lethe_backend_hold_release(h.r.be, id, now, a->reason)) < 0) {
		lethe_backend_rollback(h.r.be);
		status = rc == LETHE_ENOTFOUND ? (cli_fail(rc), 65) : cli_fail(rc);
		goto out;
	}
	lethe_record_text_digest(reason_d, h.site.pseudonym_key, a->reason);
	fields = lethe_record_release(id, reason_d);
	if ((rc = fields ? 0 : lethe_error_set(LETHE_ESOFTWARE, "out of memory")) < 0 ||
	    (rc = lethe_runlog_record(&seq, &h.env, "release", fields)) < 0 ||
	    (rc = lethe_backend_commit(h.r.be)) < 0) {
		lethe_backend_rollback(h.r.be);
		status = cli_fail(rc);
		goto out;
	}
	printf("hold %lld released (evidence record %" PRId64 ")\n", id, seq);
	cli_site_push(opts, h.r.cfg, h.site.ev);
out:
	json_decref(fields);
	close_all(&h);
	return status;
}

static int list_one(void *ctx, const lethe_hold *h)
{
	json_t *list = ctx;
	json_t *o = json_pack("{s:I, s:s, s:s?, s:s?, s:s?, s:s, s:s?, s:b, s:s?, s:s?}", "id",
			      (json_int_t)h->id, "scope", h->rule ? "rule" : "subject", "rule", h->rule,
			      "where", h->where, "until", h->until, "created_at", h->created_at,
			      "released_at", h->released_at, "in_force", h->released_at == NULL,
			      "reason", h->reason, "release_reason", h->release_reason);

	if (!h->rule && h->subject.type == LETHE_VALUE_INTEGER)
		json_object_set_new(o, "subject", json_integer(h->subject.i));
	else if (!h->rule && h->subject.type == LETHE_VALUE_TEXT)
		json_object_set_new(o, "subject", json_stringn(h->subject.s, h->subject.len));
	json_array_append_new(list, o);
	return 0;
}

static void print_text(const char *label, const char *text)
{
	char *line = text ? lethe_text_line(text) : NULL;

	if (line)
		printf("      %s: %s\n", label, line);
	free(line);
}

static int hold_list(const lethe_cli_opts *opts, const hold_args *a)
{
	cli_register r = { 0 };
	json_t *list = json_array(), *o;
	size_t i;
	int status, rc;

	if ((status = cli_register_open(&r, opts, LETHE_BACKEND_READONLY)))
		goto out;
	if ((rc = lethe_backend_holds(r.be, list_one, list)) < 0) {
		status = cli_fail(rc);
		goto out;
	}
	if (a->json) {
		char *text = json_dumps(list, JSON_INDENT(2));

		printf("%s\n", text ? text : "[]");
		free(text);
		goto out;
	}
	json_array_foreach(list, i, o) {
		json_t *subj = json_object_get(o, "subject");
		const char *rule = json_string_value(json_object_get(o, "rule"));
		const char *where = json_string_value(json_object_get(o, "where"));
		const char *until = json_string_value(json_object_get(o, "until"));
		const char *released = json_string_value(json_object_get(o, "released_at"));
		const char *reason = json_string_value(json_object_get(o, "reason"));
		const char *release_reason = json_string_value(json_object_get(o, "release_reason"));
		char subject[64] = "";

		if (json_is_integer(subj))
			snprintf(subject, sizeof(subject), "%" JSON_INTEGER_FORMAT, json_integer_value(subj));
		else if (json_is_string(subj))
			snprintf(subject, sizeof(subject), "%s", json_string_value(subj));
		printf("%-5" JSON_INTEGER_FORMAT " %-9s %s %s%s%s  since %s%s%s%s%s\n",
		       json_integer_value(json_object_get(o, "id")), released ? "released" : "in force",
		       rule ? "rule" : "subject", rule ? rule : subject, where ? " where " : "",
		       where ? where : "", json_string_value(json_object_get(o, "created_at")),
		       until ? ", until " : "", until ? until : "", released ? ", released " : "",
		       released ? released : "");
		/* the operator's texts, each kept to one safe line */
		print_text("reason", reason);
		print_text("released because", release_reason);
	}
	if (!json_array_size(list) && !opts->quiet)
		printf("no holds\n");
out:
	json_decref(list);
	cli_register_close(&r);
	return status;
}

int cmd_hold(const lethe_cli_opts *opts, int argc, char **argv)
{
	hold_args a = { 0 };
	int status;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		printf("usage: lethe [-c FILE] hold add --reason TEXT (--subject KEY | --rule NAME "
		       "[--where SQL]) [--until YYYY-MM-DD]\n"
		       "       lethe [-c FILE] hold list [--json]\n"
		       "       lethe [-c FILE] hold release ID --reason TEXT\n");
		return argc < 2 ? 64 : 0;
	}
	if ((status = parse(&a, argc, argv, 2)))
		return status;
	if (!strcmp(argv[1], "add"))
		return hold_add(opts, &a);
	if (!strcmp(argv[1], "release"))
		return hold_release(opts, &a);
	if (!strcmp(argv[1], "list"))
		return hold_list(opts, &a);
	cli_error("hold: unknown subcommand '%s' (add, list, release)", argv[1]);
	return 64;
}
