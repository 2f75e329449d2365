/* IANA time zones through the C library.
 *
 * Why not parse TZif ourselves: glibc already reads and caches the zone file, including the POSIX
 * rule in its footer that covers dates past the last listed transition; duplicating that would be
 * a second, less tested time zone implementation.  What glibc lacks is a defined answer for local
 * times that occur twice or never (mktime with tm_isdst = -1 may pick either), so the mapping
 * from local to Unix time is done here from the offsets localtime_r() reports around the date. */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "noticed/tz.h"

struct Tz {
        char *name;
        char *tz_env; /* ":NAME", the form of TZ that names a zone file */
};

/* A zone name is a relative path of letters, digits and "._+-", without "." or ".." parts. */
static bool tz_name_is_valid(const char *name) {
        const char *part = name;

        if (!*name || strlen(name) > 255 || name[0] == '/')
                return false;
        for (const char *p = name;; p++) {
                if (*p == '/' || *p == '\0') {
                        size_t len = (size_t) (p - part);
                        if (len == 0 || (len == 1 && part[0] == '.') ||
                            (len == 2 && part[0] == '.' && part[1] == '.'))
                                return false;
                        if (*p == '\0')
                                return true;
                        part = p + 1;
                        continue;
                }
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || strchr("._+-", *p)))
                        return false;
        }
}

/* glibc silently falls back to UTC for a zone it cannot read, so check the file ourselves.  The
 * file must be tzdata's own: resolve inside the zoneinfo directory and not be a link with an
 * absolute target.  Debian's "localtime" entry links to /etc/localtime, which would make the
 * configured zone whatever the host happens to use (tzdata's own links are relative). */
static int tz_file_check(const char *name) {
        const char *dir = getenv("TZDIR");
        char path[4096], magic[4];
        char *real_dir, *real_path;
        bool inside;
        FILE *f;
        size_t n;

        if (!dir || !*dir)
                dir = "/usr/share/zoneinfo";
        if ((size_t) snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
                return -EINVAL;
        real_dir = realpath(dir, NULL);
        real_path = realpath(path, NULL);
        inside = real_dir && real_path && strncmp(real_path, real_dir, strlen(real_dir)) == 0 &&
                 real_path[strlen(real_dir)] == '/';
        free(real_dir);
        free(real_path);
        if (!inside)
                return -ENOENT;
        n = (size_t) readlink(path, magic, 1);
        if (n == 1 && magic[0] == '/')
                return -ENOENT;
        f = fopen(path, "re");
        if (!f)
                return errno == ENOENT || errno == ENOTDIR || errno == EISDIR ? -ENOENT : -errno;
        n = fread(magic, 1, sizeof(magic), f);
        (void) fclose(f);
        return n == sizeof(magic) && memcmp(magic, "TZif", 4) == 0 ? 0 : -ENOENT;
}

static void tz_activate(const Tz *tz);

int tz_load(const char *name, Tz **ret) {
        Tz *tz;
        int r;

        if (!tz_name_is_valid(name))
                return -EINVAL;
        r = tz_file_check(name);
        if (r < 0)
                return r;
        tz = calloc(1, sizeof(*tz));
        if (!tz)
                return -ENOMEM;
        tz->name = strdup(name);
        if (!tz->name || asprintf(&tz->tz_env, ":%s", name) < 0) {
                tz->tz_env = NULL;
                return tz_free(tz), -ENOMEM;
        }
        /* Load the zone now, so that the first conversion (inside plan, which must not touch
         * the disk) finds it already read. */
        tz_activate(tz);
        *ret = tz;
        return 0;
}

Tz *tz_free(Tz *tz) {
        if (tz) {
                free(tz->name);
                free(tz->tz_env);
                free(tz);
        }
        return NULL;
}

const char *tz_name(const Tz *tz) {
        return tz->name;
}

/* Makes tz the process's zone.  glibc re-reads the zone file only when TZ changes. */
static void tz_activate(const Tz *tz) {
        const char *current = getenv("TZ");

        if (!current || strcmp(current, tz->tz_env) != 0) {
                (void) setenv("TZ", tz->tz_env, 1);
                tzset();
        }
}

static int32_t utc_offset_at(int64_t t) {
        time_t tt = (time_t) t;
        struct tm tm;

        if (!localtime_r(&tt, &tm))
                return 0;
        return (int32_t) tm.tm_gmtoff;
}

void tz_local_to_unix(const Tz *tz, Date date, int32_t seconds, int64_t *ret_unix,
                      int32_t *ret_utc_offset) {
        /* The local wall time read as if it were UTC; the true instant is that minus the offset.
         * Offsets a day before and after bracket any transition near the date. */
        int64_t wall = (int64_t) date * 86400 + seconds;
        int32_t before, after, offset;

        tz_activate(tz);
        before = utc_offset_at(wall - 86400);
        after = utc_offset_at(wall + 86400);
        /* Valid in the earlier offset (also the earlier of two), or in the gap, where the old
         * offset lands past the jump: before.  Valid only in the later one: after. */
        if (utc_offset_at(wall - before) != before && utc_offset_at(wall - after) == after)
                offset = after;
        else
                offset = before;
        *ret_unix = wall - offset;
        *ret_utc_offset = utc_offset_at(*ret_unix);
}

void tz_unix_to_local(const Tz *tz, int64_t unix_time, Date *ret_date, int32_t *ret_seconds,
                      int32_t *ret_utc_offset) {
        int32_t offset;
        int64_t wall;

        tz_activate(tz);
        offset = utc_offset_at(unix_time);
        wall = unix_time + offset;
        /* Floor division: wall times before 1970 are negative. */
        *ret_date = (Date) ((wall >= 0 ? wall : wall - 86399) / 86400);
        *ret_seconds = (int32_t) (wall - (int64_t) *ret_date * 86400);
        *ret_utc_offset = offset;
}

char *tz_abbreviation(const Tz *tz, int64_t unix_time, char buf[static TZ_ABBREVIATION_MAX]) {
        time_t tt = (time_t) unix_time;
        struct tm tm;
        int32_t off;

        tz_activate(tz);
        if (localtime_r(&tt, &tm) && tm.tm_zone && strlen(tm.tm_zone) < TZ_ABBREVIATION_MAX) {
                (void) snprintf(buf, TZ_ABBREVIATION_MAX, "%s", tm.tm_zone);
                return buf;
        }
        off = utc_offset_at(unix_time);
        (void) snprintf(buf, TZ_ABBREVIATION_MAX, "%c%02d%02d", off < 0 ? '-' : '+',
                        (int) ((off < 0 ? -off : off) / 3600 % 100),
                        (int) ((off < 0 ? -off : off) / 60 % 60));
        return buf;
}

char *tz_format_rfc3339(int64_t unix_time, int32_t utc_offset, char buf[static TZ_TIMESTAMP_MAX]) {
        int64_t wall = unix_time + utc_offset;
        Date date = (Date) ((wall >= 0 ? wall : wall - 86399) / 86400);
        int32_t secs = (int32_t) (wall - (int64_t) date * 86400);
        int32_t off =
                (utc_offset < 0 ? -utc_offset : utc_offset) % 86400; /* real ones are < 15 h */
        char d[DATE_STRING_MAX];

        (void) snprintf(buf, TZ_TIMESTAMP_MAX, "%sT%02d:%02d:%02d%c%02d:%02d", date_format(date, d),
                        (int) (secs / 3600), (int) (secs / 60 % 60), (int) (secs % 60),
                        utc_offset < 0 ? '-' : '+', (int) (off / 3600), (int) (off / 60 % 60));
        return buf;
}

/* Floor division: wall times before 1970 are negative. */
static Date wall_day(int64_t wall) {
        return (Date) ((wall >= 0 ? wall : wall - 86399) / 86400);
}

/* Sets the instants the cache covers and the text of their offset. */
static void stamp_cache_fill(TzStampCache *c, int32_t utc_offset, int64_t from, int64_t to) {
        int32_t off = (utc_offset < 0 ? -utc_offset : utc_offset) % 86400;

        c->from = from;
        c->to = to;
        c->utc_offset = utc_offset;
        (void) snprintf(c->offset, sizeof(c->offset), "%c%02d:%02d", utc_offset < 0 ? '-' : '+',
                        (int) (off / 3600), (int) (off / 60 % 60));
}

static char *stamp_format(const TzStampCache *c, int64_t unix_time,
                          char buf[static TZ_TIMESTAMP_MAX]) {
        int32_t secs = (int32_t) (unix_time + c->utc_offset - (int64_t) c->day * 86400);
        int hh = secs / 3600, mm = secs / 60 % 60, ss = secs % 60;
        size_t n = strlen(c->date);
        char *p = buf;

        /* strlen(date) <= 12 and the offset <= 7: 12 + 9 + 7 < TZ_TIMESTAMP_MAX. */
        memcpy(p, c->date, n);
        p += n;
        *p++ = 'T';
        *p++ = (char) ('0' + hh / 10);
        *p++ = (char) ('0' + hh % 10);
        *p++ = ':';
        *p++ = (char) ('0' + mm / 10);
        *p++ = (char) ('0' + mm % 10);
        *p++ = ':';
        *p++ = (char) ('0' + ss / 10);
        *p++ = (char) ('0' + ss % 10);
        (void) snprintf(p, (size_t) (buf + TZ_TIMESTAMP_MAX - p), "%s", c->offset);
        return buf;
}

static void stamp_cache_set_day(TzStampCache *c, Date day) {
        if (c->day != day || c->date[0] == '\0') {
                c->day = day;
                (void) date_format(day, c->date);
        }
}

char *tz_format_rfc3339_cached(TzStampCache *cache, int64_t unix_time, int32_t utc_offset,
                               char buf[static TZ_TIMESTAMP_MAX]) {
        if (unix_time < cache->from || unix_time >= cache->to || utc_offset != cache->utc_offset) {
                Date day = wall_day(unix_time + utc_offset);
                int64_t start = (int64_t) day * 86400 - utc_offset;

                stamp_cache_fill(cache, utc_offset, start, start + 86400);
                stamp_cache_set_day(cache, day);
        }
        return stamp_format(cache, unix_time, buf);
}

/* The first instant in (lo, hi] whose offset is not `offset`'s side of the one transition in
 * [lo, hi], where lo has `lo_same` (true: lo has `offset`).  Binary search: 17 localtime_r()
 * calls for a day, only on a day with a transition. */
static int64_t transition_between(int64_t lo, int64_t hi, int32_t offset, bool lo_same) {
        while (hi - lo > 1) {
                int64_t mid = lo + (hi - lo) / 2;
                if ((utc_offset_at(mid) == offset) == lo_same)
                        lo = mid;
                else
                        hi = mid;
        }
        return hi;
}

char *tz_format_local_cached(const Tz *tz, TzStampCache *cache, int64_t unix_time,
                             char buf[static TZ_TIMESTAMP_MAX]) {
        if (unix_time < cache->from || unix_time >= cache->to) {
                int32_t offset;
                int64_t start, end;
                Date day;

                tz_activate(tz);
                offset = utc_offset_at(unix_time);
                day = wall_day(unix_time + offset);
                start = (int64_t) day * 86400 - offset;
                end = start + 86400;
                /* The day at this offset, less the part on the other side of a transition. */
                if (utc_offset_at(start) != offset)
                        start = transition_between(start, unix_time, offset, false);
                if (utc_offset_at(end - 1) != offset)
                        end = transition_between(unix_time, end - 1, offset, true);
                stamp_cache_fill(cache, offset, start, end);
                stamp_cache_set_day(cache, day);
        }
        return stamp_format(cache, unix_time, buf);
}
