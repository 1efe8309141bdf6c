/*
 * access_summary.c - summary.txt of an access export: in plain English, per
 * data category (rule) that holds rows of the subject, what it is kept for
 * (the rule's description), for how long (retain and counted_from), on what
 * basis, what an erasure request would do, and per row the day it will be
 * disposed of.
 *
 * Invariants:
 *  - A row's day comes from the planner's own classification
 *    (lethe_plan_count_row on the rule's scan within the subject's scope), so
 *    the summary and `lethe plan` can never disagree about a row.
 *  - No SQL of the policy is shown: a customer reads this.
 *  - Reads only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "access_impl.h"
#include "lethe/check.h"
#include "lethe/error.h"
#include "lethe/plan.h"

static const char *unit_name(lethe_unit u, int plural)
{
	switch (u) {
	case LETHE_UNIT_DAY: return plural ? "days" : "day";
	case LETHE_UNIT_WEEK: return plural ? "weeks" : "week";
	case LETHE_UNIT_MONTH: return plural ? "months" : "month";
	default: return plural ? "years" : "year";
	}
}

/* "10 years from the end of the financial year", "12 months from its date". */
static void print_period(FILE *f, const lethe_rule *r)
{
	static const char *const from[] = {
		[LETHE_COUNT_FROM_DAY] = "from the day its period starts (see above)",
		[LETHE_COUNT_END_OF_MONTH] = "from the end of the month",
		[LETHE_COUNT_END_OF_YEAR] = "from the end of the calendar year",
		[LETHE_COUNT_END_OF_FISCAL_YEAR] = "from the end of the financial year",
		[LETHE_COUNT_END_OF_CALENDAR_YEAR_OF_FISCAL_YEAR_END] =
			"from the end of the calendar year in which the financial year ended",
	};

	if (r->action == LETHE_ACTION_KEEP && !r->has_retain) {
		fprintf(f, "  how long: no fixed period; kept while its purpose lasts\n");
		return;
	}
	fprintf(f, "  how long: %" PRId32 " %s %s\n", r->retain.n,
		unit_name(r->retain.unit, r->retain.n != 1), from[r->counted_from]);
}

static const char *done_word(lethe_action a)
{
	switch (a) {
	case LETHE_ACTION_DELETE: return "deleted";
	case LETHE_ACTION_PSEUDONYMISE: return "pseudonymised";
	case LETHE_ACTION_MASK: return "masked";
	default: return "kept";
	}
}

/* text in lines of at most 76 characters (longer words stand alone). */
static void print_wrapped(FILE *f, const char *text)
{
	size_t col = 0;

	while (*text) {
		size_t n = strcspn(text, " \n");

		if (n) {
			if (col && col + 1 + n > 76) {
				fputc('\n', f);
				col = 0;
			} else if (col) {
				fputc(' ', f);
				col++;
			}
			fwrite(text, 1, n, f);
			col += n;
			text += n;
		}
		if (*text)
			text++;
	}
	fputc('\n', f);
}

/* A row's key as readable text, control characters shown as '?'. */
static void print_key(FILE *f, const lethe_value *k)
{
	if (k->type == LETHE_VALUE_INTEGER) {
		fprintf(f, "%" PRId64, k->i);
		return;
	}
	if (k->type != LETHE_VALUE_TEXT) {
		fputs(k->type == LETHE_VALUE_NULL ? "(none)" : "(binary key)", f);
		return;
	}
	for (size_t i = 0; i < k->len; i++)
		fputc((unsigned char)k->s[i] < 0x20 || k->s[i] == 0x7f ? '?' : k->s[i], f);
}

typedef struct {
	FILE *f;
	const lethe_rule *rule;
	lethe_plan_clock *clock;
	int64_t rows;
} rule_rows;

static int row_day(void *vctx, const lethe_value *key, lethe_row_class cls, lethe_day day,
		   const lethe_value *subject)
{
	rule_rows *ctx = vctx;
	lethe_rule_plan rp = { .rule = ctx->rule };
	char text[11];
	int rc;

	(void)subject;
	rc = lethe_plan_count_row(&rp, ctx->clock, key, cls, day);
	for (size_t i = 0; i < rp.ninvalid_examples; i++)
		free(rp.invalid_examples[i]);
	if (rc < 0)
		return rc;
	ctx->rows++;
	fputs("    row ", ctx->f);
	print_key(ctx->f, key);
	if (ctx->rule->action == LETHE_ACTION_KEEP) {
		fputs(": kept, no disposal date\n", ctx->f);
	} else if (rp.due) {
		fprintf(ctx->f, ": its period is over; %s at the next disposal run\n",
			done_word(ctx->rule->action));
	} else if (rp.has_next_due) {
		lethe_day_format(rp.next_due, text);
		fprintf(ctx->f, ": to be %s on %s\n", done_word(ctx->rule->action), text);
	} else if (rp.not_started) {
		fputs(": its period has not started yet (e.g. an open case or an active consent)\n",
		      ctx->f);
	} else {
		fputs(": its date cannot be read; the controller has been told to correct it\n",
		      ctx->f);
	}
	return 0;
}

/* One rule's rows in the subject's scope, one line each. */
static int rule_section(FILE *f, lethe_backend *be, const lethe_policy *p, size_t index,
			lethe_plan_clock *clock)
{
	const lethe_rule *r = &p->rules[index];
	lethe_table_info *t = NULL;
	lethe_scan scan;
	rule_rows ctx = { f, r, clock, 0 };
	const char *key;
	int rc;

	if ((rc = lethe_backend_table_info(&t, be, r->table)) < 0)
		return rc;
	if (!(key = lethe_rule_key(r, t))) {
		lethe_table_info_free(t);
		return lethe_error_set(LETHE_EDATA, "rule '%s': table '%s' has no usable key", r->name,
				       r->table);
	}
	fputc('\n', f);
	print_wrapped(f, r->description ? r->description : r->name);
	fprintf(f, "  category: %s (table %s)\n", r->name, r->table);
	print_period(f, r);
	fprintf(f, "  basis: %s\n", r->basis);
	fprintf(f, "  what happens then: %s\n", done_word(r->action));
	if (r->on_erasure == LETHE_ACTION_KEEP)
		fprintf(f, "  if you ask for erasure: kept until then, because the basis above "
			   "requires it\n");
	else
		fprintf(f, "  if you ask for erasure: %s at once\n", done_word(r->on_erasure));
	fprintf(f, "  your rows and when each will be disposed of:\n");
	if ((rc = lethe_plan_scan_init(&scan, p, index, key, NULL, 0, clock)) == 0) {
		scan.row = row_day;
		scan.row_ctx = &ctx;
		rc = lethe_backend_scan(be, &scan);
		lethe_plan_scan_release(&scan);
	}
	if (rc == 0 && ctx.rows == 0)
		fprintf(f, "    (none of your rows is waiting for this)\n");
	lethe_table_info_free(t);
	return rc;
}

int lethe_access_summary(char **out, size_t *len, lethe_backend *be, const lethe_policy *p,
			 const lethe_subject *s, lethe_day as_of, const lethe_access_result *tables)
{
	lethe_plan_scope scope = { 0 };
	lethe_plan_clock clock = { p, as_of, &scope, NULL };
	char *buf = NULL, day[11];
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	int rc;

	if (!f)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	if ((rc = lethe_plan_scope_init(&scope, p, &s->value, 0)) < 0)
		goto out;
	lethe_day_format(as_of, day);
	fprintf(f, "Personal data held about you\n============================\n\n");
	if (p->register_name)
		fprintf(f, "Register:     %s\n", p->register_name);
	if (p->controller)
		fprintf(f, "Controller:   %s\n", p->controller);
	fprintf(f, "Data subject: %s (table %s)\nPrepared on:  %s\n\n", s->text, p->subject_table, day);
	fprintf(f, "This archive holds every row linked to you, one JSON file per table\n"
		   "(binary values as {\"base64\": ...}):\n\n");
	for (size_t i = 0; i < tables->ntables; i++)
		fprintf(f, "  %-32s %" PRId64 " row%s\n", tables->tables[i].file, tables->tables[i].rows,
			tables->tables[i].rows == 1 ? "" : "s");
	fprintf(f, "\nWhat each category is kept for, for how long, on what basis, and when\n"
		   "each of your rows will be disposed of\n"
		   "---------------------------------------------------------------------\n");
	for (size_t i = 0; i < p->nrules; i++) {
		int64_t in_table = 0;

		if (!p->rules[i].subject)
			continue;
		for (size_t t = 0; t < tables->ntables; t++)
			if (!strcasecmp(tables->tables[t].table, p->rules[i].table))
				in_table = tables->tables[t].rows;
		if (in_table == 0)
			continue;
		if ((rc = rule_section(f, be, p, i, &clock)) < 0)
			goto out;
	}
	fprintf(f, "\nDates are days in UTC. Rows are disposed of by the first disposal run on or\n"
		   "after the day given.\n");
out:
	if (fclose(f) != 0 && rc == 0)
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	if (rc == 0) {
		*out = buf;
		*len = n;
	} else {
		free(buf);
	}
	lethe_plan_scope_release(&scope);
	return rc;
}
