/* iCalendar: milestones as all-day events a calendar can import, and import again without
 * duplicates.  Models come from config text through config_load(); milestones from
 * plan_milestones(), as `noticectl export-ics` will get them. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "noticed/config.h"
#include "noticed/ical.h"
#include "noticed/plan.h"

static const char *const base_config =
        "transports = { out = { url = \"maildir:/tmp/noticed-test\"; from = \"n@x.example\"; }; "
        "};\n"
        "mail_via = \"out\";\n"
        "recipients = ( { id = \"a\"; name = \"A\"; mail = [\"a@x.example\"]; } );\n";

static const char *const twente =
        "{ id = \"burgernet-twente\"; title = \"Deelname Burgernet\"; participants = [\"a\"];\n"
        "  reference = \"DVO Twente, 4 december 2017\";\n"
        "  start = \"2019-01-01\"; term = \"2y\"; renewal = \"tacit\"; renewal_term = \"1y\";\n"
        "  notice = \"6m\"; decision_lead = \"6w\";\n"
        "  policy = { offsets = [\"30d\", \"7d\", \"0d\"]; send_time = \"08:30\"; };\n"
        "  deadlines = ( { id = \"standpunt\"; date = \"2017-11-30\";\n"
        "                  title = \"Standpunt doorgeven vóór 1 december, met een titel die lang "
        "genoeg is om te vouwen\"; } ); }";

static Model *load(const char *globals, const char *commitment) {
        char *text;
        Model *m;

        assert_true(asprintf(&text, "%s%s\ncommitments = ( %s );\n", base_config, globals,
                             commitment) > 0);
        m = fixture_load(text);
        free(text);
        return m;
}

/* The calendar of the milestones from..to, rendered at 2020-01-01T12:00:00Z. */
static char *calendar(const Model *m, const char *from, const char *to, size_t *ret_n) {
        Milestone *ms;
        size_t n;
        char *ics;

        assert_int_equal(plan_milestones(m, D(from), D(to), &ms, &n), 0);
        assert_int_equal(ical_render_milestones(m, ms, n, 1577880000, &ics), 0);
        free(ms);
        if (ret_n)
                *ret_n = n;
        return ics;
}

/* RFC 5545 3.1: a CRLF followed by one space or tab is not there. */
static char *unfold(const char *ics) {
        char *out = strdup(ics), *o = out;

        assert_non_null(out);
        for (const char *p = ics; *p; p++) {
                if (p[0] == '\r' && p[1] == '\n' && (p[2] == ' ' || p[2] == '\t'))
                        p += 2;
                else
                        *o++ = *p;
        }
        *o = '\0';
        return out;
}

static size_t count(const char *haystack, const char *needle) {
        size_t n = 0;

        for (const char *p = haystack; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

#define assert_contains(haystack, needle)                                                          \
        do {                                                                                       \
                if (!strstr((haystack), (needle)))                                                 \
                        fail_msg("\"%s\" not found in:\n%s", (needle), (haystack));                \
        } while (0)

static void test_ical_render_milestones_one_vevent_with_valarm_per_milestone(void **state) {
        Model *m = load("", twente);
        size_t n;
        char *ics = calendar(m, "2017-01-01", "2021-12-31", &n);
        (void) state;

        assert_int_equal(n, 7); /* standpunt; decision, notice, term_end of cycles 1 and 2 */
        assert_int_equal(strncmp(ics, "BEGIN:VCALENDAR\r\n", 17), 0);
        assert_contains(ics, "\r\nVERSION:2.0\r\n");
        assert_contains(ics, "\r\nPRODID:-//noticed//noticed ");
        assert_contains(ics, "\r\nMETHOD:PUBLISH\r\n");
        assert_int_equal(count(ics, "\r\nBEGIN:VEVENT\r\n"), n);
        assert_int_equal(count(ics, "\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\n"), n);
        assert_int_equal(count(ics, "\r\nDTSTAMP:20200101T120000Z\r\n"), n);
        assert_int_equal(strcmp(ics + strlen(ics) - 15, "END:VCALENDAR\r\n"), 0);
        free(ics);
        model_free(m);
}

static void test_ical_render_milestones_all_day_with_next_day_end(void **state) {
        Model *m = load("", twente);
        char *ics = calendar(m, "2020-12-31", "2020-12-31", NULL), *unfolded;
        (void) state;

        assert_contains(ics, "\r\nDTSTART;VALUE=DATE:20201231\r\nDTEND;VALUE=DATE:20210101\r\n");
        assert_contains(ics, "\r\nUID:burgernet-twente/term_end/1/2020-12-31@noticed\r\n");
        assert_contains(ics, "\r\nSUMMARY:Einde looptijd van Deelname Burgernet\r\n");
        assert_contains(ics, "\r\nTRANSP:TRANSPARENT\r\n");
        unfolded = unfold(ics);
        assert_contains(unfolded, "\r\nDESCRIPTION:De looptijd van Deelname Burgernet eindigt op "
                                  "donderdag 31 december 2020.\\nEr is geen opzegging "
                                  "vastgelegd\\; Deelname Burgernet loopt daarom stilzwijgend "
                                  "door tot en met vrijdag 31 december 2021.\\nOpzegtermijn: 6 "
                                  "maanden\\nKenmerk: DVO Twente\\, 4 december 2017\r\n");
        free(unfolded);
        free(ics);
        model_free(m);
}

static void test_ical_render_milestones_uid_is_stable_and_distinct(void **state) {
        Model *m = load("", twente);
        Milestone *ms;
        size_t n;
        char *uids[16];
        (void) state;

        assert_int_equal(plan_milestones(m, D("2017-01-01"), D("2022-12-31"), &ms, &n), 0);
        assert_true(n > 2 && n <= 16);
        for (size_t i = 0; i < n; i++) {
                char *again = ical_milestone_uid(m, &ms[i]);
                uids[i] = ical_milestone_uid(m, &ms[i]);
                assert_string_equal(uids[i], again);
                for (size_t j = 0; j < i; j++)
                        assert_string_not_equal(uids[i], uids[j]);
                free(again);
        }
        assert_string_equal(uids[0], "burgernet-twente/deadline:standpunt/0/2017-11-30@noticed");
        for (size_t i = 0; i < n; i++)
                free(uids[i]);
        free(ms);
        model_free(m);
}

static void test_ical_render_milestones_alarm_at_send_time_of_shortest_offset(void **state) {
        Model *m = load("", twente);
        Model *only_zero =
                load("policy = { offsets = [\"0d\"]; send_time = \"10:00\"; };",
                     "{ id = \"c\"; title = \"C\"; participants = [\"a\"]; start = \"2020-01-01\";"
                     "  term = \"1y\"; renewal = \"none\"; }");
        char *ics = calendar(m, "2020-05-19", "2020-05-19", NULL);
        char *zero = calendar(only_zero, "2020-12-31", "2020-12-31", NULL);
        (void) state;

        /* 7d before at 08:30: 7 days less 8.5 hours before the start of the day. */
        assert_contains(ics, "\r\nTRIGGER:-P6DT15H30M\r\n");
        /* Only "0d": on the day itself, at 10:00. */
        assert_contains(zero, "\r\nTRIGGER:PT10H\r\n");
        free(ics);
        free(zero);
        model_free(m);
        model_free(only_zero);
}

static void test_ical_render_milestones_lines_are_crlf_and_folded(void **state) {
        Model *m = load("", twente);
        char *ics = calendar(m, "2017-01-01", "2021-12-31", NULL), *unfolded;
        (void) state;

        for (const char *p = ics; *p;) {
                const char *end = strstr(p, "\r\n");
                assert_non_null(end);
                assert_null(memchr(p, '\n', (size_t) (end - p)));
                assert_true(end - p <= 75); /* octets, RFC 5545 3.1 */
                /* never inside a UTF-8 character: no line starts with a continuation byte */
                assert_true(((unsigned char) p[*p == ' '] & 0xc0) != 0x80);
                p = end + 2;
        }
        /* The long deadline title is folded and comes back whole when unfolded. */
        assert_null(strstr(ics, "SUMMARY:Standpunt doorgeven vóór 1 december\\, met een titel "
                                "die lang genoeg is om te vouwen\r\n"));
        unfolded = unfold(ics);
        assert_contains(unfolded, "SUMMARY:Standpunt doorgeven vóór 1 december\\, met een titel "
                                  "die lang genoeg is om te vouwen\r\n");
        free(unfolded);
        free(ics);
        model_free(m);
}

static void test_ical_render_milestones_language_english(void **state) {
        Model *m = load("language = \"en\";", twente);
        char *ics = calendar(m, "2020-05-19", "2020-05-19", NULL);
        (void) state;

        assert_contains(ics, "\r\nSUMMARY:Decision on Deelname Burgernet\r\n");
        assert_contains(ics, "DESCRIPTION:By Tuesday 19 May 2020 a decision must be taken");
        free(ics);
        model_free(m);
}

static void test_ical_render_milestones_empty_is_a_calendar_without_events(void **state) {
        Model *m = load("", twente);
        size_t n;
        char *ics = calendar(m, "2016-01-01", "2016-12-31", &n);
        (void) state;

        assert_int_equal(n, 0);
        assert_contains(ics, "\r\nMETHOD:PUBLISH\r\n");
        assert_null(strstr(ics, "VEVENT"));
        free(ics);
        model_free(m);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ical_render_milestones_one_vevent_with_valarm_per_milestone),
                cmocka_unit_test(test_ical_render_milestones_all_day_with_next_day_end),
                cmocka_unit_test(test_ical_render_milestones_uid_is_stable_and_distinct),
                cmocka_unit_test(test_ical_render_milestones_alarm_at_send_time_of_shortest_offset),
                cmocka_unit_test(test_ical_render_milestones_lines_are_crlf_and_folded),
                cmocka_unit_test(test_ical_render_milestones_language_english),
                cmocka_unit_test(test_ical_render_milestones_empty_is_a_calendar_without_events),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
