/* Unit tests for a reminder's identity: the exact id strings (they are the ledger's keys, the
 * Message-ID's hash and the Idempotency-Key, so not one byte may change), for each kind, an
 * overdue message, a one-off deadline, a webhook channel and an escalation. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>

#include "fixture.h"
#include "noticed/identity.h"
#include "noticed/validate.h"

static void assert_reminder_id(const Model *m, Reminder r, uint32_t channel, const char *expected,
                               const char *expected_channel) {
        ReminderIdentity x;

        assert_int_equal(identity_from_reminder(m, &r, channel, &x), 0);
        assert_string_equal(x.id, expected);
        assert_string_equal(x.channel, expected_channel);
        identity_done(&x);
}

static void test_identity_from_reminder_spells_each_kind(void **state) {
        Model *m = fixture_load(fixture_twente);
        (void) state;

        assert_reminder_id(m,
                           fixture_reminder(m, "enschede", MILESTONE_DECISION, 1, "2020-05-19",
                                            "2020-04-19", false),
                           0, "burgernet-twente/decision/1/2020-05-19/30d/enschede", "mail");
        assert_reminder_id(
                m,
                fixture_reminder(m, "swf", MILESTONE_NOTICE, 1, "2020-06-30", "2020-06-23", false),
                0, "burgernet-twente/notice/1/2020-06-30/7d/swf", "mail");
        assert_reminder_id(m,
                           fixture_reminder(m, "hof", MILESTONE_TERM_END, 1, "2020-12-31",
                                            "2020-12-01", false),
                           0, "burgernet-twente/term_end/1/2020-12-31/30d/hof", "mail");
        assert_reminder_id(m,
                           fixture_reminder(m, "klankbordgroep", MILESTONE_REVIEW, 0, "2019-07-01",
                                            "2019-06-17", false),
                           0, "burgernet-twente/review/0/2019-07-01/14d/klankbordgroep", "mail");
        model_free(m);
}

static void test_identity_from_reminder_overdue_is_not_a_day_count(void **state) {
        Model *m = fixture_load(fixture_twente);
        Reminder r = fixture_reminder(m, "enschede", MILESTONE_DECISION, 1, "2020-05-19",
                                      "2020-05-22", true);
        ReminderIdentity x;
        (void) state;

        assert_int_equal(identity_from_reminder(m, &r, 0, &x), 0);
        assert_string_equal(x.id, "burgernet-twente/decision/1/2020-05-19/overdue/enschede");
        assert_string_equal(x.offset, "overdue");
        assert_true(identity_is_overdue(&x));
        assert_false(identity_is_escalation(&x));
        identity_done(&x);
        model_free(m);
}

static void test_identity_from_reminder_keeps_deadlines_apart(void **state) {
        Model *m = fixture_load(fixture_twente);
        Reminder r = fixture_reminder(m, "hof", MILESTONE_DEADLINE, 0, "2017-11-30", "2017-10-31",
                                      false);
        ReminderIdentity x;
        (void) state;

        assert_int_equal(identity_from_reminder(m, &r, 0, &x), 0);
        assert_string_equal(x.id, "burgernet-twente/deadline:standpunt/0/2017-11-30/30d/hof");
        assert_string_equal(x.kind, "deadline");
        assert_string_equal(x.deadline, "standpunt");
        assert_string_equal(x.commitment, "burgernet-twente");
        assert_int_equal(x.cycle, 0);
        assert_string_equal(x.milestone, "2017-11-30");
        assert_string_equal(x.offset, "30d");
        assert_string_equal(x.recipient, "hof");
        assert_null(x.failed_kind);
        identity_done(&x);
        model_free(m);
}

static void test_identity_from_reminder_spells_weeks_in_days(void **state) {
        Model *m = fixture_load(fixture_twente);
        Reminder r = fixture_reminder(m, "enschede", MILESTONE_DECISION, 1, "2020-05-19",
                                      "2020-04-07", false);
        (void) state;

        r.offset = (Duration){.count = 6, .unit = DURATION_WEEKS};
        assert_reminder_id(m, r, 0, "burgernet-twente/decision/1/2020-05-19/42d/enschede", "mail");
        model_free(m);
}

static void test_identity_from_reminder_names_the_webhook(void **state) {
        Model *m = fixture_load(fixture_twente);
        Reminder r = fixture_reminder(m, "hookonly", MILESTONE_DECISION, 1, "2020-05-19",
                                      "2020-04-19", false);
        (void) state;

        assert_reminder_id(m, r, 1, "burgernet-twente/decision/1/2020-05-19/30d/hookonly",
                           "webhook:hook");
        model_free(m);
}

static void test_identity_escalation_spells_the_failed_reminder(void **state) {
        ReminderIdentity failed, x;
        (void) state;

        assert_int_equal(identity_make("burgernet-twente", "decision", NULL, 1, "2020-05-19", "30d",
                                       "enschede", "mail", &failed),
                         0);
        assert_int_equal(identity_escalation(&failed, "klankbordgroep", "webhook:hook", &x), 0);
        assert_string_equal(x.id, "burgernet-twente/escalation/1/2020-05-19/"
                                  "decision:30d:enschede:mail/klankbordgroep");
        assert_true(identity_is_escalation(&x));
        assert_string_equal(x.recipient, "klankbordgroep");
        assert_string_equal(x.channel, "webhook:hook");
        assert_string_equal(x.failed_kind, "decision");
        assert_null(x.failed_deadline);
        assert_string_equal(x.failed_recipient, "enschede");
        assert_string_equal(x.failed_channel, "mail");
        assert_true(validate_header_text(x.id)); /* it is hashed into a Message-ID */
        /* An escalation is not escalated. */
        assert_int_equal(identity_escalation(&x, "klankbordgroep", "mail", &failed), -EINVAL);
        identity_done(&x);
        identity_done(&failed);
}

static void test_identity_escalation_of_an_overdue_deadline_by_webhook(void **state) {
        ReminderIdentity failed, x;
        (void) state;

        assert_int_equal(identity_make("burgernet-oud", "deadline", "standpunt", 0, "2020-05-19",
                                       "overdue", "oldenzaal", "webhook:hook", &failed),
                         0);
        assert_string_equal(failed.id,
                            "burgernet-oud/deadline:standpunt/0/2020-05-19/overdue/oldenzaal");
        assert_int_equal(identity_escalation(&failed, "klankbordgroep", "mail", &x), 0);
        assert_string_equal(x.id,
                            "burgernet-oud/escalation/0/2020-05-19/"
                            "deadline:standpunt:overdue:oldenzaal:webhook:hook/klankbordgroep");
        assert_true(identity_is_overdue(&x));
        assert_string_equal(x.failed_deadline, "standpunt");
        identity_done(&x);
        identity_done(&failed);

        assert_int_equal(identity_make("burgernet-twente", "deadline", "standpunt", 0, "2017-11-30",
                                       "overdue", "enschede", "webhook:hook", &failed),
                         0);
        assert_int_equal(identity_escalation(&failed, "klankbordgroep", "mail", &x), 0);
        assert_string_equal(x.id,
                            "burgernet-twente/escalation/0/2017-11-30/"
                            "deadline:standpunt:overdue:enschede:webhook:hook/klankbordgroep");
        identity_done(&x);
        assert_int_equal(identity_escalation(&failed, "klankbordgroep", NULL, &x), -EINVAL);
        assert_int_equal(identity_escalation(&failed, NULL, "mail", &x), -EINVAL);
        identity_done(&failed);
}

static void test_identity_make_refuses_missing_parts(void **state) {
        ReminderIdentity x;
        (void) state;

        assert_int_equal(
                identity_make(NULL, "decision", NULL, 1, "2020-05-19", "30d", "a", "mail", &x),
                -EINVAL);
        assert_int_equal(
                identity_make("c", "decision", NULL, 1, "2020-05-19", "30d", "a", NULL, &x),
                -EINVAL);
        assert_int_equal(
                identity_make("c", "escalation", NULL, 1, "2020-05-19", "30d", "a", "mail", &x),
                -EINVAL);
        identity_done(NULL);
}

#define T(f) cmocka_unit_test(f)

int main(void) {
        const struct CMUnitTest tests[] = {
                T(test_identity_from_reminder_spells_each_kind),
                T(test_identity_from_reminder_overdue_is_not_a_day_count),
                T(test_identity_from_reminder_keeps_deadlines_apart),
                T(test_identity_from_reminder_spells_weeks_in_days),
                T(test_identity_from_reminder_names_the_webhook),
                T(test_identity_escalation_spells_the_failed_reminder),
                T(test_identity_escalation_of_an_overdue_deadline_by_webhook),
                T(test_identity_make_refuses_missing_parts),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
