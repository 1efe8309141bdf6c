/*
 * cmd_requests.c - `lethe [-c FILE] requests`: the register of data
 * subjects' requests (GDPR 12(3): answered within one month of receipt,
 * extendable by two further months with a reason).
 *   requests [list] [--json]       every request, oldest received first
 *   requests add --kind access|erasure --subject KEY [--received DATE]
 *                                  one received but not answered yet
 *   requests extend ID --until DATE --reason TEXT
 * `access` and `erase` register and answer requests themselves. Subjects are
 * shown by their keyed digest: the register keeps no key.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "lethe/error.h"
#include "lethe/site.h"
#include "lethe/subject.h"

static const char usage_text[] =
	"usage: lethe [-c FILE] requests [list] [--json]\n"
	"       lethe [-c FILE] requests add --kind access|erasure --subject KEY [--received YYYY-MM-DD]\n"
	"       lethe [-c FILE] requests extend ID --until YYYY-MM-DD --reason TEXT\n";

int cli_parse_received(lethe_day *out, const char *arg)
{
	lethe_day today;

	cli_parse_as_of(&today, NULL);
	if (!arg) {
		*out = today;
		return 0;
	}
	if (lethe_day_parse(out, arg) < 0) {
		cli_error("--received: bad date '%s' (expected YYYY-MM-DD)", arg);
		return 64;
	}
	if (*out > today) {
		cli_error("--received: '%s' is after today", arg);
		return 64;
	}
	return 0;
}

static int list_one(void *ctx, const lethe_request *r)
{
	json_t *list = ctx;

	return json_array_append_new(list, json_pack(
		"{s:I, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s}", "id", (json_int_t)r->id, "kind", r->kind,
		"subject", r->subject, "received", r->received, "deadline", r->deadline,
		"answered", r->answered, "extended_until", r->extended_until,
		"state", r->answered ? "answered" : "open")) < 0 ? LETHE_ESOFTWARE : 0;
}

static int list(const lethe_cli_opts *opts, int json)
{
	json_t *all = json_array(), *r;
	cli_register reg;
	size_t i;
	int status, rc;

	if ((status = cli_register_open(&reg, opts, LETHE_BACKEND_READONLY))) {
		json_decref(all);
		return status;
	}
	if ((rc = lethe_backend_requests(reg.be, list_one, all)) < 0) {
		status = cli_fail(rc);
		json_decref(all);
	} else if (json) {
		status = cli_print_json(all);
	} else {
		printf("%-5s %-8s %-10s %-10s %-10s %-10s %s\n", "id", "kind", "received", "deadline",
		       "answered", "extended", "subject");
		json_array_foreach(all, i, r) {
			const char *ans = json_string_value(json_object_get(r, "answered"));
			const char *ext = json_string_value(json_object_get(r, "extended_until"));

			printf("%-5lld %-8s %-10s %-10s %-10s %-10s %.16s\n",
			       (long long)json_integer_value(json_object_get(r, "id")),
			       json_string_value(json_object_get(r, "kind")),
			       json_string_value(json_object_get(r, "received")),
			       json_string_value(json_object_get(r, "deadline")), ans ? ans : "open",
			       ext ? ext : "-", json_string_value(json_object_get(r, "subject")));
		}
		json_decref(all);
	}
	cli_register_close(&reg);
	return status;
}

/* add and extend: options after the action word (and ID for extend). */
static int change(const lethe_cli_opts *opts, int argc, char **argv, int extend)
{
	static const struct option longopts[] = {
		{ "kind", required_argument, NULL, 'k' },
		{ "subject", required_argument, NULL, 's' },
		{ "received", required_argument, NULL, 'r' },
		{ "until", required_argument, NULL, 'u' },
		{ "reason", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	const char *kind = NULL, *key = NULL, *received_arg = NULL, *until_arg = NULL, *reason = NULL;
	lethe_subject subject = { 0 };
	lethe_site *site = NULL;
	lethe_day received, until;
	cli_register reg;
	char *end = NULL;
	long long id = 0;
	int64_t new_id;
	int c, status, rc;

	optind = 0; /* glibc: a full restart after cli_args.c's parsing */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		const char **slot = c == 'k' ? &kind : c == 's' ? &key : c == 'r' ? &received_arg :
				    c == 'u' ? &until_arg : c == 'e' ? &reason : NULL;

		if (!slot) {
			cli_error("requests: bad option '%s'\n%s", argv[optind - 1], usage_text);
			return 64;
		}
		*slot = optarg;
	}
	if (extend) {
		if (optind + 1 != argc || (id = strtoll(argv[optind], &end, 10)) <= 0 || *end ||
		    !until_arg || !reason || kind || key || received_arg) {
			cli_error("requests extend: ID, --until DATE and --reason TEXT are required\n%s",
				  usage_text);
			return 64;
		}
		if (lethe_day_parse(&until, until_arg) < 0) {
			cli_error("--until: bad date '%s' (expected YYYY-MM-DD)", until_arg);
			return 64;
		}
	} else if (optind != argc || !kind || !key || until_arg || reason) {
		cli_error("requests add: --kind and --subject are required\n%s", usage_text);
		return 64;
	} else if ((status = cli_parse_received(&received, received_arg))) {
		return status;
	}
	if ((status = cli_register_open(&reg, opts, 0)))
		return status;
	rc = lethe_site_open(&site, reg.cfg, reg.policy, reg.be, LETHE_SITE_KEYS);
	if (rc == 0 && extend)
		rc = lethe_site_request_extend(site, id, until, reason);
	else if (rc == 0 && (rc = lethe_subject_find(&subject, reg.be, reg.policy, key)) == 0)
		rc = lethe_site_request_add(&new_id, site, kind, &subject, received);
	if (rc < 0) {
		/* no such open request is bad data, as for `hold release` */
		status = rc == LETHE_ENOTFOUND ? (cli_fail(rc), 65) : cli_fail(rc);
	} else if (!opts->quiet) {
		if (extend)
			printf("request %lld extended until %s\n", id, until_arg);
		else
			printf("request %lld registered\n", (long long)new_id);
	}
	lethe_subject_release(&subject);
	lethe_site_free(site);
	cli_register_close(&reg);
	return status;
}

int cmd_requests(const lethe_cli_opts *opts, int argc, char **argv)
{
	const char *action = argc > 1 && argv[1][0] != '-' ? argv[1] : "list";
	int shift = argc > 1 && argv[1][0] != '-';
	int json = 0;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("%s", usage_text);
		return 0;
	}
	if (!strcmp(action, "add") || !strcmp(action, "extend"))
		return change(opts, argc - 1, argv + 1, !strcmp(action, "extend"));
	if (strcmp(action, "list")) {
		cli_error("requests: unknown action '%s'\n%s", action, usage_text);
		return 64;
	}
	for (int i = 1 + shift; i < argc; i++) {
		if (strcmp(argv[i], "--json")) {
			cli_error("requests: unexpected argument '%s'\n%s", argv[i], usage_text);
			return 64;
		}
		json = 1;
	}
	return list(opts, json);
}
