/* Enqueue: one reminder on one channel, from the plan's decision to the ledger's outbox.
 *
 * A reminder to send is rendered here, as mail (mail.h) or as a webhook's JSON body
 * (webhook.h), and put into the ledger's outbox with everything its transport needs, in one
 * transaction with its pending record; the outbox (outbox.h) sends it from there.  Rendering
 * once means every attempt sends the same bytes.  A reminder not to send is recorded skipped. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "noticed/enqueue.h"
#include "noticed/log.h"
#include "noticed/mail.h"
#include "noticed/render.h"
#include "noticed/retry.h"
#include "noticed/text.h"
#include "noticed/webhook.h"

struct Enqueue {
        Ledger *ledger;     /* borrowed */
        const Model *model; /* of the call in progress */
        EnqueueCounts counts;
};

int enqueue_new(Ledger *ledger, Enqueue **ret) {
        Enqueue *eq = calloc(1, sizeof(*eq));

        if (!eq)
                return -ENOMEM;
        eq->ledger = ledger;
        *ret = eq;
        return 0;
}

Enqueue *enqueue_free(Enqueue *eq) {
        free(eq);
        return NULL;
}

const EnqueueCounts *enqueue_counts(const Enqueue *eq) {
        return &eq->counts;
}

/* Channel 0 is mail (when the recipient has addresses and the config a mail_via transport),
 * 1 + i the recipient's webhook i. */
bool enqueue_channel_exists(const Model *model, const Recipient *rc, uint32_t channel) {
        if (channel == 0)
                return rc->n_mail > 0 && model->has_mail_via;
        return channel - 1 < rc->n_webhooks;
}

uint32_t enqueue_channel_count(const Recipient *rc) {
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

static const char *what(const Reminder *r) {
        return r->overdue ? "overdue message" : "reminder";
}

/* "a@x\nb@y": the recipient's addresses as the outbox keeps them.  NULL when out of memory. */
/* The message for reminder r on channel: mail, or a webhook's body.  A reminder sent late
 * (catch-up) counts its days left from the day it is sent, not the day it was planned for. */
static int render(const Model *model, const Reminder *r, uint32_t channel, const char *id,
                  int64_t now, MailMessage *ret_mail, char **ret_json) {
        const Recipient *rc = &model->recipients[r->recipient];
        Reminder late = *r;
        int32_t seconds, offset;
        char *subject = NULL, *body = NULL;
        int k;

        tz_unix_to_local(model->tz, now, &late.date, &seconds, &offset);
        if (channel == 0)
                return mail_render(model, &late, now, ret_mail);
        k = text_render(model, &late, &subject, &body);
        if (k >= 0)
                k = webhook_reminder_body(model, &late, id, now,
                                          model->transports[rc->webhooks[channel - 1]].format,
                                          subject, body, ret_json);
        free(subject);
        free(body);
        return k;
}

int enqueue_reminder(Enqueue *eq, const Model *model, const Reminder *r, uint32_t channel,
                     uint64_t now) {
        const Recipient *rc = &model->recipients[r->recipient];
        const Transport *t = channel == 0 ? &model->transports[model->mail_via]
                                          : &model->transports[rc->webhooks[channel - 1]];
        MailMessage msg = {0};
        char *json = NULL, *recipients = NULL;
        LedgerMessage lm = {.transport = t->id, .escalate = true};
        Identity x;
        int r2;

        eq->model = model;
        if ((r2 = identity_init(&x, eq->model, r, channel)) < 0)
                return log_error_errno(r2, "Out of memory");
        r2 = render(model, r, channel, x.id, (int64_t) (now / 1000000u), &msg, &json);
        if (r2 >= 0 && channel == 0) {
                recipients = recipient_address_lines(rc);
                lm.recipients = recipients;
                lm.payload = msg.data;
                lm.payload_size = msg.size;
                lm.message_id = msg.message_id;
                lm.key = msg.key;
                if (!recipients)
                        r2 = -ENOMEM;
        } else if (r2 >= 0) {
                lm.payload = json;
                lm.payload_size = strlen(json);
        }
        if (r2 < 0) {
                /* A template that cannot be rendered will not render later either. */
                (void) log_full(LOG_ERR, r2, &x.log, "%s: cannot render the %s: %m", x.id, what(r));
                if (r2 != -ENOMEM)
                        r2 = 0; /* the pass goes on; the next one tries again */
                goto finish;
        }
        r2 = retry_deadline_usec(model, x.milestone, !r->overdue, (int64_t) now, &lm.deadline_usec);
        if (r2 >= 0)
                r2 = ledger_enqueue(eq->ledger, &x.ledger, &lm, (int64_t) now);
        if (r2 == -EALREADY || r2 == -EEXIST) /* settled or queued since we looked */
                r2 = 0;
        else if (r2 < 0)
                (void) log_full(LOG_ERR, r2, &x.log, "%s: failed to queue the %s: %s", x.id,
                                what(r), ledger_error(eq->ledger));
        else
                eq->counts.queued++;
finish:
        mail_message_done(&msg);
        free(json);
        free(recipients);
        identity_done(&x);
        return r2;
}

int enqueue_skip(Enqueue *eq, const Model *model, const Reminder *r, uint32_t channel,
                 CatchUpAction why, uint64_t now) {
        Identity x;
        int r2;

        eq->model = model;

        if (identity_init(&x, eq->model, r, channel) < 0)
                return log_error_errno(-ENOMEM, "Out of memory");
        x.log.message_id = LOG_MESSAGE_SKIPPED;
        r2 = ledger_mark_skipped(eq->ledger, &x.ledger, (int64_t) now,
                                 catch_up_action_to_string(why));
        if (r2 == -EALREADY) /* settled (sent or failed) since we looked: nothing to skip */
                log_debug("%s: settled meanwhile, not skipping it", x.id);
        else if (r2 < 0)
                (void) log_full(LOG_ERR, r2, &x.log, "%s: failed to record it as skipped: %s", x.id,
                                ledger_error(eq->ledger));
        else {
                (void) log_full(LOG_NOTICE, 0, &x.log, "%s: %s to %s by %s skipped: %s", x.id,
                                what(r), x.ledger.recipient, x.channel,
                                catch_up_action_to_string(why));
                eq->counts.skipped++;
        }
        identity_done(&x);
        return r2 == -EALREADY ? 0 : r2;
}

/* 1 when the reminder on that channel is still to be delivered (unknown to the ledger, or an
 * attempt began and never settled), 0 when it is settled, or -errno. */
int enqueue_unsettled(Enqueue *eq, const Model *model, const Reminder *r, uint32_t channel) {
        LedgerState state;
        Identity x;
        int r2;

        eq->model = model;

        if ((r2 = identity_init(&x, eq->model, r, channel)) < 0)
                return r2;
        r2 = ledger_get_state(eq->ledger, x.id, x.channel, &state);
        identity_done(&x);
        if (r2 < 0)
                return r2;
        /* Pending without a message in the outbox: an older noticed's interrupted attempt. */
        return r2 == 0 || state == LEDGER_PENDING;
}

/* The latest settled reminder of r's group (same milestone, recipient and channel, overdue or
 * not) as the ledger has it, whatever offsets the config has now: 1 and *ret (r, moved to that
 * instant and its local date), 0 when there is none, or -errno. */
int enqueue_settled_sibling(Enqueue *eq, const Model *model, const Reminder *r, uint32_t channel,
                            Reminder *ret) {
        char *prefix = NULL, *slash;
        int64_t due_usec = 0;
        int32_t seconds, offset;
        Identity x;
        int r2, k = 0;

        eq->model = model;

        if ((r2 = identity_init(&x, eq->model, r, channel)) < 0)
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
                r2 = ledger_latest_settled(eq->ledger, prefix, strrchr(x.id, '/'), x.channel,
                                           r->overdue, &due_usec);
        else
                r2 = -ENOMEM;
        free(prefix);
        identity_done(&x);
        if (r2 <= 0)
                return r2;
        *ret = *r;
        ret->at = due_usec / 1000000;
        tz_unix_to_local(eq->model->tz, ret->at, &ret->date, &seconds, &offset);
        return 1;
}

int enqueue_report_interrupted(Enqueue *eq) {
        LedgerEntry *e = NULL;
        size_t n = 0;
        int r;

        r = ledger_pending(eq->ledger, &e, &n);
        if (r < 0)
                return log_error_errno(r, "Failed to read pending reminders from the ledger: %s",
                                       r == -ENOMEM ? "out of memory" : ledger_error(eq->ledger));
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
