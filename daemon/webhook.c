/* Webhook bodies and their signatures (see webhook.h; the receiver's side is noticed(8)
 * "WEBHOOKS").
 *
 * Bodies are packed by jansson, whose objects keep their keys in insertion order, so the order
 * written below is the order on the wire.  jansson checks every string for valid UTF-8; a string
 * it refuses is -EINVAL here, distinct from running out of memory.  The signature is streamed
 * through OpenSSL 3's EVP_MAC, so the body is never copied to be prefixed with the timestamp. */

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "noticed/render.h"
#include "noticed/webhook.h"

#define DECIMAL_MAX 24 /* "-92233720368547758.08" and the NUL */

/* Cents as a decimal string of the currency unit, "1266.09": integer arithmetic only. */
static char *decimal(int64_t cents, char buf[static DECIMAL_MAX]) {
        uint64_t magnitude = cents < 0 ? -(uint64_t) cents : (uint64_t) cents;

        (void) snprintf(buf, DECIMAL_MAX, "%s%" PRIu64 ".%02u", cents < 0 ? "-" : "",
                        magnitude / 100, (unsigned) (magnitude % 100));
        return buf;
}

/* The error of a failed json_pack_ex(): memory, or a string jansson refused (NULL, invalid
 * UTF-8), which is the caller's mistake. */
static int pack_error(const json_error_t *error) {
        return json_error_code(error) == json_error_out_of_memory ? -ENOMEM : -EINVAL;
}

/* Serialises and releases o. */
static int dump(json_t *o, char **ret_body) {
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

        json_decref(o);
        if (!s)
                return -ENOMEM;
        *ret_body = s;
        return 0;
}

static int slack_body(const char *subject, const char *text, char **ret_body) {
        json_error_t error;
        json_t *o = json_pack_ex(&error, 0, "{s:s+++}", "text", "*", subject, "*\n\n", text);

        if (!o)
                return pack_error(&error);
        return dump(o, ret_body);
}

/* {"currency", "min", "max"} of the yearly amount the recipient pays, or null. */
static json_t *cost_json(const Commitment *c, const Recipient *rcpt) {
        char min_buf[DECIMAL_MAX], max_buf[DECIMAL_MAX];
        int64_t min, max;

        if (!model_yearly_cost_cents(c, rcpt, &min, &max))
                return json_null();
        return json_pack("{s:s, s:s, s:s}", "currency", c->cost.currency, "min",
                         decimal(min, min_buf), "max", decimal(max, max_buf));
}

int webhook_reminder_body(const Model *m, const Reminder *r, const char *reminder_id, int64_t now,
                          WebhookFormat format, const char *subject, const char *text,
                          char **ret_body) {
        const Commitment *c = &m->commitments[r->milestone.commitment];
        const Recipient *rcpt = &m->recipients[r->recipient];
        const Milestone *ms = &r->milestone;
        char milestone[DATE_STRING_MAX];
        json_t *kind, *cost, *o;
        json_error_t error;
        int32_t seconds, utc_offset;
        Date today;

        if (format == WEBHOOK_FORMAT_SLACK)
                return slack_body(subject, text, ret_body);

        /* The reminder identity's spelling: two one-off deadlines on one day stay apart. */
        if (ms->kind == MILESTONE_DEADLINE && ms->deadline >= 0)
                kind = json_sprintf("deadline:%s", c->deadlines[ms->deadline].id);
        else
                kind = json_string(milestone_kind_to_string(ms->kind));
        cost = cost_json(c, rcpt);
        if (!kind || !cost) {
                json_decref(kind);
                json_decref(cost);
                return -ENOMEM;
        }
        /* Days from the local date of now, not of the reminder: a retry on a later day counts
         * from the day it is sent. */
        tz_unix_to_local(m->tz, now, &today, &seconds, &utc_offset);

        /* "o" steals kind and cost, also when packing fails. */
        o = json_pack_ex(
                &error, 0, "{s:s, s:s, s:s, s:s, s:o, s:I, s:s, s:I, s:s, s:s, s:s, s:o, s:s, s:s}",
                "type", r->overdue ? "overdue" : "reminder", "reminder_id", reminder_id,
                "commitment", c->id, "title", render_milestone_title(m, ms), "kind", kind, "cycle",
                (json_int_t) ms->cycle, "milestone", date_format(ms->date, milestone), "days_left",
                (json_int_t) ms->date - (json_int_t) today, "recipient", rcpt->id, "recipient_name",
                rcpt->name, "language", rcpt->language == LANGUAGE_EN ? "en" : "nl", "cost", cost,
                "subject", subject, "text", text);
        if (!o)
                return pack_error(&error);
        return dump(o, ret_body);
}

int webhook_plain_body(WebhookFormat format, const char *type, const char *id, const char *subject,
                       const char *text, char **ret_body) {
        json_error_t error;
        json_t *o;

        if (format == WEBHOOK_FORMAT_SLACK)
                return slack_body(subject, text, ret_body);
        o = json_pack_ex(&error, 0, "{s:s, s:s, s:s, s:s}", "type", type, "id", id, "subject",
                         subject, "text", text);
        if (!o)
                return pack_error(&error);
        return dump(o, ret_body);
}

/* The HMAC is fetched from the default provider on each call: a lookup in a cache after the
 * first, small beside the HTTP request the signature goes with. */
int webhook_sign(const void *key, size_t key_size, int64_t timestamp, const char *body,
                 size_t body_size, char ret[static WEBHOOK_SIGNATURE_MAX]) {
        static const char hex[] = "0123456789abcdef";
        /* An empty key must still be a key: NULL would ask EVP_MAC_init() to reuse one. */
        const unsigned char *k = key_size > 0 ? key : (const unsigned char *) "";
        char prefix[24]; /* "-9223372036854775808." */
        unsigned char mac[EVP_MAX_MD_SIZE];
        size_t mac_size = 0;
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *) "SHA256", 0),
                OSSL_PARAM_construct_end(),
        };
        EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        EVP_MAC_CTX *ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
        int n = snprintf(prefix, sizeof(prefix), "%" PRId64 ".", timestamp);
        bool ok = ctx && EVP_MAC_init(ctx, k, key_size, params) &&
                  EVP_MAC_update(ctx, (const unsigned char *) prefix, (size_t) n) &&
                  EVP_MAC_update(ctx, (const unsigned char *) body, body_size) &&
                  EVP_MAC_final(ctx, mac, &mac_size, sizeof(mac)) && mac_size == 32;

        EVP_MAC_CTX_free(ctx);
        EVP_MAC_free(hmac);
        if (!ok) {
                ERR_clear_error(); /* nothing here logs; leave no stale errors behind either */
                return -EIO;
        }
        memcpy(ret, "sha256=", 7);
        for (size_t i = 0; i < mac_size; i++) {
                ret[7 + 2 * i] = hex[mac[i] >> 4];
                ret[7 + 2 * i + 1] = hex[mac[i] & 0xf];
        }
        ret[7 + 2 * mac_size] = '\0';
        return 0;
}
