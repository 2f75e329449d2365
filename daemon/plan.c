/* From contract terms to dates, and from dates to the moments people are told.
 *
 * Every rule here is one sentence of DESIGN.md "Dates and durations" and "Reminders"; the
 * comments name the sentence.  Cycles are walked from the start of each commitment, because the
 * contract defines each cycle by the previous one (a cycle starts the day after the previous
 * term_end); that costs one step per cycle before the window, a handful for any real contract.
 * A window is planned independently of any other, so callers walk long ranges window by window:
 * reminders need milestones up to the longest offset after the window, and overdue messages need
 * milestones a little before it, so milestones are gathered over that widened range first. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "noticed/plan.h"

typedef struct MilestoneVec {
        Milestone *items;
        size_t n, allocated;
} MilestoneVec;

typedef struct ReminderVec {
        Reminder *items;
        size_t n, allocated;
} ReminderVec;

static int grow(void **items, size_t *allocated, size_t n, size_t size) {
        size_t want;
        void *p;

        if (n < *allocated)
                return 0;
        want = *allocated ? *allocated * 2 : 64;
        p = realloc(*items, want * size);
        if (!p)
                return -ENOMEM;
        *items = p;
        *allocated = want;
        return 0;
}

static int push_milestone(MilestoneVec *v, Milestone m) {
        if (grow((void **) &v->items, &v->allocated, v->n, sizeof(Milestone)) < 0)
                return -ENOMEM;
        v->items[v->n++] = m;
        return 0;
}

static int push_reminder(ReminderVec *v, const Reminder *r) {
        if (grow((void **) &v->items, &v->allocated, v->n, sizeof(Reminder)) < 0)
                return -ENOMEM;
        v->items[v->n++] = *r;
        return 0;
}

const char *milestone_kind_to_string(MilestoneKind kind) {
        static const char *const names[] = {
                [MILESTONE_DEADLINE] = "deadline", [MILESTONE_DECISION] = "decision",
                [MILESTONE_NOTICE] = "notice",     [MILESTONE_TERM_END] = "term_end",
                [MILESTONE_REVIEW] = "review",
        };
        return names[kind];
}

/* ---- milestones ---- */

typedef struct Window {
        Date from, to;
} Window;

static int emit(MilestoneVec *v, Window w, Date date, uint32_t commitment, MilestoneKind kind,
                uint32_t cycle, int32_t deadline) {
        if (date < w.from || date > w.to)
                return 0;
        return push_milestone(v, (Milestone){.date = date,
                                             .commitment = commitment,
                                             .kind = kind,
                                             .cycle = cycle,
                                             .deadline = deadline});
}

/* "terminated: decision and notice milestones on or after that day are dropped". */
static bool dropped_by_termination(const Commitment *c, Date d) {
        return c->has_terminated && d >= c->terminated;
}

/* One term of a commitment and its deadlines. */
typedef struct Cycle {
        Date start, next;      /* the term covers [start, next) */
        Date notice, decision; /* as listed: after deadline_shift */
} Cycle;

static Cycle cycle_compute(const Model *m, const Commitment *c, Date start, Duration length) {
        Cycle y = {.start = start, .next = date_add(start, length)};

        if (c->has_notice) {
                /* "(S+L − notice) − 1d", moved by deadline_shift. */
                y.notice = calendar_shift(m->calendar, date_subtract(y.next, c->notice) - 1,
                                          c->deadline_shift);
                y.decision = calendar_shift(m->calendar, date_subtract(y.notice, c->decision_lead),
                                            c->deadline_shift);
        }
        return y;
}

/* "The first cycle whose notice deadline is on or after that day" ends a tacit commitment: the
 * deadline as listed, so notice served on the day the tool named is never late.  Commitments
 * that do not renew tacitly have one cycle of their terms. */
static bool cycle_is_last(const Commitment *c, const Cycle *y) {
        return c->renewal != RENEWAL_TACIT || (c->has_terminated && y->notice >= c->terminated);
}

static int emit_cycle(MilestoneVec *v, Window w, const Commitment *c, uint32_t ci, const Cycle *y,
                      uint32_t k) {
        int r;

        if (c->has_notice) {
                if (!dropped_by_termination(c, y->decision) &&
                    (r = emit(v, w, y->decision, ci, MILESTONE_DECISION, k, -1)) < 0)
                        return r;
                if (!dropped_by_termination(c, y->notice) &&
                    (r = emit(v, w, y->notice, ci, MILESTONE_NOTICE, k, -1)) < 0)
                        return r;
        }
        return emit(v, w, y->next - 1, ci, MILESTONE_TERM_END, k, -1);
}

/* Emits the cycles' milestones in the window and returns the commitment's last day, or
 * DATE_ARITHMETIC_MAX while it runs on past the window: only tacit commitments have an unbounded
 * number of cycles, and those past the window are not needed to know that. */
static int plan_cycles(const Model *m, MilestoneVec *v, Window w, uint32_t ci, Date *ret_end) {
        const Commitment *c = &m->commitments[ci];
        Cycle y = cycle_compute(m, c, c->start, c->term);
        int r;

        for (uint32_t k = 1;; k++) {
                Date earliest = c->has_notice && y.decision < y.next - 1 ? y.decision : y.next - 1;
                bool last = cycle_is_last(c, &y);

                if (earliest > w.to && !last && c->renewal == RENEWAL_TACIT) {
                        *ret_end = DATE_ARITHMETIC_MAX; /* runs on past the window */
                        return 0;
                }
                r = emit_cycle(v, w, c, ci, &y, k);
                if (r < 0)
                        return r;
                if (last || y.next >= DATE_ARITHMETIC_MAX)
                        break;
                y = cycle_compute(m, c, y.next, c->renewal_term);
        }
        *ret_end = y.next - 1;
        if (c->renewal == RENEWAL_INDEFINITE) {
                /* "with indefinite at the later of cycle 1's term_end and served + notice − 1d;
                 * a later end is listed as the term_end of cycle 2". */
                if (!c->has_terminated) {
                        *ret_end = DATE_ARITHMETIC_MAX;
                        return 0;
                }
                Date end = date_add(c->terminated, c->notice) - 1;
                if (end > *ret_end) {
                        *ret_end = end;
                        return emit(v, w, end, ci, MILESTONE_TERM_END, 2, -1);
                }
        }
        return 0;
}

int plan_cycle(const Model *m, size_t commitment, uint32_t cycle, PlanCycle *ret) {
        const Commitment *c;
        Cycle y;

        if (commitment >= m->n_commitments || cycle == 0)
                return -EINVAL;
        c = &m->commitments[commitment];
        if (cycle > 1 && c->renewal != RENEWAL_TACIT)
                return -EINVAL;
        y = cycle_compute(m, c, c->start, c->term);
        for (uint32_t k = 1; k < cycle; k++) {
                if (y.next >= DATE_ARITHMETIC_MAX)
                        return -ERANGE;
                y = cycle_compute(m, c, y.next, c->renewal_term);
        }
        if (y.next >= DATE_ARITHMETIC_MAX)
                return -ERANGE;
        *ret = (PlanCycle){
                .start = y.start,
                .term_end = y.next - 1,
                .has_notice = c->has_notice,
                .notice = y.notice,
                .decision = y.decision,
                .tacitly_renewed = !cycle_is_last(c, &y),
        };
        return 0;
}

/* "review milestones at S + k·N (k >= 1) while the commitment runs"; none after `terminated`. */
static int plan_reviews(const Commitment *c, MilestoneVec *v, Window w, uint32_t ci, Date end) {
        Date last = end;
        int r;

        if (!c->has_review)
                return 0;
        if (c->has_terminated && c->terminated < last)
                last = c->terminated;
        if (w.to < last)
                last = w.to;
        for (int32_t k = 1;; k++) {
                Date d = date_add(c->start, duration_multiply(c->review_every, k));
                if (d > last || d >= DATE_ARITHMETIC_MAX)
                        return 0;
                if ((r = emit(v, w, d, ci, MILESTONE_REVIEW, 0, -1)) < 0)
                        return r;
        }
}

static int plan_commitment(const Model *m, MilestoneVec *v, Window w, uint32_t ci) {
        const Commitment *c = &m->commitments[ci];
        Date end = 0; /* set by plan_cycles() on success; gcc -O1 cannot see it */
        int r;

        for (size_t i = 0; i < c->n_deadlines; i++) {
                Date d = calendar_shift(m->calendar, c->deadlines[i].date, c->deadline_shift);
                if ((r = emit(v, w, d, ci, MILESTONE_DEADLINE, 0, (int32_t) i)) < 0)
                        return r;
        }
        r = plan_cycles(m, v, w, ci, &end);
        if (r < 0)
                return r;
        return plan_reviews(c, v, w, ci, end);
}

static int compare_milestones(const void *a, const void *b, void *userdata) {
        const Milestone *x = a, *y = b;
        const Model *m = userdata;
        uint32_t rx = m->commitments[x->commitment].rank, ry = m->commitments[y->commitment].rank;

        if (x->date != y->date)
                return x->date < y->date ? -1 : 1;
        if (rx != ry)
                return rx < ry ? -1 : 1;
        if (x->kind != y->kind)
                return x->kind < y->kind ? -1 : 1;
        if (x->cycle != y->cycle)
                return x->cycle < y->cycle ? -1 : 1;
        return (x->deadline > y->deadline) - (x->deadline < y->deadline);
}

int plan_milestones(const Model *m, Date from, Date to, Milestone **ret, size_t *ret_n) {
        MilestoneVec v = {0};
        Window w = {from, to};

        for (size_t i = 0; i < m->n_commitments; i++)
                if (plan_commitment(m, &v, w, (uint32_t) i) < 0) {
                        free(v.items);
                        return -ENOMEM;
                }
        if (v.n > 1)
                qsort_r(v.items, v.n, sizeof(Milestone), compare_milestones, (void *) m);
        *ret = v.items;
        *ret_n = v.n;
        return 0;
}

/* ---- reminders ---- */

typedef struct ReminderContext {
        const Model *m;
        Window w;
        PlanDecidedFn decided;
        void *userdata;
        ReminderVec *out;
} ReminderContext;

static bool has_decided(const ReminderContext *ctx, const Milestone *ms, size_t participant) {
        return ctx->decided && ctx->decided(ctx->userdata, ms->commitment, ms->cycle, participant);
}

static bool is_decision_or_notice(const Milestone *ms) {
        return ms->kind == MILESTONE_DECISION || ms->kind == MILESTONE_NOTICE;
}

static int add_reminder(const ReminderContext *ctx, const Milestone *ms, size_t recipient,
                        Date date, Duration offset, bool overdue) {
        const Commitment *c = &ctx->m->commitments[ms->commitment];
        Reminder r = {.date = date,
                      .overdue = overdue,
                      .milestone = *ms,
                      .recipient = (uint32_t) recipient,
                      .offset = offset};

        int32_t seconds;

        tz_local_to_unix(ctx->m->tz, date, c->policy.send_time, &r.at, &r.utc_offset);
        /* The local date of the instant: the next day when the zone skipped this one. */
        tz_unix_to_local(ctx->m->tz, r.at, &r.date, &seconds, &r.utc_offset);
        return push_reminder(ctx->out, &r);
}

/* The local date on which a reminder dated d really goes out: d, unless the zone skipped d (as
 * Samoa skipped 2011-12-30), when send_time on d is an instant of the next day. */
static Date local_date_of(const Model *m, const Commitment *c, Date d) {
        int64_t at;
        int32_t utc_offset, seconds;
        Date local;

        tz_local_to_unix(m->tz, d, c->policy.send_time, &at, &utc_offset);
        tz_unix_to_local(m->tz, at, &local, &seconds, &utc_offset);
        return local;
}

/* The reminder dates of one milestone, one per offset: "a reminder date on a non-working day
 * moves to the previous working day; two reminders for the same milestone and recipient never
 * fall on one day" (the longer offset, the first reminder of that day, is kept).  The day is
 * the local date of the instant, after the time zone, so that a day the zone skips does not
 * put two reminders on the next one. */
static size_t reminder_dates(const Model *m, const Commitment *c, Date milestone, Date *dates,
                             Duration *offsets) {
        Date local[POLICY_MAX_OFFSETS];
        size_t n = 0;

        for (size_t i = 0; i < c->policy.n_offsets && i < POLICY_MAX_OFFSETS; i++) {
                Date d = date_subtract(milestone, c->policy.offsets[i]), l;
                bool taken = false;

                if (c->policy.working_days_only && !calendar_is_working_day(m->calendar, d))
                        d = calendar_previous_working_day(m->calendar, d);
                l = local_date_of(m, c, d);
                for (size_t j = 0; j < n && !taken; j++)
                        taken = local[j] == l;
                if (!taken) {
                        local[n] = l;
                        dates[n] = d;
                        offsets[n++] = c->policy.offsets[i];
                }
        }
        return n;
}

static int remind_before(const ReminderContext *ctx, const Milestone *ms) {
        const Commitment *c = &ctx->m->commitments[ms->commitment];
        const size_t *audience = ms->kind == MILESTONE_REVIEW ? c->reviewers : c->participants;
        size_t n_audience = ms->kind == MILESTONE_REVIEW ? c->n_reviewers : c->n_participants;
        Date dates[POLICY_MAX_OFFSETS];
        Duration offsets[POLICY_MAX_OFFSETS];
        size_t n_dates = reminder_dates(ctx->m, c, ms->date, dates, offsets);
        int r;

        for (size_t i = 0; i < n_dates; i++) {
                if (dates[i] < ctx->w.from || dates[i] > ctx->w.to)
                        continue;
                for (size_t j = 0; j < n_audience; j++) {
                        if (is_decision_or_notice(ms) && has_decided(ctx, ms, audience[j]))
                                continue;
                        if ((r = add_reminder(ctx, ms, audience[j], dates[i], offsets[i], false)) <
                            0)
                                return r;
                }
        }
        return 0;
}

static bool in_list(const size_t *list, size_t n, size_t x) {
        for (size_t i = 0; i < n; i++)
                if (list[i] == x)
                        return true;
        return false;
}

/* "when a decision or notice milestone passes with no decision recorded for a participant, an
 * overdue message goes to that participant and to escalate_to, once, the next working day at
 * send_time".  escalate_to hears once per milestone, however many participants are late; a
 * late participant that is also in escalate_to hears once, one that decided still hears as
 * escalate_to.  `same_day_decision` marks a notice milestone on the date
 * of its cycle's decision milestone: the overdue about the decision already covers it. */
static int remind_overdue(const ReminderContext *ctx, const Milestone *ms, bool same_day_decision) {
        const Commitment *c = &ctx->m->commitments[ms->commitment];
        Date date = calendar_next_working_day(ctx->m->calendar, ms->date);
        Duration after = {.count = date - ms->date, .unit = DURATION_DAYS};
        bool anyone_late = false;
        int r;

        if (!is_decision_or_notice(ms) || same_day_decision || date < ctx->w.from ||
            date > ctx->w.to)
                return 0;
        for (size_t j = 0; j < c->n_participants; j++) {
                if (has_decided(ctx, ms, c->participants[j]))
                        continue;
                anyone_late = true;
                if ((r = add_reminder(ctx, ms, c->participants[j], date, after, true)) < 0)
                        return r;
        }
        for (size_t j = 0; anyone_late && j < c->n_escalate_to; j++) {
                size_t e = c->escalate_to[j];
                if (in_list(c->participants, c->n_participants, e) && !has_decided(ctx, ms, e))
                        continue; /* already told, as a late participant */
                if ((r = add_reminder(ctx, ms, c->escalate_to[j], date, after, true)) < 0)
                        return r;
        }
        return 0;
}

/* The milestones a reminder dated in the window can be about: an overdue message comes at most
 * one break after its milestone; a reminder at most the longest offset and one break before. */
static Window reach_of(const Model *m, Window w) {
        int32_t margin = calendar_longest_break(m->calendar) + 1;
        Window reach = {w.from - margin, w.to};

        for (size_t i = 0; i < m->n_commitments; i++) {
                const Policy *p = &m->commitments[i].policy;
                for (size_t j = 0; j < p->n_offsets; j++) {
                        Date d = date_add(w.to, p->offsets[j]);
                        if (d > reach.to)
                                reach.to = d;
                }
        }
        reach.to += margin;
        return reach;
}

static int compare_reminders(const void *a, const void *b, void *userdata) {
        const Reminder *x = a, *y = b;
        const Model *m = userdata;
        uint32_t cx = m->commitments[x->milestone.commitment].rank;
        uint32_t cy = m->commitments[y->milestone.commitment].rank;
        uint32_t rx = m->recipients[x->recipient].rank, ry = m->recipients[y->recipient].rank;

        if (x->at != y->at)
                return x->at < y->at ? -1 : 1;
        if (cx != cy)
                return cx < cy ? -1 : 1;
        if (rx != ry)
                return rx < ry ? -1 : 1;
        if (x->overdue != y->overdue)
                return x->overdue ? 1 : -1;
        if (x->milestone.kind != y->milestone.kind)
                return x->milestone.kind < y->milestone.kind ? -1 : 1;
        if (x->milestone.cycle != y->milestone.cycle)
                return x->milestone.cycle < y->milestone.cycle ? -1 : 1;
        if (x->milestone.date != y->milestone.date)
                return x->milestone.date < y->milestone.date ? -1 : 1;
        return (x->milestone.deadline > y->milestone.deadline) -
               (x->milestone.deadline < y->milestone.deadline);
}

int plan_reminders(const Model *m, Date from, Date to, PlanDecidedFn decided, void *userdata,
                   Reminder **ret, size_t *ret_n) {
        ReminderVec out = {0};
        ReminderContext ctx = {
                .m = m, .w = {from, to}, .decided = decided, .userdata = userdata, .out = &out};
        Window reach = reach_of(m, ctx.w);
        MilestoneVec ms = {0};
        int r = 0;

        for (size_t i = 0; i < m->n_commitments && r >= 0; i++) {
                Date decision_date = DATE_MIN;
                uint32_t decision_cycle = 0;

                ms.n = 0;
                r = plan_commitment(m, &ms, reach, (uint32_t) i);
                for (size_t j = 0; j < ms.n && r >= 0; j++) {
                        const Milestone *x = &ms.items[j];
                        bool same_day = x->kind == MILESTONE_NOTICE && decision_cycle == x->cycle &&
                                        decision_date == x->date;

                        if (x->kind == MILESTONE_DECISION) {
                                decision_date = x->date;
                                decision_cycle = x->cycle;
                        }
                        r = remind_before(&ctx, x);
                        if (r >= 0)
                                r = remind_overdue(&ctx, x, same_day);
                }
        }
        free(ms.items);
        if (r < 0) {
                free(out.items);
                return r;
        }
        if (out.n > 1)
                qsort_r(out.items, out.n, sizeof(Reminder), compare_reminders, (void *) m);
        *ret = out.items;
        *ret_n = out.n;
        return 0;
}
