/* noticectl check, list, simulate and export-ics: what the config plans, shown.
 *
 * The shell around the pure core: the model with today (ctl.c), plan's milestones or
 * reminders, printed as a table for people, as the contract's JSON for programs, or as one
 * iCalendar file.  Long ranges are planned window by window so that memory stays bounded by one
 * window, whatever the range; export-ics plans its range at once (one calendar). */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "noticed/ctl.h"
#include "noticed/ical.h"
#include "noticed/macro.h"
#include "noticed/output.h"
#include "noticed/plan.h"
#include "noticed/render.h"
#include "noticed/tz.h"
#include "noticed/words.h"

#define LIST_WINDOW_DAYS     366
#define SIMULATE_WINDOW_DAYS 31
#define PERIOD_COLUMNS       23 /* "2019-01-01 – 2020-12-31" */
#define PERIOD_MAX           (DATE_STRING_MAX + sizeof(" – ") + DATE_STRING_MAX)

/* The last line of a table: how many rows, over which dates. */
static void print_total(size_t total, const char *noun, Date from, Date to) {
        char f[DATE_STRING_MAX], t[DATE_STRING_MAX];

        printf("%zu %s%s from %s to %s\n", total, noun, total == 1 ? "" : "s", date_format(from, f),
               date_format(to, t));
}

/* What --from, --to and --json said to list, simulate or export-ics. */
typedef struct DayRange {
        Date from, to;
        bool have_from, have_to;
        bool json;
} DayRange;

static int day_range_options(int argc, char **argv, const char *command, bool range_required,
                             DayRange *ret) {
        static const struct option options[] = {
                {"from", required_argument, NULL, 'f'},
                {"to", required_argument, NULL, 't'},
                {"json", no_argument, NULL, 'j'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int c, r;

        optind = 0; /* glibc: start a fresh scan of the command's own arguments */
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
                switch (c) {
                case 'f':
                        if ((r = ctl_parse_date("--from", optarg, &ret->from)))
                                return r;
                        ret->have_from = true;
                        break;
                case 't':
                        if ((r = ctl_parse_date("--to", optarg, &ret->to)))
                                return r;
                        ret->have_to = true;
                        break;
                case 'j':
                        ret->json = true;
                        break;
                case 'h':
                        ctl_help();
                        exit(EX_OK);
                default:
                        return ctl_usage_error("invalid option for '%s'", command);
                }
        }
        if (optind < argc)
                return ctl_usage_error("unexpected argument '%s'", argv[optind]);
        if (range_required && (!ret->have_from || !ret->have_to))
                return ctl_usage_error("'%s' needs --from DATE and --to DATE", command);
        if (ret->have_from && ret->have_to && ret->from > ret->to)
                return ctl_usage_error("--from is after --to");
        return 0;
}

/* Loads the model, then fills in what the options left open: from today, for two years.  0 or
 * an exit status. */
static int load_model_and_range(Context *ctx, DayRange *range) {
        int r = ctl_load_model(ctx);

        if (r)
                return r;
        if (!range->have_from)
                range->from = ctx->today;
        if (!range->have_to)
                range->to = date_add(range->from, (Duration){2, DURATION_YEARS});
        return 0;
}

int cmd_check(Context *ctx, int argc, char **argv) {
        const Model *m;
        int r;

        if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                ctl_help();
                return EX_OK;
        }
        if (argc > 1)
                return ctl_usage_error("'check' takes no arguments, got '%s'", argv[1]);
        if ((r = ctl_load_model(ctx)))
                return r;
        m = ctx->model;
        printf("%s: ok: %zu commitment%s, %zu recipient%s, %zu transport%s, time zone %s\n",
               ctx->config_path, m->n_commitments, m->n_commitments == 1 ? "" : "s",
               m->n_recipients, m->n_recipients == 1 ? "" : "s", m->n_transports,
               m->n_transports == 1 ? "" : "s", tz_name(m->tz));
        return ctl_finish_output();
}

/* Left-justifies s in width columns counting UTF-8 code points, not bytes: printf's "%-27s"
 * counts the three bytes of "€" as three columns.  Every character we print in a padded cell
 * (ASCII, "€", "–") is one column wide. */
static void print_padded(const char *s, int width) {
        int columns = 0;

        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if ((*p & 0xc0) != 0x80)
                        columns++;
        fputs(s, stdout);
        printf("%*s", width > columns ? width - columns : 0, "");
}

/* The last period a row asked for: rows of one cycle come together, and plan_cycle() walks
 * every cycle before the one asked. */
typedef struct PeriodCache {
        bool valid;
        uint32_t commitment, cycle;
        MilestoneKind kind;
        char text[PERIOD_MAX];
} PeriodCache;

/* The days milestone ms's cycle covers, "2021-01-01 – 2021-12-31" (the cycle's first day to its
 * term_end), so that a decision can be checked against the cycle it names; "" for a review or
 * deadline (cycle 0).  The later end an indefinite commitment's notice buys is listed as the
 * term_end of cycle 2, which the terms do not define: its period runs from the day after cycle
 * 1's term_end to that end. */
static const char *format_period(const Model *m, const Milestone *ms, PeriodCache *cache) {
        char start[DATE_STRING_MAX], end[DATE_STRING_MAX];
        PlanCycle y;
        Date from, to;

        if (ms->cycle == 0)
                return "";
        if (cache->valid && cache->commitment == ms->commitment && cache->cycle == ms->cycle &&
            cache->kind == ms->kind)
                return cache->text;
        cache->text[0] = '\0';
        if (plan_cycle(m, ms->commitment, ms->cycle, &y) == 0) {
                from = y.start;
                to = y.term_end;
        } else if (ms->kind == MILESTONE_TERM_END && ms->cycle == 2 &&
                   plan_cycle(m, ms->commitment, 1, &y) == 0) {
                from = y.term_end + 1;
                to = ms->date;
        } else
                return ""; /* beyond the dates' arithmetic range: the number alone */
        (void) snprintf(cache->text, sizeof(cache->text), "%s – %s", date_format(from, start),
                        date_format(to, end));
        cache->valid = true;
        cache->commitment = ms->commitment;
        cache->cycle = ms->cycle;
        cache->kind = ms->kind;
        return cache->text;
}

static void print_milestone_header(const Model *m) {
        const Words *w = words_of(m->language);

        printf("%-14s  %6s  %-8s  %6s  %-*s  %-22s %s\n", words_label(w, WORD_LABEL_DATE),
               words_label(w, WORD_LABEL_DAYS), words_label(w, WORD_LABEL_KIND),
               words_label(w, WORD_LABEL_CYCLE), PERIOD_COLUMNS, words_label(w, WORD_LABEL_PERIOD),
               words_label(w, WORD_LABEL_COMMITMENT), words_label(w, WORD_LABEL_TITLE));
}

static void print_milestone_row(const Context *ctx, const Milestone *ms, PeriodCache *cache) {
        const Model *m = ctx->model;
        char date[DATE_STRING_MAX], cycle[12] = "-";

        if (ms->cycle > 0)
                (void) snprintf(cycle, sizeof(cycle), "%" PRIu32, ms->cycle);
        printf("%-3s %s  %+6" PRId32 "  %-8s  %6s  ", render_weekday_short(m->language, ms->date),
               date_format(ms->date, date), ms->date - ctx->today,
               milestone_kind_to_string(ms->kind), cycle);
        print_padded(format_period(m, ms, cache), PERIOD_COLUMNS);
        printf("  %-22s %s\n", m->commitments[ms->commitment].id, render_milestone_title(m, ms));
}

/* Prints one window's milestones or reminders, as JSON into w or, without w, as table rows;
 * returns how many, or -ENOMEM / -EILSEQ (a string that is not UTF-8). */
typedef ssize_t (*PrintWindowFn)(const Context *ctx, Date from, Date to, JsonWriter *w);

static ssize_t print_milestone_window(const Context *ctx, Date from, Date to, JsonWriter *w) {
        PeriodCache cache = {0};
        Milestone *ms = NULL;
        size_t n = 0;
        int r = 0;

        if (plan_milestones(ctx->model, from, to, &ms, &n) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < n && r == 0; i++) {
                if (w) {
                        render_milestone_write(w, ctx->model, &ms[i]);
                        r = output_json_object_end(w);
                } else
                        print_milestone_row(ctx, &ms[i], &cache);
        }
        free(ms);
        return r < 0 ? r : (ssize_t) n;
}

/* Walks from..to in windows of window_days, so that memory stays bounded by one window, and
 * ends the output: the JSON array's close, or the table's count line. */
static int walk_windows(const Context *ctx, const DayRange *range, int32_t window_days,
                        PrintWindowFn print_window, const char *noun) {
        Date from = range->from, to = range->to;
        _cleanup_free_ JsonWriter *w = NULL;
        size_t total = 0;

        if (range->json) {
                if (!(w = malloc(sizeof(*w)))) {
                        fprintf(stderr, "noticectl: out of memory\n");
                        return EX_UNAVAILABLE;
                }
                output_json_begin(w, stdout);
        }

        for (Date day = from; day <= to; day += window_days) {
                Date day_to = to - day < window_days ? to : day + window_days - 1;
                ssize_t n = print_window(ctx, day, day_to, w);

                if (n < 0) {
                        fprintf(stderr, "noticectl: cannot plan or print %ss: %s\n", noun,
                                strerror((int) -n));
                        return n == -ENOMEM   ? EX_UNAVAILABLE
                               : n == -EILSEQ ? EX_DATAERR
                                              : EX_CANTCREAT;
                }
                total += (size_t) n;
                if (to - day < window_days)
                        break;
        }
        if (w)
                output_json_end(w);
        else
                print_total(total, noun, from, to);
        return ctl_finish_output();
}

int cmd_list(Context *ctx, int argc, char **argv) {
        DayRange range = {0};
        int r;

        if ((r = day_range_options(argc, argv, "list", false, &range)) ||
            (r = load_model_and_range(ctx, &range)))
                return r;
        if (range.from > range.to) {
                char today[DATE_STRING_MAX];
                /* Only --to was given: the default --from, today, is what lies after it. */
                return ctl_usage_error("--to is before today (%s); give --from too",
                                       date_format(range.from, today));
        }
        if (!range.json)
                print_milestone_header(ctx->model);
        return walk_windows(ctx, &range, LIST_WINDOW_DAYS, print_milestone_window, "milestone");
}

/* "mail,webhook:teams": the channels, as the JSON has them, joined for a table cell. */
static void format_channels(const Model *m, const Recipient *rcpt, char *buf, size_t size) {
        json_t *channels = render_channels_json(m, rcpt);

        ctl_join_channels(channels, buf, size);
        json_decref(channels);
}

static void print_reminder_header(const Model *m) {
        const Words *w = words_of(m->language);

        printf("%-20s  %6s  %-8s  %6s  %-*s  %-22s %-10s %6s  %-20s %-27s %s\n",
               words_label(w, WORD_LABEL_AT), words_label(w, WORD_LABEL_DAYS),
               words_label(w, WORD_LABEL_KIND), words_label(w, WORD_LABEL_CYCLE), PERIOD_COLUMNS,
               words_label(w, WORD_LABEL_PERIOD), words_label(w, WORD_LABEL_COMMITMENT),
               words_label(w, WORD_LABEL_MILESTONE), words_label(w, WORD_LABEL_OFFSET),
               words_label(w, WORD_LABEL_RECIPIENT), words_label(w, WORD_LABEL_PAYS_A_YEAR),
               words_label(w, WORD_LABEL_CHANNELS));
}

static void print_reminder_row(const Context *ctx, const Reminder *r, PeriodCache *cache) {
        const Model *m = ctx->model;
        const Commitment *c = &m->commitments[r->milestone.commitment];
        const Recipient *rcpt = &m->recipients[r->recipient];
        char date[DATE_STRING_MAX], milestone[DATE_STRING_MAX], offset[DURATION_STRING_MAX];
        char channels[256], cycle[12] = "-", cost[2 * RENDER_MONEY_MAX + 8] = "";
        char lo[RENDER_MONEY_MAX], hi[RENDER_MONEY_MAX];
        int32_t seconds = (int32_t) ((r->at + r->utc_offset) % 86400 + 86400) % 86400;
        int64_t min, max;

        if (r->milestone.cycle > 0)
                (void) snprintf(cycle, sizeof(cycle), "%" PRIu32, r->milestone.cycle);
        format_channels(m, rcpt, channels, sizeof(channels));
        if (model_yearly_cost_cents(c, rcpt, &min, &max)) {
                render_money(m->language, c->cost.currency, min, lo);
                if (min == max)
                        (void) snprintf(cost, sizeof(cost), "%s", lo);
                else
                        (void) snprintf(cost, sizeof(cost), "%s – %s", lo,
                                        render_money(m->language, c->cost.currency, max, hi));
        }
        printf("%-3s %s %02d:%02d  %+6" PRId32 "  %-8s  %6s  ",
               render_weekday_short(m->language, r->date), date_format(r->date, date),
               (int) (seconds / 3600), (int) (seconds / 60 % 60), r->date - ctx->today,
               r->overdue ? "overdue" : milestone_kind_to_string(r->milestone.kind), cycle);
        print_padded(format_period(m, &r->milestone, cache), PERIOD_COLUMNS);
        printf("  %-22s %s %6s  %-20s ", c->id, date_format(r->milestone.date, milestone),
               render_offset(r, offset), rcpt->id);
        print_padded(cost, 27);
        printf(" %s\n", channels);
}

static ssize_t print_reminder_window(const Context *ctx, Date from, Date to, JsonWriter *w) {
        TzStampCache stamps = TZ_STAMP_CACHE_INIT;
        PeriodCache cache = {0};
        Reminder *rs = NULL;
        size_t n = 0;
        int r = 0;

        if (plan_reminders(ctx->model, from, to, NULL, NULL, &rs, &n) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < n && r == 0; i++) {
                if (w) {
                        char at[TZ_TIMESTAMP_MAX];
                        const Reminder *x = &rs[i];

                        render_reminder_write(
                                w, ctx->model, x,
                                tz_format_rfc3339_cached(&stamps, x->at, x->utc_offset, at));
                        r = render_channels_write(w, ctx->model,
                                                  &ctx->model->recipients[x->recipient]);
                        if (r == 0)
                                r = output_json_object_end(w);
                } else
                        print_reminder_row(ctx, &rs[i], &cache);
        }
        free(rs);
        return r < 0 ? r : (ssize_t) n;
}

int cmd_simulate(Context *ctx, int argc, char **argv) {
        DayRange range = {0};
        int r;

        if ((r = day_range_options(argc, argv, "simulate", true, &range)) ||
            (r = ctl_load_model(ctx)))
                return r;
        if (!range.json)
                print_reminder_header(ctx->model);
        /* Windows of local dates: reminders sort by instant, and every instant of a later local
         * date is later, so printing window after window keeps the whole output sorted. */
        return walk_windows(ctx, &range, SIMULATE_WINDOW_DAYS, print_reminder_window, "reminder");
}

int cmd_export_ics(Context *ctx, int argc, char **argv) {
        const char *only = NULL;
        DayRange range = {0};
        _cleanup_free_ Milestone *ms = NULL;
        _cleanup_free_ char *ics = NULL;
        size_t n = 0, k = 0;
        int r;

        /* An optional COMMITMENT first, then the range options list takes. */
        if (argc > 1 && argv[1][0] != '-') {
                only = argv[1];
                argc--;
                argv++;
        }
        if ((r = day_range_options(argc, argv, "export-ics", false, &range)))
                return r;
        if (range.json)
                return ctl_usage_error("export-ics writes iCalendar; it has no --json");
        if ((r = load_model_and_range(ctx, &range)))
                return r;
        if (range.from > range.to)
                return ctl_usage_error("--from is after --to");
        r = plan_milestones(ctx->model, range.from, range.to, &ms, &n);
        if (r < 0) {
                fprintf(stderr, "noticectl: out of memory\n");
                return EX_UNAVAILABLE;
        }
        if (only) {
                size_t index;

                if (model_find_commitment(ctx->model, only, &index) < 0) {
                        fprintf(stderr, "noticectl: no commitment '%s' in %s\n", only,
                                ctx->config_path);
                        return EX_DATAERR;
                }
                for (size_t i = 0; i < n; i++)
                        if (ms[i].commitment == index)
                                ms[k++] = ms[i];
                n = k;
        }
        r = ical_render_milestones(ctx->model, ms, n, (int64_t) time(NULL), &ics);
        if (r < 0) {
                fprintf(stderr, "noticectl: cannot build the calendar: %s\n", strerror(-r));
                return EX_UNAVAILABLE;
        }
        fputs(ics, stdout);
        return ctl_finish_output();
}
