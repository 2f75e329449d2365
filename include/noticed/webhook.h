#pragma once
/* Webhooks: the JSON body a webhook transport POSTs, and its signature.
 *
 * The body is built with jansson (one JSON encoder for everything noticed writes) and
 * documented in noticed(8) "WEBHOOKS".  format "json" (the default) sends noticed's own object;
 * "slack" sends {"text": ...} for Slack/Mattermost-style incoming webhooks.  The signature is
 * HMAC-SHA256 (OpenSSL) of "TIMESTAMP.BODY" with the transport's secret, sent as
 * X-Noticed-Signature: sha256=HEX beside X-Noticed-Timestamp: TIMESTAMP.  Pure: values in,
 * strings out; returns 0 or -errno and never logs. */

#include <stddef.h>
#include <stdint.h>

#include "noticed/model.h"
#include "noticed/plan.h"

/* "sha256=" + 64 hex digits + NUL */
#define WEBHOOK_SIGNATURE_MAX 72

/* The body for reminder r (its identity reminder_id, as render_reminder_id() made it), with
 * the rendered text (subject and body from text_render()).  now (Unix seconds) is the day the
 * days-left count starts from.  The "json" object has these keys, in this order:
 *   "type": "reminder" or "overdue", "reminder_id", "commitment", "title", "kind",
 *   "cycle", "milestone" (YYYY-MM-DD), "days_left" (negative when overdue), "recipient",
 *   "recipient_name", "language", "cost" (null, or {"currency", "min", "max"} as decimal
 *   strings of the yearly amount, "1266.09"), "subject", "text"
 * "slack" is {"text": "*SUBJECT*\n\nTEXT"}.  Malloc'd, compact (no spaces), no trailing
 * newline. */
int webhook_reminder_body(const Model *m, const Reminder *r, const char *reminder_id, int64_t now,
                          WebhookFormat format, const char *subject, const char *text,
                          char **ret_body);

/* The body of a message that is not about one reminder (an escalation, a test message):
 * {"type": type, "id": id, "subject": subject, "text": text} or, for "slack",
 * {"text": "*SUBJECT*\n\nTEXT"}.  Malloc'd. */
int webhook_plain_body(WebhookFormat format, const char *type, const char *id, const char *subject,
                       const char *text, char **ret_body);

/* "sha256=" + lowercase hex HMAC-SHA256(key, "TIMESTAMP.BODY"), timestamp in decimal Unix
 * seconds.  Returns 0, or -EIO when OpenSSL fails. */
int webhook_sign(const void *key, size_t key_size, int64_t timestamp, const char *body,
                 size_t body_size, char ret[static WEBHOOK_SIGNATURE_MAX]);
