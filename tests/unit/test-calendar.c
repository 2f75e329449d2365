/* Unit tests for the calendar module: Dutch general holidays, working days and deadline shifts.
 *
 * Written from the contract (DESIGN.md "Dates and durations", case/facts.md "Dates in Dutch
 * law", calendar.h), not from daemon/calendar.c.  The holiday table for 2017-2026 is copied from
 * facts.md; 2027-2030 were derived by hand from Easter Sunday (Easter - 2, + 1, + 39, + 50) and
 * the King's Day rule, Easter dates taken from the Astronomical Society of South Australia's
 * Easter Date table (https://www.assa.org.au/edm) — 2027-03-28, 2028-04-16, 2029-04-01,
 * 2030-04-21 — and cross-checked with python-dateutil's easter(EASTER_WESTERN). */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noticed/calendar.h"
#include "noticed/date.h"

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

static Date D(int year, int month, int day) {
        Date d = 0;

        assert_int_equal(date_from_ymd(year, month, day, &d), 0);
        return d;
}

static Date P(const char *s) {
        Date d = 0;
        int r;

        r = date_parse(s, &d);
        if (r != 0)
                print_error("date_parse(\"%s\") returned %d\n", s, r);
        assert_int_equal(r, 0);
        return d;
}

static const char *fmt(Date d, char buf[static DATE_STRING_MAX]) {
        if (d < DATE_MIN || d > DATE_MAX) {
                (void) snprintf(buf, DATE_STRING_MAX, "(%" PRId32 ")", d);
                return buf;
        }
        return date_format(d, buf);
}

#define assert_date_equal(actual, expected)                                                        \
        assert_date_equal_at((actual), (expected), __FILE__, __LINE__)

static void assert_date_equal_at(Date actual, Date expected, const char *file, int line) {
        char a[DATE_STRING_MAX], e[DATE_STRING_MAX];

        if (actual == expected)
                return;
        print_error("expected %s, got %s\n", fmt(expected, e), fmt(actual, a));
        _fail(file, line);
}

static Calendar *new_calendar(CalendarKind kind, const Date *extra, size_t n_extra) {
        Calendar *c = NULL;

        assert_int_equal(calendar_new(kind, extra, n_extra, &c), 0);
        assert_non_null(c);
        return c;
}

/* ---- the nl holiday table ---- */

/* The moving feasts and King's Day per year, columns as in facts.md.  New Year's Day, 5 May and
 * both Christmas days are added in code. */
static const struct {
        int year;
        const char *good_friday, *easter_monday, *kings_day, *ascension, *whit_monday;
} nl_years[] = {
        /* From case/facts.md. */
        {2017, "04-14", "04-17", "04-27", "05-25", "06-05"},
        {2018, "03-30", "04-02", "04-27", "05-10", "05-21"},
        {2019, "04-19", "04-22", "04-27", "05-30", "06-10"},
        {2020, "04-10", "04-13", "04-27", "05-21", "06-01"},
        {2021, "04-02", "04-05", "04-27", "05-13", "05-24"},
        {2022, "04-15", "04-18", "04-27", "05-26", "06-06"},
        {2023, "04-07", "04-10", "04-27", "05-18", "05-29"},
        {2024, "03-29", "04-01", "04-27", "05-09", "05-20"},
        {2025, "04-18", "04-21", "04-26", "05-29", "06-09"},
        {2026, "04-03", "04-06", "04-27", "05-14", "05-25"},
        /* Computed by hand (see the top of this file).  2027-04-27 is a Tuesday, 2028-04-27 a
         * Thursday, 2029-04-27 a Friday, 2030-04-27 a Saturday: none moves. */
        {2027, "03-26", "03-29", "04-27", "05-06", "05-17"}, /* Easter 03-28 */
        {2028, "04-14", "04-17", "04-27", "05-25", "06-05"}, /* Easter 04-16 */
        {2029, "03-30", "04-02", "04-27", "05-10", "05-21"}, /* Easter 04-01 */
        {2030, "04-19", "04-22", "04-27", "05-30", "06-10"}, /* Easter 04-21 */
};

static const char *const fixed_holidays[] = {"01-01", "05-05", "12-25", "12-26"};

/* Atw art. 3 lid 3: days decreed equal to general holidays (facts.md). */
static const char *const decreed_days[] = {
        "2022-05-27", "2023-04-28", "2023-05-19", "2024-05-10", "2024-12-27", "2025-05-30",
        "2026-01-02", "2026-05-15", "2027-05-07", "2028-04-28", "2028-05-26",
};

static Date year_date(int year, const char *month_day) {
        char buf[32];

        (void) snprintf(buf, sizeof buf, "%04d-%s", year, month_day);
        return P(buf);
}

/* Calls f(date, name, userdata) for every expected nl holiday of 2017..2030. */
static void for_each_expected_holiday(void (*f)(Date, const char *, void *), void *userdata) {
        for (size_t i = 0; i < ELEMENTSOF(nl_years); i++) {
                int y = nl_years[i].year;

                for (size_t j = 0; j < ELEMENTSOF(fixed_holidays); j++)
                        f(year_date(y, fixed_holidays[j]), "fixed holiday", userdata);
                f(year_date(y, nl_years[i].good_friday), "Good Friday", userdata);
                f(year_date(y, nl_years[i].easter_monday), "Easter Monday", userdata);
                f(year_date(y, nl_years[i].kings_day), "King's Day", userdata);
                f(year_date(y, nl_years[i].ascension), "Ascension Day", userdata);
                f(year_date(y, nl_years[i].whit_monday), "Whit Monday", userdata);
        }
        for (size_t i = 0; i < ELEMENTSOF(decreed_days); i++)
                f(P(decreed_days[i]), "decreed day", userdata);
}

typedef struct HolidayCheck {
        Calendar *calendar;
        unsigned failures;
        unsigned count;
        bool *expected; /* indexed by date - first */
        Date first;
} HolidayCheck;

static void check_one_holiday(Date d, const char *name, void *userdata) {
        HolidayCheck *check = userdata;
        char buf[DATE_STRING_MAX];

        check->count++;
        if (calendar_is_holiday(check->calendar, d) && !calendar_is_working_day(check->calendar, d))
                return;
        print_error("%s (%s): is_holiday=%d is_working_day=%d, expected 1 and 0\n",
                    date_format(d, buf), name, calendar_is_holiday(check->calendar, d),
                    calendar_is_working_day(check->calendar, d));
        check->failures++;
}

static void test_calendar_is_holiday_nl_2017_to_2030(void **state) {
        HolidayCheck check = {0};

        (void) state;
        check.calendar = new_calendar(CALENDAR_NL, NULL, 0);
        for_each_expected_holiday(check_one_holiday, &check);
        assert_int_equal(check.count, 14 * 9 + 11);
        calendar_free(check.calendar);
        assert_int_equal(check.failures, 0);
}

static void test_calendar_is_holiday_nl_decreed_days(void **state) {
        Calendar *c;

        (void) state;
        c = new_calendar(CALENDAR_NL, NULL, 0);
        for (size_t i = 0; i < ELEMENTSOF(decreed_days); i++) {
                Date d = P(decreed_days[i]);

                if (!calendar_is_holiday(c, d) || calendar_is_working_day(c, d)) {
                        print_error("decreed day %s is not a holiday\n", decreed_days[i]);
                        fail();
                }
                /* Every known decreed day is a Friday bridging a holiday to the weekend. */
                assert_int_equal(date_weekday(d), 5);
        }
        calendar_free(c);
}

static void mark_expected(Date d, const char *name, void *userdata) {
        HolidayCheck *check = userdata;

        (void) name;
        check->expected[d - check->first] = true;
}

/* Nothing but the listed days is a holiday in 2017..2030, and the working days are exactly the
 * weekdays that are not. */
static void test_calendar_is_holiday_nl_nothing_else_2017_to_2030(void **state) {
        HolidayCheck check = {0};
        Date last;
        unsigned holidays = 0;

        (void) state;
        check.calendar = new_calendar(CALENDAR_NL, NULL, 0);
        check.first = D(2017, 1, 1);
        last = D(2030, 12, 31);
        check.expected = calloc((size_t) (last - check.first + 1), sizeof(bool));
        assert_non_null(check.expected);
        for_each_expected_holiday(mark_expected, &check);

        for (Date d = check.first; d <= last; d++) {
                bool expected_holiday = check.expected[d - check.first];
                bool expected_working = date_weekday(d) <= 5 && !expected_holiday;
                bool holiday = calendar_is_holiday(check.calendar, d);
                bool working = calendar_is_working_day(check.calendar, d);
                char buf[DATE_STRING_MAX];

                holidays += holiday;
                if (holiday == expected_holiday && working == expected_working)
                        continue;
                print_error("%s (weekday %d): is_holiday=%d is_working_day=%d, expected %d %d\n",
                            date_format(d, buf), date_weekday(d), holiday, working,
                            expected_holiday, expected_working);
                check.failures++;
        }
        /* 9 a year, 11 decreed, no two of them on the same date. */
        assert_int_equal(holidays, 14 * 9 + 11);
        free(check.expected);
        calendar_free(check.calendar);
        assert_int_equal(check.failures, 0);
}

static void test_calendar_is_holiday_kings_day_moves_from_sunday(void **state) {
        Calendar *c;

        (void) state;
        c = new_calendar(CALENDAR_NL, NULL, 0);
        /* 2025-04-27 is a Sunday: King's Day is Saturday 04-26. */
        assert_true(calendar_is_holiday(c, D(2025, 4, 26)));
        assert_false(calendar_is_holiday(c, D(2025, 4, 27)));
        assert_false(calendar_is_working_day(c, D(2025, 4, 27)));
        assert_true(calendar_is_working_day(c, D(2025, 4, 28)));
        /* The first King's Day, 2014, was also on the 26th; 2031 will be again. */
        assert_true(calendar_is_holiday(c, D(2014, 4, 26)));
        assert_false(calendar_is_holiday(c, D(2014, 4, 27)));
        assert_true(calendar_is_holiday(c, D(2031, 4, 26)));
        assert_false(calendar_is_holiday(c, D(2031, 4, 27)));
        /* A Saturday 27th stays put (2030). */
        assert_true(calendar_is_holiday(c, D(2030, 4, 27)));
        assert_false(calendar_is_holiday(c, D(2030, 4, 26)));
        calendar_free(c);
}

static void test_calendar_is_holiday_queens_day_before_2014(void **state) {
        Calendar *c;

        (void) state;
        c = new_calendar(CALENDAR_NL, NULL, 0);
        /* 2013: Queen's Day Tuesday 30 April, not the 27th. */
        assert_true(calendar_is_holiday(c, D(2013, 4, 30)));
        assert_false(calendar_is_working_day(c, D(2013, 4, 30)));
        assert_false(calendar_is_holiday(c, D(2013, 4, 27)));
        assert_false(calendar_is_holiday(c, D(2013, 4, 29)));
        assert_true(calendar_is_working_day(c, D(2013, 4, 29)));
        /* 2006-04-30 was a Sunday: celebrated Saturday 29 April. */
        assert_true(calendar_is_holiday(c, D(2006, 4, 29)));
        assert_false(calendar_is_holiday(c, D(2006, 4, 30)));
        assert_false(calendar_is_holiday(c, D(2006, 4, 27)));
        /* 2000-04-30 also a Sunday. */
        assert_true(calendar_is_holiday(c, D(2000, 4, 29)));
        assert_false(calendar_is_holiday(c, D(2000, 4, 30)));
        /* Monday 1990-04-30, and the first, 1949. */
        assert_true(calendar_is_holiday(c, D(1990, 4, 30)));
        assert_false(calendar_is_working_day(c, D(1990, 4, 30)));
        assert_true(calendar_is_holiday(c, D(1949, 4, 30)));
        /* From 2014 the 30th is an ordinary day. */
        assert_false(calendar_is_holiday(c, D(2014, 4, 30)));
        assert_true(calendar_is_working_day(c, D(2014, 4, 30)));
        assert_false(calendar_is_holiday(c, D(2020, 4, 30)));
        calendar_free(c);
}

/* Every year the royal birthday moved off a Sunday (case/facts.md), from the first Queen's Day
 * to the first King's Days: Monday 1 May until 1979, Saturday 29 April from 1980, Saturday
 * 26 April from 2014. */
static const struct {
        int year;
        const char *celebrated, *sunday;
} nl_moved_royal_days[] = {
        {1950, "05-01", "04-30"}, {1961, "05-01", "04-30"}, {1967, "05-01", "04-30"},
        {1972, "05-01", "04-30"}, {1978, "05-01", "04-30"}, {1989, "04-29", "04-30"},
        {1995, "04-29", "04-30"}, {2000, "04-29", "04-30"}, {2006, "04-29", "04-30"},
        {2014, "04-26", "04-27"}, {2025, "04-26", "04-27"}, {2031, "04-26", "04-27"},
        {2036, "04-26", "04-27"},
};

static void test_calendar_is_holiday_royal_day_moved_from_sunday(void **state) {
        unsigned failures = 0;
        Calendar *c;

        (void) state;
        c = new_calendar(CALENDAR_NL, NULL, 0);
        for (size_t i = 0; i < ELEMENTSOF(nl_moved_royal_days); i++) {
                int y = nl_moved_royal_days[i].year;
                Date moved = year_date(y, nl_moved_royal_days[i].celebrated);
                Date sunday = year_date(y, nl_moved_royal_days[i].sunday);
                char buf[DATE_STRING_MAX];

                assert_int_equal(date_weekday(sunday), 7);
                if (!calendar_is_holiday(c, moved)) {
                        print_error("%s: the royal birthday kept that year is no holiday\n",
                                    date_format(moved, buf));
                        failures++;
                }
                if (calendar_is_holiday(c, sunday)) {
                        print_error("%s: the Sunday itself is a holiday\n",
                                    date_format(sunday, buf));
                        failures++;
                }
                /* Only the one day between 25 April and 2 May, the 5th excepted. */
                for (Date d = year_date(y, "04-25"); d <= year_date(y, "05-02"); d++)
                        if (d != moved && calendar_is_holiday(c, d)) {
                                print_error("%s is a holiday too\n", date_format(d, buf));
                                failures++;
                        }
        }
        assert_int_equal(failures, 0);
        calendar_free(c);
}

static void test_calendar_is_working_day_queens_day_monday_before_1980(void **state) {
        Calendar *c;

        (void) state;
        c = new_calendar(CALENDAR_NL, NULL, 0);
        /* Monday 1 May 1978 was no working day; Saturday 29 April 1978 was no holiday. */
        assert_false(calendar_is_working_day(c, D(1978, 5, 1)));
        assert_false(calendar_is_holiday(c, D(1978, 4, 29)));
        assert_date_equal(calendar_shift(c, D(1978, 5, 1), SHIFT_EARLIER), D(1978, 4, 28));
        assert_date_equal(calendar_shift(c, D(1978, 4, 30), SHIFT_LATER), D(1978, 5, 2));
        /* 1 May of a year whose 30 April was no Sunday is a working day (1979: a Tuesday). */
        assert_true(calendar_is_working_day(c, D(1979, 5, 1)));
        assert_true(calendar_is_holiday(c, D(1979, 4, 30)));
        /* From 1980 a Sunday 30 April moves back to the Saturday: Monday 1 May 1989 works. */
        assert_true(calendar_is_working_day(c, D(1989, 5, 1)));
        assert_true(calendar_is_holiday(c, D(1989, 4, 29)));
        /* Before 1949 there was no Queen's Day on 30 April. */
        assert_false(calendar_is_holiday(c, D(1948, 4, 30)));
        assert_false(calendar_is_holiday(c, D(1944, 5, 1)));
        calendar_free(c);
}

static void test_calendar_is_working_day_days_next_to_holidays(void **state) {
        Calendar *c;

        (void) state;
        c = new_calendar(CALENDAR_NL, NULL, 0);
        /* Easter Sunday and Whit Sunday are not in Atw art. 3, but they are Sundays. */
        assert_false(calendar_is_holiday(c, D(2020, 4, 12)));
        assert_false(calendar_is_working_day(c, D(2020, 4, 12)));
        assert_false(calendar_is_holiday(c, D(2020, 5, 31)));
        assert_false(calendar_is_working_day(c, D(2020, 5, 31)));
        /* Holy Saturday: a Saturday, no holiday. */
        assert_false(calendar_is_holiday(c, D(2020, 4, 11)));
        assert_false(calendar_is_working_day(c, D(2020, 4, 11)));
        /* Maundy Thursday and the Tuesday after Easter are working days. */
        assert_true(calendar_is_working_day(c, D(2020, 4, 9)));
        assert_false(calendar_is_holiday(c, D(2020, 4, 9)));
        assert_true(calendar_is_working_day(c, D(2020, 4, 14)));
        /* 4 May (Remembrance), Christmas Eve and New Year's Eve are working days. */
        assert_true(calendar_is_working_day(c, D(2020, 5, 4)));
        assert_true(calendar_is_working_day(c, D(2020, 12, 24)));
        assert_true(calendar_is_working_day(c, D(2020, 12, 31)));
        /* A Friday after Ascension without a decree is a working day. */
        assert_true(calendar_is_working_day(c, D(2020, 5, 22)));
        assert_true(calendar_is_working_day(c, D(2021, 5, 14)));
        /* The day after King's Day and the day after Whit Monday. */
        assert_true(calendar_is_working_day(c, D(2020, 4, 28)));
        assert_true(calendar_is_working_day(c, D(2020, 6, 2)));
        /* No substitute holidays: Christmas 2021 on a weekend leaves Monday 12-27 working. */
        assert_true(calendar_is_holiday(c, D(2021, 12, 25)));
        assert_true(calendar_is_working_day(c, D(2021, 12, 27)));
        /* Holidays on a weekend are still holidays (5 May 2018 was a Saturday). */
        assert_true(calendar_is_holiday(c, D(2018, 5, 5)));
        assert_true(calendar_is_working_day(c, D(2018, 5, 4)));
        assert_true(calendar_is_working_day(c, D(2018, 5, 7)));
        /* The founding case's dates are working days. */
        assert_true(calendar_is_working_day(c, D(2017, 11, 30)));
        assert_true(calendar_is_working_day(c, D(2020, 6, 30)));
        assert_true(calendar_is_working_day(c, D(2017, 12, 4)));
        calendar_free(c);
}

/* Over the whole date range: no crash, and the two predicates never contradict the weekday. */
static void test_calendar_is_working_day_consistent_over_whole_range(void **state) {
        Calendar *c;

        (void) state;
        c = new_calendar(CALENDAR_NL, NULL, 0);
        for (Date d = DATE_MIN;; d++) {
                bool holiday = calendar_is_holiday(c, d);
                bool working = calendar_is_working_day(c, d);

                if (working && (holiday || date_weekday(d) > 5)) {
                        char buf[DATE_STRING_MAX];

                        print_error("%s: working day but holiday=%d weekday=%d\n",
                                    date_format(d, buf), holiday, date_weekday(d));
                        fail();
                }
                if (!working && !holiday && date_weekday(d) <= 5) {
                        char buf[DATE_STRING_MAX];

                        print_error("%s: weekday, no holiday, yet not a working day\n",
                                    date_format(d, buf));
                        fail();
                }
                if (d == DATE_MAX)
                        break;
        }
        calendar_free(c);
}

/* ---- calendar "none" ---- */

static void test_calendar_is_working_day_none_is_weekends_only(void **state) {
        Calendar *c;
        unsigned failures = 0;

        (void) state;
        c = new_calendar(CALENDAR_NONE, NULL, 0);
        for (Date d = D(2017, 1, 1); d <= D(2030, 12, 31); d++) {
                bool working = calendar_is_working_day(c, d);
                bool holiday = calendar_is_holiday(c, d);
                char buf[DATE_STRING_MAX];

                if (!holiday && working == (date_weekday(d) <= 5))
                        continue;
                print_error("none: %s holiday=%d working=%d\n", date_format(d, buf), holiday,
                            working);
                failures++;
        }
        assert_true(calendar_is_working_day(c, D(2020, 12, 25)));
        assert_true(calendar_is_working_day(c, D(2020, 4, 10)));
        assert_true(calendar_is_working_day(c, D(2020, 4, 13)));
        assert_true(calendar_is_working_day(c, D(2026, 1, 2)));
        assert_false(calendar_is_working_day(c, D(2020, 6, 27)));
        assert_false(calendar_is_working_day(c, D(2020, 6, 28)));
        calendar_free(c);
        assert_int_equal(failures, 0);
}

/* ---- extra dates ---- */

static void test_calendar_new_extra_dates_unsorted_with_duplicates(void **state) {
        Date extra[] = {D(2020, 6, 30), D(2020, 1, 2), D(2020, 6, 30), D(2020, 12, 24),
                        D(2020, 1, 2),  D(2019, 3, 1), D(2020, 6, 27)};
        Calendar *c;

        (void) state;
        c = new_calendar(CALENDAR_NL, extra, ELEMENTSOF(extra));
        /* The calendar keeps its own copy: overwrite ours with an ordinary Tuesday. */
        for (size_t i = 0; i < ELEMENTSOF(extra); i++)
                extra[i] = D(2020, 3, 3);

        assert_true(calendar_is_holiday(c, D(2020, 6, 30)));
        assert_false(calendar_is_working_day(c, D(2020, 6, 30)));
        assert_true(calendar_is_holiday(c, D(2020, 1, 2)));
        assert_false(calendar_is_working_day(c, D(2020, 1, 2)));
        assert_true(calendar_is_holiday(c, D(2020, 12, 24)));
        assert_true(calendar_is_holiday(c, D(2019, 3, 1)));
        assert_false(calendar_is_working_day(c, D(2019, 3, 1)));
        /* An extra date on a Saturday is a holiday all the same. */
        assert_true(calendar_is_holiday(c, D(2020, 6, 27)));
        /* Their neighbours are untouched, and so are the built-in holidays. */
        assert_true(calendar_is_working_day(c, D(2020, 6, 29)));
        assert_true(calendar_is_working_day(c, D(2020, 7, 1)));
        assert_true(calendar_is_working_day(c, D(2020, 1, 3)));
        assert_true(calendar_is_working_day(c, D(2020, 12, 23)));
        assert_true(calendar_is_holiday(c, D(2020, 12, 25)));
        assert_true(calendar_is_holiday(c, D(2020, 1, 1)));
        /* The array was overwritten after calendar_new(): that must not have leaked in. */
        assert_false(calendar_is_holiday(c, D(2020, 3, 3)));
        assert_true(calendar_is_working_day(c, D(2020, 3, 3)));
        calendar_free(c);
}

static void test_calendar_new_extra_dates_with_calendar_none(void **state) {
        const Date extra[] = {D(2020, 12, 25), D(2020, 12, 24)};
        Calendar *c;

        (void) state;
        c = new_calendar(CALENDAR_NONE, extra, ELEMENTSOF(extra));
        assert_true(calendar_is_holiday(c, D(2020, 12, 24)));
        assert_true(calendar_is_holiday(c, D(2020, 12, 25)));
        assert_false(calendar_is_working_day(c, D(2020, 12, 25)));
        assert_false(calendar_is_holiday(c, D(2020, 12, 26)));
        assert_false(calendar_is_holiday(c, D(2021, 1, 1)));
        assert_true(calendar_is_working_day(c, D(2021, 1, 1)));
        assert_date_equal(calendar_shift(c, D(2020, 12, 25), SHIFT_EARLIER), D(2020, 12, 23));
        assert_date_equal(calendar_shift(c, D(2020, 12, 24), SHIFT_LATER), D(2020, 12, 28));
        calendar_free(c);
}

/* Many extra dates in scrambled order, each present twice: exactly those are holidays. */
static void test_calendar_new_many_extra_dates(void **state) {
        enum { N = 400 };
        Date first, extra[2 * N];
        Calendar *c;
        unsigned failures = 0;

        (void) state;
        first = D(2021, 1, 1);
        for (size_t i = 0; i < N; i++) {
                /* 7 and 400 are coprime: i*7 % 400 visits every index once, out of order. */
                size_t k = (i * 7) % N;

                extra[i] = first + (Date) (3 * k);
                extra[2 * N - 1 - i] = first + (Date) (3 * k);
        }
        c = new_calendar(CALENDAR_NONE, extra, ELEMENTSOF(extra));
        for (Date d = first - 10; d < first + 3 * N + 10; d++) {
                bool expected = d >= first && d < first + 3 * N && (d - first) % 3 == 0;
                char buf[DATE_STRING_MAX];

                if (calendar_is_holiday(c, d) == expected)
                        continue;
                print_error("%s: is_holiday=%d expected %d\n", date_format(d, buf),
                            calendar_is_holiday(c, d), expected);
                failures++;
        }
        calendar_free(c);
        assert_int_equal(failures, 0);
}

static void test_calendar_new_without_extra_dates(void **state) {
        Calendar *c = NULL;

        (void) state;
        assert_int_equal(calendar_new(CALENDAR_NL, NULL, 0, &c), 0);
        assert_non_null(c);
        assert_true(calendar_is_working_day(c, D(2020, 6, 30)));
        assert_null(calendar_free(c));
        assert_null(calendar_free(NULL));
}

/* ---- shifting ---- */

typedef struct ShiftCase {
        const char *date;
        Shift shift;
        const char *expected;
} ShiftCase;

static const ShiftCase nl_shift_cases[] = {
        /* An ordinary weekend. */
        {"2020-06-27", SHIFT_EARLIER, "2020-06-26"},
        {"2020-06-27", SHIFT_LATER, "2020-06-29"},
        {"2020-06-27", SHIFT_NONE, "2020-06-27"},
        {"2020-06-28", SHIFT_EARLIER, "2020-06-26"},
        {"2020-06-28", SHIFT_LATER, "2020-06-29"},
        {"2020-06-28", SHIFT_NONE, "2020-06-28"},
        {"2017-12-02", SHIFT_EARLIER, "2017-12-01"},
        /* A working day never moves. */
        {"2020-06-30", SHIFT_EARLIER, "2020-06-30"},
        {"2020-06-30", SHIFT_LATER, "2020-06-30"},
        {"2020-06-30", SHIFT_NONE, "2020-06-30"},
        {"2017-11-30", SHIFT_EARLIER, "2017-11-30"},
        {"2020-06-26", SHIFT_LATER, "2020-06-26"},
        {"2020-06-29", SHIFT_EARLIER, "2020-06-29"},
        /* Easter 2020: Good Friday, Saturday, Easter Sunday, Easter Monday. */
        {"2020-04-10", SHIFT_EARLIER, "2020-04-09"},
        {"2020-04-11", SHIFT_EARLIER, "2020-04-09"},
        {"2020-04-12", SHIFT_EARLIER, "2020-04-09"},
        {"2020-04-13", SHIFT_EARLIER, "2020-04-09"},
        {"2020-04-10", SHIFT_LATER, "2020-04-14"},
        {"2020-04-11", SHIFT_LATER, "2020-04-14"},
        {"2020-04-12", SHIFT_LATER, "2020-04-14"},
        {"2020-04-13", SHIFT_LATER, "2020-04-14"},
        {"2020-04-10", SHIFT_NONE, "2020-04-10"},
        {"2020-04-13", SHIFT_NONE, "2020-04-13"},
        /* Easter 2024 straddles March and April. */
        {"2024-03-29", SHIFT_EARLIER, "2024-03-28"},
        {"2024-04-01", SHIFT_LATER, "2024-04-02"},
        {"2024-03-30", SHIFT_LATER, "2024-04-02"},
        /* Christmas 2020 (Friday) and New Year 2021 (Friday), across the year boundary. */
        {"2020-12-25", SHIFT_EARLIER, "2020-12-24"},
        {"2020-12-25", SHIFT_LATER, "2020-12-28"},
        {"2020-12-26", SHIFT_EARLIER, "2020-12-24"},
        {"2020-12-27", SHIFT_LATER, "2020-12-28"},
        {"2021-01-01", SHIFT_EARLIER, "2020-12-31"},
        {"2021-01-01", SHIFT_LATER, "2021-01-04"},
        {"2021-01-03", SHIFT_EARLIER, "2020-12-31"},
        /* Christmas 2024 with the decreed 27th: Wednesday to Sunday off. */
        {"2024-12-25", SHIFT_EARLIER, "2024-12-24"},
        {"2024-12-25", SHIFT_LATER, "2024-12-30"},
        {"2024-12-27", SHIFT_EARLIER, "2024-12-24"},
        {"2024-12-29", SHIFT_EARLIER, "2024-12-24"},
        /* New Year 2026 with the decreed 2 January. */
        {"2026-01-01", SHIFT_EARLIER, "2025-12-31"},
        {"2026-01-01", SHIFT_LATER, "2026-01-05"},
        {"2026-01-02", SHIFT_EARLIER, "2025-12-31"},
        /* Ascension 2025 with the decreed Friday. */
        {"2025-05-29", SHIFT_EARLIER, "2025-05-28"},
        {"2025-05-29", SHIFT_LATER, "2025-06-02"},
        {"2025-05-31", SHIFT_EARLIER, "2025-05-28"},
        {"2022-05-26", SHIFT_LATER, "2022-05-30"},
        /* King's Day 2023 (Thursday) with the decreed Friday, running into 1 May. */
        {"2023-04-27", SHIFT_EARLIER, "2023-04-26"},
        {"2023-04-27", SHIFT_LATER, "2023-05-01"},
        /* King's Day 2025 on Saturday 26th, Sunday 27th. */
        {"2025-04-26", SHIFT_EARLIER, "2025-04-25"},
        {"2025-04-27", SHIFT_LATER, "2025-04-28"},
        /* 5 May and Whit Monday. */
        {"2020-05-05", SHIFT_EARLIER, "2020-05-04"},
        {"2020-05-05", SHIFT_LATER, "2020-05-06"},
        {"2018-05-05", SHIFT_LATER, "2018-05-07"},
        {"2020-06-01", SHIFT_EARLIER, "2020-05-29"},
        {"2020-06-01", SHIFT_LATER, "2020-06-02"},
        /* Christmas 2021 on the weekend: no substitute days. */
        {"2021-12-25", SHIFT_EARLIER, "2021-12-24"},
        {"2021-12-26", SHIFT_LATER, "2021-12-27"},
};

static void test_calendar_shift_nl_table(void **state) {
        Calendar *c;
        unsigned failures = 0;

        (void) state;
        c = new_calendar(CALENDAR_NL, NULL, 0);
        for (size_t i = 0; i < ELEMENTSOF(nl_shift_cases); i++) {
                const ShiftCase *t = &nl_shift_cases[i];
                Date actual = calendar_shift(c, P(t->date), t->shift);
                char buf[DATE_STRING_MAX];

                if (actual == P(t->expected))
                        continue;
                print_error("calendar_shift(nl, %s, %s): expected %s, got %s\n", t->date,
                            shift_to_string(t->shift), t->expected, fmt(actual, buf));
                failures++;
        }
        calendar_free(c);
        assert_int_equal(failures, 0);
}

static void test_calendar_shift_none_calendar_ignores_holidays(void **state) {
        Calendar *c;

        (void) state;
        c = new_calendar(CALENDAR_NONE, NULL, 0);
        assert_date_equal(calendar_shift(c, D(2020, 4, 10), SHIFT_EARLIER), D(2020, 4, 10));
        assert_date_equal(calendar_shift(c, D(2020, 4, 13), SHIFT_LATER), D(2020, 4, 13));
        assert_date_equal(calendar_shift(c, D(2020, 4, 11), SHIFT_EARLIER), D(2020, 4, 10));
        assert_date_equal(calendar_shift(c, D(2020, 4, 12), SHIFT_LATER), D(2020, 4, 13));
        assert_date_equal(calendar_shift(c, D(2020, 12, 25), SHIFT_LATER), D(2020, 12, 25));
        assert_date_equal(calendar_shift(c, D(2020, 12, 26), SHIFT_NONE), D(2020, 12, 26));
        calendar_free(c);
}

static void test_calendar_shift_skips_extra_dates(void **state) {
        const Date extra[] = {D(2020, 6, 29), D(2020, 6, 26)};
        /* Easter 2020 widened by an extra Maundy Thursday and Tuesday after. */
        const Date easter_extra[] = {D(2020, 4, 14), D(2020, 4, 9)};
        Calendar *c, *easter;

        (void) state;
        c = new_calendar(CALENDAR_NL, extra, ELEMENTSOF(extra));
        assert_date_equal(calendar_shift(c, D(2020, 6, 28), SHIFT_EARLIER), D(2020, 6, 25));
        assert_date_equal(calendar_shift(c, D(2020, 6, 27), SHIFT_LATER), D(2020, 6, 30));
        assert_date_equal(calendar_shift(c, D(2020, 6, 29), SHIFT_NONE), D(2020, 6, 29));
        easter = new_calendar(CALENDAR_NL, easter_extra, ELEMENTSOF(easter_extra));
        assert_date_equal(calendar_shift(easter, D(2020, 4, 12), SHIFT_EARLIER), D(2020, 4, 8));
        assert_date_equal(calendar_shift(easter, D(2020, 4, 12), SHIFT_LATER), D(2020, 4, 15));
        assert_date_equal(calendar_shift(easter, D(2020, 4, 9), SHIFT_EARLIER), D(2020, 4, 8));
        calendar_free(easter);
        calendar_free(c);
}

/* Dates live in DATE_MIN..DATE_MAX (date.h); a walk off either end must not leave that range.
 * 0001-01-01 is a Monday and New Year's Day, so shifting it earlier has nowhere to go. */
static void test_calendar_shift_is_exact_past_the_printable_range(void **state) {
        const Date extra[] = {DATE_MAX};
        Date earlier, previous, later, next;
        Calendar *c;

        (void) state;
        c = new_calendar(CALENDAR_NL, extra, ELEMENTSOF(extra));
        earlier = calendar_shift(c, DATE_MIN, SHIFT_EARLIER);
        previous = calendar_previous_working_day(c, DATE_MIN);
        /* 9999-12-31 is a Friday, made a holiday here by an extra date. */
        later = calendar_shift(c, DATE_MAX, SHIFT_LATER);
        next = calendar_next_working_day(c, DATE_MAX);
        calendar_free(c);

        /* The walks go on past the printable range, exactly: 0001-01-01 is a Monday and New
         * Year's Day, so the previous working day is Friday 0000-12-29, three days before; the
         * day after 9999-12-31 (a Friday, here a holiday) is Saturday, the next working day
         * Monday 10000-01-03. */
        assert_int_equal(earlier, DATE_MIN - 3);
        assert_int_equal(previous, DATE_MIN - 3);
        assert_int_equal(later, DATE_MAX + 3);
        assert_int_equal(next, DATE_MAX + 3);
}

static void test_calendar_previous_working_day_is_strictly_before(void **state) {
        Calendar *c;

        (void) state;
        c = new_calendar(CALENDAR_NL, NULL, 0);
        assert_date_equal(calendar_previous_working_day(c, D(2020, 6, 30)), D(2020, 6, 29));
        assert_date_equal(calendar_previous_working_day(c, D(2020, 6, 29)), D(2020, 6, 26));
        assert_date_equal(calendar_previous_working_day(c, D(2020, 4, 14)), D(2020, 4, 9));
        assert_date_equal(calendar_previous_working_day(c, D(2020, 4, 13)), D(2020, 4, 9));
        assert_date_equal(calendar_previous_working_day(c, D(2021, 1, 4)), D(2020, 12, 31));
        assert_date_equal(calendar_previous_working_day(c, D(2026, 1, 5)), D(2025, 12, 31));
        calendar_free(c);
}

static void test_calendar_next_working_day_is_strictly_after(void **state) {
        Calendar *c;

        (void) state;
        c = new_calendar(CALENDAR_NL, NULL, 0);
        assert_date_equal(calendar_next_working_day(c, D(2020, 6, 30)), D(2020, 7, 1));
        assert_date_equal(calendar_next_working_day(c, D(2020, 6, 26)), D(2020, 6, 29));
        assert_date_equal(calendar_next_working_day(c, D(2020, 4, 9)), D(2020, 4, 14));
        assert_date_equal(calendar_next_working_day(c, D(2020, 4, 10)), D(2020, 4, 14));
        assert_date_equal(calendar_next_working_day(c, D(2020, 12, 24)), D(2020, 12, 28));
        assert_date_equal(calendar_next_working_day(c, D(2025, 12, 31)), D(2026, 1, 5));
        calendar_free(c);
}

/* ---- Easter ---- */

static void test_calendar_easter_known_years(void **state) {
        static const struct {
                int year;
                const char *easter;
        } known[] = {
                /* 1583 is the first year of the range; 1818 and 2285 the earliest possible date,
                 * 1943 and 2038 the latest; the rest from the ASSA table. */
                {1583, "1583-04-10"}, {1818, "1818-03-22"}, {1943, "1943-04-25"},
                {1954, "1954-04-18"}, {1961, "1961-04-02"}, {1981, "1981-04-19"},
                {2000, "2000-04-23"}, {2008, "2008-03-23"}, {2011, "2011-04-24"},
                {2017, "2017-04-16"}, {2018, "2018-04-01"}, {2019, "2019-04-21"},
                {2020, "2020-04-12"}, {2021, "2021-04-04"}, {2022, "2022-04-17"},
                {2023, "2023-04-09"}, {2024, "2024-03-31"}, {2025, "2025-04-20"},
                {2026, "2026-04-05"}, {2027, "2027-03-28"}, {2028, "2028-04-16"},
                {2029, "2029-04-01"}, {2030, "2030-04-21"}, {2038, "2038-04-25"},
                {2285, "2285-03-22"}, {9999, "9999-03-28"},
        };
        unsigned failures = 0;

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(known); i++) {
                Date e = calendar_easter(known[i].year);
                char buf[DATE_STRING_MAX];

                if (e == P(known[i].easter))
                        continue;
                print_error("calendar_easter(%d): expected %s, got %s\n", known[i].year,
                            known[i].easter, fmt(e, buf));
                failures++;
        }
        assert_int_equal(failures, 0);
}

/* The anonymous Gregorian algorithm (Meeus, Astronomical Algorithms, ch. 8) as the oracle. */
static Date oracle_easter(int year) {
        int a = year % 19, b = year / 100, c = year % 100, d = b / 4, e = b % 4;
        int f = (b + 8) / 25, g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30;
        int i = c / 4, k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7;
        int m = (a + 11 * h + 22 * l) / 451;
        int month = (h + l - 7 * m + 114) / 31, day = (h + l - 7 * m + 114) % 31 + 1;

        return D(year, month, day);
}

static void test_calendar_easter_every_year_is_a_sunday_in_range(void **state) {
        unsigned failures = 0;

        (void) state;
        for (int y = 1583; y <= 9999; y++) {
                Date e = calendar_easter(y);
                char buf[DATE_STRING_MAX];

                if (e == oracle_easter(y) && date_weekday(e) == 7 && e >= D(y, 3, 22) &&
                    e <= D(y, 4, 25))
                        continue;
                if (failures++ < 20)
                        print_error("calendar_easter(%d) = %s, expected %s\n", y, fmt(e, buf),
                                    date_format(oracle_easter(y), (char[DATE_STRING_MAX]){0}));
        }
        assert_int_equal(failures, 0);
}

/* ---- names ---- */

static void test_calendar_kind_from_string_round_trip(void **state) {
        CalendarKind kind = CALENDAR_NONE;

        (void) state;
        assert_int_equal(calendar_kind_from_string("nl", &kind), 0);
        assert_int_equal(kind, CALENDAR_NL);
        assert_string_equal(calendar_kind_to_string(kind), "nl");
        assert_int_equal(calendar_kind_from_string("none", &kind), 0);
        assert_int_equal(kind, CALENDAR_NONE);
        assert_string_equal(calendar_kind_to_string(kind), "none");
        assert_int_equal(calendar_kind_from_string("", &kind), -EINVAL);
        assert_int_equal(calendar_kind_from_string("de", &kind), -EINVAL);
        assert_int_equal(calendar_kind_from_string("nl ", &kind), -EINVAL);
        assert_int_equal(calendar_kind_from_string("nlx", &kind), -EINVAL);
        assert_int_equal(calendar_kind_from_string("n", &kind), -EINVAL);
}

static void test_shift_from_string_round_trip(void **state) {
        static const struct {
                const char *name;
                Shift shift;
        } names[] = {
                {"earlier", SHIFT_EARLIER},
                {"later", SHIFT_LATER},
                {"none", SHIFT_NONE},
        };
        Shift shift = SHIFT_NONE;

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                assert_int_equal(shift_from_string(names[i].name, &shift), 0);
                assert_int_equal(shift, names[i].shift);
                assert_string_equal(shift_to_string(shift), names[i].name);
        }
        assert_int_equal(shift_from_string("", &shift), -EINVAL);
        assert_int_equal(shift_from_string("early", &shift), -EINVAL);
        assert_int_equal(shift_from_string("earliest", &shift), -EINVAL);
        assert_int_equal(shift_from_string("back", &shift), -EINVAL);
        assert_int_equal(shift_from_string(" later", &shift), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_calendar_is_holiday_nl_2017_to_2030),
                cmocka_unit_test(test_calendar_is_holiday_nl_decreed_days),
                cmocka_unit_test(test_calendar_is_holiday_nl_nothing_else_2017_to_2030),
                cmocka_unit_test(test_calendar_is_holiday_kings_day_moves_from_sunday),
                cmocka_unit_test(test_calendar_is_holiday_queens_day_before_2014),
                cmocka_unit_test(test_calendar_is_holiday_royal_day_moved_from_sunday),
                cmocka_unit_test(test_calendar_is_working_day_queens_day_monday_before_1980),
                cmocka_unit_test(test_calendar_is_working_day_days_next_to_holidays),
                cmocka_unit_test(test_calendar_is_working_day_consistent_over_whole_range),
                cmocka_unit_test(test_calendar_is_working_day_none_is_weekends_only),
                cmocka_unit_test(test_calendar_new_extra_dates_unsorted_with_duplicates),
                cmocka_unit_test(test_calendar_new_extra_dates_with_calendar_none),
                cmocka_unit_test(test_calendar_new_many_extra_dates),
                cmocka_unit_test(test_calendar_new_without_extra_dates),
                cmocka_unit_test(test_calendar_shift_nl_table),
                cmocka_unit_test(test_calendar_shift_none_calendar_ignores_holidays),
                cmocka_unit_test(test_calendar_shift_skips_extra_dates),
                cmocka_unit_test(test_calendar_shift_is_exact_past_the_printable_range),
                cmocka_unit_test(test_calendar_previous_working_day_is_strictly_before),
                cmocka_unit_test(test_calendar_next_working_day_is_strictly_after),
                cmocka_unit_test(test_calendar_easter_known_years),
                cmocka_unit_test(test_calendar_easter_every_year_is_a_sunday_in_range),
                cmocka_unit_test(test_calendar_kind_from_string_round_trip),
                cmocka_unit_test(test_shift_from_string_round_trip),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
