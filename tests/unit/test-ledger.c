/* Unit tests for the ledger: the durable record of what was sent, skipped, failed and decided.
 *
 * Written from the contract (DESIGN.md "Files and environment", ledger.h).  Every test works on
 * a real SQLite file in a fresh temporary directory that is removed afterwards, and reads what
 * the ledger wrote back through the ledger itself or through a second, plain SQLite connection,
 * the way noticectl reads the file while the daemon runs. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <ftw.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "noticed/ledger.h"

/* 2020-04-20T09:00:00+02:00, 30 days before the Twente decision deadline of 2020-05-19. */
#define DUE_USEC  INT64_C(1587366000000000)
#define NOW_USEC  INT64_C(1587366000100000)
#define HOUR_USEC INT64_C(3600000000)

#define ID_ENSCHEDE "burgernet-twente/decision/1/2020-05-19/30d/enschede"
#define ID_HENGELO  "burgernet-twente/decision/1/2020-05-19/30d/hengelo"

/* One edge is wrapped (-Wl,--wrap=sqlite3_step): a COMMIT can be made to fail the way a busy
 * or full disk makes it fail.  Everything else passes through. */
int __real_sqlite3_step(sqlite3_stmt *s);
int __wrap_sqlite3_step(sqlite3_stmt *s);

static int commit_failure; /* the SQLITE_* code the next COMMIT returns, or 0 */

int __wrap_sqlite3_step(sqlite3_stmt *s) {
        const char *sql = sqlite3_sql(s);

        if (commit_failure != 0 && sql && strcmp(sql, "COMMIT") == 0) {
                int rc = commit_failure;
                commit_failure = 0;
                return rc;
        }
        return __real_sqlite3_step(s);
}

/* The identities the tests made, freed by teardown().  Each is allocated on its own, so that a
 * LedgerReminder may point to it while more are made. */
static ReminderIdentity **identities;
static size_t n_identities;

typedef struct Fixture {
        char dir[PATH_MAX];
        char path[PATH_MAX + 32]; /* dir/ledger.sqlite, not created yet */
} Fixture;

static int setup(void **state) {
        const char *tmp = getenv("TMPDIR");
        Fixture *f = calloc(1, sizeof(*f));

        if (!f)
                return -1;
        if (!tmp || !*tmp)
                tmp = "/tmp";
        (void) snprintf(f->dir, sizeof(f->dir), "%s/test-ledger.XXXXXX", tmp);
        if (!mkdtemp(f->dir)) {
                free(f);
                return -1;
        }
        (void) snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, LEDGER_FILE);
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

        commit_failure = 0;
        for (size_t i = 0; i < n_identities; i++) {
                identity_done(identities[i]);
                free(identities[i]);
        }
        free(identities);
        identities = NULL;
        n_identities = 0;

        r = nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(f);
        return r;
}

static Ledger *open_ledger(const Fixture *f) {
        Ledger *l = NULL;
        int r;

        r = ledger_open(f->path, &l);
        if (r < 0)
                print_error("ledger_open(\"%s\") returned %d\n", f->path, r);
        assert_int_equal(r, 0);
        assert_non_null(l);
        return l;
}

/* A decision reminder's identity (30 days before 2020-05-19) with the id given: the ledger takes
 * the id as its key and the other parts as columns, and the tests name rows by their ids. */
static ReminderIdentity *identity(const char *id, const char *channel, const char *commitment,
                                  const char *recipient) {
        ReminderIdentity **more, *x = calloc(1, sizeof(*x));

        assert_non_null(x);
        assert_int_equal(identity_make(commitment, "decision", NULL, 1, "2020-05-19", "30d",
                                       recipient, channel, x),
                         0);
        free(x->id);
        x->id = strdup(id);
        assert_non_null(x->id);
        more = reallocarray(identities, n_identities + 1, sizeof(*more));
        assert_non_null(more);
        identities = more;
        identities[n_identities++] = x;
        return x;
}

/* The identity that names the row (id, channel), for the calls that only look it up. */
static const ReminderIdentity *key(const char *id, const char *channel) {
        return identity(id, channel, "burgernet-twente", "enschede");
}

/* A part of an identity made here, changed. */
static void set_part(const LedgerReminder *r, char **part, const char *value) {
        assert_true((void *) part >= (void *) r->identity &&
                    (void *) part < (void *) (r->identity + 1));
        free(*part);
        *part = value ? strdup(value) : NULL;
        assert_true(!value || *part);
}
#define SET_PART(r, field, value)                                                                  \
        set_part(&(r), &((ReminderIdentity *) (r).identity)->field, (value))

static LedgerReminder reminder(const char *id, const char *channel, const char *commitment,
                               const char *recipient, usec_t due_usec) {
        return (LedgerReminder){.identity = identity(id, channel, commitment, recipient),
                                .due_usec = due_usec};
}

static LedgerReminder enschede(void) {
        return reminder(ID_ENSCHEDE, "mail", "burgernet-twente", "enschede", DUE_USEC);
}

/* An attempt begins as the outbox begins one: the reminder is queued (ledger_enqueue()), and its
 * message goes in flight (ledger_queued_begin()), attempts + 1. */
static int begin(Ledger *l, const LedgerReminder *r, usec_t now) {
        LedgerMessage m = {.transport = "relay",
                           .payload = "x",
                           .payload_size = 1,
                           .deadline_usec = DUE_USEC + 30 * 24 * HOUR_USEC};
        int k;

        k = ledger_enqueue(l, r, &m, now);
        return k < 0 ? k : ledger_queued_begin(l, r->identity, now);
}

/* The attempt in flight failed for now, and the next begins at now. */
static int begin_again(Ledger *l, const LedgerReminder *r, usec_t now) {
        int k;

        k = ledger_queued_retry(l, r->identity, now, now, NULL);
        return k < 0 ? k : ledger_queued_begin(l, r->identity, now);
}

/* A row an older noticed left when it died during an attempt: pending, attempts, and no message
 * in the outbox.  Written through a plain connection, as that noticed wrote it. */
static void interrupted(const char *path, const LedgerReminder *r, unsigned attempts, usec_t now) {
        const ReminderIdentity *x = r->identity;
        sqlite3 *db = NULL;
        char *sql;

        sql = sqlite3_mprintf("INSERT INTO reminders (id, channel, commitment, kind, deadline, "
                              "cycle, milestone, offset_, recipient, due_usec, state, attempts, "
                              "created_usec, updated_usec) VALUES (%Q, %Q, %Q, %Q, %Q, %u, %Q, "
                              "%Q, %Q, %lld, 'pending', %u, %lld, %lld)",
                              x->id, x->channel, x->commitment, x->kind, x->deadline, x->cycle,
                              x->milestone, x->offset, x->recipient, (long long) r->due_usec,
                              attempts, (long long) now, (long long) now);
        assert_non_null(sql);
        assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_busy_timeout(db, 5000), SQLITE_OK);
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
                fail_msg("%s: %s", sql, sqlite3_errmsg(db));
        sqlite3_free(sql);
        assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* Runs sql through a separate, plain SQLite connection and returns the first column of the
 * first row as text (NULL for SQL NULL or no row). */
static char *query(const char *path, const char *sql) {
        sqlite3 *db = NULL;
        sqlite3_stmt *s = NULL;
        char *text = NULL;
        int rc;

        rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
        assert_int_equal(rc, SQLITE_OK);
        rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
        if (rc != SQLITE_OK)
                print_error("%s: %s\n", sql, sqlite3_errmsg(db));
        assert_int_equal(rc, SQLITE_OK);
        rc = sqlite3_step(s);
        assert_true(rc == SQLITE_ROW || rc == SQLITE_DONE);
        if (rc == SQLITE_ROW && sqlite3_column_text(s, 0)) {
                text = strdup((const char *) sqlite3_column_text(s, 0));
                assert_non_null(text);
        }
        (void) sqlite3_finalize(s);
        (void) sqlite3_close(db);
        return text;
}

static void assert_query(const char *path, const char *sql, const char *expected) {
        char *text = query(path, sql);

        assert_non_null(text);
        assert_string_equal(text, expected);
        free(text);
}

#define assert_contains(haystack, needle)                                                          \
        do {                                                                                       \
                if (!strstr((haystack), (needle)))                                                 \
                        fail_msg("\"%s\" not found in:\n%s", (needle), (haystack));                \
        } while (0)

/* Creates a database the way another program would, with plain SQLite. */
static void create_database(const char *path, const char *sql) {
        sqlite3 *db = NULL;
        int rc;

        rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
        assert_int_equal(rc, SQLITE_OK);
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                print_error("%s: %s\n", sql, sqlite3_errmsg(db));
        assert_int_equal(rc, SQLITE_OK);
        assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* The row (id, channel) as ledger_history() returns it; fails the test when it is missing. */
static LedgerEntry *history_entry(Ledger *l, const char *id, const char *channel,
                                  LedgerEntry **ret_all, size_t *ret_n) {
        assert_int_equal(ledger_history(l, NULL, ret_all, ret_n), 0);
        for (size_t i = 0; i < *ret_n; i++)
                if (strcmp((*ret_all)[i].identity.id, id) == 0 &&
                    strcmp((*ret_all)[i].identity.channel, channel) == 0)
                        return &(*ret_all)[i];
        fail_msg("%s on %s is not in the history", id, channel);
        return NULL;
}

static void assert_state(Ledger *l, const char *id, const char *channel, LedgerState expected) {
        LedgerState state = _LEDGER_STATE_MAX;

        assert_int_equal(ledger_get_state(l, key(id, channel), &state), 1);
        assert_string_equal(ledger_state_to_string(state), ledger_state_to_string(expected));
}

static void test_ledger_open_creates_file_with_mode_0600(void **state) {
        const Fixture *f = *state;
        LedgerReminder r = enschede();
        char wal[PATH_MAX + 64];
        struct stat st;
        mode_t old_umask;
        Ledger *l;

        /* With no umask to mask them, the bits are exactly the ones the ledger asked for. */
        old_umask = umask(0);
        l = open_ledger(f);
        (void) umask(old_umask);

        assert_int_equal(stat(f->path, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0600);
        /* SQLite's own files copy the database's mode. */
        assert_int_equal(ledger_mark_skipped(l, &r, NOW_USEC, "missed"), 0);
        (void) snprintf(wal, sizeof(wal), "%s-wal", f->path);
        assert_int_equal(stat(wal, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_null(ledger_close(l));
}

static void test_ledger_open_keeps_mode_of_existing_file(void **state) {
        const Fixture *f = *state;
        struct stat st;
        int fd;

        fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(fchmod(fd, 0640), 0);
        assert_int_equal(close(fd), 0);

        assert_null(ledger_close(open_ledger(f)));
        assert_int_equal(stat(f->path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
}

static void test_ledger_open_sets_wal_journal_mode(void **state) {
        const Fixture *f = *state;
        Ledger *l = open_ledger(f);

        assert_query(f->path, "PRAGMA journal_mode", "wal");
        assert_null(ledger_close(l));
        /* WAL is a property of the file: it stays when the ledger is closed. */
        assert_query(f->path, "PRAGMA journal_mode", "wal");
}

static void test_ledger_open_sets_schema_version(void **state) {
        const Fixture *f = *state;
        char expected[16];

        assert_null(ledger_close(open_ledger(f)));
        (void) snprintf(expected, sizeof(expected), "%d", LEDGER_SCHEMA_VERSION);
        assert_query(f->path, "PRAGMA user_version", expected);
        assert_query(f->path,
                     "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_schema "
                     "WHERE type = 'table' AND name IN ('reminders', 'decisions', 'outbox') "
                     "ORDER BY name)",
                     "decisions outbox reminders");
}

static void test_ledger_open_migrates_empty_database(void **state) {
        const Fixture *f = *state;
        LedgerReminder r = enschede();
        struct stat st;
        Ledger *l;

        /* A real database file (one page) with version 0 and no tables. */
        create_database(f->path, "CREATE TABLE t (x); DROP TABLE t;");
        assert_int_equal(stat(f->path, &st), 0);
        assert_true(st.st_size > 0);
        assert_query(f->path, "PRAGMA user_version", "0");
        assert_query(f->path, "SELECT count(*) FROM sqlite_schema", "0");

        l = open_ledger(f);
        assert_query(f->path, "PRAGMA user_version", "4");
        assert_int_equal(begin(l, &r, NOW_USEC), 0);
        assert_int_equal(ledger_record_decision(l, "burgernet-twente", 1, "enschede",
                                                DECISION_CONTINUE, NULL, "root", NOW_USEC),
                         0);
        assert_state(l, ID_ENSCHEDE, "mail", LEDGER_QUEUED);
        assert_null(ledger_close(l));
}

static void test_ledger_open_keeps_rows_on_reopen(void **state) {
        const Fixture *f = *state;
        LedgerReminder r = enschede();
        LedgerDecision *decisions = NULL;
        LedgerEntry *entries = NULL;
        size_t n = 0;
        Ledger *l;

        l = open_ledger(f);
        assert_int_equal(begin(l, &r, NOW_USEC), 0);
        assert_int_equal(
                ledger_mark_sent(l, key(ID_ENSCHEDE, "mail"), NOW_USEC, "250 OK", "<id@x>"), 0);
        assert_int_equal(ledger_record_decision(l, "burgernet-twente", 1, "enschede",
                                                DECISION_TERMINATE, "B&W besluit", "root",
                                                NOW_USEC),
                         0);
        assert_null(ledger_close(l));

        l = open_ledger(f);
        assert_int_equal(ledger_history(l, NULL, &entries, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(entries[0].identity.id, ID_ENSCHEDE);
        assert_int_equal(entries[0].state, LEDGER_SENT);
        assert_string_equal(entries[0].reply, "250 OK");
        ledger_entries_free(entries, n);
        assert_int_equal(ledger_decisions(l, &decisions, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(decisions[0].decision, DECISION_TERMINATE);
        assert_string_equal(decisions[0].note, "B&W besluit");
        ledger_decisions_free(decisions, n);
        /* Still sent after the restart: the ledger is what prevents a second send. */
        assert_int_equal(begin(l, &r, NOW_USEC + HOUR_USEC), -EALREADY);
        assert_null(ledger_close(l));
}

static void test_ledger_open_refuses_newer_schema(void **state) {
        const Fixture *f = *state;
        char sql[64], expected[16];
        Ledger *l = NULL;

        (void) snprintf(sql, sizeof(sql), "CREATE TABLE future (x); PRAGMA user_version = %d;",
                        LEDGER_SCHEMA_VERSION + 1);
        create_database(f->path, sql);

        assert_int_equal(ledger_open(f->path, &l), -EPROTONOSUPPORT);
        assert_null(l);
        /* Refused before anything was written: not migrated, not even switched to WAL. */
        (void) snprintf(expected, sizeof(expected), "%d", LEDGER_SCHEMA_VERSION + 1);
        assert_query(f->path, "PRAGMA user_version", expected);
        assert_query(f->path, "PRAGMA journal_mode", "delete");
        assert_query(f->path, "SELECT count(*) FROM sqlite_schema WHERE name = 'reminders'", "0");
}

static void test_ledger_open_refuses_non_database(void **state) {
        const Fixture *f = *state;
        unsigned char bytes[3 * 4096], after[sizeof(bytes) + 1];
        uint32_t x = 2463534242u; /* xorshift32: the same "random" bytes on every run */
        Ledger *l = NULL;
        FILE *file;

        for (size_t i = 0; i < sizeof(bytes); i++) {
                x ^= x << 13, x ^= x >> 17, x ^= x << 5;
                bytes[i] = (unsigned char) x;
        }
        assert_memory_not_equal(bytes, "SQLite format 3", 16);
        file = fopen(f->path, "wbe");
        assert_non_null(file);
        assert_int_equal(fwrite(bytes, 1, sizeof(bytes), file), sizeof(bytes));
        assert_int_equal(fclose(file), 0);

        assert_int_equal(ledger_open(f->path, &l), -EBADMSG);
        assert_null(l);
        /* And left alone. */
        file = fopen(f->path, "rbe");
        assert_non_null(file);
        assert_int_equal(fread(after, 1, sizeof(after), file), sizeof(bytes));
        assert_int_equal(fclose(file), 0);
        assert_memory_equal(after, bytes, sizeof(bytes));
}

static void test_ledger_open_refuses_directory(void **state) {
        const Fixture *f = *state;
        Ledger *l = NULL;

        assert_int_equal(mkdir(f->path, 0700), 0);
        assert_int_equal(ledger_open(f->path, &l), -EISDIR);
        assert_null(l);
        assert_int_equal(ledger_open(f->dir, &l), -EISDIR);
        assert_null(l);
}

static void test_ledger_open_refuses_fifo(void **state) {
        const Fixture *f = *state;
        Ledger *l = NULL;

        assert_int_equal(mkfifo(f->path, 0600), 0);
        assert_int_equal(ledger_open(f->path, &l), -EBADFD);
        assert_null(l);
}

static void test_ledger_open_refuses_missing_directory(void **state) {
        const Fixture *f = *state;
        char path[PATH_MAX + 32];
        Ledger *l = NULL;

        (void) snprintf(path, sizeof(path), "%s/missing/%s", f->dir, LEDGER_FILE);
        assert_int_equal(ledger_open(path, &l), -ENOENT);
        assert_null(l);
}

static void test_ledger_open_refuses_uri(void **state) {
        const Fixture *f = *state;
        char path[PATH_MAX + 64];
        Ledger *l = NULL;

        (void) snprintf(path, sizeof(path), "file:%s?mode=memory", f->path);
        assert_int_equal(ledger_open(path, &l), -EINVAL);
        assert_null(l);
        assert_int_equal(access(f->path, F_OK), -1);
}

static void test_ledger_open_twice_shares_writes(void **state) {
        const Fixture *f = *state;
        LedgerReminder r = enschede();
        LedgerReminder hengelo =
                reminder(ID_HENGELO, "mail", "burgernet-twente", "hengelo", DUE_USEC);
        LedgerDecision *decisions = NULL;
        LedgerEntry *entries = NULL, *e;
        Ledger *daemon, *ctl;
        size_t n = 0;

        daemon = open_ledger(f);
        ctl = open_ledger(f);

        assert_int_equal(begin(daemon, &r, NOW_USEC), 0);
        assert_state(ctl, ID_ENSCHEDE, "mail", LEDGER_QUEUED);
        assert_int_equal(ledger_mark_sent(ctl, key(ID_ENSCHEDE, "mail"), NOW_USEC, "250 OK", NULL),
                         0);
        assert_state(daemon, ID_ENSCHEDE, "mail", LEDGER_SENT);
        /* The refusal must not leave a transaction (and the write lock) behind. */
        assert_int_equal(begin(daemon, &r, NOW_USEC), -EALREADY);
        assert_int_equal(begin(ctl, &hengelo, NOW_USEC), 0);
        assert_int_equal(begin_again(daemon, &hengelo, NOW_USEC + 1), 0);
        e = history_entry(ctl, ID_HENGELO, "mail", &entries, &n);
        assert_int_equal(e->attempts, 2);
        ledger_entries_free(entries, n);

        assert_int_equal(ledger_record_decision(ctl, "burgernet-twente", 1, "enschede",
                                                DECISION_CONTINUE, NULL, "root", NOW_USEC),
                         0);
        assert_int_equal(ledger_decisions(daemon, &decisions, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(decisions[0].participant, "enschede");
        ledger_decisions_free(decisions, n);

        assert_null(ledger_close(daemon));
        assert_null(ledger_close(ctl));
}

static void test_ledger_enqueue_waits_for_lock_then_returns_ebusy(void **state) {
        const Fixture *f = *state;
        LedgerReminder r = enschede();
        struct timespec start, end;
        sqlite3 *other = NULL;
        Ledger *l = open_ledger(f);
        double waited;

        /* Another writer holds the write lock for longer than the ledger's busy timeout. */
        assert_int_equal(sqlite3_open_v2(f->path, &other, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);

        assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &start), 0);
        assert_int_equal(begin(l, &r, NOW_USEC), -EBUSY);
        assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &end), 0);
        waited =
                (double) (end.tv_sec - start.tv_sec) + (double) (end.tv_nsec - start.tv_nsec) / 1e9;
        assert_true(waited >= 1.0); /* it waited rather than failing at once */
        assert_true(ledger_error(l)[0] != '\0');

        assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_close(other), SQLITE_OK);
        assert_int_equal(begin(l, &r, NOW_USEC), 0);
        assert_state(l, ID_ENSCHEDE, "mail", LEDGER_QUEUED);
        assert_null(ledger_close(l));
}

static void test_ledger_queued_begin_records_the_attempt_on_its_row(void **state) {
        const Fixture *f = *state;
        LedgerReminder r = enschede();
        LedgerEntry *entries = NULL, *e;
        Ledger *l = open_ledger(f);
        size_t n = 0;

        assert_int_equal(begin(l, &r, NOW_USEC), 0);
        assert_state(l, ID_ENSCHEDE, "mail", LEDGER_QUEUED);
        e = history_entry(l, ID_ENSCHEDE, "mail", &entries, &n);
        assert_int_equal(n, 1);
        assert_int_equal(e->state, LEDGER_QUEUED);
        assert_int_equal(e->attempts, 1);
        assert_string_equal(e->identity.commitment, "burgernet-twente");
        assert_string_equal(e->identity.kind, "decision");
        assert_int_equal(e->identity.cycle, 1);
        assert_string_equal(e->identity.milestone, "2020-05-19");
        assert_string_equal(e->identity.offset, "30d");
        assert_string_equal(e->identity.recipient, "enschede");
        assert_int_equal(e->due_usec, DUE_USEC);
        assert_int_equal(e->created_usec, NOW_USEC);
        assert_int_equal(e->updated_usec, NOW_USEC);
        assert_null(e->reply);
        assert_null(e->message_id);
        ledger_entries_free(entries, n);
        assert_null(ledger_close(l));
}

static void test_ledger_queued_begin_again_counts_attempts(void **state) {
        const Fixture *f = *state;
        LedgerReminder r = enschede();
        LedgerEntry *entries = NULL, *e;
        Ledger *l = open_ledger(f);
        size_t n = 0;

        assert_int_equal(begin(l, &r, NOW_USEC), 0);
        assert_int_equal(begin_again(l, &r, NOW_USEC + HOUR_USEC), 0);
        e = history_entry(l, ID_ENSCHEDE, "mail", &entries, &n);
        assert_int_equal(n, 1);
        assert_int_equal(e->state, LEDGER_QUEUED);
        assert_int_equal(e->attempts, 2);
        assert_int_equal(e->created_usec, NOW_USEC);
        assert_int_equal(e->updated_usec, NOW_USEC + HOUR_USEC);
        ledger_entries_free(entries, n);
        assert_null(ledger_close(l));
}

static void test_ledger_enqueue_refuses_every_settled_row(void **state) {
        const Fixture *f = *state;
        LedgerReminder sent = enschede();
        LedgerReminder failed =
                reminder(ID_ENSCHEDE, "webhook:teams", "burgernet-twente", "enschede", DUE_USEC);
        LedgerReminder skipped =
                reminder(ID_HENGELO, "mail", "burgernet-twente", "hengelo", DUE_USEC);
        LedgerEntry *entries = NULL, *e;
        Ledger *l = open_ledger(f);
        size_t n = 0;

        assert_int_equal(begin(l, &sent, NOW_USEC), 0);
        assert_int_equal(ledger_mark_sent(l, sent.identity, NOW_USEC, NULL, NULL), 0);
        assert_int_equal(begin(l, &failed, NOW_USEC), 0);
        assert_int_equal(ledger_mark_failed(l, failed.identity, NOW_USEC, "500"), 0);
        assert_int_equal(ledger_mark_skipped(l, &skipped, NOW_USEC, "missed"), 0);

        assert_int_equal(begin(l, &sent, NOW_USEC + HOUR_USEC), -EALREADY);
        assert_true(ledger_error(l)[0] != '\0');
        assert_int_equal(begin(l, &failed, NOW_USEC + HOUR_USEC), -EALREADY);
        assert_int_equal(begin(l, &skipped, NOW_USEC + HOUR_USEC), -EALREADY);

        assert_state(l, sent.identity->id, sent.identity->channel, LEDGER_SENT);
        assert_state(l, failed.identity->id, failed.identity->channel, LEDGER_FAILED);
        assert_state(l, skipped.identity->id, skipped.identity->channel, LEDGER_SKIPPED);
        e = history_entry(l, sent.identity->id, sent.identity->channel, &entries, &n);
        assert_int_equal(e->attempts, 1);
        assert_int_equal(e->updated_usec, NOW_USEC);
        ledger_entries_free(entries, n);
        assert_null(ledger_close(l));
}

static void test_ledger_enqueue_refuses_incomplete_reminder(void **state) {
        const Fixture *f = *state;
        LedgerReminder r = enschede();
        LedgerMessage m = {.transport = "relay", .payload = "x", .payload_size = 1};
        Ledger *l = open_ledger(f);

        SET_PART(r, channel, NULL);
        assert_int_equal(ledger_enqueue(l, &r, &m, NOW_USEC), -EINVAL);
        assert_int_equal(ledger_mark_skipped(l, &r, NOW_USEC, "x"), -EINVAL);
        assert_int_equal(ledger_enqueue(l, NULL, &m, NOW_USEC), -EINVAL);
        assert_int_equal(ledger_enqueue(NULL, &r, &m, NOW_USEC), -EINVAL);
        assert_int_equal(ledger_get_state(l, key(ID_ENSCHEDE, "mail"), NULL), 0);
        assert_null(ledger_close(l));
}

static void test_ledger_mark_sent_stores_reply_and_message_id(void **state) {
        const Fixture *f = *state;
        LedgerReminder r = enschede();
        LedgerEntry *entries = NULL, *e;
        Ledger *l = open_ledger(f);
        size_t n = 0;

        assert_int_equal(begin(l, &r, NOW_USEC), 0);
        assert_int_equal(ledger_mark_sent(l, key(ID_ENSCHEDE, "mail"), NOW_USEC + 5,
                                          "250 2.0.0 Ok: queued as 4F3", "<abc@noticed>"),
                         0);
        assert_state(l, ID_ENSCHEDE, "mail", LEDGER_SENT);
        e = history_entry(l, ID_ENSCHEDE, "mail", &entries, &n);
        assert_int_equal(e->state, LEDGER_SENT);
        assert_string_equal(e->reply, "250 2.0.0 Ok: queued as 4F3");
        assert_string_equal(e->message_id, "<abc@noticed>");
        assert_int_equal(e->attempts, 1);
        assert_int_equal(e->created_usec, NOW_USEC);
        assert_int_equal(e->updated_usec, NOW_USEC + 5);
        ledger_entries_free(entries, n);
        assert_null(ledger_close(l));
}

static void test_ledger_mark_sent_refuses_missing_row(void **state) {
        const Fixture *f = *state;
        Ledger *l = open_ledger(f);

        assert_int_equal(ledger_mark_sent(l, key(ID_ENSCHEDE, "mail"), NOW_USEC, NULL, NULL),
                         -ENOENT);
        assert_true(ledger_error(l)[0] != '\0');
        assert_int_equal(ledger_get_state(l, key(ID_ENSCHEDE, "mail"), NULL), 0);
        assert_null(ledger_close(l));
}

static void test_ledger_mark_sent_refuses_settled_row(void **state) {
        const Fixture *f = *state;
        LedgerReminder r = enschede();
        LedgerReminder skipped =
                reminder(ID_HENGELO, "mail", "burgernet-twente", "hengelo", DUE_USEC);
        LedgerEntry *entries = NULL, *e;
        Ledger *l = open_ledger(f);
        size_t n = 0;

        assert_int_equal(begin(l, &r, NOW_USEC), 0);
        assert_int_equal(ledger_mark_sent(l, key(ID_ENSCHEDE, "mail"), NOW_USEC, "first", "<1@x>"),
                         0);
        assert_int_equal(
                ledger_mark_sent(l, key(ID_ENSCHEDE, "mail"), NOW_USEC + 1, "second", "<2@x>"),
                -EALREADY);
        assert_int_equal(
                ledger_mark_failed(l, key(ID_ENSCHEDE, "mail"), NOW_USEC + 1, "late error"),
                -EALREADY);
        assert_int_equal(ledger_mark_skipped(l, &skipped, NOW_USEC, "missed"), 0);
        assert_int_equal(ledger_mark_sent(l, key(ID_HENGELO, "mail"), NOW_USEC + 1, NULL, NULL),
                         -EALREADY);

        e = history_entry(l, ID_ENSCHEDE, "mail", &entries, &n);
        assert_int_equal(e->state, LEDGER_SENT);
        assert_string_equal(e->reply, "first");
        assert_string_equal(e->message_id, "<1@x>");
        assert_int_equal(e->updated_usec, NOW_USEC);
        ledger_entries_free(entries, n);
        assert_state(l, ID_HENGELO, "mail", LEDGER_SKIPPED);
        assert_null(ledger_close(l));
}

static void test_ledger_mark_failed_settles_pending_row(void **state) {
        const Fixture *f = *state;
        LedgerReminder r = enschede();
        LedgerEntry *entries = NULL, *e;
        Ledger *l = open_ledger(f);
        size_t n = 0;

        assert_int_equal(begin(l, &r, NOW_USEC), 0);
        assert_int_equal(begin_again(l, &r, NOW_USEC + 1), 0);
        assert_int_equal(ledger_mark_failed(l, key(ID_ENSCHEDE, "mail"), NOW_USEC + 2,
                                            "550 5.1.1 mailbox unavailable"),
                         0);
        assert_state(l, ID_ENSCHEDE, "mail", LEDGER_FAILED);
        e = history_entry(l, ID_ENSCHEDE, "mail", &entries, &n);
        assert_int_equal(e->state, LEDGER_FAILED);
        assert_string_equal(e->reply, "550 5.1.1 mailbox unavailable");
        assert_null(e->message_id);
        assert_int_equal(e->attempts, 2);
        assert_int_equal(e->updated_usec, NOW_USEC + 2);
        ledger_entries_free(entries, n);
        assert_null(ledger_close(l));
}

static void test_ledger_mark_failed_refuses_missing_row(void **state) {
        const Fixture *f = *state;
        Ledger *l = open_ledger(f);

        assert_int_equal(ledger_mark_failed(l, key(ID_ENSCHEDE, "mail"), NOW_USEC, "500"), -ENOENT);
        assert_int_equal(ledger_get_state(l, key(ID_ENSCHEDE, "mail"), NULL), 0);
        assert_null(ledger_close(l));
}

static void test_ledger_mark_skipped_creates_skipped_row(void **state) {
        const Fixture *f = *state;
        LedgerReminder r = enschede();
        LedgerEntry *entries = NULL, *e;
        Ledger *l = open_ledger(f);
        size_t n = 0;

        assert_int_equal(ledger_mark_skipped(l, &r, NOW_USEC, "missed while stopped"), 0);
        assert_state(l, ID_ENSCHEDE, "mail", LEDGER_SKIPPED);
        e = history_entry(l, ID_ENSCHEDE, "mail", &entries, &n);
        assert_int_equal(n, 1);
        assert_int_equal(e->state, LEDGER_SKIPPED);
        assert_string_equal(e->reply, "missed while stopped");
        assert_null(e->message_id);
        assert_int_equal(e->attempts, 0);
        assert_string_equal(e->identity.recipient, "enschede");
        assert_int_equal(e->due_usec, DUE_USEC);
        ledger_entries_free(entries, n);
        assert_null(ledger_close(l));
}

static void test_ledger_mark_skipped_moves_pending_to_skipped(void **state) {
        const Fixture *f = *state;
        LedgerReminder r = enschede();
        LedgerEntry *entries = NULL, *e;
        Ledger *l = open_ledger(f);
        size_t n = 0;

        assert_int_equal(begin(l, &r, NOW_USEC), 0);
        assert_int_equal(ledger_mark_skipped(l, &r, NOW_USEC + 1, "superseded"), 0);
        e = history_entry(l, ID_ENSCHEDE, "mail", &entries, &n);
        assert_int_equal(e->state, LEDGER_SKIPPED);
        assert_string_equal(e->reply, "superseded");
        assert_int_equal(e->attempts, 1);
        assert_int_equal(e->updated_usec, NOW_USEC + 1);
        ledger_entries_free(entries, n);
        assert_null(ledger_close(l));
}

static void test_ledger_mark_skipped_refuses_sent_row(void **state) {
        const Fixture *f = *state;
        LedgerReminder r = enschede();
        LedgerReminder failed =
                reminder(ID_HENGELO, "mail", "burgernet-twente", "hengelo", DUE_USEC);
        LedgerEntry *entries = NULL, *e;
        Ledger *l = open_ledger(f);
        size_t n = 0;

        assert_int_equal(begin(l, &r, NOW_USEC), 0);
        assert_int_equal(ledger_mark_sent(l, key(ID_ENSCHEDE, "mail"), NOW_USEC, "250 OK", NULL),
                         0);
        assert_int_equal(ledger_mark_skipped(l, &r, NOW_USEC + 1, "moot"), -EALREADY);
        e = history_entry(l, ID_ENSCHEDE, "mail", &entries, &n);
        assert_int_equal(e->state, LEDGER_SENT);
        assert_string_equal(e->reply, "250 OK");
        ledger_entries_free(entries, n);

        assert_int_equal(begin(l, &failed, NOW_USEC), 0);
        assert_int_equal(ledger_mark_failed(l, key(ID_HENGELO, "mail"), NOW_USEC, "500"), 0);
        assert_int_equal(ledger_mark_skipped(l, &failed, NOW_USEC + 1, "moot"), -EALREADY);
        assert_state(l, ID_HENGELO, "mail", LEDGER_FAILED);
        assert_null(ledger_close(l));
}

static void test_ledger_mark_skipped_keeps_skipped_row(void **state) {
        const Fixture *f = *state;
        LedgerReminder r = enschede();
        LedgerEntry *entries = NULL, *e;
        Ledger *l = open_ledger(f);
        size_t n = 0;

        assert_int_equal(ledger_mark_skipped(l, &r, NOW_USEC, "first reason"), 0);
        assert_int_equal(ledger_mark_skipped(l, &r, NOW_USEC + 1, "second reason"), 0);
        e = history_entry(l, ID_ENSCHEDE, "mail", &entries, &n);
        assert_int_equal(n, 1);
        assert_int_equal(e->state, LEDGER_SKIPPED);
        assert_string_equal(e->reply, "first reason");
        assert_int_equal(e->updated_usec, NOW_USEC);
        ledger_entries_free(entries, n);
        assert_null(ledger_close(l));
}

static void test_ledger_get_state_unknown_row_returns_0(void **state) {
        const Fixture *f = *state;
        LedgerReminder r = enschede();
        LedgerState s = LEDGER_FAILED;
        Ledger *l = open_ledger(f);

        assert_int_equal(ledger_get_state(l, key(ID_ENSCHEDE, "mail"), &s), 0);
        assert_int_equal(s, LEDGER_FAILED); /* untouched */
        interrupted(f->path, &r, 1, NOW_USEC);
        /* The identity is the pair: the same reminder on another channel is another row. */
        assert_int_equal(ledger_get_state(l, key(ID_ENSCHEDE, "webhook:teams"), &s), 0);
        assert_int_equal(ledger_get_state(l, key(ID_HENGELO, "mail"), &s), 0);
        assert_int_equal(ledger_get_state(l, key(ID_ENSCHEDE, "mail"), &s), 1);
        assert_int_equal(s, LEDGER_PENDING);
        assert_null(ledger_close(l));
}

static void test_ledger_record_decision_appends_in_order(void **state) {
        const Fixture *f = *state;
        LedgerDecision *d = NULL;
        Ledger *l = open_ledger(f);
        size_t n = 0;

        assert_int_equal(ledger_record_decision(l, "burgernet-twente", 1, "enschede",
                                                DECISION_CONTINUE, NULL, "alice", NOW_USEC),
                         0);
        assert_int_equal(ledger_record_decision(l, "burgernet-twente", 2, "hengelo",
                                                DECISION_TERMINATE, "raadsbesluit 12 mei", "bob",
                                                NOW_USEC + HOUR_USEC),
                         0);
        /* Recorded last with an earlier time (a clock set back): still last. */
        assert_int_equal(ledger_record_decision(l, "burgernet-twente", 1, "enschede",
                                                DECISION_TERMINATE, NULL, "carol", NOW_USEC - 1),
                         0);

        assert_int_equal(ledger_decisions(l, &d, &n), 0);
        assert_int_equal(n, 3);
        assert_string_equal(d[0].commitment, "burgernet-twente");
        assert_int_equal(d[0].cycle, 1);
        assert_string_equal(d[0].participant, "enschede");
        assert_int_equal(d[0].decision, DECISION_CONTINUE);
        assert_null(d[0].note);
        assert_string_equal(d[0].user, "alice");
        assert_int_equal(d[0].at_usec, NOW_USEC);
        assert_int_equal(d[1].cycle, 2);
        assert_string_equal(d[1].participant, "hengelo");
        assert_int_equal(d[1].decision, DECISION_TERMINATE);
        assert_string_equal(d[1].note, "raadsbesluit 12 mei");
        assert_string_equal(d[1].user, "bob");
        assert_int_equal(d[1].at_usec, NOW_USEC + HOUR_USEC);
        assert_string_equal(d[2].user, "carol");
        assert_null(d[2].note);
        assert_int_equal(d[2].at_usec, NOW_USEC - 1);
        ledger_decisions_free(d, n);
        assert_null(ledger_close(l));
}

static void test_ledger_record_decision_refuses_unknown_decision(void **state) {
        const Fixture *f = *state;
        LedgerDecision *d = NULL;
        Ledger *l = open_ledger(f);
        size_t n = 1;

        assert_int_equal(ledger_record_decision(l, "burgernet-twente", 1, "enschede", _DECISION_MAX,
                                                NULL, "root", NOW_USEC),
                         -EINVAL);
        assert_int_equal(ledger_record_decision(l, "burgernet-twente", 1, "enschede",
                                                DECISION_CONTINUE, NULL, NULL, NOW_USEC),
                         -EINVAL);
        assert_int_equal(ledger_decisions(l, &d, &n), 0);
        assert_null(d);
        assert_int_equal(n, 0);
        assert_null(ledger_close(l));
}

static void test_ledger_decisions_empty_returns_null(void **state) {
        const Fixture *f = *state;
        LedgerDecision *d = (LedgerDecision *) 1;
        Ledger *l = open_ledger(f);
        size_t n = 7;

        assert_int_equal(ledger_decisions(l, &d, &n), 0);
        assert_null(d);
        assert_int_equal(n, 0);
        ledger_decisions_free(d, n);
        assert_null(ledger_close(l));
}

/* Rows recorded out of order, to be read back in (due, commitment, recipient, channel) order. */
static void record_mixed_rows(const Fixture *f, Ledger *l) {
        const LedgerReminder rows[] = {
                reminder("b/late", "mail", "b", "enschede", DUE_USEC + 2 * HOUR_USEC),
                reminder("a/hengelo-webhook", "webhook:teams", "a", "hengelo", DUE_USEC),
                reminder("b/almelo", "mail", "b", "almelo", DUE_USEC),
                reminder("a/hengelo-mail", "mail", "a", "hengelo", DUE_USEC),
                reminder("a/almelo", "mail", "a", "almelo", DUE_USEC),
                reminder("a/almelo-webhook", "webhook:teams", "a", "almelo", DUE_USEC),
                reminder("a/early", "mail", "a", "zwolle", DUE_USEC - HOUR_USEC),
        };

        /* Pending, as older noticeds left them: ledger_pending() lists them. */
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                interrupted(f->path, &rows[i], 1, NOW_USEC);
        assert_int_equal(ledger_mark_sent(l, key("a/almelo", "mail"), NOW_USEC, NULL, NULL), 0);
        assert_int_equal(ledger_mark_failed(l, key("b/late", "mail"), NOW_USEC, NULL), 0);
}

static void assert_ids(const LedgerEntry *e, size_t n, const char *const *ids, size_t n_ids) {
        assert_int_equal(n, n_ids);
        for (size_t i = 0; i < n; i++)
                assert_string_equal(e[i].identity.id, ids[i]);
}

static void test_ledger_history_orders_by_due_commitment_recipient_channel(void **state) {
        static const char *const expected[] = {
                "a/early",           "a/almelo", "a/almelo-webhook", "a/hengelo-mail",
                "a/hengelo-webhook", "b/almelo", "b/late",
        };
        const Fixture *f = *state;
        LedgerEntry *e = NULL;
        Ledger *l = open_ledger(f);
        size_t n = 0;

        record_mixed_rows(f, l);
        assert_int_equal(ledger_history(l, NULL, &e, &n), 0);
        assert_ids(e, n, expected, ELEMENTSOF(expected));
        ledger_entries_free(e, n);
        assert_null(ledger_close(l));
}

static void test_ledger_history_filters_by_commitment(void **state) {
        static const char *const expected_a[] = {"a/early", "a/almelo", "a/almelo-webhook",
                                                 "a/hengelo-mail", "a/hengelo-webhook"};
        static const char *const expected_b[] = {"b/almelo", "b/late"};
        const Fixture *f = *state;
        LedgerEntry *e = NULL;
        Ledger *l = open_ledger(f);
        size_t n = 0;

        record_mixed_rows(f, l);
        assert_int_equal(ledger_history(l, "a", &e, &n), 0);
        assert_ids(e, n, expected_a, ELEMENTSOF(expected_a));
        ledger_entries_free(e, n);
        assert_int_equal(ledger_history(l, "b", &e, &n), 0);
        assert_ids(e, n, expected_b, ELEMENTSOF(expected_b));
        ledger_entries_free(e, n);
        e = (LedgerEntry *) 1;
        assert_int_equal(ledger_history(l, "unknown", &e, &n), 0);
        assert_null(e);
        assert_int_equal(n, 0);
        assert_null(ledger_close(l));
}

static void test_ledger_pending_lists_only_pending_rows(void **state) {
        static const char *const expected[] = {"a/early", "a/almelo-webhook", "a/hengelo-mail",
                                               "a/hengelo-webhook", "b/almelo"};
        const Fixture *f = *state;
        LedgerReminder skipped = reminder("a/skipped", "mail", "a", "almelo", DUE_USEC);
        LedgerEntry *e = NULL;
        Ledger *l = open_ledger(f);
        size_t n = 0;

        assert_int_equal(ledger_pending(l, &e, &n), 0);
        assert_null(e);
        assert_int_equal(n, 0);

        record_mixed_rows(f, l);
        assert_int_equal(ledger_mark_skipped(l, &skipped, NOW_USEC, "moot"), 0);
        assert_int_equal(ledger_pending(l, &e, &n), 0);
        assert_ids(e, n, expected, ELEMENTSOF(expected));
        for (size_t i = 0; i < n; i++)
                assert_int_equal(e[i].state, LEDGER_PENDING);
        ledger_entries_free(e, n);
        assert_null(ledger_close(l));
}

static void test_ledger_error_is_empty_after_open(void **state) {
        const Fixture *f = *state;
        Ledger *l = open_ledger(f);

        assert_string_equal(ledger_error(l), "");
        assert_string_equal(ledger_error(NULL), "");
        assert_null(ledger_close(l));
}

static void test_ledger_close_accepts_null(void **state) {
        (void) state;
        assert_null(ledger_close(NULL));
        ledger_entries_free(NULL, 0);
        ledger_decisions_free(NULL, 0);
}

static void test_ledger_state_to_string_names_every_state(void **state) {
        (void) state;
        assert_string_equal(ledger_state_to_string(LEDGER_PENDING), "pending");
        assert_string_equal(ledger_state_to_string(LEDGER_SENT), "sent");
        assert_string_equal(ledger_state_to_string(LEDGER_FAILED), "failed");
        assert_string_equal(ledger_state_to_string(LEDGER_SKIPPED), "skipped");
        assert_string_equal(ledger_state_to_string(LEDGER_QUEUED), "queued");
        assert_null(ledger_state_to_string(_LEDGER_STATE_MAX));
}

static void test_decision_from_string_parses_contract_spellings(void **state) {
        Decision d = _DECISION_MAX;

        (void) state;
        assert_int_equal(decision_from_string("continue", &d), 0);
        assert_int_equal(d, DECISION_CONTINUE);
        assert_int_equal(decision_from_string("terminate", &d), 0);
        assert_int_equal(d, DECISION_TERMINATE);
        assert_string_equal(decision_to_string(DECISION_CONTINUE), "continue");
        assert_string_equal(decision_to_string(DECISION_TERMINATE), "terminate");
        assert_null(decision_to_string(_DECISION_MAX));
        assert_int_equal(decision_from_string("Continue", &d), -EINVAL);
        assert_int_equal(decision_from_string("", &d), -EINVAL);
        assert_int_equal(decision_from_string(NULL, &d), -EINVAL);
        assert_int_equal(d, DECISION_TERMINATE);
}

static void test_ledger_batch_end_commits_every_change_and_only_refuses_the_refused(void **state) {
        const Fixture *f = *state;
        LedgerReminder sent = enschede();
        LedgerReminder hengelo =
                reminder(ID_HENGELO, "mail", "burgernet-twente", "hengelo", DUE_USEC);
        LedgerReminder teams =
                reminder(ID_ENSCHEDE, "webhook:teams", "burgernet-twente", "enschede", DUE_USEC);
        Ledger *l = open_ledger(f);
        Ledger *other = open_ledger(f);

        assert_int_equal(begin(l, &sent, NOW_USEC), 0);
        assert_int_equal(ledger_mark_sent(l, sent.identity, NOW_USEC, NULL, NULL), 0);

        assert_int_equal(ledger_batch_begin(l), 0);
        assert_int_equal(ledger_batch_begin(l), -EINVAL); /* no nesting */
        assert_int_equal(ledger_mark_skipped(l, &hengelo, NOW_USEC, "superseded"), 0);
        assert_int_equal(ledger_mark_skipped(l, &sent, NOW_USEC, "superseded"), -EALREADY);
        assert_int_equal(ledger_mark_skipped(l, &teams, NOW_USEC, "superseded"), 0);
        /* Nothing shows to another connection before the commit. */
        assert_int_equal(ledger_get_state(other, key(ID_HENGELO, "mail"), NULL), 0);
        assert_int_equal(ledger_batch_end(l, true), 0);

        assert_state(other, ID_HENGELO, "mail", LEDGER_SKIPPED);
        assert_state(other, ID_ENSCHEDE, "webhook:teams", LEDGER_SKIPPED);
        assert_state(other, ID_ENSCHEDE, "mail", LEDGER_SENT);
        assert_null(ledger_close(other));
        assert_null(ledger_close(l));
}

static void test_ledger_batch_end_without_commit_changes_nothing(void **state) {
        const Fixture *f = *state;
        LedgerReminder hengelo =
                reminder(ID_HENGELO, "mail", "burgernet-twente", "hengelo", DUE_USEC);
        Ledger *l = open_ledger(f);

        assert_int_equal(ledger_batch_end(l, true), -EINVAL); /* no batch */
        assert_int_equal(ledger_batch_begin(l), 0);
        assert_int_equal(ledger_mark_skipped(l, &hengelo, NOW_USEC, "superseded"), 0);
        assert_int_equal(ledger_batch_end(l, false), 0);
        assert_int_equal(ledger_get_state(l, key(ID_HENGELO, "mail"), NULL), 0);
        /* And the ledger works as before afterwards. */
        assert_int_equal(ledger_mark_skipped(l, &hengelo, NOW_USEC, "superseded"), 0);
        assert_state(l, ID_HENGELO, "mail", LEDGER_SKIPPED);
        assert_null(ledger_close(l));
}

static void test_ledger_latest_settled_finds_the_group_whatever_the_offset(void **state) {
        const Fixture *f = *state;
        LedgerReminder d30 = enschede();
        LedgerReminder d7 =
                reminder("burgernet-twente/decision/1/2020-05-19/7d/enschede", "mail",
                         "burgernet-twente", "enschede", DUE_USEC + 23 * 24 * HOUR_USEC);
        LedgerReminder other =
                reminder("burgernet-twente/decision/1/2020-05-19/1d/enschedex", "mail",
                         "burgernet-twente", "enschedex", DUE_USEC + 30 * 24 * HOUR_USEC);
        LedgerReminder overdue = reminder("burgernet-twente/decision/1/2020-05-19/overdue/enschede",
                                          "mail", "burgernet-twente", "enschede", DUE_USEC);
        Ledger *l = open_ledger(f);
        usec_t due = 0;

        SET_PART(d7, offset, "7d");
        SET_PART(other, offset, "1d");
        SET_PART(overdue, offset, "overdue");
        /* The group of a reminder whose offset the config no longer has: its identity. */
        assert_int_equal(ledger_latest_settled(l, d30.identity, &due), 0);
        assert_int_equal(ledger_mark_skipped(l, &d30, NOW_USEC, "x"), 0);
        interrupted(f->path, &d7, 1, NOW_USEC); /* pending: not settled */
        assert_int_equal(ledger_mark_skipped(l, &other, NOW_USEC, "x"), 0); /* another recipient */
        assert_int_equal(ledger_latest_settled(l, d30.identity, &due), 1);
        assert_int_equal(due, DUE_USEC);
        assert_int_equal(ledger_mark_sent(l, d7.identity, NOW_USEC, NULL, NULL), 0);
        assert_int_equal(ledger_latest_settled(l, d30.identity, &due), 1);
        assert_int_equal(due, DUE_USEC + 23 * 24 * HOUR_USEC);
        assert_int_equal(ledger_latest_settled(l, overdue.identity, &due),
                         0); /* overdue messages are a group of their own */
        assert_null(ledger_close(l));
}

/* --- the outbox ---------------------------------------------------------------------------- */

#define ID_ALMELO "burgernet-twente/decision/1/2020-05-19/30d/almelo"

/* A message as enqueue.c queues a mail: every member set. */
static LedgerMessage mail_message(const char *payload) {
        return (LedgerMessage){
                .transport = "relay",
                .recipients = "burgernet@enschede.example\ngriffie@enschede.example",
                .payload = payload,
                .payload_size = strlen(payload),
                .message_id = "<0123456789abcdef0123456789abcdef@twente.example>",
                .key = "0123456789abcdef0123456789abcdef",
                .escalate = true,
                .deadline_usec = DUE_USEC + 30 * 24 * HOUR_USEC,
        };
}

/* A webhook's message: no recipients, Message-ID or key. */
static LedgerMessage hook_message(const char *transport) {
        return (LedgerMessage){
                .transport = transport,
                .payload = "{\"text\": \"x\"}",
                .payload_size = strlen("{\"text\": \"x\"}"),
                .deadline_usec = DUE_USEC + 30 * 24 * HOUR_USEC,
        };
}

static size_t outbox_rows(const Fixture *f) {
        char *text = query(f->path, "SELECT count(*) FROM outbox");
        size_t n;

        assert_non_null(text);
        n = strtoul(text, NULL, 10);
        free(text);
        return n;
}

/* The ids ledger_queued_due() returns for transport at now (up to limit), in its order. */
static void assert_due(Ledger *l, const char *transport, int64_t now, size_t limit,
                       const char *const *expected, size_t n_expected) {
        LedgerQueued *q = NULL;
        size_t n = 0;

        assert_int_equal(ledger_queued_due(l, transport, now, limit, &q, &n), 0);
        if (n != n_expected) {
                for (size_t i = 0; i < n; i++)
                        print_error("due: %s on %s\n", q[i].identity.id, q[i].identity.channel);
                fail_msg("%zu message(s) due through %s, expected %zu", n, transport, n_expected);
        }
        for (size_t i = 0; i < n; i++)
                assert_string_equal(q[i].identity.id, expected[i]);
        ledger_queued_free(q, n);
}

static void test_ledger_enqueue_creates_pending_row_and_outbox_row(void **state) {
        const Fixture *f = *state;
        LedgerReminder r = enschede();
        LedgerMessage m = mail_message("Subject: x\r\n\r\nbody\r\n");
        LedgerEntry *entries = NULL, *e;
        Ledger *l = open_ledger(f);
        size_t n = 0;

        assert_int_equal(ledger_enqueue(l, &r, &m, NOW_USEC), 0);
        assert_state(l, ID_ENSCHEDE, "mail", LEDGER_QUEUED);
        /* Stored as pending: "queued" is only ever reported. */
        assert_query(f->path, "SELECT state || ' ' || attempts FROM reminders", "pending 0");
        assert_int_equal(outbox_rows(f), 1);
        assert_query(f->path,
                     "SELECT transport || ' ' || next_usec || ' ' || inflight || ' ' || "
                     "interrupted FROM outbox",
                     "relay 1587366000100000 0 0");

        e = history_entry(l, ID_ENSCHEDE, "mail", &entries, &n);
        assert_int_equal(n, 1);
        assert_int_equal(e->state, LEDGER_QUEUED);
        assert_string_equal(ledger_state_to_string(e->state), "queued");
        assert_int_equal(e->attempts, 0);
        assert_int_equal(e->due_usec, DUE_USEC);
        assert_int_equal(e->created_usec, NOW_USEC);
        assert_null(e->reply);
        ledger_entries_free(entries, n);

        /* Not an interrupted attempt: ledger_pending() leaves it to the outbox. */
        assert_int_equal(ledger_pending(l, &entries, &n), 0);
        assert_int_equal(n, 0);
        ledger_entries_free(entries, n);
        assert_null(ledger_close(l));
}

static void test_ledger_enqueue_refuses_settled_row(void **state) {
        const Fixture *f = *state;
        LedgerReminder sent = enschede();
        LedgerReminder skipped =
                reminder(ID_HENGELO, "mail", "burgernet-twente", "hengelo", DUE_USEC);
        LedgerReminder almelo = reminder(ID_ALMELO, "mail", "burgernet-twente", "almelo", DUE_USEC);
        LedgerMessage m = mail_message("x");
        Ledger *l = open_ledger(f);

        assert_int_equal(begin(l, &sent, NOW_USEC), 0);
        assert_int_equal(ledger_mark_sent(l, sent.identity, NOW_USEC, "250", NULL), 0);
        assert_int_equal(ledger_mark_skipped(l, &skipped, NOW_USEC, "superseded"), 0);

        assert_int_equal(ledger_enqueue(l, &sent, &m, NOW_USEC + HOUR_USEC), -EALREADY);
        assert_true(ledger_error(l)[0] != '\0');
        assert_int_equal(ledger_enqueue(l, &skipped, &m, NOW_USEC + HOUR_USEC), -EALREADY);
        assert_state(l, sent.identity->id, sent.identity->channel, LEDGER_SENT);
        assert_state(l, skipped.identity->id, skipped.identity->channel, LEDGER_SKIPPED);
        assert_int_equal(outbox_rows(f), 0);
        /* The refusal left no transaction behind. */
        assert_int_equal(ledger_enqueue(l, &almelo, &m, NOW_USEC), 0);
        assert_int_equal(outbox_rows(f), 1);
        assert_null(ledger_close(l));
}

static void test_ledger_enqueue_twice_returns_eexist(void **state) {
        const Fixture *f = *state;
        LedgerReminder r = enschede();
        LedgerMessage first = mail_message("first"), second = mail_message("second");
        LedgerQueued *q = NULL;
        size_t n = 0;
        Ledger *l = open_ledger(f);

        assert_int_equal(ledger_enqueue(l, &r, &first, NOW_USEC), 0);
        assert_int_equal(ledger_enqueue(l, &r, &second, NOW_USEC + 1), -EEXIST);
        assert_true(ledger_error(l)[0] != '\0');
        /* In flight makes no difference: it is in the outbox. */
        assert_int_equal(ledger_queued_begin(l, r.identity, NOW_USEC + 2), 0);
        assert_int_equal(ledger_enqueue(l, &r, &second, NOW_USEC + 3), -EEXIST);
        assert_int_equal(outbox_rows(f), 1);
        assert_int_equal(ledger_queued_recover(l, &q, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(q[0].payload, "first"); /* the first message stands */
        ledger_queued_free(q, n);
        assert_null(ledger_close(l));
}

static void test_ledger_enqueue_takes_over_interrupted_attempt(void **state) {
        const Fixture *f = *state;
        LedgerReminder r = enschede();
        LedgerMessage m = mail_message("x");
        LedgerEntry *entries = NULL, *e;
        LedgerQueued *q = NULL;
        Ledger *l = open_ledger(f);
        size_t n = 0;

        /* An older noticed began an attempt and died: pending, no message in the outbox. */
        interrupted(f->path, &r, 1, NOW_USEC);
        assert_state(l, ID_ENSCHEDE, "mail", LEDGER_PENDING);

        assert_int_equal(ledger_enqueue(l, &r, &m, NOW_USEC + HOUR_USEC), 0);
        assert_state(l, ID_ENSCHEDE, "mail", LEDGER_QUEUED);
        e = history_entry(l, ID_ENSCHEDE, "mail", &entries, &n);
        assert_int_equal(n, 1);
        assert_int_equal(e->attempts, 1); /* the old attempt still counts */
        assert_int_equal(e->created_usec, NOW_USEC);
        ledger_entries_free(entries, n);

        assert_int_equal(ledger_queued_due(l, "relay", NOW_USEC + HOUR_USEC, 10, &q, &n), 0);
        assert_int_equal(n, 1);
        assert_true(q[0].interrupted); /* so that a Maildir looks for what it delivered */
        assert_int_equal(q[0].attempts, 1);
        assert_int_equal(q[0].next_usec, NOW_USEC + HOUR_USEC);
        ledger_queued_free(q, n);
        assert_null(ledger_close(l));
}

static void test_ledger_enqueue_supersedes_an_earlier_waiting_reminder_of_its_group(void **state) {
        const Fixture *f = *state;
        LedgerReminder early = enschede(), late = enschede(), other = enschede();
        LedgerMessage m = mail_message("x");
        Ledger *l = open_ledger(f);

        SET_PART(late, id, "burgernet-twente/decision/1/2020-05-19/14d/enschede");
        SET_PART(late, offset, "14d");
        late.due_usec = DUE_USEC + 16 * 24 * HOUR_USEC;
        SET_PART(other, id, "burgernet-twente/decision/1/2020-05-19/30d/hengelo");
        SET_PART(other, recipient, "hengelo");
        assert_int_equal(ledger_enqueue(l, &early, &m, NOW_USEC), 0);
        assert_int_equal(ledger_enqueue(l, &other, &m, NOW_USEC), 0);
        assert_int_equal(ledger_enqueue(l, &late, &m, NOW_USEC + HOUR_USEC), 0);
        /* The 30d reminder to enschede gives way; hengelo's is another group. */
        assert_state(l, ID_ENSCHEDE, "mail", LEDGER_SKIPPED);
        assert_state(l, late.identity->id, "mail", LEDGER_QUEUED);
        assert_state(l, other.identity->id, "mail", LEDGER_QUEUED);
        assert_int_equal(outbox_rows(f), 2);
        assert_null(ledger_close(l));
}

static void test_ledger_enqueue_leaves_an_earlier_reminder_in_flight(void **state) {
        const Fixture *f = *state;
        LedgerReminder early = enschede(), late = enschede();
        LedgerMessage m = mail_message("x");
        Ledger *l = open_ledger(f);

        SET_PART(late, id, "burgernet-twente/decision/1/2020-05-19/14d/enschede");
        SET_PART(late, offset, "14d");
        late.due_usec = DUE_USEC + 16 * 24 * HOUR_USEC;
        assert_int_equal(ledger_enqueue(l, &early, &m, NOW_USEC), 0);
        assert_int_equal(ledger_queued_begin(l, key(ID_ENSCHEDE, "mail"), NOW_USEC), 0);
        assert_int_equal(ledger_enqueue(l, &late, &m, NOW_USEC + HOUR_USEC), 0);
        assert_state(l, ID_ENSCHEDE, "mail", LEDGER_QUEUED);
        assert_int_equal(outbox_rows(f), 2);
        assert_null(ledger_close(l));
}

static void test_ledger_queued_skip_decided_skips_waiting_decision_messages(void **state) {
        const Fixture *f = *state;
        LedgerReminder decision = enschede(), deadline = enschede(), flying = enschede();
        LedgerMessage m = mail_message("x");
        Ledger *l = open_ledger(f);

        SET_PART(deadline, id, "burgernet-twente/deadline:x/0/2020-05-19/30d/enschede");
        SET_PART(deadline, kind, "deadline");
        ((ReminderIdentity *) deadline.identity)->cycle = 1;
        SET_PART(flying, channel, "webhook:teams");
        assert_int_equal(ledger_enqueue(l, &decision, &m, NOW_USEC), 0);
        assert_int_equal(ledger_enqueue(l, &deadline, &m, NOW_USEC), 0);
        assert_int_equal(ledger_enqueue(l, &flying, &m, NOW_USEC), 0);
        assert_int_equal(ledger_queued_begin(l, flying.identity, NOW_USEC), 0);
        assert_int_equal(
                ledger_queued_skip_decided(l, "burgernet-twente", 2, "enschede", true, NOW_USEC),
                0);
        assert_int_equal(
                ledger_queued_skip_decided(l, "burgernet-twente", 1, "hengelo", true, NOW_USEC), 0);
        assert_int_equal(
                ledger_queued_skip_decided(l, "burgernet-twente", 1, "enschede", true, NOW_USEC),
                1);
        assert_state(l, ID_ENSCHEDE, "mail", LEDGER_SKIPPED);
        assert_state(l, deadline.identity->id, "mail", LEDGER_QUEUED); /* not a decision reminder */
        assert_state(l, flying.identity->id, "webhook:teams",
                     LEDGER_QUEUED); /* in flight: its outcome */
        assert_int_equal(outbox_rows(f), 2);
        assert_null(ledger_close(l));
}

static void test_ledger_queued_skip_decided_keeps_overdue_messages_when_asked(void **state) {
        const Fixture *f = *state;
        LedgerReminder overdue = enschede();
        LedgerMessage m = mail_message("x");
        Ledger *l = open_ledger(f);

        /* Enschede decided, and is escalate_to: the overdue message about the others stays. */
        SET_PART(overdue, id, "burgernet-twente/decision/1/2020-05-19/overdue/enschede");
        SET_PART(overdue, offset, "overdue");
        assert_int_equal(ledger_enqueue(l, &overdue, &m, NOW_USEC), 0);
        assert_int_equal(
                ledger_queued_skip_decided(l, "burgernet-twente", 1, "enschede", false, NOW_USEC),
                0);
        assert_state(l, overdue.identity->id, "mail", LEDGER_QUEUED);
        assert_int_equal(
                ledger_queued_skip_decided(l, "burgernet-twente", 1, "enschede", true, NOW_USEC),
                1);
        assert_state(l, overdue.identity->id, "mail", LEDGER_SKIPPED);
        assert_null(ledger_close(l));
}

static void test_ledger_enqueue_refuses_incomplete_message(void **state) {
        const Fixture *f = *state;
        LedgerReminder r = enschede();
        LedgerMessage m = mail_message("x");
        Ledger *l = open_ledger(f);

        assert_int_equal(ledger_enqueue(l, &r, NULL, NOW_USEC), -EINVAL);
        m.transport = NULL;
        assert_int_equal(ledger_enqueue(l, &r, &m, NOW_USEC), -EINVAL);
        m = mail_message("x");
        m.payload = NULL;
        assert_int_equal(ledger_enqueue(l, &r, &m, NOW_USEC), -EINVAL);
        m = mail_message("x");
        SET_PART(r, commitment, NULL);
        assert_int_equal(ledger_enqueue(l, &r, &m, NOW_USEC), -EINVAL);
        assert_int_equal(ledger_get_state(l, key(ID_ENSCHEDE, "mail"), NULL), 0);
        assert_int_equal(outbox_rows(f), 0);
        assert_null(ledger_close(l));
}

static void test_ledger_queued_due_returns_payload_bytes_exactly(void **state) {
        static const char payload[] = "line one\r\n\0after a NUL\r\n\xff\xfe\0\0end";
        const Fixture *f = *state;
        LedgerReminder mail = enschede();
        LedgerReminder hook =
                reminder(ID_ENSCHEDE, "webhook:teams", "burgernet-twente", "enschede", DUE_USEC);
        LedgerReminder almelo =
                reminder(ID_ALMELO, "webhook:empty", "burgernet-twente", "almelo", DUE_USEC);
        LedgerMessage m = mail_message("");
        LedgerMessage h = hook_message("teams");
        LedgerQueued *q = NULL;
        Ledger *l = open_ledger(f);
        size_t n = 0;

        _Static_assert(sizeof(payload) - 1 == 31, "the length the query below expects");
        m.payload = payload;
        m.payload_size = sizeof(payload) - 1; /* every byte, the NULs inside too */
        assert_int_equal(ledger_enqueue(l, &mail, &m, NOW_USEC), 0);
        assert_int_equal(ledger_enqueue(l, &hook, &h, NOW_USEC), 0);
        /* The other connection sees the bytes too, as noticectl would. */
        assert_query(f->path,
                     "SELECT length(payload) || ' ' || typeof(payload) FROM outbox "
                     "WHERE transport = 'relay'",
                     "31 blob");

        assert_int_equal(ledger_queued_due(l, "relay", NOW_USEC, 10, &q, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(q[0].payload_size, sizeof(payload) - 1);
        assert_memory_equal(q[0].payload, payload, sizeof(payload) - 1);
        assert_int_equal(((const char *) q[0].payload)[q[0].payload_size], '\0');
        assert_string_equal(q[0].identity.id, ID_ENSCHEDE);
        assert_string_equal(q[0].identity.channel, "mail");
        assert_string_equal(q[0].identity.commitment, "burgernet-twente");
        assert_string_equal(q[0].identity.kind, "decision");
        assert_int_equal(q[0].identity.cycle, 1);
        assert_string_equal(q[0].identity.milestone, "2020-05-19");
        assert_string_equal(q[0].identity.offset, "30d");
        assert_string_equal(q[0].identity.recipient, "enschede");
        assert_int_equal(q[0].due_usec, DUE_USEC);
        assert_int_equal(q[0].attempts, 0);
        assert_null(q[0].reply);
        assert_string_equal(q[0].transport, "relay");
        assert_string_equal(q[0].recipients, m.recipients);
        assert_string_equal(q[0].message_id, m.message_id);
        assert_string_equal(q[0].key, m.key);
        assert_true(q[0].escalate);
        assert_false(q[0].interrupted);
        assert_int_equal(q[0].next_usec, NOW_USEC);
        assert_int_equal(q[0].deadline_usec, m.deadline_usec);
        /* ledger_queued_done() frees one and zeroes it. */
        ledger_queued_done(&q[0]);
        assert_null(q[0].identity.id);
        assert_null(q[0].payload);
        assert_int_equal(q[0].payload_size, 0);
        ledger_queued_free(q, n);

        assert_int_equal(ledger_queued_due(l, "teams", NOW_USEC, 10, &q, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(q[0].identity.channel, "webhook:teams");
        assert_int_equal(q[0].payload_size, h.payload_size);
        assert_memory_equal(q[0].payload, h.payload, h.payload_size);
        assert_null(q[0].recipients);
        assert_null(q[0].message_id);
        assert_null(q[0].key);
        assert_false(q[0].escalate);
        ledger_queued_free(q, n);

        /* An empty message is still a message: zero bytes, not NULL. */
        h = hook_message("empty");
        h.payload = "";
        h.payload_size = 0;
        assert_int_equal(ledger_enqueue(l, &almelo, &h, NOW_USEC), 0);
        assert_int_equal(ledger_queued_due(l, "empty", NOW_USEC, 10, &q, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(q[0].payload_size, 0);
        assert_non_null(q[0].payload);
        assert_string_equal(q[0].payload, "");
        ledger_queued_free(q, n);
        assert_null(ledger_close(l));
}

static void test_ledger_queued_due_orders_by_next_and_limits_per_transport(void **state) {
        static const char *const all[] = {ID_HENGELO, ID_ALMELO, ID_ENSCHEDE};
        static const char *const first_two[] = {ID_HENGELO, ID_ALMELO};
        static const char *const hook[] = {ID_ENSCHEDE};
        const Fixture *f = *state;
        LedgerReminder e = enschede();
        LedgerReminder h = reminder(ID_HENGELO, "mail", "burgernet-twente", "hengelo", DUE_USEC);
        LedgerReminder a = reminder(ID_ALMELO, "mail", "burgernet-twente", "almelo", DUE_USEC);
        LedgerReminder eh =
                reminder(ID_ENSCHEDE, "webhook:teams", "burgernet-twente", "enschede", DUE_USEC);
        LedgerMessage m = mail_message("x"), t = hook_message("teams");
        Ledger *l = open_ledger(f);
        char **names = NULL;
        size_t n = 0;

        /* Queued in another order than their ids'. */
        assert_int_equal(ledger_enqueue(l, &e, &m, NOW_USEC + 2 * HOUR_USEC), 0);
        assert_int_equal(ledger_enqueue(l, &h, &m, NOW_USEC), 0);
        assert_int_equal(ledger_enqueue(l, &a, &m, NOW_USEC + HOUR_USEC), 0);
        assert_int_equal(ledger_enqueue(l, &eh, &t, NOW_USEC + HOUR_USEC), 0);

        assert_due(l, "relay", NOW_USEC + 2 * HOUR_USEC, 10, all, 3);
        assert_due(l, "relay", NOW_USEC + 2 * HOUR_USEC, 2, first_two, 2);
        assert_due(l, "relay", NOW_USEC + HOUR_USEC, 10, first_two, 2); /* next_usec <= now */
        assert_due(l, "relay", NOW_USEC - 1, 10, NULL, 0);
        assert_due(l, "relay", NOW_USEC + 2 * HOUR_USEC, 0, NULL, 0);
        assert_due(l, "teams", NOW_USEC + 2 * HOUR_USEC, 10, hook, 1);
        assert_due(l, "nowhere", NOW_USEC + 2 * HOUR_USEC, 10, NULL, 0);

        assert_int_equal(ledger_queued_transports(l, NOW_USEC - 1, &names, &n), 0);
        assert_int_equal(n, 0);
        ledger_strv_free(names, n);
        assert_int_equal(ledger_queued_transports(l, NOW_USEC, &names, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(names[0], "relay");
        ledger_strv_free(names, n);
        assert_int_equal(ledger_queued_transports(l, NOW_USEC + HOUR_USEC, &names, &n), 0);
        assert_int_equal(n, 2); /* each once, by name */
        assert_string_equal(names[0], "relay");
        assert_string_equal(names[1], "teams");
        ledger_strv_free(names, n);
        assert_null(ledger_close(l));
}

static void test_ledger_queued_begin_sets_in_flight_and_counts_attempt(void **state) {
        const Fixture *f = *state;
        LedgerReminder r = enschede();
        LedgerMessage m = mail_message("x");
        LedgerEntry *entries = NULL, *e;
        Ledger *l = open_ledger(f);
        char **names = NULL;
        size_t n = 0;

        assert_int_equal(ledger_queued_begin(l, key(ID_ENSCHEDE, "mail"), NOW_USEC), -EALREADY);
        assert_int_equal(ledger_enqueue(l, &r, &m, NOW_USEC), 0);
        assert_int_equal(ledger_queued_begin(l, key(ID_ENSCHEDE, "mail"), NOW_USEC + 5), 0);

        assert_query(f->path, "SELECT inflight FROM outbox", "1");
        assert_state(l, ID_ENSCHEDE, "mail", LEDGER_QUEUED); /* still in the outbox */
        e = history_entry(l, ID_ENSCHEDE, "mail", &entries, &n);
        assert_int_equal(e->attempts, 1);
        assert_int_equal(e->updated_usec, NOW_USEC + 5);
        ledger_entries_free(entries, n);
        /* In flight is not due, whatever the time. */
        assert_due(l, "relay", NOW_USEC + 100 * HOUR_USEC, 10, NULL, 0);
        assert_int_equal(ledger_queued_transports(l, NOW_USEC + 100 * HOUR_USEC, &names, &n), 0);
        assert_int_equal(n, 0);
        ledger_strv_free(names, n);

        /* A second start of the same message is refused and changes nothing. */
        assert_int_equal(ledger_queued_begin(l, key(ID_ENSCHEDE, "mail"), NOW_USEC + 6), -EALREADY);
        assert_true(ledger_error(l)[0] != '\0');
        e = history_entry(l, ID_ENSCHEDE, "mail", &entries, &n);
        assert_int_equal(e->attempts, 1);
        assert_int_equal(e->updated_usec, NOW_USEC + 5);
        ledger_entries_free(entries, n);
        assert_int_equal(ledger_queued_begin(l, key(ID_ENSCHEDE, "webhook:teams"), NOW_USEC),
                         -EALREADY);
        assert_null(ledger_close(l));
}

static void test_ledger_queued_retry_waits_until_next_and_keeps_reply(void **state) {
        const Fixture *f = *state;
        LedgerReminder r = enschede();
        LedgerMessage m = mail_message("x");
        LedgerEntry *entries = NULL, *e;
        LedgerQueued *q = NULL;
        Ledger *l = open_ledger(f);
        size_t n = 0;

        assert_int_equal(ledger_queued_retry(l, key(ID_ENSCHEDE, "mail"), NOW_USEC, NOW_USEC, "x"),
                         -ENOENT);
        assert_int_equal(ledger_enqueue(l, &r, &m, NOW_USEC), 0);
        assert_int_equal(ledger_queued_begin(l, key(ID_ENSCHEDE, "mail"), NOW_USEC), 0);
        assert_int_equal(ledger_queued_retry(l, key(ID_ENSCHEDE, "mail"), NOW_USEC + 7,
                                             NOW_USEC + HOUR_USEC, "451 4.3.0 try again later"),
                         0);

        assert_state(l, ID_ENSCHEDE, "mail", LEDGER_QUEUED);
        e = history_entry(l, ID_ENSCHEDE, "mail", &entries, &n);
        assert_string_equal(ledger_state_to_string(e->state), "queued");
        assert_string_equal(e->reply, "451 4.3.0 try again later");
        assert_int_equal(e->attempts, 1);
        assert_int_equal(e->updated_usec, NOW_USEC + 7);
        ledger_entries_free(entries, n);

        assert_due(l, "relay", NOW_USEC + HOUR_USEC - 1, 10, NULL, 0);
        assert_int_equal(ledger_queued_due(l, "relay", NOW_USEC + HOUR_USEC, 10, &q, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(q[0].reply, "451 4.3.0 try again later");
        assert_int_equal(q[0].next_usec, NOW_USEC + HOUR_USEC);
        assert_int_equal(q[0].attempts, 1);
        ledger_queued_free(q, n);

        /* The next attempt counts on from there. */
        assert_int_equal(ledger_queued_begin(l, key(ID_ENSCHEDE, "mail"), NOW_USEC + HOUR_USEC), 0);
        e = history_entry(l, ID_ENSCHEDE, "mail", &entries, &n);
        assert_int_equal(e->attempts, 2);
        ledger_entries_free(entries, n);
        assert_null(ledger_close(l));
}

static void test_ledger_queued_next_is_earliest_not_in_flight(void **state) {
        const Fixture *f = *state;
        LedgerReminder e = enschede();
        LedgerReminder h = reminder(ID_HENGELO, "mail", "burgernet-twente", "hengelo", DUE_USEC);
        LedgerMessage m = mail_message("x");
        Ledger *l = open_ledger(f);
        usec_t next = 0;

        assert_int_equal(ledger_queued_next(l, &next), 0);
        assert_int_equal(ledger_enqueue(l, &e, &m, NOW_USEC), 0);
        assert_int_equal(ledger_enqueue(l, &h, &m, NOW_USEC + HOUR_USEC), 0);
        assert_int_equal(ledger_queued_next(l, &next), 1);
        assert_int_equal(next, NOW_USEC);

        assert_int_equal(ledger_queued_begin(l, e.identity, NOW_USEC), 0);
        assert_int_equal(ledger_queued_next(l, &next), 1);
        assert_int_equal(next, NOW_USEC + HOUR_USEC); /* the one in flight does not count */

        assert_int_equal(
                ledger_queued_retry(l, e.identity, NOW_USEC, NOW_USEC + 3 * HOUR_USEC, "busy"), 0);
        assert_int_equal(ledger_queued_next(l, &next), 1);
        assert_int_equal(next, NOW_USEC + HOUR_USEC);
        assert_int_equal(ledger_queued_begin(l, h.identity, NOW_USEC + HOUR_USEC), 0);
        assert_int_equal(ledger_queued_next(l, &next), 1);
        assert_int_equal(next, NOW_USEC + 3 * HOUR_USEC);
        assert_int_equal(ledger_queued_begin(l, e.identity, NOW_USEC + 3 * HOUR_USEC), 0);
        next = 42;
        assert_int_equal(ledger_queued_next(l, &next), 0); /* all in flight */
        assert_int_equal(next, 42);
        assert_null(ledger_close(l));
}

static void test_ledger_queued_recover_makes_in_flight_due_and_interrupted(void **state) {
        const Fixture *f = *state;
        static const char *const both[] = {ID_ENSCHEDE, ID_HENGELO};
        LedgerReminder e = enschede();
        LedgerReminder h = reminder(ID_HENGELO, "mail", "burgernet-twente", "hengelo", DUE_USEC);
        LedgerMessage m = mail_message("x");
        LedgerQueued *q = NULL;
        Ledger *l = open_ledger(f);
        size_t n = 0;

        assert_int_equal(ledger_enqueue(l, &e, &m, NOW_USEC), 0);
        assert_int_equal(ledger_enqueue(l, &h, &m, NOW_USEC + 1), 0);
        assert_int_equal(ledger_queued_begin(l, e.identity, NOW_USEC + 2), 0);
        assert_null(ledger_close(l));

        /* The next start: only what was in flight comes back, with its record. */
        l = open_ledger(f);
        assert_int_equal(ledger_queued_recover(l, &q, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(q[0].identity.id, ID_ENSCHEDE);
        assert_int_equal(q[0].attempts, 1);
        assert_memory_equal(q[0].payload, "x", 1);
        ledger_queued_free(q, n);

        assert_due(l, "relay", NOW_USEC + 1, 10, both, 2);
        assert_int_equal(ledger_queued_due(l, "relay", NOW_USEC + 1, 10, &q, &n), 0);
        assert_int_equal(n, 2);
        assert_true(q[0].interrupted);
        assert_false(q[1].interrupted); /* it never went out */
        ledger_queued_free(q, n);
        assert_state(l, ID_ENSCHEDE, "mail", LEDGER_QUEUED);

        q = (LedgerQueued *) 1;
        assert_int_equal(ledger_queued_recover(l, &q, &n), 0);
        assert_int_equal(n, 0);
        assert_null(q);

        /* A failed attempt after it is no longer "interrupted": it did not go out. */
        assert_int_equal(ledger_queued_begin(l, e.identity, NOW_USEC + 3), 0);
        assert_int_equal(ledger_queued_retry(l, e.identity, NOW_USEC + 3, NOW_USEC + 4, "x"), 0);
        assert_query(f->path, "SELECT interrupted FROM outbox WHERE id = '" ID_ENSCHEDE "'", "0");
        assert_null(ledger_close(l));
}

static void test_ledger_mark_sent_takes_message_out_of_outbox(void **state) {
        const Fixture *f = *state;
        LedgerReminder sent = enschede();
        LedgerReminder failed =
                reminder(ID_HENGELO, "mail", "burgernet-twente", "hengelo", DUE_USEC);
        LedgerMessage m = mail_message("x");
        LedgerEntry *entries = NULL, *e;
        Ledger *l = open_ledger(f);
        usec_t next = 0;
        size_t n = 0;

        assert_int_equal(ledger_enqueue(l, &sent, &m, NOW_USEC), 0);
        assert_int_equal(ledger_enqueue(l, &failed, &m, NOW_USEC), 0);
        assert_int_equal(ledger_queued_begin(l, sent.identity, NOW_USEC), 0);
        assert_int_equal(ledger_queued_begin(l, failed.identity, NOW_USEC), 0);
        assert_int_equal(
                ledger_mark_sent(l, sent.identity, NOW_USEC + 1, "maildir: new/x", m.message_id),
                0);
        assert_int_equal(outbox_rows(f), 1);
        assert_int_equal(
                ledger_mark_failed(l, failed.identity, NOW_USEC + 1, "550 5.1.1 no such user"), 0);
        assert_int_equal(outbox_rows(f), 0);

        assert_state(l, sent.identity->id, sent.identity->channel, LEDGER_SENT);
        assert_state(l, failed.identity->id, failed.identity->channel, LEDGER_FAILED);
        e = history_entry(l, sent.identity->id, sent.identity->channel, &entries, &n);
        assert_string_equal(e->reply, "maildir: new/x");
        assert_string_equal(e->message_id, m.message_id);
        assert_int_equal(e->attempts, 1);
        ledger_entries_free(entries, n);
        assert_int_equal(ledger_queued_next(l, &next), 0);
        assert_due(l, "relay", NOW_USEC + HOUR_USEC, 10, NULL, 0);
        /* Settled: nothing can queue it again. */
        assert_int_equal(ledger_enqueue(l, &sent, &m, NOW_USEC + 2), -EALREADY);
        assert_int_equal(ledger_enqueue(l, &failed, &m, NOW_USEC + 2), -EALREADY);
        assert_int_equal(ledger_queued_begin(l, sent.identity, NOW_USEC + 2), -EALREADY);
        assert_int_equal(ledger_queued_retry(l, sent.identity, NOW_USEC + 2, NOW_USEC + 3, "x"),
                         -ENOENT);
        assert_int_equal(outbox_rows(f), 0);
        assert_null(ledger_close(l));
}

static void test_ledger_batch_end_keeps_the_outbox_changes_that_were_not_refused(void **state) {
        static const char *const queued[] = {ID_ALMELO, ID_HENGELO}; /* same next: by id */
        const Fixture *f = *state;
        LedgerReminder sent = enschede();
        LedgerReminder h = reminder(ID_HENGELO, "mail", "burgernet-twente", "hengelo", DUE_USEC);
        LedgerReminder a = reminder(ID_ALMELO, "mail", "burgernet-twente", "almelo", DUE_USEC);
        LedgerReminder x = reminder("x/1", "mail", "x", "x", DUE_USEC);
        LedgerMessage m = mail_message("x");
        Ledger *l = open_ledger(f);
        Ledger *other = open_ledger(f);

        assert_int_equal(begin(l, &sent, NOW_USEC), 0);
        assert_int_equal(ledger_mark_sent(l, sent.identity, NOW_USEC, NULL, NULL), 0);

        assert_int_equal(ledger_batch_begin(l), 0);
        assert_int_equal(ledger_enqueue(l, &h, &m, NOW_USEC), 0);
        assert_int_equal(ledger_enqueue(l, &sent, &m, NOW_USEC), -EALREADY);
        assert_int_equal(ledger_enqueue(l, &h, &m, NOW_USEC + 1), -EEXIST);
        assert_int_equal(ledger_queued_begin(l, key(ID_ALMELO, "mail"), NOW_USEC), -EALREADY);
        assert_int_equal(ledger_queued_retry(l, key(ID_ALMELO, "mail"), NOW_USEC, NOW_USEC, "x"),
                         -ENOENT);
        assert_int_equal(ledger_enqueue(l, &a, &m, NOW_USEC + 1), 0);
        assert_int_equal(ledger_queued_begin(l, h.identity, NOW_USEC + 2), 0);
        assert_int_equal(ledger_queued_retry(l, h.identity, NOW_USEC + 2, NOW_USEC + 1, "451"), 0);
        /* Nothing shows to another connection before the commit. */
        assert_int_equal(ledger_get_state(other, key(ID_HENGELO, "mail"), NULL), 0);
        assert_int_equal(ledger_batch_end(l, true), 0);

        assert_state(other, ID_HENGELO, "mail", LEDGER_QUEUED);
        assert_state(other, ID_ALMELO, "mail", LEDGER_QUEUED);
        assert_state(other, ID_ENSCHEDE, "mail", LEDGER_SENT);
        assert_due(other, "relay", NOW_USEC + 1, 10, queued, 2);
        assert_int_equal(outbox_rows(f), 2);

        /* A batch that is not committed queues nothing. */
        assert_int_equal(ledger_batch_begin(l), 0);
        assert_int_equal(ledger_enqueue(l, &x, &m, NOW_USEC), 0);
        assert_int_equal(ledger_queued_begin(l, h.identity, NOW_USEC + 3), 0);
        assert_int_equal(ledger_batch_end(l, false), 0);
        assert_int_equal(ledger_get_state(other, key("x/1", "mail"), NULL), 0);
        assert_int_equal(outbox_rows(f), 2);
        assert_due(other, "relay", NOW_USEC + 1, 10, queued, 2); /* not in flight either */
        assert_null(ledger_close(other));
        assert_null(ledger_close(l));
}

/* The schema of version 1, as ledger-schema.c's migrations[0] created it: a file an older noticed
 * wrote, with rows in it. */
static const char ledger_schema_v1[] =
        "CREATE TABLE reminders ("
        "  id TEXT NOT NULL, channel TEXT NOT NULL,"
        "  commitment TEXT NOT NULL, kind TEXT NOT NULL, cycle INTEGER NOT NULL,"
        "  milestone TEXT NOT NULL, offset_ TEXT NOT NULL, recipient TEXT NOT NULL,"
        "  due_usec INTEGER NOT NULL,"
        "  state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'skipped')),"
        "  attempts INTEGER NOT NULL CHECK (attempts >= 0),"
        "  created_usec INTEGER NOT NULL, updated_usec INTEGER NOT NULL,"
        "  reply TEXT, message_id TEXT,"
        "  PRIMARY KEY (id, channel)"
        ") WITHOUT ROWID;"
        "CREATE INDEX reminders_by_commitment ON reminders (commitment, due_usec);"
        "CREATE TABLE decisions ("
        "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  commitment TEXT NOT NULL, cycle INTEGER NOT NULL, participant TEXT NOT NULL,"
        "  decision TEXT NOT NULL CHECK (decision IN ('continue', 'terminate')),"
        "  note TEXT, user TEXT NOT NULL, at_usec INTEGER NOT NULL"
        ");"
        "PRAGMA user_version = 1;";

static void test_ledger_open_migrates_v1_file_and_keeps_its_rows(void **state) {
        const Fixture *f = *state;
        LedgerReminder pending =
                reminder(ID_HENGELO, "mail", "burgernet-twente", "hengelo", DUE_USEC);
        LedgerReminder sent = enschede();
        LedgerMessage m = mail_message("x");
        LedgerDecision *decisions = NULL;
        LedgerEntry *entries = NULL, *e;
        Ledger *l;
        size_t n = 0;
        char *sql;

        assert_true(asprintf(&sql,
                             "%s"
                             "PRAGMA journal_mode = WAL;"
                             "INSERT INTO reminders VALUES ('" ID_ENSCHEDE "', 'mail', "
                             "'burgernet-twente', 'decision', 1, '2020-05-19', '30d', 'enschede', "
                             "%" PRId64 ", 'sent', 1, %" PRId64 ", %" PRId64 ", '250 OK', '<a@x>');"
                             "INSERT INTO reminders VALUES ('" ID_HENGELO "', 'mail', "
                             "'burgernet-twente', 'decision', 1, '2020-05-19', '30d', 'hengelo', "
                             "%" PRId64 ", 'pending', 2, %" PRId64 ", %" PRId64 ", NULL, NULL);"
                             "INSERT INTO decisions (commitment, cycle, participant, decision, "
                             "note, user, at_usec) VALUES ('burgernet-twente', 1, 'enschede', "
                             "'terminate', 'B&W besluit', 'root', %" PRId64 ");",
                             ledger_schema_v1, DUE_USEC, NOW_USEC, NOW_USEC, DUE_USEC, NOW_USEC,
                             NOW_USEC, NOW_USEC) > 0);
        create_database(f->path, sql);
        free(sql);
        assert_query(f->path, "PRAGMA user_version", "1");

        l = open_ledger(f);
        assert_query(f->path, "PRAGMA user_version", "4");
        assert_query(f->path, "SELECT count(*) FROM sqlite_schema WHERE name = 'outbox'", "1");
        assert_int_equal(outbox_rows(f), 0);

        /* The rows of version 1 are there, as they were. */
        assert_int_equal(ledger_history(l, NULL, &entries, &n), 0);
        assert_int_equal(n, 2);
        ledger_entries_free(entries, n);
        e = history_entry(l, ID_ENSCHEDE, "mail", &entries, &n);
        assert_int_equal(e->state, LEDGER_SENT);
        assert_int_equal(e->attempts, 1);
        assert_string_equal(e->reply, "250 OK");
        assert_string_equal(e->message_id, "<a@x>");
        assert_int_equal(e->due_usec, DUE_USEC);
        ledger_entries_free(entries, n);
        assert_int_equal(ledger_decisions(l, &decisions, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(decisions[0].decision, DECISION_TERMINATE);
        assert_string_equal(decisions[0].note, "B&W besluit");
        ledger_decisions_free(decisions, n);

        /* Version 1's pending row is an interrupted attempt, and the outbox can take it over. */
        assert_state(l, ID_HENGELO, "mail", LEDGER_PENDING);
        assert_int_equal(ledger_pending(l, &entries, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(entries[0].identity.id, ID_HENGELO);
        ledger_entries_free(entries, n);
        assert_int_equal(ledger_enqueue(l, &pending, &m, NOW_USEC + HOUR_USEC), 0);
        assert_state(l, ID_HENGELO, "mail", LEDGER_QUEUED);
        e = history_entry(l, ID_HENGELO, "mail", &entries, &n);
        assert_int_equal(e->attempts, 2);
        ledger_entries_free(entries, n);
        /* The settled row stays settled. */
        assert_int_equal(ledger_enqueue(l, &sent, &m, NOW_USEC), -EALREADY);
        assert_null(ledger_close(l));

        /* Opened again: version 2 already, nothing migrated twice. */
        l = open_ledger(f);
        assert_state(l, ID_HENGELO, "mail", LEDGER_QUEUED);
        assert_null(ledger_close(l));
}

/* A real version-2 file (tests/unit/data/README says how it was made), migrated on open: the
 * identity's parts that version 3 adds come out of the ids, and the group look-ups work on the
 * old rows. */
#define LEDGER_V2 "tests/unit/data/ledger-v2.sqlite"
#define V2_T0     UINT64_C(1587366000000000)
#define V2_HOUR   UINT64_C(3600000000)
#define V2_ID(s)  "burgernet-twente/" s

static void copy_file(const char *from, const char *to) {
        char buf[4096];
        FILE *in = fopen(from, "rbe"), *out;
        size_t n;

        if (!in) {
                fail_msg("%s: %s (run the tests from the top of the tree)", from, strerror(errno));
                return;
        }
        out = fopen(to, "wbe");
        assert_non_null(out);
        while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
                assert_int_equal(fwrite(buf, 1, n, out), n);
        assert_int_equal(fclose(in), 0);
        assert_int_equal(fclose(out), 0);
}

static void assert_nullable(const char *value, const char *expected) {
        if (expected)
                assert_string_equal(value, expected);
        else
                assert_null(value);
}

static void assert_identity(const ReminderIdentity *x, const char *kind, const char *deadline,
                            uint32_t cycle, const char *milestone, const char *offset,
                            const char *recipient, const char *failed_kind,
                            const char *failed_deadline, const char *failed_recipient,
                            const char *failed_channel) {
        assert_string_equal(x->commitment, "burgernet-twente");
        assert_string_equal(x->kind, kind);
        assert_nullable(x->deadline, deadline);
        assert_int_equal(x->cycle, cycle);
        assert_string_equal(x->milestone, milestone);
        assert_string_equal(x->offset, offset);
        assert_string_equal(x->recipient, recipient);
        assert_nullable(x->failed_kind, failed_kind);
        assert_nullable(x->failed_deadline, failed_deadline);
        assert_nullable(x->failed_recipient, failed_recipient);
        assert_nullable(x->failed_channel, failed_channel);
}

static void test_ledger_open_migrates_real_v2_file_into_identity_columns(void **state) {
        const Fixture *f = *state;
        LedgerEntry *entries = NULL, *e;
        LedgerDecision *decisions = NULL;
        ReminderIdentity failed, escalation;
        size_t n = 0;
        Ledger *l;

        copy_file(LEDGER_V2, f->path);
        assert_query(f->path, "PRAGMA user_version", "2");
        l = open_ledger(f);
        assert_query(f->path, "PRAGMA user_version", "4");

        assert_int_equal(ledger_history(l, NULL, &entries, &n), 0);
        assert_int_equal(n, 6);
        ledger_entries_free(entries, n);
        e = history_entry(l, V2_ID("decision/1/2020-05-19/30d/enschede"), "mail", &entries, &n);
        assert_identity(&e->identity, "decision", NULL, 1, "2020-05-19", "30d", "enschede", NULL,
                        NULL, NULL, NULL);
        assert_int_equal(e->state, LEDGER_SENT);
        assert_string_equal(e->reply, "250 ok");
        assert_string_equal(e->message_id, "<x@example.org>");
        assert_int_equal(e->due_usec, V2_T0);
        ledger_entries_free(entries, n);
        e = history_entry(l, V2_ID("decision/1/2020-05-19/42d/enschede"), "mail", &entries, &n);
        assert_int_equal(e->state, LEDGER_SKIPPED);
        assert_string_equal(e->reply, "missed while noticed was not running");
        ledger_entries_free(entries, n);
        e = history_entry(l, V2_ID("deadline:standpunt/0/2017-11-30/30d/hof"), "mail", &entries,
                          &n);
        assert_identity(&e->identity, "deadline", "standpunt", 0, "2017-11-30", "30d", "hof", NULL,
                        NULL, NULL, NULL);
        assert_int_equal(e->state, LEDGER_FAILED);
        assert_string_equal(e->reply, "550 no such user");
        ledger_entries_free(entries, n);
        e = history_entry(l, V2_ID("decision/1/2020-05-19/overdue/hof"), "mail", &entries, &n);
        assert_identity(&e->identity, "decision", NULL, 1, "2020-05-19", "overdue", "hof", NULL,
                        NULL, NULL, NULL);
        assert_int_equal(e->state, LEDGER_QUEUED);
        assert_string_equal(e->reply, "451 try later");
        ledger_entries_free(entries, n);
        e = history_entry(l, V2_ID("notice/1/2020-06-30/7d/swf"), "webhook:hook", &entries, &n);
        assert_identity(&e->identity, "notice", NULL, 1, "2020-06-30", "7d", "swf", NULL, NULL,
                        NULL, NULL);
        assert_int_equal(e->state, LEDGER_QUEUED);
        ledger_entries_free(entries, n);
        e = history_entry(l,
                          V2_ID("escalation/0/2017-11-30/deadline:standpunt:30d:hof:mail/"
                                "klankbordgroep"),
                          "webhook:hook", &entries, &n);
        assert_identity(&e->identity, "escalation", NULL, 0, "2017-11-30", "30d", "klankbordgroep",
                        "deadline", "standpunt", "hof", "mail");
        assert_int_equal(e->state, LEDGER_QUEUED);
        /* The parts put together again spell the very id: rendering and migration agree. */
        assert_int_equal(identity_make("burgernet-twente", "deadline", "standpunt", 0, "2017-11-30",
                                       "30d", "hof", "mail", &failed),
                         0);
        assert_int_equal(
                identity_escalation(&failed, "klankbordgroep", "webhook:hook", &escalation), 0);
        assert_string_equal(escalation.id, e->identity.id);
        identity_done(&escalation);
        identity_done(&failed);
        ledger_entries_free(entries, n);
        assert_int_equal(ledger_decisions(l, &decisions, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(decisions[0].participant, "enschede");
        assert_string_equal(decisions[0].note, "raadsbesluit");
        ledger_decisions_free(decisions, n);
        assert_null(ledger_close(l));
}

/* Escalation ids a v2 ledger may hold whose parts a search for ":OFFSET:" would cut wrongly: a
 * one-off deadline called like the offset, and a failed webhook channel. */
static void test_ledger_open_migrates_v2_escalations_cut_from_the_left(void **state) {
        const Fixture *f = *state;
        LedgerEntry *entries = NULL, *e;
        size_t n = 0;
        Ledger *l;

        copy_file(LEDGER_V2, f->path);
        create_database(f->path,
                        "INSERT INTO reminders (id, channel, commitment, kind, cycle, milestone, "
                        "offset_, recipient, due_usec, state, attempts, created_usec, "
                        "updated_usec) VALUES "
                        "('c1/escalation/0/2025-01-01/deadline:30d:30d:r1:mail/boss', 'mail', "
                        "'c1', 'escalation', 0, '2025-01-01', '30d', 'boss', 1, 'sent', 1, 1, 1), "
                        "('c1/escalation/2/2025-01-01/notice:overdue:r1:webhook:teams/boss', "
                        "'mail', 'c1', 'escalation', 2, '2025-01-01', 'overdue', 'boss', 1, "
                        "'sent', 1, 1, 1)");
        l = open_ledger(f);
        e = history_entry(l, "c1/escalation/0/2025-01-01/deadline:30d:30d:r1:mail/boss", "mail",
                          &entries, &n);
        assert_string_equal(e->identity.failed_kind, "deadline");
        assert_string_equal(e->identity.failed_deadline, "30d");
        assert_string_equal(e->identity.failed_recipient, "r1");
        assert_string_equal(e->identity.failed_channel, "mail");
        ledger_entries_free(entries, n);
        e = history_entry(l, "c1/escalation/2/2025-01-01/notice:overdue:r1:webhook:teams/boss",
                          "mail", &entries, &n);
        assert_string_equal(e->identity.failed_kind, "notice");
        assert_null(e->identity.failed_deadline);
        assert_string_equal(e->identity.failed_recipient, "r1");
        assert_string_equal(e->identity.failed_channel, "webhook:teams");
        ledger_entries_free(entries, n);
        assert_null(ledger_close(l));
}

static void test_ledger_group_look_ups_work_on_migrated_v2_rows(void **state) {
        const Fixture *f = *state;
        LedgerReminder swf3 = reminder(V2_ID("notice/1/2020-06-30/3d/swf"), "webhook:hook",
                                       "burgernet-twente", "swf", V2_T0 + 4 * 24 * V2_HOUR);
        LedgerMessage m = hook_message("hook");
        LedgerQueued *q = NULL;
        ReminderIdentity x;
        usec_t due = 0;
        size_t n = 0;
        Ledger *l;

        SET_PART(swf3, kind, "notice");
        SET_PART(swf3, milestone, "2020-06-30");
        SET_PART(swf3, offset, "3d");
        copy_file(LEDGER_V2, f->path);
        l = open_ledger(f);

        /* Enschede's decision group: the sent 30d (and the skipped 42d, earlier) count, whatever
         * offset asks. */
        assert_int_equal(identity_make("burgernet-twente", "decision", NULL, 1, "2020-05-19", "14d",
                                       "enschede", "mail", &x),
                         0);
        assert_int_equal(ledger_latest_settled(l, &x, &due), 1);
        assert_int_equal(due, V2_T0);
        assert_int_equal(ledger_later_sibling(l, &x, V2_T0 - 1), 1);
        assert_int_equal(ledger_later_sibling(l, &x, V2_T0), 0);
        identity_done(&x);
        /* The deadline's group is the deadline's, not another's of the same day. */
        assert_int_equal(identity_make("burgernet-twente", "deadline", "standpunt", 0, "2017-11-30",
                                       "60d", "hof", "mail", &x),
                         0);
        assert_int_equal(ledger_latest_settled(l, &x, &due), 1);
        assert_int_equal(due, V2_T0 + 2 * V2_HOUR);
        identity_done(&x);
        assert_int_equal(identity_make("burgernet-twente", "deadline", "other", 0, "2017-11-30",
                                       "60d", "hof", "mail", &x),
                         0);
        assert_int_equal(ledger_latest_settled(l, &x, &due), 0);
        identity_done(&x);
        /* The overdue message waits in the outbox: it counts, in the overdue group only. */
        assert_int_equal(identity_make("burgernet-twente", "decision", NULL, 1, "2020-05-19",
                                       "overdue", "hof", "mail", &x),
                         0);
        assert_int_equal(ledger_latest_settled(l, &x, &due), 1);
        assert_int_equal(due, V2_T0 + 3 * V2_HOUR);
        identity_done(&x);
        assert_int_equal(identity_make("burgernet-twente", "decision", NULL, 1, "2020-05-19", "30d",
                                       "hof", "mail", &x),
                         0);
        assert_int_equal(ledger_latest_settled(l, &x, &due), 0);
        identity_done(&x);

        /* A later notice reminder to swf supersedes the 7d one still waiting. */
        assert_int_equal(ledger_enqueue(l, &swf3, &m, V2_T0 + 4 * 24 * V2_HOUR), 0);
        assert_state(l, V2_ID("notice/1/2020-06-30/7d/swf"), "webhook:hook", LEDGER_SKIPPED);
        assert_state(l, swf3.identity->id, "webhook:hook", LEDGER_QUEUED);

        /* The outbox's rows come back with their identities, and settle. */
        assert_int_equal(ledger_queued_due(l, "hook", V2_T0 + 100 * 24 * V2_HOUR, 10, &q, &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(q[0].identity.kind, "escalation");
        assert_string_equal(q[0].identity.failed_recipient, "hof");
        assert_int_equal(ledger_queued_begin(l, &q[0].identity, V2_T0 + 5 * V2_HOUR), 0);
        assert_int_equal(ledger_mark_sent(l, &q[0].identity, V2_T0 + 5 * V2_HOUR, "200", NULL), 0);
        assert_state(l, q[0].identity.id, "webhook:hook", LEDGER_SENT);
        ledger_queued_free(q, n);
        assert_null(ledger_close(l));
}

/* The plan of a statement, through a plain connection: every "detail" joined. */
static char *query_plan(const char *path, const char *sql) {
        sqlite3 *db = NULL;
        sqlite3_stmt *s = NULL;
        char *plan = strdup(""), *more;

        assert_non_null(plan);
        assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
        while (sqlite3_step(s) == SQLITE_ROW) {
                assert_true(asprintf(&more, "%s%s\n", plan,
                                     (const char *) sqlite3_column_text(s, 3)) > 0);
                free(plan);
                plan = more;
        }
        (void) sqlite3_finalize(s);
        (void) sqlite3_close(db);
        return plan;
}

static void test_ledger_group_look_ups_use_the_recipient_index(void **state) {
        const Fixture *f = *state;
        char *plan;

        assert_null(ledger_close(open_ledger(f)));
        /* The group look-ups as ledger-schema.c has them (GROUP_WHERE): without INDEXED BY, SQLite
         * takes reminders_by_commitment for MAX(due_usec), and a burst to thousands of participants
         * of one commitment scans them all for each. */
        plan = query_plan(f->path,
                          "EXPLAIN QUERY PLAN SELECT MAX(due_usec) FROM reminders "
                          "INDEXED BY reminders_by_recipient WHERE "
                          "recipient = 'a' AND commitment = 'b' AND kind = 'decision' AND "
                          "deadline IS NULL AND cycle = 1 AND milestone = '2020-05-19' AND "
                          "channel = 'mail' AND (offset_ = 'overdue') = 0");
        assert_contains(plan, "USING INDEX reminders_by_recipient (recipient=? AND commitment=?)");
        free(plan);
}

/* A COMMIT that fails says why: busy and full are worth waiting for (ledger_refusal_may_pass()),
 * and -EIO would say the disk is failing. */
static void test_ledger_batch_end_returns_the_commits_own_error(void **state) {
        const Fixture *f = *state;
        LedgerReminder hengelo =
                reminder(ID_HENGELO, "mail", "burgernet-twente", "hengelo", DUE_USEC);
        Ledger *l = open_ledger(f);

        assert_int_equal(ledger_batch_begin(l), 0);
        assert_int_equal(ledger_mark_skipped(l, &hengelo, NOW_USEC, "superseded"), 0);
        commit_failure = SQLITE_BUSY;
        assert_int_equal(ledger_batch_end(l, true), -EBUSY);
        assert_int_equal(ledger_get_state(l, key(ID_HENGELO, "mail"), NULL), 0); /* rolled back */
        assert_int_equal(ledger_batch_begin(l), 0);
        assert_int_equal(ledger_mark_skipped(l, &hengelo, NOW_USEC, "superseded"), 0);
        commit_failure = SQLITE_FULL;
        assert_int_equal(ledger_batch_end(l, true), -ENOSPC);
        assert_int_equal(ledger_get_state(l, key(ID_HENGELO, "mail"), NULL), 0);
        /* And the ledger works afterwards. */
        assert_int_equal(ledger_mark_skipped(l, &hengelo, NOW_USEC, "superseded"), 0);
        assert_state(l, ID_HENGELO, "mail", LEDGER_SKIPPED);
        assert_null(ledger_close(l));
}

static void test_ledger_queued_skip_decided_returns_the_commits_own_error(void **state) {
        const Fixture *f = *state;
        LedgerReminder decision = enschede();
        LedgerMessage m = mail_message("x");
        Ledger *l = open_ledger(f);

        assert_int_equal(ledger_enqueue(l, &decision, &m, NOW_USEC), 0);
        commit_failure = SQLITE_FULL;
        assert_int_equal(
                ledger_queued_skip_decided(l, "burgernet-twente", 1, "enschede", true, NOW_USEC),
                -ENOSPC);
        assert_state(l, ID_ENSCHEDE, "mail", LEDGER_QUEUED); /* rolled back */
        commit_failure = SQLITE_BUSY;
        assert_int_equal(
                ledger_queued_skip_decided(l, "burgernet-twente", 1, "enschede", true, NOW_USEC),
                -EBUSY);
        assert_int_equal(
                ledger_queued_skip_decided(l, "burgernet-twente", 1, "enschede", true, NOW_USEC),
                1);
        assert_state(l, ID_ENSCHEDE, "mail", LEDGER_SKIPPED);
        assert_null(ledger_close(l));
}

static void test_ledger_mark_sent_returns_the_commits_own_error(void **state) {
        const Fixture *f = *state;
        LedgerReminder r = enschede();
        LedgerMessage m = mail_message("x");
        Ledger *l = open_ledger(f);

        assert_int_equal(ledger_enqueue(l, &r, &m, NOW_USEC), 0);
        assert_int_equal(ledger_queued_begin(l, r.identity, NOW_USEC), 0);
        commit_failure = SQLITE_BUSY;
        assert_int_equal(ledger_mark_sent(l, r.identity, NOW_USEC, "250", NULL), -EBUSY);
        assert_state(l, ID_ENSCHEDE, "mail", LEDGER_QUEUED);
        assert_int_equal(ledger_mark_sent(l, r.identity, NOW_USEC, "250", NULL), 0);
        assert_state(l, ID_ENSCHEDE, "mail", LEDGER_SENT);
        assert_null(ledger_close(l));
}

/* --- revocations (schema 4) --------------------------------------------------------------- */

static void record(Ledger *l, uint32_t cycle, const char *participant, Decision decision,
                   usec_t at_usec) {
        assert_int_equal(ledger_record_decision(l, "burgernet-twente", cycle, participant, decision,
                                                NULL, "alice", at_usec),
                         0);
}

static size_t count_decisions(Ledger *l, bool trail) {
        LedgerDecision *d = NULL;
        size_t n = 0;

        assert_int_equal(trail ? ledger_decision_trail(l, &d, &n) : ledger_decisions(l, &d, &n), 0);
        ledger_decisions_free(d, n);
        return n;
}

static void test_ledger_revoke_decision_appends_and_the_decision_no_longer_stands(void **state) {
        const Fixture *f = *state;
        LedgerDecision *d = NULL;
        Ledger *l = open_ledger(f);
        size_t n = 0;

        record(l, 1, "enschede", DECISION_TERMINATE, NOW_USEC);
        record(l, 1, "hengelo", DECISION_CONTINUE, NOW_USEC + 1);
        assert_int_equal(ledger_revoke_decision(l, "burgernet-twente", 1, "enschede",
                                                "wrong municipality", "bob", NOW_USEC + 2),
                         0);

        /* The pass sees only hengelo's. */
        assert_int_equal(ledger_decisions(l, &d, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(d[0].participant, "hengelo");
        ledger_decisions_free(d, n);
        /* The trail keeps all three, the revocation last, with who, when and why. */
        assert_int_equal(ledger_decision_trail(l, &d, &n), 0);
        assert_int_equal(n, 3);
        assert_string_equal(d[0].participant, "enschede");
        assert_int_equal(d[0].decision, DECISION_TERMINATE);
        assert_int_equal(d[2].decision, DECISION_REVOKE);
        assert_string_equal(d[2].commitment, "burgernet-twente");
        assert_int_equal(d[2].cycle, 1);
        assert_string_equal(d[2].participant, "enschede");
        assert_string_equal(d[2].note, "wrong municipality");
        assert_string_equal(d[2].user, "bob");
        assert_int_equal(d[2].at_usec, NOW_USEC + 2);
        ledger_decisions_free(d, n);
        /* Append only: the decision's own row is still there as it was recorded. */
        assert_query(f->path, "SELECT group_concat(decision, ' ') FROM decisions ORDER BY id",
                     "terminate continue revoke");
        assert_null(ledger_close(l));
}

static void test_ledger_revoke_decision_refuses_when_no_decision_stands(void **state) {
        const Fixture *f = *state;
        Ledger *l = open_ledger(f);

        assert_int_equal(ledger_revoke_decision(l, "burgernet-twente", 1, "enschede", NULL, "bob",
                                                NOW_USEC),
                         -ENOENT);
        assert_string_equal(ledger_error(l), "no decision of the participant for that cycle stands");
        record(l, 1, "enschede", DECISION_TERMINATE, NOW_USEC);
        /* Another cycle, participant or commitment has nothing to revoke. */
        assert_int_equal(ledger_revoke_decision(l, "burgernet-twente", 2, "enschede", NULL, "bob",
                                                NOW_USEC),
                         -ENOENT);
        assert_int_equal(ledger_revoke_decision(l, "burgernet-twente", 1, "hengelo", NULL, "bob",
                                                NOW_USEC),
                         -ENOENT);
        assert_int_equal(
                ledger_revoke_decision(l, "other", 1, "enschede", NULL, "bob", NOW_USEC), -ENOENT);
        assert_int_equal(ledger_revoke_decision(l, "burgernet-twente", 1, "enschede", NULL, "bob",
                                                NOW_USEC),
                         0);
        /* Revoked once: a second revocation has nothing left to revoke. */
        assert_int_equal(ledger_revoke_decision(l, "burgernet-twente", 1, "enschede", NULL, "bob",
                                                NOW_USEC),
                         -ENOENT);
        assert_int_equal(count_decisions(l, true), 2);
        assert_int_equal(ledger_revoke_decision(l, "burgernet-twente", 1, "enschede", NULL, NULL,
                                                NOW_USEC),
                         -EINVAL);
        assert_null(ledger_close(l));
}

static void test_ledger_decisions_a_decision_recorded_after_a_revocation_stands(void **state) {
        const Fixture *f = *state;
        LedgerDecision *d = NULL;
        Ledger *l = open_ledger(f);
        size_t n = 0;

        /* Two decisions, one revocation: both revoked.  The one recorded after it stands, even
         * with an earlier clock: the order of recording counts, not at_usec. */
        record(l, 1, "enschede", DECISION_CONTINUE, NOW_USEC);
        record(l, 1, "enschede", DECISION_TERMINATE, NOW_USEC + 1);
        assert_int_equal(ledger_revoke_decision(l, "burgernet-twente", 1, "enschede", NULL, "bob",
                                                NOW_USEC + 2),
                         0);
        assert_int_equal(count_decisions(l, false), 0);
        record(l, 1, "enschede", DECISION_CONTINUE, NOW_USEC - HOUR_USEC);
        assert_int_equal(ledger_decisions(l, &d, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(d[0].decision, DECISION_CONTINUE);
        assert_int_equal(d[0].at_usec, NOW_USEC - HOUR_USEC);
        ledger_decisions_free(d, n);
        assert_int_equal(count_decisions(l, true), 4);
        assert_null(ledger_close(l));
}

static void test_ledger_record_decision_refuses_revoke(void **state) {
        const Fixture *f = *state;
        Ledger *l = open_ledger(f);

        assert_int_equal(ledger_record_decision(l, "burgernet-twente", 1, "enschede",
                                                DECISION_REVOKE, NULL, "root", NOW_USEC),
                         -EINVAL);
        assert_int_equal(count_decisions(l, true), 0);
        assert_null(ledger_close(l));
}

static void test_decision_to_string_names_the_revocation(void **state) {
        Decision d = _DECISION_MAX;

        (void) state;
        assert_string_equal(decision_to_string(DECISION_REVOKE), "revoke");
        assert_int_equal(decision_from_string("revoke", &d), 0);
        assert_int_equal(d, DECISION_REVOKE);
}

/* A real version-3 file (tests/unit/data/README), migrated on open: the decisions table is
 * rebuilt to allow revocations, and its rows keep their ids, order and fields. */
#define LEDGER_V3 "tests/unit/data/ledger-v3.sqlite"

static void test_ledger_open_migrates_real_v3_file_keeping_decision_ids(void **state) {
        const Fixture *f = *state;
        LedgerDecision *d = NULL;
        LedgerEntry *entries = NULL;
        size_t n = 0;
        Ledger *l;

        copy_file(LEDGER_V3, f->path);
        assert_query(f->path, "PRAGMA user_version", "3");
        l = open_ledger(f);
        assert_query(f->path, "PRAGMA user_version", "4");
        assert_query(f->path, "SELECT group_concat(id || ':' || participant, ' ') FROM decisions",
                     "1:enschede 2:hengelo 3:enschede");
        assert_query(f->path, "SELECT count(*) FROM sqlite_schema WHERE name = 'decisions4'", "0");

        assert_int_equal(ledger_decision_trail(l, &d, &n), 0);
        assert_int_equal(n, 3);
        assert_int_equal(d[0].decision, DECISION_CONTINUE);
        assert_string_equal(d[0].note, "raadsbesluit");
        assert_string_equal(d[0].user, "griffie");
        assert_int_equal(d[0].at_usec, V2_T0 + 5 * V2_HOUR);
        assert_string_equal(d[1].participant, "hengelo");
        assert_null(d[1].note);
        assert_int_equal(d[2].cycle, 2);
        assert_string_equal(d[2].user, "alice (sudo by bob)");
        assert_int_equal(d[2].at_usec, V2_T0 + 4 * V2_HOUR);
        ledger_decisions_free(d, n);
        /* The reminders are untouched. */
        assert_int_equal(ledger_history(l, NULL, &entries, &n), 0);
        assert_int_equal(n, 2);
        ledger_entries_free(entries, n);

        /* The new value passes the rebuilt CHECK, and ids go on after the old ones. */
        assert_int_equal(ledger_revoke_decision(l, "burgernet-twente", 1, "hengelo", NULL, "root",
                                                NOW_USEC),
                         0);
        record(l, 1, "hengelo", DECISION_CONTINUE, NOW_USEC + 1);
        assert_query(f->path, "SELECT group_concat(id || ':' || decision, ' ') FROM decisions",
                     "1:continue 2:terminate 3:terminate 4:revoke 5:continue");
        assert_int_equal(count_decisions(l, false), 3);
        assert_null(ledger_close(l));

        /* Opened again: version 4 already, nothing migrated twice. */
        l = open_ledger(f);
        assert_int_equal(count_decisions(l, true), 5);
        assert_null(ledger_close(l));
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

/* --- catch-up's look-ups (ledger_group_settled(), ledger_queued_get()) ------------------- */

static void test_ledger_group_settled_says_when_one_was_sent(void **state) {
        const Fixture *f = *state;
        LedgerReminder d30 = enschede();
        LedgerReminder d7 =
                reminder("burgernet-twente/decision/1/2020-05-19/7d/enschede", "mail",
                         "burgernet-twente", "enschede", DUE_USEC + 23 * 24 * HOUR_USEC);
        LedgerMessage m = mail_message("x");
        Ledger *l = open_ledger(f);
        LedgerGroup g = {0};

        SET_PART(d7, offset, "7d");
        assert_int_equal(ledger_group_settled(l, d30.identity, &g), 0);
        /* Skipped: it counts for the latest instant, but did not go out. */
        assert_int_equal(ledger_mark_skipped(l, &d30, NOW_USEC, "x"), 0);
        assert_int_equal(ledger_group_settled(l, d7.identity, &g), 1);
        assert_int_equal(g.latest_due_usec, DUE_USEC);
        assert_false(g.went_out);
        /* Queued: it counts, and a later one may still supersede it; it has not gone out. */
        assert_int_equal(ledger_enqueue(l, &d7, &m, NOW_USEC + 1), 0);
        assert_int_equal(ledger_group_settled(l, d30.identity, &g), 1);
        assert_int_equal(g.latest_due_usec, DUE_USEC + 23 * 24 * HOUR_USEC);
        assert_false(g.went_out);
        /* Sent: when it was marked so. */
        assert_int_equal(ledger_mark_sent(l, d7.identity, NOW_USEC + HOUR_USEC, "250", NULL), 0);
        assert_int_equal(ledger_group_settled(l, d30.identity, &g), 1);
        assert_true(g.went_out);
        assert_int_equal(g.went_out_usec, NOW_USEC + HOUR_USEC);
        assert_int_equal(ledger_group_settled(NULL, d30.identity, &g), -EINVAL);
        assert_null(ledger_close(l));
}

static void test_ledger_queued_get_returns_attempts_and_next_attempt(void **state) {
        const Fixture *f = *state;
        LedgerReminder r = enschede();
        LedgerMessage m = mail_message("x");
        Ledger *l = open_ledger(f);
        unsigned attempts = 99;
        usec_t next = 0;

        assert_int_equal(ledger_queued_get(l, r.identity, &attempts, &next), 0);
        assert_int_equal(ledger_enqueue(l, &r, &m, NOW_USEC), 0);
        assert_int_equal(ledger_queued_get(l, r.identity, &attempts, &next), 1);
        assert_int_equal(attempts, 0);
        assert_int_equal(next, NOW_USEC);
        assert_int_equal(ledger_queued_begin(l, r.identity, NOW_USEC + 1), 0);
        assert_int_equal(
                ledger_queued_retry(l, r.identity, NOW_USEC + 2, NOW_USEC + HOUR_USEC, "451"), 0);
        assert_int_equal(ledger_queued_get(l, r.identity, &attempts, &next), 1);
        assert_int_equal(attempts, 1);
        assert_int_equal(next, NOW_USEC + HOUR_USEC);
        assert_int_equal(ledger_mark_sent(l, r.identity, NOW_USEC + HOUR_USEC, "250", NULL), 0);
        assert_int_equal(ledger_queued_get(l, r.identity, &attempts, &next), 0);
        assert_null(ledger_close(l));
}

/* --- a snapshot (ledger_open_snapshot()) ------------------------------------------------ */

/* The whole file at path, malloc'd, or NULL when it does not exist. */
static char *file_bytes(const char *path, size_t *ret_size) {
        FILE *in = fopen(path, "rb");
        char *data = NULL;
        size_t size = 0;
        FILE *out;

        *ret_size = 0;
        if (!in)
                return NULL;
        out = open_memstream(&data, &size);
        assert_non_null(out);
        for (int c; (c = fgetc(in)) != EOF;)
                fputc(c, out);
        fclose(in);
        fclose(out);
        *ret_size = size;
        return data;
}

static void test_ledger_open_snapshot_reads_the_file_and_writes_nothing(void **state) {
        const Fixture *f = *state;
        LedgerReminder r = enschede();
        Ledger *l = open_ledger(f), *copy = NULL;
        char *wal, *before, *after;
        size_t n, n_after;
        LedgerState s;

        assert_true(asprintf(&wal, "%s-wal", f->path) > 0);
        assert_int_equal(ledger_mark_skipped(l, &r, NOW_USEC, "missed"), 0);
        assert_null(ledger_close(l)); /* checkpointed: no -wal left */
        before = file_bytes(f->path, &n);
        assert_non_null(before);

        assert_int_equal(ledger_open_snapshot(f->path, &copy), 0);
        assert_int_equal(ledger_get_state(copy, r.identity, &s), 1);
        assert_int_equal(s, LEDGER_SKIPPED);
        /* Written into the copy only. */
        assert_int_equal(ledger_record_decision(copy, "burgernet-twente", 1, "enschede",
                                                DECISION_CONTINUE, NULL, "root", NOW_USEC),
                         0);
        assert_null(ledger_close(copy));
        after = file_bytes(f->path, &n_after);
        assert_int_equal(n_after, n);
        assert_memory_equal(after, before, n);
        assert_int_equal(access(wal, F_OK), -1);
        l = open_ledger(f);
        assert_int_equal(ledger_decisions(l, &(LedgerDecision *){NULL}, &n), 0);
        assert_int_equal(n, 0);
        assert_null(ledger_close(l));
        free(after);
        free(before);
        free(wal);
}

static void test_ledger_open_snapshot_keeps_the_wal_of_a_running_daemon(void **state) {
        const Fixture *f = *state;
        LedgerReminder r = enschede();
        Ledger *l = open_ledger(f), *copy = NULL;
        char *wal, *before, *wal_before, *after, *wal_after;
        size_t n, n_wal, n_after, n_wal_after;

        assert_true(asprintf(&wal, "%s-wal", f->path) > 0);
        /* The daemon has it open, with its last commit in the -wal only. */
        assert_int_equal(ledger_mark_skipped(l, &r, NOW_USEC, "missed"), 0);
        before = file_bytes(f->path, &n);
        wal_before = file_bytes(wal, &n_wal);
        assert_non_null(wal_before);
        assert_true(n_wal > 0);
        assert_int_equal(ledger_open_snapshot(f->path, &copy), 0);
        assert_int_equal(ledger_get_state(copy, r.identity, NULL), 1);
        assert_null(ledger_close(copy));
        after = file_bytes(f->path, &n_after);
        wal_after = file_bytes(wal, &n_wal_after);
        assert_int_equal(n_after, n);
        assert_memory_equal(after, before, n);
        assert_int_equal(n_wal_after, n_wal);
        assert_memory_equal(wal_after, wal_before, n_wal);
        free(before);
        free(after);
        free(wal_before);
        free(wal_after);
        free(wal);
        assert_null(ledger_close(l));
}

static void test_ledger_open_snapshot_refuses_what_open_refuses(void **state) {
        const Fixture *f = *state;
        char sql[64];
        Ledger *l = NULL;

        assert_int_equal(ledger_open_snapshot(f->path, &l), -ENOENT);
        assert_int_equal(access(f->path, F_OK), -1); /* not created */
        assert_int_equal(ledger_open_snapshot("file:x", &l), -EINVAL);
        assert_int_equal(ledger_open_snapshot(f->dir, &l), -EISDIR);
        (void) snprintf(sql, sizeof(sql), "CREATE TABLE future (x); PRAGMA user_version = %d;",
                        LEDGER_SCHEMA_VERSION + 1);
        create_database(f->path, sql);
        assert_int_equal(ledger_open_snapshot(f->path, &l), -EPROTONOSUPPORT);
        assert_null(l);
        /* No file: an empty ledger, migrated. */
        assert_int_equal(ledger_open_snapshot(NULL, &l), 0);
        assert_int_equal(ledger_get_state(l, enschede().identity, NULL), 0);
        assert_null(ledger_close(l));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                T(test_ledger_open_creates_file_with_mode_0600),
                T(test_ledger_open_keeps_mode_of_existing_file),
                T(test_ledger_open_sets_wal_journal_mode),
                T(test_ledger_open_sets_schema_version),
                T(test_ledger_open_migrates_empty_database),
                T(test_ledger_open_keeps_rows_on_reopen),
                T(test_ledger_open_refuses_newer_schema),
                T(test_ledger_open_refuses_non_database),
                T(test_ledger_open_refuses_directory),
                T(test_ledger_open_refuses_fifo),
                T(test_ledger_open_refuses_missing_directory),
                T(test_ledger_open_refuses_uri),
                T(test_ledger_open_twice_shares_writes),
                T(test_ledger_enqueue_waits_for_lock_then_returns_ebusy),
                T(test_ledger_queued_begin_records_the_attempt_on_its_row),
                T(test_ledger_queued_begin_again_counts_attempts),
                T(test_ledger_enqueue_refuses_every_settled_row),
                T(test_ledger_enqueue_refuses_incomplete_reminder),
                T(test_ledger_mark_sent_stores_reply_and_message_id),
                T(test_ledger_mark_sent_refuses_missing_row),
                T(test_ledger_mark_sent_refuses_settled_row),
                T(test_ledger_mark_failed_settles_pending_row),
                T(test_ledger_mark_failed_refuses_missing_row),
                T(test_ledger_mark_skipped_creates_skipped_row),
                T(test_ledger_mark_skipped_moves_pending_to_skipped),
                T(test_ledger_mark_skipped_refuses_sent_row),
                T(test_ledger_mark_skipped_keeps_skipped_row),
                T(test_ledger_get_state_unknown_row_returns_0),
                T(test_ledger_record_decision_appends_in_order),
                T(test_ledger_record_decision_refuses_unknown_decision),
                T(test_ledger_decisions_empty_returns_null),
                T(test_ledger_history_orders_by_due_commitment_recipient_channel),
                T(test_ledger_history_filters_by_commitment),
                T(test_ledger_pending_lists_only_pending_rows),
                T(test_ledger_error_is_empty_after_open),
                T(test_ledger_batch_end_commits_every_change_and_only_refuses_the_refused),
                T(test_ledger_batch_end_without_commit_changes_nothing),
                T(test_ledger_latest_settled_finds_the_group_whatever_the_offset),
                T(test_ledger_enqueue_creates_pending_row_and_outbox_row),
                T(test_ledger_enqueue_refuses_settled_row),
                T(test_ledger_enqueue_twice_returns_eexist),
                T(test_ledger_enqueue_takes_over_interrupted_attempt),
                T(test_ledger_enqueue_refuses_incomplete_message),
                T(test_ledger_enqueue_supersedes_an_earlier_waiting_reminder_of_its_group),
                T(test_ledger_enqueue_leaves_an_earlier_reminder_in_flight),
                T(test_ledger_queued_skip_decided_skips_waiting_decision_messages),
                T(test_ledger_queued_skip_decided_keeps_overdue_messages_when_asked),
                T(test_ledger_queued_due_returns_payload_bytes_exactly),
                T(test_ledger_queued_due_orders_by_next_and_limits_per_transport),
                T(test_ledger_queued_begin_sets_in_flight_and_counts_attempt),
                T(test_ledger_queued_retry_waits_until_next_and_keeps_reply),
                T(test_ledger_queued_next_is_earliest_not_in_flight),
                T(test_ledger_queued_recover_makes_in_flight_due_and_interrupted),
                T(test_ledger_mark_sent_takes_message_out_of_outbox),
                T(test_ledger_batch_end_keeps_the_outbox_changes_that_were_not_refused),
                T(test_ledger_open_migrates_v1_file_and_keeps_its_rows),
                T(test_ledger_open_migrates_real_v2_file_into_identity_columns),
                T(test_ledger_open_migrates_v2_escalations_cut_from_the_left),
                T(test_ledger_group_look_ups_work_on_migrated_v2_rows),
                T(test_ledger_group_look_ups_use_the_recipient_index),
                T(test_ledger_batch_end_returns_the_commits_own_error),
                T(test_ledger_queued_skip_decided_returns_the_commits_own_error),
                T(test_ledger_mark_sent_returns_the_commits_own_error),
                T(test_ledger_group_settled_says_when_one_was_sent),
                T(test_ledger_queued_get_returns_attempts_and_next_attempt),
                T(test_ledger_open_snapshot_reads_the_file_and_writes_nothing),
                T(test_ledger_open_snapshot_keeps_the_wal_of_a_running_daemon),
                T(test_ledger_open_snapshot_refuses_what_open_refuses),
                cmocka_unit_test(test_ledger_close_accepts_null),
                cmocka_unit_test(test_ledger_state_to_string_names_every_state),
                cmocka_unit_test(test_decision_from_string_parses_contract_spellings),
                T(test_ledger_revoke_decision_appends_and_the_decision_no_longer_stands),
                T(test_ledger_revoke_decision_refuses_when_no_decision_stands),
                T(test_ledger_decisions_a_decision_recorded_after_a_revocation_stands),
                T(test_ledger_record_decision_refuses_revoke),
                T(test_ledger_open_migrates_real_v3_file_keeping_decision_ids),
                cmocka_unit_test(test_decision_to_string_names_the_revocation),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
