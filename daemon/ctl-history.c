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

int cmd_history(Context *ctx, int argc, char **argv) {
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
                        ctl_help();
                        return EX_OK;
                default:
                        return ctl_usage_error("history [--commitment ID] [--json]");
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
        r = history_print(stdout, ledger, utc ? utc : ctx->model->tz, commitment, json);
        tz_free(utc);
        if (r < 0)
                fprintf(stderr, "noticectl: cannot read the ledger: %s\n",
                        r == -ENOMEM ? strerror(-r) : ledger_error(ledger));
        ledger_close(ledger);
        if (r < 0)
                return EX_UNAVAILABLE;
        return ctl_finish_output();
}
