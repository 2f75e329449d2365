/* The outbox against a real ledger file, a real Maildir, a real sd-event loop and, for webhooks,
 * the real HTTP peer of the integration tests (tests/integration/peers/webhookd.py).
 *
 * A pass is what daemon.c's manager_pass() does: pass_queue_due() queues what is due,
 * outbox_run() sends it.  Maildir deliveries finish inside outbox_run(); webhooks finish in the
 * loop, which runs until the ledger says what the test waits for, under a deadline.  Waiting for
 * a retry is never a sleep: outbox_run() is given the instant of the retry instead.
 *
 * One edge is wrapped (-Wl,--wrap=ledger_mark_sent): the ledger's "sent" record can be made to
 * fail, as a busy or full database would, to show that a delivered message is then recorded
 * late, not sent twice.
 *
 * Two clocks: the planned instants are either in 2020 (their retry deadline has long passed by
 * the wall clock, which the outbox reads when it records an outcome) or just behind the wall
 * clock (retries are still possible).  A pass's `now` is never ahead of the wall clock, since
 * the outbox's own turns of the loop use the wall clock to decide what is due; only
 * outbox_run() is given a later instant, that of a retry. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fixture.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <netinet/in.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "noticed/identity.h"
#include "noticed/local.h"
#include "noticed/pass.h"
#include "noticed/ledger.h"
#include "noticed/log.h"
#include "noticed/outbox.h"

extern char **environ;

int __real_ledger_mark_sent(Ledger *l, const ReminderIdentity *x, usec_t now_usec,
                            const char *reply, const char *message_id);
int __wrap_ledger_mark_sent(Ledger *l, const ReminderIdentity *x, usec_t now_usec,
                            const char *reply, const char *message_id);

static int mark_sent_failures; /* how many calls to fail with -EBUSY before passing through */

int __wrap_ledger_mark_sent(Ledger *l, const ReminderIdentity *x, usec_t now_usec,
                            const char *reply, const char *message_id) {
        if (mark_sent_failures > 0) {
                mark_sent_failures--;
                return -EBUSY;
        }
        return __real_ledger_mark_sent(l, x, now_usec, reply, message_id);
}

#define SEC_USEC       UINT64_C(1000000)
#define DAY_SEC        UINT64_C(86400)
#define LOOP_DEADLINE  (4 * SEC_USEC)
#define WEBHOOKD       "tests/integration/peers/webhookd.py"
#define MILESTONE_PAST "2020-05-01"
/* 2020-04-24 09:00:01 UTC: the 7d reminder for 2020-05-01 is a second overdue. */
#define NOW_PAST_USEC (((uint64_t) D("2020-04-24") * DAY_SEC + 9 * 3600 + 1) * SEC_USEC)

/* The policy's send_time for the next configure(): 09:00, or what future_milestone() chose. */
static char send_time[16];

typedef struct Fixture {
        char dir[64];
        char maildir[96];
        sd_event *event;
        Model *model;
        Ledger *ledger;
        Pass *pass;
        Outbox *outbox;
        int port;                  /* of the webhook peer */
        const char *settings;      /* top-level settings for the next configure(), or NULL */
        const char *offsets;       /* the policy's offsets for it, or NULL: ["7d"] */
        unsigned stopped;          /* calls of the outbox_stop() callback */
        unsigned progress;         /* calls of the progress hook */
        unsigned progress_allowed; /* calls of it that say "go on" */
        unsigned settled;          /* calls of the settled hook */
} Fixture;

static uint64_t clock_usec(clockid_t clock) {
        struct timespec ts;

        assert_int_equal(clock_gettime(clock, &ts), 0);
        return (uint64_t) ts.tv_sec * SEC_USEC + (uint64_t) ts.tv_nsec / 1000u;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) flag;
        (void) ftw;
        return remove(path);
}

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));
        char path[128];

        assert_non_null(f);
        strcpy(f->dir, "/tmp/noticed-test-outbox-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->maildir, sizeof(f->maildir), "%s/maildir", f->dir);
        snprintf(path, sizeof(path), "%s/ledger.sqlite", f->dir);
        assert_int_equal(ledger_open(path, &f->ledger), 0);
        assert_int_equal(pass_new(f->ledger, &f->pass), 0);
        assert_int_equal(sd_event_new(&f->event), 0);
        assert_int_equal(outbox_new(f->event, f->ledger, &f->outbox), 0);
        mark_sent_failures = 0;
        strcpy(send_time, "09:00");
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;

        outbox_free(f->outbox);
        pass_free(f->pass);
        ledger_close(f->ledger);
        model_free(f->model);
        sd_event_unref(f->event);
        (void) nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(f);
        return 0;
}

/* --- the config ------------------------------------------------------------------------------ */

/* Commitment "c" with one-off deadline "x" on `milestone` (and the `deadlines` added), each
 * reminded 7 days ahead at 09:00 UTC to `participants`: "a" by mail into the fixture's Maildir,
 * or a recipient `recipients` adds ("h" with a webhook of the `transports` added, say).  "boss"
 * is escalate_to.  The model, with its secrets, goes to the outbox. */
static void configure(Fixture *f, const char *milestone, const char *transports,
                      const char *recipients, const char *participants, const char *deadlines) {
        char *text, *error = NULL;
        Secret *secrets = NULL;

        assert_true(
                asprintf(&text,
                         "%s\n"
                         "timezone = \"UTC\";\n"
                         "policy = { offsets = [%s]; send_time = \"%s\"; "
                         "working_days_only = false; };\n"
                         "transports = { box = { url = \"maildir:%s\"; "
                         "from = \"Noticed <n@x.example>\"; }; %s };\n"
                         "mail_via = \"box\";\n"
                         "recipients = ( { id = \"a\"; name = \"A\"; mail = [\"a@x.example\"]; },"
                         " { id = \"boss\"; name = \"Boss\"; language = \"en\"; "
                         "mail = [\"boss@x.example\"]; } %s );\n"
                         "commitments = ( { id = \"c\"; title = \"C\"; start = \"2019-01-01\"; "
                         "term = \"20y\"; renewal = \"none\"; participants = [%s]; "
                         "escalate_to = [\"boss\"]; deadline_shift = \"none\"; "
                         "deadlines = ( { id = \"x\"; date = \"%s\"; title = \"X\"; } %s ); } "
                         ");\n",
                         f->settings ? f->settings : "", f->offsets ? f->offsets : "\"7d\"",
                         send_time, f->maildir, transports, recipients, participants, milestone,
                         deadlines) > 0);
        f->model = fixture_load(text);
        free(text);
        assert_int_equal(secrets_load(f->model, &secrets, &error), 0);
        assert_null(error);
        outbox_configure(f->outbox, f->model, secrets);
}

static void configure_mail(Fixture *f, const char *milestone) {
        configure(f, milestone, "", "", "\"a\"", "");
}

/* A milestone 6 days after today by the wall clock, and a send_time two seconds ago: its 7d
 * reminder was due yesterday, and catch-up sends it now, at today's send_time; a message that
 * fails may be tried again for days. */
static void future_milestone(char ret[static DATE_STRING_MAX]) {
        uint64_t now = clock_usec(CLOCK_REALTIME) / SEC_USEC - 2;
        Date today = (Date) ((now + 2) / DAY_SEC);

        (void) snprintf(send_time, sizeof(send_time), "%02u:%02u:%02u",
                        (unsigned) (now % DAY_SEC / 3600), (unsigned) (now % 3600 / 60),
                        (unsigned) (now % 60));
        (void) date_format(today + 6, ret);
}

/* --- a pass, as manager_pass() does it ------------------------------------------------------- */

static int pass(Fixture *f, uint64_t now) {
        Date today = (Date) (now / SEC_USEC / DAY_SEC); /* the model's zone is UTC */

        assert_int_equal(pass_load_decisions(f->pass, f->model), 0);
        assert_int_equal(pass_queue_due(f->pass, f->model, now, today), 0);
        return outbox_run(f->outbox, now);
}

/* Turns of the loop until nothing more is pending at once. */
static void drain(Fixture *f) {
        int r;

        while ((r = sd_event_run(f->event, 0)) > 0)
                ;
        assert_true(r >= 0);
}

/* Runs the loop until condition holds; fails the test after LOOP_DEADLINE. */
#define RUN_UNTIL(f, condition)                                                                    \
        do {                                                                                       \
                uint64_t deadline_ = clock_usec(CLOCK_MONOTONIC) + LOOP_DEADLINE;                  \
                while (!(condition)) {                                                             \
                        if (clock_usec(CLOCK_MONOTONIC) > deadline_)                               \
                                fail_msg("timed out waiting for %s", #condition);                  \
                        assert_true(sd_event_run((f)->event, 100 * 1000) >= 0);                    \
                }                                                                                  \
        } while (0)

/* --- what the ledger and the Maildir say ----------------------------------------------------- */

static char *reminder_id(const char *recipient, const char *milestone) {
        char *id;

        assert_true(asprintf(&id, "c/deadline:x/0/%s/7d/%s", milestone, recipient) > 0);
        return id;
}

/* The identity that names the row (id, channel) for the ledger's look-ups; it borrows both. */
#define KEY(i, c) (&(ReminderIdentity){.id = (char *) (i), .channel = (char *) (c)})

/* The state of a row, or -1 when the ledger has none. */
static int state_of(const Fixture *f, const char *id, const char *channel) {
        LedgerState s;
        int r = ledger_get_state(f->ledger, KEY(id, channel), &s);

        assert_true(r >= 0);
        return r == 0 ? -1 : (int) s;
}

/* The history row (id, channel), malloc'd: free it with ledger_entries_free(e, 1). */
static LedgerEntry *entry_of(const Fixture *f, const char *id, const char *channel) {
        LedgerEntry *e = NULL, *found = NULL;
        size_t n = 0;

        assert_int_equal(ledger_history(f->ledger, NULL, &e, &n), 0);
        for (size_t i = 0; i < n; i++)
                if (strcmp(e[i].identity.id, id) == 0 &&
                    strcmp(e[i].identity.channel, channel) == 0) {
                        found = calloc(1, sizeof(*found));
                        assert_non_null(found);
                        *found = e[i];
                        e[i] = (LedgerEntry){0};
                }
        ledger_entries_free(e, n);
        if (!found)
                fail_msg("%s on %s is not in the ledger", id, channel);
        return found;
}

static size_t history_size(const Fixture *f) {
        LedgerEntry *e = NULL;
        size_t n = 0;

        assert_int_equal(ledger_history(f->ledger, NULL, &e, &n), 0);
        ledger_entries_free(e, n);
        return n;
}

/* The only escalation in the ledger, malloc'd: free it with ledger_entries_free(e, 1). */
static LedgerEntry *escalation_of(const Fixture *f) {
        LedgerEntry *e = NULL, *found = NULL;
        size_t n = 0, k = 0;

        assert_int_equal(ledger_history(f->ledger, NULL, &e, &n), 0);
        for (size_t i = 0; i < n; i++)
                if (strcmp(e[i].identity.kind, "escalation") == 0 && k++ == 0) {
                        found = calloc(1, sizeof(*found));
                        assert_non_null(found);
                        *found = e[i];
                        e[i] = (LedgerEntry){0};
                }
        ledger_entries_free(e, n);
        if (k != 1)
                fail_msg("%zu escalations in the ledger, expected 1", k);
        return found;
}

/* Escalations in the ledger in state s. */
static size_t escalations(const Fixture *f, LedgerState s) {
        LedgerEntry *e = NULL;
        size_t n = 0, k = 0;

        assert_int_equal(ledger_history(f->ledger, NULL, &e, &n), 0);
        for (size_t i = 0; i < n; i++)
                k += strcmp(e[i].identity.kind, "escalation") == 0 && e[i].state == s;
        ledger_entries_free(e, n);
        return k;
}

/* The messages in the Maildir's new/. */
static size_t count_mails(const Fixture *f) {
        char path[160];
        struct dirent *e;
        size_t n = 0;
        DIR *d;

        snprintf(path, sizeof(path), "%s/new", f->maildir);
        d = opendir(path);
        if (!d)
                return 0;
        while ((e = readdir(d)))
                n += e->d_name[0] != '.';
        closedir(d);
        return n;
}

/* The whole of the only message in the Maildir whose text contains needle (malloc'd). */
static char *find_mail(const Fixture *f, const char *needle) {
        char path[160], file[512], *found = NULL;
        struct dirent *e;
        DIR *d;

        snprintf(path, sizeof(path), "%s/new", f->maildir);
        d = opendir(path);
        assert_non_null(d);
        while ((e = readdir(d))) {
                FILE *in;
                char *text = NULL;
                size_t size = 0;

                if (e->d_name[0] == '.')
                        continue;
                snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
                in = fopen(file, "re");
                assert_non_null(in);
                assert_true(getdelim(&text, &size, '\0', in) > 0);
                fclose(in);
                if (strstr(text, needle)) {
                        if (found)
                                fail_msg("two messages in the Maildir contain \"%s\"", needle);
                        found = text;
                } else
                        free(text);
        }
        closedir(d);
        if (!found)
                fail_msg("no message in the Maildir contains \"%s\"", needle);
        return found;
}

/* --- the webhook peer ------------------------------------------------------------------------ */

/* One webhookd.py for the whole program, started by the first test that needs it: its scripts
 * count per path, and each test has paths of its own. */
static const char *const peer_scripts[] = {
        "/gone=410", "/down=500", "/flaky=500,200", "/again=503,200", "/twice=410", NULL,
};

static struct {
        char dir[64];
        char log[128];
        pid_t pid;
        int port;
} peer = {.pid = -1};

/* Starts webhookd.py and waits, up to LOOP_DEADLINE, for its ready file: it binds before it
 * writes the file (renamed into place), so the port is taken once the file is there.  Skips the
 * test when not run from the top of the tree, as make check runs it. */
static void peer_start(Fixture *f) {
        const char *argv[32] = {"/usr/bin/python3", WEBHOOKD, "--port", "0", "--ready-file"};
        char ready[128], port[16] = "";
        posix_spawn_file_actions_t actions;
        size_t n = 5;
        uint64_t deadline;
        FILE *in;
        int watch, status;

        if (access("/usr/bin/python3", X_OK) != 0 || access(WEBHOOKD, R_OK) != 0)
                skip();
        if (peer.pid > 0) {
                f->port = peer.port;
                return;
        }
        strcpy(peer.dir, "/tmp/noticed-test-webhookd-XXXXXX");
        assert_non_null(mkdtemp(peer.dir));
        snprintf(ready, sizeof(ready), "%s/webhookd.port", peer.dir);
        snprintf(peer.log, sizeof(peer.log), "%s/webhookd.jsonl", peer.dir);
        argv[n++] = ready;
        argv[n++] = "--log";
        argv[n++] = peer.log;
        for (size_t i = 0; peer_scripts[i]; i++) {
                argv[n++] = "--script";
                argv[n++] = peer_scripts[i];
        }
        assert_true(n < 32);

        watch = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        assert_true(watch >= 0);
        assert_true(inotify_add_watch(watch, peer.dir, IN_MOVED_TO | IN_CLOSE_WRITE) >= 0);
        assert_int_equal(posix_spawn_file_actions_init(&actions), 0);
        assert_int_equal(
                posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0),
                0);
        assert_int_equal(
                posix_spawn(&peer.pid, argv[0], &actions, NULL, (char *const *) argv, environ), 0);
        posix_spawn_file_actions_destroy(&actions);

        deadline = clock_usec(CLOCK_MONOTONIC) + LOOP_DEADLINE;
        while (access(ready, R_OK) != 0) {
                struct pollfd p = {.fd = watch, .events = POLLIN};
                char events[4096];

                if (waitpid(peer.pid, &status, WNOHANG) == peer.pid) {
                        peer.pid = -1;
                        fail_msg("webhookd.py exited before it was ready (status %d)", status);
                }
                if (clock_usec(CLOCK_MONOTONIC) > deadline)
                        fail_msg("webhookd.py was not ready after %d s",
                                 (int) (LOOP_DEADLINE / SEC_USEC));
                /* Woken by the rename; a short cap so that an early exit is seen too. */
                (void) poll(&p, 1, 100);
                while (read(watch, events, sizeof(events)) > 0)
                        ;
        }
        close(watch);
        in = fopen(ready, "re");
        assert_non_null(in);
        assert_non_null(fgets(port, sizeof(port), in));
        fclose(in);
        peer.port = atoi(port);
        assert_true(peer.port > 0 && peer.port < 65536);
        f->port = peer.port;
}

static int peer_stop(void **state) {
        int status;

        (void) state;
        if (peer.pid > 0) {
                (void) kill(peer.pid, SIGTERM);
                (void) waitpid(peer.pid, &status, 0);
                peer.pid = -1;
        }
        if (peer.dir[0])
                (void) nftw(peer.dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        return 0;
}

/* Requests the peer logged whose line contains both needles (b may be NULL). */
static size_t peer_requests(const char *a, const char *b) {
        char *line = NULL;
        size_t size = 0, n = 0;
        FILE *in = fopen(peer.log, "re");

        if (!in)
                return 0;
        while (getline(&line, &size, in) > 0)
                n += strstr(line, a) && (!b || strstr(line, b));
        free(line);
        fclose(in);
        return n;
}

/* A webhook transport NAME to the peer's /PATH, and recipient "h" with that webhook only. */
static void configure_hook(Fixture *f, const char *milestone, const char *name,
                           const char *options) {
        char *transport, *recipient;

        assert_true(asprintf(&transport, "%s = { url = \"http://127.0.0.1:%d/%s\"; %s };", name,
                             f->port, name, options) > 0);
        assert_true(asprintf(&recipient, ", { id = \"h\"; name = \"H\"; webhooks = [\"%s\"]; }",
                             name) > 0);
        configure(f, milestone, transport, recipient, "\"h\"", "");
        free(transport);
        free(recipient);
}

/* --- Maildir --------------------------------------------------------------------------------- */

static void test_outbox_run_delivers_due_reminders_and_records_them_sent(void **state) {
        Fixture *f = *state;
        char *id = reminder_id("a", MILESTONE_PAST), pattern[160];
        LedgerEntry *e;
        usec_t next;

        configure_mail(f, MILESTONE_PAST);
        assert_int_equal(pass(f, NOW_PAST_USEC), 0);
        assert_int_equal(count_mails(f), 1);
        assert_int_equal(state_of(f, id, "mail"), LEDGER_SENT);
        e = entry_of(f, id, "mail");
        assert_int_equal(e->attempts, 1);
        assert_non_null(e->reply);
        assert_true(strncmp(e->reply, "maildir: new/", 13) == 0);
        assert_non_null(e->message_id);
        ledger_entries_free(e, 1);
        assert_int_equal(pass_counts(f->pass)->queued, 1);
        assert_int_equal(outbox_counts(f->outbox)->sent, 1);
        assert_int_equal(outbox_counts(f->outbox)->retried, 0);
        assert_int_equal(ledger_queued_next(f->ledger, &next), 0); /* the outbox is empty */
        snprintf(pattern, sizeof(pattern), "'%s'/new/*", f->maildir);
        fixture_check_mail(pattern);

        /* The loop's turns and a second pass at the same instant: settled, nothing more. */
        drain(f);
        assert_int_equal(pass(f, NOW_PAST_USEC), 0);
        drain(f);
        assert_int_equal(count_mails(f), 1);
        assert_int_equal(history_size(f), 1);
        assert_int_equal(pass_counts(f->pass)->queued, 1);
        assert_int_equal(outbox_counts(f->outbox)->sent, 1);
        free(id);
}

static void test_outbox_run_retries_a_failing_maildir_until_it_works(void **state) {
        Fixture *f = *state;
        char milestone[DATE_STRING_MAX], *id;
        uint64_t now = clock_usec(CLOCK_REALTIME);
        LedgerEntry *e;
        usec_t next = 0;
        int fd;

        future_milestone(milestone);
        id = reminder_id("a", milestone);
        configure_mail(f, milestone);
        /* The Maildir's path is a file: nothing can be delivered into it. */
        fd = open(f->maildir, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        close(fd);

        assert_int_equal(pass(f, now), 0);
        drain(f);
        assert_int_equal(state_of(f, id, "mail"), LEDGER_QUEUED);
        e = entry_of(f, id, "mail");
        assert_string_equal(ledger_state_to_string(e->state), "queued");
        assert_int_equal(e->attempts, 1);
        assert_non_null(e->reply);
        assert_contains(e->reply, "maildir: cannot create");
        ledger_entries_free(e, 1);
        assert_int_equal(outbox_counts(f->outbox)->retried, 1);
        assert_int_equal(outbox_counts(f->outbox)->failed, 0);
        assert_int_equal(ledger_queued_next(f->ledger, &next), 1);
        assert_true(next > now);

        /* Fixed; a pass before the retry is due queues nothing new and tries nothing. */
        assert_int_equal(unlink(f->maildir), 0);
        assert_int_equal(pass(f, now), 0);
        assert_int_equal(outbox_run(f->outbox, next - 1), 0);
        assert_int_equal(count_mails(f), 0);
        e = entry_of(f, id, "mail");
        assert_int_equal(e->attempts, 1);
        ledger_entries_free(e, 1);
        assert_int_equal(pass_counts(f->pass)->queued, 1);

        /* When it is due, it goes. */
        assert_int_equal(outbox_run(f->outbox, next), 0);
        assert_int_equal(count_mails(f), 1);
        assert_int_equal(state_of(f, id, "mail"), LEDGER_SENT);
        e = entry_of(f, id, "mail");
        assert_int_equal(e->attempts, 2);
        assert_true(strncmp(e->reply, "maildir: new/", 13) == 0);
        ledger_entries_free(e, 1);
        assert_int_equal(outbox_counts(f->outbox)->sent, 1);
        assert_int_equal(history_size(f), 1);
        free(id);
}

static void
test_outbox_run_fails_a_maildir_past_its_deadline_without_escalating_through_it(void **state) {
        Fixture *f = *state;
        char *id = reminder_id("a", MILESTONE_PAST);
        LedgerEntry *e;
        usec_t next;
        int fd;

        configure_mail(f, MILESTONE_PAST);
        fd = open(f->maildir, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        close(fd);

        /* The reminder's last day (2020-05-01) is long gone: one attempt, then it fails. */
        assert_int_equal(pass(f, NOW_PAST_USEC), 0);
        drain(f);
        assert_int_equal(state_of(f, id, "mail"), LEDGER_FAILED);
        e = entry_of(f, id, "mail");
        assert_int_equal(e->attempts, 1);
        assert_contains(e->reply, "maildir: cannot create");
        ledger_entries_free(e, 1);
        assert_int_equal(outbox_counts(f->outbox)->failed, 1);
        /* The escalation would go through the same broken transport: it is not queued. */
        assert_int_equal(outbox_counts(f->outbox)->escalated, 0);
        assert_int_equal(history_size(f), 1);
        assert_int_equal(ledger_queued_next(f->ledger, &next), 0);
        free(id);
}

static void test_outbox_run_fails_what_it_could_not_send_before_its_deadline(void **state) {
        Fixture *f = *state;
        char *id = reminder_id("a", MILESTONE_PAST);
        LedgerEntry *e;

        configure_mail(f, MILESTONE_PAST);
        assert_int_equal(pass_queue_due(f->pass, f->model, NOW_PAST_USEC, D("2020-04-24")), 0);
        /* Queued, and the daemon was down until after the milestone's day: not sent late (it
         * would say "7 days left"), but failed, and escalated, by the same Maildir. */
        assert_int_equal(outbox_run(f->outbox, NOW_PAST_USEC + 10 * DAY_SEC * SEC_USEC), 0);
        RUN_UNTIL(f, escalations(f, LEDGER_SENT) == 1);
        assert_int_equal(state_of(f, id, "mail"), LEDGER_FAILED);
        e = entry_of(f, id, "mail");
        assert_contains(e->reply, "its time passed before it could be sent");
        ledger_entries_free(e, 1);
        assert_int_equal(count_mails(f), 1); /* the escalation, not the reminder */
        assert_int_equal(outbox_counts(f->outbox)->failed, 1);
        assert_int_equal(outbox_counts(f->outbox)->sent, 1);
        free(id);
}

static void
test_outbox_recover_does_not_write_again_what_the_interrupted_attempt_delivered(void **state) {
        Fixture *f = *state;
        char *id = reminder_id("a", MILESTONE_PAST), *reply = NULL;
        LedgerQueued *q = NULL;
        LedgerEntry *e;
        Secret *secrets = NULL;
        char *error = NULL;
        size_t n = 0;

        configure_mail(f, MILESTONE_PAST);
        assert_int_equal(pass_queue_due(f->pass, f->model, NOW_PAST_USEC, D("2020-04-24")), 0);
        /* An attempt began, wrote the mail, and the process died before its outcome. */
        assert_int_equal(ledger_queued_due(f->ledger, "box", NOW_PAST_USEC, 10, &q, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(ledger_queued_begin(f->ledger, &q[0].identity, NOW_PAST_USEC), 0);
        assert_int_equal(
                local_maildir(f->maildir, q[0].payload, q[0].payload_size, q[0].key, &reply), 0);
        free(reply);
        ledger_queued_free(q, n);
        assert_int_equal(count_mails(f), 1);

        /* The next start. */
        f->outbox = outbox_free(f->outbox);
        assert_int_equal(outbox_new(f->event, f->ledger, &f->outbox), 0);
        assert_int_equal(secrets_load(f->model, &secrets, &error), 0);
        outbox_configure(f->outbox, f->model, secrets);
        /* A new outbox's first run takes back what was in flight before it sends. */
        assert_int_equal(pass(f, NOW_PAST_USEC), 0);
        drain(f);

        assert_int_equal(count_mails(f), 1);
        assert_int_equal(state_of(f, id, "mail"), LEDGER_SENT);
        e = entry_of(f, id, "mail");
        assert_contains(e->reply, "(delivered by the interrupted attempt)");
        assert_int_equal(e->attempts, 2);
        ledger_entries_free(e, 1);
        free(id);
}

static void test_outbox_recover_writes_what_the_interrupted_attempt_did_not_deliver(void **state) {
        Fixture *f = *state;
        char *id = reminder_id("a", MILESTONE_PAST);
        LedgerEntry *e;

        configure_mail(f, MILESTONE_PAST);
        assert_int_equal(pass_queue_due(f->pass, f->model, NOW_PAST_USEC, D("2020-04-24")), 0);
        assert_int_equal(ledger_queued_begin(f->ledger, KEY(id, "mail"), NOW_PAST_USEC), 0);
        assert_int_equal(outbox_recover(f->outbox), 0);
        assert_int_equal(outbox_run(f->outbox, NOW_PAST_USEC), 0);

        assert_int_equal(count_mails(f), 1);
        assert_int_equal(state_of(f, id, "mail"), LEDGER_SENT);
        e = entry_of(f, id, "mail");
        assert_true(strncmp(e->reply, "maildir: new/", 13) == 0);
        ledger_entries_free(e, 1);
        free(id);
}

static void test_outbox_run_records_sent_later_when_the_ledger_refuses(void **state) {
        Fixture *f = *state;
        char *id = reminder_id("a", MILESTONE_PAST);
        LedgerEntry *e;

        configure_mail(f, MILESTONE_PAST);
        /* Every try of this run is refused: the one right after the delivery, the one after the
         * chunk and the one at the run's end. */
        mark_sent_failures = 3;
        assert_int_equal(pass(f, NOW_PAST_USEC), 0);
        assert_int_equal(mark_sent_failures, 0);
        assert_int_equal(count_mails(f), 1);
        assert_int_equal(state_of(f, id, "mail"), LEDGER_QUEUED); /* in flight in the ledger */
        assert_int_equal(outbox_counts(f->outbox)->sent, 0);

        /* The next run records what happened and sends nothing. */
        assert_int_equal(pass(f, NOW_PAST_USEC + 60 * SEC_USEC), 0);
        assert_int_equal(count_mails(f), 1);
        assert_int_equal(state_of(f, id, "mail"), LEDGER_SENT);
        e = entry_of(f, id, "mail");
        assert_int_equal(e->attempts, 1);
        assert_true(strncmp(e->reply, "maildir: new/", 13) == 0);
        ledger_entries_free(e, 1);
        assert_int_equal(outbox_counts(f->outbox)->sent, 1);
        drain(f);
        assert_int_equal(count_mails(f), 1);
        free(id);
}

static void test_outbox_run_records_sent_at_its_end_when_the_ledger_refuses_once(void **state) {
        Fixture *f = *state;
        char *id = reminder_id("a", MILESTONE_PAST);

        configure_mail(f, MILESTONE_PAST);
        mark_sent_failures = 1;
        assert_int_equal(pass(f, NOW_PAST_USEC), 0);
        assert_int_equal(mark_sent_failures, 0);
        assert_int_equal(count_mails(f), 1);
        assert_int_equal(state_of(f, id, "mail"), LEDGER_SENT);
        assert_int_equal(outbox_counts(f->outbox)->sent, 1);
        free(id);
}

static void test_outbox_recover_after_a_refused_record_finds_the_mail_in_the_maildir(void **state) {
        Fixture *f = *state;
        char *id = reminder_id("a", MILESTONE_PAST), *error = NULL;
        Secret *secrets = NULL;
        LedgerEntry *e;

        configure_mail(f, MILESTONE_PAST);
        mark_sent_failures = 3;
        assert_int_equal(pass(f, NOW_PAST_USEC), 0);
        assert_int_equal(count_mails(f), 1);
        /* The process dies with the outcome unrecorded. */
        f->outbox = outbox_free(f->outbox);
        assert_int_equal(state_of(f, id, "mail"), LEDGER_QUEUED);

        assert_int_equal(outbox_new(f->event, f->ledger, &f->outbox), 0);
        assert_int_equal(secrets_load(f->model, &secrets, &error), 0);
        outbox_configure(f->outbox, f->model, secrets);
        assert_int_equal(outbox_recover(f->outbox), 0);
        assert_int_equal(pass(f, NOW_PAST_USEC + 60 * SEC_USEC), 0);
        drain(f);

        assert_int_equal(count_mails(f), 1);
        assert_int_equal(state_of(f, id, "mail"), LEDGER_SENT);
        e = entry_of(f, id, "mail");
        assert_contains(e->reply, "(delivered by the interrupted attempt)");
        ledger_entries_free(e, 1);
        free(id);
}

/* --- stop and secrets ------------------------------------------------------------------------ */

static void on_stopped(void *userdata) {
        Fixture *f = userdata;

        f->stopped++;
}

static void test_outbox_stop_with_nothing_in_flight_calls_done_from_the_loop(void **state) {
        Fixture *f = *state;
        char *id = reminder_id("a", MILESTONE_PAST);

        configure_mail(f, MILESTONE_PAST);
        assert_int_equal(outbox_stop(f->outbox, 5 * SEC_USEC, on_stopped, f), 0);
        assert_int_equal(f->stopped, 0); /* not from inside the call */
        RUN_UNTIL(f, f->stopped > 0);
        drain(f);
        assert_int_equal(f->stopped, 1);

        /* Stopped: what a pass queues waits for the next start. */
        assert_int_equal(pass(f, NOW_PAST_USEC), 0);
        drain(f);
        assert_int_equal(count_mails(f), 0);
        assert_int_equal(state_of(f, id, "mail"), LEDGER_QUEUED);
        assert_int_equal(f->stopped, 1);
        free(id);
}

static void test_secrets_load_names_the_transport_it_cannot_read(void **state) {
        Fixture *f = *state;
        char password[128], *transport, *error = NULL;
        Secret *secrets = NULL;
        size_t relay = SIZE_MAX;
        int fd;

        snprintf(password, sizeof(password), "%s/relay.pw", f->dir);
        fd = open(password, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "s3cret\n", 7), 7);
        close(fd);
        assert_true(asprintf(&transport,
                             "relay = { url = \"smtp://127.0.0.1:2525\"; tls = \"none\"; "
                             "from = \"n@x.example\"; username = \"n\"; password_file = \"%s\"; };",
                             password) > 0);
        configure(f, MILESTONE_PAST, transport, "", "\"a\"", "");
        free(transport);
        for (size_t i = 0; i < f->model->n_transports; i++)
                if (strcmp(f->model->transports[i].id, "relay") == 0)
                        relay = i;
        assert_true(relay != SIZE_MAX);

        /* Readable: the secret is the file less its newline. */
        assert_int_equal(secrets_load(f->model, &secrets, &error), 0);
        assert_null(error);
        assert_non_null(secrets);
        assert_int_equal(secrets[relay].size, 6);
        assert_memory_equal(secrets[relay].data, "s3cret", 6);
        outbox_configure(f->outbox, f->model, secrets);

        /* Gone since the config was checked. */
        assert_int_equal(unlink(password), 0);
        secrets = (Secret *) 1;
        assert_int_equal(secrets_load(f->model, &secrets, &error), -ENOENT);
        assert_null(secrets);
        assert_non_null(error);
        assert_contains(error, "transport relay");
        assert_contains(error, password);
        free(error);
        error = NULL;

        /* Readable by others: refused, and the message says how to fix it. */
        fd = open(password, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(fchmod(fd, 0644), 0);
        assert_int_equal(write(fd, "s3cret\n", 7), 7);
        close(fd);
        assert_int_equal(secrets_load(f->model, &secrets, &error), -EPERM);
        assert_non_null(error);
        assert_contains(error, "transport relay");
        assert_contains(error, "chmod 600");
        free(error);

        /* The outbox keeps the secrets it had; Maildir delivery is unaffected. */
        assert_int_equal(pass(f, NOW_PAST_USEC), 0);
        assert_int_equal(count_mails(f), 1);
}

/* --- webhooks through the peer --------------------------------------------------------------- */

static void test_outbox_run_fails_a_webhook_answered_410_at_once_and_escalates(void **state) {
        Fixture *f = *state;
        char milestone[DATE_STRING_MAX], *id, *mail;
        LedgerEntry *e;

        peer_start(f);
        future_milestone(milestone); /* time enough to retry: a 410 is not retried anyway */
        id = reminder_id("h", milestone);
        configure_hook(f, milestone, "gone", "");

        assert_int_equal(pass(f, clock_usec(CLOCK_REALTIME)), 0);
        assert_int_equal(outbox_in_flight(f->outbox), 1);
        RUN_UNTIL(f, state_of(f, id, "webhook:gone") == LEDGER_FAILED &&
                             escalations(f, LEDGER_SENT) == 1);

        e = entry_of(f, id, "webhook:gone");
        assert_int_equal(e->attempts, 1);
        assert_contains(e->reply, "410");
        ledger_entries_free(e, 1);
        assert_int_equal(outbox_counts(f->outbox)->failed, 1);
        assert_int_equal(outbox_counts(f->outbox)->escalated, 1);
        assert_int_equal(outbox_counts(f->outbox)->retried, 0);
        assert_int_equal(peer_requests("\"path\": \"/gone\"", NULL), 1);

        /* The escalation is in the Maildir, to boss, about h's webhook. */
        e = escalation_of(f);
        assert_string_equal(e->identity.channel, "mail");
        assert_string_equal(e->identity.recipient, "boss");
        assert_string_equal(e->identity.commitment, "c");
        assert_string_equal(e->identity.milestone, milestone);
        assert_contains(e->identity.id, ":h:webhook:gone/boss");
        assert_int_equal(count_mails(f), 1);
        mail = find_mail(f, e->identity.id);
        assert_contains(mail, "boss@x.example");
        assert_contains(mail, "Not delivered");
        free(mail);
        ledger_entries_free(e, 1);
        drain(f);
        assert_int_equal(peer_requests("\"path\": \"/gone\"", NULL), 1);
        assert_int_equal(count_mails(f), 1);
        free(id);
}

static void test_outbox_run_fails_a_webhook_past_its_deadline_and_escalates_by_mail(void **state) {
        Fixture *f = *state;
        char *id = reminder_id("h", MILESTONE_PAST), *mail;
        LedgerEntry *e;

        peer_start(f);
        configure_hook(f, MILESTONE_PAST, "down", "");

        /* A 500 is temporary, but 2020-05-01 has long passed: no second attempt. */
        assert_int_equal(pass(f, NOW_PAST_USEC), 0);
        RUN_UNTIL(f, state_of(f, id, "webhook:down") == LEDGER_FAILED &&
                             escalations(f, LEDGER_SENT) == 1);

        e = entry_of(f, id, "webhook:down");
        assert_int_equal(e->attempts, 1);
        assert_contains(e->reply, "500");
        ledger_entries_free(e, 1);
        assert_int_equal(outbox_counts(f->outbox)->failed, 1);
        assert_int_equal(outbox_counts(f->outbox)->escalated, 1);
        assert_int_equal(outbox_counts(f->outbox)->retried, 0);
        assert_int_equal(history_size(f), 2);
        /* The webhook's transport looks down; mail goes by another one. */
        e = escalation_of(f);
        assert_string_equal(e->identity.channel, "mail");
        assert_string_equal(e->identity.recipient, "boss");
        mail = find_mail(f, e->identity.id);
        assert_contains(mail, "boss@x.example");
        free(mail);
        ledger_entries_free(e, 1);
        assert_int_equal(count_mails(f), 1);
        assert_int_equal(peer_requests("\"path\": \"/down\"", NULL), 1);
        free(id);
}

static void test_outbox_run_sends_a_flaky_webhook_at_the_second_attempt(void **state) {
        Fixture *f = *state;
        char milestone[DATE_STRING_MAX], key[300], *id;
        LedgerEntry *e;
        usec_t next = 0;

        peer_start(f);
        future_milestone(milestone);
        id = reminder_id("h", milestone);
        configure_hook(f, milestone, "flaky", "");

        assert_int_equal(pass(f, clock_usec(CLOCK_REALTIME)), 0);
        RUN_UNTIL(f, outbox_counts(f->outbox)->retried == 1);
        assert_int_equal(outbox_in_flight(f->outbox), 0);
        assert_int_equal(state_of(f, id, "webhook:flaky"), LEDGER_QUEUED);
        e = entry_of(f, id, "webhook:flaky");
        assert_int_equal(e->attempts, 1);
        assert_contains(e->reply, "500");
        ledger_entries_free(e, 1);

        /* The retry's instant, rather than a wait of retry_base. */
        assert_int_equal(ledger_queued_next(f->ledger, &next), 1);
        assert_int_equal(outbox_run(f->outbox, next), 0);
        assert_int_equal(outbox_in_flight(f->outbox), 1);
        RUN_UNTIL(f, state_of(f, id, "webhook:flaky") == LEDGER_SENT);

        e = entry_of(f, id, "webhook:flaky");
        assert_int_equal(e->attempts, 2);
        assert_contains(e->reply, "200");
        ledger_entries_free(e, 1);
        assert_int_equal(outbox_counts(f->outbox)->sent, 1);
        assert_int_equal(outbox_counts(f->outbox)->failed, 0);
        assert_int_equal(peer_requests("\"path\": \"/flaky\"", NULL), 2);
        /* Both attempts carried one Idempotency-Key, the reminder's identity: a receiver can
         * tell a repeat. */
        snprintf(key, sizeof(key), "\"idempotency_key\": \"%s\"", id);
        assert_int_equal(peer_requests("\"path\": \"/flaky\"", key), 2);
        assert_int_equal(count_mails(f), 0);
        free(id);
}

static void test_outbox_run_never_has_more_than_max_connections_in_flight(void **state) {
        Fixture *f = *state;
        char milestone[DATE_STRING_MAX], deadlines[1024] = "", *transport, *recipient;
        size_t most = 0;
        int k = 0;

        peer_start(f);
        future_milestone(milestone);
        /* Ten one-off deadlines on one day: ten reminders for h, through one transport. */
        for (int i = 1; i < 10; i++)
                k += snprintf(deadlines + k, sizeof(deadlines) - (size_t) k,
                              ", { id = \"x%d\"; date = \"%s\"; title = \"X%d\"; }", i, milestone,
                              i);
        assert_true(asprintf(&transport,
                             "many = { url = \"http://127.0.0.1:%d/many\"; max_connections = 2; };",
                             f->port) > 0);
        assert_true(asprintf(&recipient, ", { id = \"h\"; name = \"H\"; webhooks = [\"many\"]; }") >
                    0);
        configure(f, milestone, transport, recipient, "\"h\"", deadlines);
        free(transport);
        free(recipient);

        assert_int_equal(pass(f, clock_usec(CLOCK_REALTIME)), 0);
        assert_int_equal(pass_counts(f->pass)->queued, 10);
        assert_int_equal(outbox_in_flight(f->outbox), 2);
        {
                uint64_t deadline = clock_usec(CLOCK_MONOTONIC) + LOOP_DEADLINE;

                while (outbox_counts(f->outbox)->sent < 10) {
                        size_t now_in_flight = outbox_in_flight(f->outbox);

                        if (now_in_flight > 2)
                                fail_msg("%zu transfers in flight, max_connections is 2",
                                         now_in_flight);
                        most = now_in_flight > most ? now_in_flight : most;
                        if (clock_usec(CLOCK_MONOTONIC) > deadline)
                                fail_msg("%" PRIu64 " of 10 sent after %d s",
                                         outbox_counts(f->outbox)->sent,
                                         (int) (LOOP_DEADLINE / SEC_USEC));
                        assert_true(sd_event_run(f->event, 100 * 1000) >= 0);
                }
        }
        assert_int_equal(most, 2);
        assert_int_equal(outbox_in_flight(f->outbox), 0);
        assert_int_equal(peer_requests("\"path\": \"/many\"", NULL), 10);
        assert_int_equal(history_size(f), 10);
}

static void test_outbox_stop_waits_for_the_transfer_in_flight(void **state) {
        Fixture *f = *state;
        char milestone[DATE_STRING_MAX], *id;

        peer_start(f);
        future_milestone(milestone);
        id = reminder_id("h", milestone);
        configure_hook(f, milestone, "ok", "");

        assert_int_equal(pass(f, clock_usec(CLOCK_REALTIME)), 0);
        assert_int_equal(outbox_in_flight(f->outbox), 1);
        assert_int_equal(outbox_stop(f->outbox, 5 * SEC_USEC, on_stopped, f), 0);
        assert_int_equal(f->stopped, 0);
        RUN_UNTIL(f, f->stopped > 0);
        /* Done once the transfer ended, with its outcome recorded, long before the timeout. */
        assert_int_equal(outbox_in_flight(f->outbox), 0);
        assert_int_equal(state_of(f, id, "webhook:ok"), LEDGER_SENT);
        drain(f);
        assert_int_equal(f->stopped, 1);
        free(id);
}

static void test_outbox_run_arms_a_timer_for_the_retry(void **state) {
        Fixture *f = *state;
        char milestone[DATE_STRING_MAX], *id;
        LedgerEntry *e;

        peer_start(f);
        future_milestone(milestone);
        id = reminder_id("h", milestone);
        f->settings = "retry_base = \"1s\"; retry_max = \"1s\";"; /* a wait of 0.5 to 1 s */
        configure_hook(f, milestone, "again", "");

        /* Nothing but the loop: the retry timer starts the second attempt. */
        assert_int_equal(pass(f, clock_usec(CLOCK_REALTIME)), 0);
        RUN_UNTIL(f, state_of(f, id, "webhook:again") == LEDGER_SENT);
        e = entry_of(f, id, "webhook:again");
        assert_int_equal(e->attempts, 2);
        ledger_entries_free(e, 1);
        assert_int_equal(outbox_counts(f->outbox)->retried, 1);
        assert_int_equal(peer_requests("\"path\": \"/again\"", NULL), 2);
        free(id);
}

/* A listening socket on loopback that never accepts: the kernel takes connections into the
 * backlog, a client sends its request and waits for an answer that never comes. */
static int silent_peer(Fixture *f) {
        struct sockaddr_in address = {.sin_family = AF_INET,
                                      .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t length = sizeof(address);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &address, sizeof(address)), 0);
        assert_int_equal(listen(fd, 8), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &address, &length), 0);
        f->port = ntohs(address.sin_port);
        return fd;
}

static void test_outbox_stop_gives_up_after_the_timeout_and_leaves_it_in_flight(void **state) {
        Fixture *f = *state;
        char milestone[DATE_STRING_MAX], *id;
        LedgerQueued *q = NULL;
        LedgerEntry *e;
        size_t n = 0;
        int silent = silent_peer(f);

        future_milestone(milestone);
        id = reminder_id("h", milestone);
        configure_hook(f, milestone, "silent", "");

        assert_int_equal(pass(f, clock_usec(CLOCK_REALTIME)), 0);
        assert_int_equal(outbox_in_flight(f->outbox), 1);
        assert_int_equal(outbox_stop(f->outbox, 200 * 1000, on_stopped, f), 0);
        RUN_UNTIL(f, f->stopped > 0);
        assert_int_equal(f->stopped, 1);
        assert_int_equal(outbox_in_flight(f->outbox), 1);
        /* It stays in flight in the ledger: neither settled nor due. */
        assert_int_equal(state_of(f, id, "webhook:silent"), LEDGER_QUEUED);
        assert_int_equal(ledger_queued_due(f->ledger, "silent", INT64_MAX, 10, &q, &n), 0);
        assert_int_equal(n, 0);
        ledger_queued_free(q, n);

        /* An outcome that comes after all is still recorded (here: the connection is reset),
         * and nothing new starts. */
        close(silent);
        RUN_UNTIL(f, outbox_in_flight(f->outbox) == 0 && outbox_counts(f->outbox)->retried == 1);
        drain(f);
        assert_int_equal(state_of(f, id, "webhook:silent"), LEDGER_QUEUED);
        e = entry_of(f, id, "webhook:silent");
        assert_int_equal(e->attempts, 1);
        assert_non_null(e->reply);
        ledger_entries_free(e, 1);
        assert_int_equal(f->stopped, 1);
        free(id);
}

static void test_outbox_run_skips_messages_of_a_transport_no_longer_in_the_config(void **state) {
        Fixture *f = *state;
        char *id = reminder_id("h", MILESTONE_PAST);
        LedgerEntry *e;
        Model *old;

        /* Queued for a webhook; then a reload drops the transport (and h with it). */
        f->port = 9; /* never used: nothing is sent before the reload */
        configure_hook(f, MILESTONE_PAST, "old", "");
        assert_int_equal(pass_queue_due(f->pass, f->model, NOW_PAST_USEC, D("2020-04-24")), 0);
        assert_int_equal(state_of(f, id, "webhook:old"), LEDGER_QUEUED);
        old = f->model;
        f->model = NULL;
        configure_mail(f, MILESTONE_PAST);
        model_free(old); /* the outbox has the new one */

        /* Nothing went wrong with it: skipped, not failed, and nobody is alarmed. */
        assert_int_equal(outbox_run(f->outbox, NOW_PAST_USEC), 0);
        RUN_UNTIL(f, state_of(f, id, "webhook:old") == LEDGER_SKIPPED);
        e = entry_of(f, id, "webhook:old");
        assert_contains(e->reply, "transport old is no longer in the config");
        ledger_entries_free(e, 1);
        assert_int_equal(count_mails(f), 0);
        assert_int_equal(outbox_counts(f->outbox)->failed, 0);
        assert_int_equal(outbox_counts(f->outbox)->escalated, 0);
        free(id);
}

static bool on_progress(void *userdata) {
        Fixture *f = userdata;

        return f->progress++ < f->progress_allowed;
}

static void on_settled(void *userdata) {
        Fixture *f = userdata;

        f->settled++;
}

static void test_outbox_run_stops_between_local_deliveries_when_progress_says_so(void **state) {
        Fixture *f = *state;
        LedgerQueued *q = NULL;
        size_t n = 0;

        configure(f, MILESTONE_PAST, "", "", "\"a\"",
                  ", { id = \"y\"; date = \"" MILESTONE_PAST "\"; title = \"Y\"; }"
                  ", { id = \"z\"; date = \"" MILESTONE_PAST "\"; title = \"Z\"; }");
        outbox_set_hooks(f->outbox, on_progress, on_settled, f);
        f->progress_allowed = 2; /* one for the transport, one delivery, then "stop" */

        assert_int_equal(pass(f, NOW_PAST_USEC), 0);
        assert_int_equal(pass_counts(f->pass)->queued, 3);
        assert_int_equal(count_mails(f), 1);
        assert_int_equal(outbox_counts(f->outbox)->sent, 1);
        assert_true(f->settled >= 1);
        /* The rest wait, neither in flight nor interrupted. */
        assert_int_equal(ledger_queued_due(f->ledger, "box", NOW_PAST_USEC, 10, &q, &n), 0);
        assert_int_equal(n, 2);
        for (size_t i = 0; i < n; i++) {
                assert_false(q[i].interrupted);
                assert_int_equal(q[i].attempts, 0);
        }
        ledger_queued_free(q, n);

        /* Allowed again, the next run sends them. */
        f->progress_allowed = UINT_MAX;
        assert_int_equal(outbox_run(f->outbox, NOW_PAST_USEC), 0);
        assert_int_equal(count_mails(f), 3);
        assert_int_equal(outbox_counts(f->outbox)->sent, 3);
}

/* Nothing left in the outbox, nothing in flight. */
static bool outbox_is_empty(const Fixture *f) {
        usec_t next;

        return outbox_in_flight(f->outbox) == 0 && ledger_queued_next(f->ledger, &next) == 0;
}

/* Two one-off deadlines of one commitment on one day, both failing for one recipient by one
 * channel: each failure is its own, and each is escalated.  message.h names an escalation by
 * the failed reminder's kind as "deadline:ID", and phrases it with that deadline's title. */
static void test_outbox_run_escalates_each_failed_deadline_of_one_day(void **state) {
        Fixture *f = *state;
        char milestone[DATE_STRING_MAX], more[160], *x, *y, *transport, *recipient;

        peer_start(f);
        future_milestone(milestone);
        x = reminder_id("h", milestone);
        assert_true(asprintf(&y, "c/deadline:y/0/%s/7d/h", milestone) > 0);
        snprintf(more, sizeof(more), ", { id = \"y\"; date = \"%s\"; title = \"Y\"; }", milestone);
        assert_true(asprintf(&transport, "twice = { url = \"http://127.0.0.1:%d/twice\"; };",
                             f->port) > 0);
        assert_true(asprintf(&recipient,
                             ", { id = \"h\"; name = \"H\"; webhooks = [\"twice\"]; }") > 0);
        configure(f, milestone, transport, recipient, "\"h\"", more);
        free(transport);
        free(recipient);

        assert_int_equal(pass(f, clock_usec(CLOCK_REALTIME)), 0);
        RUN_UNTIL(f, state_of(f, x, "webhook:twice") == LEDGER_FAILED &&
                             state_of(f, y, "webhook:twice") == LEDGER_FAILED &&
                             outbox_is_empty(f));
        drain(f);
        assert_int_equal(outbox_counts(f->outbox)->failed, 2);
        assert_int_equal(peer_requests("\"path\": \"/twice\"", NULL), 2);
        assert_int_equal(escalations(f, LEDGER_SENT), 2);
        assert_int_equal(count_mails(f), 2);
        free(x);
        free(y);
}

/* A process that ends with a transfer in flight (after the stop timeout): the message stays in
 * flight in the ledger and the next start sends it again, marked interrupted.  outbox_free()
 * must not leak what it held for the transfer (seen by make SANITIZE=1). */
static void test_outbox_free_with_a_transfer_in_flight_leaves_it_for_the_next_start(void **state) {
        Fixture *f = *state;
        char milestone[DATE_STRING_MAX], *id, *error = NULL;
        Secret *secrets = NULL;
        LedgerQueued *q = NULL;
        size_t n = 0;
        int silent = silent_peer(f);

        future_milestone(milestone);
        id = reminder_id("h", milestone);
        configure_hook(f, milestone, "silent", "");
        assert_int_equal(pass(f, clock_usec(CLOCK_REALTIME)), 0);
        assert_int_equal(outbox_in_flight(f->outbox), 1);

        f->outbox = outbox_free(f->outbox);
        close(silent);
        assert_int_equal(state_of(f, id, "webhook:silent"), LEDGER_QUEUED);
        assert_int_equal(ledger_queued_due(f->ledger, "silent", INT64_MAX, 10, &q, &n), 0);
        assert_int_equal(n, 0); /* in flight */
        ledger_queued_free(q, n);

        assert_int_equal(outbox_new(f->event, f->ledger, &f->outbox), 0);
        assert_int_equal(secrets_load(f->model, &secrets, &error), 0);
        outbox_configure(f->outbox, f->model, secrets);
        assert_int_equal(outbox_recover(f->outbox), 0);
        assert_int_equal(ledger_queued_due(f->ledger, "silent", INT64_MAX, 10, &q, &n), 0);
        assert_int_equal(n, 1);
        assert_true(q[0].interrupted);
        assert_int_equal(q[0].attempts, 1);
        ledger_queued_free(q, n);
        free(id);
}

/* --- the ledger refusing an escalation, or a read ----------------------------------------- */

int __real_ledger_enqueue(Ledger *l, const LedgerReminder *m, const LedgerMessage *msg,
                          usec_t now_usec);
int __wrap_ledger_enqueue(Ledger *l, const LedgerReminder *m, const LedgerMessage *msg,
                          usec_t now_usec);
int __real_ledger_queued_transports(Ledger *l, usec_t now_usec, char ***ret, size_t *ret_n);
int __wrap_ledger_queued_transports(Ledger *l, usec_t now_usec, char ***ret, size_t *ret_n);

static int escalation_failures; /* escalation enqueues to refuse with -EBUSY */
static int transports_failures; /* ledger_queued_transports() calls to refuse with -EBUSY */

int __wrap_ledger_enqueue(Ledger *l, const LedgerReminder *m, const LedgerMessage *msg,
                          usec_t now_usec) {
        if (identity_is_escalation(m->identity) && escalation_failures > 0) {
                escalation_failures--;
                return -EBUSY;
        }
        return __real_ledger_enqueue(l, m, msg, now_usec);
}

int __wrap_ledger_queued_transports(Ledger *l, usec_t now_usec, char ***ret, size_t *ret_n) {
        if (transports_failures > 0) {
                transports_failures--;
                return -EBUSY;
        }
        return __real_ledger_queued_transports(l, now_usec, ret, ret_n);
}

/* A failed reminder whose escalation the ledger refuses once (busy for 5 s, a full disk): the
 * failure waits with it, and both are recorded by a later run. */
static void test_outbox_run_queues_an_escalation_the_ledger_refused_once_later(void **state) {
        Fixture *f = *state;
        char *id = reminder_id("a", MILESTONE_PAST);

        configure_mail(f, MILESTONE_PAST);
        assert_int_equal(pass_queue_due(f->pass, f->model, NOW_PAST_USEC, D("2020-04-24")), 0);
        escalation_failures = 1;
        assert_int_equal(outbox_run(f->outbox, NOW_PAST_USEC + 10 * DAY_SEC * SEC_USEC), 0);
        drain(f);
        assert_int_equal(state_of(f, id, "mail"), LEDGER_FAILED);
        /* Everything that could retry it: loop turns, more runs, a pass. */
        for (int i = 0; i < 3; i++) {
                assert_int_equal(outbox_run(f->outbox, NOW_PAST_USEC + 10 * DAY_SEC * SEC_USEC), 0);
                assert_int_equal(pass(f, NOW_PAST_USEC + 10 * DAY_SEC * SEC_USEC), 0);
                drain(f);
        }
        assert_int_equal(escalations(f, LEDGER_SENT) + escalations(f, LEDGER_QUEUED), 1);
        free(id);
}

/* A retry is due in about a second; when it comes, the outbox's read of the due transports fails
 * once.  The timer is armed again (5 s), and the retry is made then, not at the next pass. */
static void test_outbox_run_after_a_failed_read_arms_the_timer_again(void **state) {
        Fixture *f = *state;
        char milestone[DATE_STRING_MAX], *id;
        uint64_t now = clock_usec(CLOCK_REALTIME), until;
        int fd;

        future_milestone(milestone);
        id = reminder_id("a", milestone);
        f->settings = "retry_base = \"1s\"; retry_max = \"2s\";";
        configure_mail(f, milestone);
        fd = open(f->maildir, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(pass(f, now), 0);
        assert_int_equal(state_of(f, id, "mail"), LEDGER_QUEUED);
        assert_int_equal(unlink(f->maildir), 0); /* fixed: the retry would deliver it */
        drain(f);
        transports_failures = 1; /* the retry timer read fails once */
        until = clock_usec(CLOCK_MONOTONIC) + 8 * SEC_USEC;
        while (clock_usec(CLOCK_MONOTONIC) < until && state_of(f, id, "mail") != LEDGER_SENT)
                assert_true(sd_event_run(f->event, 200 * 1000) >= 0);
        assert_int_equal(state_of(f, id, "mail"), LEDGER_SENT);
        free(id);
}

/* --- the preview (pass_preview()) ------------------------------------------------------- */

#define PREVIEW_MAX 16

typedef struct Previewed {
        size_t n;
        struct {
                char line[160];
                PassFate fate;
                usec_t at_usec;
        } items[PREVIEW_MAX];
} Previewed;

static const char *const fate_names[] = {"due", "queued", "retrying", "skip"};

/* "due 2020-04-24T09:00:00 catch-up c/deadline:z/0/2020-04-28/7d/a" per preview. */
static int collect_preview(void *userdata, const PassPreview *p) {
        Previewed *v = userdata;
        time_t t = (time_t) (p->at_usec / SEC_USEC);
        struct tm tm;
        char at[32];

        assert_true(v->n < PREVIEW_MAX);
        assert_non_null(gmtime_r(&t, &tm));
        assert_true(strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%S", &tm) > 0);
        assert_true(p->fate == PASS_FATE_SKIP ? p->reason != NULL : p->reason == NULL);
        (void) snprintf(v->items[v->n].line, sizeof(v->items[v->n].line), "%s %s%s %s",
                        fate_names[p->fate], at, p->catch_up ? " catch-up" : "", p->identity->id);
        v->items[v->n].fate = p->fate;
        v->items[v->n++].at_usec = p->at_usec;
        return 0;
}

static char *preview_text(Fixture *f, usec_t now, Previewed *v) {
        char *text = NULL;
        size_t size = 0;
        FILE *out = open_memstream(&text, &size);

        *v = (Previewed){0};
        assert_int_equal(pass_load_decisions(f->pass, f->model), 0);
        assert_int_equal(pass_preview(f->pass, f->model, now, D("2020-04-24"), D("2020-04-30"),
                                      collect_preview, v),
                         0);
        for (size_t i = 0; i < v->n; i++)
                fprintf(out, "%s\n", v->items[i].line);
        fclose(out);
        return text;
}

/* Deadlines v (passed), z (its 7d missed three days ago, due at today's send_time), x (due
 * now), y (tomorrow) for a and b; b's x reminder already skipped in the ledger. */
static void configure_preview(Fixture *f) {
        LedgerReminder skipped = {
                .identity = KEY("c/deadline:x/0/2020-05-01/7d/b", "mail"),
                .due_usec = NOW_PAST_USEC - SEC_USEC,
        };
        ReminderIdentity x = {0};

        configure(f, MILESTONE_PAST, "",
                  ", { id = \"b\"; name = \"B\"; mail = [\"b@x.example\"]; }", "\"a\", \"b\"",
                  ", { id = \"y\"; date = \"2020-05-02\"; title = \"Y\"; }"
                  ", { id = \"z\"; date = \"2020-04-28\"; title = \"Z\"; }"
                  ", { id = \"v\"; date = \"2020-04-20\"; title = \"V\"; }");
        assert_int_equal(
                identity_make("c", "deadline", "x", 0, "2020-05-01", "7d", "b", "mail", &x), 0);
        skipped.identity = &x;
        assert_int_equal(ledger_mark_skipped(f->ledger, &skipped, NOW_PAST_USEC - 1, "test"), 0);
        identity_done(&x);
}

static void test_pass_preview_due_now_is_what_the_pass_queues(void **state) {
        Fixture *f = *state;
        Previewed v;
        char *text;

        configure_preview(f);
        text = preview_text(f, NOW_PAST_USEC, &v);
        assert_string_equal(text,
                            "due 2020-04-24T09:00:00 catch-up c/deadline:z/0/2020-04-28/7d/a\n"
                            "due 2020-04-24T09:00:00 catch-up c/deadline:z/0/2020-04-28/7d/b\n"
                            "due 2020-04-24T09:00:00 c/deadline:x/0/2020-05-01/7d/a\n"
                            "skip 2020-04-24T09:00:01 catch-up c/deadline:v/0/2020-04-20/7d/a\n"
                            "skip 2020-04-24T09:00:01 catch-up c/deadline:v/0/2020-04-20/7d/b\n"
                            "due 2020-04-25T09:00:00 c/deadline:y/0/2020-05-02/7d/a\n"
                            "due 2020-04-25T09:00:00 c/deadline:y/0/2020-05-02/7d/b\n");
        free(text);
        /* The pass queues exactly the due-now set, and skips exactly the skips. */
        assert_int_equal(pass_load_decisions(f->pass, f->model), 0);
        assert_int_equal(pass_queue_due(f->pass, f->model, NOW_PAST_USEC, D("2020-04-24")), 0);
        assert_int_equal(state_of(f, "c/deadline:z/0/2020-04-28/7d/a", "mail"), LEDGER_QUEUED);
        assert_int_equal(state_of(f, "c/deadline:z/0/2020-04-28/7d/b", "mail"), LEDGER_QUEUED);
        assert_int_equal(state_of(f, "c/deadline:x/0/2020-05-01/7d/a", "mail"), LEDGER_QUEUED);
        assert_int_equal(state_of(f, "c/deadline:v/0/2020-04-20/7d/a", "mail"), LEDGER_SKIPPED);
        assert_int_equal(state_of(f, "c/deadline:v/0/2020-04-20/7d/b", "mail"), LEDGER_SKIPPED);
        assert_int_equal(state_of(f, "c/deadline:y/0/2020-05-02/7d/a", "mail"), -1);
        assert_int_equal(pass_counts(f->pass)->queued, 3);
        assert_int_equal(pass_counts(f->pass)->skipped, 2);
        /* Then they wait in the outbox, due at once; the skipped are not shown. */
        text = preview_text(f, NOW_PAST_USEC + 1, &v);
        assert_string_equal(text, "queued 2020-04-24T09:00:01 c/deadline:z/0/2020-04-28/7d/a\n"
                                  "queued 2020-04-24T09:00:01 c/deadline:z/0/2020-04-28/7d/b\n"
                                  "queued 2020-04-24T09:00:01 c/deadline:x/0/2020-05-01/7d/a\n"
                                  "due 2020-04-25T09:00:00 c/deadline:y/0/2020-05-02/7d/a\n"
                                  "due 2020-04-25T09:00:00 c/deadline:y/0/2020-05-02/7d/b\n");
        free(text);
}

/* A message still waiting in the outbox when a later reminder of its milestone falls due is
 * superseded by it (ledger_enqueue()): the preview shows the later one only. */
static void test_pass_preview_shows_a_waiting_message_superseded(void **state) {
        Fixture *f = *state;
        usec_t at_7d = ((usec_t) D("2020-04-24") * DAY_SEC + 9 * 3600) * SEC_USEC,
               at_3d = ((usec_t) D("2020-04-28") * DAY_SEC + 9 * 3600) * SEC_USEC;
        Previewed v;
        char *text;

        f->offsets = "\"7d\", \"3d\"";
        configure(f, MILESTONE_PAST, "", "", "\"a\"", "");
        /* The 7d reminder queued, its transport never run: it waits. */
        assert_int_equal(pass_load_decisions(f->pass, f->model), 0);
        assert_int_equal(pass_queue_due(f->pass, f->model, at_7d, D("2020-04-24")), 0);
        assert_int_equal(state_of(f, "c/deadline:x/0/2020-05-01/7d/a", "mail"), LEDGER_QUEUED);
        text = preview_text(f, at_3d, &v);
        assert_string_equal(text, "due 2020-04-28T09:00:00 c/deadline:x/0/2020-05-01/3d/a\n"
                                  "skip 2020-04-28T09:00:00 c/deadline:x/0/2020-05-01/7d/a\n");
        free(text);
        assert_int_equal(pass_queue_due(f->pass, f->model, at_3d, D("2020-04-28")), 0);
        assert_int_equal(state_of(f, "c/deadline:x/0/2020-05-01/7d/a", "mail"), LEDGER_SKIPPED);
        assert_int_equal(state_of(f, "c/deadline:x/0/2020-05-01/3d/a", "mail"), LEDGER_QUEUED);
}

static void test_pass_preview_writes_nothing(void **state) {
        Fixture *f = *state;
        Previewed v;
        LedgerEntry *e = NULL;
        size_t n = 0;
        char *text;

        configure_preview(f);
        text = preview_text(f, NOW_PAST_USEC, &v);
        free(text);
        assert_int_equal(ledger_history(f->ledger, NULL, &e, &n), 0);
        assert_int_equal(n, 1); /* b's skipped x reminder, written by the test */
        ledger_entries_free(e, n);
        assert_int_equal(pass_counts(f->pass)->queued, 0);
}

static int stop_at_the_second(void *userdata, const PassPreview *p) {
        unsigned *calls = userdata;

        (void) p;
        return ++*calls == 2 ? -ECANCELED : 0;
}

static void test_pass_preview_stops_when_the_callback_says_so(void **state) {
        Fixture *f = *state;
        unsigned calls = 0;

        configure_preview(f);
        assert_int_equal(pass_load_decisions(f->pass, f->model), 0);
        assert_int_equal(pass_preview(f->pass, f->model, NOW_PAST_USEC, D("2020-04-24"),
                                      D("2020-04-30"), stop_at_the_second, &calls),
                         -ECANCELED);
        assert_int_equal(calls, 2);
}

static void test_pass_find_next_wakes_for_a_deferred_catch_up(void **state) {
        Fixture *f = *state;
        usec_t next = 0;
        char *description = NULL;
        /* 04:17 on 2020-04-24: z's 7d reminder (planned 2020-04-21) waits for 09:00. */
        usec_t now = ((usec_t) D("2020-04-24") * DAY_SEC + 4 * 3600 + 17 * 60) * SEC_USEC;

        configure_preview(f);
        assert_int_equal(pass_load_decisions(f->pass, f->model), 0);
        assert_int_equal(pass_queue_due(f->pass, f->model, now, D("2020-04-24")), 0);
        assert_int_equal(pass_counts(f->pass)->queued, 0);
        assert_int_equal(
                pass_find_next(f->pass, f->model, now, D("2020-04-24"), &next, &description), 1);
        assert_int_equal(next, ((usec_t) D("2020-04-24") * DAY_SEC + 9 * 3600) * SEC_USEC);
        /* z's for a and b, x's for a, at 09:00 UTC: the zone is named. */
        assert_string_equal(description, "deadline c 2020-04-28 (a +1) at 2020-04-24 09:00 UTC");
        free(description);
}

int main(void) {
        const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
                T(test_outbox_run_delivers_due_reminders_and_records_them_sent),
                T(test_outbox_run_retries_a_failing_maildir_until_it_works),
                T(test_outbox_run_fails_a_maildir_past_its_deadline_without_escalating_through_it),
                T(test_outbox_run_fails_what_it_could_not_send_before_its_deadline),
                T(test_outbox_run_queues_an_escalation_the_ledger_refused_once_later),
                T(test_outbox_run_after_a_failed_read_arms_the_timer_again),
                T(test_outbox_recover_does_not_write_again_what_the_interrupted_attempt_delivered),
                T(test_outbox_recover_writes_what_the_interrupted_attempt_did_not_deliver),
                T(test_outbox_run_records_sent_later_when_the_ledger_refuses),
                T(test_outbox_run_records_sent_at_its_end_when_the_ledger_refuses_once),
                T(test_outbox_recover_after_a_refused_record_finds_the_mail_in_the_maildir),
                T(test_outbox_stop_with_nothing_in_flight_calls_done_from_the_loop),
                T(test_secrets_load_names_the_transport_it_cannot_read),
                T(test_outbox_run_fails_a_webhook_answered_410_at_once_and_escalates),
                T(test_outbox_run_fails_a_webhook_past_its_deadline_and_escalates_by_mail),
                T(test_outbox_run_sends_a_flaky_webhook_at_the_second_attempt),
                T(test_outbox_run_never_has_more_than_max_connections_in_flight),
                T(test_outbox_stop_waits_for_the_transfer_in_flight),
                T(test_outbox_run_arms_a_timer_for_the_retry),
                T(test_outbox_stop_gives_up_after_the_timeout_and_leaves_it_in_flight),
                T(test_outbox_run_skips_messages_of_a_transport_no_longer_in_the_config),
                T(test_outbox_run_stops_between_local_deliveries_when_progress_says_so),
                T(test_outbox_run_escalates_each_failed_deadline_of_one_day),
                T(test_outbox_free_with_a_transfer_in_flight_leaves_it_for_the_next_start),
                T(test_pass_preview_due_now_is_what_the_pass_queues),
                T(test_pass_preview_writes_nothing),
                T(test_pass_preview_shows_a_waiting_message_superseded),
                T(test_pass_preview_stops_when_the_callback_says_so),
                T(test_pass_find_next_wakes_for_a_deferred_catch_up),
#undef T
        };

        (void) signal(SIGPIPE, SIG_IGN); /* as the daemon does */
        log_set_max_level(getenv("TEST_LOG_DEBUG") ? LOG_DEBUG : LOG_WARNING);
        return cmocka_run_group_tests(tests, NULL, peer_stop);
}
