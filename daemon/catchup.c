/* Catch-up after missed instants (DESIGN.md "Identity"); see the header for the rules.  A
 * group's reminders are decided in the order they would go out, so that each decision sees
 * what went out before it: the ledger's (settled) and this decision's own. */

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "noticed/calendar.h"
#include "noticed/catchup.h"
#include "noticed/tz.h"

/* A week of holidays and weekends is the longest break any calendar has; this bounds the walk
 * to a send_time day whatever the calendar says. */
#define SLOT_SEARCH_DAYS 366

const char *catch_up_action_to_string(CatchUpAction a) {
        switch (a) {
        case CATCH_UP_SEND:
                return "send";
        case CATCH_UP_SKIP_SUPERSEDED:
                return "superseded by a later reminder for the same milestone";
        case CATCH_UP_SKIP_PASSED:
                return "missed, and its milestone has passed";
        case CATCH_UP_SETTLED:
                return "settled";
        case CATCH_UP_SKIP_SAME_DAY:
                return "another reminder for the same milestone goes out the same day";
        }
        return "?";
}

static const Policy *policy_of(const Model *m, const Reminder *r) {
        return &m->commitments[r->milestone.commitment].policy;
}

static usec_t usec_of(int64_t unix_time) {
        return unix_time > 0 ? (usec_t) unix_time * USEC_PER_SEC : 0;
}

static Date local_date(const Model *m, usec_t usec) {
        int32_t seconds, offset;
        Date d;

        tz_unix_to_local(m->tz, (int64_t) (usec / USEC_PER_SEC), &d, &seconds, &offset);
        return d;
}

/* The policy's send_time on day d, and whether d has one at all. */
static usec_t slot_usec(const Model *m, const Policy *p, Date d) {
        int64_t at;
        int32_t offset;

        tz_local_to_unix(m->tz, d, p->send_time, &at, &offset);
        return usec_of(at);
}

static bool has_slot(const Model *m, const Policy *p, Date d) {
        return !p->working_days_only || calendar_is_working_day(m->calendar, d);
}

/* The last day a reminder may still go out: its milestone, or for an overdue message the end
 * of its grace. */
static Date last_day(const Reminder *r) {
        return r->overdue ? r->date + CATCH_UP_OVERDUE_DAYS : r->milestone.date;
}

usec_t catch_up_instant(const Model *m, const Reminder *r, usec_t now, bool *ret_missed) {
        const Policy *p = policy_of(m, r);
        usec_t at = usec_of(r->at), slot = 0;
        Date today = local_date(m, now), d;
        bool found = false;

        if (ret_missed)
                *ret_missed = false;
        if (at + CATCH_UP_ON_TIME_USEC >= now)
                return at; /* ahead, or on time */
        if (ret_missed)
                *ret_missed = true;
        /* The latest send_time at or before now: still on time for it? */
        for (d = today; d > today - SLOT_SEARCH_DAYS; d--)
                if (has_slot(m, p, d) && (slot = slot_usec(m, p, d)) <= now) {
                        found = true;
                        break;
                }
        if (found && slot + CATCH_UP_ON_TIME_USEC >= now && d <= last_day(r))
                return slot;
        /* The next one, if it is not too late. */
        for (d = today; d <= last_day(r) && d < today + SLOT_SEARCH_DAYS; d++)
                if (has_slot(m, p, d) && (slot = slot_usec(m, p, d)) > now)
                        return slot;
        return now; /* at once */
}

/* Reminders for one milestone, recipient and channel (and overdue or not) form a group. */
static int compare_group(const DueReminder *a, const DueReminder *b) {
        const Milestone *x = &a->reminder.milestone, *y = &b->reminder.milestone;

#define CMP(p, q)                                                                                  \
        do {                                                                                       \
                if ((p) != (q))                                                                    \
                        return (p) < (q) ? -1 : 1;                                                 \
        } while (0)
        CMP(x->commitment, y->commitment);
        CMP(x->kind, y->kind);
        CMP(x->cycle, y->cycle);
        CMP(x->date, y->date);
        CMP(x->deadline, y->deadline);
        CMP(a->reminder.overdue, b->reminder.overdue);
        CMP(a->reminder.recipient, b->reminder.recipient);
        CMP(a->channel, b->channel);
        return 0;
#undef CMP
}

/* What catch_up_decide() works out for each unsettled reminder before it decides. */
typedef struct Timing {
        usec_t instant; /* when it would go out by itself (catch_up_instant()) */
        usec_t when;    /* the instant it is decided at: max(instant, now) */
        bool missed;
} Timing;

typedef struct Order {
        const DueReminder *due;
        const Timing *timing;
} Order;

/* By group; within one the settled first, then in the order they go out, the latest planned
 * last among those that go out at one instant. */
static int compare_indices(const void *a, const void *b, void *userdata) {
        const Order *o = userdata;
        size_t i = *(const size_t *) a, j = *(const size_t *) b;
        const DueReminder *x = &o->due[i], *y = &o->due[j];
        int c = compare_group(x, y);

        if (c != 0)
                return c;
        if (x->settled != y->settled)
                return x->settled ? -1 : 1;
        if (!x->settled && o->timing[i].when != o->timing[j].when)
                return o->timing[i].when < o->timing[j].when ? -1 : 1;
        if (x->reminder.at != y->reminder.at)
                return x->reminder.at < y->reminder.at ? -1 : 1;
        return i < j ? -1 : i > j;
}

static bool still_worth_sending(const Reminder *r, Date day) {
        if (r->overdue)
                return day - r->date <= CATCH_UP_OVERDUE_DAYS;
        return r->milestone.date >= day;
}

/* What the group has sent so far, as the decisions go forward in time. */
typedef struct GroupState {
        bool any;            /* a reminder of the group is settled or sent */
        int64_t latest;      /*   the latest planned instant among them */
        bool went_out;       /* one went out */
        Date out_date;       /*   the last day one did */
        const size_t *order; /* the settled ones: due[order[0..n_settled)] */
        size_t n_settled;
} GroupState;

static bool planned_same_day_as_settled(const GroupState *g, const DueReminder *due, Date date) {
        for (size_t k = 0; k < g->n_settled; k++)
                if (due[g->order[k]].reminder.date == date)
                        return true;
        return false;
}

/* day: the local day it would go out; due_day: that of the instant the rules gave it, by which
 * its milestone (or grace) is judged, so that a reminder sent on time just after midnight
 * (send_time 23:30, a pass at 00:10) is not taken for one whose milestone has passed. */
static CatchUpAction decide_latest(const GroupState *g, const DueReminder *due,
                                   const DueReminder *d, Date day, Date due_day) {
        if (g->any && g->latest >= d->reminder.at)
                return CATCH_UP_SKIP_SUPERSEDED;
        if (planned_same_day_as_settled(g, due, d->reminder.date))
                return CATCH_UP_SKIP_SUPERSEDED; /* a reload moved send_time or an offset */
        if (g->went_out && g->out_date == day)
                return CATCH_UP_SKIP_SAME_DAY;
        if (!still_worth_sending(&d->reminder, due_day))
                return CATCH_UP_SKIP_PASSED;
        return CATCH_UP_SEND;
}

/* Decides one group, due[order[from..to)]. */
static void decide_group(const Model *m, const DueReminder *due, const size_t *order,
                         const Timing *t, size_t from, size_t to, CatchUpDecision *ret) {
        GroupState g = {.order = order + from};
        size_t k = from;

        for (; k < to && due[order[k]].settled; k++) {
                const DueReminder *d = &due[order[k]];

                ret[order[k]] = (CatchUpDecision){.action = CATCH_UP_SETTLED};
                if (!g.any || d->reminder.at > g.latest)
                        g.latest = d->reminder.at;
                g.any = true;
                if (d->went_out && (!g.went_out || d->out_date > g.out_date)) {
                        g.went_out = true;
                        g.out_date = d->out_date;
                }
        }
        g.n_settled = k - from;
        /* One instant at a time: of those that go out then, the latest planned is the one. */
        while (k < to) {
                size_t end = k + 1, latest;
                Date day;

                while (end < to && t[order[end]].when == t[order[k]].when)
                        end++;
                latest = order[end - 1];
                day = local_date(m, t[latest].when);
                for (size_t j = k; j < end; j++)
                        ret[order[j]] = (CatchUpDecision){.action = CATCH_UP_SKIP_SUPERSEDED,
                                                          .at_usec = t[order[j]].when,
                                                          .catch_up = t[order[j]].missed};
                ret[latest].action =
                        decide_latest(&g, due, &due[latest], day, local_date(m, t[latest].instant));
                if (ret[latest].action == CATCH_UP_SEND) {
                        g.any = true;
                        g.latest = due[latest].reminder.at;
                        g.went_out = true;
                        g.out_date = day;
                }
                k = end;
        }
}

int catch_up_decide(const Model *m, const DueReminder *due, size_t n, usec_t now,
                    CatchUpDecision *ret) {
        size_t *order;
        Timing *t;
        Order o;

        if (n == 0)
                return 0;
        order = calloc(n, sizeof(*order));
        t = calloc(n, sizeof(*t));
        if (!order || !t) {
                free(order);
                free(t);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                order[i] = i;
                if (due[i].settled)
                        continue;
                t[i].instant = catch_up_instant(m, &due[i].reminder, now, &t[i].missed);
                t[i].when = t[i].instant > now ? t[i].instant : now;
        }
        o = (Order){due, t};
        qsort_r(order, n, sizeof(*order), compare_indices, &o);
        for (size_t from = 0, to; from < n; from = to) {
                for (to = from + 1;
                     to < n && compare_group(&due[order[from]], &due[order[to]]) == 0; to++)
                        ;
                decide_group(m, due, order, t, from, to, ret);
        }
        /* A reminder sent goes out at its own instant (planned, or catch-up's send_time). */
        for (size_t i = 0; i < n; i++)
                if (ret[i].action == CATCH_UP_SEND)
                        ret[i].at_usec = t[i].instant;
        free(t);
        free(order);
        return 0;
}

int32_t catch_up_lookback_days(const Model *m, Date today) {
        int32_t longest = CATCH_UP_OVERDUE_DAYS;

        for (size_t i = 0; i < m->n_commitments; i++) {
                const Policy *p = &m->commitments[i].policy;
                for (size_t j = 0; j < p->n_offsets; j++) {
                        int32_t days = today - date_subtract(today, p->offsets[j]);
                        if (days > longest)
                                longest = days;
                }
        }
        return longest + calendar_longest_break(m->calendar) + 1;
}
