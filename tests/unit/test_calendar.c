/*
 * test_calendar.c - the calendar module against the contract's Clock and
 * Counting rules: civil dates, every accepted clock spelling, durations,
 * month-end clamping, counted_from, the due rule and the Finnish bookkeeping
 * example.
 *
 * Dates are written as text in the tests and converted with lethe_day_parse,
 * so a failure message shows the date a person would read.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/calendar.h"
#include "lethe/error.h"

static const lethe_fiscal_year_end FYE_DEC = { 12, 31 };

static lethe_day D(const char *s)
{
	lethe_day d = 0;

	ck_assert_msg(lethe_day_parse(&d, s) == 0, "cannot parse %s", s);
	return d;
}

static void assert_day(lethe_day d, const char *want)
{
	char buf[11];

	lethe_day_format(d, buf);
	ck_assert_str_eq(buf, want);
}

static lethe_duration dur(int32_t n, lethe_unit u)
{
	lethe_duration x = { n, u };

	return x;
}

static void check_add(const char *from, int32_t n, lethe_unit u, const char *want)
{
	lethe_day out = 0;

	ck_assert_int_eq(lethe_day_add(&out, D(from), dur(n, u)), 0);
	assert_day(out, want);
}

static void check_text(const char *text, const char *want)
{
	lethe_day out = 0;
	int rc = lethe_day_from_text(&out, text, strlen(text));

	ck_assert_msg(rc == 0, "'%s' refused: %s", text, lethe_error_last());
	assert_day(out, want);
}

static void check_text_bad(const char *text, size_t len)
{
	lethe_day out = 12345;

	ck_assert_msg(lethe_day_from_text(&out, text, len) == LETHE_EDATA,
		      "'%.*s' accepted", (int)len, text);
	ck_assert_int_eq(out, 12345); /* untouched on failure */
	ck_assert_int_eq(lethe_error_last_code(), LETHE_EDATA);
}

static void check_end(const char *clock, lethe_counted_from cf,
		      lethe_fiscal_year_end fye, const char *retain, const char *want)
{
	lethe_duration r;
	lethe_day end = 0;

	ck_assert_int_eq(lethe_duration_parse(&r, retain), 0);
	ck_assert_int_eq(lethe_retention_end(&end, D(clock), cf, fye, r), 0);
	assert_day(end, want);
}

/* --- civil dates ----------------------------------------------------------- */

START_TEST(civil_round_trip)
{
	lethe_day d;
	int y, m, dd;

	ck_assert_int_eq(lethe_day_from_ymd(&d, 1970, 1, 1), 0);
	ck_assert_int_eq(d, 0);
	ck_assert_int_eq(lethe_day_from_ymd(&d, 1969, 12, 31), 0);
	ck_assert_int_eq(d, -1);
	ck_assert_int_eq(lethe_day_from_ymd(&d, 2000, 3, 1), 0);
	ck_assert_int_eq(d, 11017);
	ck_assert_int_eq(lethe_day_from_ymd(&d, 1, 1, 1), 0);
	ck_assert_int_eq(d, -719162);
	ck_assert_int_eq(lethe_day_from_ymd(&d, 9999, 12, 31), 0);
	ck_assert_int_eq(d, 2932896);

	/* every day of the range converts back to itself, and consecutive
	 * days are consecutive dates (plain ifs: ck_assert is slow per call) */
	int py = 0, pm = 12, pd = 31;
	lethe_day bad = 0;
	int nbad = 0;

	for (lethe_day x = -719162; x <= 2932896; x++) {
		lethe_day back;
		int next_day;

		lethe_day_to_ymd(x, &y, &m, &dd);
		next_day = (y == py && m == pm && dd == pd + 1) ||
			   (y == py && m == pm + 1 && dd == 1 &&
			    pd == lethe_days_in_month(py, pm)) ||
			   (y == py + 1 && m == 1 && dd == 1 && pm == 12 && pd == 31);
		if (!next_day || lethe_day_from_ymd(&back, y, m, dd) != 0 || back != x) {
			bad = x;
			nbad++;
		}
		py = y;
		pm = m;
		pd = dd;
	}
	ck_assert_msg(nbad == 0, "%d days do not round-trip, last %d", nbad, (int)bad);
}
END_TEST

START_TEST(civil_invalid)
{
	lethe_day d = 7;

	ck_assert_int_eq(lethe_day_from_ymd(&d, 2023, 2, 29), LETHE_EDATA);
	ck_assert_int_eq(lethe_day_from_ymd(&d, 2024, 13, 1), LETHE_EDATA);
	ck_assert_int_eq(lethe_day_from_ymd(&d, 2024, 0, 1), LETHE_EDATA);
	ck_assert_int_eq(lethe_day_from_ymd(&d, 2024, 4, 31), LETHE_EDATA);
	ck_assert_int_eq(lethe_day_from_ymd(&d, 2024, 1, 0), LETHE_EDATA);
	ck_assert_int_eq(lethe_day_from_ymd(&d, 0, 1, 1), LETHE_EDATA);
	ck_assert_int_eq(lethe_day_from_ymd(&d, 10000, 1, 1), LETHE_EDATA);
	ck_assert_str_eq(lethe_error_last(), "invalid date 10000-01-01");
	ck_assert_int_eq(lethe_day_from_ymd(&d, INT32_MIN, 1, 1), LETHE_EDATA);
	ck_assert_int_eq(d, 7);
}
END_TEST

START_TEST(leap_years_and_month_lengths)
{
	ck_assert(lethe_is_leap_year(2024));
	ck_assert(lethe_is_leap_year(2000));
	ck_assert(!lethe_is_leap_year(1900));
	ck_assert(!lethe_is_leap_year(2023));
	ck_assert_int_eq(lethe_days_in_month(2024, 2), 29);
	ck_assert_int_eq(lethe_days_in_month(2023, 2), 28);
	ck_assert_int_eq(lethe_days_in_month(2100, 2), 28);
	ck_assert_int_eq(lethe_days_in_month(2024, 4), 30);
	ck_assert_int_eq(lethe_days_in_month(2024, 12), 31);
	ck_assert_int_eq(lethe_days_in_month(2024, 13), 0);
}
END_TEST

START_TEST(format_days)
{
	char buf[11];

	assert_day(0, "1970-01-01");
	assert_day(-1, "1969-12-31");
	assert_day(-719162, "0001-01-01");
	assert_day(2932896, "9999-12-31");
	/* outside the range: a fixed text, never a buffer overflow */
	lethe_day_format(INT32_MAX, buf);
	ck_assert_str_eq(buf, "0000-00-00");
	lethe_day_format(INT32_MIN, buf);
	ck_assert_str_eq(buf, "0000-00-00");
}
END_TEST

/* --- lethe_day_parse (strict) -------------------------------------------- */

START_TEST(strict_parse)
{
	static const char *bad[] = {
		"", "2024-3-01", "2024-03-1", "24-03-01", "2024/03/01",
		"2024-03-01 ", " 2024-03-01", "2024-03-01T00:00", "2024-03-01Z",
		"2023-02-29", "2024-13-01", "2024-00-10", "0000-01-01",
		"+2024-03-01", "2024-03-0a", "20240301",
	};
	lethe_day d = 99;

	assert_day(D("2024-02-29"), "2024-02-29");
	assert_day(D("0001-01-01"), "0001-01-01");
	assert_day(D("9999-12-31"), "9999-12-31");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(lethe_day_parse(&d, bad[i]) == LETHE_EDATA,
			      "'%s' accepted", bad[i]);
	ck_assert_str_eq(lethe_error_last(),
			 "invalid date '20240301': expected YYYY-MM-DD");
	ck_assert_int_eq(lethe_day_parse(&d, NULL), LETHE_EDATA);
	ck_assert_int_eq(d, 99);
}
END_TEST

/* --- lethe_day_from_text ------------------------------------------------- */

START_TEST(text_every_spelling)
{
	static const char *ok[] = {
		"2024-03-01",
		"2024-03-01Z",
		"2024-03-01 10:00",
		"2024-03-01 10:00Z",
		"2024-03-01 10:00:00",
		"2024-03-01 10:00:00Z",
		"2024-03-01 10:00:00.5",
		"2024-03-01 10:00:00.123456789Z",
		"2024-03-01T10:00",
		"2024-03-01T10:00Z",
		"2024-03-01T10:00:00",
		"2024-03-01T10:00:00Z",
		"2024-03-01T10:00:00.000",
		"2024-03-01T10:00:00.000Z",
		"2024-03-01T10:00+02:00",
		"2024-03-01T10:00-02:00",
		"2024-03-01T10:00+0200",
		"2024-03-01T10:00-0200",
		"2024-03-01 10:00:00+02:00",
		"2024-03-01T10:00:00-05:30",
		"2024-03-01T10:00:00.25+0200",
		"2024-03-01 10:00:00.25-0930",
		"2024-03-01T10:00:00+00:00",
		"2024-03-01T10:00:00-00:00",
		"2024-03-01T23:59:60Z",     /* leap second */
		"2024-03-01T00:00:00",
		"2024-03-01T23:59:59.999",
		/* a date alone names the whole day: its zone does not move it */
		"2024-03-01+02:00",
		"2024-03-01-0500",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		check_text(ok[i], "2024-03-01");
}
END_TEST

START_TEST(text_offsets_cross_boundaries)
{
	/* backwards across a month end in a leap year */
	check_text("2024-03-01T01:00:00+02:00", "2024-02-29");
	check_text("2023-03-01T01:59+0200", "2023-02-28");
	check_text("2024-03-01T02:00:00+02:00", "2024-03-01");
	/* backwards across a year end */
	check_text("2025-01-01 00:30:00+01:00", "2024-12-31");
	/* forwards across a month end and a year end */
	check_text("2024-04-30T22:00:00-02:00", "2024-05-01");
	check_text("2024-04-30T21:59:59-02:00", "2024-04-30");
	check_text("2024-12-31T23:30-0100", "2025-01-01");
	check_text("2024-12-31T23:59:60-00:01", "2025-01-01");
	/* the edges of the range */
	check_text("0001-01-01T05:00+05:00", "0001-01-01");
	check_text("9999-12-31T20:00-03:59", "9999-12-31");
}
END_TEST

START_TEST(text_invalid)
{
	static const char *bad[] = {
		"", "garbage", "2024", "2024-03", "2024-3-1", "2024-03-01x",
		"2024-03-01 ", " 2024-03-01", "2024-03-01\n", "2024-03-01T",
		"2024-03-01 10", "2024-03-01T10:", "2024-03-01T10:0",
		"2024-03-01T10:00:", "2024-03-01T10:00:0", "2024-03-01T10:00:00.",
		"2024-03-01T10:00:00,5", "2024-03-01T10:00:00Z ", "2024-03-01T10:00ZZ",
		"2024-03-01t10:00", "2024-03-01T10:00z", "2024-03-01  10:00",
		"2023-02-29", "2024-02-30", "2024-13-01", "2024-00-01", "0000-12-31",
		"2024-03-01T24:00:00", "2024-03-01T25:00", "2024-03-01T10:60",
		"2024-03-01T10:00:61", "2024-03-01T-1:00",
		"2024-03-01T10:00+2", "2024-03-01T10:00+02", "2024-03-01T10:00+02:0",
		"2024-03-01T10:00+24:00", "2024-03-01T10:00+02:60",
		"2024-03-01T10:00+02:00:00", "2024-03-01T10:00 +02:00",
		"2024-03-01T10:00+0200Z", "2024-03-01Z+02:00",
		"1709287200", "2024-03-01 10:00:00 UTC",
		/* a valid text whose UTC day leaves the range */
		"0001-01-01T00:30+01:00", "9999-12-31T23:00-02:00",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_text_bad(bad[i], strlen(bad[i]));
	check_text_bad(NULL, 0);
	ck_assert_str_eq(lethe_error_last(), "invalid date ''");
}
END_TEST

START_TEST(text_not_nul_terminated)
{
	static const char buf[] = "2024-03-01T10:00:00Zgarbage";
	lethe_day d;

	/* only len bytes are read: the prefix is a valid clock */
	ck_assert_int_eq(lethe_day_from_text(&d, buf, 20), 0);
	assert_day(d, "2024-03-01");
	ck_assert_int_eq(lethe_day_from_text(&d, buf, 10), 0);
	assert_day(d, "2024-03-01");
	check_text_bad(buf, 21);
	check_text_bad(buf, 9);
	check_text_bad(buf, 11);
	/* an embedded NUL is a character like any other: refused */
	check_text_bad("2024-03-01\0", 11);
}
END_TEST

/* --- lethe_day_from_unix -------------------------------------------------- */

START_TEST(unix_seconds)
{
	lethe_day d = 5;

	ck_assert_int_eq(lethe_day_from_unix(&d, 0), 0);
	assert_day(d, "1970-01-01");
	ck_assert_int_eq(lethe_day_from_unix(&d, 86399), 0);
	assert_day(d, "1970-01-01");
	ck_assert_int_eq(lethe_day_from_unix(&d, 86400), 0);
	assert_day(d, "1970-01-02");
	ck_assert_int_eq(lethe_day_from_unix(&d, -1), 0);
	assert_day(d, "1969-12-31");
	ck_assert_int_eq(lethe_day_from_unix(&d, -86400), 0);
	assert_day(d, "1969-12-31");
	ck_assert_int_eq(lethe_day_from_unix(&d, -86401), 0);
	assert_day(d, "1969-12-30");
	ck_assert_int_eq(lethe_day_from_unix(&d, 1709287200), 0); /* 2024-03-01 10:00Z */
	assert_day(d, "2024-03-01");
	ck_assert_int_eq(lethe_day_from_unix(&d, INT64_C(4102444800)), 0);
	assert_day(d, "2100-01-01");
	/* the edges of the range, and just past them */
	ck_assert_int_eq(lethe_day_from_unix(&d, INT64_C(253402300799)), 0);
	assert_day(d, "9999-12-31");
	ck_assert_int_eq(lethe_day_from_unix(&d, INT64_C(-62135596800)), 0);
	assert_day(d, "0001-01-01");

	d = 5;
	ck_assert_int_eq(lethe_day_from_unix(&d, INT64_C(253402300800)), LETHE_EDATA);
	ck_assert_int_eq(lethe_day_from_unix(&d, INT64_C(-62135596801)), LETHE_EDATA);
	ck_assert_int_eq(lethe_day_from_unix(&d, INT64_MAX), LETHE_EDATA);
	ck_assert_int_eq(lethe_day_from_unix(&d, INT64_MIN), LETHE_EDATA);
	/* milliseconds by mistake land far past 9999 */
	ck_assert_int_eq(lethe_day_from_unix(&d, INT64_C(1709287200000)), LETHE_EDATA);
	ck_assert_int_eq(d, 5);
}
END_TEST

/* --- durations, counted_from, fiscal year end ------------------------------ */

START_TEST(duration_good)
{
	static const struct {
		const char *text;
		int32_t n;
		lethe_unit unit;
	} ok[] = {
		{ "10 years", 10, LETHE_UNIT_YEAR },
		{ "1 year", 1, LETHE_UNIT_YEAR },
		{ "30 days", 30, LETHE_UNIT_DAY },
		{ "1 day", 1, LETHE_UNIT_DAY },
		{ "14 months", 14, LETHE_UNIT_MONTH },
		{ "1 month", 1, LETHE_UNIT_MONTH },
		{ "2 weeks", 2, LETHE_UNIT_WEEK },
		{ "1 week", 1, LETHE_UNIT_WEEK },
		{ "0 days", 0, LETHE_UNIT_DAY },
		{ "3   years", 3, LETHE_UNIT_YEAR },
		{ "100000 days", 100000, LETHE_UNIT_DAY },
		{ "007 days", 7, LETHE_UNIT_DAY },
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		lethe_duration d = { -1, LETHE_UNIT_DAY };

		ck_assert_msg(lethe_duration_parse(&d, ok[i].text) == 0,
			      "'%s' refused", ok[i].text);
		ck_assert_int_eq(d.n, ok[i].n);
		ck_assert_int_eq(d.unit, ok[i].unit);
	}
}
END_TEST

START_TEST(duration_bad)
{
	static const char *bad[] = {
		"10", "years", "-1 days", "+1 days", "1.5 years", "10 yrs",
		" 10 years", "10 years ", "10years", "10 Years", "10\tyears",
		"ten years", "", "100001 days", "99999999999999999999 days",
		"10 years ago", "1 fortnight", "1 days,", "10 year s",
	};
	lethe_duration d = { 42, LETHE_UNIT_WEEK };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(lethe_duration_parse(&d, bad[i]) == LETHE_EDATA,
			      "'%s' accepted", bad[i]);
	ck_assert_int_eq(lethe_duration_parse(&d, NULL), LETHE_EDATA);
	ck_assert_int_eq(d.n, 42);
	ck_assert_int_eq(d.unit, LETHE_UNIT_WEEK);
	ck_assert_int_eq(lethe_duration_parse(&d, "10 yrs"), LETHE_EDATA);
	ck_assert_str_eq(lethe_error_last(),
			 "invalid duration '10 yrs': expected N days, weeks, "
			 "months or years (N from 0 to 100000)");
}
END_TEST

START_TEST(counted_from_names)
{
	lethe_counted_from cf = LETHE_COUNT_FROM_DAY;

	ck_assert_int_eq(lethe_counted_from_parse(&cf, "end of month"), 0);
	ck_assert_int_eq(cf, LETHE_COUNT_END_OF_MONTH);
	ck_assert_int_eq(lethe_counted_from_parse(&cf, "end of year"), 0);
	ck_assert_int_eq(cf, LETHE_COUNT_END_OF_YEAR);
	ck_assert_int_eq(lethe_counted_from_parse(&cf, "end of fiscal year"), 0);
	ck_assert_int_eq(cf, LETHE_COUNT_END_OF_FISCAL_YEAR);
	ck_assert_int_eq(lethe_counted_from_parse(&cf, "end of calendar year of fiscal year end"), 0);
	ck_assert_int_eq(cf, LETHE_COUNT_END_OF_CALENDAR_YEAR_OF_FISCAL_YEAR_END);
	ck_assert_int_eq(lethe_counted_from_parse(&cf, "end of calendar year"), LETHE_EDATA);
	ck_assert_int_eq(lethe_counted_from_parse(&cf, "end of fiscal year"), 0);
	ck_assert_int_eq(lethe_counted_from_parse(&cf, "end of week"), LETHE_EDATA);
	ck_assert_int_eq(lethe_counted_from_parse(&cf, "End of month"), LETHE_EDATA);
	ck_assert_int_eq(lethe_counted_from_parse(&cf, "end of month "), LETHE_EDATA);
	ck_assert_int_eq(lethe_counted_from_parse(&cf, ""), LETHE_EDATA);
	ck_assert_int_eq(lethe_counted_from_parse(&cf, NULL), LETHE_EDATA);
	ck_assert_int_eq(cf, LETHE_COUNT_END_OF_FISCAL_YEAR);
}
END_TEST

START_TEST(fiscal_year_end_parse)
{
	static const char *bad[] = {
		"02-29", "13-01", "00-10", "06-31", "04-00", "6-30", "06/30",
		"06-30 ", "2024-06-30", "", "ab-cd",
	};
	lethe_fiscal_year_end f = { 1, 1 };

	ck_assert_int_eq(lethe_fiscal_year_end_parse(&f, "06-30"), 0);
	ck_assert_int_eq(f.month, 6);
	ck_assert_int_eq(f.day, 30);
	ck_assert_int_eq(lethe_fiscal_year_end_parse(&f, "02-28"), 0);
	ck_assert_int_eq(lethe_fiscal_year_end_parse(&f, "12-31"), 0);
	ck_assert_int_eq(f.month, 12);
	ck_assert_int_eq(f.day, 31);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(lethe_fiscal_year_end_parse(&f, bad[i]) == LETHE_EDATA,
			      "'%s' accepted", bad[i]);
	ck_assert_int_eq(lethe_fiscal_year_end_parse(&f, NULL), LETHE_EDATA);
	ck_assert_int_eq(f.month, 12);
}
END_TEST

/* --- lethe_day_add ------------------------------------------------------------ */

START_TEST(add_months_clamp)
{
	check_add("2024-01-31", 1, LETHE_UNIT_MONTH, "2024-02-29"); /* leap */
	check_add("2023-01-31", 1, LETHE_UNIT_MONTH, "2023-02-28"); /* common */
	check_add("2024-03-31", 1, LETHE_UNIT_MONTH, "2024-04-30");
	check_add("2024-01-30", 1, LETHE_UNIT_MONTH, "2024-02-29");
	check_add("2024-01-15", 1, LETHE_UNIT_MONTH, "2024-02-15");
	check_add("2024-11-30", 2, LETHE_UNIT_MONTH, "2025-01-30");
	check_add("2024-12-31", 14, LETHE_UNIT_MONTH, "2026-02-28");
	check_add("2024-08-31", 6, LETHE_UNIT_MONTH, "2025-02-28");
	/* clamping does not carry: the next month starts again from day 31 */
	check_add("2024-01-31", 2, LETHE_UNIT_MONTH, "2024-03-31");
}
END_TEST

START_TEST(add_years_feb29)
{
	check_add("2020-02-29", 1, LETHE_UNIT_YEAR, "2021-02-28");
	check_add("2020-02-29", 12, LETHE_UNIT_MONTH, "2021-02-28");
	check_add("2024-02-29", 4, LETHE_UNIT_YEAR, "2028-02-29");
	check_add("2024-02-29", 48, LETHE_UNIT_MONTH, "2028-02-29");
	check_add("2096-02-29", 4, LETHE_UNIT_YEAR, "2100-02-28"); /* 2100 is common */
	check_add("2016-12-31", 10, LETHE_UNIT_YEAR, "2026-12-31");
}
END_TEST

START_TEST(add_days_and_weeks)
{
	check_add("2024-12-31", 1, LETHE_UNIT_DAY, "2025-01-01");
	check_add("2024-12-25", 30, LETHE_UNIT_DAY, "2025-01-24");
	check_add("2024-02-28", 1, LETHE_UNIT_DAY, "2024-02-29");
	check_add("2023-02-28", 1, LETHE_UNIT_DAY, "2023-03-01");
	check_add("2024-01-01", 366, LETHE_UNIT_DAY, "2025-01-01");
	check_add("2024-12-20", 2, LETHE_UNIT_WEEK, "2025-01-03");
	check_add("2024-02-22", 1, LETHE_UNIT_WEEK, "2024-02-29");
	check_add("1969-12-31", 1, LETHE_UNIT_DAY, "1970-01-01");
}
END_TEST

START_TEST(add_zero)
{
	static const lethe_unit all[] = {
		LETHE_UNIT_DAY, LETHE_UNIT_WEEK, LETHE_UNIT_MONTH, LETHE_UNIT_YEAR
	};

	for (size_t i = 0; i < 4; i++) {
		check_add("2024-02-29", 0, all[i], "2024-02-29");
		check_add("2023-01-31", 0, all[i], "2023-01-31");
	}
}
END_TEST

START_TEST(add_out_of_range)
{
	lethe_day out = 3;

	ck_assert_int_eq(lethe_day_add(&out, D("9999-12-31"), dur(1, LETHE_UNIT_DAY)), LETHE_EDATA);
	ck_assert_int_eq(lethe_day_add(&out, D("9999-12-01"), dur(1, LETHE_UNIT_MONTH)), LETHE_EDATA);
	ck_assert_int_eq(lethe_day_add(&out, D("9000-01-01"), dur(100000, LETHE_UNIT_YEAR)), LETHE_EDATA);
	ck_assert_int_eq(lethe_day_add(&out, D("2024-01-01"), dur(100000, LETHE_UNIT_YEAR)), LETHE_EDATA);
	ck_assert_int_eq(lethe_day_add(&out, D("9999-01-01"), dur(100000, LETHE_UNIT_WEEK)), LETHE_EDATA);
	/* durations outside the contract, built by hand */
	ck_assert_int_eq(lethe_day_add(&out, D("2024-01-01"), dur(-1, LETHE_UNIT_DAY)), LETHE_EDATA);
	ck_assert_int_eq(lethe_day_add(&out, D("2024-01-01"), dur(100001, LETHE_UNIT_DAY)), LETHE_EDATA);
	ck_assert_int_eq(lethe_day_add(&out, D("2024-01-01"), dur(INT32_MAX, LETHE_UNIT_YEAR)), LETHE_EDATA);
	ck_assert_int_eq(lethe_day_add(&out, D("2024-01-01"), dur(1, (lethe_unit)99)), LETHE_EDATA);
	/* days outside the range */
	ck_assert_int_eq(lethe_day_add(&out, INT32_MAX, dur(0, LETHE_UNIT_DAY)), LETHE_EDATA);
	ck_assert_int_eq(lethe_day_add(&out, INT32_MIN, dur(1, LETHE_UNIT_YEAR)), LETHE_EDATA);
	ck_assert_int_eq(out, 3);
	/* the largest durations still inside the range */
	check_add("0001-01-01", 100000, LETHE_UNIT_MONTH, "8334-05-01");
	check_add("0001-01-01", 100000, LETHE_UNIT_WEEK, "1917-07-16");
	check_add("9998-12-31", 1, LETHE_UNIT_YEAR, "9999-12-31");
}
END_TEST

/* --- counted_from ----------------------------------------------------------- */

START_TEST(end_of_month)
{
	assert_day(lethe_day_end_of_month(D("2024-04-01")), "2024-04-30");
	assert_day(lethe_day_end_of_month(D("2024-04-30")), "2024-04-30");
	assert_day(lethe_day_end_of_month(D("2024-01-15")), "2024-01-31");
	assert_day(lethe_day_end_of_month(D("2024-12-31")), "2024-12-31");
	assert_day(lethe_day_end_of_month(D("2024-02-10")), "2024-02-29");
	assert_day(lethe_day_end_of_month(D("2023-02-10")), "2023-02-28");
	assert_day(lethe_day_end_of_month(D("1900-02-01")), "1900-02-28");
	assert_day(lethe_day_end_of_month(D("2000-02-01")), "2000-02-29");
}
END_TEST

START_TEST(end_of_year)
{
	assert_day(lethe_day_end_of_year(D("2024-01-01")), "2024-12-31");
	assert_day(lethe_day_end_of_year(D("2024-07-15")), "2024-12-31");
	assert_day(lethe_day_end_of_year(D("2024-12-31")), "2024-12-31");
	assert_day(lethe_day_end_of_year(D("1969-03-01")), "1969-12-31");
}
END_TEST

START_TEST(end_of_fiscal_year)
{
	const lethe_fiscal_year_end june = { 6, 30 }, april = { 4, 30 }, feb = { 2, 28 };

	assert_day(lethe_day_end_of_fiscal_year(D("2024-06-29"), june), "2024-06-30");
	assert_day(lethe_day_end_of_fiscal_year(D("2024-06-30"), june), "2024-06-30");
	assert_day(lethe_day_end_of_fiscal_year(D("2024-07-01"), june), "2025-06-30");
	assert_day(lethe_day_end_of_fiscal_year(D("2024-01-01"), june), "2024-06-30");
	assert_day(lethe_day_end_of_fiscal_year(D("2024-12-31"), june), "2025-06-30");
	/* ending 12-31 is the calendar year */
	assert_day(lethe_day_end_of_fiscal_year(D("2024-01-01"), FYE_DEC), "2024-12-31");
	assert_day(lethe_day_end_of_fiscal_year(D("2024-12-31"), FYE_DEC), "2024-12-31");
	assert_day(lethe_day_end_of_fiscal_year(D("2025-01-01"), FYE_DEC), "2025-12-31");
	for (lethe_day d = D("2023-01-01"); d <= D("2025-12-31"); d++)
		ck_assert_int_eq(lethe_day_end_of_fiscal_year(d, FYE_DEC),
				 lethe_day_end_of_year(d));
	assert_day(lethe_day_end_of_fiscal_year(D("2017-03-01"), april), "2017-04-30");
	/* a year ending 02-28 ends on 02-28 in leap years too: 02-29 is the next year's */
	assert_day(lethe_day_end_of_fiscal_year(D("2024-02-29"), feb), "2025-02-28");
}
END_TEST

/* --- lethe_retention_end and the due rule --------------------------------- */

START_TEST(retention_end_counting)
{
	const lethe_fiscal_year_end june = { 6, 30 };

	check_end("2024-03-15", LETHE_COUNT_FROM_DAY, FYE_DEC, "30 days", "2024-04-14");
	check_end("2024-01-31", LETHE_COUNT_FROM_DAY, FYE_DEC, "1 month", "2024-02-29");
	check_end("2024-01-10", LETHE_COUNT_END_OF_MONTH, FYE_DEC, "1 month", "2024-02-29");
	check_end("2023-11-05", LETHE_COUNT_END_OF_MONTH, FYE_DEC, "3 months", "2024-02-29");
	check_end("2024-07-04", LETHE_COUNT_END_OF_YEAR, FYE_DEC, "6 years", "2030-12-31");
	check_end("2024-07-01", LETHE_COUNT_END_OF_FISCAL_YEAR, june, "1 year", "2026-06-30");
	check_end("2024-06-30", LETHE_COUNT_END_OF_FISCAL_YEAR, june, "0 days", "2024-06-30");
	check_end("2024-02-29", LETHE_COUNT_FROM_DAY, FYE_DEC, "1 year", "2025-02-28");
	check_end("2024-01-01", LETHE_COUNT_FROM_DAY, FYE_DEC, "2 weeks", "2024-01-15");
}
END_TEST

START_TEST(finnish_bookkeeping)
{
	const lethe_fiscal_year_end april = { 4, 30 };
	lethe_duration ten;
	lethe_day end, first_due;

	/* order on 2016-03-15, fiscal year = calendar year, retain 10 years */
	check_end("2016-03-15", LETHE_COUNT_END_OF_FISCAL_YEAR, FYE_DEC, "10 years",
		  "2026-12-31");
	ck_assert_int_eq(lethe_duration_parse(&ten, "10 years"), 0);
	ck_assert_int_eq(lethe_retention_end(&end, D("2016-03-15"),
					     LETHE_COUNT_END_OF_FISCAL_YEAR, FYE_DEC, ten), 0);
	/* due when as_of > end: not on the last day, from the day after */
	ck_assert(!(D("2026-12-31") > end));
	ck_assert(D("2027-01-01") > end);
	ck_assert_int_eq(lethe_day_add(&first_due, end, dur(1, LETHE_UNIT_DAY)), 0);
	assert_day(first_due, "2027-01-01");

	/* fiscal year ending 04-30: the order of 2017-03-01 belongs to the year
	 * ending 2017-04-30; one on 2017-05-01 to the year ending 2018-04-30 */
	assert_day(lethe_day_end_of_fiscal_year(D("2017-03-01"), april), "2017-04-30");
	check_end("2017-03-01", LETHE_COUNT_END_OF_FISCAL_YEAR, april, "10 years",
		  "2027-04-30");
	check_end("2017-04-30", LETHE_COUNT_END_OF_FISCAL_YEAR, april, "10 years",
		  "2027-04-30");
	check_end("2017-05-01", LETHE_COUNT_END_OF_FISCAL_YEAR, april, "10 years",
		  "2028-04-30");
	/* vouchers: 6 years from the end of the calendar year in which the
	 * financial year ended (legal-retention.md) */
	check_end("2017-04-30", LETHE_COUNT_END_OF_YEAR, FYE_DEC, "6 years", "2023-12-31");
	/* the same with the fiscal year: a voucher of 2017-06-01 belongs to the
	 * year ending 2018-04-30, which ended in calendar year 2018 */
	check_end("2017-06-01", LETHE_COUNT_END_OF_CALENDAR_YEAR_OF_FISCAL_YEAR_END, april,
		  "6 years", "2024-12-31");
	check_end("2017-04-30", LETHE_COUNT_END_OF_CALENDAR_YEAR_OF_FISCAL_YEAR_END, april,
		  "6 years", "2023-12-31");
	check_end("2017-05-01", LETHE_COUNT_END_OF_CALENDAR_YEAR_OF_FISCAL_YEAR_END, april,
		  "6 years", "2024-12-31");
	check_end("2017-12-31", LETHE_COUNT_END_OF_CALENDAR_YEAR_OF_FISCAL_YEAR_END, FYE_DEC,
		  "6 years", "2023-12-31");
	check_end("2018-01-01", LETHE_COUNT_END_OF_CALENDAR_YEAR_OF_FISCAL_YEAR_END, FYE_DEC,
		  "6 years", "2024-12-31");
	check_end("2024-07-01", LETHE_COUNT_END_OF_CALENDAR_YEAR_OF_FISCAL_YEAR_END,
		  ((lethe_fiscal_year_end){ 6, 30 }), "0 days", "2025-12-31");
}
END_TEST

START_TEST(retention_end_errors)
{
	const lethe_fiscal_year_end bad_fye[] = { { 2, 29 }, { 13, 1 }, { 0, 0 }, { 6, 31 } };
	lethe_day end = 11;

	for (size_t i = 0; i < 4; i++)
		ck_assert_int_eq(lethe_retention_end(&end, D("2024-01-01"),
						     LETHE_COUNT_END_OF_FISCAL_YEAR,
						     bad_fye[i], dur(1, LETHE_UNIT_YEAR)),
				 LETHE_EDATA);
	/* an invalid fiscal year end is irrelevant when not counted from it */
	ck_assert_int_eq(lethe_retention_end(&end, D("2024-01-01"), LETHE_COUNT_FROM_DAY,
					     bad_fye[0], dur(1, LETHE_UNIT_YEAR)), 0);
	assert_day(end, "2025-01-01");
	end = 11;
	/* the start itself leaves the range */
	ck_assert_int_eq(lethe_retention_end(&end, D("9999-07-01"),
					     LETHE_COUNT_END_OF_FISCAL_YEAR,
					     (lethe_fiscal_year_end){ 6, 30 },
					     dur(0, LETHE_UNIT_DAY)), LETHE_EDATA);
	ck_assert_int_eq(lethe_retention_end(&end, D("9990-01-01"), LETHE_COUNT_END_OF_YEAR,
					     FYE_DEC, dur(10, LETHE_UNIT_YEAR)), LETHE_EDATA);
	ck_assert_int_eq(lethe_retention_end(&end, INT32_MAX, LETHE_COUNT_END_OF_MONTH,
					     FYE_DEC, dur(0, LETHE_UNIT_DAY)), LETHE_EDATA);
	ck_assert_int_eq(lethe_retention_end(&end, D("2024-01-01"), (lethe_counted_from)9,
					     FYE_DEC, dur(0, LETHE_UNIT_DAY)), LETHE_EDATA);
	ck_assert_int_eq(end, 11);
}
END_TEST

static Suite *calendar_suite(void)
{
	Suite *s = suite_create("calendar");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, civil_round_trip);
	tcase_add_test(tc, civil_invalid);
	tcase_add_test(tc, leap_years_and_month_lengths);
	tcase_add_test(tc, format_days);
	tcase_add_test(tc, strict_parse);
	tcase_add_test(tc, text_every_spelling);
	tcase_add_test(tc, text_offsets_cross_boundaries);
	tcase_add_test(tc, text_invalid);
	tcase_add_test(tc, text_not_nul_terminated);
	tcase_add_test(tc, unix_seconds);
	tcase_add_test(tc, duration_good);
	tcase_add_test(tc, duration_bad);
	tcase_add_test(tc, counted_from_names);
	tcase_add_test(tc, fiscal_year_end_parse);
	tcase_add_test(tc, add_months_clamp);
	tcase_add_test(tc, add_years_feb29);
	tcase_add_test(tc, add_days_and_weeks);
	tcase_add_test(tc, add_zero);
	tcase_add_test(tc, add_out_of_range);
	tcase_add_test(tc, end_of_month);
	tcase_add_test(tc, end_of_year);
	tcase_add_test(tc, end_of_fiscal_year);
	tcase_add_test(tc, retention_end_counting);
	tcase_add_test(tc, finnish_bookkeeping);
	tcase_add_test(tc, retention_end_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(calendar_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
