/* The words of messages that are not reminders: an escalation of a delivery that failed, and
 * the test message of `noticectl test-send`.
 *
 * An escalation is written from the ledger's record of the failed reminder, so that it can be
 * sent after a reload that removed the commitment or the recipient: whatever the model still
 * knows (titles, names, the transport) makes the text readable, the ledger's ids stand in for
 * the rest.  What a server replied is quoted on one line, cut to REPLY_MAX bytes: it is the
 * one text here that no config check has seen.  The milestone phrases repeat words.c's
 * ("besluit over ...") with the article a sentence needs; dates in words come from text.c. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noticed/buffer.h"
#include "noticed/message.h"
#include "noticed/plan.h"
#include "noticed/text.h"
#include "noticed/tz.h"

#ifndef NOTICED_VERSION
#define NOTICED_VERSION "unknown"
#endif

#define REPLY_MAX 500 /* bytes of a server's reply quoted in an escalation */

typedef struct MessageWords {
        /* The failed message and its milestone.  Arguments: the commitment's title and the date
         * in words; a deadline's phrase has the deadline's title first, any other kind's the
         * kind as the ledger spells it. */
        const char *reminder, *overdue; /* "De herinnering over", before a milestone phrase */
        const char *milestone[5];       /* by MilestoneKind */
        const char *other_milestone;
        const char *subject, *overdue_subject; /* recipient, commitment */
        const char *not_delivered;             /* recipient */
        const char *tried_once, *tried;        /* ([attempts,] channel) */
        const char *mail, *webhook, *channel;  /* "per e-mail", "via webhook %s", "via %s" */
        const char *reply, *no_reply;
        const char *what_now, *tell_another_way; /* recipient */
        const char *check_transport, *check_mail_via;
        const char *history; /* reminder id, channel */
        const char *signature;
        /* The test message: recipient name, recipient id, channel, date, time, zone. */
        const char *test_subject, *test_body;
} MessageWords;

static const MessageWords words_nl = {
        .reminder = "De herinnering over",
        .overdue = "Het bericht ‘termijn verstreken’ over",
        .milestone =
                {
                        [MILESTONE_DEADLINE] = "de termijn ‘%s’ van %s, uiterlijk %s",
                        [MILESTONE_DECISION] = "het besluit over %s, uiterlijk %s",
                        [MILESTONE_NOTICE] = "de opzegging van %s, uiterlijk %s",
                        [MILESTONE_TERM_END] = "het einde van de looptijd van %s, op %s",
                        [MILESTONE_REVIEW] = "de heroverweging van %s, uiterlijk %s",
                },
        .other_milestone = "‘%s’ van %s, op %s",
        .subject = "Niet afgeleverd: herinnering aan %s over %s",
        .overdue_subject = "Niet afgeleverd: bericht ‘termijn verstreken’ aan %s over %s",
        .not_delivered = ", is niet afgeleverd aan %s.",
        .tried_once = "Er is 1 keer geprobeerd het %s af te leveren.",
        .tried = "Er is %u keer geprobeerd het %s af te leveren.",
        .mail = "per e-mail",
        .webhook = "via webhook ‘%s’",
        .channel = "via ‘%s’",
        .reply = "Het laatste antwoord of de laatste fout was:\n\n    %s\n",
        .no_reply = "Er is geen antwoord of foutmelding vastgelegd.\n",
        .what_now = "Wat nu:\n",
        .tell_another_way = "- Zorg dat %s het op een andere manier hoort, bijvoorbeeld per "
                            "telefoon.\n",
        .check_transport = "- Controleer de instellingen van transport ‘%s’ in de configuratie "
                           "van noticed, en de server waar het bericht heen ging.\n",
        .check_mail_via = "- Controleer het transport voor e-mail (mail_via) in de configuratie "
                          "van noticed, en de server waar het bericht heen ging.\n",
        .history = "In noticectl history: %s, kanaal %s.\n",
        .signature = "Dit bericht is automatisch verstuurd door noticed.\n",
        .test_subject = "[noticed] Testbericht voor %s %s",
        .test_body = "Dit is een testbericht van noticed. Er hoeft niets te gebeuren.\n"
                     "\n"
                     "Het is verstuurd aan %s (%s) %s, op %s om %s (%s). Komt het aan, dan "
                     "komen de herinneringen van noticed langs deze weg ook aan.\n"
                     "\n"
                     "noticed " NOTICED_VERSION "\n",
};

static const MessageWords words_en = {
        .reminder = "The reminder about",
        .overdue = "The “deadline passed” message about",
        .milestone =
                {
                        [MILESTONE_DEADLINE] = "the deadline “%s” of %s, due %s",
                        [MILESTONE_DECISION] = "the decision on %s, due %s",
                        [MILESTONE_NOTICE] = "the notice of termination of %s, due %s",
                        [MILESTONE_TERM_END] = "the end of term of %s on %s",
                        [MILESTONE_REVIEW] = "the review of %s, due %s",
                },
        .other_milestone = "“%s” of %s on %s",
        .subject = "Not delivered: reminder to %s about %s",
        .overdue_subject = "Not delivered: “deadline passed” message to %s about %s",
        .not_delivered = ", was not delivered to %s.",
        .tried_once = "It was tried once %s.",
        .tried = "It was tried %u times %s.",
        .mail = "by mail",
        .webhook = "by webhook “%s”",
        .channel = "by “%s”",
        .reply = "The last reply or error was:\n\n    %s\n",
        .no_reply = "No reply or error was recorded.\n",
        .what_now = "What to do now:\n",
        .tell_another_way = "- Make sure %s hears of it another way, by phone for instance.\n",
        .check_transport = "- Check the settings of transport “%s” in noticed's configuration, "
                           "and the server the message went to.\n",
        .check_mail_via = "- Check the transport for mail (mail_via) in noticed's configuration, "
                          "and the server the message went to.\n",
        .history = "In noticectl history: %s, channel %s.\n",
        .signature = "This message was sent automatically by noticed.\n",
        .test_subject = "[noticed] Test message for %s %s",
        .test_body = "This is a test message from noticed. Nothing needs to be done.\n"
                     "\n"
                     "It was sent to %s (%s) %s on %s at %s (%s). If it arrives, noticed's "
                     "reminders arrive this way too.\n"
                     "\n"
                     "noticed " NOTICED_VERSION "\n",
};

static const MessageWords *words_of(Language language) {
        return language == LANGUAGE_EN ? &words_en : &words_nl;
}

/* s with every control character (newlines too unless keep_newlines) as a space and every byte
 * that is not UTF-8 as U+FFFD, at most max bytes of it and then "…": a text that cannot break
 * a header, a line or the charset, whatever a server answered.  Malloc'd; NULL when out of
 * memory. */
static char *clean_text(const char *s, size_t max, bool keep_newlines) {
        const unsigned char *p = (const unsigned char *) s;
        size_t n = strlen(s);
        Buffer b = {0};

        buffer_puts(&b, ""); /* "" stays "", not NULL */
        for (size_t i = 0, len; i < n; i += len) {
                len = utf8_char_length(p + i, n - i);
                if (b.size + (len ? len : 3) > max) {
                        buffer_puts(&b, "…");
                        break;
                }
                if (len == 0) {
                        buffer_puts(&b, "\xef\xbf\xbd");
                        len = 1;
                } else if (p[i] == '\n' && keep_newlines)
                        buffer_append(&b, "\n", 1);
                else if (p[i] < 0x20 || p[i] == 0x7f || (p[i] == 0xc2 && p[i + 1] < 0xa0))
                        buffer_append(&b, " ", 1); /* C0, DEL, C1 */
                else
                        buffer_append(&b, s + i, len);
        }
        return buffer_take(&b, NULL);
}

/* Clean subject and body handed over; -ENOMEM when either failed. */
static int take_texts(Buffer *subject, Buffer *body, char **ret_subject, char **ret_body) {
        char *s = buffer_take(subject, NULL), *b = buffer_take(body, NULL);
        char *cs = s ? clean_text(s, SIZE_MAX, false) : NULL;
        char *cb = b ? clean_text(b, SIZE_MAX, true) : NULL;

        free(s);
        free(b);
        if (!cs || !cb) {
                free(cs);
                free(cb);
                return -ENOMEM;
        }
        *ret_subject = cs;
        *ret_body = cb;
        return 0;
}

/* "per e-mail", "via webhook ‘teams’".  Malloc'd; NULL when out of memory. */
static char *channel_phrase(const MessageWords *w, const char *channel) {
        Buffer b = {0};

        if (strcmp(channel, "mail") == 0)
                buffer_puts(&b, w->mail);
        else if (strncmp(channel, "webhook:", 8) == 0)
                buffer_printf(&b, w->webhook, channel + 8);
        else
                buffer_printf(&b, w->channel, channel);
        return buffer_take(&b, NULL);
}

/* The identity's kind as a milestone kind, or -1. */
static int kind_from_string(const char *kind) {
        static const char *const names[] = {
                [MILESTONE_DEADLINE] = "deadline", [MILESTONE_DECISION] = "decision",
                [MILESTONE_NOTICE] = "notice",     [MILESTONE_TERM_END] = "term_end",
                [MILESTONE_REVIEW] = "review",
        };

        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (strcmp(kind, names[i]) == 0)
                        return (int) i;
        return -1;
}

/* "het besluit over Deelname Burgernet, uiterlijk dinsdag 19 mei 2020".  c is the commitment
 * when the model still has it. */
static void milestone_phrase(Buffer *out, const MessageWords *w, Language language,
                             const Commitment *c, const ReminderIdentity *x) {
        const char *title = c ? c->title : x->commitment;
        int kind = kind_from_string(x->kind);
        char date[TEXT_DATE_MAX];
        Date d;

        if (date_parse(x->milestone, &d) == 0)
                (void) text_date(language, d, date);
        else
                (void) snprintf(date, sizeof(date), "%s", x->milestone);
        if (kind < 0)
                buffer_printf(out, w->other_milestone, x->kind, title, date);
        else if (kind == MILESTONE_DEADLINE) {
                const char *deadline = x->deadline ? x->deadline : title;

                for (size_t i = 0; c && x->deadline && i < c->n_deadlines; i++)
                        if (strcmp(c->deadlines[i].id, x->deadline) == 0)
                                deadline = c->deadlines[i].title;
                buffer_printf(out, w->milestone[kind], deadline, title, date);
        } else
                buffer_printf(out, w->milestone[kind], title, date);
}

int message_escalation_text(const Model *m, const Escalation *e, Language language,
                            char **ret_subject, char **ret_body) {
        const MessageWords *w = words_of(language);
        const ReminderIdentity *x = e->failed;
        const Commitment *c = NULL;
        const char *recipient, *transport = NULL;
        bool overdue;
        Buffer subject = {0}, body = {0};
        char *reply = NULL, *channel = NULL;
        size_t i;
        int r = -ENOMEM;

        if (!x || !x->id || !x->channel || !x->commitment || !x->kind || !x->milestone ||
            !x->offset || !x->recipient)
                return -EINVAL;
        recipient = x->recipient;
        if (model_find_commitment(m, x->commitment, &i) == 0)
                c = &m->commitments[i];
        if (model_find_recipient(m, x->recipient, &i) == 0)
                recipient = m->recipients[i].name;
        if (strncmp(x->channel, "webhook:", 8) == 0)
                transport = x->channel + 8;
        else if (strcmp(x->channel, "mail") != 0)
                transport = x->channel;
        else if (m->has_mail_via)
                transport = m->transports[m->mail_via].id;
        overdue = identity_is_overdue(x);
        channel = channel_phrase(w, x->channel);
        if (!channel)
                goto finish;
        if (e->reply && e->reply[0]) {
                reply = clean_text(e->reply, REPLY_MAX, false);
                if (!reply)
                        goto finish;
        }

        buffer_printf(&subject, overdue ? w->overdue_subject : w->subject, recipient,
                      c ? c->title : x->commitment);

        /* What failed, to whom, how and how often; what the server said. */
        buffer_printf(&body, "%s ", overdue ? w->overdue : w->reminder);
        milestone_phrase(&body, w, language, c, x);
        buffer_printf(&body, w->not_delivered, recipient);
        buffer_puts(&body, " ");
        if (e->attempts == 1)
                buffer_printf(&body, w->tried_once, channel);
        else
                buffer_printf(&body, w->tried, e->attempts, channel);
        buffer_puts(&body, "\n\n");
        if (reply)
                buffer_printf(&body, w->reply, reply);
        else
                buffer_puts(&body, w->no_reply);
        /* What to do now. */
        buffer_puts(&body, "\n");
        buffer_puts(&body, w->what_now);
        buffer_printf(&body, w->tell_another_way, recipient);
        if (transport)
                buffer_printf(&body, w->check_transport, transport);
        else
                buffer_puts(&body, w->check_mail_via);
        buffer_puts(&body, "\n");
        buffer_printf(&body, w->history, x->id, x->channel);
        buffer_puts(&body, "\n");
        buffer_puts(&body, w->signature);

        r = take_texts(&subject, &body, ret_subject, ret_body);
finish:
        free(subject.data);
        free(body.data);
        free(reply);
        free(channel);
        return r;
}

int message_test_text(const Model *m, const Recipient *rc, const char *channel, int64_t now,
                      char **ret_subject, char **ret_body) {
        const MessageWords *w;
        Buffer subject = {0}, body = {0};
        char date[TEXT_DATE_MAX], hms[16], *how;
        int32_t seconds, utc_offset;
        Date d;

        if (!rc || !channel)
                return -EINVAL;
        w = words_of(rc->language);
        tz_unix_to_local(m->tz, now, &d, &seconds, &utc_offset);
        (void) text_date(rc->language, d, date);
        (void) snprintf(hms, sizeof(hms), "%02d:%02d:%02d", (int) (seconds / 3600),
                        (int) (seconds / 60 % 60), (int) (seconds % 60));
        how = channel_phrase(w, channel);
        if (!how)
                return -ENOMEM;

        buffer_printf(&subject, w->test_subject, rc->name, how);
        buffer_printf(&body, w->test_body, rc->name, rc->id, how, date, hms, tz_name(m->tz));
        free(how);
        return take_texts(&subject, &body, ret_subject, ret_body);
}
