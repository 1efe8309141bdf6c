/*
 * report_impl.h - what report_html.c (the page) and report_lang.c (its
 * texts in each language) share.
 */
#ifndef LETHE_REPORT_IMPL_H
#define LETHE_REPORT_IMPL_H

#include "lethe/report.h"
#include "strbuf.h"

/* The page's texts, one per key, in each language (report_lang.c). */
typedef enum {
	T_LANG, T_TITLE, T_REGISTER, T_CONTROLLER, T_AS_OF, T_SINCE, T_MADE, T_CONTENTS,
	T_VERIFY, T_VERIFY_OK, T_VERIFY_FAILED, T_VERIFY_NOT_RUN, T_VERIFY_ERROR,
	T_RUNS, T_RUNS_DESC, T_MONTH, T_COMPLETED, T_FAILED, T_RECOVERED, T_ABORTED, T_ERASURES,
	T_DISPOSED, T_DISPOSED_DESC, T_RULE, T_TOTAL,
	T_DUE, T_DUE_DESC, T_DUE_NOW, T_ACTION, T_BASIS, T_HELD,
	T_HOLDS, T_HOLD, T_SCOPE, T_REASON, T_PLACED_BY, T_SINCE_COL, T_UNTIL, T_RELEASED,
	T_FILTERED, T_IN_FORCE, T_SUBJECT_DIGEST,
	T_REQUESTS, T_KIND, T_RECEIVED, T_DEADLINE, T_ANSWERED, T_STATE, T_IN_TIME, T_LATE,
	T_OPEN, T_OVERDUE, T_REQUESTS_SUMMARY, T_ANSWERED_BY,
	T_POLICY, T_INITIAL, T_ADDED, T_CHANGED, T_REMOVED, T_RECORD,
	T_APPROVALS, T_APPROVER, T_KEY, T_POLICY_DIGEST, T_DAY,
	T_COMMITS, T_COMMIT, T_VERIFIED, T_OK, T_NOT_CHECKED, T_NONE, T_CHART_TABLE,
	T_COUNT
} report_text;

const char *report_text_get(lethe_report_language lang, report_text t);

/* The page being written (report_html.c's primitives, report_sections.c's
 * sections): oom is set by any append that ran out of memory. */
struct json_t;
typedef struct {
	lethe_strbuf *sb;
	lethe_report_language lang;
	int oom;
} page;

const char *rp_T(const page *p, report_text t);
void rp_raw(page *p, const char *s);                 /* markup, written as is */
void rp_rawf(page *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rp_esc(page *p, const char *s);                 /* a value, escaped */
const char *rp_str(const struct json_t *o, const char *name);
long long rp_num(const struct json_t *o, const char *name);
void rp_td(page *p, const char *s);
void rp_tdn(page *p, long long n);
void rp_th(page *p, const char *s, int numeric);
/* Every month from the first to the last key of a and b, "YYYY-MM"
 * (malloc'd; rp_free_strs). */
char **rp_month_range(size_t *n, const struct json_t *a, const struct json_t *b);
void rp_free_strs(char **v, size_t n);
/* A stacked bar chart over the months of by_month ({month: {series: n}})
 * with the series in `order` that are ever non-zero, then its table. */
void rp_month_chart(page *p, const char *id, report_text title, report_text desc,
		    const struct json_t *by_month, char *const *months, size_t nm,
		    const char *const *order, size_t norder);
extern const char rp_css[];

#endif
