/*
 * notice.c - the privacy notice and the record of processing of
 * lethe/notice.h, in Markdown or HTML.
 *
 * Invariants:
 *  - Every declared text goes through text(), which escapes it for the
 *    format; Lethe's own phrases (lethe/i18n.h, words.h) hold no markup.
 *  - The sections follow the seed notice's order (controller, contact,
 *    register, purposes, content, sources, disclosures, security, rights,
 *    cookies), brought up to GDPR art. 13-14: legal bases, periods,
 *    transfers, the data protection contact and the supervisory authority.
 *  - A category's periods are its rules' periods, listed once per distinct
 *    period, action and statute, so four voucher rules read as one line.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "lethe/error.h"
#include "lethe/i18n.h"
#include "lethe/notice.h"
#include "words.h"

typedef struct {
	FILE *f;
	int html;
	lethe_lang lang;
	const lethe_policy *p;
	const lethe_declarations *d;
} doc;

static const char *L(const doc *o, const lethe_ltext *t)
{
	const char *s = lethe_ltext_get(t, o->lang);

	return s ? s : "";
}

/* A declared text, escaped for the format; line breaks become spaces. */
static void text(doc *o, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\n' || *s == '\r') {
			fputc(' ', o->f);
		} else if (o->html) {
			switch (*s) {
			case '&': fputs("&amp;", o->f); break;
			case '<': fputs("&lt;", o->f); break;
			case '>': fputs("&gt;", o->f); break;
			case '"': fputs("&quot;", o->f); break;
			default: fputc(*s, o->f);
			}
		} else {
			if (strchr("\\`*_[]<>|#", *s))
				fputc('\\', o->f);
			fputc(*s, o->f);
		}
	}
}

static void heading(doc *o, int level, const char *s)
{
	if (o->html) {
		fprintf(o->f, "<h%d>", level);
		text(o, s);
		fprintf(o->f, "</h%d>\n", level);
	} else {
		fprintf(o->f, "%.*s ", level, "######");
		text(o, s);
		fputs("\n\n", o->f);
	}
}

static void para(doc *o, const char *s)
{
	fputs(o->html ? "<p>" : "", o->f);
	text(o, s);
	fputs(o->html ? "</p>\n" : "\n\n", o->f);
}

static void list_begin(doc *o) { fputs(o->html ? "<ul>\n" : "", o->f); }
static void list_end(doc *o) { fputs(o->html ? "</ul>\n" : "\n", o->f); }
static void item_begin(doc *o) { fputs(o->html ? "<li>" : "- ", o->f); }
static void item_end(doc *o) { fputs(o->html ? "</li>\n" : "\n", o->f); }

static void strong(doc *o, const char *s)
{
	fputs(o->html ? "<strong>" : "**", o->f);
	text(o, s);
	fputs(o->html ? "</strong>" : "**", o->f);
}

/* "- Label: value" when value is set. */
static void field(doc *o, const char *label, const char *value)
{
	if (!value || !*value)
		return;
	item_begin(o);
	strong(o, label);
	text(o, ": ");
	text(o, value);
	item_end(o);
}

static void party(doc *o, const lethe_party *p, const char *name)
{
	list_begin(o);
	field(o, _("Name"), name ? name : L(o, &p->role));
	if (p == &o->d->controller)
		field(o, _("Business ID"), o->d->business_id);
	field(o, _("Address"), p->address);
	field(o, _("E-mail"), p->email);
	field(o, _("Phone"), p->phone);
	field(o, _("Web"), p->web);
	list_end(o);
}

static void texts(doc *o, const lethe_ltext *t, size_t n)
{
	list_begin(o);
	for (size_t i = 0; i < n; i++) {
		item_begin(o);
		text(o, L(o, &t[i]));
		item_end(o);
	}
	list_end(o);
}

static const lethe_purpose *purpose_of(const doc *o, size_t i)
{
	return i < o->d->npurposes ? &o->d->purposes[i] : NULL;
}

/* "Purpose name: contract (GDPR art. 6(1)(b)); law; interest". */
static void purpose_line(doc *o, const lethe_purpose *pu)
{
	strong(o, L(o, &pu->name));
	text(o, ": ");
	lethe_words_basis(o->f, pu->basis);
	if (pu->law) {
		text(o, "; ");
		text(o, pu->law);
	}
	if (pu->interest.text[o->lang]) {
		text(o, "; ");
		text(o, _("legitimate interest"));
		text(o, ": ");
		text(o, L(o, &pu->interest));
	}
}

static void purposes(doc *o)
{
	list_begin(o);
	for (size_t i = 0; i < o->d->npurposes; i++) {
		item_begin(o);
		purpose_line(o, &o->d->purposes[i]);
		item_end(o);
	}
	list_end(o);
}

static int in_category(const lethe_category *c, const lethe_rule *r)
{
	for (size_t t = 0; t < c->ntables; t++)
		if (!strcasecmp(c->tables[t], r->table))
			return 1;
	return 0;
}

/* 1 when an earlier rule of the category reads the same. */
static int same_as_earlier(const lethe_policy *p, const lethe_category *c, size_t i)
{
	const lethe_rule *r = &p->rules[i];

	for (size_t k = 0; k < i; k++) {
		const lethe_rule *e = &p->rules[k];

		if (in_category(c, e) && e->action == r->action && e->has_retain == r->has_retain &&
		    e->retain.n == r->retain.n && e->retain.unit == r->retain.unit &&
		    e->counted_from == r->counted_from && !strcmp(e->basis, r->basis))
			return 1;
	}
	return 0;
}

/* Each period of a category: "6 years from the end of ...: deleted (statute)";
 * the record names the rule and table too. */
static void periods(doc *o, const lethe_category *c, int record)
{
	list_begin(o);
	for (size_t i = 0; i < o->p->nrules; i++) {
		const lethe_rule *r = &o->p->rules[i];

		if (!in_category(c, r) || (!record && same_as_earlier(o->p, c, i)))
			continue;
		item_begin(o);
		lethe_words_period(o->f, r);
		if (r->action != LETHE_ACTION_KEEP) {
			text(o, ", ");
			text(o, _("then"));
			text(o, " ");
			text(o, lethe_words_done(r->action));
		}
		text(o, " (");
		text(o, r->basis);
		text(o, ")");
		if (record) {
			text(o, " [");
			text(o, _("rule"));
			text(o, " ");
			text(o, r->name);
			text(o, ", ");
			text(o, _("table"));
			text(o, " ");
			text(o, r->table);
			text(o, "]");
		}
		item_end(o);
	}
	list_end(o);
}

static void categories(doc *o, int record)
{
	for (size_t i = 0; i < o->d->ncategories; i++) {
		const lethe_category *c = &o->d->categories[i];
		const lethe_purpose *pu = purpose_of(o, c->purpose);

		fputs(o->html ? "<p>" : "", o->f);
		strong(o, L(o, &c->name));
		fputs(o->html ? "<br>\n" : "  \n", o->f);
		text(o, _("Purpose"));
		text(o, ": ");
		if (pu)
			text(o, L(o, &pu->name));
		if (c->criteria.text[o->lang]) {
			fputs(o->html ? "<br>\n" : "  \n", o->f);
			text(o, _("How long"));
			text(o, ": ");
			text(o, L(o, &c->criteria));
		}
		fputs(o->html ? "</p>\n" : "\n\n", o->f);
		periods(o, c, record);
	}
}

static void recipients(doc *o, int transfers_only)
{
	int any = 0;

	list_begin(o);
	for (size_t i = 0; i < o->d->nrecipients; i++) {
		const lethe_recipient *r = &o->d->recipients[i];

		if (transfers_only && !r->transfer.text[o->lang])
			continue;
		any = 1;
		item_begin(o);
		strong(o, r->name);
		text(o, ": ");
		text(o, L(o, transfers_only ? &r->transfer : &r->what));
		if (!transfers_only && r->transfer.text[o->lang]) {
			text(o, ". ");
			text(o, L(o, &r->transfer));
		}
		item_end(o);
	}
	list_end(o);
	if (transfers_only && !any)
		para(o, _("No personal data is transferred outside the EU or the EEA."));
}

static void elsewhere(doc *o)
{
	list_begin(o);
	for (size_t i = 0; i < o->d->nelsewhere; i++) {
		const lethe_elsewhere *e = &o->d->elsewhere[i];
		const lethe_purpose *pu = purpose_of(o, e->purpose);

		item_begin(o);
		strong(o, L(o, &e->name));
		text(o, ": ");
		text(o, L(o, &e->where));
		text(o, ". ");
		text(o, _("Purpose"));
		text(o, ": ");
		if (pu) {
			text(o, L(o, &pu->name));
			text(o, ", ");
			lethe_words_basis(o->f, pu->basis);
		}
		text(o, ". ");
		text(o, _("How long"));
		text(o, ": ");
		text(o, L(o, &e->period));
		text(o, ".");
		item_end(o);
	}
	list_end(o);
}

static void rights(doc *o)
{
	const char *r;

	para(o, _("You have the right:"));
	list_begin(o);
	for (size_t i = 0; (r = lethe_words_right(i)); i++) {
		item_begin(o);
		text(o, r);
		item_end(o);
	}
	list_end(o);
	para(o, L(o, &o->d->rights));
}

static void authority(doc *o)
{
	para(o, _("You have the right to lodge a complaint with the supervisory authority if you "
		  "consider that the processing of your personal data breaks the law:"));
	party(o, &o->d->authority, NULL);
}

static void privacy_notice(doc *o)
{
	const lethe_declarations *d = o->d;

	heading(o, 1, _("Privacy notice"));
	para(o, L(o, &d->register_name));
	para(o, _("This notice tells how personal data is processed under the EU General Data "
		  "Protection Regulation (GDPR, articles 13 and 14). Its periods are the ones the "
		  "register's disposal runs enforce."));
	heading(o, 2, _("Controller"));
	party(o, &d->controller, d->controller.name);
	heading(o, 2, _("Contact in matters of the register"));
	party(o, &d->contact, NULL);
	heading(o, 2, _("Data protection contact"));
	party(o, &d->dp_contact, NULL);
	heading(o, 2, _("Name of the register"));
	para(o, L(o, &d->register_name));
	heading(o, 2, _("Purposes of processing and their legal bases"));
	purposes(o);
	heading(o, 2, _("Whose data is processed"));
	texts(o, d->subjects, d->nsubjects);
	heading(o, 2, _("Content of the register and how long data is kept"));
	categories(o, 0);
	heading(o, 2, _("Regular sources of data"));
	texts(o, d->sources, d->nsources);
	heading(o, 2, _("Recipients of data"));
	recipients(o, 0);
	heading(o, 2, _("Transfers outside the EU and the EEA"));
	recipients(o, 1);
	heading(o, 2, _("Data not kept in this register"));
	elsewhere(o);
	if (d->ncookies) {
		heading(o, 2, _("Cookies"));
		for (size_t i = 0; i < d->ncookies; i++)
			para(o, L(o, &d->cookies[i]));
	}
	heading(o, 2, _("How the register is protected"));
	texts(o, d->security, d->nsecurity);
	heading(o, 2, _("Your rights"));
	rights(o);
	heading(o, 2, _("Right to lodge a complaint"));
	authority(o);
}

static void record_of_processing(doc *o)
{
	const lethe_declarations *d = o->d;

	heading(o, 1, _("Record of processing activities (GDPR art. 30(1))"));
	para(o, L(o, &d->register_name));
	heading(o, 2, _("Controller"));
	party(o, &d->controller, d->controller.name);
	heading(o, 2, _("Data protection contact"));
	party(o, &d->dp_contact, NULL);
	heading(o, 2, _("Purposes of the processing"));
	purposes(o);
	heading(o, 2, _("Categories of data subjects"));
	texts(o, d->subjects, d->nsubjects);
	heading(o, 2, _("Categories of personal data and time limits for erasure"));
	categories(o, 1);
	heading(o, 2, _("Categories of recipients"));
	recipients(o, 0);
	heading(o, 2, _("Transfers to third countries and their safeguards"));
	recipients(o, 1);
	heading(o, 2, _("Data not kept in this register"));
	elsewhere(o);
	heading(o, 2, _("Technical and organisational security measures"));
	texts(o, d->security, d->nsecurity);
}

int lethe_notice_write(char **out, size_t *len, const lethe_policy *p, lethe_lang lang,
		       lethe_notice_kind kind, lethe_notice_format format)
{
	doc o = { NULL, format == LETHE_NOTICE_HTML, lang, p, p->declarations };
	char *buf = NULL;
	size_t n = 0;

	if (!o.d)
		return lethe_error_set(LETHE_EDATA, "the policies in '%s' have no 'declarations' "
				       "(docs/policy-language.md, \"Declarations\")", p->folder);
	if (!lethe_declarations_speak(o.d, lang))
		return lethe_error_set(LETHE_EDATA, "the declarations have no '%s' texts",
				       lethe_lang_code(lang));
	if (!(o.f = open_memstream(&buf, &n)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	if (o.html) {
		fprintf(o.f, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
			"<title>", lethe_lang_code(lang));
		text(&o, L(&o, &o.d->register_name));
		fputs("</title>\n</head>\n<body>\n", o.f);
	}
	if (kind == LETHE_NOTICE_RECORD)
		record_of_processing(&o);
	else
		privacy_notice(&o);
	if (o.html)
		fputs("</body>\n</html>\n", o.f);
	if (fclose(o.f) != 0) {
		free(buf);
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	*out = buf;
	*len = n;
	return 0;
}
