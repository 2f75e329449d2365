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

/* Inclusive bounds of the dates this module accepts: years 1 to 9999, as ISO 8601 writes them. */
#define DATE_MIN ((Date) -719162) /* 0001-01-01 */
#define DATE_MAX ((Date) 2932896) /* 9999-12-31 */

#define DATE_STRING_MAX 11 /* "YYYY-MM-DD" and its NUL */

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
/* Writes "YYYY-MM-DD" into buf; returns buf. */
char *date_format(Date d, char buf[static DATE_STRING_MAX]);

/* ISO weekday: 1 Monday … 7 Sunday. */
int date_weekday(Date d);
bool date_is_leap_year(int year);
int date_days_in_month(int year, int month);

/* "Nd", "Nw", "Nm", "Ny" with N a decimal count without sign or leading zeros (except "0").
 * Zero is accepted only when allow_zero is set (reminder offsets).  Returns 0 or -EINVAL. */
int duration_parse(const char *s, bool allow_zero, Duration *ret);
char *duration_format(Duration d, char buf[static DURATION_STRING_MAX]);
Duration duration_negate(Duration d);
Duration duration_multiply(Duration d, int32_t factor);

/* d + duration, clamping the day for months and years; a negative count subtracts.
 * Results outside DATE_MIN..DATE_MAX saturate at the bound. */
Date date_add(Date d, Duration duration);
Date date_subtract(Date d, Duration duration);
