#pragma once
/* The clocks the effectful modules read: one helper, so that every reading is the same
 * conversion.  Pure modules (date, calendar, plan, render) never include this: `now` is their
 * parameter. */

#include <time.h>

#include "noticed/macro.h"

/* CLOCK_REALTIME for instants of the plan and the ledger, CLOCK_MONOTONIC or CLOCK_BOOTTIME for
 * durations.  clock_gettime() cannot fail for these clocks. */
static inline usec_t clock_now_usec(clockid_t clock) {
        struct timespec ts;

        (void) clock_gettime(clock, &ts);
        return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / NSEC_PER_USEC;
}
