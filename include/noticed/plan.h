#pragma once
/* The plan: commitments -> milestones -> reminders.
 *
 * Milestones are the dates of the contract (DESIGN.md "Dates and durations"); reminders are the
 * instants at which someone must be told about one (DESIGN.md "Reminders").  Both are computed
 * for a window of local dates, so a caller can walk years in bounded memory, and come back
 * sorted as the JSON contract orders them.  Pure: the model (with its loaded time zone) and the
 * window go in, arrays come out; whether a participant has decided is asked of the caller. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "noticed/date.h"
#include "noticed/model.h"

/* In the order the contract sorts same-day milestones. */
typedef enum MilestoneKind {
        MILESTONE_DEADLINE,
        MILESTONE_DECISION,
        MILESTONE_NOTICE,
        MILESTONE_TERM_END,
        MILESTONE_REVIEW,
} MilestoneKind;

typedef struct Milestone {
        Date date;
        uint32_t commitment; /* index into Model.commitments */
        MilestoneKind kind;
        uint32_t cycle;   /* 1, 2, ... for decision, notice, term_end; 0 otherwise */
        int32_t deadline; /* index into the commitment's deadlines, or -1 */
} Milestone;

typedef struct Reminder {
        int64_t at;         /* Unix time */
        int32_t utc_offset; /* in force at `at`, seconds east of UTC */
        Date date;          /* the local date of `at` */
        bool overdue;       /* an overdue message about the milestone, not a reminder before it */
        Milestone milestone;
        uint32_t recipient; /* index into Model.recipients */
        Duration offset;    /* before the milestone; for overdue, the days after it */
} Reminder;

/* One term of a commitment as its terms define it (DESIGN.md "Dates and durations"). */
typedef struct PlanCycle {
        Date start;           /* the first day of the term */
        Date term_end;        /* the last day inside it */
        bool has_notice;      /* the commitment has a notice period; then: */
        Date notice;          /*   the notice deadline, as listed (after deadline_shift) */
        Date decision;        /*   the decision deadline, as listed */
        bool tacitly_renewed; /* another term follows: renewal "tacit" and no notice served by
                               * this term's notice deadline (`terminated`) */
} PlanCycle;

/* Has this participant recorded its decision for the commitment's cycle?  When it has, its
 * decision and notice reminders and its overdue messages for that cycle are not planned. */
typedef bool (*PlanDecidedFn)(void *userdata, size_t commitment, uint32_t cycle,
                              size_t participant);

const char *milestone_kind_to_string(MilestoneKind kind);

/* Milestones dated from..to (inclusive), sorted by (date, commitment id, kind, cycle).
 * Returns 0 or -ENOMEM; *ret is NULL when there are none. */
int plan_milestones(const Model *m, Date from, Date to, Milestone **ret, size_t *ret_n);

/* Cycle `cycle` (1, 2, ...) of a commitment, walked from its start as plan_milestones() walks it,
 * whether or not notice ended the commitment before it: "what if" questions ("renewed until when
 * if nobody gives notice?") ask about the next cycle.  Returns 0; -EINVAL for cycle 0, for a
 * cycle after 1 unless renewal is "tacit" (the later term_end of an indefinite commitment ended
 * by notice is not a cycle of the terms), or for a commitment index out of range; -ERANGE when
 * the cycle does not end within the arithmetic range of dates.  It walks every cycle before
 * this one, a handful for any real contract. */
int plan_cycle(const Model *m, size_t commitment, uint32_t cycle, PlanCycle *ret);

/* Reminders whose local date is from..to (inclusive), sorted by (at, commitment id, recipient id,
 * kind, cycle).  decided may be NULL: nobody has decided.  Returns 0 or -ENOMEM. */
int plan_reminders(const Model *m, Date from, Date to, PlanDecidedFn decided, void *userdata,
                   Reminder **ret, size_t *ret_n);
