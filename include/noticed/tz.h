#pragma once
/* IANA time zones: local civil time <-> instants.
 *
 * tz_load() checks the name against the system's zoneinfo and has the C library read the zone
 * (the disk, once, at load); after that, conversions are computed from the loaded zone and touch
 * nothing outside the process.  glibc keeps one active zone per process (TZ); a Tz makes itself
 * the active one when used, so two Tz objects may coexist (the old and the new config during a
 * reload) at the cost of a reload of the zone file on each switch. */

#include <stdint.h>

#include "noticed/date.h"

typedef struct Tz Tz;

/* Returns 0, -EINVAL for a malformed name, -ENOENT when the zone is not installed, -ENOMEM. */
int tz_load(const char *name, Tz **ret);
Tz *tz_free(Tz *tz);
const char *tz_name(const Tz *tz);

/* Local date and seconds after midnight -> Unix time and the UTC offset in force (seconds east).
 * A local time that occurs twice (autumn) maps to the earlier instant; one that does not exist
 * (spring gap) maps to the instant the clock jumps past it, i.e. it moves forward by the gap. */
void tz_local_to_unix(const Tz *tz, Date date, int32_t seconds, int64_t *ret_unix,
                      int32_t *ret_utc_offset);
/* Unix time -> local date, seconds after midnight and UTC offset. */
void tz_unix_to_local(const Tz *tz, int64_t unix_time, Date *ret_date, int32_t *ret_seconds,
                      int32_t *ret_utc_offset);

#define TZ_ABBREVIATION_MAX 16 /* tzdata's are 3 to 6 bytes ("CET", "+0530"); POSIX allows more */
/* The zone's abbreviation in force at unix_time ("CET", "CEST", "UTC"), as tzdata spells it:
 * what a person reads after a time ("09:00 CET").  An abbreviation longer than the buffer
 * (none in tzdata) is written as the numeric offset ("+0100") instead. */
char *tz_abbreviation(const Tz *tz, int64_t unix_time, char buf[static TZ_ABBREVIATION_MAX]);

#define TZ_TIMESTAMP_MAX 40 /* "YYYY-MM-DDTHH:MM:SS+hh:mm" (25) and room gcc can prove */
/* RFC 3339 local time with offset, as the JSON contract writes `at`. */
char *tz_format_rfc3339(int64_t unix_time, int32_t utc_offset, char buf[static TZ_TIMESTAMP_MAX]);

/* Timestamps for long outputs (list, simulate, upcoming and history --json): the UTC offset is
 * the same over most of a day, so a cache remembers the last local day seen, the instants it
 * spans at that offset (cut at a transition inside the day) and the text of its date and offset;
 * a row on the same day costs a few digits instead of localtime_r() and snprintf().  The output
 * is the same as tz_unix_to_local() + tz_format_rfc3339().  It assumes, as tzdata has it, that a
 * zone's offset changes at most once within any 24 hours.  One cache per writer; zero it (or
 * TZ_STAMP_CACHE_INIT) before the first use. */
typedef struct TzStampCache {
        int64_t from, to; /* [from, to): instants of `day` at `utc_offset`; empty when from >= to */
        int32_t utc_offset;
        Date day;
        char date[DATE_STRING_MAX]; /* "YYYY-MM-DD" of day */
        char offset[8];             /* "+02:00" */
} TzStampCache;
#define TZ_STAMP_CACHE_INIT ((TzStampCache){.from = 0, .to = 0})

/* tz_format_rfc3339(unix_time, utc_offset, buf), from the cache. */
char *tz_format_rfc3339_cached(TzStampCache *cache, int64_t unix_time, int32_t utc_offset,
                               char buf[static TZ_TIMESTAMP_MAX]);
/* unix_time as local time in tz, with the offset in force: what tz_unix_to_local() followed by
 * tz_format_rfc3339() writes.  A cache is used with one tz only. */
char *tz_format_local_cached(const Tz *tz, TzStampCache *cache, int64_t unix_time,
                             char buf[static TZ_TIMESTAMP_MAX]);
