#pragma once
/* iCalendar (RFC 5545): milestones as all-day events, built with libical.
 *
 * One VEVENT per milestone with a UID derived from (commitment, kind, cycle, date), so that a
 * calendar that imports the same milestone twice, from a mail or from `noticectl export-ics`,
 * updates one event instead of adding another; each event carries a VALARM at the commitment's
 * send_time, the policy's shortest non-zero offset before the milestone.  Pure: `now` is the
 * DTSTAMP.  Returns 0 or -errno and never logs. */

#include <stddef.h>
#include <stdint.h>

#include "noticed/model.h"
#include "noticed/plan.h"

/* A VCALENDAR (METHOD:PUBLISH, PRODID, VERSION:2.0) with one VEVENT per milestone (all-day,
 * DTSTART;VALUE=DATE, DTEND the next day, stable UID, SUMMARY, DESCRIPTION, DTSTAMP from now),
 * each with a VALARM (ACTION:DISPLAY), in the model's language.  CRLF lines, folded at 75
 * octets.  *ret is malloc'd.  Returns 0 or -ENOMEM. */
int ical_render_milestones(const Model *m, const Milestone *ms, size_t n, int64_t now, char **ret);
/* The same in the given language (a mail's calendar part speaks its recipient's). */
int ical_render_milestones_language(const Model *m, Language language, const Milestone *ms,
                                    size_t n, int64_t now, char **ret);

/* The event's UID: "commitment/kind/cycle/YYYY-MM-DD@noticed", the kind "deadline:ID" for a
 * one-off deadline.  Malloc'd; NULL when out of memory. */
char *ical_milestone_uid(const Model *m, const Milestone *ms);
