/* Recording: the outcomes of transfers, told to the ledger, then logged and counted.
 *
 * An outcome is remembered when its transfer ends and recorded in the next turn of the loop,
 * with all the others that ended meanwhile, in one ledger transaction (one fsync): under load
 * that is what keeps the ledger from being the bottleneck.  A failure for good is escalated
 * (escalate.h) in the same transaction, so that both are recorded or neither.  Only once the
 * ledger has committed is an outcome logged and counted; what it refused (busy, full) waits in
 * the list and is recorded in a later turn, not sent again. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "noticed/clock.h"
#include "noticed/escalate.h"
#include "noticed/log.h"
#include "noticed/retry.h"
#include "noticed/tz.h"
#include "outbox-internal.h"

/* The last attempt before a deadline comes this long before it, and only if it is not due
 * this soon already (no burst of attempts at the deadline). */
#define LAST_ATTEMPT_MARGIN_USEC (UINT64_C(60) * USEC_PER_SEC)

/* What the ledger was told of an outcome. */
typedef enum Verdict {
        VERDICT_NONE, /* not recorded yet */
        VERDICT_SENT,
        VERDICT_RETRY,      /* waits until next_usec */
        VERDICT_FAILED,     /* given up */
        VERDICT_SUPERSEDED, /* failed for now, but a later reminder of its group has come */
        VERDICT_GONE,       /* the ledger will never take it: logged, dropped */
} Verdict;

/* An outcome waiting for the ledger: settled in this turn, or refused by the ledger before. */
struct Outcome {
        LedgerQueued item;
        NetOutcome outcome;
        long code;
        char *reply;
        uint64_t retry_after_usec;
        Verdict verdict; /* what the ledger was told, reported once it has committed */
        uint64_t next_usec;
        char *escalated_to; /* "a, b": who an escalation was queued for, with the failure */
        unsigned n_escalated;
};

/* What a queued message is, as the log names it. */
static const char *what(const LedgerQueued *q) {
        if (identity_is_escalation(&q->identity))
                return "escalation";
        return identity_is_overdue(&q->identity) ? "overdue message" : "reminder";
}

/* The record of a queued message, for the calls that may create or skip its row. */
static LedgerReminder queued_reminder(const LedgerQueued *q) {
        return (LedgerReminder){.identity = &q->identity, .due_usec = q->due_usec};
}

/* Was the transport, not the one recipient, what failed?  Then escalations avoid it: a
 * temporary failure (it seems down), a webhook's refusal (the endpoint is the transport), an
 * SMTP login refused. */
static bool transport_failed(const Outcome *oc) {
        return oc->outcome == NET_TEMPORARY ||
               strncmp(oc->item.identity.channel, "webhook:", 8) == 0 || oc->code == 530 ||
               oc->code == 534 || oc->code == 535 || oc->code == 538;
}

/* Frees what an outcome holds. */
static void outcome_done(Outcome *oc) {
        ledger_queued_done(&oc->item);
        free(oc->reply);
        free(oc->escalated_to);
}

void outbox_free_outcomes(Outbox *o) {
        for (size_t i = 0; i < o->n_outcomes; i++)
                outcome_done(&o->outcomes[i]);
        free(o->outcomes);
        o->outcomes = NULL;
        o->n_outcomes = 0;
}

void outbox_remember(Outbox *o, LedgerQueued *item, NetOutcome outcome, long code, char *reply,
                     usec_t retry_after_usec) {
        Outcome *more = reallocarray(o->outcomes, o->n_outcomes + 1, sizeof(*more));

        if (!more) {
                LogFields f = log_fields_of(&item->identity);
                (void) log_full(LOG_ERR, -ENOMEM, &f,
                                "%s: out of memory: its outcome is lost, and it is sent again "
                                "after the next start",
                                item->identity.id);
                ledger_queued_done(item);
                free(reply);
                return;
        }
        o->outcomes = more;
        more[o->n_outcomes++] = (Outcome){.item = *item,
                                          .outcome = outcome,
                                          .code = code,
                                          .reply = reply,
                                          .retry_after_usec = retry_after_usec};
        *item = (LedgerQueued){0};
        (void) sd_event_source_set_enabled(o->soon, SD_EVENT_ONESHOT);
}

/* When the next attempt is, or 0 when there is none: a temporary failure waits (retry.h), but
 * not past the message's deadline; one last attempt comes just before it, if there is room. */
static uint64_t next_attempt(const Outbox *o, const Outcome *oc, uint64_t now) {
        uint64_t deadline = oc->item.deadline_usec, next, random = 0;

        if (oc->outcome != NET_TEMPORARY || now >= deadline)
                return 0;
        (void) getrandom(&random, sizeof(random), GRND_NONBLOCK);
        next = now + retry_delay_usec(o->model->retry_base_usec, o->model->retry_max_usec,
                                      oc->item.attempts + 1, random, oc->retry_after_usec);
        if (next < deadline)
                return next;
        if (deadline - LAST_ATTEMPT_MARGIN_USEC > now + LAST_ATTEMPT_MARGIN_USEC)
                return deadline - LAST_ATTEMPT_MARGIN_USEC;
        return 0;
}

/* Tells the ledger one outcome (inside outbox_record_outcomes()'s transaction) and notes the
 * verdict for report().  Returns -errno while the ledger refuses in a way that may pass. */
static int record(Outbox *o, Outcome *oc, uint64_t now) {
        LedgerQueued *q = &oc->item;
        LogFields f = log_fields_of(&q->identity);
        const char *reply = oc->reply ? oc->reply : "?";
        Verdict verdict;
        int r = 0;

        if (oc->outcome == NET_OK) {
                verdict = VERDICT_SENT;
                r = ledger_mark_sent(o->ledger, &q->identity, now, reply, q->message_id);
        } else if ((oc->next_usec = next_attempt(o, oc, now)) > 0 &&
                   (r = ledger_later_sibling(o->ledger, &q->identity, q->due_usec)) > 0) {
                /* A later reminder of its milestone was queued while this one was in flight:
                 * that one says it better now. */
                LedgerReminder lr = queued_reminder(q);
                verdict = VERDICT_SUPERSEDED;
                r = ledger_mark_skipped(o->ledger, &lr, now,
                                        "superseded by a later reminder for the same milestone");
        } else if (oc->next_usec > 0 && r >= 0) {
                verdict = VERDICT_RETRY;
                r = ledger_queued_retry(o->ledger, &q->identity, now, oc->next_usec, reply);
        } else if (oc->next_usec > 0) {
                verdict = VERDICT_RETRY; /* the sibling query failed: r says how */
        } else {
                verdict = VERDICT_FAILED;
                /* The escalation first, in the same transaction: if the ledger refuses it, the
                 * failure is not recorded either, and both are tried again. */
                free(oc->escalated_to);
                oc->escalated_to = NULL;
                oc->n_escalated = 0;
                r = q->escalate
                            ? escalate_queue(o->ledger, o->model, q, reply, transport_failed(oc),
                                             now, &oc->escalated_to, &oc->n_escalated)
                            : 0;
                if (r >= 0)
                        r = ledger_mark_failed(o->ledger, &q->identity, now, reply);
        }
        if (r < 0 && ledger_refusal_may_pass(r))
                return log_full(LOG_ERR, r, &f,
                                "%s: failed to record the outcome: %s; will record it later, not "
                                "send it again",
                                q->identity.id, ledger_error(o->ledger));
        if (r < 0 && r != -EALREADY && r != -ENOENT) {
                (void) log_full(LOG_ERR, r, &f,
                                "%s: the ledger will not take its outcome (%s), giving up: it "
                                "stays in flight there and is sent again after the next start",
                                q->identity.id, ledger_error(o->ledger));
                verdict = VERDICT_GONE;
        } else if (r < 0) /* settled meanwhile (another process, a reload's skip) */
                verdict = VERDICT_GONE;
        oc->verdict = verdict;
        return 0;
}

/* Logs and counts an outcome the ledger has committed; escalates a failure. */
static void report(Outbox *o, Outcome *oc) {
        LedgerQueued *q = &oc->item;
        LogFields f = log_fields_of(&q->identity);
        const char *reply = oc->reply ? oc->reply : "?";
        unsigned attempts = q->attempts + 1; /* ledger_queued_begin() counted this one */
        char until[64];
        Date day;
        int32_t seconds, utc_offset;
        char date[DATE_STRING_MAX];

        switch (oc->verdict) {
        case VERDICT_SENT:
                /* An escalation about an overdue message is an escalation: "sent". */
                f.message_id =
                        identity_is_overdue(&q->identity) && !identity_is_escalation(&q->identity)
                                ? LOG_MESSAGE_OVERDUE
                                : LOG_MESSAGE_SENT;
                (void) log_full(LOG_INFO, 0, &f, "%s: %s sent to %s by %s (%s)", q->identity.id,
                                what(q), q->identity.recipient, q->identity.channel, reply);
                o->counts.sent++;
                break;
        case VERDICT_RETRY:
                /* In the config's zone, as every time an administrator reads. */
                tz_unix_to_local(o->model->tz, (int64_t) (oc->next_usec / USEC_PER_SEC), &day,
                                 &seconds, &utc_offset);
                (void) snprintf(until, sizeof(until), "%s %02d:%02d:%02d", date_format(day, date),
                                (int) (seconds / 3600), (int) (seconds / 60 % 60),
                                (int) (seconds % 60));
                (void) log_full(LOG_WARNING, 0, &f,
                                "%s: %s to %s by %s failed for now (attempt %u): %s; trying "
                                "again at %s",
                                q->identity.id, what(q), q->identity.recipient, q->identity.channel,
                                attempts, reply, until);
                o->counts.retried++;
                break;
        case VERDICT_FAILED:
                f.message_id = LOG_MESSAGE_FAILED;
                (void) log_full(LOG_ERR, 0, &f,
                                "%s: %s to %s by %s failed%s after %u attempt%s: %s",
                                q->identity.id, what(q), q->identity.recipient, q->identity.channel,
                                oc->outcome == NET_PERMANENT ? "" : " (its time has passed)",
                                attempts, attempts == 1 ? "" : "s", reply);
                o->counts.failed++;
                if (oc->escalated_to) {
                        (void) log_full(LOG_NOTICE, 0, &f, "%s: escalated to %s", q->identity.id,
                                        oc->escalated_to);
                        o->counts.escalated += oc->n_escalated;
                        /* Escalations are queued: start them. */
                        (void) sd_event_source_set_enabled(o->soon, SD_EVENT_ONESHOT);
                }
                break;
        case VERDICT_SUPERSEDED:
                f.message_id = LOG_MESSAGE_SKIPPED;
                (void) log_full(LOG_NOTICE, 0, &f,
                                "%s: %s to %s by %s skipped after a failed attempt (%s): "
                                "superseded by a later reminder for the same milestone",
                                q->identity.id, what(q), q->identity.recipient, q->identity.channel,
                                reply);
                break;
        case VERDICT_NONE:
        case VERDICT_GONE:
                break;
        }
}

/* Tells the settled hook, at most once a second while transfers are in flight (a burst settles
 * thousands, and each STATUS= is a datagram to systemd), and always when none is. */
static void settled(Outbox *o) {
        uint64_t now;

        if (!o->settled)
                return;
        now = clock_now_usec(CLOCK_MONOTONIC);
        if (o->in_flight > 0 && now - o->last_settled_usec < USEC_PER_SEC)
                return;
        o->last_settled_usec = now;
        o->settled(o->userdata);
}

/* Those the ledger refuses (busy, full) wait for the next turn, and all of them when the
 * transaction fails. */
int outbox_record_outcomes(Outbox *o) {
        uint64_t now = clock_now_usec(CLOCK_REALTIME);
        size_t done = 0, kept = 0;
        bool batch;
        int r = 0;

        if (o->n_outcomes == 0)
                return 0;
        batch = ledger_batch_begin(o->ledger) >= 0;
        /* The recorded ones first, in order; the refused ones after them. */
        for (; done < o->n_outcomes && r >= 0; done++)
                r = record(o, &o->outcomes[done], now);
        if (r < 0)
                done--;
        if (batch && ledger_batch_end(o->ledger, true) < 0) {
                /* Rolled back: nothing was recorded, so nothing is reported; all wait. */
                for (size_t i = 0; i < done; i++)
                        o->outcomes[i].verdict = VERDICT_NONE;
                (void) log_error("Failed to record %zu outcome(s): %s; trying again in %d s", done,
                                 ledger_error(o->ledger),
                                 (int) (STALLED_RETRY_USEC / USEC_PER_SEC));
                return -EIO;
        }
        /* Committed, escalations with their failures: now it may be said and counted. */
        for (size_t i = 0; i < done; i++) {
                report(o, &o->outcomes[i]);
                outcome_done(&o->outcomes[i]);
        }
        for (size_t i = done; i < o->n_outcomes; i++)
                o->outcomes[kept++] = o->outcomes[i];
        o->n_outcomes = kept;
        if (done > 0)
                settled(o);
        return r;
}

/* The messages of a transport the config no longer has (a reload renamed or removed it).  Mail
 * goes by whatever mail_via is now (outbox_configure() re-points it), so these are webhook
 * messages of a webhook the recipient no longer has, or mail when there is no mail_via any
 * more: skipped, not failed, for nothing went wrong with them. */
void outbox_skip_orphans(Outbox *o, const char *transport, usec_t now) {
        LedgerQueued *items = NULL;
        size_t n = 0;
        char *reason = NULL;
        int r;

        r = ledger_queued_due(o->ledger, transport, now, LOCAL_CHUNK, &items, &n);
        if (r >= 0 && asprintf(&reason, "transport %s is no longer in the config", transport) < 0)
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                LedgerQueued *q = &items[i];
                LedgerReminder lr = queued_reminder(q);
                LogFields f = log_fields_of(&q->identity);

                r = ledger_mark_skipped(o->ledger, &lr, now, reason);
                if (r == -EALREADY)
                        r = 0;
                else if (r >= 0) {
                        f.message_id = LOG_MESSAGE_SKIPPED;
                        (void) log_full(LOG_NOTICE, 0, &f, "%s: %s to %s by %s skipped: %s",
                                        q->identity.id, what(q), q->identity.recipient,
                                        q->identity.channel, reason);
                }
        }
        if (r < 0)
                (void) log_error_errno(r, "Failed to skip the messages of transport %s: %s",
                                       transport,
                                       r == -ENOMEM ? "out of memory" : ledger_error(o->ledger));
        free(reason);
        ledger_queued_free(items, n);
}

int outbox_flush(Outbox *o) {
        int r = outbox_record_outcomes(o);

        for (size_t i = 0; r < 0 && i < o->n_outcomes; i++)
                log_error("%s: its outcome could not be recorded: it stays in the outbox and may "
                          "be sent again at the next start",
                          o->outcomes[i].item.identity.id);
        return r;
}
