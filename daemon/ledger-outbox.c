/* The ledger's outbox: the messages handed to a transport, with their exact bytes, until they
 * are sent or given up; and a reminder's group (its milestone, recipient and channel, overdue or
 * not), by which a later reminder supersedes an earlier one that still waits.  The reminders'
 * rows are ledger.c's; ledger.h is the contract. */

#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger-internal.h"

/* A reminder's group as ?1 .. ?8 of GROUP_WHERE (ledger-schema.c): the letters for
 * ledger_bind() and ledger_execute(), and the values. */
#define GROUP_TYPES "ttttitti"
#define GROUP_VALUES(x)                                                                            \
        (x)->recipient, (x)->commitment, (x)->kind, (x)->deadline, (int64_t) (x)->cycle,           \
                (x)->milestone, (x)->channel, (int64_t) identity_is_overdue(x)

static bool group_is_valid(const ReminderIdentity *x) {
        return ledger_identity_is_valid(x) && x->recipient && x->commitment && x->kind &&
               x->milestone && x->offset;
}

/* Steps s (bound) for the instant in column 0 of its one row (MIN, MAX): 1 and *ret, 0 when it
 * is NULL (no rows), or -errno. */
static int step_usec(Ledger *l, sqlite3_stmt *s, usec_t *ret) {
        int rc, r = 0;

        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
                if (sqlite3_column_type(s, 0) != SQLITE_NULL) {
                        *ret = (usec_t) sqlite3_column_int64(s, 0);
                        r = 1;
                }
        } else
                r = ledger_fail(l, rc);
        ledger_reset(s);
        return r;
}

int ledger_latest_settled(Ledger *l, const ReminderIdentity *x, usec_t *ret_due_usec) {
        sqlite3_stmt *s;
        int r;

        if (!l || !group_is_valid(x) || !ret_due_usec)
                return -EINVAL;
        s = ledger_bind(l, STMT_LATEST_SETTLED, &r, GROUP_TYPES, GROUP_VALUES(x));
        return s ? step_usec(l, s, ret_due_usec) : r;
}

int ledger_group_settled(Ledger *l, const ReminderIdentity *x, LedgerGroup *ret) {
        sqlite3_stmt *s;
        int rc, r = 0;

        if (!l || !group_is_valid(x) || !ret)
                return -EINVAL;
        s = ledger_bind(l, STMT_GROUP_SETTLED, &r, GROUP_TYPES, GROUP_VALUES(x));
        if (!s)
                return r;
        rc = sqlite3_step(s);
        if (rc != SQLITE_ROW)
                r = ledger_fail(l, rc);
        else if (sqlite3_column_type(s, 0) != SQLITE_NULL) {
                *ret = (LedgerGroup){
                        .latest_due_usec = (usec_t) sqlite3_column_int64(s, 0),
                        .went_out = sqlite3_column_type(s, 1) != SQLITE_NULL,
                        .went_out_usec = (usec_t) sqlite3_column_int64(s, 1),
                };
                r = 1;
        }
        ledger_reset(s);
        return r;
}

/* --- the outbox ---------------------------------------------------------------------------- */

int ledger_queued_get(Ledger *l, const ReminderIdentity *x, unsigned *ret_attempts,
                      usec_t *ret_next_usec) {
        sqlite3_stmt *s;
        int64_t attempts;
        int rc, r = 0;

        if (!l || !ledger_identity_is_valid(x) || !ret_attempts || !ret_next_usec)
                return -EINVAL;
        s = ledger_bind(l, STMT_OUTBOX_GET, &r, "tt", x->id, x->channel);
        if (!s)
                return r;
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
                if (ledger_column_range(s, 0, UINT_MAX, &attempts) < 0)
                        r = -EBADMSG;
                else {
                        *ret_attempts = (unsigned) attempts;
                        *ret_next_usec = (usec_t) sqlite3_column_int64(s, 1);
                        r = 1;
                }
        } else if (rc != SQLITE_DONE)
                r = ledger_fail(l, rc);
        ledger_reset(s);
        return r;
}

int ledger_later_sibling(Ledger *l, const ReminderIdentity *x, usec_t due_usec) {
        usec_t latest = 0;
        int r;

        /* A look-up that fails counts as no later sibling, as it always has: the attempt is then
         * recorded as any other failed one, and at worst both reminders wait. */
        r = ledger_latest_settled(l, x, &latest);
        return r > 0 && latest > due_usec;
}

/* Skips the older reminders of m's group (same milestone, recipient, channel, and overdue or
 * not) that still wait in the outbox: catch-up sends only the latest of a group, and a
 * transport that was down for weeks must not deliver every offset at once when it is back. */
static int supersede(Ledger *l, const LedgerReminder *m, usec_t now_usec) {
        int r;

        r = ledger_execute(l, STMT_OUTBOX_SUPERSEDE, GROUP_TYPES "uut", GROUP_VALUES(m->identity),
                           m->due_usec, now_usec,
                           "superseded by a later reminder for the same milestone");
        if (r >= 0 && sqlite3_changes(l->db) > 0)
                r = ledger_execute(l, STMT_OUTBOX_DROP_SKIPPED, "");
        return r;
}

int ledger_enqueue(Ledger *l, const LedgerReminder *m, const LedgerMessage *msg, usec_t now_usec) {
        const ReminderIdentity *x;
        LedgerState state = LEDGER_PENDING;
        bool exists;
        int r;

        if (!l || !ledger_reminder_is_valid(m) || !msg || !msg->transport || !msg->payload)
                return -EINVAL;
        r = ledger_transaction_begin(l);
        if (r < 0)
                return r;
        x = m->identity;
        r = ledger_lookup_state(l, x->id, x->channel, &state);
        exists = r > 0;
        if (r == 0)
                r = ledger_insert_reminder(l, m, LEDGER_PENDING, 0, now_usec, NULL);
        else if (r > 0 && state != LEDGER_PENDING) {
                ledger_set_error(l, "the reminder is already sent, failed or skipped");
                r = -EALREADY;
        } else if (r > 0 && (r = ledger_is_queued(l, x->id, x->channel)) > 0) {
                ledger_set_error(l, "the reminder's message is in the outbox already");
                r = -EEXIST;
        }
        if (r < 0)
                return ledger_transaction_abort(l, r);

        /* A pending row without a message: an attempt of an older noticed that never settled. */
        r = ledger_execute(l, STMT_OUTBOX_INSERT, "ttttbttiuui", x->id, x->channel, msg->transport,
                           msg->recipients, msg->payload, msg->payload_size, msg->message_id,
                           msg->key, (int64_t) msg->escalate, now_usec, msg->deadline_usec,
                           (int64_t) exists);
        if (r >= 0 && !identity_is_escalation(x))
                r = supersede(l, m, now_usec);
        return ledger_transaction_end(l, r);
}

static void free_strings(void *items, size_t n) {
        ledger_strv_free(items, n);
}

static int read_string(sqlite3_stmt *s, void *item) {
        return ledger_column_strdup(s, 0, false, item);
}

int ledger_queued_transports(Ledger *l, usec_t now_usec, char ***ret, size_t *ret_n) {
        sqlite3_stmt *s;
        void *items;
        int r;

        if (!l || !ret || !ret_n)
                return -EINVAL;
        s = ledger_bind(l, STMT_OUTBOX_TRANSPORTS, &r, "u", now_usec);
        if (!s)
                return r;
        r = ledger_collect(l, s, sizeof(char *), read_string, free_strings, &items, ret_n);
        *ret = items;
        return r < 0 ? r : 0;
}

void ledger_strv_free(char **v, size_t n) {
        for (size_t i = 0; v && i < n; i++)
                free(v[i]);
        free(v);
}

static int read_queued(sqlite3_stmt *s, void *item) {
        enum {
                ATTEMPTS = IDENTITY_N,
                DUE,
                REPLY,
                TRANSPORT,
                RECIPIENTS,
                PAYLOAD,
                MESSAGE_ID,
                KEY,
                ESCALATE,
                NEXT,
                DEADLINE,
                INTERRUPTED
        };
        LedgerQueued *q = item;
        int64_t attempts;
        const void *blob;
        int r;

        r = ledger_read_identity(s, &q->identity);
        if (r >= 0)
                r = ledger_column_strdup(s, REPLY, true, &q->reply);
        if (r >= 0)
                r = ledger_column_strdup(s, TRANSPORT, false, &q->transport);
        if (r >= 0)
                r = ledger_column_strdup(s, RECIPIENTS, true, &q->recipients);
        if (r >= 0)
                r = ledger_column_strdup(s, MESSAGE_ID, true, &q->message_id);
        if (r >= 0)
                r = ledger_column_strdup(s, KEY, true, &q->key);
        if (r < 0)
                return r;
        if (ledger_column_range(s, ATTEMPTS, UINT_MAX, &attempts) < 0)
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

static void free_queued(void *items, size_t n) {
        ledger_queued_free(items, n);
}

static int queued(Ledger *l, sqlite3_stmt *s, LedgerQueued **ret, size_t *ret_n) {
        void *items;
        int r = ledger_collect(l, s, sizeof(LedgerQueued), read_queued, free_queued, &items, ret_n);

        *ret = items;
        return r < 0 ? r : 0;
}

int ledger_queued_due(Ledger *l, const char *transport, usec_t now_usec, size_t limit,
                      LedgerQueued **ret, size_t *ret_n) {
        sqlite3_stmt *s;
        int r;

        if (!l || !transport || !ret || !ret_n)
                return -EINVAL;
        s = ledger_bind(l, STMT_OUTBOX_DUE, &r, "tui", transport, now_usec,
                        limit > INT64_MAX ? INT64_MAX : (int64_t) limit);
        return s ? queued(l, s, ret, ret_n) : r;
}

int ledger_queued_next(Ledger *l, usec_t *ret_usec) {
        if (!l || !ret_usec)
                return -EINVAL;
        return step_usec(l, l->statements[STMT_OUTBOX_NEXT], ret_usec);
}

/* r, the result of a change that must touch exactly one outbox row; error when it touched none. */
static int one_row(Ledger *l, int r, int error, const char *why) {
        if (r >= 0 && sqlite3_changes(l->db) != 1) {
                ledger_set_error(l, why);
                return error;
        }
        return r;
}

/* The write transaction of a change to x's outbox row: 0, or -errno (-EINVAL for no x). */
static int begin_change(Ledger *l, const ReminderIdentity *x) {
        return l && ledger_identity_is_valid(x) ? ledger_transaction_begin(l) : -EINVAL;
}

int ledger_queued_begin(Ledger *l, const ReminderIdentity *x, usec_t now_usec) {
        int r = begin_change(l, x);

        if (r < 0)
                return r;
        r = one_row(l, ledger_execute(l, STMT_OUTBOX_BEGIN, "tt", x->id, x->channel), -EALREADY,
                    "the message is in flight already, or not in the outbox");
        if (r >= 0)
                r = ledger_execute(l, STMT_RETRY, "ttu", x->id, x->channel, now_usec);
        return r < 0 ? ledger_transaction_abort(l, r) : ledger_transaction_end(l, r);
}

int ledger_queued_retry(Ledger *l, const ReminderIdentity *x, usec_t now_usec, usec_t next_usec,
                        const char *reply) {
        int r = begin_change(l, x);

        if (r < 0)
                return r;
        r = one_row(l, ledger_execute(l, STMT_OUTBOX_RETRY, "ttu", x->id, x->channel, next_usec),
                    -ENOENT, "the message is not in the outbox");
        if (r >= 0)
                r = ledger_execute(l, STMT_OUTBOX_RETRY_REPLY, "ttut", x->id, x->channel, now_usec,
                                   reply);
        return r < 0 ? ledger_transaction_abort(l, r) : ledger_transaction_end(l, r);
}

int ledger_queued_skip_decided(Ledger *l, const char *commitment, uint32_t cycle,
                               const char *participant, bool overdue_too, usec_t now_usec) {
        int k, r;

        if (!l || !commitment || !participant)
                return -EINVAL;
        r = ledger_transaction_begin(l);
        if (r < 0)
                return r;
        r = ledger_execute(l, STMT_OUTBOX_SKIP_DECIDED, "tituti", commitment, (int64_t) cycle,
                           participant, now_usec, "the participant has decided",
                           (int64_t) overdue_too);
        if (r >= 0) {
                r = sqlite3_changes(l->db);
                if (r > 0) {
                        k = ledger_execute(l, STMT_OUTBOX_DROP_SKIPPED, "");
                        if (k < 0)
                                r = k;
                }
        }
        if (r < 0)
                return ledger_transaction_abort(l, r);
        /* The commit's own error: a busy or full disk is worth trying again, and -EIO says
         * it is failing. */
        k = ledger_transaction_end(l, r);
        return k < 0 ? k : r;
}

int ledger_queued_retarget(Ledger *l, const char *channel, const char *transport) {
        if (!l || !channel || !transport)
                return -EINVAL;
        return ledger_execute(l, STMT_OUTBOX_RETARGET, "tt", channel, transport);
}

int ledger_queued_recover(Ledger *l, LedgerQueued **ret, size_t *ret_n) {
        int r;

        if (!l || !ret || !ret_n)
                return -EINVAL;
        r = ledger_execute(l, STMT_BEGIN, "");
        if (r < 0)
                return r;
        r = queued(l, l->statements[STMT_OUTBOX_INFLIGHT], ret, ret_n);
        if (r >= 0) {
                r = ledger_execute(l, STMT_OUTBOX_RECOVER, "");
                if (r < 0) {
                        ledger_queued_free(*ret, *ret_n);
                        *ret = NULL;
                        *ret_n = 0;
                }
        }
        return r < 0 ? ledger_transaction_abort(l, r) : ledger_transaction_end(l, r);
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
