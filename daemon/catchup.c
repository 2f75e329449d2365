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
        for (size_t k = 0; k < n; k++) {
                size_t i = order[k];
                bool last_of_group = k + 1 == n || compare_group(&due[i], &due[order[k + 1]]) != 0;

                if (!last_of_group)
                        actions[i] = CATCH_UP_SKIP_SUPERSEDED;
                else if (!still_worth_sending(&due[i].reminder, today))
                        actions[i] = CATCH_UP_SKIP_PASSED;
                else
                        actions[i] = CATCH_UP_SEND;
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
