/* Escalate: who hears that a message failed for good, and by which channels (see escalate.h). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noticed/escalate.h"
#include "noticed/log.h"
#include "noticed/mail.h"
#include "noticed/message.h"
#include "noticed/webhook.h"

/* An escalation is tried for a day (its milestone has passed already). */
#define DAY_USEC (UINT64_C(86400) * 1000000)

/* Queues one message of an escalation (or anything that is not a reminder) on one channel. */
static int queue_plain(Ledger *ledger, const Model *m, const LedgerReminder *lr,
                         const Transport *t, const Recipient *rc, const char *subject,
                         const char *body, uint64_t now) {
        MailMessage msg = {0};
        char *json = NULL, *recipients = NULL;
        LedgerMessage lm = {.transport = t->id, .deadline_usec = (int64_t) (now + DAY_USEC)};
        int r;

        if (transport_kind_carries_mail(t->kind)) {
                r = mail_render_plain(m, rc, lr->id, subject, body, (int64_t) (now / 1000000u),
                                      &msg);
                if (r < 0)
                        return r;
                recipients = recipient_address_lines(rc);
                if (!recipients) {
                        mail_message_done(&msg);
                        return -ENOMEM;
                }
                lm.recipients = recipients;
                lm.payload = msg.data;
                lm.payload_size = msg.size;
                lm.message_id = msg.message_id;
                lm.key = msg.key;
        } else {
                r = webhook_plain_body(t->format, "escalation", lr->id, subject, body, &json);
                if (r < 0)
                        return r;
                lm.payload = json;
                lm.payload_size = strlen(json);
        }
        r = ledger_enqueue(ledger, lr, &lm, (int64_t) now);
        mail_message_done(&msg);
        free(recipients);
        free(json);
        return r == -EALREADY || r == -EEXIST ? 0 : r;
}

/* The kind as a reminder id spells it ("decision", "deadline:ID"): its second part. */
static char *reminder_id_kind(const char *id) {
        const char *start = strchr(id, '/'), *end = start ? strchr(start + 1, '/') : NULL;

        if (!end)
                return strdup(id); /* not a reminder id: the escalation names it whole */
        return strndup(start + 1, (size_t) (end - start - 1));
}

/* Appends id to the list of who was escalated to. */
static int note_escalated(char **to, unsigned *n, const char *id) {
        char *more;

        if (asprintf(&more, "%s%s%s", *to ? *to : "", *to ? ", " : "", id) < 0)
                return -ENOMEM;
        free(*to);
        *to = more;
        (*n)++;
        return 0;
}

int escalate_queue(Ledger *ledger, const Model *m, const LedgerQueued *q, const char *reply,
                   bool transport_failed, uint64_t now, char **ret_to, unsigned *ret_n) {
        Escalation e = {.reminder_id = q->id,
                        .channel = q->channel,
                        .commitment = q->commitment,
                        .kind = q->kind,
                        .cycle = q->cycle,
                        .milestone = q->milestone,
                        .offset = q->offset,
                        .recipient = q->recipient,
                        .reply = reply,
                        .attempts = q->attempts + 1};
        LogFields f = {.commitment = q->commitment,
                       .milestone = q->milestone,
                       .cycle = q->cycle,
                       .recipient = q->recipient,
                       .channel = q->channel,
                       .reminder_id = q->id};
        char *kind = reminder_id_kind(q->id);
        size_t ci;
        int r = 0;

        /* "deadline:ID", not the ledger's "deadline": two deadlines on one day are two. */
        if (!kind)
                return log_full(LOG_ERR, -ENOMEM, &f, "%s: out of memory, not escalated", q->id);
        e.kind = kind;
        if (model_find_commitment(m, q->commitment, &ci) < 0 ||
            m->commitments[ci].n_escalate_to == 0) {
                (void) log_full(LOG_WARNING, 0, &f,
                                "%s: nobody to escalate to (the commitment has no escalate_to)",
                                q->id);
                free(kind);
                return 0;
        }
        for (size_t k = 0; r >= 0 && k < m->commitments[ci].n_escalate_to; k++) {
                const Recipient *rc = &m->recipients[m->commitments[ci].escalate_to[k]];
                char *id = message_escalation_id(&e, rc->id), *subject = NULL, *body = NULL;
                size_t queued = 0;

                r = id ? message_escalation_text(m, &e, rc->language, &subject, &body) : -ENOMEM;
                for (uint32_t ch = 0; r >= 0 && ch < 1 + rc->n_webhooks; ch++) {
                        const Transport *t;
                        char channel[128];

                        if (ch == 0 && (rc->n_mail == 0 || !m->has_mail_via))
                                continue;
                        t = ch == 0 ? &m->transports[m->mail_via]
                                    : &m->transports[rc->webhooks[ch - 1]];
                        if (ch == 0)
                                (void) snprintf(channel, sizeof(channel), "mail");
                        else
                                (void) snprintf(channel, sizeof(channel), "webhook:%s", t->id);
                        if (strcmp(rc->id, q->recipient) == 0 && strcmp(channel, q->channel) == 0)
                                continue;
                        if (transport_failed && strcmp(t->id, q->transport) == 0)
                                continue;
                        LedgerReminder lr = {.id = id,
                                             .channel = channel,
                                             .commitment = q->commitment,
                                             .kind = "escalation",
                                             .cycle = q->cycle,
                                             .milestone = q->milestone,
                                             .offset = q->offset,
                                             .recipient = rc->id,
                                             .due_usec = (int64_t) now};
                        r = queue_plain(ledger, m, &lr, t, rc, subject, body, now);
                        queued += r >= 0;
                }
                if (r >= 0 && queued > 0)
                        r = note_escalated(ret_to, ret_n, rc->id);
                else if (r >= 0)
                        (void) log_full(LOG_ERR, 0, &f,
                                        "%s: cannot escalate to %s: none of its channels works",
                                        q->id, rc->id);
                else if (!ledger_refusal_may_pass(r)) {
                        (void) log_full(LOG_ERR, r, &f, "%s: failed to escalate to %s: %m", q->id,
                                        rc->id);
                        r = 0; /* will not get better: the failure is recorded without it */
                }
                free(id);
                free(subject);
                free(body);
        }
        free(kind);
        if (r < 0)
                return log_full(LOG_ERR, r, &f,
                                "%s: failed to queue its escalation: %s; trying again", q->id,
                                ledger_error(ledger));
        return 0;
}
