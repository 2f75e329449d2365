/* noticectl upcoming: what will really go out, and when.
 *
 * simulate plans from the config alone; upcoming asks the pass (pass_preview()) what it would
 * do with the real ledger: reminders already sent, skipped or failed are gone, a participant
 * who decided gets no more decision or notice reminders for that cycle, a message waiting in
 * the outbox shows as queued (or retrying, with its next attempt), and a reminder missed while
 * the daemon was down shows at the send_time catch-up gives it.  The ledger is only read. */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "noticed/clock.h"
#include "noticed/ctl.h"
#include "noticed/ledger.h"
#include "noticed/macro.h"
#include "noticed/output.h"
#include "noticed/pass.h"
#include "noticed/render.h"
#include "noticed/tz.h"
#include "noticed/words.h"

#define UPCOMING_DEFAULT_DAYS 60
#define UPCOMING_MAX_DAYS     3660 /* ten years: as far as the daemon itself looks is 120 months */

/* One reminder that will go out, on all the channels that share its fate and instant. */
typedef struct Row {
        Reminder reminder;
        char *id; /* its identity's id: the rows of one reminder's channels share it */
        PassFate fate;
        usec_t at_usec;
        bool catch_up;
        json_t *channels; /* array of "mail", "webhook:NAME" */
} Row;

typedef struct Upcoming {
        const Model *model;
        const char *recipient, *commitment; /* filters, or NULL */
        Row *rows;
        size_t n, allocated;
        size_t skipped; /* messages (reminder and channel) catch-up records as skipped */
        usec_t now;
} Upcoming;

static void upcoming_done(Upcoming *u) {
        for (size_t i = 0; i < u->n; i++) {
                free(u->rows[i].id);
                json_decref(u->rows[i].channels);
        }
        free(u->rows);
}

static bool wanted(const Upcoming *u, const Reminder *r) {
        const Model *m = u->model;

        if (u->recipient && strcmp(m->recipients[r->recipient].id, u->recipient) != 0)
                return false;
        if (u->commitment && strcmp(m->commitments[r->milestone.commitment].id, u->commitment) != 0)
                return false;
        return true;
}

/* The row this channel joins: the same reminder, fate and instant, among the rows of that
 * instant (the preview comes in the order of instants); NULL when it starts a new one. */
static Row *find_row(Upcoming *u, const PassPreview *p) {
        for (size_t k = u->n; k > 0 && u->rows[k - 1].at_usec == p->at_usec; k--) {
                Row *row = &u->rows[k - 1];
                if (row->fate == p->fate && strcmp(row->id, p->identity->id) == 0)
                        return row;
        }
        return NULL;
}

static int add_row(Upcoming *u, const PassPreview *p, Row **ret) {
        Row *row;

        if (u->n == u->allocated) {
                size_t more = u->allocated ? 2 * u->allocated : 64;
                Row *bigger = reallocarray(u->rows, more, sizeof(*bigger));
                if (!bigger)
                        return -ENOMEM;
                u->rows = bigger;
                u->allocated = more;
        }
        row = &u->rows[u->n];
        *row = (Row){.reminder = *p->reminder,
                     .id = strdup(p->identity->id),
                     .fate = p->fate,
                     .at_usec = p->at_usec,
                     .catch_up = p->catch_up,
                     .channels = json_array()};
        if (!row->id || !row->channels) {
                free(row->id);
                json_decref(row->channels);
                return -ENOMEM;
        }
        u->n++;
        *ret = row;
        return 0;
}

static int on_preview(void *userdata, const PassPreview *preview) {
        Upcoming *u = userdata;
        PassPreview shown = *preview;
        const PassPreview *p = &shown;
        Row *row;
        int r;

        if (!wanted(u, p->reminder))
                return 0;
        if (p->fate == PASS_FATE_SKIP) {
                u->skipped++;
                return 0;
        }
        /* What is due already (a daemon that is not running, a retry overdue) goes out as soon
         * as the daemon looks: now, not at an instant past. */
        if (shown.at_usec < u->now)
                shown.at_usec = u->now;
        row = find_row(u, p);
        if (!row && (r = add_row(u, p, &row)) < 0)
                return r;
        return json_array_append_new(row->channels, json_string(p->identity->channel)) < 0 ? -ENOMEM
                                                                                           : 0;
}

static const char *fate_to_string(PassFate fate) {
        switch (fate) {
        case PASS_FATE_DUE:
                return "due";
        case PASS_FATE_QUEUED:
                return "queued";
        case PASS_FATE_RETRYING:
                return "retrying";
        case PASS_FATE_SKIP:
                return "skip";
        }
        return "?";
}

/* simulate's object, with the instant it will really go out, the channels of this fate, and
 * what the ledger adds.  0, or -EILSEQ (a string that is not UTF-8). */
static int row_write(JsonWriter *w, TzStampCache *stamps, const Model *m, const Row *row) {
        const Milestone *ms = &row->reminder.milestone;
        char at[TZ_TIMESTAMP_MAX], planned[TZ_TIMESTAMP_MAX];

        render_reminder_write(
                w, m, &row->reminder,
                tz_format_local_cached(m->tz, stamps, (int64_t) (row->at_usec / USEC_PER_SEC), at));
        output_json_array_begin(w, "channels");
        for (size_t i = 0; i < json_array_size(row->channels); i++)
                output_json_array_string(w, json_string_value(json_array_get(row->channels, i)));
        output_json_array_end(w);
        output_json_string(w, "state", fate_to_string(row->fate));
        output_json_boolean(w, "catch_up", row->catch_up);
        output_json_string(w, "title", render_milestone_title(m, ms));
        if (ms->deadline >= 0)
                output_json_string(w, "deadline",
                                   m->commitments[ms->commitment].deadlines[ms->deadline].id);
        if (row->catch_up)
                output_json_string(
                        w, "planned",
                        tz_format_rfc3339(row->reminder.at, row->reminder.utc_offset, planned));
        return output_json_object_end(w);
}

/* The state column in the table's language: a catch-up is due, late. */
static const char *row_state(const Words *w, const Row *row) {
        switch (row->fate) {
        case PASS_FATE_DUE:
                return words_state(w, row->catch_up ? WORD_STATE_CATCH_UP : WORD_STATE_DUE);
        case PASS_FATE_QUEUED:
                return words_state(w, WORD_STATE_QUEUED);
        case PASS_FATE_RETRYING:
                return words_state(w, WORD_STATE_RETRYING);
        case PASS_FATE_SKIP:
                return words_state(w, WORD_STATE_SKIPPED);
        }
        return "?";
}

static void print_header(const Words *w) {
        printf("%-20s  %6s  %-11s %-22s %-12s %6s  %-10s %6s  %-18s %-14s %s\n",
               words_label(w, WORD_LABEL_AT), words_label(w, WORD_LABEL_DAYS),
               words_label(w, WORD_LABEL_STATE), words_label(w, WORD_LABEL_COMMITMENT),
               words_label(w, WORD_LABEL_KIND), words_label(w, WORD_LABEL_CYCLE),
               words_label(w, WORD_LABEL_MILESTONE), words_label(w, WORD_LABEL_OFFSET),
               words_label(w, WORD_LABEL_RECIPIENT), words_label(w, WORD_LABEL_CHANNELS),
               words_label(w, WORD_LABEL_TITLE));
}

static void print_row(const Context *ctx, const Row *row) {
        const Model *m = ctx->model;
        const Reminder *r = &row->reminder;
        const Milestone *ms = &r->milestone;
        const Commitment *c = &m->commitments[ms->commitment];
        char date[DATE_STRING_MAX], milestone[DATE_STRING_MAX], offset[DURATION_STRING_MAX];
        char channels[256], cycle[12] = "-";
        const char *kind = r->overdue ? "overdue" : milestone_kind_to_string(ms->kind);
        Date day;
        int32_t seconds, utc_offset;

        tz_unix_to_local(m->tz, (int64_t) (row->at_usec / USEC_PER_SEC), &day, &seconds,
                         &utc_offset);
        if (ms->cycle > 0)
                (void) snprintf(cycle, sizeof(cycle), "%" PRIu32, ms->cycle);
        /* A one-off deadline is known by its own id. */
        if (ms->deadline >= 0 && !r->overdue)
                kind = c->deadlines[ms->deadline].id;
        ctl_join_channels(row->channels, channels, sizeof(channels));
        printf("%-3s %s %02d:%02d  %+6" PRId32 "  %-11s %-22s %-12s %6s  %s %6s  %-18s %-14s %s\n",
               render_weekday_short(m->language, day), date_format(day, date),
               (int) (seconds / 3600), (int) (seconds / 60 % 60), day - ctx->today,
               row_state(words_of(m->language), row), c->id, kind, cycle,
               date_format(ms->date, milestone), render_offset(r, offset),
               m->recipients[r->recipient].id, channels, render_milestone_title(m, ms));
}

static int print_rows(const Context *ctx, const Upcoming *u, bool json, int days) {
        TzStampCache stamps = TZ_STAMP_CACHE_INIT;
        _cleanup_free_ JsonWriter *w = NULL;

        if (json && !(w = malloc(sizeof(*w)))) {
                fprintf(stderr, "noticectl: out of memory\n");
                return EX_UNAVAILABLE;
        }
        if (!json)
                print_header(words_of(ctx->model->language));
        else
                output_json_begin(w, stdout);
        for (size_t i = 0; i < u->n; i++) {
                if (!json)
                        print_row(ctx, &u->rows[i]);
                else if (row_write(w, &stamps, ctx->model, &u->rows[i]) < 0) {
                        fprintf(stderr, "noticectl: a reminder of %s is not UTF-8\n",
                                ctx->model->commitments[u->rows[i].reminder.milestone.commitment]
                                        .id);
                        return EX_DATAERR;
                }
        }
        if (json)
                output_json_end(w);
        else {
                printf("%zu reminder%s to go out in the next %d day%s", u->n, u->n == 1 ? "" : "s",
                       days, days == 1 ? "" : "s");
                if (u->skipped > 0)
                        printf("; %zu planned message%s will be recorded as skipped by the "
                               "catch-up rules instead (noticed --dry-run says why)",
                               u->skipped, u->skipped == 1 ? "" : "s");
                printf(".\n");
        }
        return ctl_finish_output();
}

static int parse_days(const char *s, int *ret) {
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || end == s || *end || s[0] == '+' || v < 1 || v > UPCOMING_MAX_DAYS)
                return ctl_usage_error("--days '%s' must be a number of days from 1 to %d", s,
                                       UPCOMING_MAX_DAYS);
        *ret = (int) v;
        return 0;
}

/* now: the clock, or with --today the local midnight that starts that day. */
static usec_t upcoming_now(const Context *ctx) {
        int64_t t;
        int32_t offset;

        if (!ctx->have_today)
                return clock_now_usec(CLOCK_REALTIME);
        tz_local_to_unix(ctx->model->tz, ctx->today, 0, &t, &offset);
        return t < 0 ? 0 : (usec_t) t * USEC_PER_SEC;
}

/* The ledger as it is now, copied into memory (ledger_open_snapshot()): upcoming writes
 * nothing, not even a migration, so it can run beside the daemon, as any user who can read the
 * file, and before a first start (then nothing is recorded yet, and it says so).  0, or an exit
 * status after saying why. */
static int open_snapshot(Ledger **ret) {
        _cleanup_free_ char *path = ledger_path_in(ledger_state_directory());
        int r;

        if (!path) {
                fprintf(stderr, "noticectl: out of memory\n");
                return EX_UNAVAILABLE;
        }
        r = ledger_open_snapshot(path, ret);
        if (r == -ENOENT) {
                fprintf(stderr,
                        "noticectl: no ledger at %s yet (noticed has not run with this state "
                        "directory): nothing is recorded, everything planned is to come\n",
                        path);
                r = ledger_open_snapshot(NULL, ret);
        }
        if (r < 0) {
                fprintf(stderr, "noticectl: cannot read the ledger %s: %s\n", path,
                        r == -EPROTONOSUPPORT ? "it was written by a newer noticed" : strerror(-r));
                return r == -EACCES ? EX_NOPERM : EX_UNAVAILABLE;
        }
        return 0;
}

/* The named recipient or commitment is in the config: 0, or EX_DATAERR after saying so. */
static int check_filters(const Context *ctx, const Upcoming *u) {
        size_t index;

        if (u->recipient && model_find_recipient(ctx->model, u->recipient, &index) < 0) {
                fprintf(stderr, "noticectl: no recipient '%s' in %s\n", u->recipient,
                        ctx->config_path);
                return EX_DATAERR;
        }
        if (u->commitment && model_find_commitment(ctx->model, u->commitment, &index) < 0) {
                fprintf(stderr, "noticectl: no commitment '%s' in %s\n", u->commitment,
                        ctx->config_path);
                return EX_DATAERR;
        }
        return 0;
}

int cmd_upcoming(Context *ctx, int argc, char **argv) {
        static const struct option options[] = {
                {"recipient", required_argument, NULL, 'r'},
                {"commitment", required_argument, NULL, 'C'},
                {"days", required_argument, NULL, 'd'},
                {"json", no_argument, NULL, 'j'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        Upcoming u = {0};
        int days = UPCOMING_DEFAULT_DAYS, c, r;
        bool json = false;
        Ledger *ledger = NULL;
        Pass *pass = NULL;

        optind = 0; /* glibc: start a fresh scan of the command's own arguments */
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'r':
                        u.recipient = optarg;
                        break;
                case 'C':
                        u.commitment = optarg;
                        break;
                case 'd':
                        if ((r = parse_days(optarg, &days)))
                                return r;
                        break;
                case 'j':
                        json = true;
                        break;
                case 'h':
                        ctl_help();
                        return EX_OK;
                default:
                        return ctl_usage_error("upcoming [--recipient ID] [--commitment ID] "
                                               "[--days N] [--json]");
                }
        if (optind < argc)
                return ctl_usage_error("upcoming: unexpected argument '%s'", argv[optind]);
        if ((r = ctl_load_model(ctx)) || (r = check_filters(ctx, &u)))
                return r;
        u.model = ctx->model;
        u.now = upcoming_now(ctx);
        if ((r = open_snapshot(&ledger)))
                return r;
        if (pass_new(ledger, &pass) < 0) {
                ledger_close(ledger);
                fprintf(stderr, "noticectl: out of memory\n");
                return EX_UNAVAILABLE;
        }
        r = pass_load_decisions(pass, ctx->model);
        if (r >= 0)
                r = pass_preview(pass, ctx->model, u.now, ctx->today, ctx->today + days, on_preview,
                                 &u);
        if (r < 0) {
                fprintf(stderr, "noticectl: cannot read the ledger: %s\n",
                        r == -ENOMEM ? strerror(-r) : ledger_error(ledger));
                r = EX_UNAVAILABLE;
        } else
                r = print_rows(ctx, &u, json, days);
        upcoming_done(&u);
        pass_free(pass);
        ledger_close(ledger);
        return r;
}
