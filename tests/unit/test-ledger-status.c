/* The ledger's counts for STATUS= (ledger-status.c), on a real SQLite file.
 *
 * Written from ledger.h: rows are made through the ledger's own calls (queued, then sent or
 * failed; skipped), at instants around the day the counts are asked for, so that the edges of
 * [day_start, day_end) and the outbox's waiting and in-flight messages are each seen. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "noticed/identity.h"
#include "noticed/ledger.h"

/* 2020-04-20 00:00 and 2020-04-21 00:00 CEST: one local day. */
#define DAY_START_USEC INT64_C(1587333600000000)
#define DAY_END_USEC   INT64_C(1587420000000000)

typedef struct Fixture {
        char dir[PATH_MAX];
        char path[PATH_MAX + 32];
        Ledger *ledger;
        ReminderIdentity identities[8];
        size_t n;
} Fixture;

static int setup(void **state) {
        const char *tmp = getenv("TMPDIR");
        Fixture *f = calloc(1, sizeof(*f));

        if (!f)
                return -1;
        (void) snprintf(f->dir, sizeof(f->dir), "%s/test-ledger-status.XXXXXX",
                        tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(f->dir)) {
                free(f);
                return -1;
        }
        (void) snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, LEDGER_FILE);
        if (ledger_open(f->path, &f->ledger) < 0)
                return -1;
        *state = f;
        return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void) st, (void) type, (void) ftw;
        return remove(path);
}

static int teardown(void **state) {
        Fixture *f = *state;
        int r;

        (void) ledger_close(f->ledger);
        for (size_t i = 0; i < f->n; i++)
                identity_done(&f->identities[i]);
        r = nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(f);
        return r;
}

/* A reminder for recipient, due at the day's start. */
static LedgerReminder reminder(Fixture *f, const char *recipient) {
        ReminderIdentity *x = &f->identities[f->n++];

        assert_true(f->n <= 8);
        assert_int_equal(
                identity_make("c", "decision", NULL, 1, "2020-05-19", "30d", recipient, "mail", x),
                0);
        return (LedgerReminder){.identity = x, .due_usec = DAY_START_USEC};
}

static void enqueue(Fixture *f, const LedgerReminder *r, usec_t at) {
        LedgerMessage m = {.transport = "relay",
                           .recipients = "a@example.org",
                           .payload = "x",
                           .payload_size = 1,
                           .deadline_usec = DAY_END_USEC};

        assert_int_equal(ledger_enqueue(f->ledger, r, &m, at), 0);
}

static void test_ledger_counts_of_an_empty_ledger_are_zero(void **state) {
        Fixture *f = *state;
        LedgerCounts c;

        memset(&c, 0xff, sizeof(c));
        assert_int_equal(ledger_counts(f->ledger, DAY_START_USEC, DAY_END_USEC, &c), 0);
        assert_memory_equal(&c, &(LedgerCounts){0}, sizeof(c));
}

static void test_ledger_counts_the_day_from_its_start_to_before_its_end(void **state) {
        Fixture *f = *state;
        LedgerReminder before = reminder(f, "before"), first = reminder(f, "first"),
                       last = reminder(f, "last"), after = reminder(f, "after"),
                       failed = reminder(f, "failed"), failed_before = reminder(f, "failed0"),
                       skipped = reminder(f, "skipped"), skipped_before = reminder(f, "skipped0");
        const struct {
                const LedgerReminder *r;
                usec_t at;
        } sent[] = {{&before, DAY_START_USEC - 1},
                    {&first, DAY_START_USEC},
                    {&last, DAY_END_USEC - 1},
                    {&after, DAY_END_USEC}};
        LedgerCounts c;

        for (size_t i = 0; i < sizeof(sent) / sizeof(sent[0]); i++) {
                enqueue(f, sent[i].r, DAY_START_USEC - 10);
                assert_int_equal(
                        ledger_mark_sent(f->ledger, sent[i].r->identity, sent[i].at, "250", NULL),
                        0);
        }
        enqueue(f, &failed, DAY_START_USEC - 10);
        assert_int_equal(ledger_mark_failed(f->ledger, failed.identity, DAY_START_USEC + 5, "550"),
                         0);
        enqueue(f, &failed_before, DAY_START_USEC - 10);
        assert_int_equal(
                ledger_mark_failed(f->ledger, failed_before.identity, DAY_START_USEC - 5, "550"),
                0);
        assert_int_equal(ledger_mark_skipped(f->ledger, &skipped, DAY_START_USEC + 7, "missed"), 0);
        assert_int_equal(
                ledger_mark_skipped(f->ledger, &skipped_before, DAY_START_USEC - 7, "missed"), 0);

        assert_int_equal(ledger_counts(f->ledger, DAY_START_USEC, DAY_END_USEC, &c), 0);
        assert_int_equal(c.sent, 4);
        assert_int_equal(c.failed, 2);
        assert_int_equal(c.day_sent, 2);
        assert_int_equal(c.day_failed, 1);
        assert_int_equal(c.day_skipped, 1);
        assert_int_equal(c.queued, 0);
}

static void test_ledger_counts_queued_waiting_and_in_flight_but_not_settled(void **state) {
        Fixture *f = *state;
        LedgerReminder waiting = reminder(f, "waiting"), flying = reminder(f, "flying"),
                       retrying = reminder(f, "retrying"), sent = reminder(f, "sent");
        LedgerCounts c;

        enqueue(f, &waiting, DAY_START_USEC);
        enqueue(f, &flying, DAY_START_USEC);
        assert_int_equal(ledger_queued_begin(f->ledger, flying.identity, DAY_START_USEC + 1), 0);
        enqueue(f, &retrying, DAY_START_USEC);
        assert_int_equal(ledger_queued_begin(f->ledger, retrying.identity, DAY_START_USEC + 1), 0);
        assert_int_equal(ledger_queued_retry(f->ledger, retrying.identity, DAY_START_USEC + 2,
                                             DAY_START_USEC + 60, "451"),
                         0);
        enqueue(f, &sent, DAY_START_USEC);
        assert_int_equal(
                ledger_mark_sent(f->ledger, sent.identity, DAY_START_USEC + 3, "250", NULL), 0);

        assert_int_equal(ledger_counts(f->ledger, DAY_START_USEC, DAY_END_USEC, &c), 0);
        assert_int_equal(c.queued, 3);
        assert_int_equal(c.sent, 1);
        assert_int_equal(c.day_sent, 1);
        assert_int_equal(c.failed, 0);
}

static void test_ledger_counts_refuses_a_day_that_ends_before_it_starts(void **state) {
        Fixture *f = *state;
        LedgerCounts c;

        assert_int_equal(ledger_counts(f->ledger, DAY_END_USEC, DAY_START_USEC, &c), -EINVAL);
        assert_int_equal(ledger_counts(NULL, DAY_START_USEC, DAY_END_USEC, &c), -EINVAL);
        assert_int_equal(ledger_counts(f->ledger, DAY_START_USEC, DAY_END_USEC, NULL), -EINVAL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void) {
        const struct CMUnitTest tests[] = {
                T(test_ledger_counts_of_an_empty_ledger_are_zero),
                T(test_ledger_counts_the_day_from_its_start_to_before_its_end),
                T(test_ledger_counts_queued_waiting_and_in_flight_but_not_settled),
                T(test_ledger_counts_refuses_a_day_that_ends_before_it_starts),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
