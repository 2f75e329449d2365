#pragma once
/* Escalate: who hears that a reminder or an overdue message failed for good, and by which
 * channels.
 *
 * Each escalate_to recipient of the failed message's commitment (as the config has it now) gets
 * an escalation (message.h) by each of its channels that still work: not the very recipient and
 * channel that failed, and, when the transport itself failed (it seemed down, a webhook refused,
 * a login was refused), no channel through that transport.  The escalations are queued in the
 * ledger's outbox, where the outbox sends them like any message, for a day; they are never
 * escalated themselves.  Called inside the transaction that records the failure, so that both
 * are recorded or neither. */

#include <stdbool.h>
#include <stdint.h>

#include "noticed/ledger.h"
#include "noticed/macro.h"
#include "noticed/model.h"

/* Queues the escalations of q, which failed with reply, at now (CLOCK_REALTIME µs).  *ret_to
 * gets who they were queued for ("a, b", malloc'd; left NULL when nobody) and *ret_n how many.
 * Returns -errno when the ledger refuses in a way that may pass (record the failure later, with
 * them); what will not pass (no escalate_to, no channel left, a message that cannot be
 * rendered) is logged here, and 0 is returned so that the failure is recorded without it. */
int escalate_queue(Ledger *ledger, const Model *m, const LedgerQueued *q, const char *reply,
                   bool transport_failed, usec_t now, char **ret_to, unsigned *ret_n);
