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
#include "noticed/identity.h"
#include "noticed/log.h"
#include "noticed/macro.h"
#include "noticed/mail.h"
#include "noticed/render.h"
#include "noticed/retry.h"
#include "noticed/text.h"
#include "noticed/webhook.h"

struct Enqueue {
        Ledger *ledger; /* borrowed */
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

static const char *what(const Reminder *r) {
        return r->overdue ? "overdue message" : "reminder";
}

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
                return mail_render(model, &late, id, now, ret_mail);
        k = text_render(model, &late, &subject, &body);
        if (k >= 0)
                k = webhook_reminder_body(model, &late, id, now,
                                          model->transports[rc->webhooks[channel - 1]].format,
                                          subject, body, ret_json);
        free(subject);
        free(body);
        return k;
}

int enqueue_reminder(Enqueue *eq, const Model *model, const Reminder *reminder, uint32_t channel,
                     const ReminderIdentity *x, usec_t now) {
        const Recipient *rc = &model->recipients[reminder->recipient];
        const Transport *t = channel == 0 ? &model->transports[model->mail_via]
                                          : &model->transports[rc->webhooks[channel - 1]];
        MailMessage msg = {0};
        _cleanup_free_ char *json = NULL, *recipients = NULL;
        LedgerMessage lm = {.transport = t->id, .escalate = true};
        LedgerReminder lr = {.identity = x, .due_usec = (usec_t) reminder->at * USEC_PER_SEC};
        LogFields f = log_fields_of(x);
        int64_t deadline;
        int r;

        r = render(model, reminder, channel, x->id, (int64_t) (now / USEC_PER_SEC), &msg, &json);
        if (r >= 0 && channel == 0) {
                recipients = recipient_address_lines(rc);
                lm.recipients = recipients;
                lm.payload = msg.data;
                lm.payload_size = msg.size;
                lm.message_id = msg.message_id;
                lm.key = msg.key;
                if (!recipients)
                        r = -ENOMEM;
        } else if (r >= 0) {
                lm.payload = json;
                lm.payload_size = strlen(json);
        }
        if (r < 0) {
                /* A template that cannot be rendered will not render later either. */
                (void) log_full(LOG_ERR, r, &f, "%s: cannot render the %s: %m", x->id,
                                what(reminder));
                if (r != -ENOMEM)
                        r = 0; /* the pass goes on; the next one tries again */
                goto finish;
        }
        r = retry_deadline_usec(model, x->milestone, !reminder->overdue, (int64_t) now, &deadline);
        if (r >= 0) {
                lm.deadline_usec = (usec_t) deadline;
                r = ledger_enqueue(eq->ledger, &lr, &lm, now);
        }
        if (r == -EALREADY || r == -EEXIST) /* settled or queued since we looked */
                r = 0;
        else if (r < 0)
                (void) log_full(LOG_ERR, r, &f, "%s: failed to queue the %s: %s", x->id,
                                what(reminder), ledger_error(eq->ledger));
        else
                eq->counts.queued++;
finish:
        mail_message_done(&msg);
        return r;
}

int enqueue_skip(Enqueue *eq, const Reminder *r, const ReminderIdentity *x, CatchUpAction why,
                 usec_t now) {
        LedgerReminder lr = {.identity = x, .due_usec = (usec_t) r->at * USEC_PER_SEC};
        LogFields f = log_fields_of(x);
        int r2;

        f.message_id = LOG_MESSAGE_SKIPPED;
        r2 = ledger_mark_skipped(eq->ledger, &lr, now, catch_up_action_to_string(why));
        if (r2 == -EALREADY) /* settled (sent or failed) since we looked: nothing to skip */
                log_debug("%s: settled meanwhile, not skipping it", x->id);
        else if (r2 < 0)
                (void) log_full(LOG_ERR, r2, &f, "%s: failed to record it as skipped: %s", x->id,
                                ledger_error(eq->ledger));
        else {
                (void) log_full(LOG_NOTICE, 0, &f, "%s: %s to %s by %s skipped: %s", x->id, what(r),
                                x->recipient, x->channel, catch_up_action_to_string(why));
                eq->counts.skipped++;
        }
        return r2 == -EALREADY ? 0 : r2;
}

int enqueue_unsettled(Enqueue *eq, const ReminderIdentity *x) {
        LedgerState state;
        int r;

        r = ledger_get_state(eq->ledger, x, &state);
        if (r < 0)
                return r;
        /* Pending without a message in the outbox: an older noticed's interrupted attempt. */
        return r == 0 || state == LEDGER_PENDING;
}

int enqueue_settled_sibling(Enqueue *eq, const Model *model, const Reminder *r,
                            const ReminderIdentity *x, DueReminder *ret) {
        LedgerGroup g;
        int32_t seconds, offset;
        int k;

        k = ledger_group_settled(eq->ledger, x, &g);
        if (k <= 0)
                return k;
        *ret = (DueReminder){.reminder = *r, .settled = true, .went_out = g.went_out};
        ret->reminder.at = (int64_t) (g.latest_due_usec / USEC_PER_SEC);
        tz_unix_to_local(model->tz, ret->reminder.at, &ret->reminder.date, &seconds, &offset);
        if (g.went_out)
                tz_unix_to_local(model->tz, (int64_t) (g.went_out_usec / USEC_PER_SEC),
                                 &ret->out_date, &seconds, &offset);
        return 1;
}

void enqueue_log_interrupted(const ReminderIdentity *x, const char *was_being,
                             const char *now_what) {
        LogFields f = log_fields_of(x);

        (void) log_full(LOG_WARNING, 0, &f,
                        "%s: was being %s by %s when noticed last stopped, and may have gone out; "
                        "%s, so it may arrive twice",
                        x->id, was_being, x->channel, now_what);
}

int enqueue_report_interrupted(Enqueue *eq) {
        LedgerEntry *e = NULL;
        size_t n = 0;
        int r;

        r = ledger_pending(eq->ledger, &e, &n);
        if (r < 0)
                return log_error_errno(r, "Failed to read pending reminders from the ledger: %s",
                                       r == -ENOMEM ? "out of memory" : ledger_error(eq->ledger));
        for (size_t i = 0; i < n; i++)
                enqueue_log_interrupted(&e[i].identity, "delivered",
                                        "catch-up decides on it again");
        ledger_entries_free(e, n);
        return 0;
}
