/* Config: every class of error is reported with the line it is on, all of them in one pass, and
 * a good file becomes the model the contract describes (defaults included). */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "noticed/config.h"
#include "noticed/macro.h"
#include "fixture.h"

static const char *const good_transport =
        "transports = { out = { url = \"maildir:/tmp/noticed-test\"; from = \"n@x.example\"; }; "
        "};\n"
        "mail_via = \"out\";\n";
static const char *const good_recipients =
        "recipients = ( { id = \"a\"; name = \"A\"; mail = [\"a@x.example\"]; } );\n";
static const char *const good_commitments =
        "commitments = ( { id = \"c\"; title = \"C\"; participants = [\"a\"]; start = "
        "\"2019-01-01\";\n"
        "                  term = \"2y\"; renewal = \"none\"; } );\n";

static char *write_temp(const char *text) {
        char *path = strdup("/tmp/noticed-test-config-XXXXXX");
        int fd = mkstemp(path);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        close(fd);
        return path;
}

/* Loads text and returns its errors as "LINE: message\n" lines ("" when it loads). */
static char *errors_of(const char *text) {
        char *path = write_temp(text), *out = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&out, &size);
        ConfigErrors errors;
        Model *m = NULL;
        int r = config_load(path, &m, &errors);

        for (size_t i = 0; i < errors.n; i++) {
                assert_string_equal(errors.items[i].file, path);
                /* A message that names the file itself (where an id occurred first) says FILE. */
                const char *said = errors.items[i].message, *at = strstr(said, path);
                if (at)
                        fprintf(f, "%u: %.*sFILE%s\n", errors.items[i].line, (int) (at - said),
                                said, at + strlen(path));
                else
                        fprintf(f, "%u: %s\n", errors.items[i].line, said);
        }
        fclose(f);
        assert_int_equal(r == 0, errors.n == 0);
        assert_int_equal(m != NULL, r == 0);
        config_errors_done(&errors);
        model_free(m);
        unlink(path);
        free(path);
        return out;
}

/* The errors of a config made of the good parts with one part replaced by `text`. */
static char *errors_with(const char *transports, const char *recipients, const char *commitments,
                         const char *extra) {
        char *text, *out;

        assert_true(asprintf(&text, "%s%s%s%s", transports ? transports : good_transport,
                             recipients ? recipients : good_recipients,
                             commitments ? commitments : good_commitments, extra ? extra : "") > 0);
        out = errors_of(text);
        free(text);
        return out;
}

#define assert_errors(actual_expr, expected)                                                       \
        do {                                                                                       \
                char *_e = (actual_expr);                                                          \
                assert_string_equal(_e, expected);                                                 \
                free(_e);                                                                          \
        } while (0)

static char *commitment_errors(const char *fields) {
        char *c, *out;

        assert_true(asprintf(&c,
                             "commitments = ( { id = \"c\"; title = \"C\"; participants = "
                             "[\"a\"];\n%s } );\n",
                             fields) > 0);
        out = errors_with(NULL, NULL, c, NULL);
        free(c);
        return out;
}

static void test_config_load_good_file_gets_contract_defaults(void **state) {
        char *path;
        ConfigErrors errors;
        Model *m = NULL;
        const Commitment *c;
        char *text;
        (void) state;

        assert_true(asprintf(&text, "%s%s%s", good_transport, good_recipients, good_commitments) >
                    0);
        path = write_temp(text);
        assert_int_equal(config_load(path, &m, &errors), 0);
        assert_int_equal(errors.n, 0);
        assert_string_equal(tz_name(m->tz), "Europe/Amsterdam");
        assert_int_equal(m->language, LANGUAGE_NL);
        c = &m->commitments[0];
        assert_int_equal(c->deadline_shift, SHIFT_EARLIER);
        assert_int_equal(c->policy.send_time, 9 * 3600);
        assert_true(c->policy.working_days_only);
        assert_int_equal(c->policy.n_offsets, 6); /* 90d 30d 14d 7d 1d 0d */
        assert_int_equal(c->policy.offsets[0].count, 90);
        assert_int_equal(c->policy.offsets[5].count, 0);
        assert_int_equal(c->decision_lead.count, 0);
        assert_int_equal(c->renewal_term.count, 2);
        assert_int_equal(c->renewal_term.unit, DURATION_YEARS);
        assert_false(c->has_notice);
        assert_int_equal(m->recipients[0].population, -1);
        {
                Date kings_day; /* the nl calendar is the default */
                assert_int_equal(date_parse("2020-04-27", &kings_day), 0);
                assert_true(calendar_is_holiday(m->calendar, kings_day));
        }
        model_free(m);
        config_errors_done(&errors);
        unlink(path);
        free(path);
        free(text);
}

static void test_config_load_syntax_error_names_its_line(void **state) {
        (void) state;
        assert_errors(errors_of("a = 1;\nrecipients = (\n  { id = \"a\" \n);\n"),
                      "4: syntax error: syntax error\n");
}

static void test_config_load_directory_is_reported_not_fatal(void **state) {
        ConfigErrors errors;
        Model *m = NULL;
        (void) state;
        /* libconfig's scanner would exit(2) on the read error. */
        assert_int_equal(config_load("/tmp", &m, &errors), -EISDIR);
        assert_int_equal(errors.n, 1);
        assert_string_equal(errors.items[0].message, "Is a directory");
        assert_null(m);
        config_errors_done(&errors);
}

static void test_config_load_equal_offsets_keep_the_larger_unit(void **state) {
        char *path, *text;
        ConfigErrors errors;
        Model *m = NULL;
        (void) state;
        assert_true(asprintf(&text,
                             "%s%s%spolicy = { offsets = [\"7d\", \"1w\", \"1d\", \"7d\"]; };\n",
                             good_transport, good_recipients, good_commitments) > 0);
        path = write_temp(text);
        assert_int_equal(config_load(path, &m, &errors), 0);
        assert_int_equal(m->commitments[0].policy.n_offsets, 3); /* the duplicate "7d" goes */
        assert_int_equal(m->commitments[0].policy.offsets[0].unit, DURATION_WEEKS);
        assert_int_equal(m->commitments[0].policy.offsets[1].count, 7);
        assert_int_equal(m->commitments[0].policy.offsets[2].count, 1);
        model_free(m);
        config_errors_done(&errors);
        unlink(path);
        free(path);
        free(text);
}

static void test_config_load_missing_file_is_reported(void **state) {
        ConfigErrors errors;
        Model *m = NULL;
        (void) state;
        assert_int_equal(config_load("/nonexistent/noticed.conf", &m, &errors), -ENOENT);
        assert_int_equal(errors.n, 1);
        assert_int_equal(errors.items[0].line, 0);
        assert_string_equal(errors.items[0].message, "No such file or directory");
        assert_null(m);
        config_errors_done(&errors);
}

static void test_config_load_unknown_key_everywhere(void **state) {
        (void) state;
        assert_errors(errors_with(NULL, NULL, NULL, "colour = \"red\";\n"),
                      "6: unknown key 'colour' in the config\n");
        assert_errors(
                commitment_errors("start = \"2019-01-01\"; term = \"2y\"; renewal = \"none\";\n"
                                  "policy = { offset = [\"1d\"]; };"),
                "6: unknown key 'offset' in policy\n");
        assert_errors(errors_with("transports = { out = { url = \"maildir:/x\"; from = "
                                  "\"n@x.example\"; port = 25; }; };\n"
                                  "mail_via = \"out\";\n",
                                  NULL, NULL, NULL),
                      "1: unknown key 'port' in transport\n");
}

static void test_config_load_wrong_type(void **state) {
        (void) state;
        assert_errors(
                errors_with(NULL,
                            "recipients = ( { id = \"a\"; name = \"A\"; mail = [\"a@x.example\"];\n"
                            "  population = \"158000\"; } );\n",
                            NULL, NULL),
                "4: 'population' must be an integer\n");
        assert_errors(commitment_errors("start = \"2019-01-01\"; term = 2; renewal = \"none\";"),
                      "5: 'term' must be a string\n");
        assert_errors(errors_with(NULL, NULL, NULL, "policy = { working_days_only = \"yes\"; };\n"),
                      "6: 'working_days_only' must be true or false\n");
        assert_errors(errors_with(NULL, "recipients = { a = 1; };\n", NULL, NULL),
                      "3: 'recipients' must be a list ( { ... }, ... )\n");
}

static void test_config_load_missing_required_key(void **state) {
        (void) state;
        assert_errors(commitment_errors("start = \"2019-01-01\"; renewal = \"none\";"),
                      "4: c: missing 'term'\n");
        /* The file as a whole has no line: noticectl prints "FILE: message". */
        assert_errors(errors_with(NULL, NULL, "", NULL), "0: the config: missing 'commitments'\n");
}

static void test_config_load_bad_dates(void **state) {
        (void) state;
        assert_errors(
                commitment_errors("start = \"2019-02-29\"; term = \"2y\"; renewal = \"none\";\n"
                                  "terminated = \"2020-1-1\";"),
                "5: '2019-02-29' is not a date (YYYY-MM-DD, a real calendar day)\n"
                "6: '2020-1-1' is not a date (YYYY-MM-DD, a real calendar day)\n");
        assert_errors(errors_with(NULL, NULL, NULL,
                                  "holidays = { extra = [\"2019-12-24\", \"2019-12-32\"]; };\n"),
                      "6: '2019-12-32' is not a date (YYYY-MM-DD, a real calendar day)\n");
}

static void test_config_load_bad_durations(void **state) {
        (void) state;
        assert_errors(
                commitment_errors("start = \"2019-01-01\"; term = \"0y\"; renewal = \"tacit\";\n"
                                  "notice = \"6 m\"; review_every = \"1.5m\";"),
                "5: 'term' = \"0y\" is zero: it must be at least \"1d\"\n"
                "6: 'notice' = \"6 m\" is not a duration (a positive count and d, w, m or y: "
                "\"90d\", \"6w\", \"6m\", \"2y\")\n"
                "6: 'review_every' = \"1.5m\" is not a duration (a positive count and d, w, m or "
                "y: \"90d\", \"6w\", \"6m\", \"2y\")\n");
        assert_errors(
                errors_with(NULL, NULL, NULL, "policy = { offsets = [\"90d\", \"-1d\"]; };\n"),
                "6: offset \"-1d\" is not a duration (\"90d\", \"2w\", \"1m\", \"0d\" for the day "
                "itself)\n");
}

/* The decision_lead of a commitment that has "notice", loaded; fails the test on errors. */
static Duration decision_lead_of(const char *decision_lead) {
        char *text, *path;
        ConfigErrors errors;
        Model *m = NULL;
        Duration d;

        assert_true(asprintf(&text,
                             "%s%scommitments = ( { id = \"c\"; title = \"C\"; participants = "
                             "[\"a\"];\n  start = \"2019-01-01\"; term = \"2y\"; renewal = "
                             "\"tacit\"; notice = \"6m\";%s } );\n",
                             good_transport, good_recipients, decision_lead) > 0);
        path = write_temp(text);
        assert_int_equal(config_load(path, &m, &errors), 0);
        assert_int_equal(errors.n, 0);
        d = m->commitments[0].decision_lead;
        model_free(m);
        config_errors_done(&errors);
        unlink(path);
        free(path);
        free(text);
        return d;
}

static void test_config_load_decision_lead_0d_is_the_default(void **state) {
        Duration unset, zero;

        (void) state;
        /* DESIGN.md names "0d" as decision_lead's default; writing it out means the same. */
        unset = decision_lead_of("");
        zero = decision_lead_of(" decision_lead = \"0d\";");
        assert_int_equal(zero.count, 0);
        assert_int_equal(zero.unit, DURATION_DAYS);
        assert_int_equal(unset.count, zero.count);
        assert_int_equal(unset.unit, zero.unit);
        zero = decision_lead_of(" decision_lead = \"6w\";");
        assert_int_equal(zero.count, 6);
        assert_int_equal(zero.unit, DURATION_WEEKS);
}

static void test_config_load_zero_is_only_written_0d(void **state) {
        (void) state;
        /* "0w", "0m", "0y" would be a second name of "0d": one reminder, two identities. */
        assert_errors(
                errors_with(NULL, NULL, NULL,
                            "policy = { offsets = [\"7d\", \"0w\",\n\"0m\", \"0y\", \"0d\"]; };\n"),
                "6: offset \"0w\" is the day itself: write \"0d\" (only \"0d\" names it, so that "
                "a reminder has one identity)\n"
                "7: offset \"0m\" is the day itself: write \"0d\" (only \"0d\" names it, so that "
                "a reminder has one identity)\n"
                "7: offset \"0y\" is the day itself: write \"0d\" (only \"0d\" names it, so that "
                "a reminder has one identity)\n");
        assert_errors(
                commitment_errors("start = \"2019-01-01\"; term = \"2y\"; renewal = \"tacit\";\n"
                                  "notice = \"6m\"; decision_lead = \"0w\";\n"
                                  "policy = { offsets = [\"0y\"]; };"),
                "6: 'decision_lead' = \"0w\" is zero: write \"0d\" (only \"0d\" names the notice "
                "deadline itself)\n"
                "7: offset \"0y\" is the day itself: write \"0d\" (only \"0d\" names it, so that "
                "a reminder has one identity)\n");
        assert_errors(
                commitment_errors("start = \"2019-01-01\"; term = \"2y\"; renewal = \"tacit\";\n"
                                  "notice = \"6m\"; decision_lead = \"0m\";"),
                "6: 'decision_lead' = \"0m\" is zero: write \"0d\" (only \"0d\" names the notice "
                "deadline itself)\n");
        assert_errors(
                commitment_errors("start = \"2019-01-01\"; term = \"2y\"; renewal = \"tacit\";\n"
                                  "notice = \"6m\"; decision_lead = \"0y\";"),
                "6: 'decision_lead' = \"0y\" is zero: write \"0d\" (only \"0d\" names the notice "
                "deadline itself)\n");
        assert_errors(
                commitment_errors("start = \"2019-01-01\"; term = \"2y\"; renewal = \"tacit\";\n"
                                  "notice = \"6m\"; decision_lead = \"-6w\";"),
                "6: 'decision_lead' = \"-6w\" is not a duration (a count and d, w, m or y: \"6w\", "
                "\"30d\", \"0d\" for none)\n");
}

static void test_config_load_zero_terms_are_refused(void **state) {
        (void) state;
        /* A term, renewal term, notice period or review interval of zero is none at all, in any
         * unit: the message says so instead of calling "0d" no duration. */
        assert_errors(
                commitment_errors("start = \"2019-01-01\"; term = \"0d\"; renewal = \"tacit\";\n"
                                  "renewal_term = \"0w\"; notice = \"0m\"; review_every = \"0d\";"),
                "5: 'term' = \"0d\" is zero: it must be at least \"1d\"\n"
                "6: 'renewal_term' = \"0w\" is zero: it must be at least \"1d\"\n"
                "6: 'notice' = \"0m\" is zero: it must be at least \"1d\"\n"
                "6: 'review_every' = \"0d\" is zero: it must be at least \"1d\"\n");
}

static void test_config_load_unknown_ids(void **state) {
        (void) state;
        assert_errors(
                commitment_errors("start = \"2019-01-01\"; term = \"2y\"; renewal = \"none\";\n"
                                  "reviewers = [\"nobody\"]; escalate_to = [\"a\", \"ghost\"];"),
                "6: reviewers: unknown recipient 'nobody'\n"
                "6: escalate_to: unknown recipient 'ghost'\n");
        assert_errors(
                errors_with(NULL,
                            "recipients = ( { id = \"a\"; name = \"A\"; mail = [\"a@x.example\"];\n"
                            "  webhooks = [\"teams\"]; } );\n",
                            NULL, NULL),
                "4: unknown webhook transport 'teams'\n");
        assert_errors(errors_with("transports = { out = { url = \"maildir:/x\"; from = "
                                  "\"n@x.example\"; }; };\n"
                                  "mail_via = \"relay\";\n",
                                  NULL, NULL, NULL),
                      "2: mail_via names unknown transport 'relay'\n");
        assert_errors(
                errors_with(NULL, NULL,
                            "commitments = ( { id = \"c\"; title = \"C\"; participants = [\"b\"];\n"
                            "  start = \"2019-01-01\"; term = \"2y\"; renewal = \"none\"; } );\n",
                            NULL),
                "4: participants: unknown recipient 'b'\n");
}

static void test_config_load_duplicate_ids(void **state) {
        (void) state;
        assert_errors(
                errors_with(
                        NULL,
                        "recipients = ( { id = \"a\"; name = \"A\"; mail = [\"a@x.example\"]; },\n"
                        "  { id = \"a\"; name = \"A again\"; mail = [\"a2@x.example\"]; } );\n",
                        NULL, NULL),
                "4: duplicate recipient id 'a'\n");
        assert_errors(
                errors_with(NULL, NULL,
                            "commitments = ( { id = \"c\"; title = \"C\"; participants = [\"a\"]; "
                            "start = \"2019-01-01\"; term = \"2y\"; renewal = \"none\"; },\n"
                            "  { id = \"c\"; title = \"C\"; participants = [\"a\", \"a\"]; start = "
                            "\"2019-01-01\"; term = \"2y\"; renewal = \"none\"; } );\n",
                            NULL),
                "5: participants: recipient 'a' is listed twice\n"
                "5: duplicate commitment id 'c' (first at FILE:4)\n");
        assert_errors(
                commitment_errors(
                        "start = \"2019-01-01\"; term = \"2y\"; renewal = \"none\";\n"
                        "deadlines = ( { id = \"x\"; date = \"2019-01-01\"; title = \"X\"; },\n"
                        "  { id = \"x\"; date = \"2019-02-01\"; title = \"X\"; } );"),
                "7: duplicate deadline id 'x' in commitment 'c'\n");
}

static void test_config_load_bad_ids(void **state) {
        (void) state;
        assert_errors(errors_with(NULL,
                                  "recipients = ( { id = \"-a b\"; name = \"A\"; mail = "
                                  "[\"a@x.example\"]; } );\n",
                                  NULL, NULL),
                      "3: id '-a b' must be 1-64 letters, digits, '.', '_' or '-', starting with a "
                      "letter or digit\n"
                      "4: participants: unknown recipient 'a'\n");
}

static void test_config_load_bad_time_zone(void **state) {
        (void) state;
        assert_errors(errors_with(NULL, NULL, NULL, "timezone = \"Europe/Twente\";\n"),
                      "6: unknown time zone 'Europe/Twente' (not a zone of the installed IANA "
                      "database)\n");
        assert_errors(errors_with(NULL, NULL, NULL, "timezone = \"../../etc/passwd\";\n"),
                      "6: '../../etc/passwd' is not a time zone name (IANA, e.g. "
                      "\"Europe/Amsterdam\")\n");
}

static void test_config_load_bad_send_time(void **state) {
        (void) state;
        assert_errors(errors_with(NULL, NULL, NULL, "policy = { send_time = \"24:00\"; };\n"),
                      "6: send_time \"24:00\" must be local time \"HH:MM\" or \"HH:MM:SS\"\n");
        assert_errors(errors_with(NULL, NULL, NULL, "policy = { send_time = \"9:00\"; };\n"),
                      "6: send_time \"9:00\" must be local time \"HH:MM\" or \"HH:MM:SS\"\n");
}

static void test_config_load_negative_population(void **state) {
        (void) state;
        assert_errors(
                errors_with(NULL,
                            "recipients = ( { id = \"a\"; name = \"A\"; mail = [\"a@x.example\"];\n"
                            "  population = -1; } );\n",
                            NULL, NULL),
                "4: population -1 must be between 0 and 1000000000\n");
}

static void test_config_load_control_characters_in_header_strings(void **state) {
        static const char *const message =
                "string contains a control character (CR, LF, TAB, ...) or invalid UTF-8; it "
                "could reach a mail header\n";
        char *expected;
        (void) state;
        /* libconfig turns the escapes \r and \n into the real characters. */
        assert_true(asprintf(&expected, "3: %s", message) > 0);
        assert_errors(
                errors_with(NULL,
                            "recipients = ( { id = \"a\"; name = \"A\\r\\nBcc: x@evil.example\";\n"
                            "  mail = [\"a@x.example\"]; } );\n",
                            NULL, NULL),
                expected);
        free(expected);
        assert_true(asprintf(&expected, "1: %s", message) > 0);
        assert_errors(
                errors_with(
                        NULL, NULL,
                        "commitments = ( { id = \"c\"; title = \"C\\tD\"; participants = [\"a\"]; "
                        "start = \"2019-01-01\"; term = \"2y\"; renewal = \"none\"; } );\n"
                        "\n",
                        NULL),
                "4: string contains a control character (CR, LF, TAB, ...) or invalid UTF-8; it "
                "could reach a mail header\n");
        free(expected);
        /* Raw bytes: a C1 control (U+0085, NEL) and a byte that is not UTF-8. */
        assert_errors(errors_with(NULL, NULL, NULL,
                                  "reference = \"nl\xc2\x85\";\nlanguage = \"\xff\";\n"),
                      "6: unknown key 'reference' in the config\n"
                      "6: string contains a control character (CR, LF, TAB, ...) or invalid UTF-8; "
                      "it could reach a mail header\n"
                      "7: string contains a control character (CR, LF, TAB, ...) or invalid UTF-8; "
                      "it could reach a mail header\n"
                      "7: language '\xff' is not supported (\"nl\" or \"en\")\n");
}

static void test_config_load_plaintext_smtp_only_to_loopback(void **state) {
        (void) state;
        assert_errors(errors_with("transports = { out = { url = \"smtp://mail.example.org:25\"; "
                                  "tls = \"none\";\n"
                                  "  from = \"n@x.example\"; }; };\nmail_via = \"out\";\n",
                                  NULL, NULL, NULL),
                      "1: plaintext smtp:// to 'mail.example.org' is refused: tls = \"none\" is "
                      "only for a loopback host; use STARTTLS (drop tls) or smtps://\n");
        assert_errors(
                errors_with(
                        "transports = { out = { url = \"smtp://127.0.0.1:2525\"; tls = \"none\";\n"
                        "  from = \"n@x.example\"; }; };\nmail_via = \"out\";\n",
                        NULL, NULL, NULL),
                "");
        assert_errors(
                errors_with("transports = { out = { url = \"smtp://[::1]:2525\"; tls = \"none\";\n"
                            "  from = \"n@x.example\"; }; };\nmail_via = \"out\";\n",
                            NULL, NULL, NULL),
                "");
        assert_errors(errors_with("transports = { out = { url = \"smtps://mail.example.org\"; tls "
                                  "= \"none\";\n"
                                  "  from = \"n@x.example\"; }; };\nmail_via = \"out\";\n",
                                  NULL, NULL, NULL),
                      "1: 'tls' applies only to smtp:// transports\n");
}

static void test_config_load_bad_transports(void **state) {
        (void) state;
        assert_errors(
                errors_with(
                        "transports = {\n"
                        "  a = { url = \"ftp://x.example\"; };\n"
                        "  b = { url = \"maildir:relative/dir\"; };\n"
                        "  c = { url = \"https://user@hooks.example/x\"; };\n"
                        "  d = { url = \"smtps://x.example\"; username = \"u\"; "
                        "password_credential = \"../etc/shadow\"; };\n"
                        "  e = { url = \"https://hooks.example/x\"; from = \"a@b.example\"; };\n"
                        "};\nmail_via = \"e\";\n",
                        NULL, NULL, NULL),
                "2: unsupported transport URL 'ftp://x.example' (smtp://, smtps://, maildir:PATH, "
                "sendmail:, http:// or https://)\n"
                "3: maildir path in 'maildir:relative/dir' must be absolute (maildir:/path)\n"
                "4: malformed URL 'https://user@hooks.example/x' (scheme://host[:port][/path], no "
                "user info)\n"
                "5: password_credential '../etc/shadow' must be a credential name (letters, "
                "digits, '.', '_', '-'), not a path\n"
                "6: transport 'e': 'from' applies only to mail transports\n"
                "8: mail_via transport 'e' cannot carry mail (smtp://, smtps://, maildir: or "
                "sendmail:)\n");
}

static void test_config_load_bad_addresses(void **state) {
        (void) state;
        assert_errors(
                errors_with("transports = { out = { url = \"sendmail:\"; from = \"Noticed <not an "
                            "address>\"; }; };\n"
                            "mail_via = \"out\";\n",
                            "recipients = ( { id = \"a\"; name = \"A\"; mail = [\"a@x.example\", "
                            "\"a,b@x.example\"]; } );\n",
                            NULL, NULL),
                "1: from \"Noticed <not an address>\" must be \"address\" or \"Name <address>\"\n"
                "3: 'a,b@x.example' is not a mail address (local@domain, ASCII)\n");
        assert_errors(errors_with("", NULL, NULL, NULL),
                      "1: recipient 'a' has mail addresses but no mail_via transport is set\n");
        assert_errors(
                errors_with(NULL, "recipients = ( { id = \"a\"; name = \"A\"; } );\n", NULL, NULL),
                "3: recipient 'a' has no mail address and no webhook: nothing could reach it\n");
        assert_errors(
                errors_with(NULL,
                            "recipients = ( { id = \"a\"; name = \"A\"; mail = []; webhooks = []; "
                            "} );\n",
                            NULL, NULL),
                "3: recipient 'a' has no mail address and no webhook: nothing could reach it\n");
}

static void test_config_load_inconsistent_terms(void **state) {
        (void) state;
        assert_errors(
                commitment_errors("start = \"2019-01-01\"; term = \"2y\"; renewal = \"yearly\";"),
                "5: renewal 'yearly' must be \"none\", \"tacit\" or \"indefinite\"\n");
        assert_errors(
                commitment_errors("start = \"2019-01-01\"; term = \"2y\"; renewal = \"tacit\";"),
                "4: c: missing 'notice'\n");
        assert_errors(
                commitment_errors("start = \"2019-01-01\"; term = \"2y\"; renewal = \"none\";\n"
                                  "renewal_term = \"1y\"; decision_lead = \"6w\";"),
                "6: 'renewal_term' applies only with renewal = \"tacit\"\n"
                "6: 'decision_lead' needs a 'notice' period to count back from\n");
}

static void test_config_load_bad_cost(void **state) {
        (void) state;
        assert_errors(commitment_errors(
                              "start = \"2019-01-01\"; term = \"2y\"; renewal = \"none\";\n"
                              "cost = { per_inhabitant = [0.10, 0.08]; currency = \"euro\"; };"),
                      "6: per_inhabitant range [min, max] has min above max\n"
                      "6: currency 'euro' must be an ISO 4217 code such as \"EUR\"\n");
        assert_errors(
                commitment_errors("start = \"2019-01-01\"; term = \"2y\"; renewal = \"none\";\n"
                                  "cost = { per_inhabitant = -0.1; currency = \"EUR\"; };"),
                "6: per_inhabitant rate must be between 0 and 1000\n");
}

static void test_config_load_bad_language_and_shift(void **state) {
        (void) state;
        assert_errors(errors_with(NULL, NULL, NULL,
                                  "language = \"de\";\ndeadline_shift = \"sooner\";\n"
                                  "holidays = { calendar = \"be\"; };\n"),
                      "6: language 'de' is not supported (\"nl\" or \"en\")\n"
                      "7: deadline_shift 'sooner' must be \"earlier\", \"later\" or \"none\"\n"
                      "8: holiday calendar 'be' is not known (\"nl\" or \"none\")\n");
}

static void test_config_load_reports_every_error_sorted_by_line(void **state) {
        (void) state;
        assert_errors(
                errors_of("timezone = \"Nowhere/Land\";\n"
                          "recipients = ( { id = \"a\"; name = \"A\"; population = -5; } );\n"
                          "commitments = ( { id = \"c\"; title = \"C\"; participants = [\"z\"];\n"
                          "  start = \"2019-13-01\"; term = \"2y\"; renewal = \"none\"; } );\n"),
                "1: unknown time zone 'Nowhere/Land' (not a zone of the installed IANA database)\n"
                "2: population -5 must be between 0 and 1000000000\n"
                "2: recipient 'a' has no mail address and no webhook: nothing could reach it\n"
                "3: participants: unknown recipient 'z'\n"
                "4: '2019-13-01' is not a date (YYYY-MM-DD, a real calendar day)\n");
}

static void test_config_load_include_is_relative_to_the_file(void **state) {
        char dir[] = "/tmp/noticed-test-include-XXXXXX", *main_path, *inc_path, *text;
        ConfigErrors errors;
        Model *m = NULL;
        FILE *f;
        (void) state;

        assert_non_null(mkdtemp(dir));
        assert_true(asprintf(&inc_path, "%s/recipients.conf", dir) > 0);
        assert_true(asprintf(&main_path, "%s/noticed.conf", dir) > 0);
        f = fopen(inc_path, "w");
        fputs("recipients = ( { id = \"a\"; name = \"A\"; mail = [\"a@x.example\"];\n  population "
              "= -1; } );\n",
              f);
        fclose(f);
        assert_true(asprintf(&text, "%s@include \"recipients.conf\"\n%s", good_transport,
                             good_commitments) > 0);
        f = fopen(main_path, "w");
        fputs(text, f);
        fclose(f);
        assert_int_equal(config_load(main_path, &m, &errors), -EINVAL);
        assert_int_equal(errors.n, 1);
        assert_string_equal(errors.items[0].file, inc_path);
        assert_int_equal(errors.items[0].line, 2);
        config_errors_done(&errors);
        unlink(inc_path);
        unlink(main_path);
        rmdir(dir);
        free(inc_path);
        free(main_path);
        free(text);
}

/* ---- templates ---- */

/* The errors of the good config with `templates` (line 6) as "config:LINE: ..." or
 * "template:LINE: ...": a temporary file with template_text takes the place of TEMPLATE_PATH,
 * and its name reads as TEMPLATE in messages. */
static char *template_errors(const char *templates, const char *template_text) {
        char *template_path = template_text ? write_temp(template_text) : NULL;
        char *text, *path, *out = NULL, *t;
        size_t size = 0;
        FILE *f = open_memstream(&out, &size);
        ConfigErrors errors;
        Model *m = NULL;
        int r;

        t = template_path ? strstr(templates, "TEMPLATE_PATH") : NULL;
        assert_true(asprintf(&text, "%s%s%s%.*s%s%s\n", good_transport, good_recipients,
                             good_commitments, t ? (int) (t - templates) : (int) strlen(templates),
                             templates, t ? template_path : "", t ? t + 13 : "") > 0);
        path = write_temp(text);
        r = config_load(path, &m, &errors);
        for (size_t i = 0; i < errors.n; i++) {
                const char *file =
                        strcmp(errors.items[i].file, path) == 0 ? "config"
                        : template_path && strcmp(errors.items[i].file, template_path) == 0
                                ? "template"
                                : errors.items[i].file;
                const char *msg = errors.items[i].message;
                const char *at = template_path ? strstr(msg, template_path) : NULL;
                if (at) /* the temporary name reads as TEMPLATE */
                        fprintf(f, "%s:%u: %.*sTEMPLATE%s\n", file, errors.items[i].line,
                                (int) (at - msg), msg, at + strlen(template_path));
                else
                        fprintf(f, "%s:%u: %s\n", file, errors.items[i].line, msg);
        }
        fclose(f);
        assert_int_equal(r == 0, errors.n == 0);
        config_errors_done(&errors);
        model_free(m);
        unlink(path);
        free(path);
        free(text);
        if (template_path)
                unlink(template_path);
        free(template_path);
        return out;
}

static void test_config_load_templates_are_read_into_the_model(void **state) {
        static const char nl[] =
                "Subject: Herinnering ${title}\n\nBeste ${recipient},\n\t${action}\n";
        static const char en[] = "Subject: Too late: ${title}\n\n${undecided}\n";
        char *nl_path = write_temp(nl), *en_path = write_temp(en), *text, *path;
        ConfigErrors errors;
        Model *m = NULL;
        (void) state;

        assert_true(asprintf(&text, "%s%s%stemplates = { nl = \"%s\"; en_overdue = \"%s\"; };\n",
                             good_transport, good_recipients, good_commitments, nl_path,
                             en_path) > 0);
        path = write_temp(text);
        assert_int_equal(config_load(path, &m, &errors), 0);
        assert_string_equal(m->templates[LANGUAGE_NL][MESSAGE_REMINDER], nl);
        assert_string_equal(m->templates[LANGUAGE_EN][MESSAGE_OVERDUE], en);
        assert_null(m->templates[LANGUAGE_EN][MESSAGE_REMINDER]);
        assert_null(m->templates[LANGUAGE_NL][MESSAGE_OVERDUE]);
        model_free(m); /* frees the texts: the sanitizer build checks */
        config_errors_done(&errors);
        unlink(path);
        unlink(nl_path);
        unlink(en_path);
        free(path);
        free(nl_path);
        free(en_path);
        free(text);
}

static void test_config_load_template_errors_name_the_template_and_its_line(void **state) {
        (void) state;
        assert_errors(template_errors("templates = { nl = \"TEMPLATE_PATH\"; };",
                                      "Subject: x\n\nBeste ${recipient},\n${nope}\n"),
                      "template:4: unknown placeholder \"${nope}\"\n");
        assert_errors(template_errors("templates = { en = \"TEMPLATE_PATH\"; };",
                                      "Subject: x\n\nna\xefve\n"),
                      "template:3: invalid UTF-8\n");
        assert_errors(template_errors("templates = { nl_overdue = \"TEMPLATE_PATH\"; };",
                                      "Subject: x\n\nbell\a\n"),
                      "template:3: control character (only newline and tab are allowed)\n");
        assert_errors(template_errors("templates = { en_overdue = \"TEMPLATE_PATH\"; };",
                                      "Beste ${recipient},\n"),
                      "template:1: the first line must be \"Subject: ...\"\n");
        assert_errors(
                template_errors("templates = { nl = \"TEMPLATE_PATH\"; };", "Subject: x\nbody\n"),
                "template:2: line 2 must be empty: it separates the Subject line from the "
                "body\n");
}

static void test_config_load_template_files_that_cannot_be_used(void **state) {
        (void) state;
        assert_errors(template_errors("templates = { nl = \"reminder-nl.txt\"; };", NULL),
                      "config:6: template \"reminder-nl.txt\" must be an absolute path\n");
        assert_errors(
                template_errors("templates = { nl = \"/nonexistent/reminder-nl.txt\"; };", NULL),
                "config:6: cannot read template \"/nonexistent/reminder-nl.txt\": No such "
                "file or directory\n");
        assert_errors(template_errors("templates = { nl = \"/tmp\"; };", NULL),
                      "config:6: template \"/tmp\" is not a regular file\n");
        assert_errors(template_errors("templates = { fr = \"/tmp/x\"; nl = 1; };", NULL),
                      "config:6: unknown key 'fr' in templates\n"
                      "config:6: 'nl' must be a string\n");
        assert_errors(template_errors("templates = \"/tmp/x\";", NULL),
                      "config:6: 'templates' must be a group { ... }\n");
}

static void test_config_load_template_larger_than_64_kib_is_refused(void **state) {
        char *big = malloc(70000);
        (void) state;

        assert_non_null(big);
        memset(big, 'x', 69999);
        big[69999] = '\0';
        memcpy(big, "Subject: x\n\n", 12);
        assert_errors(template_errors("templates = { nl = \"TEMPLATE_PATH\"; };", big),
                      "config:6: template \"TEMPLATE\" is larger than 65536 bytes\n");
        free(big);
}

/* ---- delivery: time spans ---- */

/* The model of the good config with `transports` (NULL: the good one) and `extra` appended. */
static Model *model_with(const char *transports, const char *extra) {
        char *text;
        Model *m;

        assert_true(asprintf(&text, "%s%s%s%s", transports ? transports : good_transport,
                             good_recipients, good_commitments, extra ? extra : "") > 0);
        m = fixture_load(text);
        free(text);
        return m;
}

#define SECONDS(n) (UINT64_C(n) * USEC_PER_SEC)

static void test_config_load_time_spans_default(void **state) {
        Model *m = model_with(NULL, NULL);
        (void) state;

        assert_int_equal(m->retry_base_usec, SECONDS(60));
        assert_int_equal(m->retry_max_usec, SECONDS(3600));
        assert_int_equal(m->stop_timeout_usec, SECONDS(10));
        model_free(m);
}

static void test_config_load_time_span_m_means_minutes(void **state) {
        Model *m = model_with(NULL, "retry_base = \"1m\";\nretry_max = \"90m\";\n"
                                    "stop_timeout = \"2m\";\n");
        (void) state;

        assert_int_equal(m->retry_base_usec, SECONDS(60));
        assert_int_equal(m->retry_max_usec, SECONDS(90 * 60));
        assert_int_equal(m->stop_timeout_usec, SECONDS(120));
        model_free(m);
}

static void test_config_load_time_spans_in_every_unit_and_at_the_bounds(void **state) {
        Model *m = model_with(NULL, "retry_base = \"90s\";\nretry_max = \"7d\";\n"
                                    "stop_timeout = \"0s\";\n");
        (void) state;

        assert_int_equal(m->retry_base_usec, SECONDS(90));
        assert_int_equal(m->retry_max_usec, SECONDS(7 * 86400));
        assert_int_equal(m->stop_timeout_usec, 0); /* do not wait */
        model_free(m);
        m = model_with(NULL, "retry_base = \"1d\";\nretry_max = \"24h\";\n"
                             "stop_timeout = \"5m\";\n");
        assert_int_equal(m->retry_base_usec, SECONDS(86400));
        assert_int_equal(m->retry_max_usec, SECONDS(86400));
        assert_int_equal(m->stop_timeout_usec, SECONDS(300));
        model_free(m);
        m = model_with(NULL, "retry_base = \"1s\";\nretry_max = \"1s\";\n");
        assert_int_equal(m->retry_base_usec, SECONDS(1));
        assert_int_equal(m->retry_max_usec, SECONDS(1));
        model_free(m);
}

#define NOT_A_SPAN ": a time span is a number and s, m (minutes), h or d, e.g. \"30s\", \"1m\"\n"

static void test_config_load_time_spans_that_are_not(void **state) {
        (void) state;
        assert_errors(
                errors_with(NULL, NULL, NULL,
                            "retry_base = \"5x\";\nretry_max = \"\";\nstop_timeout = \"1\";\n"),
                "6: retry_base \"5x\"" NOT_A_SPAN "7: retry_max \"\"" NOT_A_SPAN
                "8: stop_timeout \"1\"" NOT_A_SPAN);
        assert_errors(errors_with(NULL, NULL, NULL,
                                  "retry_base = \"1.5m\";\nretry_max = \"1 h\";\n"
                                  "stop_timeout = \" 5s\";\n"),
                      "6: retry_base \"1.5m\"" NOT_A_SPAN "7: retry_max \"1 h\"" NOT_A_SPAN
                      "8: stop_timeout \" 5s\"" NOT_A_SPAN);
        assert_errors(errors_with(NULL, NULL, NULL,
                                  "retry_base = \"-1m\";\nretry_max = \"+1h\";\n"
                                  "stop_timeout = \"05s\";\n"),
                      "6: retry_base \"-1m\"" NOT_A_SPAN "7: retry_max \"+1h\"" NOT_A_SPAN
                      "8: stop_timeout \"05s\"" NOT_A_SPAN);
        /* A calendar duration's units other than d mean nothing here. */
        assert_errors(errors_with(NULL, NULL, NULL, "retry_max = \"1w\";\nretry_base = \"1ms\";\n"),
                      "6: retry_max \"1w\"" NOT_A_SPAN "7: retry_base \"1ms\"" NOT_A_SPAN);
        assert_errors(errors_with(NULL, NULL, NULL, "retry_base = 60;\nstop_timeout = 10.5;\n"),
                      "6: 'retry_base' must be a string\n"
                      "7: 'stop_timeout' must be a string\n");
}

static void test_config_load_time_spans_out_of_bounds(void **state) {
        (void) state;
        assert_errors(errors_with(NULL, NULL, NULL,
                                  "retry_base = \"0s\";\nretry_max = \"0m\";\n"
                                  "stop_timeout = \"301s\";\n"),
                      "6: retry_base \"0s\" must be between 1s and 1d\n"
                      "7: retry_max \"0m\" must be between 1s and 7d\n"
                      "8: stop_timeout \"301s\" must be between 0s and 5m\n");
        assert_errors(errors_with(NULL, NULL, NULL,
                                  "retry_base = \"25h\";\nretry_max = \"8d\";\n"
                                  "stop_timeout = \"1h\";\n"),
                      "6: retry_base \"25h\" must be between 1s and 1d\n"
                      "7: retry_max \"8d\" must be between 1s and 7d\n"
                      "8: stop_timeout \"1h\" must be between 0s and 5m\n");
        /* More microseconds than 64 bits hold, in the count and in the product. */
        assert_errors(errors_with(NULL, NULL, NULL,
                                  "retry_max = \"99999999999999999999s\";\n"
                                  "stop_timeout = \"999999999999999d\";\n"),
                      "6: retry_max \"99999999999999999999s\" must be between 1s and 7d\n"
                      "7: stop_timeout \"999999999999999d\" must be between 0s and 5m\n");
}

static void test_config_load_retry_max_below_retry_base(void **state) {
        (void) state;
        assert_errors(errors_with(NULL, NULL, NULL, "retry_base = \"2m\";\nretry_max = \"90s\";\n"),
                      "7: retry_max \"90s\" is shorter than retry_base \"2m\"\n");
        assert_errors(errors_with(NULL, NULL, NULL, "retry_max = \"30s\";\n"),
                      "6: retry_max \"30s\" is shorter than retry_base, 1m when not set\n");
        assert_errors(errors_with(NULL, NULL, NULL, "retry_base = \"2h\";\n"),
                      "6: retry_base \"2h\" is longer than retry_max, 1h when not set\n");
        /* A bad retry_base is reported once, not compared with. */
        assert_errors(errors_with(NULL, NULL, NULL, "retry_base = \"2y\";\nretry_max = \"1s\";\n"),
                      "6: retry_base \"2y\"" NOT_A_SPAN);
}

/* ---- delivery: transport keys ---- */

/* Files for the keys that name one, in a fresh directory DIR: the secrets DIR/private (mode
 * 0600), DIR/shared (0640), DIR/others (0604) and DIR/writable (0620), and DIR/ca.pem (0644). */
typedef struct DeliveryFiles {
        char dir[40];
} DeliveryFiles;

static const struct {
        const char *name;
        mode_t mode;
} delivery_files[] = {
        {"private", 0600}, {"shared", 0640}, {"others", 0604}, {"writable", 0620}, {"ca.pem", 0644},
};

static int delivery_files_setup(void **state) {
        DeliveryFiles *files = calloc(1, sizeof(*files));

        assert_non_null(files);
        strcpy(files->dir, "/tmp/noticed-test-files-XXXXXX");
        assert_non_null(mkdtemp(files->dir));
        for (size_t i = 0; i < sizeof(delivery_files) / sizeof(delivery_files[0]); i++) {
                char *path;
                FILE *f;

                assert_true(asprintf(&path, "%s/%s", files->dir, delivery_files[i].name) > 0);
                f = fopen(path, "w");
                assert_non_null(f);
                fputs("s3cret\n", f);
                fclose(f);
                assert_int_equal(chmod(path, delivery_files[i].mode), 0); /* whatever the umask */
                free(path);
        }
        *state = files;
        return 0;
}

static int delivery_files_teardown(void **state) {
        DeliveryFiles *files = *state;

        for (size_t i = 0; i < sizeof(delivery_files) / sizeof(delivery_files[0]); i++) {
                char *path;
                assert_true(asprintf(&path, "%s/%s", files->dir, delivery_files[i].name) > 0);
                unlink(path);
                free(path);
        }
        rmdir(files->dir);
        free(files);
        return 0;
}

/* text with every `old` replaced by `new`; malloc'd. */
static char *replace_all(const char *text, const char *old, const char *new) {
        char *out = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&out, &size);
        const char *at;

        while ((at = strstr(text, old))) {
                fprintf(f, "%.*s%s", (int) (at - text), text, new);
                text = at + strlen(old);
        }
        fputs(text, f);
        fclose(f);
        return out;
}

/* A transports group of the lines in `body` (line 2 on) and the mail_via transport "out" after
 * them, with DIR standing for the files' directory, in the config and in its errors. */
static char *transports_of(const DeliveryFiles *files, const char *body) {
        char *text, *out;

        assert_true(asprintf(&text,
                             "transports = {\n%s"
                             "  out = { url = \"maildir:/tmp/noticed-test\"; from = "
                             "\"n@x.example\"; };\n};\nmail_via = \"out\";\n",
                             body) > 0);
        out = replace_all(text, "DIR", files ? files->dir : "DIR");
        free(text);
        return out;
}

static char *transport_errors(const DeliveryFiles *files, const char *body) {
        char *transports = transports_of(files, body);
        char *errors = errors_with(transports, NULL, NULL, NULL);
        char *out = replace_all(errors, files ? files->dir : "DIR", "DIR");

        free(transports);
        free(errors);
        return out;
}

static void test_config_load_transport_delivery_defaults(void **state) {
        char *transports =
                transports_of(NULL, "  relay = { url = \"smtps://mail.example.org\"; };\n"
                                    "  hook = { url = \"https://hooks.example.org\"; };\n"
                                    "  sm = { url = \"sendmail:\"; };\n");
        Model *m = model_with(transports, NULL);
        (void) state;

        assert_int_equal(m->n_transports, 4);
        for (size_t i = 0; i < m->n_transports; i++) {
                const Transport *t = &m->transports[i];
                assert_int_equal(t->max_connections, TRANSPORT_MAX_CONNECTIONS_DEFAULT);
                assert_int_equal(t->max_connections, 4);
                assert_int_equal(t->format, WEBHOOK_FORMAT_JSON);
                assert_null(t->envelope_from);
                assert_null(t->password_file);
                assert_null(t->secret_file);
                assert_null(t->ca_file);
        }
        model_free(m);
        free(transports);
}

static void test_config_load_from_is_split_into_name_and_address(void **state) {
        char *transports = transports_of(
                NULL, "  a = { url = \"smtps://m.example\"; from = \"  Gemeente  Hof "
                      "<h@x.example>\"; };\n"
                      "  b = { url = \"smtps://m.example\"; from = \"Hof<h@x.example>\"; };\n"
                      "  c = { url = \"smtps://m.example\"; from = \"  <h@x.example>\"; };\n"
                      "  d = { url = \"https://h.example\"; };\n");
        Model *m = model_with(transports, NULL);
        const Transport *t = m->transports;
        (void) state;

        assert_string_equal(t[0].from, "  Gemeente  Hof <h@x.example>"); /* as written */
        assert_string_equal(t[0].from_name, "Gemeente  Hof");
        assert_string_equal(t[0].from_address, "h@x.example");
        assert_string_equal(t[1].from_name, "Hof");
        assert_string_equal(t[1].from_address, "h@x.example");
        assert_null(t[2].from_name);
        assert_string_equal(t[2].from_address, "h@x.example");
        assert_null(t[3].from);
        assert_null(t[3].from_name);
        assert_null(t[3].from_address);
        assert_null(t[4].from_name); /* "n@x.example" */
        assert_string_equal(t[4].from_address, "n@x.example");
        assert_null(t[4].envelope_from);
        model_free(m);
        free(transports);
}

static void test_config_load_transport_delivery_keys_are_read_into_the_model(void **state) {
        const DeliveryFiles *files = *state;
        char *transports = transports_of(
                files,
                "  relay = { url = \"smtps://mail.example.org\"; from = \"Noticed "
                "<n@x.example>\";\n"
                "    envelope_from = \"bounces+noticed@x.example\"; username = \"u\";\n"
                "    password_file = \"DIR/private\"; ca_file = \"DIR/ca.pem\"; "
                "max_connections = 64; };\n"
                "  hook = { url = \"https://hooks.example.org/x\"; secret_file = \"DIR/private\";\n"
                "    ca_file = \"DIR/ca.pem\"; format = \"slack\"; max_connections = 1; };\n"
                "  plain = { url = \"http://127.0.0.1:8080/x\"; format = \"json\";\n"
                "    max_connections = 8L; };\n"
                "  starttls = { url = \"smtp://mail.example.org\"; ca_file = \"DIR/ca.pem\";\n"
                "    envelope_from = \"b@[192.0.2.1]\"; };\n");
        Model *m = model_with(transports, NULL);
        char *private_path, *ca_path;
        const Transport *t;

        assert_true(asprintf(&private_path, "%s/private", files->dir) > 0);
        assert_true(asprintf(&ca_path, "%s/ca.pem", files->dir) > 0);
        t = &m->transports[0];
        assert_string_equal(t->envelope_from, "bounces+noticed@x.example");
        assert_string_equal(t->password_file, private_path);
        assert_string_equal(t->ca_file, ca_path);
        assert_int_equal(t->max_connections, 64);
        t = &m->transports[1];
        assert_string_equal(t->secret_file, private_path);
        assert_string_equal(t->ca_file, ca_path);
        assert_int_equal(t->format, WEBHOOK_FORMAT_SLACK);
        assert_int_equal(t->max_connections, 1);
        t = &m->transports[2];
        assert_int_equal(t->format, WEBHOOK_FORMAT_JSON);
        assert_int_equal(t->max_connections, 8);
        t = &m->transports[3];
        assert_string_equal(t->ca_file, ca_path);
        assert_string_equal(t->envelope_from, "b@[192.0.2.1]");
        assert_int_equal(t->max_connections, 4);
        model_free(m);
        free(transports);
        free(private_path);
        free(ca_path);
}

static void test_config_load_password_file_must_be_private(void **state) {
        const DeliveryFiles *files = *state;

        assert_errors(transport_errors(files,
                                       "  a = { url = \"smtps://m.example\"; username = \"u\"; "
                                       "password_file = \"DIR/shared\"; };\n"
                                       "  b = { url = \"smtps://m.example\"; username = \"u\"; "
                                       "password_file = \"DIR/others\"; };\n"
                                       "  c = { url = \"smtp://m.example\"; username = \"u\"; "
                                       "password_file = \"DIR/writable\"; };\n"
                                       "  d = { url = \"smtp://m.example\"; username = \"u\"; "
                                       "password_file = \"DIR/private\"; };\n"),
                      "2: password_file 'DIR/shared' is readable by group or others (mode 0640); "
                      "chmod 600 it\n"
                      "3: password_file 'DIR/others' is readable by group or others (mode 0604); "
                      "chmod 600 it\n"
                      "4: password_file 'DIR/writable' is open to group or others (mode 0620); "
                      "chmod 600 it\n");
}

static void test_config_load_password_file_that_cannot_be_used(void **state) {
        const DeliveryFiles *files = *state;

        assert_errors(transport_errors(files,
                                       "  a = { url = \"smtps://m.example\"; username = \"u\"; "
                                       "password_file = \"DIR/missing\"; };\n"
                                       "  b = { url = \"smtps://m.example\"; username = \"u\"; "
                                       "password_file = \"smtp-password\"; };\n"
                                       "  c = { url = \"smtps://m.example\"; username = \"u\"; "
                                       "password_file = \"DIR\"; };\n"
                                       "  d = { url = \"smtps://m.example\"; username = \"u\"; "
                                       "password_file = [\"DIR/private\"]; };\n"),
                      "2: cannot use password_file 'DIR/missing': No such file or directory\n"
                      "3: password_file 'smtp-password' must be an absolute path\n"
                      "4: password_file 'DIR' is not a regular file\n"
                      "5: 'password_file' must be a string\n");
}

static void test_config_load_password_file_with_what_it_needs(void **state) {
        const DeliveryFiles *files = *state;

        assert_errors(
                transport_errors(files,
                                 "  a = { url = \"smtps://m.example\"; username = \"u\";\n"
                                 "        password_file = \"DIR/private\"; password_credential = "
                                 "\"smtp-password\"; };\n"
                                 "  b = { url = \"smtps://m.example\"; password_file = "
                                 "\"DIR/private\"; };\n"
                                 "  c = { url = \"maildir:/tmp/x\"; password_file = "
                                 "\"DIR/private\"; };\n"
                                 "  d = { url = \"https://h.example\"; password_file = "
                                 "\"DIR/private\"; };\n"),
                "2: transport 'a': set password_credential or password_file, not both: "
                "there is one password\n"
                "4: transport 'b': password_file needs a username\n"
                "5: 'password_file' applies only to smtp:// and smtps:// transports\n"
                "6: 'password_file' applies only to smtp:// and smtps:// transports\n");
}

static void test_config_load_secret_file_for_webhooks_only(void **state) {
        const DeliveryFiles *files = *state;

        assert_errors(
                transport_errors(
                        files,
                        "  a = { url = \"https://h.example\"; secret_file = "
                        "\"DIR/shared\"; };\n"
                        "  b = { url = \"http://127.0.0.1/x\"; secret_file = "
                        "\"DIR/missing\"; };\n"
                        "  c = { url = \"https://h.example\"; secret_file = \"DIR/private\";\n"
                        "        secret_credential = \"hook-secret\"; };\n"
                        "  d = { url = \"smtps://m.example\"; secret_file = "
                        "\"DIR/private\"; };\n"
                        "  e = { url = \"https://h.example\"; secret_file = \"secret\"; };\n"),
                "2: secret_file 'DIR/shared' is readable by group or others (mode 0640); "
                "chmod 600 it\n"
                "3: cannot use secret_file 'DIR/missing': No such file or directory\n"
                "4: transport 'c': set secret_credential or secret_file, not both: there is "
                "one secret\n"
                "6: 'secret_file' applies only to webhooks (http://, https://)\n"
                "7: secret_file 'secret' must be an absolute path\n");
}

static void test_config_load_ca_file_only_where_tls_is_used(void **state) {
        const DeliveryFiles *files = *state;
        static const char *const refused =
                ": 'ca_file' applies only to transports that use TLS: smtp://, smtps:// and "
                "https://\n";
        char *expected;

        assert_true(asprintf(&expected, "2%s3%s4%s", refused, refused, refused) > 0);
        assert_errors(transport_errors(files,
                                       "  a = { url = \"maildir:/tmp/x\"; ca_file = "
                                       "\"DIR/ca.pem\"; };\n"
                                       "  b = { url = \"sendmail:\"; ca_file = \"DIR/ca.pem\"; };\n"
                                       "  c = { url = \"http://h.example\"; ca_file = "
                                       "\"DIR/ca.pem\"; };\n"
                                       "  d = { url = \"https://h.example\"; ca_file = "
                                       "\"DIR/ca.pem\"; };\n"),
                      expected);
        free(expected);
        assert_errors(
                transport_errors(files,
                                 "  a = { url = \"smtps://m.example\"; ca_file = "
                                 "\"DIR/none.pem\"; };\n"
                                 "  b = { url = \"smtp://m.example\"; ca_file = \"ca.pem\"; };\n"
                                 "  c = { url = \"https://h.example\"; ca_file = \"DIR\"; };\n"
                                 "  d = { url = \"https://h.example\"; ca_file = 1; };\n"),
                "2: cannot read ca_file 'DIR/none.pem': No such file or directory\n"
                "3: ca_file 'ca.pem' must be an absolute path\n"
                "4: ca_file 'DIR' is not a regular file\n"
                "5: 'ca_file' must be a string\n");
}

static void test_config_load_bad_max_connections(void **state) {
        (void) state;
        assert_errors(
                transport_errors(NULL,
                                 "  a = { url = \"smtps://m.example\"; max_connections = 0; };\n"
                                 "  b = { url = \"https://h.example\"; max_connections = 65; };\n"
                                 "  c = { url = \"http://h.example\"; max_connections = \"4\"; };\n"
                                 "  d = { url = \"smtp://m.example\"; max_connections = -1; };\n"
                                 "  e = { url = \"maildir:/tmp/x\"; max_connections = 2; };\n"
                                 "  f = { url = \"sendmail:\"; max_connections = 2; };\n"),
                "2: max_connections 0 must be between 1 and 64\n"
                "3: max_connections 65 must be between 1 and 64\n"
                "4: 'max_connections' must be an integer\n"
                "5: max_connections -1 must be between 1 and 64\n"
                "6: 'max_connections' applies only to network transports: smtp://, smtps://, "
                "http:// and https://\n"
                "7: 'max_connections' applies only to network transports: smtp://, smtps://, "
                "http:// and https://\n");
}

static void test_config_load_bad_webhook_format(void **state) {
        (void) state;
        assert_errors(transport_errors(
                              NULL, "  a = { url = \"https://h.example\"; format = \"xml\"; };\n"
                                    "  b = { url = \"smtp://m.example\"; format = \"json\"; };\n"
                                    "  c = { url = \"sendmail:\"; format = \"slack\"; };\n"
                                    "  d = { url = \"http://h.example\"; format = \"Slack\"; };\n"),
                      "2: format \"xml\" must be \"json\" (the default) or \"slack\"\n"
                      "3: 'format' applies only to webhooks (http://, https://)\n"
                      "4: 'format' applies only to webhooks (http://, https://)\n"
                      "5: format \"Slack\" must be \"json\" (the default) or \"slack\"\n");
}

static void test_config_load_bad_envelope_from(void **state) {
        (void) state;
        assert_errors(
                transport_errors(
                        NULL,
                        "  a = { url = \"smtps://m.example\"; envelope_from = \"Noticed "
                        "<n@x.example>\"; };\n"
                        "  b = { url = \"smtp://m.example\"; envelope_from = \"<n@x.example>\"; "
                        "};\n"
                        "  c = { url = \"smtps://m.example\"; envelope_from = \"n@x.example\\r\\n"
                        "RCPT TO:<x@evil.example>\"; };\n"
                        "  d = { url = \"maildir:/tmp/x\"; envelope_from = \"n@x.example\"; };\n"
                        "  e = { url = \"https://h.example\"; envelope_from = \"n@x.example\"; "
                        "};\n"),
                "2: envelope_from \"Noticed <n@x.example>\" must be a bare address, local@domain "
                "(no name, no <>)\n"
                "3: envelope_from \"<n@x.example>\" must be a bare address, local@domain (no name, "
                "no <>)\n"
                "4: string contains a control character (CR, LF, TAB, ...) or invalid UTF-8; it "
                "could reach a mail header\n"
                "4: envelope_from \"n@x.example\r\nRCPT TO:<x@evil.example>\" must be a bare "
                "address, local@domain (no name, no <>)\n"
                "5: 'envelope_from' applies only to smtp:// and smtps:// transports\n"
                "6: 'envelope_from' applies only to smtp:// and smtps:// transports\n");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_config_load_good_file_gets_contract_defaults),
                cmocka_unit_test(test_config_load_syntax_error_names_its_line),
                cmocka_unit_test(test_config_load_missing_file_is_reported),
                cmocka_unit_test(test_config_load_directory_is_reported_not_fatal),
                cmocka_unit_test(test_config_load_equal_offsets_keep_the_larger_unit),
                cmocka_unit_test(test_config_load_decision_lead_0d_is_the_default),
                cmocka_unit_test(test_config_load_zero_is_only_written_0d),
                cmocka_unit_test(test_config_load_zero_terms_are_refused),
                cmocka_unit_test(test_config_load_unknown_key_everywhere),
                cmocka_unit_test(test_config_load_wrong_type),
                cmocka_unit_test(test_config_load_missing_required_key),
                cmocka_unit_test(test_config_load_bad_dates),
                cmocka_unit_test(test_config_load_bad_durations),
                cmocka_unit_test(test_config_load_unknown_ids),
                cmocka_unit_test(test_config_load_duplicate_ids),
                cmocka_unit_test(test_config_load_bad_ids),
                cmocka_unit_test(test_config_load_bad_time_zone),
                cmocka_unit_test(test_config_load_bad_send_time),
                cmocka_unit_test(test_config_load_negative_population),
                cmocka_unit_test(test_config_load_control_characters_in_header_strings),
                cmocka_unit_test(test_config_load_plaintext_smtp_only_to_loopback),
                cmocka_unit_test(test_config_load_bad_transports),
                cmocka_unit_test(test_config_load_bad_addresses),
                cmocka_unit_test(test_config_load_inconsistent_terms),
                cmocka_unit_test(test_config_load_bad_cost),
                cmocka_unit_test(test_config_load_bad_language_and_shift),
                cmocka_unit_test(test_config_load_reports_every_error_sorted_by_line),
                cmocka_unit_test(test_config_load_include_is_relative_to_the_file),
                cmocka_unit_test(test_config_load_templates_are_read_into_the_model),
                cmocka_unit_test(test_config_load_template_errors_name_the_template_and_its_line),
                cmocka_unit_test(test_config_load_template_files_that_cannot_be_used),
                cmocka_unit_test(test_config_load_template_larger_than_64_kib_is_refused),
                cmocka_unit_test(test_config_load_time_spans_default),
                cmocka_unit_test(test_config_load_time_span_m_means_minutes),
                cmocka_unit_test(test_config_load_time_spans_in_every_unit_and_at_the_bounds),
                cmocka_unit_test(test_config_load_time_spans_that_are_not),
                cmocka_unit_test(test_config_load_time_spans_out_of_bounds),
                cmocka_unit_test(test_config_load_retry_max_below_retry_base),
                cmocka_unit_test(test_config_load_transport_delivery_defaults),
                cmocka_unit_test(test_config_load_from_is_split_into_name_and_address),
                cmocka_unit_test_setup_teardown(
                        test_config_load_transport_delivery_keys_are_read_into_the_model,
                        delivery_files_setup, delivery_files_teardown),
                cmocka_unit_test_setup_teardown(test_config_load_password_file_must_be_private,
                                                delivery_files_setup, delivery_files_teardown),
                cmocka_unit_test_setup_teardown(test_config_load_password_file_that_cannot_be_used,
                                                delivery_files_setup, delivery_files_teardown),
                cmocka_unit_test_setup_teardown(test_config_load_password_file_with_what_it_needs,
                                                delivery_files_setup, delivery_files_teardown),
                cmocka_unit_test_setup_teardown(test_config_load_secret_file_for_webhooks_only,
                                                delivery_files_setup, delivery_files_teardown),
                cmocka_unit_test_setup_teardown(test_config_load_ca_file_only_where_tls_is_used,
                                                delivery_files_setup, delivery_files_teardown),
                cmocka_unit_test(test_config_load_bad_max_connections),
                cmocka_unit_test(test_config_load_bad_webhook_format),
                cmocka_unit_test(test_config_load_bad_envelope_from),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
