/* Milestones as iCalendar events, through libical.
 *
 * libical does the RFC 5545 work that is easy to get subtly wrong by hand: escaping of TEXT
 * values, folding at 75 octets without splitting a UTF-8 character, CRLF line ends.  The words
 * come from text.c, so that an event says what the mail about it says. */

#include <errno.h>
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noticed/ical.h"
#include "noticed/text.h"

#ifndef NOTICED_VERSION
#define NOTICED_VERSION "unknown"
#endif

char *ical_milestone_uid(const Model *m, const Milestone *ms) {
        const Commitment *c = &m->commitments[ms->commitment];
        bool deadline = ms->kind == MILESTONE_DEADLINE && ms->deadline >= 0;
        char date[DATE_STRING_MAX];
        char *uid;

        if (asprintf(&uid, "%s/%s%s%s/%u/%s@noticed", c->id, milestone_kind_to_string(ms->kind),
                     deadline ? ":" : "", deadline ? c->deadlines[ms->deadline].id : "",
                     (unsigned) ms->cycle, date_format(ms->date, date)) < 0)
                return NULL;
        return uid;
}

static struct icaltimetype ical_date(Date d) {
        struct icaltimetype t = icaltime_null_date();

        date_to_ymd(d, &t.year, &t.month, &t.day);
        return t;
}

/* The alarm goes off at send_time on the day of the policy's shortest non-zero offset before
 * the milestone (on the day itself when every offset is 0d), like the last reminder before it.
 * The trigger is relative to the start of the all-day event, local midnight. */
static int alarm_trigger_seconds(const Model *m, const Milestone *ms) {
        const Policy *p = &m->commitments[ms->commitment].policy;
        int64_t days = 0;

        for (size_t i = p->n_offsets; i > 0; i--)
                if (p->offsets[i - 1].count > 0) {
                        days = ms->date - date_subtract(ms->date, p->offsets[i - 1]);
                        break;
                }
        /* libical's durations are int seconds: offsets of up to 10,000 years are not. */
        if (days > 20000)
                days = 20000;
        return (int) (-days * 86400 + p->send_time);
}

static int add_property(icalcomponent *parent, icalproperty *p) {
        if (!p)
                return -ENOMEM;
        icalcomponent_add_property(parent, p);
        return 0;
}

static int add_event(icalcomponent *calendar, const Model *m, Language language,
                     const Milestone *ms, int64_t now) {
        icalcomponent *event = icalcomponent_new_vevent(), *alarm = icalcomponent_new_valarm();
        struct icaltriggertype trigger = {
                .time = icaltime_null_time(),
                .duration = icaldurationtype_from_int(alarm_trigger_seconds(m, ms))};
        char *uid = ical_milestone_uid(m, ms), *summary = NULL, *description = NULL;
        int r = -ENOMEM;

        if (!event || !alarm || !uid || text_milestone(m, language, ms, &summary, &description) < 0)
                goto finish;
        if (add_property(event, icalproperty_new_uid(uid)) < 0 ||
            add_property(event, icalproperty_new_dtstamp(icaltime_from_timet_with_zone(
                                        (time_t) now, 0, icaltimezone_get_utc_timezone()))) < 0 ||
            add_property(event, icalproperty_new_dtstart(ical_date(ms->date))) < 0 ||
            add_property(event, icalproperty_new_dtend(ical_date(ms->date + 1))) < 0 ||
            add_property(event, icalproperty_new_summary(summary)) < 0 ||
            add_property(event, icalproperty_new_description(description)) < 0 ||
            add_property(event, icalproperty_new_transp(ICAL_TRANSP_TRANSPARENT)) < 0 ||
            add_property(alarm, icalproperty_new_action(ICAL_ACTION_DISPLAY)) < 0 ||
            add_property(alarm, icalproperty_new_trigger(trigger)) < 0 ||
            add_property(alarm, icalproperty_new_description(summary)) < 0)
                goto finish;
        icalcomponent_add_component(event, alarm);
        alarm = NULL;
        icalcomponent_add_component(calendar, event);
        event = NULL;
        r = 0;
finish:
        if (alarm)
                icalcomponent_free(alarm);
        if (event)
                icalcomponent_free(event);
        free(uid);
        free(summary);
        free(description);
        return r;
}

int ical_render_milestones_language(const Model *m, Language language, const Milestone *ms,
                                    size_t n, int64_t now, char **ret) {
        icalcomponent *calendar = icalcomponent_new_vcalendar();
        char *text = NULL;
        int r = -ENOMEM;

        if (!calendar)
                return -ENOMEM;
        if (add_property(calendar, icalproperty_new_prodid("-//noticed//noticed " NOTICED_VERSION
                                                           "//EN")) < 0 ||
            add_property(calendar, icalproperty_new_version("2.0")) < 0 ||
            add_property(calendar, icalproperty_new_calscale("GREGORIAN")) < 0 ||
            add_property(calendar, icalproperty_new_method(ICAL_METHOD_PUBLISH)) < 0)
                goto finish;
        for (size_t i = 0; i < n; i++)
                if ((r = add_event(calendar, m, language, &ms[i], now)) < 0)
                        goto finish;
        r = -ENOMEM;
        text = icalcomponent_as_ical_string_r(calendar);
        if (!text)
                goto finish;
        /* Handed over as malloc()ed memory, whatever allocator libical was built with. */
        *ret = strdup(text);
        icalmemory_free_buffer(text);
        if (*ret)
                r = 0;
finish:
        icalcomponent_free(calendar);
        return r;
}

int ical_render_milestones(const Model *m, const Milestone *ms, size_t n, int64_t now, char **ret) {
        return ical_render_milestones_language(m, m->language, ms, n, now, ret);
}
