/* The ledger's counts for STATUS=: what was sent, failed and skipped, in all and on one day, and
 * what waits in the outbox (see ledger.h).  Read from the file, not counted by the process, so
 * that they survive a restart and include what an earlier noticed did.  The cost is one scan of
 * the reminders table per call; the daemon calls it after each pass and, while transfers settle,
 * at most about once a second. */

#include <errno.h>
#include <sqlite3.h>

#include "ledger-internal.h"

/* Column i, a count: SUM() and COUNT() of a table's rows never make one below 0. */
static int column_count(sqlite3_stmt *s, int i, uint64_t *ret) {
        int64_t v;
        int r = ledger_column_range(s, i, INT64_MAX, &v);

        if (r >= 0)
                *ret = (uint64_t) v;
        return r;
}

int ledger_counts(Ledger *l, usec_t day_start_usec, usec_t day_end_usec, LedgerCounts *ret) {
        LedgerCounts c = {0};
        sqlite3_stmt *s;
        int rc, r;

        if (!l || !ret || day_start_usec > day_end_usec)
                return -EINVAL;
        s = ledger_bind(l, STMT_COUNTS, &r, "uu", day_start_usec, day_end_usec);
        if (!s)
                return r;
        rc = sqlite3_step(s);
        if (rc != SQLITE_ROW)
                r = ledger_fail(l, rc);
        else if ((r = column_count(s, 0, &c.sent)) >= 0 &&
                 (r = column_count(s, 1, &c.failed)) >= 0 &&
                 (r = column_count(s, 2, &c.day_sent)) >= 0 &&
                 (r = column_count(s, 3, &c.day_failed)) >= 0 &&
                 (r = column_count(s, 4, &c.day_skipped)) >= 0)
                r = column_count(s, 5, &c.queued);
        ledger_reset(s);
        if (r < 0)
                return r;
        *ret = c;
        return 0;
}
