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

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "noticed/config.h"
#include "noticed/plan.h"
#include "noticed/text.h"

static const char *const config_text =
        "transports = {\n"
        "  relay = { url = \"maildir:/tmp/noticed-test-text\";\n"
        "            from = \"Burgernet Twente <burgernet@twente.example>\"; };\n"
        "  hook = { url = \"https://hooks.example.org/x\"; };\n"
        "};\n"
        "mail_via = \"relay\";\n"
        "recipients = (\n"
        "  { id = \"enschede\"; name = \"Gemeente Enschede\"; population = 158261;\n"
        "    mail = [\"burgernet@enschede.example\", \"griffie@enschede.example\"]; },\n"
        "  { id = \"swf\"; name = \"Gemeente Súdwest-Fryslân\"; language = \"en\";\n"
        "    population = 90000; mail = [\"info@swf.example\"]; },\n"
        "  { id = \"hof\"; name = \"Gemeente Hof van Twente (OV)\"; mail = "
        "[\"hof@twente.example\"]; },\n"
        "  { id = \"klankbordgroep\"; name = \"Klankbordgroep Burgernet Twente\";\n"
        "    mail = [\"klankbord@twente.example\"]; },\n"
        "  { id = \"hookonly\"; name = \"Hook\"; webhooks = [\"hook\"]; }\n"
        ");\n"
        "commitments = ( {\n"
        "  id = \"burgernet-twente\"; title = \"Deelname Burgernet\";\n"
        "  counterparty = \"Stuurgroep Burgernet Oost-Nederland\";\n"
        "  reference = \"DVO Twente, 4 december 2017, besluit A=1\";\n"
        "  start = \"2019-01-01\"; term = \"2y\"; renewal = \"tacit\"; renewal_term = \"1y\";\n"
        "  notice = \"6m\"; decision_lead = \"6w\"; review_every = \"6m\";\n"
        "  participants = [\"enschede\", \"swf\", \"hof\", \"hookonly\"];\n"
        "  reviewers = [\"klankbordgroep\"]; escalate_to = [\"klankbordgroep\"];\n"
        "  cost = { per_inhabitant = [0.08, 0.10]; currency = \"EUR\"; };\n"
        "  deadlines = ( { id = \"standpunt\"; date = \"2017-11-30\";\n"
        "                  title = \"Standpunt doorgeven vóór 1 december\"; } );\n"
        "} );\n";

static char *write_temp(const char *text) {
        char *path = strdup("/tmp/noticed-test-text-XXXXXX");
        int fd;

        assert_non_null(path);
        fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        close(fd);
        return path;
}

static Model *load(const char *text) {
        char *path = write_temp(text);
        ConfigErrors errors;
        Model *m = NULL;
        int r = config_load(path, &m, &errors);

        for (size_t i = 0; i < errors.n; i++)
                fprintf(stderr, "%s:%u: %s\n", errors.items[i].file, errors.items[i].line,
                        errors.items[i].message);
        config_errors_done(&errors);
        unlink(path);
        free(path);
        assert_int_equal(r, 0);
        return m;
}

/* text with the first `old` replaced by `new`. */
static char *replace(const char *text, const char *old, const char *new) {
        const char *at = strstr(text, old);
        char *out;

        assert_non_null(at);
        assert_true(asprintf(&out, "%.*s%s%s", (int) (at - text), text, new, at + strlen(old)) > 0);
        return out;
}

static Date D(const char *s) {
        Date d;
        assert_int_equal(date_parse(s, &d), 0);
        return d;
}

/* A reminder as plan_reminders() makes it, sent at 09:00 local time on `date`. */
static Reminder reminder(const Model *m, const char *recipient, MilestoneKind kind, uint32_t cycle,
                         const char *milestone, const char *date, bool overdue) {
        Reminder r = {
                .date = D(date),
                .overdue = overdue,
                .milestone = {.date = D(milestone),
                              .commitment = 0,
                              .kind = kind,
                              .cycle = cycle,
                              .deadline = kind == MILESTONE_DEADLINE ? 0 : -1},
        };
        bool found = false;

        for (size_t i = 0; i < m->n_recipients; i++)
                if (strcmp(m->recipients[i].id, recipient) == 0) {
                        r.recipient = (uint32_t) i;
                        found = true;
                }
        assert_true(found);
        r.offset =
                (Duration){.count = overdue ? r.date - r.milestone.date : r.milestone.date - r.date,
                           .unit = DURATION_DAYS};
        tz_local_to_unix(m->tz, r.date, 9 * 3600, &r.at, &r.utc_offset);
        return r;
}

static char *text_body(const Model *m, const Reminder *r, char **ret_subject) {
        char *subject, *body;

        assert_int_equal(text_render(m, r, &subject, &body), 0);
        if (ret_subject)
                *ret_subject = subject;
        else
                free(subject);
        return body;
}

#define assert_contains(haystack, needle)                                                          \
        do {                                                                                       \
                if (!strstr((haystack), (needle)))                                                 \
                        fail_msg("\"%s\" not found in:\n%s", (needle), (haystack));                \
        } while (0)

#define assert_not_contains(haystack, needle)                                                      \
        do {                                                                                       \
                if (strstr((haystack), (needle)))                                                  \
                        fail_msg("\"%s\" found in:\n%s", (needle), (haystack));                    \
        } while (0)

/* ---- the words ---- */

static void test_text_render_dutch_says_when_what_and_what_it_costs(void **state) {
        Model *m = load(config_text);
        Reminder r =
                reminder(m, "enschede", MILESTONE_DECISION, 1, "2020-05-19", "2020-04-17", false);
        char *subject, *body = text_body(m, &r, &subject);
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
        Model *m = load(config_text);
        Reminder r = reminder(m, "swf", MILESTONE_NOTICE, 1, "2020-06-30", "2020-06-23", false);
        char *subject, *body = text_body(m, &r, &subject);
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
        Model *m = load(config_text);
        Reminder today =
                reminder(m, "enschede", MILESTONE_NOTICE, 1, "2020-06-30", "2020-06-30", false);
        Reminder one = reminder(m, "swf", MILESTONE_NOTICE, 1, "2020-06-30", "2020-06-29", false);
        char *s1, *s2;
        (void) state;

        free(text_body(m, &today, &s1));
        free(text_body(m, &one, &s2));
        assert_string_equal(s1, "Herinnering: opzegging van Deelname Burgernet, dinsdag 30 juni "
                                "2020 (vandaag)");
        assert_string_equal(s2, "Reminder: notice of termination of Deelname Burgernet, Tuesday "
                                "30 June 2020 (1 day left)");
        free(s1);
        free(s2);
        model_free(m);
}

static void test_text_render_overdue_names_the_late_participant(void **state) {
        Model *m = load(config_text);
        Reminder r =
                reminder(m, "enschede", MILESTONE_DECISION, 1, "2020-05-19", "2020-05-20", true);
        char *subject, *body = text_body(m, &r, &subject);
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
        Model *m = load(config_text);
        Reminder r = reminder(m, "klankbordgroep", MILESTONE_NOTICE, 1, "2020-06-30", "2020-07-01",
                              true);
        char *subject, *body = text_body(m, &r, &subject);
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
        Model *m = load(config_text);
        Reminder t =
                reminder(m, "enschede", MILESTONE_TERM_END, 1, "2020-12-31", "2020-12-17", false);
        Reminder v = reminder(m, "klankbordgroep", MILESTONE_REVIEW, 0, "2020-07-01", "2020-06-24",
                              false);
        char *s1, *b1 = text_body(m, &t, &s1), *s2, *b2 = text_body(m, &v, &s2);
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
        text = replace(config_text, "review_every = \"6m\";", "terminated = \"2020-06-15\";");
        m = load(text);
        r = reminder(m, "enschede", MILESTONE_TERM_END, 1, "2020-12-31", "2020-12-17", false);
        body = text_body(m, &r, &subject);
        assert_contains(body, "De opzegging is gedaan op maandag 15 juni 2020.\n");
        assert_not_contains(body, "stilzwijgend");
        free(subject);
        free(body);
        free(text);
        model_free(m);
}

static void test_text_render_needs_no_mail_address(void **state) {
        Model *m = load(config_text);
        Reminder r =
                reminder(m, "hookonly", MILESTONE_DECISION, 1, "2020-05-19", "2020-04-17", false);
        char *subject, *body = text_body(m, &r, &subject);
        (void) state;

        /* A webhook-only recipient still gets its words. */
        assert_contains(body, "Aan: Hook\n");
        free(subject);
        free(body);
        model_free(m);
}

/* ---- a milestone's words, for calendars ---- */

static void test_text_milestone_capitalises_the_summary_and_lists_the_facts(void **state) {
        Model *m = load(config_text);
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
        char *tpl = write_temp("Subject: Let op: ${title} vóór ${deadline}\n"
                               "\n"
                               "Beste ${recipient},\n"
                               "\n"
                               "nog ${days_left} dagen (${kind}); kosten $$: ${cost}\n"
                               "Kenmerk: ${reference}\n"
                               "Ontbreekt: ${undecided}\n"
                               "\n"
                               "Groet\n");
        char *text, *subject, *body;
        Model *m;
        Reminder r, en;
        (void) state;

        assert_true(asprintf(&text, "%stemplates = { nl = \"%s\"; };\n", config_text, tpl) > 0);
        m = load(text);
        assert_non_null(m->templates[LANGUAGE_NL][MESSAGE_REMINDER]);
        assert_null(m->templates[LANGUAGE_EN][MESSAGE_REMINDER]);
        r = reminder(m, "enschede", MILESTONE_DECISION, 1, "2020-05-19", "2020-04-17", false);
        body = text_body(m, &r, &subject);
        assert_string_equal(subject, "Let op: Deelname Burgernet vóór dinsdag 19 mei 2020");
        assert_string_equal(body, "Beste Gemeente Enschede,\n"
                                  "\n"
                                  "nog 32 dagen (besluit); kosten $: € 12.660,88 tot € 15.826,10 "
                                  "per jaar\n"
                                  "Kenmerk: DVO Twente, 4 december 2017, besluit A=1\n"
                                  "\n"
                                  "Groet\n");
        /* English recipients keep the built-in text. */
        en = reminder(m, "swf", MILESTONE_DECISION, 1, "2020-05-19", "2020-04-17", false);
        free(subject);
        free(body);
        body = text_body(m, &en, &subject);
        assert_int_equal(strncmp(subject, "Reminder: ", 10), 0);
        free(subject);
        free(body);
        free(text);
        unlink(tpl);
        free(tpl);
        model_free(m);
}

static void test_text_template_check_accepts_the_built_in_templates(void **state) {
        static const Language languages[] = {LANGUAGE_NL, LANGUAGE_EN};
        (void) state;

        for (size_t i = 0; i < 2; i++)
                for (MessageKind k = MESSAGE_REMINDER; k <= MESSAGE_OVERDUE; k++) {
                        const char *t = text_builtin_template(languages[i], k);
                        unsigned line = 0;
                        char *message = NULL;
                        assert_int_equal(text_template_check(t, strlen(t), &line, &message), 0);
                        assert_null(message);
                }
}

static void assert_template_error(const char *text, size_t size, unsigned line,
                                  const char *message) {
        unsigned l = 0;
        char *msg = NULL;

        assert_int_equal(text_template_check(text, size, &l, &msg), -EINVAL);
        assert_string_equal(msg, message);
        assert_int_equal(l, line);
        free(msg);
}

static void test_text_template_check_reports_problem_and_line(void **state) {
        (void) state;
        assert_template_error("Subject: x\n\na\n${nope}\n", 22, 4,
                              "unknown placeholder \"${nope}\"");
        assert_template_error("Subject: x\n\n${title\n", 20, 3,
                              "unterminated placeholder \"${\" (write \"$$\" for a '$')");
        assert_template_error("Subject: x\n\nb\xc3(\n", 16, 3, "invalid UTF-8");
        assert_template_error("Subject: x\n\na\x01\n", 15, 3,
                              "control character (only newline and tab are allowed)");
        assert_template_error("Subject: x\n\na\xc2\x85\n", 16, 3,
                              "control character (only newline and tab are allowed)");
        assert_template_error("Subject: x\r\n\r\n", 14, 1,
                              "carriage return (CR): save the file with Unix (LF) line ends");
        assert_template_error("Subject: x\n\na\0b\n", 16, 3,
                              "control character (only newline and tab are allowed)");
        assert_template_error("Hello\n\nbody\n", 12, 1, "the first line must be \"Subject: ...\"");
        assert_template_error("Subject:  \n\nbody\n", 17, 1,
                              "the first line must be \"Subject: ...\"");
        assert_template_error("Subject: a\tb\n\n", 14, 1, "a tab in the Subject line");
        assert_template_error("Subject: x\nbody\n", 16, 2,
                              "line 2 must be empty: it separates the Subject line from the body");
        assert_template_error("", 0, 1, "the first line must be \"Subject: ...\"");
}

static void test_text_template_check_accepts_tabs_dollars_and_no_body(void **state) {
        unsigned line;
        char *message = NULL;
        (void) state;

        assert_int_equal(text_template_check("Subject: $5 ${title}\n\n\tcost $$ ${cost} $x\n", 41,
                                             &line, &message),
                         0);
        assert_int_equal(text_template_check("Subject: only\n", 14, &line, &message), 0);
        assert_null(message);
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
                cmocka_unit_test(test_text_template_check_accepts_the_built_in_templates),
                cmocka_unit_test(test_text_template_check_reports_problem_and_line),
                cmocka_unit_test(test_text_template_check_accepts_tabs_dollars_and_no_body),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
