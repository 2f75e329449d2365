/* Unit tests for the date module: civil dates as day numbers, durations and month-end clamping.
 *
 * Written from the contract (DESIGN.md "Dates and durations", case/facts.md, date.h), not from
 * daemon/date.c.  Table-driven tests report every failing row before failing, so one run shows
 * the whole pattern of a bug rather than its first instance. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "noticed/date.h"

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* Independent oracle for the Gregorian leap-year rule, used to check the module against. */
static bool oracle_is_leap_year(int year) {
        return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

static int oracle_days_in_month(int year, int month) {
        static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

        if (month == 2 && oracle_is_leap_year(year))
                return 29;
        return days[month - 1];
}

static Date D(int year, int month, int day) {
        Date d = 0;

        assert_int_equal(date_from_ymd(year, month, day, &d), 0);
        return d;
}

static Date parse_or_fail(const char *s) {
        Date d = 0;
        int r;

        r = date_parse(s, &d);
        if (r != 0)
                print_error("date_parse(\"%s\") returned %d\n", s, r);
        assert_int_equal(r, 0);
        return d;
}

/* A date as text for messages; never calls date_format() on a value outside the range. */
static const char *describe(Date d, char buf[static 32]) {
        if (d < DATE_MIN || d > DATE_MAX)
                (void) snprintf(buf, 32, "(day %" PRId32 ", out of range)", d);
        else
                (void) date_format(d, buf);
        return buf;
}

#define assert_date_equal(actual, expected)                                                        \
        assert_date_equal_at((actual), (expected), __FILE__, __LINE__)

static void assert_date_equal_at(Date actual, Date expected, const char *file, int line) {
        char a[32], e[32];

        if (actual == expected)
                return;
        print_error("expected %s, got %s\n", describe(expected, e), describe(actual, a));
        _fail(file, line);
}

static Duration DURATION(int32_t count, char unit) {
        return (Duration){.count = count, .unit = (DurationUnit) unit};
}

/* ---- date_add / date_subtract ---- */

typedef struct ArithmeticCase {
        const char *start;
        int32_t count;
        char unit;
        const char *expected;
} ArithmeticCase;

/* date_add(start, count unit) == expected; a negative count subtracts. */
static const ArithmeticCase add_cases[] = {
        /* The contract's own examples (DESIGN.md). */
        {"2020-01-31", 1, 'm', "2020-02-29"},
        {"2021-03-31", -1, 'm', "2021-02-28"},
        {"2020-02-29", 1, 'y', "2021-02-28"},
        /* Month-end clamping, EU Regulation 1182/71 art. 3(2)(c). */
        {"2019-01-31", 1, 'm', "2019-02-28"},
        {"2020-01-30", 1, 'm', "2020-02-29"},
        {"2020-01-29", 1, 'm', "2020-02-29"},
        {"2020-01-28", 1, 'm', "2020-02-28"},
        {"2020-03-31", 1, 'm', "2020-04-30"},
        {"2020-05-31", 1, 'm', "2020-06-30"},
        {"2020-10-31", 1, 'm', "2020-11-30"},
        {"2020-11-30", 1, 'm', "2020-12-30"}, /* never clamps upwards */
        {"2020-12-31", 2, 'm', "2021-02-28"}, /* one step of 2 months, not two of 1 */
        {"2020-08-31", 6, 'm', "2021-02-28"},
        {"2019-11-30", 3, 'm', "2020-02-29"},
        {"2019-12-31", 1, 'm', "2020-01-31"},
        {"2020-01-31", 0, 'm', "2020-01-31"},
        /* Leap years: 1900 is not one, 2000 and 2024 are. */
        {"1900-01-31", 1, 'm', "1900-02-28"},
        {"2000-01-31", 1, 'm', "2000-02-29"},
        {"2024-01-31", 1, 'm', "2024-02-29"},
        {"1896-02-29", 4, 'y', "1900-02-28"},
        {"2000-02-29", 100, 'y', "2100-02-28"},
        {"2000-02-29", 400, 'y', "2400-02-29"},
        {"2024-02-29", 4, 'y', "2028-02-29"},
        {"2024-02-29", 12, 'm', "2025-02-28"},
        {"2024-02-29", 48, 'm', "2028-02-29"},
        {"2024-02-29", -1, 'y', "2023-02-28"},
        {"1899-02-28", 1, 'y', "1900-02-28"},
        {"2000-02-28", 1, 'd', "2000-02-29"},
        {"1900-02-28", 1, 'd', "1900-03-01"},
        {"2024-02-28", 1, 'd', "2024-02-29"},
        {"2023-02-28", 1, 'd', "2023-03-01"},
        /* Negative months, across year boundaries. */
        {"2020-01-15", -1, 'm', "2019-12-15"},
        {"2020-01-15", -13, 'm', "2018-12-15"},
        {"2020-01-31", -11, 'm', "2019-02-28"},
        {"2020-03-31", -13, 'm', "2019-02-28"},
        {"2020-05-31", -3, 'm', "2020-02-29"},
        {"2020-07-31", -1, 'm', "2020-06-30"},
        {"2021-01-01", -6, 'm', "2020-07-01"},
        {"2021-01-01", -12, 'm', "2020-01-01"},
        {"2021-01-01", -24, 'm', "2019-01-01"},
        /* Years. */
        {"2019-01-01", 2, 'y', "2021-01-01"}, /* the founding case's term */
        {"2019-01-01", 24, 'm', "2021-01-01"},
        {"2019-01-01", 100, 'y', "2119-01-01"},
        {"2021-01-01", -2, 'y', "2019-01-01"},
        /* Weeks. */
        {"2020-01-01", 1, 'w', "2020-01-08"},
        {"2020-12-28", 1, 'w', "2021-01-04"},
        {"2021-01-04", -1, 'w', "2020-12-28"},
        {"2020-02-26", 1, 'w', "2020-03-04"},
        {"2019-02-26", 1, 'w', "2019-03-05"},
        {"2020-01-31", 6, 'w', "2020-03-13"},
        {"2020-12-31", 52, 'w', "2021-12-30"},
        /* Days, across months and years. */
        {"2020-12-31", 1, 'd', "2021-01-01"},
        {"2021-01-01", -1, 'd', "2020-12-31"},
        {"1999-12-31", 1, 'd', "2000-01-01"},
        {"1970-01-01", -1, 'd', "1969-12-31"},
        {"1969-12-31", 1, 'd', "1970-01-01"},
        {"2017-12-01", -1, 'd', "2017-11-30"},
        {"2020-02-29", 1, 'd', "2020-03-01"},
        {"2021-02-28", 1, 'd', "2021-03-01"},
        {"2019-01-01", 365, 'd', "2020-01-01"},
        {"2020-01-01", 366, 'd', "2021-01-01"},
        {"2020-01-01", 90, 'd', "2020-03-31"},
        {"2020-06-30", -90, 'd', "2020-04-01"},
        {"2020-01-31", 0, 'd', "2020-01-31"},
        {"2000-01-01", 36525, 'd', "2100-01-01"},
        /* Near the ends of the range, without saturating. */
        {"0001-01-31", 1, 'm', "0001-02-28"},
        {"0001-02-28", -1, 'm', "0001-01-28"},
        {"9999-11-30", 1, 'm', "9999-12-30"},
        {"9998-12-31", 1, 'y', "9999-12-31"},
        {"0002-01-01", -1, 'y', "0001-01-01"},
};

static void test_date_add_table(void **state) {
        unsigned failures = 0;

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(add_cases); i++) {
                const ArithmeticCase *t = &add_cases[i];
                Date start = parse_or_fail(t->start), expected = parse_or_fail(t->expected);
                Date actual = date_add(start, DURATION(t->count, t->unit));
                char buf[32];

                if (actual == expected)
                        continue;
                print_error("date_add(%s, %" PRId32 "%c): expected %s, got %s\n", t->start,
                            t->count, t->unit, t->expected, describe(actual, buf));
                failures++;
        }
        assert_int_equal(failures, 0);
}

/* date_subtract(start, count unit) == expected. */
/* clang-format off */
static const ArithmeticCase subtract_cases[] = {
        {"2021-03-31", 1, 'm', "2021-02-28"},
        {"2020-03-31", 1, 'm', "2020-02-29"},
        {"2020-12-31", 10, 'm', "2020-02-29"},
        {"2020-01-31", 2, 'm', "2019-11-30"},
        {"2021-01-01", 6, 'm', "2020-07-01"}, /* founding case: notice deadline is this - 1d */
        {"2020-07-01", 1, 'd', "2020-06-30"},
        {"2020-02-29", 1, 'y', "2019-02-28"},
        {"2000-02-29", 100, 'y', "1900-02-28"},
        {"2021-01-01", 1, 'd', "2020-12-31"},
        {"2021-01-04", 1, 'w', "2020-12-28"},
        {"2020-03-01", 1, 'd', "2020-02-29"},
        {"2019-03-01", 1, 'd', "2019-02-28"},
        {"2020-06-30", 8, 'w', "2020-05-05"},
        {"2020-01-15", 13, 'm', "2018-12-15"},
        {"2020-01-31", 0, 'y', "2020-01-31"},
        {"2020-01-15", -1, 'm', "2020-02-15"}, /* a negative count adds */
};
/* clang-format on */

static void test_date_subtract_table(void **state) {
        unsigned failures = 0;

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(subtract_cases); i++) {
                const ArithmeticCase *t = &subtract_cases[i];
                Date start = parse_or_fail(t->start), expected = parse_or_fail(t->expected);
                Date actual = date_subtract(start, DURATION(t->count, t->unit));
                char buf[32];

                if (actual == expected)
                        continue;
                print_error("date_subtract(%s, %" PRId32 "%c): expected %s, got %s\n", t->start,
                            t->count, t->unit, t->expected, describe(actual, buf));
                failures++;
        }
        assert_int_equal(failures, 0);
}

static void test_date_subtract_equals_add_of_negation(void **state) {
        unsigned failures = 0;

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(add_cases); i++) {
                const ArithmeticCase *t = &add_cases[i];
                Date start = parse_or_fail(t->start);
                Duration duration = DURATION(t->count, t->unit);
                Date a = date_subtract(start, duration);
                Date b = date_add(start, duration_negate(duration));
                char bufa[32], bufb[32];

                if (a == b)
                        continue;
                print_error("%s - %" PRId32 "%c: date_subtract gives %s, date_add of negation %s\n",
                            t->start, t->count, t->unit, describe(a, bufa), describe(b, bufb));
                failures++;
        }
        assert_int_equal(failures, 0);
}

static void test_date_add_months_clamps_to_month_end(void **state) {
        (void) state;
        assert_date_equal(date_add(D(2020, 1, 31), DURATION(1, 'm')), D(2020, 2, 29));
        assert_date_equal(date_add(D(2021, 3, 31), DURATION(-1, 'm')), D(2021, 2, 28));
        assert_date_equal(date_subtract(D(2021, 3, 31), DURATION(1, 'm')), D(2021, 2, 28));
        assert_date_equal(date_add(D(2020, 2, 29), DURATION(1, 'y')), D(2021, 2, 28));
}

/* Not associative: each addition clamps on its own.  Review milestones are S + k·6m, computed
 * with duration_multiply(), not by stepping 6m at a time. */
static void test_date_add_months_is_not_iterated(void **state) {
        (void) state;
        assert_date_equal(date_add(date_add(D(2020, 1, 31), DURATION(1, 'm')), DURATION(1, 'm')),
                          D(2020, 3, 29));
        assert_date_equal(date_add(D(2020, 1, 31), DURATION(2, 'm')), D(2020, 3, 31));
        assert_date_equal(date_add(D(2019, 8, 31), duration_multiply(DURATION(6, 'm'), 1)),
                          D(2020, 2, 29));
        assert_date_equal(date_add(D(2019, 8, 31), duration_multiply(DURATION(6, 'm'), 2)),
                          D(2020, 8, 31));
        assert_date_equal(date_add(D(2019, 8, 31), duration_multiply(DURATION(6, 'm'), 3)),
                          D(2021, 2, 28));
}

/* The founding case (facts.md): 2-year term from 2019-01-01 ends 2020-12-31; with a 6-month
 * notice period the last day to serve notice is Tuesday 2020-06-30. */
static void test_date_add_founding_case_deadlines(void **state) {
        Date start, end_exclusive, term_end, notice;

        (void) state;
        start = D(2019, 1, 1);
        end_exclusive = date_add(start, DURATION(2, 'y'));
        term_end = date_subtract(end_exclusive, DURATION(1, 'd'));
        notice = date_subtract(date_subtract(end_exclusive, DURATION(6, 'm')), DURATION(1, 'd'));
        assert_date_equal(term_end, D(2020, 12, 31));
        assert_date_equal(notice, D(2020, 6, 30));
        assert_int_equal(date_weekday(notice), 2);
}

/* Beyond 0001..9999 arithmetic stays exact (a term that runs past 9999-12-31 must not end on
 * it); only counts no config can hold saturate, at the arithmetic bounds, without overflow. */
static void test_date_add_is_exact_beyond_the_printable_range(void **state) {
        Date mid;

        (void) state;
        mid = D(2020, 1, 1);
        assert_date_equal(date_add(DATE_MAX, DURATION(0, 'd')), DATE_MAX);
        assert_date_equal(date_add(DATE_MAX, DURATION(1, 'd')), DATE_MAX + 1);
        assert_date_equal(date_add(DATE_MIN, DURATION(-1, 'd')), DATE_MIN - 1);
        assert_date_equal(date_subtract(DATE_MIN, DURATION(1, 'd')), DATE_MIN - 1);
        assert_date_equal(date_add(D(9999, 12, 1), DURATION(1, 'm')), DATE_MAX + 1);
        /* 10000 and 0 are leap years (divisible by 400): 10000-06-15 is day 167 of its year. */
        assert_date_equal(date_add(D(9999, 6, 15), DURATION(1, 'y')), DATE_MAX + 167);
        assert_date_equal(date_add(D(9999, 12, 25), DURATION(1, 'w')), DATE_MAX + 1);
        assert_date_equal(date_add(D(1, 1, 15), DURATION(-1, 'm')), DATE_MIN - 17);
        assert_date_equal(date_subtract(D(1, 6, 15), DURATION(1, 'y')), DATE_MIN + 165 - 365);
        assert_date_equal(date_add(D(1, 1, 5), DURATION(-1, 'w')), DATE_MIN - 3);
        /* And back again: 10000-01-01 − 1m is 9999-12-01. */
        assert_date_equal(date_subtract(DATE_MAX + 1, DURATION(1, 'm')), D(9999, 12, 1));
        /* Counts far beyond any config saturate at the arithmetic bounds, not overflow. */
        assert_date_equal(date_add(mid, DURATION(INT32_MAX, 'd')), DATE_ARITHMETIC_MAX);
        assert_date_equal(date_add(mid, DURATION(INT32_MAX, 'w')), DATE_ARITHMETIC_MAX);
        assert_date_equal(date_add(mid, DURATION(INT32_MAX, 'm')), DATE_ARITHMETIC_MAX);
        assert_date_equal(date_add(mid, DURATION(INT32_MAX, 'y')), DATE_ARITHMETIC_MAX);
        assert_date_equal(date_add(mid, DURATION(-INT32_MAX, 'd')), DATE_ARITHMETIC_MIN);
        assert_date_equal(date_add(mid, DURATION(-INT32_MAX, 'w')), DATE_ARITHMETIC_MIN);
        assert_date_equal(date_add(mid, DURATION(-INT32_MAX, 'm')), DATE_ARITHMETIC_MIN);
        assert_date_equal(date_add(mid, DURATION(-INT32_MAX, 'y')), DATE_ARITHMETIC_MIN);
        assert_date_equal(date_add(mid, DURATION(INT32_MIN, 'd')), DATE_ARITHMETIC_MIN);
        assert_date_equal(date_add(mid, DURATION(INT32_MIN, 'y')), DATE_ARITHMETIC_MIN);
        assert_date_equal(date_subtract(mid, DURATION(INT32_MAX, 'd')), DATE_ARITHMETIC_MIN);
        assert_date_equal(date_subtract(mid, DURATION(INT32_MAX, 'm')), DATE_ARITHMETIC_MIN);
        assert_date_equal(date_subtract(mid, DURATION(INT32_MAX, 'y')), DATE_ARITHMETIC_MIN);
        /* The largest durations a config accepts stay exact from either end of the range. */
        assert_true(date_add(DATE_MAX, DURATION(DURATION_MAX_DAYS, 'd')) < DATE_ARITHMETIC_MAX);
        assert_true(date_add(DATE_MAX, DURATION(DURATION_MAX_WEEKS, 'w')) < DATE_ARITHMETIC_MAX);
        assert_true(date_add(DATE_MAX, DURATION(DURATION_MAX_MONTHS, 'm')) < DATE_ARITHMETIC_MAX);
        assert_true(date_add(DATE_MAX, DURATION(DURATION_MAX_YEARS, 'y')) < DATE_ARITHMETIC_MAX);
        assert_true(date_subtract(DATE_MIN, DURATION(DURATION_MAX_YEARS, 'y')) >
                    DATE_ARITHMETIC_MIN);
}

/* ---- date_from_ymd / date_to_ymd / leap years ---- */

static void test_date_from_ymd_epoch_and_bounds(void **state) {
        Date d = -1;
        int y, m, dd;

        (void) state;
        assert_int_equal(date_from_ymd(1970, 1, 1, &d), 0);
        assert_int_equal(d, 0);
        assert_int_equal(date_from_ymd(1970, 1, 2, &d), 0);
        assert_int_equal(d, 1);
        assert_int_equal(date_from_ymd(1969, 12, 31, &d), 0);
        assert_int_equal(d, -1);
        assert_int_equal(date_from_ymd(2000, 3, 1, &d), 0);
        assert_int_equal(d, 11017);
        assert_int_equal(date_from_ymd(1, 1, 1, &d), 0);
        assert_int_equal(d, DATE_MIN);
        assert_int_equal(date_from_ymd(9999, 12, 31, &d), 0);
        assert_int_equal(d, DATE_MAX);
        date_to_ymd(DATE_MIN, &y, &m, &dd);
        assert_int_equal(y, 1);
        assert_int_equal(m, 1);
        assert_int_equal(dd, 1);
        date_to_ymd(DATE_MAX, &y, &m, &dd);
        assert_int_equal(y, 9999);
        assert_int_equal(m, 12);
        assert_int_equal(dd, 31);
        date_to_ymd(-1, &y, &m, &dd);
        assert_int_equal(y, 1969);
        assert_int_equal(m, 12);
        assert_int_equal(dd, 31);
}

static void test_date_from_ymd_rejects_non_dates(void **state) {
        static const int bad[][3] = {
                {2019, 2, 29}, {2019, 2, 30},  {1900, 2, 29}, {2100, 2, 29}, {2019, 13, 1},
                {2019, 0, 1},  {2019, 1, 0},   {2019, 1, 32}, {2019, 4, 31}, {2019, 6, 31},
                {2019, 9, 31}, {2019, 11, 31}, {0, 1, 1},     {10000, 1, 1}, {-1, 1, 1},
                {2019, -1, 1}, {2019, 1, -1},
        };
        unsigned failures = 0;

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                Date d = 0;
                int r = date_from_ymd(bad[i][0], bad[i][1], bad[i][2], &d);

                if (r == -EINVAL)
                        continue;
                print_error("date_from_ymd(%d, %d, %d): expected -EINVAL, got %d\n", bad[i][0],
                            bad[i][1], bad[i][2], r);
                failures++;
        }
        assert_int_equal(failures, 0);
}

static void test_date_is_leap_year_gregorian_rule(void **state) {
        (void) state;
        assert_false(date_is_leap_year(1900));
        assert_true(date_is_leap_year(2000));
        assert_true(date_is_leap_year(2024));
        assert_true(date_is_leap_year(2020));
        assert_false(date_is_leap_year(2019));
        assert_false(date_is_leap_year(2021));
        assert_false(date_is_leap_year(2100));
        assert_true(date_is_leap_year(1600));
        assert_true(date_is_leap_year(4));
        assert_false(date_is_leap_year(1));
        assert_true(date_is_leap_year(9996));
        assert_false(date_is_leap_year(9999));
        for (int y = 1; y <= 9999; y++)
                assert_int_equal(date_is_leap_year(y), oracle_is_leap_year(y));
}

static void test_date_days_in_month_all_months(void **state) {
        (void) state;
        assert_int_equal(date_days_in_month(1900, 2), 28);
        assert_int_equal(date_days_in_month(2000, 2), 29);
        assert_int_equal(date_days_in_month(2024, 2), 29);
        assert_int_equal(date_days_in_month(2023, 2), 28);
        assert_int_equal(date_days_in_month(2020, 4), 30);
        assert_int_equal(date_days_in_month(2020, 12), 31);
        for (int y = 1; y <= 9999; y++)
                for (int m = 1; m <= 12; m++)
                        assert_int_equal(date_days_in_month(y, m), oracle_days_in_month(y, m));
}

/* Walks every day of the range once: the day numbers are consecutive, the fields advance like a
 * calendar, the weekday cycles, and format/parse/from_ymd all agree. */
static void test_date_to_ymd_walks_whole_range(void **state) {
        int y = 1, m = 1, day = 1, weekday = 1; /* 0001-01-01 was a Monday (proleptic) */

        (void) state;
        for (Date d = DATE_MIN;; d++) {
                char buf[DATE_STRING_MAX], expected[48]; /* room for any three ints */
                int ry, rm, rd;
                Date back = 0;

                date_to_ymd(d, &ry, &rm, &rd);
                if (ry != y || rm != m || rd != day) {
                        print_error("day %" PRId32 ": expected %04d-%02d-%02d, got %d-%d-%d\n", d,
                                    y, m, day, ry, rm, rd);
                        fail();
                }
                (void) snprintf(expected, sizeof expected, "%04d-%02d-%02d", y, m, day);
                assert_string_equal(date_format(d, buf), expected);
                assert_int_equal(date_parse(buf, &back), 0);
                assert_int_equal(back, d);
                assert_int_equal(date_from_ymd(y, m, day, &back), 0);
                assert_int_equal(back, d);
                if (date_weekday(d) != weekday) {
                        print_error("%s: expected weekday %d, got %d\n", buf, weekday,
                                    date_weekday(d));
                        fail();
                }
                if (d == DATE_MAX)
                        break;

                weekday = weekday % 7 + 1;
                if (++day > oracle_days_in_month(y, m)) {
                        day = 1;
                        if (++m > 12) {
                                m = 1;
                                y++;
                        }
                }
        }
        assert_int_equal(y, 9999);
        assert_int_equal(m, 12);
        assert_int_equal(day, 31);
}

/* ---- date_parse / date_format ---- */

static void test_date_parse_accepts_real_dates(void **state) {
        static const struct {
                const char *s;
                int y, m, d;
        } good[] = {
                {"2019-01-01", 2019, 1, 1},   {"2017-11-30", 2017, 11, 30},
                {"2020-02-29", 2020, 2, 29},  {"2000-02-29", 2000, 2, 29},
                {"2024-02-29", 2024, 2, 29},  {"1970-01-01", 1970, 1, 1},
                {"1969-12-31", 1969, 12, 31}, {"0001-01-01", 1, 1, 1},
                {"9999-12-31", 9999, 12, 31}, {"2019-04-30", 2019, 4, 30},
                {"2019-12-31", 2019, 12, 31}, {"0100-03-01", 100, 3, 1},
        };
        unsigned failures = 0;

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                Date d = 0, expected = D(good[i].y, good[i].m, good[i].d);
                int r = date_parse(good[i].s, &d);

                if (r == 0 && d == expected)
                        continue;
                print_error("date_parse(\"%s\"): r=%d d=%" PRId32 ", expected 0 and %" PRId32 "\n",
                            good[i].s, r, d, expected);
                failures++;
        }
        assert_int_equal(failures, 0);
}

static void test_date_parse_rejects_malformed_and_impossible(void **state) {
        /* clang-format off */
        static const char *const bad[] = {
                "2019-02-30",  "2019-02-29",  "1900-02-29",  "2100-02-29",   "2019-13-01",
                "2019-00-10",  "2019-01-00",  "2019-01-32",  "2019-04-31",   "2019-1-01",
                "2019-01-1",   "19-01-01",    "02019-01-01", "10000-01-01",  "0000-01-01",
                "-001-01-01",  "+2019-01-01", "2019-01-01x", "2019-01-01 ",  " 2019-01-01",
                "2019-01-01\n", "\t2019-01-01", "2019-01-01T00:00", "",      "2019/01/01",
                "2019.01.01",  "20190101",    "2019-01",     "2019",         "2019--01-01",
                "2019-0a-01",  "2019-01-0a",  "201a-01-01",  "2019-+1-01",   "2019- 1-01",
                "2019-01- 1",  "2019-01-+1",  "yyyy-mm-dd",  "2019-01-01-", "2019_01_01",
                "\357\274\222019-01-01", /* fullwidth digit two */
        };
        /* clang-format on */
        unsigned failures = 0;

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                Date d = 0;
                int r = date_parse(bad[i], &d);

                if (r == -EINVAL)
                        continue;
                print_error("date_parse(\"%s\"): expected -EINVAL, got %d (day %" PRId32 ")\n",
                            bad[i], r, d);
                failures++;
        }
        assert_int_equal(failures, 0);
}

/* An embedded NUL ends the string: what follows it is not part of the input. */
static void test_date_parse_stops_at_nul(void **state) {
        static const char s[] = "2019-01-01\0garbage";
        Date d = 0;

        (void) state;
        assert_int_equal(date_parse(s, &d), 0);
        assert_date_equal(d, D(2019, 1, 1));
        assert_int_equal(date_parse("2019-01-0\0"
                                    "1",
                                    &d),
                         -EINVAL);
}

static void test_date_format_round_trip(void **state) {
        static const char *const samples[] = {
                "0001-01-01", "0099-12-31", "1582-10-15", "1900-02-28", "1969-12-31", "1970-01-01",
                "2000-02-29", "2017-11-30", "2020-06-30", "2020-12-31", "2038-01-19", "9999-12-31",
        };
        char buf[DATE_STRING_MAX];

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(samples); i++) {
                Date d = parse_or_fail(samples[i]);

                assert_ptr_equal(date_format(d, buf), buf);
                assert_string_equal(buf, samples[i]);
                assert_int_equal(strlen(buf), 10);
        }
        assert_string_equal(date_format(0, buf), "1970-01-01");
        assert_string_equal(date_format(-1, buf), "1969-12-31");
        assert_string_equal(date_format(DATE_MIN, buf), "0001-01-01");
        assert_string_equal(date_format(DATE_MAX, buf), "9999-12-31");
        /* Arithmetic can leave the printable range; such a date never passes for a real one. */
        assert_string_equal(date_format(DATE_MAX + 1, buf), "out-of-range");
        assert_string_equal(date_format(DATE_MIN - 1, buf), "out-of-range");
}

/* ---- date_weekday ---- */

static void test_date_weekday_known_days(void **state) {
        static const struct {
                const char *date;
                int weekday;
        } known[] = {
                {"2020-06-30", 2}, /* Tuesday: founding case notice deadline */
                {"2017-11-30", 4}, /* Thursday: last day of the Twente deadline */
                {"2017-12-04", 1}, /* Monday: the DVO meeting */
                {"1970-01-01", 4}, {"1969-12-31", 3}, {"2000-01-01", 6}, {"1900-01-01", 1},
                {"2025-04-27", 7}, {"2025-04-26", 6}, {"0001-01-01", 1}, {"9999-12-31", 5},
                {"2019-01-01", 2}, {"2020-12-31", 4}, {"2020-02-29", 6},
        };
        unsigned failures = 0;

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(known); i++) {
                int w = date_weekday(parse_or_fail(known[i].date));

                if (w == known[i].weekday)
                        continue;
                print_error("date_weekday(%s): expected %d, got %d\n", known[i].date,
                            known[i].weekday, w);
                failures++;
        }
        assert_int_equal(failures, 0);
}

/* ---- durations ---- */

static void test_duration_parse_accepts_count_and_unit(void **state) {
        static const struct {
                const char *s;
                int32_t count;
                char unit;
        } good[] = {
                {"2y", 2, 'y'}, {"6m", 6, 'm'},     {"6w", 6, 'w'},     {"90d", 90, 'd'},
                {"1d", 1, 'd'}, {"10d", 10, 'd'},   {"100w", 100, 'w'}, {"12m", 12, 'm'},
                {"1y", 1, 'y'}, {"365d", 365, 'd'}, {"60d", 60, 'd'},   {"7d", 7, 'd'},
        };
        unsigned failures = 0;

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                for (int allow_zero = 0; allow_zero <= 1; allow_zero++) {
                        Duration d = {0};
                        int r = duration_parse(good[i].s, allow_zero, &d);

                        if (r == 0 && d.count == good[i].count &&
                            d.unit == (DurationUnit) good[i].unit)
                                continue;
                        print_error("duration_parse(\"%s\", %d): r=%d count=%" PRId32 " unit=%c\n",
                                    good[i].s, allow_zero, r, d.count, (char) d.unit);
                        failures++;
                }
        }
        assert_int_equal(failures, 0);
}

static void test_duration_parse_zero_only_with_allow_zero(void **state) {
        Duration d = {.count = 5, .unit = DURATION_WEEKS};

        (void) state;
        assert_int_equal(duration_parse("0d", true, &d), 0);
        assert_int_equal(d.count, 0);
        assert_int_equal(d.unit, DURATION_DAYS);
        assert_int_equal(duration_parse("0d", false, &d), -EDOM);
        assert_int_equal(duration_parse("0w", false, &d), -EDOM);
        assert_int_equal(duration_parse("0m", false, &d), -EDOM);
        assert_int_equal(duration_parse("0y", false, &d), -EDOM);
        /* Leading zeros stay wrong even where zero is allowed. */
        assert_int_equal(duration_parse("00d", true, &d), -EINVAL);
        assert_int_equal(duration_parse("01d", true, &d), -EINVAL);
        assert_int_equal(duration_parse("-0d", true, &d), -EINVAL);
        assert_int_equal(duration_parse("00w", true, &d), -EINVAL);
}

static void test_duration_parse_zero_is_only_written_0d(void **state) {
        Duration d = {.count = 5, .unit = DURATION_WEEKS};

        (void) state;
        /* "0w", "0m" and "0y" are the day itself as much as "0d" is: two names for one reminder
         * would give it two identities, so only "0d" is accepted, even where zero is. */
        assert_int_equal(duration_parse("0w", true, &d), -EDOM);
        assert_int_equal(duration_parse("0m", true, &d), -EDOM);
        assert_int_equal(duration_parse("0y", true, &d), -EDOM);
        assert_int_equal(d.count, 5);
        assert_int_equal(d.unit, DURATION_WEEKS);
}

static void test_duration_parse_rejects_malformed(void **state) {
        /* clang-format off */
        static const char *const bad[] = {
                "",       "d",      "-1d",    "1.5m",   "01d",    "1x",   "1 d",  "1D",
                "1M",     "1W",     "1Y",     " 1d",    "1d ",    "+1d",  "1",    "dd",
                "1dd",    "1d1",    "0x1d",   "1e3d",   "1,5m",   "m6",   "6 m",  "6mo",
                "6months", "1d\n",  "\t1d",   "00d",    "0x",     "1h",   "1s",   "-0d",
                "2y6m",   "1_000d", "\357\274\221d", /* fullwidth digit one */
                /* Counts that do not fit the int32_t count must not wrap around. */
                "2147483648d", "4294967297d", "99999999999999999999d",
        };
        /* clang-format on */
        unsigned failures = 0;

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                Duration d = {0};
                int r = duration_parse(bad[i], false, &d);

                if (r == -EINVAL)
                        continue;
                print_error("duration_parse(\"%s\", false): expected -EINVAL, got %d "
                            "(count %" PRId32 ", unit %c)\n",
                            bad[i], r, d.count, (char) d.unit);
                failures++;
        }
        assert_int_equal(failures, 0);
}

static void test_duration_format_writes_count_and_unit(void **state) {
        char buf[DURATION_STRING_MAX];

        (void) state;
        assert_ptr_equal(duration_format(DURATION(2, 'y'), buf), buf);
        assert_string_equal(buf, "2y");
        assert_string_equal(duration_format(DURATION(6, 'm'), buf), "6m");
        assert_string_equal(duration_format(DURATION(6, 'w'), buf), "6w");
        assert_string_equal(duration_format(DURATION(90, 'd'), buf), "90d");
        assert_string_equal(duration_format(DURATION(0, 'd'), buf), "0d");
        assert_string_equal(duration_format(DURATION(INT32_MAX, 'd'), buf), "2147483647d");
}

static void test_duration_format_round_trip(void **state) {
        static const char *const samples[] = {"2y", "6m", "6w", "90d", "1d", "0d", "12m", "52w"};
        char buf[DURATION_STRING_MAX];

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(samples); i++) {
                Duration d = {0};

                assert_int_equal(duration_parse(samples[i], true, &d), 0);
                assert_string_equal(duration_format(d, buf), samples[i]);
        }
}

static void test_duration_negate_and_multiply(void **state) {
        Duration d;

        (void) state;
        d = duration_negate(DURATION(6, 'm'));
        assert_int_equal(d.count, -6);
        assert_int_equal(d.unit, DURATION_MONTHS);
        d = duration_negate(d);
        assert_int_equal(d.count, 6);
        assert_int_equal(d.unit, DURATION_MONTHS);
        d = duration_multiply(DURATION(6, 'm'), 3);
        assert_int_equal(d.count, 18);
        assert_int_equal(d.unit, DURATION_MONTHS);
        d = duration_multiply(DURATION(2, 'w'), 0);
        assert_int_equal(d.count, 0);
        assert_int_equal(d.unit, DURATION_WEEKS);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_date_add_table),
                cmocka_unit_test(test_date_subtract_table),
                cmocka_unit_test(test_date_subtract_equals_add_of_negation),
                cmocka_unit_test(test_date_add_months_clamps_to_month_end),
                cmocka_unit_test(test_date_add_months_is_not_iterated),
                cmocka_unit_test(test_date_add_founding_case_deadlines),
                cmocka_unit_test(test_date_add_is_exact_beyond_the_printable_range),
                cmocka_unit_test(test_date_from_ymd_epoch_and_bounds),
                cmocka_unit_test(test_date_from_ymd_rejects_non_dates),
                cmocka_unit_test(test_date_is_leap_year_gregorian_rule),
                cmocka_unit_test(test_date_days_in_month_all_months),
                cmocka_unit_test(test_date_to_ymd_walks_whole_range),
                cmocka_unit_test(test_date_parse_accepts_real_dates),
                cmocka_unit_test(test_date_parse_rejects_malformed_and_impossible),
                cmocka_unit_test(test_date_parse_stops_at_nul),
                cmocka_unit_test(test_date_format_round_trip),
                cmocka_unit_test(test_date_weekday_known_days),
                cmocka_unit_test(test_duration_parse_accepts_count_and_unit),
                cmocka_unit_test(test_duration_parse_zero_only_with_allow_zero),
                cmocka_unit_test(test_duration_parse_zero_is_only_written_0d),
                cmocka_unit_test(test_duration_parse_rejects_malformed),
                cmocka_unit_test(test_duration_format_writes_count_and_unit),
                cmocka_unit_test(test_duration_format_round_trip),
                cmocka_unit_test(test_duration_negate_and_multiply),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
