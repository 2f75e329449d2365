#pragma once
/* Mail: one reminder, or one plain message (mail_render_plain()), as a complete RFC 5322 message.
 *
 * The words come from text.h, in the recipient's language; the message is UTF-8 with an
 * RFC 2047 subject, a quoted-printable text/plain part and a text/calendar part (ical.h), with a
 * Message-ID derived from the reminder's identity so that every retry is the same message.
 * Pure: the model, the reminder and `now` go in, bytes come out; templates were read at config
 * load.  Returns 0 or -errno and never logs. */

#include <stddef.h>
#include <stdint.h>

#include "noticed/model.h"
#include "noticed/plan.h"

typedef struct MailMessage {
        char *data; /* the whole message, CRLF line endings, ready for maildir/sendmail/SMTP */
        size_t size;
        char *message_id; /* "<...@domain>", the value of the Message-ID header */
        char *subject;    /* decoded UTF-8 subject, for logs and webhooks */
        char key[33];     /* the Message-ID's 32 hex digits: a name for the reminder that file
                           * names can carry (see local_maildir()) */
} MailMessage;

/* One message for reminder r to its recipient's mail addresses, From the mail_via transport's
 * `from`; id is r's identity (identity.h), which names it (Message-ID).  now (Unix seconds) is
 * the Date header and the iCalendar DTSTAMP.  Returns 0, -ENOMEM, -EINVAL (the recipient has
 * no mail address or there is no mail_via/from). */
int mail_render(const Model *m, const Reminder *r, const char *id, int64_t now, MailMessage *ret);
/* A plain message (text/plain only, no calendar) to recipient rc's mail addresses, From the
 * mail_via transport's `from`: an escalation or a test message (message.h).  identity names it
 * as a reminder id names a reminder: it goes into X-Noticed-Reminder and, hashed, into the
 * Message-ID and key, so the same identity is the same message on every attempt.  The body has
 * LF line endings (text.h); it is sent quoted-printable, Content-Language rc's language.
 * Returns 0, -ENOMEM, -EINVAL (no addresses, no mail_via or from; an identity or subject that
 * validate_header_text() refuses, an empty identity, or one too long for one header line). */
int mail_render_plain(const Model *m, const Recipient *rc, const char *identity,
                      const char *subject, const char *body, int64_t now, MailMessage *ret);
/* Frees the members and zeroes the struct; safe on a zeroed struct. */
void mail_message_done(MailMessage *msg);
