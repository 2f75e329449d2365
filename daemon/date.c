/* Civil dates as day numbers, and durations with month-end clamping.
 *
 * Conversion between (year, month, day) and day numbers uses the era-based algorithm from
 * Howard Hinnant's "chrono-Compatible Low-Level Date Algorithms": no tables, no loops, exact over
 * the whole proleptic Gregorian calendar.  Neither libc nor the libraries we use offer civil-date
 * arithmetic without going through time_t and a time zone, which the contract forbids for dates. */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "noticed/date.h"

static Date days_from_civil(int64_t y, unsigned m, unsigned d) {
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        unsigned yoe = (unsigned) (y - era * 400);
        unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return (Date) (era * 146097 + (int64_t) doe - 719468);
}

void date_to_ymd(Date date, int *ret_year, int *ret_month, int *ret_day) {
        int64_t z = (int64_t) date + 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        unsigned doe = (unsigned) (z - era * 146097);
        unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        unsigned mp = (5 * doy + 2) / 153;
        unsigned d = doy - (153 * mp + 2) / 5 + 1;
        unsigned m = mp < 10 ? mp + 3 : mp - 9;

        if (ret_year)
                *ret_year = (int) ((int64_t) yoe + era * 400 + (m <= 2));
        if (ret_month)
                *ret_month = (int) m;
        if (ret_day)
                *ret_day = (int) d;
}

bool date_is_leap_year(int year) {
        return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int date_days_in_month(int year, int month) {
        static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

        if (month < 1 || month > 12)
                return 0;
        return month == 2 && date_is_leap_year(year) ? 29 : days[month - 1];
}

int date_from_ymd(int year, int month, int day, Date *ret) {
        if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 ||
            day > date_days_in_month(year, month))
                return -EINVAL;
        *ret = days_from_civil(year, (unsigned) month, (unsigned) day);
        return 0;
}

static int parse_digits(const char *s, size_t n) {
        int v = 0;

        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                v = v * 10 + (s[i] - '0');
        }
        return v;
}

int date_parse(const char *s, Date *ret) {
        int y, m, d;

        if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
                return -EINVAL;
        y = parse_digits(s, 4);
        m = parse_digits(s + 5, 2);
        d = parse_digits(s + 8, 2);
        if (y < 0 || m < 0 || d < 0)
                return -EINVAL;
        return date_from_ymd(y, m, d, ret);
}

char *date_format(Date date, char buf[static DATE_STRING_MAX]) {
        int y, m, d;

        if (date < DATE_MIN || date > DATE_MAX) {
                memcpy(buf, "out-of-range", sizeof("out-of-range"));
                return buf;
        }
        date_to_ymd(date, &y, &m, &d);
        /* y is 1..9999 here; the remainders only tell the compiler so, which it needs to prove
         * the buffer large enough. */
        (void) snprintf(buf, DATE_STRING_MAX, "%04u-%02u-%02u", (unsigned) y % 10000u,
                        (unsigned) m % 100u, (unsigned) d % 100u);
        return buf;
}

int date_weekday(Date date) {
        /* 1970-01-01 was a Thursday (ISO 4). */
        int64_t w = ((int64_t) date + 3) % 7;
        if (w < 0)
                w += 7;
        return (int) w + 1;
}

int duration_parse(const char *s, bool allow_zero, Duration *ret) {
        size_t len, digits;
        int64_t count = 0;
        char unit;

        if (!s)
                return -EINVAL;
        len = strlen(s);
        if (len < 2 || len > 8) /* up to 7 digits: ~27,000 years is plenty */
                return -EINVAL;
        digits = len - 1;
        unit = s[digits];
        if (unit != 'd' && unit != 'w' && unit != 'm' && unit != 'y')
                return -EINVAL;
        if (digits > 1 && s[0] == '0')
                return -EINVAL;
        for (size_t i = 0; i < digits; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                count = count * 10 + (s[i] - '0');
        }
        /* Only "0d" names the day itself: were "0w" accepted too, one reminder would have two
         * names, and so two identities in the ledger. */
        if (count == 0 && (!allow_zero || unit != 'd'))
                return -EDOM;
        if (count > (unit == 'd'   ? DURATION_MAX_DAYS
                     : unit == 'w' ? DURATION_MAX_WEEKS
                     : unit == 'm' ? DURATION_MAX_MONTHS
                                   : DURATION_MAX_YEARS))
                return -EINVAL;
        *ret = (Duration){.count = (int32_t) count, .unit = (DurationUnit) unit};
        return 0;
}

char *duration_format(Duration duration, char buf[static DURATION_STRING_MAX]) {
        (void) snprintf(buf, DURATION_STRING_MAX, "%" PRId32 "%c", duration.count,
                        (char) duration.unit);
        return buf;
}

Duration duration_negate(Duration duration) {
        duration.count = -duration.count;
        return duration;
}

Duration duration_multiply(Duration duration, int32_t factor) {
        int64_t c = (int64_t) duration.count * factor;

        duration.count = c > INT32_MAX ? INT32_MAX : c < -INT32_MAX ? -INT32_MAX : (int32_t) c;
        return duration;
}

static Date clamp_date(int64_t days) {
        return days < DATE_ARITHMETIC_MIN   ? DATE_ARITHMETIC_MIN
               : days > DATE_ARITHMETIC_MAX ? DATE_ARITHMETIC_MAX
                                            : (Date) days;
}

static Date add_months(Date date, int64_t months) {
        int y, m, d, dim;
        int64_t total;

        date_to_ymd(date, &y, &m, &d);
        total = (int64_t) y * 12 + (m - 1) + months;
        if (total < INT64_C(-32768) * 12)
                return DATE_ARITHMETIC_MIN;
        if (total > INT64_C(32767) * 12 + 11)
                return DATE_ARITHMETIC_MAX;
        y = (int) (total >= 0 ? total / 12 : (total - 11) / 12); /* floor */
        m = (int) (total - (int64_t) y * 12) + 1;
        dim = date_days_in_month(y, m);
        return days_from_civil(y, (unsigned) m, (unsigned) (d > dim ? dim : d));
}

Date date_add(Date date, Duration duration) {
        switch (duration.unit) {
        case DURATION_DAYS:
                return clamp_date((int64_t) date + duration.count);
        case DURATION_WEEKS:
                return clamp_date((int64_t) date + (int64_t) duration.count * 7);
        case DURATION_MONTHS:
                return add_months(date, duration.count);
        case DURATION_YEARS:
                return add_months(date, (int64_t) duration.count * 12);
        }
        return date;
}

Date date_subtract(Date date, Duration duration) {
        return date_add(date, duration_negate(duration));
}
