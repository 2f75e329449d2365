/* The words of a reminder or a milestone: templates expanded in the recipient's language.
 *
 * Every text, built-in or the administrator's, goes through one small template engine:
 * "${name}" placeholders, and a body line whose placeholder is empty is left out, so a template
 * needs no conditionals for a missing cost or reference.  The sentences that vary with the kind
 * of milestone and the renewal are themselves one-line templates, expanded first.  The two
 * languages' words are tables at the top of this file, nearly half of it. */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noticed/buffer.h"
#include "noticed/render.h"
#include "noticed/text.h"

/* ---- words ---- */

typedef enum Var {
        VAR_RECIPIENT,
        VAR_COMMITMENT,
        VAR_TITLE,
        VAR_KIND,
        VAR_DEADLINE,
        VAR_DATE,
        VAR_DAYS_LEFT,
        VAR_REMAINING,
        VAR_NOTICE,
        VAR_NOTICE_BY,
        VAR_TERM_END,
        VAR_RENEWAL_END,
        VAR_TERMINATED,
        VAR_COST,
        VAR_REFERENCE,
        VAR_COUNTERPARTY,
        VAR_CONTACT,
        /* Sentences, expanded from the phrases below in this order. */
        VAR_MILESTONE,
        VAR_ACTION,
        VAR_CONSEQUENCE,
        VAR_UNDECIDED,
        VAR_COUNT,
} Var;

static const char *const var_names[VAR_COUNT] = {
        [VAR_RECIPIENT] = "recipient",   [VAR_COMMITMENT] = "commitment",
        [VAR_TITLE] = "title",           [VAR_KIND] = "kind",
        [VAR_DEADLINE] = "deadline",     [VAR_DATE] = "date",
        [VAR_DAYS_LEFT] = "days_left",   [VAR_REMAINING] = "remaining",
        [VAR_NOTICE] = "notice",         [VAR_NOTICE_BY] = "notice_by",
        [VAR_TERM_END] = "term_end",     [VAR_RENEWAL_END] = "renewal_end",
        [VAR_TERMINATED] = "terminated", [VAR_COST] = "cost",
        [VAR_REFERENCE] = "reference",   [VAR_COUNTERPARTY] = "counterparty",
        [VAR_CONTACT] = "contact",       [VAR_MILESTONE] = "milestone",
        [VAR_ACTION] = "action",         [VAR_CONSEQUENCE] = "consequence",
        [VAR_UNDECIDED] = "undecided",
};

/* What a milestone's term_end means for the commitment, for ${consequence}. */
typedef enum Outcome {
        OUTCOME_TACIT,      /* without notice, a tacit renewal until ${renewal_end} */
        OUTCOME_INDEFINITE, /* without notice, on without end */
        OUTCOME_NONE,       /* ends at term_end regardless */
        OUTCOME_SERVED,     /* notice was served: it ends */
        OUTCOME_COUNT,
} Outcome;

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

static const Words words_nl = {
        .weekdays = {"maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag",
                     "zondag"},
        .months = {"januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
                   "september", "oktober", "november", "december"},
        .unit_one = {"dag", "week", "maand", "jaar"},
        .unit_many = {"dagen", "weken", "maanden", "jaar"},
        .today = "vandaag",
        .left_prefix = "nog ",
        .left_suffix = "",
        .ago_suffix = " geleden",
        .cost_to = " tot ",
        .cost_suffix = " per jaar",
        .kinds = {"termijn", "besluit", "opzegging", "einde looptijd", "heroverweging"},
        .milestone = {"${title}", "besluit over ${commitment}", "opzegging van ${commitment}",
                      "einde looptijd van ${commitment}", "heroverweging van ${commitment}"},
        .action =
                {
                        "De termijn voor ‘${title}’ verstrijkt op ${deadline}.",
                        "Uiterlijk op ${deadline} moet zijn besloten of ${commitment} wordt "
                        "voortgezet of wordt opgezegd.",
                        "Wilt u ${commitment} beëindigen, dan moet de opzegging uiterlijk op "
                        "${deadline} zijn gedaan.",
                        "De looptijd van ${commitment} eindigt op ${deadline}.",
                        "Uiterlijk op ${deadline} is de periodieke heroverweging van ${commitment} "
                        "aan de orde. Wilt u beoordelen of voortzetting nog de beste keuze is, en "
                        "adviseren als daar aanleiding toe is?",
                },
        .overdue_action =
                {
                        "De termijn voor ‘${title}’ is op ${deadline} verstreken.",
                        "De termijn voor het besluit over voortzetting of opzegging van "
                        "${commitment} is op ${deadline} verstreken.",
                        "De uiterste datum voor opzegging van ${commitment} is op ${deadline} "
                        "verstreken.",
                        "De looptijd van ${commitment} is op ${deadline} geëindigd.",
                        "De heroverweging van ${commitment} was voorzien op ${deadline}.",
                },
        .consequence =
                {
                        [OUTCOME_TACIT] = "Zonder opzegging uiterlijk op ${notice_by} wordt "
                                          "${commitment} stilzwijgend verlengd tot en met "
                                          "${renewal_end}.",
                        [OUTCOME_INDEFINITE] = "Zonder opzegging uiterlijk op ${notice_by} loopt "
                                               "${commitment} na ${term_end} voor onbepaalde "
                                               "tijd door.",
                        [OUTCOME_NONE] = "${commitment} eindigt op ${term_end} en wordt niet "
                                         "verlengd.",
                },
        .term_end_consequence =
                {
                        [OUTCOME_TACIT] = "Er is geen opzegging vastgelegd; ${commitment} loopt "
                                          "daarom stilzwijgend door tot en met ${renewal_end}.",
                        [OUTCOME_INDEFINITE] = "Er is geen opzegging vastgelegd; ${commitment} "
                                               "loopt daarom voor onbepaalde tijd door.",
                        [OUTCOME_NONE] = "${commitment} wordt niet verlengd.",
                        [OUTCOME_SERVED] = "De opzegging is gedaan op ${terminated}.",
                },
        .undecided_participant = "Voor ${recipient} is geen besluit vastgelegd.",
        .undecided_escalation = "Voor een of meer deelnemers is geen besluit vastgelegd.",
        .description = "${action}\n${consequence}\nOpzegtermijn: ${notice}\n"
                       "Kenmerk: ${reference}\nWederpartij: ${counterparty}\n",
        .templates =
                {
                        [MESSAGE_REMINDER] =
                                "Subject: Herinnering: ${milestone}, ${deadline} (${remaining})\n"
                                "\n"
                                "Aan: ${recipient}\n"
                                "\n"
                                "${action}\n"
                                "\n"
                                "${consequence}\n"
                                "\n"
                                "Datum:          ${deadline} (${remaining})\n"
                                "Opzegtermijn:   ${notice}\n"
                                "Uw bijdrage:    ${cost}\n"
                                "Kenmerk:        ${reference}\n"
                                "Wederpartij:    ${counterparty}\n"
                                "Contact:        ${contact}\n"
                                "\n"
                                "Dit bericht is automatisch verstuurd door noticed.\n",
                        [MESSAGE_OVERDUE] =
                                "Subject: Termijn verstreken: ${milestone}, ${deadline}\n"
                                "\n"
                                "Aan: ${recipient}\n"
                                "\n"
                                "${action} ${undecided}\n"
                                "\n"
                                "${consequence}\n"
                                "\n"
                                "Is er inmiddels wel besloten, laat het besluit dan vastleggen "
                                "via ${contact}, zodat de herinneringen stoppen.\n"
                                "\n"
                                "Datum:          ${deadline} (${remaining})\n"
                                "Opzegtermijn:   ${notice}\n"
                                "Uw bijdrage:    ${cost}\n"
                                "Kenmerk:        ${reference}\n"
                                "Wederpartij:    ${counterparty}\n"
                                "Contact:        ${contact}\n"
                                "\n"
                                "Dit bericht is automatisch verstuurd door noticed.\n",
                },
};

static const Words words_en = {
        .weekdays = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"},
        .months = {"January", "February", "March", "April", "May", "June", "July", "August",
                   "September", "October", "November", "December"},
        .unit_one = {"day", "week", "month", "year"},
        .unit_many = {"days", "weeks", "months", "years"},
        .today = "today",
        .left_prefix = "",
        .left_suffix = " left",
        .ago_suffix = " ago",
        .cost_to = " to ",
        .cost_suffix = " a year",
        .kinds = {"deadline", "decision", "notice", "end of term", "review"},
        .milestone = {"${title}", "decision on ${commitment}",
                      "notice of termination of ${commitment}", "end of term of ${commitment}",
                      "review of ${commitment}"},
        .action =
                {
                        "The deadline for “${title}” is ${deadline}.",
                        "By ${deadline} a decision must be taken on whether ${commitment} is "
                        "continued or terminated.",
                        "To end ${commitment}, notice of termination must be given no later than "
                        "${deadline}.",
                        "The term of ${commitment} ends on ${deadline}.",
                        "The periodic review of ${commitment} is due by ${deadline}. Please "
                        "assess whether continuing is still the best choice, and advise if there "
                        "is reason to.",
                },
        .overdue_action =
                {
                        "The deadline for “${title}” passed on ${deadline}.",
                        "The deadline for the decision on continuing or terminating "
                        "${commitment} passed on ${deadline}.",
                        "The last day to give notice of termination of ${commitment} passed on "
                        "${deadline}.",
                        "The term of ${commitment} ended on ${deadline}.",
                        "The review of ${commitment} was due on ${deadline}.",
                },
        .consequence =
                {
                        [OUTCOME_TACIT] = "Without notice given by ${notice_by}, ${commitment} "
                                          "is tacitly renewed until ${renewal_end}.",
                        [OUTCOME_INDEFINITE] = "Without notice given by ${notice_by}, "
                                               "${commitment} continues indefinitely after "
                                               "${term_end}.",
                        [OUTCOME_NONE] = "${commitment} ends on ${term_end} and is not renewed.",
                },
        .term_end_consequence =
                {
                        [OUTCOME_TACIT] = "No notice of termination has been recorded, so "
                                          "${commitment} continues tacitly until "
                                          "${renewal_end}.",
                        [OUTCOME_INDEFINITE] = "No notice of termination has been recorded, so "
                                               "${commitment} continues indefinitely.",
                        [OUTCOME_NONE] = "${commitment} is not renewed.",
                        [OUTCOME_SERVED] = "Notice of termination was given on ${terminated}.",
                },
        .undecided_participant = "No decision has been recorded for ${recipient}.",
        .undecided_escalation = "One or more participants have not recorded a decision.",
        .description = "${action}\n${consequence}\nNotice period: ${notice}\n"
                       "Reference: ${reference}\nCounterparty: ${counterparty}\n",
        .templates =
                {
                        [MESSAGE_REMINDER] =
                                "Subject: Reminder: ${milestone}, ${deadline} (${remaining})\n"
                                "\n"
                                "To: ${recipient}\n"
                                "\n"
                                "${action}\n"
                                "\n"
                                "${consequence}\n"
                                "\n"
                                "Date:           ${deadline} (${remaining})\n"
                                "Notice period:  ${notice}\n"
                                "Your cost:      ${cost}\n"
                                "Reference:      ${reference}\n"
                                "Counterparty:   ${counterparty}\n"
                                "Contact:        ${contact}\n"
                                "\n"
                                "This message was sent automatically by noticed.\n",
                        [MESSAGE_OVERDUE] =
                                "Subject: Deadline passed: ${milestone}, ${deadline}\n"
                                "\n"
                                "To: ${recipient}\n"
                                "\n"
                                "${action} ${undecided}\n"
                                "\n"
                                "${consequence}\n"
                                "\n"
                                "If a decision has been taken after all, please have it recorded "
                                "via ${contact} so that the reminders stop.\n"
                                "\n"
                                "Date:           ${deadline} (${remaining})\n"
                                "Notice period:  ${notice}\n"
                                "Your cost:      ${cost}\n"
                                "Reference:      ${reference}\n"
                                "Counterparty:   ${counterparty}\n"
                                "Contact:        ${contact}\n"
                                "\n"
                                "This message was sent automatically by noticed.\n",
                },
};

static const Words *words_of(Language language) {
        return language == LANGUAGE_EN ? &words_en : &words_nl;
}

const char *text_builtin_template(Language language, MessageKind kind) {
        return words_of(language)->templates[kind];
}

/* ---- the template engine ---- */

static int var_lookup(const char *name, size_t n) {
        for (int i = 0; i < VAR_COUNT; i++)
                if (strlen(var_names[i]) == n && memcmp(var_names[i], name, n) == 0)
                        return i;
        return -1;
}

/* Expands one line; false when a placeholder in it is empty. */
static bool expand_line(Buffer *out, const char *s, size_t n, char *const values[VAR_COUNT]) {
        bool complete = true;

        for (size_t i = 0; i < n; i++) {
                const char *close;
                int v;

                if (s[i] != '$' || i + 1 == n || (s[i + 1] != '$' && s[i + 1] != '{')) {
                        buffer_append(out, &s[i], 1);
                        continue;
                }
                if (s[++i] == '$') { /* "$$" is one '$' */
                        buffer_append(out, "$", 1);
                        continue;
                }
                close = memchr(s + i, '}', n - i);
                if (!close) { /* text_template_check() refuses this; it stays as written */
                        buffer_append(out, s + i - 1, n - i + 1);
                        break;
                }
                v = var_lookup(s + i + 1, (size_t) (close - s - i - 1));
                if (v >= 0 && values[v] && values[v][0])
                        buffer_puts(out, values[v]);
                else
                        complete = false;
                i = (size_t) (close - s);
        }
        return complete;
}

/* Expands a multi-line text.  With drop_incomplete, a line with an empty placeholder is left
 * out, and so is an empty line that would then follow another empty line. */
static void expand(Buffer *out, const char *text, char *const values[VAR_COUNT],
                   bool drop_incomplete) {
        bool last_blank = true, dropped = false;

        for (const char *line = text, *end; *line; line = *end ? end + 1 : end) {
                size_t before = out->size;
                bool blank;

                end = strchrnul(line, '\n');
                blank = end == line;
                if (blank && last_blank && dropped)
                        continue;
                if (!expand_line(out, line, (size_t) (end - line), values) && drop_incomplete) {
                        out->size = before;
                        if (out->data)
                                out->data[before] = '\0';
                        dropped = true;
                        continue;
                }
                if (*end)
                        buffer_append(out, "\n", 1);
                last_blank = blank;
                dropped = false;
        }
}

/* A one-line phrase expanded, or NULL (empty) when one of its placeholders is empty. */
static char *expand_phrase(const char *phrase, char *const values[VAR_COUNT], bool *oom) {
        Buffer b = {0};
        char *s;

        if (!phrase)
                return NULL;
        expand(&b, phrase, values, true);
        s = buffer_take(&b, NULL);
        if (!s)
                *oom = true;
        else if (!s[0]) {
                free(s);
                s = NULL;
        }
        return s;
}

int text_template_check(const char *text, size_t size, unsigned *ret_line, char **ret_message) {
        const unsigned char *p = (const unsigned char *) text;
        const char *nl = memchr(text, '\n', size), *problem = NULL;
        size_t first = nl ? (size_t) (nl - text) : size;
        unsigned line = 1;
        int r;

        for (size_t i = 0, len; i < size && !problem; i += len) {
                len = utf8_char_length(p + i, size - i);
                if (len == 0)
                        problem = "invalid UTF-8";
                else if (p[i] == '\n')
                        line++;
                else if (p[i] == '\r')
                        problem = "carriage return (CR): save the file with Unix (LF) line ends";
                else if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f ||
                         (p[i] == 0xc2 && p[i + 1] < 0xa0)) /* C0, DEL, C1 */
                        problem = "control character (only newline and tab are allowed)";
        }
        if (!problem) {
                size_t spaces = 9; /* after "Subject: " */

                while (spaces < first && text[spaces] == ' ')
                        spaces++;
                line = 1;
                if (size < 9 || memcmp(text, "Subject: ", 9) != 0 || spaces == first)
                        problem = "the first line must be \"Subject: ...\"";
                else if (memchr(text, '\t', first))
                        problem = "a tab in the Subject line";
                else if (first + 1 < size && text[first + 1] != '\n') {
                        line = 2;
                        problem = "line 2 must be empty: it separates the Subject line from the "
                                  "body";
                }
        }
        for (size_t i = 0; !problem && i + 1 < size; i++) {
                const char *end, *close;

                if (text[i] == '\n')
                        line++;
                if (text[i] != '$' || (text[i + 1] != '$' && text[i + 1] != '{'))
                        continue;
                if (text[++i] == '$') /* "$$" */
                        continue;
                end = memchr(text + i, '\n', size - i);
                close = memchr(text + i, '}', (size_t) ((end ? end : text + size) - (text + i)));
                if (!close) {
                        r = asprintf(ret_message,
                                     "unterminated placeholder \"${\" (write \"$$\" for a '$')");
                        goto finish;
                }
                if (var_lookup(text + i + 1, (size_t) (close - text) - i - 1) < 0) {
                        r = asprintf(ret_message, "unknown placeholder \"$%.*s\"",
                                     (int) (close - text - (ptrdiff_t) i + 1), text + i);
                        goto finish;
                }
                i = (size_t) (close - text);
        }
        if (!problem)
                return 0;
        r = asprintf(ret_message, "%s", problem);
finish:
        *ret_line = line;
        if (r < 0) {
                *ret_message = NULL;
                return -ENOMEM;
        }
        return -EINVAL;
}

/* ---- the values of a reminder or a milestone ---- */

typedef struct Values {
        char *v[VAR_COUNT]; /* NULL: empty */
        bool oom;
} Values;

__attribute__((format(printf, 3, 4))) static void set(Values *values, Var var, const char *format,
                                                      ...) {
        char *s;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&s, format, ap);
        va_end(ap);
        if (r < 0) {
                values->oom = true;
                s = NULL;
        }
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

static void set_date(Values *values, Var var, Language language, Date d) {
        char buf[TEXT_DATE_MAX];

        set(values, var, "%s", text_date(language, d, buf));
}

static const char *unit_word(const Words *w, DurationUnit unit, int32_t count) {
        int i = unit == DURATION_WEEKS    ? 1
                : unit == DURATION_MONTHS ? 2
                : unit == DURATION_YEARS  ? 3
                                          : 0;
        return count == 1 ? w->unit_one[i] : w->unit_many[i];
}

static bool in_list(const size_t *list, size_t n, size_t x) {
        for (size_t i = 0; i < n; i++)
                if (list[i] == x)
                        return true;
        return false;
}

static const char *consequence_phrase(const Words *w, const Commitment *c, const Milestone *ms,
                                      const PlanCycle *cycle) {
        static const Outcome by_renewal[] = {
                [RENEWAL_NONE] = OUTCOME_NONE,
                [RENEWAL_TACIT] = OUTCOME_TACIT,
                [RENEWAL_INDEFINITE] = OUTCOME_INDEFINITE,
        };
        Outcome outcome = by_renewal[c->renewal];

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
                            (int) n, unit_word(w, DURATION_DAYS, n),
                            days > 0 ? w->left_suffix : w->ago_suffix);
        }
        if (c->has_notice)
                set(val, VAR_NOTICE, "%d %s", (int) c->notice.count,
                    unit_word(w, c->notice.unit, c->notice.count));
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
        const char *text = m->templates[rcpt->language][kind], *nl;
        Buffer subject = {0}, body = {0};
        Values val = {0};
        char *s, *b;

        if (!text)
                text = text_builtin_template(rcpt->language, kind);
        if (strncmp(text, "Subject: ", 9) != 0) /* text_template_check() refuses this */
                return -EINVAL;
        nl = strchrnul(text, '\n');
        values_fill(&val, m, rcpt->language, &r->milestone, r);
        (void) expand_line(&subject, text + 9, (size_t) (nl - text - 9), val.v);
        expand(&body, *nl == '\0' ? nl : nl[1] == '\n' ? nl + 2 : nl + 1, val.v, true);
        s = buffer_take(&subject, NULL);
        b = buffer_take(&body, NULL);
        if (!s || !b || val.oom) {
                values_done(&val);
                free(s);
                free(b);
                return -ENOMEM;
        }
        values_done(&val);
        *ret_subject = s;
        *ret_body = b;
        return 0;
}

int text_milestone(const Model *m, Language language, const Milestone *ms, char **ret_summary,
                   char **ret_description) {
        Values val = {0};
        Buffer description = {0};
        char *summary, *d;

        values_fill(&val, m, language, ms, NULL);
        expand(&description, words_of(language)->description, val.v, true);
        while (description.size > 0 && description.data[description.size - 1] == '\n')
                description.data[--description.size] = '\0';
        d = buffer_take(&description, NULL);
        summary = strdup(val.v[VAR_MILESTONE] ? val.v[VAR_MILESTONE] : "");
        if (!summary || !d || val.oom) {
                values_done(&val);
                free(summary);
                free(d);
                return -ENOMEM;
        }
        if (summary[0] >= 'a' && summary[0] <= 'z') /* "Besluit over ..." */
                summary[0] = (char) (summary[0] - 'a' + 'A');
        values_done(&val);
        *ret_summary = summary;
        *ret_description = d;
        return 0;
}