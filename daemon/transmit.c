/* Transmit: one message through one transport (see transmit.h). */

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noticed/local.h"
#include "noticed/macro.h"
#include "noticed/transmit.h"
#include "noticed/validate.h"
#include "noticed/webhook.h"

/* "a@x\nb@y" -> a NULL-terminated array pointing into the copy *ret_buf. */
static int split_lines(const char *text, char **ret_buf, const char ***ret_v, size_t *ret_n) {
        _cleanup_free_ char *buf = strdup(text);
        char *save = NULL;
        const char **v;
        size_t n = 1;

        if (!buf)
                return -ENOMEM;
        for (const char *p = buf; *p; p++)
                n += *p == '\n';
        v = calloc(n + 1, sizeof(*v));
        if (!v)
                /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): _cleanup_ frees buf */
                return -ENOMEM;
        n = 0;
        for (char *t = strtok_r(buf, "\n", &save); t; t = strtok_r(NULL, "\n", &save))
                v[n++] = t;
        *ret_buf = TAKE_PTR(buf);
        *ret_v = v;
        *ret_n = n;
        return 0;
}

static int transmit_mail(Net *net, const TransmitRequest *req, NetDoneFn done, void *userdata) {
        const Transport *t = req->transport;
        const char *from = t->envelope_from ? t->envelope_from : t->from_address;
        _cleanup_free_ const char **rcpt = NULL;
        _cleanup_free_ char *rcpt_buf = NULL;
        size_t n = 0;
        int r;

        if (!req->recipients || !t->from)
                return -EINVAL;
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): _cleanup_ frees rcpt, rcpt_buf */
        r = split_lines(req->recipients, &rcpt_buf, &rcpt, &n);
        if (r < 0)
                return r;
        if (n == 0)
                /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): _cleanup_ frees rcpt, rcpt_buf */
                return -EINVAL;
        return net_send_mail(net,
                             &(NetMail){.url = t->url,
                                        .plaintext = t->tls == TLS_NONE,
                                        .ca_file = t->ca_file,
                                        .username = t->username,
                                        .password = req->secret ? req->secret->data : NULL,
                                        .envelope_from = from,
                                        .recipients = rcpt,
                                        .n_recipients = n,
                                        .data = req->data,
                                        .size = req->size,
                                        .timeout_usec = req->timeout_usec},
                             done, userdata);
}

/* Content-Type, Idempotency-Key and, with a key, the timestamp and signature of this attempt.
 * The Idempotency-Key is a reminder identity: it has passed the header validator (ids are
 * checked at config load), and is checked again here, since it goes into a header. */
static int transmit_webhook(Net *net, const TransmitRequest *req, NetDoneFn done, void *userdata) {
        char idempotency[512], timestamp[64], signature[WEBHOOK_SIGNATURE_MAX + 32];
        char sig[WEBHOOK_SIGNATURE_MAX];
        const char *headers[4] = {"Content-Type: application/json", idempotency};
        size_t n = 2;
        int r;

        if (!req->idempotency_key || !validate_header_text(req->idempotency_key) ||
            (size_t) snprintf(idempotency, sizeof(idempotency), "Idempotency-Key: %s",
                              req->idempotency_key) >= sizeof(idempotency))
                return -EINVAL;
        if (req->secret) {
                r = webhook_sign(req->secret->data, req->secret->size, req->now, req->data,
                                 req->size, sig);
                if (r < 0)
                        return r;
                (void) snprintf(timestamp, sizeof(timestamp), "X-Noticed-Timestamp: %" PRId64,
                                req->now);
                (void) snprintf(signature, sizeof(signature), "X-Noticed-Signature: %s", sig);
                headers[n++] = timestamp;
                headers[n++] = signature;
        }
        return net_post(net,
                        &(NetPost){.url = req->transport->url,
                                   .ca_file = req->transport->ca_file,
                                   .headers = headers,
                                   .n_headers = n,
                                   .body = req->data,
                                   .size = req->size,
                                   .timeout_usec = req->timeout_usec},
                        done, userdata);
}

/* A Maildir can say whether an attempt that was interrupted (a crash between the rename into
 * new/ and the ledger's record) had delivered after all: the file name carries the message's
 * key.  Then it is not written a second time; nor is it while that cannot be told (an
 * unreadable new/ or cur/, a reader that kept moving messages): the attempt fails for now. */
static int transmit_maildir(const TransmitRequest *req, char **ret_reply) {
        const char *dir = req->transport->url + strlen("maildir:");
        _cleanup_free_ char *where = NULL;
        int n, r;

        r = req->interrupted && req->key ? local_maildir_find(dir, req->key, &where) : 0;
        if (r == 0)
                return local_maildir(dir, req->data, req->size, req->key, ret_reply);
        if (r > 0)
                n = asprintf(ret_reply, "maildir: %s (delivered by the interrupted attempt)",
                             where);
        else if (r == -EAGAIN)
                n = asprintf(ret_reply,
                             "maildir: cannot tell whether the interrupted attempt delivered: "
                             "%s kept changing while searched",
                             dir);
        else
                n = asprintf(ret_reply,
                             "maildir: cannot tell whether the interrupted attempt delivered: "
                             "cannot search %s: %s",
                             dir, strerror(-r));
        if (n < 0) {
                *ret_reply = NULL;
                return -ENOMEM;
        }
        return r > 0 ? 0 : r;
}

int transmit(Net *net, const TransmitRequest *req, NetDoneFn done, void *userdata,
             TransmitLocal *local) {
        char *reply = NULL;
        int r;

        assert(req);
        assert(req->transport);
        assert(local);
        switch (req->transport->kind) {
        case TRANSPORT_SMTP:
        case TRANSPORT_SMTPS:
                return transmit_mail(net, req, done, userdata);
        case TRANSPORT_HTTP:
        case TRANSPORT_HTTPS:
                return transmit_webhook(net, req, done, userdata);
        case TRANSPORT_MAILDIR:
                r = transmit_maildir(req, &reply);
                break;
        case TRANSPORT_SENDMAIL:
                r = local_sendmail(req->data, req->size, &reply);
                break;
        default:
                return -EINVAL;
        }
        /* A full disk clears, a sendmail that failed may work next time, a Maildir that could
         * not be searched may be readable again: all are tried again until the message's
         * deadline. */
        *local = (TransmitLocal){.outcome = r >= 0 ? NET_OK : NET_TEMPORARY, .reply = reply};
        if (!reply && asprintf(&local->reply, "%s", strerror(r < 0 ? -r : 0)) < 0)
                local->reply = NULL;
        return 1;
}
