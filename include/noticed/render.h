#pragma once
/* Rendering: milestones and reminders as the words, numbers and JSON people and programs read.
 *
 * The JSON rows of list, simulate and upcoming go through output.h's writer; money is formatted
 * from integer cents so that no rounding happens here.  Pure: values in, strings or JSON out (the
 * writer's buffer reaches its stream only when full or ended). */

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "noticed/model.h"
#include "noticed/output.h"
#include "noticed/plan.h"

#define RENDER_MONEY_MAX 48

/* "ma", "di", ... or "Mon", "Tue", ... */
const char *render_weekday_short(Language language, Date d);
/* "€ 12.660,88" (nl) or "€12,660.88" (en); other currencies by code: "USD 1,000.00". */
char *render_money(Language language, const char currency[4], int64_t cents,
                   char buf[static RENDER_MONEY_MAX]);
/* "30d" before the milestone; "+1d" after it for an overdue message. */
char *render_offset(const Reminder *r, char buf[static DURATION_STRING_MAX]);
/* The deadline's own title, or the commitment's. */
const char *render_milestone_title(const Model *m, const Milestone *ms);
/* The channels a recipient is reached by, as a JSON array of strings: "mail" (through mail_via)
 * and "webhook:NAME" for each of its webhooks.  NULL only when out of memory. */
json_t *render_channels_json(const Model *m, const Recipient *r);

/* A reminder's id (identity.h), e.g. "burgernet-twente/decision/1/2020-05-19/30d/enschede".
 * Malloc'd; NULL when out of memory. */
char *render_reminder_id(const Model *m, const Reminder *r);

/* The contract's objects (DESIGN.md, noticectl), as the next element of w.  A milestone's is
 * whole but still open: the caller adds what it wants and ends it with output_json_object_end().
 * A reminder's stops before "channels", which render_channels_write() or the caller writes; `at`
 * is its timestamp (tz_format_rfc3339_cached()). */
void render_milestone_write(JsonWriter *w, const Model *m, const Milestone *ms);
void render_reminder_write(JsonWriter *w, const Model *m, const Reminder *r, const char *at);
/* "channels":[...], as render_channels_json() lists them: 0, or -ENOMEM. */
int render_channels_write(JsonWriter *w, const Model *m, const Recipient *r);
