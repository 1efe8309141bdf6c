/*
 * report_html.c - the report's page (lethe/report.h) from its model.
 *
 * Invariants:
 *  - Every value taken from the model goes through lethe_text_html (esc);
 *    only this file's own markup and numbers it formats are written raw.
 *  - The page references nothing outside itself: no script, no link, no
 *    image, no font, no URL; links are fragments (#runs). Charts are inline
 *    SVG with a title and description, each followed by a table of the same
 *    numbers (the accessible alternative).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "lethe/text.h"
#include "report_impl.h"
#include "strbuf.h"
#include <stdarg.h>

#define CHART_W 760
#define CHART_H 260
#define PAD_L 56
#define PAD_B 44
#define PAD_T 12

static const char *const palette[] = { "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9",
				       "#d55e00", "#f0e442", "#444444", "#999999", "#88ccee",
				       "#882255", "#117733" };

const char rp_css[] =
	"body{font-family:system-ui,-apple-system,'DejaVu Sans',sans-serif;margin:0 auto;"
	"max-width:62rem;padding:1rem 1.5rem;color:#1a1a1a;background:#fff;line-height:1.45}"
	"h1{font-size:1.7rem;margin-bottom:.2rem}h2{font-size:1.3rem;margin-top:2.2rem;"
	"border-bottom:2px solid #0072b2;padding-bottom:.2rem}h3{font-size:1.05rem}"
	"dl.meta{display:grid;grid-template-columns:max-content auto;gap:.1rem 1rem}"
	"dl.meta dt{font-weight:600}dl.meta dd{margin:0}"
	"table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.9rem}"
	"caption{text-align:left;font-weight:600;padding:.2rem 0}"
	"th,td{border:1px solid #bbb;padding:.2rem .5rem;text-align:left;vertical-align:top}"
	"td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}thead th{background:#eef3f8}"
	".wide{overflow-x:auto}.ok{color:#0a6b2d;font-weight:600}.bad{color:#b00020;font-weight:700}"
	".note{color:#444}pre.diff{background:#f6f6f6;border:1px solid #ddd;padding:.5rem;"
	"overflow-x:auto;font-size:.82rem}.legend span{display:inline-block;margin-right:1rem}"
	".legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;"
	"vertical-align:middle}svg text{font-size:11px;fill:#333}"
	"nav ol{columns:2}"
	"@media print{body{max-width:none;padding:0;font-size:10pt}nav{display:none}"
	"h2{break-after:avoid}table,figure,pre{break-inside:avoid}.wide{overflow:visible}"
	"a{color:inherit;text-decoration:none}}";

const char *rp_T(const page *p, report_text t)
{
	return report_text_get(p->lang, t);
}

void rp_raw(page *p, const char *s)
{
	if (lethe_strbuf_adds(p->sb, s) < 0)
		p->oom = 1;
}

void rp_rawf(page *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (lethe_strbuf_vaddf(p->sb, fmt, ap) < 0)
		p->oom = 1;
	va_end(ap);
}

/* A value from the model, escaped. */
void rp_esc(page *p, const char *s)
{
	char *e = lethe_text_html(s);

	if (!e)
		p->oom = 1;
	else
		rp_raw(p, e);
	free(e);
}

const char *rp_str(const json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

long long rp_num(const json_t *o, const char *name)
{
	return (long long)json_integer_value(json_object_get(o, name));
}

/* A table cell with an escaped value ("-" for none). */
void rp_td(page *p, const char *s)
{
	rp_raw(p, "<td>");
	rp_esc(p, s ? s : "-");
	rp_raw(p, "</td>");
}

void rp_tdn(page *p, long long n)
{
	rp_rawf(p, "<td class=\"n\">%lld</td>", n);
}

void rp_th(page *p, const char *s, int numeric)
{
	rp_raw(p, numeric ? "<th scope=\"col\" class=\"n\">" : "<th scope=\"col\">");
	rp_esc(p, s);
	rp_raw(p, "</th>");
}

/* Every month from the first to the last key of the objects, "YYYY-MM". */
char **rp_month_range(size_t *n, const json_t *a, const json_t *b)
{
	const char *lo = NULL, *hi = NULL, *k;
	const json_t *objs[] = { a, b };
	json_t *v;
	char **out = NULL;
	int y, m, y2, m2;

	*n = 0;
	for (size_t i = 0; i < 2; i++)
		json_object_foreach((json_t *)objs[i], k, v) {
			if (!lo || strcmp(k, lo) < 0)
				lo = k;
			if (!hi || strcmp(k, hi) > 0)
				hi = k;
		}
	if (!lo || sscanf(lo, "%4d-%2d", &y, &m) != 2 || sscanf(hi, "%4d-%2d", &y2, &m2) != 2)
		return NULL;
	size_t count = (size_t)((y2 - y) * 12 + (m2 - m) + 1);

	if (!(out = calloc(count, sizeof(*out))))
		return NULL;
	for (size_t i = 0; i < count; i++) {
		if (asprintf(&out[i], "%04d-%02d", y, m) < 0)
			out[i] = NULL;
		if (++m > 12) {
			m = 1;
			y++;
		}
	}
	*n = count;
	return out;
}

void rp_free_strs(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/* A stacked bar chart: nx bars (labels xl), ns series (names sn, each in
 * the palette's colour color[s], so a rule keeps its colour from chart to
 * chart), values val[s * nx + x]; then its legend. */
static void rp_chart(page *p, const char *id, const char *title, const char *desc, size_t nx,
		  char *const *xl, size_t ns, const char *const *sn, const size_t *color,
		  const long long *val)
{
	long long max = 0, step;
	double bw, scale;

	for (size_t x = 0; x < nx; x++) {
		long long sum = 0;

		for (size_t s = 0; s < ns; s++)
			sum += val[s * nx + x];
		max = sum > max ? sum : max;
	}
	for (step = 1; max / step > 5; step *= step % 3 == 0 || step == 1 ? 2 : 5)
		;
	max = max ? (max + step - 1) / step * step : 1;
	bw = nx ? (double)(CHART_W - PAD_L - 8) / (double)nx : 0;
	scale = (double)(CHART_H - PAD_B - PAD_T) / (double)max;
	rp_rawf(p, "<figure><svg viewBox=\"0 0 %d %d\" width=\"100%%\" role=\"img\" "
		"aria-labelledby=\"%s-t %s-d\"><title id=\"%s-t\">", CHART_W, CHART_H, id, id, id);
	rp_esc(p, title);
	rp_rawf(p, "</title><desc id=\"%s-d\">", id);
	rp_esc(p, desc);
	rp_raw(p, "</desc>");
	for (long long v = 0; v <= max; v += step) {
		double y = CHART_H - PAD_B - (double)v * scale;

		rp_rawf(p, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
			"<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%lld</text>", PAD_L, CHART_W - 4, y, y,
		     PAD_L - 6, y + 4, v);
	}
	for (size_t x = 0; x < nx; x++) {
		double base = CHART_H - PAD_B, left = PAD_L + (double)x * bw;

		for (size_t s = 0; s < ns; s++) {
			double h = (double)val[s * nx + x] * scale;

			if (val[s * nx + x] <= 0)
				continue;
			rp_rawf(p, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>",
			     left + bw * 0.12, base - h, bw * 0.76, h,
			     palette[color[s] % (sizeof(palette) / sizeof(*palette))]);
			base -= h;
		}
		if (nx <= 24 || x % 2 == 0) {
			rp_rawf(p, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", left + bw / 2,
			     CHART_H - PAD_B + 16);
			rp_esc(p, xl[x] && strlen(xl[x]) == 7 ? xl[x] + 2 : xl[x]);
			rp_raw(p, "</text>");
		}
	}
	rp_raw(p, "</svg><figcaption class=\"legend\">");
	for (size_t s = 0; s < ns; s++) {
		rp_rawf(p, "<span><i style=\"background:%s\"></i>",
		     palette[color[s] % (sizeof(palette) / sizeof(*palette))]);
		rp_esc(p, sn[s]);
		rp_raw(p, "</span>");
	}
	rp_raw(p, "</figcaption></figure>");
}

/* The chart's table: a row per x, a column per series and the total. */
static void rp_chart_table(page *p, const char *caption, size_t nx, char *const *xl, size_t ns,
			const char *const *sn, const long long *val)
{
	rp_raw(p, "<div class=\"wide\"><table><caption>");
	rp_esc(p, caption);
	rp_raw(p, "</caption><thead><tr>");
	rp_th(p, rp_T(p, T_MONTH), 0);
	for (size_t s = 0; s < ns; s++)
		rp_th(p, sn[s], 1);
	rp_th(p, rp_T(p, T_TOTAL), 1);
	rp_raw(p, "</tr></thead><tbody>");
	for (size_t x = 0; x < nx; x++) {
		long long sum = 0;

		rp_raw(p, "<tr><th scope=\"row\">");
		rp_esc(p, xl[x]);
		rp_raw(p, "</th>");
		for (size_t s = 0; s < ns; s++) {
			rp_tdn(p, val[s * nx + x]);
			sum += val[s * nx + x];
		}
		rp_tdn(p, sum);
		rp_raw(p, "</tr>");
	}
	rp_raw(p, "</tbody></table></div>");
}

/* A chart and its table from per-month objects {month: {series: n}}:
 * series in the order of `order` (names), those never non-zero left out. */
void rp_month_chart(page *p, const char *id, report_text title, report_text desc,
			const json_t *by_month, char *const *months, size_t nm, const char *const *order,
			size_t norder)
{
	const char **sn = calloc(norder ? norder : 1, sizeof(*sn));
	size_t *color = calloc(norder ? norder : 1, sizeof(*color));
	long long *val = calloc((norder ? norder : 1) * (nm ? nm : 1), sizeof(*val));
	size_t ns = 0;

	if (!sn || !val || !color) {
		p->oom = 1;
		goto out;
	}
	for (size_t s = 0; s < norder; s++) {
		int any = 0;

		for (size_t x = 0; x < nm; x++) {
			val[ns * nm + x] = rp_num(json_object_get(by_month, months[x]), order[s]);
			any |= val[ns * nm + x] != 0;
		}
		if (any) {
			color[ns] = s;
			sn[ns++] = order[s];
		}
	}
	if (nm == 0 || ns == 0) {
		rp_raw(p, "<p>");
		rp_esc(p, rp_T(p, T_NONE));
		rp_raw(p, "</p>");
		goto out;
	}
	rp_chart(p, id, rp_T(p, title), rp_T(p, desc), nm, months, ns, sn, color, val);
	rp_chart_table(p, rp_T(p, T_CHART_TABLE), nm, months, ns, sn, val);
out:
	free(sn);
	free(color);
	free(val);
}

