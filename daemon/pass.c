/* Pass: what is due, queued or skipped, and what comes next (see pass.h).  One
 * reminder on one channel is enqueue.c's business; this file decides which, by the plan, the
 * decisions and the catch-up rules.  A pass, the search for the next instant and the preview
 * all go through collect_and_decide(): the plan of a window, each reminder's state in the
 * ledger, and catch_up_decide() over them, so that what --dry-run shows and STATUS names is
 * what a pass does.  Each reads the ledger once per reminder and channel in the window, the
 * look-back window included: a few thousand indexed look-ups for a large config. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "noticed/catchup.h"
#include "noticed/enqueue.h"
#include "noticed/pass.h"
#include "noticed/identity.h"
#include "noticed/log.h"
#include "noticed/macro.h"
#include "noticed/plan.h"
#include "noticed/render.h"
#include "noticed/tz.h"

/* The next reminder is looked for a window at a time, up to PASS_SEARCH_DAYS ahead. */
#define SEARCH_WINDOW_DAYS 31

typedef struct DecidedKey {
        uint32_t commitment, cycle, participant;
} DecidedKey;

struct Pass {
        Ledger *ledger; /* borrowed */
        Enqueue *enqueue;
        DecidedKey *decided; /* sorted; of the model of the last pass_load_decisions() */
        size_t n_decided;
        PassProgressFn progress;
        void *progress_userdata;
};

int pass_new(Ledger *ledger, Pass **ret) {
        Pass *d = calloc(1, sizeof(*d));

        if (!d || enqueue_new(ledger, &d->enqueue) < 0) {
                free(d);
                return -ENOMEM;
        }
        d->ledger = ledger;
        *ret = d;
        return 0;
}

Pass *pass_free(Pass *d) {
        if (!d)
                return NULL;
        enqueue_free(d->enqueue);
        free(d->decided);
        free(d);
        return NULL;
}

void pass_set_progress(Pass *d, PassProgressFn fn, void *userdata) {
        d->progress = fn;
        d->progress_userdata = userdata;
}

const EnqueueCounts *pass_counts(const Pass *d) {
        return enqueue_counts(d->enqueue);
}

static int compare_decided(const void *a, const void *b) {
        const DecidedKey *x = a, *y = b;

        if (x->commitment != y->commitment)
                return x->commitment < y->commitment ? -1 : 1;
        if (x->cycle != y->cycle)
                return x->cycle < y->cycle ? -1 : 1;
        return x->participant < y->participant ? -1 : x->participant > y->participant;
}

/* The decisions in the ledger, as indices into the current model; decisions about ids the
 * config no longer has are left out. */
int pass_load_decisions(Pass *p, const Model *model) {
        LedgerDecision *d = NULL;
        size_t n = 0, k = 0;
        int r;

        /* Indices into the model of the last call mean nothing for this one: start empty. */
        free(p->decided);
        p->decided = NULL;
        p->n_decided = 0;
        r = ledger_decisions(p->ledger, &d, &n);
        if (r < 0)
                return r;
        p->decided = n > 0 ? calloc(n, sizeof(*p->decided)) : NULL;
        if (n > 0 && !p->decided) {
                ledger_decisions_free(d, n);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                size_t c, participant;
                if (model_find_commitment(model, d[i].commitment, &c) < 0 ||
                    model_find_recipient(model, d[i].participant, &participant) < 0)
                        continue;
                p->decided[k++] = (DecidedKey){(uint32_t) c, d[i].cycle, (uint32_t) participant};
        }
        p->n_decided = k;
        if (k > 1)
                qsort(p->decided, k, sizeof(*p->decided), compare_decided);
        ledger_decisions_free(d, n);
        return 0;
}

static bool pass_has_decided(void *userdata, size_t commitment, uint32_t cycle,
                             size_t participant) {
        const Pass *pass = userdata;
        DecidedKey key = {(uint32_t) commitment, cycle, (uint32_t) participant};

        return pass->n_decided > 0 &&
               bsearch(&key, pass->decided, pass->n_decided, sizeof(key), compare_decided) != NULL;
}

/* The reminders of a window the ledger has not settled, for catch-up, and beside each its
 * identity (taken; a settled sibling has none: nothing is done with it); and, when asked for,
 * those waiting in the outbox. */
typedef struct Due {
        DueReminder *due;
        ReminderIdentity *ids;
        size_t n, allocated;
} Due;

typedef struct Waiting {
        Reminder reminder;
        uint32_t channel;
        ReminderIdentity id;
        unsigned attempts;
        usec_t next_usec;
} Waiting;

typedef struct Collected {
        Due due;
        Waiting *waiting; /* only when collected with want_waiting */
        size_t n_waiting, allocated_waiting;
} Collected;

static void due_done(Due *d) {
        for (size_t i = 0; i < d->n; i++)
                identity_done(&d->ids[i]);
        free(d->ids);
        free(d->due);
}

static void collected_done(Collected *c) {
        due_done(&c->due);
        for (size_t i = 0; i < c->n_waiting; i++)
                identity_done(&c->waiting[i].id);
        free(c->waiting);
        *c = (Collected){0};
}

static int push_due(Due *d, DueReminder item, ReminderIdentity *x) {
        if (d->n == d->allocated) {
                size_t more = d->allocated ? 2 * d->allocated : 64;
                DueReminder *bigger = reallocarray(d->due, more, sizeof(*bigger));
                ReminderIdentity *ids;

                if (!bigger)
                        return -ENOMEM;
                d->due = bigger;
                ids = reallocarray(d->ids, more, sizeof(*ids));
                if (!ids)
                        return -ENOMEM;
                d->ids = ids;
                d->allocated = more;
        }
        d->due[d->n] = item;
        d->ids[d->n++] = x ? *x : (ReminderIdentity){0};
        if (x)
                *x = (ReminderIdentity){0};
        return 0;
}

static int push_waiting(Collected *c, Pass *p, const Reminder *r, uint32_t channel,
                        ReminderIdentity *x) {
        Waiting w = {.reminder = *r, .channel = channel};
        int k;

        k = ledger_queued_get(p->ledger, x, &w.attempts, &w.next_usec);
        if (k <= 0)
                return k; /* settled since we looked */
        if (c->n_waiting == c->allocated_waiting) {
                size_t more = c->allocated_waiting ? 2 * c->allocated_waiting : 16;
                Waiting *bigger = reallocarray(c->waiting, more, sizeof(*bigger));

                if (!bigger)
                        return -ENOMEM;
                c->waiting = bigger;
                c->allocated_waiting = more;
        }
        w.id = *x;
        *x = (ReminderIdentity){0};
        c->waiting[c->n_waiting++] = w;
        return 0;
}

/* One reminder on one channel: unsettled ones go to catch-up with their group's settled
 * sibling, waiting ones (when asked for) aside, settled ones nowhere. */
static int collect_one(Pass *p, const Model *model, const Reminder *r, uint32_t channel,
                       bool want_waiting, Collected *c) {
        ReminderIdentity x = {0};
        DueReminder sibling;
        LedgerState state = LEDGER_PENDING;
        int k;

        k = identity_from_reminder(model, r, channel, &x);
        if (k >= 0)
                k = ledger_get_state(p->ledger, &x, &state);
        if (k > 0 && state == LEDGER_QUEUED)
                k = want_waiting ? push_waiting(c, p, r, channel, &x) : 0;
        else if (k > 0 && state != LEDGER_PENDING)
                k = 0; /* settled */
        /* Unknown, or pending from an older noticed's interrupted attempt: to decide.  What was
         * sent counts, even for an offset since removed. */
        else if (k >= 0 && (k = enqueue_settled_sibling(p->enqueue, model, r, &x, &sibling)) >= 0) {
                bool settled = k > 0;

                k = push_due(&c->due, (DueReminder){.reminder = *r, .channel = channel}, &x);
                sibling.channel = channel;
                if (k >= 0 && settled)
                        k = push_due(&c->due, sibling, NULL);
        }
        identity_done(&x);
        return k;
}

/* The reminders planned for from..to that the ledger has not settled, with their siblings. */
static int collect(Pass *p, const Model *model, Date from, Date to, bool want_waiting,
                   Collected *c) {
        _cleanup_free_ Reminder *rs = NULL;
        size_t n_rs = 0;
        int r;

        r = plan_reminders(model, from, to, pass_has_decided, p, &rs, &n_rs);
        if (r < 0)
                return log_error_errno(r, "Failed to plan reminders: %m");
        for (size_t i = 0; i < n_rs; i++) {
                const Recipient *rc = &model->recipients[rs[i].recipient];

                for (uint32_t ch = 0; ch < enqueue_channel_count(rc); ch++) {
                        if (!enqueue_channel_exists(model, rc, ch))
                                continue;
                        r = collect_one(p, model, &rs[i], ch, want_waiting, c);
                        if (r < 0)
                                return log_error_errno(r, "Failed to read the ledger: %s",
                                                       r == -ENOMEM ? "out of memory"
                                                                    : ledger_error(p->ledger));
                }
        }
        return 0;
}

/* Collects and decides: *ret_decisions[i] is the fate of c->due.due[i] at now. */
static int collect_and_decide(Pass *p, const Model *model, usec_t now, Date from, Date to,
                              bool want_waiting, Collected *c, CatchUpDecision **ret_decisions) {
        CatchUpDecision *d;
        int r;

        *ret_decisions = NULL;
        r = collect(p, model, from, to, want_waiting, c);
        if (r < 0 || c->due.n == 0)
                return r;
        d = calloc(c->due.n, sizeof(*d));
        if (!d || catch_up_decide(model, c->due.due, c->due.n, now, d) < 0) {
                free(d);
                return log_error_errno(-ENOMEM, "Out of memory");
        }
        *ret_decisions = d;
        return 0;
}

static bool is_skip(CatchUpAction a) {
        return a == CATCH_UP_SKIP_SUPERSEDED || a == CATCH_UP_SKIP_PASSED ||
               a == CATCH_UP_SKIP_SAME_DAY;
}

/* Ends a pass's batch: rolled back when r failed (and r returned), else committed; a failed
 * commit is logged as the failure to do what. */
static int end_batch(Pass *p, int r, const char *what) {
        if (r < 0) {
                (void) ledger_batch_end(p->ledger, false);
                return r;
        }
        r = ledger_batch_end(p->ledger, true);
        if (r < 0)
                return log_error_errno(r,
                                       "Failed to %s: %s; they are decided again in the next pass",
                                       what, ledger_error(p->ledger));
        return 0;
}

/* Records every reminder catch-up skips now as one ledger transaction: a first start after a
 * long time, or with many commitments, skips thousands, and one fsync each took seconds. */
static int skip_all(Pass *p, const Due *d, const CatchUpDecision *decisions, usec_t now) {
        size_t n = d->n;
        bool any = false;
        int r;

        for (size_t i = 0; i < n && !any; i++)
                any = is_skip(decisions[i].action) && decisions[i].at_usec <= now;
        if (!any)
                return 0;
        r = ledger_batch_begin(p->ledger);
        if (r < 0)
                return log_error_errno(r, "Failed to begin recording skipped reminders: %s",
                                       ledger_error(p->ledger));
        for (size_t i = 0; i < n && r >= 0; i++) {
                if (!is_skip(decisions[i].action) || decisions[i].at_usec > now)
                        continue;
                if (p->progress && !p->progress(p->progress_userdata))
                        break; /* the skips so far are committed: they are decided */
                r = enqueue_skip(p->enqueue, &d->due[i].reminder, &d->ids[i], decisions[i].action,
                                 now);
        }
        return end_batch(p, r, "record the skipped reminders");
}

/* A decision stops what was queued before it, too: a message still waiting for a relay that
 * is down would otherwise be sent, or fail and be escalated, after the participant decided. */
static int skip_decided(Pass *p, const Model *model, uint64_t now) {
        int r, skipped = 0;

        if (p->n_decided == 0)
                return 0;
        r = ledger_batch_begin(p->ledger);
        for (size_t i = 0; r >= 0 && i < p->n_decided; i++) {
                const DecidedKey *k = &p->decided[i];
                const Commitment *c = &model->commitments[k->commitment];
                bool escalation_recipient = false;

                /* One who decided still hears, as escalate_to, about the others who did not. */
                for (size_t e = 0; e < c->n_escalate_to; e++)
                        escalation_recipient |= c->escalate_to[e] == k->participant;
                r = ledger_queued_skip_decided(p->ledger, c->id, k->cycle,
                                               model->recipients[k->participant].id,
                                               !escalation_recipient, now);
                if (r > 0)
                        skipped += r;
        }
        if (r >= 0)
                r = ledger_batch_end(p->ledger, true);
        else
                (void) ledger_batch_end(p->ledger, false);
        if (r < 0)
                return log_error_errno(r,
                                       "Failed to skip the waiting messages of decided "
                                       "participants: %s",
                                       ledger_error(p->ledger));
        if (skipped > 0)
                log_info("%d waiting message(s) skipped: their participants have decided", skipped);
        return skipped;
}

/* Queues every reminder catch-up sends now, as one ledger transaction (the outbox sends them).
 * A ledger that cannot record stops the pass, so that the daemon tries again soon. */
static int queue_all(Pass *p, const Model *model, const Due *d, const CatchUpDecision *decisions,
                     usec_t now) {
        size_t n = d->n;
        int r;

        r = ledger_batch_begin(p->ledger);
        if (r < 0)
                return log_error_errno(r, "Failed to begin queueing reminders: %s",
                                       ledger_error(p->ledger));
        for (size_t i = 0; i < n && r >= 0; i++) {
                if (decisions[i].action != CATCH_UP_SEND || decisions[i].at_usec > now)
                        continue;
                if (p->progress && !p->progress(p->progress_userdata)) {
                        log_info("Stopping in the middle of a pass: the rest waits for the "
                                 "next start");
                        break;
                }
                r = enqueue_reminder(p->enqueue, model, &d->due[i].reminder, d->due[i].channel,
                                     &d->ids[i], now);
        }
        return end_batch(p, r, "queue the reminders due");
}

/* --- a pass ------------------------------------------------------------------------------- */

/* Delivers, or records as skipped, every reminder the catch-up rules say is due at now and
 * that the ledger has not settled.  Reminders planned later today are looked at too: they are
 * of the groups a catch-up at send_time joins. */
int pass_queue_due(Pass *p, const Model *model, uint64_t now, Date today) {
        Collected c = {0};
        _cleanup_free_ CatchUpDecision *decisions = NULL;
        int r;

        r = skip_decided(p, model, now);
        if (r < 0)
                return r;
        r = collect_and_decide(p, model, now, today - catch_up_lookback_days(model, today), today,
                               false, &c, &decisions);
        if (r >= 0 && decisions)
                r = skip_all(p, &c.due, decisions, now);
        if (r >= 0 && decisions)
                r = queue_all(p, model, &c.due, decisions, now);
        collected_done(&c);
        return r;
}

static bool same_message(const Reminder *a, const Reminder *b) {
        return a->milestone.commitment == b->milestone.commitment &&
               a->milestone.kind == b->milestone.kind && a->milestone.date == b->milestone.date &&
               a->overdue == b->overdue;
}

/* How many recipients besides first's get a message about its milestone at its instant. */
static size_t count_others(const Due *d, const CatchUpDecision *decisions, size_t first) {
        const Reminder *r = &d->due[first].reminder;
        size_t others = 0;

        for (size_t i = 0; i < d->n; i++) {
                const Reminder *x = &d->due[i].reminder;
                bool counted = x->recipient == r->recipient;

                if (decisions[i].action != CATCH_UP_SEND ||
                    decisions[i].at_usec != decisions[first].at_usec || !same_message(x, r))
                        continue;
                for (size_t j = 0; j < i && !counted; j++)
                        counted = decisions[j].action == CATCH_UP_SEND &&
                                  decisions[j].at_usec == decisions[first].at_usec &&
                                  same_message(&d->due[j].reminder, r) &&
                                  d->due[j].reminder.recipient == x->recipient;
                others += !counted;
        }
        return others;
}

/* "decision burgernet-twente 2020-05-19 (enschede +13) at 2020-04-20 09:00 CEST" */
static char *describe_next(const Model *model, const Reminder *r, usec_t at_usec, size_t others) {
        char date[DATE_STRING_MAX], at[DATE_STRING_MAX], zone[TZ_ABBREVIATION_MAX];
        int64_t unix_time = (int64_t) (at_usec / USEC_PER_SEC);
        Date local;
        int32_t seconds, offset;
        char *s;

        tz_unix_to_local(model->tz, unix_time, &local, &seconds, &offset);
        if (asprintf(&s, "%s%s %s %s (%s%s%.0zu) at %s %02d:%02d %s", r->overdue ? "overdue " : "",
                     milestone_kind_to_string(r->milestone.kind),
                     model->commitments[r->milestone.commitment].id,
                     date_format(r->milestone.date, date), model->recipients[r->recipient].id,
                     others > 0 ? " +" : "", others, date_format(local, at), (int) (seconds / 3600),
                     (int) (seconds / 60 % 60), tz_abbreviation(model->tz, unix_time, zone)) < 0)
                return NULL;
        return s;
}

/* The earliest decision to send after now in c, or -1. */
static ssize_t earliest_after(const Due *d, const CatchUpDecision *decisions, usec_t now) {
        ssize_t best = -1;

        for (size_t i = 0; decisions && i < d->n; i++)
                if (decisions[i].action == CATCH_UP_SEND && decisions[i].at_usec > now &&
                    (best < 0 || decisions[i].at_usec < decisions[best].at_usec))
                        best = (ssize_t) i;
        return best;
}

int pass_find_next(Pass *p, const Model *model, uint64_t now, Date today, uint64_t *ret_usec,
                   char **ret_description) {
        Date from = today - catch_up_lookback_days(model, today);
        int r;

        *ret_description = NULL;
        /* The first window looks back too: a missed reminder may wait for a send_time ahead. */
        for (Date to = today + SEARCH_WINDOW_DAYS - 1; from < today + PASS_SEARCH_DAYS;
             from = to + 1, to += SEARCH_WINDOW_DAYS) {
                Collected c = {0};
                _cleanup_free_ CatchUpDecision *decisions = NULL;
                ssize_t best;

                r = collect_and_decide(p, model, now, from, to, false, &c, &decisions);
                if (r < 0) {
                        collected_done(&c);
                        return r;
                }
                best = earliest_after(&c.due, decisions, now);
                if (best >= 0 && decisions) {
                        *ret_usec = decisions[best].at_usec;
                        *ret_description =
                                describe_next(model, &c.due.due[best].reminder, *ret_usec,
                                              count_others(&c.due, decisions, (size_t) best));
                        collected_done(&c);
                        return *ret_description ? 1 : log_error_errno(-ENOMEM, "Out of memory");
                }
                collected_done(&c);
        }
        return 0;
}

/* --- the preview -------------------------------------------------------------------------- */

/* A preview and its place in the plan's order, which orders those of one instant. */
typedef struct PreviewItem {
        PassPreview preview;
        size_t seq;
} PreviewItem;

static int compare_previews(const void *a, const void *b) {
        const PreviewItem *x = a, *y = b;

        if (x->preview.at_usec != y->preview.at_usec)
                return x->preview.at_usec < y->preview.at_usec ? -1 : 1;
        return (x->seq > y->seq) - (x->seq < y->seq);
}

static PassFate fate_of(const CatchUpDecision *d) {
        return d->action == CATCH_UP_SEND ? PASS_FATE_DUE : PASS_FATE_SKIP;
}

/* Same milestone, recipient and channel, overdue or not: one group (catchup.h). */
static bool same_group(const Reminder *a, uint32_t a_channel, const Reminder *b,
                       uint32_t b_channel) {
        const Milestone *x = &a->milestone, *y = &b->milestone;

        return a_channel == b_channel && a->recipient == b->recipient && a->overdue == b->overdue &&
               x->commitment == y->commitment && x->kind == y->kind && x->cycle == y->cycle &&
               x->date == y->date && x->deadline == y->deadline;
}

/* What becomes of a message waiting in the outbox: skipped when a later reminder of its group
 * is queued before its next attempt (ledger_enqueue() supersedes it), else it waits for that
 * attempt.  The preview must not show both the old message and the new one when only the new
 * one goes out. */
static void preview_waiting(const Collected *c, const CatchUpDecision *decisions, const Waiting *w,
                            usec_t now, PassPreview *ret) {
        usec_t next = w->next_usec > now ? w->next_usec : now;

        *ret = (PassPreview){
                .reminder = &w->reminder,
                .channel = w->channel,
                .identity = &w->id,
                .fate = w->attempts > 0 ? PASS_FATE_RETRYING : PASS_FATE_QUEUED,
                .at_usec = w->next_usec,
                .attempts = w->attempts,
        };
        for (size_t i = 0; decisions && i < c->due.n; i++) {
                const DueReminder *d = &c->due.due[i];

                /* A pass queues before the outbox runs: a reminder due at the waiting
                 * message's next attempt supersedes it first. */
                if (decisions[i].action != CATCH_UP_SEND || d->reminder.at <= w->reminder.at ||
                    decisions[i].at_usec > next ||
                    !same_group(&d->reminder, d->channel, &w->reminder, w->channel))
                        continue;
                ret->fate = PASS_FATE_SKIP;
                ret->at_usec = decisions[i].at_usec > now ? decisions[i].at_usec : now;
                ret->reason = catch_up_action_to_string(CATCH_UP_SKIP_SUPERSEDED);
                return;
        }
}

int pass_preview(Pass *p, const Model *model, usec_t now, Date today, Date until, PassPreviewFn fn,
                 void *userdata) {
        Collected c = {0};
        _cleanup_free_ CatchUpDecision *decisions = NULL;
        _cleanup_free_ PreviewItem *previews = NULL;
        size_t n = 0;
        int r;

        r = collect_and_decide(p, model, now, today - catch_up_lookback_days(model, today), until,
                               true, &c, &decisions);
        if (r < 0)
                goto finish;
        previews = calloc(c.due.n + c.n_waiting + 1, sizeof(*previews));
        if (!previews) {
                r = log_error_errno(-ENOMEM, "Out of memory");
                goto finish;
        }
        for (size_t i = 0; decisions && i < c.due.n; i++) {
                const CatchUpDecision *d = &decisions[i];

                if (d->action == CATCH_UP_SETTLED)
                        continue;
                previews[n].seq = n;
                previews[n++].preview = (PassPreview){
                        .reminder = &c.due.due[i].reminder,
                        .channel = c.due.due[i].channel,
                        .identity = &c.due.ids[i],
                        .fate = fate_of(d),
                        .at_usec = d->at_usec,
                        .catch_up = d->catch_up,
                        .reason = is_skip(d->action) ? catch_up_action_to_string(d->action) : NULL,
                };
        }
        for (size_t i = 0; i < c.n_waiting; i++) {
                previews[n].seq = n;
                preview_waiting(&c, decisions, &c.waiting[i], now, &previews[n++].preview);
        }
        qsort(previews, n, sizeof(*previews), compare_previews);
        for (size_t i = 0; i < n && r >= 0; i++)
                r = fn(userdata, &previews[i].preview);
finish:
        collected_done(&c);
        return r;
}

int pass_report_interrupted(Pass *p) {
        return enqueue_report_interrupted(p->enqueue);
}
