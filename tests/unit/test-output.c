/* Unit tests for the cached timestamps of the JSON output (tz.h).
 *
 * The timestamp cache promises tz_unix_to_local() + tz_format_rfc3339(): it is compared instant
 * by instant across DST transitions and Pacific/Apia's skipped 2011-12-30. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noticed/tz.h"

/* A small deterministic generator (xorshift64*), so that a failure can be replayed. */
static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

static uint32_t rng(void) {
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        return (uint32_t) ((rng_state * UINT64_C(2685821657736338717)) >> 32);
}

/* --- timestamps from the cache (tz.h) --- */

static Tz *load(const char *name) {
        Tz *tz = NULL;

        if (tz_load(name, &tz) < 0)
                fail_msg("tz_load(\"%s\") failed: is tzdata installed?", name);
        return tz;
}

static void assert_stamp(const Tz *tz, TzStampCache *cache, int64_t t) {
        char expected[TZ_TIMESTAMP_MAX], got[TZ_TIMESTAMP_MAX];
        int32_t seconds, offset;
        Date d;

        tz_unix_to_local(tz, t, &d, &seconds, &offset);
        (void) tz_format_rfc3339(t, offset, expected);
        (void) tz_format_local_cached(tz, cache, t, got);
        if (strcmp(expected, got) != 0)
                fail_msg("%s at %lld: expected %s, got %s", tz_name(tz), (long long) t, expected,
                         got);
        /* With the offset given, as simulate has it from the plan. */
        TzStampCache other = TZ_STAMP_CACHE_INIT;
        (void) tz_format_rfc3339_cached(&other, t, offset, got);
        assert_string_equal(expected, got);
}

/* Every step seconds over [from, to), forwards then backwards, with one cache each way, and a
 * third cache fed the same instants in a shuffled order. */
static void assert_stamps_over(const char *zone, int64_t from, int64_t to, int64_t step) {
        Tz *tz = load(zone);
        TzStampCache forwards = TZ_STAMP_CACHE_INIT, backwards = TZ_STAMP_CACHE_INIT,
                     jumping = TZ_STAMP_CACHE_INIT;

        for (int64_t t = from; t < to; t += step)
                assert_stamp(tz, &forwards, t);
        for (int64_t t = to - 1; t >= from; t -= step)
                assert_stamp(tz, &backwards, t);
        for (int64_t i = 0; i < (to - from) / step; i++)
                assert_stamp(tz, &jumping, from + (int64_t) (rng() % (uint64_t) (to - from)));
        /* Both sides of each second near a transition, which a step may jump over. */
        for (int64_t t = from; t < to; t += step) {
                int32_t a, b, s;
                Date d;
                tz_unix_to_local(tz, t, &d, &s, &a);
                tz_unix_to_local(tz, t + step, &d, &s, &b);
                for (int64_t u = t; a != b && u <= t + step; u++)
                        assert_stamp(tz, &forwards, u);
        }
        tz_free(tz);
}

static void test_tz_format_local_cached_across_amsterdam_dst(void **state) {
        (void) state;
        /* 2020-03-28 .. 2020-03-31 (clocks forward 29 March, 02:00 CET) */
        assert_stamps_over("Europe/Amsterdam", 1585350000, 1585350000 + 3 * 86400, 599);
        /* 2020-10-24 .. 2020-10-27 (back 25 October, 03:00 CEST) */
        assert_stamps_over("Europe/Amsterdam", 1603490000, 1603490000 + 3 * 86400, 599);
        /* 1940-05-15, the German occupation's clock change (+00:20 to +02:00), and 1977. */
        assert_stamps_over("Europe/Amsterdam", -934000000, -934000000 + 4 * 86400, 601);
        assert_stamps_over("Europe/Amsterdam", 228000000, 228000000 + 4 * 86400, 601);
}

static void test_tz_format_local_cached_across_apia_skipped_day(void **state) {
        (void) state;
        /* Pacific/Apia went from -10:00 to +14:00 at the end of 2011-12-29: no 30 December. */
        assert_stamps_over("Pacific/Apia", 1325070000, 1325070000 + 4 * 86400, 317);
}

static void test_tz_format_local_cached_over_years(void **state) {
        (void) state;
        assert_stamps_over("Europe/Amsterdam", 1262304000, 1262304000 + 3LL * 365 * 86400, 7919);
        assert_stamps_over("America/New_York", 1262304000, 1262304000 + 2LL * 365 * 86400, 7919);
        assert_stamps_over("UTC", -86400 * 3, 86400 * 3, 3571);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tz_format_local_cached_across_amsterdam_dst),
                cmocka_unit_test(test_tz_format_local_cached_across_apia_skipped_day),
                cmocka_unit_test(test_tz_format_local_cached_over_years),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
