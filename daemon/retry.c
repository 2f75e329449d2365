/* Retry: backoff, jitter and the last moment worth trying (see retry.h). */

#include <errno.h>

#include "noticed/date.h"
#include "noticed/macro.h"
#include "noticed/retry.h"
#include "noticed/tz.h"

usec_t retry_delay_usec(usec_t base_usec, usec_t max_usec, unsigned attempts, uint64_t random,
                        usec_t retry_after_usec) {
        usec_t wait = base_usec, half;

        if (attempts == 0)
                attempts = 1;
        /* Doubling stops at max (and long before an overflow could). */
        for (unsigned i = 1; i < attempts && wait < max_usec; i++)
                wait = wait > UINT64_MAX / 2 ? UINT64_MAX : wait * 2;
        if (wait > max_usec)
                wait = max_usec;
        half = wait / 2;
        /* 64 random bits: a half of up to 3.5 days (retry_max 7d) is spread evenly. */
        wait = wait - half + (half == 0 ? 0 : random % (half + 1));
        return wait < retry_after_usec ? retry_after_usec : wait;
}

int retry_deadline_usec(const Model *m, const char *milestone, bool before_milestone,
                        int64_t queued_usec, int64_t *ret_usec) {
        int64_t midnight;
        int32_t offset;
        Date d;

        if (!before_milestone) {
                *ret_usec = queued_usec + (int64_t) USEC_PER_DAY;
                return 0;
        }
        if (!milestone || date_parse(milestone, &d) < 0)
                return -EINVAL;
        tz_local_to_unix(m->tz, d + 1, 0, &midnight, &offset);
        *ret_usec = midnight * (int64_t) USEC_PER_SEC;
        return 0;
}
