#pragma once
/* What the ledger's files (ledger.c, ledger-schema.c, ledger-outbox.c) share and nothing else
 * sees, as curl's vtls/vtls_int.h does for its family: the statements, the Ledger object, and
 * the plumbing every call goes through.  ledger.h stays the whole public surface.  The helpers
 * return >= 0 or -errno like the public calls, and keep SQLite's message for ledger_error(). */

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "noticed/ledger.h"
#include "noticed/macro.h"

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
        STMT_DECISIONS_STANDING, /* schema 4: decisions not revoked since */
        STMT_DECISION_STANDS,
        STMT_COUNTS, /* ledger-status.c */
        STMT_GROUP_SETTLED,
        STMT_OUTBOX_GET,
        _STMT_MAX,
} Statement;

struct Ledger {
        sqlite3 *db;
        sqlite3_stmt *statements[_STMT_MAX];
        char error[256]; /* a copy: the next call, even a ROLLBACK, replaces sqlite3_errmsg() */
        bool batch;      /* inside ledger_batch_begin() .. ledger_batch_end() */
};

/* "pending", "sent", ...: the states as the reminders table spells them. */
extern const char *const ledger_state_names[_LEDGER_STATE_MAX];

/* A reminder's identity, as read_identity() reads it: columns 0 to IDENTITY_N - 1. */
#define IDENTITY_COLUMNS                                                                           \
        "r.id, r.channel, commitment, kind, deadline, cycle, milestone, offset_, recipient, "      \
        "failed_kind, failed_deadline, failed_recipient, failed_channel"
#define IDENTITY_N 13

/* The index of s in names[0..n), or -EINVAL. */
int ledger_lookup_name(const char *const *names, int n, const char *s);
void ledger_set_error(Ledger *l, const char *message);
/* Keeps SQLite's complaint and translates rc, the code the failed call returned. */
int ledger_fail(Ledger *l, int rc);
/* Resets s and clears its bindings. */
void ledger_reset(sqlite3_stmt *s);
/* Binds ?1, ?2, ... of a statement in order, one letter of types per value, passed as exactly
 * that type: 't' a const char * (NULL binds NULL: a bare NULL must be cast), 'i' an int64_t,
 * 'u' a usec_t (SQLite keeps its signed 64 bits), 'b' a blob: a const void * and a size_t.
 * ledger_execute() then steps it to its end and resets it; ledger_bind() returns it for the
 * caller to step (and reset), or NULL and *ret the -errno. */
int ledger_execute(Ledger *l, Statement statement, const char *types, ...);
sqlite3_stmt *ledger_bind(Ledger *l, Statement statement, int *ret, const char *types, ...);

/* A write transaction (a savepoint inside a batch), ended by one of the two below. */
int ledger_transaction_begin(Ledger *l);
/* Ends a failed transaction and returns r. */
int ledger_transaction_abort(Ledger *l, int r);
/* Commits when r says the work succeeded, else rolls back; returns r or the commit's error. */
int ledger_transaction_end(Ledger *l, int r);

/* 1 and the state (ret may be NULL) when the row (id, channel) exists, 0 when not. */
int ledger_lookup_state(Ledger *l, const char *id, const char *channel, LedgerState *ret);
/* 1 when the message of (id, channel) is in the outbox, 0 when not. */
int ledger_is_queued(Ledger *l, const char *id, const char *channel);
/* Creates m's row in state, with attempts, now and reply (NULL for none). */
int ledger_insert_reminder(Ledger *l, const LedgerReminder *m, LedgerState state, unsigned attempts,
                           usec_t now_usec, const char *reply);
bool ledger_identity_is_valid(const ReminderIdentity *x); /* the key: id and channel */
bool ledger_reminder_is_valid(const LedgerReminder *m);   /* every part a row needs */

/* Text column i, copied; NULL only where nullable.  0 or -ENOMEM. */
int ledger_column_strdup(sqlite3_stmt *s, int i, bool nullable, char **ret);
/* A column that must lie in [0, max]: 0 or -EBADMSG. */
int ledger_column_range(sqlite3_stmt *s, int i, int64_t max, int64_t *ret);
/* Columns 0 .. IDENTITY_N - 1 (IDENTITY_COLUMNS) into *x. */
int ledger_read_identity(sqlite3_stmt *s, ReminderIdentity *x);
/* Steps a query to its end, one zeroed element of size bytes per row for read_row to fill, into
 * *ret and *ret_n; on failure the elements read so far are freed by free_rows and *ret is NULL,
 * *ret_n 0. */
int ledger_collect(Ledger *l, sqlite3_stmt *s, size_t size, int (*read_row)(sqlite3_stmt *, void *),
                   void (*free_rows)(void *items, size_t n), void **ret, size_t *ret_n);
