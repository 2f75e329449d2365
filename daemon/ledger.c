/* The ledger: what was sent, skipped, failed and decided, in one SQLite file.
 *
 * The ledger is what makes "never twice" hold across restarts, reloads and crashes, so every
 * write is durable before the call returns.  The daemon and noticectl use the file at the same
 * time: WAL lets readers run beside the writer, every read-then-write takes the write lock up
 * front (BEGIN IMMEDIATE) so that it cannot fail half-way with SQLITE_BUSY, and the busy timeout
 * absorbs the short waits for that lock.  Statements are prepared once at open; values are
 * always bound, never pasted into SQL. */

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "noticed/ledger.h"
#include "noticed/macro.h"

#define BUSY_TIMEOUT_MSEC 5000

/* Migration k takes user_version k-1 to k and sets the version itself, so that the change and
 * the bump commit together.  Append only: a shipped migration is never edited. */
static const char *const migrations[] = {
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
        "PRAGMA user_version = 1;",
        /* 2: the outbox.  A reminder handed to a transport waits here, pending in reminders,
         * with the exact bytes to send (so every attempt sends the same message) until it is
         * sent or given up. */
        "CREATE TABLE outbox ("
        "  id TEXT NOT NULL, channel TEXT NOT NULL,"
        "  transport TEXT NOT NULL, recipients TEXT, payload BLOB NOT NULL, message_id TEXT,"
        "  key TEXT, escalate INTEGER NOT NULL CHECK (escalate IN (0, 1)),"
        "  next_usec INTEGER NOT NULL, deadline_usec INTEGER NOT NULL,"
        "  inflight INTEGER NOT NULL DEFAULT 0 CHECK (inflight IN (0, 1)),"
        "  interrupted INTEGER NOT NULL DEFAULT 0 CHECK (interrupted IN (0, 1)),"
        "  PRIMARY KEY (id, channel)"
        ") WITHOUT ROWID;"
        "CREATE INDEX outbox_by_next ON outbox (inflight, transport, next_usec);"
        /* A reminder's group (milestone, recipient, channel) is looked up for every reminder
         * queued: by recipient first, or a burst to thousands of participants of one milestone
         * scans them all each time. */
        "CREATE INDEX reminders_by_recipient ON reminders (recipient, commitment);"
        "PRAGMA user_version = 2;",
        /* 3: a reminder's identity in columns (identity.h), so that group look-ups compare
         * columns and nothing parses the id: the one-off deadline's id, and for an escalation
         * the failed reminder's kind, deadline, recipient and channel.  The rows there are get
         * them from their ids, here, once: "commitment/deadline:ID/..." and
         * "commitment/escalation/cycle/milestone/KIND:OFFSET:RECIPIENT:CHANNEL/TO", where KIND
         * may be "deadline:ID" and CHANNEL "webhook:NAME", and the offset (a column) splits. */
        "ALTER TABLE reminders ADD COLUMN deadline TEXT;"
        "ALTER TABLE reminders ADD COLUMN failed_kind TEXT;"
        "ALTER TABLE reminders ADD COLUMN failed_deadline TEXT;"
        "ALTER TABLE reminders ADD COLUMN failed_recipient TEXT;"
        "ALTER TABLE reminders ADD COLUMN failed_channel TEXT;"
        "UPDATE reminders SET deadline = substr(id, length(commitment) + 11, "
        "  instr(substr(id, length(commitment) + 11), '/') - 1) "
        "WHERE kind = 'deadline' AND substr(id, length(commitment) + 2, 9) = 'deadline:';"
        "CREATE TEMP TABLE migration3 AS SELECT id, channel, "
        "  substr(part, 1, instr(part, o) - 1) AS k, substr(part, instr(part, o) + length(o)) AS t "
        "FROM (SELECT id, channel, ':' || offset_ || ':' AS o, "
        "  substr(id, length(commitment) + length(cycle) + length(milestone) + 15, "
        "    length(id) - length(commitment) - length(cycle) - length(milestone) - 15 "
        "    - length(recipient)) AS part "
        "  FROM reminders WHERE kind = 'escalation');"
        "UPDATE reminders SET "
        "  failed_kind = (SELECT CASE WHEN instr(k, ':') > 0 THEN substr(k, 1, instr(k, ':') - 1) "
        "    ELSE k END FROM migration3 m WHERE m.id = reminders.id AND m.channel = reminders.channel),"
        "  failed_deadline = (SELECT CASE WHEN instr(k, ':') > 0 THEN substr(k, instr(k, ':') + 1) "
        "    END FROM migration3 m WHERE m.id = reminders.id AND m.channel = reminders.channel),"
        "  failed_recipient = (SELECT substr(t, 1, instr(t, ':') - 1) "
        "    FROM migration3 m WHERE m.id = reminders.id AND m.channel = reminders.channel),"
        "  failed_channel = (SELECT substr(t, instr(t, ':') + 1) "
        "    FROM migration3 m WHERE m.id = reminders.id AND m.channel = reminders.channel) "
        "WHERE kind = 'escalation';"
        "DROP TABLE migration3;"
        "PRAGMA user_version = 3;",
};
_Static_assert(ELEMENTSOF(migrations) == LEDGER_SCHEMA_VERSION, "one migration per version");

typedef enum Statement {
        STMT_BEGIN,
        STMT_COMMIT,
        STMT_ROLLBACK,
        STMT_SAVEPOINT,
        STMT_RELEASE,
        STMT_ROLLBACK_TO,
        _STMT_NEED_SCHEMA, /* the statements from here on name tables */
        STMT_GET_STATE = _STMT_NEED_SCHEMA,
        STMT_INSERT_REMINDER,
        STMT_RETRY,
        STMT_SETTLE,
        STMT_INSERT_DECISION,
        STMT_DECISIONS,
        STMT_HISTORY_ALL,
        STMT_HISTORY_OF,
        STMT_PENDING,
        STMT_LATEST_SETTLED,
        STMT_IS_QUEUED,
        STMT_OUTBOX_INSERT,
        STMT_OUTBOX_DELETE,
        STMT_OUTBOX_BEGIN,
        STMT_OUTBOX_RETRY,
        STMT_OUTBOX_RETRY_REPLY,
        STMT_OUTBOX_TRANSPORTS,
        STMT_OUTBOX_DUE,
        STMT_OUTBOX_NEXT,
        STMT_OUTBOX_INFLIGHT,
        STMT_OUTBOX_RECOVER,
        STMT_OUTBOX_SUPERSEDE,
        STMT_OUTBOX_DROP_SKIPPED,
        STMT_OUTBOX_RETARGET,
        STMT_OUTBOX_SKIP_DECIDED,
        _STMT_MAX,
} Statement;

/* A reminder's identity, as read_identity() reads it: columns 0 to IDENTITY_N - 1. */
#define IDENTITY_COLUMNS                                                                           \
        "r.id, r.channel, commitment, kind, deadline, cycle, milestone, offset_, recipient, "     \
        "failed_kind, failed_deadline, failed_recipient, failed_channel"
#define IDENTITY_N 13
/* A reminder's group (ledger_latest_settled()) is ?1 to ?8, by recipient and commitment first:
 * left to itself, SQLite takes reminders_by_commitment for MAX(due_usec), and a burst to
 * thousands of participants of one commitment would read them all for each reminder. */
#define GROUP_INDEX "INDEXED BY reminders_by_recipient "
#define GROUP_WHERE                                                                                \
        "WHERE recipient = ?1 AND commitment = ?2 AND kind = ?3 AND deadline IS ?4 AND cycle = ?5 " \
        "AND milestone = ?6 AND channel = ?7 AND (offset_ = 'overdue') = ?8 "
/* A pending row with an outbox row is reported as queued. */
#define ENTRY_SELECT                                                                               \
        "SELECT " IDENTITY_COLUMNS ", "                                                            \
        "CASE WHEN state = 'pending' AND EXISTS (SELECT 1 FROM outbox o WHERE o.id = r.id AND "    \
        "o.channel = r.channel) THEN 'queued' ELSE state END, "                                    \
        "attempts, due_usec, created_usec, updated_usec, reply, r.message_id FROM reminders r "
#define QUEUED_SELECT                                                                              \
        "SELECT " IDENTITY_COLUMNS ", "                                                            \
        "attempts, due_usec, reply, transport, recipients, payload, o.message_id, key, escalate, " \
        "next_usec, deadline_usec, interrupted FROM outbox o JOIN reminders r "                    \
        "ON r.id = o.id AND r.channel = o.channel "
/* id last: one recipient may have two reminders due at one instant; the order stays stable. */
#define ENTRY_ORDER " ORDER BY due_usec, commitment, recipient, channel, id"

static const char *const statement_sql[_STMT_MAX] = {
        [STMT_BEGIN] = "BEGIN IMMEDIATE",
        [STMT_COMMIT] = "COMMIT",
        [STMT_ROLLBACK] = "ROLLBACK",
        /* Inside a batch each change is a savepoint: a refused one leaves the others alone. */
        [STMT_SAVEPOINT] = "SAVEPOINT one",
        [STMT_RELEASE] = "RELEASE one",
        [STMT_ROLLBACK_TO] = "ROLLBACK TO one",
        [STMT_GET_STATE] = "SELECT state FROM reminders WHERE id = ?1 AND channel = ?2",
        [STMT_INSERT_REMINDER] =
                "INSERT INTO reminders (id, channel, commitment, kind, deadline, cycle, milestone, "
                "offset_, recipient, failed_kind, failed_deadline, failed_recipient, "
                "failed_channel, due_usec, state, attempts, created_usec, updated_usec, reply) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
                "?17, ?17, ?18)",
        [STMT_RETRY] = "UPDATE reminders SET attempts = attempts + 1, updated_usec = ?3 "
                       "WHERE id = ?1 AND channel = ?2",
        [STMT_SETTLE] = "UPDATE reminders SET state = ?3, updated_usec = ?4, reply = ?5, "
                        "message_id = ?6 WHERE id = ?1 AND channel = ?2",
        [STMT_INSERT_DECISION] = "INSERT INTO decisions (commitment, cycle, participant, "
                                 "decision, note, user, at_usec) "
                                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        /* The order of recording, not at_usec: a clock set back must not reorder the trail. */
        [STMT_DECISIONS] = "SELECT commitment, cycle, participant, decision, note, user, at_usec "
                           "FROM decisions ORDER BY id",
        [STMT_HISTORY_ALL] = ENTRY_SELECT ENTRY_ORDER,
        [STMT_HISTORY_OF] = ENTRY_SELECT "WHERE commitment = ?1" ENTRY_ORDER,
        [STMT_PENDING] = ENTRY_SELECT "WHERE state = 'pending' AND NOT EXISTS (SELECT 1 FROM "
                                      "outbox o WHERE o.id = r.id AND o.channel = r.channel)"
                                      ENTRY_ORDER,
        [STMT_LATEST_SETTLED] = "SELECT MAX(due_usec) FROM reminders " GROUP_INDEX GROUP_WHERE
                                "AND (state != 'pending' OR EXISTS (SELECT 1 FROM outbox o "
                                "WHERE o.id = reminders.id AND o.channel = reminders.channel))",
        [STMT_IS_QUEUED] = "SELECT 1 FROM outbox WHERE id = ?1 AND channel = ?2",
        [STMT_OUTBOX_INSERT] = "INSERT INTO outbox (id, channel, transport, recipients, payload, "
                               "message_id, key, escalate, next_usec, deadline_usec, interrupted) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        [STMT_OUTBOX_DELETE] = "DELETE FROM outbox WHERE id = ?1 AND channel = ?2",
        [STMT_OUTBOX_BEGIN] = "UPDATE outbox SET inflight = 1 "
                              "WHERE id = ?1 AND channel = ?2 AND inflight = 0",
        [STMT_OUTBOX_RETRY] = "UPDATE outbox SET inflight = 0, interrupted = 0, next_usec = ?3 "
                              "WHERE id = ?1 AND channel = ?2",
        [STMT_OUTBOX_RETRY_REPLY] = "UPDATE reminders SET updated_usec = ?3, reply = ?4 "
                                    "WHERE id = ?1 AND channel = ?2",
        [STMT_OUTBOX_TRANSPORTS] = "SELECT DISTINCT transport FROM outbox "
                                   "WHERE inflight = 0 AND next_usec <= ?1 ORDER BY transport",
        /* o.id, not r.id (the same value): the order must come from outbox_by_next, or every
         * call reads and sorts the whole outbox, payloads and all, to return a few rows. */
        [STMT_OUTBOX_DUE] = QUEUED_SELECT "WHERE inflight = 0 AND transport = ?1 "
                                          "AND next_usec <= ?2 ORDER BY next_usec, o.id LIMIT ?3",
        [STMT_OUTBOX_NEXT] = "SELECT MIN(next_usec) FROM outbox WHERE inflight = 0",
        [STMT_OUTBOX_INFLIGHT] = QUEUED_SELECT "WHERE inflight = 1 ORDER BY next_usec, r.id",
        [STMT_OUTBOX_RECOVER] = "UPDATE outbox SET inflight = 0, interrupted = 1 "
                                "WHERE inflight = 1",
        /* The older reminders of a group (as STMT_LATEST_SETTLED has it) still waiting. */
        [STMT_OUTBOX_SUPERSEDE] =
                "UPDATE reminders " GROUP_INDEX "SET state = 'skipped', updated_usec = ?10, "
                "reply = ?11 " GROUP_WHERE "AND due_usec < ?9 AND state = 'pending' AND EXISTS (SELECT 1 "
                "FROM outbox o WHERE o.id = reminders.id AND o.channel = reminders.channel AND "
                "o.inflight = 0)",
        [STMT_OUTBOX_SKIP_DECIDED] =
                "UPDATE reminders SET state = 'skipped', updated_usec = ?4, reply = ?5 "
                "WHERE commitment = ?1 AND cycle = ?2 AND recipient = ?3 "
                "AND kind IN ('decision', 'notice') AND (?6 OR offset_ != 'overdue') "
                "AND state = 'pending' AND EXISTS (SELECT 1 "
                "FROM outbox o WHERE o.id = reminders.id AND o.channel = reminders.channel AND "
                "o.inflight = 0)",
        /* In flight too: the outcome of an attempt through the old transport brings it back to
         * wait, and then it must follow the new one. */
        [STMT_OUTBOX_RETARGET] = "UPDATE outbox SET transport = ?2 "
                                 "WHERE channel = ?1 AND transport != ?2",
        [STMT_OUTBOX_DROP_SKIPPED] = "DELETE FROM outbox WHERE inflight = 0 AND EXISTS (SELECT 1 "
                                     "FROM reminders r WHERE r.id = outbox.id AND r.channel = "
                                     "outbox.channel AND r.state = 'skipped')",
};

struct Ledger {
        sqlite3 *db;
        sqlite3_stmt *statements[_STMT_MAX];
        char error[256]; /* a copy: the next call, even a ROLLBACK, replaces sqlite3_errmsg() */
        bool batch;      /* inside ledger_batch_begin() .. ledger_batch_end() */
};

static const char *const state_names[_LEDGER_STATE_MAX] = {
        [LEDGER_PENDING] = "pending",
        [LEDGER_SENT] = "sent",
        [LEDGER_FAILED] = "failed",
        [LEDGER_SKIPPED] = "skipped",
        [LEDGER_QUEUED] = "queued",
};

static const char *const decision_names[_DECISION_MAX] = {
        [DECISION_CONTINUE] = "continue",
        [DECISION_TERMINATE] = "terminate",
};

const char *ledger_state_to_string(LedgerState s) {
        return s >= 0 && s < _LEDGER_STATE_MAX ? state_names[s] : NULL;
}

const char *decision_to_string(Decision d) {
        return d >= 0 && d < _DECISION_MAX ? decision_names[d] : NULL;
}

static int lookup_name(const char *const *names, int n, const char *s) {
        for (int i = 0; s && i < n; i++)
                if (strcmp(s, names[i]) == 0)
                        return i;
        return -EINVAL;
}

int decision_from_string(const char *s, Decision *ret) {
        int i = lookup_name(decision_names, _DECISION_MAX, s);

        if (i < 0)
                return i;
        if (ret)
                *ret = (Decision) i;
        return 0;
}

const char *ledger_state_directory(void) {
        static char first[PATH_MAX];
        const char *e = getenv("STATE_DIRECTORY");
        size_t n;

        if (!e || !*e)
                return LEDGER_STATE_DIRECTORY_DEFAULT;
        /* systemd lists several directories separated by ':'; ours is the first. */
        n = strcspn(e, ":");
        if (n >= sizeof(first))
                return LEDGER_STATE_DIRECTORY_DEFAULT;
        memcpy(first, e, n);
        first[n] = '\0';
        return first;
}

char *ledger_path_in(const char *state_dir) {
        char *p;

        if (asprintf(&p, "%s/%s", state_dir, LEDGER_FILE) < 0)
                return NULL;
        return p;
}

static int errno_from_sqlite(sqlite3 *db, int rc) {
        switch (rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
                return -EBADMSG;
        case SQLITE_READONLY:
                return -EROFS;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_CONSTRAINT:
        case SQLITE_MISMATCH:
        case SQLITE_RANGE:
        case SQLITE_MISUSE:
                return -EINVAL;
        case SQLITE_TOOBIG:
                return -E2BIG;
        case SQLITE_PERM:
        case SQLITE_AUTH:
                return -EACCES;
        case SQLITE_CANTOPEN: { /* errno knows why: a missing directory, no permission, ... */
                int e = db ? sqlite3_system_errno(db) : 0;
                return e > 0 ? -e : -EIO;
        }
        default:
                return -EIO;
        }
}

static void set_error(Ledger *l, const char *message) {
        (void) snprintf(l->error, sizeof(l->error), "%s", message);
}

/* Keeps SQLite's complaint and translates rc, the code the failed call returned. */
static int fail(Ledger *l, int rc) {
        set_error(l, sqlite3_errmsg(l->db));
        return errno_from_sqlite(l->db, rc);
}

static void reset(sqlite3_stmt *s) {
        (void) sqlite3_reset(s);
        /* SQLITE_STATIC bindings point into the caller's strings; none may outlive the call. */
        (void) sqlite3_clear_bindings(s);
}

/* Binds ?1, ?2, ... in order, then steps the statement to its end and resets it.  types has one
 * letter per value: 't' a string (NULL binds NULL; a bare NULL must be cast to const char *),
 * 'i' an int64_t or 'u' a usec_t, which the caller must pass as exactly that type; SQLite keeps
 * a usec_t as its signed 64 bits.  A bind fails only for a value too big or a programming
 * error. */
static int execute(Ledger *l, Statement statement, const char *types, ...) {
        sqlite3_stmt *s = l->statements[statement];
        const char *text;
        va_list ap;
        int rc = SQLITE_OK;

        /* The letters cannot be checked against the values; their number at least can be. */
        if (strlen(types) != (size_t) sqlite3_bind_parameter_count(s)) {
                set_error(l, "internal error: wrong number of values for a statement");
                return -EINVAL;
        }
        va_start(ap, types);
        for (int i = 0; rc == SQLITE_OK && types[i]; i++)
                if (types[i] == 't') {
                        text = va_arg(ap, const char *);
                        rc = text ? sqlite3_bind_text(s, i + 1, text, -1, SQLITE_STATIC)
                                  : sqlite3_bind_null(s, i + 1);
                } else if (types[i] == 'u')
                        rc = sqlite3_bind_int64(s, i + 1, (int64_t) va_arg(ap, usec_t));
                else
                        rc = sqlite3_bind_int64(s, i + 1, va_arg(ap, int64_t));
        va_end(ap);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(s);
        reset(s);
        return rc == SQLITE_DONE ? 0 : fail(l, rc);
}

/* Ends a failed transaction and returns r.  Some errors (I/O, a full disk) have rolled it back
 * already; a failed COMMIT may have left it open, and the next call must not inherit it. */
static int transaction_abort(Ledger *l, int r) {
        /* Not execute(): the error message must stay the one of the failure. */
        if (l->batch && !sqlite3_get_autocommit(l->db)) {
                (void) sqlite3_step(l->statements[STMT_ROLLBACK_TO]);
                reset(l->statements[STMT_ROLLBACK_TO]);
                (void) sqlite3_step(l->statements[STMT_RELEASE]);
                reset(l->statements[STMT_RELEASE]);
        } else if (!sqlite3_get_autocommit(l->db)) {
                (void) sqlite3_step(l->statements[STMT_ROLLBACK]);
                reset(l->statements[STMT_ROLLBACK]);
        }
        return r;
}

/* Commits when r says the work succeeded, else rolls back; returns r or the commit's error. */
static int transaction_end(Ledger *l, int r) {
        if (r >= 0)
                r = execute(l, l->batch ? STMT_RELEASE : STMT_COMMIT, "");
        return r < 0 ? transaction_abort(l, r) : 0;
}

/* 1 and the state (when ret is not NULL) if the row exists, 0 if it does not. */
static int lookup_state(Ledger *l, const char *id, const char *channel, LedgerState *ret) {
        sqlite3_stmt *s = l->statements[STMT_GET_STATE];
        int rc, r = 0;

        rc = sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(s, 2, channel, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
                r = lookup_name(state_names, _LEDGER_STATE_MAX,
                                (const char *) sqlite3_column_text(s, 0));
                if (r >= 0) {
                        if (ret)
                                *ret = (LedgerState) r;
                        r = 1;
                } else {
                        set_error(l, "a malformed row in the ledger");
                        r = -EBADMSG;
                }
        } else if (rc != SQLITE_DONE)
                r = fail(l, rc);
        reset(s);
        return r;
}

typedef enum Change {
        REFUSE_NO_ROW,  /* -ENOENT */
        REFUSE_SETTLED, /* -EALREADY */
        INSERT,
        SETTLE,
        KEEP,
} Change;

/* The state machine, by the state a call moves to (mark_sent sent, mark_skipped skipped, ...)
 * and the row's current state: no row yet, pending, sent, failed, skipped.  A settled row is never
 * rewritten: its record is what prevents a second send.  A row becomes pending only by
 * ledger_enqueue(), and its attempts are counted by ledger_queued_begin(). */
static const Change transitions[_LEDGER_STATE_MAX][1 + _LEDGER_STATE_MAX] = {
        [LEDGER_SENT] = {REFUSE_NO_ROW, SETTLE, REFUSE_SETTLED, REFUSE_SETTLED, REFUSE_SETTLED},
        [LEDGER_FAILED] = {REFUSE_NO_ROW, SETTLE, REFUSE_SETTLED, REFUSE_SETTLED, REFUSE_SETTLED},
        /* Skipping twice is no error; the first reason stands. */
        [LEDGER_SKIPPED] = {INSERT, SETTLE, REFUSE_SETTLED, REFUSE_SETTLED, KEEP},
};

/* The INSERT of a row in state state for reminder m. */
static int insert_reminder(Ledger *l, const LedgerReminder *m, LedgerState state, unsigned attempts,
                           usec_t now_usec, const char *reply) {
        const ReminderIdentity *x = m->identity;

        return execute(l, STMT_INSERT_REMINDER, "tttttitttttttutiut", x->id, x->channel,
                       x->commitment, x->kind, x->deadline, (int64_t) x->cycle, x->milestone,
                       x->offset, x->recipient, x->failed_kind, x->failed_deadline,
                       x->failed_recipient, x->failed_channel, m->due_usec, state_names[state],
                       (int64_t) attempts, now_usec, reply);
}

/* Moves the row of x to state to, in one write transaction.  m describes the row for the
 * transitions that may create it. */
static int transition(Ledger *l, LedgerState to, const ReminderIdentity *x, const LedgerReminder *m,
                      usec_t now_usec, const char *reply, const char *message_id) {
        LedgerState state = LEDGER_PENDING;
        int r;

        assert(to == LEDGER_SENT || to == LEDGER_FAILED || to == LEDGER_SKIPPED);
        r = execute(l, l->batch ? STMT_SAVEPOINT : STMT_BEGIN, "");
        if (r < 0)
                return r;
        r = lookup_state(l, x->id, x->channel, &state);
        if (r < 0)
                return transaction_abort(l, r);

        switch (transitions[to][r == 0 ? 0 : 1 + state]) {
        case INSERT:
                r = insert_reminder(l, m, to, 0, now_usec, reply);
                break;
        case SETTLE:
                r = execute(l, STMT_SETTLE, "tttutt", x->id, x->channel, state_names[to], now_usec,
                            reply, message_id);
                if (r >= 0) /* settled: nothing is left to send */
                        r = execute(l, STMT_OUTBOX_DELETE, "tt", x->id, x->channel);
                break;
        case KEEP:
                r = 0;
                break;
        case REFUSE_NO_ROW:
                set_error(l, "no such reminder in the ledger");
                r = -ENOENT;
                break;
        case REFUSE_SETTLED:
                set_error(l, "the reminder is already sent, failed or skipped");
                r = -EALREADY;
                break;
        }
        return transaction_end(l, r);
}

static bool identity_is_valid(const ReminderIdentity *x) {
        return x && x->id && x->channel;
}

static bool reminder_is_valid(const LedgerReminder *m) {
        const ReminderIdentity *x = m ? m->identity : NULL;

        return x && x->id && x->channel && x->commitment && x->kind && x->milestone && x->offset &&
               x->recipient;
}

/* A missing file is created here, not by SQLite, so that it gets mode 0600 whatever the umask
 * (SQLite gives its -wal and -shm files the same mode).  The descriptor is closed before SQLite
 * opens the file: closing any descriptor of a file drops every POSIX lock the process holds on
 * it, SQLite's included. */
static int ensure_regular_file(const char *path) {
        struct stat st;
        int fd, r = 0;

        /* O_NONBLOCK: opening a FIFO must not hang before it is refused. */
        fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                r = -errno;
        else if (S_ISDIR(st.st_mode))
                r = -EISDIR;
        else if (!S_ISREG(st.st_mode))
                r = -EBADFD;
        (void) close(fd);
        return r;
}

/* The first column of the first row of a PRAGMA.  Only open runs these, so they are prepared on
 * the spot.  ret_text must be at least 8 bytes; either may be NULL. */
static int pragma(Ledger *l, const char *sql, int *ret_int, char *ret_text) {
        sqlite3_stmt *s;
        const char *text;
        int rc, r = 0;

        rc = sqlite3_prepare_v2(l->db, sql, -1, &s, NULL);
        if (rc != SQLITE_OK)
                return fail(l, rc);
        rc = sqlite3_step(s);
        if (rc != SQLITE_ROW)
                r = fail(l, rc);
        else if (ret_int)
                *ret_int = sqlite3_column_int(s, 0);
        else {
                text = (const char *) sqlite3_column_text(s, 0);
                (void) snprintf(ret_text, 8, "%s", text ? text : "");
        }
        (void) sqlite3_finalize(s);
        return r;
}

/* user_version; a file from a newer noticed is refused. */
static int schema_version(Ledger *l, int *ret) {
        int r;

        r = pragma(l, "PRAGMA user_version", ret, NULL);
        if (r >= 0 && (*ret < 0 || *ret > LEDGER_SCHEMA_VERSION)) {
                set_error(l, "the ledger was written by a newer version of noticed");
                r = -EPROTONOSUPPORT;
        }
        return r;
}

static int configure(Ledger *l) {
        char mode[8];
        int version, rc, r;

        /* The first read of the file: one that is not a database, or is from a newer noticed, is
         * refused before anything is written to it. */
        r = schema_version(l, &version);
        if (r < 0)
                return r;
        r = pragma(l, "PRAGMA journal_mode = WAL", NULL, mode);
        if (r < 0)
                return r;
        if (strcmp(mode, "wal") != 0) {
                set_error(l, "the ledger cannot be switched to WAL mode");
                return sqlite3_db_readonly(l->db, "main") == 1 ? -EROFS : -EOPNOTSUPP;
        }
        /* In WAL mode, synchronous=NORMAL keeps the file consistent but may lose the last commits
         * on power loss, and a lost "sent" mark means a reminder sent twice.  FULL syncs the WAL
         * at every commit: one fsync per delivery, nothing at our rate. */
        rc = sqlite3_exec(l->db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;", NULL, NULL,
                          NULL);
        return rc == SQLITE_OK ? 0 : fail(l, rc);
}

/* Each step runs in its own write transaction and reads the version again under the write
 * lock: the daemon and noticectl may open a new file at once, and only one may apply a step. */
static int migrate(Ledger *l) {
        int version, rc, r;

        for (;;) {
                r = schema_version(l, &version);
                if (r < 0 || version == LEDGER_SCHEMA_VERSION)
                        return r;
                r = execute(l, STMT_BEGIN, "");
                if (r < 0)
                        return r;
                r = schema_version(l, &version);
                if (r >= 0 && version < LEDGER_SCHEMA_VERSION) {
                        rc = sqlite3_exec(l->db, migrations[version], NULL, NULL, NULL);
                        if (rc != SQLITE_OK)
                                r = fail(l, rc);
                }
                r = transaction_end(l, r);
                if (r < 0)
                        return r;
        }
}

static int prepare(Ledger *l, Statement from, Statement to) {
        int rc;

        for (Statement i = from; i < to; i++) {
                rc = sqlite3_prepare_v3(l->db, statement_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                        &l->statements[i], NULL);
                if (rc != SQLITE_OK)
                        return fail(l, rc);
        }
        return 0;
}

int ledger_open(const char *path, Ledger **ret) {
        Ledger *l;
        int rc, r;

        if (!path || !*path || !ret)
                return -EINVAL;
        /* Debian builds SQLite with SQLITE_USE_URI: a name that starts with "file:" would be read
         * as a URI, not as the file created below. */
        if (strncmp(path, "file:", 5) == 0)
                return -EINVAL;
        r = ensure_regular_file(path);
        if (r < 0)
                return r;

        l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        rc = sqlite3_open_v2(path, &l->db, SQLITE_OPEN_READWRITE, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_busy_timeout(l->db, BUSY_TIMEOUT_MSEC);
        if (rc != SQLITE_OK) {
                r = l->db ? fail(l, rc) : -ENOMEM;
                goto fail;
        }
        r = configure(l);
        /* Transactions first: migrating needs them, the rest needs the tables. */
        if (r >= 0)
                r = prepare(l, 0, _STMT_NEED_SCHEMA);
        if (r >= 0)
                r = migrate(l);
        if (r >= 0)
                r = prepare(l, _STMT_NEED_SCHEMA, _STMT_MAX);
        if (r < 0)
                goto fail;

        l->error[0] = '\0';
        *ret = l;
        return 0;
fail:
        (void) ledger_close(l);
        return r;
}

Ledger *ledger_close(Ledger *l) {
        if (!l)
                return NULL;
        for (size_t i = 0; i < _STMT_MAX; i++)
                (void) sqlite3_finalize(l->statements[i]);
        (void) sqlite3_close_v2(l->db);
        free(l);
        return NULL;
}

const char *ledger_error(const Ledger *l) {
        return l ? l->error : "";
}

/* 1 when the message of (id, channel) is in the outbox, 0 when not. */
static int is_queued(Ledger *l, const char *id, const char *channel) {
        sqlite3_stmt *s = l->statements[STMT_IS_QUEUED];
        int rc, r;

        rc = sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(s, 2, channel, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(s);
        r = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : fail(l, rc);
        reset(s);
        return r;
}

int ledger_get_state(Ledger *l, const ReminderIdentity *x, LedgerState *ret) {
        LedgerState state;
        int r;

        if (!l || !identity_is_valid(x))
                return -EINVAL;
        r = lookup_state(l, x->id, x->channel, &state);
        if (r > 0 && state == LEDGER_PENDING) {
                int q = is_queued(l, x->id, x->channel);
                if (q < 0)
                        return q;
                if (q > 0)
                        state = LEDGER_QUEUED;
        }
        if (r > 0 && ret)
                *ret = state;
        return r;
}

int ledger_batch_begin(Ledger *l) {
        int r;

        if (!l || l->batch)
                return -EINVAL;
        r = execute(l, STMT_BEGIN, "");
        if (r >= 0)
                l->batch = true;
        return r;
}

int ledger_batch_end(Ledger *l, bool commit) {
        int r = -ECANCELED;

        if (!l || !l->batch)
                return -EINVAL;
        l->batch = false;
        if (commit)
                r = execute(l, STMT_COMMIT, "");
        if (r < 0)
                (void) transaction_abort(l, r);
        return commit ? r : 0;
}

/* Binds x's group to ?1 .. ?8 of s (GROUP_WHERE). */
static int bind_group(sqlite3_stmt *s, const ReminderIdentity *x) {
        int rc;

        rc = sqlite3_bind_text(s, 1, x->recipient, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(s, 2, x->commitment, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(s, 3, x->kind, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = x->deadline ? sqlite3_bind_text(s, 4, x->deadline, -1, SQLITE_STATIC)
                                 : sqlite3_bind_null(s, 4);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(s, 5, x->cycle);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(s, 6, x->milestone, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(s, 7, x->channel, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int(s, 8, identity_is_overdue(x));
        return rc;
}

static bool group_is_valid(const ReminderIdentity *x) {
        return identity_is_valid(x) && x->recipient && x->commitment && x->kind && x->milestone &&
               x->offset;
}

int ledger_latest_settled(Ledger *l, const ReminderIdentity *x, usec_t *ret_due_usec) {
        sqlite3_stmt *s;
        int rc, r = 0;

        if (!l || !group_is_valid(x) || !ret_due_usec)
                return -EINVAL;
        s = l->statements[STMT_LATEST_SETTLED];
        rc = bind_group(s, x);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
                if (sqlite3_column_type(s, 0) != SQLITE_NULL) {
                        *ret_due_usec = (usec_t) sqlite3_column_int64(s, 0);
                        r = 1;
                }
        } else
                r = fail(l, rc);
        reset(s);
        return r;
}

int ledger_mark_sent(Ledger *l, const ReminderIdentity *x, usec_t now_usec, const char *reply,
                     const char *message_id) {
        if (!l || !identity_is_valid(x))
                return -EINVAL;
        return transition(l, LEDGER_SENT, x, NULL, now_usec, reply, message_id);
}

int ledger_mark_failed(Ledger *l, const ReminderIdentity *x, usec_t now_usec, const char *reply) {
        if (!l || !identity_is_valid(x))
                return -EINVAL;
        return transition(l, LEDGER_FAILED, x, NULL, now_usec, reply, NULL);
}

int ledger_mark_skipped(Ledger *l, const LedgerReminder *reminder, usec_t now_usec,
                        const char *reason) {
        if (!l || !reminder_is_valid(reminder))
                return -EINVAL;
        return transition(l, LEDGER_SKIPPED, reminder->identity, reminder, now_usec, reason, NULL);
}

int ledger_record_decision(Ledger *l, const char *commitment, uint32_t cycle,
                           const char *participant, Decision decision, const char *note,
                           const char *user, usec_t at_usec) {
        if (!l || !commitment || !participant || !decision_to_string(decision) || !user)
                return -EINVAL;
        /* One INSERT outside BEGIN is one transaction. */
        return execute(l, STMT_INSERT_DECISION, "tittttu", commitment, (int64_t) cycle, participant,
                       decision_names[decision], note, user, at_usec);
}

/* A copy of text column i into *ret.  NULL passes only where the schema allows it; a NULL from
 * a NOT NULL column means SQLite ran out of memory converting the value. */
static int column_strdup(sqlite3_stmt *s, int i, bool nullable, char **ret) {
        const char *text;

        *ret = NULL;
        if (nullable && sqlite3_column_type(s, i) == SQLITE_NULL)
                return 0;
        text = (const char *) sqlite3_column_text(s, i);
        *ret = text ? strdup(text) : NULL;
        return *ret ? 0 : -ENOMEM;
}

/* A column that must lie in [0, max]; anything else was not written by this module. */
static int column_range(sqlite3_stmt *s, int i, int64_t max, int64_t *ret) {
        *ret = sqlite3_column_int64(s, i);
        return *ret >= 0 && *ret <= max ? 0 : -EBADMSG;
}

/* Columns 0 .. IDENTITY_N - 1 (IDENTITY_COLUMNS) into *x. */
static int read_identity(sqlite3_stmt *s, ReminderIdentity *x) {
        char **texts[IDENTITY_N] = {&x->id,          &x->channel,         &x->commitment,
                                    &x->kind,        &x->deadline,        NULL,
                                    &x->milestone,   &x->offset,          &x->recipient,
                                    &x->failed_kind, &x->failed_deadline, &x->failed_recipient,
                                    &x->failed_channel};
        int64_t cycle;
        int r = 0;

        for (int i = 0; r >= 0 && i < IDENTITY_N; i++)
                if (texts[i])
                        r = column_strdup(s, i, i == 4 || i >= 9, texts[i]);
        if (r < 0)
                return r;
        if (column_range(s, 5, UINT32_MAX, &cycle) < 0)
                return -EBADMSG;
        x->cycle = (uint32_t) cycle;
        return 0;
}

static int read_entry(sqlite3_stmt *s, void *item) {
        LedgerEntry *e = item;
        int64_t attempts;
        int r;

        r = read_identity(s, &e->identity);
        if (r >= 0)
                r = column_strdup(s, IDENTITY_N + 5, true, &e->reply);
        if (r >= 0)
                r = column_strdup(s, IDENTITY_N + 6, true, &e->message_id);
        if (r < 0)
                return r;
        r = lookup_name(state_names, _LEDGER_STATE_MAX,
                        (const char *) sqlite3_column_text(s, IDENTITY_N));
        if (r < 0 || column_range(s, IDENTITY_N + 1, UINT_MAX, &attempts) < 0)
                return -EBADMSG;
        e->state = (LedgerState) r;
        e->attempts = (unsigned) attempts;
        e->due_usec = (usec_t) sqlite3_column_int64(s, IDENTITY_N + 2);
        e->created_usec = (usec_t) sqlite3_column_int64(s, IDENTITY_N + 3);
        e->updated_usec = (usec_t) sqlite3_column_int64(s, IDENTITY_N + 4);
        return 0;
}

static int read_decision(sqlite3_stmt *s, void *item) {
        LedgerDecision *d = item;
        int64_t cycle;
        int r;

        if ((r = column_strdup(s, 0, false, &d->commitment)) < 0 ||
            (r = column_strdup(s, 2, false, &d->participant)) < 0 ||
            (r = column_strdup(s, 4, true, &d->note)) < 0 ||
            (r = column_strdup(s, 5, false, &d->user)) < 0)
                return r;
        r = lookup_name(decision_names, _DECISION_MAX, (const char *) sqlite3_column_text(s, 3));
        if (r < 0 || column_range(s, 1, UINT32_MAX, &cycle) < 0)
                return -EBADMSG;
        d->decision = (Decision) r;
        d->cycle = (uint32_t) cycle;
        d->at_usec = (usec_t) sqlite3_column_int64(s, 6);
        return 0;
}

/* Steps a query to its end, appending one zeroed element of size bytes per row for read_row to
 * fill.  On failure the elements so far stay in *items and *n, for the caller to free. */
static int collect(Ledger *l, sqlite3_stmt *s, size_t size, int (*read_row)(sqlite3_stmt *, void *),
                   void **items, size_t *n) {
        size_t allocated = 0;
        void *grown;
        int rc = SQLITE_DONE, r = 0;

        while (r >= 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
                if (*n == allocated) {
                        allocated = allocated ? allocated * 2 : 16;
                        grown = reallocarray(*items, allocated, size);
                        if (!grown) {
                                r = -ENOMEM;
                                break;
                        }
                        *items = grown;
                }
                memset((char *) *items + *n * size, 0, size);
                r = read_row(s, (char *) *items + (*n)++ * size);
        }
        if (r >= 0 && rc != SQLITE_DONE)
                r = fail(l, rc);
        else if (r < 0)
                set_error(l, r == -ENOMEM ? "out of memory" : "a malformed row in the ledger");
        reset(s);
        return r;
}

int ledger_decisions(Ledger *l, LedgerDecision **ret, size_t *ret_n) {
        void *items = NULL;
        size_t n = 0;
        int r;

        if (!l || !ret || !ret_n)
                return -EINVAL;
        r = collect(l, l->statements[STMT_DECISIONS], sizeof(LedgerDecision), read_decision, &items,
                    &n);
        if (r < 0) {
                ledger_decisions_free(items, n);
                return r;
        }
        *ret = items;
        *ret_n = n;
        return 0;
}

void ledger_decisions_free(LedgerDecision *d, size_t n) {
        for (size_t i = 0; d && i < n; i++) {
                free(d[i].commitment);
                free(d[i].participant);
                free(d[i].note);
                free(d[i].user);
        }
        free(d);
}

/* The rows of a reminders query, handed over or freed. */
static int entries(Ledger *l, sqlite3_stmt *s, LedgerEntry **ret, size_t *ret_n) {
        void *items = NULL;
        size_t n = 0;
        int r;

        r = collect(l, s, sizeof(LedgerEntry), read_entry, &items, &n);
        if (r < 0) {
                ledger_entries_free(items, n);
                return r;
        }
        *ret = items;
        *ret_n = n;
        return 0;
}

int ledger_history(Ledger *l, const char *commitment, LedgerEntry **ret, size_t *ret_n) {
        sqlite3_stmt *s;
        int rc;

        if (!l || !ret || !ret_n)
                return -EINVAL;
        s = l->statements[commitment ? STMT_HISTORY_OF : STMT_HISTORY_ALL];
        rc = commitment ? sqlite3_bind_text(s, 1, commitment, -1, SQLITE_STATIC) : SQLITE_OK;
        if (rc != SQLITE_OK) {
                reset(s);
                return fail(l, rc);
        }
        return entries(l, s, ret, ret_n);
}

int ledger_pending(Ledger *l, LedgerEntry **ret, size_t *ret_n) {
        if (!l || !ret || !ret_n)
                return -EINVAL;
        return entries(l, l->statements[STMT_PENDING], ret, ret_n);
}

void ledger_entries_free(LedgerEntry *e, size_t n) {
        for (size_t i = 0; e && i < n; i++) {
                identity_done(&e[i].identity);
                free(e[i].reply);
                free(e[i].message_id);
        }
        free(e);
}

/* --- the outbox ---------------------------------------------------------------------------- */

int ledger_later_sibling(Ledger *l, const ReminderIdentity *x, usec_t due_usec) {
        usec_t latest = 0;
        int r;

        r = ledger_latest_settled(l, x, &latest);
        return r > 0 ? latest > due_usec : r;
}

/* Skips the older reminders of m's group (same milestone, recipient, channel, and overdue or
 * not) that still wait in the outbox: catch-up sends only the latest of a group, and a
 * transport that was down for weeks must not deliver every offset at once when it is back. */
static int supersede(Ledger *l, const LedgerReminder *m, usec_t now_usec) {
        sqlite3_stmt *s = l->statements[STMT_OUTBOX_SUPERSEDE];
        int rc, r;

        rc = bind_group(s, m->identity);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(s, 9, (int64_t) m->due_usec);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(s, 10, (int64_t) now_usec);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(s, 11, "superseded by a later reminder for the same milestone",
                                       -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(s);
        reset(s);
        r = rc == SQLITE_DONE ? 0 : fail(l, rc);
        if (r >= 0 && sqlite3_changes(l->db) > 0)
                r = execute(l, STMT_OUTBOX_DROP_SKIPPED, "");
        return r;
}

int ledger_enqueue(Ledger *l, const LedgerReminder *m, const LedgerMessage *msg, usec_t now_usec) {
        const ReminderIdentity *x;
        sqlite3_stmt *s;
        LedgerState state = LEDGER_PENDING;
        bool exists;
        int rc, r;

        if (!l || !reminder_is_valid(m) || !msg || !msg->transport || !msg->payload)
                return -EINVAL;
        r = execute(l, l->batch ? STMT_SAVEPOINT : STMT_BEGIN, "");
        if (r < 0)
                return r;
        x = m->identity;
        r = lookup_state(l, x->id, x->channel, &state);
        exists = r > 0;
        if (r == 0)
                r = insert_reminder(l, m, LEDGER_PENDING, 0, now_usec, NULL);
        else if (r > 0 && state != LEDGER_PENDING) {
                set_error(l, "the reminder is already sent, failed or skipped");
                r = -EALREADY;
        } else if (r > 0 && (r = is_queued(l, x->id, x->channel)) > 0) {
                set_error(l, "the reminder's message is in the outbox already");
                r = -EEXIST;
        }
        if (r < 0)
                return transaction_abort(l, r);

        /* Not execute(): the payload is a blob. */
        s = l->statements[STMT_OUTBOX_INSERT];
        rc = sqlite3_bind_text(s, 1, x->id, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(s, 2, x->channel, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(s, 3, msg->transport, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = msg->recipients ? sqlite3_bind_text(s, 4, msg->recipients, -1, SQLITE_STATIC)
                                     : sqlite3_bind_null(s, 4);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_blob64(s, 5, msg->payload, msg->payload_size, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = msg->message_id ? sqlite3_bind_text(s, 6, msg->message_id, -1, SQLITE_STATIC)
                                     : sqlite3_bind_null(s, 6);
        if (rc == SQLITE_OK)
                rc = msg->key ? sqlite3_bind_text(s, 7, msg->key, -1, SQLITE_STATIC)
                              : sqlite3_bind_null(s, 7);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int(s, 8, msg->escalate);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(s, 9, (int64_t) now_usec);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(s, 10, (int64_t) msg->deadline_usec);
        /* A pending row without a message: an attempt of an older noticed that never settled. */
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int(s, 11, exists);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(s);
        reset(s);
        r = rc == SQLITE_DONE ? 0 : fail(l, rc);
        if (r >= 0 && !identity_is_escalation(x))
                r = supersede(l, m, now_usec);
        return transaction_end(l, r);
}

static int read_string(sqlite3_stmt *s, void *item) {
        return column_strdup(s, 0, false, item);
}

int ledger_queued_transports(Ledger *l, usec_t now_usec, char ***ret, size_t *ret_n) {
        sqlite3_stmt *s;
        void *items = NULL;
        size_t n = 0;
        int r;

        if (!l || !ret || !ret_n)
                return -EINVAL;
        s = l->statements[STMT_OUTBOX_TRANSPORTS];
        if (sqlite3_bind_int64(s, 1, (int64_t) now_usec) != SQLITE_OK) {
                reset(s);
                return -ENOMEM;
        }
        r = collect(l, s, sizeof(char *), read_string, &items, &n);
        if (r < 0) {
                ledger_strv_free(items, n);
                return r;
        }
        *ret = items;
        *ret_n = n;
        return 0;
}

void ledger_strv_free(char **v, size_t n) {
        for (size_t i = 0; v && i < n; i++)
                free(v[i]);
        free(v);
}

static int read_queued(sqlite3_stmt *s, void *item) {
        enum { ATTEMPTS = IDENTITY_N, DUE, REPLY, TRANSPORT, RECIPIENTS, PAYLOAD, MESSAGE_ID, KEY,
               ESCALATE, NEXT, DEADLINE, INTERRUPTED };
        LedgerQueued *q = item;
        int64_t attempts;
        const void *blob;
        int r;

        r = read_identity(s, &q->identity);
        if (r >= 0)
                r = column_strdup(s, REPLY, true, &q->reply);
        if (r >= 0)
                r = column_strdup(s, TRANSPORT, false, &q->transport);
        if (r >= 0)
                r = column_strdup(s, RECIPIENTS, true, &q->recipients);
        if (r >= 0)
                r = column_strdup(s, MESSAGE_ID, true, &q->message_id);
        if (r >= 0)
                r = column_strdup(s, KEY, true, &q->key);
        if (r < 0)
                return r;
        if (column_range(s, ATTEMPTS, UINT_MAX, &attempts) < 0)
                return -EBADMSG;
        q->attempts = (unsigned) attempts;
        q->due_usec = (usec_t) sqlite3_column_int64(s, DUE);
        blob = sqlite3_column_blob(s, PAYLOAD);
        q->payload_size = (size_t) sqlite3_column_bytes(s, PAYLOAD);
        /* One byte more, a NUL: payloads are text, and callers may treat them so. */
        q->payload = malloc(q->payload_size + 1);
        if (!q->payload)
                return -ENOMEM;
        if (q->payload_size > 0)
                memcpy(q->payload, blob, q->payload_size);
        ((char *) q->payload)[q->payload_size] = '\0';
        q->escalate = sqlite3_column_int(s, ESCALATE) != 0;
        q->next_usec = (usec_t) sqlite3_column_int64(s, NEXT);
        q->deadline_usec = (usec_t) sqlite3_column_int64(s, DEADLINE);
        q->interrupted = sqlite3_column_int(s, INTERRUPTED) != 0;
        return 0;
}

static int queued(Ledger *l, sqlite3_stmt *s, LedgerQueued **ret, size_t *ret_n) {
        void *items = NULL;
        size_t n = 0;
        int r;

        r = collect(l, s, sizeof(LedgerQueued), read_queued, &items, &n);
        if (r < 0) {
                ledger_queued_free(items, n);
                return r;
        }
        *ret = items;
        *ret_n = n;
        return 0;
}

int ledger_queued_due(Ledger *l, const char *transport, usec_t now_usec, size_t limit,
                      LedgerQueued **ret, size_t *ret_n) {
        sqlite3_stmt *s;
        int rc;

        if (!l || !transport || !ret || !ret_n)
                return -EINVAL;
        s = l->statements[STMT_OUTBOX_DUE];
        rc = sqlite3_bind_text(s, 1, transport, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(s, 2, (int64_t) now_usec);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(s, 3, limit > INT64_MAX ? INT64_MAX : (int64_t) limit);
        if (rc != SQLITE_OK) {
                reset(s);
                return fail(l, rc);
        }
        return queued(l, s, ret, ret_n);
}

int ledger_queued_next(Ledger *l, usec_t *ret_usec) {
        sqlite3_stmt *s;
        int rc, r = 0;

        if (!l || !ret_usec)
                return -EINVAL;
        s = l->statements[STMT_OUTBOX_NEXT];
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
                if (sqlite3_column_type(s, 0) != SQLITE_NULL) {
                        *ret_usec = (usec_t) sqlite3_column_int64(s, 0);
                        r = 1;
                }
        } else
                r = fail(l, rc);
        reset(s);
        return r;
}

int ledger_queued_begin(Ledger *l, const ReminderIdentity *x, usec_t now_usec) {
        int r;

        if (!l || !identity_is_valid(x))
                return -EINVAL;
        r = execute(l, l->batch ? STMT_SAVEPOINT : STMT_BEGIN, "");
        if (r < 0)
                return r;
        r = execute(l, STMT_OUTBOX_BEGIN, "tt", x->id, x->channel);
        if (r >= 0 && sqlite3_changes(l->db) != 1) {
                set_error(l, "the message is in flight already, or not in the outbox");
                r = -EALREADY;
        }
        if (r >= 0)
                r = execute(l, STMT_RETRY, "ttu", x->id, x->channel, now_usec);
        return r < 0 ? transaction_abort(l, r) : transaction_end(l, r);
}

int ledger_queued_retry(Ledger *l, const ReminderIdentity *x, usec_t now_usec, usec_t next_usec,
                        const char *reply) {
        int r;

        if (!l || !identity_is_valid(x))
                return -EINVAL;
        r = execute(l, l->batch ? STMT_SAVEPOINT : STMT_BEGIN, "");
        if (r < 0)
                return r;
        r = execute(l, STMT_OUTBOX_RETRY, "ttu", x->id, x->channel, next_usec);
        if (r >= 0 && sqlite3_changes(l->db) != 1) {
                set_error(l, "the message is not in the outbox");
                r = -ENOENT;
        }
        if (r >= 0)
                r = execute(l, STMT_OUTBOX_RETRY_REPLY, "ttut", x->id, x->channel, now_usec, reply);
        return r < 0 ? transaction_abort(l, r) : transaction_end(l, r);
}

int ledger_queued_skip_decided(Ledger *l, const char *commitment, uint32_t cycle,
                               const char *participant, bool overdue_too, usec_t now_usec) {
        int k, r;

        if (!l || !commitment || !participant)
                return -EINVAL;
        r = execute(l, l->batch ? STMT_SAVEPOINT : STMT_BEGIN, "");
        if (r < 0)
                return r;
        r = execute(l, STMT_OUTBOX_SKIP_DECIDED, "tituti", commitment, (int64_t) cycle,
                    participant, now_usec, "the participant has decided",
                    (int64_t) overdue_too);
        if (r >= 0) {
                r = sqlite3_changes(l->db);
                if (r > 0) {
                        k = execute(l, STMT_OUTBOX_DROP_SKIPPED, "");
                        if (k < 0)
                                r = k;
                }
        }
        if (r < 0)
                return transaction_abort(l, r);
        /* The commit's own error: a busy or full disk is worth trying again, and -EIO says
         * it is failing. */
        k = transaction_end(l, r);
        return k < 0 ? k : r;
}

int ledger_queued_retarget(Ledger *l, const char *channel, const char *transport) {
        if (!l || !channel || !transport)
                return -EINVAL;
        return execute(l, STMT_OUTBOX_RETARGET, "tt", channel, transport);
}

int ledger_queued_recover(Ledger *l, LedgerQueued **ret, size_t *ret_n) {
        int r;

        if (!l || !ret || !ret_n)
                return -EINVAL;
        r = execute(l, STMT_BEGIN, "");
        if (r < 0)
                return r;
        r = queued(l, l->statements[STMT_OUTBOX_INFLIGHT], ret, ret_n);
        if (r >= 0) {
                r = execute(l, STMT_OUTBOX_RECOVER, "");
                if (r < 0) {
                        ledger_queued_free(*ret, *ret_n);
                        *ret = NULL;
                        *ret_n = 0;
                }
        }
        return r < 0 ? transaction_abort(l, r) : transaction_end(l, r);
}

void ledger_queued_done(LedgerQueued *q) {
        identity_done(&q->identity);
        free(q->reply);
        free(q->transport);
        free(q->recipients);
        free(q->message_id);
        free(q->key);
        free(q->payload);
        *q = (LedgerQueued){0};
}

void ledger_queued_free(LedgerQueued *q, size_t n) {
        for (size_t i = 0; q && i < n; i++)
                ledger_queued_done(&q[i]);
        free(q);
}
