/* Starting: due messages from the ledger's outbox to their transports.
 *
 * A message is in flight in the ledger (ledger_queued_begin()) before it goes out, so that a
 * crash meanwhile leaves it to be taken back at the next start.  SMTP and webhook transfers
 * go to net.h, up to each transport's max_connections at a time; this file keeps those in
 * flight, per transport, until net calls back.  Local transports (Maildir, sendmail) deliver
 * inside transmit().  Every outcome, whichever way it comes, goes to outbox_remember()
 * (outbox-record.c). */

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noticed/log.h"
#include "noticed/transmit.h"
#include "outbox-internal.h"

/* One transfer on net, in the outbox's list until net calls back (or the outbox is freed). */
struct Flight {
        Outbox *outbox;
        LedgerQueued item;
        struct Flight *prev, *next;
};

/* Transfers in flight per transport name (a reload may rename or drop a transport meanwhile). */
struct Busy {
        char *transport;
        uint32_t n;
};

static Busy *busy_of(Outbox *o, const char *transport) {
        Busy *more;

        for (size_t i = 0; i < o->n_busy; i++)
                if (strcmp(o->busy[i].transport, transport) == 0)
                        return &o->busy[i];
        more = reallocarray(o->busy, o->n_busy + 1, sizeof(*more));
        if (!more)
                return NULL;
        o->busy = more;
        more[o->n_busy] = (Busy){.transport = strdup(transport)};
        if (!more[o->n_busy].transport)
                return NULL;
        return &o->busy[o->n_busy++];
}

bool outbox_transport_is_local(const Transport *t) {
        return t->kind == TRANSPORT_MAILDIR || t->kind == TRANSPORT_SENDMAIL;
}

size_t outbox_free_slots(Outbox *o, const Transport *t) {
        Busy *b = busy_of(o, t->id);

        if (!b || b->n >= t->max_connections)
                return 0;
        return t->max_connections - b->n;
}

void outbox_free_transfers(Outbox *o) {
        while (o->flights) {
                Flight *fl = o->flights;
                o->flights = fl->next;
                ledger_queued_done(&fl->item);
                free(fl);
        }
        for (size_t i = 0; i < o->n_busy; i++)
                free(o->busy[i].transport);
        free(o->busy);
        o->busy = NULL;
        o->n_busy = 0;
}

static void on_net_done(const NetResult *result, void *userdata) {
        Flight *fl = userdata;
        Outbox *o = fl->outbox;
        Busy *b = busy_of(o, fl->item.transport);
        char *reply = strdup(result->reply);

        assert(o->in_flight > 0);
        if (b && b->n > 0)
                b->n--;
        o->in_flight--;
        if (fl->prev)
                fl->prev->next = fl->next;
        else
                o->flights = fl->next;
        if (fl->next)
                fl->next->prev = fl->prev;
        outbox_remember(o, &fl->item, result->outcome, result->code, reply,
                        result->retry_after_usec);
        free(fl);
}

/* Hands one message (in flight in the ledger) to its transport.  A local transport finishes
 * here; its outcome is recorded in the next turn like any other. */
static void start(Outbox *o, LedgerQueued *q, const Transport *t, const Secret *secret,
                  usec_t now) {
        TransmitRequest req = {.transport = t,
                               .secret = secret,
                               .recipients = q->recipients,
                               .data = q->payload,
                               .size = q->payload_size,
                               .idempotency_key = q->identity.id,
                               .key = q->key,
                               .interrupted = q->interrupted,
                               .now = (int64_t) (now / USEC_PER_SEC)};
        TransmitLocal local = {0};
        Flight *fl = calloc(1, sizeof(*fl));
        char *reply;
        int r;

        if (!fl) {
                outbox_remember(o, q, NET_TEMPORARY, 0, strdup("out of memory"), 0);
                return;
        }
        fl->outbox = o;
        r = transmit(o->net, &req, on_net_done, fl, &local);
        if (r == 0) {
                Busy *b = busy_of(o, t->id);
                if (b)
                        b->n++;
                o->in_flight++;
                fl->item = *q;
                *q = (LedgerQueued){0};
                fl->next = o->flights;
                if (o->flights)
                        o->flights->prev = fl;
                o->flights = fl;
                return;
        }
        free(fl);
        if (r == 1) {
                outbox_remember(o, q, local.outcome, 0, local.reply, 0);
                return;
        }
        if (asprintf(&reply, "cannot send through transport %s: %s", t->id, strerror(-r)) < 0)
                reply = NULL;
        /* -EINVAL: a message this transport cannot carry will not get better. */
        outbox_remember(o, q, r == -EINVAL ? NET_PERMANENT : NET_TEMPORARY, 0, reply, 0);
}

/* Network transfers are marked in one transaction and started together; local deliveries,
 * which take their time (sendmail), one by one, each marked as it begins, so that a stop
 * between them leaves the rest waiting rather than "interrupted". */
int outbox_start_transport(Outbox *o, const Transport *t, const Secret *secret, size_t slots,
                           usec_t now) {
        LedgerQueued *items = NULL;
        size_t n = 0, begun = 0;
        bool local = outbox_transport_is_local(t);
        int r;

        assert(slots > 0);
        r = ledger_queued_due(o->ledger, t->id, now, slots, &items, &n);
        if (r < 0)
                return log_error_errno(r, "Failed to read the outbox: %s", ledger_error(o->ledger));
        r = local ? 0 : ledger_batch_begin(o->ledger);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                int k;

                if (local && o->progress && !o->progress(o->userdata)) {
                        log_info("Stopping in the middle of a pass: %zu message(s) wait in the "
                                 "outbox for the next start",
                                 n - i);
                        break;
                }
                k = ledger_queued_begin(o->ledger, &items[i].identity, now);
                if (k == -EALREADY) { /* not ours (another process took it): leave it */
                        items[i].attempts = UINT_MAX;
                        continue;
                }
                if (k < 0) {
                        r = k;
                        break;
                }
                begun++;
                if (items[i].deadline_usec <= now) {
                        /* Too late to be of use (the daemon was down, or it waited for a
                         * slot): failed, and escalated, not sent. */
                        outbox_remember(o, &items[i], NET_PERMANENT, 0,
                                        strdup("its time passed before it could be sent"), 0);
                        items[i].attempts = UINT_MAX;
                        continue;
                }
                if (local) {
                        start(o, &items[i], t, secret, now);
                        /* Each local outcome at once: a sendmail takes seconds, a crash must
                         * not cost the outcomes of a whole chunk. */
                        (void) outbox_record_outcomes(o);
                }
        }
        if (!local) {
                if (r >= 0)
                        r = ledger_batch_end(o->ledger, true);
                else
                        (void) ledger_batch_end(o->ledger, false);
                for (size_t i = 0; r >= 0 && i < n; i++)
                        if (items[i].attempts != UINT_MAX)
                                start(o, &items[i], t, secret, now);
        }
        ledger_queued_free(items, n);
        if (r < 0)
                return log_error_errno(r, "Failed to record the start of an attempt through %s: %s",
                                       t->id, ledger_error(o->ledger));
        return begun > 0;
}
