/*
 * fuzz_calendar.c - libFuzzer harness for the date and duration parsers of
 * calendar.c and the retention arithmetic on what they accept.
 *
 * The whole input goes to every parser; it is also split at '\n' into up to
 * four fields "clock\nretain\ncounted_from\nfiscal_year_end" so that
 * lethe_retention_end runs on values that parsed.
 *
 * Invariants asserted (abort() on violation, which libFuzzer reports):
 *  - A day from lethe_day_parse formats back to exactly its input (up to
 *    the first NUL: it takes a C string) and re-parses to itself;
 *    lethe_day_from_text gives the same day for the same ten bytes.
 *  - Every day a parser accepts lies in years 0001..9999 and round-trips
 *    through lethe_day_to_ymd / lethe_day_from_ymd.
 *  - Parsed durations, counted_from and fiscal year ends are in range.
 *  - A retention end is never before its clock day and is in range; counted
 *    from the day itself in days it is exactly clock + n.
 *  - Parsers never read past their buffer: inputs are copied to exact-size
 *    heap buffers (ASan), NUL-terminated only for parsers that take C strings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/calendar.h"
#include "lethe/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A malloc'd NUL-terminated copy of data[0..n). */
static char *cstr(const uint8_t *data, size_t n)
{
	char *s = malloc(n + 1);

	if (!s)
		abort();
	memcpy(s, data, n);
	s[n] = '\0';
	return s;
}

/* d is a day of years 0001..9999 and round-trips through y-m-d. */
static void check_day(lethe_day d)
{
	int y, m, dd;
	lethe_day back;
	char buf[11], again[11];

	lethe_day_to_ymd(d, &y, &m, &dd);
	if (y < 1 || y > 9999 || m < 1 || m > 12 || dd < 1 || dd > lethe_days_in_month(y, m))
		abort();
	if (lethe_day_from_ymd(&back, y, m, dd) != 0 || back != d)
		abort();
	lethe_day_format(d, buf);
	if (lethe_day_parse(&back, buf) != 0 || back != d)
		abort();
	lethe_day_format(back, again);
	if (strcmp(buf, again) != 0)
		abort();
}

/* Every parser on one field; what parsed is returned through the flags. */
typedef struct {
	int has_day, has_dur, has_cf, has_fye;
	lethe_day day;
	lethe_duration dur;
	lethe_counted_from cf;
	lethe_fiscal_year_end fye;
} parsed;

static void parse_all(parsed *p, const uint8_t *data, size_t n)
{
	char *s = cstr(data, n);
	char *exact = malloc(n ? n : 1);
	lethe_day strict, text;
	char buf[11];

	if (!exact)
		abort();
	memcpy(exact, data, n);
	if (lethe_day_parse(&strict, s) == 0) {
		/* YYYY-MM-DD: formats to exactly the input, and the text parser
		 * (which accepts every spelling) agrees. */
		lethe_day_format(strict, buf);
		if (strlen(s) != 10 || strcmp(buf, s) != 0)
			abort();
		if (lethe_day_from_text(&text, s, strlen(s)) != 0 || text != strict)
			abort();
		check_day(strict);
	}
	if (lethe_day_from_text(&text, exact, n) == 0) {
		check_day(text);
		p->has_day = 1;
		p->day = text;
	}
	if (lethe_duration_parse(&p->dur, s) == 0) {
		if (p->dur.n < 0 || p->dur.n > 100000 || p->dur.unit < LETHE_UNIT_DAY ||
		    p->dur.unit > LETHE_UNIT_YEAR)
			abort();
		p->has_dur = 1;
	}
	if (lethe_counted_from_parse(&p->cf, s) == 0) {
		if (p->cf < LETHE_COUNT_END_OF_MONTH || p->cf > LETHE_COUNT_END_OF_CALENDAR_YEAR_OF_FISCAL_YEAR_END)
			abort();
		p->has_cf = 1;
	}
	if (lethe_fiscal_year_end_parse(&p->fye, s) == 0) {
		if (p->fye.month < 1 || p->fye.month > 12 || p->fye.day < 1 ||
		    p->fye.day > lethe_days_in_month(2023, p->fye.month))
			abort();
		p->has_fye = 1;
	}
	free(exact);
	free(s);
}

static void check_end(lethe_day clock, lethe_counted_from cf, lethe_fiscal_year_end fye,
		      lethe_duration dur)
{
	lethe_day end;

	if (lethe_retention_end(&end, clock, cf, fye, dur) != 0)
		return;
	if (end < clock)
		abort();
	check_day(end);
	if (cf == LETHE_COUNT_FROM_DAY && dur.unit == LETHE_UNIT_DAY && end != clock + dur.n)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	parsed whole = { 0 }, f[4] = { { 0 } };
	lethe_fiscal_year_end fye = { 12, 31 };
	lethe_counted_from cf = LETHE_COUNT_FROM_DAY;
	size_t at = 0, nf = 0;
	lethe_day d;

	parse_all(&whole, data, size);
	while (nf < 4 && at <= size) {
		const uint8_t *nl = memchr(data + at, '\n', size - at);
		size_t n = nl ? (size_t)(nl - (data + at)) : size - at;

		parse_all(&f[nf++], data + at, n);
		at += n + 1;
	}
	if (nf >= 3 && f[2].has_cf)
		cf = f[2].cf;
	if (nf >= 4 && f[3].has_fye)
		fye = f[3].fye;
	if (nf >= 2 && f[0].has_day && f[1].has_dur)
		check_end(f[0].day, cf, fye, f[1].dur);
	if (whole.has_day)
		check_end(whole.day, LETHE_COUNT_END_OF_FISCAL_YEAR, fye, (lethe_duration){ 0, LETHE_UNIT_DAY });
	/* Unix seconds: the first 8 bytes as an integer. */
	if (size >= 8) {
		int64_t secs;

		memcpy(&secs, data, 8);
		if (lethe_day_from_unix(&d, secs) == 0)
			check_day(d);
	}
	lethe_error_clear();
	return 0;
}
