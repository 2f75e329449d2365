/* Messages that are not reminders: escalations of failed deliveries and the test message.
 *
 * The model is the Twente case of the mail and text tests (fixture.h); an escalation describes
 * the ledger's record of a failed reminder, so the tests also give it ids the model no longer
 * knows.  The texts are compared whole where every fact must be there, by sentence elsewhere. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fixture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noticed/message.h"
#include "noticed/validate.h"

#define assert_not_contains(haystack, needle)                                                      \
        do {                                                                                       \
                if (strstr((haystack), (needle)))                                                  \
                        fail_msg("\"%s\" found in:\n%s", (needle), (haystack));                    \
        } while (0)

/* A failed reminder's identity and outcome, as the tests vary them. */
typedef struct Failed {
        const char *id, *channel, *commitment, *kind, *deadline;
        uint32_t cycle;
        const char *milestone, *offset, *recipient, *reply;
        unsigned attempts;
} Failed;

/* Enschede's reminder 30 days before the decision, refused by the relay five times. */
static const Failed failed_decision = {
        .id = "burgernet-twente/decision/1/2020-05-19/30d/enschede",
        .channel = "mail",
        .commitment = "burgernet-twente",
        .kind = "decision",
        .cycle = 1,
        .milestone = "2020-05-19",
        .offset = "30d",
        .recipient = "enschede",
        .reply = "550 5.1.1 <burgernet@enschede.example>: Recipient address rejected",
        .attempts = 5,
};

/* message_escalation_text() of f; the identity borrows f's strings. */
static int escalation_text(const Model *m, const Failed *f, Language language, char **ret_subject,
                           char **ret_body) {
        const ReminderIdentity x = {.id = (char *) f->id,
                                    .channel = (char *) f->channel,
                                    .commitment = (char *) f->commitment,
                                    .kind = (char *) f->kind,
                                    .deadline = (char *) f->deadline,
                                    .cycle = f->cycle,
                                    .milestone = (char *) f->milestone,
                                    .offset = (char *) f->offset,
                                    .recipient = (char *) f->recipient};
        const Escalation e = {.failed = &x, .reply = f->reply, .attempts = f->attempts};

        return message_escalation_text(m, &e, language, ret_subject, ret_body);
}

/* The escalation's words, checked as the header promises: a subject fit for a mail header. */
static char *escalation_body(const Model *m, const Failed *e, Language language,
                             char **ret_subject) {
        char *subject, *body;

        assert_int_equal(escalation_text(m, e, language, &subject, &body), 0);
        assert_true(validate_header_text(subject));
        assert_true(strncmp(subject,
                            language == LANGUAGE_EN ? "Not delivered: " : "Niet afgeleverd: ",
                            language == LANGUAGE_EN ? 15 : 17) == 0);
        if (ret_subject)
                *ret_subject = subject;
        else
                free(subject);
        return body;
}

/* ---- escalations ---- */

static void test_message_escalation_text_dutch_names_every_fact(void **state) {
        Model *m = fixture_load(fixture_twente);
        char *subject, *body = escalation_body(m, &failed_decision, LANGUAGE_NL, &subject);
        (void) state;

        assert_string_equal(subject,
                            "Niet afgeleverd: herinnering aan Gemeente Enschede over Deelname "
                            "Burgernet");
        assert_string_equal(
                body,
                "De herinnering over het besluit over Deelname Burgernet, uiterlijk dinsdag 19 mei "
                "2020, is niet afgeleverd aan Gemeente Enschede. Er is 5 keer geprobeerd het per "
                "e-mail af te leveren.\n"
                "\n"
                "Het laatste antwoord of de laatste fout was:\n"
                "\n"
                "    550 5.1.1 <burgernet@enschede.example>: Recipient address rejected\n"
                "\n"
                "Wat nu:\n"
                "- Zorg dat Gemeente Enschede het op een andere manier hoort, bijvoorbeeld per "
                "telefoon.\n"
                "- Controleer de instellingen van transport ‘relay’ in de configuratie van "
                "noticed, en de server waar het bericht heen ging.\n"
                "\n"
                "In noticectl history: burgernet-twente/decision/1/2020-05-19/30d/enschede, "
                "kanaal mail.\n"
                "\n"
                "Dit bericht is automatisch verstuurd door noticed.\n");
        free(subject);
        free(body);
        model_free(m);
}

static void test_message_escalation_text_english_names_every_fact(void **state) {
        Model *m = fixture_load(fixture_twente);
        char *subject, *body = escalation_body(m, &failed_decision, LANGUAGE_EN, &subject);
        (void) state;

        assert_string_equal(
                subject, "Not delivered: reminder to Gemeente Enschede about Deelname Burgernet");
        assert_string_equal(
                body,
                "The reminder about the decision on Deelname Burgernet, due Tuesday 19 May 2020, "
                "was not delivered to Gemeente Enschede. It was tried 5 times by mail.\n"
                "\n"
                "The last reply or error was:\n"
                "\n"
                "    550 5.1.1 <burgernet@enschede.example>: Recipient address rejected\n"
                "\n"
                "What to do now:\n"
                "- Make sure Gemeente Enschede hears of it another way, by phone for instance.\n"
                "- Check the settings of transport “relay” in noticed's configuration, and the "
                "server the message went to.\n"
                "\n"
                "In noticectl history: burgernet-twente/decision/1/2020-05-19/30d/enschede, "
                "channel mail.\n"
                "\n"
                "This message was sent automatically by noticed.\n");
        free(subject);
        free(body);
        model_free(m);
}

static void test_message_escalation_text_every_milestone_kind(void **state) {
        static const struct {
                const char *kind, *milestone, *nl, *en;
        } cases[] = {
                {"notice", "2020-06-30",
                 "over de opzegging van Deelname Burgernet, uiterlijk dinsdag 30 juni 2020, is",
                 "about the notice of termination of Deelname Burgernet, due Tuesday 30 June "
                 "2020, was"},
                {"term_end", "2020-12-31",
                 "over het einde van de looptijd van Deelname Burgernet, op donderdag 31 december "
                 "2020, is",
                 "about the end of term of Deelname Burgernet on Thursday 31 December 2020, was"},
                {"review", "2020-07-01",
                 "over de heroverweging van Deelname Burgernet, uiterlijk woensdag 1 juli 2020, is",
                 "about the review of Deelname Burgernet, due Wednesday 1 July 2020, was"},
                /* A kind this version does not know, and a date that does not parse. */
                {"renegotiation", "2020-13-01",
                 "over ‘renegotiation’ van Deelname Burgernet, op 2020-13-01, is",
                 "about “renegotiation” of Deelname Burgernet on 2020-13-01, was"},
        };
        Model *m = fixture_load(fixture_twente);
        (void) state;

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                Failed e = failed_decision;
                char *nl, *en;

                e.kind = cases[i].kind;
                e.milestone = cases[i].milestone;
                nl = escalation_body(m, &e, LANGUAGE_NL, NULL);
                en = escalation_body(m, &e, LANGUAGE_EN, NULL);
                assert_contains(nl, cases[i].nl);
                assert_contains(en, cases[i].en);
                free(nl);
                free(en);
        }
        model_free(m);
}

/* A one-off deadline: the deadline's own title while the model has it, its id when not. */
static void test_message_escalation_text_deadline_kind_names_the_deadline(void **state) {
        Model *m = fixture_load(fixture_twente);
        Failed e = failed_decision;
        char *subject, *body;
        (void) state;

        e.kind = "deadline";
        e.deadline = "standpunt";
        e.cycle = 0;
        e.milestone = "2017-11-30";
        e.offset = "14d";
        body = escalation_body(m, &e, LANGUAGE_NL, &subject);
        assert_contains(body, "De herinnering over de termijn ‘Standpunt doorgeven vóór 1 "
                              "december’ van Deelname Burgernet, uiterlijk donderdag 30 november "
                              "2017, is niet afgeleverd aan Gemeente Enschede.");
        assert_string_equal(subject,
                            "Niet afgeleverd: herinnering aan Gemeente Enschede over Deelname "
                            "Burgernet");
        free(subject);
        free(body);
        body = escalation_body(m, &e, LANGUAGE_EN, NULL);
        assert_contains(body, "The reminder about the deadline “Standpunt doorgeven vóór 1 "
                              "december” of Deelname Burgernet, due Thursday 30 November 2017, "
                              "was not delivered");
        free(body);

        e.deadline = "removed";
        body = escalation_body(m, &e, LANGUAGE_NL, NULL);
        assert_contains(body, "over de termijn ‘removed’ van Deelname Burgernet, uiterlijk");
        free(body);
        model_free(m);
}

/* After a reload removed the commitment and the recipient, the ledger's ids stand in. */
static void test_message_escalation_text_unknown_commitment_falls_back_to_ids(void **state) {
        Model *m = fixture_load(fixture_twente);
        Failed e = failed_decision;
        char *subject, *body;
        (void) state;

        e.commitment = "burgernet-oud";
        e.recipient = "oldenzaal";
        e.kind = "deadline";
        e.deadline = "standpunt";
        e.id = "burgernet-oud/deadline:standpunt/0/2020-05-19/30d/oldenzaal";
        body = escalation_body(m, &e, LANGUAGE_NL, &subject);
        assert_string_equal(subject,
                            "Niet afgeleverd: herinnering aan oldenzaal over burgernet-oud");
        assert_contains(body, "De herinnering over de termijn ‘standpunt’ van burgernet-oud, "
                              "uiterlijk dinsdag 19 mei 2020, is niet afgeleverd aan oldenzaal.");
        assert_contains(body, "- Zorg dat oldenzaal het op een andere manier hoort");
        assert_contains(body, "In noticectl history: "
                              "burgernet-oud/deadline:standpunt/0/2020-05-19/30d/oldenzaal, ");
        assert_not_contains(body, "Deelname Burgernet");
        assert_not_contains(body, "Standpunt doorgeven");
        free(subject);
        free(body);
        model_free(m);
}

static void test_message_escalation_text_reply_null_says_none_was_recorded(void **state) {
        Model *m = fixture_load(fixture_twente);
        Failed e = failed_decision;
        char *body;
        (void) state;

        e.reply = NULL;
        e.attempts = 1;
        body = escalation_body(m, &e, LANGUAGE_NL, NULL);
        assert_contains(body, "Er is 1 keer geprobeerd het per e-mail af te leveren.\n\n"
                              "Er is geen antwoord of foutmelding vastgelegd.\n\nWat nu:\n");
        assert_not_contains(body, "laatste antwoord");
        free(body);
        e.reply = "";
        body = escalation_body(m, &e, LANGUAGE_EN, NULL);
        assert_contains(body, "It was tried once by mail.\n\n"
                              "No reply or error was recorded.\n\nWhat to do now:\n");
        free(body);
        model_free(m);
}

/* An overdue message by webhook: its own name, and the webhook is the transport to check. */
static void test_message_escalation_text_overdue_by_webhook(void **state) {
        Model *m = fixture_load(fixture_twente);
        Failed e = failed_decision;
        char *subject, *body;
        (void) state;

        e.offset = "overdue";
        e.channel = "webhook:hook";
        e.recipient = "hookonly";
        e.reply = "HTTP 503";
        body = escalation_body(m, &e, LANGUAGE_NL, &subject);
        assert_string_equal(subject, "Niet afgeleverd: bericht ‘termijn verstreken’ aan Hook over "
                                     "Deelname Burgernet");
        assert_contains(body,
                        "Het bericht ‘termijn verstreken’ over het besluit over Deelname "
                        "Burgernet, uiterlijk dinsdag 19 mei 2020, is niet afgeleverd aan "
                        "Hook. Er is 5 keer geprobeerd het via webhook ‘hook’ af te leveren.");
        assert_contains(body, "- Controleer de instellingen van transport ‘hook’ in de");
        assert_contains(body, ", kanaal webhook:hook.\n");
        free(subject);
        free(body);
        body = escalation_body(m, &e, LANGUAGE_EN, &subject);
        assert_string_equal(subject, "Not delivered: “deadline passed” message to Hook about "
                                     "Deelname Burgernet");
        assert_contains(body, "The “deadline passed” message about the decision on Deelname "
                              "Burgernet, due Tuesday 19 May 2020, was not delivered to Hook. It "
                              "was tried 5 times by webhook “hook”.");
        assert_contains(body, "- Check the settings of transport “hook” in");
        free(subject);
        free(body);
        model_free(m);
}

/* Without mail_via (a reload removed it) the text still says which transport to look at. */
static void test_message_escalation_text_mail_without_mail_via(void **state) {
        Model *m = fixture_load(fixture_twente);
        char *body;
        (void) state;

        m->has_mail_via = false;
        body = escalation_body(m, &failed_decision, LANGUAGE_EN, NULL);
        assert_contains(body, "- Check the transport for mail (mail_via) in noticed's "
                              "configuration, and the server the message went to.\n");
        free(body);
        model_free(m);
}

/* A server's reply is the one text no config check has seen: one line, valid UTF-8, bounded. */
static void test_message_escalation_text_reply_is_one_clean_line(void **state) {
        Model *m = fixture_load(fixture_twente);
        Failed e = failed_decision;
        char *body, *line, *end, *long_reply = malloc(2001);
        (void) state;

        e.reply = "451-4.7.1 first\r\n451 4.7.1 second\tline\x01 \xff\xc3 end";
        body = escalation_body(m, &e, LANGUAGE_NL, NULL);
        assert_contains(body, "\n    451-4.7.1 first  451 4.7.1 second line  \xef\xbf\xbd\xef\xbf"
                              "\xbd end\n");
        free(body);

        assert_non_null(long_reply);
        memset(long_reply, 'x', 2000);
        long_reply[2000] = '\0';
        memcpy(long_reply + 498, "€", 3); /* a character across the cut is left out whole */
        e.reply = long_reply;
        body = escalation_body(m, &e, LANGUAGE_EN, NULL);
        line = strstr(body, "\n    x");
        assert_non_null(line);
        line += 5;
        end = strchr(line, '\n');
        assert_int_equal(end - line, 498 + strlen("…"));
        assert_int_equal(strncmp(end - strlen("…"), "…", strlen("…")), 0);
        free(body);
        free(long_reply);
        model_free(m);
}

static void test_message_escalation_text_missing_string_is_einval(void **state) {
        Model *m = fixture_load(fixture_twente);
        Failed e = failed_decision;
        char *subject = NULL, *body = NULL;
        (void) state;

        e.milestone = NULL;
        assert_int_equal(escalation_text(m, &e, LANGUAGE_NL, &subject, &body), -EINVAL);
        e = failed_decision;
        e.id = NULL;
        assert_int_equal(escalation_text(m, &e, LANGUAGE_NL, &subject, &body), -EINVAL);
        assert_null(subject);
        assert_null(body);
        model_free(m);
}

/* ---- the test message ---- */

static const Recipient *recipient(const Model *m, const char *id) {
        size_t i;

        assert_int_equal(model_find_recipient(m, id, &i), 0);
        return &m->recipients[i];
}

static void test_message_test_text_dutch(void **state) {
        Model *m = fixture_load(fixture_twente);
        int64_t now;
        int32_t offset;
        char *subject, *body;
        (void) state;

        tz_local_to_unix(m->tz, D("2020-05-19"), 9 * 3600 + 5, &now, &offset);
        assert_int_equal(
                message_test_text(m, recipient(m, "enschede"), "mail", now, &subject, &body), 0);
        assert_string_equal(subject, "[noticed] Testbericht voor Gemeente Enschede per e-mail");
        assert_string_equal(body,
                            "Dit is een testbericht van noticed. Er hoeft niets te gebeuren.\n"
                            "\n"
                            "Het is verstuurd aan Gemeente Enschede (enschede) per e-mail, op "
                            "dinsdag 19 mei 2020 om 09:00:05 (Europe/Amsterdam). Komt het aan, "
                            "dan komen de herinneringen van noticed langs deze weg ook aan.\n"
                            "\n"
                            "noticed " NOTICED_VERSION "\n");
        free(subject);
        free(body);

        /* A webhook, in winter time: the local time, not UTC. */
        assert_int_equal(message_test_text(m, recipient(m, "hookonly"), "webhook:hook", 1608192000,
                                           &subject, &body),
                         0);
        assert_string_equal(subject, "[noticed] Testbericht voor Hook via webhook ‘hook’");
        assert_contains(body, "Het is verstuurd aan Hook (hookonly) via webhook ‘hook’, op "
                              "donderdag 17 december 2020 om 09:00:00 (Europe/Amsterdam).");
        assert_contains(body, "Er hoeft niets te gebeuren.");
        free(subject);
        free(body);
        model_free(m);
}

static void test_message_test_text_english(void **state) {
        Model *m = fixture_load(fixture_twente);
        int64_t now;
        int32_t offset;
        char *subject, *body;
        (void) state;

        tz_local_to_unix(m->tz, D("2020-10-25"), 2 * 3600 + 30 * 60, &now, &offset);
        now += 3600; /* the second 02:30 of the night the clocks go back */
        assert_int_equal(message_test_text(m, recipient(m, "swf"), "mail", now, &subject, &body),
                         0);
        assert_string_equal(subject, "[noticed] Test message for Gemeente Súdwest-Fryslân by mail");
        assert_true(validate_header_text(subject));
        assert_string_equal(body,
                            "This is a test message from noticed. Nothing needs to be done.\n"
                            "\n"
                            "It was sent to Gemeente Súdwest-Fryslân (swf) by mail on Sunday 25 "
                            "October 2020 at 02:30:00 (Europe/Amsterdam). If it arrives, "
                            "noticed's reminders arrive this way too.\n"
                            "\n"
                            "noticed " NOTICED_VERSION "\n");
        free(subject);
        free(body);
        assert_int_equal(message_test_text(m, recipient(m, "swf"), NULL, now, &subject, &body),
                         -EINVAL);
        model_free(m);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_message_escalation_text_dutch_names_every_fact),
                cmocka_unit_test(test_message_escalation_text_english_names_every_fact),
                cmocka_unit_test(test_message_escalation_text_every_milestone_kind),
                cmocka_unit_test(test_message_escalation_text_deadline_kind_names_the_deadline),
                cmocka_unit_test(test_message_escalation_text_unknown_commitment_falls_back_to_ids),
                cmocka_unit_test(test_message_escalation_text_reply_null_says_none_was_recorded),
                cmocka_unit_test(test_message_escalation_text_overdue_by_webhook),
                cmocka_unit_test(test_message_escalation_text_mail_without_mail_via),
                cmocka_unit_test(test_message_escalation_text_reply_is_one_clean_line),
                cmocka_unit_test(test_message_escalation_text_missing_string_is_einval),
                cmocka_unit_test(test_message_test_text_dutch),
                cmocka_unit_test(test_message_test_text_english),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
