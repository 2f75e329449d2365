#pragma once
/* Words: the Dutch and English of every text noticed writes for a reader.
 *
 * One table a language: weekdays, months and units, the names and sentences of each kind of
 * milestone (one-line templates, expanded by template.h), the consequences of a renewal, a
 * calendar event's description and the two built-in message templates.  Pure: data; the
 * sentences' placeholders are those of template.h. */

#include <stdint.h>

#include "noticed/date.h"
#include "noticed/model.h"

/* What a milestone's term_end means for the commitment, for ${consequence}. */
typedef enum RenewalOutcome {
        OUTCOME_TACIT,      /* without notice, a tacit renewal until ${renewal_end} */
        OUTCOME_INDEFINITE, /* without notice, on without end */
        OUTCOME_NONE,       /* ends at term_end regardless */
        OUTCOME_SERVED,     /* notice was served: it ends */
        OUTCOME_COUNT,
} RenewalOutcome;

/* One language's words.  The sentences are one-line templates; the message templates are the
 * built-in ones (template_builtin()). */
typedef struct Words {
        const char *weekdays[7], *months[12];
        const char *unit_one[4], *unit_many[4]; /* d, w, m, y */
        const char *today, *left_prefix, *left_suffix, *ago_suffix, *cost_to, *cost_suffix;
        const char *kinds[5];     /* by MilestoneKind */
        const char *milestone[5]; /* one-line templates, by MilestoneKind */
        const char *action[5], *overdue_action[5];
        const char *consequence[OUTCOME_COUNT];          /* before a decision or notice deadline */
        const char *term_end_consequence[OUTCOME_COUNT]; /* at the term_end */
        const char *undecided_participant, *undecided_escalation;
        const char *description; /* a calendar event's */
        const char *templates[MESSAGE_KIND_COUNT];
} Words;

const Words *words_of(Language language);
/* The unit in words for a count of it: "dag" or "dagen", "day" or "days". */
const char *words_unit(const Words *w, DurationUnit unit, int32_t count);
