/* Catch-up after missed instants (DESIGN.md "Identity"); see the header for the rules. */

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "noticed/catchup.h"

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
        }
        return "?";
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

static int compare_indices(const void *a, const void *b, void *userdata) {
        const DueReminder *due = userdata;
        size_t i = *(const size_t *) a, j = *(const size_t *) b;
        int c = compare_group(&due[i], &due[j]);

        if (c != 0)
                return c;
        /* Within a group the latest instant last: it is the one kept. */
        if (due[i].reminder.at != due[j].reminder.at)
                return due[i].reminder.at < due[j].reminder.at ? -1 : 1;
        return i < j ? -1 : i > j;
}

static bool still_worth_sending(const Reminder *r, Date today) {
        if (r->overdue)
                return today - r->date <= CATCH_UP_OVERDUE_DAYS;
        return r->milestone.date >= today;
}

/* Decides one group, due[order[from..to)], sorted by instant. */
static void decide_group(const DueReminder *due, const size_t *order, size_t from, size_t to,
                         Date today, CatchUpAction *actions) {
        const DueReminder *latest = NULL, *latest_settled = NULL;

        for (size_t k = from; k < to; k++) {
                const DueReminder *d = &due[order[k]];
                if (d->settled)
                        latest_settled = d;
                else
                        latest = d;
        }
        for (size_t k = from; k < to; k++) {
                const DueReminder *d = &due[order[k]];
                CatchUpAction *a = &actions[order[k]];

                if (d->settled)
                        *a = CATCH_UP_SETTLED;
                else if (d != latest ||
                         (latest_settled && (latest_settled->reminder.at >= d->reminder.at ||
                                             latest_settled->reminder.date == d->reminder.date)))
                        *a = CATCH_UP_SKIP_SUPERSEDED;
                else if (!still_worth_sending(&d->reminder, today))
                        *a = CATCH_UP_SKIP_PASSED;
                else
                        *a = CATCH_UP_SEND;
        }
}

int catch_up_decide(const DueReminder *due, size_t n, Date today, CatchUpAction *actions) {
        size_t *order;

        if (n == 0)
                return 0;
        order = calloc(n, sizeof(*order));
        if (!order)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                order[i] = i;
        qsort_r(order, n, sizeof(*order), compare_indices, (void *) due);
        for (size_t from = 0, to; from < n; from = to) {
                for (to = from + 1;
                     to < n && compare_group(&due[order[from]], &due[order[to]]) == 0; to++)
                        ;
                decide_group(due, order, from, to, today, actions);
        }
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
