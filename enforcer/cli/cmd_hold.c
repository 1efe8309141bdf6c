/*
 * cmd_hold.c - legal holds:
 *   lethe hold add --reason TEXT (--subject KEY | --rule NAME [--where SQL]) [--until DATE]
 *                  [--by PRINCIPAL]
 *   lethe hold list [--json]
 *   lethe hold release ID --reason TEXT [--by PRINCIPAL]
 * A held row is never disposed by run or erase (plan counts it `held`).
 * Every hold and release is a signed evidence record first (the audit
 * trail; a subject appears there only as its keyed digest), then the
 * register's lethe_holds row (what planning reads, with no key at hand).
 *
 * No text the operator types reaches the evidence: the register keeps the
 * texts (`hold list` shows them), the record only their keyed digest
 * (enforcer/site_records.c).
 *
 * Who placed or released a hold (--by, else the user who ran the command:
 * $SUDO_USER under sudo, else the login name of the user id) is named in
 * the record, its commit subject and the register.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "lethe/backend.h"
#include "lethe/error.h"
#include "lethe/site.h"
#include "lethe/text.h"

typedef struct {
	const char *reason, *subject, *rule, *where, *until, *id, *by;
	int json;
} hold_args;

static int parse(hold_args *a, int argc, char **argv, int from)
{
	static const char *const names[] = { "--reason", "--subject", "--rule", "--where", "--until",
					     "--by" };

	for (int i = from; i < argc; i++) {
		const char **slots[] = { &a->reason, &a->subject, &a->rule, &a->where, &a->until,
					 &a->by };
		int matched = 0;

		for (size_t k = 0; k < 6 && !matched; k++) {
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

/* The register and a site opened for writing (the lock, the keys, the
 * evidence and its head, recovery), naming who acts. 0 or the exit status. */
static int open_site(cli_register *r, lethe_site **site, const lethe_cli_opts *opts,
		     const hold_args *a)
{
	int status, rc;

	if ((status = cli_register_open(r, opts, 0)))
		return status;
	if ((rc = lethe_site_open(site, r->cfg, r->policy, r->be, LETHE_SITE_WRITE)) < 0 ||
	    (rc = lethe_site_set_actor(*site, cli_actor(a->by))) < 0)
		return cli_fail(rc);
	return 0;
}

static int hold_add(const lethe_cli_opts *opts, const hold_args *a)
{
	lethe_site_hold req = { a->reason, a->subject, a->rule, a->where, a->until };
	lethe_warnings warnings = { 0 };
	lethe_site *site = NULL;
	cli_register r = { 0 };
	lethe_day until;
	int64_t id = 0, seq = 0;
	int status, rc;

	if (!a->reason || !*a->reason || (!a->subject == !a->rule) || (a->where && !a->rule)) {
		cli_error("usage: lethe hold add --reason TEXT (--subject KEY | --rule NAME [--where SQL]) "
			  "[--until YYYY-MM-DD] [--by PRINCIPAL]");
		return 64;
	}
	if (a->until && lethe_day_parse(&until, a->until) < 0) {
		cli_error("--until: bad date '%s' (expected YYYY-MM-DD)", a->until);
		return 64;
	}
	if ((status = open_site(&r, &site, opts, a)))
		goto out;
	rc = lethe_site_hold_add(&id, &seq, &warnings, site, &req);
	if (rc < 0) {
		status = cli_fail(rc);
		goto out;
	}
	printf("hold %" PRId64 " added (evidence record %" PRId64 ")\n", id, seq);
	cli_warnings(opts, &warnings);
out:
	lethe_warnings_free(&warnings);
	lethe_site_free(site);
	cli_register_close(&r);
	return status;
}

static int hold_release(const lethe_cli_opts *opts, const hold_args *a)
{
	lethe_warnings warnings = { 0 };
	lethe_site *site = NULL;
	cli_register r = { 0 };
	char *end;
	long long id = a->id ? strtoll(a->id, &end, 10) : 0;
	int64_t seq = 0;
	int status, rc;

	if (!a->id || *end || id <= 0 || !a->reason || !*a->reason || a->subject || a->rule) {
		cli_error("usage: lethe hold release ID --reason TEXT [--by PRINCIPAL]");
		return 64;
	}
	if ((status = open_site(&r, &site, opts, a)))
		goto out;
	if ((rc = lethe_site_hold_release(&seq, &warnings, site, id, a->reason)) < 0) {
		status = rc == LETHE_ENOTFOUND ? (cli_fail(rc), 65) : cli_fail(rc);
		goto out;
	}
	printf("hold %lld released (evidence record %" PRId64 ")\n", id, seq);
	cli_warnings(opts, &warnings);
out:
	lethe_warnings_free(&warnings);
	lethe_site_free(site);
	cli_register_close(&r);
	return status;
}

static int list_one(void *ctx, const lethe_hold *h)
{
	json_t *list = ctx;
	json_t *o = json_pack("{s:I, s:s, s:s?, s:s?, s:s?, s:s, s:s?, s:b, s:s?, s:s?, s:s?, s:s?}",
			      "id", (json_int_t)h->id, "scope", h->rule ? "rule" : "subject", "rule",
			      h->rule, "where", h->where, "until", h->until, "created_at",
			      h->created_at, "released_at", h->released_at, "in_force",
			      h->released_at == NULL, "reason", h->reason, "release_reason",
			      h->release_reason, "placed_by", h->placed_by, "released_by",
			      h->released_by);

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
		const char *placed_by = json_string_value(json_object_get(o, "placed_by"));
		const char *released_by = json_string_value(json_object_get(o, "released_by"));
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
		print_text("placed by", placed_by);
		print_text("reason", reason);
		print_text("released by", released_by);
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
		       "[--where SQL]) [--until YYYY-MM-DD] [--by PRINCIPAL]\n"
		       "       lethe [-c FILE] hold list [--json]\n"
		       "       lethe [-c FILE] hold release ID --reason TEXT [--by PRINCIPAL]\n");
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
