#pragma once
/* Text: the words a recipient reads about a reminder, and a calendar about a milestone.
 *
 * The words come from templates, the built-in Dutch and English ones (words.h) or the
 * administrator's files (noticed.conf(5) "Templates"), all expanded by template.h's engine.
 * Pure: the model and the reminder or milestone go in, UTF-8 text with LF line endings comes
 * out; templates were read and checked (template_check()) at config load.  Returns 0 or -errno
 * and never logs. */

#include <stddef.h>

#include "noticed/model.h"
#include "noticed/plan.h"

/* The plain text alone, subject and body (LF line endings) in the recipient's language, for
 * webhooks.  Returns 0, -ENOMEM, or -EINVAL for a template template_check() would refuse
 * (config_load() does). */
int text_render(const Model *m, const Reminder *r, char **ret_subject, char **ret_body);

/* The words of a milestone without a recipient, for calendars: a summary ("Besluit over
 * Deelname Burgernet") and a description (what must happen by when, what follows if it does
 * not, the notice period and the reference; LF line endings).  Returns 0 or -ENOMEM. */
int text_milestone(const Model *m, Language language, const Milestone *ms, char **ret_summary,
                   char **ret_description);

#define TEXT_DATE_MAX 48 /* "donderdag 30 september 2020" and room for any year of a Date */
/* A date in words as every text writes it: "dinsdag 19 mei 2020", "Tuesday 19 May 2020".
 * Returns buf. */
char *text_date(Language language, Date d, char buf[static TEXT_DATE_MAX]);
