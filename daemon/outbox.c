/* The outbox: sending what the ledger's outbox holds, retrying, giving up, escalating.
 *
 * The ledger is the queue: a message is in flight only after the ledger says so
 * (ledger_queued_begin()), and it leaves the outbox only with its outcome (ledger_mark_sent(),
 * ledger_mark_failed()).  A crash in between leaves it in flight there; outbox_recover() makes
 * it wait again at the next start, so nothing is lost, and something may arrive twice, which
 * the log says.  Outcomes that arrive in one turn of the event loop are recorded together, one
 * transaction (one fsync) for all: under load that is what keeps the ledger from being the
 * bottleneck.  Nothing here knows plans or catch-up: that was decided before a message got
 * here. */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "noticed/clock.h"
#include "noticed/escalate.h"
#include "noticed/log.h"
#include "noticed/macro.h"
#include "noticed/net.h"
#include "noticed/outbox.h"
#include "noticed/retry.h"
#include "noticed/secret.h"
#include "noticed/transmit.h"
#include "noticed/tz.h"

/* Local transports take this many messages per ledger transaction. */
#define LOCAL_CHUNK 256
/* When messages are due and none could be started (the ledger refused), look again then. */
#define STALLED_RETRY_USEC (UINT64_C(5) * USEC_PER_SEC)
/* The last attempt before a deadline comes this long before it, and only if it is not due
 * this soon already (no burst of attempts at the deadline). */
#define LAST_ATTEMPT_MARGIN_USEC (UINT64_C(60) * USEC_PER_SEC)

/* What the ledger was told of an outcome. */
typedef enum Verdict {
        VERDICT_NONE, /* not recorded yet */
        VERDICT_SENT,
        VERDICT_RETRY,      /* waits until next_usec */
        VERDICT_FAILED,     /* given up */
        VERDICT_SUPERSEDED, /* failed for now, but a later reminder of its group has come */
        VERDICT_GONE,       /* the ledger will never take it: logged, dropped */
} Verdict;

/* An outcome waiting for the ledger: settled in this turn, or refused by the ledger before. */
typedef struct Outcome {
        LedgerQueued item;
        NetOutcome outcome;
        long code;
        char *reply;
        uint64_t retry_after_usec;
        Verdict verdict; /* what the ledger was told, reported once it has committed */
        uint64_t next_usec;
        char *escalated_to; /* "a, b": who an escalation was queued for, with the failure */
        unsigned n_escalated;
} Outcome;

/* One transfer on net, in the outbox's list until net calls back (or the outbox is freed). */
typedef struct Flight {
        Outbox *outbox;
        LedgerQueued item;
        struct Flight *prev, *next;
} Flight;

/* Transfers in flight per transport name (a reload may rename or drop a transport meanwhile). */
typedef struct Busy {
        char *transport;
        uint32_t n;
} Busy;

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

static int on_soon(sd_event_source *s, void *userdata);

int outbox_new(sd_event *event, Ledger *ledger, Outbox **ret) {
        Outbox *o = calloc(1, sizeof(*o));
        int r;

        if (!o)
                return -ENOMEM;
        o->event = sd_event_ref(event);
        o->ledger = ledger;
        r = net_new(event, &o->net);
        if (r >= 0)
                r = sd_event_add_defer(event, &o->soon, on_soon, o);
        if (r >= 0)
                r = sd_event_source_set_enabled(o->soon, SD_EVENT_OFF);
        if (r < 0) {
                outbox_free(o);
                return r;
        }
        (void) sd_event_source_set_description(o->soon, "outbox-turn");
        /* After every other source that is pending: the turn then records all the transfers that
         * ended meanwhile in one transaction, and refills their connections together. */
        (void) sd_event_source_set_priority(o->soon, SD_EVENT_PRIORITY_IDLE);
        *ret = o;
        return 0;
}

Outbox *outbox_free(Outbox *o) {
        if (!o)
                return NULL;
        /* Transfers in flight end here without a callback: their rows stay in flight in the
         * ledger, and the next start sends them again. */
        net_free(o->net);
        while (o->flights) {
                Flight *fl = o->flights;
                o->flights = fl->next;
                ledger_queued_done(&fl->item);
                free(fl);
        }
        for (size_t i = 0; i < o->n_outcomes; i++) {
                ledger_queued_done(&o->outcomes[i].item);
                free(o->outcomes[i].reply);
                free(o->outcomes[i].escalated_to);
        }
        free(o->outcomes);
        for (size_t i = 0; i < o->n_busy; i++)
                free(o->busy[i].transport);
        free(o->busy);
        secrets_free(o->secrets, o->n_secrets);
        (void) sd_event_source_disable_unref(o->soon);
        (void) sd_event_source_disable_unref(o->timer);
        (void) sd_event_source_disable_unref(o->stop_timer);
        sd_event_unref(o->event);
        free(o);
        return NULL;
}

void outbox_set_hooks(Outbox *o, OutboxProgressFn progress, OutboxSettledFn settled,
                      void *userdata) {
        o->progress = progress;
        o->settled = settled;
        o->userdata = userdata;
}

size_t outbox_in_flight(const Outbox *o) {
        return o->in_flight;
}

const OutboxCounts *outbox_counts(const Outbox *o) {
        return &o->counts;
}

/* --- configuration ---------------------------------------------------------------------------- */

void outbox_configure(Outbox *o, const Model *model, Secret *secrets) {
        secrets_free(o->secrets, o->n_secrets);
        o->secrets = secrets;
        o->n_secrets = model->n_transports;
        o->model = model;
        o->retarget = true; /* outbox_run() does it, where a refusal can be tried again */
}

/* Queued mail goes by the current mail_via: the remedy for a dead relay is another relay and a
 * reload.  0 or -errno (logged). */
static int retarget(Outbox *o) {
        int r = 0;

        if (o->model->has_mail_via)
                r = ledger_queued_retarget(o->ledger, "mail",
                                           o->model->transports[o->model->mail_via].id);
        if (r < 0)
                return log_error_errno(r, "Failed to send queued mail by transport %s: %s",
                                       o->model->transports[o->model->mail_via].id,
                                       ledger_error(o->ledger));
        o->retarget = false;
        return 0;
}

static const Transport *find_transport(const Outbox *o, const char *name, const Secret **secret) {
        size_t i;

        if (model_find_transport(o->model, name, &i) < 0)
                return NULL;
        *secret = o->secrets[i].data ? &o->secrets[i] : NULL;
        return &o->model->transports[i];
}

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

/* --- outcomes -----------------------------------------------------------------------------------
 */

static const char *what(const LedgerQueued *q) {
        if (identity_is_escalation(&q->identity))
                return "escalation";
        return identity_is_overdue(&q->identity) ? "overdue message" : "reminder";
}

/* The record of a queued message, for the calls that may create or skip its row. */
static LedgerReminder queued_reminder(const LedgerQueued *q) {
        return (LedgerReminder){.identity = &q->identity, .due_usec = q->due_usec};
}

static bool transport_failed(const Outcome *oc);

/* Puts one outcome in the list for the next turn; takes item and reply. */
static void remember(Outbox *o, LedgerQueued *item, NetOutcome outcome, long code, char *reply,
                     uint64_t retry_after_usec) {
        Outcome *more = reallocarray(o->outcomes, o->n_outcomes + 1, sizeof(*more));

        if (!more) {
                LogFields f = log_fields_of(&item->identity);
                (void) log_full(LOG_ERR, -ENOMEM, &f,
                                "%s: out of memory: its outcome is lost, and it is sent again "
                                "after the next start",
                                item->identity.id);
                ledger_queued_done(item);
                free(reply);
                return;
        }
        o->outcomes = more;
        more[o->n_outcomes++] = (Outcome){.item = *item,
                                          .outcome = outcome,
                                          .code = code,
                                          .reply = reply,
                                          .retry_after_usec = retry_after_usec};
        *item = (LedgerQueued){0};
        (void) sd_event_source_set_enabled(o->soon, SD_EVENT_ONESHOT);
}

/* When the next attempt is, or 0 when there is none: a temporary failure waits (retry.h), but
 * not past the message's deadline; one last attempt comes just before it, if there is room. */
static uint64_t next_attempt(const Outbox *o, const Outcome *oc, uint64_t now) {
        uint64_t deadline = oc->item.deadline_usec, next, random = 0;

        if (oc->outcome != NET_TEMPORARY || now >= deadline)
                return 0;
        (void) getrandom(&random, sizeof(random), GRND_NONBLOCK);
        next = now + retry_delay_usec(o->model->retry_base_usec, o->model->retry_max_usec,
                                      oc->item.attempts + 1, random, oc->retry_after_usec);
        if (next < deadline)
                return next;
        if (deadline - LAST_ATTEMPT_MARGIN_USEC > now + LAST_ATTEMPT_MARGIN_USEC)
                return deadline - LAST_ATTEMPT_MARGIN_USEC;
        return 0;
}

/* Tells the ledger one outcome (inside record_outcomes()'s transaction) and notes the verdict
 * for report().  Returns -errno while the ledger refuses in a way that may pass. */
static int record(Outbox *o, Outcome *oc, uint64_t now) {
        LedgerQueued *q = &oc->item;
        LogFields f = log_fields_of(&q->identity);
        const char *reply = oc->reply ? oc->reply : "?";
        Verdict verdict;
        int r = 0;

        if (oc->outcome == NET_OK) {
                verdict = VERDICT_SENT;
                r = ledger_mark_sent(o->ledger, &q->identity, now, reply, q->message_id);
        } else if ((oc->next_usec = next_attempt(o, oc, now)) > 0 &&
                   (r = ledger_later_sibling(o->ledger, &q->identity, q->due_usec)) > 0) {
                /* A later reminder of its milestone was queued while this one was in flight:
                 * that one says it better now. */
                LedgerReminder lr = queued_reminder(q);
                verdict = VERDICT_SUPERSEDED;
                r = ledger_mark_skipped(o->ledger, &lr, now,
                                        "superseded by a later reminder for the same milestone");
        } else if (oc->next_usec > 0 && r >= 0) {
                verdict = VERDICT_RETRY;
                r = ledger_queued_retry(o->ledger, &q->identity, now, oc->next_usec, reply);
        } else if (oc->next_usec > 0) {
                verdict = VERDICT_RETRY; /* the sibling query failed: r says how */
        } else {
                verdict = VERDICT_FAILED;
                /* The escalation first, in the same transaction: if the ledger refuses it, the
                 * failure is not recorded either, and both are tried again. */
                free(oc->escalated_to);
                oc->escalated_to = NULL;
                oc->n_escalated = 0;
                r = q->escalate
                            ? escalate_queue(o->ledger, o->model, q, reply, transport_failed(oc),
                                             now, &oc->escalated_to, &oc->n_escalated)
                            : 0;
                if (r >= 0)
                        r = ledger_mark_failed(o->ledger, &q->identity, now, reply);
        }
        if (r < 0 && ledger_refusal_may_pass(r))
                return log_full(LOG_ERR, r, &f,
                                "%s: failed to record the outcome: %s; will record it later, not "
                                "send it again",
                                q->identity.id, ledger_error(o->ledger));
        if (r < 0 && r != -EALREADY && r != -ENOENT) {
                (void) log_full(LOG_ERR, r, &f,
                                "%s: the ledger will not take its outcome (%s), giving up: it "
                                "stays in flight there and is sent again after the next start",
                                q->identity.id, ledger_error(o->ledger));
                verdict = VERDICT_GONE;
        } else if (r < 0) /* settled meanwhile (another process, a reload's skip) */
                verdict = VERDICT_GONE;
        oc->verdict = verdict;
        return 0;
}

/* Was the transport, not the one recipient, what failed?  Then escalations avoid it: a
 * temporary failure (it seems down), a webhook's refusal (the endpoint is the transport), an
 * SMTP login refused. */
static bool transport_failed(const Outcome *oc) {
        return oc->outcome == NET_TEMPORARY ||
               strncmp(oc->item.identity.channel, "webhook:", 8) == 0 || oc->code == 530 ||
               oc->code == 534 || oc->code == 535 || oc->code == 538;
}

/* Logs and counts an outcome the ledger has committed; escalates a failure. */
static void report(Outbox *o, Outcome *oc) {
        LedgerQueued *q = &oc->item;
        LogFields f = log_fields_of(&q->identity);
        const char *reply = oc->reply ? oc->reply : "?";
        unsigned attempts = q->attempts + 1; /* ledger_queued_begin() counted this one */
        char until[64];
        Date day;
        int32_t seconds, utc_offset;
        char date[DATE_STRING_MAX];

        switch (oc->verdict) {
        case VERDICT_SENT:
                /* An escalation about an overdue message is an escalation: "sent". */
                f.message_id =
                        identity_is_overdue(&q->identity) && !identity_is_escalation(&q->identity)
                                ? LOG_MESSAGE_OVERDUE
                                : LOG_MESSAGE_SENT;
                (void) log_full(LOG_INFO, 0, &f, "%s: %s sent to %s by %s (%s)", q->identity.id,
                                what(q), q->identity.recipient, q->identity.channel, reply);
                o->counts.sent++;
                break;
        case VERDICT_RETRY:
                /* In the config's zone, as every time an administrator reads. */
                tz_unix_to_local(o->model->tz, (int64_t) (oc->next_usec / USEC_PER_SEC), &day,
                                 &seconds, &utc_offset);
                (void) snprintf(until, sizeof(until), "%s %02d:%02d:%02d", date_format(day, date),
                                (int) (seconds / 3600), (int) (seconds / 60 % 60),
                                (int) (seconds % 60));
                (void) log_full(LOG_WARNING, 0, &f,
                                "%s: %s to %s by %s failed for now (attempt %u): %s; trying "
                                "again at %s",
                                q->identity.id, what(q), q->identity.recipient, q->identity.channel,
                                attempts, reply, until);
                o->counts.retried++;
                break;
        case VERDICT_FAILED:
                f.message_id = LOG_MESSAGE_FAILED;
                (void) log_full(LOG_ERR, 0, &f,
                                "%s: %s to %s by %s failed%s after %u attempt%s: %s",
                                q->identity.id, what(q), q->identity.recipient, q->identity.channel,
                                oc->outcome == NET_PERMANENT ? "" : " (its time has passed)",
                                attempts, attempts == 1 ? "" : "s", reply);
                o->counts.failed++;
                if (oc->escalated_to) {
                        (void) log_full(LOG_NOTICE, 0, &f, "%s: escalated to %s", q->identity.id,
                                        oc->escalated_to);
                        o->counts.escalated += oc->n_escalated;
                        /* Escalations are queued: start them. */
                        (void) sd_event_source_set_enabled(o->soon, SD_EVENT_ONESHOT);
                }
                break;
        case VERDICT_SUPERSEDED:
                f.message_id = LOG_MESSAGE_SKIPPED;
                (void) log_full(LOG_NOTICE, 0, &f,
                                "%s: %s to %s by %s skipped after a failed attempt (%s): "
                                "superseded by a later reminder for the same milestone",
                                q->identity.id, what(q), q->identity.recipient, q->identity.channel,
                                reply);
                break;
        case VERDICT_NONE:
        case VERDICT_GONE:
                break;
        }
}

/* Tells the settled hook, at most once a second while transfers are in flight (a burst settles
 * thousands, and each STATUS= is a datagram to systemd), and always when none is. */
static void settled(Outbox *o) {
        uint64_t now;

        if (!o->settled)
                return;
        now = clock_now_usec(CLOCK_MONOTONIC);
        if (o->in_flight > 0 && now - o->last_settled_usec < USEC_PER_SEC)
                return;
        o->last_settled_usec = now;
        o->settled(o->userdata);
}

/* Records every outcome waiting, as one transaction; those the ledger refuses (busy, full) wait
 * for the next turn, and all of them when the transaction fails.  -errno while it refuses. */
static int record_outcomes(Outbox *o) {
        uint64_t now = clock_now_usec(CLOCK_REALTIME);
        size_t done = 0, kept = 0;
        bool batch;
        int r = 0;

        if (o->n_outcomes == 0)
                return 0;
        batch = ledger_batch_begin(o->ledger) >= 0;
        /* The recorded ones first, in order; the refused ones after them. */
        for (; done < o->n_outcomes && r >= 0; done++)
                r = record(o, &o->outcomes[done], now);
        if (r < 0)
                done--;
        if (batch && ledger_batch_end(o->ledger, true) < 0) {
                /* Rolled back: nothing was recorded, so nothing is reported; all wait. */
                for (size_t i = 0; i < done; i++)
                        o->outcomes[i].verdict = VERDICT_NONE;
                (void) log_error("Failed to record %zu outcome(s): %s; trying again in %d s", done,
                                 ledger_error(o->ledger),
                                 (int) (STALLED_RETRY_USEC / USEC_PER_SEC));
                return -EIO;
        }
        /* Committed, escalations with their failures: now it may be said and counted. */
        for (size_t i = 0; i < done; i++) {
                report(o, &o->outcomes[i]);
                ledger_queued_done(&o->outcomes[i].item);
                free(o->outcomes[i].reply);
                free(o->outcomes[i].escalated_to);
        }
        for (size_t i = done; i < o->n_outcomes; i++)
                o->outcomes[kept++] = o->outcomes[i];
        o->n_outcomes = kept;
        if (done > 0)
                settled(o);
        return r;
}

/* --- starting -----------------------------------------------------------------------------------
 */

static void on_net_done(const NetResult *result, void *userdata) {
        Flight *fl = userdata;
        Outbox *o = fl->outbox;
        Busy *b = busy_of(o, fl->item.transport);
        char *reply = strdup(result->reply);

        if (b && b->n > 0)
                b->n--;
        o->in_flight--;
        if (fl->prev)
                fl->prev->next = fl->next;
        else
                o->flights = fl->next;
        if (fl->next)
                fl->next->prev = fl->prev;
        remember(o, &fl->item, result->outcome, result->code, reply, result->retry_after_usec);
        free(fl);
}

/* Hands one message (in flight in the ledger) to its transport.  A local transport finishes
 * here; its outcome is recorded in the next turn like any other. */
static void start(Outbox *o, LedgerQueued *q, const Transport *t, const Secret *secret,
                  uint64_t now) {
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
                remember(o, q, NET_TEMPORARY, 0, strdup("out of memory"), 0);
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
                remember(o, q, local.outcome, 0, local.reply, 0);
                return;
        }
        if (asprintf(&reply, "cannot send through transport %s: %s", t->id, strerror(-r)) < 0)
                reply = NULL;
        /* -EINVAL: a message this transport cannot carry will not get better. */
        remember(o, q, r == -EINVAL ? NET_PERMANENT : NET_TEMPORARY, 0, reply, 0);
}

/* The messages of a transport the config no longer has (a reload renamed or removed it).  Mail
 * goes by whatever mail_via is now (outbox_configure() re-points it), so these are webhook
 * messages of a webhook the recipient no longer has, or mail when there is no mail_via any
 * more: skipped, not failed, for nothing went wrong with them. */
static void skip_orphans(Outbox *o, const char *transport, uint64_t now) {
        LedgerQueued *items = NULL;
        size_t n = 0;
        char *reason = NULL;
        int r;

        r = ledger_queued_due(o->ledger, transport, now, LOCAL_CHUNK, &items, &n);
        if (r >= 0 && asprintf(&reason, "transport %s is no longer in the config", transport) < 0)
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                LedgerQueued *q = &items[i];
                LedgerReminder lr = queued_reminder(q);
                LogFields f = log_fields_of(&q->identity);

                r = ledger_mark_skipped(o->ledger, &lr, now, reason);
                if (r == -EALREADY)
                        r = 0;
                else if (r >= 0) {
                        f.message_id = LOG_MESSAGE_SKIPPED;
                        (void) log_full(LOG_NOTICE, 0, &f, "%s: %s to %s by %s skipped: %s",
                                        q->identity.id, what(q), q->identity.recipient,
                                        q->identity.channel, reason);
                }
        }
        if (r < 0)
                (void) log_error_errno(r, "Failed to skip the messages of transport %s: %s",
                                       transport,
                                       r == -ENOMEM ? "out of memory" : ledger_error(o->ledger));
        free(reason);
        ledger_queued_free(items, n);
}

static bool is_local(const Transport *t) {
        return t->kind == TRANSPORT_MAILDIR || t->kind == TRANSPORT_SENDMAIL;
}

/* Starts up to `slots` due messages of one transport: 1 when it started any, 0, or -errno.
 * A message is in flight in the ledger before it goes out.  Network transfers are marked in
 * one transaction and started together; local deliveries, which take their time (sendmail),
 * one by one, each marked as it begins, so that a stop between them leaves the rest waiting
 * rather than "interrupted". */
static int start_transport(Outbox *o, const Transport *t, const Secret *secret, size_t slots,
                           uint64_t now) {
        LedgerQueued *items = NULL;
        size_t n = 0, begun = 0;
        bool local = is_local(t);
        int r;

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
                        remember(o, &items[i], NET_PERMANENT, 0,
                                 strdup("its time passed before it could be sent"), 0);
                        items[i].attempts = UINT_MAX;
                        continue;
                }
                if (local) {
                        start(o, &items[i], t, secret, now);
                        /* Each local outcome at once: a sendmail takes seconds, a crash must
                         * not cost the outcomes of a whole chunk. */
                        (void) record_outcomes(o);
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

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata);

/* The outbox's timer, wait µs from now, as a relative CLOCK_BOOTTIME timer: a wait is a
 * duration (STYLE rule 5). */
static int arm_timer_in(Outbox *o, uint64_t wait) {
        int r;

        if (!o->timer) {
                r = sd_event_add_time_relative(o->event, &o->timer, CLOCK_BOOTTIME, wait, 0,
                                               on_timer, o);
                if (r >= 0)
                        (void) sd_event_source_set_description(o->timer, "outbox-retry");
        } else {
                r = sd_event_source_set_time_relative(o->timer, wait);
                if (r >= 0)
                        r = sd_event_source_set_enabled(o->timer, SD_EVENT_ONESHOT);
        }
        if (r < 0)
                return log_error_errno(r, "Failed to arm the retry timer: %m");
        return 0;
}

/* The ledger could not be read (r): says so, and looks again in STALLED_RETRY_USEC. */
static int read_failed(Outbox *o, int r) {
        (void) log_error_errno(r, "Failed to read the outbox: %s; trying again in %d s",
                               ledger_error(o->ledger), (int) (STALLED_RETRY_USEC / USEC_PER_SEC));
        return arm_timer_in(o, STALLED_RETRY_USEC);
}

/* The next retry. */
static int arm_timer(Outbox *o, uint64_t now) {
        usec_t next, wait;
        int r;

        r = ledger_queued_next(o->ledger, &next);
        if (r < 0)
                return read_failed(o, r);
        if (r == 0) {
                if (o->timer)
                        (void) sd_event_source_set_enabled(o->timer, SD_EVENT_OFF);
                return 0;
        }
        if (next > now)
                wait = next - now;
        else if (o->in_flight > 0)
                return 0; /* due, and waiting for a slot: a transfer that ends starts it */
        else
                wait = STALLED_RETRY_USEC;
        return arm_timer_in(o, wait);
}

int outbox_run(Outbox *o, uint64_t now) {
        char **names = NULL;
        size_t n = 0;
        int r;

        if (o->stopping)
                return 0;
        /* While the ledger refuses what it was told, tell it again soon rather than at the next
         * pass or transfer, and start nothing new meanwhile. */
        if (record_outcomes(o) < 0)
                return arm_timer_in(o, STALLED_RETRY_USEC);
        /* What was in flight when the last process ended waits again first; and mail follows a
         * mail_via a reload changed.  Until the ledger lets both happen, nothing starts. */
        if ((!o->recovered && outbox_recover(o) < 0) || (o->retarget && retarget(o) < 0))
                return arm_timer_in(o, STALLED_RETRY_USEC);
        r = ledger_queued_transports(o->ledger, now, &names, &n);
        if (r < 0)
                return read_failed(o, r);
        for (size_t i = 0; i < n; i++) {
                const Secret *secret = NULL;
                const Transport *t = find_transport(o, names[i], &secret);
                Busy *b;

                /* Nothing new once the daemon is to stop. */
                if (o->progress && !o->progress(o->userdata))
                        break;
                if (!t) {
                        skip_orphans(o, names[i], now);
                        continue;
                }
                if (is_local(t)) {
                        /* Local: all that is due, a chunk per transaction. */
                        while (start_transport(o, t, secret, LOCAL_CHUNK, now) > 0 &&
                               (!o->progress || o->progress(o->userdata)))
                                if (record_outcomes(o) < 0)
                                        break;
                        continue;
                }
                b = busy_of(o, t->id);
                if (b && b->n < t->max_connections)
                        (void) start_transport(o, t, secret, t->max_connections - b->n, now);
        }
        ledger_strv_free(names, n);
        /* Local outcomes are recorded now, not a turn later: a pass ends with them settled. */
        (void) record_outcomes(o);
        return arm_timer(o, now);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) s;
        (void) usec;
        (void) outbox_run(userdata, clock_now_usec(CLOCK_REALTIME));
        return 0;
}

static void maybe_stopped(Outbox *o) {
        void (*done)(void *) = o->stopped;

        if (!o->stopping || o->in_flight > 0 || !done)
                return;
        (void) record_outcomes(o);
        o->stopped = NULL;
        done(o->stopped_userdata);
}

static int on_soon(sd_event_source *s, void *userdata) {
        Outbox *o = userdata;

        (void) s;
        if (o->stopping) {
                (void) record_outcomes(o);
                maybe_stopped(o);
                return 0;
        }
        (void) outbox_run(o, clock_now_usec(CLOCK_REALTIME));
        return 0;
}

/* --- start and stop -----------------------------------------------------------------------------
 */

int outbox_recover(Outbox *o) {
        LedgerQueued *items = NULL;
        size_t n = 0;
        int r;

        r = ledger_queued_recover(o->ledger, &items, &n);
        if (r < 0)
                return log_error_errno(r,
                                       "Failed to take back the messages in flight when noticed "
                                       "last stopped: %s; trying again",
                                       ledger_error(o->ledger));
        o->recovered = true;
        for (size_t i = 0; i < n; i++) {
                LogFields f = log_fields_of(&items[i].identity);
                (void) log_full(LOG_WARNING, 0, &f,
                                "%s: was being sent by %s when noticed last stopped, and may have "
                                "gone out; sending it again, so it may arrive twice",
                                items[i].identity.id, items[i].identity.channel);
        }
        ledger_queued_free(items, n);
        return 0;
}

static int on_stop_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Outbox *o = userdata;
        void (*done)(void *) = o->stopped;

        (void) s;
        (void) usec;
        log_warning("%zu message(s) still in flight after the stop timeout; they stay in the "
                    "outbox and are sent again after the next start",
                    o->in_flight);
        (void) record_outcomes(o);
        o->stopped = NULL;
        if (done)
                done(o->stopped_userdata);
        return 0;
}

int outbox_stop(Outbox *o, uint64_t timeout_usec, void (*done)(void *), void *userdata) {
        int r;

        if (o->stopping)
                return -EALREADY;
        o->stopping = true;
        o->stopped = done;
        o->stopped_userdata = userdata;
        if (o->timer)
                (void) sd_event_source_set_enabled(o->timer, SD_EVENT_OFF);
        if (o->in_flight > 0) {
                log_info("Waiting up to %" PRIu64 " ms for %zu message(s) in flight",
                         timeout_usec / USEC_PER_MSEC, o->in_flight);
                r = sd_event_add_time_relative(o->event, &o->stop_timer, CLOCK_MONOTONIC,
                                               timeout_usec, 0, on_stop_timeout, o);
                if (r < 0)
                        return r;
                (void) sd_event_source_set_description(o->stop_timer, "outbox-stop");
                return 0;
        }
        (void) sd_event_source_set_enabled(o->soon, SD_EVENT_ONESHOT);
        return 0;
}

int outbox_flush(Outbox *o) {
        int r = record_outcomes(o);

        for (size_t i = 0; r < 0 && i < o->n_outcomes; i++)
                log_error("%s: its outcome could not be recorded: it stays in the outbox and may "
                          "be sent again at the next start",
                          o->outcomes[i].item.identity.id);
        return r;
}
