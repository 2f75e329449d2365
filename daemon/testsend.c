/* Test send: a marked message through each of a recipient's channels (see testsend.h). */

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "noticed/identity.h"
#include "noticed/macro.h"
#include "noticed/mail.h"
#include "noticed/message.h"
#include "noticed/secret.h"
#include "noticed/testsend.h"
#include "noticed/transmit.h"
#include "noticed/webhook.h"

typedef struct Pending {
        TestSendResult *result;
        size_t *remaining;
} Pending;

static void on_done(const NetResult *result, void *userdata) {
        Pending *p = userdata;

        p->result->outcome = result->outcome;
        free(p->result->reply);
        p->result->reply = strdup(result->reply);
        (*p->remaining)--;
}

/* Renders the test message for one channel and hands it to transmit(). */
static int start_one(const Model *m, const Recipient *rc, Net *net, const Transport *t, int64_t now,
                     TestSendResult *res, Pending *p, Secret *secret) {
        _cleanup_free_ char *subject = NULL, *body = NULL, *id = NULL, *json = NULL;
        _cleanup_free_ char *recipients = NULL;
        char *error = NULL;
        MailMessage msg = {0};
        TransmitLocal local = {0};
        TransmitRequest req = {.transport = t, .now = now, .timeout_usec = TESTSEND_TIMEOUT_USEC};
        int r;

        r = secret_read_transport(t, secret, &error);
        if (r < 0) {
                res->reply = error;
                return 1;
        }
        if (asprintf(&id, "test/%s/%" PRId64, rc->id, now) < 0) {
                id = NULL;
                r = -ENOMEM;
        } else
                r = message_test_text(m, rc, res->channel, now, &subject, &body);
        if (r >= 0 && transport_kind_carries_mail(t->kind)) {
                r = mail_render_plain(m, rc, id, subject, body, now, &msg);
                recipients = r >= 0 ? recipient_address_lines(rc) : NULL;
                if (r >= 0 && !recipients)
                        r = -ENOMEM;
                req.recipients = recipients;
                req.data = msg.data;
                req.size = msg.size;
                req.key = msg.key;
        } else if (r >= 0) {
                r = webhook_plain_body(t->format, "test", id, subject, body, &json);
                req.data = json;
                req.size = json ? strlen(json) : 0;
        }
        req.secret = secret->data ? secret : NULL;
        req.idempotency_key = id;
        if (r >= 0)
                r = transmit(net, &req, on_done, p, &local);
        if (r == 1) {
                res->outcome = local.outcome;
                res->reply = local.reply;
        } else if (r < 0 && asprintf(&res->reply, "cannot send: %s", strerror(-r)) < 0)
                res->reply = NULL;
        mail_message_done(&msg);
        return r == 0 ? 0 : 1; /* 1: finished here */
}

int testsend_run(const Model *m, const Recipient *rc, int64_t now, TestSendResult **ret,
                 size_t *ret_n) {
        size_t n = 0, remaining = 0;
        _cleanup_free_ Pending *pending = NULL;
        TestSendResult *results;
        Secret *secrets;
        sd_event *event = NULL;
        Net *net = NULL;
        int r;

        assert(m && rc && ret && ret_n);
        results = calloc(1 + rc->n_webhooks, sizeof(*results));
        pending = calloc(1 + rc->n_webhooks, sizeof(*pending));
        secrets = calloc(1 + rc->n_webhooks, sizeof(*secrets));
        if (!results || !pending || !secrets) {
                /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): _cleanup_ frees pending */
                r = -ENOMEM;
                goto finish;
        }
        r = sd_event_new(&event);
        if (r >= 0)
                r = net_new(event, &net);
        if (r < 0)
                goto finish;
        for (uint32_t ch = 0; ch < 1 + rc->n_webhooks; ch++) {
                TestSendResult *res = &results[n];

                if (ch == 0 && (rc->n_mail == 0 || !m->has_mail_via))
                        continue;
                res->transport = ch == 0 ? &m->transports[m->mail_via]
                                         : &m->transports[rc->webhooks[ch - 1]];
                res->outcome = NET_PERMANENT;
                res->channel = identity_channel(m, rc, ch);
                n++;
                if (!res->channel) {
                        r = -ENOMEM;
                        goto finish;
                }
                pending[ch] = (Pending){.result = res, .remaining = &remaining};
                if (start_one(m, rc, net, res->transport, now, res, &pending[ch], &secrets[ch]) ==
                    0)
                        remaining++;
        }
        /* Every transfer ends by net's timeout at the latest; this is a second fence. */
        while (remaining > 0) {
                r = sd_event_run(event, 2 * TESTSEND_TIMEOUT_USEC);
                if (r < 0)
                        goto finish;
                if (r == 0)
                        break;
        }
        for (size_t i = 0; i < n; i++)
                if (!results[i].reply) {
                        results[i].outcome = NET_TEMPORARY;
                        if (!(results[i].reply = strdup("no answer in time")))
                                r = -ENOMEM;
                }
        r = r < 0 ? r : 0;
finish:
        net_free(net);
        sd_event_unref(event);
        secrets_free(secrets, 1 + rc->n_webhooks);
        if (r < 0) {
                testsend_results_free(results, n);
                return r;
        }
        *ret = results;
        *ret_n = n;
        return 0;
}

void testsend_results_free(TestSendResult *results, size_t n) {
        for (size_t i = 0; results && i < n; i++) {
                free(results[i].channel);
                free(results[i].reply);
        }
        free(results);
}
