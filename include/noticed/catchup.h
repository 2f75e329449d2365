#pragma once
/* Catch-up: when a reminder not yet delivered goes out, and which of a group go out at all.
 *
 * DESIGN.md "Identity": a reminder missed while the daemon was not running (or asleep, or while
 * the clock jumped) is sent once, at the next send_time of its policy on or before its
 * milestone (on a working day when working_days_only is set), and at once only when no such
 * moment is left; only the latest reminder due by then of its milestone, recipient and channel
 * goes out, the older ones are recorded as skipped.  A reminder is *on time*, not missed, while
 * the pass runs at most CATCH_UP_ON_TIME_USEC after its instant.  An overdue message is about a
 * milestone already past: it may go out until CATCH_UP_OVERDUE_DAYS after the day it was
 * planned for.  Never two messages for one milestone, recipient and channel on one local day.
 * The rules are stateless: evaluated again at the instant they named, they say "now".  Pure:
 * the model (its zone, calendar and policies) and now go in, decisions come out. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "noticed/date.h"
#include "noticed/macro.h"
#include "noticed/plan.h"

#define CATCH_UP_OVERDUE_DAYS 30
/* An hour: the timer's own pass is milliseconds late, a busy or just resumed machine minutes,
 * and a machine booted at 09:40 still sends that morning's 09:00 reminders that morning.  A
 * pass later than that (a start at 04:17 after a night down) keeps the reminder for the next
 * send_time, when people read their mail. */
#define CATCH_UP_ON_TIME_USEC (60 * USEC_PER_MINUTE)

typedef enum CatchUpAction {
        CATCH_UP_SEND,
        CATCH_UP_SKIP_SUPERSEDED, /* a later reminder for the same milestone is (or was) sent */
        CATCH_UP_SKIP_PASSED,     /* the milestone (or, overdue, its grace) has passed */
        CATCH_UP_SETTLED,         /* the ledger has settled it already: nothing to do */
        CATCH_UP_SKIP_SAME_DAY,   /* one of its group went out, or goes out, the same day */
} CatchUpAction;

typedef struct DueReminder {
        Reminder reminder;
        uint32_t channel; /* 0 mail, 1 + i the recipient's webhook i */
        bool settled;     /* the ledger says sent, failed, skipped, or queued (it will be) */
        bool went_out;    /* settled, and one of its group was sent, on out_date */
        Date out_date;    /*   the local day it was sent */
} DueReminder;

typedef struct CatchUpDecision {
        CatchUpAction action;
        usec_t at_usec; /* when it goes out or is recorded skipped: <= now means in this pass */
        bool catch_up;  /* it missed its planned instant and goes out later than planned */
} CatchUpDecision;

const char *catch_up_action_to_string(CatchUpAction a);

/* When the unsettled reminder r goes out, by itself, as seen at now (CLOCK_REALTIME µs): its
 * instant when that is ahead or at most CATCH_UP_ON_TIME_USEC ago; when it was missed, today's
 * send_time if now is at most CATCH_UP_ON_TIME_USEC after it, else the next send_time (on a
 * working day, with working_days_only) on or before its milestone or, overdue, its grace; when
 * none is left, now.  *ret_missed (may be NULL) says whether it missed its instant. */
usec_t catch_up_instant(const Model *m, const Reminder *r, usec_t now, bool *ret_missed);

/* Decides for each of due[0..n) (in any order) at now; ret[i] is the fate of due[i].  Settled
 * reminders are passed in too, since they count: an unsettled reminder older than a settled
 * one of its group, or planned for the same day, is superseded (after a reload changed the
 * offsets, say), and one that would go out on the day one of its group went out is skipped as
 * "same day".  Of the unsettled reminders of a group that go out at one instant (at now: all
 * those due) only the latest is sent.  Reminders ahead of now are decided as they will be at
 * their instant, if the ledger does not change meanwhile.  Returns 0 or -ENOMEM. */
int catch_up_decide(const Model *m, const DueReminder *due, size_t n, usec_t now,
                    CatchUpDecision *ret);

/* How many days back a pass must plan to see every reminder catch-up may still send: the
 * longest offset of any commitment, or the overdue grace, plus the longest run of non-working
 * days a reminder can be moved back over. */
int32_t catch_up_lookback_days(const Model *m, Date today);
