/* Dispatch: what is due, delivered or skipped, and what comes next (see dispatch.h).
 *
 * Deliveries here are local and synchronous (Maildir, sendmail).  A channel whose transport this
 * build cannot drive yet (SMTP, webhooks) is left alone: neither sent nor recorded, so that a
 * build that can will catch up; daemon.c reports such transports in the log and STATUS=. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "noticed/catchup.h"
#include "noticed/deliver.h"
#include "noticed/dispatch.h"
#include "noticed/log.h"
#include "noticed/mail.h"
#include "noticed/plan.h"
#include "noticed/render.h"

/* The next reminder is looked for a window at a time, up to DISPATCH_SEARCH_DAYS ahead. */
#define SEARCH_WINDOW_DAYS 31

typedef struct DecidedKey {
        uint32_t commitment, cycle, participant;
} DecidedKey;

/* An outcome the ledger could not take (it was busy or the disk full): kept until it can.  Each
 * pass records these first and goes no further while the ledger still refuses, so a delivered
 * reminder is never delivered again because its record failed. */
typedef struct Unrecorded {
        char *id, *channel, *reply, *message_id;
        bool sent; /* else failed */
} Unrecorded;

struct Dispatcher {
        Unrecorded *unrecorded;
        size_t n_unrecorded;
        Ledger *ledger;      /* borrowed */
        const Model *model;  /* of the call in progress */
        DecidedKey *decided; /* sorted */
        size_t n_decided;
        DispatchCounts counts;
        DispatchProgressFn progress;
        void *progress_userdata;
};

static uint64_t now_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

int dispatcher_new(Ledger *ledger, Dispatcher **ret) {
        Dispatcher *d = calloc(1, sizeof(*d));

        if (!d)
                return -ENOMEM;
        d->ledger = ledger;
        *ret = d;
        return 0;
}

static void unrecorded_done(Unrecorded *u) {
        free(u->id);
        free(u->channel);
        free(u->reply);
        free(u->message_id);
}

Dispatcher *dispatcher_free(Dispatcher *d) {
        if (!d)
                return NULL;
        for (size_t i = 0; i < d->n_unrecorded; i++)
                unrecorded_done(&d->unrecorded[i]);
        free(d->unrecorded);
        free(d->decided);
        free(d);
        return NULL;
}

void dispatcher_set_progress(Dispatcher *d, DispatchProgressFn fn, void *userdata) {
        d->progress = fn;
        d->progress_userdata = userdata;
}

const DispatchCounts *dispatcher_counts(const Dispatcher *d) {
        return &d->counts;
}

static int compare_decided(const void *a, const void *b) {
        const DecidedKey *x = a, *y = b;

        if (x->commitment != y->commitment)
                return x->commitment < y->commitment ? -1 : 1;
        if (x->cycle != y->cycle)
                return x->cycle < y->cycle ? -1 : 1;
        return x->participant < y->participant ? -1 : x->participant > y->participant;
}

static bool commitment_index(const Model *model, const char *id, size_t *ret) {
        for (size_t i = 0; i < model->n_commitments; i++)
                if (strcmp(model->commitments[i].id, id) == 0) {
                        *ret = i;
                        return true;
                }
        return false;
}

static bool recipient_index(const Model *model, const char *id, size_t *ret) {
        for (size_t i = 0; i < model->n_recipients; i++)
                if (strcmp(model->recipients[i].id, id) == 0) {
                        *ret = i;
                        return true;
                }
        return false;
}

/* The decisions in the ledger, as indices into the current model; decisions about ids the
 * config no longer has are left out. */
int dispatcher_load_decisions(Dispatcher *dp, const Model *model) {
        LedgerDecision *d = NULL;
        size_t n = 0, k = 0;
        int r;

        /* Indices into the model of the last call mean nothing for this one: start empty. */
        dp->model = model;
        free(dp->decided);
        dp->decided = NULL;
        dp->n_decided = 0;
        r = ledger_decisions(dp->ledger, &d, &n);
        if (r < 0)
                return r;
        dp->decided = n > 0 ? calloc(n, sizeof(*dp->decided)) : NULL;
        if (n > 0 && !dp->decided) {
                ledger_decisions_free(d, n);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                size_t c, p;
                if (!commitment_index(model, d[i].commitment, &c) ||
                    !recipient_index(model, d[i].participant, &p))
                        continue;
                dp->decided[k++] = (DecidedKey){(uint32_t) c, d[i].cycle, (uint32_t) p};
        }
        dp->n_decided = k;
        if (k > 1)
                qsort(dp->decided, k, sizeof(*dp->decided), compare_decided);
        ledger_decisions_free(d, n);
        return 0;
}

static bool dispatcher_has_decided(void *userdata, size_t commitment, uint32_t cycle,
                                   size_t participant) {
        const Dispatcher *dp = userdata;
        DecidedKey key = {(uint32_t) commitment, cycle, (uint32_t) participant};

        return dp->n_decided > 0 &&
               bsearch(&key, dp->decided, dp->n_decided, sizeof(key), compare_decided) != NULL;
}

/* --- one reminder on one channel ------------------------------------------------------------ */

/* Channel 0 is mail (when the recipient has addresses and the config a mail_via transport),
 * 1 + i the recipient's webhook i. */
bool dispatch_transport_supported(TransportKind kind) {
        return kind == TRANSPORT_MAILDIR || kind == TRANSPORT_SENDMAIL;
}

/* A channel the recipient has and this build can deliver through (see check_transports() in
 * daemon.c for how the others are reported). */
static bool channel_exists(const Model *model, const Recipient *rc, uint32_t channel) {
        if (channel == 0)
                return rc->n_mail > 0 && model->has_mail_via &&
                       dispatch_transport_supported(model->transports[model->mail_via].kind);
        return channel - 1 < rc->n_webhooks &&
               dispatch_transport_supported(model->transports[rc->webhooks[channel - 1]].kind);
}

static uint32_t channel_count(const Recipient *rc) {
        return 1 + (uint32_t) rc->n_webhooks;
}

static char *channel_name(const Model *model, const Recipient *rc, uint32_t channel) {
        char *s;

        if (channel == 0)
                return strdup("mail");
        if (asprintf(&s, "webhook:%s", model->transports[rc->webhooks[channel - 1]].id) < 0)
                return NULL;
        return s;
}

/* The reminder's identity and description for the ledger, and the fields for its log lines. */
typedef struct Identity {
        char *id, *channel;
        char milestone[DATE_STRING_MAX], offset[DURATION_STRING_MAX];
        LedgerReminder ledger;
        LogFields log;
} Identity;

static void identity_done(Identity *x) {
        free(x->id);
        free(x->channel);
}

static int identity_init(Identity *x, const Model *model, const Reminder *r, uint32_t channel) {
        const Commitment *c = &model->commitments[r->milestone.commitment];
        const Recipient *rc = &model->recipients[r->recipient];

        *x = (Identity){.id = render_reminder_id(model, r),
                        .channel = channel_name(model, rc, channel)};
        if (!x->id || !x->channel) {
                identity_done(x);
                return -ENOMEM;
        }
        (void) date_format(r->milestone.date, x->milestone);
        (void) render_identity_offset(r, x->offset);
        x->ledger = (LedgerReminder){.id = x->id,
                                     .channel = x->channel,
                                     .commitment = c->id,
                                     .kind = milestone_kind_to_string(r->milestone.kind),
                                     .cycle = r->milestone.cycle,
                                     .milestone = x->milestone,
                                     .offset = x->offset,
                                     .recipient = rc->id,
                                     .due_usec = r->at * 1000000};
        x->log = (LogFields){.commitment = c->id,
                             .milestone = x->milestone,
                             .cycle = r->milestone.cycle,
                             .recipient = rc->id,
                             .channel = x->channel,
                             .reminder_id = x->id};
        return 0;
}

/* A Maildir can say whether an attempt that was interrupted (a crash between the rename into
 * new/ and the ledger's record) had delivered after all: the file name carries the message's
 * key.  Then it is not written a second time. */
static int transmit_maildir(const char *dir, const MailMessage *msg, bool interrupted,
                            char **ret_reply) {
        char *where = NULL;
        int r;

        if (interrupted && (r = deliver_maildir_find(dir, msg->key, &where)) > 0) {
                r = asprintf(ret_reply, "maildir: %s (delivered by the interrupted attempt)",
                             where);
                free(where);
                return r < 0 ? -ENOMEM : 0;
        }
        return deliver_maildir(dir, msg->data, msg->size, msg->key, ret_reply);
}

/* Hands one reminder to its transport.  Returns 0 and a reply, or -errno and a reply. */
static int transmit(const Dispatcher *dp, const Reminder *r, uint32_t channel, bool interrupted,
                    int64_t now, char **ret_reply, char **ret_message_id) {
        const Model *model = dp->model;
        const Transport *t;
        MailMessage msg = {0};
        int r2;

        *ret_reply = *ret_message_id = NULL;
        t = channel == 0
                    ? &model->transports[model->mail_via]
                    : &model->transports[model->recipients[r->recipient].webhooks[channel - 1]];
        if (channel > 0 || !dispatch_transport_supported(t->kind)) { /* channel_exists() said no */
                if (asprintf(ret_reply, "transport %s (%s): not supported by this build", t->id,
                             t->url) < 0)
                        *ret_reply = NULL;
                return -EOPNOTSUPP;
        }
        /* A reminder sent late (catch-up) counts its days left from today, not from the day it
         * was planned for. */
        Reminder late = *r;
        int32_t seconds, offset;
        tz_unix_to_local(model->tz, now, &late.date, &seconds, &offset);
        r2 = mail_render(model, &late, now, &msg);
        if (r2 < 0) {
                if (asprintf(ret_reply, "cannot render the message: %s", strerror(-r2)) < 0)
                        *ret_reply = NULL;
                return r2;
        }
        if (t->kind == TRANSPORT_MAILDIR)
                r2 = transmit_maildir(t->url + strlen("maildir:"), &msg, interrupted, ret_reply);
        else
                r2 = deliver_sendmail(msg.data, msg.size, ret_reply);
        if (r2 >= 0) {
                *ret_message_id = msg.message_id;
                msg.message_id = NULL;
        }
        mail_message_done(&msg);
        return r2;
}

static const char *what(const Reminder *r) {
        return r->overdue ? "overdue message" : "reminder";
}

/* Keeps an outcome the ledger refused; takes *reply and *message_id.  0 or -ENOMEM. */
static int remember_unrecorded(Dispatcher *dp, const Identity *x, bool sent, char **reply,
                               char **message_id) {
        Unrecorded u = {.id = strdup(x->id), .channel = strdup(x->channel), .sent = sent};
        Unrecorded *more;

        more = reallocarray(dp->unrecorded, dp->n_unrecorded + 1, sizeof(*more));
        if (!u.id || !u.channel || !more) {
                unrecorded_done(&u);
                if (more)
                        dp->unrecorded = more;
                return -ENOMEM;
        }
        dp->unrecorded = more;
        u.reply = *reply;
        u.message_id = *message_id;
        *reply = *message_id = NULL;
        dp->unrecorded[dp->n_unrecorded++] = u;
        return 0;
}

/* A busy, full or failing disk clears; a row that is gone or a database that is damaged does
 * not, and waiting for it would stop every later reminder. */
static bool ledger_refusal_may_pass(int r) {
        return r == -EBUSY || r == -ENOSPC || r == -EIO || r == -ENOMEM || r == -EROFS;
}

/* Hands the kept outcomes to the ledger again; stops at the first it still refuses. */
static int record_unrecorded(Dispatcher *dp) {
        while (dp->n_unrecorded > 0) {
                Unrecorded *u = &dp->unrecorded[dp->n_unrecorded - 1];
                int64_t now = (int64_t) now_usec();
                int r = u->sent ? ledger_mark_sent(dp->ledger, u->id, u->channel, now, u->reply,
                                                   u->message_id)
                                : ledger_mark_failed(dp->ledger, u->id, u->channel, now, u->reply);

                if (r < 0 && ledger_refusal_may_pass(r))
                        return log_error_errno(r, "%s: still cannot record the outcome: %s", u->id,
                                               ledger_error(dp->ledger));
                if (r < 0 && r != -EALREADY)
                        (void) log_error_errno(r,
                                               "%s: the ledger will not take its outcome (%s), "
                                               "giving up: it stays pending there",
                                               u->id, ledger_error(dp->ledger));
                else
                        log_info("%s: recorded as %s, late", u->id, u->sent ? "sent" : "failed");
                unrecorded_done(u);
                dp->n_unrecorded--;
        }
        return 0;
}

static int deliver_one(Dispatcher *dp, const Reminder *r, uint32_t channel, uint64_t now) {
        char *reply = NULL, *message_id = NULL;
        LedgerState before;
        bool interrupted;
        Identity x;
        int r2, sent;

        if ((r2 = identity_init(&x, dp->model, r, channel)) < 0)
                return log_error_errno(r2, "Out of memory");
        interrupted = ledger_get_state(dp->ledger, x.id, x.channel, &before) > 0 &&
                      before == LEDGER_PENDING;
        r2 = ledger_begin_attempt(dp->ledger, &x.ledger, (int64_t) now);
        if (r2 == -EALREADY) { /* settled since we looked: by another process, or a twin */
                identity_done(&x);
                return 0;
        }
        if (r2 < 0) {
                (void) log_full(LOG_ERR, r2, &x.log,
                                "%s: failed to record the attempt: %s, not sending", x.id,
                                ledger_error(dp->ledger));
                identity_done(&x);
                return r2;
        }
        sent = transmit(dp, r, channel, interrupted, (int64_t) (now / 1000000), &reply,
                        &message_id);
        if (sent >= 0) {
                x.log.message_id = r->overdue ? LOG_MESSAGE_OVERDUE : LOG_MESSAGE_SENT;
                r2 = ledger_mark_sent(dp->ledger, x.id, x.channel, (int64_t) now_usec(), reply,
                                      message_id);
                (void) log_full(LOG_INFO, 0, &x.log, "%s: %s sent to %s by %s (%s)", x.id, what(r),
                                x.ledger.recipient, x.channel, reply ? reply : "");
                dp->counts.sent++;
        } else {
                x.log.message_id = LOG_MESSAGE_FAILED;
                r2 = ledger_mark_failed(dp->ledger, x.id, x.channel, (int64_t) now_usec(), reply);
                (void) log_full(LOG_ERR, sent, &x.log, "%s: %s to %s by %s failed: %s", x.id,
                                what(r), x.ledger.recipient, x.channel,
                                reply ? reply : strerror(-sent));
                dp->counts.failed++;
        }
        if (r2 < 0) {
                (void) log_full(LOG_ERR, r2, &x.log,
                                "%s: failed to record the outcome: %s; will record it later, "
                                "not send it again",
                                x.id, ledger_error(dp->ledger));
                if (remember_unrecorded(dp, &x, sent >= 0, &reply, &message_id) < 0)
                        (void) log_full(LOG_ERR, -ENOMEM, &x.log,
                                        "%s: out of memory: the ledger still says pending, so it "
                                        "may be sent again",
                                        x.id);
        }
        free(reply);
        free(message_id);
        identity_done(&x);
        return r2 < 0 ? r2 : 0; /* the pass fails and is tried again soon */
}

static int skip_one(Dispatcher *dp, const Reminder *r, uint32_t channel, CatchUpAction why,
                    uint64_t now) {
        Identity x;
        int r2;

        if (identity_init(&x, dp->model, r, channel) < 0)
                return log_error_errno(-ENOMEM, "Out of memory");
        x.log.message_id = LOG_MESSAGE_SKIPPED;
        r2 = ledger_mark_skipped(dp->ledger, &x.ledger, (int64_t) now,
                                 catch_up_action_to_string(why));
        if (r2 == -EALREADY) /* settled (sent or failed) since we looked: nothing to skip */
                log_debug("%s: settled meanwhile, not skipping it", x.id);
        else if (r2 < 0)
                (void) log_full(LOG_ERR, r2, &x.log, "%s: failed to record it as skipped: %s", x.id,
                                ledger_error(dp->ledger));
        else {
                (void) log_full(LOG_NOTICE, 0, &x.log, "%s: %s to %s by %s skipped: %s", x.id,
                                what(r), x.ledger.recipient, x.channel,
                                catch_up_action_to_string(why));
                dp->counts.skipped++;
        }
        identity_done(&x);
        return r2 == -EALREADY ? 0 : r2;
}

/* 1 when the reminder on that channel is still to be delivered (unknown to the ledger, or an
 * attempt began and never settled), 0 when it is settled, or -errno. */
static int unsettled(Dispatcher *dp, const Reminder *r, uint32_t channel) {
        LedgerState state;
        Identity x;
        int r2;

        if ((r2 = identity_init(&x, dp->model, r, channel)) < 0)
                return r2;
        r2 = ledger_get_state(dp->ledger, x.id, x.channel, &state);
        identity_done(&x);
        if (r2 < 0)
                return r2;
        return r2 == 0 || state == LEDGER_PENDING;
}

/* The latest settled reminder of r's group (same milestone, recipient and channel, overdue or
 * not) as the ledger has it, whatever offsets the config has now: 1 and *ret (r, moved to that
 * instant and its local date), 0 when there is none, or -errno. */
static int settled_sibling(Dispatcher *dp, const Reminder *r, uint32_t channel, Reminder *ret) {
        char *prefix = NULL, *slash;
        int64_t due_usec = 0;
        int32_t seconds, offset;
        Identity x;
        int r2, k = 0;

        if ((r2 = identity_init(&x, dp->model, r, channel)) < 0)
                return r2;
        /* "commitment/kind/cycle/milestone/offset/recipient": all but the offset. */
        slash = x.id;
        while (slash && k < 4) {
                slash = strchr(slash, '/');
                if (slash) {
                        slash++;
                        k++;
                }
        }
        if (slash && (prefix = strndup(x.id, (size_t) (slash - x.id))))
                r2 = ledger_latest_settled(dp->ledger, prefix, strrchr(x.id, '/'), x.channel,
                                           r->overdue, &due_usec);
        else
                r2 = -ENOMEM;
        free(prefix);
        identity_done(&x);
        if (r2 <= 0)
                return r2;
        *ret = *r;
        ret->at = due_usec / 1000000;
        tz_unix_to_local(dp->model->tz, ret->at, &ret->date, &seconds, &offset);
        return 1;
}

static int push_due(DueReminder **due, size_t *n, size_t *allocated, DueReminder d) {
        if (*n == *allocated) {
                size_t more = *allocated ? 2 * *allocated : 64;
                DueReminder *bigger = reallocarray(*due, more, sizeof(**due));
                if (!bigger)
                        return -ENOMEM;
                *due = bigger;
                *allocated = more;
        }
        (*due)[(*n)++] = d;
        return 0;
}

/* --- a pass ------------------------------------------------------------------------------- */

/* Delivers, or records as skipped, every reminder whose instant has passed and that the ledger
 * has not settled, by the catch-up rules. */
int dispatcher_deliver_due(Dispatcher *dp, const Model *model, uint64_t now, Date today) {
        Reminder *rs = NULL;
        DueReminder *due = NULL;
        CatchUpAction *actions = NULL;
        size_t n_rs = 0, n_due = 0, allocated = 0;
        int r;

        dp->model = model;
        r = record_unrecorded(dp);
        if (r < 0)
                return r;
        r = plan_reminders(model, today - catch_up_lookback_days(model, today), today,
                           dispatcher_has_decided, dp, &rs, &n_rs);
        if (r < 0)
                return log_error_errno(r, "Failed to plan reminders: %m");
        for (size_t i = 0; i < n_rs && (uint64_t) rs[i].at * 1000000u <= now; i++) {
                const Recipient *rc = &model->recipients[rs[i].recipient];
                for (uint32_t ch = 0; ch < channel_count(rc); ch++) {
                        Reminder sibling;

                        if (!channel_exists(model, rc, ch))
                                continue;
                        r = unsettled(dp, &rs[i], ch);
                        if (r > 0) {
                                r = push_due(&due, &n_due, &allocated,
                                             (DueReminder){.reminder = rs[i], .channel = ch});
                                /* What was sent counts, even for an offset since removed. */
                                if (r >= 0 && (r = settled_sibling(dp, &rs[i], ch, &sibling)) > 0)
                                        r = push_due(&due, &n_due, &allocated,
                                                     (DueReminder){.reminder = sibling,
                                                                   .channel = ch,
                                                                   .settled = true});
                        }
                        if (r < 0) {
                                (void) log_error_errno(r, "Failed to read the ledger: %s",
                                                       r == -ENOMEM ? "out of memory"
                                                                    : ledger_error(dp->ledger));
                                goto finish;
                        }
                }
        }
        r = 0;
        if (n_due == 0)
                goto finish;
        actions = calloc(n_due, sizeof(*actions));
        if (!actions || catch_up_decide(due, n_due, today, actions) < 0) {
                r = log_error_errno(-ENOMEM, "Out of memory");
                goto finish;
        }
        /* A failed delivery is recorded and counted; a ledger that cannot record stops the
         * pass, so that the daemon tries again soon instead of at the next reminder. */
        for (size_t i = 0; i < n_due && r >= 0; i++) {
                if (actions[i] == CATCH_UP_SETTLED)
                        continue;
                /* Before each one: it may take a while, and the daemon may have to stop. */
                if (dp->progress && !dp->progress(dp->progress_userdata)) {
                        log_info("Stopping in the middle of a pass: the rest waits for the "
                                 "next start");
                        break;
                }
                if (actions[i] == CATCH_UP_SEND)
                        r = deliver_one(dp, &due[i].reminder, due[i].channel, now_usec());
                else
                        r = skip_one(dp, &due[i].reminder, due[i].channel, actions[i], now);
        }
finish:
        free(actions);
        free(due);
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

int dispatcher_find_next(Dispatcher *dp, const Model *model, uint64_t now, Date today,
                         uint64_t *ret_usec, char **ret_description) {
        int r;

        dp->model = model;
        *ret_description = NULL;
        for (Date from = today; from < today + DISPATCH_SEARCH_DAYS; from += SEARCH_WINDOW_DAYS) {
                Reminder *rs = NULL;
                size_t n = 0;

                r = plan_reminders(model, from, from + SEARCH_WINDOW_DAYS - 1,
                                   dispatcher_has_decided, dp, &rs, &n);
                if (r < 0)
                        return log_error_errno(r, "Failed to plan reminders: %m");
                for (size_t i = 0; i < n; i++) {
                        const Recipient *rc = &model->recipients[rs[i].recipient];
                        if ((uint64_t) rs[i].at * 1000000u <= now)
                                continue;
                        for (uint32_t ch = 0; ch < channel_count(rc); ch++) {
                                if (!channel_exists(model, rc, ch))
                                        continue;
                                r = unsettled(dp, &rs[i], ch);
                                if (r < 0) {
                                        free(rs);
                                        return log_error_errno(r, "Failed to read the ledger: %s",
                                                               ledger_error(dp->ledger));
                                }
                                if (r == 0)
                                        continue;
                                *ret_usec = (uint64_t) rs[i].at * 1000000u;
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

int dispatcher_report_interrupted(Dispatcher *dp) {
        LedgerEntry *e = NULL;
        size_t n = 0;
        int r;

        r = ledger_pending(dp->ledger, &e, &n);
        if (r < 0)
                return log_error_errno(r, "Failed to read pending reminders from the ledger: %s",
                                       r == -ENOMEM ? "out of memory" : ledger_error(dp->ledger));
        for (size_t i = 0; i < n; i++) {
                LogFields f = {.commitment = e[i].commitment,
                               .milestone = e[i].milestone,
                               .cycle = e[i].cycle,
                               .recipient = e[i].recipient,
                               .channel = e[i].channel,
                               .reminder_id = e[i].id};
                (void) log_full(LOG_WARNING, 0, &f,
                                "%s: was being delivered by %s when noticed last stopped, and may "
                                "have gone out; catch-up decides on it again, so it may arrive "
                                "twice",
                                e[i].id, e[i].channel);
        }
        ledger_entries_free(e, n);
        return 0;
}

int dispatcher_flush(Dispatcher *dp) {
        int r = record_unrecorded(dp);

        for (size_t i = 0; r < 0 && i < dp->n_unrecorded; i++)
                log_error("%s: delivered by %s, but the ledger could not record it: it stays "
                          "pending there and may be sent again at the next start",
                          dp->unrecorded[i].id, dp->unrecorded[i].channel);
        return r;
}
