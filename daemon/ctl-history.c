/* noticectl history: the audit trail in the ledger, as history.c formats it.
 *
 * It opens the ledger the daemon uses (ctl_open_ledger()) without the daemon's lock, and never
 * creates a ledger that does not exist yet. */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "noticed/ctl.h"
#include "noticed/history.h"
#include "noticed/ledger.h"
#include "noticed/tz.h"
#include "noticed/words.h"

#define HISTORY_USAGE                                                                              \
        "history [--commitment ID] [--recipient ID] [--state STATE] [--since DATE] [--json]"

/* The local midnight that starts date in zone tz, as CLOCK_REALTIME µs (0 before 1970). */
static usec_t midnight_usec(const Tz *tz, Date date) {
        int64_t unix_time;
        int32_t offset;

        tz_local_to_unix(tz, date, 0, &unix_time, &offset);
        return unix_time > 0 ? (usec_t) unix_time * USEC_PER_SEC : 0;
}

int cmd_history(Context *ctx, int argc, char **argv) {
        static const struct option options[] = {
                {"commitment", required_argument, NULL, 'C'},
                {"recipient", required_argument, NULL, 'r'},
                {"state", required_argument, NULL, 's'},
                {"since", required_argument, NULL, 'S'},
                {"json", no_argument, NULL, 'j'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        HistoryFilter filter = {.state = HISTORY_STATE_ANY};
        bool json = false, have_since = false;
        Ledger *ledger = NULL;
        const Tz *tz;
        Tz *utc = NULL;
        Date since = 0;
        int c, r;

        optind = 0; /* glibc: start a fresh scan of the command's own arguments */
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'C':
                        filter.commitment = optarg;
                        break;
                case 'r':
                        filter.recipient = optarg;
                        break;
                case 's':
                        if (history_state_from_string(optarg, &filter.state) < 0)
                                return ctl_usage_error(
                                        "--state '%s' is not one of " HISTORY_STATE_NAMES, optarg);
                        break;
                case 'S':
                        if ((r = ctl_parse_date("--since", optarg, &since)))
                                return r;
                        have_since = true;
                        break;
                case 'j':
                        json = true;
                        break;
                case 'h':
                        ctl_help();
                        return EX_OK;
                default:
                        return ctl_usage_error(HISTORY_USAGE);
                }
        if (optind < argc)
                return ctl_usage_error("history: unexpected argument '%s'", argv[optind]);
        /* The audit trail matters most when something is wrong: a broken config only costs
         * the local time zone. */
        r = ctl_load_model(ctx);
        if (r == EX_CONFIG) {
                fprintf(stderr, "noticectl: the config has errors; showing times in UTC\n");
                if (tz_load("UTC", &utc) < 0) {
                        fprintf(stderr, "noticectl: cannot load the UTC zone\n");
                        return EX_UNAVAILABLE;
                }
        } else if (r)
                return r;
        if ((r = ctl_open_ledger(true, &ledger))) {
                tz_free(utc);
                return r;
        }
        if (!ledger) {
                tz_free(utc);
                fputs(json ? "[]\n" : "0 reminder rows, 0 decisions\n", stdout);
                return ctl_finish_output();
        }
        tz = utc ? utc : ctx->model->tz;
        if (have_since)
                filter.since_usec = midnight_usec(tz, since);
        /* A broken config has no language: the default one, Dutch. */
        r = history_print(stdout, ledger, tz,
                          words_of(ctx->model ? ctx->model->language : LANGUAGE_NL), &filter, json);
        tz_free(utc);
        if (r < 0)
                fprintf(stderr, "noticectl: cannot read the ledger: %s\n",
                        r == -ENOMEM ? strerror(-r) : ledger_error(ledger));
        ledger_close(ledger);
        if (r < 0)
                return EX_UNAVAILABLE;
        return ctl_finish_output();
}
