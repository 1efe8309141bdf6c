/*
 * lethe/report.h - the compliance report (lethe report --html): what the
 * evidence and the current plan say, gathered into one JSON model, then
 * written as a static, self-contained HTML page.
 *
 * The model (lethe_report_model) holds counts, dates, rule names, record
 * numbers, commit ids, keyed digests (subjects only by the first 12 hex
 * digits of their digest), hold reasons and approvers as the register and
 * the evidence give them; never a key of a row or a subject.
 *
 * The page (lethe_report_html): inline CSS (a print stylesheet too), inline
 * SVG charts each followed by the table of its numbers, headings in order,
 * no script, no external reference of any kind; every value escaped
 * (lethe_text_html). Its texts in English, Finnish or Swedish.
 *
 * Invariants: reads only (the register, the evidence); nothing here prints.
 * Ownership: models belong to the caller (json_decref).
 */
#ifndef LETHE_REPORT_H
#define LETHE_REPORT_H

#include "backend.h"
#include "calendar.h"
#include "evidence.h"
#include "policy.h"

struct json_t;

typedef struct {
	lethe_backend *be;                 /* the register, read-only */
	const lethe_policy *policy;
	lethe_evidence *ev;
	const char *repository;            /* the evidence's path, for the verifier */
	const char *allowed_signers;       /* NULL: verification not run */
	lethe_day as_of;                   /* today: the plan's day */
	lethe_day since;                   /* records before this day left out; 0: none */
} lethe_report_input;

/* The report's model (docs/auditor-guide.md, "The report"). */
int lethe_report_model(struct json_t **out, const lethe_report_input *in);

/* Languages of the page. */
typedef enum { LETHE_REPORT_EN, LETHE_REPORT_FI, LETHE_REPORT_SV } lethe_report_language;

/* "en", "fi", "sv" (also "fi_FI.UTF-8" and the like): 0, else LETHE_EUSAGE. */
int lethe_report_language_parse(lethe_report_language *out, const char *name);

/* The page of a model, malloc'd into *out (caller frees). */
int lethe_report_html(char **out, const struct json_t *model, lethe_report_language lang);

#endif
