/* noticectl: the administrator's tool.
 *
 * The shell around the pure core: it reads the clock (today, in the configured zone) and the
 * config file, asks plan for milestones or reminders, and prints them as a table for people or
 * as the contract's JSON for programs.  Long ranges are planned window by window so that memory
 * stays bounded by one window, whatever the range. */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "noticed/config.h"
#include "noticed/history.h"
#include "noticed/ical.h"
#include "noticed/ledger.h"
#include "noticed/macro.h"
#include "noticed/log.h"
#include "noticed/output.h"
#include "noticed/plan.h"
#include "noticed/render.h"
#include "noticed/testsend.h"
#include "noticed/validate.h"

#define LIST_WINDOW_DAYS     366
#define SIMULATE_WINDOW_DAYS 31

typedef struct Context {
        const char *config_path;
        bool have_today;
        Date today;
        Model *model;
} Context;

static void help(void) {
        printf("Usage: noticectl [-c FILE] [--today DATE] COMMAND [OPTIONS]\n"
               "\n"
               "Check the commitments in noticed's config and show their dates.\n"
               "\n"
               "Commands:\n"
               "  check                            validate the config (errors: FILE:LINE: ...)\n"
               "  list [--from D] [--to D] [--json]\n"
               "                                   milestones (default: today to today + 2y)\n"
               "  simulate --from D --to D [--json]\n"
               "                                   reminders that would go out\n"
               "  history [--commitment ID] [--json]\n"
               "                                   what was sent, skipped, failed and decided\n"
               "  decide COMMITMENT CYCLE PARTICIPANT continue|terminate [--note TEXT]\n"
               "                                   record a participant's decision\n"
               "  export-ics [COMMITMENT] [--from D] [--to D]\n"
               "                                   milestones as an iCalendar file\n"
               "  test-send RECIPIENT              a test message through each of its channels\n"
               "\n"
               "Options:\n"
               "  -c, --config FILE  config file (default " CONFIG_DEFAULT_PATH ")\n"
               "      --today DATE   plan as if today were DATE (YYYY-MM-DD)\n"
               "  -h, --help         show this help\n"
               "  -V, --version      show the version\n"
               "\n"
               "Exit status: 0 ok, 64 usage, 65 bad data, 69 unavailable, 73 can't create,\n"
               "77 no permission, 78 config error.\n"
               "The ledger: $STATE_DIRECTORY or /var/lib/noticed.\n"
               "See noticectl(1), noticed(8) and noticed.conf(5).\n");
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *format, ...) {
        va_list ap;

        fputs("noticectl: ", stderr);
        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
        fputs("\nTry 'noticectl --help'.\n", stderr);
        return EX_USAGE;
}

static int parse_date_arg(const char *option, const char *value, Date *ret) {
        if (date_parse(value, ret) < 0) {
                fprintf(stderr, "noticectl: %s '%s' is not a date (YYYY-MM-DD)\n", option, value);
                return EX_USAGE;
        }
        return 0;
}

static int load_model(Context *ctx) {
        ConfigErrors errors;
        int r = config_load(ctx->config_path, &ctx->model, &errors);

        for (size_t i = 0; i < errors.n; i++) {
                _cleanup_free_ char *line = config_error_to_string(&errors.items[i]);

                fprintf(stderr, "%s\n", line ? line : "noticectl: out of memory");
        }
        config_errors_done(&errors);
        if (r == -ENOMEM) {
                fprintf(stderr, "noticectl: out of memory reading %s\n", ctx->config_path);
                return EX_UNAVAILABLE;
        }
        if (r < 0)
                return EX_CONFIG;
        if (!ctx->have_today) {
                int32_t seconds, offset;
                tz_unix_to_local(ctx->model->tz, (int64_t) time(NULL), &ctx->today, &seconds,
                                 &offset);
        }
        return 0;
}

static int finish_output(void) {
        if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, "noticectl: writing output failed: %s\n", strerror(errno));
                return EX_CANTCREAT;
        }
        return 0;
}

/* The last line of a table: how many rows, over which dates. */
static void print_total(size_t total, const char *noun, Date from, Date to) {
        char f[DATE_STRING_MAX], t[DATE_STRING_MAX];

        printf("%zu %s%s from %s to %s\n", total, noun, total == 1 ? "" : "s", date_format(from, f),
               date_format(to, t));
}

static int day_range_options(int argc, char **argv, const char *command, bool range_required,
                             Date *from, Date *to, bool *have_from, bool *have_to, bool *json) {
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
                        if ((r = parse_date_arg("--from", optarg, from)))
                                return r;
                        *have_from = true;
                        break;
                case 't':
                        if ((r = parse_date_arg("--to", optarg, to)))
                                return r;
                        *have_to = true;
                        break;
                case 'j':
                        *json = true;
                        break;
                case 'h':
                        help();
                        exit(EX_OK);
                default:
                        return usage_error("invalid option for '%s'", command);
                }
        }
        if (optind < argc)
                return usage_error("unexpected argument '%s'", argv[optind]);
        if (range_required && (!*have_from || !*have_to))
                return usage_error("'%s' needs --from DATE and --to DATE", command);
        if (*have_from && *have_to && *from > *to)
                return usage_error("--from is after --to");
        return 0;
}

static int cmd_check(Context *ctx, int argc, char **argv) {
        const Model *m;
        int r;

        if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                help();
                return EX_OK;
        }
        if (argc > 1)
                return usage_error("'check' takes no arguments, got '%s'", argv[1]);
        if ((r = load_model(ctx)))
                return r;
        m = ctx->model;
        printf("%s: ok: %zu commitment%s, %zu recipient%s, %zu transport%s, time zone %s\n",
               ctx->config_path, m->n_commitments, m->n_commitments == 1 ? "" : "s",
               m->n_recipients, m->n_recipients == 1 ? "" : "s", m->n_transports,
               m->n_transports == 1 ? "" : "s", tz_name(m->tz));
        return finish_output();
}

static void print_milestone_row(const Context *ctx, const Milestone *ms) {
        const Model *m = ctx->model;
        char date[DATE_STRING_MAX], cycle[12] = "-";

        if (ms->cycle > 0)
                (void) snprintf(cycle, sizeof(cycle), "%" PRIu32, ms->cycle);
        printf("%-3s %s  %+6" PRId32 "  %-8s  %5s  %-22s %s\n",
               render_weekday_short(m->language, ms->date), date_format(ms->date, date),
               ms->date - ctx->today, milestone_kind_to_string(ms->kind), cycle,
               m->commitments[ms->commitment].id, render_milestone_title(m, ms));
}

/* Prints one window's milestones or reminders; returns how many, or -ENOMEM / -EIO. */
typedef ssize_t (*PrintWindowFn)(const Context *ctx, Date from, Date to, bool json, bool *first);

static ssize_t print_milestone_window(const Context *ctx, Date from, Date to, bool json,
                                      bool *first) {
        Milestone *ms = NULL;
        size_t n = 0;
        int r = 0;

        if (plan_milestones(ctx->model, from, to, &ms, &n) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < n && r == 0; i++) {
                if (json)
                        r = output_json_element(stdout, render_milestone_json(ctx->model, &ms[i]),
                                                first);
                else
                        print_milestone_row(ctx, &ms[i]);
        }
        free(ms);
        return r < 0 ? r : (ssize_t) n;
}

/* Walks from..to in windows of window_days, so that memory stays bounded by one window, and
 * ends the output: the JSON array's close, or the table's count line. */
static int walk_windows(const Context *ctx, Date from, Date to, int32_t window_days, bool json,
                        PrintWindowFn print_window, const char *noun) {
        bool first = true;
        size_t total = 0;

        for (Date w = from; w <= to; w += window_days) {
                Date w_to = to - w < window_days ? to : w + window_days - 1;
                ssize_t n = print_window(ctx, w, w_to, json, &first);

                if (n < 0) {
                        fprintf(stderr, "noticectl: cannot plan or print %ss: %s\n", noun,
                                strerror((int) -n));
                        return n == -ENOMEM ? EX_UNAVAILABLE : EX_CANTCREAT;
                }
                total += (size_t) n;
                if (to - w < window_days)
                        break;
        }
        if (json)
                output_json_end(stdout, first);
        else
                print_total(total, noun, from, to);
        return finish_output();
}

static int cmd_list(Context *ctx, int argc, char **argv) {
        Date from = 0, to = 0;
        bool have_from = false, have_to = false, json = false;
        int r;

        if ((r = day_range_options(argc, argv, "list", false, &from, &to, &have_from, &have_to,
                                   &json)))
                return r;
        if ((r = load_model(ctx)))
                return r;
        if (!have_from)
                from = ctx->today;
        if (!have_to)
                to = date_add(from, (Duration){2, DURATION_YEARS});
        if (from > to) {
                char today[DATE_STRING_MAX];
                /* Only --to was given: the default --from, today, is what lies after it. */
                return usage_error("--to is before today (%s); give --from too",
                                   date_format(from, today));
        }
        if (!json)
                printf("%-14s  %6s  %-8s  %5s  %-22s %s\n", "DATE", "DAYS", "KIND", "CYCLE",
                       "COMMITMENT", "TITLE");
        return walk_windows(ctx, from, to, LIST_WINDOW_DAYS, json, print_milestone_window,
                            "milestone");
}

/* "mail,webhook:teams": the channels, as the JSON has them, joined for a table cell. */
static void format_channels(const Model *m, const Recipient *rcpt, char *buf, size_t size) {
        json_t *channels = render_channels_json(m, rcpt), *v;
        size_t i, used = 0;

        buf[0] = '\0';
        json_array_foreach(channels, i, v) {
                int n = snprintf(buf + used, size - used, "%s%s", i ? "," : "",
                                 json_string_value(v));
                if (n < 0 || (size_t) n >= size - used)
                        break; /* a table cell may be cut; the JSON never is */
                used += (size_t) n;
        }
        json_decref(channels);
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

static void print_reminder_row(const Context *ctx, const Reminder *r) {
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
        printf("%-3s %s %02d:%02d  %+6" PRId32 "  %-8s  %5s  %-22s %s %6s  %-20s ",
               render_weekday_short(m->language, r->date), date_format(r->date, date),
               (int) (seconds / 3600), (int) (seconds / 60 % 60), r->date - ctx->today,
               r->overdue ? "overdue" : milestone_kind_to_string(r->milestone.kind), cycle, c->id,
               date_format(r->milestone.date, milestone), render_offset(r, offset), rcpt->id);
        print_padded(cost, 27);
        printf(" %s\n", channels);
}

static ssize_t print_reminder_window(const Context *ctx, Date from, Date to, bool json,
                                     bool *first) {
        Reminder *rs = NULL;
        size_t n = 0;
        int r = 0;

        if (plan_reminders(ctx->model, from, to, NULL, NULL, &rs, &n) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < n && r == 0; i++) {
                if (json)
                        r = output_json_element(stdout, render_reminder_json(ctx->model, &rs[i]),
                                                first);
                else
                        print_reminder_row(ctx, &rs[i]);
        }
        free(rs);
        return r < 0 ? r : (ssize_t) n;
}

static int cmd_simulate(Context *ctx, int argc, char **argv) {
        Date from = 0, to = 0;
        bool have_from = false, have_to = false, json = false;
        int r;

        if ((r = day_range_options(argc, argv, "simulate", true, &from, &to, &have_from, &have_to,
                                   &json)))
                return r;
        if ((r = load_model(ctx)))
                return r;
        if (!json)
                printf("%-20s  %6s  %-8s  %5s  %-22s %-10s %6s  %-20s %-27s %s\n", "AT", "DAYS",
                       "KIND", "CYCLE", "COMMITMENT", "MILESTONE", "OFFSET", "RECIPIENT",
                       "PAYS A YEAR", "CHANNELS");
        /* Windows of local dates: reminders sort by instant, and every instant of a later local
         * date is later, so printing window after window keeps the whole output sorted. */
        return walk_windows(ctx, from, to, SIMULATE_WINDOW_DAYS, json, print_reminder_window,
                            "reminder");
}

/* --- the ledger: history and decide --------------------------------------------------------- */

/* Opens the ledger the daemon uses.  With must_exist, a missing file is reported (0, *ret NULL)
 * rather than created: reading history must not leave an empty ledger behind. */
static int open_ledger(bool must_exist, Ledger **ret) {
        char *path = ledger_path_in(ledger_state_directory());
        int r;

        *ret = NULL;
        if (!path) {
                fprintf(stderr, "noticectl: out of memory\n");
                return EX_UNAVAILABLE;
        }
        /* systemd's StateDirectory= makes it for the daemon; decide may come first. */
        if (!must_exist && mkdir(ledger_state_directory(), 0700) < 0 && errno != EEXIST) {
                int e = errno;
                fprintf(stderr, "noticectl: cannot create the state directory %s: %s\n",
                        ledger_state_directory(), strerror(e));
                free(path);
                return e == EACCES || e == EPERM || e == EROFS ? EX_NOPERM : EX_CANTCREAT;
        }
        if (must_exist && access(path, F_OK) < 0 && errno == ENOENT) {
                fprintf(stderr,
                        "noticectl: no ledger at %s yet (noticed has not run with this "
                        "state directory; set STATE_DIRECTORY to use another)\n",
                        path);
                free(path);
                return 0;
        }
        r = ledger_open(path, ret);
        if (r < 0) {
                fprintf(stderr, "noticectl: cannot open the ledger %s: %s\n", path,
                        r == -EPROTONOSUPPORT ? "it was written by a newer noticed" : strerror(-r));
                free(path);
                return r == -EACCES || r == -EPERM || r == -EROFS ? EX_NOPERM : EX_UNAVAILABLE;
        }
        free(path);
        return 0;
}

static int cmd_history(Context *ctx, int argc, char **argv) {
        static const struct option options[] = {
                {"commitment", required_argument, NULL, 'C'},
                {"json", no_argument, NULL, 'j'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const char *commitment = NULL;
        bool json = false;
        Ledger *ledger = NULL;
        Tz *utc = NULL;
        int c, r;

        optind = 0; /* glibc: start a fresh scan of the command's own arguments */
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'C':
                        commitment = optarg;
                        break;
                case 'j':
                        json = true;
                        break;
                case 'h':
                        help();
                        return EX_OK;
                default:
                        return usage_error("history [--commitment ID] [--json]");
                }
        if (optind < argc)
                return usage_error("history: unexpected argument '%s'", argv[optind]);
        /* The audit trail matters most when something is wrong: a broken config only costs
         * the local time zone. */
        r = load_model(ctx);
        if (r == EX_CONFIG) {
                fprintf(stderr, "noticectl: the config has errors; showing times in UTC\n");
                if (tz_load("UTC", &utc) < 0) {
                        fprintf(stderr, "noticectl: cannot load the UTC zone\n");
                        return EX_UNAVAILABLE;
                }
        } else if (r)
                return r;
        if ((r = open_ledger(true, &ledger))) {
                tz_free(utc);
                return r;
        }
        if (!ledger) {
                tz_free(utc);
                fputs(json ? "[]\n" : "0 reminder rows, 0 decisions\n", stdout);
                return finish_output();
        }
        r = history_print(stdout, ledger, utc ? utc : ctx->model->tz, commitment, json);
        tz_free(utc);
        if (r < 0)
                fprintf(stderr, "noticectl: cannot read the ledger: %s\n",
                        r == -ENOMEM ? strerror(-r) : ledger_error(ledger));
        ledger_close(ledger);
        if (r < 0)
                return EX_UNAVAILABLE;
        return finish_output();
}

static int parse_cycle(const char *s, uint32_t *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || end == s || *end || s[0] == '-' || s[0] == '+' || v < 1 || v > UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t) v;
        return 0;
}

/* The audit trail lives in the ledger; the journal gets a copy, so that `journalctl
 * MESSAGE_ID=...` shows decisions next to the reminders they stopped.  Without a journal this
 * quietly does nothing. */
static void journal_decision(const char *commitment, uint32_t cycle, const char *participant,
                             Decision decision, const char *note, const char *user) {
        LogFields f = LOG_FIELDS_NONE;

        f.message_id = LOG_MESSAGE_DECIDED;
        f.commitment = commitment;
        f.cycle = cycle;
        f.recipient = participant;
        log_open_journal();
        (void) log_full(LOG_NOTICE, 0, &f,
                        "%s recorded that %s decides to %s %s (cycle %" PRIu32 ")%s%s", user,
                        participant, decision_to_string(decision), commitment, cycle,
                        note ? ": " : "", note ? note : "");
}

static int cmd_decide(Context *ctx, int argc, char **argv) {
        static const struct option options[] = {
                {"note", required_argument, NULL, 'n'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const char *note = NULL, *why;
        Decision decision;
        uint32_t cycle;
        Ledger *ledger = NULL;
        char *user = NULL;
        int c, r;

        optind = 0; /* glibc: start a fresh scan of the command's own arguments */
        /* Options may come before or after the four words. */
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'n':
                        note = optarg;
                        break;
                case 'h':
                        help();
                        return EX_OK;
                default:
                        return usage_error("decide COMMITMENT CYCLE PARTICIPANT continue|terminate "
                                           "[--note TEXT]");
                }
        if (argc - optind != 4)
                return usage_error("decide needs COMMITMENT CYCLE PARTICIPANT continue|terminate");
        if (parse_cycle(argv[optind + 1], &cycle) < 0)
                return usage_error("cycle '%s' is not a number of 1 or more", argv[optind + 1]);
        if (decision_from_string(argv[optind + 3], &decision) < 0)
                return usage_error("decision '%s' must be 'continue' or 'terminate'",
                                   argv[optind + 3]);
        if (note && (!validate_header_text(note) || strlen(note) > 1000)) {
                fprintf(stderr, "noticectl: the note must be UTF-8 text of at most 1000 bytes "
                                "without control characters\n");
                return EX_DATAERR;
        }
        if ((r = load_model(ctx)))
                return r;
        if (history_check_decision(ctx->model, argv[optind], cycle, argv[optind + 2], &why) < 0) {
                fprintf(stderr, "noticectl: %s cycle %" PRIu32 " %s: %s\n", argv[optind], cycle,
                        argv[optind + 2], why);
                return EX_DATAERR;
        }
        if (history_invoking_user(&user) < 0) {
                fprintf(stderr, "noticectl: out of memory\n");
                return EX_UNAVAILABLE;
        }
        if ((r = open_ledger(false, &ledger))) {
                free(user);
                return r;
        }
        r = ledger_record_decision(ledger, argv[optind], cycle, argv[optind + 2], decision, note,
                                   user, (int64_t) time(NULL) * 1000000);
        if (r < 0)
                fprintf(stderr, "noticectl: cannot record the decision: %s\n",
                        ledger_error(ledger));
        else {
                journal_decision(argv[optind], cycle, argv[optind + 2], decision, note, user);
                printf("Recorded: %s decides to %s %s (cycle %" PRIu32 "), by %s.\n"
                       "Its decision and notice reminders and overdue messages for cycle %" PRIu32
                       " stop.\n",
                       argv[optind + 2], decision_to_string(decision), argv[optind], cycle, user,
                       cycle);
        }
        ledger_close(ledger);
        free(user);
        if (r < 0)
                return r == -EACCES || r == -EROFS ? EX_NOPERM : EX_UNAVAILABLE;
        return finish_output();
}

/* --- export-ics ------------------------------------------------------------------------------ */

static int cmd_export_ics(Context *ctx, int argc, char **argv) {
        const char *only = NULL;
        Date from = 0, to = 0;
        bool have_from = false, have_to = false, json = false;
        Milestone *ms = NULL;
        size_t n = 0, k = 0;
        char *ics = NULL;
        int r;

        /* An optional COMMITMENT first, then the range options list takes. */
        if (argc > 1 && argv[1][0] != '-') {
                only = argv[1];
                argc--;
                argv++;
        }
        if ((r = day_range_options(argc, argv, "export-ics", false, &from, &to, &have_from,
                                   &have_to, &json)))
                return r;
        if (json)
                return usage_error("export-ics writes iCalendar; it has no --json");
        if ((r = load_model(ctx)))
                return r;
        if (!have_from)
                from = ctx->today;
        if (!have_to)
                to = date_add(from, (Duration){2, DURATION_YEARS});
        if (from > to)
                return usage_error("--from is after --to");
        r = plan_milestones(ctx->model, from, to, &ms, &n);
        if (r < 0) {
                fprintf(stderr, "noticectl: out of memory\n");
                return EX_UNAVAILABLE;
        }
        if (only) {
                size_t index;

                if (model_find_commitment(ctx->model, only, &index) < 0) {
                        free(ms);
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
        free(ms);
        if (r < 0) {
                fprintf(stderr, "noticectl: cannot build the calendar: %s\n", strerror(-r));
                return EX_UNAVAILABLE;
        }
        fputs(ics, stdout);
        free(ics);
        return finish_output();
}

/* --- test-send ------------------------------------------------------------------------------- */

static const char *outcome_name(NetOutcome o) {
        return o == NET_OK ? "sent" : o == NET_TEMPORARY ? "FAILED (temporary)" : "FAILED";
}

static int cmd_test_send(Context *ctx, int argc, char **argv) {
        TestSendResult *results = NULL;
        size_t n = 0, failed = 0, index;
        int r;

        if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                printf("Usage: noticectl test-send RECIPIENT\n"
                       "Sends one clearly marked test message through each of the recipient's\n"
                       "channels, now, and says what each server answered.  Nothing is recorded;\n"
                       "nothing is retried.  Exit status 69 when any channel failed.\n");
                return EX_OK;
        }
        if (argc != 2)
                return usage_error("test-send takes one RECIPIENT");
        if (argv[1][0] == '-')
                return usage_error("test-send: unknown option '%s'", argv[1]);
        if ((r = load_model(ctx)))
                return r;
        if (model_find_recipient(ctx->model, argv[1], &index) < 0) {
                fprintf(stderr, "noticectl: no recipient '%s' in %s\n", argv[1], ctx->config_path);
                return EX_DATAERR;
        }
        r = testsend_run(ctx->model, &ctx->model->recipients[index], (int64_t) time(NULL), &results,
                         &n);
        if (r < 0) {
                fprintf(stderr, "noticectl: cannot send: %s\n", strerror(-r));
                return EX_UNAVAILABLE;
        }
        if (n == 0) {
                fprintf(stderr, "noticectl: recipient '%s' has no channel to test\n", argv[1]);
                return EX_DATAERR;
        }
        for (size_t i = 0; i < n; i++) {
                printf("%s via %s (%s): %s: %s\n", results[i].channel, results[i].transport->id,
                       results[i].transport->url, outcome_name(results[i].outcome),
                       results[i].reply);
                failed += results[i].outcome != NET_OK;
        }
        printf("%zu of %zu channel%s failed\n", failed, n, n == 1 ? "" : "s");
        testsend_results_free(results, n);
        r = finish_output();
        return r ? r : failed > 0 ? EX_UNAVAILABLE : EX_OK;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                {"config", required_argument, NULL, 'c'},
                {"today", required_argument, NULL, 'T'},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'V'},
                {},
        };
        Context ctx = {.config_path = CONFIG_DEFAULT_PATH};
        const char *command;
        int c, r;

        while ((c = getopt_long(argc, argv, "+c:hV", options, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        ctx.config_path = optarg;
                        break;
                case 'T':
                        if ((r = parse_date_arg("--today", optarg, &ctx.today)))
                                return r;
                        ctx.have_today = true;
                        break;
                case 'h':
                        help();
                        return EX_OK;
                case 'V':
                        printf("noticectl %s\n", NOTICED_VERSION);
                        return EX_OK;
                default:
                        fprintf(stderr, "Try 'noticectl --help'.\n");
                        return EX_USAGE;
                }
        }
        if (optind >= argc)
                return usage_error("no command given");
        command = argv[optind];
        argc -= optind;
        argv += optind;
        if (strcmp(command, "check") == 0)
                r = cmd_check(&ctx, argc, argv);
        else if (strcmp(command, "list") == 0)
                r = cmd_list(&ctx, argc, argv);
        else if (strcmp(command, "simulate") == 0)
                r = cmd_simulate(&ctx, argc, argv);
        else if (strcmp(command, "history") == 0)
                r = cmd_history(&ctx, argc, argv);
        else if (strcmp(command, "decide") == 0)
                r = cmd_decide(&ctx, argc, argv);
        else if (strcmp(command, "export-ics") == 0)
                r = cmd_export_ics(&ctx, argc, argv);
        else if (strcmp(command, "test-send") == 0)
                r = cmd_test_send(&ctx, argc, argv);
        else
                r = usage_error("unknown command '%s'", command);
        model_free(ctx.model);
        return r;
}
