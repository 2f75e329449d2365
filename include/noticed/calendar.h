#pragma once
/* Working days and holidays.
 *
 * A Calendar knows which dates are holidays: the built-in Dutch calendar ("nl": the general
 * holidays of the Algemene termijnenwet art. 3, Good Friday and the days decreed equal to them)
 * or none, plus the administrator's extra dates.  Working days are Monday to Friday minus
 * holidays.  Shifting moves a deadline that falls on a non-working day to the previous (safe) or
 * next working day.  Pure: nothing here reads the clock, the disk or the network. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "noticed/date.h"

typedef struct Calendar Calendar;

typedef enum CalendarKind {
        CALENDAR_NONE, /* weekends only */
        CALENDAR_NL,
} CalendarKind;

typedef enum Shift {
        SHIFT_EARLIER, /* to the previous working day: the default, never makes a deadline later */
        SHIFT_LATER,
        SHIFT_NONE,
} Shift;

/* Returns 0, -EINVAL for an unknown name, -ENOMEM. */
int calendar_kind_from_string(const char *s, CalendarKind *ret);
const char *calendar_kind_to_string(CalendarKind kind);
int shift_from_string(const char *s, Shift *ret);
const char *shift_to_string(Shift shift);

/* Copies the extra dates (any order, duplicates allowed).  Returns 0 or -ENOMEM. */
int calendar_new(CalendarKind kind, const Date *extra, size_t n_extra, Calendar **ret);
Calendar *calendar_free(Calendar *c);

/* Easter Sunday of the Gregorian computus for year 1583..9999. */
Date calendar_easter(int year);

/* A general holiday of the calendar or one of its extra dates (weekday or not). */
bool calendar_is_holiday(const Calendar *c, Date d);
bool calendar_is_working_day(const Calendar *c, Date d);
/* The nearest working day strictly before (after) d; DATE_ARITHMETIC_MIN (_MAX) when the
 * arithmetic range ends first. */
Date calendar_previous_working_day(const Calendar *c, Date d);
Date calendar_next_working_day(const Calendar *c, Date d);
/* d itself when it is a working day or shift is SHIFT_NONE; otherwise the nearest working day in
 * the shift's direction. */
Date calendar_shift(const Calendar *c, Date d, Shift shift);
/* An upper bound, in days, on any run of consecutive non-working days: how far a move to a
 * working day can reach. */
int32_t calendar_longest_break(const Calendar *c);
