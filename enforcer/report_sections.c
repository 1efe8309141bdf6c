/*
 * report_sections.c - the sections of the report's page, in the order of
 * its table of contents, and the page around them (lethe_report_html).
 *
 * Invariants: as report_html.c: every model value through rp_esc or rp_td;
 * a section with nothing to show says "none" rather than disappearing, so
 * a reader can tell "no holds" from "not reported".
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "lethe/text.h"
#include "report_impl.h"

static const struct {
	const char *id;
	report_text title;
} sections[] = {
	{ "verification", T_VERIFY }, { "runs", T_RUNS }, { "disposed", T_DISPOSED },
	{ "due", T_DUE }, { "holds", T_HOLDS }, { "requests", T_REQUESTS },
	{ "policy", T_POLICY }, { "approvals", T_APPROVALS }, { "commits", T_COMMITS },
};

static void heading(page *p, size_t i)
{
	rp_rawf(p, "<section id=\"%s\" aria-labelledby=\"%s-h\"><h2 id=\"%s-h\">", sections[i].id,
		sections[i].id, sections[i].id);
	rp_esc(p, rp_T(p, sections[i].title));
	rp_raw(p, "</h2>");
}

static void none(page *p)
{
	rp_raw(p, "<p>");
	rp_esc(p, rp_T(p, T_NONE));
	rp_raw(p, "</p>");
}

/* A table's opening and its header row: column i is numeric when bit i of
 * numeric is set; "#" for T_COUNT. */
static void thead(page *p, const report_text *cols, size_t n, unsigned numeric)
{
	rp_raw(p, "<div class=\"wide\"><table><thead><tr>");
	for (size_t i = 0; i < n; i++)
		rp_th(p, cols[i] == T_COUNT ? "#" : rp_T(p, cols[i]), (numeric >> i) & 1);
	rp_raw(p, "</tr></thead><tbody>");
}

/* A column of a table whose cells are the model's fields as they are. */
typedef struct {
	report_text label;
	const char *field;
	int numeric;
} field_col;

/* A whole table, header and one row per element of list, each cell one
 * field of the element: text escaped, numbers right-aligned. */
static void field_table(page *p, const json_t *list, const field_col *cols, size_t n)
{
	const json_t *e;
	size_t i;

	rp_raw(p, "<div class=\"wide\"><table><thead><tr>");
	for (size_t c = 0; c < n; c++)
		rp_th(p, cols[c].label == T_COUNT ? "#" : rp_T(p, cols[c].label), cols[c].numeric);
	rp_raw(p, "</tr></thead><tbody>");
	json_array_foreach(list, i, e) {
		rp_raw(p, "<tr>");
		for (size_t c = 0; c < n; c++) {
			if (cols[c].numeric)
				rp_tdn(p, rp_num(e, cols[c].field));
			else
				rp_td(p, rp_str(e, cols[c].field));
		}
		rp_raw(p, "</tr>");
	}
	rp_raw(p, "</tbody></table></div>");
}

/* A text with %lld and %s directives, each value escaped. */
static void sentence(page *p, const char *fmt, const json_t *args)
{
	size_t k = 0;

	for (const char *f = fmt; *f; f++) {
		if (f[0] == '%' && (f[1] == 's' || !strncmp(f + 1, "lld", 3))) {
			json_t *a = json_array_get(args, k++);
			char buf[32];

			if (json_is_integer(a)) {
				snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(a));
				rp_esc(p, buf);
			} else {
				rp_esc(p, json_string_value(a));
			}
			f += f[1] == 's' ? 1 : 3;
			continue;
		}
		char one[2] = { *f, '\0' };

		rp_esc(p, one);
	}
}

static void verification(page *p, const json_t *v)
{
	const char *state = rp_str(v, "state");
	json_t *args;

	heading(p, 0);
	if (state && !strcmp(state, "ok")) {
		args = json_pack("[I, I, I, s]", (json_int_t)rp_num(v, "commits"),
				 (json_int_t)rp_num(v, "records"), (json_int_t)rp_num(v, "head_seq"),
				 rp_str(v, "head"));
		rp_raw(p, "<p class=\"ok\">");
		sentence(p, rp_T(p, T_VERIFY_OK), args);
	} else if (state && !strcmp(state, "failed")) {
		args = json_pack("[I, s, s, I]", (json_int_t)rp_num(v, "seq"), rp_str(v, "bad_commit"),
				 rp_str(v, "reason"), (json_int_t)rp_num(v, "commits"));
		rp_raw(p, "<p class=\"bad\">");
		sentence(p, rp_T(p, T_VERIFY_FAILED), args);
	} else if (state && !strcmp(state, "error")) {
		args = json_pack("[s]", rp_str(v, "reason"));
		rp_raw(p, "<p class=\"bad\">");
		sentence(p, rp_T(p, T_VERIFY_ERROR), args);
	} else {
		args = NULL;
		rp_raw(p, "<p class=\"bad\">");
		rp_esc(p, rp_T(p, T_VERIFY_NOT_RUN));
	}
	json_decref(args);
	rp_raw(p, "</p></section>");
}

/* Runs per month and rows disposed per rule per month. */
static void monthly(page *p, const json_t *m)
{
	static const char *const results[] = { "completed", "failed", "recovered", "aborted",
					       "erasures" };
	const json_t *runs = json_object_get(m, "runs_by_month");
	const json_t *disp = json_object_get(m, "disposed_by_month"), *r;
	size_t nm = 0, nr = 0, i;
	char **months = rp_month_range(&nm, runs, disp);
	const char **rules = calloc(json_array_size(json_object_get(m, "rules")) + 1, sizeof(*rules));

	heading(p, 1);
	rp_raw(p, "<p class=\"note\">");
	rp_esc(p, rp_T(p, T_RUNS_DESC));
	rp_raw(p, "</p>");
	rp_month_chart(p, "runs-chart", T_RUNS, T_RUNS_DESC, runs, months, nm, results, 5);
	rp_raw(p, "</section>");
	heading(p, 2);
	rp_raw(p, "<p class=\"note\">");
	rp_esc(p, rp_T(p, T_DISPOSED_DESC));
	rp_raw(p, "</p>");
	if (!rules) {
		p->oom = 1;
	} else {
		json_array_foreach(json_object_get(m, "rules"), i, r)
			rules[nr++] = json_string_value(r);
		rp_month_chart(p, "disposed-chart", T_DISPOSED, T_DISPOSED_DESC, disp, months, nm, rules,
			       nr);
		rp_raw(p, "</section>");
		heading(p, 3);
		rp_raw(p, "<p class=\"note\">");
		rp_esc(p, rp_T(p, T_DUE_DESC));
		rp_raw(p, "</p>");
		rp_free_strs(months, nm);
		months = rp_month_range(&nm, json_object_get(m, "due_by_month"), NULL);
		rp_month_chart(p, "due-chart", T_DUE, T_DUE_DESC, json_object_get(m, "due_by_month"),
			       months, nm, rules, nr);
	}
	free(rules);
	rp_free_strs(months, nm);
}

static void due_now(page *p, const json_t *list)
{
	rp_raw(p, "<h3>");
	rp_esc(p, rp_T(p, T_DUE_NOW));
	rp_raw(p, "</h3>");
	field_table(p, list, (const field_col[]){ { T_RULE, "rule", 0 }, { T_ACTION, "action", 0 },
					   { T_DUE_NOW, "due", 1 }, { T_HELD, "held", 1 },
					   { T_BASIS, "basis", 0 } }, 5);
	rp_raw(p, "</section>");
}

static void holds(page *p, const json_t *list)
{
	const json_t *h;
	size_t i;

	heading(p, 4);
	if (!json_array_size(list)) {
		none(p);
		rp_raw(p, "</section>");
		return;
	}
	thead(p, (const report_text[]){ T_HOLD, T_SCOPE, T_REASON, T_PLACED_BY, T_SINCE_COL,
					T_UNTIL, T_RELEASED }, 7, 0x1);
	json_array_foreach(list, i, h) {
		const char *rule = rp_str(h, "rule");
		char *scope = NULL, *rel = NULL;

		if (asprintf(&scope, "%s %s%s%s", rule ? rp_T(p, T_RULE) : rp_T(p, T_SUBJECT_DIGEST),
			     rule ? rule : rp_str(h, "subject"),
			     json_is_true(json_object_get(h, "filtered")) ? ", " : "",
			     json_is_true(json_object_get(h, "filtered")) ? rp_T(p, T_FILTERED) : "") < 0)
			scope = NULL;
		if (rp_str(h, "released_at") &&
		    asprintf(&rel, "%s%s%s%s%s", rp_str(h, "released_at"),
			     rp_str(h, "released_by") ? ", " : "",
			     rp_str(h, "released_by") ? rp_str(h, "released_by") : "",
			     rp_str(h, "release_reason") ? ": " : "",
			     rp_str(h, "release_reason") ? rp_str(h, "release_reason") : "") < 0)
			rel = NULL;
		rp_raw(p, "<tr>");
		rp_tdn(p, rp_num(h, "id"));
		rp_td(p, scope);
		rp_td(p, rp_str(h, "reason"));
		rp_td(p, rp_str(h, "placed_by"));
		rp_td(p, rp_str(h, "created_at"));
		rp_td(p, rp_str(h, "until"));
		rp_td(p, rel ? rel : rp_T(p, T_IN_FORCE));
		rp_raw(p, "</tr>");
		free(scope);
		free(rel);
	}
	rp_raw(p, "</tbody></table></div></section>");
}

static void requests(page *p, const json_t *list)
{
	static const char *const states[] = { "in time", "late", "open", "overdue" };
	static const report_text names[] = { T_IN_TIME, T_LATE, T_OPEN, T_OVERDUE };
	long long count[4] = { 0 };
	const json_t *r;
	json_t *args;
	size_t i;

	heading(p, 5);
	if (!json_array_size(list)) {
		none(p);
		rp_raw(p, "</section>");
		return;
	}
	json_array_foreach(list, i, r)
		for (size_t k = 0; k < 4; k++)
			count[k] += rp_str(r, "state") && !strcmp(rp_str(r, "state"), states[k]);
	args = json_pack("[I, I, I, I, I]", (json_int_t)json_array_size(list), (json_int_t)count[0],
			 (json_int_t)count[1], (json_int_t)count[2], (json_int_t)count[3]);
	rp_raw(p, count[1] || count[3] ? "<p class=\"bad\">" : "<p class=\"ok\">");
	sentence(p, rp_T(p, T_REQUESTS_SUMMARY), args);
	json_decref(args);
	rp_raw(p, "</p>");
	thead(p, (const report_text[]){ T_COUNT, T_KIND, T_SUBJECT_DIGEST, T_RECEIVED, T_DEADLINE,
					T_ANSWERED, T_ANSWERED_BY, T_STATE }, 8, 0x1);
	json_array_foreach(list, i, r) {
		const char *st = rp_str(r, "state"), *shown = st;

		for (size_t k = 0; st && k < 4; k++)
			if (!strcmp(st, states[k]))
				shown = rp_T(p, names[k]);
		rp_raw(p, "<tr>");
		rp_tdn(p, rp_num(r, "id"));
		rp_td(p, rp_str(r, "kind"));
		rp_td(p, rp_str(r, "subject"));
		rp_td(p, rp_str(r, "received"));
		rp_td(p, rp_str(r, "extended_until") ? rp_str(r, "extended_until") : rp_str(r, "deadline"));
		rp_td(p, rp_str(r, "answered"));
		rp_td(p, rp_str(r, "answered_by"));
		rp_td(p, shown);
		rp_raw(p, "</tr>");
	}
	rp_raw(p, "</tbody></table></div></section>");
}

/* A diff, line by line (each escaped on its own, so the lines stay lines). */
static void diff(page *p, const char *text)
{
	char *copy = strdup(text ? text : ""), *line, *save = NULL;

	if (!copy) {
		p->oom = 1;
		return;
	}
	rp_raw(p, "<pre class=\"diff\">");
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		rp_esc(p, line);
		rp_raw(p, "\n");
	}
	rp_raw(p, "</pre>");
	free(copy);
}

static void policy(page *p, const json_t *list)
{
	const json_t *c, *f;
	size_t i, k;

	heading(p, 6);
	if (!json_array_size(list))
		none(p);
	json_array_foreach(list, i, c) {
		rp_rawf(p, "<h3>%s %08lld, ", rp_T(p, T_RECORD), rp_num(c, "seq"));
		rp_esc(p, rp_str(c, "day"));
		if (json_is_true(json_object_get(c, "initial"))) {
			rp_raw(p, " (");
			rp_esc(p, rp_T(p, T_INITIAL));
			rp_raw(p, ")");
		}
		rp_raw(p, "</h3><ul>");
		json_array_foreach(json_object_get(c, "files"), k, f) {
			const char *st = rp_str(f, "status");

			rp_raw(p, "<li><code>");
			rp_esc(p, rp_str(f, "path"));
			rp_raw(p, "</code>: ");
			rp_esc(p, rp_T(p, st && !strcmp(st, "added") ? T_ADDED :
				       st && !strcmp(st, "removed") ? T_REMOVED : T_CHANGED));
			if (rp_str(f, "diff"))
				diff(p, rp_str(f, "diff"));
			rp_raw(p, "</li>");
		}
		rp_raw(p, "</ul>");
	}
	rp_raw(p, "</section>");
}

static void approvals(page *p, const json_t *list)
{
	heading(p, 7);
	if (!json_array_size(list)) {
		none(p);
		rp_raw(p, "</section>");
		return;
	}
	field_table(p, list, (const field_col[]){ { T_RECORD, "seq", 1 }, { T_DAY, "day", 0 },
					   { T_APPROVER, "approver", 0 }, { T_KEY, "key", 0 },
					   { T_REASON, "reason", 0 },
					   { T_POLICY_DIGEST, "policy_digest", 0 } }, 6);
	rp_raw(p, "</section>");
}

static void commits(page *p, const json_t *list)
{
	const json_t *c;
	size_t i;

	heading(p, 8);
	thead(p, (const report_text[]){ T_RECORD, T_DAY, T_KIND, T_COMMIT, T_VERIFIED }, 5, 0x1);
	json_array_foreach(list, i, c) {
		const char *v = rp_str(c, "verified");
		char *kind = NULL;

		if (asprintf(&kind, "%s%s%s%s%s%s%s", rp_str(c, "kind"), rp_str(c, "label") ? " " : "",
			     rp_str(c, "label") ? rp_str(c, "label") : "", rp_str(c, "result") ? ", " : "",
			     rp_str(c, "result") ? rp_str(c, "result") : "", rp_str(c, "by") ? ", " : "",
			     rp_str(c, "by") ? rp_str(c, "by") : "") < 0)
			kind = NULL;
		rp_raw(p, "<tr>");
		rp_tdn(p, rp_num(c, "seq"));
		rp_td(p, rp_str(c, "day"));
		rp_td(p, kind);
		rp_raw(p, "<td><code>");
		rp_esc(p, rp_str(c, "commit"));
		rp_raw(p, "</code></td>");
		rp_raw(p, v && !strcmp(v, "ok") ? "<td class=\"ok\">" : "<td class=\"bad\">");
		rp_esc(p, v && !strcmp(v, "ok") ? rp_T(p, T_OK) : v && !strcmp(v, "failed") ?
			  rp_T(p, T_FAILED) : rp_T(p, T_NOT_CHECKED));
		rp_raw(p, "</td></tr>");
		free(kind);
	}
	rp_raw(p, "</tbody></table></div></section>");
}

static void meta(page *p, report_text label, const char *value)
{
	if (!value)
		return;
	rp_raw(p, "<dt>");
	rp_esc(p, rp_T(p, label));
	rp_raw(p, "</dt><dd>");
	rp_esc(p, value);
	rp_raw(p, "</dd>");
}

int lethe_report_html(char **out, const json_t *m, lethe_report_language lang)
{
	lethe_strbuf sb;
	page p = { &sb, lang, 0 };

	lethe_strbuf_init(&sb);
	rp_rawf(&p, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		"<title>", rp_T(&p, T_LANG));
	rp_esc(&p, rp_T(&p, T_TITLE));
	if (rp_str(m, "register")) {
		rp_raw(&p, ": ");
		rp_esc(&p, rp_str(m, "register"));
	}
	rp_raw(&p, "</title><style>");
	rp_raw(&p, rp_css);
	rp_raw(&p, "</style></head><body><header><h1>");
	rp_esc(&p, rp_T(&p, T_TITLE));
	rp_raw(&p, "</h1><dl class=\"meta\">");
	meta(&p, T_REGISTER, rp_str(m, "register"));
	meta(&p, T_CONTROLLER, rp_str(m, "controller"));
	meta(&p, T_AS_OF, rp_str(m, "as_of"));
	meta(&p, T_SINCE, rp_str(m, "since"));
	meta(&p, T_MADE, rp_str(m, "made_at"));
	rp_raw(&p, "</dl></header><nav aria-label=\"");
	rp_esc(&p, rp_T(&p, T_CONTENTS));
	rp_raw(&p, "\"><h2>");
	rp_esc(&p, rp_T(&p, T_CONTENTS));
	rp_raw(&p, "</h2><ol>");
	for (size_t i = 0; i < sizeof(sections) / sizeof(*sections); i++) {
		rp_rawf(&p, "<li><a href=\"#%s\">", sections[i].id);
		rp_esc(&p, rp_T(&p, sections[i].title));
		rp_raw(&p, "</a></li>");
	}
	rp_raw(&p, "</ol></nav><main>");
	verification(&p, json_object_get(m, "verification"));
	monthly(&p, m);
	due_now(&p, json_object_get(m, "due_now"));
	holds(&p, json_object_get(m, "holds"));
	requests(&p, json_object_get(m, "requests"));
	policy(&p, json_object_get(m, "policy_changes"));
	approvals(&p, json_object_get(m, "approvals"));
	commits(&p, json_object_get(m, "commits"));
	rp_raw(&p, "</main></body></html>\n");
	if (p.oom) {
		lethe_strbuf_release(&sb);
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	*out = lethe_strbuf_detach(&sb, NULL);
	return 0;
}
