/*
 * cmd_plan_compare.c - `lethe plan --compare DRAFT_DIR` (also spelled
 * --policies): the impact of a draft policy set against the one in force,
 * per rule, as a table of at most 80 columns or as JSON (lethe/impact.h).
 *
 * Invariants: reads the register read-only, like plan; the draft folder is
 * checked against the register's schema as `check` would, and a faulty
 * draft is reported and refused (65) before anything is counted.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include "cmd_plan.h"
#include "lethe/approval.h"
#include "lethe/check.h"
#include "lethe/error.h"
#include "lethe/impact.h"

#define LABEL_WIDTH 40
#define TEXT_WIDTH 76

static void counts_line(const char *label, const int64_t *due)
{
	printf("%-*s", LABEL_WIDTH, label);
	for (int h = 0; h < LETHE_IMPACT_NHORIZONS; h++)
		printf("%9" PRId64, due[h]);
	printf("\n");
}

static void difference_line(const char *label, const int64_t *a, const int64_t *b)
{
	char cell[24];

	printf("%-*s", LABEL_WIDTH, label);
	for (int h = 0; h < LETHE_IMPACT_NHORIZONS; h++) {
		snprintf(cell, sizeof(cell), "%+" PRId64, b[h] - a[h]);
		printf("%9s", b[h] == a[h] ? "0" : cell);
	}
	printf("\n");
}

/* text after prefix, wrapped at spaces within TEXT_WIDTH (a word longer
 * than a line is cut), continuation lines indented. */
static void wrapped(const char *prefix, const char *text)
{
	size_t room = TEXT_WIDTH - strlen(prefix), len = strlen(text);

	for (size_t at = 0, first = 1; at < len; first = 0) {
		size_t n = len - at > room ? room : len - at;

		if (at + n < len)
			for (size_t k = n; k > 0; k--)
				if (text[at + k] == ' ') {
					n = k;
					break;
				}
		printf("%s%.*s\n", first ? prefix : "      ", (int)n, text + at);
		at += n;
		while (text[at] == ' ')
			at++;
		room = TEXT_WIDTH - 6;
	}
}

static void print_rule(const lethe_impact_rule *r)
{
	const lethe_rule *any = r->draft ? r->draft : r->in_force;
	char head[256];

	if (r->status == LETHE_IMPACT_UNCHANGED && !lethe_impact_differs(r) &&
	    strlen(r->name) < LABEL_WIDTH - 1) {
		counts_line(r->name, r->due_in_force);
		return;
	}
	snprintf(head, sizeof(head), "%s (%s)", r->name, lethe_impact_status_name(r->status));
	wrapped("", head);
	if (r->in_force)
		counts_line("    in force", r->due_in_force);
	if (r->draft)
		counts_line("    draft", r->due_draft);
	if (r->in_force && r->draft)
		difference_line("    difference", r->due_in_force, r->due_draft);
	for (size_t k = 0; k < r->ncauses; k++)
		wrapped("    edit: ", r->causes[k]);
	wrapped("    basis: ", any->basis);
}

static void print_table(const lethe_impact *im, const char *in_force, const char *draft,
			const char *digest_in_force, const char *digest_draft, const char *database)
{
	char day[11], title[512];
	size_t changed = 0;

	lethe_day_format(im->as_of, day);
	printf("impact of the draft policy set, as of %s\n\n", day);
	printf("%-*s%9s%9s%9s%9s\n", LABEL_WIDTH, "RULE (rows due on the day)", "NOW", "+30 D",
	       "+90 D", "+365 D");
	for (size_t i = 0; i < im->nrules; i++) {
		print_rule(&im->rules[i]);
		changed += im->rules[i].status != LETHE_IMPACT_UNCHANGED;
	}
	printf("\n");
	counts_line("TOTAL in force", im->total_in_force);
	counts_line("TOTAL draft", im->total_draft);
	difference_line("TOTAL difference", im->total_in_force, im->total_draft);
	printf("\n");
	snprintf(title, sizeof(title), "%zu of %zu rules added, removed or changed; a column "
		 "counts the rows a run on that day would dispose of, on the register as it is now "
		 "(rows added later are not foreseen).", changed, im->nrules);
	wrapped("", title);
	snprintf(title, sizeof(title), "%s (policy digest %.16s)", in_force, digest_in_force);
	wrapped("in force: ", title);
	snprintf(title, sizeof(title), "%s (policy digest %.16s)", draft, digest_draft);
	wrapped("draft:    ", title);
	wrapped("register: ", database);
}

/* The draft folder loaded and checked against the register, as check does. */
static int load_draft(lethe_policy **out, cli_register *r, const char *draft)
{
	lethe_diags diags = LETHE_DIAGS_INIT;
	int rc = lethe_policy_load(out, draft, &diags, 1), status = 0;

	if (rc < 0 && rc != LETHE_EDATA) {
		lethe_diags_free(&diags);
		return cli_fail(rc);
	}
	if (*out && (rc = lethe_check_schema(r->be, *out, &diags)) < 0 && rc != LETHE_EDATA)
		status = cli_fail(rc);
	else if (diags.count > 0) {
		cli_print_diags(&diags);
		cli_error("the draft '%s' has %zu fault%s; nothing was compared", draft, diags.count,
			  diags.count == 1 ? "" : "s");
		status = 65;
	}
	lethe_diags_free(&diags);
	if (status) {
		lethe_policy_free(*out);
		*out = NULL;
	}
	return status;
}

int cli_plan_compare(const lethe_cli_opts *opts, cli_register *r, const char *draft,
		     lethe_day as_of, int json)
{
	lethe_policy *d = NULL;
	lethe_impact *im = NULL;
	char digest_a[65], digest_b[65];
	int status, rc;

	(void)opts;
	if ((status = load_draft(&d, r, draft)))
		return status;
	if ((rc = lethe_policy_digest(digest_a, NULL, r->policy)) < 0 ||
	    (rc = lethe_policy_digest(digest_b, NULL, d)) < 0 ||
	    (rc = lethe_impact_new(&im, r->be, r->policy, d, as_of)) < 0) {
		status = cli_fail(rc);
		goto out;
	}
	if (json) {
		json_t *root = lethe_impact_to_json(im);

		if (root)
			json_object_set_new(root, "basis", json_pack(
				"{s:s, s:{s:s, s:s}, s:{s:s, s:s}}", "register", r->cfg->database,
				"in_force", "policies", r->cfg->policies, "policy_digest", digest_a,
				"draft", "policies", draft, "policy_digest", digest_b));
		status = cli_print_json(root);
	} else {
		print_table(im, r->cfg->policies, draft, digest_a, digest_b, r->cfg->database);
	}
out:
	lethe_impact_free(im);
	lethe_policy_free(d);
	return status;
}
