/* noticectl decide and revoke: a participant's decision, written into the ledger by hand, and
 * its correction.
 *
 * decide records a participant's decision, which stops that cycle's decision, notice and
 * overdue reminders; revoke appends a revocation of it, after which they resume from the next
 * pass.  Both show the cycle's period and deadlines, so that the person typing can check that
 * the number means the term they have in mind, and both copy the record to the journal.  decide
 * refuses a cycle that is implausible for today (--force overrides).  They open the ledger the
 * daemon uses (ctl_open_ledger()) and do not take the daemon's lock. */

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
#include "noticed/plan.h"
#include "noticed/validate.h"

/* A decision about a cycle whose notice deadline is further in the past than this is refused
 * without --force: it can no longer change anything, and is most likely the wrong number. */
#define DECIDE_LATE_DAYS 30

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

static int check_note(const char *note) {
        if (note && (!validate_header_text(note) || strlen(note) > 1000)) {
                fprintf(stderr, "noticectl: the note must be UTF-8 text of at most 1000 bytes "
                                "without control characters\n");
                return EX_DATAERR;
        }
        return 0;
}

/* "cycle 2: 2021-01-01 – 2021-12-31, decision by 2021-05-19, notice by 2021-06-30" */
static void print_cycle(FILE *out, uint32_t cycle, const PlanCycle *c) {
        char start[DATE_STRING_MAX], end[DATE_STRING_MAX], decision[DATE_STRING_MAX],
                notice[DATE_STRING_MAX];

        fprintf(out, "cycle %" PRIu32 ": %s – %s", cycle, date_format(c->start, start),
                date_format(c->term_end, end));
        if (c->has_notice)
                fprintf(out, ", decision by %s, notice by %s", date_format(c->decision, decision),
                        date_format(c->notice, notice));
        fputc('\n', out);
}

/* Why a decision about this cycle is implausible today, or NULL: its notice deadline passed more
 * than DECIDE_LATE_DAYS ago, or it starts more than one cycle ahead (the cycle before it has not
 * begun; before the commitment starts, cycle 1 is the next one).  A reason is written to
 * reason (static text or a formatted sentence). */
static const char *implausible(const Model *m, size_t commitment, uint32_t cycle,
                               const PlanCycle *c, Date today, char *reason, size_t size) {
        char date[DATE_STRING_MAX], day[DATE_STRING_MAX];
        PlanCycle before;

        if (c->has_notice && c->notice < today - DECIDE_LATE_DAYS) {
                (void) snprintf(reason, size,
                                "its notice deadline %s passed more than %d days ago (today is %s)",
                                date_format(c->notice, date), DECIDE_LATE_DAYS,
                                date_format(today, day));
                return reason;
        }
        if (cycle > 1 && plan_cycle(m, commitment, cycle - 1, &before) == 0 &&
            before.start > today) {
                (void) snprintf(reason, size,
                                "it starts %s, more than one cycle ahead (cycle %" PRIu32
                                " has not begun on %s)",
                                date_format(c->start, date), cycle - 1, date_format(today, day));
                return reason;
        }
        return NULL;
}

/* The audit trail lives in the ledger; the journal gets a copy, so that `journalctl -u noticed`
 * and `journalctl MESSAGE_ID=...` show decisions next to the reminders they stopped.  journalctl
 * -u matches OBJECT_SYSTEMD_UNIT= only in records of uid 0: as another user the copy is in the
 * journal, under MESSAGE_ID=, but not under -u.  Without a journal this quietly does nothing;
 * NOTICED_LOG_TARGET=console puts it on stderr. */
static void journal_record(const char *message_id, const char *commitment, uint32_t cycle,
                           const char *participant, const char *message) {
        LogFields f = LOG_FIELDS_NONE;

        f.message_id = message_id;
        f.commitment = commitment;
        f.cycle = cycle;
        f.recipient = participant;
        f.unit = LOG_UNIT;
        log_open_journal();
        (void) log_full(LOG_NOTICE, 0, &f, "%s", message);
}

/* The cycle's dates, for the confirmation and the checks: 0, or EX_DATAERR after saying why. */
static int find_cycle(const Context *ctx, const char *commitment, uint32_t cycle, size_t *ret_index,
                      PlanCycle *ret) {
        int r;

        if (model_find_commitment(ctx->model, commitment, ret_index) < 0)
                r = -ENOENT;
        else
                r = plan_cycle(ctx->model, *ret_index, cycle, ret);
        if (r < 0) {
                fprintf(stderr,
                        "noticectl: %s cycle %" PRIu32 ": its dates cannot be computed: %s\n",
                        commitment, cycle, strerror(-r));
                return EX_DATAERR;
        }
        return 0;
}

/* Whole seconds, as a decision has always been recorded. */
static usec_t now_usec(void) {
        return (usec_t) time(NULL) * USEC_PER_SEC;
}

static int ledger_exit_status(int r) {
        return r == -EACCES || r == -EROFS ? EX_NOPERM : EX_UNAVAILABLE;
}

/* Why a ledger call failed: SQLite's message, or, when SQLite said nothing (out of memory, a
 * row it could not read), the errno's. */
static const char *why_not(const Ledger *ledger, int r) {
        const char *e = ledger ? ledger_error(ledger) : "";

        return e && *e ? e : strerror(-r);
}

int cmd_decide(Context *ctx, int argc, char **argv) {
        static const struct option options[] = {
                {"note", required_argument, NULL, 'n'},
                {"force", no_argument, NULL, 'f'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const char *note = NULL, *why, *commitment, *participant;
        char reason[256];
        bool force = false;
        Decision decision = _DECISION_MAX;
        PlanCycle dates;
        size_t index;
        uint32_t cycle;
        Ledger *ledger = NULL;
        _cleanup_free_ char *user = NULL, *message = NULL;
        int c, r;

        optind = 0; /* glibc: start a fresh scan of the command's own arguments */
        /* Options may come before or after the four words. */
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'n':
                        note = optarg;
                        break;
                case 'f':
                        force = true;
                        break;
                case 'h':
                        ctl_help();
                        return EX_OK;
                default:
                        return ctl_usage_error(
                                "decide COMMITMENT CYCLE PARTICIPANT continue|terminate "
                                "[--note TEXT] [--force]");
                }
        if (argc - optind != 4)
                return ctl_usage_error(
                        "decide needs COMMITMENT CYCLE PARTICIPANT continue|terminate");
        commitment = argv[optind];
        participant = argv[optind + 2];
        if (parse_cycle(argv[optind + 1], &cycle) < 0)
                return ctl_usage_error("cycle '%s' is not a number of 1 or more", argv[optind + 1]);
        if (decision_from_string(argv[optind + 3], &decision) < 0 || decision == DECISION_REVOKE)
                return ctl_usage_error(
                        "decision '%s' must be 'continue' or 'terminate'%s", argv[optind + 3],
                        decision == DECISION_REVOKE ? " (noticectl revoke takes a decision back)"
                                                    : "");
        if ((r = check_note(note)))
                return r;
        if ((r = ctl_load_model(ctx)))
                return r;
        if (history_check_decision(ctx->model, commitment, cycle, participant, &why) < 0) {
                fprintf(stderr, "noticectl: %s cycle %" PRIu32 " %s: %s\n", commitment, cycle,
                        participant, why);
                return EX_DATAERR;
        }
        if ((r = find_cycle(ctx, commitment, cycle, &index, &dates)))
                return r;
        if (!force &&
            implausible(ctx->model, index, cycle, &dates, ctx->today, reason, sizeof(reason))) {
                fprintf(stderr,
                        "noticectl: %s cycle %" PRIu32 " %s: %s; --force records it anyway\n",
                        commitment, cycle, participant, reason);
                fputs("noticectl: ", stderr);
                print_cycle(stderr, cycle, &dates);
                return EX_DATAERR;
        }
        if (history_invoking_user(&user) < 0) {
                fprintf(stderr, "noticectl: out of memory\n");
                return EX_UNAVAILABLE;
        }
        if ((r = ctl_open_ledger(false, &ledger)))
                return r;
        r = ledger_record_decision(ledger, commitment, cycle, participant, decision, note, user,
                                   now_usec());
        if (r < 0) {
                fprintf(stderr,
                        "noticectl: %s cycle %" PRIu32 " %s: cannot record the decision: %s\n",
                        commitment, cycle, participant, why_not(ledger, r));
                ledger_close(ledger);
                return ledger_exit_status(r);
        }
        ledger_close(ledger);
        if (asprintf(&message, "%s recorded that %s decides to %s %s (cycle %" PRIu32 ")%s%s", user,
                     participant, decision_to_string(decision), commitment, cycle, note ? ": " : "",
                     note ? note : "") < 0)
                message = NULL;
        if (message)
                journal_record(LOG_MESSAGE_DECIDED, commitment, cycle, participant, message);
        printf("Recorded: %s decides to %s %s (cycle %" PRIu32 "), by %s.\n", participant,
               decision_to_string(decision), commitment, cycle, user);
        print_cycle(stdout, cycle, &dates);
        printf("Its decision and notice reminders and overdue messages for cycle %" PRIu32
               " stop.\n",
               cycle);
        return ctl_finish_output();
}

/* The participant's last standing decision for the cycle: 1 and *ret, 0 when none stands. */
/* What stands of a participant's decisions for one cycle, as what revoke takes back: "continue",
 * "terminate", or both when both were recorded and neither was revoked (malloc'd in *ret).  1,
 * 0 when none stands, or -errno. */
static int standing_decisions(Ledger *l, const char *commitment, uint32_t cycle,
                              const char *participant, char **ret) {
        LedgerDecision *d = NULL;
        bool stands[_DECISION_MAX] = {};
        size_t n = 0;
        int r;

        r = ledger_decisions(l, &d, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (d[i].cycle == cycle && d[i].decision < _DECISION_MAX &&
                    strcmp(d[i].commitment, commitment) == 0 &&
                    strcmp(d[i].participant, participant) == 0)
                        stands[d[i].decision] = true;
        ledger_decisions_free(d, n);
        if (!stands[DECISION_CONTINUE] && !stands[DECISION_TERMINATE])
                return 0;
        if (stands[DECISION_CONTINUE] && stands[DECISION_TERMINATE])
                r = asprintf(ret, "decisions to %s and to %s",
                             decision_to_string(DECISION_CONTINUE),
                             decision_to_string(DECISION_TERMINATE));
        else
                r = asprintf(ret, "decision to %s",
                             decision_to_string(stands[DECISION_CONTINUE] ? DECISION_CONTINUE
                                                                          : DECISION_TERMINATE));
        return r < 0 ? -ENOMEM : 1;
}

int cmd_revoke(Context *ctx, int argc, char **argv) {
        static const struct option options[] = {
                {"note", required_argument, NULL, 'n'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const char *note = NULL, *commitment, *participant;
        PlanCycle dates;
        size_t index;
        uint32_t cycle;
        bool have_dates;
        Ledger *ledger = NULL;
        _cleanup_free_ char *user = NULL, *message = NULL, *what = NULL;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'n':
                        note = optarg;
                        break;
                case 'h':
                        ctl_help();
                        return EX_OK;
                default:
                        return ctl_usage_error("revoke COMMITMENT CYCLE PARTICIPANT [--note TEXT]");
                }
        if (argc - optind != 3)
                return ctl_usage_error("revoke needs COMMITMENT CYCLE PARTICIPANT");
        commitment = argv[optind];
        participant = argv[optind + 2];
        if (parse_cycle(argv[optind + 1], &cycle) < 0)
                return ctl_usage_error("cycle '%s' is not a number of 1 or more", argv[optind + 1]);
        if ((r = check_note(note)))
                return r;
        if ((r = ctl_load_model(ctx)))
                return r;
        /* A decision about a commitment the config no longer has may still be revoked; it is
         * shown without its dates. */
        have_dates = model_find_commitment(ctx->model, commitment, &index) == 0 &&
                     plan_cycle(ctx->model, index, cycle, &dates) == 0;
        if (history_invoking_user(&user) < 0) {
                fprintf(stderr, "noticectl: out of memory\n");
                return EX_UNAVAILABLE;
        }
        /* Nothing to revoke in a ledger that does not exist: do not create one. */
        if ((r = ctl_open_ledger(true, &ledger)))
                return r;
        r = ledger ? standing_decisions(ledger, commitment, cycle, participant, &what) : 0;
        if (r > 0)
                r = ledger_revoke_decision(ledger, commitment, cycle, participant, note, user,
                                           now_usec());
        else if (r == 0)
                r = -ENOENT;
        if (r < 0 && r != -ENOENT)
                fprintf(stderr,
                        "noticectl: %s cycle %" PRIu32 " %s: cannot record the revocation: %s\n",
                        commitment, cycle, participant, why_not(ledger, r));
        ledger_close(ledger);
        if (r == -ENOENT) {
                fprintf(stderr,
                        "noticectl: %s cycle %" PRIu32 " %s: no decision of theirs stands, so "
                        "there is nothing to revoke (noticectl history shows the trail)\n",
                        commitment, cycle, participant);
                return EX_DATAERR;
        }
        if (r < 0)
                return ledger_exit_status(r);
        if (asprintf(&message, "%s revoked %s's %s %s (cycle %" PRIu32 ")%s%s", user, participant,
                     what, commitment, cycle, note ? ": " : "", note ? note : "") < 0)
                message = NULL;
        if (message)
                journal_record(LOG_MESSAGE_REVOKED, commitment, cycle, participant, message);
        printf("Revoked: %s's %s %s (cycle %" PRIu32 "), by %s.\n", participant, what, commitment,
               cycle, user);
        if (have_dates)
                print_cycle(stdout, cycle, &dates);
        printf("Its decision and notice reminders and overdue messages for cycle %" PRIu32
               " resume from noticed's next\n"
               "pass (systemctl reload noticed starts one); reminders already skipped are not "
               "sent.\n",
               cycle);
        return ctl_finish_output();
}
