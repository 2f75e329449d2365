#pragma once
/* Test send: one clearly marked test message through each channel of one recipient, now.
 *
 * For `noticectl test-send`: an administrator checks a relay, a password, a webhook's secret
 * before a reminder depends on them.  Each channel is tried once, at the same time, through the
 * same transmit() the daemon uses, with an event loop of its own; nothing is recorded in the
 * ledger and nothing is retried.  Never logs: the results say what happened. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "noticed/macro.h"
#include "noticed/model.h"
#include "noticed/net.h"

typedef struct TestSendResult {
        char *channel; /* "mail" or "webhook:NAME" */
        const Transport *transport;
        NetOutcome outcome; /* NET_OK when the server (or the local transport) accepted it */
        char *reply;        /* what it said, or why nothing was sent */
} TestSendResult;

/* A transfer's own timeout; the wait for all of them is twice that, a fence that curl's
 * timeouts keep from being reached. */
#define TESTSEND_TIMEOUT_USEC (30 * USEC_PER_SEC)

/* Sends to recipient rc (of model m) at now (Unix seconds).  0 and the results, one per
 * channel, or -errno when nothing could be tried (no event loop, out of memory). */
int testsend_run(const Model *m, const Recipient *rc, int64_t now, TestSendResult **ret,
                 size_t *ret_n);
void testsend_results_free(TestSendResult *results, size_t n);
