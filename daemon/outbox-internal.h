#pragma once
/* What the outbox's files share and nothing else sees, as ledger-internal.h does for the ledger:
 * the Outbox object and the calls between its three jobs.  outbox.h stays the whole public
 * surface.
 *
 *   outbox.c         the object; a run: what is due by which transport, the retry timer,
 *                    taking back what was in flight at the last stop, stopping
 *   outbox-start.c   handing due messages to their transports, and what is in flight
 *   outbox-record.c  telling the ledger their outcomes (sent, retry, failed and escalated),
 *                    then logging and counting them
 *
 * Nothing here returns an error that it has not logged. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "noticed/ledger.h"
#include "noticed/macro.h"
#include "noticed/model.h"
#include "noticed/net.h"
#include "noticed/outbox.h"
#include "noticed/secret.h"

/* Local transports take this many messages per ledger transaction. */
#define LOCAL_CHUNK 256
/* When messages are due and none could be started (the ledger refused), look again then. */
#define STALLED_RETRY_USEC (UINT64_C(5) * USEC_PER_SEC)

typedef struct Outcome Outcome; /* outbox-record.c */
typedef struct Flight Flight;   /* outbox-start.c */
typedef struct Busy Busy;       /* outbox-start.c */

struct Outbox {
        sd_event *event;
        Ledger *ledger; /* borrowed */
        Net *net;
        const Model *model; /* borrowed */
        Secret *secrets;    /* one per model transport */
        size_t n_secrets;
        Busy *busy;
        size_t n_busy;
        size_t in_flight;
        Flight *flights;            /* the transfers in flight, for outbox_free() */
        uint64_t last_settled_usec; /* CLOCK_MONOTONIC: when the settled hook last ran */
        Outcome *outcomes; /* to record in the next turn (or again, after the ledger refused) */
        size_t n_outcomes;
        sd_event_source *soon;  /* a turn of the loop: record outcomes, start more */
        sd_event_source *timer; /* the next retry */
        sd_event_source *stop_timer;
        bool stopping;
        void (*stopped)(void *);
        void *stopped_userdata;
        OutboxProgressFn progress;
        OutboxSettledFn settled;
        void *userdata;
        OutboxCounts counts;
        bool recovered; /* outbox_recover() has run */
        bool retarget;  /* queued mail is to follow mail_via (after outbox_configure()) */
};

/* ---- starting (outbox-start.c) ---- */

bool outbox_transport_is_local(const Transport *t); /* Maildir, sendmail */
/* How many more transfers network transport t may have in flight now (0 when out of memory). */
size_t outbox_free_slots(Outbox *o, const Transport *t);
/* Starts up to `slots` due messages of one transport: 1 when it started any, 0, or -errno. */
int outbox_start_transport(Outbox *o, const Transport *t, const Secret *secret, size_t slots,
                           usec_t now);
/* Forgets the transfers in flight and the counts per transport, once net is freed (which ends
 * the transfers without a callback). */
void outbox_free_transfers(Outbox *o);

/* ---- outcomes (outbox-record.c) ---- */

/* Puts one outcome in the list for the next turn; takes item and reply (NULL: "?"). */
void outbox_remember(Outbox *o, LedgerQueued *item, NetOutcome outcome, long code, char *reply,
                     usec_t retry_after_usec);
/* Records every outcome waiting, as one transaction; those the ledger refuses wait for the
 * next turn.  -errno while it refuses. */
int outbox_record_outcomes(Outbox *o);
/* Records the due messages of a transport the config no longer has as skipped. */
void outbox_skip_orphans(Outbox *o, const char *transport, usec_t now);
/* Frees the outcomes not recorded: their rows stay in flight in the ledger. */
void outbox_free_outcomes(Outbox *o);
