/*
 * calendar.c - dates, durations and the counting rules of the policy language
 * (policy-language.md, "Meaning": Clock, Counting).
 *
 * Invariants:
 *  - Pure functions: no I/O, no clock, no global state, and no libc time
 *    function (they depend on the local timezone); the civil-date arithmetic is
 *    our own, after Howard Hinnant's days_from_civil / civil_from_days.
 *  - Every public function that returns a lethe_day with a status only ever
 *    returns days of years 0001..9999. All intermediate arithmetic is int64, so
 *    no input (int32 days, int64 unix seconds, durations up to 100000) can
 *    overflow; out-of-range results are LETHE_EDATA, never a wrap-around.
 *  - Parsers are strict: exactly the spellings of the contract, nothing around
 *    them (no whitespace, no lowercase 't'/'z', no signs on counts).
 *  - Outputs are written only on success.
 */
#include <stdint.h>
#include <string.h>
#include "lethe/calendar.h"
#include "lethe/error.h"

#define YEAR_MIN 1
#define YEAR_MAX 9999
#define DAY_MIN (-719162)   /* 0001-01-01 */
#define DAY_MAX 2932896     /* 9999-12-31 */
#define DURATION_MAX 100000
#define SECONDS_PER_DAY 86400
#define MINUTES_PER_DAY 1440
/* Error messages quote at most this much of an unterminated text. */
#define QUOTE_MAX 64

/* --- civil arithmetic (unrestricted range, int64 throughout) ------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date; any year. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;                                   /* [0, 399] */
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int leap64(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int dim64(int64_t y, int m)
{
	static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m < 1 || m > 12)
		return 0;
	return m == 2 && leap64(y) ? 29 : dim[m - 1];
}

static int in_range(int64_t d)
{
	return d >= DAY_MIN && d <= DAY_MAX;
}

static int out_of_range(int64_t d)
{
	return lethe_error_set(LETHE_EDATA,
			       "date out of range: %lld days from 1970-01-01 "
			       "is outside years 0001..9999", (long long)d);
}

/* --- days <-> civil dates ----------------------------------------------- */

int lethe_is_leap_year(int year)
{
	return leap64(year);
}

/* 0 for a month outside 1..12. */
int lethe_days_in_month(int year, int month)
{
	return dim64(year, month);
}

int lethe_day_from_ymd(lethe_day *out, int year, int month, int day)
{
	if (year < YEAR_MIN || year > YEAR_MAX || month < 1 || month > 12 ||
	    day < 1 || day > dim64(year, month))
		return lethe_error_set(LETHE_EDATA, "invalid date %04d-%02d-%02d",
				       year, month, day);
	*out = (lethe_day)days_from_civil(year, month, day);
	return 0;
}

void lethe_day_to_ymd(lethe_day d, int *year, int *month, int *day)
{
	int64_t y;

	civil_from_days(d, &y, month, day);
	*year = (int)y; /* |y| < 6 million for any int32 day */
}

static void put_digits(char *p, int v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* A day outside years 0001..9999 is written "0000-00-00": it never comes from
 * a successful call of this module, and the buffer must not overflow. */
void lethe_day_format(lethe_day d, char buf[11])
{
	int y = 0, m = 0, dd = 0;

	if (in_range(d))
		lethe_day_to_ymd(d, &y, &m, &dd);
	put_digits(buf, y, 4);
	buf[4] = '-';
	put_digits(buf + 5, m, 2);
	buf[7] = '-';
	put_digits(buf + 8, dd, 2);
	buf[10] = '\0';
}

/* --- parsing -------------------------------------------------------------- */

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Exactly n ASCII digits at s (n <= 9, so no overflow). */
static int digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* "YYYY-MM-DD" at s (10 bytes available): a valid date in range, or -1. */
static int scan_date(int64_t *out, const char *s)
{
	int y, m, d;

	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &m) ||
	    s[7] != '-' || digits(s + 8, 2, &d))
		return -1;
	if (y < YEAR_MIN || m < 1 || m > 12 || d < 1 || d > dim64(y, m))
		return -1;
	*out = days_from_civil(y, m, d);
	return 0;
}

int lethe_day_parse(lethe_day *out, const char *s)
{
	int64_t d;

	if (s == NULL || strlen(s) != 10 || scan_date(&d, s))
		return lethe_error_set(LETHE_EDATA,
				       "invalid date '%s': expected YYYY-MM-DD",
				       s ? s : "(null)");
	*out = (lethe_day)d;
	return 0;
}

/* The optional zone at s[0..n): "" (UTC), "Z", +HH:MM, -HH:MM, +HHMM, -HHMM.
 * *minutes is the offset east of UTC. 0 or -1. */
static int scan_zone(int *minutes, const char *s, size_t n)
{
	int h, m, sign;

	*minutes = 0;
	if (n == 0 || (n == 1 && s[0] == 'Z'))
		return 0;
	if (n != 5 && n != 6)
		return -1;
	if (s[0] != '+' && s[0] != '-')
		return -1;
	sign = s[0] == '-' ? -1 : 1;
	if (digits(s + 1, 2, &h))
		return -1;
	if (n == 6 ? s[3] != ':' || digits(s + 4, 2, &m) : digits(s + 3, 2, &m))
		return -1;
	if (h > 23 || m > 59)
		return -1;
	*minutes = sign * (h * 60 + m);
	return 0;
}

/* The time after the 'T' or space: HH:MM[:SS[.f+]], then the zone. Writes
 * the minute of the day (local) and the zone's offset. 0 or -1. */
static int scan_time(int *minute_of_day, int *zone, const char *s, size_t n)
{
	int h, m, sec;
	size_t i = 5;

	if (n < 5 || digits(s, 2, &h) || s[2] != ':' || digits(s + 3, 2, &m))
		return -1;
	if (h > 23 || m > 59)
		return -1;
	if (i < n && s[i] == ':') {
		/* seconds do not move the day: 60 is a leap second of the same
		 * minute, so they are validated and otherwise ignored */
		if (n - i < 3 || digits(s + i + 1, 2, &sec) || sec > 60)
			return -1;
		i += 3;
		if (i < n && s[i] == '.') {
			size_t f = ++i;

			while (i < n && is_digit(s[i]))
				i++;
			if (i == f)
				return -1;
		}
	}
	if (scan_zone(zone, s + i, n - i))
		return -1;
	*minute_of_day = h * 60 + m;
	return 0;
}

int lethe_day_from_text(lethe_day *out, const char *s, size_t len)
{
	int64_t d;
	int minute = 0, zone = 0;

	if (s == NULL || len < 10 || scan_date(&d, s))
		goto bad;
	if (len > 10) {
		if (s[10] == ' ' || s[10] == 'T') {
			if (scan_time(&minute, &zone, s + 11, len - 11))
				goto bad;
			/* the UTC day of the local moment; floor division */
			minute -= zone;
			if (minute < 0)
				d -= 1;
			else if (minute >= MINUTES_PER_DAY)
				d += 1;
		} else if (scan_zone(&zone, s + 10, len - 10)) {
			/* a date alone names a whole day: its zone is accepted
			 * and the day is kept as written (no time to move) */
			goto bad;
		}
	}
	if (!in_range(d))
		goto bad;
	*out = (lethe_day)d;
	return 0;
bad:
	return lethe_error_set(LETHE_EDATA, "invalid date '%.*s'",
			       (int)(len > QUOTE_MAX ? QUOTE_MAX : len),
			       s ? s : "");
}

int lethe_day_from_unix(lethe_day *out, int64_t seconds)
{
	/* C division truncates toward zero; floor it for negatives. Neither
	 * step can overflow for any int64. */
	int64_t d = seconds / SECONDS_PER_DAY;

	if (seconds % SECONDS_PER_DAY < 0)
		d -= 1;
	if (!in_range(d))
		return lethe_error_set(LETHE_EDATA,
				       "unix time %lld is outside years 0001..9999",
				       (long long)seconds);
	*out = (lethe_day)d;
	return 0;
}

static const struct {
	const char *name;
	lethe_unit unit;
} units[] = {
	{ "day", LETHE_UNIT_DAY },     { "days", LETHE_UNIT_DAY },
	{ "week", LETHE_UNIT_WEEK },   { "weeks", LETHE_UNIT_WEEK },
	{ "month", LETHE_UNIT_MONTH }, { "months", LETHE_UNIT_MONTH },
	{ "year", LETHE_UNIT_YEAR },   { "years", LETHE_UNIT_YEAR },
};

int lethe_duration_parse(lethe_duration *out, const char *s)
{
	const char *p = s;
	int32_t n = 0;

	if (s == NULL || !is_digit(*p))
		goto bad;
	for (; is_digit(*p); p++) {
		n = n * 10 + (*p - '0');
		if (n > DURATION_MAX) /* checked per digit: cannot overflow */
			goto bad;
	}
	if (*p != ' ')
		goto bad;
	while (*p == ' ')
		p++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].name) == 0) {
			out->n = n;
			out->unit = units[i].unit;
			return 0;
		}
	}
bad:
	return lethe_error_set(LETHE_EDATA,
			       "invalid duration '%s': expected N days, weeks, "
			       "months or years (N from 0 to %d)",
			       s ? s : "(null)", DURATION_MAX);
}

int lethe_counted_from_parse(lethe_counted_from *out, const char *s)
{
	static const struct {
		const char *name;
		lethe_counted_from cf;
	} names[] = {
		{ "end of month", LETHE_COUNT_END_OF_MONTH },
		{ "end of year", LETHE_COUNT_END_OF_YEAR },
		{ "end of fiscal year", LETHE_COUNT_END_OF_FISCAL_YEAR },
		{ "end of calendar year of fiscal year end",
		  LETHE_COUNT_END_OF_CALENDAR_YEAR_OF_FISCAL_YEAR_END },
	};

	for (size_t i = 0; s != NULL && i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i].name) == 0) {
			*out = names[i].cf;
			return 0;
		}
	}
	return lethe_error_set(LETHE_EDATA,
			       "invalid counted_from '%s': expected end of month, "
			       "end of year, end of fiscal year or end of calendar "
			       "year of fiscal year end",
			       s ? s : "(null)");
}

/* A fiscal year end must exist in every year: checked against a common year,
 * which refuses 02-29. */
static int fye_valid(lethe_fiscal_year_end fye)
{
	return fye.month >= 1 && fye.month <= 12 && fye.day >= 1 &&
	       fye.day <= dim64(2023, fye.month);
}

int lethe_fiscal_year_end_parse(lethe_fiscal_year_end *out, const char *s)
{
	lethe_fiscal_year_end fye;

	if (s == NULL || strlen(s) != 5 || digits(s, 2, &fye.month) ||
	    s[2] != '-' || digits(s + 3, 2, &fye.day) || !fye_valid(fye))
		return lethe_error_set(LETHE_EDATA,
				       "invalid fiscal year end '%s': expected MM-DD, "
				       "a day that exists every year",
				       s ? s : "(null)");
	*out = fye;
	return 0;
}

/* --- arithmetic ------------------------------------------------------------ */

int lethe_day_add(lethe_day *out, lethe_day d, lethe_duration dur)
{
	int64_t y, r;
	int m, dd;

	if (!in_range(d))
		return out_of_range(d);
	if (dur.n < 0 || dur.n > DURATION_MAX)
		return lethe_error_set(LETHE_EDATA, "invalid duration: %ld is not "
				       "in 0..%d", (long)dur.n, DURATION_MAX);
	switch (dur.unit) {
	case LETHE_UNIT_DAY:
		r = (int64_t)d + dur.n;
		break;
	case LETHE_UNIT_WEEK:
		r = (int64_t)d + (int64_t)dur.n * 7;
		break;
	case LETHE_UNIT_MONTH:
	case LETHE_UNIT_YEAR: {
		/* months since year 0, then back; the day of month is kept and
		 * clamped to the target month's last day */
		int64_t months;

		civil_from_days(d, &y, &m, &dd);
		months = y * 12 + (m - 1) +
			 (int64_t)dur.n * (dur.unit == LETHE_UNIT_YEAR ? 12 : 1);
		y = months / 12;
		m = (int)(months % 12) + 1;
		if (y > YEAR_MAX)
			return lethe_error_set(LETHE_EDATA,
					       "date out of range: year %lld is after 9999",
					       (long long)y);
		if (dd > dim64(y, m))
			dd = dim64(y, m);
		r = days_from_civil(y, m, dd);
		break;
	}
	default:
		return lethe_error_set(LETHE_EDATA, "invalid duration unit %d",
				       (int)dur.unit);
	}
	if (!in_range(r))
		return out_of_range(r);
	*out = (lethe_day)r;
	return 0;
}

/* The end_of_* functions compute in the unrestricted calendar: for a day late
 * in 9999 the result may lie in year 10000, which lethe_retention_end refuses.
 * They are exact for every int32 day of years 0001..9999. */
lethe_day lethe_day_end_of_month(lethe_day d)
{
	int64_t y;
	int m, dd;

	civil_from_days(d, &y, &m, &dd);
	return (lethe_day)days_from_civil(y, m, dim64(y, m));
}

lethe_day lethe_day_end_of_year(lethe_day d)
{
	int64_t y;
	int m, dd;

	civil_from_days(d, &y, &m, &dd);
	return (lethe_day)days_from_civil(y, 12, 31);
}

/* The first day >= d that is the fiscal year end. An invalid month leaves d
 * as it is (lethe_retention_end refuses it first); a day past the month's end
 * (02-29 built by hand) is clamped to the month's last day. */
lethe_day lethe_day_end_of_fiscal_year(lethe_day d, lethe_fiscal_year_end fye)
{
	int64_t y, e;
	int m, dd;

	if (fye.month < 1 || fye.month > 12 || fye.day < 1)
		return d;
	civil_from_days(d, &y, &m, &dd);
	for (;; y++) {
		int day = fye.day > dim64(y, fye.month) ? dim64(y, fye.month) : fye.day;

		e = days_from_civil(y, fye.month, day);
		if (e >= d)
			return (lethe_day)e;
	}
}

int lethe_retention_end(lethe_day *out, lethe_day clock, lethe_counted_from cf,
			lethe_fiscal_year_end fye, lethe_duration retain)
{
	lethe_day start;

	if (!in_range(clock))
		return out_of_range(clock);
	switch (cf) {
	case LETHE_COUNT_FROM_DAY:
		start = clock;
		break;
	case LETHE_COUNT_END_OF_MONTH:
		start = lethe_day_end_of_month(clock);
		break;
	case LETHE_COUNT_END_OF_YEAR:
		start = lethe_day_end_of_year(clock);
		break;
	case LETHE_COUNT_END_OF_FISCAL_YEAR:
	case LETHE_COUNT_END_OF_CALENDAR_YEAR_OF_FISCAL_YEAR_END:
		if (!fye_valid(fye))
			return lethe_error_set(LETHE_EDATA,
					       "invalid fiscal year end %02d-%02d",
					       fye.month, fye.day);
		start = lethe_day_end_of_fiscal_year(clock, fye);
		/* Kirjanpitolaki 2:10: vouchers count from the end of the calendar
		 * year in which the financial year ended. Still non-decreasing in
		 * the clock, so the cut-off's bisection holds. */
		if (cf == LETHE_COUNT_END_OF_CALENDAR_YEAR_OF_FISCAL_YEAR_END)
			start = lethe_day_end_of_year(start);
		break;
	default:
		return lethe_error_set(LETHE_EDATA, "invalid counted_from %d", (int)cf);
	}
	/* lethe_day_add refuses a start past 9999-12-31 */
	return lethe_day_add(out, start, retain);
}

/* The least day of [lo, hi) for which pred holds, or hi; pred must be false
 * then true over the range (a prefix of false). */
static lethe_day first_true(lethe_day lo, lethe_day hi,
			    int (*pred)(lethe_day d, const void *ctx), const void *ctx)
{
	while (lo < hi) {
		lethe_day mid = (lethe_day)(lo + (hi - lo) / 2);

		if (pred(mid, ctx))
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

typedef struct {
	lethe_day as_of;
	lethe_counted_from cf;
	lethe_fiscal_year_end fye;
	lethe_duration retain;
} cutoff_rule;

static int end_fails(lethe_day d, const void *ctx)
{
	const cutoff_rule *c = ctx;
	lethe_day end;

	return lethe_retention_end(&end, d, c->cf, c->fye, c->retain) < 0;
}

static int not_due(lethe_day d, const void *ctx)
{
	const cutoff_rule *c = ctx;
	lethe_day end;

	return lethe_retention_end(&end, d, c->cf, c->fye, c->retain) < 0 || !(c->as_of > end);
}

void lethe_retention_cutoff(lethe_cutoff *out, lethe_day as_of, lethe_counted_from cf,
			    lethe_fiscal_year_end fye, lethe_duration retain)
{
	cutoff_rule c = { as_of, cf, fye, retain };

	/* the failing days, a suffix, bound the search for the not-due ones */
	out->invalid_from = first_true(DAY_MIN, DAY_MAX + 1, end_fails, &c);
	out->due_before = first_true(DAY_MIN, out->invalid_from, not_due, &c);
}
