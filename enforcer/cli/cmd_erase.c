/*
 * cmd_erase.c - `lethe [-c FILE] erase --subject KEY [--dry-run] [--json]`:
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
#include "lethe/site.h"
#include "lethe/subject.h"

typedef struct {
	const char *subject;
	const char *received;
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
		} else if (!strcmp(argv[i], "--dry-run")) {
			a->dry_run = 1;
		} else if (!strcmp(argv[i], "--json")) {
			a->json = 1;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: lethe [-c FILE] erase --subject KEY [--received YYYY-MM-DD] [--dry-run] [--json]\n");
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
 * The answer's English words for the data subject, in one table so that they
 * can be translated in one place (docs/legal.md, "The erasure answer"). Each
 * is a printf format; the comment names its arguments.
 */
enum {
	W_TITLE,          /* subject, date, dry-run note */
	W_DRY_RUN,
	W_DELETED,        /* count, "row"/"rows" */
	W_PSEUDONYMISED,  /* count, row(s) */
	W_MASKED,         /* count, row(s) */
	W_DUE_ALREADY,    /* count, row(s): period already over */
	W_KEPT_LAW,       /* count, row(s), basis */
	W_KEPT_WHILE,     /* count, row(s), kept_because */
	W_KEPT_HOLD,      /* count, row(s) */
	W_KEPT_DEPENDS,   /* count, row(s) */
	W_UNTIL_DAY,      /* day */
	W_UNTIL_BETWEEN,  /* day, day */
	W_UNTIL_EVENT,    /* count, row(s) */
	W_ROW,
	W_ROWS,
	W_NWORDS
};

static const char *const words[W_NWORDS] = {
	[W_TITLE] = "Erasure request for data subject %s, %s%s\n\n",
	[W_DRY_RUN] = " (dry run: nothing was changed)",
	[W_DELETED] = "  deleted now: %" PRId64 " %s\n",
	[W_PSEUDONYMISED] = "  pseudonymised now: %" PRId64 " %s (your name and contact details "
			    "replaced by a code; the record itself stays)\n",
	[W_MASKED] = "  reduced now: %" PRId64 " %s (the parts that identify you removed)\n",
	[W_DUE_ALREADY] = "  deleted now: %" PRId64 " %s whose retention period had already ended\n",
	[W_KEPT_LAW] = "  kept: %" PRId64 " %s, because we must keep them (%s)\n",
	[W_KEPT_WHILE] = "  kept: %" PRId64 " %s, while %s\n",
	[W_KEPT_HOLD] = "  kept: %" PRId64 " %s under a legal hold (evidence for a dispute or an "
			"authority)\n",
	[W_KEPT_DEPENDS] = "  kept: %" PRId64 " %s, because other data we must keep refers to them; "
			   "they go with it\n",
	[W_UNTIL_DAY] = "  to be disposed of on %s, when their retention period is over\n",
	[W_UNTIL_BETWEEN] = "  to be disposed of between %s and %s, when their retention periods "
			    "are over\n",
	[W_UNTIL_EVENT] = "  %" PRId64 " %s: the retention period starts only when the case or "
			  "order they belong to is closed\n",
	[W_ROW] = "row",
	[W_ROWS] = "rows",
};

static const char *rows_word(int64_t n)
{
	return words[n == 1 ? W_ROW : W_ROWS];
}

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

static void print_disposed(const lethe_rule_plan *d)
{
	lethe_action a = lethe_rule_erasure_action(d->rule);

	if (!d->due)
		return;
	if (lethe_rule_erasure_by_clock(d->rule))
		printf(words[W_DUE_ALREADY], d->due, rows_word(d->due));
	else if (a == LETHE_ACTION_PSEUDONYMISE)
		printf(words[W_PSEUDONYMISED], d->due, rows_word(d->due));
	else if (a == LETHE_ACTION_MASK)
		printf(words[W_MASKED], d->due, rows_word(d->due));
	else
		printf(words[W_DELETED], d->due, rows_word(d->due));
}

static void print_kept(const lethe_rule_plan *d, const lethe_rule_plan *k)
{
	int64_t stay = d->in_scope - d->due, law = stay - d->held - d->blocked;
	char a[11], b[11];

	if (d->held && d->rule->keep_while)
		printf(words[W_KEPT_WHILE], d->held, rows_word(d->held), d->rule->kept_because);
	else if (d->held)
		printf(words[W_KEPT_HOLD], d->held, rows_word(d->held));
	if (d->blocked)
		printf(words[W_KEPT_DEPENDS], d->blocked, rows_word(d->blocked));
	if (law > 0)
		printf(words[W_KEPT_LAW], law, rows_word(law), d->rule->basis);
	if (k->has_next_due) {
		lethe_day_format(k->next_due, a);
		lethe_day_format(k->last_due, b);
		if (k->next_due == k->last_due)
			printf(words[W_UNTIL_DAY], a);
		else
			printf(words[W_UNTIL_BETWEEN], a, b);
	}
	if (k->not_started)
		printf(words[W_UNTIL_EVENT], k->not_started, rows_word(k->not_started));
}

/* Where the kept rows' days come from: the plan after the erasure, but for a
 * rule that keeps on erasure the one before it, whose not-due rows are
 * exactly those kept (its due ones went) and which still finds rows the
 * erasure unlinked from the subject (a journal entry that names the customer
 * by a number of the deleted account). */
static const lethe_rule_plan *kept_days(const lethe_plan *kept, const lethe_plan *before,
					size_t i)
{
	return lethe_rule_erasure_by_clock(kept->rules[i].rule) ? &before->rules[i] : &kept->rules[i];
}

static void answer_text(const lethe_plan *done, const lethe_plan *kept, const lethe_plan *before,
			const char *subject, int dry_run)
{
	char today[11];

	lethe_day_format(done->as_of, today);
	printf(words[W_TITLE], subject, today, dry_run ? words[W_DRY_RUN] : "");
	for (size_t i = 0; i < done->nrules; i++) {
		const lethe_rule_plan *d = &done->rules[i], *k = kept_days(kept, before, i);

		if (!d->in_scope)
			continue;
		printf("%s (%s)\n", d->rule->description ? d->rule->description : d->rule->name,
		       d->rule->name);
		print_disposed(d);
		if (d->in_scope - d->due > 0)
			print_kept(d, k);
	}
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
		const lethe_rule_plan *d = &done->rules[i], *k = kept_days(kept, before, i);
		int64_t stay = d->in_scope - d->due;

		if (k->has_next_due) {
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
	lethe_plan *done = NULL, *kept = NULL, *before = NULL;
	lethe_subject subject = { 0 };
	lethe_site *site = NULL;
	lethe_day as_of, received;
	cli_register r = { 0 };
	int status, rc;

	if ((status = parse_args(&a, argc, argv)))
		return status < 0 ? 0 : status;
	if ((status = cli_parse_received(&received, a.received)))
		return status;
	cli_parse_as_of(&as_of, NULL);
	if ((status = cli_register_open(&r, opts, a.dry_run ? LETHE_BACKEND_READONLY : 0)))
		return status;
	if ((rc = lethe_subject_find(&subject, r.be, r.policy, a.subject)) < 0 ||
	    (rc = lethe_plan_scope_init(&keep, r.policy, &subject.value, 0)) < 0 ||
	    (rc = lethe_site_open(&site, r.cfg, r.policy, r.be, a.dry_run ? 0 : LETHE_SITE_WRITE)) < 0) {
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
		answer_text(done, kept, before, a.subject, a.dry_run);
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
