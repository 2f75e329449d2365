/* Dispatch against a real ledger file and a real Maildir, with one edge wrapped: the ledger's
 * "sent" record (-Wl,--wrap=ledger_mark_sent) can be made to fail, as a busy or full database
 * would, to show that a delivered reminder is then recorded late, not sent again; and, with the
 * Dispatcher thrown away as a crash would, that the Maildir remembers what the ledger missed. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fixture.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>

#include "noticed/dispatch.h"
#include "noticed/ledger.h"

int __real_ledger_mark_sent(Ledger *l, const char *id, const char *channel, int64_t now_usec,
                            const char *reply, const char *message_id);
int __wrap_ledger_mark_sent(Ledger *l, const char *id, const char *channel, int64_t now_usec,
                            const char *reply, const char *message_id);

static int mark_sent_failures; /* how many calls to fail with -EBUSY before passing through */

int __wrap_ledger_mark_sent(Ledger *l, const char *id, const char *channel, int64_t now_usec,
                            const char *reply, const char *message_id) {
        if (mark_sent_failures > 0) {
                mark_sent_failures--;
                return -EBUSY;
        }
        return __real_ledger_mark_sent(l, id, channel, now_usec, reply, message_id);
}

typedef struct Fixture {
        char dir[64];
        Model *model;
        Ledger *ledger;
        Dispatcher *dispatcher;
} Fixture;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) flag;
        (void) ftw;
        return remove(path);
}

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));
        char *text, path[128];

        assert_non_null(f);
        strcpy(f->dir, "/tmp/noticed-test-dispatch-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        assert_true(asprintf(&text,
                             "timezone = \"UTC\";\n"
                             "policy = { offsets = [\"7d\"]; send_time = \"09:00\"; "
                             "working_days_only = false; };\n"
                             "transports = { box = { url = \"maildir:%s/maildir\"; "
                             "from = \"n@x.example\"; }; };\n"
                             "mail_via = \"box\";\n"
                             "recipients = ( { id = \"a\"; name = \"A\"; mail = [\"a@x.example\"]; "
                             "} );\n"
                             "commitments = ( { id = \"c\"; title = \"C\"; start = \"2019-01-01\"; "
                             "term = \"5y\"; renewal = \"none\"; participants = [\"a\"]; "
                             "deadline_shift = \"none\"; deadlines = ( { id = \"x\"; "
                             "date = \"2020-05-01\"; title = \"X\"; } ); } );\n",
                             f->dir) > 0);
        f->model = fixture_load(text);
        free(text);
        snprintf(path, sizeof(path), "%s/ledger.sqlite", f->dir);
        assert_int_equal(ledger_open(path, &f->ledger), 0);
        assert_int_equal(dispatcher_new(f->ledger, &f->dispatcher), 0);
        mark_sent_failures = 0;
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;

        dispatcher_free(f->dispatcher);
        ledger_close(f->ledger);
        model_free(f->model);
        (void) nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(f);
        return 0;
}

static int count_mails(const Fixture *f) {
        char path[128];
        struct dirent *e;
        DIR *d;
        int n = 0;

        snprintf(path, sizeof(path), "%s/maildir/new", f->dir);
        d = opendir(path);
        if (!d)
                return 0;
        while ((e = readdir(d)))
                n += e->d_name[0] != '.';
        closedir(d);
        return n;
}

/* 2020-04-24 09:00:01 UTC: the 7d reminder for 2020-05-01 is a second overdue. */
#define NOW_USEC (((uint64_t) D("2020-04-24") * 86400u + 9 * 3600u + 1u) * 1000000u)

static LedgerState state_of(const Fixture *f) {
        LedgerState s;

        assert_int_equal(ledger_get_state(f->ledger, "c/deadline:x/0/2020-05-01/7d/a", "mail", &s),
                         1);
        return s;
}

static void test_dispatcher_deliver_due_sends_and_records(void **state) {
        Fixture *f = *state;
        char pattern[128];

        assert_int_equal(dispatcher_deliver_due(f->dispatcher, f->model, NOW_USEC, D("2020-04-24")),
                         0);
        assert_int_equal(count_mails(f), 1);
        assert_int_equal(state_of(f), LEDGER_SENT);
        assert_int_equal(dispatcher_counts(f->dispatcher)->sent, 1);
        snprintf(pattern, sizeof(pattern), "'%s'/maildir/new/*", f->dir);
        fixture_check_mail(pattern);
        /* A second pass at the same instant: settled, nothing more. */
        assert_int_equal(dispatcher_deliver_due(f->dispatcher, f->model, NOW_USEC, D("2020-04-24")),
                         0);
        assert_int_equal(count_mails(f), 1);
}

static void test_dispatcher_deliver_due_records_late_rather_than_sending_twice(void **state) {
        Fixture *f = *state;

        mark_sent_failures = 1;
        assert_int_equal(dispatcher_deliver_due(f->dispatcher, f->model, NOW_USEC, D("2020-04-24")),
                         -EBUSY);
        assert_int_equal(count_mails(f), 1);
        assert_int_equal(state_of(f), LEDGER_PENDING);
        /* The pass that is tried again records what happened and sends nothing. */
        assert_int_equal(dispatcher_deliver_due(f->dispatcher, f->model, NOW_USEC + 60u * 1000000u,
                                                D("2020-04-24")),
                         0);
        assert_int_equal(count_mails(f), 1);
        assert_int_equal(state_of(f), LEDGER_SENT);
}

static void test_dispatcher_deliver_due_keeps_failing_while_the_ledger_refuses(void **state) {
        Fixture *f = *state;

        mark_sent_failures = 2;
        assert_int_equal(dispatcher_deliver_due(f->dispatcher, f->model, NOW_USEC, D("2020-04-24")),
                         -EBUSY);
        assert_int_equal(dispatcher_deliver_due(f->dispatcher, f->model, NOW_USEC, D("2020-04-24")),
                         -EBUSY);
        assert_int_equal(count_mails(f), 1);
        assert_int_equal(dispatcher_deliver_due(f->dispatcher, f->model, NOW_USEC, D("2020-04-24")),
                         0);
        assert_int_equal(count_mails(f), 1);
        assert_int_equal(state_of(f), LEDGER_SENT);
}

static void test_dispatcher_deliver_due_finds_the_mail_of_an_interrupted_attempt(void **state) {
        Fixture *f = *state;
        LedgerEntry *e = NULL;
        size_t n = 0;

        /* Delivered, then the record failed and the process died: the row stays pending. */
        mark_sent_failures = 1;
        assert_int_equal(dispatcher_deliver_due(f->dispatcher, f->model, NOW_USEC, D("2020-04-24")),
                         -EBUSY);
        f->dispatcher = dispatcher_free(f->dispatcher);
        assert_int_equal(dispatcher_new(f->ledger, &f->dispatcher), 0);
        assert_int_equal(state_of(f), LEDGER_PENDING);

        /* The restarted daemon finds the mail in the Maildir instead of writing it again. */
        assert_int_equal(dispatcher_deliver_due(f->dispatcher, f->model, NOW_USEC, D("2020-04-24")),
                         0);
        assert_int_equal(count_mails(f), 1);
        assert_int_equal(state_of(f), LEDGER_SENT);
        assert_int_equal(ledger_history(f->ledger, NULL, &e, &n), 0);
        assert_int_equal(n, 1);
        assert_non_null(strstr(e[0].reply, "(delivered by the interrupted attempt)"));
        ledger_entries_free(e, n);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_dispatcher_deliver_due_sends_and_records,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_dispatcher_deliver_due_records_late_rather_than_sending_twice, setup,
                        teardown),
                cmocka_unit_test_setup_teardown(
                        test_dispatcher_deliver_due_keeps_failing_while_the_ledger_refuses, setup,
                        teardown),
                cmocka_unit_test_setup_teardown(
                        test_dispatcher_deliver_due_finds_the_mail_of_an_interrupted_attempt, setup,
                        teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
