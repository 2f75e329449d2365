/* Net's verdict on a finished transfer: what a server's reply code or curl's error means for
 * trying again, and the one line the ledger and the journal get.  Pure: net.c hands it what a
 * transfer ended with. */

#include <stdio.h>
#include <string.h>

#include "net-internal.h"

/* The outcome a server's reply code decides, when it decides one.  SMTP: a transfer curl
 * completed is accepted (250 after DATA); a 4xx or 5xx reply is what stopped it.  Any other code
 * on a failed transfer is the last positive reply before something else went wrong (a 250 to
 * RCPT, then a timeout), so it decides nothing.  HTTP: a status line, once received, is the
 * server's verdict on the request even when the body after it breaks off: the request was
 * read and handled, and sending it again would only duplicate it. */
static bool outcome_from_code(bool smtp, CURLcode result, long code, NetOutcome *ret) {
        if (smtp) {
                if (result == CURLE_OK)
                        *ret = NET_OK;
                else if (code >= 400 && code < 500)
                        *ret = NET_TEMPORARY;
                else if (code >= 500 && code < 600)
                        *ret = NET_PERMANENT;
                else
                        return false;
                return true;
        }
        if (code < 200 || code >= 600)
                return false;
        if (code < 300)
                *ret = NET_OK;
        else if (code == 408 || code == 429 || code >= 500)
                *ret = NET_TEMPORARY;
        else
                *ret = NET_PERMANENT;
        return true;
}

/* The outcome of a transfer that ended without a reply code that decides.  Permanent only when
 * the request itself cannot work: the URL, the protocol, credentials or access the server
 * refused.  Everything else, including errors not listed, is temporary: wrongly temporary costs
 * a retry or two before the attempts run out; wrongly permanent loses a reminder that a later
 * attempt would have delivered. */
static NetOutcome outcome_from_curl(CURLcode result) {
        switch (result) {
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_LOGIN_DENIED:
        case CURLE_REMOTE_ACCESS_DENIED:
                return NET_PERMANENT;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_USE_SSL_FAILED:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_WEIRD_SERVER_REPLY:
        default:
                return NET_TEMPORARY;
        }
}

/* Copies at most NET_REPLY_MAX - 1 bytes of src, without its line end, each byte outside
 * printable ASCII replaced by '?': the reply goes to the journal, the ledger and JSON output,
 * and a server decides what it contains. */
void net_reply_copy(char dst[static NET_REPLY_MAX], const char *src, size_t size) {
        while (size > 0 && (src[size - 1] == '\n' || src[size - 1] == '\r'))
                size--;
        if (size > NET_REPLY_MAX - 1)
                size = NET_REPLY_MAX - 1;
        for (size_t i = 0; i < size; i++)
                dst[i] = (char) (src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?');
        dst[size] = '\0';
}

void net_outcome_of(bool smtp, CURLcode result, long code, const char *line, const char *error,
                    NetResult *res) {
        if (outcome_from_code(smtp, result, code, &res->outcome)) {
                res->code = code;
                if (line[0])
                        net_reply_copy(res->reply, line, strlen(line));
                else {
                        char s[64];

                        (void) snprintf(s, sizeof(s), "%s %ld", smtp ? "SMTP" : "HTTP", code);
                        net_reply_copy(res->reply, s, strlen(s));
                }
        } else {
                char s[NET_REPLY_MAX + CURL_ERROR_SIZE + 64];

                res->outcome = result == CURLE_OK ? NET_TEMPORARY : outcome_from_curl(result);
                if (result == CURLE_OK) /* HTTP without a final status (2xx to 5xx) */
                        (void) snprintf(s, sizeof(s), "%s: no usable status (%ld)",
                                        line[0] ? line : "HTTP", code);
                else if (error[0])
                        (void) snprintf(s, sizeof(s), "%s: %s", curl_easy_strerror(result), error);
                else
                        (void) snprintf(s, sizeof(s), "%s", curl_easy_strerror(result));
                net_reply_copy(res->reply, s, strlen(s));
        }
}

/* Permanent like CURLE_LOGIN_DENIED: a relay does not start offering AUTH by itself, and the
 * failure is escalated at once rather than after days of retries; the administrator fixes the
 * relay or the transport.  No reply code: the server's last one was a 250 to MAIL FROM. */
void net_outcome_login_unused(bool starttls_offered, NetResult *res) {
        static const char no_auth[] =
                "the server offered no AUTH; refusing to send without the configured login";
        static const char after_starttls[] =
                " (it offers STARTTLS, which tls = \"none\" does not use: AUTH may come only "
                "after it)";
        char s[sizeof(no_auth) + sizeof(after_starttls)];

        res->outcome = NET_PERMANENT;
        res->code = 0;
        (void) snprintf(s, sizeof(s), "%s%s", no_auth, starttls_offered ? after_starttls : "");
        net_reply_copy(res->reply, s, strlen(s));
}
