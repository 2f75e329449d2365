/* Words, amounts and JSON for milestones and reminders. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noticed/identity.h"
#include "noticed/macro.h"
#include "noticed/render.h"

const char *render_weekday_short(Language language, Date d) {
        static const char *const nl[] = {"ma", "di", "wo", "do", "vr", "za", "zo"};
        static const char *const en[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
        int w = date_weekday(d) - 1;

        return language == LANGUAGE_EN ? en[w] : nl[w];
}

char *render_money(Language language, const char currency[4], int64_t cents,
                   char buf[static RENDER_MONEY_MAX]) {
        char digits[24], grouped[40];
        char thousands = language == LANGUAGE_EN ? ',' : '.';
        char decimal = language == LANGUAGE_EN ? '.' : ',';
        bool euro = strcmp(currency, "EUR") == 0;
        uint64_t units = (uint64_t) (cents < 0 ? -cents : cents) / 100;
        unsigned fraction = (unsigned) ((uint64_t) (cents < 0 ? -cents : cents) % 100);
        size_t n, g = 0;

        n = (size_t) snprintf(digits, sizeof(digits), "%" PRIu64, units);
        for (size_t i = 0; i < n; i++) {
                if (i > 0 && (n - i) % 3 == 0)
                        grouped[g++] = thousands;
                grouped[g++] = digits[i];
        }
        grouped[g] = '\0';
        (void) snprintf(buf, RENDER_MONEY_MAX, "%s%s%s%s%c%02u", cents < 0 ? "-" : "",
                        euro ? "€" : currency, euro && language == LANGUAGE_EN ? "" : " ", grouped,
                        decimal, fraction);
        return buf;
}

char *render_offset(const Reminder *r, char buf[static DURATION_STRING_MAX]) {
        if (!r->overdue)
                return duration_format(r->offset, buf);
        (void) snprintf(buf, DURATION_STRING_MAX, "+%" PRId32 "d", r->offset.count);
        return buf;
}

const char *render_milestone_title(const Model *m, const Milestone *ms) {
        const Commitment *c = &m->commitments[ms->commitment];

        if (ms->kind == MILESTONE_DEADLINE && ms->deadline >= 0)
                return c->deadlines[ms->deadline].title;
        return c->title;
}

json_t *render_channels_json(const Model *m, const Recipient *r) {
        json_t *channels = json_array();

        if (channels && r->n_mail > 0 && m->has_mail_via &&
            json_array_append_new(channels, json_string("mail")) < 0)
                goto fail;
        for (uint32_t ch = 1; channels && ch <= r->n_webhooks; ch++) {
                _cleanup_free_ char *name = identity_channel(m, r, ch);
                if (!name || json_array_append_new(channels, json_string(name)) < 0)
                        goto fail;
        }
        return channels;
fail:
        json_decref(channels);
        return NULL;
}

json_t *render_milestone_json(const Model *m, const Milestone *ms) {
        char date[DATE_STRING_MAX];

        return json_pack("{s:s, s:s, s:s, s:I, s:s}", "date", date_format(ms->date, date),
                         "commitment", m->commitments[ms->commitment].id, "kind",
                         milestone_kind_to_string(ms->kind), "cycle", (json_int_t) ms->cycle,
                         "title", render_milestone_title(m, ms));
}

json_t *render_reminder_json(const Model *m, const Reminder *r) {
        const Recipient *rcpt = &m->recipients[r->recipient];
        char at[TZ_TIMESTAMP_MAX], milestone[DATE_STRING_MAX], offset[DURATION_STRING_MAX];
        json_t *channels = render_channels_json(m, rcpt);

        if (!channels)
                return NULL;
        /* "o" steals the reference to channels, also when packing fails. */
        return json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:o}", "at",
                         tz_format_rfc3339(r->at, r->utc_offset, at), "commitment",
                         m->commitments[r->milestone.commitment].id, "kind",
                         r->overdue ? "overdue" : milestone_kind_to_string(r->milestone.kind),
                         "cycle", (json_int_t) r->milestone.cycle, "milestone",
                         date_format(r->milestone.date, milestone), "offset",
                         render_offset(r, offset), "recipient", rcpt->id, "channels", channels);
}

char *render_reminder_id(const Model *m, const Reminder *r) {
        ReminderIdentity x;

        if (identity_from_reminder(m, r, 0, &x) < 0)
                return NULL;
        char *id = TAKE_PTR(x.id);
        identity_done(&x);
        return id;
}
