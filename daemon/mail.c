/* Mail: a reminder (the words of text.h and its calendar) or a plain message (message.h) encoded
 * into one RFC 5322 message; both share the header writer and the naming by identity.
 *
 * The MIME encodings are written by hand in mime_encode(), the one function that encodes text
 * for a header or a body: none of the libraries we link writes RFC 2047 words or
 * quoted-printable into a buffer (OpenSSL gives base64, which the "B" words use; curl's MIME API
 * encodes only while it sends, and maildir and sendmail need the bytes), and both are a page of
 * code whose rules (RFC 2045 6.7, RFC 2047 5) are easier to check here than a new dependency. */

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noticed/buffer.h"
#include "noticed/ical.h"
#include "noticed/mail.h"
#include "noticed/render.h"
#include "noticed/text.h"
#include "noticed/validate.h"

#define HEADER_WIDTH     78 /* RFC 5322 2.1.1: "SHOULD be no more than 78 characters" */
#define ENCODED_WORD_MAX 75 /* RFC 2047 2 */
#define QP_LINE_MAX      76 /* RFC 2045 6.7 (5), the soft break's '=' included */

/* ---- MIME ---- */

typedef enum MimeEncoding {
        MIME_BODY,         /* quoted-printable (RFC 2045 6.7); LF or CRLF in, CRLF out */
        MIME_UNSTRUCTURED, /* header text such as a Subject: words, or RFC 2047 "B" words */
        MIME_PHRASE,       /* a display name: atoms, a quoted-string or RFC 2047 "B" words */
} MimeEncoding;

/* A header field being written, folded at spaces to stay within HEADER_WIDTH. */
typedef struct HeaderLine {
        Buffer *out;
        size_t column;
        bool empty; /* nothing after "Name:" yet: never fold there */
} HeaderLine;

static HeaderLine header_begin(Buffer *out, const char *name) {
        buffer_puts(out, name);
        buffer_puts(out, ":");
        return (HeaderLine){.out = out, .column = strlen(name) + 1, .empty = true};
}

static void header_fold(HeaderLine *h) {
        buffer_append(h->out, "\r\n", 2);
        h->column = 0;
}

static void header_token(HeaderLine *h, const char *s, size_t n) {
        if (!h->empty && h->column + 1 + n > HEADER_WIDTH)
                header_fold(h);
        if (h->column == 0) {
                buffer_append(h->out, " ", 1);
                h->column = 1;
        } else {
                buffer_append(h->out, " ", 1);
                h->column++;
        }
        buffer_append(h->out, s, n);
        h->column += n;
        h->empty = false;
}

static bool is_atext(unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* RFC 2047 is needed for anything but printable ASCII (so no CR or LF is ever written raw), for
 * text that would read as an encoded word, and for a word too long to fold. */
static bool needs_encoded_words(const char *s, size_t n) {
        size_t word = 0;

        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                if (c < 0x20 || c >= 0x7f || (c == '=' && i + 1 < n && s[i + 1] == '?'))
                        return true;
                word = c == ' ' ? 0 : word + 1;
                if (word > HEADER_WIDTH - 20)
                        return true;
        }
        return false;
}

/* "=?utf-8?B?...?=" words of at most ENCODED_WORD_MAX characters, each ending at a character
 * boundary (RFC 2047 5 (3)); the space between two of them is not part of the text. */
static void header_encoded_words(HeaderLine *h, const char *s, size_t n) {
        for (size_t i = 0; i < n;) {
                size_t room = h->column + 1 < HEADER_WIDTH ? HEADER_WIDTH - h->column - 1 : 0;
                size_t max_bytes, take = 0;
                unsigned char b64[4 * (ENCODED_WORD_MAX / 4) + 1];
                char word[ENCODED_WORD_MAX + 1];
                int len;

                if (room < 20 && !h->empty)
                        room = HEADER_WIDTH - 2; /* header_token() will fold first */
                if (room > ENCODED_WORD_MAX)
                        room = ENCODED_WORD_MAX;
                max_bytes = room > 12 + 8 ? (room - 12) / 4 * 3 : 6;
                while (i + take < n) {
                        size_t c = utf8_char_length((const unsigned char *) s + i + take,
                                                    n - i - take);
                        if (c == 0)
                                c = 1; /* not UTF-8: carried byte by byte */
                        if (take > 0 && take + c > max_bytes)
                                break;
                        take += c;
                }
                (void) EVP_EncodeBlock(b64, (const unsigned char *) s + i, (int) take);
                len = snprintf(word, sizeof(word), "=?utf-8?B?%s?=", (const char *) b64);
                if (len < 0 || (size_t) len >= sizeof(word)) {
                        h->out->failed = true; /* cannot happen: max_bytes bounds the word */
                        return;
                }
                header_token(h, word, (size_t) len);
                i += take;
        }
}

/* Space-separated words as atoms, or one quoted-string folded at its spaces. */
static void header_words(HeaderLine *h, const char *s, size_t n, bool quote) {
        Buffer token = {0};
        size_t i = 0;

        while (i < n && s[i] == ' ')
                i++;
        if (i == n && quote)
                header_token(h, "\"\"", 2);
        for (bool first = true; i < n; first = false) {
                size_t end = i;
                while (end < n && s[end] != ' ')
                        end++;
                token.size = 0;
                if (first && quote)
                        buffer_append(&token, "\"", 1);
                for (size_t j = i; j < end; j++) {
                        if (quote && (s[j] == '"' || s[j] == '\\'))
                                buffer_append(&token, "\\", 1);
                        buffer_append(&token, &s[j], 1);
                }
                for (i = end; i < n && s[i] == ' '; i++)
                        ;
                if (i == n && quote)
                        buffer_append(&token, "\"", 1);
                if (token.failed)
                        break;
                header_token(h, token.data, token.size);
        }
        if (token.failed)
                h->out->failed = true;
        free(token.data);
}

static void quoted_printable(Buffer *out, const char *s, size_t n) {
        size_t column = 0;

        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                bool line_end = i + 1 == n || s[i + 1] == '\n' ||
                                (s[i + 1] == '\r' && i + 2 < n && s[i + 2] == '\n');
                bool literal =
                        (c > ' ' && c < 0x7f && c != '=') || ((c == ' ' || c == '\t') && !line_end);
                char token[4];

                if (c == '\n' || (c == '\r' && i + 1 < n && s[i + 1] == '\n')) {
                        i += c == '\r';
                        buffer_append(out, "\r\n", 2);
                        column = 0;
                        continue;
                }
                if (column + (literal ? 1 : 3) > QP_LINE_MAX - 1) {
                        buffer_append(out, "=\r\n", 3); /* a soft line break */
                        column = 0;
                }
                /* Some SMTP and mbox deliveries alter a line that starts with "." or "From ". */
                if (column == 0 &&
                    (c == '.' || (c == 'F' && n - i >= 5 && memcmp(s + i, "From ", 5) == 0)))
                        literal = false;
                if (literal)
                        buffer_append(out, (const char *) &c, 1);
                else {
                        (void) snprintf(token, sizeof(token), "=%02X", c);
                        buffer_append(out, token, 3);
                }
                column += literal ? 1 : 3;
        }
}

/* The one encoder of text for a message: a body into out, or header text onto h. */
static void mime_encode(Buffer *out, HeaderLine *h, MimeEncoding how, const char *s, size_t n) {
        bool quote = false;

        if (how == MIME_BODY)
                quoted_printable(out, s, n);
        else if (needs_encoded_words(s, n))
                header_encoded_words(h, s, n);
        else {
                /* A phrase of atoms, or else a quoted-string (RFC 5322 3.2.5). */
                for (size_t i = 0; how == MIME_PHRASE && i < n && !quote; i++)
                        quote = s[i] != ' ' && !is_atext((unsigned char) s[i]);
                header_words(h, s, n, quote);
        }
}

/* "Name <addr>" or "<addr>", on a line of its own when it fits on one and not on this one. */
static void header_mailbox(HeaderLine *h, const char *name, size_t name_len, const char *address,
                           size_t address_len) {
        size_t estimate;
        Buffer token = {0};

        for (; name_len > 0 && name[0] == ' '; name_len--)
                name++;
        while (name_len > 0 && name[name_len - 1] == ' ')
                name_len--;
        estimate = 1 + name_len + 2 + address_len + 1;
        if (!h->empty && h->column + estimate > HEADER_WIDTH && 1 + estimate <= HEADER_WIDTH)
                header_fold(h);
        if (name_len > 0)
                mime_encode(h->out, h, MIME_PHRASE, name, name_len);
        buffer_append(&token, "<", 1);
        buffer_append(&token, address, address_len);
        buffer_append(&token, ">", 1);
        if (token.failed)
                h->out->failed = true;
        else
                header_token(h, token.data, token.size);
        free(token.data);
}

/* RFC 5322 3.3 in the configured zone: "Tue, 19 May 2020 09:00:00 +0200". */
static void header_date(Buffer *out, const Model *m, int64_t now) {
        static const char *const weekdays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
        static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        int year, month, day;
        int32_t seconds, offset;
        Date d;

        tz_unix_to_local(m->tz, now, &d, &seconds, &offset);
        date_to_ymd(d, &year, &month, &day);
        buffer_printf(out, "Date: %s, %d %s %04d %02d:%02d:%02d %c%02d%02d\r\n",
                      weekdays[date_weekday(d) - 1], day, months[month - 1], year,
                      (int) (seconds / 3600), (int) (seconds / 60 % 60), (int) (seconds % 60),
                      offset < 0 ? '-' : '+', (int) (abs(offset) / 3600),
                      (int) (abs(offset) / 60 % 60));
}

static void hex(const unsigned char *p, size_t n, char *out) {
        for (size_t i = 0; i < n; i++)
                (void) snprintf(out + 2 * i, 3, "%02x", p[i]);
}

/* ---- the headers every message has ---- */

/* The mail_via transport's `from`, as config_load() split it, for the From header and the
 * Message-ID's domain. */
typedef struct Sender {
        const char *name;    /* NULL without one */
        const char *address; /* the addr-spec */
        const char *domain;  /* after the address's last '@' */
} Sender;

/* -EINVAL when there is no mail_via or from, or the recipient has no address. */
static int mail_sender(const Model *m, const Recipient *rcpt, Sender *ret) {
        const Transport *t = m->has_mail_via ? &m->transports[m->mail_via] : NULL;
        const char *at;

        if (!t || !t->from_address || rcpt->n_mail == 0)
                return -EINVAL;
        at = strrchr(t->from_address, '@');
        if (!at)
                return -EINVAL;
        *ret = (Sender){.name = t->from_name, .address = t->from_address, .domain = at + 1};
        return 0;
}

/* A message's names, all from the SHA-256 of its identity: the Message-ID
 * "<noticed.KEY@domain>", its key (32 hex digits) and, unless ret_boundary is NULL, a MIME
 * boundary (16 more).  Returns 0 or -ENOMEM. */
static int mail_names(const Sender *s, const char *identity, char **ret_message_id,
                      char ret_key[static 33], char *ret_boundary) {
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned digest_len = 0;

        if (EVP_Digest(identity, strlen(identity), digest, &digest_len, EVP_sha256(), NULL) != 1 ||
            digest_len < 24)
                return -ENOMEM;
        hex(digest, 16, ret_key);
        if (ret_boundary)
                hex(digest + 16, 8, ret_boundary);
        if (asprintf(ret_message_id, "<noticed.%s@%s>", ret_key, s->domain) < 0) {
                *ret_message_id = NULL;
                return -ENOMEM;
        }
        return 0;
}

/* From, To, Subject, Date, Message-ID and MIME-Version; then the content headers (CRLF-ended
 * lines), Auto-Submitted, X-Noticed-Reminder and the empty line that ends the header. */
static void mail_headers(Buffer *b, const Model *m, const Sender *s, const Recipient *rcpt,
                         const char *subject, int64_t now, const char *message_id,
                         const char *content_headers, const char *identity) {
        HeaderLine h;

        h = header_begin(b, "From");
        header_mailbox(&h, s->name, s->name ? strlen(s->name) : 0, s->address, strlen(s->address));
        buffer_append(b, "\r\n", 2);
        h = header_begin(b, "To");
        for (size_t i = 0; i < rcpt->n_mail; i++) {
                if (i > 0) {
                        buffer_append(b, ",", 1);
                        h.column++;
                }
                header_mailbox(&h, rcpt->name, strlen(rcpt->name), rcpt->mail[i],
                               strlen(rcpt->mail[i]));
        }
        buffer_append(b, "\r\n", 2);
        h = header_begin(b, "Subject");
        mime_encode(b, &h, MIME_UNSTRUCTURED, subject, strlen(subject));
        buffer_append(b, "\r\n", 2);
        header_date(b, m, now);
        buffer_printf(b,
                      "Message-ID: %s\r\n"
                      "MIME-Version: 1.0\r\n"
                      "%s"
                      "Auto-Submitted: auto-generated\r\n"
                      "X-Noticed-Reminder: %s\r\n"
                      "\r\n",
                      message_id, content_headers, identity);
}

/* Hands the message over to ret, taking message_id and subject; -ENOMEM when b failed (then
 * nothing is taken). */
static int mail_message_take(Buffer *b, char **message_id, char **subject, const char *key,
                             MailMessage *ret) {
        MailMessage msg = {.message_id = *message_id, .subject = *subject};

        memcpy(msg.key, key, sizeof(msg.key) - 1);
        msg.key[sizeof(msg.key) - 1] = '\0';
        msg.data = buffer_take(b, &msg.size);
        if (!msg.data)
                return -ENOMEM;
        *message_id = *subject = NULL;
        *ret = msg;
        return 0;
}

/* ---- messages ---- */

int mail_render(const Model *m, const Reminder *r, const char *id, int64_t now, MailMessage *ret) {
        const Recipient *rcpt;
        Sender sender;
        char key[33], boundary_hex[17], date[DATE_STRING_MAX];
        char content[96];
        char *subject = NULL, *body = NULL, *ics = NULL, *message_id = NULL;
        Buffer b = {0};
        int k;

        if (r->recipient >= m->n_recipients)
                return -EINVAL;
        rcpt = &m->recipients[r->recipient];
        k = mail_sender(m, rcpt, &sender);
        if (k < 0)
                return k;

        k = text_render(m, r, &subject, &body);
        if (k < 0)
                return k;
        k = mail_names(&sender, id, &message_id, key, boundary_hex);
        if (k < 0)
                goto finish;
        k = ical_render_milestones_language(m, rcpt->language, &r->milestone, 1, now, &ics);
        if (k < 0)
                goto finish;

        (void) snprintf(content, sizeof(content),
                        "Content-Type: multipart/mixed; boundary=\"=_noticed_%s\"\r\n",
                        boundary_hex);
        mail_headers(&b, m, &sender, rcpt, subject, now, message_id, content, id);
        buffer_printf(&b,
                      "This is a message in MIME format.\r\n"
                      "\r\n"
                      "--=_noticed_%s\r\n"
                      "Content-Type: text/plain; charset=utf-8\r\n"
                      "Content-Transfer-Encoding: quoted-printable\r\n"
                      "Content-Language: %s\r\n"
                      "\r\n",
                      boundary_hex, rcpt->language == LANGUAGE_EN ? "en" : "nl");
        mime_encode(&b, NULL, MIME_BODY, body, strlen(body));
        buffer_printf(&b,
                      "\r\n--=_noticed_%s\r\n"
                      "Content-Type: text/calendar; charset=utf-8; method=PUBLISH\r\n"
                      "Content-Transfer-Encoding: quoted-printable\r\n"
                      "Content-Disposition: attachment; filename=\"%s-%s.ics\"\r\n"
                      "\r\n",
                      boundary_hex, date_format(r->milestone.date, date),
                      milestone_kind_to_string(r->milestone.kind));
        mime_encode(&b, NULL, MIME_BODY, ics, strlen(ics));
        buffer_printf(&b, "\r\n--=_noticed_%s--\r\n", boundary_hex);
        k = mail_message_take(&b, &message_id, &subject, key, ret);
finish:
        free(b.data);
        free(subject);
        free(body);
        free(ics);
        free(message_id);
        return k;
}

int mail_render_plain(const Model *m, const Recipient *rc, const char *identity,
                      const char *subject, const char *body, int64_t now, MailMessage *ret) {
        Sender sender;
        char key[33], content[160];
        char *message_id = NULL, *subject_copy = NULL;
        Buffer b = {0};
        int k;

        /* Both go into the header; the identity as a field's whole value, never folded, so it
         * must fit one line of at most 998 octets (RFC 5322 2.1.1). */
        if (!rc || !subject || !body || !identity || !identity[0] ||
            !validate_header_text(identity) || !validate_header_text(subject) ||
            strlen("X-Noticed-Reminder: ") + strlen(identity) > 998)
                return -EINVAL;
        k = mail_sender(m, rc, &sender);
        if (k < 0)
                return k;
        k = mail_names(&sender, identity, &message_id, key, NULL);
        if (k < 0)
                return k;
        subject_copy = strdup(subject);
        if (!subject_copy) {
                free(message_id);
                return -ENOMEM;
        }

        (void) snprintf(content, sizeof(content),
                        "Content-Type: text/plain; charset=utf-8\r\n"
                        "Content-Transfer-Encoding: quoted-printable\r\n"
                        "Content-Language: %s\r\n",
                        rc->language == LANGUAGE_EN ? "en" : "nl");
        mail_headers(&b, m, &sender, rc, subject, now, message_id, content, identity);
        mime_encode(&b, NULL, MIME_BODY, body, strlen(body));
        /* A body without a last line end still ends in CRLF: a soft line break, which adds
         * nothing to the text. */
        if (b.size > 0 && b.data[b.size - 1] != '\n')
                buffer_append(&b, "=\r\n", 3);
        k = mail_message_take(&b, &message_id, &subject_copy, key, ret);
        free(b.data);
        free(message_id);
        free(subject_copy);
        return k;
}

void mail_message_done(MailMessage *msg) {
        free(msg->data);
        free(msg->message_id);
        free(msg->subject);
        *msg = (MailMessage){0};
}
