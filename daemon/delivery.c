/* Delivery: one reminder on one channel, from the ledger's attempt to its recorded outcome.
 *
 * The ledger is asked first and told last: an attempt is recorded before the message leaves, its
 * outcome after.  An outcome the ledger refuses (busy, disk full) is kept and recorded later,
 * never sent again; a Maildir remembers, by the key in its file names, what an attempt that
 * was interrupted by a crash had delivered.  Deliveries are local and synchronous (Maildir,
 * sendmail); a channel whose transport this build cannot drive (SMTP, webhooks) does not exist
 * here: neither sent nor recorded, so that a build that can will catch up. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "noticed/deliver.h"
#include "noticed/delivery.h"
#include "noticed/log.h"
#include "noticed/mail.h"
#include "noticed/render.h"

/* An outcome the ledger could not take (it was busy or the disk full): kept until it can.  Each
 * pass records these first and goes no further while the ledger still refuses, so a delivered
 * reminder is never delivered again because its record failed. */
typedef struct Unrecorded {
        char *id, *channel, *reply, *message_id;
        bool sent; /* else failed */
} Unrecorded;

struct Delivery {
        Ledger *ledger;     /* borrowed */
        const Model *model; /* of the call in progress */
        DeliveryCounts counts;
        Unrecorded *unrecorded;
        size_t n_unrecorded;
};

static uint64_t now_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

int delivery_new(Ledger *ledger, Delivery **ret) {
        Delivery *dv = calloc(1, sizeof(*dv));

        if (!dv)
                return -ENOMEM;
        dv->ledger = ledger;
        *ret = dv;
        return 0;
}

static void unrecorded_done(Unrecorded *u) {
        free(u->id);
        free(u->channel);
        free(u->reply);
        free(u->message_id);
}

Delivery *delivery_free(Delivery *dv) {
        if (!dv)
                return NULL;
        for (size_t i = 0; i < dv->n_unrecorded; i++)
                unrecorded_done(&dv->unrecorded[i]);
        free(dv->unrecorded);
        free(dv);
        return NULL;
}

const DeliveryCounts *delivery_counts(const Delivery *dv) {
        return &dv->counts;
}

/* Channel 0 is mail (when the recipient has addresses and the config a mail_via transport),
 * 1 + i the recipient's webhook i. */
bool delivery_transport_supported(TransportKind kind) {
        return kind == TRANSPORT_MAILDIR || kind == TRANSPORT_SENDMAIL;
}

/* A channel the recipient has and this build can deliver through (see check_transports() in
 * daemon.c for how the others are reported). */
bool delivery_channel_exists(const Model *model, const Recipient *rc, uint32_t channel) {
        if (channel == 0)
                return rc->n_mail > 0 && model->has_mail_via &&
                       delivery_transport_supported(model->transports[model->mail_via].kind);
        return channel - 1 < rc->n_webhooks &&
               delivery_transport_supported(model->transports[rc->webhooks[channel - 1]].kind);
}

uint32_t delivery_channel_count(const Recipient *rc) {
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
static int transmit(const Delivery *dv, const Reminder *r, uint32_t channel, bool interrupted,
                    int64_t now, char **ret_reply, char **ret_message_id) {
        const Model *model = dv->model;
        const Transport *t;
        MailMessage msg = {0};
        int r2;

        *ret_reply = *ret_message_id = NULL;
        t = channel == 0
                    ? &model->transports[model->mail_via]
                    : &model->transports[model->recipients[r->recipient].webhooks[channel - 1]];
        if (channel > 0 ||
            !delivery_transport_supported(t->kind)) { /* delivery_channel_exists() said no */
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
static int remember_unrecorded(Delivery *dv, const Identity *x, bool sent, char **reply,
                               char **message_id) {
        Unrecorded u = {.id = strdup(x->id), .channel = strdup(x->channel), .sent = sent};
        Unrecorded *more;

        more = reallocarray(dv->unrecorded, dv->n_unrecorded + 1, sizeof(*more));
        if (!u.id || !u.channel || !more) {
                unrecorded_done(&u);
                if (more)
                        dv->unrecorded = more;
                return -ENOMEM;
        }
        dv->unrecorded = more;
        u.reply = *reply;
        u.message_id = *message_id;
        *reply = *message_id = NULL;
        dv->unrecorded[dv->n_unrecorded++] = u;
        return 0;
}

/* A busy, full or failing disk clears; a row that is gone or a database that is damaged does
 * not, and waiting for it would stop every later reminder. */
static bool ledger_refusal_may_pass(int r) {
        return r == -EBUSY || r == -ENOSPC || r == -EIO || r == -ENOMEM || r == -EROFS;
}

/* Hands the kept outcomes to the ledger again; stops at the first it still refuses. */
int delivery_record_unrecorded(Delivery *dv) {
        while (dv->n_unrecorded > 0) {
                Unrecorded *u = &dv->unrecorded[dv->n_unrecorded - 1];
                int64_t now = (int64_t) now_usec();
                int r = u->sent ? ledger_mark_sent(dv->ledger, u->id, u->channel, now, u->reply,
                                                   u->message_id)
                                : ledger_mark_failed(dv->ledger, u->id, u->channel, now, u->reply);

                if (r < 0 && ledger_refusal_may_pass(r))
                        return log_error_errno(r, "%s: still cannot record the outcome: %s", u->id,
                                               ledger_error(dv->ledger));
                if (r < 0 && r != -EALREADY)
                        (void) log_error_errno(r,
                                               "%s: the ledger will not take its outcome (%s), "
                                               "giving up: it stays pending there",
                                               u->id, ledger_error(dv->ledger));
                else
                        log_info("%s: recorded as %s, late", u->id, u->sent ? "sent" : "failed");
                unrecorded_done(u);
                dv->n_unrecorded--;
        }
        return 0;
}

int delivery_send(Delivery *dv, const Model *model, const Reminder *r, uint32_t channel) {
        uint64_t now = now_usec();
        char *reply = NULL, *message_id = NULL;
        LedgerState before;
        bool interrupted;
        Identity x;
        int r2, sent;

        dv->model = model;

        if ((r2 = identity_init(&x, dv->model, r, channel)) < 0)
                return log_error_errno(r2, "Out of memory");
        interrupted = ledger_get_state(dv->ledger, x.id, x.channel, &before) > 0 &&
                      before == LEDGER_PENDING;
        r2 = ledger_begin_attempt(dv->ledger, &x.ledger, (int64_t) now);
        if (r2 == -EALREADY) { /* settled since we looked: by another process, or a twin */
                identity_done(&x);
                return 0;
        }
        if (r2 < 0) {
                (void) log_full(LOG_ERR, r2, &x.log,
                                "%s: failed to record the attempt: %s, not sending", x.id,
                                ledger_error(dv->ledger));
                identity_done(&x);
                return r2;
        }
        sent = transmit(dv, r, channel, interrupted, (int64_t) (now / 1000000), &reply,
                        &message_id);
        if (sent >= 0) {
                x.log.message_id = r->overdue ? LOG_MESSAGE_OVERDUE : LOG_MESSAGE_SENT;
                r2 = ledger_mark_sent(dv->ledger, x.id, x.channel, (int64_t) now_usec(), reply,
                                      message_id);
                (void) log_full(LOG_INFO, 0, &x.log, "%s: %s sent to %s by %s (%s)", x.id, what(r),
                                x.ledger.recipient, x.channel, reply ? reply : "");
                dv->counts.sent++;
        } else {
                x.log.message_id = LOG_MESSAGE_FAILED;
                r2 = ledger_mark_failed(dv->ledger, x.id, x.channel, (int64_t) now_usec(), reply);
                (void) log_full(LOG_ERR, sent, &x.log, "%s: %s to %s by %s failed: %s", x.id,
                                what(r), x.ledger.recipient, x.channel,
                                reply ? reply : strerror(-sent));
                dv->counts.failed++;
        }
        if (r2 < 0) {
                (void) log_full(LOG_ERR, r2, &x.log,
                                "%s: failed to record the outcome: %s; will record it later, "
                                "not send it again",
                                x.id, ledger_error(dv->ledger));
                if (remember_unrecorded(dv, &x, sent >= 0, &reply, &message_id) < 0)
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

int delivery_skip(Delivery *dv, const Model *model, const Reminder *r, uint32_t channel,
                  CatchUpAction why, uint64_t now) {
        Identity x;
        int r2;

        dv->model = model;

        if (identity_init(&x, dv->model, r, channel) < 0)
                return log_error_errno(-ENOMEM, "Out of memory");
        x.log.message_id = LOG_MESSAGE_SKIPPED;
        r2 = ledger_mark_skipped(dv->ledger, &x.ledger, (int64_t) now,
                                 catch_up_action_to_string(why));
        if (r2 == -EALREADY) /* settled (sent or failed) since we looked: nothing to skip */
                log_debug("%s: settled meanwhile, not skipping it", x.id);
        else if (r2 < 0)
                (void) log_full(LOG_ERR, r2, &x.log, "%s: failed to record it as skipped: %s", x.id,
                                ledger_error(dv->ledger));
        else {
                (void) log_full(LOG_NOTICE, 0, &x.log, "%s: %s to %s by %s skipped: %s", x.id,
                                what(r), x.ledger.recipient, x.channel,
                                catch_up_action_to_string(why));
                dv->counts.skipped++;
        }
        identity_done(&x);
        return r2 == -EALREADY ? 0 : r2;
}

/* 1 when the reminder on that channel is still to be delivered (unknown to the ledger, or an
 * attempt began and never settled), 0 when it is settled, or -errno. */
int delivery_unsettled(Delivery *dv, const Model *model, const Reminder *r, uint32_t channel) {
        LedgerState state;
        Identity x;
        int r2;

        dv->model = model;

        if ((r2 = identity_init(&x, dv->model, r, channel)) < 0)
                return r2;
        r2 = ledger_get_state(dv->ledger, x.id, x.channel, &state);
        identity_done(&x);
        if (r2 < 0)
                return r2;
        return r2 == 0 || state == LEDGER_PENDING;
}

/* The latest settled reminder of r's group (same milestone, recipient and channel, overdue or
 * not) as the ledger has it, whatever offsets the config has now: 1 and *ret (r, moved to that
 * instant and its local date), 0 when there is none, or -errno. */
int delivery_settled_sibling(Delivery *dv, const Model *model, const Reminder *r, uint32_t channel,
                             Reminder *ret) {
        char *prefix = NULL, *slash;
        int64_t due_usec = 0;
        int32_t seconds, offset;
        Identity x;
        int r2, k = 0;

        dv->model = model;

        if ((r2 = identity_init(&x, dv->model, r, channel)) < 0)
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
                r2 = ledger_latest_settled(dv->ledger, prefix, strrchr(x.id, '/'), x.channel,
                                           r->overdue, &due_usec);
        else
                r2 = -ENOMEM;
        free(prefix);
        identity_done(&x);
        if (r2 <= 0)
                return r2;
        *ret = *r;
        ret->at = due_usec / 1000000;
        tz_unix_to_local(dv->model->tz, ret->at, &ret->date, &seconds, &offset);
        return 1;
}

int delivery_report_interrupted(Delivery *dv) {
        LedgerEntry *e = NULL;
        size_t n = 0;
        int r;

        r = ledger_pending(dv->ledger, &e, &n);
        if (r < 0)
                return log_error_errno(r, "Failed to read pending reminders from the ledger: %s",
                                       r == -ENOMEM ? "out of memory" : ledger_error(dv->ledger));
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

int delivery_flush(Delivery *dv) {
        int r = delivery_record_unrecorded(dv);

        for (size_t i = 0; r < 0 && i < dv->n_unrecorded; i++)
                log_error("%s: delivered by %s, but the ledger could not record it: it stays "
                          "pending there and may be sent again at the next start",
                          dv->unrecorded[i].id, dv->unrecorded[i].channel);
        return r;
}
