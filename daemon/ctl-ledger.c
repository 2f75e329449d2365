/* noticectl decide: a participant's decision, written into the ledger by hand.
 *
 * decide records a participant's decision, which stops that cycle's decision, notice and
 * overdue reminders, and copies it to the journal.  It opens the ledger the daemon uses
 * (ctl_open_ledger()) and does not take the daemon's lock. */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "noticed/ctl.h"
#include "noticed/history.h"
#include "noticed/ledger.h"
#include "noticed/log.h"
#include "noticed/macro.h"
#include "noticed/validate.h"

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
        if ((r = ctl_open_ledger(false, &ledger)))
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
