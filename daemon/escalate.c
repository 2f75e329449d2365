/* Escalate: who hears that a message failed for good, and by which channels (see escalate.h). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noticed/escalate.h"
#include "noticed/identity.h"
#include "noticed/log.h"
#include "noticed/macro.h"
#include "noticed/mail.h"
#include "noticed/message.h"
#include "noticed/webhook.h"

/* Queues one message of an escalation (or anything that is not a reminder) on one channel. */
static int queue_plain(Ledger *ledger, const Model *m, const LedgerReminder *lr, const Transport *t,
                       const Recipient *rc, const char *subject, const char *body, usec_t now) {
        MailMessage msg = {0};
        _cleanup_free_ char *json = NULL, *recipients = NULL;
        /* An escalation is tried for a day (its milestone has passed already). */
        LedgerMessage lm = {.transport = t->id, .deadline_usec = now + USEC_PER_DAY};
        int r;

        if (transport_kind_carries_mail(t->kind)) {
                r = mail_render_plain(m, rc, lr->identity->id, subject, body,
                                      (int64_t) (now / USEC_PER_SEC), &msg);
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
                r = webhook_plain_body(t->format, "escalation", lr->identity->id, subject, body,
                                       &json);
                if (r < 0)
                        return r;
                lm.payload = json;
                lm.payload_size = strlen(json);
        }
        r = ledger_enqueue(ledger, lr, &lm, now);
        mail_message_done(&msg);
        return r == -EALREADY || r == -EEXIST ? 0 : r;
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

/* Queues the escalation to rc by each of its channels that still works; how many, or -errno. */
static int escalate_to(Ledger *ledger, const Model *m, const LedgerQueued *q, const Recipient *rc,
                       const char *subject, const char *body, bool transport_failed, usec_t now) {
        const ReminderIdentity *failed = &q->identity;
        int queued = 0, r = 0;

        for (uint32_t ch = 0; r >= 0 && ch < 1 + rc->n_webhooks; ch++) {
                const Transport *t;
                ReminderIdentity x;
                _cleanup_free_ char *channel = NULL;

                if (ch == 0 && (rc->n_mail == 0 || !m->has_mail_via))
                        continue;
                t = ch == 0 ? &m->transports[m->mail_via] : &m->transports[rc->webhooks[ch - 1]];
                channel = identity_channel(m, rc, ch);
                if (!channel) {
                        r = -ENOMEM;
                        break;
                }
                if (strcmp(rc->id, failed->recipient) == 0 && strcmp(channel, failed->channel) == 0)
                        continue;
                if (transport_failed && strcmp(t->id, q->transport) == 0)
                        continue;
                r = identity_escalation(failed, rc->id, channel, &x);
                if (r < 0)
                        break;
                r = queue_plain(ledger, m, &(LedgerReminder){.identity = &x, .due_usec = now}, t,
                                rc, subject, body, now);
                queued += r >= 0;
                identity_done(&x);
        }
        return r < 0 ? r : queued;
}

int escalate_queue(Ledger *ledger, const Model *m, const LedgerQueued *q, const char *reply,
                   bool transport_failed, usec_t now, char **ret_to, unsigned *ret_n) {
        const ReminderIdentity *failed = &q->identity;
        Escalation e = {.failed = failed, .reply = reply, .attempts = q->attempts + 1};
        LogFields f = log_fields_of(failed);
        size_t ci;
        int r = 0;

        if (model_find_commitment(m, failed->commitment, &ci) < 0 ||
            m->commitments[ci].n_escalate_to == 0) {
                (void) log_full(LOG_WARNING, 0, &f,
                                "%s: nobody to escalate to (the commitment has no escalate_to)",
                                failed->id);
                return 0;
        }
        for (size_t k = 0; r >= 0 && k < m->commitments[ci].n_escalate_to; k++) {
                const Recipient *rc = &m->recipients[m->commitments[ci].escalate_to[k]];
                _cleanup_free_ char *subject = NULL, *body = NULL;

                r = message_escalation_text(m, &e, rc->language, &subject, &body);
                if (r >= 0)
                        r = escalate_to(ledger, m, q, rc, subject, body, transport_failed, now);
                if (r > 0)
                        r = note_escalated(ret_to, ret_n, rc->id);
                else if (r == 0)
                        (void) log_full(LOG_ERR, 0, &f,
                                        "%s: cannot escalate to %s: none of its channels works",
                                        failed->id, rc->id);
                else if (!ledger_refusal_may_pass(r)) {
                        (void) log_full(LOG_ERR, r, &f, "%s: failed to escalate to %s: %m",
                                        failed->id, rc->id);
                        r = 0; /* will not get better: the failure is recorded without it */
                }
        }
        if (r < 0)
                return log_full(LOG_ERR, r, &f,
                                "%s: failed to queue its escalation: %s; trying again", failed->id,
                                ledger_error(ledger));
        return 0;
}
