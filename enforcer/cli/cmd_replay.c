/*
 * cmd_replay.c - `lethe [-c FILE] replay [--by PRINCIPAL] [--dry-run] [--json]`: after the
 * register is restored from a backup, every erasure done since the backup
 * must be done again. The evidence knows each erasure by its subject's
 * keyed digest; replay digests every key of the subject table, and for each
 * subject an erasure names whose rows came back (something is due under
 * the erasure scope) applies the erasure exactly as `lethe erase` does,
 * recorded as an erasure whose intent says replay_of: the original intent's
 * seq. Subjects with nothing due (erased before the backup, or replayed
 * already) are passed over, so a second replay does nothing.
 *
 * A key is not a person: a subject whose key an erasure names but whose
 * contact values are not those the erasure recorded (SQLite gave the freed
 * key to a new customer, or a restore brought back a key given to another
 * person since) is skipped, with a warning and in the summary: replay does
 * everything it can safely do and exits 0; whether that subject must be
 * erased is for a person to decide (`lethe erase --subject KEY`).
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "lethe/error.h"
#include "lethe/site.h"

typedef struct {
	const char *by;
	int dry_run;
	int json;
} replay_args;

static int parse_args(replay_args *a, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		int missing = 0;
		const char *v = cli_option_value(argc, argv, &i, "--by", &missing);

		if (missing) {
			cli_error("--by needs a principal");
			return 64;
		} else if (v) {
			a->by = v;
		} else if (!strcmp(argv[i], "--dry-run")) {
			a->dry_run = 1;
		} else if (!strcmp(argv[i], "--json")) {
			a->json = 1;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: lethe [-c FILE] replay [--by PRINCIPAL] [--dry-run] [--json]\n");
			return -1;
		} else {
			cli_error("replay: unexpected argument '%s'", argv[i]);
			return 64;
		}
	}
	return 0;
}

/* What replay did, for the summary: totals per rule, one object per
 * subject re-erased (bounded by the erasures of the evidence). */
typedef struct {
	int64_t *per_rule;       /* rows per policy rule */
	json_t *subjects;        /* [{subject, replay_of, erased, rules}] */
	json_t *skipped;         /* [{subject, erasure, reason}] */
	size_t found;            /* subjects of the evidence's erasures in the register */
	size_t erased;           /* of them, with rows back */
} summary;

#define OTHER_PERSON "the key now belongs to another person: the contact values differ from " \
		     "those the erasure recorded"

/* A key an erasure names that now belongs to someone else: not erased. */
static void skip_subject(summary *s, const lethe_replay_match *m)
{
	json_array_append_new(s->skipped, json_pack("{s:s, s:I, s:s}", "subject", m->subject.text,
						    "erasure", (json_int_t)m->replay_of,
						    "reason", OTHER_PERSON));
}

static int64_t total_due(const lethe_plan *p)
{
	int64_t n = 0;

	for (size_t i = 0; i < p->nrules; i++)
		n += p->rules[i].due;
	return n;
}

static void add_subject(summary *s, const lethe_replay_match *m, const lethe_plan *done)
{
	json_t *rules = json_object();

	for (size_t i = 0; i < done->nrules; i++) {
		s->per_rule[i] += done->rules[i].due;
		if (done->rules[i].due)
			json_object_set_new(rules, done->rules[i].rule->name,
					    json_integer(done->rules[i].due));
	}
	json_array_append_new(s->subjects, json_pack("{s:s, s:I, s:I, s:o}", "subject",
						     m->subject.text, "replay_of",
						     (json_int_t)m->replay_of, "erased",
						     (json_int_t)total_due(done), "rules", rules));
	s->erased++;
}

/* lethe_site_replay's report of one subject: its warnings now, its
 * counts into the summary. */
typedef struct {
	summary *s;
	const lethe_cli_opts *opts;
} replay_ctx;

static int replayed(void *ctx, const lethe_site_replayed *r, const lethe_warnings *w)
{
	replay_ctx *c = ctx;

	cli_warnings(c->opts, w);
	if (r->skipped)
		skip_subject(c->s, r->match);
	else if (r->plan)
		add_subject(c->s, r->match, r->plan);
	return 0;
}

static void print_text(const summary *s, const lethe_policy *p, size_t erasures, lethe_day as_of,
		       int dry_run)
{
	char today[11];
	size_t i;
	json_t *o;

	lethe_day_format(as_of, today);
	printf("Replay of erasures, %s%s\n", today, dry_run ? " (dry run: nothing was changed)" : "");
	printf("erasures in the evidence: %zu; their subjects in the register: %zu; %s: %zu\n",
	       erasures, s->found, dry_run ? "to erase again" : "erased again", s->erased);
	if (json_array_size(s->skipped))
		printf("skipped, the key now another person's: %zu\n", json_array_size(s->skipped));
	json_array_foreach(s->skipped, i, o)
		printf("  subject %s (erasure %08" PRId64 "): skipped: %s\n",
		       json_string_value(json_object_get(o, "subject")),
		       (int64_t)json_integer_value(json_object_get(o, "erasure")), OTHER_PERSON);
	json_array_foreach(s->subjects, i, o)
		printf("  subject %s (erasure %08" PRId64 "): %" PRId64 " row%s\n",
		       json_string_value(json_object_get(o, "subject")),
		       (int64_t)json_integer_value(json_object_get(o, "replay_of")),
		       (int64_t)json_integer_value(json_object_get(o, "erased")),
		       json_integer_value(json_object_get(o, "erased")) == 1 ? "" : "s");
	for (i = 0; s->erased && i < p->nrules; i++)
		if (s->per_rule[i])
			printf("  %-40s %" PRId64 " (%s)\n", p->rules[i].name, s->per_rule[i],
			       lethe_action_name(p->rules[i].on_erasure));
}

static int print_json(const summary *s, const lethe_policy *p, size_t erasures, lethe_day as_of,
		      int dry_run)
{
	json_t *root, *rules = json_array();
	char today[11];

	lethe_day_format(as_of, today);
	for (size_t i = 0; i < p->nrules; i++)
		json_array_append_new(rules, json_pack("{s:s, s:s, s:s, s:I}", "rule", p->rules[i].name,
						       "table", p->rules[i].table, "on_erasure",
						       lethe_action_name(p->rules[i].on_erasure),
						       "erased", (json_int_t)s->per_rule[i]));
	root = json_pack("{s:s, s:b, s:I, s:I, s:I, s:O, s:O, s:o}", "date", today, "dry_run", dry_run,
			 "erasures", (json_int_t)erasures, "subjects_found", (json_int_t)s->found,
			 "subjects_erased", (json_int_t)s->erased, "subjects", s->subjects,
			 "subjects_skipped", s->skipped, "rules", rules);
	return cli_print_json(root);
}

int cmd_replay(const lethe_cli_opts *opts, int argc, char **argv)
{
	replay_args a = { 0 };
	lethe_site *site = NULL;
	lethe_day as_of;
	cli_register r = { 0 };
	summary s = { 0 };
	replay_ctx c = { &s, opts };
	size_t erasures = 0;
	int status, rc;

	if ((status = parse_args(&a, argc, argv)))
		return status < 0 ? 0 : status;
	cli_parse_as_of(&as_of, NULL);
	if ((status = cli_register_open(&r, opts, a.dry_run ? LETHE_BACKEND_READONLY : 0)))
		return status;
	if ((rc = lethe_site_open(&site, r.cfg, r.policy, r.be,
				  a.dry_run ? LETHE_SITE_KEYS : LETHE_SITE_WRITE)) < 0 ||
	    (rc = lethe_site_set_actor(site, cli_actor(a.by))) < 0) {
		status = cli_fail(rc);
		goto out;
	}
	s.per_rule = calloc(r.policy->nrules + 1, sizeof(*s.per_rule));
	s.subjects = json_array();
	s.skipped = json_array();
	if (!s.per_rule || !s.subjects || !s.skipped) {
		status = cli_fail(lethe_error_set(LETHE_ESOFTWARE, "out of memory"));
		goto out;
	}
	if ((rc = lethe_site_replay(&erasures, &s.found, site, as_of, replayed, &c)) < 0) {
		status = cli_fail(rc);
		goto out;
	}
	if (a.json)
		status = print_json(&s, r.policy, erasures, as_of, a.dry_run);
	else
		print_text(&s, r.policy, erasures, as_of, a.dry_run);
out:
	json_decref(s.subjects);
	json_decref(s.skipped);
	free(s.per_rule);
	lethe_site_free(site);
	cli_register_close(&r);
	return status;
}
