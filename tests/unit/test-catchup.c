/* Catch-up: which missed reminders are sent, and which recorded as skipped (catchup.h). */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "noticed/catchup.h"
#include "fixture.h"

/* UTC, send_time 09:00; commitment 0 on any day, commitment 1 on working days only. */
static const char *const config =
        "timezone = \"UTC\";\n"
        "holidays = { calendar = \"none\"; };\n"
        "policy = { offsets = [\"7d\", \"1d\"]; send_time = \"09:00\"; "
        "working_days_only = false; };\n"
        "transports = { out = { url = \"maildir:/tmp/noticed-test\"; from = \"n@x.example\"; }; "
        "};\n"
        "mail_via = \"out\";\n"
        "recipients = ( { id = \"a\"; name = \"A\"; mail = [\"a@x.example\"]; },\n"
        "  { id = \"b\"; name = \"B\"; mail = [\"b@x.example\"]; },\n"
        "  { id = \"c\"; name = \"C\"; mail = [\"c@x.example\"]; } );\n"
        "commitments = (\n"
        "  { id = \"any\"; title = \"Any\"; participants = [\"a\", \"b\", \"c\"];\n"
        "    start = \"2020-01-01\"; term = \"10y\"; renewal = \"none\"; },\n"
        "  { id = \"work\"; title = \"Work\"; participants = [\"a\"];\n"
        "    start = \"2020-01-01\"; term = \"10y\"; renewal = \"none\";\n"
        "    policy = { working_days_only = true; }; } );\n";

static Model *model;

static int setup(void **state) {
        (void) state;
        model = fixture_load(config);
        return 0;
}

static int teardown(void **state) {
        (void) state;
        model_free(model);
        return 0;
}

/* The instant of a local (UTC) time "2026-11-28 09:00" plus µs. */
static usec_t T(const char *date, int hour, int minute, usec_t plus) {
        return ((usec_t) D(date) * 86400 + (usec_t) hour * 3600 + (usec_t) minute * 60) *
                       USEC_PER_SEC +
               plus;
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

/* The actions of catch_up_decide() at noon of `today`, after that day's send_time. */
static void decide(const DueReminder *d, size_t n, const char *today, CatchUpAction *actions) {
        CatchUpDecision *c = calloc(n ? n : 1, sizeof(*c));

        assert_non_null(c);
        assert_int_equal(catch_up_decide(model, d, n, T(today, 12, 0, 0), c), 0);
        for (size_t i = 0; i < n; i++)
                actions[i] = c[i].action;
        free(c);
}

static void test_catch_up_decide_sends_only_the_latest_missed_offset(void **state) {
        DueReminder d[] = {due("2026-10-01", "2026-12-01", 0, 0, 61),
                           due("2026-11-20", "2026-12-01", 0, 0, 11),
                           due("2026-11-01", "2026-12-01", 0, 0, 30)};
        CatchUpAction a[3];

        (void) state;
        decide(d, 3, "2026-11-28", a);
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
        decide(d, 4, "2026-11-28", a);
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
        decide(d, 2, "2026-11-28", a);
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
        decide(d, 3, "2026-11-28", a);
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
        decide(d, 2, "2026-11-28", a);
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
        decide(d, 2, "2026-11-28", a);
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
        decide(d, 2, "2026-11-28", a);
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
        decide(d, 2, "2026-11-24", a);
        assert_int_equal(a[0], CATCH_UP_SETTLED);
        assert_int_equal(a[1], CATCH_UP_SEND);
}

/* --- when a reminder goes out ---------------------------------------------------------- */

static void test_catch_up_instant_keeps_an_on_time_reminder(void **state) {
        DueReminder d = due("2026-11-24", "2026-12-01", 0, 0, 7);
        bool missed = true;

        (void) state;
        /* The timer's own pass, a few ms late, and a busy machine within the hour. */
        assert_int_equal(catch_up_instant(model, &d.reminder, T("2026-11-24", 9, 0, 3), &missed),
                         T("2026-11-24", 9, 0, 0));
        assert_false(missed);
        assert_int_equal(catch_up_instant(model, &d.reminder, T("2026-11-24", 10, 0, 0), &missed),
                         T("2026-11-24", 9, 0, 0));
        assert_false(missed);
        /* Ahead: its own instant. */
        assert_int_equal(catch_up_instant(model, &d.reminder, T("2026-11-20", 4, 17, 0), &missed),
                         T("2026-11-24", 9, 0, 0));
        assert_false(missed);
}

static void test_catch_up_instant_waits_for_todays_send_time(void **state) {
        DueReminder d = due("2026-11-24", "2026-12-01", 0, 0, 7);
        bool missed = false;

        (void) state;
        assert_int_equal(catch_up_instant(model, &d.reminder, T("2026-11-27", 4, 17, 0), &missed),
                         T("2026-11-27", 9, 0, 0));
        assert_true(missed);
}

static void test_catch_up_instant_is_due_at_that_send_time(void **state) {
        DueReminder d = due("2026-11-24", "2026-12-01", 0, 0, 7);

        (void) state;
        /* Evaluated again a few ms after the send_time it named: now, not tomorrow. */
        assert_int_equal(catch_up_instant(model, &d.reminder, T("2026-11-27", 9, 0, 3), NULL),
                         T("2026-11-27", 9, 0, 0));
        assert_int_equal(catch_up_instant(model, &d.reminder, T("2026-11-27", 9, 59, 0), NULL),
                         T("2026-11-27", 9, 0, 0));
}

static void test_catch_up_instant_after_todays_send_time_waits_for_tomorrow(void **state) {
        DueReminder d = due("2026-11-24", "2026-12-01", 0, 0, 7);

        (void) state;
        assert_int_equal(catch_up_instant(model, &d.reminder, T("2026-11-27", 10, 1, 0), NULL),
                         T("2026-11-28", 9, 0, 0));
}

static void test_catch_up_instant_waits_for_a_working_day(void **state) {
        DueReminder d = due("2026-11-24", "2026-12-01", 0, 0, 7);

        (void) state;
        d.reminder.milestone.commitment = 1; /* working days only */
        /* Friday 2026-11-27 after 10:00: Monday. */
        assert_int_equal(catch_up_instant(model, &d.reminder, T("2026-11-27", 12, 0, 0), NULL),
                         T("2026-11-30", 9, 0, 0));
        /* Saturday at 09:30 is not a send_time: still Monday. */
        assert_int_equal(catch_up_instant(model, &d.reminder, T("2026-11-28", 9, 30, 0), NULL),
                         T("2026-11-30", 9, 0, 0));
}

static void test_catch_up_instant_at_once_when_no_send_time_is_left(void **state) {
        DueReminder d = due("2026-11-24", "2026-11-27", 0, 0, 3);
        DueReminder w = due("2026-11-24", "2026-11-29", 0, 0, 5);

        (void) state;
        /* The milestone is today and today's send_time has passed. */
        assert_int_equal(catch_up_instant(model, &d.reminder, T("2026-11-27", 12, 0, 0), NULL),
                         T("2026-11-27", 12, 0, 0));
        /* Working days only, milestone on Sunday, Friday's send_time passed. */
        w.reminder.milestone.commitment = 1;
        assert_int_equal(catch_up_instant(model, &w.reminder, T("2026-11-27", 12, 0, 0), NULL),
                         T("2026-11-27", 12, 0, 0));
}

static void test_catch_up_instant_of_overdue_within_its_grace(void **state) {
        DueReminder d = due("2026-11-20", "2026-11-19", 0, 0, 1);

        (void) state;
        d.reminder.overdue = true;
        assert_int_equal(catch_up_instant(model, &d.reminder, T("2026-11-27", 4, 0, 0), NULL),
                         T("2026-11-27", 9, 0, 0));
        /* The last day of the grace, after its send_time: at once. */
        assert_int_equal(catch_up_instant(model, &d.reminder, T("2026-12-20", 12, 0, 0), NULL),
                         T("2026-12-20", 12, 0, 0));
}

/* --- one message a day ------------------------------------------------------------------ */

static void test_catch_up_decide_joins_a_deferred_reminder_with_that_days_own(void **state) {
        /* The 7d reminder was missed; the 1d one is today at 09:00.  At 04:17 both wait for
         * 09:00; at 09:00 (and a few ms) only the 1d goes out. */
        DueReminder d[] = {due("2026-11-24", "2026-12-01", 0, 0, 7),
                           due("2026-11-30", "2026-12-01", 0, 0, 1)};
        CatchUpDecision c[2];

        (void) state;
        assert_int_equal(catch_up_decide(model, d, 2, T("2026-11-30", 4, 17, 0), c), 0);
        assert_int_equal(c[0].action, CATCH_UP_SKIP_SUPERSEDED);
        assert_int_equal(c[0].at_usec, T("2026-11-30", 9, 0, 0));
        assert_true(c[0].catch_up);
        assert_int_equal(c[1].action, CATCH_UP_SEND);
        assert_int_equal(c[1].at_usec, T("2026-11-30", 9, 0, 0));
        assert_false(c[1].catch_up);

        assert_int_equal(catch_up_decide(model, d, 2, T("2026-11-30", 9, 0, 3), c), 0);
        assert_int_equal(c[0].action, CATCH_UP_SKIP_SUPERSEDED);
        assert_int_equal(c[0].at_usec, T("2026-11-30", 9, 0, 3));
        assert_int_equal(c[1].action, CATCH_UP_SEND);
        assert_int_equal(c[1].at_usec, T("2026-11-30", 9, 0, 0));
}

static void test_catch_up_decide_sends_a_deferred_reminder_at_send_time(void **state) {
        DueReminder d[] = {due("2026-11-24", "2026-12-01", 0, 0, 7)};
        CatchUpDecision c[1];

        (void) state;
        assert_int_equal(catch_up_decide(model, d, 1, T("2026-11-27", 4, 17, 0), c), 0);
        assert_int_equal(c[0].action, CATCH_UP_SEND);
        assert_int_equal(c[0].at_usec, T("2026-11-27", 9, 0, 0));
        assert_true(c[0].catch_up);
}

static void test_catch_up_decide_skips_the_days_own_after_a_catch_up_that_day(void **state) {
        /* The old rule sent the late 7d reminder at 04:19; the 1d one at 09:00 that day is one
         * too many, although the 7d was planned days before. */
        DueReminder d[] = {due("2026-11-24", "2026-12-01", 0, 0, 7),
                           due("2026-11-30", "2026-12-01", 0, 0, 1)};
        CatchUpDecision c[2];

        (void) state;
        d[0].settled = true;
        d[0].went_out = true;
        d[0].out_date = D("2026-11-30");
        assert_int_equal(catch_up_decide(model, d, 2, T("2026-11-30", 9, 0, 1), c), 0);
        assert_int_equal(c[0].action, CATCH_UP_SETTLED);
        assert_int_equal(c[1].action, CATCH_UP_SKIP_SAME_DAY);
        assert_non_null(strstr(catch_up_action_to_string(c[1].action), "same day"));
}

static void test_catch_up_decide_skips_an_offset_added_on_a_day_that_had_one(void **state) {
        /* The 7d reminder, missed, went out at 09:00 on the 26th; a reload adds a 5d offset
         * at 15:00 that day (send_time moved). */
        DueReminder d[] = {due("2026-11-24", "2026-12-01", 0, 0, 7),
                           due("2026-11-26", "2026-12-01", 0, 0, 5)};
        CatchUpDecision c[2];

        (void) state;
        d[0].settled = true;
        d[0].went_out = true;
        d[0].out_date = D("2026-11-26");
        d[1].reminder.at += 6 * 3600;
        assert_int_equal(catch_up_decide(model, d, 2, T("2026-11-26", 15, 0, 0), c), 0);
        assert_int_equal(c[1].action, CATCH_UP_SKIP_SAME_DAY);
        /* The next day it is another day. */
        assert_int_equal(catch_up_decide(model, d, 2, T("2026-11-27", 8, 0, 0), c), 0);
        assert_int_equal(c[1].action, CATCH_UP_SEND);
        assert_int_equal(c[1].at_usec, T("2026-11-27", 9, 0, 0));
}

static void test_catch_up_decide_a_skipped_sibling_did_not_go_out(void **state) {
        /* The 7d reminder was recorded skipped today: the 1d one still goes out today. */
        DueReminder d[] = {due("2026-11-24", "2026-12-01", 0, 0, 7),
                           due("2026-11-30", "2026-12-01", 0, 0, 1)};
        CatchUpDecision c[2];

        (void) state;
        d[0].settled = true;
        assert_int_equal(catch_up_decide(model, d, 2, T("2026-11-30", 9, 0, 1), c), 0);
        assert_int_equal(c[1].action, CATCH_UP_SEND);
}

/* On time just after midnight: a 0d reminder at 23:30 whose pass runs at 00:10 the next day
 * (inside the hour it is on time) is sent, not taken for one whose milestone has passed. */
static void test_catch_up_decide_on_time_across_midnight_is_sent(void **state) {
        DueReminder d = due("2026-11-27", "2026-11-27", 0, 0, 0);
        CatchUpDecision c;

        (void) state;
        d.reminder.at = (int64_t) d.reminder.date * 86400 + 23 * 3600 + 30 * 60;
        assert_int_equal(catch_up_decide(model, &d, 1, T("2026-11-28", 0, 10, 0), &c), 0);
        assert_int_equal(c.action, CATCH_UP_SEND);
        assert_false(c.catch_up);
        /* Past the hour it is missed, and its milestone has passed. */
        assert_int_equal(catch_up_decide(model, &d, 1, T("2026-11-28", 0, 31, 0), &c), 0);
        assert_int_equal(c.action, CATCH_UP_SKIP_PASSED);
}

static void test_catch_up_decide_accepts_nothing(void **state) {
        (void) state;
        assert_int_equal(catch_up_decide(model, NULL, 0, T("2026-11-28", 12, 0, 0), NULL), 0);
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
                cmocka_unit_test(test_catch_up_decide_on_time_across_midnight_is_sent),
                cmocka_unit_test(test_catch_up_instant_keeps_an_on_time_reminder),
                cmocka_unit_test(test_catch_up_instant_waits_for_todays_send_time),
                cmocka_unit_test(test_catch_up_instant_is_due_at_that_send_time),
                cmocka_unit_test(test_catch_up_instant_after_todays_send_time_waits_for_tomorrow),
                cmocka_unit_test(test_catch_up_instant_waits_for_a_working_day),
                cmocka_unit_test(test_catch_up_instant_at_once_when_no_send_time_is_left),
                cmocka_unit_test(test_catch_up_instant_of_overdue_within_its_grace),
                cmocka_unit_test(test_catch_up_decide_joins_a_deferred_reminder_with_that_days_own),
                cmocka_unit_test(test_catch_up_decide_sends_a_deferred_reminder_at_send_time),
                cmocka_unit_test(test_catch_up_decide_skips_the_days_own_after_a_catch_up_that_day),
                cmocka_unit_test(test_catch_up_decide_skips_an_offset_added_on_a_day_that_had_one),
                cmocka_unit_test(test_catch_up_decide_a_skipped_sibling_did_not_go_out),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
