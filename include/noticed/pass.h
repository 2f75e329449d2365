#pragma once
/* Pass: from the plan and the ledger to the outbox, one pass at a time.
 *
 * The daemon's event loop decides *when* to look; this module decides *what* is due and hands
 * it to a transport.  For every reminder the plan says is due it asks the ledger whether it was
 * settled (so a restart, reload or clock jump repeats nothing), applies the catch-up rules,
 * delivers or records it as skipped, and logs each outcome once with the reminder's fields.  It
 * also finds the next instant worth waking up for.  The Pass borrows the ledger; the
 * model is passed in with every call, so a reload simply passes the new one. */

#include <stdbool.h>
#include <stdint.h>

#include "noticed/date.h"
#include "noticed/identity.h"
#include "noticed/macro.h"
#include "noticed/enqueue.h"
#include "noticed/ledger.h"
#include "noticed/model.h"

typedef struct Pass Pass;

int pass_new(Ledger *ledger, Pass **ret); /* 0 or -ENOMEM */

/* Called before each delivery or skip: a long pass (catch-up after weeks down, a slow sendmail)
 * runs outside the event loop, and the daemon uses this to keep systemd informed and to learn
 * whether it must stop.  Returning false ends the pass there; what is left stays unsettled. */
typedef bool (*PassProgressFn)(void *userdata);
void pass_set_progress(Pass *d, PassProgressFn fn, void *userdata);
Pass *pass_free(Pass *d);

/* Reads the decisions from the ledger (as indices into model): the plan leaves out reminders
 * and overdue messages of participants who decided.  Call before each pass. */
int pass_load_decisions(Pass *d, const Model *model);

/* Delivers, or records as skipped, every reminder due at now (CLOCK_REALTIME µs; today is its
 * local date) that the ledger has not settled.  Failures of single deliveries are logged and
 * counted, not returned; returns 0 or -errno when the plan or the ledger could not be read. */
int pass_queue_due(Pass *d, const Model *model, uint64_t now, Date today);

/* The earliest instant after now at which a reminder goes out, by the same decisions as
 * pass_queue_due(): a planned instant, or the send_time a missed reminder waits for (catch-up).
 * 1 with its instant (µs) and a description for STATUS ("decision c 2020-05-19 (enschede +13)
 * at 2020-04-20 09:00 CEST", malloc'd), or 0 when there is none within PASS_SEARCH_DAYS;
 * -errno on failure. */
#define PASS_SEARCH_DAYS (120 * 31)
int pass_find_next(Pass *d, const Model *model, uint64_t now, Date today, uint64_t *ret_usec,
                   char **ret_description);

const EnqueueCounts *pass_counts(const Pass *d);

typedef enum PassFate {
        PASS_FATE_DUE,      /* will be queued at at_usec: its planned instant, or catch-up's */
        PASS_FATE_QUEUED,   /* waits in the outbox, no attempt yet; at_usec: its next attempt */
        PASS_FATE_RETRYING, /* in the outbox after a failed attempt; at_usec: its next attempt */
        PASS_FATE_SKIP,     /* catch-up would record it skipped (reason says why); at_usec: now,
                             * or for one ahead of now the instant it would have gone out */
} PassFate;

typedef struct PassPreview {
        const Reminder *reminder;         /* as planned */
        uint32_t channel;                 /* 0 mail, 1 + i the recipient's webhook i */
        const ReminderIdentity *identity; /* its identity (id, channel "mail"/"webhook:NAME") */
        PassFate fate;
        usec_t at_usec;
        bool catch_up;      /* it missed its planned instant and goes out later than planned */
        const char *reason; /* PASS_FATE_SKIP: why (catch_up_action_to_string()); else NULL */
        unsigned attempts;  /* PASS_FATE_QUEUED, PASS_FATE_RETRYING: attempts so far */
} PassPreview;

/* Called for each reminder not yet settled in the ledger (sent, failed, skipped: not shown),
 * in the order of at_usec; returning < 0 stops the preview with that value.  Pointers are valid
 * during the call only. */
typedef int (*PassPreviewFn)(void *userdata, const PassPreview *preview);

/* What the pass would do with every reminder planned from the look-back window up to the
 * local date `until` (inclusive), at now (CLOCK_REALTIME µs; today its local date), counting
 * the ledger (sent, skipped, queued, retrying), the decisions of the last pass_load_decisions()
 * and the catch-up rules.  Writes nothing.  0, the callback's < 0, or -errno. */
int pass_preview(Pass *p, const Model *model, usec_t now, Date today, Date until, PassPreviewFn fn,
                 void *userdata);

/* Logs, once at start, each reminder the ledger still has pending: an attempt began and the
 * process ended before it was settled (a crash, a kill -9, a power cut).  0 or -errno. */
int pass_report_interrupted(Pass *d);
