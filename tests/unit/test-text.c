/* Text: the words a recipient reads about a reminder and a calendar shows about a milestone.
 *
 * The model comes from config text through config_load(), the Twente case with one English,
 * one non-ASCII and one awkwardly named participant; the texts are compared whole where the
 * layout matters and by sentence where the sentence does. */

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
#include <unistd.h>

#include "noticed/config.h"
#include "noticed/plan.h"
#include "noticed/text.h"

#define assert_not_contains(haystack, needle)                                                      \
        do {                                                                                       \
                if (strstr((haystack), (needle)))                                                  \
                        fail_msg("\"%s\" found in:\n%s", (needle), (haystack));                    \
        } while (0)

/* ---- the words ---- */

static void test_text_render_dutch_says_when_what_and_what_it_costs(void **state) {
        Model *m = fixture_load(fixture_twente);
        Reminder r = fixture_reminder(m, "enschede", MILESTONE_DECISION, 1, "2020-05-19",
                                      "2020-04-17", false);
        char *subject, *body = fixture_text_body(m, &r, &subject);
        (void) state;

        assert_string_equal(subject, "Herinnering: besluit over Deelname Burgernet, "
                                     "dinsdag 19 mei 2020 (nog 32 dagen)");
        assert_string_equal(
                body, "Aan: Gemeente Enschede\n"
                      "\n"
                      "Uiterlijk op dinsdag 19 mei 2020 moet zijn besloten of Deelname Burgernet "
                      "wordt voortgezet of wordt opgezegd.\n"
                      "\n"
                      "Zonder opzegging uiterlijk op dinsdag 30 juni 2020 wordt Deelname Burgernet "
                      "stilzwijgend verlengd tot en met vrijdag 31 december 2021.\n"
                      "\n"
                      "Datum:          dinsdag 19 mei 2020 (nog 32 dagen)\n"
                      "Opzegtermijn:   6 maanden\n"
                      "Uw bijdrage:    € 12.660,88 tot € 15.826,10 per jaar\n"
                      "Kenmerk:        DVO Twente, 4 december 2017, besluit A=1\n"
                      "Wederpartij:    Stuurgroep Burgernet Oost-Nederland\n"
                      "Contact:        Burgernet Twente <burgernet@twente.example>\n"
                      "\n"
                      "Dit bericht is automatisch verstuurd door noticed.\n");
        free(subject);
        free(body);
        model_free(m);
}

static void test_text_render_english_says_when_what_and_what_it_costs(void **state) {
        Model *m = fixture_load(fixture_twente);
        Reminder r =
                fixture_reminder(m, "swf", MILESTONE_NOTICE, 1, "2020-06-30", "2020-06-23", false);
        char *subject, *body = fixture_text_body(m, &r, &subject);
        (void) state;

        assert_string_equal(subject, "Reminder: notice of termination of Deelname Burgernet, "
                                     "Tuesday 30 June 2020 (7 days left)");
        assert_contains(body, "To: Gemeente Súdwest-Fryslân\n");
        assert_contains(body, "To end Deelname Burgernet, notice of termination must be given no "
                              "later than Tuesday 30 June 2020.\n");
        assert_contains(body, "Without notice given by Tuesday 30 June 2020, Deelname Burgernet "
                              "is tacitly renewed until Friday 31 December 2021.\n");
        assert_contains(body, "Notice period:  6 months\n");
        assert_contains(body, "Your cost:      €7,200.00 to €9,000.00 a year\n");
        free(subject);
        free(body);
        model_free(m);
}

static void test_text_render_today_and_one_day(void **state) {
        Model *m = fixture_load(fixture_twente);
        Reminder today = fixture_reminder(m, "enschede", MILESTONE_NOTICE, 1, "2020-06-30",
                                          "2020-06-30", false);
        Reminder one =
                fixture_reminder(m, "swf", MILESTONE_NOTICE, 1, "2020-06-30", "2020-06-29", false);
        char *s1, *s2;
        (void) state;

        free(fixture_text_body(m, &today, &s1));
        free(fixture_text_body(m, &one, &s2));
        assert_string_equal(s1, "Herinnering: opzegging van Deelname Burgernet, dinsdag 30 juni "
                                "2020 (vandaag)");
        assert_string_equal(s2, "Reminder: notice of termination of Deelname Burgernet, Tuesday "
                                "30 June 2020 (1 day left)");
        free(s1);
        free(s2);
        model_free(m);
}

static void test_text_render_overdue_names_the_late_participant(void **state) {
        Model *m = fixture_load(fixture_twente);
        Reminder r = fixture_reminder(m, "enschede", MILESTONE_DECISION, 1, "2020-05-19",
                                      "2020-05-20", true);
        char *subject, *body = fixture_text_body(m, &r, &subject);
        (void) state;

        assert_string_equal(subject, "Termijn verstreken: besluit over Deelname Burgernet, "
                                     "dinsdag 19 mei 2020");
        assert_contains(body, "De termijn voor het besluit over voortzetting of opzegging van "
                              "Deelname Burgernet is op dinsdag 19 mei 2020 verstreken. Voor "
                              "Gemeente Enschede is geen besluit vastgelegd.\n");
        assert_contains(body, "Datum:          dinsdag 19 mei 2020 (1 dag geleden)\n");
        assert_not_contains(body, "deelnemers");
        free(subject);
        free(body);
        model_free(m);
}

static void test_text_render_overdue_to_escalation_names_no_one(void **state) {
        Model *m = fixture_load(fixture_twente);
        Reminder r = fixture_reminder(m, "klankbordgroep", MILESTONE_NOTICE, 1, "2020-06-30",
                                      "2020-07-01", true);
        char *subject, *body = fixture_text_body(m, &r, &subject);
        (void) state;

        assert_contains(body, "De uiterste datum voor opzegging van Deelname Burgernet is op "
                              "dinsdag 30 juni 2020 verstreken. Voor een of meer deelnemers is "
                              "geen besluit vastgelegd.\n");
        assert_not_contains(body, "Voor Klankbordgroep");
        assert_not_contains(body, "Uw bijdrage"); /* no population: the line is left out */
        free(subject);
        free(body);
        model_free(m);
}

static void test_text_render_term_end_and_review(void **state) {
        Model *m = fixture_load(fixture_twente);
        Reminder t = fixture_reminder(m, "enschede", MILESTONE_TERM_END, 1, "2020-12-31",
                                      "2020-12-17", false);
        Reminder v = fixture_reminder(m, "klankbordgroep", MILESTONE_REVIEW, 0, "2020-07-01",
                                      "2020-06-24", false);
        char *s1, *b1 = fixture_text_body(m, &t, &s1), *s2, *b2 = fixture_text_body(m, &v, &s2);
        (void) state;

        assert_contains(b1, "De looptijd van Deelname Burgernet eindigt op donderdag 31 december "
                            "2020.\n\nEr is geen opzegging vastgelegd; Deelname Burgernet loopt "
                            "daarom stilzwijgend door tot en met vrijdag 31 december 2021.\n");
        assert_string_equal(s2, "Herinnering: heroverweging van Deelname Burgernet, woensdag 1 "
                                "juli 2020 (nog 7 dagen)");
        assert_contains(b2, "Uiterlijk op woensdag 1 juli 2020 is de periodieke heroverweging van "
                            "Deelname Burgernet aan de orde.");
        /* No consequence for a review: its line and the blank line after it go. */
        assert_contains(b2, "aanleiding toe is?\n\nDatum:");
        free(s1);
        free(b1);
        free(s2);
        free(b2);
        model_free(m);
}

static void test_text_render_term_end_after_notice_served(void **state) {
        char *text;
        Model *m;
        Reminder r;
        char *subject, *body;
        (void) state;

        /* Notice served on 2020-06-15, before the notice deadline: cycle 1 is the last. */
        text = fixture_replace(fixture_twente, "review_every = \"6m\";",
                               "terminated = \"2020-06-15\";");
        m = fixture_load(text);
        r = fixture_reminder(m, "enschede", MILESTONE_TERM_END, 1, "2020-12-31", "2020-12-17",
                             false);
        body = fixture_text_body(m, &r, &subject);
        assert_contains(body, "De opzegging is gedaan op maandag 15 juni 2020.\n");
        assert_not_contains(body, "stilzwijgend");
        free(subject);
        free(body);
        free(text);
        model_free(m);
}

static void test_text_render_needs_no_mail_address(void **state) {
        Model *m = fixture_load(fixture_twente);
        Reminder r = fixture_reminder(m, "hookonly", MILESTONE_DECISION, 1, "2020-05-19",
                                      "2020-04-17", false);
        char *subject, *body = fixture_text_body(m, &r, &subject);
        (void) state;

        /* A webhook-only recipient still gets its words. */
        assert_contains(body, "Aan: Hook\n");
        free(subject);
        free(body);
        model_free(m);
}

/* ---- a milestone's words, for calendars ---- */

static void test_text_milestone_capitalises_the_summary_and_lists_the_facts(void **state) {
        Model *m = fixture_load(fixture_twente);
        Milestone ms = {.date = D("2020-05-19"),
                        .commitment = 0,
                        .kind = MILESTONE_DECISION,
                        .cycle = 1,
                        .deadline = -1};
        char *summary, *description;
        (void) state;

        assert_int_equal(text_milestone(m, LANGUAGE_NL, &ms, &summary, &description), 0);
        assert_string_equal(summary, "Besluit over Deelname Burgernet");
        assert_string_equal(description,
                            "Uiterlijk op dinsdag 19 mei 2020 moet zijn besloten of Deelname "
                            "Burgernet wordt voortgezet of wordt opgezegd.\n"
                            "Zonder opzegging uiterlijk op dinsdag 30 juni 2020 wordt Deelname "
                            "Burgernet stilzwijgend verlengd tot en met vrijdag 31 december 2021.\n"
                            "Opzegtermijn: 6 maanden\n"
                            "Kenmerk: DVO Twente, 4 december 2017, besluit A=1\n"
                            "Wederpartij: Stuurgroep Burgernet Oost-Nederland");
        free(summary);
        free(description);
        assert_int_equal(text_milestone(m, LANGUAGE_EN, &ms, &summary, &description), 0);
        assert_string_equal(summary, "Decision on Deelname Burgernet");
        assert_int_equal(strncmp(description, "By Tuesday 19 May 2020 a decision", 33), 0);
        free(summary);
        free(description);
        model_free(m);
}

/* ---- templates ---- */

static void test_text_render_template_overrides_the_built_in_text(void **state) {
        char *tpl = fixture_write_temp(fixture_template_nl);
        char *text, *subject, *body;
        Model *m;
        Reminder r, en;
        (void) state;

        assert_true(asprintf(&text, "%stemplates = { nl = \"%s\"; };\n", fixture_twente, tpl) > 0);
        m = fixture_load(text);
        assert_non_null(m->templates[LANGUAGE_NL][MESSAGE_REMINDER]);
        assert_null(m->templates[LANGUAGE_EN][MESSAGE_REMINDER]);
        r = fixture_reminder(m, "enschede", MILESTONE_DECISION, 1, "2020-05-19", "2020-04-17",
                             false);
        body = fixture_text_body(m, &r, &subject);
        assert_string_equal(subject, "Let op: Deelname Burgernet vóór dinsdag 19 mei 2020");
        assert_string_equal(body, "Beste Gemeente Enschede,\n"
                                  "\n"
                                  "nog 32 dagen (besluit); kosten $: € 12.660,88 tot € 15.826,10 "
                                  "per jaar\n"
                                  "Kenmerk: DVO Twente, 4 december 2017, besluit A=1\n"
                                  "\n"
                                  "Groet\n");
        /* English recipients keep the built-in text. */
        en = fixture_reminder(m, "swf", MILESTONE_DECISION, 1, "2020-05-19", "2020-04-17", false);
        free(subject);
        free(body);
        body = fixture_text_body(m, &en, &subject);
        assert_int_equal(strncmp(subject, "Reminder: ", 10), 0);
        free(subject);
        free(body);
        free(text);
        unlink(tpl);
        free(tpl);
        model_free(m);
}

static void test_text_date_spells_weekday_day_month_year(void **state) {
        char buf[TEXT_DATE_MAX];
        (void) state;

        assert_string_equal(text_date(LANGUAGE_NL, D("2020-05-19"), buf), "dinsdag 19 mei 2020");
        assert_string_equal(text_date(LANGUAGE_EN, D("2020-05-19"), buf), "Tuesday 19 May 2020");
        assert_string_equal(text_date(LANGUAGE_NL, D("2017-11-30"), buf),
                            "donderdag 30 november 2017");
        assert_string_equal(text_date(LANGUAGE_EN, D("9999-09-29"), buf),
                            "Wednesday 29 September 9999");
        assert_string_equal(text_date(LANGUAGE_NL, DATE_ARITHMETIC_MIN, buf),
                            "donderdag 1 januari -32768"); /* the widest year */
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_text_render_dutch_says_when_what_and_what_it_costs),
                cmocka_unit_test(test_text_render_english_says_when_what_and_what_it_costs),
                cmocka_unit_test(test_text_render_today_and_one_day),
                cmocka_unit_test(test_text_render_overdue_names_the_late_participant),
                cmocka_unit_test(test_text_render_overdue_to_escalation_names_no_one),
                cmocka_unit_test(test_text_render_term_end_and_review),
                cmocka_unit_test(test_text_render_term_end_after_notice_served),
                cmocka_unit_test(test_text_render_needs_no_mail_address),
                cmocka_unit_test(test_text_milestone_capitalises_the_summary_and_lists_the_facts),
                cmocka_unit_test(test_text_render_template_overrides_the_built_in_text),
                cmocka_unit_test(test_text_date_spells_weekday_day_month_year),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
