#pragma once
/* Civil dates and durations.
 *
 * A Date is the number of days since 1970-01-01 in the proleptic Gregorian calendar: a plain
 * integer, so comparing and subtracting dates is integer arithmetic and no time zone or time_t
 * is involved.  A Duration is one positive count and one unit (d, w, m, y); months and years
 * clamp the day to the target month's length (EU Regulation 1182/71 art. 3(2)(c)).
 * Pure: nothing here reads the clock, the disk or the network. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int32_t Date;

/* Inclusive bounds of the dates that are parsed and printed: years 1 to 9999, as ISO 8601
 * writes them.  Arithmetic reaches further (DATE_ARITHMETIC_*), so that a term running past
 * 9999-12-31 or a notice period reaching before 0001-01-01 is computed exactly and simply falls
 * outside every window, instead of being cut off at the bound and landing on a wrong date. */
#define DATE_MIN            ((Date) -719162)   /* 0001-01-01 */
#define DATE_MAX            ((Date) 2932896)   /* 9999-12-31 */
#define DATE_ARITHMETIC_MIN ((Date) -12687794) /* -32768-01-01 */
#define DATE_ARITHMETIC_MAX ((Date) 11248737)  /* 32767-12-31 */

/* The largest duration accepted: 10,000 years in any unit, so that any date of the range plus
 * or minus any duration stays within the arithmetic range. */
#define DURATION_MAX_DAYS   3652500
#define DURATION_MAX_WEEKS  521785
#define DURATION_MAX_MONTHS 120000
#define DURATION_MAX_YEARS  10000

#define DATE_STRING_MAX 13 /* "YYYY-MM-DD" or "out-of-range", and the NUL */

typedef enum DurationUnit {
        DURATION_DAYS = 'd',
        DURATION_WEEKS = 'w',
        DURATION_MONTHS = 'm',
        DURATION_YEARS = 'y',
} DurationUnit;

typedef struct Duration {
        int32_t count; /* >= 0; negative only as the result of duration_negate() */
        DurationUnit unit;
} Duration;

#define DURATION_STRING_MAX 16

/* Returns 0 and the date, or -EINVAL when the fields are not a real calendar date. */
int date_from_ymd(int year, int month, int day, Date *ret);
void date_to_ymd(Date d, int *ret_year, int *ret_month, int *ret_day);

/* Strictly "YYYY-MM-DD": four-digit year, two-digit month and day, a real calendar date.
 * Returns 0 or -EINVAL. */
int date_parse(const char *s, Date *ret);
/* Writes "YYYY-MM-DD" into buf; returns buf.  A date outside DATE_MIN..DATE_MAX (only arithmetic
 * makes one) is written as "out-of-range". */
char *date_format(Date d, char buf[static DATE_STRING_MAX]);

/* ISO weekday: 1 Monday … 7 Sunday. */
int date_weekday(Date d);
bool date_is_leap_year(int year);
int date_days_in_month(int year, int month);

/* "Nd", "Nw", "Nm", "Ny" with N a decimal count without sign or leading zeros (except "0"), at
 * most DURATION_MAX_* of its unit.  Zero is accepted only when allow_zero is set (reminder
 * offsets, decision_lead), and then only as "0d": the one name of the day itself.  Returns 0,
 * -EDOM for a zero that is not accepted ("0w", "0m", "0y" always; "0d" without allow_zero), or
 * -EINVAL when s is not a duration at all. */
int duration_parse(const char *s, bool allow_zero, Duration *ret);
char *duration_format(Duration d, char buf[static DURATION_STRING_MAX]);
Duration duration_negate(Duration d);
Duration duration_multiply(Duration d, int32_t factor);

/* d + duration, clamping the day for months and years; a negative count subtracts.
 * Results saturate at DATE_ARITHMETIC_MIN/MAX, which no date of the range plus a duration of at
 * most 10,000 years reaches. */
Date date_add(Date d, Duration duration);
Date date_subtract(Date d, Duration duration);
