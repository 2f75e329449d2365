#pragma once
/* The ledger: the durable record of what was sent, skipped, failed and decided.
 *
 * One SQLite file (WAL, mode 0600) that the daemon writes and noticectl reads and writes while
 * the daemon runs.  A reminder is known by its identity (identity.h): its id and channel are
 * the row's key, and its other parts are columns, which group look-ups compare.  Its row says
 * where its delivery stands.  Instants are CLOCK_REALTIME µs.  Decisions are an append-only audit
 * trail: who recorded what, when. The schema version lives in PRAGMA user_version and is migrated
 * forward on open.  Every write is one transaction.  Every call returns >= 0 or -errno (SQLite's
 * codes translated: busy -> -EBUSY, full -> -ENOSPC, corrupt/not a database -> -EBADMSG, I/O ->
 * -EIO, read-only -> -EROFS, out of memory -> -ENOMEM, a constraint -> -EINVAL) and never logs;
 * ledger_error() says what SQLite said about the last failure. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "noticed/identity.h"
#include "noticed/macro.h"

typedef struct Ledger Ledger;

#define LEDGER_FILE           "ledger.sqlite"
#define LEDGER_SCHEMA_VERSION 4

typedef enum LedgerState {
        LEDGER_PENDING, /* an attempt began and has not been settled */
        LEDGER_SENT,    /* the transport accepted it */
        LEDGER_FAILED,  /* given up */
        LEDGER_SKIPPED, /* missed while the daemon was not running, superseded or moot */
        LEDGER_QUEUED,  /* pending, and its message waits in the outbox (or is in flight): never
                         * stored, only reported, by ledger_get_state() and ledger_history() */
        _LEDGER_STATE_MAX,
} LedgerState;

const char *ledger_state_to_string(LedgerState s);

/* One reminder on one channel, as the calls that may create its row take it. */
typedef struct LedgerReminder {
        const ReminderIdentity *identity;
        usec_t due_usec; /* the planned instant */
} LedgerReminder;

/* A row of the reminders table, as history shows it.  Owned by the entry. */
typedef struct LedgerEntry {
        ReminderIdentity identity;
        LedgerState state;
        unsigned attempts;
        usec_t due_usec;
        usec_t created_usec; /* first recorded */
        usec_t updated_usec; /* last change of state */
        char *reply;         /* the transport's last reply or the reason; NULL when none */
        char *message_id;    /* NULL when none */
} LedgerEntry;

typedef enum Decision {
        DECISION_CONTINUE,
        DECISION_TERMINATE,
        DECISION_REVOKE, /* a row of the trail only: the earlier decisions no longer stand */
        _DECISION_MAX,
} Decision;

/* "continue", "terminate", "revoke" */
const char *decision_to_string(Decision d);
int decision_from_string(const char *s, Decision *ret); /* 0 or -EINVAL */

typedef struct LedgerDecision {
        char *commitment;
        uint32_t cycle;
        char *participant;
        Decision decision;
        char *note; /* NULL when none */
        char *user; /* who recorded it */
        usec_t at_usec;
} LedgerDecision;

/* $STATE_DIRECTORY (its first entry) or LEDGER_STATE_DIRECTORY_DEFAULT; never NULL. */
#define LEDGER_STATE_DIRECTORY_DEFAULT "/var/lib/noticed"
const char *ledger_state_directory(void);
/* The ledger's path in a state directory; malloc'd, NULL when out of memory. */
char *ledger_path_in(const char *state_dir);

/* Opens (creating with mode 0600 when missing) and migrates the ledger at path.  A file whose
 * user_version is newer than this program knows is refused with -EPROTONOSUPPORT, a file that
 * is not a database with -EBADMSG, a directory with -EISDIR, another file that is not a regular
 * file with -EBADFD, and a path that starts with "file:" (SQLite would read it as a URI) with
 * -EINVAL. */
int ledger_open(const char *path, Ledger **ret);
/* A copy of the ledger at path, in memory, migrated: what it says now, for a preview that must
 * not write the file (noticed --dry-run).  The file is opened read-only and copied; nothing is
 * written to it or its -wal, no lock is taken beyond SQLite's read lock while copying.  path
 * NULL gives an empty ledger.  -ENOENT when the file does not exist, -EACCES, -EISDIR, -EBADFD
 * (not a regular file), -EBADMSG (not a database), -EPROTONOSUPPORT (from a newer noticed), -EBUSY,
 * -EINVAL ("file:..."), -ENOMEM. */
int ledger_open_snapshot(const char *path, Ledger **ret);
Ledger *ledger_close(Ledger *l);
/* SQLite's message about the last failed call, or "" */
const char *ledger_error(const Ledger *l);
/* Will a refusal with this -errno pass if tried again later?  A busy, full or failing disk
 * clears; a row that is gone or a database that is damaged does not, and waiting for it would
 * stop everything after it. */
static inline bool ledger_refusal_may_pass(int r) {
        return r == -EBUSY || r == -ENOSPC || r == -EIO || r == -ENOMEM || r == -EROFS;
}

/* 1 and the state when the reminder is recorded, 0 when it is not.  ret may be NULL.  A pending
 * row whose message is in the outbox is LEDGER_QUEUED. */
int ledger_get_state(Ledger *l, const ReminderIdentity *x, LedgerState *ret);

/* The latest planned instant among the settled rows (sent, failed, skipped) and the queued ones
 * (waiting in the outbox or in flight: they will be settled) of x's group: the reminders of its
 * commitment, kind (and deadline), cycle, milestone, recipient and channel, overdue or not,
 * whatever their offset.  1 and *ret_due_usec, or 0 when the group has none.  Catch-up asks this
 * rather than the plan, which forgets an offset the config no longer has. */
int ledger_latest_settled(Ledger *l, const ReminderIdentity *x, usec_t *ret_due_usec);

/* What catch-up needs of x's group (ledger_latest_settled()): the latest planned instant among
 * its settled and queued rows, and when one of them last went out: the instant it was marked
 * sent.  A skipped or failed row did not go out, and a queued one waiting may still be
 * superseded by a later one (ledger_enqueue()). */
typedef struct LedgerGroup {
        usec_t latest_due_usec;
        bool went_out;
        usec_t went_out_usec;
} LedgerGroup;
/* 1 and *ret, or 0 when the group has no settled or queued row; -errno. */
int ledger_group_settled(Ledger *l, const ReminderIdentity *x, LedgerGroup *ret);

/* Settles a pending row.  reply and message_id may be NULL.  -ENOENT when there is no row,
 * -EALREADY when it is not pending (sent, failed or skipped: that record stands). */
int ledger_mark_sent(Ledger *l, const ReminderIdentity *x, usec_t now_usec, const char *reply,
                     const char *message_id);
int ledger_mark_failed(Ledger *l, const ReminderIdentity *x, usec_t now_usec, const char *reply);
/* Records a reminder that will not be sent (creating the row); reason goes into reply.
 * -EALREADY when the row exists and is sent or failed; a pending row becomes skipped; a row
 * already skipped is left as it is (0, and the first reason stands). */
int ledger_mark_skipped(Ledger *l, const LedgerReminder *r, usec_t now_usec, const char *reason);

/* Many changes as one transaction (one fsync instead of one each): the transitions between
 * begin and end are applied, each on its own (a refused one changes nothing), when the batch
 * is committed, and none of them when it is not or the commit fails.  Batches do not nest.
 * ledger_batch_end() returns 0 or the commit's -errno (and then has rolled back). */
int ledger_batch_begin(Ledger *l);
int ledger_batch_end(Ledger *l, bool commit);

/* Appends a decision, continue or terminate (DECISION_REVOKE: -EINVAL, see below).  note may be
 * NULL. */
int ledger_record_decision(Ledger *l, const char *commitment, uint32_t cycle,
                           const char *participant, Decision decision, const char *note,
                           const char *user, usec_t at_usec);
/* Appends a revocation of the participant's standing decisions for the commitment's cycle:
 * nothing is updated or deleted, and from then on ledger_decisions() leaves them out.
 * -ENOENT when no decision of theirs for that cycle stands.  note may be NULL. */
int ledger_revoke_decision(Ledger *l, const char *commitment, uint32_t cycle,
                           const char *participant, const char *note, const char *user,
                           usec_t at_usec);
/* The decisions that stand, oldest first: in the order they were recorded, whatever their
 * at_usec.  A decision stands until a revocation naming its commitment, cycle and participant
 * is recorded after it; one recorded after the revocation stands again. */
int ledger_decisions(Ledger *l, LedgerDecision **ret, size_t *ret_n);
/* The whole trail, revocations (DECISION_REVOKE) included, in the order of recording. */
int ledger_decision_trail(Ledger *l, LedgerDecision **ret, size_t *ret_n);
void ledger_decisions_free(LedgerDecision *d, size_t n);

/* Reminder rows, of one commitment or (NULL) all, ordered by (due, commitment, recipient,
 * channel). */
int ledger_history(Ledger *l, const char *commitment, LedgerEntry **ret, size_t *ret_n);
void ledger_entries_free(LedgerEntry *e, size_t n);

/* Rows left pending without a message in the outbox (an attempt of an older noticed began and
 * the process died before settling it), in the order of ledger_history(). */
int ledger_pending(Ledger *l, LedgerEntry **ret, size_t *ret_n);

/* --- the outbox ----------------------------------------------------------------------------
 * A message handed to a transport waits in the outbox, its reminder pending, until it is sent
 * (ledger_mark_sent()) or given up (ledger_mark_failed()), which also take it out.  It keeps
 * the exact bytes, so that every attempt, after a restart too, sends the same message. */

typedef struct LedgerMessage {
        const char *transport;  /* the transport's name */
        const char *recipients; /* mail: the addresses, one per line; NULL for a webhook */
        const void *payload;    /* the message, or the webhook's JSON body */
        size_t payload_size;
        const char *message_id; /* NULL when none */
        const char *key;        /* the Maildir key (mail.h), NULL when none */
        bool escalate;          /* escalate when it fails (reminders; not escalations) */
        usec_t deadline_usec;   /* no attempt after this; then it fails */
} LedgerMessage;

/* A message in the outbox with its reminder's record.  Owned. */
typedef struct LedgerQueued {
        ReminderIdentity identity;
        unsigned attempts;
        usec_t due_usec;
        char *reply; /* the last attempt's, NULL when none */
        char *transport, *recipients, *message_id, *key;
        void *payload;
        size_t payload_size;
        bool escalate;
        bool interrupted; /* an attempt was in flight when the process ended */
        usec_t next_usec, deadline_usec;
} LedgerQueued;

/* Creates the reminder (pending, no attempt yet) and puts its message in the outbox, due at
 * now_usec, as one change.  Older reminders of the same group (milestone, recipient, channel,
 * overdue or not) that still wait in the outbox, not in flight, are skipped as superseded.
 * -EALREADY when the reminder is settled, -EEXIST when its message is in the outbox already. */
int ledger_enqueue(Ledger *l, const LedgerReminder *m, const LedgerMessage *msg,
                   usec_t now_usec);
/* x's message in the outbox: 1 with its attempts so far and its next attempt, 0 when it is not
 * in the outbox, or -errno. */
int ledger_queued_get(Ledger *l, const ReminderIdentity *x, unsigned *ret_attempts,
                      usec_t *ret_next_usec);
/* The names of the transports that have messages due at now_usec and not in flight. */
int ledger_queued_transports(Ledger *l, usec_t now_usec, char ***ret, size_t *ret_n);
/* Up to limit messages of one transport due at now_usec and not in flight, oldest first. */
int ledger_queued_due(Ledger *l, const char *transport, usec_t now_usec, size_t limit,
                      LedgerQueued **ret, size_t *ret_n);
/* The earliest next attempt of a message not in flight: 1 and *ret_usec, or 0 when none. */
int ledger_queued_next(Ledger *l, usec_t *ret_usec);
/* An attempt begins: the message is in flight, attempts + 1.  -EALREADY when it is in flight
 * already or not in the outbox. */
int ledger_queued_begin(Ledger *l, const ReminderIdentity *x, usec_t now_usec);
/* The attempt failed for now: the message waits until next_usec; reply is recorded. */
int ledger_queued_retry(Ledger *l, const ReminderIdentity *x, usec_t now_usec, usec_t next_usec,
                        const char *reply);
/* Skips the decision and notice reminders and overdue messages of a participant who decided,
 * for that commitment and cycle, that still wait in the outbox (not in flight).  The number
 * skipped, or -errno. */
int ledger_queued_skip_decided(Ledger *l, const char *commitment, uint32_t cycle,
                               const char *participant, bool overdue_too, usec_t now_usec);
/* Has x's group (ledger_latest_settled()) a later reminder than due_usec, queued or settled?
 * 1, or 0 (also when the look-up fails), or -EINVAL. */
int ledger_later_sibling(Ledger *l, const ReminderIdentity *x, usec_t due_usec);
/* The waiting messages of one channel ("mail") go by transport from now on.  0 or -errno. */
int ledger_queued_retarget(Ledger *l, const char *channel, const char *transport);
/* At start: the messages that were in flight when the process ended, now waiting again and
 * marked interrupted (returned, for the log). */
int ledger_queued_recover(Ledger *l, LedgerQueued **ret, size_t *ret_n);
void ledger_queued_free(LedgerQueued *q, size_t n);
/* Frees the members of one and zeroes it. */
void ledger_queued_done(LedgerQueued *q);
void ledger_strv_free(char **v, size_t n);

/* --- counts, for STATUS= (ledger-status.c) --------------------------------------------------
 * What the ledger says was done, so that the daemon's STATUS= does not start from 0 after a
 * restart.  "Sent" and "failed" are messages of every kind (reminders, overdue messages,
 * escalations), counted by their rows' state and the instant of their last change. */

typedef struct LedgerCounts {
        uint64_t sent, failed;                      /* in all */
        uint64_t day_sent, day_failed, day_skipped; /* settled in [day_start, day_end) */
        uint64_t queued; /* messages in the outbox: waiting for an attempt, or in flight */
} LedgerCounts;

/* One aggregate query, cheap enough for every STATUS= but not free: it reads every row of the
 * reminders table (about 35 ms for 100,000 rows on a small machine; the outbox is counted from
 * its index, without the messages' bytes).  0 or -errno. */
int ledger_counts(Ledger *l, usec_t day_start_usec, usec_t day_end_usec, LedgerCounts *ret);
