/* Webhooks: the JSON a receiver parses and the signature it checks.
 *
 * The model comes from config text through config_load() (the Twente case of fixture.h), the
 * words from text_render() and the identity from render_reminder_id(), as the daemon makes them.
 * Every body is parsed back with jansson and checked key by key, in order; the raw bytes are
 * checked where a receiver would see a difference (compactness, UTF-8 left unescaped).  The
 * signatures are vectors computed with the openssl command line, each command beside it. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fixture.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noticed/render.h"
#include "noticed/text.h"
#include "noticed/webhook.h"

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

static const char *const reminder_keys[] = {
        "type",      "reminder_id", "commitment",     "title",    "kind", "cycle",   "milestone",
        "days_left", "recipient",   "recipient_name", "language", "cost", "subject", "text",
};

/* The body parsed back; it must be compact (what jansson writes compactly from the parse,
 * keys in the parsed order, is the body itself), without a trailing newline, and without
 * duplicate keys. */
static json_t *parse(const char *body) {
        json_error_t error;
        json_t *o = json_loads(body, JSON_REJECT_DUPLICATES, &error);
        char *again;

        if (!o)
                fail_msg("not JSON (%s): %s", error.text, body);
        again = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        assert_non_null(again);
        assert_string_equal(again, body);
        free(again);
        return o;
}

static void assert_keys(json_t *o, const char *const *keys, size_t n) {
        size_t i = 0;

        assert_true(json_is_object(o));
        for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it), i++) {
                if (i >= n)
                        fail_msg("unexpected key \"%s\"", json_object_iter_key(it));
                assert_string_equal(json_object_iter_key(it), keys[i]);
        }
        assert_int_equal(i, n);
}

static void assert_json_string(json_t *o, const char *key, const char *expected) {
        json_t *v = json_object_get(o, key);

        if (!json_is_string(v))
                fail_msg("\"%s\" is not a string", key);
        assert_string_equal(json_string_value(v), expected);
}

static void assert_json_integer(json_t *o, const char *key, json_int_t expected) {
        json_t *v = json_object_get(o, key);

        if (!json_is_integer(v))
                fail_msg("\"%s\" is not an integer", key);
        assert_int_equal(json_integer_value(v), expected);
}

/* A reminder's body as the daemon makes it, the subject and text text_render() gave. */
typedef struct Made {
        Reminder r;
        char *id, *subject, *text, *body;
        json_t *json;
} Made;

static Made make(const Model *m, Reminder r, int64_t now) {
        Made made = {.r = r};

        made.id = render_reminder_id(m, &r);
        assert_non_null(made.id);
        made.text = fixture_text_body(m, &r, &made.subject);
        assert_int_equal(webhook_reminder_body(m, &r, made.id, now, WEBHOOK_FORMAT_JSON,
                                               made.subject, made.text, &made.body),
                         0);
        made.json = parse(made.body);
        assert_keys(made.json, reminder_keys, ELEMENTSOF(reminder_keys));
        assert_json_string(made.json, "reminder_id", made.id);
        assert_json_string(made.json, "subject", made.subject);
        assert_json_string(made.json, "text", made.text);
        return made;
}

static void made_done(Made *made) {
        json_decref(made->json);
        free(made->id);
        free(made->subject);
        free(made->text);
        free(made->body);
}

static void assert_cost(json_t *o, const char *currency, const char *min, const char *max) {
        static const char *const keys[] = {"currency", "min", "max"};
        json_t *cost = json_object_get(o, "cost");

        assert_keys(cost, keys, ELEMENTSOF(keys));
        assert_json_string(cost, "currency", currency);
        assert_json_string(cost, "min", min);
        assert_json_string(cost, "max", max);
}

/* ---- "json": reminders ---- */

static void test_webhook_reminder_body_dutch_with_cost(void **state) {
        Model *m = fixture_load(fixture_twente);
        Reminder r = fixture_reminder(m, "enschede", MILESTONE_DECISION, 1, "2020-05-19",
                                      "2020-04-17", false);
        Made made = make(m, r, r.at);
        (void) state;

        assert_json_string(made.json, "type", "reminder");
        assert_json_string(made.json, "reminder_id",
                           "burgernet-twente/decision/1/2020-05-19/32d/enschede");
        assert_json_string(made.json, "commitment", "burgernet-twente");
        assert_json_string(made.json, "title", "Deelname Burgernet");
        assert_json_string(made.json, "kind", "decision");
        assert_json_integer(made.json, "cycle", 1);
        assert_json_string(made.json, "milestone", "2020-05-19");
        assert_json_integer(made.json, "days_left", 32);
        assert_json_string(made.json, "recipient", "enschede");
        assert_json_string(made.json, "recipient_name", "Gemeente Enschede");
        assert_json_string(made.json, "language", "nl");
        /* 158261 inhabitants at 0.08 and 0.10 a year, from integer cents: 12660.88, 15826.10 */
        assert_cost(made.json, "EUR", "12660.88", "15826.10");
        assert_contains(made.body, "\"cost\":{\"currency\":\"EUR\",\"min\":\"12660.88\","
                                   "\"max\":\"15826.10\"}");
        assert_string_equal(made.subject, "Herinnering: besluit over Deelname Burgernet, "
                                          "dinsdag 19 mei 2020 (nog 32 dagen)");
        /* The raw bytes: the documented order, and the last one the closing brace. */
        assert_true(strstr(made.body, "{\"type\":\"reminder\",\"reminder_id\":\"") == made.body);
        assert_int_equal(made.body[strlen(made.body) - 1], '}');
        made_done(&made);
        model_free(m);
}

static void test_webhook_reminder_body_english_recipient(void **state) {
        Model *m = fixture_load(fixture_twente);
        Reminder r =
                fixture_reminder(m, "swf", MILESTONE_NOTICE, 1, "2020-06-30", "2020-06-23", false);
        Made made = make(m, r, r.at);
        (void) state;

        assert_json_string(made.json, "type", "reminder");
        assert_json_string(made.json, "reminder_id", "burgernet-twente/notice/1/2020-06-30/7d/swf");
        assert_json_string(made.json, "kind", "notice");
        assert_json_integer(made.json, "days_left", 7);
        assert_json_string(made.json, "recipient", "swf");
        assert_json_string(made.json, "recipient_name", "Gemeente Súdwest-Fryslân");
        assert_json_string(made.json, "language", "en");
        assert_cost(made.json, "EUR", "7200.00", "9000.00");
        assert_string_equal(made.subject, "Reminder: notice of termination of Deelname Burgernet, "
                                          "Tuesday 30 June 2020 (7 days left)");
        assert_contains(made.text, "Your cost:      €7,200.00 to €9,000.00 a year\n");
        made_done(&made);
        model_free(m);
}

static void test_webhook_reminder_body_without_population_has_no_cost(void **state) {
        Model *m = fixture_load(fixture_twente);
        Reminder r = fixture_reminder(m, "hof", MILESTONE_DECISION, 1, "2020-05-19", "2020-04-17",
                                      false);
        Made made = make(m, r, r.at);
        (void) state;

        assert_json_string(made.json, "recipient", "hof");
        assert_json_string(made.json, "recipient_name", "Gemeente Hof van Twente (OV)");
        assert_true(json_is_null(json_object_get(made.json, "cost")));
        assert_contains(made.body, "\"cost\":null,");
        made_done(&made);
        model_free(m);
}

static void test_webhook_reminder_body_overdue(void **state) {
        Model *m = fixture_load(fixture_twente);
        Reminder r = fixture_reminder(m, "enschede", MILESTONE_DECISION, 1, "2020-05-19",
                                      "2020-05-20", true);
        Made made = make(m, r, r.at);
        (void) state;

        assert_json_string(made.json, "type", "overdue");
        assert_json_string(made.json, "reminder_id",
                           "burgernet-twente/decision/1/2020-05-19/overdue/enschede");
        assert_json_string(made.json, "kind", "decision");
        assert_json_string(made.json, "milestone", "2020-05-19");
        assert_json_integer(made.json, "days_left", -1);
        assert_contains(made.subject, "Termijn verstreken: ");
        made_done(&made);
        model_free(m);
}

static void test_webhook_reminder_body_one_off_deadline(void **state) {
        Model *m = fixture_load(fixture_twente);
        Reminder r = fixture_reminder(m, "swf", MILESTONE_DEADLINE, 0, "2017-11-30", "2017-11-16",
                                      false);
        Made made = make(m, r, r.at);
        (void) state;

        assert_json_string(made.json, "kind", "deadline:standpunt");
        assert_json_string(made.json, "reminder_id",
                           "burgernet-twente/deadline:standpunt/0/2017-11-30/14d/swf");
        assert_json_string(made.json, "title", "Standpunt doorgeven vóór 1 december");
        assert_json_integer(made.json, "cycle", 0);
        assert_json_string(made.json, "milestone", "2017-11-30");
        assert_json_integer(made.json, "days_left", 14);
        made_done(&made);
        model_free(m);
}

static void test_webhook_reminder_body_counts_days_from_the_local_date_of_now(void **state) {
        Model *m = fixture_load(fixture_twente);
        Reminder r = fixture_reminder(m, "enschede", MILESTONE_DECISION, 1, "2020-05-19",
                                      "2020-04-17", false);
        /* 2020-04-17 23:59:59 and 2020-04-18 00:00:00 in Amsterdam (CEST, +02:00): the second
         * is still the 17th in UTC. */
        Made before = make(m, r, 1587160799), after = make(m, r, 1587160800);
        Made retried = make(m, r, r.at + 3 * 86400);
        (void) state;

        assert_json_integer(before.json, "days_left", 32);
        assert_json_integer(after.json, "days_left", 31);
        /* A retry three days later: the identity stays, the count moves. */
        assert_json_integer(retried.json, "days_left", 29);
        assert_json_string(retried.json, "reminder_id",
                           "burgernet-twente/decision/1/2020-05-19/32d/enschede");
        made_done(&before);
        made_done(&after);
        made_done(&retried);
        model_free(m);
}

static void test_webhook_reminder_body_keeps_non_ascii_text(void **state) {
        Model *m = fixture_load(fixture_twente);
        Reminder r = fixture_reminder(m, "enschede", MILESTONE_DECISION, 1, "2020-05-19",
                                      "2020-04-17", false);
        Made made = make(m, r, r.at);
        const char *subject = "Herinnering: “€ 12.660,88” — Súdwest-Fryslân ✓ \"quoted\"";
        const char *text = "Uw bijdrage:\t€ 12.660,88\nvóór 1 december\n";
        char *body;
        json_t *o;
        (void) state;

        /* UTF-8 goes out as it is, not as \u escapes. */
        assert_contains(made.body, "€ 12.660,88 tot € 15.826,10 per jaar");
        assert_null(strstr(made.body, "\\u"));
        made_done(&made);

        assert_int_equal(
                webhook_reminder_body(m, &r, "id", r.at, WEBHOOK_FORMAT_JSON, subject, text, &body),
                0);
        o = parse(body);
        assert_json_string(o, "subject", subject);
        assert_json_string(o, "text", text);
        assert_contains(body, "“€ 12.660,88” — Súdwest-Fryslân ✓ \\\"quoted\\\"");
        assert_contains(body, "\"text\":\"Uw bijdrage:\\t€ 12.660,88\\nvóór 1 december\\n\"}");
        json_decref(o);
        free(body);
        model_free(m);
}

static void test_webhook_reminder_body_refuses_invalid_utf8(void **state) {
        Model *m = fixture_load(fixture_twente);
        Reminder r = fixture_reminder(m, "enschede", MILESTONE_DECISION, 1, "2020-05-19",
                                      "2020-04-17", false);
        char *body = NULL;
        (void) state;

        assert_int_equal(webhook_reminder_body(m, &r, "id", r.at, WEBHOOK_FORMAT_JSON, "S",
                                               "caf\xe9", &body),
                         -EINVAL);
        assert_int_equal(
                webhook_reminder_body(m, &r, "id", r.at, WEBHOOK_FORMAT_SLACK, "\xff", "T", &body),
                -EINVAL);
        assert_null(body);
        model_free(m);
}

/* ---- "slack" ---- */

static void test_webhook_reminder_body_slack(void **state) {
        Model *m = fixture_load(fixture_twente);
        Reminder r =
                fixture_reminder(m, "swf", MILESTONE_NOTICE, 1, "2020-06-30", "2020-06-23", false);
        static const char *const keys[] = {"text"};
        char *subject, *text = fixture_text_body(m, &r, &subject), *body, *expected;
        json_t *o;
        (void) state;

        assert_int_equal(
                webhook_reminder_body(m, &r, "id", r.at, WEBHOOK_FORMAT_SLACK, "S", "T", &body), 0);
        assert_string_equal(body, "{\"text\":\"*S*\\n\\nT\"}");
        free(body);

        assert_int_equal(webhook_reminder_body(m, &r, "id", r.at, WEBHOOK_FORMAT_SLACK, subject,
                                               text, &body),
                         0);
        o = parse(body);
        assert_keys(o, keys, ELEMENTSOF(keys));
        assert_true(asprintf(&expected, "*%s*\n\n%s", subject, text) > 0);
        assert_json_string(o, "text", expected);
        assert_contains(body, "Súdwest-Fryslân");
        free(expected);
        json_decref(o);
        free(body);
        free(subject);
        free(text);
        model_free(m);
}

/* ---- plain messages ---- */

static void test_webhook_plain_body_json(void **state) {
        static const char *const keys[] = {"type", "id", "subject", "text"};
        char *body;
        json_t *o;
        (void) state;

        assert_int_equal(webhook_plain_body(WEBHOOK_FORMAT_JSON, "escalation",
                                            "burgernet-twente/escalation/1/2020-05-19/"
                                            "decision:30d:enschede:mail/klankbordgroep",
                                            "Niet afgeleverd: besluit",
                                            "Eerste regel\nTweede “regel”\n", &body),
                         0);
        assert_string_equal(body, "{\"type\":\"escalation\",\"id\":\"burgernet-twente/escalation/"
                                  "1/2020-05-19/decision:30d:enschede:mail/klankbordgroep\","
                                  "\"subject\":\"Niet afgeleverd: besluit\","
                                  "\"text\":\"Eerste regel\\nTweede “regel”\\n\"}");
        o = parse(body);
        assert_keys(o, keys, ELEMENTSOF(keys));
        json_decref(o);
        free(body);
}

static void test_webhook_plain_body_slack(void **state) {
        char *body;
        (void) state;

        assert_int_equal(webhook_plain_body(WEBHOOK_FORMAT_SLACK, "test", "id",
                                            "[noticed] Testbericht", "Niets te doen.\n", &body),
                         0);
        assert_string_equal(body, "{\"text\":\"*[noticed] Testbericht*\\n\\nNiets te doen.\\n\"}");
        free(body);
}

static void test_webhook_plain_body_refuses_missing_or_invalid_strings(void **state) {
        char *body = NULL;
        (void) state;

        assert_int_equal(webhook_plain_body(WEBHOOK_FORMAT_JSON, "test", NULL, "S", "T", &body),
                         -EINVAL);
        assert_int_equal(webhook_plain_body(WEBHOOK_FORMAT_JSON, "test", "id", "S", "\xc3(", &body),
                         -EINVAL);
        assert_int_equal(webhook_plain_body(WEBHOOK_FORMAT_SLACK, "test", "id", NULL, "T", &body),
                         -EINVAL);
        assert_null(body);
}

/* ---- signatures ---- */

#define VECTOR_BODY "{\"type\":\"test\",\"id\":\"x\",\"subject\":\"S\",\"text\":\"T\"}"

static void test_webhook_sign_known_vector(void **state) {
        char sig[WEBHOOK_SIGNATURE_MAX];
        (void) state;

        /* printf '%s' '1587366000.{"type":"test","id":"x","subject":"S","text":"T"}' |
         *         openssl dgst -sha256 -hmac 'whsec-test-key' */
        assert_int_equal(webhook_sign("whsec-test-key", 14, 1587366000, VECTOR_BODY,
                                      strlen(VECTOR_BODY), sig),
                         0);
        assert_string_equal(
                sig, "sha256=55bbf5a2d74aef6847b49dc53564df17a6b34b87bba710e0270d12500fcd2d71");
        assert_int_equal(strlen(sig), WEBHOOK_SIGNATURE_MAX - 1);

        /* The same with a key of bytes 00 ff 00 "secret" (a webhook key may hold NULs):
         * printf '%s' '1587366000.{"type":"test","id":"x","subject":"S","text":"T"}' |
         *         openssl dgst -sha256 -mac HMAC -macopt hexkey:00ff00736563726574 */
        assert_int_equal(webhook_sign("\0\xff\0secret", 9, 1587366000, VECTOR_BODY,
                                      strlen(VECTOR_BODY), sig),
                         0);
        assert_string_equal(
                sig, "sha256=34debc76dd9c34d8b27bc4de9079cc2b67433622f0785d064108da122ecf7235");

        /* An empty body: printf '%s' '0.' | openssl dgst -sha256 -hmac 'k' */
        assert_int_equal(webhook_sign("k", 1, 0, "", 0, sig), 0);
        assert_string_equal(
                sig, "sha256=6b4a4b8b3c40f1e8f53a3d36682e5f99f7ad2ac1df1c93dfe336f329167641e7");

        /* An empty key: ... | openssl dgst -sha256 -hmac '' */
        assert_int_equal(webhook_sign("", 0, 1587366000, VECTOR_BODY, strlen(VECTOR_BODY), sig), 0);
        assert_string_equal(
                sig, "sha256=c8f122db29408235f881825b8c99cd07d33248bc445e794f9be1b2be386c05a0");
}

static void test_webhook_sign_tampered_body_or_timestamp_differs(void **state) {
        static const char tampered[] =
                "{\"type\":\"test\",\"id\":\"x\",\"subject\":\"S\",\"text\":\"t\"}";
        char sig[WEBHOOK_SIGNATURE_MAX], other[WEBHOOK_SIGNATURE_MAX];
        (void) state;

        assert_int_equal(webhook_sign("whsec-test-key", 14, 1587366000, VECTOR_BODY,
                                      strlen(VECTOR_BODY), sig),
                         0);
        /* One letter changed: ... '..."text":"t"}' | openssl dgst -sha256 -hmac 'whsec-test-key' */
        assert_int_equal(
                webhook_sign("whsec-test-key", 14, 1587366000, tampered, strlen(tampered), other),
                0);
        assert_string_equal(
                other, "sha256=f156e145708a5369d0070ddfbc631de0b597545a9a6b9a18f53964b3e62092a0");
        assert_string_not_equal(sig, other);
        /* The same body replayed under a new timestamp, or signed with another key. */
        assert_int_equal(webhook_sign("whsec-test-key", 14, 1587366001, VECTOR_BODY,
                                      strlen(VECTOR_BODY), other),
                         0);
        assert_string_not_equal(sig, other);
        assert_int_equal(webhook_sign("whsec-test-kez", 14, 1587366000, VECTOR_BODY,
                                      strlen(VECTOR_BODY), other),
                         0);
        assert_string_not_equal(sig, other);
        /* Only body_size bytes are signed. */
        assert_int_equal(webhook_sign("whsec-test-key", 14, 1587366000, VECTOR_BODY "trailing",
                                      strlen(VECTOR_BODY), other),
                         0);
        assert_string_equal(sig, other);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_webhook_reminder_body_dutch_with_cost),
                cmocka_unit_test(test_webhook_reminder_body_english_recipient),
                cmocka_unit_test(test_webhook_reminder_body_without_population_has_no_cost),
                cmocka_unit_test(test_webhook_reminder_body_overdue),
                cmocka_unit_test(test_webhook_reminder_body_one_off_deadline),
                cmocka_unit_test(test_webhook_reminder_body_counts_days_from_the_local_date_of_now),
                cmocka_unit_test(test_webhook_reminder_body_keeps_non_ascii_text),
                cmocka_unit_test(test_webhook_reminder_body_refuses_invalid_utf8),
                cmocka_unit_test(test_webhook_reminder_body_slack),
                cmocka_unit_test(test_webhook_plain_body_json),
                cmocka_unit_test(test_webhook_plain_body_slack),
                cmocka_unit_test(test_webhook_plain_body_refuses_missing_or_invalid_strings),
                cmocka_unit_test(test_webhook_sign_known_vector),
                cmocka_unit_test(test_webhook_sign_tampered_body_or_timestamp_differs),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
