/* The ledger: what was sent, skipped, failed and decided, in one SQLite file.  Here: the
 * reminders' records, the decisions, the history, and the plumbing the ledger's files share
 * (ledger-internal.h: errors, statements, transactions, rows).  ledger-schema.c opens and
 * migrates the file; ledger-outbox.c keeps the outbox.
 *
 * The ledger is what makes "never twice" hold across restarts, reloads and crashes, so every
 * write is durable before the call returns.  The daemon and noticectl use the file at the same
 * time: WAL lets readers run beside the writer, every read-then-write takes the write lock up
 * front (BEGIN IMMEDIATE) so that it cannot fail half-way with SQLITE_BUSY, and the busy timeout
 * absorbs the short waits for that lock.  Statements are prepared once at open; values are
 * always bound, never pasted into SQL. */

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger-internal.h"

const char *const ledger_state_names[_LEDGER_STATE_MAX] = {
        [LEDGER_PENDING] = "pending",
        [LEDGER_SENT] = "sent",
        [LEDGER_FAILED] = "failed",
        [LEDGER_SKIPPED] = "skipped",
        [LEDGER_QUEUED] = "queued",
};

static const char *const decision_names[_DECISION_MAX] = {
        [DECISION_CONTINUE] = "continue",
        [DECISION_TERMINATE] = "terminate",
        [DECISION_REVOKE] = "revoke",
};

const char *ledger_state_to_string(LedgerState s) {
        return s >= 0 && s < _LEDGER_STATE_MAX ? ledger_state_names[s] : NULL;
}

const char *decision_to_string(Decision d) {
        return d >= 0 && d < _DECISION_MAX ? decision_names[d] : NULL;
}

int ledger_lookup_name(const char *const *names, int n, const char *s) {
        for (int i = 0; s && i < n; i++)
                if (strcmp(s, names[i]) == 0)
                        return i;
        return -EINVAL;
}

int decision_from_string(const char *s, Decision *ret) {
        int i = ledger_lookup_name(decision_names, _DECISION_MAX, s);

        if (i < 0)
                return i;
        if (ret)
                *ret = (Decision) i;
        return 0;
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

void ledger_set_error(Ledger *l, const char *message) {
        (void) snprintf(l->error, sizeof(l->error), "%s", message);
}

/* Keeps SQLite's complaint and translates rc, the code the failed call returned. */
int ledger_fail(Ledger *l, int rc) {
        ledger_set_error(l, sqlite3_errmsg(l->db));
        return errno_from_sqlite(l->db, rc);
}

void ledger_reset(sqlite3_stmt *s) {
        (void) sqlite3_reset(s);
        /* SQLITE_STATIC bindings point into the caller's strings; none may outlive the call. */
        (void) sqlite3_clear_bindings(s);
}

/* Binds ?1, ?2, ... of s in order, as types says (see ledger_bind()); an SQLITE_* code.  A bind
 * fails only for a value too big or a programming error. */
static int bind_values(sqlite3_stmt *s, const char *types, va_list ap) {
        int rc = SQLITE_OK;

        for (int i = 0; rc == SQLITE_OK && types[i]; i++)
                switch (types[i]) {
                case 't': {
                        const char *text = va_arg(ap, const char *);
                        rc = text ? sqlite3_bind_text(s, i + 1, text, -1, SQLITE_STATIC)
                                  : sqlite3_bind_null(s, i + 1);
                        break;
                }
                case 'b': {
                        const void *blob = va_arg(ap, const void *);
                        rc = sqlite3_bind_blob64(s, i + 1, blob, va_arg(ap, size_t), SQLITE_STATIC);
                        break;
                }
                case 'u':
                        rc = sqlite3_bind_int64(s, i + 1, (int64_t) va_arg(ap, usec_t));
                        break;
                default:
                        assert(types[i] == 'i');
                        rc = sqlite3_bind_int64(s, i + 1, va_arg(ap, int64_t));
                }
        return rc;
}

/* The letters cannot be checked against the values; their number at least can be. */
static int check_types(Ledger *l, sqlite3_stmt *s, const char *types) {
        if (strlen(types) == (size_t) sqlite3_bind_parameter_count(s))
                return 0;
        ledger_set_error(l, "internal error: wrong number of values for a statement");
        return -EINVAL;
}

sqlite3_stmt *ledger_bind(Ledger *l, Statement statement, int *ret, const char *types, ...) {
        sqlite3_stmt *s = l->statements[statement];
        va_list ap;
        int rc;

        *ret = check_types(l, s, types);
        if (*ret < 0)
                return NULL;
        va_start(ap, types);
        rc = bind_values(s, types, ap);
        va_end(ap);
        if (rc != SQLITE_OK) {
                ledger_reset(s);
                *ret = ledger_fail(l, rc);
                return NULL;
        }
        return s;
}

int ledger_execute(Ledger *l, Statement statement, const char *types, ...) {
        sqlite3_stmt *s = l->statements[statement];
        va_list ap;
        int rc, r;

        r = check_types(l, s, types);
        if (r < 0)
                return r;
        va_start(ap, types);
        rc = bind_values(s, types, ap);
        va_end(ap);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(s);
        ledger_reset(s);
        return rc == SQLITE_DONE ? 0 : ledger_fail(l, rc);
}

/* Ends a failed transaction and returns r.  Some errors (I/O, a full disk) have rolled it back
 * already; a failed COMMIT may have left it open, and the next call must not inherit it. */
int ledger_transaction_abort(Ledger *l, int r) {
        /* Not ledger_execute(): the error message must stay the one of the failure. */
        if (l->batch && !sqlite3_get_autocommit(l->db)) {
                (void) sqlite3_step(l->statements[STMT_ROLLBACK_TO]);
                ledger_reset(l->statements[STMT_ROLLBACK_TO]);
                (void) sqlite3_step(l->statements[STMT_RELEASE]);
                ledger_reset(l->statements[STMT_RELEASE]);
        } else if (!sqlite3_get_autocommit(l->db)) {
                (void) sqlite3_step(l->statements[STMT_ROLLBACK]);
                ledger_reset(l->statements[STMT_ROLLBACK]);
        }
        return r;
}

/* Commits when r says the work succeeded, else rolls back; returns r or the commit's error. */
int ledger_transaction_end(Ledger *l, int r) {
        if (r >= 0)
                r = ledger_execute(l, l->batch ? STMT_RELEASE : STMT_COMMIT, "");
        return r < 0 ? ledger_transaction_abort(l, r) : 0;
}

/* A write transaction; inside a batch a savepoint, so that a refused change leaves the others
 * alone. */
int ledger_transaction_begin(Ledger *l) {
        return ledger_execute(l, l->batch ? STMT_SAVEPOINT : STMT_BEGIN, "");
}

/* 1 and the state (when ret is not NULL) if the row exists, 0 if it does not. */
int ledger_lookup_state(Ledger *l, const char *id, const char *channel, LedgerState *ret) {
        sqlite3_stmt *s = l->statements[STMT_GET_STATE];
        int rc, r = 0;

        rc = sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(s, 2, channel, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
                r = ledger_lookup_name(ledger_state_names, _LEDGER_STATE_MAX,
                                       (const char *) sqlite3_column_text(s, 0));
                if (r >= 0) {
                        if (ret)
                                *ret = (LedgerState) r;
                        r = 1;
                } else {
                        ledger_set_error(l, "a malformed row in the ledger");
                        r = -EBADMSG;
                }
        } else if (rc != SQLITE_DONE)
                r = ledger_fail(l, rc);
        ledger_reset(s);
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
int ledger_insert_reminder(Ledger *l, const LedgerReminder *m, LedgerState state, unsigned attempts,
                           usec_t now_usec, const char *reply) {
        const ReminderIdentity *x = m->identity;

        return ledger_execute(l, STMT_INSERT_REMINDER, "tttttitttttttutiut", x->id, x->channel,
                              x->commitment, x->kind, x->deadline, (int64_t) x->cycle, x->milestone,
                              x->offset, x->recipient, x->failed_kind, x->failed_deadline,
                              x->failed_recipient, x->failed_channel, m->due_usec,
                              ledger_state_names[state], (int64_t) attempts, now_usec, reply);
}

/* Moves the row of x to state to, in one write transaction.  m describes the row for the
 * transitions that may create it. */
static int transition(Ledger *l, LedgerState to, const ReminderIdentity *x, const LedgerReminder *m,
                      usec_t now_usec, const char *reply, const char *message_id) {
        LedgerState state = LEDGER_PENDING;
        int r;

        assert(to == LEDGER_SENT || to == LEDGER_FAILED || to == LEDGER_SKIPPED);
        r = ledger_transaction_begin(l);
        if (r < 0)
                return r;
        r = ledger_lookup_state(l, x->id, x->channel, &state);
        if (r < 0)
                return ledger_transaction_abort(l, r);

        switch (transitions[to][r == 0 ? 0 : 1 + state]) {
        case INSERT:
                assert(m); /* only mark_skipped() may create a row, and it passes one */
                r = ledger_insert_reminder(l, m, to, 0, now_usec, reply);
                break;
        case SETTLE:
                r = ledger_execute(l, STMT_SETTLE, "tttutt", x->id, x->channel,
                                   ledger_state_names[to], now_usec, reply, message_id);
                if (r >= 0) /* settled: nothing is left to send */
                        r = ledger_execute(l, STMT_OUTBOX_DELETE, "tt", x->id, x->channel);
                break;
        case KEEP:
                r = 0;
                break;
        case REFUSE_NO_ROW:
                ledger_set_error(l, "no such reminder in the ledger");
                r = -ENOENT;
                break;
        case REFUSE_SETTLED:
                ledger_set_error(l, "the reminder is already sent, failed or skipped");
                r = -EALREADY;
                break;
        }
        return ledger_transaction_end(l, r);
}

bool ledger_identity_is_valid(const ReminderIdentity *x) {
        return x && x->id && x->channel;
}

bool ledger_reminder_is_valid(const LedgerReminder *m) {
        const ReminderIdentity *x = m ? m->identity : NULL;

        return x && x->id && x->channel && x->commitment && x->kind && x->milestone && x->offset &&
               x->recipient;
}

const char *ledger_error(const Ledger *l) {
        return l ? l->error : "";
}

/* 1 when the message of (id, channel) is in the outbox, 0 when not. */
int ledger_is_queued(Ledger *l, const char *id, const char *channel) {
        sqlite3_stmt *s = l->statements[STMT_IS_QUEUED];
        int rc, r;

        rc = sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(s, 2, channel, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(s);
        r = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : ledger_fail(l, rc);
        ledger_reset(s);
        return r;
}

int ledger_get_state(Ledger *l, const ReminderIdentity *x, LedgerState *ret) {
        LedgerState state = LEDGER_PENDING;
        int r;

        if (!l || !ledger_identity_is_valid(x))
                return -EINVAL;
        r = ledger_lookup_state(l, x->id, x->channel, &state);
        if (r > 0 && state == LEDGER_PENDING) {
                int q = ledger_is_queued(l, x->id, x->channel);
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
        r = ledger_execute(l, STMT_BEGIN, "");
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
                r = ledger_execute(l, STMT_COMMIT, "");
        if (r < 0)
                (void) ledger_transaction_abort(l, r);
        return commit ? r : 0;
}

int ledger_mark_sent(Ledger *l, const ReminderIdentity *x, usec_t now_usec, const char *reply,
                     const char *message_id) {
        if (!l || !ledger_identity_is_valid(x))
                return -EINVAL;
        return transition(l, LEDGER_SENT, x, NULL, now_usec, reply, message_id);
}

int ledger_mark_failed(Ledger *l, const ReminderIdentity *x, usec_t now_usec, const char *reply) {
        if (!l || !ledger_identity_is_valid(x))
                return -EINVAL;
        return transition(l, LEDGER_FAILED, x, NULL, now_usec, reply, NULL);
}

int ledger_mark_skipped(Ledger *l, const LedgerReminder *reminder, usec_t now_usec,
                        const char *reason) {
        if (!l || !ledger_reminder_is_valid(reminder))
                return -EINVAL;
        return transition(l, LEDGER_SKIPPED, reminder->identity, reminder, now_usec, reason, NULL);
}

int ledger_record_decision(Ledger *l, const char *commitment, uint32_t cycle,
                           const char *participant, Decision decision, const char *note,
                           const char *user, usec_t at_usec) {
        if (!l || !commitment || !participant || !decision_to_string(decision) ||
            decision == DECISION_REVOKE || !user)
                return -EINVAL;
        /* One INSERT outside BEGIN is one transaction. */
        return ledger_execute(l, STMT_INSERT_DECISION, "tittttu", commitment, (int64_t) cycle,
                              participant, decision_names[decision], note, user, at_usec);
}

/* 1 when a decision of the participant for the commitment's cycle stands, 0 when none does. */
static int decision_stands(Ledger *l, const char *commitment, uint32_t cycle,
                           const char *participant) {
        sqlite3_stmt *s;
        int rc, r;

        s = ledger_bind(l, STMT_DECISION_STANDS, &r, "tit", commitment, (int64_t) cycle,
                        participant);
        if (!s)
                return r;
        rc = sqlite3_step(s);
        r = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : ledger_fail(l, rc);
        ledger_reset(s);
        return r;
}

/* The look-up and the row in one write transaction: two revocations at once cannot both find
 * the decision standing. */
int ledger_revoke_decision(Ledger *l, const char *commitment, uint32_t cycle,
                           const char *participant, const char *note, const char *user,
                           usec_t at_usec) {
        int r;

        if (!l || !commitment || !participant || !user)
                return -EINVAL;
        r = ledger_transaction_begin(l);
        if (r < 0)
                return r;
        r = decision_stands(l, commitment, cycle, participant);
        if (r == 0) {
                ledger_set_error(l, "no decision of the participant for that cycle stands");
                r = -ENOENT;
        } else if (r > 0)
                r = ledger_execute(l, STMT_INSERT_DECISION, "tittttu", commitment, (int64_t) cycle,
                                   participant, decision_names[DECISION_REVOKE], note, user,
                                   at_usec);
        return ledger_transaction_end(l, r);
}

/* A copy of text column i into *ret.  NULL passes only where the schema allows it; a NULL from
 * a NOT NULL column means SQLite ran out of memory converting the value. */
int ledger_column_strdup(sqlite3_stmt *s, int i, bool nullable, char **ret) {
        const char *text;

        *ret = NULL;
        if (nullable && sqlite3_column_type(s, i) == SQLITE_NULL)
                return 0;
        text = (const char *) sqlite3_column_text(s, i);
        *ret = text ? strdup(text) : NULL;
        return *ret ? 0 : -ENOMEM;
}

/* A column that must lie in [0, max]; anything else was not written by this module. */
int ledger_column_range(sqlite3_stmt *s, int i, int64_t max, int64_t *ret) {
        *ret = sqlite3_column_int64(s, i);
        return *ret >= 0 && *ret <= max ? 0 : -EBADMSG;
}

/* Columns 0 .. IDENTITY_N - 1 (IDENTITY_COLUMNS) into *x. */
int ledger_read_identity(sqlite3_stmt *s, ReminderIdentity *x) {
        char **texts[IDENTITY_N] = {&x->id,
                                    &x->channel,
                                    &x->commitment,
                                    &x->kind,
                                    &x->deadline,
                                    NULL,
                                    &x->milestone,
                                    &x->offset,
                                    &x->recipient,
                                    &x->failed_kind,
                                    &x->failed_deadline,
                                    &x->failed_recipient,
                                    &x->failed_channel};
        int64_t cycle;
        int r = 0;

        for (int i = 0; r >= 0 && i < IDENTITY_N; i++)
                if (texts[i])
                        r = ledger_column_strdup(s, i, i == 4 || i >= 9, texts[i]);
        if (r < 0)
                return r;
        if (ledger_column_range(s, 5, UINT32_MAX, &cycle) < 0)
                return -EBADMSG;
        x->cycle = (uint32_t) cycle;
        return 0;
}

static int read_entry(sqlite3_stmt *s, void *item) {
        LedgerEntry *e = item;
        int64_t attempts;
        int r;

        r = ledger_read_identity(s, &e->identity);
        if (r >= 0)
                r = ledger_column_strdup(s, IDENTITY_N + 5, true, &e->reply);
        if (r >= 0)
                r = ledger_column_strdup(s, IDENTITY_N + 6, true, &e->message_id);
        if (r < 0)
                return r;
        r = ledger_lookup_name(ledger_state_names, _LEDGER_STATE_MAX,
                               (const char *) sqlite3_column_text(s, IDENTITY_N));
        if (r < 0 || ledger_column_range(s, IDENTITY_N + 1, UINT_MAX, &attempts) < 0)
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

        if ((r = ledger_column_strdup(s, 0, false, &d->commitment)) < 0 ||
            (r = ledger_column_strdup(s, 2, false, &d->participant)) < 0 ||
            (r = ledger_column_strdup(s, 4, true, &d->note)) < 0 ||
            (r = ledger_column_strdup(s, 5, false, &d->user)) < 0)
                return r;
        r = ledger_lookup_name(decision_names, _DECISION_MAX,
                               (const char *) sqlite3_column_text(s, 3));
        if (r < 0 || ledger_column_range(s, 1, UINT32_MAX, &cycle) < 0)
                return -EBADMSG;
        d->decision = (Decision) r;
        d->cycle = (uint32_t) cycle;
        d->at_usec = (usec_t) sqlite3_column_int64(s, 6);
        return 0;
}

/* Steps a query to its end, appending one zeroed element of size bytes per row for read_row to
 * fill.  On failure the elements so far stay in *items and *n, for the caller to free. */
int ledger_collect(Ledger *l, sqlite3_stmt *s, size_t size, int (*read_row)(sqlite3_stmt *, void *),
                   void (*free_rows)(void *items, size_t n), void **ret, size_t *ret_n) {
        size_t allocated = 0, n = 0;
        void *items = NULL, *grown;
        int rc = SQLITE_DONE, r = 0;

        while (r >= 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
                if (n == allocated) {
                        allocated = allocated ? allocated * 2 : 16;
                        grown = reallocarray(items, allocated, size);
                        if (!grown) {
                                r = -ENOMEM;
                                break;
                        }
                        items = grown;
                }
                memset((char *) items + n * size, 0, size);
                r = read_row(s, (char *) items + n++ * size);
        }
        if (r >= 0 && rc != SQLITE_DONE)
                r = ledger_fail(l, rc);
        else if (r < 0)
                ledger_set_error(l,
                                 r == -ENOMEM ? "out of memory" : "a malformed row in the ledger");
        ledger_reset(s);
        if (r < 0) {
                free_rows(items, n);
                items = NULL;
                n = 0;
        }
        *ret = items;
        *ret_n = n;
        return r;
}

static void free_decisions(void *items, size_t n) {
        ledger_decisions_free(items, n);
}

static int decisions(Ledger *l, Statement statement, LedgerDecision **ret, size_t *ret_n) {
        void *items;
        int r;

        if (!l || !ret || !ret_n)
                return -EINVAL;
        r = ledger_collect(l, l->statements[statement], sizeof(LedgerDecision), read_decision,
                           free_decisions, &items, ret_n);
        *ret = items;
        return r < 0 ? r : 0;
}

int ledger_decisions(Ledger *l, LedgerDecision **ret, size_t *ret_n) {
        return decisions(l, STMT_DECISIONS_STANDING, ret, ret_n);
}

int ledger_decision_trail(Ledger *l, LedgerDecision **ret, size_t *ret_n) {
        return decisions(l, STMT_DECISIONS, ret, ret_n);
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
static void free_entries(void *items, size_t n) {
        ledger_entries_free(items, n);
}

static int entries(Ledger *l, sqlite3_stmt *s, LedgerEntry **ret, size_t *ret_n) {
        void *items;
        int r = ledger_collect(l, s, sizeof(LedgerEntry), read_entry, free_entries, &items, ret_n);

        *ret = items;
        return r < 0 ? r : 0;
}

int ledger_history(Ledger *l, const char *commitment, LedgerEntry **ret, size_t *ret_n) {
        sqlite3_stmt *s;
        int r;

        if (!l || !ret || !ret_n)
                return -EINVAL;
        if (!commitment)
                return entries(l, l->statements[STMT_HISTORY_ALL], ret, ret_n);
        s = ledger_bind(l, STMT_HISTORY_OF, &r, "t", commitment);
        return s ? entries(l, s, ret, ret_n) : r;
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
