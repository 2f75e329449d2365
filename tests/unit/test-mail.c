/* Mail: the bytes a relay and a mail reader parse (the words themselves: test-text.c).
 *
 * The model comes from config text through config_load(), the Twente case with one English,
 * one non-ASCII and one awkwardly named participant.  Encodings are checked by decoding them
 * here (quoted-printable, RFC 2047) and comparing with the plain text, and the whole message by
 * tests/integration/check-mail.py, which parses it as Python's strict policy does.  Plain
 * messages (mail_render_plain(): escalations, test messages) get the same checks. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fixture.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "noticed/config.h"
#include "noticed/mail.h"
#include "noticed/message.h"
#include "noticed/plan.h"
#include "noticed/render.h"
#include "noticed/text.h"

/* mail_render() as enqueue calls it, with the reminder's identity. */
static int render_reminder(const Model *m, const Reminder *r, int64_t now, MailMessage *ret) {
        char *id = render_reminder_id(m, r);
        int k;

        assert_non_null(id);
        k = mail_render(m, r, id, now, ret);
        free(id);
        return k;
}

static MailMessage render(const Model *m, const Reminder *r) {
        MailMessage msg = {0};

        assert_int_equal(render_reminder(m, r, r->at, &msg), 0);
        assert_int_equal(strlen(msg.data), msg.size);
        return msg;
}

/* The header's value with its folds undone ("" when absent). */
static char *header(const MailMessage *msg, const char *name) {
        size_t n = strlen(name), size = 0;
        char *out = NULL;
        FILE *f = open_memstream(&out, &size);
        const char *p = msg->data;

        while (p && strncmp(p, "\r\n", 2) != 0) {
                const char *end = strstr(p, "\r\n");
                if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
                        fwrite(p + n + 2, 1, (size_t) (end - p - n - 2), f);
                        for (end += 2; *end == ' '; end = strstr(end, "\r\n") + 2)
                                fwrite(end, 1, (size_t) (strstr(end, "\r\n") - end), f);
                        break;
                }
                p = end + 2;
        }
        fclose(f);
        return out;
}

/* The raw (encoded) content of the first part of this content type. */
static char *part(const MailMessage *msg, const char *content_type) {
        const char *start = strstr(msg->data, content_type), *end;

        assert_non_null(start);
        start = strstr(start, "\r\n\r\n") + 4;
        end = strstr(start, "\r\n--=_noticed_");
        assert_non_null(end);
        return strndup(start, (size_t) (end - start));
}

static int hex_value(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* RFC 2045 6.7, strictly: fails the test on anything a lenient decoder would forgive. */
static char *decode_quoted_printable(const char *s) {
        char *out = malloc(strlen(s) + 1), *o = out;
        const char *start = s;
        size_t column = 0;

        assert_non_null(out);
        for (; *s; s++, column++) {
                if (s[0] == '\r' && s[1] == '\n') {
                        assert_true(column <= 76);
                        /* whitespace at the end of a line is encoded */
                        assert_true(s == start || (s[-1] != ' ' && s[-1] != '\t'));
                        *o++ = '\n';
                        s++;
                        column = (size_t) -1;
                } else if (s[0] == '=' && s[1] == '\r' && s[2] == '\n') {
                        assert_true(column + 1 <= 76);
                        s += 2;
                        column = (size_t) -1;
                } else if (s[0] == '=') {
                        assert_true(hex_value(s[1]) >= 0 && hex_value(s[2]) >= 0);
                        *o++ = (char) (hex_value(s[1]) * 16 + hex_value(s[2]));
                        s += 2;
                        column += 2;
                } else {
                        assert_true(*s == ' ' || *s == '\t' || (*s > ' ' && *s < 0x7f));
                        *o++ = *s;
                }
        }
        assert_true(column <= 76);
        *o = '\0';
        return out;
}

/* An unfolded header value of "=?utf-8?B?...?=" words separated by spaces, decoded. */
static char *decode_encoded_words(const char *s) {
        char *out = calloc(1, strlen(s) + 1);
        size_t n = 0;

        assert_non_null(out);
        while (*s) {
                const char *end;
                unsigned char buf[80];
                size_t len;
                int decoded;

                assert_int_equal(strncmp(s, "=?utf-8?B?", 10), 0);
                end = strstr(s + 10, "?=");
                assert_non_null(end);
                assert_true(end + 2 - s <= 75);
                len = (size_t) (end - s - 10);
                assert_true(len % 4 == 0 && len < sizeof(buf));
                decoded = EVP_DecodeBlock(buf, (const unsigned char *) s + 10, (int) len);
                assert_true(decoded >= 0);
                decoded -=
                        (len > 0 && s[10 + len - 1] == '=') + (len > 1 && s[10 + len - 2] == '=');
                memcpy(out + n, buf, (size_t) decoded);
                n += (size_t) decoded;
                s = end + 2;
                while (*s == ' ')
                        s++;
        }
        out[n] = '\0';
        return out;
}

/* ---- identity and headers ---- */

static void test_mail_render_message_id_is_stable_and_differs_per_identity(void **state) {
        Model *m = fixture_load(fixture_twente);
        Reminder a = fixture_reminder(m, "enschede", MILESTONE_DECISION, 1, "2020-05-19",
                                      "2020-04-17", false);
        Reminder b = fixture_reminder(m, "hof", MILESTONE_DECISION, 1, "2020-05-19", "2020-04-17",
                                      false);
        Reminder c = fixture_reminder(m, "enschede", MILESTONE_DECISION, 1, "2020-05-19",
                                      "2020-05-12", false);
        MailMessage first = render(m, &a), again = {0}, other = render(m, &b),
                    later = render(m, &c);
        char *h;
        (void) state;

        /* A retry a day later is the same message to the receiver. */
        assert_int_equal(render_reminder(m, &a, a.at + 86400, &again), 0);
        assert_string_equal(first.message_id, again.message_id);
        assert_string_not_equal(first.message_id, other.message_id);
        assert_string_not_equal(first.message_id, later.message_id);
        assert_int_equal(strncmp(first.message_id, "<noticed.", 9), 0);
        assert_int_equal(strlen(first.message_id),
                         strlen("<noticed.") + 32 + strlen("@twente.example>"));
        assert_string_equal(first.message_id + strlen(first.message_id) - 16, "@twente.example>");
        h = header(&first, "Message-ID");
        assert_string_equal(h, first.message_id);
        free(h);
        h = header(&first, "X-Noticed-Reminder");
        assert_string_equal(h, "burgernet-twente/decision/1/2020-05-19/32d/enschede");
        free(h);
        mail_message_done(&first);
        mail_message_done(&again);
        mail_message_done(&other);
        mail_message_done(&later);
        mail_message_done(&first); /* safe on a zeroed struct */
        model_free(m);
}

static void test_mail_render_headers_are_rfc5322(void **state) {
        Model *m = fixture_load(fixture_twente);
        Reminder spring = fixture_reminder(m, "enschede", MILESTONE_DECISION, 1, "2020-05-19",
                                           "2020-04-17", false);
        Reminder winter = fixture_reminder(m, "enschede", MILESTONE_TERM_END, 1, "2020-12-31",
                                           "2020-12-17", false);
        MailMessage s = render(m, &spring), w = render(m, &winter);
        static const char *const expected[][2] = {
                {"From", "Burgernet Twente <burgernet@twente.example>"},
                {"MIME-Version", "1.0"},
                {"Auto-Submitted", "auto-generated"},
                {"Date", "Fri, 17 Apr 2020 09:00:00 +0200"},
        };
        char *h;
        (void) state;

        for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
                h = header(&s, expected[i][0]);
                assert_string_equal(h, expected[i][1]);
                free(h);
        }
        h = header(&w, "Date");
        assert_string_equal(h, "Thu, 17 Dec 2020 09:00:00 +0100");
        free(h);
        h = header(&s, "Content-Type");
        assert_int_equal(strncmp(h, "multipart/mixed; boundary=\"=_noticed_", 37), 0);
        free(h);
        mail_message_done(&s);
        mail_message_done(&w);
        model_free(m);
}

/* The From header as the mail_via transport's `from` has it: a name in atoms, quoted, RFC 2047
 * encoded, or none; the bytes are the same whichever way config_load() split it. */
static void test_mail_render_from_header_quotes_encodes_or_omits_the_name(void **state) {
        static const char *const cases[][2] = {
                {"Burgernet Twente <burgernet@twente.example>",
                 "From: Burgernet Twente <burgernet@twente.example>\r\n"},
                {"burgernet@twente.example", "From: <burgernet@twente.example>\r\n"},
                {"  <burgernet@twente.example>", "From: <burgernet@twente.example>\r\n"},
                {"  Burgernet  Twente   <burgernet@twente.example>",
                 "From: Burgernet Twente <burgernet@twente.example>\r\n"},
                {"Burgernet (Twente) <burgernet@twente.example>",
                 "From: \"Burgernet (Twente)\" <burgernet@twente.example>\r\n"},
                {"Regio Twente – Burgernet<burgernet@twente.example>",
                 "From: =?utf-8?B?UmVnaW8gVHdlbnRlIOKAkyBCdXJnZXJuZXQ=?=\r\n"
                 " <burgernet@twente.example>\r\n"},
        };
        (void) state;

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *text = fixture_replace(
                        fixture_twente, "Burgernet Twente <burgernet@twente.example>", cases[i][0]);
                Model *m = fixture_load(text);
                Reminder r = fixture_reminder(m, "enschede", MILESTONE_DECISION, 1, "2020-05-19",
                                              "2020-04-17", false);
                MailMessage msg = render(m, &r);

                char *id = header(&msg, "Message-ID");

                assert_int_equal(strncmp(msg.data, cases[i][1], strlen(cases[i][1])), 0);
                assert_string_equal(id + strlen(id) - 16, "@twente.example>");
                free(id);
                mail_message_done(&msg);
                model_free(m);
                free(text);
        }
}

static void test_mail_render_to_quotes_specials_and_encodes_non_ascii(void **state) {
        Model *m = fixture_load(fixture_twente);
        Reminder e = fixture_reminder(m, "enschede", MILESTONE_NOTICE, 1, "2020-06-30",
                                      "2020-06-23", false);
        Reminder h =
                fixture_reminder(m, "hof", MILESTONE_NOTICE, 1, "2020-06-30", "2020-06-23", false);
        Reminder s =
                fixture_reminder(m, "swf", MILESTONE_NOTICE, 1, "2020-06-30", "2020-06-23", false);
        MailMessage me = render(m, &e), mh = render(m, &h), ms = render(m, &s);
        char *to, *end, *name;
        (void) state;

        assert_contains(me.data, "\r\nTo: Gemeente Enschede <burgernet@enschede.example>,\r\n"
                                 " Gemeente Enschede <griffie@enschede.example>\r\n");
        assert_contains(mh.data,
                        "\r\nTo: \"Gemeente Hof van Twente (OV)\" <hof@twente.example>\r\n");
        to = header(&ms, "To");
        end = strstr(to, " <info@swf.example>");
        assert_non_null(end);
        *end = '\0';
        name = decode_encoded_words(to);
        assert_string_equal(name, "Gemeente Súdwest-Fryslân");
        free(name);
        free(to);
        mail_message_done(&me);
        mail_message_done(&mh);
        mail_message_done(&ms);
        model_free(m);
}

static void test_mail_render_subject_is_rfc2047_encoded_and_decodes(void **state) {
        Model *m = fixture_load(fixture_twente);
        Reminder r = fixture_reminder(m, "enschede", MILESTONE_DEADLINE, 0, "2017-11-30",
                                      "2017-11-16", false);
        MailMessage msg = render(m, &r);
        char *subject, *raw = header(&msg, "Subject"), *decoded;
        (void) state;

        free(fixture_text_body(m, &r, &subject));
        assert_string_equal(subject, "Herinnering: Standpunt doorgeven vóór 1 december, "
                                     "donderdag 30 november 2017 (nog 14 dagen)");
        assert_string_equal(msg.subject, subject);
        assert_int_equal(strncmp(raw, "=?utf-8?B?", 10), 0);
        assert_contains(msg.data, "?=\r\n =?utf-8?B?"); /* folded between words */
        decoded = decode_encoded_words(raw);
        assert_string_equal(decoded, subject);
        free(decoded);
        free(raw);
        free(subject);
        mail_message_done(&msg);
        model_free(m);
}

static void test_mail_render_ascii_subject_stays_readable_and_folds(void **state) {
        Model *m = fixture_load(fixture_twente);
        Reminder r = fixture_reminder(m, "enschede", MILESTONE_DECISION, 1, "2020-05-19",
                                      "2020-04-17", false);
        MailMessage msg = render(m, &r);
        (void) state;

        assert_contains(msg.data, "\r\nSubject: Herinnering: besluit over Deelname Burgernet, "
                                  "dinsdag 19 mei 2020\r\n (nog 32 dagen)\r\n");
        mail_message_done(&msg);
        model_free(m);
}

/* ---- encoding of the whole message ---- */

static void assert_message_lines(const MailMessage *msg) {
        bool in_header = true;

        for (const char *p = msg->data; *p;) {
                const char *end = strstr(p, "\r\n");
                assert_non_null(end); /* the message ends in CRLF */
                assert_null(memchr(p, '\n', (size_t) (end - p)));
                assert_null(memchr(p, '\r', (size_t) (end - p)));
                assert_true(end - p <= 998);
                if (in_header && strncmp(p, "X-Noticed-Reminder:", 19) != 0 &&
                    strncmp(p, "Message-ID:", 11) != 0 && end - p > 78)
                        fail_msg("header line of %d characters: %.*s", (int) (end - p),
                                 (int) (end - p), p);
                if (end == p)
                        in_header = false;
                p = end + 2;
        }
}

static void test_mail_render_lines_end_in_crlf_and_stay_short(void **state) {
        Model *m = fixture_load(fixture_twente);
        Reminder *rs;
        size_t n;
        (void) state;

        assert_int_equal(plan_reminders(m, D("2017-08-01"), D("2021-12-31"), NULL, NULL, &rs, &n),
                         0);
        assert_true(n > 100);
        for (size_t i = 0; i < n; i++) {
                MailMessage msg = {0};
                int r = render_reminder(m, &rs[i], rs[i].at, &msg);
                if (m->recipients[rs[i].recipient].n_mail == 0) {
                        assert_int_equal(r, -EINVAL);
                        continue;
                }
                assert_int_equal(r, 0);
                assert_message_lines(&msg);
                mail_message_done(&msg);
        }
        free(rs);
        model_free(m);
}

static void test_mail_render_text_part_is_quoted_printable_of_the_text(void **state) {
        Model *m = fixture_load(fixture_twente);
        Reminder r = fixture_reminder(m, "enschede", MILESTONE_NOTICE, 1, "2020-06-30",
                                      "2020-05-29", false);
        MailMessage msg = render(m, &r);
        char *raw = part(&msg, "Content-Type: text/plain"), *decoded,
             *body = fixture_text_body(m, &r, NULL);
        (void) state;

        assert_contains(raw, "besluit A=3D1");       /* '=' escaped */
        assert_contains(raw, "=\r\n");               /* a soft line break */
        assert_contains(raw, "be=C3=ABindigen");     /* UTF-8 as octets */
        assert_contains(raw, "=E2=82=AC 12.660,88"); /* "€" */
        decoded = decode_quoted_printable(raw);      /* lines <= 76, no stray '=' */
        assert_string_equal(decoded, body);
        free(decoded);
        free(body);
        free(raw);
        mail_message_done(&msg);
        model_free(m);
}

static void test_mail_render_calendar_part_has_publish_vevent_and_valarm(void **state) {
        Model *m = fixture_load(fixture_twente);
        Reminder r = fixture_reminder(m, "enschede", MILESTONE_DECISION, 1, "2020-05-19",
                                      "2020-04-17", false);
        MailMessage msg = render(m, &r);
        char *raw = part(&msg, "Content-Type: text/calendar; charset=utf-8; method=PUBLISH");
        char *ics = decode_quoted_printable(raw);
        (void) state;

        assert_contains(ics, "BEGIN:VCALENDAR\n");
        assert_contains(ics, "\nMETHOD:PUBLISH\n");
        assert_contains(ics, "\nBEGIN:VEVENT\n");
        assert_contains(ics, "\nUID:burgernet-twente/decision/1/2020-05-19@noticed\n");
        assert_contains(ics, "\nDTSTART;VALUE=DATE:20200519\n");
        assert_contains(ics, "\nDTSTAMP:20200417T070000Z\n");
        assert_contains(ics, "\nSUMMARY:Besluit over Deelname Burgernet\n");
        assert_contains(ics, "\nBEGIN:VALARM\nACTION:DISPLAY\n");
        free(ics);
        free(raw);
        mail_message_done(&msg);
        model_free(m);
}

static void test_mail_render_without_mail_address_is_einval(void **state) {
        Model *m = fixture_load(fixture_twente);
        Reminder r = fixture_reminder(m, "hookonly", MILESTONE_DECISION, 1, "2020-05-19",
                                      "2020-04-17", false);
        MailMessage msg = {0};
        (void) state;

        assert_int_equal(render_reminder(m, &r, r.at, &msg), -EINVAL);
        assert_null(msg.data);
        model_free(m);
}

/* ---- templates ---- */

static void test_mail_render_subject_and_text_part_come_from_the_template(void **state) {
        char *tpl = fixture_write_temp(fixture_template_nl);
        char *text, *subject, *body, *raw, *decoded;
        Model *m;
        Reminder r;
        MailMessage msg;
        (void) state;

        assert_true(asprintf(&text, "%stemplates = { nl = \"%s\"; };\n", fixture_twente, tpl) > 0);
        m = fixture_load(text);
        r = fixture_reminder(m, "enschede", MILESTONE_DECISION, 1, "2020-05-19", "2020-04-17",
                             false);
        body = fixture_text_body(m, &r, &subject);
        msg = render(m, &r);
        assert_string_equal(msg.subject, "Let op: Deelname Burgernet vóór dinsdag 19 mei 2020");
        assert_string_equal(msg.subject, subject);
        raw = part(&msg, "Content-Type: text/plain");
        decoded = decode_quoted_printable(raw);
        assert_string_equal(decoded, body);
        free(decoded);
        free(raw);
        mail_message_done(&msg);
        free(subject);
        free(body);
        free(text);
        unlink(tpl);
        free(tpl);
        model_free(m);
}

/* ---- whole messages ---- */

/* Reminders of every kind to every sort of recipient: Dutch, English, a name that is encoded
 * and one that is quoted, a one-off deadline, an overdue message. */
static const struct {
        const char *recipient;
        MilestoneKind kind;
        uint32_t cycle;
        const char *milestone, *date;
        bool overdue;
} whole_messages[] = {
        {"enschede", MILESTONE_DECISION, 1, "2020-05-19", "2020-04-17", false},
        {"swf", MILESTONE_NOTICE, 1, "2020-06-30", "2020-06-23", false},
        {"hof", MILESTONE_DEADLINE, 0, "2017-11-30", "2017-11-16", false},
        {"enschede", MILESTONE_DEADLINE, 0, "2017-11-30", "2017-11-29", false},
        {"enschede", MILESTONE_DECISION, 1, "2020-05-19", "2020-05-20", true},
        {"klankbordgroep", MILESTONE_REVIEW, 0, "2020-07-01", "2020-06-24", false},
        {"swf", MILESTONE_TERM_END, 1, "2020-12-31", "2020-12-31", false},
};

#define GOLDEN_MAIL "tests/golden/mail"

static char *read_file(const char *path, size_t *ret_size) {
        char *data = NULL;
        size_t size = 0;
        FILE *f = fopen(path, "re"), *out = open_memstream(&data, &size);
        char buf[4096];
        size_t n;

        assert_non_null(out);
        if (!f) {
                fclose(out);
                free(data);
                return NULL;
        }
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
                assert_int_equal(fwrite(buf, 1, n, out), n);
        fclose(f);
        assert_int_equal(fclose(out), 0);
        *ret_size = size;
        return data;
}

/* The bytes of every message are reviewed once, in tests/golden/mail/, and then must not
 * change by accident: a refactoring of mail.c has to leave them as they are.  They change on
 * purpose with the words, the version (the calendar's PRODID) or libical's folding; then
 * NOTICED_UPDATE_GOLDEN=1 build/tests/test-mail rewrites them: review the diff line by line. */
static void test_mail_render_matches_the_golden_messages(void **state) {
        bool update = getenv("NOTICED_UPDATE_GOLDEN") != NULL;
        Model *m;
        (void) state;

        if (access(GOLDEN_MAIL, F_OK) != 0)
                skip(); /* not run from the top of the tree */
        m = fixture_load(fixture_twente);
        for (size_t i = 0; i < sizeof(whole_messages) / sizeof(whole_messages[0]); i++) {
                Reminder r =
                        fixture_reminder(m, whole_messages[i].recipient, whole_messages[i].kind,
                                         whole_messages[i].cycle, whole_messages[i].milestone,
                                         whole_messages[i].date, whole_messages[i].overdue);
                MailMessage msg = render(m, &r);
                char *path, *golden;
                size_t size;

                assert_true(asprintf(&path, GOLDEN_MAIL "/%zu-%s-%s-%s.eml", i + 1,
                                     whole_messages[i].recipient,
                                     milestone_kind_to_string(whole_messages[i].kind),
                                     whole_messages[i].overdue ? "overdue" : "reminder") > 0);
                if (update) {
                        FILE *f = fopen(path, "we");
                        assert_non_null(f);
                        assert_int_equal(fwrite(msg.data, 1, msg.size, f), msg.size);
                        assert_int_equal(fclose(f), 0);
                }
                golden = read_file(path, &size);
                if (!golden)
                        fail_msg("%s is missing", path);
                if (size != msg.size || memcmp(golden, msg.data, size) != 0) {
                        FILE *f = fopen("/tmp/noticed-test-mail-golden.eml", "we");
                        assert_non_null(f);
                        (void) fwrite(msg.data, 1, msg.size, f);
                        (void) fclose(f);
                        fail_msg("the message differs from %s; see diff -u %s "
                                 "/tmp/noticed-test-mail-golden.eml",
                                 path, path);
                }
                free(golden);
                free(path);
                mail_message_done(&msg);
        }
        model_free(m);
}

/* ---- a strict reader ---- */

static void test_mail_render_passes_check_mail_py(void **state) {
        char dir[] = "/tmp/noticed-test-mail-dir-XXXXXX", *pattern;
        Model *m;
        (void) state;

        assert_non_null(mkdtemp(dir));
        m = fixture_load(fixture_twente);
        for (size_t i = 0; i < sizeof(whole_messages) / sizeof(whole_messages[0]); i++) {
                Reminder r =
                        fixture_reminder(m, whole_messages[i].recipient, whole_messages[i].kind,
                                         whole_messages[i].cycle, whole_messages[i].milestone,
                                         whole_messages[i].date, whole_messages[i].overdue);
                MailMessage msg = render(m, &r);
                char *path;
                FILE *f;

                assert_true(asprintf(&path, "%s/%zu.eml", dir, i) > 0);
                f = fopen(path, "we");
                assert_non_null(f);
                assert_int_equal(fwrite(msg.data, 1, msg.size, f), msg.size);
                assert_int_equal(fclose(f), 0);
                free(path);
                mail_message_done(&msg);
        }
        assert_true(asprintf(&pattern, "%s/*.eml", dir) > 0);
        fixture_check_mail(pattern);
        free(pattern);
        assert_true(asprintf(&pattern, "rm -rf '%s'", dir) > 0);
        (void) system(pattern);
        free(pattern);
        model_free(m);
}

/* ---- plain messages ---- */

/* A body that exercises quoted-printable: non-ASCII, '=', a long line, whitespace at a line's
 * end, and lines starting with "." and "From ". */
static const char *const plain_body =
        "Aan: Klankbordgroep Burgernet Twente\n"
        "\n"
        "De herinnering over het besluit over Deelname Burgernet, uiterlijk dinsdag 19 mei 2020, "
        "is niet afgeleverd aan Gemeente Súdwest-Fryslân (€ 0,08 per inwoner, besluit A=1). \n"
        ".\n"
        "From here on\n"
        "\ttab\n";

static MailMessage render_plain(const Model *m, const char *recipient, const char *identity,
                                const char *subject, const char *body, int64_t now) {
        MailMessage msg = {0};
        size_t i;

        assert_int_equal(model_find_recipient(m, recipient, &i), 0);
        assert_int_equal(
                mail_render_plain(m, &m->recipients[i], identity, subject, body, now, &msg), 0);
        assert_int_equal(strlen(msg.data), msg.size);
        return msg;
}

static void test_mail_render_plain_headers_are_rfc5322(void **state) {
        Model *m = fixture_load(fixture_twente);
        MailMessage nl = render_plain(m, "klankbordgroep", "burgernet-twente/escalation/x",
                                      "Niet afgeleverd: herinnering", plain_body, 1587106800);
        MailMessage en = render_plain(m, "swf", "test/swf/mail", "[noticed] Test message", "Hi.\n",
                                      1608192000);
        static const char *const expected[][2] = {
                {"From", "Burgernet Twente <burgernet@twente.example>"},
                {"To", "Klankbordgroep Burgernet Twente <klankbord@twente.example>"},
                {"Subject", "Niet afgeleverd: herinnering"},
                {"Date", "Fri, 17 Apr 2020 09:00:00 +0200"},
                {"MIME-Version", "1.0"},
                {"Content-Type", "text/plain; charset=utf-8"},
                {"Content-Transfer-Encoding", "quoted-printable"},
                {"Content-Language", "nl"},
                {"Auto-Submitted", "auto-generated"},
                {"X-Noticed-Reminder", "burgernet-twente/escalation/x"},
        };
        char *h, *decoded;
        (void) state;

        for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
                h = header(&nl, expected[i][0]);
                assert_string_equal(h, expected[i][1]);
                free(h);
        }
        h = header(&nl, "Message-ID");
        assert_string_equal(h, nl.message_id);
        free(h);
        assert_string_equal(nl.subject, "Niet afgeleverd: herinnering");
        assert_null(strstr(nl.data, "multipart"));
        assert_null(strstr(nl.data, "text/calendar"));
        assert_message_lines(&nl);

        h = header(&en, "Content-Language");
        assert_string_equal(h, "en");
        free(h);
        h = header(&en, "Date");
        assert_string_equal(h, "Thu, 17 Dec 2020 09:00:00 +0100");
        free(h);
        h = header(&en, "To");
        assert_true(strstr(h, " <info@swf.example>") != NULL);
        *strstr(h, " <info@swf.example>") = '\0';
        decoded = decode_encoded_words(h);
        assert_string_equal(decoded, "Gemeente Súdwest-Fryslân");
        free(decoded);
        free(h);
        mail_message_done(&nl);
        mail_message_done(&en);
        model_free(m);
}

static void test_mail_render_plain_subject_is_rfc2047_encoded_and_decodes(void **state) {
        Model *m = fixture_load(fixture_twente);
        const char *subject = "Niet afgeleverd: herinnering aan Gemeente Súdwest-Fryslân over "
                              "Deelname Burgernet, dinsdag 19 mei 2020";
        MailMessage msg = render_plain(m, "enschede", "id", subject, "x\n", 1587106800);
        char *raw = header(&msg, "Subject"), *decoded = decode_encoded_words(raw);
        (void) state;

        assert_string_equal(decoded, subject);
        assert_string_equal(msg.subject, subject);
        assert_message_lines(&msg);
        free(decoded);
        free(raw);
        mail_message_done(&msg);
        model_free(m);
}

static void test_mail_render_plain_body_round_trips_quoted_printable(void **state) {
        Model *m = fixture_load(fixture_twente);
        static const char *const bodies[] = {
                NULL, /* plain_body */
                "",
                "no line end at the end",
                "a line of exactly seventy-five characters, to see where the soft break goes!!",
        };
        (void) state;

        for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
                const char *body = bodies[i] ? bodies[i] : plain_body;
                MailMessage msg = render_plain(m, "swf", "id", "s", body, 1587106800);
                const char *raw = strstr(msg.data, "\r\n\r\n") + 4;
                char *decoded = decode_quoted_printable(raw);

                if (i == 0) {
                        assert_contains(raw, "A=3D1");          /* '=' escaped */
                        assert_contains(raw, "S=C3=BAdwest");   /* UTF-8 as octets */
                        assert_contains(raw, "A=3D1).=20\r\n"); /* a space at the end */
                        assert_contains(raw, "\r\n=2E\r\n=46rom here on\r\n");
                        assert_contains(raw, "=\r\n"); /* a soft line break */
                }
                assert_string_equal(decoded, body);
                assert_message_lines(&msg);
                free(decoded);
                mail_message_done(&msg);
        }
        model_free(m);
}

/* The same identity is the same message on every attempt, named as mail_render() names the
 * reminder of that identity. */
static void test_mail_render_plain_message_id_is_stable_per_identity(void **state) {
        Model *m = fixture_load(fixture_twente);
        const char *id = "burgernet-twente/escalation/1/2020-05-19/decision:30d:enschede:mail/"
                         "klankbordgroep";
        MailMessage first = render_plain(m, "klankbordgroep", id, "a", "b\n", 1587106800);
        MailMessage retry = render_plain(m, "klankbordgroep", id, "a", "b\n", 1587106800 + 3600);
        MailMessage other = render_plain(m, "klankbordgroep", "other", "a", "b\n", 1587106800);
        Reminder r = fixture_reminder(m, "enschede", MILESTONE_DECISION, 1, "2020-05-19",
                                      "2020-04-17", false);
        MailMessage reminder = render(m, &r), same = {0};
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned digest_len = 0;
        char key[33];
        (void) state;

        assert_string_equal(first.message_id, retry.message_id);
        assert_string_equal(first.key, retry.key);
        assert_string_not_equal(first.message_id, other.message_id);
        assert_int_equal(EVP_Digest(id, strlen(id), digest, &digest_len, EVP_sha256(), NULL), 1);
        for (size_t i = 0; i < 16; i++)
                (void) snprintf(key + 2 * i, 3, "%02x", digest[i]);
        assert_string_equal(first.key, key);
        assert_int_equal(strncmp(first.message_id, "<noticed.", 9), 0);
        assert_int_equal(strncmp(first.message_id + 9, key, 32), 0);
        assert_string_equal(first.message_id + 9 + 32, "@twente.example>");

        assert_int_equal(mail_render_plain(m, &m->recipients[r.recipient],
                                           "burgernet-twente/decision/1/2020-05-19/32d/enschede",
                                           "a", "b\n", r.at, &same),
                         0);
        assert_string_equal(same.message_id, reminder.message_id);
        assert_string_equal(same.key, reminder.key);
        mail_message_done(&first);
        mail_message_done(&retry);
        mail_message_done(&other);
        mail_message_done(&reminder);
        mail_message_done(&same);
        model_free(m);
}

static void test_mail_render_plain_identity_with_crlf_is_einval(void **state) {
        Model *m = fixture_load(fixture_twente);
        const Recipient *rc = &m->recipients[0];
        static const char *const identities[] = {
                "id\r\nBcc: victim@example.org",
                "id\nX: y",
                "id\rX: y",
                "tab\tid",
                "",
                "\x7f",
                "not UTF-8 \xc3",
        };
        char *long_id = malloc(1000);
        MailMessage msg = {0};
        (void) state;

        for (size_t i = 0; i < sizeof(identities) / sizeof(identities[0]); i++)
                assert_int_equal(mail_render_plain(m, rc, identities[i], "s", "b\n", 0, &msg),
                                 -EINVAL);
        /* A subject reaches the header too. */
        assert_int_equal(
                mail_render_plain(m, rc, "id", "s\r\nBcc: victim@example.org", "b\n", 0, &msg),
                -EINVAL);
        /* Longer than one header line can carry. */
        assert_non_null(long_id);
        memset(long_id, 'a', 999);
        long_id[999] = '\0';
        assert_int_equal(mail_render_plain(m, rc, long_id, "s", "b\n", 0, &msg), -EINVAL);
        long_id[998 - strlen("X-Noticed-Reminder: ")] = '\0';
        assert_int_equal(mail_render_plain(m, rc, long_id, "s", "b\n", 0, &msg), 0);
        assert_message_lines(&msg);
        mail_message_done(&msg);
        assert_null(msg.data);
        free(long_id);
        model_free(m);
}

static void test_mail_render_plain_without_mail_address_is_einval(void **state) {
        Model *m = fixture_load(fixture_twente);
        MailMessage msg = {0};
        size_t i;
        (void) state;

        assert_int_equal(model_find_recipient(m, "hookonly", &i), 0);
        assert_int_equal(mail_render_plain(m, &m->recipients[i], "id", "s", "b\n", 0, &msg),
                         -EINVAL);
        assert_null(msg.data);
        /* Nor without a transport that carries mail. */
        assert_int_equal(model_find_recipient(m, "enschede", &i), 0);
        m->has_mail_via = false;
        assert_int_equal(mail_render_plain(m, &m->recipients[i], "id", "s", "b\n", 0, &msg),
                         -EINVAL);
        assert_null(msg.data);
        model_free(m);
}

static void write_message(const MailMessage *msg, const char *dir, const char *name, size_t i) {
        char *path;
        FILE *f;

        assert_true(asprintf(&path, "%s/%s-%zu.eml", dir, name, i) > 0);
        f = fopen(path, "we");
        assert_non_null(f);
        assert_int_equal(fwrite(msg->data, 1, msg->size, f), msg->size);
        assert_int_equal(fclose(f), 0);
        free(path);
}

/* Escalations, test messages and a body that is hard to encode, to Dutch and English
 * recipients, as a strict reader sees them. */
static void test_mail_render_plain_passes_check_mail_py(void **state) {
        static const char *const recipients[] = {"klankbordgroep", "swf", "hof"};
        ReminderIdentity swf;
        const Escalation failed = {
                .failed = &swf,
                .reply = "550-5.1.1 The email account that you tried to reach does not exist.\r\n"
                         "550 5.1.1 Please try double-checking the recipient's email address "
                         "for typos or unnecessary spaces. \xe2\x82",
                .attempts = 7,
        };
        char dir[] = "/tmp/noticed-test-mail-dir-XXXXXX", *pattern;
        Model *m;
        (void) state;

        assert_int_equal(identity_make("burgernet-twente", "decision", NULL, 1, "2020-05-19", "30d",
                                       "swf", "mail", &swf),
                         0);
        assert_non_null(mkdtemp(dir));
        m = fixture_load(fixture_twente);
        for (size_t i = 0; i < sizeof(recipients) / sizeof(recipients[0]); i++) {
                size_t index;
                const Recipient *rc;
                ReminderIdentity escalation;
                char *subject, *body;
                MailMessage msg =
                        render_plain(m, recipients[i], "burgernet-twente/escalation/x",
                                     "Niet afgeleverd: Súdwest-Fryslân", plain_body, 1587106800);

                write_message(&msg, dir, "body", i);
                mail_message_done(&msg);

                assert_int_equal(model_find_recipient(m, recipients[i], &index), 0);
                rc = &m->recipients[index];
                assert_int_equal(identity_escalation(&swf, rc->id, "mail", &escalation), 0);
                assert_int_equal(message_escalation_text(m, &failed, rc->language, &subject, &body),
                                 0);
                msg = render_plain(m, recipients[i], escalation.id, subject, body, 1587106800);
                write_message(&msg, dir, "escalation", i);
                mail_message_done(&msg);
                identity_done(&escalation);
                free(subject);
                free(body);

                assert_int_equal(message_test_text(m, rc, "mail", 1587106800, &subject, &body), 0);
                msg = render_plain(m, recipients[i], "test/x", subject, body, 1587106800);
                write_message(&msg, dir, "test", i);
                mail_message_done(&msg);
                free(subject);
                free(body);
        }
        assert_true(asprintf(&pattern, "--plain %s/*.eml", dir) > 0);
        fixture_check_mail(pattern);
        free(pattern);
        assert_true(asprintf(&pattern, "rm -rf '%s'", dir) > 0);
        (void) system(pattern);
        free(pattern);
        model_free(m);
        identity_done(&swf);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mail_render_message_id_is_stable_and_differs_per_identity),
                cmocka_unit_test(test_mail_render_headers_are_rfc5322),
                cmocka_unit_test(test_mail_render_from_header_quotes_encodes_or_omits_the_name),
                cmocka_unit_test(test_mail_render_to_quotes_specials_and_encodes_non_ascii),
                cmocka_unit_test(test_mail_render_subject_is_rfc2047_encoded_and_decodes),
                cmocka_unit_test(test_mail_render_ascii_subject_stays_readable_and_folds),
                cmocka_unit_test(test_mail_render_lines_end_in_crlf_and_stay_short),
                cmocka_unit_test(test_mail_render_text_part_is_quoted_printable_of_the_text),
                cmocka_unit_test(test_mail_render_calendar_part_has_publish_vevent_and_valarm),
                cmocka_unit_test(test_mail_render_without_mail_address_is_einval),
                cmocka_unit_test(test_mail_render_subject_and_text_part_come_from_the_template),
                cmocka_unit_test(test_mail_render_matches_the_golden_messages),
                cmocka_unit_test(test_mail_render_passes_check_mail_py),
                cmocka_unit_test(test_mail_render_plain_headers_are_rfc5322),
                cmocka_unit_test(test_mail_render_plain_subject_is_rfc2047_encoded_and_decodes),
                cmocka_unit_test(test_mail_render_plain_body_round_trips_quoted_printable),
                cmocka_unit_test(test_mail_render_plain_message_id_is_stable_per_identity),
                cmocka_unit_test(test_mail_render_plain_identity_with_crlf_is_einval),
                cmocka_unit_test(test_mail_render_plain_without_mail_address_is_einval),
                cmocka_unit_test(test_mail_render_plain_passes_check_mail_py),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
