/* Retry: the waits between attempts and the last moment worth an attempt. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fixture.h"

#include <errno.h>

#include "noticed/retry.h"

#define S(x) ((usec_t) (x) *USEC_PER_SEC)

static void test_retry_delay_usec_doubles_from_base(void **state) {
        (void) state;
        /* random 0 takes the whole half off; UINT32_MAX % (half + 1) varies, so use exact
         * values: random = half gives the full wait. */
        assert_int_equal(retry_delay_usec(S(60), S(3600), 1, 0, 0), S(30));
        assert_int_equal(retry_delay_usec(S(60), S(3600), 1, (uint32_t) S(30), 0), S(60));
        assert_int_equal(retry_delay_usec(S(60), S(3600), 2, (uint32_t) S(60), 0), S(120));
        assert_int_equal(retry_delay_usec(S(60), S(3600), 3, (uint32_t) S(120), 0), S(240));
}

static void test_retry_delay_usec_stops_at_max(void **state) {
        (void) state;
        assert_int_equal(retry_delay_usec(S(60), S(3600), 7, (uint32_t) S(1800), 0), S(3600));
        assert_int_equal(retry_delay_usec(S(60), S(3600), 1000, (uint32_t) S(1800), 0), S(3600));
        assert_int_equal(retry_delay_usec(S(60), S(3600), UINT32_MAX, 0, 0), S(1800));
}

static void test_retry_delay_usec_jitter_stays_within_half(void **state) {
        (void) state;
        for (uint32_t random = 0; random < 100000; random += 977) {
                uint64_t d = retry_delay_usec(S(1), S(10), 2, random * 7919u, 0);
                assert_true(d >= S(1) && d <= S(2));
        }
}

static void test_retry_delay_usec_jitter_spans_a_long_half(void **state) {
        (void) state;
        /* A half of 3 hours is more µs than 32 bits hold: the whole of it is reachable. */
        assert_int_equal(retry_delay_usec(S(60), S(21600), 20, S(10800), 0), S(21600));
        assert_int_equal(retry_delay_usec(S(60), S(21600), 20, S(5400), 0), S(16200));
}

static void test_retry_delay_usec_honours_retry_after(void **state) {
        (void) state;
        assert_int_equal(retry_delay_usec(S(60), S(3600), 1, 0, S(120)), S(120));
        /* Retry-After never shortens the wait. */
        assert_int_equal(retry_delay_usec(S(60), S(3600), 1, (uint32_t) S(30), S(5)), S(60));
}

static void test_retry_delay_usec_retry_after_may_exceed_max(void **state) {
        (void) state;
        /* retry_max bounds the backoff, not the server: its Retry-After stands (the outbox then
         * stops at the message's deadline). */
        assert_int_equal(retry_delay_usec(S(60), S(3600), 1, 0, S(7200)), S(7200));
        assert_int_equal(retry_delay_usec(S(60), S(3600), 100, (uint32_t) S(1800), S(86400)),
                         S(86400));
}

static void test_retry_delay_usec_zero_attempts_is_the_first(void **state) {
        (void) state;
        assert_int_equal(retry_delay_usec(S(60), S(3600), 0, (uint32_t) S(30), 0), S(60));
}

static void test_retry_deadline_usec_reminder_ends_with_its_milestone_day(void **state) {
        Model *m = fixture_load(fixture_twente);
        int64_t deadline = 0, expected;
        int32_t offset;

        (void) state;
        assert_int_equal(retry_deadline_usec(m, "2020-05-19", true, 0, &deadline), 0);
        /* Local midnight after 19 May 2020: 2020-05-20 00:00 CEST = 2020-05-19 22:00 UTC. */
        tz_local_to_unix(m->tz, D("2020-05-20"), 0, &expected, &offset);
        assert_int_equal(deadline, expected * (int64_t) USEC_PER_SEC);
        assert_int_equal(expected, 1589925600);
        model_free(m);
}

static void test_retry_deadline_usec_overdue_gets_a_day(void **state) {
        Model *m = fixture_load(fixture_twente);
        int64_t deadline = 0;

        (void) state;
        assert_int_equal(
                retry_deadline_usec(m, "2020-05-19", false, INT64_C(1600000000000000), &deadline),
                0);
        assert_int_equal(deadline, INT64_C(1600000000000000) + INT64_C(86400000000));
        model_free(m);
}

static void test_retry_deadline_usec_refuses_a_bad_date(void **state) {
        Model *m = fixture_load(fixture_twente);
        int64_t deadline = 0;

        (void) state;
        assert_int_equal(retry_deadline_usec(m, "2020-13-01", true, 0, &deadline), -EINVAL);
        assert_int_equal(retry_deadline_usec(m, NULL, true, 0, &deadline), -EINVAL);
        model_free(m);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_retry_delay_usec_doubles_from_base),
                cmocka_unit_test(test_retry_delay_usec_stops_at_max),
                cmocka_unit_test(test_retry_delay_usec_jitter_stays_within_half),
                cmocka_unit_test(test_retry_delay_usec_jitter_spans_a_long_half),
                cmocka_unit_test(test_retry_delay_usec_honours_retry_after),
                cmocka_unit_test(test_retry_delay_usec_retry_after_may_exceed_max),
                cmocka_unit_test(test_retry_delay_usec_zero_attempts_is_the_first),
                cmocka_unit_test(test_retry_deadline_usec_reminder_ends_with_its_milestone_day),
                cmocka_unit_test(test_retry_deadline_usec_overdue_gets_a_day),
                cmocka_unit_test(test_retry_deadline_usec_refuses_a_bad_date),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
