#pragma once
/* Retry: when a delivery that failed for now is tried again, and until when.
 *
 * Exponential backoff with jitter: the wait after attempt n is retry_base * 2^(n-1), at most
 * retry_max, of which a random half is taken off ("equal jitter"), so that many messages that
 * failed together (a relay restarting) do not all come back at the same instant.  A server's
 * Retry-After lengthens the wait, never shortens it.  Pure: the random number is a parameter. */

#include <stdbool.h>
#include <stdint.h>

#include "noticed/macro.h"
#include "noticed/model.h"

/* The wait after `attempts` attempts (>= 1), in µs: between half and all of
 * min(base * 2^(attempts - 1), max), by random; at least retry_after_usec. */
usec_t retry_delay_usec(usec_t base_usec, usec_t max_usec, unsigned attempts, uint64_t random,
                        usec_t retry_after_usec);

/* Until when a message is tried, CLOCK_REALTIME µs: a reminder until its milestone's day has
 * passed (local midnight after it); an overdue message or an escalation, whose milestone has
 * passed already, for a day from queued_usec.  Returns -EINVAL for a milestone that is not a
 * date. */
int retry_deadline_usec(const Model *m, const char *milestone, bool before_milestone,
                        int64_t queued_usec, int64_t *ret_usec);
