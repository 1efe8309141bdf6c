/*
 * words.c - the shared phrases of words.h, in the reader's language.
 *
 * Invariant: counted_from values this file does not know are named by the
 * catch-all phrase "from the end of its period's reference date", never
 * left out, so a new clock never reads as the row's own day.
 */
#include "words.h"
#include "lethe/i18n.h"

void lethe_words_period(FILE *f, const lethe_rule *r)
{
	int n = (int)r->retain.n;

	if (r->action == LETHE_ACTION_KEEP && !r->has_retain) {
		fputs(_("no fixed period: kept while its purpose lasts"), f);
		return;
	}
	switch (r->retain.unit) {
	case LETHE_UNIT_DAY: fprintf(f, P_("%d day", "%d days", n), n); break;
	case LETHE_UNIT_WEEK: fprintf(f, P_("%d week", "%d weeks", n), n); break;
	case LETHE_UNIT_MONTH: fprintf(f, P_("%d month", "%d months", n), n); break;
	default: fprintf(f, P_("%d year", "%d years", n), n); break;
	}
	switch (r->counted_from) {
	case LETHE_COUNT_FROM_DAY: break;
	case LETHE_COUNT_END_OF_MONTH: fprintf(f, " %s", _("from the end of the month")); break;
	case LETHE_COUNT_END_OF_YEAR: fprintf(f, " %s", _("from the end of the calendar year")); break;
	case LETHE_COUNT_END_OF_FISCAL_YEAR:
		fprintf(f, " %s", _("from the end of the financial year"));
		break;
	case LETHE_COUNT_END_OF_CALENDAR_YEAR_OF_FISCAL_YEAR_END:
		fprintf(f, " %s", _("from the end of the calendar year in which the financial year ended"));
		break;
	default: fprintf(f, " %s", _("from the end of its period's reference date")); break;
	}
}

const char *lethe_words_done(lethe_action a)
{
	switch (a) {
	case LETHE_ACTION_DELETE: return _("deleted");
	case LETHE_ACTION_PSEUDONYMISE: return _("pseudonymised");
	case LETHE_ACTION_MASK: return _("masked");
	default: return _("kept");
	}
}

void lethe_words_basis(FILE *f, lethe_basis b)
{
	static const char *const names[LETHE_BASIS_N] = {
		N_("consent"), N_("contract"), N_("legal obligation"), N_("vital interests"),
		N_("public task"), N_("legitimate interests"),
	};

	if ((unsigned)b < LETHE_BASIS_N)
		fprintf(f, "%s (%s)", _(names[b]), lethe_basis_article(b));
}

const char *lethe_words_right(size_t i)
{
	static const char *const rights[] = {
		N_("to know what data is held about you and to get a copy of it (GDPR art. 15)"),
		N_("to have wrong data corrected (GDPR art. 16)"),
		N_("to have your data erased; if some of it must be kept, you are told the justified "
		   "reason (GDPR art. 17)"),
		N_("to have the processing restricted (GDPR art. 18)"),
		N_("to receive the data you gave in a machine-readable format (GDPR art. 20)"),
		N_("to object to processing based on legitimate interests, and at any time to direct "
		   "marketing (GDPR art. 21)"),
		N_("to withdraw a consent at any time, without affecting earlier processing "
		   "(GDPR art. 7(3))"),
		N_("to lodge a complaint with the supervisory authority (GDPR art. 77)"),
	};

	return i < sizeof(rights) / sizeof(*rights) ? _(rights[i]) : NULL;
}

lethe_lang lethe_words_lang(void)
{
	lethe_lang l;

	/* TRANSLATORS: the catalog's own language code: fi in fi.po, sv in sv.po */
	return lethe_lang_parse(&l, _("@language-code")) == 0 ? l : LETHE_LANG_EN;
}
