/*
 * lethe/calendar.h - dates, durations and the counting rules of the policy
 * language. Pure functions: no I/O, no clock, no global state.
 *
 * A day is an int32 count of days since 1970-01-01 (proleptic Gregorian, UTC);
 * negative before 1970. Supported range: years 0001..9999; anything outside is
 * an error, never a wrap-around.
 *
 * Counting (policy-language.md, "Counting"):
 *   start = day of `from` (UTC), moved to the last day of its month, calendar
 *           year or fiscal year, or to 31 December of the calendar year in
 *           which its fiscal year ends, when counted_from says so;
 *   end   = start + retain, adding months/years keeps the day of month and
 *           clamps to the month's last day (2024-01-31 + 1 month = 2024-02-29);
 *   due   when as_of > end; the first due day is end + 1.
 */
#ifndef LETHE_CALENDAR_H
#define LETHE_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

typedef int32_t lethe_day;

typedef enum {
	LETHE_UNIT_DAY,
	LETHE_UNIT_WEEK,
	LETHE_UNIT_MONTH,
	LETHE_UNIT_YEAR
} lethe_unit;

typedef struct {
	int32_t n;        /* 0 .. 100000 */
	lethe_unit unit;
} lethe_duration;

typedef enum {
	LETHE_COUNT_FROM_DAY = 0,     /* the day itself (no counted_from) */
	LETHE_COUNT_END_OF_MONTH,
	LETHE_COUNT_END_OF_YEAR,
	LETHE_COUNT_END_OF_FISCAL_YEAR,
	/* 31 December of the calendar year in which the day's fiscal year ends
	 * (Kirjanpitolaki 2:10: vouchers) */
	LETHE_COUNT_END_OF_CALENDAR_YEAR_OF_FISCAL_YEAR_END
} lethe_counted_from;

/* Fiscal year end as month and day, e.g. {12, 31} or {6, 30}. */
typedef struct {
	int month;
	int day;
} lethe_fiscal_year_end;

/* --- days <-> civil dates --------------------------------------------- */
int lethe_day_from_ymd(lethe_day *out, int year, int month, int day);
void lethe_day_to_ymd(lethe_day d, int *year, int *month, int *day);
int lethe_days_in_month(int year, int month);
int lethe_is_leap_year(int year);

/* Write "YYYY-MM-DD" and a NUL into buf (at least 11 bytes). */
void lethe_day_format(lethe_day d, char buf[11]);

/* --- parsing ------------------------------------------------------------ */

/* Strict YYYY-MM-DD (the --as-of spelling). 0 or LETHE_EDATA. */
int lethe_day_parse(lethe_day *out, const char *s);

/* A clock value given as text: every ISO-8601 spelling of the contract
 *   YYYY-MM-DD
 *   YYYY-MM-DD HH:MM[:SS[.fff...]]   and the same with 'T' for the space
 * each optionally followed by 'Z' or a +HH:MM / -HH:MM / +HHMM offset, which
 * is applied to get the UTC day. s need not be NUL-terminated. Leading or
 * trailing garbage, impossible dates or times are LETHE_EDATA. */
int lethe_day_from_text(lethe_day *out, const char *s, size_t len);

/* Integer unix seconds to its UTC day (floor for negatives). LETHE_EDATA when
 * out of the supported range. */
int lethe_day_from_unix(lethe_day *out, int64_t seconds);

/* "N day(s)|week(s)|month(s)|year(s)"; one or more spaces between; singular
 * and plural both accepted. 0 or LETHE_EDATA. */
int lethe_duration_parse(lethe_duration *out, const char *s);

/* "end of month" | "end of year" | "end of fiscal year" |
 * "end of calendar year of fiscal year end". 0 or LETHE_EDATA. */
int lethe_counted_from_parse(lethe_counted_from *out, const char *s);

/* "MM-DD" of a fiscal year end; 02-29 is refused (a year must end every year). */
int lethe_fiscal_year_end_parse(lethe_fiscal_year_end *out, const char *s);

/* --- arithmetic ---------------------------------------------------------- */

/* d + duration with month-end clamping. 0 or LETHE_EDATA when out of range. */
int lethe_day_add(lethe_day *out, lethe_day d, lethe_duration dur);

/* Move d to the last day of its month / year / fiscal year. */
lethe_day lethe_day_end_of_month(lethe_day d);
lethe_day lethe_day_end_of_year(lethe_day d);
lethe_day lethe_day_end_of_fiscal_year(lethe_day d, lethe_fiscal_year_end fye);

/* The last retained day (end) for a clock day; 0 or LETHE_EDATA (overflow). */
int lethe_retention_end(lethe_day *out, lethe_day clock, lethe_counted_from cf,
			lethe_fiscal_year_end fye, lethe_duration retain);

/* The cut-off days of a rule at as_of, from which a register decides every
 * row by comparing its clock's UTC day d (engines.md section 1):
 *   d >= invalid_from   the end falls past 9999-12-31: the clock is invalid
 *   d <  due_before     due (as_of > end(d))
 *   otherwise           not due; it becomes due on end(d) + 1
 * Both are days of DAY_MIN..DAY_MAX + 1 and due_before <= invalid_from. They
 * exist because counted_from and every clamped addition are non-decreasing
 * in d, so the due days are a prefix and the failing days a suffix; they are
 * found by bisection over lethe_retention_end itself, the one definition of
 * the arithmetic. */
typedef struct {
	lethe_day due_before;
	lethe_day invalid_from;
} lethe_cutoff;

void lethe_retention_cutoff(lethe_cutoff *out, lethe_day as_of, lethe_counted_from cf,
			    lethe_fiscal_year_end fye, lethe_duration retain);

#endif
