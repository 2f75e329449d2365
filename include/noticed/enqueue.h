#pragma once
/* Enqueue: one reminder on one channel, from the plan's decision to the ledger.
 *
 * Renders a reminder to send and queues it in the ledger's outbox (outbox.h sends it), or
 * records it as skipped; logs each once with the reminder's fields and counts it.  Also answers
 * what the ledger says of a reminder.  It borrows the ledger; the model is passed with every
 * call, so a reload simply passes the new one.  A channel is 0 for mail (through mail_via) or
 * 1 + i for the recipient's webhook i. */

#include <stdbool.h>
#include <stdint.h>

#include "noticed/catchup.h"
#include "noticed/identity.h"
#include "noticed/ledger.h"
#include "noticed/model.h"
#include "noticed/plan.h"

typedef struct Enqueue Enqueue;

typedef struct EnqueueCounts {
        uint64_t queued, skipped;
} EnqueueCounts;

int enqueue_new(Ledger *ledger, Enqueue **ret); /* 0 or -ENOMEM */
Enqueue *enqueue_free(Enqueue *eq);
const EnqueueCounts *enqueue_counts(const Enqueue *eq);

bool enqueue_channel_exists(const Model *model, const Recipient *rc, uint32_t channel);
uint32_t enqueue_channel_count(const Recipient *rc);

/* Each call takes the reminder's identity on that channel (identity_from_reminder()), built
 * once by the caller for all of them. */

/* 1 when the reminder is still to be delivered (unknown to the ledger, or an attempt of an
 * older noticed began and never settled), 0 when it is settled or queued, or -errno. */
int enqueue_unsettled(Enqueue *eq, const ReminderIdentity *x);
/* The latest settled reminder of r's group (milestone, recipient, channel, overdue or not) as
 * the ledger has it, whatever offsets the config has now: 1 and *ret (r moved to that instant
 * and its local date, settled, and whether and on which local day one of the group went out:
 * was sent), 0 when there is none, or -errno.  ret->channel is left 0. */
int enqueue_settled_sibling(Enqueue *eq, const Model *model, const Reminder *r,
                            const ReminderIdentity *x, DueReminder *ret);

/* Renders the reminder and queues it in the outbox, due at now.  0 (also when it was settled or
 * queued meanwhile), or -errno when it could not be rendered (logged; it is not tried again
 * until the next pass) or the ledger refused. */
int enqueue_reminder(Enqueue *eq, const Model *model, const Reminder *reminder, uint32_t channel,
                     const ReminderIdentity *x, usec_t now);
/* Records the reminder as skipped for the reason why; 0 or -errno. */
int enqueue_skip(Enqueue *eq, const Reminder *r, const ReminderIdentity *x, CatchUpAction why,
                 usec_t now);

/* Logs each reminder the ledger still has pending from an interrupted attempt.  0 or -errno. */
int enqueue_report_interrupted(Enqueue *eq);
/* The one warning for a reminder that noticed stopped in the middle of, here and in
 * outbox_recover(): "ID: was being <was_being> by CHANNEL when noticed last stopped, and may
 * have gone out; <now_what>, so it may arrive twice". */
void enqueue_log_interrupted(const ReminderIdentity *x, const char *was_being,
                             const char *now_what);
