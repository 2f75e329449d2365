/* Holidays and working days for deadlines.
 *
 * The Dutch calendar follows the Algemene termijnenwet (Atw) art. 3: lid 1 names the general
 * holidays, lid 2 treats Good Friday the same, lid 3 lets decrees make further days equal; those
 * decreed days are listed below and must be kept up to date as new decrees appear.  Holidays are
 * computed, not tabulated, so every year works; each lookup costs an Easter computation (a dozen
 * integer operations) and, with extra dates, a binary search. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "noticed/calendar.h"

struct Calendar {
        CalendarKind kind;
        Date *extra; /* sorted, unique */
        size_t n_extra;
};

/* Days made equal to general holidays by decree (Atw art. 3 lid 3), see case/facts.md. */
static const struct {
        int year, month, day;
} nl_decreed_days[] = {
        {2022, 5, 27}, {2023, 4, 28}, {2023, 5, 19}, {2024, 5, 10}, {2024, 12, 27}, {2025, 5, 30},
        {2026, 1, 2},  {2026, 5, 15}, {2027, 5, 7},  {2028, 4, 28}, {2028, 5, 26},
};

int calendar_kind_from_string(const char *s, CalendarKind *ret) {
        if (strcmp(s, "nl") == 0)
                *ret = CALENDAR_NL;
        else if (strcmp(s, "none") == 0)
                *ret = CALENDAR_NONE;
        else
                return -EINVAL;
        return 0;
}

const char *calendar_kind_to_string(CalendarKind kind) {
        return kind == CALENDAR_NL ? "nl" : "none";
}

int shift_from_string(const char *s, Shift *ret) {
        if (strcmp(s, "earlier") == 0)
                *ret = SHIFT_EARLIER;
        else if (strcmp(s, "later") == 0)
                *ret = SHIFT_LATER;
        else if (strcmp(s, "none") == 0)
                *ret = SHIFT_NONE;
        else
                return -EINVAL;
        return 0;
}

const char *shift_to_string(Shift shift) {
        return shift == SHIFT_EARLIER ? "earlier" : shift == SHIFT_LATER ? "later" : "none";
}

static int compare_dates(const void *a, const void *b) {
        Date x = *(const Date *) a, y = *(const Date *) b;
        return (x > y) - (x < y);
}

int calendar_new(CalendarKind kind, const Date *extra, size_t n_extra, Calendar **ret) {
        Calendar *c;
        size_t n = 0;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->kind = kind;
        if (n_extra > 0) {
                c->extra = malloc(n_extra * sizeof(Date));
                if (!c->extra) {
                        free(c);
                        return -ENOMEM;
                }
                memcpy(c->extra, extra, n_extra * sizeof(Date));
                qsort(c->extra, n_extra, sizeof(Date), compare_dates);
                for (size_t i = 0; i < n_extra; i++)
                        if (n == 0 || c->extra[n - 1] != c->extra[i])
                                c->extra[n++] = c->extra[i];
        }
        c->n_extra = n;
        *ret = c;
        return 0;
}

Calendar *calendar_free(Calendar *c) {
        if (c) {
                free(c->extra);
                free(c);
        }
        return NULL;
}

Date calendar_easter(int year) {
        /* The anonymous Gregorian algorithm (Meeus, Astronomical Algorithms, ch. 8). */
        int a = year % 19, b = year / 100, c = year % 100, d = b / 4, e = b % 4;
        int f = (b + 8) / 25, g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30;
        int i = c / 4, k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7;
        int m = (a + 11 * h + 22 * l) / 451;
        int month = (h + l - 7 * m + 114) / 31, day = (h + l - 7 * m + 114) % 31 + 1;
        Date r = 0;

        (void) date_from_ymd(year, month, day, &r);
        return r;
}

static Date ymd(int y, int m, int d) {
        Date r = 0;

        (void) date_from_ymd(y, m, d, &r);
        return r;
}

/* King's Day from 2014: 27 April, the 26th when the 27th is a Sunday.  Queen's Day 1949-2013:
 * 30 April; when that was a Sunday it was kept on Monday 1 May until 1979 (1950, 1961, 1967,
 * 1972, 1978) and on Saturday 29 April from 1980 (1989, 1995, 2000, 2006).  Returns -1 for years
 * without either. */
static Date nl_royal_birthday(int year) {
        Date d;

        if (year >= 2014) {
                d = ymd(year, 4, 27);
                return date_weekday(d) == 7 ? d - 1 : d;
        }
        if (year >= 1949) {
                d = ymd(year, 4, 30);
                if (date_weekday(d) != 7)
                        return d;
                return year < 1980 ? d + 1 : d - 1;
        }
        return -1;
}

static bool nl_is_decreed_day(int year, int month, int day) {
        for (size_t i = 0; i < sizeof(nl_decreed_days) / sizeof(nl_decreed_days[0]); i++)
                if (nl_decreed_days[i].year == year && nl_decreed_days[i].month == month &&
                    nl_decreed_days[i].day == day)
                        return true;
        return false;
}

static bool nl_is_holiday(Date d) {
        int y, m, day;
        Date easter;

        date_to_ymd(d, &y, &m, &day);
        if ((m == 1 && day == 1) || (m == 5 && day == 5) || (m == 12 && (day == 25 || day == 26)))
                return true;
        if (y >= 1583) {
                easter = calendar_easter(y);
                if (d == easter - 2 || d == easter + 1 || d == easter + 39 || d == easter + 50)
                        return true;
        }
        if ((m == 4 || m == 5) && d == nl_royal_birthday(y))
                return true;
        return nl_is_decreed_day(y, m, day);
}

bool calendar_is_holiday(const Calendar *c, Date d) {
        if (c->n_extra > 0 && bsearch(&d, c->extra, c->n_extra, sizeof(Date), compare_dates))
                return true;
        return c->kind == CALENDAR_NL && nl_is_holiday(d);
}

bool calendar_is_working_day(const Calendar *c, Date d) {
        return date_weekday(d) <= 5 && !calendar_is_holiday(c, d);
}

/* A run of non-working days is at most a long weekend of holidays plus the extra dates, so these
 * walks end after a few steps; at the ends of the arithmetic range they stop at the bound. */
Date calendar_previous_working_day(const Calendar *c, Date d) {
        while (d > DATE_ARITHMETIC_MIN) {
                d--;
                if (calendar_is_working_day(c, d))
                        return d;
        }
        return DATE_ARITHMETIC_MIN;
}

Date calendar_next_working_day(const Calendar *c, Date d) {
        while (d < DATE_ARITHMETIC_MAX) {
                d++;
                if (calendar_is_working_day(c, d))
                        return d;
        }
        return DATE_ARITHMETIC_MAX;
}

int32_t calendar_longest_break(const Calendar *c) {
        /* Without extra dates the longest run in the nl calendar is five days (Christmas on a
         * Wednesday, the decreed 2024-12-27, the weekend); seven leaves room for future decrees.
         * Each extra date can lengthen a run by one day at most. */
        return 7 + (int32_t) c->n_extra;
}

Date calendar_shift(const Calendar *c, Date d, Shift shift) {
        if (shift == SHIFT_NONE || calendar_is_working_day(c, d))
                return d;
        return shift == SHIFT_EARLIER ? calendar_previous_working_day(c, d)
                                      : calendar_next_working_day(c, d);
}
