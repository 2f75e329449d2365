#pragma once
/* Transmit: one rendered message through one transport, whatever its kind.
 *
 * Maildir and sendmail are local and finish within the call; SMTP and webhooks go to net.h and
 * finish in a callback from the event loop.  Here the request for each is put together: the
 * SMTP envelope from the transport's settings and secret, and a webhook's headers, its
 * Idempotency-Key and, with a secret, its signature of this attempt's timestamp.  The outbox
 * and `noticectl test-send` both send through this one function.  Never logs. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "noticed/model.h"
#include "noticed/net.h"
#include "noticed/secret.h"

typedef struct TransmitRequest {
        const Transport *transport;
        const Secret *secret;   /* the SMTP password or the webhook key; NULL when none */
        const char *recipients; /* mail: the addresses, one per line */
        const char *data;       /* the message, or the webhook's JSON body */
        size_t size;
        const char *idempotency_key; /* webhooks: the reminder's identity */
        const char *key;             /* Maildir: the message's key (mail.h), or NULL */
        bool interrupted;            /* Maildir: look for the message of an interrupted attempt */
        int64_t now;                 /* Unix seconds: a webhook signature's timestamp */
        usec_t timeout_usec;         /* a network transfer's, 0: NET_TIMEOUT_DEFAULT_USEC */
} TransmitRequest;

/* The result of a local transport: an outcome as net.h has it, and a reply (malloc'd). */
typedef struct TransmitLocal {
        NetOutcome outcome;
        char *reply;
} TransmitLocal;

/* Returns 0 when the message went to net (done will be called), 1 when a local transport has
 * finished and *local says how (a Maildir attempt after an interrupted one writes the message
 * only when local_maildir_find() says it is absent; when the search fails, the outcome is
 * NET_TEMPORARY and the reply says why), or -errno (-ENOMEM; -EINVAL for a request that cannot be
 * made: no recipients, a header a webhook cannot carry; -EIO when curl refused) and then done is
 * never called. */
int transmit(Net *net, const TransmitRequest *req, NetDoneFn done, void *userdata,
             TransmitLocal *local);
