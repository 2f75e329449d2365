#pragma once
/* Delivery: one reminder on one channel, from the ledger's attempt to its recorded outcome.
 *
 * Sends through the channel's transport (rendering the mail), records what happened, logs it
 * once with the reminder's fields, and counts it; or records it as skipped.  Also answers what
 * the ledger says of a reminder.  It borrows the ledger; the model is passed with every call,
 * so a reload simply passes the new one.  A channel is 0 for mail (through mail_via) or 1 + i
 * for the recipient's webhook i, and exists only when this build can drive its transport. */

#include <stdbool.h>
#include <stdint.h>

#include "noticed/catchup.h"
#include "noticed/ledger.h"
#include "noticed/model.h"
#include "noticed/plan.h"

typedef struct Delivery Delivery;

typedef struct DeliveryCounts {
        uint64_t sent, failed, skipped;
} DeliveryCounts;

int delivery_new(Ledger *ledger, Delivery **ret); /* 0 or -ENOMEM */
Delivery *delivery_free(Delivery *dv);
const DeliveryCounts *delivery_counts(const Delivery *dv);

/* Can this build deliver through a transport of this kind?  Maildir and sendmail: yes. */
bool delivery_transport_supported(TransportKind kind);
bool delivery_channel_exists(const Model *model, const Recipient *rc, uint32_t channel);
uint32_t delivery_channel_count(const Recipient *rc);

/* 1 when the reminder is still to be delivered (unknown to the ledger, or an attempt began and
 * never settled), 0 when it is settled, or -errno. */
int delivery_unsettled(Delivery *dv, const Model *model, const Reminder *r, uint32_t channel);
/* The latest settled reminder of r's group (milestone, recipient, channel, overdue or not) as
 * the ledger has it, whatever offsets the config has now: 1 and *ret (r moved to that instant
 * and its local date), 0 when there is none, or -errno. */
int delivery_settled_sibling(Delivery *dv, const Model *model, const Reminder *r, uint32_t channel,
                             Reminder *ret);

/* Sends now and records it; a failed delivery is recorded, logged and counted, and returns 0.
 * Returns -errno only when the ledger would not record the attempt or the outcome (the outcome
 * is then kept for delivery_record_unrecorded()). */
int delivery_send(Delivery *dv, const Model *model, const Reminder *r, uint32_t channel);
/* Records the reminder as skipped for the reason why; 0 or -errno. */
int delivery_skip(Delivery *dv, const Model *model, const Reminder *r, uint32_t channel,
                  CatchUpAction why, uint64_t now);

/* Records the kept outcomes; -errno while the ledger still refuses one that may pass. */
int delivery_record_unrecorded(Delivery *dv);
/* The same as the daemon stops, logging each outcome still refused.  0 or -errno. */
int delivery_flush(Delivery *dv);
/* Logs each reminder the ledger still has pending from an interrupted attempt.  0 or -errno. */
int delivery_report_interrupted(Delivery *dv);
