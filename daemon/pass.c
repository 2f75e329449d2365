/* Pass: what is due, queued or skipped, and what comes next (see pass.h).  One
 * reminder on one channel is enqueue.c's business; this file decides which, by the plan, the
 * decisions and the catch-up rules. */

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

/* The reminders due, for catch-up, and beside each its identity (taken; a settled sibling has
 * none: nothing is done with it). */
typedef struct Due {
        DueReminder *due;
        ReminderIdentity *ids;
        size_t n, allocated;
} Due;

static void due_done(Due *d) {
        for (size_t i = 0; i < d->n; i++)
                identity_done(&d->ids[i]);
        free(d->ids);
        free(d->due);
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

/* Records every reminder catch-up skips as one ledger transaction: a first start after a long
 * time, or with many commitments, skips thousands, and one fsync each took seconds. */
static int skip_all(Pass *p, const Due *d, const CatchUpAction *actions, usec_t now) {
        size_t n = d->n;
        bool any = false;
        int r;

        for (size_t i = 0; i < n && !any; i++)
                any = actions[i] == CATCH_UP_SKIP_SUPERSEDED || actions[i] == CATCH_UP_SKIP_PASSED;
        if (!any)
                return 0;
        r = ledger_batch_begin(p->ledger);
        if (r < 0)
                return log_error_errno(r, "Failed to begin recording skipped reminders: %s",
                                       ledger_error(p->ledger));
        for (size_t i = 0; i < n && r >= 0; i++) {
                if (actions[i] != CATCH_UP_SKIP_SUPERSEDED && actions[i] != CATCH_UP_SKIP_PASSED)
                        continue;
                if (p->progress && !p->progress(p->progress_userdata))
                        break; /* the skips so far are committed: they are decided */
                r = enqueue_skip(p->enqueue, &d->due[i].reminder, &d->ids[i], actions[i], now);
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

/* Queues every reminder catch-up sends, as one ledger transaction (the outbox sends them).  A
 * ledger that cannot record stops the pass, so that the daemon tries again soon. */
static int queue_all(Pass *p, const Model *model, const Due *d, const CatchUpAction *actions,
                     usec_t now) {
        size_t n = d->n;
        int r;

        r = ledger_batch_begin(p->ledger);
        if (r < 0)
                return log_error_errno(r, "Failed to begin queueing reminders: %s",
                                       ledger_error(p->ledger));
        for (size_t i = 0; i < n && r >= 0; i++) {
                if (actions[i] != CATCH_UP_SEND)
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

/* Delivers, or records as skipped, every reminder whose instant has passed and that the ledger
 * has not settled, by the catch-up rules. */
int pass_queue_due(Pass *p, const Model *model, uint64_t now, Date today) {
        Reminder *rs = NULL;
        Due due = {0};
        CatchUpAction *actions = NULL;
        size_t n_rs = 0;
        int r;

        r = skip_decided(p, model, now);
        if (r < 0)
                return r;
        r = plan_reminders(model, today - catch_up_lookback_days(model, today), today,
                           pass_has_decided, p, &rs, &n_rs);
        if (r < 0)
                return log_error_errno(r, "Failed to plan reminders: %m");
        for (size_t i = 0; i < n_rs && (usec_t) rs[i].at * USEC_PER_SEC <= now; i++) {
                const Recipient *rc = &model->recipients[rs[i].recipient];
                for (uint32_t ch = 0; ch < enqueue_channel_count(rc); ch++) {
                        ReminderIdentity x = {0};
                        Reminder sibling;

                        if (!enqueue_channel_exists(model, rc, ch))
                                continue;
                        r = identity_from_reminder(model, &rs[i], ch, &x);
                        if (r >= 0)
                                r = enqueue_unsettled(p->enqueue, &x);
                        /* What was sent counts, even for an offset since removed. */
                        if (r > 0 && (r = enqueue_settled_sibling(p->enqueue, model, &rs[i], &x,
                                                                  &sibling)) >= 0) {
                                bool settled = r > 0;

                                r = push_due(&due, (DueReminder){.reminder = rs[i], .channel = ch},
                                             &x);
                                if (r >= 0 && settled)
                                        r = push_due(&due,
                                                     (DueReminder){.reminder = sibling,
                                                                   .channel = ch,
                                                                   .settled = true},
                                                     NULL);
                        }
                        identity_done(&x);
                        if (r < 0) {
                                (void) log_error_errno(r, "Failed to read the ledger: %s",
                                                       r == -ENOMEM ? "out of memory"
                                                                    : ledger_error(p->ledger));
                                goto finish;
                        }
                }
        }
        r = 0;
        if (due.n == 0)
                goto finish;
        actions = calloc(due.n, sizeof(*actions));
        if (!actions || catch_up_decide(due.due, due.n, today, actions) < 0) {
                r = log_error_errno(-ENOMEM, "Out of memory");
                goto finish;
        }
        r = skip_all(p, &due, actions, now);
        if (r >= 0)
                r = queue_all(p, model, &due, actions, now);
finish:
        free(actions);
        due_done(&due);
        free(rs);
        return r;
}

/* "decision burgernet-twente 2020-05-19 (enschede +13) at 2020-04-20 09:00" */
static char *describe_next(const Model *model, const Reminder *rs, size_t n, size_t first) {
        const Reminder *r = &rs[first];
        char date[DATE_STRING_MAX], at[DATE_STRING_MAX];
        size_t others = 0;
        Date local;
        int32_t seconds, offset;
        char *s;

        for (size_t i = first + 1; i < n && rs[i].at == r->at; i++)
                others += rs[i].milestone.commitment == r->milestone.commitment &&
                          rs[i].milestone.kind == r->milestone.kind &&
                          rs[i].milestone.date == r->milestone.date && rs[i].overdue == r->overdue;
        tz_unix_to_local(model->tz, r->at, &local, &seconds, &offset);
        if (asprintf(&s, "%s%s %s %s (%s%s%.0zu) at %s %02d:%02d", r->overdue ? "overdue " : "",
                     milestone_kind_to_string(r->milestone.kind),
                     model->commitments[r->milestone.commitment].id,
                     date_format(r->milestone.date, date), model->recipients[r->recipient].id,
                     others > 0 ? " +" : "", others, date_format(local, at), (int) (seconds / 3600),
                     (int) (seconds / 60 % 60)) < 0)
                return NULL;
        return s;
}

int pass_find_next(Pass *p, const Model *model, uint64_t now, Date today, uint64_t *ret_usec,
                   char **ret_description) {
        int r;

        *ret_description = NULL;
        for (Date from = today; from < today + PASS_SEARCH_DAYS; from += SEARCH_WINDOW_DAYS) {
                Reminder *rs = NULL;
                size_t n = 0;

                r = plan_reminders(model, from, from + SEARCH_WINDOW_DAYS - 1, pass_has_decided, p,
                                   &rs, &n);
                if (r < 0)
                        return log_error_errno(r, "Failed to plan reminders: %m");
                for (size_t i = 0; i < n; i++) {
                        const Recipient *rc = &model->recipients[rs[i].recipient];
                        if ((usec_t) rs[i].at * USEC_PER_SEC <= now)
                                continue;
                        for (uint32_t ch = 0; ch < enqueue_channel_count(rc); ch++) {
                                ReminderIdentity x = {0};

                                if (!enqueue_channel_exists(model, rc, ch))
                                        continue;
                                r = identity_from_reminder(model, &rs[i], ch, &x);
                                if (r >= 0)
                                        r = enqueue_unsettled(p->enqueue, &x);
                                identity_done(&x);
                                if (r < 0) {
                                        free(rs);
                                        return log_error_errno(r, "Failed to read the ledger: %s",
                                                               ledger_error(p->ledger));
                                }
                                if (r == 0)
                                        continue;
                                *ret_usec = (usec_t) rs[i].at * USEC_PER_SEC;
                                *ret_description = describe_next(model, rs, n, i);
                                free(rs);
                                return *ret_description ? 1
                                                        : log_error_errno(-ENOMEM, "Out of memory");
                        }
                }
                free(rs);
        }
        return 0;
}

int pass_report_interrupted(Pass *p) {
        return enqueue_report_interrupted(p->enqueue);
}
