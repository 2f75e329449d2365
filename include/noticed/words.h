#pragma once
/* Words: the Dutch and English of every text noticed writes for a reader.
 *
 * One table a language: weekdays, months and units, the names and sentences of each kind of
 * milestone (one-line templates, expanded by template.h), the consequences of a renewal, a
 * calendar event's description, the two built-in message templates, and the column labels and
 * states of noticectl's tables (words_label(), words_state()).  Pure: data; the sentences'
 * placeholders are those of template.h. */

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

/* The column labels of noticectl's tables (list, simulate, history, upcoming). */
typedef enum WordLabel {
        WORD_LABEL_DATE,
        WORD_LABEL_AT,
        WORD_LABEL_WHEN,
        WORD_LABEL_DAYS,
        WORD_LABEL_KIND,
        WORD_LABEL_CYCLE,
        WORD_LABEL_PERIOD,
        WORD_LABEL_COMMITMENT,
        WORD_LABEL_DEADLINE,
        WORD_LABEL_TITLE,
        WORD_LABEL_MILESTONE,
        WORD_LABEL_OFFSET,
        WORD_LABEL_RECIPIENT,
        WORD_LABEL_PARTICIPANT,
        WORD_LABEL_PAYS_A_YEAR,
        WORD_LABEL_CHANNELS,
        WORD_LABEL_CHANNEL,
        WORD_LABEL_STATE,
        WORD_LABEL_DECISION,
        WORD_LABEL_DETAILS,
        _WORD_LABEL_MAX,
} WordLabel;

/* Where a reminder stands, or a decision trail's row, as a table shows it (JSON and command-line
 * options keep the English keywords). */
typedef enum WordState {
        WORD_STATE_DUE,      /* planned, not yet in the ledger */
        WORD_STATE_CATCH_UP, /* missed while the daemon was down, to be sent late */
        WORD_STATE_QUEUED,
        WORD_STATE_RETRYING,
        WORD_STATE_PENDING,
        WORD_STATE_SENT,
        WORD_STATE_FAILED,
        WORD_STATE_SKIPPED,
        WORD_STATE_DECIDED,
        WORD_STATE_REVOKED,
        _WORD_STATE_MAX,
} WordState;

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
        const char *labels[_WORD_LABEL_MAX];
        const char *states[_WORD_STATE_MAX];
        const char *attempt_one, *attempt_many; /* "1 attempt", "2 attempts" in a table */
        const char *by;                         /* "terminate by alice" */
} Words;

const Words *words_of(Language language);
/* The unit in words for a count of it: "dag" or "dagen", "day" or "days". */
const char *words_unit(const Words *w, DurationUnit unit, int32_t count);
/* A column label, upper case ("CYCLUS", "CYCLE"); never NULL for a label below
 * _WORD_LABEL_MAX. */
const char *words_label(const Words *w, WordLabel label);
/* A state in words ("verzonden", "sent"); never NULL for a state below _WORD_STATE_MAX. */
const char *words_state(const Words *w, WordState state);
