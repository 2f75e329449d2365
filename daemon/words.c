/* The Dutch and English tables (see words.h): nearly all of it is the sentences themselves. */

#include "noticed/words.h"

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
        .labels =
                {
                        [WORD_LABEL_DATE] = "DATUM",
                        [WORD_LABEL_AT] = "TIJDSTIP",
                        [WORD_LABEL_WHEN] = "WANNEER",
                        [WORD_LABEL_DAYS] = "DAGEN",
                        [WORD_LABEL_KIND] = "SOORT",
                        [WORD_LABEL_CYCLE] = "CYCLUS",
                        [WORD_LABEL_PERIOD] = "PERIODE",
                        [WORD_LABEL_COMMITMENT] = "AFSPRAAK",
                        [WORD_LABEL_DEADLINE] = "TERMIJN",
                        [WORD_LABEL_TITLE] = "TITEL",
                        [WORD_LABEL_MILESTONE] = "MIJLPAAL",
                        [WORD_LABEL_OFFSET] = "VOORAF",
                        [WORD_LABEL_RECIPIENT] = "ONTVANGER",
                        [WORD_LABEL_PARTICIPANT] = "DEELNEMER",
                        [WORD_LABEL_PAYS_A_YEAR] = "BETAALT PER JAAR",
                        [WORD_LABEL_CHANNELS] = "KANALEN",
                        [WORD_LABEL_CHANNEL] = "KANAAL",
                        [WORD_LABEL_STATE] = "STATUS",
                        [WORD_LABEL_DECISION] = "BESLUIT",
                        [WORD_LABEL_DETAILS] = "TOELICHTING",
                },
        .states =
                {
                        [WORD_STATE_DUE] = "gepland",
                        [WORD_STATE_CATCH_UP] = "inhalen",
                        [WORD_STATE_QUEUED] = "in wachtrij",
                        [WORD_STATE_RETRYING] = "opnieuw",
                        [WORD_STATE_PENDING] = "onderweg",
                        [WORD_STATE_SENT] = "verzonden",
                        [WORD_STATE_FAILED] = "mislukt",
                        [WORD_STATE_SKIPPED] = "overgeslagen",
                        [WORD_STATE_DECIDED] = "besloten",
                        [WORD_STATE_REVOKED] = "ingetrokken",
                },
        .attempt_one = "poging",
        .attempt_many = "pogingen",
        .by = "door",
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
        .labels =
                {
                        [WORD_LABEL_DATE] = "DATE",
                        [WORD_LABEL_AT] = "AT",
                        [WORD_LABEL_WHEN] = "WHEN",
                        [WORD_LABEL_DAYS] = "DAYS",
                        [WORD_LABEL_KIND] = "KIND",
                        [WORD_LABEL_CYCLE] = "CYCLE",
                        [WORD_LABEL_PERIOD] = "PERIOD",
                        [WORD_LABEL_COMMITMENT] = "COMMITMENT",
                        [WORD_LABEL_DEADLINE] = "DEADLINE",
                        [WORD_LABEL_TITLE] = "TITLE",
                        [WORD_LABEL_MILESTONE] = "MILESTONE",
                        [WORD_LABEL_OFFSET] = "OFFSET",
                        [WORD_LABEL_RECIPIENT] = "RECIPIENT",
                        [WORD_LABEL_PARTICIPANT] = "PARTICIPANT",
                        [WORD_LABEL_PAYS_A_YEAR] = "PAYS A YEAR",
                        [WORD_LABEL_CHANNELS] = "CHANNELS",
                        [WORD_LABEL_CHANNEL] = "CHANNEL",
                        [WORD_LABEL_STATE] = "STATE",
                        [WORD_LABEL_DECISION] = "DECISION",
                        [WORD_LABEL_DETAILS] = "DETAILS",
                },
        .states =
                {
                        [WORD_STATE_DUE] = "due",
                        [WORD_STATE_CATCH_UP] = "catch-up",
                        [WORD_STATE_QUEUED] = "queued",
                        [WORD_STATE_RETRYING] = "retrying",
                        [WORD_STATE_PENDING] = "pending",
                        [WORD_STATE_SENT] = "sent",
                        [WORD_STATE_FAILED] = "failed",
                        [WORD_STATE_SKIPPED] = "skipped",
                        [WORD_STATE_DECIDED] = "decided",
                        [WORD_STATE_REVOKED] = "revoked",
                },
        .attempt_one = "attempt",
        .attempt_many = "attempts",
        .by = "by",
};

const Words *words_of(Language language) {
        return language == LANGUAGE_EN ? &words_en : &words_nl;
}

const char *words_unit(const Words *w, DurationUnit unit, int32_t count) {
        int i = unit == DURATION_WEEKS    ? 1
                : unit == DURATION_MONTHS ? 2
                : unit == DURATION_YEARS  ? 3
                                          : 0;
        return count == 1 ? w->unit_one[i] : w->unit_many[i];
}

/* The tables are filled by designated initializers: a label or state left out would be NULL,
 * which test-words catches; the "?" keeps a table cell printable even then. */
const char *words_label(const Words *w, WordLabel label) {
        return label >= 0 && label < _WORD_LABEL_MAX && w->labels[label] ? w->labels[label] : "?";
}

const char *words_state(const Words *w, WordState state) {
        return state >= 0 && state < _WORD_STATE_MAX && w->states[state] ? w->states[state] : "?";
}
