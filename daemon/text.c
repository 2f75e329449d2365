/* The words of a reminder or a milestone: the values of its placeholders, and its templates
 * expanded in the recipient's language.
 *
 * Every text goes through the one engine of template.h; this file decides what each
 * placeholder says.  The sentences that vary with the kind of milestone and the renewal are
 * themselves one-line templates (words.h), expanded first, so that a message template can say
 * ${action} and ${consequence} whatever the milestone. */

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noticed/macro.h"
#include "noticed/render.h"
#include "noticed/template.h"
#include "noticed/text.h"
#include "noticed/words.h"

/* A one-line phrase expanded, or NULL (empty) when one of its placeholders is empty. */
static char *expand_phrase(const char *phrase, char *const values[VAR_COUNT], bool *oom) {
        char *s;

        if (!phrase)
                return NULL;
        if (template_expand(phrase, values, &s) < 0) {
                *oom = true;
                return NULL;
        }
        if (!s[0]) {
                free(s);
                return NULL;
        }
        return s;
}

/* ---- the values of a reminder or a milestone ---- */

typedef struct Values {
        char *v[VAR_COUNT]; /* NULL: empty */
        bool oom;
} Values;

__attribute__((format(printf, 3, 4))) static void set(Values *values, TemplateVar var,
                                                      const char *format, ...) {
        va_list ap;
        char *s;

        va_start(ap, format);
        if (vasprintf(&s, format, ap) < 0) { /* s is undefined then */
                values->oom = true;
                s = NULL;
        }
        va_end(ap);
        free(values->v[var]);
        values->v[var] = s;
}

char *text_date(Language language, Date d, char buf[static TEXT_DATE_MAX]) {
        const Words *w = words_of(language);
        int year, month, day;

        date_to_ymd(d, &year, &month, &day);
        (void) snprintf(buf, TEXT_DATE_MAX, "%s %d %s %d", w->weekdays[date_weekday(d) - 1], day,
                        w->months[month - 1], year);
        return buf;
}

static void set_date(Values *values, TemplateVar var, Language language, Date d) {
        char buf[TEXT_DATE_MAX];

        set(values, var, "%s", text_date(language, d, buf));
}

static bool in_list(const size_t *list, size_t n, size_t x) {
        for (size_t i = 0; i < n; i++)
                if (list[i] == x)
                        return true;
        return false;
}

static const char *consequence_phrase(const Words *w, const Commitment *c, const Milestone *ms,
                                      const PlanCycle *cycle) {
        static const RenewalOutcome by_renewal[] = {
                [RENEWAL_NONE] = OUTCOME_NONE,
                [RENEWAL_TACIT] = OUTCOME_TACIT,
                [RENEWAL_INDEFINITE] = OUTCOME_INDEFINITE,
        };
        RenewalOutcome outcome;

        assert((size_t) c->renewal < ELEMENTSOF(by_renewal));
        outcome = by_renewal[c->renewal];

        if (ms->kind == MILESTONE_DECISION || ms->kind == MILESTONE_NOTICE)
                return w->consequence[outcome];
        if (ms->kind != MILESTONE_TERM_END)
                return NULL;
        if ((c->renewal == RENEWAL_TACIT && cycle && !cycle->tacitly_renewed) ||
            (c->renewal == RENEWAL_INDEFINITE && c->has_terminated))
                outcome = OUTCOME_SERVED;
        return w->term_end_consequence[outcome];
}

/* Everything a template can say about milestone ms, for reminder r when there is one. */
static void values_fill(Values *val, const Model *m, Language language, const Milestone *ms,
                        const Reminder *r) {
        const Words *w = words_of(language);
        const Commitment *c = &m->commitments[ms->commitment];
        const Recipient *rcpt = r ? &m->recipients[r->recipient] : NULL;
        PlanCycle cycle, next;
        bool has_cycle = ms->cycle > 0 && plan_cycle(m, ms->commitment, ms->cycle, &cycle) == 0;
        char buf[DATE_STRING_MAX], low[RENDER_MONEY_MAX], high[RENDER_MONEY_MAX];
        int64_t min, max;

        /* Plan made the milestone and the reminder from this model. */
        assert(ms->commitment < m->n_commitments);
        assert(!r || r->recipient < m->n_recipients);

        if (rcpt)
                set(val, VAR_RECIPIENT, "%s", rcpt->name);
        set(val, VAR_COMMITMENT, "%s", c->title);
        set(val, VAR_TITLE, "%s", render_milestone_title(m, ms));
        set(val, VAR_KIND, "%s", w->kinds[ms->kind]);
        set_date(val, VAR_DEADLINE, language, ms->date);
        set(val, VAR_DATE, "%s", date_format(ms->date, buf));
        if (r) {
                int32_t days = ms->date - r->date, n = days < 0 ? -days : days;
                set(val, VAR_DAYS_LEFT, "%d", (int) days);
                if (days == 0)
                        set(val, VAR_REMAINING, "%s", w->today);
                else
                        set(val, VAR_REMAINING, "%s%d %s%s", days > 0 ? w->left_prefix : "",
                            (int) n, words_unit(w, DURATION_DAYS, n),
                            days > 0 ? w->left_suffix : w->ago_suffix);
        }
        if (c->has_notice)
                set(val, VAR_NOTICE, "%d %s", (int) c->notice.count,
                    words_unit(w, c->notice.unit, c->notice.count));
        if (has_cycle && cycle.has_notice)
                set_date(val, VAR_NOTICE_BY, language, cycle.notice);
        if (ms->kind == MILESTONE_TERM_END || has_cycle)
                set_date(val, VAR_TERM_END, language,
                         ms->kind == MILESTONE_TERM_END ? ms->date : cycle.term_end);
        /* Before a deadline the renewal is what happens without notice; at the term_end, what
         * does happen. */
        if (has_cycle && c->renewal == RENEWAL_TACIT &&
            (ms->kind != MILESTONE_TERM_END || cycle.tacitly_renewed) &&
            plan_cycle(m, ms->commitment, ms->cycle + 1, &next) == 0)
                set_date(val, VAR_RENEWAL_END, language, next.term_end);
        if (c->has_terminated)
                set_date(val, VAR_TERMINATED, language, c->terminated);
        if (rcpt && model_yearly_cost_cents(c, rcpt, &min, &max)) {
                (void) render_money(language, c->cost.currency, min, low);
                (void) render_money(language, c->cost.currency, max, high);
                if (min == max)
                        set(val, VAR_COST, "%s%s", low, w->cost_suffix);
                else
                        set(val, VAR_COST, "%s%s%s%s", low, w->cost_to, high, w->cost_suffix);
        }
        if (c->reference)
                set(val, VAR_REFERENCE, "%s", c->reference);
        if (c->counterparty)
                set(val, VAR_COUNTERPARTY, "%s", c->counterparty);
        if (m->has_mail_via && m->transports[m->mail_via].from)
                set(val, VAR_CONTACT, "%s", m->transports[m->mail_via].from);

        val->v[VAR_MILESTONE] = expand_phrase(w->milestone[ms->kind], val->v, &val->oom);
        val->v[VAR_ACTION] =
                expand_phrase(r && r->overdue ? w->overdue_action[ms->kind] : w->action[ms->kind],
                              val->v, &val->oom);
        val->v[VAR_CONSEQUENCE] = expand_phrase(
                consequence_phrase(w, c, ms, has_cycle ? &cycle : NULL), val->v, &val->oom);
        if (r && r->overdue)
                val->v[VAR_UNDECIDED] =
                        expand_phrase(in_list(c->escalate_to, c->n_escalate_to, r->recipient)
                                              ? w->undecided_escalation
                                              : w->undecided_participant,
                                      val->v, &val->oom);
}

static void values_done(Values *val) {
        for (size_t i = 0; i < VAR_COUNT; i++)
                free(val->v[i]);
}

int text_render(const Model *m, const Reminder *r, char **ret_subject, char **ret_body) {
        const Recipient *rcpt = &m->recipients[r->recipient];
        MessageKind kind = r->overdue ? MESSAGE_OVERDUE : MESSAGE_REMINDER;
        const char *text = m->templates[rcpt->language][kind];
        _cleanup_(values_done) Values val = {0};
        _cleanup_free_ char *subject = NULL, *body = NULL;
        int k;

        if (!text)
                text = template_builtin(rcpt->language, kind);
        values_fill(&val, m, rcpt->language, &r->milestone, r);
        k = template_expand_message(text, val.v, &subject, &body);
        if (k < 0)
                return k;
        if (val.oom)
                return -ENOMEM;
        *ret_subject = TAKE_PTR(subject);
        *ret_body = TAKE_PTR(body);
        return 0;
}

int text_milestone(const Model *m, Language language, const Milestone *ms, char **ret_summary,
                   char **ret_description) {
        _cleanup_(values_done) Values val = {0};
        _cleanup_free_ char *summary = NULL, *description = NULL;
        size_t n;

        values_fill(&val, m, language, ms, NULL);
        if (template_expand(words_of(language)->description, val.v, &description) < 0)
                return -ENOMEM;
        for (n = strlen(description); n > 0 && description[n - 1] == '\n'; n--)
                description[n - 1] = '\0';
        summary = strdup(val.v[VAR_MILESTONE] ? val.v[VAR_MILESTONE] : "");
        if (!summary || val.oom)
                /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): _cleanup_ frees summary */
                return -ENOMEM;
        if (summary[0] >= 'a' && summary[0] <= 'z') /* "Besluit over ..." */
                summary[0] = (char) (summary[0] - 'a' + 'A');
        *ret_summary = TAKE_PTR(summary);
        *ret_description = TAKE_PTR(description);
        return 0;
}
