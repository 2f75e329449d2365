/* Words, amounts and JSON for milestones and reminders. */

#include <errno.h>
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

void render_milestone_write(JsonWriter *w, const Model *m, const Milestone *ms) {
        char date[DATE_STRING_MAX];

        output_json_object_begin(w);
        output_json_string(w, "date", date_format(ms->date, date));
        output_json_string(w, "commitment", m->commitments[ms->commitment].id);
        output_json_string(w, "kind", milestone_kind_to_string(ms->kind));
        output_json_integer(w, "cycle", ms->cycle);
        output_json_string(w, "title", render_milestone_title(m, ms));
}

void render_reminder_write(JsonWriter *w, const Model *m, const Reminder *r, const char *at) {
        char milestone[DATE_STRING_MAX], offset[DURATION_STRING_MAX];

        output_json_object_begin(w);
        output_json_string(w, "at", at);
        output_json_string(w, "commitment", m->commitments[r->milestone.commitment].id);
        output_json_string(w, "kind",
                           r->overdue ? "overdue" : milestone_kind_to_string(r->milestone.kind));
        output_json_integer(w, "cycle", r->milestone.cycle);
        output_json_string(w, "milestone", date_format(r->milestone.date, milestone));
        output_json_string(w, "offset", render_offset(r, offset));
        output_json_string(w, "recipient", m->recipients[r->recipient].id);
}

int render_channels_write(JsonWriter *w, const Model *m, const Recipient *r) {
        output_json_array_begin(w, "channels");
        if (r->n_mail > 0 && m->has_mail_via)
                output_json_array_string(w, "mail");
        for (uint32_t ch = 1; ch <= r->n_webhooks; ch++) {
                _cleanup_free_ char *name = identity_channel(m, r, ch);
                if (!name)
                        return -ENOMEM;
                output_json_array_string(w, name);
        }
        output_json_array_end(w);
        return 0;
}

char *render_reminder_id(const Model *m, const Reminder *r) {
        ReminderIdentity x;

        if (identity_from_reminder(m, r, 0, &x) < 0)
                return NULL;
        char *id = TAKE_PTR(x.id);
        identity_done(&x);
        return id;
}
