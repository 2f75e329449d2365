#pragma once
/* Dispatch: from the plan and the ledger to deliveries, one pass at a time.
 *
 * The daemon's event loop decides *when* to look; this module decides *what* is due and hands
 * it to a transport.  For every reminder the plan says is due it asks the ledger whether it was
 * settled (so a restart, reload or clock jump repeats nothing), applies the catch-up rules,
 * delivers or records it as skipped, and logs each outcome once with the reminder's fields.  It
 * also finds the next instant worth waking up for.  The Dispatcher borrows the ledger; the
 * model is passed in with every call, so a reload simply passes the new one. */

#include <stdbool.h>
#include <stdint.h>

#include "noticed/date.h"
#include "noticed/delivery.h"
#include "noticed/ledger.h"
#include "noticed/model.h"

typedef struct Dispatcher Dispatcher;

int dispatcher_new(Ledger *ledger, Dispatcher **ret); /* 0 or -ENOMEM */

/* Called before each delivery or skip: a long pass (catch-up after weeks down, a slow sendmail)
 * runs outside the event loop, and the daemon uses this to keep systemd informed and to learn
 * whether it must stop.  Returning false ends the pass there; what is left stays unsettled. */
typedef bool (*DispatchProgressFn)(void *userdata);
void dispatcher_set_progress(Dispatcher *d, DispatchProgressFn fn, void *userdata);
Dispatcher *dispatcher_free(Dispatcher *d);

/* Reads the decisions from the ledger (as indices into model): the plan leaves out reminders
 * and overdue messages of participants who decided.  Call before each pass. */
int dispatcher_load_decisions(Dispatcher *d, const Model *model);

/* Delivers, or records as skipped, every reminder due at now (CLOCK_REALTIME µs; today is its
 * local date) that the ledger has not settled.  Failures of single deliveries are logged and
 * counted, not returned; returns 0 or -errno when the plan or the ledger could not be read. */
int dispatcher_deliver_due(Dispatcher *d, const Model *model, uint64_t now, Date today);

/* The earliest unsettled reminder after now: 1 with its instant (µs) and a description for
 * STATUS ("decision c 2020-05-19 (enschede +13) at 2020-04-20 09:00", malloc'd), or 0 when
 * there is none within DISPATCH_SEARCH_DAYS; -errno on failure. */
#define DISPATCH_SEARCH_DAYS (120 * 31)
int dispatcher_find_next(Dispatcher *d, const Model *model, uint64_t now, Date today,
                         uint64_t *ret_usec, char **ret_description);

const DeliveryCounts *dispatcher_counts(const Dispatcher *d);

/* Logs, once at start, each reminder the ledger still has pending: an attempt began and the
 * process ended before it was settled (a crash, a kill -9, a power cut).  0 or -errno. */
int dispatcher_report_interrupted(Dispatcher *d);
