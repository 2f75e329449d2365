#pragma once
/* Catch-up: what to do with reminders whose instant has passed and that were never delivered.
 *
 * DESIGN.md "Identity": a reminder missed while the daemon was not running (or asleep, or while
 * the clock jumped) is sent once, now, if its milestone is still ahead — only the latest missed
 * offset per milestone, recipient and channel; the older ones are recorded as skipped.  An
 * overdue message is about a milestone already past: it is still sent when it is at most
 * CATCH_UP_OVERDUE_DAYS late, since the escalation is the point.  In normal operation the timer
 * fires at each instant and every group holds one reminder, which is sent.  Pure. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "noticed/date.h"
#include "noticed/plan.h"

#define CATCH_UP_OVERDUE_DAYS 30

typedef enum CatchUpAction {
        CATCH_UP_SEND,
        CATCH_UP_SKIP_SUPERSEDED, /* a later reminder for the same milestone is (or was) sent */
        CATCH_UP_SKIP_PASSED,     /* the milestone (or, overdue, its grace) has passed */
        CATCH_UP_SETTLED,         /* the ledger has settled it already: nothing to do */
} CatchUpAction;

typedef struct DueReminder {
        Reminder reminder;
        uint32_t channel; /* 0 mail, 1 + i the recipient's webhook i */
        bool settled;     /* the ledger says sent, failed or skipped */
} DueReminder;

const char *catch_up_action_to_string(CatchUpAction a);

/* Decides for each of due[0..n) (in any order) given today's local date; actions[i] is the
 * fate of due[i].  Settled reminders are passed in too, since they count: an unsettled reminder
 * older than a settled one of its group, or on the same day as one, is superseded (after a
 * reload changed the offsets, say), so that a milestone never gets an older reminder after a
 * newer one, nor two on one day.  Returns 0 or -ENOMEM. */
int catch_up_decide(const DueReminder *due, size_t n, Date today, CatchUpAction *actions);

/* How many days back a pass must plan to see every reminder catch-up may still send: the
 * longest offset of any commitment, or the overdue grace, plus the longest run of non-working
 * days a reminder can be moved back over. */
int32_t catch_up_lookback_days(const Model *m, Date today);
