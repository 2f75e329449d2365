#pragma once
/* Net: SMTP submissions and HTTP POSTs through one curl multi handle driven by sd-event.
 *
 * Many transfers are in flight at once, in one thread, without polling: curl's sockets are
 * sd-event IO sources and its timer one sd-event timer (modelled on systemd's
 * src/import/curl-util.c).  curl keeps connections open between transfers and reuses them.
 * A transfer ends in its callback, always from the event loop and never from inside the call
 * that started it, with an outcome that says whether trying again later can help.  The
 * callers (outbox.c, noticectl test-send) decide what that means; nothing here logs.  Every
 * string and byte given to net_send_mail()/net_post() is copied. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "noticed/macro.h"

typedef struct Net Net;

typedef enum NetOutcome {
        NET_OK,        /* the server accepted it: SMTP 250 after DATA, HTTP 2xx */
        NET_TEMPORARY, /* try again later: connect, DNS, TLS errors, timeouts, SMTP 4xx, HTTP 5xx,
                        * 408, 429, a connection that broke */
        NET_PERMANENT, /* will not work as it is: SMTP 5xx (AUTH refused included), HTTP 4xx
                        * other than 408/429, 3xx, a malformed URL */
} NetOutcome;

typedef struct NetResult {
        NetOutcome outcome;
        long code;   /* the SMTP reply code or HTTP status that decided it; 0 when none */
        char *reply; /* one line for the ledger and the log: the server's last reply line
                      * ("250 2.0.0 Ok: queued as 4F3A1"), the HTTP status line ("HTTP/1.1 410
                      * Gone"), or curl's error ("Couldn't connect to server: ..."); every byte
                      * outside printable ASCII replaced by '?', at most 512 bytes with its NUL.
                      * Owned by net; valid during the callback only.  Never NULL. */
        usec_t retry_after_usec; /* HTTP Retry-After (seconds or date, as curl parses it), in
                                  * µs from now; 0 when none */
} NetResult;

typedef void (*NetDoneFn)(const NetResult *result, void *userdata);

typedef struct NetMail {
        const char *url;               /* "smtp://host[:port]" or "smtps://host[:port]" */
        bool plaintext;                /* smtp:// without STARTTLS (config allows it only to a
                                        * loopback host); else STARTTLS is required */
        const char *ca_file;           /* NULL: the system's trust store */
        const char *username;          /* NULL: no AUTH */
        const char *password;          /* with username */
        const char *envelope_from;     /* the MAIL FROM address, without <> */
        const char *const *recipients; /* RCPT TO addresses, one command each */
        size_t n_recipients;           /* >= 1; all must be accepted or nothing is sent */
        const char *data;              /* the message, CRLF line endings, as mail_render() made
                                        * it; uploaded as it is (curl dot-stuffs) */
        size_t size;
        usec_t timeout_usec; /* the whole transfer, 0: NET_TIMEOUT_DEFAULT_USEC.
                              * After a failure curl sends QUIT and awaits the reply
                              * outside the loop: a server that never answers it
                              * stalls the loop for this long, 30 s at most */
} NetMail;

typedef struct NetPost {
        const char *url;            /* "http://..." or "https://..." */
        const char *ca_file;        /* NULL: the system's trust store */
        const char *const *headers; /* "Name: value", each checked by the caller; without a
                                     * Content-Type curl sends application/x-www-form-urlencoded */
        size_t n_headers;
        const char *body; /* sent as it is, Content-Length set */
        size_t size;
        usec_t timeout_usec; /* 0: NET_TIMEOUT_DEFAULT_USEC */
} NetPost;

#define NET_TIMEOUT_DEFAULT_USEC (120 * USEC_PER_SEC)
#define NET_CONNECT_TIMEOUT_USEC (30 * USEC_PER_SEC)

/* Every transfer of this net has this User-Agent (HTTP). */
#define NET_USER_AGENT "noticed/" NOTICED_VERSION

/* Attaches to the event loop (taking a reference).  0, -ENOMEM, or -EIO when curl cannot be
 * initialised. */
int net_new(sd_event *event, Net **ret);
/* Aborts the transfers still in flight without calling their callbacks, and closes every
 * connection without a QUIT (a mail cut short is not delivered).  May be called from a done
 * callback: the transfers not yet called back are then aborted too.  NULL-safe. */
Net *net_free(Net *net);
DEFINE_TRIVIAL_CLEANUP_FUNC(Net *, net_free)

/* Starts a transfer; done(result, userdata) is called exactly once, later, from the event loop,
 * unless the net is freed first; it may start transfers and free its userdata.  Returns 0, or
 * -ENOMEM / -EIO (curl refused an option) and then never calls done. */
int net_send_mail(Net *net, const NetMail *mail, NetDoneFn done, void *userdata);
int net_post(Net *net, const NetPost *post, NetDoneFn done, void *userdata);
