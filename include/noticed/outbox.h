#pragma once
/* The outbox: messages handed to transports, from the ledger's outbox table to their outcome.
 *
 * A pass puts each message it decides to send into the ledger's outbox (enqueue.c); this
 * module sends them: local transports (Maildir, sendmail) at once, within outbox_run(); SMTP
 * and webhooks through net.h, up to each transport's max_connections at a time, their outcomes
 * recorded in one ledger transaction per turn of the event loop.  A message that fails for now
 * waits (retry.h) and is tried again, after a restart too; one that fails for good, or is still
 * failing when its deadline comes, is recorded failed, logged, and escalated: an escalation goes
 * to the commitment's escalate_to recipients by their channels that still work.  The outbox
 * borrows the ledger and the model (outbox_configure() passes a reloaded one). */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "noticed/ledger.h"
#include "noticed/model.h"
#include "noticed/secret.h"

typedef struct Outbox Outbox;

typedef struct OutboxCounts {
        uint64_t sent, failed, retried, escalated;
} OutboxCounts;

int outbox_new(sd_event *event, Ledger *ledger, Outbox **ret); /* 0, -ENOMEM, -EIO (curl) */
Outbox *outbox_free(Outbox *o);

/* Takes the model to send by and its secrets (from secrets_load(), taken over). */
void outbox_configure(Outbox *o, const Model *model, Secret *secrets);

/* Called between local deliveries (a long catch-up through sendmail): returning false ends the
 * run there.  And, after each turn that settled something, the settled hook (for STATUS=). */
typedef bool (*OutboxProgressFn)(void *userdata);
typedef void (*OutboxSettledFn)(void *userdata);
void outbox_set_hooks(Outbox *o, OutboxProgressFn progress, OutboxSettledFn settled,
                      void *userdata);

/* Logs the messages that were in flight when noticed last stopped, and makes them wait again
 * (they may arrive twice).  Call once at start.  0 or -errno. */
int outbox_recover(Outbox *o);

/* Records what the ledger refused before, then starts what is due at now (CLOCK_REALTIME µs),
 * and arms a timer for the next retry.  Failures of single messages are logged, not
 * returned; -errno when the ledger cannot be read. */
int outbox_run(Outbox *o, uint64_t now);

/* Stops starting transfers; calls done(userdata) from the event loop once none is in flight or
 * after timeout_usec, whichever is first.  What is still in flight then stays in the outbox,
 * to be sent after the next start.  0, -EALREADY when stopping already, or -errno. */
int outbox_stop(Outbox *o, uint64_t timeout_usec, void (*done)(void *userdata), void *userdata);

/* Records outcomes the ledger refused once more, logging those it still refuses (that message
 * may be sent again after the next start).  For the end.  0 or -errno. */
int outbox_flush(Outbox *o);

size_t outbox_in_flight(const Outbox *o);
const OutboxCounts *outbox_counts(const Outbox *o);
