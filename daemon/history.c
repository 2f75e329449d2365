/* The audit trail: decisions and deliveries, as people and programs read them.
 *
 * The table is built whole before it is printed: its columns are as wide as their widest cell
 * (up to a cap, past which a cell is shortened with "…"), so that the common case, short ids,
 * leaves the most room for the details, which wrap within HISTORY_COLUMNS.  That costs a few
 * strings a row, next to the rows the ledger call already holds in memory. */

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "noticed/history.h"
#include "noticed/macro.h"
#include "noticed/output.h"
#include "noticed/plan.h"
#include "noticed/tz.h"

int history_check_decision(const Model *m, const char *commitment, uint32_t cycle,
                           const char *participant, const char **ret_error) {
        const Commitment *c;
        PlanCycle previous;
        size_t index;

        if (model_find_commitment(m, commitment, &index) < 0) {
                *ret_error = "no such commitment in the config";
                return -EINVAL;
        }
        c = &m->commitments[index];
        if (!c->has_notice) {
                *ret_error = "the commitment has no notice period, so there is nothing to decide";
                return -EINVAL;
        }
        if (cycle < 1 || (c->renewal != RENEWAL_TACIT && cycle != 1)) {
                *ret_error = c->renewal == RENEWAL_TACIT
                                     ? "the cycle must be 1 or more"
                                     : "the commitment does not renew: its only cycle is 1";
                return -EINVAL;
        }
        /* A cycle exists when the one before it renews tacitly: `terminated` ends the chain. */
        if (cycle > 1 &&
            (plan_cycle(m, index, cycle - 1, &previous) < 0 || !previous.tacitly_renewed)) {
                *ret_error = "the commitment has no such cycle (it ends before it)";
                return -EINVAL;
        }
        for (size_t i = 0; i < c->n_participants; i++)
                if (strcmp(m->recipients[c->participants[i]].id, participant) == 0)
                        return 0;
        *ret_error = "not a participant of the commitment";
        return -EINVAL;
}

static char *login_of(uid_t uid) {
        struct passwd *pw = getpwuid(uid);
        char *s;

        if (pw && pw->pw_name)
                return strdup(pw->pw_name);
        if (asprintf(&s, "uid %u", (unsigned) uid) < 0)
                return NULL;
        return s;
}

int history_invoking_user(char **ret) {
        const char *sudo = getenv("SUDO_USER");
        char *login = login_of(getuid()), *s;

        if (!login)
                return -ENOMEM;
        if (!sudo || !*sudo || strcmp(sudo, login) == 0) {
                *ret = login;
                return 0;
        }
        if (asprintf(&s, "%s (sudo by %s)", login, sudo) < 0)
                s = NULL;
        free(login);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* RFC 3339 local time of a CLOCK_REALTIME µs value. */
static char *format_usec_cached(const Tz *tz, TzStampCache *stamps, usec_t usec,
                                char buf[static TZ_TIMESTAMP_MAX]) {
        return tz_format_local_cached(tz, stamps, (int64_t) (usec / USEC_PER_SEC), buf);
}

int history_state_from_string(const char *s, int *ret) {
        if (strcmp(s, "decided") == 0) {
                *ret = HISTORY_STATE_DECIDED;
                return 0;
        }
        for (int i = 0; i < _LEDGER_STATE_MAX; i++)
                if (strcmp(s, ledger_state_to_string((LedgerState) i)) == 0) {
                        *ret = i;
                        return 0;
                }
        return -EINVAL;
}

/* The trail's rows, in the keys and order the JSON has always had; a NULL optional string
 * (note, deadline, reply, message_id) leaves its key out.  0, or -EILSEQ (not UTF-8). */
static int decision_write(JsonWriter *w, TzStampCache *stamps, const Tz *tz,
                          const LedgerDecision *d) {
        char at[TZ_TIMESTAMP_MAX];

        output_json_object_begin(w);
        output_json_string(w, "type", "decision");
        output_json_string(w, "at", format_usec_cached(tz, stamps, d->at_usec, at));
        output_json_string(w, "commitment", d->commitment);
        output_json_integer(w, "cycle", d->cycle);
        output_json_string(w, "participant", d->participant);
        output_json_string(w, "decision", decision_to_string(d->decision));
        output_json_string(w, "note", d->note);
        output_json_string(w, "user", d->user);
        return output_json_object_end(w);
}

static int entry_write(JsonWriter *w, TzStampCache *stamps, const Tz *tz, const LedgerEntry *e) {
        const ReminderIdentity *x = &e->identity;
        char at[TZ_TIMESTAMP_MAX];

        output_json_object_begin(w);
        output_json_string(w, "type", "reminder");
        output_json_string(w, "at", format_usec_cached(tz, stamps, e->updated_usec, at));
        output_json_string(w, "state", ledger_state_to_string(e->state));
        output_json_string(w, "id", x->id);
        output_json_string(w, "commitment", x->commitment);
        output_json_integer(w, "cycle", x->cycle);
        output_json_string(w, "kind", x->kind);
        output_json_string(w, "deadline", x->deadline);
        output_json_string(w, "milestone", x->milestone);
        output_json_string(w, "offset", x->offset);
        output_json_string(w, "recipient", x->recipient);
        output_json_string(w, "channel", x->channel);
        output_json_integer(w, "attempts", e->attempts);
        output_json_string(w, "due", format_usec_cached(tz, stamps, e->due_usec, at));
        output_json_string(w, "reply", e->reply);
        output_json_string(w, "message_id", e->message_id);
        return output_json_object_end(w);
}

static bool keep_decision(const HistoryFilter *f, const LedgerDecision *d) {
        return (!f->commitment || strcmp(d->commitment, f->commitment) == 0) &&
               (!f->recipient || strcmp(d->participant, f->recipient) == 0) &&
               (f->state == HISTORY_STATE_ANY || f->state == HISTORY_STATE_DECIDED) &&
               d->at_usec >= f->since_usec;
}

static bool keep_entry(const HistoryFilter *f, const LedgerEntry *e) {
        return (!f->commitment || strcmp(e->identity.commitment, f->commitment) == 0) &&
               (!f->recipient || strcmp(e->identity.recipient, f->recipient) == 0) &&
               (f->state == HISTORY_STATE_ANY || f->state == (int) e->state) &&
               e->updated_usec >= f->since_usec;
}

/* ---- the table ---- */

enum {
        COL_WHEN,
        COL_STATE,
        COL_COMMITMENT,
        COL_KIND,
        COL_CYCLE,
        COL_RECIPIENT,
        COL_DETAILS,
        N_COL
};

/* The widest a cell may make its column; wider cells are shortened.  With two columns between
 * cells the caps add up to 98 ("portefeuillehouder", the Twente case's longest id, fits): a row
 * always fits, if need be with its details below it. */
static const size_t column_cap[N_COL] = {16, 12, 18, 18, 6, 18, 0};
#define DETAILS_MIN      40 /* narrower than this, long details go on lines of their own */
#define DETAILS_INDENT   4
#define DETAILS_MAXLINES 3

typedef struct Row {
        char *cell[N_COL];
} Row;

/* Columns of a UTF-8 string: its code points (every character we expect is one column wide;
 * a wide CJK character in a reply counts as one and may push its line one column over). */
static size_t columns_of(const char *s) {
        size_t n = 0;

        for (; *s; s++)
                if (((unsigned char) *s & 0xc0) != 0x80)
                        n++;
        return n;
}

/* The bytes of s's first `columns` columns, never splitting a character. */
static size_t bytes_of_columns(const char *s, size_t columns) {
        size_t i = 0, n = 0;

        for (; s[i]; i++)
                if (((unsigned char) s[i] & 0xc0) != 0x80 && n++ == columns)
                        break;
        return i;
}

/* Prints s in width columns: padded (on the left when right_align; not at all when pad is
 * false), or shortened to width − 1 columns and "…". */
static void print_cell(FILE *out, const char *s, size_t width, bool right_align, bool pad) {
        size_t columns = columns_of(s);

        if (columns > width) {
                fprintf(out, "%.*s…", (int) bytes_of_columns(s, width - 1), s);
                return;
        }
        if (right_align)
                fprintf(out, "%*s%s", (int) (width - columns), "", s);
        else
                fprintf(out, "%s%*s", s, pad ? (int) (width - columns) : 0, "");
}

/* Prints s in lines of at most width columns, broken at spaces where one is, each after the
 * first indented by indent spaces; past max_lines the last line ends in "…". */
static void print_wrapped(FILE *out, const char *s, size_t indent, size_t width, size_t max_lines) {
        for (size_t line = 1; *s; line++) {
                size_t rest = columns_of(s), cut;

                if (line > 1)
                        fprintf(out, "\n%*s", (int) indent, "");
                if (rest <= width) {
                        fputs(s, out);
                        break;
                }
                if (line == max_lines) {
                        fprintf(out, "%.*s…", (int) bytes_of_columns(s, width - 1), s);
                        break;
                }
                cut = bytes_of_columns(s, width);
                if (s[cut] != ' ')
                        for (size_t i = cut; i > 0; i--)
                                if (s[i - 1] == ' ') {
                                        cut = i - 1;
                                        break;
                                }
                if (cut == 0)
                        cut = bytes_of_columns(s, width);
                fprintf(out, "%.*s", (int) cut, s);
                s += cut;
                while (*s == ' ')
                        s++;
        }
        fputc('\n', out);
}

/* "2020-04-17 09:00": minutes are enough in a table; the zone is named below it. */
static char *format_when(const Tz *tz, usec_t usec) {
        int64_t unix_time = (int64_t) (usec / USEC_PER_SEC);
        char date[DATE_STRING_MAX], *s;
        int32_t seconds, offset;
        Date d;

        tz_unix_to_local(tz, unix_time, &d, &seconds, &offset);
        if (asprintf(&s, "%s %02d:%02d", date_format(d, date), (int) (seconds / 3600),
                     (int) (seconds / 60 % 60)) < 0)
                return NULL;
        return s;
}

/* Control characters (a multi-line SMTP reply's CR LF and indent) would break the table: each
 * run of them and the spaces around it becomes one space. */
static void flatten(char *s) {
        char *to = s;

        for (const char *p = s; *p; p++) {
                bool blank = (unsigned char) *p <= 0x20 || *p == 0x7f;

                if (!blank)
                        *to++ = *p;
                else if (to > s && to[-1] != ' ')
                        *to++ = ' ';
        }
        *to = '\0';
}

static WordState word_state_of(LedgerState s) {
        switch (s) {
        case LEDGER_SENT:
                return WORD_STATE_SENT;
        case LEDGER_FAILED:
                return WORD_STATE_FAILED;
        case LEDGER_SKIPPED:
                return WORD_STATE_SKIPPED;
        case LEDGER_QUEUED:
                return WORD_STATE_QUEUED;
        default:
                return WORD_STATE_PENDING;
        }
}

static int decision_row(const Tz *tz, const Words *w, const LedgerDecision *d, Row *ret) {
        const char *decision = decision_to_string(d->decision);

        ret->cell[COL_WHEN] = format_when(tz, d->at_usec);
        /* A revocation is a row of the trail too, and says so in the state column. */
        ret->cell[COL_STATE] = strdup(words_state(
                w, d->decision == DECISION_REVOKE ? WORD_STATE_REVOKED : WORD_STATE_DECIDED));
        ret->cell[COL_COMMITMENT] = strdup(d->commitment);
        ret->cell[COL_KIND] = strdup("");
        if (asprintf(&ret->cell[COL_CYCLE], "%" PRIu32, d->cycle) < 0)
                ret->cell[COL_CYCLE] = NULL;
        ret->cell[COL_RECIPIENT] = strdup(d->participant);
        if (asprintf(&ret->cell[COL_DETAILS], "%s %s %s%s%s", decision ? decision : "?", w->by,
                     d->user, d->note ? ": " : "", d->note ? d->note : "") < 0)
                ret->cell[COL_DETAILS] = NULL;
        for (int c = 0; c < N_COL; c++)
                if (!ret->cell[c])
                        return -ENOMEM;
        flatten(ret->cell[COL_DETAILS]);
        return 0;
}

static int entry_row(const Tz *tz, const Words *w, const LedgerEntry *e, Row *ret) {
        const ReminderIdentity *x = &e->identity;

        ret->cell[COL_WHEN] = format_when(tz, e->updated_usec);
        ret->cell[COL_STATE] = strdup(words_state(w, word_state_of(e->state)));
        ret->cell[COL_COMMITMENT] = strdup(x->commitment);
        if (asprintf(&ret->cell[COL_KIND], "%s%s%s", x->kind, x->deadline ? ":" : "",
                     x->deadline ? x->deadline : "") < 0)
                ret->cell[COL_KIND] = NULL;
        if (asprintf(&ret->cell[COL_CYCLE], "%" PRIu32, x->cycle) < 0)
                ret->cell[COL_CYCLE] = NULL;
        ret->cell[COL_RECIPIENT] = strdup(x->recipient);
        if (asprintf(&ret->cell[COL_DETAILS], "%s %s %s, %u %s%s%s", x->milestone, x->offset,
                     x->channel, e->attempts, e->attempts == 1 ? w->attempt_one : w->attempt_many,
                     e->reply ? ": " : "", e->reply ? e->reply : "") < 0)
                ret->cell[COL_DETAILS] = NULL;
        for (int c = 0; c < N_COL; c++)
                if (!ret->cell[c])
                        return -ENOMEM;
        flatten(ret->cell[COL_DETAILS]);
        return 0;
}

static void rows_free(Row *rows, size_t n) {
        for (size_t i = 0; i < n; i++)
                for (int c = 0; c < N_COL; c++)
                        free(rows[i].cell[c]);
        free(rows);
}

/* One line of the table: its cells, then the details beside them when they fit or when there
 * is room enough to wrap them there, else on lines of their own below. */
static void print_row(FILE *out, const char *const cell[N_COL], const size_t width[N_COL],
                      size_t prefix) {
        size_t room = HISTORY_COLUMNS - prefix;
        bool below = columns_of(cell[COL_DETAILS]) > room && room < DETAILS_MIN;

        for (int c = 0; c < COL_DETAILS; c++) {
                bool last = c == COL_DETAILS - 1;

                print_cell(out, cell[c], width[c], c == COL_CYCLE, !(last && below));
                if (!(last && below))
                        fputs("  ", out);
        }
        if (below) {
                fprintf(out, "\n%*s", DETAILS_INDENT, "");
                print_wrapped(out, cell[COL_DETAILS], DETAILS_INDENT,
                              HISTORY_COLUMNS - DETAILS_INDENT, DETAILS_MAXLINES);
        } else
                print_wrapped(out, cell[COL_DETAILS], prefix, room, DETAILS_MAXLINES);
}

static void print_table(FILE *out, const Words *w, const Row *rows, size_t n) {
        static const WordLabel labels[N_COL] = {
                WORD_LABEL_WHEN,  WORD_LABEL_STATE,     WORD_LABEL_COMMITMENT, WORD_LABEL_KIND,
                WORD_LABEL_CYCLE, WORD_LABEL_RECIPIENT, WORD_LABEL_DETAILS,
        };
        const char *header[N_COL];
        size_t width[N_COL], prefix = 0;

        for (int c = 0; c < N_COL; c++)
                header[c] = words_label(w, labels[c]);
        for (int c = 0; c < COL_DETAILS; c++) {
                width[c] = columns_of(header[c]);
                for (size_t i = 0; i < n; i++) {
                        size_t columns = columns_of(rows[i].cell[c]);
                        if (columns > width[c])
                                width[c] = columns;
                }
                if (width[c] > column_cap[c])
                        width[c] = column_cap[c];
                prefix += width[c] + 2;
        }
        print_row(out, header, width, prefix);
        for (size_t i = 0; i < n; i++)
                print_row(out, (const char *const *) rows[i].cell, width, prefix);
}

static int compare_updated(const void *a, const void *b) {
        const LedgerEntry *x = a, *y = b;
        int r;

        if (x->updated_usec != y->updated_usec)
                return x->updated_usec < y->updated_usec ? -1 : 1;
        if (x->due_usec != y->due_usec)
                return x->due_usec < y->due_usec ? -1 : 1;
        r = strcmp(x->identity.id, y->identity.id);
        return r != 0 ? r : strcmp(x->identity.channel, y->identity.channel);
}

int history_print(FILE *out, Ledger *l, const Tz *tz, const Words *w, const HistoryFilter *f,
                  bool json) {
        LedgerDecision *d = NULL;
        LedgerEntry *e = NULL;
        Row *rows = NULL;
        size_t n_d = 0, n_e = 0, i = 0, j = 0, shown_d = 0, shown_e = 0, n_rows = 0;
        TzStampCache stamps = TZ_STAMP_CACHE_INIT;
        _cleanup_free_ JsonWriter *writer = NULL;
        int r;

        if (json && !(writer = malloc(sizeof(*writer))))
                return -ENOMEM;
        if (writer)
                output_json_begin(writer, out);
        if ((r = ledger_decision_trail(l, &d, &n_d)) < 0)
                return r;
        if ((r = ledger_history(l, f->commitment, &e, &n_e)) < 0)
                goto finish;
        if (!json && !(rows = calloc(n_d + n_e + 1, sizeof(*rows)))) {
                r = -ENOMEM;
                goto finish;
        }
        /* Decisions come oldest first; reminders are put in the order they were settled (then by
         * due time and identity); the two merge by time. */
        if (n_e > 1)
                qsort(e, n_e, sizeof(*e), compare_updated);
        while (i < n_d || j < n_e) {
                bool take_decision;

                if (i < n_d && !keep_decision(f, &d[i])) {
                        i++;
                        continue;
                }
                if (j < n_e && !keep_entry(f, &e[j])) {
                        j++;
                        continue;
                }
                take_decision = i < n_d && (j >= n_e || d[i].at_usec <= e[j].updated_usec);
                if (writer)
                        r = take_decision ? decision_write(writer, &stamps, tz, &d[i])
                                          : entry_write(writer, &stamps, tz, &e[j]);
                else
                        r = take_decision ? decision_row(tz, w, &d[i], &rows[n_rows++])
                                          : entry_row(tz, w, &e[j], &rows[n_rows++]);
                if (r < 0)
                        goto finish;
                if (take_decision) {
                        i++;
                        shown_d++;
                } else {
                        j++;
                        shown_e++;
                }
        }
        if (writer)
                output_json_end(writer);
        else {
                print_table(out, w, rows, n_rows);
                fprintf(out, "%zu reminder row%s, %zu decision%s; times in %s\n", shown_e,
                        shown_e == 1 ? "" : "s", shown_d, shown_d == 1 ? "" : "s", tz_name(tz));
        }
finish:
        rows_free(rows, n_rows);
        ledger_decisions_free(d, n_d);
        ledger_entries_free(e, n_e);
        return r;
}
