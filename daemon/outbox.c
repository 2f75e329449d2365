/* The outbox: sending what the ledger's outbox holds, retrying, giving up, escalating.
 *
 * The ledger is the queue: a message is in flight only after the ledger says so
 * (ledger_queued_begin()), and it leaves the outbox only with its outcome (ledger_mark_sent(),
 * ledger_mark_failed()).  A crash in between leaves it in flight there; outbox_recover() makes
 * it wait again at the next start, so nothing is lost, and something may arrive twice, which
 * the log says.  Nothing here knows plans or catch-up: that was decided before a message got
 * here.
 *
 * This file is the Outbox object and its runs: which transports have messages due, the retry
 * timer, the turn of the loop, stopping.  Starting transfers is outbox-start.c's job, recording
 * their outcomes outbox-record.c's; outbox-internal.h is what the three share. */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <time.h>

#include "noticed/clock.h"
#include "noticed/enqueue.h"
#include "noticed/log.h"
#include "outbox-internal.h"

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
        outbox_free_transfers(o);
        outbox_free_outcomes(o);
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

/* --- configuration -------------------------------------------------------------------------- */

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
        if (outbox_record_outcomes(o) < 0)
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
                size_t slots;

                /* Nothing new once the daemon is to stop. */
                if (o->progress && !o->progress(o->userdata))
                        break;
                if (!t) {
                        outbox_skip_orphans(o, names[i], now);
                        continue;
                }
                if (outbox_transport_is_local(t)) {
                        /* Local: all that is due, a chunk per transaction. */
                        while (outbox_start_transport(o, t, secret, LOCAL_CHUNK, now) > 0 &&
                               (!o->progress || o->progress(o->userdata)))
                                if (outbox_record_outcomes(o) < 0)
                                        break;
                        continue;
                }
                slots = outbox_free_slots(o, t);
                if (slots > 0)
                        (void) outbox_start_transport(o, t, secret, slots, now);
        }
        ledger_strv_free(names, n);
        /* Local outcomes are recorded now, not a turn later: a pass ends with them settled. */
        (void) outbox_record_outcomes(o);
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
        (void) outbox_record_outcomes(o);
        o->stopped = NULL;
        done(o->stopped_userdata);
}

static int on_soon(sd_event_source *s, void *userdata) {
        Outbox *o = userdata;

        (void) s;
        if (o->stopping) {
                (void) outbox_record_outcomes(o);
                maybe_stopped(o);
                return 0;
        }
        (void) outbox_run(o, clock_now_usec(CLOCK_REALTIME));
        return 0;
}

/* --- start and stop ------------------------------------------------------------------------- */

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
        for (size_t i = 0; i < n; i++)
                enqueue_log_interrupted(&items[i].identity, "sent", "sending it again");
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
        (void) outbox_record_outcomes(o);
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
