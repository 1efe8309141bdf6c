/*
 * cmd_erase.c - `lethe [-c FILE] erase --subject KEY [--lang fi|sv|en]
 * [--by PRINCIPAL] [--dry-run] [--json]`:
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
#include "lethe/declarations.h"
#include "lethe/error.h"
#include "lethe/i18n.h"
#include "lethe/site.h"
#include "lethe/subject.h"

typedef struct {
	const char *subject;
	const char *received;
	const char *lang;
	const char *by;
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
		} else if ((v = cli_option_value(argc, argv, &i, "--by", &missing)) || missing) {
			if (missing) {
				cli_error("--by needs a principal");
				return 64;
			}
			a->by = v;
		} else if (!strcmp(argv[i], "--dry-run")) {
			a->dry_run = 1;
		} else if (!strcmp(argv[i], "--json")) {
			a->json = 1;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: lethe [-c FILE] erase --subject KEY [--received YYYY-MM-DD] [--lang fi|sv|en] [--by PRINCIPAL] [--dry-run] [--json]\n");
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
 * The answer's words for the data subject are catalog entries (po/fi.po,
 * po/sv.po), each a printf format with the row count as its plural number
 * (docs/legal.md, "The erasure answer"): what was done names the action
 * (pseudonymised rows are not called erased), what stays says which
 * obligation, condition or hold keeps it and until when. The JSON answer
 * keeps stable English identifiers (scripts match them).
 */

/* Why rows of a rule stay (the JSON's kept_reason; stable identifiers). */
static const char *kept_reason(const lethe_rule_plan *done)
{
	if (done->rule->on_erasure == LETHE_ACTION_KEEP && !done->held && !done->blocked)
		return "kept: required by its basis";
	if (done->held && done->rule->keep_while)
		return "kept: while its condition holds";
	if (done->held)
		return "kept: legal hold";
	if (done->blocked)
		return "kept: other data that must be kept depends on it";
	return "kept: required by its basis";
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

static void print_disposed(const lethe_rule_plan *d)
{
	lethe_action a = lethe_rule_erasure_action(d->rule);
	long long n = d->due;

	if (!n)
		return;
	if (a == LETHE_ACTION_PSEUDONYMISE)
		printf(P_("  pseudonymised now: %lld row (what identifies you replaced by a code; "
			  "the record itself stays)",
			  "  pseudonymised now: %lld rows (what identifies you replaced by a code; "
			  "the records themselves stay)", n), n);
	else if (a == LETHE_ACTION_MASK)
		printf(P_("  reduced now: %lld row (the parts that identify you removed)",
			  "  reduced now: %lld rows (the parts that identify you removed)", n), n);
	else if (lethe_rule_erasure_by_clock(d->rule))
		printf(P_("  deleted now: %lld row whose retention period had already ended",
			  "  deleted now: %lld rows whose retention period had already ended", n), n);
	else
		printf(P_("  deleted now: %lld row", "  deleted now: %lld rows", n), n);
	putchar('\n');
}

static void print_kept(const lethe_rule_plan *d, const lethe_rule_plan *k, lethe_lang lang)
{
	long long stay = d->in_scope - d->due, law = stay - d->held - d->blocked;
	long long held = d->held, blocked = d->blocked, ns = k ? k->not_started : 0;
	char a[11], b[11];

	if (held && d->rule->keep_while)
		printf(P_("  kept: %lld row, while %s", "  kept: %lld rows, while %s", held), held,
		       lethe_rule_kept_because(d->rule, lang));
	else if (held)
		printf(P_("  kept: %lld row under a legal hold (evidence for a dispute or an authority)",
			  "  kept: %lld rows under a legal hold (evidence for a dispute or an authority)",
			  held), held);
	if (held)
		putchar('\n');
	if (blocked) {
		printf(P_("  kept: %lld row, because other data we must keep refers to it; it goes "
			  "with that data",
			  "  kept: %lld rows, because other data we must keep refers to them; they go "
			  "with that data", blocked), blocked);
		putchar('\n');
	}
	if (law > 0) {
		printf(P_("  kept: %lld row, because we must keep it (%s)",
			  "  kept: %lld rows, because we must keep them (%s)", law), law, d->rule->basis);
		putchar('\n');
	}
	if (k && k->has_next_due) {
		lethe_day_format(k->next_due, a);
		lethe_day_format(k->last_due, b);
		if (k->next_due == k->last_due)
			printf(_("  to be disposed of on %s, when the retention period is over"), a);
		else
			printf(_("  to be disposed of between %s and %s, when the retention periods "
				 "are over"), a, b);
		putchar('\n');
	}
	if (ns) {
		printf(P_("  %lld row: its retention period starts only when the case or order it "
			  "belongs to is closed",
			  "  %lld rows: their retention period starts only when the case or order they "
			  "belong to is closed", ns), ns);
		putchar('\n');
	}
}

/* Where the kept rows' days come from: the plan after the erasure, but for a
 * rule that keeps on erasure the one before it, whose not-due rows are
 * exactly those kept (its due ones went) and which still finds rows the
 * erasure unlinked from the subject (a journal entry that names the customer
 * by a number of the deleted account). NULL when the plan after the erasure
 * holds other rows than those kept: a dry run changed nothing, so its days
 * would be those of rows the erasure disposes of (a deleted complaint's day
 * given for the open one kept), and a kept row's day is not known. */
static const lethe_rule_plan *kept_days(const lethe_plan *done, const lethe_plan *kept,
					const lethe_plan *before, size_t i)
{
	const lethe_rule_plan *d = &done->rules[i];

	if (lethe_rule_erasure_by_clock(d->rule))
		return &before->rules[i];
	return kept->rules[i].in_scope == d->in_scope - d->due ? &kept->rules[i] : NULL;
}

/* GDPR 12(4): who answers, and where to turn if the customer disagrees with
 * what is kept (the supervisory authority, a court); from the declarations,
 * in the answer's language. Without declarations there is nothing to name. */
static void print_recourse(const lethe_declarations *d, lethe_lang lang)
{
	if (!d)
		return;
	printf("\n%s: ", _("Controller"));
	lethe_party_write(stdout, &d->controller, d->controller.name, lang);
	printf("%s: ", _("Contact"));
	lethe_party_write(stdout, &d->contact, NULL, lang);
	printf("\n%s\n", _("You have the right to lodge a complaint with the supervisory authority if "
			   "you consider that the processing of your personal data breaks the law:"));
	lethe_party_write(stdout, &d->authority, NULL, lang);
	printf("%s\n", _("You may also take the matter to a court (GDPR art. 79)."));
}

static void answer_text(const lethe_plan *done, const lethe_plan *kept, const lethe_plan *before,
			const char *subject, int dry_run, const lethe_policy *p, lethe_lang lang)
{
	char today[11];

	lethe_day_format(done->as_of, today);
	printf(_("Erasure request for data subject %s, %s"), subject, today);
	printf("%s\n\n", dry_run ? _(" (dry run: nothing was changed)") : "");
	for (size_t i = 0; i < done->nrules; i++) {
		const lethe_rule_plan *d = &done->rules[i], *k = kept_days(done, kept, before, i);

		if (!d->in_scope)
			continue;
		printf("%s (%s)\n", category_name(p, d->rule, lang), d->rule->name);
		print_disposed(d);
		if (d->in_scope - d->due > 0)
			print_kept(d, k, lang);
	}
	print_recourse(p->declarations, lang);
}

/* The action the erasure applied to a rule's disposed rows, as the JSON's
 * "erased_as": pseudonymised rows are not called erased. */
static const char *done_word(const lethe_rule *r)
{
	switch (lethe_rule_erasure_action(r)) {
	case LETHE_ACTION_PSEUDONYMISE:
		return "pseudonymised";
	case LETHE_ACTION_MASK:
		return "masked";
	case LETHE_ACTION_KEEP:
		return "kept";
	default:
		return "deleted";
	}
}

static int answer_json(const lethe_plan *done, const lethe_plan *kept, const lethe_plan *before,
		       const char *subject, int dry_run)
{
	json_t *root = json_object(), *cats = json_array();
	char today[11], a[11], b[11];

	lethe_day_format(done->as_of, today);
	for (size_t i = 0; i < done->nrules; i++) {
		const lethe_rule_plan *d = &done->rules[i], *k = kept_days(done, kept, before, i);
		int64_t stay = d->in_scope - d->due;

		int days = k && k->has_next_due;

		if (days) {
			lethe_day_format(k->next_due, a);
			lethe_day_format(k->last_due, b);
		}
		json_array_append_new(cats, json_pack(
			"{s:s, s:s, s:s?, s:s, s:s, s:I, s:s, s:b, s:I, s:s?, s:s?, s:I, s:I, s:o, s:o, s:I}",
			"rule", d->rule->name, "table", d->rule->table,
			"description", d->rule->description, "basis", d->rule->basis,
			"on_erasure", lethe_action_name(d->rule->on_erasure),
			"erased", (json_int_t)d->due, "erased_as", done_word(d->rule),
			"already_due", lethe_rule_erasure_by_clock(d->rule) && d->due > 0,
			"kept", (json_int_t)stay,
			"kept_reason", stay > 0 ? kept_reason(d) : NULL,
			"kept_while", d->held && d->rule->keep_while ? d->rule->kept_because : NULL,
			"held", (json_int_t)d->held, "blocked", (json_int_t)d->blocked,
			"disposal_from", days && stay > 0 ? json_string(a) : json_null(),
			"disposal_until", days && stay > 0 ? json_string(b) : json_null(),
			"kept_until_clock_starts", (json_int_t)(stay > 0 && k ? k->not_started : 0)));
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
	lethe_plan *done = NULL, *kept = NULL, *before = NULL;
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
	    (rc = lethe_site_open(&site, r.cfg, r.policy, r.be, a.dry_run ? 0 : LETHE_SITE_WRITE)) < 0 ||
	    (rc = lethe_site_set_actor(site, cli_actor(a.by))) < 0) {
		status = cli_fail(rc);
		goto out;
	}
	if (a.received)
		lethe_site_set_received(site, received);
	if ((rc = lethe_plan_new_scoped(&before, r.be, r.policy, as_of, &keep)) < 0) {
		status = cli_fail(rc);
		goto out;
	}
	rc = lethe_site_erase(&done, &warnings, site, &subject, as_of, 0);
	cli_warnings(opts, &warnings);
	if (rc < 0 || (rc = lethe_plan_new_scoped(&kept, r.be, r.policy, as_of, &keep)) < 0) {
		status = cli_fail(rc);
		goto out;
	}
	if (a.json)
		status = answer_json(done, kept, before, a.subject, a.dry_run);
	else
		answer_text(done, kept, before, a.subject, a.dry_run, r.policy, lang);
out:
	lethe_plan_free(done);
	lethe_plan_free(kept);
	lethe_plan_free(before);
	lethe_warnings_free(&warnings);
	lethe_site_free(site);
	lethe_plan_scope_release(&keep);
	lethe_subject_release(&subject);
	cli_register_close(&r);
	return status;
}
