/* Plan: every rule of DESIGN.md "Dates and durations" and "Reminders", each worked out by hand.
 *
 * Models are built the way users build them, from config text through config_load(), and the
 * results are compared as one line per milestone or reminder, so a failure shows the whole
 * timeline next to the expected one. */

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
#include "noticed/render.h"

/* Three recipients: participants a and b, and boss for reviews and escalation. */
static const char *const base_config =
        "transports = { out = { url = \"maildir:/tmp/noticed-test\"; from = \"n@x.example\"; }; "
        "};\n"
        "mail_via = \"out\";\n"
        "recipients = (\n"
        "  { id = \"a\"; name = \"A\"; population = 1000; mail = [\"a@x.example\"]; },\n"
        "  { id = \"b\"; name = \"B\"; mail = [\"b@x.example\"]; },\n"
        "  { id = \"boss\"; name = \"Boss\"; mail = [\"boss@x.example\"]; }\n"
        ");\n";

/* A model with the base recipients, `globals` at top level and these commitments' fields. */
static Model *load_model(const char *globals, const char *commitments) {
        char *text;
        Model *m;

        assert_true(asprintf(&text, "%s%s\ncommitments = (\n%s\n);\n", base_config, globals,
                             commitments) > 0);
        m = fixture_load(text);
        free(text);
        return m;
}

static Model *load_one(const char *fields) {
        char *c;
        Model *m;

        assert_true(asprintf(&c, "{ id = \"c\"; title = \"C\"; participants = [\"a\", \"b\"]; %s }",
                             fields) > 0);
        m = load_model("", c);
        free(c);
        return m;
}

/* "2020-06-30 notice 1 c\n" per milestone. */
static char *milestones(const Model *m, const char *from, const char *to) {
        Milestone *ms;
        size_t n;
        char *out = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&out, &size);

        assert_int_equal(plan_milestones(m, D(from), D(to), &ms, &n), 0);
        for (size_t i = 0; i < n; i++) {
                char d[DATE_STRING_MAX];
                fprintf(f, "%s %s %u %s\n", date_format(ms[i].date, d),
                        milestone_kind_to_string(ms[i].kind), ms[i].cycle,
                        m->commitments[ms[i].commitment].id);
        }
        fclose(f);
        free(ms);
        return out;
}

typedef struct Decisions {
        const char *participant; /* this participant has decided every cycle */
        const char *participant2;
} Decisions;

static bool decided(void *userdata, size_t commitment, uint32_t cycle, size_t participant) {
        const Model *m = ((void **) userdata)[0];
        const Decisions *d = ((void **) userdata)[1];
        const char *id = m->recipients[participant].id;

        (void) commitment;
        (void) cycle;
        return (d->participant && strcmp(id, d->participant) == 0) ||
               (d->participant2 && strcmp(id, d->participant2) == 0);
}

/* "2020-04-17T09:00:00+02:00 decision 1 2020-05-19 30d a\n" per reminder. */
static char *reminders_decided(const Model *m, const char *from, const char *to,
                               const Decisions *d) {
        void *userdata[2] = {(void *) m, (void *) d};
        Reminder *rs;
        size_t n, size = 0;
        char *out = NULL;
        FILE *f = open_memstream(&out, &size);

        assert_int_equal(plan_reminders(m, D(from), D(to), d ? decided : NULL, userdata, &rs, &n),
                         0);
        for (size_t i = 0; i < n; i++) {
                char at[TZ_TIMESTAMP_MAX], ms[DATE_STRING_MAX], off[DURATION_STRING_MAX];
                fprintf(f, "%s %s %u %s %s %s\n", tz_format_rfc3339(rs[i].at, rs[i].utc_offset, at),
                        rs[i].overdue ? "overdue" : milestone_kind_to_string(rs[i].milestone.kind),
                        rs[i].milestone.cycle, date_format(rs[i].milestone.date, ms),
                        render_offset(&rs[i], off), m->recipients[rs[i].recipient].id);
        }
        fclose(f);
        free(rs);
        return out;
}

static char *reminders(const Model *m, const char *from, const char *to) {
        return reminders_decided(m, from, to, NULL);
}

#define assert_milestones(m, from, to, expected)                                                   \
        do {                                                                                       \
                char *_s = milestones(m, from, to);                                                \
                assert_string_equal(_s, expected);                                                 \
                free(_s);                                                                          \
        } while (0)

#define assert_reminders(m, from, to, expected)                                                    \
        do {                                                                                       \
                char *_s = reminders(m, from, to);                                                 \
                assert_string_equal(_s, expected);                                                 \
                free(_s);                                                                          \
        } while (0)

/* ---- milestones ---- */

static void test_plan_milestones_term_end_is_last_day_inside_term(void **state) {
        Model *m = load_one("start = \"2019-01-01\"; term = \"2y\"; renewal = \"none\";");
        (void) state;
        assert_milestones(m, "2000-01-01", "2099-12-31", "2020-12-31 term_end 1 c\n");
        model_free(m);
}

static void test_plan_milestones_notice_and_decision_of_the_twente_case(void **state) {
        /* Notice: (2021-01-01 − 6m) − 1d = 2020-06-30; decision 6 weeks before: 2020-05-19. */
        Model *m = load_one("start = \"2019-01-01\"; term = \"2y\"; renewal = \"tacit\"; "
                            "renewal_term = \"1y\"; notice = \"6m\"; decision_lead = \"6w\";");
        (void) state;
        assert_milestones(m, "2019-01-01", "2022-12-31",
                          "2020-05-19 decision 1 c\n"
                          "2020-06-30 notice 1 c\n"
                          "2020-12-31 term_end 1 c\n"
                          "2021-05-19 decision 2 c\n"
                          "2021-06-30 notice 2 c\n"
                          "2021-12-31 term_end 2 c\n"
                          "2022-05-19 decision 3 c\n"
                          "2022-06-30 notice 3 c\n"
                          "2022-12-31 term_end 3 c\n");
        model_free(m);
}

static void test_plan_milestones_renewal_term_defaults_to_term(void **state) {
        Model *m = load_one("start = \"2019-01-01\"; term = \"2y\"; renewal = \"tacit\"; "
                            "notice = \"3m\";");
        (void) state;
        /* 2021-01-01 − 3m − 1d = 2020-09-30; cycle 2 is 2021-01-01 .. 2022-12-31. */
        assert_milestones(m, "2019-01-01", "2022-12-31",
                          "2020-09-30 decision 1 c\n"
                          "2020-09-30 notice 1 c\n"
                          "2020-12-31 term_end 1 c\n"
                          "2022-09-30 decision 2 c\n"
                          "2022-09-30 notice 2 c\n"
                          "2022-12-31 term_end 2 c\n");
        model_free(m);
}

static void test_plan_milestones_deadline_shift_over_a_weekend(void **state) {
        /* (2020-01-01 − 1m) − 1d = Saturday 2019-11-30. */
        const char *base = "start = \"2019-01-01\"; term = \"1y\"; renewal = \"none\"; "
                           "notice = \"1m\"; deadline_shift = ";
        const struct {
                const char *shift, *expected;
        } cases[] = {
                {"\"earlier\";", "2019-11-29 decision 1 c\n2019-11-29 notice 1 c\n"},
                {"\"later\";", "2019-12-02 decision 1 c\n2019-12-02 notice 1 c\n"},
                {"\"none\";", "2019-11-30 decision 1 c\n2019-11-30 notice 1 c\n"},
        };
        (void) state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *fields;
                assert_true(asprintf(&fields, "%s%s", base, cases[i].shift) > 0);
                Model *m = load_one(fields);
                assert_milestones(m, "2019-11-01", "2019-12-30", cases[i].expected);
                model_free(m);
                free(fields);
        }
}

static void test_plan_milestones_deadline_shift_over_easter(void **state) {
        /* (2020-04-15 − 1d) − 1d = Easter Monday 2020-04-13; earlier skips Easter Sunday,
         * Saturday and Good Friday to Thursday 2020-04-09; later goes to Tuesday 2020-04-14. */
        Model *m = load_one("start = \"2019-04-15\"; term = \"1y\"; renewal = \"none\"; "
                            "notice = \"1d\";");
        Model *later = load_one("start = \"2019-04-15\"; term = \"1y\"; renewal = \"none\"; "
                                "notice = \"1d\"; deadline_shift = \"later\";");
        (void) state;
        assert_milestones(m, "2020-04-01", "2020-04-13",
                          "2020-04-09 decision 1 c\n2020-04-09 notice 1 c\n");
        assert_milestones(later, "2020-04-01", "2020-04-14",
                          "2020-04-14 decision 1 c\n2020-04-14 notice 1 c\n"
                          "2020-04-14 term_end 1 c\n");
        model_free(m);
        model_free(later);
}

static void test_plan_milestones_global_deadline_shift_and_extra_holiday(void **state) {
        /* 2020-06-30 is made a holiday: the notice moves to Monday 2020-06-29 ... unless the
         * global shift is "none". */
        Model *m = load_model("holidays = { calendar = \"nl\"; extra = [\"2020-06-30\"]; };",
                              "{ id = \"c\"; title = \"C\"; participants = [\"a\"]; "
                              "start = \"2019-01-01\"; term = \"2y\"; renewal = \"none\"; "
                              "notice = \"6m\"; }");
        Model *none =
                load_model("deadline_shift = \"none\"; holidays = { extra = [\"2020-06-30\"]; };",
                           "{ id = \"c\"; title = \"C\"; participants = [\"a\"]; "
                           "start = \"2019-01-01\"; term = \"2y\"; renewal = \"none\"; "
                           "notice = \"6m\"; }");
        (void) state;
        assert_milestones(m, "2020-06-01", "2020-07-31",
                          "2020-06-29 decision 1 c\n2020-06-29 notice 1 c\n");
        assert_milestones(none, "2020-06-01", "2020-07-31",
                          "2020-06-30 decision 1 c\n2020-06-30 notice 1 c\n");
        model_free(m);
        model_free(none);
}

static void test_plan_milestones_decision_counts_back_from_shifted_notice(void **state) {
        /* Notice Saturday 2019-11-30 -> Friday 2019-11-29; minus 2 weeks: Friday 2019-11-15. */
        Model *m = load_one("start = \"2019-01-01\"; term = \"1y\"; renewal = \"none\"; "
                            "notice = \"1m\"; decision_lead = \"2w\";");
        (void) state;
        assert_milestones(
                m, "2019-11-01", "2019-12-31",
                "2019-11-15 decision 1 c\n2019-11-29 notice 1 c\n2019-12-31 term_end 1 c\n");
        model_free(m);
}

static void test_plan_milestones_renewal_none_without_notice_has_only_term_end(void **state) {
        Model *m = load_one("start = \"2019-03-15\"; term = \"6m\"; renewal = \"none\"; "
                            "review_every = \"2m\";");
        (void) state;
        assert_milestones(m, "2019-01-01", "2025-12-31",
                          "2019-05-15 review 0 c\n"
                          "2019-07-15 review 0 c\n"
                          "2019-09-14 term_end 1 c\n");
        model_free(m);
}

static void test_plan_milestones_indefinite_has_one_cycle_and_reviews_forever(void **state) {
        Model *m = load_one("start = \"2019-01-01\"; term = \"1y\"; renewal = \"indefinite\"; "
                            "notice = \"3m\"; review_every = \"1y\";");
        (void) state;
        assert_milestones(m, "2019-01-01", "2023-01-01",
                          "2019-09-30 decision 1 c\n"
                          "2019-09-30 notice 1 c\n"
                          "2019-12-31 term_end 1 c\n"
                          "2020-01-01 review 0 c\n"
                          "2021-01-01 review 0 c\n"
                          "2022-01-01 review 0 c\n"
                          "2023-01-01 review 0 c\n");
        model_free(m);
}

static void test_plan_milestones_month_end_start_clamps_each_cycle(void **state) {
        /* "each next cycle ... starts the day after the previous term_end": 2019-01-31 + 1m is
         * 2019-02-28, so cycle 1 ends 02-27 and cycle 2 runs from 02-28 to 03-27. */
        Model *m = load_one("start = \"2019-01-31\"; term = \"1m\"; renewal = \"tacit\"; "
                            "notice = \"1w\"; deadline_shift = \"none\";");
        (void) state;
        assert_milestones(m, "2019-01-31", "2019-03-31",
                          "2019-02-20 decision 1 c\n"
                          "2019-02-20 notice 1 c\n"
                          "2019-02-27 term_end 1 c\n"
                          "2019-03-20 decision 2 c\n"
                          "2019-03-20 notice 2 c\n"
                          "2019-03-27 term_end 2 c\n");
        model_free(m);
}

static const char *const twente_terms = "start = \"2019-01-01\"; term = \"2y\"; renewal = "
                                        "\"tacit\"; renewal_term = \"1y\"; notice = \"6m\"; "
                                        "decision_lead = \"6w\"; ";

static Model *load_twente_terminated(const char *terminated) {
        char *fields;
        Model *m;

        assert_true(asprintf(&fields, "%sterminated = \"%s\";", twente_terms, terminated) > 0);
        m = load_one(fields);
        free(fields);
        return m;
}

static void test_plan_milestones_tacit_terminated_in_time_ends_after_cycle_1(void **state) {
        /* Served 2020-06-01: the decision of 2020-05-19 stays (before), the notice goes. */
        Model *m = load_twente_terminated("2020-06-01");
        (void) state;
        assert_milestones(m, "2019-01-01", "2030-12-31",
                          "2020-05-19 decision 1 c\n2020-12-31 term_end 1 c\n");
        model_free(m);
}

static void test_plan_milestones_tacit_terminated_on_the_notice_day_is_in_time(void **state) {
        Model *m = load_twente_terminated("2020-06-30");
        (void) state;
        assert_milestones(m, "2019-01-01", "2030-12-31",
                          "2020-05-19 decision 1 c\n2020-12-31 term_end 1 c\n");
        model_free(m);
}

static void test_plan_milestones_tacit_terminated_late_buys_one_more_term(void **state) {
        /* Served 2020-07-01, a day late: cycle 2 (2021) is the first whose notice deadline
         * (2021-06-30) is on or after it; its decision and notice are after the served day. */
        Model *m = load_twente_terminated("2020-07-01");
        (void) state;
        assert_milestones(m, "2019-01-01", "2030-12-31",
                          "2020-05-19 decision 1 c\n"
                          "2020-06-30 notice 1 c\n"
                          "2020-12-31 term_end 1 c\n"
                          "2021-12-31 term_end 2 c\n");
        model_free(m);
}

static void test_plan_milestones_none_terminated_keeps_term_end(void **state) {
        Model *m =
                load_one("start = \"2019-01-01\"; term = \"2y\"; renewal = \"none\"; "
                         "notice = \"6m\"; decision_lead = \"6w\"; terminated = \"2020-01-15\";");
        (void) state;
        assert_milestones(m, "2019-01-01", "2030-12-31", "2020-12-31 term_end 1 c\n");
        model_free(m);
}

static void test_plan_milestones_indefinite_terminated_late_ends_in_cycle_2(void **state) {
        /* Served 2020-09-01 + 6m − 1d = 2021-02-28, later than cycle 1's end 2020-12-31. */
        Model *m =
                load_one("start = \"2019-01-01\"; term = \"2y\"; renewal = \"indefinite\"; "
                         "notice = \"6m\"; decision_lead = \"6w\"; terminated = \"2020-09-01\";");
        (void) state;
        assert_milestones(m, "2019-01-01", "2030-12-31",
                          "2020-05-19 decision 1 c\n"
                          "2020-06-30 notice 1 c\n"
                          "2020-12-31 term_end 1 c\n"
                          "2021-02-28 term_end 2 c\n");
        model_free(m);
}

static void test_plan_milestones_indefinite_terminated_early_ends_with_cycle_1(void **state) {
        /* Served 2020-03-01 + 6m − 1d = 2020-08-31, before 2020-12-31: cycle 1's end stands. */
        Model *m =
                load_one("start = \"2019-01-01\"; term = \"2y\"; renewal = \"indefinite\"; "
                         "notice = \"6m\"; decision_lead = \"6w\"; terminated = \"2020-03-01\";");
        (void) state;
        assert_milestones(m, "2019-01-01", "2030-12-31", "2020-12-31 term_end 1 c\n");
        model_free(m);
}

static void test_plan_milestones_reviews_stop_with_the_commitment(void **state) {
        /* S + k·6m while it runs: 2021-01-01 is after the term_end of a non-renewing term. */
        Model *m = load_one("start = \"2019-01-01\"; term = \"2y\"; renewal = \"none\"; "
                            "review_every = \"6m\";");
        (void) state;
        assert_milestones(m, "2019-01-01", "2030-12-31",
                          "2019-07-01 review 0 c\n"
                          "2020-01-01 review 0 c\n"
                          "2020-07-01 review 0 c\n"
                          "2020-12-31 term_end 1 c\n");
        model_free(m);
}

static void test_plan_milestones_reviews_stop_after_terminated_day(void **state) {
        /* A review on the served day itself is kept; later ones are dropped. */
        char *fields;
        Model *m;
        (void) state;
        assert_true(asprintf(&fields, "%sreview_every = \"6m\"; terminated = \"2020-01-01\";",
                             twente_terms) > 0);
        m = load_one(fields);
        assert_milestones(m, "2019-01-01", "2030-12-31",
                          "2019-07-01 review 0 c\n"
                          "2020-01-01 review 0 c\n"
                          "2020-12-31 term_end 1 c\n");
        model_free(m);
        free(fields);
}

static void test_plan_milestones_reviews_count_from_start_without_drift(void **state) {
        /* S + k·6m from 2019-08-31: 2020-02-29 (clamped), then 2020-08-31 again, not 08-29. */
        Model *m = load_one("start = \"2019-08-31\"; term = \"2y\"; renewal = \"none\"; "
                            "review_every = \"6m\";");
        (void) state;
        assert_milestones(m, "2019-01-01", "2020-12-31",
                          "2020-02-29 review 0 c\n2020-08-31 review 0 c\n");
        model_free(m);
}

static void test_plan_milestones_one_off_deadlines_shift_earlier(void **state) {
        /* Thursday 2017-11-30 stays; Sunday 2017-12-31 moves to Friday 2017-12-29. */
        Model *m =
                load_one("start = \"2019-01-01\"; term = \"2y\"; renewal = \"none\"; "
                         "deadlines = ( { id = \"x\"; date = \"2017-11-30\"; title = \"X\"; },"
                         "              { id = \"y\"; date = \"2017-12-31\"; title = \"Y\"; } );");
        (void) state;
        assert_milestones(m, "2017-01-01", "2018-12-31",
                          "2017-11-30 deadline 0 c\n2017-12-29 deadline 0 c\n");
        model_free(m);
}

static void test_plan_milestones_same_day_order_and_commitment_ids(void **state) {
        /* On 2019-06-30: deadline, decision, notice, review, for "alpha" before "zeta" although
         * zeta comes first in the config. */
        const char *fields =
                "title = \"T\"; participants = [\"a\"]; start = \"2019-01-01\"; "
                "term = \"1y\"; renewal = \"none\"; notice = \"6m\"; "
                "deadline_shift = \"none\"; review_every = \"180d\"; "
                "deadlines = ( { id = \"d\"; date = \"2019-06-30\"; title = \"D\"; } );";
        char *commitments;
        Model *m;
        (void) state;
        assert_true(asprintf(&commitments, "{ id = \"zeta\"; %s },\n{ id = \"alpha\"; %s }", fields,
                             fields) > 0);
        m = load_model("", commitments);
        assert_milestones(m, "2019-06-30", "2019-06-30",
                          "2019-06-30 deadline 0 alpha\n"
                          "2019-06-30 decision 1 alpha\n"
                          "2019-06-30 notice 1 alpha\n"
                          "2019-06-30 review 0 alpha\n"
                          "2019-06-30 deadline 0 zeta\n"
                          "2019-06-30 decision 1 zeta\n"
                          "2019-06-30 notice 1 zeta\n"
                          "2019-06-30 review 0 zeta\n");
        model_free(m);
        free(commitments);
}

static void test_plan_milestones_window_includes_both_ends(void **state) {
        Model *m = load_one(twente_terms);
        (void) state;
        assert_milestones(m, "2020-05-19", "2020-06-30",
                          "2020-05-19 decision 1 c\n2020-06-30 notice 1 c\n");
        assert_milestones(m, "2020-05-20", "2020-06-29", "");
        model_free(m);
}

static void test_plan_milestones_terminated_on_the_listed_notice_day_is_in_time(void **state) {
        /* Cycle 5's notice day (2025-01-01 − 6m) − 1d is Sunday 2024-06-30, listed with "later"
         * as Monday 2024-07-01.  Notice served on that listed day ends the commitment at cycle 5
         * ("the first cycle whose notice deadline is on or after that day"): no cycle 6. */
        char *fields;
        Model *m;
        (void) state;
        assert_true(asprintf(&fields, "%sdeadline_shift = \"later\"; terminated = \"2024-07-01\";",
                             twente_terms) > 0);
        m = load_one(fields);
        /* The decision, 6 weeks before, is Whit Monday 2024-05-20, moved later to Tuesday. */
        assert_milestones(m, "2024-01-01", "2026-12-31",
                          "2024-05-21 decision 5 c\n2024-12-31 term_end 5 c\n");
        model_free(m);
        free(fields);
}

static void test_plan_milestones_terminated_after_the_listed_notice_day_is_late(void **state) {
        /* With "earlier" cycle 5's notice is listed on Friday 2024-06-28; served on Saturday
         * 06-29 is after the listed deadline, so it counts for cycle 6. */
        char *fields;
        Model *m;
        (void) state;
        assert_true(asprintf(&fields, "%sterminated = \"2024-06-29\";", twente_terms) > 0);
        m = load_one(fields);
        assert_milestones(
                m, "2024-06-01", "2026-12-31",
                "2024-06-28 notice 5 c\n2024-12-31 term_end 5 c\n2025-12-31 term_end 6 c\n");
        model_free(m);
        free(fields);
}

static void test_plan_milestones_past_year_9999_are_exact_or_absent(void **state) {
        /* S+L is 10000-07-31: decision and notice (S+L − 1y) − 1d = 9999-07-30, a review at
         * S + 5m = 9999-12-31, and no term_end (10000-07-30 is past the range). */
        Model *m = load_one("start = \"9999-07-31\"; term = \"1y\"; renewal = \"none\"; "
                            "notice = \"1y\"; review_every = \"5m\"; deadline_shift = \"none\";");
        (void) state;
        assert_milestones(
                m, "9998-01-01", "9999-12-31",
                "9999-07-30 decision 1 c\n9999-07-30 notice 1 c\n9999-12-31 review 0 c\n");
        model_free(m);
}

static void test_plan_milestones_before_year_1_are_absent(void **state) {
        /* A notice period longer than the history of the calendar puts the deadline before
         * 0001-01-01: it is not listed, and nothing lands on 0001-01-01 instead. */
        Model *m = load_one("start = \"2019-01-01\"; term = \"1y\"; renewal = \"none\"; "
                            "notice = \"9999y\";");
        (void) state;
        assert_milestones(m, "0001-01-01", "9999-12-31", "2019-12-31 term_end 1 c\n");
        model_free(m);
}

static void test_plan_milestones_far_future_terminates(void **state) {
        /* Daily renewal for decades must not loop forever and must reach the end of the range. */
        Model *m = load_one("start = \"2000-01-01\"; term = \"1d\"; renewal = \"tacit\"; "
                            "notice = \"1d\"; deadline_shift = \"none\";");
        char *s;
        (void) state;
        s = milestones(m, "9999-12-30", "9999-12-31");
        assert_non_null(strstr(s, "9999-12-30 term_end"));
        free(s);
        model_free(m);
}

/* ---- reminders ---- */

static void test_plan_reminders_move_to_the_previous_working_day(void **state) {
        /* Decision 2020-05-19: 30d is Sunday 04-19 -> Friday 04-17; 14d is 5 May (a holiday)
         * -> Monday 05-04.  Summer time: +02:00. */
        Model *m = load_model("", "{ id = \"c\"; title = \"C\"; participants = [\"a\"]; "
                                  "start = \"2019-01-01\"; term = \"2y\"; renewal = \"none\"; "
                                  "notice = \"6m\"; decision_lead = \"6w\"; "
                                  "policy = { offsets = [\"30d\", \"14d\", \"1d\", \"0d\"]; }; }");
        (void) state;
        assert_reminders(m, "2020-04-01", "2020-05-19",
                         "2020-04-17T09:00:00+02:00 decision 1 2020-05-19 30d a\n"
                         "2020-05-04T09:00:00+02:00 decision 1 2020-05-19 14d a\n"
                         "2020-05-18T09:00:00+02:00 decision 1 2020-05-19 1d a\n"
                         "2020-05-19T09:00:00+02:00 decision 1 2020-05-19 0d a\n");
        model_free(m);
}

static void test_plan_reminders_on_any_day_without_working_days_only(void **state) {
        Model *m = load_model("", "{ id = \"c\"; title = \"C\"; participants = [\"a\"]; "
                                  "start = \"2019-01-01\"; term = \"2y\"; renewal = \"none\"; "
                                  "notice = \"6m\"; decision_lead = \"6w\"; "
                                  "policy = { offsets = [\"30d\", \"14d\"]; "
                                  "           working_days_only = false; }; }");
        (void) state;
        assert_reminders(m, "2020-04-01", "2020-05-18",
                         "2020-04-19T09:00:00+02:00 decision 1 2020-05-19 30d a\n"
                         "2020-05-05T09:00:00+02:00 decision 1 2020-05-19 14d a\n");
        model_free(m);
}

static void test_plan_reminders_collapse_onto_one_day_keeping_the_longer_offset(void **state) {
        /* Deadline Monday 2020-06-08: 3d Fri, 2d Sat -> Fri, 1d Sun -> Fri: one Friday reminder. */
        Model *m = load_model(
                "", "{ id = \"c\"; title = \"C\"; participants = [\"a\"]; "
                    "start = \"2019-01-01\"; term = \"5y\"; renewal = \"none\"; "
                    "policy = { offsets = [\"1d\", \"3d\", \"0d\", \"2d\"]; }; "
                    "deadlines = ( { id = \"x\"; date = \"2020-06-08\"; title = \"X\"; } ); }");
        (void) state;
        assert_reminders(m, "2020-06-01", "2020-06-30",
                         "2020-06-05T09:00:00+02:00 deadline 0 2020-06-08 3d a\n"
                         "2020-06-08T09:00:00+02:00 deadline 0 2020-06-08 0d a\n");
        model_free(m);
}

static void test_plan_reminders_collapse_onto_one_local_day_after_the_zone(void **state) {
        /* Samoa skipped Friday 2011-12-30: 09:00 that day is 09:00 on the 31st, the instant of
         * the 0d reminder.  One message, the longer offset's. */
        Model *m = load_model("timezone = \"Pacific/Apia\";\n",
                              "{ id = \"c\"; title = \"C\"; participants = [\"a\"]; "
                              "start = \"2011-01-01\"; term = \"5y\"; renewal = \"none\"; "
                              "policy = { offsets = [\"1d\", \"0d\"]; "
                              "working_days_only = false; }; deadline_shift = \"none\"; "
                              "deadlines = ( { id = \"x\"; date = \"2011-12-31\"; "
                              "title = \"X\"; } ); }");
        (void) state;
        assert_reminders(m, "2011-12-20", "2012-01-10",
                         "2011-12-31T09:00:00+14:00 deadline 0 2011-12-31 1d a\n");
        model_free(m);
}

static void test_plan_reminders_keep_local_send_time_across_dst(void **state) {
        /* 09:00:30 local is +01:00 in winter, +02:00 in summer, including the change days
         * (Sunday 2020-03-29 and Sunday 2020-10-25, with working_days_only off). */
        Model *m = load_model("",
                              "{ id = \"c\"; title = \"C\"; participants = [\"a\"]; "
                              "start = \"2019-01-01\"; term = \"5y\"; renewal = \"none\"; "
                              "policy = { offsets = [\"0d\"]; send_time = \"09:00:30\"; "
                              "           working_days_only = false; }; "
                              "deadlines = ( { id = \"w\"; date = \"2020-03-28\"; title = \"W\"; },"
                              "  { id = \"x\"; date = \"2020-03-29\"; title = \"X\"; },"
                              "  { id = \"y\"; date = \"2020-10-25\"; title = \"Y\"; },"
                              "  { id = \"z\"; date = \"2020-10-26\"; title = \"Z\"; } ); "
                              "deadline_shift = \"none\"; }");
        (void) state;
        assert_reminders(m, "2020-01-01", "2020-12-31",
                         "2020-03-28T09:00:30+01:00 deadline 0 2020-03-28 0d a\n"
                         "2020-03-29T09:00:30+02:00 deadline 0 2020-03-29 0d a\n"
                         "2020-10-25T09:00:30+01:00 deadline 0 2020-10-25 0d a\n"
                         "2020-10-26T09:00:30+01:00 deadline 0 2020-10-26 0d a\n");
        model_free(m);
}

static void test_plan_reminders_policy_overrides_key_by_key(void **state) {
        /* The commitment sets only offsets: the global send_time 07:15 still applies. */
        Model *m = load_model(
                "policy = { offsets = [\"7d\"]; send_time = \"07:15\"; };",
                "{ id = \"c\"; title = \"C\"; participants = [\"a\"]; "
                "start = \"2019-01-01\"; term = \"5y\"; renewal = \"none\"; "
                "policy = { offsets = [\"1d\"]; }; "
                "deadlines = ( { id = \"x\"; date = \"2020-06-10\"; title = \"X\"; } ); }");
        (void) state;
        assert_reminders(m, "2020-06-01", "2020-06-09",
                         "2020-06-09T07:15:00+02:00 deadline 0 2020-06-10 1d a\n");
        model_free(m);
}

static void test_plan_reminders_reviews_go_to_reviewers_only(void **state) {
        Model *m = load_model("", "{ id = \"c\"; title = \"C\"; participants = [\"a\", \"b\"]; "
                                  "reviewers = [\"boss\"]; start = \"2019-01-01\"; term = \"5y\"; "
                                  "renewal = \"none\"; review_every = \"6m\"; "
                                  "policy = { offsets = [\"0d\"]; }; }");
        (void) state;
        /* 2019-07-01 is a Monday. */
        assert_reminders(m, "2019-06-01", "2019-07-31",
                         "2019-07-01T09:00:00+02:00 review 0 2019-07-01 0d boss\n");
        model_free(m);
}

static const char *const overdue_commitment =
        "{ id = \"c\"; title = \"C\"; participants = [\"a\", \"b\"]; escalate_to = [\"boss\", "
        "\"a\"]; "
        "start = \"2019-01-01\"; term = \"2y\"; renewal = \"none\"; notice = \"6m\"; "
        "decision_lead = \"6w\"; policy = { offsets = [\"0d\"]; }; }";

static void
test_plan_reminders_overdue_next_working_day_to_participants_and_escalation(void **state) {
        /* Decision Tuesday 2020-05-19 -> overdue Wednesday; notice Tuesday 2020-06-30 ->
         * overdue Wednesday.  boss hears once per milestone; a, also in escalate_to, once. */
        Model *m = load_model("", overdue_commitment);
        (void) state;
        assert_reminders(m, "2020-05-19", "2020-07-01",
                         "2020-05-19T09:00:00+02:00 decision 1 2020-05-19 0d a\n"
                         "2020-05-19T09:00:00+02:00 decision 1 2020-05-19 0d b\n"
                         "2020-05-20T09:00:00+02:00 overdue 1 2020-05-19 +1d a\n"
                         "2020-05-20T09:00:00+02:00 overdue 1 2020-05-19 +1d b\n"
                         "2020-05-20T09:00:00+02:00 overdue 1 2020-05-19 +1d boss\n"
                         "2020-06-30T09:00:00+02:00 notice 1 2020-06-30 0d a\n"
                         "2020-06-30T09:00:00+02:00 notice 1 2020-06-30 0d b\n"
                         "2020-07-01T09:00:00+02:00 overdue 1 2020-06-30 +1d a\n"
                         "2020-07-01T09:00:00+02:00 overdue 1 2020-06-30 +1d b\n"
                         "2020-07-01T09:00:00+02:00 overdue 1 2020-06-30 +1d boss\n");
        model_free(m);
}

static void test_plan_reminders_overdue_skips_the_weekend(void **state) {
        /* Notice Friday 2019-11-29 (shifted from Saturday) -> overdue Monday 2019-12-02, +3d. */
        Model *m = load_model("", "{ id = \"c\"; title = \"C\"; participants = [\"a\"]; "
                                  "start = \"2019-01-01\"; term = \"1y\"; renewal = \"none\"; "
                                  "notice = \"1m\"; decision_lead = \"1w\"; "
                                  "policy = { offsets = [\"0d\"]; }; }");
        (void) state;
        assert_reminders(m, "2019-11-30", "2019-12-30",
                         "2019-12-02T09:00:00+01:00 overdue 1 2019-11-29 +3d a\n");
        model_free(m);
}

static void test_plan_reminders_same_day_decision_and_notice_give_one_overdue(void **state) {
        /* No decision_lead: decision and notice are both 2020-06-30. */
        Model *m = load_model("", "{ id = \"c\"; title = \"C\"; participants = [\"a\"]; "
                                  "start = \"2019-01-01\"; term = \"2y\"; renewal = \"none\"; "
                                  "notice = \"6m\"; policy = { offsets = [\"1d\"]; }; }");
        (void) state;
        assert_reminders(m, "2020-06-01", "2020-07-31",
                         "2020-06-29T09:00:00+02:00 decision 1 2020-06-30 1d a\n"
                         "2020-06-29T09:00:00+02:00 notice 1 2020-06-30 1d a\n"
                         "2020-07-01T09:00:00+02:00 overdue 1 2020-06-30 +1d a\n");
        model_free(m);
}

static void test_plan_reminders_stop_for_a_participant_who_decided(void **state) {
        Model *m = load_model("", overdue_commitment);
        Decisions b_decided = {.participant = "b"}, all = {.participant = "a", .participant2 = "b"};
        char *s;
        (void) state;
        s = reminders_decided(m, "2020-05-19", "2020-05-20", &b_decided);
        assert_string_equal(s, "2020-05-19T09:00:00+02:00 decision 1 2020-05-19 0d a\n"
                               "2020-05-20T09:00:00+02:00 overdue 1 2020-05-19 +1d a\n"
                               "2020-05-20T09:00:00+02:00 overdue 1 2020-05-19 +1d boss\n");
        free(s);
        /* Nobody late: no escalation either. */
        s = reminders_decided(m, "2020-05-19", "2020-05-20", &all);
        assert_string_equal(s, "");
        free(s);
        model_free(m);
}

static void test_plan_reminders_escalate_to_a_participant_who_decided(void **state) {
        /* a decided, b did not: a still hears as escalate_to, once; boss hears once. */
        Model *m = load_model("", overdue_commitment);
        Decisions a_decided = {.participant = "a"};
        char *s;
        (void) state;
        s = reminders_decided(m, "2020-05-20", "2020-05-20", &a_decided);
        assert_string_equal(s, "2020-05-20T09:00:00+02:00 overdue 1 2020-05-19 +1d a\n"
                               "2020-05-20T09:00:00+02:00 overdue 1 2020-05-19 +1d b\n"
                               "2020-05-20T09:00:00+02:00 overdue 1 2020-05-19 +1d boss\n");
        free(s);
        model_free(m);
}

static void test_plan_reminders_reach_back_over_long_runs_of_extra_holidays(void **state) {
        /* Every day from 2021-03-01 to 2021-04-15 is an extra holiday: the 1d reminder for the
         * deadline of Friday 2021-04-16 moves back to Friday 2021-02-26, whatever the window. */
        char globals[4096] = "holidays = { extra = [";
        Date d;
        Model *m;
        (void) state;
        for (d = D("2021-03-01"); d <= D("2021-04-15"); d++) {
                char date[DATE_STRING_MAX];
                strcat(globals, "\"");
                strcat(globals, date_format(d, date));
                strcat(globals, "\",");
        }
        strcpy(globals + strlen(globals) - 1, "]; };");
        m = load_model(globals,
                       "{ id = \"c\"; title = \"C\"; participants = [\"a\"]; "
                       "start = \"2019-01-01\"; term = \"5y\"; renewal = \"none\"; "
                       "policy = { offsets = [\"1d\"]; }; "
                       "deadlines = ( { id = \"x\"; date = \"2021-04-16\"; title = \"X\"; } ); }");
        assert_reminders(m, "2021-01-20", "2021-04-30",
                         "2021-02-26T09:00:00+01:00 deadline 0 2021-04-16 1d a\n");
        assert_reminders(m, "2021-02-26", "2021-02-26",
                         "2021-02-26T09:00:00+01:00 deadline 0 2021-04-16 1d a\n");
        model_free(m);
}

static void test_plan_reminders_windows_add_up_to_the_whole_range(void **state) {
        /* Planning 2019..2022 at once equals planning it in 7-day windows back to back,
         * including reminders and overdue messages that sit right at a window's edge. */
        Model *m = load_model("", "{ id = \"c\"; title = \"C\"; participants = [\"a\", \"b\"]; "
                                  "reviewers = [\"boss\"]; escalate_to = [\"boss\"]; "
                                  "start = \"2019-01-01\"; term = \"2y\"; renewal = \"tacit\"; "
                                  "renewal_term = \"1y\"; notice = \"6m\"; decision_lead = \"6w\"; "
                                  "review_every = \"3m\"; }");
        char *whole, *pieces = calloc(1, 1);
        (void) state;
        whole = reminders(m, "2019-01-01", "2022-12-31");
        for (Date w = D("2019-01-01"); w <= D("2022-12-31"); w += 7) {
                char from[DATE_STRING_MAX], to[DATE_STRING_MAX], *part, *joined;
                part = reminders(m, date_format(w, from), date_format(w + 6, to));
                assert_true(asprintf(&joined, "%s%s", pieces, part) >= 0);
                free(pieces);
                free(part);
                pieces = joined;
        }
        assert_true(strlen(whole) > 1000);
        assert_string_equal(pieces, whole);
        free(whole);
        free(pieces);
        model_free(m);
}

/* ---- one cycle ---- */

static void assert_cycle(const PlanCycle *y, const char *start, const char *term_end,
                         const char *notice, const char *decision, bool renewed) {
        char a[DATE_STRING_MAX], b[DATE_STRING_MAX], c[DATE_STRING_MAX], d[DATE_STRING_MAX];

        assert_string_equal(date_format(y->start, a), start);
        assert_string_equal(date_format(y->term_end, b), term_end);
        assert_true(y->has_notice);
        assert_string_equal(date_format(y->notice, c), notice);
        assert_string_equal(date_format(y->decision, d), decision);
        assert_int_equal(y->tacitly_renewed, renewed);
}

static void test_plan_cycle_gives_the_terms_of_the_twente_case(void **state) {
        Model *m = load_one(twente_terms);
        PlanCycle y;
        (void) state;

        assert_int_equal(plan_cycle(m, 0, 1, &y), 0);
        assert_cycle(&y, "2019-01-01", "2020-12-31", "2020-06-30", "2020-05-19", true);
        assert_int_equal(plan_cycle(m, 0, 2, &y), 0);
        assert_cycle(&y, "2021-01-01", "2021-12-31", "2021-06-30", "2021-05-19", true);
        /* 2023-05-19 is decreed equal to a holiday and the 18th is Ascension Day; 2024-06-30
         * is a Sunday.  Both move earlier. */
        assert_int_equal(plan_cycle(m, 0, 4, &y), 0);
        assert_cycle(&y, "2023-01-01", "2023-12-31", "2023-06-30", "2023-05-17", true);
        assert_int_equal(plan_cycle(m, 0, 5, &y), 0);
        assert_cycle(&y, "2024-01-01", "2024-12-31", "2024-06-28", "2024-05-17", true);
        model_free(m);
}

static void test_plan_cycle_agrees_with_plan_milestones(void **state) {
        /* Month-end clamping and shifts in every cycle: the same dates either way. */
        Model *m = load_one("start = \"2019-01-31\"; term = \"1m\"; renewal = \"tacit\"; "
                            "notice = \"1w\"; decision_lead = \"3d\";");
        Milestone *ms;
        size_t n, checked = 0;
        (void) state;

        assert_int_equal(plan_milestones(m, D("2019-01-01"), D("2020-12-31"), &ms, &n), 0);
        for (size_t i = 0; i < n; i++) {
                PlanCycle y;
                assert_int_equal(plan_cycle(m, 0, ms[i].cycle, &y), 0);
                if (ms[i].kind == MILESTONE_DECISION)
                        assert_int_equal(ms[i].date, y.decision);
                else if (ms[i].kind == MILESTONE_NOTICE)
                        assert_int_equal(ms[i].date, y.notice);
                else
                        assert_int_equal(ms[i].date, y.term_end);
                checked++;
        }
        assert_true(checked >= 3 * 22);
        free(ms);
        model_free(m);
}

static void test_plan_cycle_renewal_stops_with_the_cycle_notice_was_served_for(void **state) {
        /* Served a day late: cycle 1 still renews, cycle 2 is the last; cycle 3 is what the terms
         * would have made of it. */
        Model *m = load_twente_terminated("2020-07-01");
        PlanCycle y;
        (void) state;

        assert_int_equal(plan_cycle(m, 0, 1, &y), 0);
        assert_true(y.tacitly_renewed);
        assert_int_equal(plan_cycle(m, 0, 2, &y), 0);
        assert_false(y.tacitly_renewed);
        assert_int_equal(plan_cycle(m, 0, 3, &y), 0);
        assert_cycle(&y, "2022-01-01", "2022-12-31", "2022-06-30", "2022-05-19", false);
        model_free(m);
}

static void test_plan_cycle_refuses_cycles_the_terms_do_not_have(void **state) {
        Model *none = load_one("start = \"2019-01-01\"; term = \"2y\"; renewal = \"none\";");
        Model *indefinite = load_one("start = \"2019-01-01\"; term = \"2y\"; "
                                     "renewal = \"indefinite\"; notice = \"6m\";");
        Model *far = load_one("start = \"9000-01-01\"; term = \"10000y\"; renewal = \"tacit\"; "
                              "notice = \"1y\";");
        PlanCycle y;
        (void) state;

        assert_int_equal(plan_cycle(none, 0, 0, &y), -EINVAL);
        assert_int_equal(plan_cycle(none, 1, 1, &y), -EINVAL);
        assert_int_equal(plan_cycle(none, 0, 1, &y), 0);
        assert_false(y.has_notice);
        assert_false(y.tacitly_renewed);
        assert_int_equal(plan_cycle(none, 0, 2, &y), -EINVAL);
        assert_int_equal(plan_cycle(indefinite, 0, 1, &y), 0);
        assert_false(y.tacitly_renewed);
        assert_int_equal(plan_cycle(indefinite, 0, 2, &y), -EINVAL);
        /* 9000 + 2 * 10,000 years is within the arithmetic range; + 3 * 10,000 is not. */
        assert_int_equal(plan_cycle(far, 0, 2, &y), 0);
        assert_int_equal(plan_cycle(far, 0, 3, &y), -ERANGE);
        assert_int_equal(plan_cycle(far, 0, UINT32_MAX, &y), -ERANGE);
        model_free(none);
        model_free(indefinite);
        model_free(far);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_plan_milestones_term_end_is_last_day_inside_term),
                cmocka_unit_test(test_plan_milestones_notice_and_decision_of_the_twente_case),
                cmocka_unit_test(test_plan_milestones_renewal_term_defaults_to_term),
                cmocka_unit_test(test_plan_milestones_deadline_shift_over_a_weekend),
                cmocka_unit_test(test_plan_milestones_deadline_shift_over_easter),
                cmocka_unit_test(test_plan_milestones_global_deadline_shift_and_extra_holiday),
                cmocka_unit_test(test_plan_milestones_decision_counts_back_from_shifted_notice),
                cmocka_unit_test(
                        test_plan_milestones_renewal_none_without_notice_has_only_term_end),
                cmocka_unit_test(test_plan_milestones_indefinite_has_one_cycle_and_reviews_forever),
                cmocka_unit_test(test_plan_milestones_month_end_start_clamps_each_cycle),
                cmocka_unit_test(test_plan_milestones_tacit_terminated_in_time_ends_after_cycle_1),
                cmocka_unit_test(
                        test_plan_milestones_tacit_terminated_on_the_notice_day_is_in_time),
                cmocka_unit_test(test_plan_milestones_tacit_terminated_late_buys_one_more_term),
                cmocka_unit_test(test_plan_milestones_none_terminated_keeps_term_end),
                cmocka_unit_test(test_plan_milestones_indefinite_terminated_late_ends_in_cycle_2),
                cmocka_unit_test(
                        test_plan_milestones_indefinite_terminated_early_ends_with_cycle_1),
                cmocka_unit_test(test_plan_milestones_reviews_stop_with_the_commitment),
                cmocka_unit_test(test_plan_milestones_reviews_stop_after_terminated_day),
                cmocka_unit_test(test_plan_milestones_reviews_count_from_start_without_drift),
                cmocka_unit_test(test_plan_milestones_one_off_deadlines_shift_earlier),
                cmocka_unit_test(test_plan_milestones_same_day_order_and_commitment_ids),
                cmocka_unit_test(test_plan_milestones_window_includes_both_ends),
                cmocka_unit_test(
                        test_plan_milestones_terminated_on_the_listed_notice_day_is_in_time),
                cmocka_unit_test(
                        test_plan_milestones_terminated_after_the_listed_notice_day_is_late),
                cmocka_unit_test(test_plan_milestones_past_year_9999_are_exact_or_absent),
                cmocka_unit_test(test_plan_milestones_before_year_1_are_absent),
                cmocka_unit_test(test_plan_milestones_far_future_terminates),
                cmocka_unit_test(test_plan_cycle_gives_the_terms_of_the_twente_case),
                cmocka_unit_test(test_plan_cycle_agrees_with_plan_milestones),
                cmocka_unit_test(
                        test_plan_cycle_renewal_stops_with_the_cycle_notice_was_served_for),
                cmocka_unit_test(test_plan_cycle_refuses_cycles_the_terms_do_not_have),
                cmocka_unit_test(test_plan_reminders_move_to_the_previous_working_day),
                cmocka_unit_test(test_plan_reminders_on_any_day_without_working_days_only),
                cmocka_unit_test(
                        test_plan_reminders_collapse_onto_one_day_keeping_the_longer_offset),
                cmocka_unit_test(test_plan_reminders_collapse_onto_one_local_day_after_the_zone),
                cmocka_unit_test(test_plan_reminders_keep_local_send_time_across_dst),
                cmocka_unit_test(test_plan_reminders_policy_overrides_key_by_key),
                cmocka_unit_test(test_plan_reminders_reviews_go_to_reviewers_only),
                cmocka_unit_test(
                        test_plan_reminders_overdue_next_working_day_to_participants_and_escalation),
                cmocka_unit_test(test_plan_reminders_overdue_skips_the_weekend),
                cmocka_unit_test(test_plan_reminders_same_day_decision_and_notice_give_one_overdue),
                cmocka_unit_test(test_plan_reminders_stop_for_a_participant_who_decided),
                cmocka_unit_test(test_plan_reminders_escalate_to_a_participant_who_decided),
                cmocka_unit_test(test_plan_reminders_reach_back_over_long_runs_of_extra_holidays),
                cmocka_unit_test(test_plan_reminders_windows_add_up_to_the_whole_range),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
