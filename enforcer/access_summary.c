/*
 * access_summary.c - summary.txt of an access export, complete for GDPR
 * art. 15(1): the controller and its contacts; per data category (rule)
 * that holds rows of the subject, its purpose and legal basis, for how long
 * (retain and counted_from, and the declared criteria), on what statute,
 * what an erasure request would do, and per row the day it will be disposed
 * of; the recipients and transfers, the sources, data held outside the
 * register, the data subject's rights and the supervisory authority.
 *
 * Invariants:
 *  - A row's day comes from the planner's own classification
 *    (lethe_plan_count_row on the rule's scan within the subject's scope), so
 *    the summary and `lethe plan` can never disagree about a row.
 *  - No SQL of the policy is shown: a customer reads this.
 *  - Written in the process's message language (lethe_words_lang): Lethe's
 *    words from the catalog, the register's from the declarations in that
 *    language. Without declarations (English only, see cli_lang.c) the
 *    rules' descriptions stand in for the categories and the declared
 *    sections are left out.
 *  - Reads only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "access_impl.h"
#include "lethe/check.h"
#include "lethe/declarations.h"
#include "lethe/error.h"
#include "lethe/i18n.h"
#include "lethe/plan.h"
#include "words.h"

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

/* The category a customer reads: the declared category's name, purpose and
 * legal basis in the reader's language; else the rule's own description. */
static void category_heading(FILE *f, const lethe_policy *p, const lethe_rule *r)
{
	const lethe_declarations *d = p->declarations;
	const lethe_category *c = lethe_declarations_category_of(d, r->table);
	lethe_lang lang = lethe_words_lang();

	if (!c) {
		print_wrapped(f, r->description ? r->description : r->name);
		return;
	}
	print_wrapped(f, lethe_ltext_get(&c->name, lang));
	if (c->purpose < d->npurposes) {
		const lethe_purpose *pu = &d->purposes[c->purpose];

		fprintf(f, "  %s: %s\n  %s: ", _("purpose"), lethe_ltext_get(&pu->name, lang),
			_("legal basis"));
		lethe_words_basis(f, pu->basis);
		fputc('\n', f);
	}
	if (lethe_ltext_get(&c->criteria, lang))
		fprintf(f, "  %s: %s\n", _("criteria"), lethe_ltext_get(&c->criteria, lang));
}

/* The title wrapped, underlined up to the wrapping width. */
static void section(FILE *f, const char *title)
{
	size_t n = 0;

	fputc('\n', f);
	print_wrapped(f, title);
	for (const char *s = title; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80; /* characters, not bytes */
	for (n = n < 76 ? n : 76; n; n--)
		fputc('-', f);
	fputc('\n', f);
}

static void contact_lines(FILE *f, const char *label, const lethe_party *c, const char *name,
			  lethe_lang lang)
{
	if (*label)
		fprintf(f, "%s: ", label);
	lethe_party_write(f, c, name, lang);
}

/* The header's controller lines. */
static void controller(FILE *f, const lethe_policy *p)
{
	const lethe_declarations *d = p->declarations;
	lethe_lang lang = lethe_words_lang();

	if (!d) {
		if (p->register_name)
			fprintf(f, "%s: %s\n", _("Register"), p->register_name);
		if (p->controller)
			fprintf(f, "%s: %s\n", _("Controller"), p->controller);
		return;
	}
	fprintf(f, "%s: %s\n", _("Register"), lethe_ltext_get(&d->register_name, lang));
	contact_lines(f, _("Controller"), &d->controller, d->controller.name, lang);
	contact_lines(f, _("Contact"), &d->contact, NULL, lang);
	contact_lines(f, _("Data protection contact"), &d->dp_contact, NULL, lang);
}

static void item(FILE *f, const char *head, const char *text)
{
	char *line = NULL;

	if (asprintf(&line, "- %s%s%s", head ? head : "", head ? ": " : "", text) < 0) {
		fprintf(f, "- %s\n", text);
		return;
	}
	print_wrapped(f, line);
	free(line);
}

/* GDPR art. 15(1)(c), (g), (h), (e), (f) and 15(2): recipients, transfers,
 * sources, data held elsewhere, rights, the supervisory authority. */
static void declared_sections(FILE *f, const lethe_declarations *d)
{
	lethe_lang lang = lethe_words_lang();
	const char *right;

	section(f, _("Who receives your data"));
	for (size_t i = 0; i < d->nrecipients; i++) {
		const lethe_recipient *r = &d->recipients[i];

		item(f, r->name, lethe_ltext_get(&r->what, lang));
		if (lethe_ltext_get(&r->transfer, lang))
			item(f, _("transfer"), lethe_ltext_get(&r->transfer, lang));
	}
	section(f, _("Where your data comes from"));
	for (size_t i = 0; i < d->nsources; i++)
		item(f, NULL, lethe_ltext_get(&d->sources[i], lang));
	section(f, _("Data not kept in this register"));
	for (size_t i = 0; i < d->nelsewhere; i++) {
		const lethe_elsewhere *e = &d->elsewhere[i];
		char *text = NULL;

		if (asprintf(&text, "%s. %s: %s", lethe_ltext_get(&e->where, lang), _("How long"),
			     lethe_ltext_get(&e->period, lang)) < 0)
			continue;
		item(f, lethe_ltext_get(&e->name, lang), text);
		free(text);
	}
	section(f, _("Your rights"));
	fprintf(f, "%s\n", _("You have the right:"));
	for (size_t i = 0; (right = lethe_words_right(i)); i++)
		item(f, NULL, right);
	fputc('\n', f);
	print_wrapped(f, lethe_ltext_get(&d->rights, lang));
	fputc('\n', f);
	print_wrapped(f, _("You have the right to lodge a complaint with the supervisory authority if "
			   "you consider that the processing of your personal data breaks the law:"));
	contact_lines(f, "", &d->authority, NULL, lang);
}

typedef struct {
	FILE *f;
	const lethe_rule *rule;
	lethe_plan_clock *clock;
	int64_t rows;
	const lethe_rule *keeper;   /* the table's rule with keep_while, or NULL */
} rule_rows;

/* The rule whose keep_while protects the rows of r's table (r itself first):
 * a keep_while holds the table's rows under every rule (plan_holds.c). */
static const lethe_rule *keep_while_rule(const lethe_policy *p, const lethe_rule *r)
{
	if (r->keep_while)
		return r;
	for (size_t i = 0; i < p->nrules; i++)
		if (p->rules[i].keep_while && !strcasecmp(p->rules[i].table, r->table))
			return &p->rules[i];
	return NULL;
}

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
	fprintf(ctx->f, "    %s ", P_("row", "rows", 1));
	print_key(ctx->f, key);
	fputs(": ", ctx->f);
	if (ctx->rule->action == LETHE_ACTION_KEEP) {
		fprintf(ctx->f, "%s\n", _("kept, no disposal date"));
	} else if (rp.due) {
		fprintf(ctx->f, _("its period is over; %s at the next disposal run"),
			lethe_words_done(ctx->rule->action));
		fputc('\n', ctx->f);
	} else if (rp.has_next_due) {
		lethe_day_format(rp.next_due, text);
		fprintf(ctx->f, _("to be %s on %s"), lethe_words_done(ctx->rule->action), text);
		fputc('\n', ctx->f);
	} else if (rp.not_started) {
		fprintf(ctx->f, "%s\n", _("its period has not started yet (e.g. an open case or an "
					  "active consent)"));
	} else if (rp.held && ctx->keeper) {
		/* the summary plans without legal holds: a held row is one a
		 * rule's keep_while keeps */
		fprintf(ctx->f, _("its period is over, but it is kept while %s"),
			lethe_rule_kept_because(ctx->keeper, lethe_words_lang()));
		fputc('\n', ctx->f);
	} else if (rp.blocked) {
		fprintf(ctx->f, "%s\n", _("its period is over, but it is kept while other data that "
					  "must be kept refers to it"));
	} else {
		fprintf(ctx->f, "%s\n", _("its date cannot be read; the controller has been told to "
					  "correct it"));
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
	rule_rows ctx = { f, r, clock, 0, keep_while_rule(p, r) };
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
	category_heading(f, p, r);
	fprintf(f, "  %s: %s (%s %s)\n", p->declarations ? _("rule") : _("category"), r->name,
		_("table"), r->table);
	fprintf(f, "  %s: ", _("how long"));
	lethe_words_period(f, r);
	fputc('\n', f);
	fprintf(f, "  %s: %s\n", _("basis"), r->basis);
	fprintf(f, "  %s: %s\n", _("what happens then"), lethe_words_done(r->action));
	fprintf(f, "  %s: ", _("if you ask for erasure"));
	if (r->on_erasure == LETHE_ACTION_KEEP)
		fprintf(f, "%s\n", _("kept until then, because the basis above requires it"));
	else
		fprintf(f, _("%s at once"), lethe_words_done(r->on_erasure));
	if (r->on_erasure != LETHE_ACTION_KEEP)
		fputc('\n', f);
	if (ctx.keeper) {
		fprintf(f, "  %s %s\n", _("kept, whatever its period, while"),
			lethe_rule_kept_because(ctx.keeper, lethe_words_lang()));
	}
	fprintf(f, "  %s:\n", _("your rows and when each will be disposed of"));
	if ((rc = lethe_plan_scan_init(&scan, p, index, key, NULL, 0, clock)) == 0) {
		scan.row = row_day;
		scan.row_ctx = &ctx;
		rc = lethe_backend_scan(be, &scan);
		lethe_plan_scan_release(&scan);
	}
	if (rc == 0 && ctx.rows == 0)
		fprintf(f, "    (%s)\n", _("none of your rows is waiting for this"));
	lethe_table_info_free(t);
	return rc;
}

int lethe_access_summary(char **out, size_t *len, lethe_backend *be, const lethe_policy *p,
			 const lethe_subject *s, lethe_day as_of, const lethe_access_result *tables)
{
	lethe_plan_scope scope = { 0 };
	lethe_plan_clock clock = { p, as_of, &scope, NULL };
	char *buf = NULL, day[11];
	const char *title;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	int rc;

	if (!f)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	if ((rc = lethe_plan_scope_init(&scope, p, &s->value, 0)) < 0)
		goto out;
	lethe_day_format(as_of, day);
	title = _("Personal data held about you");
	fprintf(f, "%s\n", title);
	for (const char *c = title; *c; c++)
		if (((unsigned char)*c & 0xc0) != 0x80)
			fputc('=', f);
	fputs("\n\n", f);
	controller(f, p);
	fprintf(f, "%s: %s (%s %s)\n%s: %s\n\n", _("Data subject"), s->text, _("table"),
		p->subject_table, _("Prepared on"), day);
	print_wrapped(f, _("This archive holds every row linked to you, one JSON file per table "
			   "(binary values as {\"base64\": ...}):"));
	fputc('\n', f);
	for (size_t i = 0; i < tables->ntables; i++)
		fprintf(f, "  %-32s %" PRId64 " %s\n", tables->tables[i].file, tables->tables[i].rows,
			P_("row", "rows", tables->tables[i].rows));
	section(f, _("What each category is kept for, for how long, on what basis, and when each "
		     "of your rows will be disposed of"));
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
	if (p->declarations)
		declared_sections(f, p->declarations);
	fputc('\n', f);
	print_wrapped(f, _("Dates are days in UTC. Rows are disposed of by the first disposal run on "
			   "or after the day given."));
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
