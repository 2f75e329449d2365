/* noticectl history and decide: the ledger, read and written by hand.
 *
 * history prints the audit trail (history.c formats it); decide records a participant's
 * decision, which stops that cycle's decision, notice and overdue reminders, and copies it to
 * the journal.  Both open the ledger the daemon uses (ledger.h says where) and neither takes
 * the daemon's lock; history never creates a ledger that does not exist yet. */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "noticed/ctl.h"
#include "noticed/history.h"
#include "noticed/ledger.h"
#include "noticed/log.h"
#include "noticed/macro.h"
#include "noticed/validate.h"

/* Opens the ledger the daemon uses.  With must_exist, a missing file is reported (0, *ret NULL)
 * rather than created: reading history must not leave an empty ledger behind. */
static int open_ledger(bool must_exist, Ledger **ret) {
        _cleanup_free_ char *path = ledger_path_in(ledger_state_directory());
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
                return e == EACCES || e == EPERM || e == EROFS ? EX_NOPERM : EX_CANTCREAT;
        }
        if (must_exist && access(path, F_OK) < 0 && errno == ENOENT) {
                fprintf(stderr,
                        "noticectl: no ledger at %s yet (noticed has not run with this "
                        "state directory; set STATE_DIRECTORY to use another)\n",
                        path);
                return 0;
        }
        r = ledger_open(path, ret);
        if (r < 0) {
                fprintf(stderr, "noticectl: cannot open the ledger %s: %s\n", path,
                        r == -EPROTONOSUPPORT ? "it was written by a newer noticed" : strerror(-r));
                return r == -EACCES || r == -EPERM || r == -EROFS ? EX_NOPERM : EX_UNAVAILABLE;
        }
        return 0;
}

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
        if ((r = open_ledger(true, &ledger))) {
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

int cmd_decide(Context *ctx, int argc, char **argv) {
        static const struct option options[] = {
                {"note", required_argument, NULL, 'n'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const char *note = NULL, *why;
        Decision decision;
        uint32_t cycle;
        Ledger *ledger = NULL;
        _cleanup_free_ char *user = NULL;
        int c, r;

        optind = 0; /* glibc: start a fresh scan of the command's own arguments */
        /* Options may come before or after the four words. */
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'n':
                        note = optarg;
                        break;
                case 'h':
                        ctl_help();
                        return EX_OK;
                default:
                        return ctl_usage_error(
                                "decide COMMITMENT CYCLE PARTICIPANT continue|terminate "
                                "[--note TEXT]");
                }
        if (argc - optind != 4)
                return ctl_usage_error(
                        "decide needs COMMITMENT CYCLE PARTICIPANT continue|terminate");
        if (parse_cycle(argv[optind + 1], &cycle) < 0)
                return ctl_usage_error("cycle '%s' is not a number of 1 or more", argv[optind + 1]);
        if (decision_from_string(argv[optind + 3], &decision) < 0)
                return ctl_usage_error("decision '%s' must be 'continue' or 'terminate'",
                                       argv[optind + 3]);
        if (note && (!validate_header_text(note) || strlen(note) > 1000)) {
                fprintf(stderr, "noticectl: the note must be UTF-8 text of at most 1000 bytes "
                                "without control characters\n");
                return EX_DATAERR;
        }
        if ((r = ctl_load_model(ctx)))
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
        if ((r = open_ledger(false, &ledger)))
                return r;
        /* Whole seconds, as a decision has always been recorded. */
        r = ledger_record_decision(ledger, argv[optind], cycle, argv[optind + 2], decision, note,
                                   user, (int64_t) ((usec_t) time(NULL) * USEC_PER_SEC));
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
        if (r < 0)
                return r == -EACCES || r == -EROFS ? EX_NOPERM : EX_UNAVAILABLE;
        return ctl_finish_output();
}
