/* Unit tests for the tz module: IANA zones, local civil time <-> Unix time, DST gaps and overlaps.
 *
 * Written from the contract (DESIGN.md "Dates and durations", tz.h), not from daemon/tz.c.  The
 * expected instants were computed independently with Python's zoneinfo module against the same
 * system tzdata, and checked by hand for Europe/Amsterdam (CET +01:00, CEST +02:00; in 2020 the
 * clocks went forward at 02:00 on 29 March and back at 03:00 on 25 October). */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "noticed/date.h"
#include "noticed/tz.h"

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

static Date P(const char *s) {
        Date d = 0;

        assert_int_equal(date_parse(s, &d), 0);
        return d;
}

static Tz *load(const char *name) {
        Tz *tz = NULL;
        int r;

        r = tz_load(name, &tz);
        if (r != 0)
                print_error("tz_load(\"%s\") returned %d\n", name, r);
        assert_int_equal(r, 0);
        assert_non_null(tz);
        return tz;
}

/* "YYYY-MM-DDTHH:MM:SS..." -> date and seconds after midnight. */
static void split_local(const char *rfc3339, Date *ret_date, int32_t *ret_seconds) {
        char date[DATE_STRING_MAX];
        int h, m, s;

        memcpy(date, rfc3339, 10); /* "YYYY-MM-DD" */
        date[10] = '\0';
        *ret_date = P(date);
        assert_int_equal(sscanf(rfc3339 + 11, "%2d:%2d:%2d", &h, &m, &s), 3);
        *ret_seconds = h * 3600 + m * 60 + s;
}

#define H(h, m) ((int32_t) (3600 * (h) + 60 * (m)))

typedef struct ConversionCase {
        const char *zone;
        const char *date;
        int32_t seconds;
        int64_t unix_time;
        int32_t utc_offset;
        const char *rfc3339; /* the instant as local time: where a gap moved it, the new time */
} ConversionCase;

static const ConversionCase conversion_cases[] = {
        /* Winter and summer at 09:00. */
        {"Europe/Amsterdam", "2020-01-15", H(9, 0), 1579075200, 3600, "2020-01-15T09:00:00+01:00"},
        {"Europe/Amsterdam", "2020-04-17", H(9, 0), 1587106800, 7200, "2020-04-17T09:00:00+02:00"},
        {"Europe/Amsterdam", "2017-11-30", H(9, 0), 1512028800, 3600, "2017-11-30T09:00:00+01:00"},
        {"Europe/Amsterdam", "2020-06-30", H(9, 0), 1593500400, 7200, "2020-06-30T09:00:00+02:00"},
        /* The change days themselves, at 09:00 the new offset is in force. */
        {"Europe/Amsterdam", "2020-03-29", H(9, 0), 1585465200, 7200, "2020-03-29T09:00:00+02:00"},
        {"Europe/Amsterdam", "2020-10-25", H(9, 0), 1603612800, 3600, "2020-10-25T09:00:00+01:00"},
        /* Spring: 02:00-03:00 does not exist; it moves forward by the gap (one hour). */
        {"Europe/Amsterdam", "2020-03-29", H(0, 0), 1585436400, 3600, "2020-03-29T00:00:00+01:00"},
        {"Europe/Amsterdam", "2020-03-29", H(2, 0) - 1, 1585443599, 3600,
         "2020-03-29T01:59:59+01:00"},
        {"Europe/Amsterdam", "2020-03-29", H(2, 0), 1585443600, 7200, "2020-03-29T03:00:00+02:00"},
        {"Europe/Amsterdam", "2020-03-29", H(2, 30), 1585445400, 7200, "2020-03-29T03:30:00+02:00"},
        {"Europe/Amsterdam", "2020-03-29", H(3, 0) - 1, 1585447199, 7200,
         "2020-03-29T03:59:59+02:00"},
        {"Europe/Amsterdam", "2020-03-29", H(3, 0), 1585443600, 7200, "2020-03-29T03:00:00+02:00"},
        {"Europe/Amsterdam", "2021-03-28", H(2, 30), 1616895000, 7200, "2021-03-28T03:30:00+02:00"},
        /* Autumn: 02:00-03:00 happens twice; the earlier instant (+02:00) wins. */
        {"Europe/Amsterdam", "2020-10-25", H(0, 0), 1603576800, 7200, "2020-10-25T00:00:00+02:00"},
        {"Europe/Amsterdam", "2020-10-25", H(2, 0) - 1, 1603583999, 7200,
         "2020-10-25T01:59:59+02:00"},
        {"Europe/Amsterdam", "2020-10-25", H(2, 0), 1603584000, 7200, "2020-10-25T02:00:00+02:00"},
        {"Europe/Amsterdam", "2020-10-25", H(2, 30), 1603585800, 7200, "2020-10-25T02:30:00+02:00"},
        {"Europe/Amsterdam", "2020-10-25", H(3, 0) - 1, 1603587599, 7200,
         "2020-10-25T02:59:59+02:00"},
        {"Europe/Amsterdam", "2020-10-25", H(3, 0), 1603591200, 3600, "2020-10-25T03:00:00+01:00"},
        {"Europe/Amsterdam", "2021-10-31", H(2, 30), 1635640200, 7200, "2021-10-31T02:30:00+02:00"},
        /* Both ends of a day. */
        {"Europe/Amsterdam", "2020-04-17", H(0, 0), 1587074400, 7200, "2020-04-17T00:00:00+02:00"},
        {"Europe/Amsterdam", "2020-04-17", H(24, 0) - 1, 1587160799, 7200,
         "2020-04-17T23:59:59+02:00"},
        {"Europe/Amsterdam", "2017-11-30", H(24, 0) - 1, 1512082799, 3600,
         "2017-11-30T23:59:59+01:00"},
        /* Beyond 2038 and far out: the zone's rule still applies. */
        {"Europe/Amsterdam", "2100-01-01", H(9, 0), 4102473600, 3600, "2100-01-01T09:00:00+01:00"},
        {"Europe/Amsterdam", "2100-07-01", H(9, 0), 4118108400, 7200, "2100-07-01T09:00:00+02:00"},
        {"Europe/Amsterdam", "9999-07-01", H(9, 0), 253386428400, 7200,
         "9999-07-01T09:00:00+02:00"},
        /* UTC, around the epoch and at the ends of the date range. */
        {"UTC", "2020-04-17", H(9, 0), 1587114000, 0, "2020-04-17T09:00:00+00:00"},
        {"UTC", "1970-01-01", 0, 0, 0, "1970-01-01T00:00:00+00:00"},
        {"UTC", "1969-12-31", H(24, 0) - 1, -1, 0, "1969-12-31T23:59:59+00:00"},
        {"UTC", "9999-12-31", H(24, 0) - 1, 253402300799, 0, "9999-12-31T23:59:59+00:00"},
        {"UTC", "0001-01-01", 0, -62135596800, 0, "0001-01-01T00:00:00+00:00"},
        {"Etc/UTC", "2020-04-17", H(9, 0), 1587114000, 0, "2020-04-17T09:00:00+00:00"},
        /* West of Greenwich, with its own gap and overlap. */
        {"America/New_York", "2020-01-15", H(9, 0), 1579096800, -18000,
         "2020-01-15T09:00:00-05:00"},
        {"America/New_York", "2020-03-08", H(2, 30), 1583652600, -14400,
         "2020-03-08T03:30:00-04:00"},
        {"America/New_York", "2020-11-01", H(1, 30), 1604208600, -14400,
         "2020-11-01T01:30:00-04:00"},
        /* A half-hour DST shift: the gap is 30 minutes, and so is the move. */
        {"Australia/Lord_Howe", "2020-10-04", H(2, 15), 1601739900, 39600,
         "2020-10-04T02:45:00+11:00"},
        {"Australia/Lord_Howe", "2020-04-05", H(1, 45), 1586011500, 39600,
         "2020-04-05T01:45:00+11:00"},
        /* Offsets with minutes, on both sides. */
        {"Asia/Kathmandu", "2020-01-15", H(9, 0), 1579058100, 20700, "2020-01-15T09:00:00+05:45"},
        {"America/St_Johns", "2020-01-15", H(9, 0), 1579091400, -12600,
         "2020-01-15T09:00:00-03:30"},
        /* Names with '+', '-' and three components are valid IANA names. */
        {"Etc/GMT+5", "2020-06-01", H(9, 0), 1591020000, -18000, "2020-06-01T09:00:00-05:00"},
        {"America/Argentina/Buenos_Aires", "2020-06-01", H(9, 0), 1591012800, -10800,
         "2020-06-01T09:00:00-03:00"},
        {"America/Port-au-Prince", "2020-01-15", H(9, 0), 1579096800, -18000,
         "2020-01-15T09:00:00-05:00"},
};

static void test_tz_local_to_unix_table(void **state) {
        unsigned failures = 0;

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(conversion_cases); i++) {
                const ConversionCase *t = &conversion_cases[i];
                Tz *tz = load(t->zone);
                int64_t unix_time = INT64_MIN;
                int32_t offset = INT32_MIN, seconds = -1;
                char buf[TZ_TIMESTAMP_MAX];
                Date date = 0, expected_date;
                int32_t expected_seconds;

                tz_local_to_unix(tz, P(t->date), t->seconds, &unix_time, &offset);
                if (unix_time != t->unix_time || offset != t->utc_offset) {
                        print_error("tz_local_to_unix(%s, %s, %" PRId32 "): expected %" PRId64
                                    " %+" PRId32 ", got %" PRId64 " %+" PRId32 "\n",
                                    t->zone, t->date, t->seconds, t->unix_time, t->utc_offset,
                                    unix_time, offset);
                        failures++;
                }

                /* The expected instant formatted in its offset. */
                if (strcmp(tz_format_rfc3339(t->unix_time, t->utc_offset, buf), t->rfc3339) != 0) {
                        print_error("tz_format_rfc3339(%" PRId64 ", %" PRId32
                                    "): expected %s, got %s\n",
                                    t->unix_time, t->utc_offset, t->rfc3339, buf);
                        failures++;
                }

                /* And back: the instant is that local time in the zone. */
                split_local(t->rfc3339, &expected_date, &expected_seconds);
                offset = INT32_MIN;
                tz_unix_to_local(tz, t->unix_time, &date, &seconds, &offset);
                if (date != expected_date || seconds != expected_seconds ||
                    offset != t->utc_offset) {
                        char d[DATE_STRING_MAX];

                        print_error("tz_unix_to_local(%s, %" PRId64
                                    "): expected %s, got %s +%" PRId32 "s offset %" PRId32 "\n",
                                    t->zone, t->unix_time, t->rfc3339, date_format(date, d),
                                    seconds, offset);
                        failures++;
                }
                tz_free(tz);
        }
        assert_int_equal(failures, 0);
}

static void test_tz_local_to_unix_amsterdam_summer_and_winter(void **state) {
        char buf[TZ_TIMESTAMP_MAX];
        int64_t unix_time;
        int32_t offset;
        Tz *tz;

        (void) state;
        tz = load("Europe/Amsterdam");
        tz_local_to_unix(tz, P("2020-04-17"), H(9, 0), &unix_time, &offset);
        assert_int_equal(offset, 7200);
        assert_string_equal(tz_format_rfc3339(unix_time, 0, buf), "2020-04-17T07:00:00+00:00");
        assert_string_equal(tz_format_rfc3339(unix_time, offset, buf), "2020-04-17T09:00:00+02:00");
        tz_local_to_unix(tz, P("2020-01-15"), H(9, 0), &unix_time, &offset);
        assert_int_equal(offset, 3600);
        assert_string_equal(tz_format_rfc3339(unix_time, offset, buf), "2020-01-15T09:00:00+01:00");
        tz_free(tz);
}

static void test_tz_local_to_unix_spring_gap_moves_forward(void **state) {
        char buf[TZ_TIMESTAMP_MAX];
        int64_t unix_time;
        int32_t offset;
        Tz *tz;

        (void) state;
        tz = load("Europe/Amsterdam");
        tz_local_to_unix(tz, P("2020-03-29"), H(2, 30), &unix_time, &offset);
        assert_int_equal(unix_time, 1585445400); /* 2020-03-29T01:30:00Z */
        assert_int_equal(offset, 7200);
        assert_string_equal(tz_format_rfc3339(unix_time, offset, buf), "2020-03-29T03:30:00+02:00");
        tz_free(tz);
}

static void test_tz_local_to_unix_autumn_overlap_takes_earlier(void **state) {
        char buf[TZ_TIMESTAMP_MAX];
        int64_t unix_time;
        int32_t offset;
        Tz *tz;

        (void) state;
        tz = load("Europe/Amsterdam");
        tz_local_to_unix(tz, P("2020-10-25"), H(2, 30), &unix_time, &offset);
        assert_int_equal(unix_time, 1603585800); /* 2020-10-25T00:30:00Z */
        assert_int_equal(offset, 7200);
        assert_string_equal(tz_format_rfc3339(unix_time, offset, buf), "2020-10-25T02:30:00+02:00");
        tz_free(tz);
}

/* Samoa skipped Friday 2011-12-30 entirely: the gap is a whole day. */
static void test_tz_local_to_unix_skipped_day_moves_forward(void **state) {
        char buf[TZ_TIMESTAMP_MAX];
        int64_t unix_time;
        int32_t offset;
        Tz *tz;

        (void) state;
        tz = load("Pacific/Apia");
        tz_local_to_unix(tz, P("2011-12-30"), H(9, 0), &unix_time, &offset);
        assert_string_equal(tz_format_rfc3339(unix_time, offset, buf), "2011-12-31T09:00:00+14:00");
        assert_int_equal(unix_time, 1325271600);
        assert_int_equal(offset, 50400);
        tz_free(tz);
}

static void test_tz_unix_to_local_second_occurrence_of_overlap(void **state) {
        Date date = 0;
        int32_t seconds = -1, offset = 0;
        Tz *tz;

        (void) state;
        tz = load("Europe/Amsterdam");
        /* 2020-10-25T01:30:00Z is the second 02:30 local, in winter time. */
        tz_unix_to_local(tz, 1603589400, &date, &seconds, &offset);
        assert_int_equal(date, P("2020-10-25"));
        assert_int_equal(seconds, H(2, 30));
        assert_int_equal(offset, 3600);
        /* 2020-10-25T00:30:00Z is the first. */
        tz_unix_to_local(tz, 1603585800, &date, &seconds, &offset);
        assert_int_equal(date, P("2020-10-25"));
        assert_int_equal(seconds, H(2, 30));
        assert_int_equal(offset, 7200);
        /* Around the epoch, in a zone east of UTC. */
        tz_unix_to_local(tz, -1, &date, &seconds, &offset);
        assert_int_equal(date, P("1970-01-01"));
        assert_int_equal(seconds, H(1, 0) - 1);
        assert_int_equal(offset, 3600);
        tz_free(tz);
}

/* Every quarter hour of 2020 in Amsterdam: unix -> local -> unix returns the instant, except
 * in the repeated hour, where local -> unix gives the first occurrence. */
static void test_tz_unix_to_local_round_trip_amsterdam_2020(void **state) {
        const int64_t first = 1577833200; /* 2020-01-01T00:00:00+01:00 */
        const int64_t last = 1609459200;  /* 2021-01-01T00:00:00+01:00 */
        const int64_t repeat_begin = 1603587600, repeat_end = 1603591200;
        unsigned failures = 0;
        Tz *tz;

        (void) state;
        tz = load("Europe/Amsterdam");
        for (int64_t u = first; u < last; u += 900) {
                Date date = 0;
                int32_t seconds = -1, offset = 0, offset2 = 0;
                int64_t u2 = 0, expected;

                tz_unix_to_local(tz, u, &date, &seconds, &offset);
                expected = u >= repeat_begin && u < repeat_end ? u - 3600 : u;
                tz_local_to_unix(tz, date, seconds, &u2, &offset2);
                if (seconds >= 0 && seconds < 86400 && (offset == 3600 || offset == 7200) &&
                    (int64_t) date * 86400 + seconds - offset == u && u2 == expected &&
                    (u2 == u ? offset2 == offset : offset2 == 7200))
                        continue;
                if (failures++ < 20)
                        print_error("%" PRId64 ": local day %" PRId32 " +%" PRId32
                                    "s offset %" PRId32 ", back %" PRId64 " offset %" PRId32 "\n",
                                    u, date, seconds, offset, u2, offset2);
        }
        tz_free(tz);
        assert_int_equal(failures, 0);
}

/* For many zones over 1970..2040: local = utc + offset, and local -> unix finds an instant with
 * the same wall time, never a later one. */
static void test_tz_unix_to_local_round_trip_many_zones(void **state) {
        /* clang-format off */
        static const char *const zones[] = {
                "Europe/Amsterdam", "UTC",           "America/New_York",    "Australia/Lord_Howe",
                "Asia/Kathmandu",   "Pacific/Apia",  "America/St_Johns",    "Europe/London",
                "Asia/Tokyo",       "Pacific/Chatham", "America/Sao_Paulo", "Africa/Casablanca",
        };
        /* clang-format on */
        unsigned failures = 0;

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(zones); i++) {
                Tz *tz = load(zones[i]);

                for (int64_t u = 0; u < INT64_C(2208988800); u += 86400 * 3 + 3607) {
                        Date date = 0;
                        int32_t seconds = -1, offset = 0, offset2 = 0;
                        int64_t u2 = 0;

                        tz_unix_to_local(tz, u, &date, &seconds, &offset);
                        tz_local_to_unix(tz, date, seconds, &u2, &offset2);
                        if (seconds >= 0 && seconds < 86400 &&
                            (int64_t) date * 86400 + seconds - offset == u && u2 <= u &&
                            u2 + offset2 == u + offset)
                                continue;
                        if (failures++ < 20)
                                print_error("%s %" PRId64 ": day %" PRId32 " +%" PRId32
                                            "s offset %" PRId32 ", back %" PRId64 " offset %" PRId32
                                            "\n",
                                            zones[i], u, date, seconds, offset, u2, offset2);
                }
                tz_free(tz);
        }
        assert_int_equal(failures, 0);
}

/* Two zones used in turn (the old and the new config during a reload) each stay correct. */
static void test_tz_local_to_unix_two_zones_coexist(void **state) {
        Tz *amsterdam, *new_york, *utc;

        (void) state;
        amsterdam = load("Europe/Amsterdam");
        new_york = load("America/New_York");
        for (int round = 0; round < 3; round++) {
                int64_t u;
                int32_t offset;

                tz_local_to_unix(amsterdam, P("2020-04-17"), H(9, 0), &u, &offset);
                assert_int_equal(u, 1587106800);
                assert_int_equal(offset, 7200);
                tz_local_to_unix(new_york, P("2020-01-15"), H(9, 0), &u, &offset);
                assert_int_equal(u, 1579096800);
                assert_int_equal(offset, -18000);
                tz_local_to_unix(amsterdam, P("2020-01-15"), H(9, 0), &u, &offset);
                assert_int_equal(u, 1579075200);
                assert_int_equal(offset, 3600);
        }
        assert_string_equal(tz_name(amsterdam), "Europe/Amsterdam");
        assert_string_equal(tz_name(new_york), "America/New_York");

        /* A third one comes and goes; the first two are unaffected. */
        utc = load("UTC");
        {
                Date date = 0;
                int32_t seconds = 0, offset = 0;

                tz_unix_to_local(utc, 1587106800, &date, &seconds, &offset);
                assert_int_equal(seconds, H(7, 0));
                assert_int_equal(offset, 0);
                tz_free(utc);
                tz_unix_to_local(amsterdam, 1587106800, &date, &seconds, &offset);
                assert_int_equal(date, P("2020-04-17"));
                assert_int_equal(seconds, H(9, 0));
                assert_int_equal(offset, 7200);
                tz_free(amsterdam);
                tz_unix_to_local(new_york, 1587106800, &date, &seconds, &offset);
                assert_int_equal(date, P("2020-04-17"));
                assert_int_equal(seconds, H(3, 0));
                assert_int_equal(offset, -14400);
        }
        tz_free(new_york);
}

/* The process's own TZ (whatever the daemon was started with) does not leak into a Tz. */
static void test_tz_local_to_unix_ignores_process_tz(void **state) {
        int64_t u;
        int32_t offset;
        Tz *tz;

        (void) state;
        assert_int_equal(setenv("TZ", "Asia/Tokyo", 1), 0);
        tzset();
        tz = load("Europe/Amsterdam");
        tz_local_to_unix(tz, P("2020-04-17"), H(9, 0), &u, &offset);
        assert_int_equal(u, 1587106800);
        assert_int_equal(offset, 7200);
        tz_free(tz);
        assert_int_equal(unsetenv("TZ"), 0);
        tzset();
}

static void test_tz_load_accepts_names(void **state) {
        /* clang-format off */
        static const char *const names[] = {
                "Europe/Amsterdam", "UTC", "Etc/UTC", "America/New_York",
                "America/Argentina/Buenos_Aires", "Etc/GMT+5", "Etc/GMT-14", "America/Port-au-Prince",
        };
        /* clang-format on */

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                Tz *tz = load(names[i]);

                assert_string_equal(tz_name(tz), names[i]);
                assert_null(tz_free(tz));
        }
        assert_null(tz_free(NULL));
}

static void test_tz_load_rejects_bad_names(void **state) {
        static const struct {
                const char *name;
                int expected; /* 0: any negative errno */
        } bad[] = {
                {"../etc/passwd", -EINVAL},
                {"/etc/localtime", -EINVAL},
                {"", -EINVAL},
                {"Europe/Nowhere", -ENOENT},
                {"Europe/../UTC", -EINVAL},
                {"./UTC", -EINVAL},
                {"Europe/./Amsterdam", -EINVAL},
                {"Europe//Amsterdam", -EINVAL},
                {"Europe/Amsterdam/", -EINVAL},
                {"/usr/share/zoneinfo/UTC", -EINVAL},
                {"..", -EINVAL},
                {"Europe/Amsterdam\n", -EINVAL},
                {":Europe/Amsterdam", -EINVAL},
                {"Europe/Amsterdam ", 0},
                {"CET-1CEST,M3.5.0,M10.5.0/3", 0}, /* a POSIX TZ string is not a zone name */
                {"Nowhere", -ENOENT},
                {"Europe", 0},    /* a directory */
                {"zone.tab", 0},  /* a file in zoneinfo, but no zone */
                {"tzdata.zi", 0}, /* likewise */
        };
        unsigned failures = 0;

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                Tz *tz = NULL;
                int r = tz_load(bad[i].name, &tz);

                if (bad[i].expected != 0 ? r == bad[i].expected : r < 0)
                        continue;
                print_error("tz_load(\"%s\"): expected %d, got %d\n", bad[i].name, bad[i].expected,
                            r);
                failures++;
                if (r >= 0)
                        tz_free(tz);
        }
        assert_int_equal(failures, 0);
}

/* zoneinfo/localtime is the host's /etc/localtime under another name (a symlink on Debian):
 * accepting it would make the configured zone depend on the machine, which is exactly why
 * "/etc/localtime" is refused.  It is not an IANA zone name. */
static void test_tz_load_rejects_localtime_alias(void **state) {
        Tz *tz = NULL;
        int r;

        (void) state;
        r = tz_load("localtime", &tz);
        if (r >= 0) {
                print_error("tz_load(\"localtime\") returned %d, expected a negative errno\n", r);
                tz_free(tz);
        }
        assert_true(r < 0);
}

static void test_tz_load_rejects_very_long_name(void **state) {
        char *name;
        Tz *tz = NULL;
        int r;

        (void) state;
        name = malloc(10001);
        assert_non_null(name);
        memset(name, 'A', 10000);
        name[10000] = '\0';
        r = tz_load(name, &tz);
        free(name);
        if (r >= 0)
                tz_free(tz);
        assert_true(r < 0);
}

static void test_tz_format_rfc3339_offsets(void **state) {
        char buf[TZ_TIMESTAMP_MAX];

        (void) state;
        assert_ptr_equal(tz_format_rfc3339(1587106800, 7200, buf), buf);
        assert_string_equal(buf, "2020-04-17T09:00:00+02:00");
        assert_string_equal(tz_format_rfc3339(1587106800, 0, buf), "2020-04-17T07:00:00+00:00");
        assert_string_equal(tz_format_rfc3339(1579075200, 3600, buf), "2020-01-15T09:00:00+01:00");
        assert_string_equal(tz_format_rfc3339(0, 0, buf), "1970-01-01T00:00:00+00:00");
        assert_string_equal(tz_format_rfc3339(-1, 0, buf), "1969-12-31T23:59:59+00:00");
        assert_string_equal(tz_format_rfc3339(0, -12600, buf), "1969-12-31T20:30:00-03:30");
        assert_string_equal(tz_format_rfc3339(0, -1800, buf), "1969-12-31T23:30:00-00:30");
        assert_string_equal(tz_format_rfc3339(0, 20700, buf), "1970-01-01T05:45:00+05:45");
        assert_string_equal(tz_format_rfc3339(0, 50400, buf), "1970-01-01T14:00:00+14:00");
        assert_string_equal(tz_format_rfc3339(0, -43200, buf), "1969-12-31T12:00:00-12:00");
        assert_string_equal(tz_format_rfc3339(253402300799, 0, buf), "9999-12-31T23:59:59+00:00");
        assert_string_equal(tz_format_rfc3339(-62135596800, 0, buf), "0001-01-01T00:00:00+00:00");
        /* Crossing a year boundary because of the offset. */
        assert_string_equal(tz_format_rfc3339(1609455600, 3600, buf), "2021-01-01T00:00:00+01:00");
        assert_string_equal(tz_format_rfc3339(1609455600, 0, buf), "2020-12-31T23:00:00+00:00");
}

/* What STATUS= and people read after a time: tzdata's abbreviation, winter and summer. */
static void test_tz_abbreviation(void **state) {
        char buf[TZ_ABBREVIATION_MAX];
        Tz *ams = NULL, *utc = NULL, *kolkata = NULL;

        (void) state;
        assert_int_equal(tz_load("Europe/Amsterdam", &ams), 0);
        assert_int_equal(tz_load("UTC", &utc), 0);
        assert_int_equal(tz_load("Asia/Kolkata", &kolkata), 0);
        assert_ptr_equal(tz_abbreviation(ams, 1579075200, buf), buf); /* 2020-01-15 */
        assert_string_equal(buf, "CET");
        assert_string_equal(tz_abbreviation(ams, 1587106800, buf), "CEST"); /* 2020-04-17 */
        assert_string_equal(tz_abbreviation(utc, 1587106800, buf), "UTC");
        assert_string_equal(tz_abbreviation(kolkata, 1587106800, buf), "IST");
        /* The zone is switched back and forth, as with two configs during a reload. */
        assert_string_equal(tz_abbreviation(ams, 1579075200, buf), "CET");
        tz_free(kolkata);
        tz_free(utc);
        tz_free(ams);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tz_local_to_unix_table),
                cmocka_unit_test(test_tz_local_to_unix_amsterdam_summer_and_winter),
                cmocka_unit_test(test_tz_local_to_unix_spring_gap_moves_forward),
                cmocka_unit_test(test_tz_local_to_unix_autumn_overlap_takes_earlier),
                cmocka_unit_test(test_tz_local_to_unix_skipped_day_moves_forward),
                cmocka_unit_test(test_tz_unix_to_local_second_occurrence_of_overlap),
                cmocka_unit_test(test_tz_unix_to_local_round_trip_amsterdam_2020),
                cmocka_unit_test(test_tz_unix_to_local_round_trip_many_zones),
                cmocka_unit_test(test_tz_local_to_unix_two_zones_coexist),
                cmocka_unit_test(test_tz_local_to_unix_ignores_process_tz),
                cmocka_unit_test(test_tz_load_accepts_names),
                cmocka_unit_test(test_tz_load_rejects_bad_names),
                cmocka_unit_test(test_tz_load_rejects_localtime_alias),
                cmocka_unit_test(test_tz_load_rejects_very_long_name),
                cmocka_unit_test(test_tz_format_rfc3339_offsets),
                cmocka_unit_test(test_tz_abbreviation),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
