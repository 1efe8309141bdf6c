/*
 * report_lang.c - the report's texts in English, Finnish and Swedish. Format
 * directives (%s, %lld) appear in the same order in every language.
 */
#include <string.h>
#include <strings.h>
#include "lethe/error.h"
#include "report_impl.h"

static const char *const en[T_COUNT] = {
	[T_LANG] = "en", [T_TITLE] = "Retention and disposal report",
	[T_REGISTER] = "Register", [T_CONTROLLER] = "Controller", [T_AS_OF] = "As of",
	[T_SINCE] = "Evidence since", [T_MADE] = "Made", [T_CONTENTS] = "Contents",
	[T_VERIFY] = "Verification of the evidence",
	[T_VERIFY_OK] = "Every commit verified: %lld commits, %lld records; head record %lld, commit %s.",
	[T_VERIFY_FAILED] = "Verification FAILED at record %lld, commit %s: %s. The %lld commits before it verified; those after it were not checked.",
	[T_VERIFY_NOT_RUN] = "Not verified: the configuration names no allowed-signers file.",
	[T_VERIFY_ERROR] = "The verifier could not run: %s",
	[T_RUNS] = "Runs per month", [T_RUNS_DESC] = "Disposal runs per month by result (erasures counted apart).",
	[T_MONTH] = "Month", [T_COMPLETED] = "completed", [T_FAILED] = "failed",
	[T_RECOVERED] = "recovered", [T_ABORTED] = "aborted", [T_ERASURES] = "erasures",
	[T_DISPOSED] = "Rows disposed per rule and month",
	[T_DISPOSED_DESC] = "Rows disposed of (deleted, pseudonymised or masked) per month, stacked by rule.",
	[T_RULE] = "Rule", [T_TOTAL] = "Total",
	[T_DUE] = "What becomes due in the next 12 months",
	[T_DUE_DESC] = "Rows that become due per month under the current policy and register.",
	[T_DUE_NOW] = "Due now (the next run)", [T_ACTION] = "Action", [T_BASIS] = "Basis",
	[T_HELD] = "Held",
	[T_HOLDS] = "Legal holds", [T_HOLD] = "Hold", [T_SCOPE] = "Scope", [T_REASON] = "Reason",
	[T_PLACED_BY] = "Placed by", [T_SINCE_COL] = "Since", [T_UNTIL] = "Until",
	[T_RELEASED] = "Released", [T_FILTERED] = "some rows", [T_IN_FORCE] = "in force",
	[T_SUBJECT_DIGEST] = "subject",
	[T_REQUESTS] = "Requests of data subjects", [T_KIND] = "Kind", [T_RECEIVED] = "Received",
	[T_DEADLINE] = "Deadline", [T_ANSWERED] = "Answered", [T_ANSWERED_BY] = "Answered by", [T_STATE] = "In time?",
	[T_IN_TIME] = "in time", [T_LATE] = "LATE", [T_OPEN] = "open", [T_OVERDUE] = "OVERDUE",
	[T_REQUESTS_SUMMARY] = "%lld requests: %lld answered in time, %lld late, %lld open, %lld overdue.",
	[T_POLICY] = "Policy changes", [T_INITIAL] = "the first policy applied",
	[T_ADDED] = "added", [T_CHANGED] = "changed", [T_REMOVED] = "removed", [T_RECORD] = "Record",
	[T_APPROVALS] = "Approvals and approvers", [T_APPROVER] = "Approver", [T_KEY] = "Key",
	[T_POLICY_DIGEST] = "Policy digest", [T_DAY] = "Day",
	[T_COMMITS] = "Every commit and its verification", [T_COMMIT] = "Commit",
	[T_VERIFIED] = "Verified", [T_OK] = "ok", [T_NOT_CHECKED] = "not checked", [T_NONE] = "none",
	[T_CHART_TABLE] = "The chart's numbers",
};

static const char *const fi[T_COUNT] = {
	[T_LANG] = "fi", [T_TITLE] = "Säilytys- ja hävitysraportti",
	[T_REGISTER] = "Rekisteri", [T_CONTROLLER] = "Rekisterinpitäjä", [T_AS_OF] = "Päivä",
	[T_SINCE] = "Todisteet alkaen", [T_MADE] = "Laadittu", [T_CONTENTS] = "Sisältö",
	[T_VERIFY] = "Todisteiden tarkastus",
	[T_VERIFY_OK] = "Jokainen commit tarkastettu: %lld committia, %lld tietuetta; viimeisin tietue %lld, commit %s.",
	[T_VERIFY_FAILED] = "Tarkastus EPÄONNISTUI tietueessa %lld, commit %s: %s. Sitä edeltävät %lld committia ovat kunnossa; myöhempiä ei tarkastettu.",
	[T_VERIFY_NOT_RUN] = "Ei tarkastettu: asetuksissa ei ole sallittujen allekirjoittajien tiedostoa.",
	[T_VERIFY_ERROR] = "Tarkastusta ei voitu tehdä: %s",
	[T_RUNS] = "Ajot kuukausittain", [T_RUNS_DESC] = "Hävitysajot kuukausittain tuloksen mukaan (poistopyynnöt erikseen).",
	[T_MONTH] = "Kuukausi", [T_COMPLETED] = "valmis", [T_FAILED] = "epäonnistui",
	[T_RECOVERED] = "palautettu", [T_ABORTED] = "keskeytetty", [T_ERASURES] = "poistopyynnöt",
	[T_DISPOSED] = "Hävitetyt rivit säännöittäin ja kuukausittain",
	[T_DISPOSED_DESC] = "Hävitetyt (poistetut, pseudonymisoidut tai peitetyt) rivit kuukausittain säännöittäin pinottuna.",
	[T_RULE] = "Sääntö", [T_TOTAL] = "Yhteensä",
	[T_DUE] = "Seuraavan 12 kuukauden aikana erääntyvät",
	[T_DUE_DESC] = "Rivit, jotka erääntyvät kuukausittain nykyisen politiikan ja rekisterin mukaan.",
	[T_DUE_NOW] = "Erääntyneet nyt (seuraava ajo)", [T_ACTION] = "Toimenpide", [T_BASIS] = "Peruste",
	[T_HELD] = "Pidätetty",
	[T_HOLDS] = "Säilytysmääräykset", [T_HOLD] = "Määräys", [T_SCOPE] = "Kohde", [T_REASON] = "Syy",
	[T_PLACED_BY] = "Asettaja", [T_SINCE_COL] = "Alkaen", [T_UNTIL] = "Päättyy",
	[T_RELEASED] = "Purettu", [T_FILTERED] = "osa riveistä", [T_IN_FORCE] = "voimassa",
	[T_SUBJECT_DIGEST] = "rekisteröity",
	[T_REQUESTS] = "Rekisteröityjen pyynnöt", [T_KIND] = "Laji", [T_RECEIVED] = "Saapui",
	[T_DEADLINE] = "Määräaika", [T_ANSWERED] = "Vastattu", [T_ANSWERED_BY] = "Vastaaja", [T_STATE] = "Ajallaan?",
	[T_IN_TIME] = "ajallaan", [T_LATE] = "MYÖHÄSSÄ", [T_OPEN] = "avoin", [T_OVERDUE] = "YLITTYNYT",
	[T_REQUESTS_SUMMARY] = "%lld pyyntöä: %lld vastattu ajallaan, %lld myöhässä, %lld avoinna, %lld määräaika ylittynyt.",
	[T_POLICY] = "Politiikan muutokset", [T_INITIAL] = "ensimmäinen sovellettu politiikka",
	[T_ADDED] = "lisätty", [T_CHANGED] = "muutettu", [T_REMOVED] = "poistettu", [T_RECORD] = "Tietue",
	[T_APPROVALS] = "Hyväksynnät ja hyväksyjät", [T_APPROVER] = "Hyväksyjä", [T_KEY] = "Avain",
	[T_POLICY_DIGEST] = "Politiikan tiiviste", [T_DAY] = "Päivä",
	[T_COMMITS] = "Jokainen commit ja sen tarkastus", [T_COMMIT] = "Commit",
	[T_VERIFIED] = "Tarkastettu", [T_OK] = "kunnossa", [T_NOT_CHECKED] = "ei tarkastettu",
	[T_NONE] = "ei yhtään", [T_CHART_TABLE] = "Kaavion luvut",
};

static const char *const sv[T_COUNT] = {
	[T_LANG] = "sv", [T_TITLE] = "Rapport om lagring och gallring",
	[T_REGISTER] = "Register", [T_CONTROLLER] = "Personuppgiftsansvarig", [T_AS_OF] = "Per dag",
	[T_SINCE] = "Bevis sedan", [T_MADE] = "Skapad", [T_CONTENTS] = "Innehåll",
	[T_VERIFY] = "Verifiering av bevisen",
	[T_VERIFY_OK] = "Varje commit verifierad: %lld commits, %lld poster; senaste post %lld, commit %s.",
	[T_VERIFY_FAILED] = "Verifieringen MISSLYCKADES vid post %lld, commit %s: %s. De %lld commits före den är verifierade; de efter den kontrollerades inte.",
	[T_VERIFY_NOT_RUN] = "Inte verifierad: konfigurationen anger ingen fil med tillåtna signerare.",
	[T_VERIFY_ERROR] = "Verifieringen kunde inte köras: %s",
	[T_RUNS] = "Körningar per månad", [T_RUNS_DESC] = "Gallringskörningar per månad efter resultat (radering räknas separat).",
	[T_MONTH] = "Månad", [T_COMPLETED] = "slutförd", [T_FAILED] = "misslyckad",
	[T_RECOVERED] = "återställd", [T_ABORTED] = "avbruten", [T_ERASURES] = "raderingar",
	[T_DISPOSED] = "Gallrade rader per regel och månad",
	[T_DISPOSED_DESC] = "Gallrade (raderade, pseudonymiserade eller maskerade) rader per månad, staplade per regel.",
	[T_RULE] = "Regel", [T_TOTAL] = "Totalt",
	[T_DUE] = "Det som förfaller de kommande 12 månaderna",
	[T_DUE_DESC] = "Rader som förfaller per månad enligt nuvarande policy och register.",
	[T_DUE_NOW] = "Förfallet nu (nästa körning)", [T_ACTION] = "Åtgärd", [T_BASIS] = "Grund",
	[T_HELD] = "Spärrat",
	[T_HOLDS] = "Bevarandespärrar", [T_HOLD] = "Spärr", [T_SCOPE] = "Omfattning", [T_REASON] = "Skäl",
	[T_PLACED_BY] = "Lagd av", [T_SINCE_COL] = "Sedan", [T_UNTIL] = "Till",
	[T_RELEASED] = "Hävd", [T_FILTERED] = "vissa rader", [T_IN_FORCE] = "gäller",
	[T_SUBJECT_DIGEST] = "registrerad",
	[T_REQUESTS] = "De registrerades begäranden", [T_KIND] = "Typ", [T_RECEIVED] = "Mottagen",
	[T_DEADLINE] = "Tidsfrist", [T_ANSWERED] = "Besvarad", [T_ANSWERED_BY] = "Besvarad av", [T_STATE] = "I tid?",
	[T_IN_TIME] = "i tid", [T_LATE] = "SEN", [T_OPEN] = "öppen", [T_OVERDUE] = "FÖRSENAD",
	[T_REQUESTS_SUMMARY] = "%lld begäranden: %lld besvarade i tid, %lld sent, %lld öppna, %lld försenade.",
	[T_POLICY] = "Policyändringar", [T_INITIAL] = "den första tillämpade policyn",
	[T_ADDED] = "tillagd", [T_CHANGED] = "ändrad", [T_REMOVED] = "borttagen", [T_RECORD] = "Post",
	[T_APPROVALS] = "Godkännanden och godkännare", [T_APPROVER] = "Godkännare", [T_KEY] = "Nyckel",
	[T_POLICY_DIGEST] = "Policyns hashvärde", [T_DAY] = "Dag",
	[T_COMMITS] = "Varje commit och dess verifiering", [T_COMMIT] = "Commit",
	[T_VERIFIED] = "Verifierad", [T_OK] = "ok", [T_NOT_CHECKED] = "inte kontrollerad",
	[T_NONE] = "inga", [T_CHART_TABLE] = "Diagrammets siffror",
};

const char *report_text_get(lethe_report_language lang, report_text t)
{
	const char *s = (lang == LETHE_REPORT_FI ? fi : lang == LETHE_REPORT_SV ? sv : en)[t];

	return s ? s : en[t];
}

int lethe_report_language_parse(lethe_report_language *out, const char *name)
{
	if (!strncasecmp(name, "en", 2) && (!name[2] || strchr("_.-@", name[2])))
		*out = LETHE_REPORT_EN;
	else if (!strncasecmp(name, "fi", 2) && (!name[2] || strchr("_.-@", name[2])))
		*out = LETHE_REPORT_FI;
	else if (!strncasecmp(name, "sv", 2) && (!name[2] || strchr("_.-@", name[2])))
		*out = LETHE_REPORT_SV;
	else
		return lethe_error_set(LETHE_EUSAGE, "report: no texts in language '%s' (en, fi, sv)", name);
	return 0;
}
