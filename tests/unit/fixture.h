#pragma once
/* What the unit tests share: models built the way users build them, from config text through
 * config_load(), and the Twente case the mail and text tests render.  Include after cmocka.h.
 * Functions are static (each test is one program); unused ones are not an error. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "noticed/config.h"
#include "noticed/date.h"
#include "noticed/plan.h"
#include "noticed/text.h"
#include "noticed/tz.h"

#define FIXTURE_UNUSED __attribute__((unused))

/* The Twente case with one English, one non-ASCII and one awkwardly named participant, a
 * webhook-only one, the klankbordgroep as reviewer and escalation, and a one-off deadline. */
static const char *const fixture_twente FIXTURE_UNUSED =
        "transports = {\n"
        "  relay = { url = \"maildir:/tmp/noticed-test-mail\";\n"
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

/* A Dutch reminder template using placeholders of every sort, "$$" and a line that drops out
 * when its placeholder is empty (${undecided} of a reminder that is not overdue). */
static const char *const fixture_template_nl FIXTURE_UNUSED =
        "Subject: Let op: ${title} vóór ${deadline}\n"
        "\n"
        "Beste ${recipient},\n"
        "\n"
        "nog ${days_left} dagen (${kind}); kosten $$: ${cost}\n"
        "Kenmerk: ${reference}\n"
        "Ontbreekt: ${undecided}\n"
        "\n"
        "Groet\n";

/* text in a new temporary file; the path is malloc'd, the caller unlinks and frees it. */
static FIXTURE_UNUSED char *fixture_write_temp(const char *text) {
        char *path = strdup("/tmp/noticed-test-XXXXXX");
        int fd;

        assert_non_null(path);
        fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        close(fd);
        return path;
}

/* The model of a config text that must load; its errors are printed when it does not. */
static FIXTURE_UNUSED Model *fixture_load(const char *text) {
        char *path = fixture_write_temp(text);
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

/* text with the first `old` replaced by `new`; malloc'd. */
static FIXTURE_UNUSED char *fixture_replace(const char *text, const char *old, const char *new) {
        const char *at = strstr(text, old);
        char *out;

        assert_non_null(at);
        assert_true(asprintf(&out, "%.*s%s%s", (int) (at - text), text, new, at + strlen(old)) > 0);
        return out;
}

static FIXTURE_UNUSED Date D(const char *s) {
        Date d;

        assert_int_equal(date_parse(s, &d), 0);
        return d;
}

/* A reminder as plan_reminders() makes it, sent at 09:00 local time on `date`. */
static FIXTURE_UNUSED Reminder fixture_reminder(const Model *m, const char *recipient,
                                                MilestoneKind kind, uint32_t cycle,
                                                const char *milestone, const char *date,
                                                bool overdue) {
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

/* The body text_render() gives; the subject too when ret_subject is not NULL.  Malloc'd. */
static FIXTURE_UNUSED char *fixture_text_body(const Model *m, const Reminder *r,
                                              char **ret_subject) {
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

#define FIXTURE_CHECK_MAIL "tests/integration/check-mail.py"

/* Runs tests/integration/check-mail.py (Python's email.policy.strict and python3-icalendar) on
 * the files the shell pattern names; skips the test when not run from the top of the tree, as
 * make check runs it. */
static FIXTURE_UNUSED void fixture_check_mail(const char *pattern) {
        char *command;
        int status;

        if (access("/usr/bin/python3", X_OK) != 0 || access(FIXTURE_CHECK_MAIL, R_OK) != 0)
                skip();
        assert_true(asprintf(&command, "/usr/bin/python3 " FIXTURE_CHECK_MAIL " %s", pattern) > 0);
        status = system(command);
        free(command);
        assert_int_equal(status, 0);
}
