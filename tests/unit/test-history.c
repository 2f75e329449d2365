/* History: the audit trail as history_print() shows it, read from a real ledger file.
 *
 * The ledger is filled through its own API as the daemon and decide fill it: a reminder sent
 * with a long SMTP reply, one failed with a multi-line reason, one skipped, one still queued, a
 * one-off deadline's reminder, and two decisions, one with a long note.  Days of 2020-04 and
 * 2020-05 so that --since has something on both sides. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "noticed/history.h"
#include "noticed/identity.h"
#include "noticed/ledger.h"
#include "noticed/tz.h"
#include "noticed/words.h"

#define DAY_USEC      (UINT64_C(86400) * USEC_PER_SEC)
#define APRIL_17_USEC (UINT64_C(1587106800) * USEC_PER_SEC) /* 2020-04-17 09:00 CEST */
#define MAY_1_USEC    (UINT64_C(1588287600) * USEC_PER_SEC) /* 2020-05-01 01:00 CEST */
#define LONG_REPLY                                                                                 \
        "250 2.0.0 Ok: queued as 4F9A2B1C3D, thank you for using the mail relay of the "           \
        "municipality, your message will be delivered to all recipients within the hour, "         \
        "and should it not be, the postmaster of the municipality will be told of it and will "    \
        "write to you about it in the course of the next working day, "                            \
        "END-OF-REPLY"

typedef struct Fixture {
        char dir[PATH_MAX];
        char path[PATH_MAX + 32];
        Ledger *ledger;
        Tz *tz;
} Fixture;

static void add(Ledger *l, const char *kind, const char *deadline, const char *recipient, usec_t at,
                LedgerState state, const char *reply) {
        ReminderIdentity x;
        LedgerReminder r = {.identity = &x, .due_usec = at};
        LedgerMessage m = {.transport = "relay",
                           .payload = "x",
                           .payload_size = 1,
                           .deadline_usec = at + 30 * DAY_USEC};

        assert_int_equal(identity_make("burgernet-twente", kind, deadline, 1,
                                       deadline ? "2017-11-30" : "2020-05-19", "30d", recipient,
                                       "mail", &x),
                         0);
        if (state == LEDGER_SKIPPED)
                assert_int_equal(ledger_mark_skipped(l, &r, at, reply), 0);
        else {
                assert_int_equal(ledger_enqueue(l, &r, &m, at), 0);
                if (state != LEDGER_QUEUED)
                        assert_int_equal(ledger_queued_begin(l, &x, at), 0);
                if (state == LEDGER_SENT)
                        assert_int_equal(ledger_mark_sent(l, &x, at, reply, "<id@x>"), 0);
                if (state == LEDGER_FAILED)
                        assert_int_equal(ledger_mark_failed(l, &x, at, reply), 0);
        }
        identity_done(&x);
}

static int setup(void **state) {
        const char *tmp = getenv("TMPDIR");
        Fixture *f = calloc(1, sizeof(*f));

        if (!f)
                return -1;
        (void) snprintf(f->dir, sizeof(f->dir), "%s/test-history.XXXXXX",
                        tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(f->dir))
                return -1;
        (void) snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, LEDGER_FILE);
        *state = f;
        if (ledger_open(f->path, &f->ledger) < 0 || tz_load("Europe/Amsterdam", &f->tz) < 0)
                return -1;
        add(f->ledger, "decision", NULL, "enschede", APRIL_17_USEC, LEDGER_SENT, LONG_REPLY);
        add(f->ledger, "decision", NULL, "hengelo", APRIL_17_USEC + 1, LEDGER_FAILED,
            "550 5.1.1 <griffie@hengelo.example>:\r\n Recipient address rejected");
        add(f->ledger, "decision", NULL, "almelo", APRIL_17_USEC + 2, LEDGER_SKIPPED,
            "missed while noticed was not running");
        add(f->ledger, "deadline", "standpunt", "borne", APRIL_17_USEC + 3, LEDGER_SENT, NULL);
        add(f->ledger, "decision", NULL, "losser", MAY_1_USEC + DAY_USEC, LEDGER_QUEUED, NULL);
        assert_int_equal(ledger_record_decision(f->ledger, "burgernet-twente", 1, "almelo",
                                                DECISION_CONTINUE,
                                                "B&W 12 mei, besluit 2020/123456 van het college "
                                                "van burgemeester en wethouders, na advies van de "
                                                "klankbordgroep en de gemeenteraad",
                                                "alice", MAY_1_USEC),
                         0);
        assert_int_equal(ledger_record_decision(f->ledger, "other", 1, "enschede",
                                                DECISION_TERMINATE, NULL, "bob",
                                                MAY_1_USEC + 2 * DAY_USEC),
                         0);
        return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void) st, (void) type, (void) ftw;
        return remove(path);
}

static int teardown(void **state) {
        Fixture *f = *state;
        int r;

        ledger_close(f->ledger);
        tz_free(f->tz);
        r = nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(f);
        return r;
}

/* history_print() into a string. */
static char *print(const Fixture *f, Language language, const HistoryFilter *filter, bool json) {
        char *s = NULL;
        size_t size = 0;
        FILE *out = open_memstream(&s, &size);

        assert_non_null(out);
        assert_int_equal(history_print(out, f->ledger, f->tz, words_of(language), filter, json), 0);
        assert_int_equal(fclose(out), 0);
        return s;
}

static size_t count(const char *haystack, const char *needle) {
        size_t n = 0;

        for (const char *p = haystack; (p = strstr(p, needle)); p++)
                n++;
        return n;
}

static void test_history_print_fits_100_columns(void **state) {
        const Fixture *f = *state;
        HistoryFilter all = {.state = HISTORY_STATE_ANY};
        char *s = print(f, LANGUAGE_NL, &all, false), *line, *save = NULL;

        for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                size_t columns = 0;

                for (const char *p = line; *p; p++)
                        if (((unsigned char) *p & 0xc0) != 0x80)
                                columns++;
                if (columns > HISTORY_COLUMNS)
                        fail_msg("%zu columns: %s", columns, line);
                if (strchr(line, '\r'))
                        fail_msg("a CR in: %s", line);
                if (line[strlen(line) - 1] == ' ')
                        fail_msg("trailing spaces: \"%s\"", line);
        }
        free(s);
}

static void test_history_print_wraps_and_shortens_long_details(void **state) {
        const Fixture *f = *state;
        HistoryFilter all = {.state = HISTORY_STATE_ANY};
        char *s = print(f, LANGUAGE_EN, &all, false), *json = print(f, LANGUAGE_EN, &all, true);

        assert_non_null(strstr(s, "250 2.0.0 Ok: queued as 4F9A2B1C3D"));
        assert_null(strstr(s, "END-OF-REPLY")); /* past three lines: shortened */
        assert_non_null(strstr(s, "…"));
        assert_non_null(strstr(s, "<griffie@hengelo.example>: Recipient")); /* CR LF: one space */
        assert_non_null(strstr(json, "END-OF-REPLY")); /* --json keeps everything */
        free(s);
        free(json);
}

static void test_history_print_names_the_deadline(void **state) {
        const Fixture *f = *state;
        HistoryFilter all = {.state = HISTORY_STATE_ANY};
        char *s = print(f, LANGUAGE_EN, &all, false), *json = print(f, LANGUAGE_EN, &all, true);

        assert_non_null(strstr(s, "deadline:standpunt"));
        assert_non_null(strstr(json, "\"kind\":\"deadline\",\"deadline\":\"standpunt\""));
        free(s);
        free(json);
}

static void test_history_print_speaks_the_language(void **state) {
        const Fixture *f = *state;
        HistoryFilter all = {.state = HISTORY_STATE_ANY};
        char *nl = print(f, LANGUAGE_NL, &all, false), *en = print(f, LANGUAGE_EN, &all, false);

        assert_true(strncmp(nl, "WANNEER ", 8) == 0);
        assert_true(strncmp(en, "WHEN ", 5) == 0);
        assert_non_null(strstr(nl, "verzonden"));
        assert_non_null(strstr(nl, "mislukt"));
        assert_non_null(strstr(nl, "overgeslagen"));
        assert_non_null(strstr(nl, "in wachtrij"));
        assert_non_null(strstr(nl, "besloten"));
        assert_non_null(strstr(nl, "continue door alice"));
        assert_non_null(strstr(en, "skipped"));
        assert_non_null(strstr(en, "continue by alice"));
        free(nl);
        free(en);
}

static void test_history_print_filters_by_state(void **state) {
        const Fixture *f = *state;
        HistoryFilter skipped = {.state = LEDGER_SKIPPED},
                      decided = {.state = HISTORY_STATE_DECIDED};
        char *s = print(f, LANGUAGE_EN, &skipped, true), *d = print(f, LANGUAGE_EN, &decided, true);

        assert_int_equal(count(s, "\"type\""), 1);
        assert_non_null(strstr(s, "\"recipient\":\"almelo\""));
        assert_int_equal(count(d, "\"type\":\"decision\""), 2);
        assert_int_equal(count(d, "\"type\":\"reminder\""), 0);
        free(s);
        free(d);
}

static void test_history_print_filters_by_recipient(void **state) {
        const Fixture *f = *state;
        HistoryFilter almelo = {.recipient = "almelo", .state = HISTORY_STATE_ANY};
        char *s = print(f, LANGUAGE_EN, &almelo, true);

        /* its skipped reminder and its decision; nobody else's */
        assert_int_equal(count(s, "\"type\""), 2);
        assert_int_equal(count(s, "\"recipient\":\"almelo\""), 1);
        assert_int_equal(count(s, "\"participant\":\"almelo\""), 1);
        free(s);
}

static void test_history_print_filters_by_since_and_commitment(void **state) {
        const Fixture *f = *state;
        HistoryFilter since = {.state = HISTORY_STATE_ANY, .since_usec = MAY_1_USEC};
        HistoryFilter both = {.state = HISTORY_STATE_ANY,
                              .since_usec = MAY_1_USEC,
                              .commitment = "burgernet-twente"};
        char *s = print(f, LANGUAGE_EN, &since, true), *b = print(f, LANGUAGE_EN, &both, true);
        char *table = print(f, LANGUAGE_EN, &both, false);

        /* the queued reminder and the two decisions are on or after 2020-05-01 01:00 */
        assert_int_equal(count(s, "\"type\""), 3);
        assert_int_equal(count(b, "\"type\""), 2);
        assert_null(strstr(b, "\"other\""));
        assert_non_null(strstr(table, "1 reminder row, 1 decision; times in Europe/Amsterdam"));
        free(s);
        free(b);
        free(table);
}

static void test_history_state_from_string_takes_the_ledger_states_and_decided(void **state) {
        int s;
        (void) state;

        assert_int_equal(history_state_from_string("sent", &s), 0);
        assert_int_equal(s, LEDGER_SENT);
        assert_int_equal(history_state_from_string("queued", &s), 0);
        assert_int_equal(s, LEDGER_QUEUED);
        assert_int_equal(history_state_from_string("pending", &s), 0);
        assert_int_equal(s, LEDGER_PENDING);
        assert_int_equal(history_state_from_string("decided", &s), 0);
        assert_int_equal(s, HISTORY_STATE_DECIDED);
        assert_int_equal(history_state_from_string("verzonden", &s), -EINVAL);
        assert_int_equal(history_state_from_string("", &s), -EINVAL);
}

/* history --json is written by hand (output.h): what jansson makes of it, parsed and dumped
 * again element by element, is the same bytes; and the keys come in the order they always had,
 * an absent note left out. */
static void test_history_print_json_is_what_jansson_writes(void **state) {
        const Fixture *f = *state;
        HistoryFilter all = {.state = HISTORY_STATE_ANY};
        char *json = print(f, LANGUAGE_EN, &all, true), *again = NULL;
        size_t size = 0, i;
        FILE *out = open_memstream(&again, &size);
        json_error_t error;
        json_t *rows = json_loads(json, 0, &error), *row;

        if (!rows)
                fail_msg("not JSON at %d:%d: %s\n%s", error.line, error.column, error.text, json);
        assert_non_null(out);
        json_array_foreach(rows, i, row) {
                char *dump = json_dumps(row, JSON_COMPACT);
                assert_non_null(dump);
                fprintf(out, "%s%s", i == 0 ? "[\n" : ",\n", dump);
                free(dump);
        }
        fputs(json_array_size(rows) ? "\n]\n" : "[]\n", out);
        assert_int_equal(fclose(out), 0);
        assert_string_equal(json, again);
        assert_int_equal(json_array_size(rows), 7);
        assert_non_null(strstr(json, "{\"type\":\"decision\",\"at\":\"2020-05-01T01:00:00+02:00\","
                                     "\"commitment\":\"burgernet-twente\",\"cycle\":1,"
                                     "\"participant\":\"almelo\",\"decision\":\"continue\","
                                     "\"note\":\"B&W 12 mei,"));
        assert_non_null(strstr(json, "\"decision\":\"terminate\",\"user\":\"bob\"}"));
        assert_non_null(strstr(json, "\"reply\":\"550 5.1.1 <griffie@hengelo.example>:\\r\\n "
                                     "Recipient address rejected\""));
        assert_non_null(strstr(json,
                               "\"at\":\"2020-04-17T09:00:00+02:00\",\"state\":\"sent\","
                               "\"id\":\"burgernet-twente/decision/1/2020-05-19/30d/enschede\""));
        json_decref(rows);
        free(again);
        free(json);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_history_print_fits_100_columns),
                cmocka_unit_test(test_history_print_wraps_and_shortens_long_details),
                cmocka_unit_test(test_history_print_names_the_deadline),
                cmocka_unit_test(test_history_print_speaks_the_language),
                cmocka_unit_test(test_history_print_filters_by_state),
                cmocka_unit_test(test_history_print_filters_by_recipient),
                cmocka_unit_test(test_history_print_filters_by_since_and_commitment),
                cmocka_unit_test(
                        test_history_state_from_string_takes_the_ledger_states_and_decided),
                cmocka_unit_test(test_history_print_json_is_what_jansson_writes),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
