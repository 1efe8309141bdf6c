/*
 * cmd_erase.c - `lethe [-c FILE] erase --subject KEY [--lang fi|sv|en]
 * [--dry-run] [--json]`:
 * a data subject's erasure request. Every rule's on_erasure action is
 * applied to the subject's rows now, whatever their clocks, with the batches,
 * residue work and evidence of a run; what must be kept is kept; and the
 * answer for the customer says, per data category, what was erased and what
 * was kept, on what basis and until when.
 *
 * The subject's contact values (subject.contact) join the suppression list
 * as tokens before anything is erased, so a marketing ban survives.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "lethe/error.h"
#include "lethe/i18n.h"
#include "lethe/site.h"
#include "lethe/subject.h"

typedef struct {
	const char *subject;
	const char *received;
	const char *lang;
	int dry_run;
	int json;
} erase_args;

static int parse_args(erase_args *a, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		int missing = 0;
		const char *v = cli_option_value(argc, argv, &i, "--subject", &missing);

		if (missing) {
			cli_error("--subject needs a key");
			return 64;
		} else if (v) {
			a->subject = v;
		} else if ((v = cli_option_value(argc, argv, &i, "--received", &missing)) || missing) {
			if (missing) {
				cli_error("--received needs a date");
				return 64;
			}
			a->received = v;
		} else if ((v = cli_option_value(argc, argv, &i, "--lang", &missing)) || missing) {
			if (missing) {
				cli_error("--lang needs fi, sv or en");
				return 64;
			}
			a->lang = v;
		} else if (!strcmp(argv[i], "--dry-run")) {
			a->dry_run = 1;
		} else if (!strcmp(argv[i], "--json")) {
			a->json = 1;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: lethe [-c FILE] erase --subject KEY [--received YYYY-MM-DD] [--lang fi|sv|en] [--dry-run] [--json]\n");
			return -1;
		} else {
			cli_error("erase: unexpected argument '%s'", argv[i]);
			return 64;
		}
	}
	if (!a->subject) {
		cli_error("erase: --subject KEY is required");
		return 64;
	}
	return 0;
}

/*
 * The answer's words are catalog entries (po/fi.po, po/sv.po): the reasons
 * rows stay are a table, so a new reason is one line here and one entry in
 * each catalog. The JSON answer keeps the English text (scripts match it).
 */
enum { KEPT_BY_BASIS, KEPT_BY_HOLD, KEPT_BY_DEPENDANT };
static const char *const kept_reasons[] = {
	[KEPT_BY_BASIS] = N_("kept: required by its basis"),
	[KEPT_BY_HOLD] = N_("kept: legal hold"),
	[KEPT_BY_DEPENDANT] = N_("kept: other data that must be kept depends on it"),
};

/* The actions as the answer names them (lethe_action_name's words). */
static const char *const action_words[] = {
	[LETHE_ACTION_DELETE] = N_("delete"),
	[LETHE_ACTION_PSEUDONYMISE] = N_("pseudonymise"),
	[LETHE_ACTION_MASK] = N_("mask"),
	[LETHE_ACTION_KEEP] = N_("keep"),
};

/* Why rows of a rule stay (untranslated). */
static const char *kept_reason(const lethe_rule_plan *done)
{
	if (done->rule->on_erasure == LETHE_ACTION_KEEP)
		return kept_reasons[KEPT_BY_BASIS];
	if (done->held)
		return kept_reasons[KEPT_BY_HOLD];
	return kept_reasons[KEPT_BY_DEPENDANT];
}

/* The heading of a rule's rows: its declared category in the answer's
 * language, else the rule's description. */
static const char *category_name(const lethe_policy *p, const lethe_rule *r, lethe_lang lang)
{
	const lethe_category *c = lethe_declarations_category_of(p->declarations, r->table);

	if (c)
		return lethe_ltext_get(&c->name, lang);
	return r->description ? r->description : r->name;
}

static void answer_text(const lethe_plan *done, const lethe_plan *kept, const char *subject,
			int dry_run, const lethe_policy *p, lethe_lang lang)
{
	char today[11], a[11], b[11];

	lethe_day_format(done->as_of, today);
	printf(_("Erasure request for data subject %s, %s"), subject, today);
	printf("%s\n\n", dry_run ? _(" (dry run: nothing was changed)") : "");
	for (size_t i = 0; i < done->nrules; i++) {
		const lethe_rule_plan *d = &done->rules[i], *k = &kept->rules[i];
		long long stay = d->in_scope - d->due, due = d->due;

		if (!d->in_scope)
			continue;
		printf("%s (%s)\n", category_name(p, d->rule, lang), d->rule->name);
		if (due) {
			printf(P_("  erased: %lld row (%s)", "  erased: %lld rows (%s)", due), due,
			       (unsigned)d->rule->on_erasure < sizeof(action_words) / sizeof(*action_words)
				       ? _(action_words[d->rule->on_erasure])
				       : lethe_action_name(d->rule->on_erasure));
			putchar('\n');
		}
		if (stay > 0) {
			printf(P_("  %s, %lld row; basis: %s", "  %s, %lld rows; basis: %s", stay),
			       _(kept_reason(d)), stay, d->rule->basis);
			putchar('\n');
			if (k->has_next_due) {
				lethe_day_format(k->next_due, a);
				lethe_day_format(k->last_due, b);
				if (k->next_due == k->last_due)
					printf(_("  to be disposed of on %s"), a);
				else
					printf(_("  to be disposed of between %s and %s"), a, b);
				putchar('\n');
			}
			if (k->not_started) {
				long long ns = k->not_started;

				printf(P_("  %lld row kept until its clock starts (e.g. an open case)",
					  "  %lld rows kept until their clock starts (e.g. an open case)",
					  ns), ns);
				putchar('\n');
			}
		}
	}
}

static int answer_json(const lethe_plan *done, const lethe_plan *kept, const char *subject,
		       int dry_run)
{
	json_t *root = json_object(), *cats = json_array();
	char today[11], a[11], b[11];

	lethe_day_format(done->as_of, today);
	for (size_t i = 0; i < done->nrules; i++) {
		const lethe_rule_plan *d = &done->rules[i], *k = &kept->rules[i];
		int64_t stay = d->in_scope - d->due;

		if (k->has_next_due) {
			lethe_day_format(k->next_due, a);
			lethe_day_format(k->last_due, b);
		}
		json_array_append_new(cats, json_pack(
			"{s:s, s:s, s:s?, s:s, s:s, s:I, s:I, s:s?, s:I, s:o, s:o, s:I}",
			"rule", d->rule->name, "table", d->rule->table,
			"description", d->rule->description, "basis", d->rule->basis,
			"on_erasure", lethe_action_name(d->rule->on_erasure),
			"erased", (json_int_t)d->due, "kept", (json_int_t)stay,
			"kept_reason", stay > 0 ? kept_reason(d) : NULL,
			"held", (json_int_t)d->held,
			"disposal_from", k->has_next_due && stay > 0 ? json_string(a) : json_null(),
			"disposal_until", k->has_next_due && stay > 0 ? json_string(b) : json_null(),
			"kept_until_clock_starts", (json_int_t)(stay > 0 ? k->not_started : 0)));
	}
	json_object_set_new(root, "subject", json_string(subject));
	json_object_set_new(root, "date", json_string(today));
	json_object_set_new(root, "dry_run", json_boolean(dry_run));
	json_object_set_new(root, "categories", cats);
	return cli_print_json(root);
}

int cmd_erase(const lethe_cli_opts *opts, int argc, char **argv)
{
	erase_args a = { 0 };
	lethe_plan_scope keep = { 0 };
	lethe_warnings warnings = { 0 };
	lethe_plan *done = NULL, *kept = NULL;
	lethe_subject subject = { 0 };
	lethe_site *site = NULL;
	lethe_day as_of, received;
	cli_register r = { 0 };
	lethe_lang lang;
	int status, rc;

	if ((status = parse_args(&a, argc, argv)))
		return status < 0 ? 0 : status;
	if ((status = cli_parse_received(&received, a.received)))
		return status;
	cli_parse_as_of(&as_of, NULL);
	if ((status = cli_register_open(&r, opts, a.dry_run ? LETHE_BACKEND_READONLY : 0)))
		return status;
	if ((status = cli_lang_use(&lang, a.lang, r.cfg, r.policy))) {
		cli_register_close(&r);
		return status;
	}
	if ((rc = lethe_subject_find(&subject, r.be, r.policy, a.subject)) < 0 ||
	    (rc = lethe_plan_scope_init(&keep, r.policy, &subject.value, 0)) < 0 ||
	    (rc = lethe_site_open(&site, r.cfg, r.policy, r.be, a.dry_run ? 0 : LETHE_SITE_WRITE)) < 0) {
		status = cli_fail(rc);
		goto out;
	}
	if (a.received)
		lethe_site_set_received(site, received);
	rc = lethe_site_erase(&done, &warnings, site, &subject, as_of, 0);
	cli_warnings(opts, &warnings);
	if (rc < 0 || (rc = lethe_plan_new_scoped(&kept, r.be, r.policy, as_of, &keep)) < 0) {
		status = cli_fail(rc);
		goto out;
	}
	if (a.json)
		status = answer_json(done, kept, a.subject, a.dry_run);
	else
		answer_text(done, kept, a.subject, a.dry_run, r.policy, lang);
out:
	lethe_plan_free(done);
	lethe_plan_free(kept);
	lethe_warnings_free(&warnings);
	lethe_site_free(site);
	lethe_plan_scope_release(&keep);
	lethe_subject_release(&subject);
	cli_register_close(&r);
	return status;
}
