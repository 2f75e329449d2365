/* Catch-up: which missed reminders are sent, and which recorded as skipped (catchup.h). */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "noticed/catchup.h"

static Date D(const char *s) {
        Date d;
        assert_int_equal(date_parse(s, &d), 0);
        return d;
}

/* A reminder dated `date` (at 09:00 UTC) for a decision milestone on `milestone`. */
static DueReminder due(const char *date, const char *milestone, uint32_t recipient,
                       uint32_t channel, int32_t offset_days) {
        DueReminder d = {.channel = channel};

        d.reminder.date = D(date);
        d.reminder.at = (int64_t) d.reminder.date * 86400 + 9 * 3600;
        d.reminder.milestone = (Milestone){.date = D(milestone),
                                           .commitment = 0,
                                           .kind = MILESTONE_DECISION,
                                           .cycle = 1,
                                           .deadline = -1};
        d.reminder.recipient = recipient;
        d.reminder.offset = (Duration){offset_days, DURATION_DAYS};
        return d;
}

static void test_catch_up_decide_sends_only_the_latest_missed_offset(void **state) {
        DueReminder d[] = {due("2026-10-01", "2026-12-01", 0, 0, 61),
                           due("2026-11-20", "2026-12-01", 0, 0, 11),
                           due("2026-11-01", "2026-12-01", 0, 0, 30)};
        CatchUpAction a[3];

        (void) state;
        assert_int_equal(catch_up_decide(d, 3, D("2026-11-28"), a), 0);
        assert_int_equal(a[0], CATCH_UP_SKIP_SUPERSEDED);
        assert_int_equal(a[1], CATCH_UP_SEND);
        assert_int_equal(a[2], CATCH_UP_SKIP_SUPERSEDED);
}

static void test_catch_up_decide_groups_by_recipient_and_channel(void **state) {
        DueReminder d[] = {due("2026-11-01", "2026-12-01", 0, 0, 30),
                           due("2026-11-01", "2026-12-01", 1, 0, 30),
                           due("2026-11-01", "2026-12-01", 0, 1, 30),
                           due("2026-11-20", "2026-12-01", 1, 0, 11)};
        CatchUpAction a[4];

        (void) state;
        assert_int_equal(catch_up_decide(d, 4, D("2026-11-28"), a), 0);
        assert_int_equal(a[0], CATCH_UP_SEND);            /* recipient 0, mail */
        assert_int_equal(a[1], CATCH_UP_SKIP_SUPERSEDED); /* recipient 1 has a later one */
        assert_int_equal(a[2], CATCH_UP_SEND);            /* recipient 0, webhook */
        assert_int_equal(a[3], CATCH_UP_SEND);
}

static void test_catch_up_decide_skips_when_the_milestone_has_passed(void **state) {
        DueReminder d[] = {due("2026-11-01", "2026-11-27", 0, 0, 26),
                           due("2026-11-20", "2026-11-28", 0, 0, 8)};
        CatchUpAction a[2];

        (void) state;
        assert_int_equal(catch_up_decide(d, 2, D("2026-11-28"), a), 0);
        assert_int_equal(a[0], CATCH_UP_SKIP_PASSED);
        assert_int_equal(a[1], CATCH_UP_SEND); /* the milestone is today: still ahead */
}

static void test_catch_up_decide_sends_overdue_within_grace_only(void **state) {
        DueReminder d[] = {due("2026-11-20", "2026-11-19", 0, 0, 1),
                           due("2026-10-28", "2026-10-27", 1, 0, 1),
                           due("2026-10-29", "2026-10-28", 2, 0, 1)};
        CatchUpAction a[3];

        (void) state;
        for (size_t i = 0; i < 3; i++)
                d[i].reminder.overdue = true;
        assert_int_equal(catch_up_decide(d, 3, D("2026-11-28"), a), 0);
        assert_int_equal(a[0], CATCH_UP_SEND);
        assert_int_equal(a[1], CATCH_UP_SKIP_PASSED); /* 31 days late */
        assert_int_equal(a[2], CATCH_UP_SEND);        /* 30 days late */
}

static void test_catch_up_decide_keeps_overdue_apart_from_reminders(void **state) {
        DueReminder d[] = {due("2026-11-20", "2026-11-27", 0, 0, 7),
                           due("2026-11-28", "2026-11-27", 0, 0, 1)};
        CatchUpAction a[2];

        (void) state;
        d[1].reminder.overdue = true;
        assert_int_equal(catch_up_decide(d, 2, D("2026-11-28"), a), 0);
        assert_int_equal(a[0], CATCH_UP_SKIP_PASSED);
        assert_int_equal(a[1], CATCH_UP_SEND);
}

static void test_catch_up_decide_never_sends_an_older_reminder_after_a_newer_one(void **state) {
        /* A reload added an 8d offset after the 7d reminder had gone out. */
        DueReminder d[] = {due("2026-11-23", "2026-12-01", 0, 0, 8),
                           due("2026-11-24", "2026-12-01", 0, 0, 7)};
        CatchUpAction a[2];

        (void) state;
        d[1].settled = true;
        assert_int_equal(catch_up_decide(d, 2, D("2026-11-28"), a), 0);
        assert_int_equal(a[0], CATCH_UP_SKIP_SUPERSEDED);
        assert_int_equal(a[1], CATCH_UP_SETTLED);
}

static void test_catch_up_decide_never_sends_two_on_one_day(void **state) {
        /* The same day as a reminder already sent, a little later (send_time was changed). */
        DueReminder d[] = {due("2026-11-24", "2026-12-01", 0, 0, 7),
                           due("2026-11-24", "2026-12-01", 0, 0, 7)};
        CatchUpAction a[2];

        (void) state;
        d[0].settled = true;
        d[1].reminder.at += 3600;
        d[1].reminder.offset = (Duration){1, DURATION_WEEKS};
        assert_int_equal(catch_up_decide(d, 2, D("2026-11-28"), a), 0);
        assert_int_equal(a[0], CATCH_UP_SETTLED);
        assert_int_equal(a[1], CATCH_UP_SKIP_SUPERSEDED);
}

static void test_catch_up_decide_sends_after_an_older_settled_reminder(void **state) {
        /* The normal case: the 30d reminder went out; now the 7d one is due. */
        DueReminder d[] = {due("2026-10-31", "2026-12-01", 0, 0, 30),
                           due("2026-11-24", "2026-12-01", 0, 0, 7)};
        CatchUpAction a[2];

        (void) state;
        d[0].settled = true;
        assert_int_equal(catch_up_decide(d, 2, D("2026-11-24"), a), 0);
        assert_int_equal(a[0], CATCH_UP_SETTLED);
        assert_int_equal(a[1], CATCH_UP_SEND);
}

static void test_catch_up_decide_accepts_nothing(void **state) {
        (void) state;
        assert_int_equal(catch_up_decide(NULL, 0, D("2026-11-28"), NULL), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_catch_up_decide_sends_only_the_latest_missed_offset),
                cmocka_unit_test(test_catch_up_decide_groups_by_recipient_and_channel),
                cmocka_unit_test(test_catch_up_decide_skips_when_the_milestone_has_passed),
                cmocka_unit_test(test_catch_up_decide_sends_overdue_within_grace_only),
                cmocka_unit_test(test_catch_up_decide_keeps_overdue_apart_from_reminders),
                cmocka_unit_test(
                        test_catch_up_decide_never_sends_an_older_reminder_after_a_newer_one),
                cmocka_unit_test(test_catch_up_decide_never_sends_two_on_one_day),
                cmocka_unit_test(test_catch_up_decide_sends_after_an_older_settled_reminder),
                cmocka_unit_test(test_catch_up_decide_accepts_nothing),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
