/* Net: SMTP submissions and HTTP POSTs through one curl multi handle driven by sd-event.
 *
 * curl does the protocols; this file only glues its multi "socket" interface to the event loop
 * (net-outcome.c turns what a transfer ended with into a NetOutcome).  The glue follows systemd's
 * src/import/curl-util.c: each of curl's sockets is an sd-event IO source (curl keeps the
 * pointer for us with curl_multi_assign()), curl's one timer is one sd-event timer, and libcurl
 * is never called from inside its own callbacks.  Transfers finish only in net_dispatch(), run
 * from those IO and timer handlers, so a done callback never runs inside net_send_mail() or
 * net_post(); it runs after the transfer is unlinked, removed from the multi handle and freed,
 * so it may start transfers, free its userdata or even free the net. */

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "net-internal.h"
#include "noticed/macro.h"
#include "noticed/net.h"

/* Idle connections kept for reuse; curl's default is 4 times the handles in use, which drops
 * a relay's connection as soon as the last transfer ends. */
#define NET_MAX_CONNECTS 64L

/* The longest an SMTP server may take to answer one command.  curl closes an SMTP connection
 * with QUIT and waits for the reply *blocking*, outside the transfer's timeout: after every
 * failed transfer, and when a full connection cache drops one.  This bounds how long a server
 * that ignores QUIT can stall the event loop (WatchdogSec=60s); the transfer's own timeout is
 * used when shorter. */
#define NET_SMTP_REPLY_TIMEOUT_USEC (30 * USEC_PER_SEC)

typedef struct Transfer Transfer;

struct Transfer {
        Net *net;
        Transfer *prev, *next;
        CURL *easy;
        bool smtp;
        NetDoneFn done;
        void *userdata;
        struct curl_slist *list; /* SMTP recipients or HTTP headers */
        char *data;              /* SMTP: the message, uploaded by on_read() */
        size_t size, sent;
        bool quit_sent; /* SMTP: what follows is the reply to QUIT, which decides nothing */
        /* SMTP with a username: the login must be used (see on_smtp_reply()). */
        bool login_required;
        bool replied;          /* a reply line came */
        bool greeted;          /* this transfer opened its connection: its first line was 220 */
        bool authenticated;    /* the server accepted the login (235) */
        bool starttls_offered; /* an EHLO reply offered STARTTLS */
        bool login_unused;     /* MAIL FROM went out without a login: stopped at its reply */
        bool plaintext;        /* without STARTTLS */
        char error[CURL_ERROR_SIZE];
        char line[NET_REPLY_MAX]; /* the server's last reply line, or the HTTP status line */
};

static void transfer_free(Transfer *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Transfer *, transfer_free)

/* What net knows of a file descriptor that is curl's socket. */
typedef struct NetSocket {
        sd_event_source *io; /* while curl waits on it; curl_multi_assign() keeps it too */
        ino_t inode;         /* of the socket curl last opened with this number, or 0 */
} NetSocket;

struct Net {
        sd_event *event;
        CURLM *multi;
        sd_event_source *timer;
        NetSocket *sockets; /* by fd */
        size_t n_sockets;
        Transfer *transfers;
        bool dispatching;    /* done callbacks are running */
        bool free_requested; /* net_free() was called by one of them */
        bool curl_initialised;
};

/* curl's timer: only arms or disarms ours (libcurl must not be called from here).  -1 means
 * none; otherwise it is due in timeout_ms, rounded up to the next whole millisecond. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userdata) {
        Net *net = userdata;

        (void) multi;
        if (timeout_ms < 0)
                return sd_event_source_set_enabled(net->timer, SD_EVENT_OFF) < 0 ? -1 : 0;
        if (sd_event_source_set_time_relative(net->timer,
                                              ((usec_t) timeout_ms + 1) * USEC_PER_MSEC - 1) < 0 ||
            sd_event_source_set_enabled(net->timer, SD_EVENT_ONESHOT) < 0)
                return -1;
        return 0;
}

static void transfer_finish(Net *net, CURL *easy, CURLcode result);

/* Finishes every transfer curl reports done, calling back after each is gone; stops early when
 * a callback freed the net, and then frees it. */
static void net_dispatch(Net *net) {
        CURLMsg *msg;
        int left;

        net->dispatching = true;
        while (!net->free_requested && (msg = curl_multi_info_read(net->multi, &left)))
                if (msg->msg == CURLMSG_DONE)
                        transfer_finish(net, msg->easy_handle, msg->data.result);
        net->dispatching = false;
        if (net->free_requested)
                (void) net_free(net);
}

/* A failing curl_multi_socket_action() is not a transfer's failure (those come through
 * curl_multi_info_read()), and returning an error would make sd-event disable the source for
 * good; so both handlers return 0. */
static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Net *net = userdata;
        int running;

        (void) s;
        (void) usec;
        (void) curl_multi_socket_action(net->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        net_dispatch(net);
        return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Net *net = userdata;
        int mask = 0, running;

        (void) s;
        if (revents & EPOLLIN)
                mask |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                mask |= CURL_CSELECT_OUT;
        if (revents & (EPOLLERR | EPOLLHUP))
                mask |= CURL_CSELECT_ERR;
        (void) curl_multi_socket_action(net->multi, fd, mask, &running);
        net_dispatch(net);
        return 0;
}

/* The entry for fd, the table grown as needed; NULL when out of memory. */
static NetSocket *net_socket(Net *net, curl_socket_t fd) {
        if (fd < 0)
                return NULL;
        if ((size_t) fd >= net->n_sockets) {
                size_t n = (size_t) fd * 2 + 8;
                NetSocket *sockets = realloc(net->sockets, n * sizeof(*sockets));

                if (!sockets)
                        return NULL;
                memset(sockets + net->n_sockets, 0, (n - net->n_sockets) * sizeof(*sockets));
                net->sockets = sockets;
                net->n_sockets = n;
        }
        return &net->sockets[fd];
}

/* Every socket curl connects with is opened here (close-on-exec, so sendmail does not inherit
 * it) and noted with its inode, which tells net_free() whether the descriptor is still that
 * socket: curl 7.88 closes a socket that never finished connecting without telling anyone.
 * For the same reason an IO source left for this descriptor number belongs to a socket already
 * closed, and so no longer in epoll; switched off, it is added again when curl next enables
 * it. */
static curl_socket_t on_open_socket(void *userdata, curlsocktype purpose,
                                    struct curl_sockaddr *address) {
        Net *net = userdata;
        struct stat st;
        NetSocket *s;
        int fd;

        (void) purpose;
        fd = socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
        if (fd < 0)
                return CURL_SOCKET_BAD;
        s = net_socket(net, fd);
        if (!s || fstat(fd, &st) < 0) {
                (void) close(fd);
                return CURL_SOCKET_BAD;
        }
        if (s->io)
                (void) sd_event_source_set_enabled(s->io, SD_EVENT_OFF);
        s->inode = st.st_ino;
        return fd;
}

/* Whether fd is still the socket curl opened as inode. */
static bool socket_is_still(int fd, ino_t inode) {
        struct stat st;

        return inode != 0 && fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == inode;
}

/* curl's sockets: one IO source each, created on first use, changed as curl's interest
 * changes, dropped when curl is done with the socket. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userdata, void *socketp) {
        Net *net = userdata;
        sd_event_source *io = socketp;
        uint32_t events = 0;

        (void) easy;
        if (what == CURL_POLL_REMOVE) {
                if (io) {
                        (void) sd_event_source_disable_unref(io);
                        if ((size_t) fd < net->n_sockets && net->sockets[fd].io == io)
                                net->sockets[fd].io = NULL;
                }
                return 0;
        }
        if (what & CURL_POLL_IN)
                events |= EPOLLIN;
        if (what & CURL_POLL_OUT)
                events |= EPOLLOUT;
        if (!io) {
                NetSocket *s = net_socket(net, fd);

                if (!s)
                        return -1;
                if (sd_event_add_io(net->event, &io, fd, events, on_io, net) < 0)
                        return -1;
                if (curl_multi_assign(net->multi, fd, io) != CURLM_OK) {
                        (void) sd_event_source_disable_unref(io);
                        return -1;
                }
                (void) sd_event_source_set_description(io, "net-curl-io");
                s->io = io;
        } else if (sd_event_source_set_io_events(io, events) < 0)
                return -1;
        return sd_event_source_set_enabled(io, events ? SD_EVENT_ON : SD_EVENT_OFF) < 0 ? -1 : 0;
}

int net_new(sd_event *event, Net **ret) {
        _cleanup_(net_freep) Net *net = NULL;
        int r;

        assert(event);
        assert(ret);
        net = calloc(1, sizeof(*net));
        if (!net)
                return -ENOMEM;
        net->event = sd_event_ref(event);
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): _cleanup_ frees net */
                return -EIO;
        net->curl_initialised = true;
        /* Accuracy 1 µs: curl's timer is often "now" (a transfer just added), and sd-event's
         * default accuracy would hold every new transfer back by up to 250 ms.  MONOTONIC, not
         * BOOTTIME: curl measures its timeouts on CLOCK_MONOTONIC. */
        r = sd_event_add_time_relative(event, &net->timer, CLOCK_MONOTONIC, 0, 1, on_timer, net);
        if (r < 0 || (r = sd_event_source_set_enabled(net->timer, SD_EVENT_OFF)) < 0)
                return r;
        (void) sd_event_source_set_description(net->timer, "net-curl-timer");
        net->multi = curl_multi_init();
        if (!net->multi)
                return -ENOMEM;
        if (curl_multi_setopt(net->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket) != CURLM_OK ||
            curl_multi_setopt(net->multi, CURLMOPT_SOCKETDATA, net) != CURLM_OK ||
            curl_multi_setopt(net->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer) != CURLM_OK ||
            curl_multi_setopt(net->multi, CURLMOPT_TIMERDATA, net) != CURLM_OK ||
            curl_multi_setopt(net->multi, CURLMOPT_MAXCONNECTS, NET_MAX_CONNECTS) != CURLM_OK)
                return -EIO;
        *ret = TAKE_PTR(net);
        return 0;
}

/* Unlinks the transfer and frees it with its easy handle; curl may call on_curl_socket() and
 * on_curl_timer() meanwhile. */
static void transfer_free(Transfer *t) {
        Net *net = t->net;

        if (t->prev)
                t->prev->next = t->next;
        else if (net->transfers == t)
                net->transfers = t->next;
        if (t->next)
                t->next->prev = t->prev;
        if (t->easy) {
                (void) curl_multi_remove_handle(net->multi, t->easy);
                curl_easy_cleanup(t->easy);
        }
        curl_slist_free_all(t->list);
        free(t->data);
        free(t);
}

Net *net_free(Net *net) {
        if (!net)
                return NULL;
        if (net->dispatching) {
                net->free_requested = true; /* net_dispatch() frees it when the callback returns */
                return NULL;
        }
        /* Every connection is cut before curl is told, because curl 7.88 says goodbye and
         * waits for the answer, blocking: an SMTP transfer removed during its upload is ended
         * with "." as if it were complete (the server would deliver it cut short) and the reply
         * awaited for up to the transfer's timeout; an idle SMTP connection gets QUIT and up to
         * 120 s to answer it (curl_multi_cleanup() uses none of our timeouts), which a relay
         * that went away would spend in full, holding the daemon's stop.  With the socket shut
         * both fail at once, and the server sees the connection close without a complete
         * message. */
        for (size_t fd = 0; fd < net->n_sockets; fd++)
                if (socket_is_still((int) fd, net->sockets[fd].inode))
                        (void) shutdown((int) fd, SHUT_RDWR);
        for (Transfer *t = net->transfers, *next; t; t = next) {
                next = t->next;
                transfer_free(t);
        }
        if (net->multi)
                (void) curl_multi_cleanup(net->multi);
        for (size_t fd = 0; fd < net->n_sockets; fd++)
                (void) sd_event_source_disable_unref(net->sockets[fd].io);
        free(net->sockets);
        (void) sd_event_source_disable_unref(net->timer);
        if (net->curl_initialised)
                curl_global_cleanup();
        sd_event_unref(net->event);
        free(net);
        return NULL;
}

static size_t on_read(char *buffer, size_t size, size_t n, void *userdata) {
        Transfer *t = userdata;
        size_t k = t->size - t->sent;

        if (k > size * n)
                k = size * n;
        memcpy(buffer, t->data + t->sent, k);
        t->sent += k;
        return k;
}

static size_t on_write(char *data, size_t size, size_t n, void *userdata) {
        (void) data;
        (void) userdata;
        return size * n; /* response bodies are not needed */
}

/* Whether the line (a reply or a command, without its line end) starts with word, case
 * insensitively. */
static bool line_starts_with(const char *line, size_t size, const char *word) {
        size_t n = strlen(word);

        return size >= n && strncasecmp(line, word, n) == 0;
}

/* SMTP: every reply line the server sends; the last one before QUIT is kept.  curl sends QUIT
 * on this handle after a failure (and after a success when it drops an idle connection to
 * make room), and "221 Bye" would hide the reply that decided.  And the commands: a MAIL FROM
 * on a connection this transfer opened, without a login accepted before it, means that curl
 * skipped the login (see on_smtp_reply()). */
static int on_debug(CURL *easy, curl_infotype type, char *data, size_t size, void *userdata) {
        Transfer *t = userdata;

        (void) easy;
        if (type == CURLINFO_HEADER_OUT && line_starts_with(data, size, "QUIT"))
                t->quit_sent = true;
        else if (type == CURLINFO_HEADER_OUT && line_starts_with(data, size, "MAIL FROM:") &&
                 t->login_required && t->greeted && !t->authenticated)
                t->login_unused = true;
        else if (type == CURLINFO_HEADER_IN && size > 0 && !t->quit_sent)
                net_reply_copy(t->line, data, size);
        return 0;
}

/* SMTP: curl hands every reply line to the header function too, before it acts on the reply,
 * and that function can stop the transfer (returning less than it got).  curl 7.88 logs in
 * only when the server's EHLO reply offers AUTH, and otherwise goes on without a word: a relay
 * that offers no AUTH, or offers it only after STARTTLS to a client that does not use it, would
 * take the message without the configured login.  So: a transfer that opened its connection
 * (its first line is the 220 greeting) and saw no 235 before its MAIL FROM is stopped at the
 * reply to that MAIL FROM, before any recipient or byte of the message goes out.  curl closes
 * a connection that a callback stopped, so the next transfer logs in anew; and it reuses a
 * connection only for the same username and password, kept open only after a transfer that
 * ended well: on a reused connection (no greeting) the login was used already. */
static size_t on_smtp_reply(char *data, size_t size, size_t n, void *userdata) {
        Transfer *t = userdata;
        size_t k = size * n;

        if (t->login_unused)
                return 0;
        if (!t->replied)
                t->greeted = line_starts_with(data, k, "220");
        else if (line_starts_with(data, k, "235"))
                t->authenticated = true;
        else if (line_starts_with(data, k, "250-STARTTLS") ||
                 line_starts_with(data, k, "250 STARTTLS"))
                t->starttls_offered = true;
        t->replied = true;
        return k;
}

/* HTTP: the status line (the last one, should a 1xx come first). */
static size_t on_header(char *data, size_t size, size_t n, void *userdata) {
        Transfer *t = userdata;

        if (size * n >= 5 && memcmp(data, "HTTP/", 5) == 0)
                net_reply_copy(t->line, data, size * n);
        return size * n;
}

/* Sets one option unless an earlier one failed; the first failure is kept in c. */
#define SETOPT(c, easy, option, value)                                                             \
        ((c) = (c) != CURLE_OK ? (c) : curl_easy_setopt((easy), (option), (value)))

static int errno_from_curl(CURLcode c) {
        return c == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EIO;
}

/* What every transfer has: certificates verified, no signals, no redirects, its timeouts. */
static int transfer_new(Net *net, bool smtp, const char *url, const char *ca_file,
                        usec_t timeout_usec, NetDoneFn done, void *userdata, Transfer **ret) {
        _cleanup_(transfer_freep) Transfer *t = calloc(1, sizeof(*t));
        CURLcode c = CURLE_OK;

        if (!t)
                return -ENOMEM;
        *t = (Transfer){.net = net, .smtp = smtp, .done = done, .userdata = userdata};
        t->easy = curl_easy_init();
        if (!t->easy)
                /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): _cleanup_ frees t */
                return -ENOMEM;
        if (timeout_usec == 0)
                timeout_usec = NET_TIMEOUT_DEFAULT_USEC;
        SETOPT(c, t->easy, CURLOPT_PRIVATE, t);
        SETOPT(c, t->easy, CURLOPT_URL, url);
        SETOPT(c, t->easy, CURLOPT_PROTOCOLS_STR, smtp ? "smtp,smtps" : "http,https");
        SETOPT(c, t->easy, CURLOPT_NOSIGNAL, 1L);
        SETOPT(c, t->easy, CURLOPT_FOLLOWLOCATION, 0L);
        SETOPT(c, t->easy, CURLOPT_CONNECTTIMEOUT_MS,
               (long) (NET_CONNECT_TIMEOUT_USEC / USEC_PER_MSEC));
        SETOPT(c, t->easy, CURLOPT_TIMEOUT_MS,
               (long) ((timeout_usec + USEC_PER_MSEC - 1) / USEC_PER_MSEC));
        SETOPT(c, t->easy, CURLOPT_ERRORBUFFER, t->error);
        SETOPT(c, t->easy, CURLOPT_SSL_VERIFYPEER, 1L);
        SETOPT(c, t->easy, CURLOPT_SSL_VERIFYHOST, 2L);
        if (ca_file)
                SETOPT(c, t->easy, CURLOPT_CAINFO, ca_file);
        SETOPT(c, t->easy, CURLOPT_WRITEFUNCTION, on_write);
        SETOPT(c, t->easy, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
        SETOPT(c, t->easy, CURLOPT_OPENSOCKETDATA, net);
        if (c != CURLE_OK)
                return errno_from_curl(c);
        *ret = TAKE_PTR(t);
        return 0;
}

/* Hands the transfer to curl and links it, or frees it; it first runs from the timer curl arms
 * now. */
static int transfer_start(Net *net, Transfer *t) {
        CURLMcode m = curl_multi_add_handle(net->multi, t->easy);

        if (m != CURLM_OK) {
                transfer_free(t);
                return m == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EIO;
        }
        t->next = net->transfers;
        if (t->next)
                t->next->prev = t;
        net->transfers = t;
        return 0;
}

static long smtp_reply_timeout_seconds(const NetMail *mail) {
        usec_t usec = mail->timeout_usec > 0 ? mail->timeout_usec : NET_TIMEOUT_DEFAULT_USEC;

        if (usec > NET_SMTP_REPLY_TIMEOUT_USEC)
                usec = NET_SMTP_REPLY_TIMEOUT_USEC;
        return (long) ((usec + USEC_PER_SEC - 1) / USEC_PER_SEC);
}

/* "<address>", as MAIL FROM and RCPT TO take it; NULL when out of memory. */
static char *angle_address(const char *address) {
        char *s;

        if (asprintf(&s, "<%s>", address) < 0)
                return NULL;
        return s;
}

int net_send_mail(Net *net, const NetMail *mail, NetDoneFn done, void *userdata) {
        _cleanup_(transfer_freep) Transfer *t = NULL;
        _cleanup_free_ char *from = NULL;
        CURLcode c = CURLE_OK;
        int r;

        assert(net);
        assert(mail);
        assert(done);
        r = transfer_new(net, true, mail->url, mail->ca_file, mail->timeout_usec, done, userdata,
                         &t);
        if (r < 0)
                return r;
        t->data = malloc(mail->size > 0 ? mail->size : 1);
        from = angle_address(mail->envelope_from);
        if (!t->data || !from)
                return -ENOMEM;
        if (mail->size > 0) /* memcpy() from NULL is undefined even for 0 bytes */
                memcpy(t->data, mail->data, mail->size);
        t->size = mail->size;
        for (size_t i = 0; i < mail->n_recipients; i++) {
                _cleanup_free_ char *to = angle_address(mail->recipients[i]);
                struct curl_slist *l;

                if (!to || !(l = curl_slist_append(t->list, to)))
                        return -ENOMEM;
                t->list = l;
        }
        SETOPT(c, t->easy, CURLOPT_MAIL_FROM, from);
        SETOPT(c, t->easy, CURLOPT_MAIL_RCPT, t->list);
        SETOPT(c, t->easy, CURLOPT_UPLOAD, 1L);
        SETOPT(c, t->easy, CURLOPT_READFUNCTION, on_read);
        SETOPT(c, t->easy, CURLOPT_READDATA, t);
        SETOPT(c, t->easy, CURLOPT_SERVER_RESPONSE_TIMEOUT, smtp_reply_timeout_seconds(mail));
        SETOPT(c, t->easy, CURLOPT_USE_SSL,
               (long) (mail->plaintext ? CURLUSESSL_NONE : CURLUSESSL_ALL));
        /* curl keeps copies of both; they are freed with the easy handle. */
        if (mail->username) {
                SETOPT(c, t->easy, CURLOPT_USERNAME, mail->username);
                SETOPT(c, t->easy, CURLOPT_PASSWORD, mail->password ? mail->password : "");
                t->login_required = true;
        }
        t->plaintext = mail->plaintext;
        SETOPT(c, t->easy, CURLOPT_HEADERFUNCTION, on_smtp_reply);
        SETOPT(c, t->easy, CURLOPT_HEADERDATA, t);
        /* The server's reply lines reach only the debug function, which needs VERBOSE. */
        SETOPT(c, t->easy, CURLOPT_DEBUGFUNCTION, on_debug);
        SETOPT(c, t->easy, CURLOPT_DEBUGDATA, t);
        SETOPT(c, t->easy, CURLOPT_VERBOSE, 1L);
        if (c != CURLE_OK)
                return errno_from_curl(c);
        return transfer_start(net, TAKE_PTR(t));
}

int net_post(Net *net, const NetPost *post, NetDoneFn done, void *userdata) {
        _cleanup_(transfer_freep) Transfer *t = NULL;
        CURLcode c = CURLE_OK;
        int r;

        assert(net);
        assert(post);
        assert(done);
        r = transfer_new(net, false, post->url, post->ca_file, post->timeout_usec, done, userdata,
                         &t);
        if (r < 0)
                return r;
        for (size_t i = 0; i <= post->n_headers; i++) {
                /* An empty Expect: keeps curl from waiting for "100 Continue" on larger bodies. */
                struct curl_slist *l = curl_slist_append(
                        t->list, i < post->n_headers ? post->headers[i] : "Expect:");

                if (!l)
                        return -ENOMEM;
                t->list = l;
        }
        SETOPT(c, t->easy, CURLOPT_HTTPHEADER, t->list);
        SETOPT(c, t->easy, CURLOPT_USERAGENT, NET_USER_AGENT);
        SETOPT(c, t->easy, CURLOPT_POST, 1L);
        /* The size first: COPYPOSTFIELDS then copies that many bytes, NULs included. */
        SETOPT(c, t->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) post->size);
        SETOPT(c, t->easy, CURLOPT_COPYPOSTFIELDS, post->size > 0 ? post->body : "");
        SETOPT(c, t->easy, CURLOPT_HEADERFUNCTION, on_header);
        SETOPT(c, t->easy, CURLOPT_HEADERDATA, t);
        if (c != CURLE_OK)
                return errno_from_curl(c);
        return transfer_start(net, TAKE_PTR(t));
}

/* Builds the result, frees the transfer, then calls back: the callback sees a net in which the
 * transfer no longer exists. */
static void transfer_finish(Net *net, CURL *easy, CURLcode result) {
        char reply[NET_REPLY_MAX], *p = NULL;
        NetResult res = {.reply = reply};
        curl_off_t retry_after = 0;
        NetDoneFn done;
        void *userdata;
        Transfer *t;
        long code = 0;

        /* Every handle in the multi handle is a transfer's, its PRIVATE set when it was made. */
        (void) curl_easy_getinfo(easy, CURLINFO_PRIVATE, &p);
        t = (Transfer *) p;
        assert(t && t->easy == easy && t->net == net);
        (void) curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
        if (!t->smtp && curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK &&
            retry_after > 0)
                res.retry_after_usec = (usec_t) retry_after * USEC_PER_SEC;

        if (t->login_unused)
                net_outcome_login_unused(t->plaintext && t->starttls_offered, &res);
        else
                net_outcome_of(t->smtp, result, code, t->line, t->error, &res);

        done = t->done;
        userdata = t->userdata;
        transfer_free(t);
        done(&res, userdata);
}
