/* Unit tests for the JSON writer (output.h) and the cached timestamps it is fed (tz.h).
 *
 * The writer promises jansson's bytes, so jansson is the oracle: every byte as a one-character
 * string, random UTF-8, random byte soup (valid or not), whole rows against json_dumpb() with
 * JSON_COMPACT.  The timestamp cache promises tz_unix_to_local() + tz_format_rfc3339(): it is
 * compared instant by instant across DST transitions and Pacific/Apia's skipped 2011-12-30. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "noticed/output.h"
#include "noticed/tz.h"

/* A small deterministic generator (xorshift64*), so that a failure can be replayed. */
static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

static uint32_t rng(void) {
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        return (uint32_t) ((rng_state * UINT64_C(2685821657736338717)) >> 32);
}

/* What jansson writes for the string s[0..len), or NULL when jansson refuses it. */
static char *jansson_dump_string(const char *s, size_t len) {
        json_t *j = json_stringn(s, len);
        char *out;

        if (!j)
                return NULL;
        out = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
        json_decref(j);
        assert_non_null(out);
        return out;
}

/* Ours, quoted the way the writer quotes. */
static char *our_dump_string(const char *s, size_t len) {
        char *out = malloc(OUTPUT_ESCAPE_MAX(len) + 3);
        size_t n;

        assert_non_null(out);
        out[0] = '"';
        n = output_json_escape(out + 1, s, len);
        out[n + 1] = '"';
        out[n + 2] = '\0';
        return out;
}

static void assert_same_as_jansson(const char *s, size_t len) {
        char *theirs = jansson_dump_string(s, len);
        bool valid = output_json_utf8_valid(s, len);

        if (!theirs != !valid)
                fail_msg("%zu bytes starting 0x%02x: jansson %s, output_json_utf8_valid() %s", len,
                         len ? (unsigned char) s[0] : 0, theirs ? "accepts" : "refuses",
                         valid ? "accepts" : "refuses");
        if (theirs) {
                char *ours = our_dump_string(s, len);
                if (strcmp(ours, theirs) != 0)
                        fail_msg("jansson wrote %s, we wrote %s", theirs, ours);
                free(ours);
        }
        free(theirs);
}

static void test_output_json_escape_matches_jansson_on_every_byte(void **state) {
        (void) state;
        for (unsigned b = 0; b < 256; b++) {
                char s[1] = {(char) b};
                assert_same_as_jansson(s, 1);
        }
        /* The ones the contract names, spelled out: upper-case hex, no escaped slash, DEL raw. */
        char *s = our_dump_string("\x1f\n/\x7f\"\\", 6);
        assert_string_equal(s, "\"\\u001F\\n/\x7f\\\"\\\\\"");
        free(s);
}

/* Appends code point cp as UTF-8. */
static size_t put_utf8(char *p, uint32_t cp) {
        if (cp < 0x80)
                return p[0] = (char) cp, 1;
        if (cp < 0x800)
                return p[0] = (char) (0xc0 | cp >> 6), p[1] = (char) (0x80 | (cp & 0x3f)), 2;
        if (cp < 0x10000) {
                p[0] = (char) (0xe0 | cp >> 12);
                p[1] = (char) (0x80 | (cp >> 6 & 0x3f));
                p[2] = (char) (0x80 | (cp & 0x3f));
                return 3;
        }
        p[0] = (char) (0xf0 | cp >> 18);
        p[1] = (char) (0x80 | (cp >> 12 & 0x3f));
        p[2] = (char) (0x80 | (cp >> 6 & 0x3f));
        p[3] = (char) (0x80 | (cp & 0x3f));
        return 4;
}

static uint32_t random_code_point(void) {
        switch (rng() % 5) {
        case 0:
                return rng() % 0x20; /* control characters */
        case 1:
                return 0x20 + rng() % 0x60; /* printable ASCII, with '"', '\\' and '/' */
        case 2:
                return 0x80 + rng() % (0x800 - 0x80);
        case 3: {
                uint32_t cp = 0x800 + rng() % (0x10000 - 0x800);
                return cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp;
        }
        default:
                return 0x10000 + rng() % (0x110000 - 0x10000);
        }
}

static void test_output_json_escape_matches_jansson_on_random_utf8(void **state) {
        char s[4 * 40];

        (void) state;
        for (int i = 0; i < 20000; i++) {
                size_t len = 0, n = 1 + rng() % 40;
                for (size_t k = 0; k < n; k++)
                        len += put_utf8(s + len, random_code_point());
                assert_true(output_json_utf8_valid(s, len));
                assert_same_as_jansson(s, len);
        }
}

static void test_output_json_utf8_valid_agrees_with_jansson_on_bad_bytes(void **state) {
        static const struct {
                const char *s;
                size_t len;
        } cases[] = {
                {"\xc0\x80", 2},         /* overlong NUL */
                {"\xc1\xbf", 2},         /* overlong */
                {"\xe0\x80\x80", 3},     /* overlong */
                {"\xe0\x9f\xbf", 3},     /* overlong, U+07FF */
                {"\xed\xa0\x80", 3},     /* a surrogate */
                {"\xed\x9f\xbf", 3},     /* U+D7FF: fine */
                {"\xf0\x8f\xbf\xbf", 4}, /* overlong, U+FFFF */
                {"\xf4\x8f\xbf\xbf", 4}, /* U+10FFFF: fine */
                {"\xf4\x90\x80\x80", 4}, /* past U+10FFFF */
                {"\xf5\x80\x80\x80", 4},
                {"\xe2\x82", 2}, /* cut short */
                {"a\x80", 2},    /* a lone continuation byte */
        };
        char s[12];

        (void) state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                assert_same_as_jansson(cases[i].s, cases[i].len);
        /* Byte soup, mostly past ASCII: most of it invalid, some of it not. */
        for (int i = 0; i < 200000; i++) {
                size_t len = 1 + rng() % sizeof(s);
                for (size_t k = 0; k < len; k++)
                        s[k] = (char) (rng() % 4 ? 0x80 + rng() % 0x80 : rng() % 0x80);
                assert_same_as_jansson(s, len);
        }
}

/* The writer into a string. */
typedef struct Sink {
        char *s;
        size_t size;
        FILE *f;
        JsonWriter *w;
} Sink;

static void sink_open(Sink *k) {
        *k = (Sink){0};
        k->f = open_memstream(&k->s, &k->size);
        assert_non_null(k->f);
        k->w = malloc(sizeof(*k->w));
        assert_non_null(k->w);
        output_json_begin(k->w, k->f);
}

static char *sink_close(Sink *k) {
        output_json_end(k->w);
        free(k->w);
        assert_int_equal(fclose(k->f), 0);
        return k->s;
}

/* What output.c wrote before it wrote by hand: json_dumpb(JSON_COMPACT) per element. */
static void append_jansson_element(char **expected, size_t *len, json_t *o, bool first) {
        char *dump = json_dumps(o, JSON_COMPACT);
        size_t n;

        assert_non_null(dump);
        n = strlen(dump);
        char *bigger = realloc(*expected, *len + n + 3);

        assert_non_null(bigger);
        *expected = bigger;
        memcpy(*expected + *len, first ? "[\n" : ",\n", 2);
        memcpy(*expected + *len + 2, dump, n + 1);
        *len += n + 2;
        free(dump);
        json_decref(o);
}

static void append_jansson_end(char **expected, size_t len) {
        char *bigger = realloc(*expected, len + 4);

        assert_non_null(bigger);
        memcpy(bigger + len, "\n]\n", 4);
        *expected = bigger;
}

static void test_output_json_writer_matches_json_dumpb(void **state) {
        static const char text[] = "Deelname \"Burgernet\" \\ Súdwest-Fryslân\r\n\x01/€ 🎉";
        char *expected = NULL;
        size_t len = 0;
        Sink k;

        (void) state;
        sink_open(&k);
        output_json_object_begin(k.w);
        output_json_string(k.w, "at", "2020-04-17T09:00:00+02:00");
        output_json_string(k.w, "title", text);
        output_json_string(k.w, "note", NULL); /* left out, as "s*" did */
        output_json_integer(k.w, "cycle", 1);
        output_json_integer(k.w, "min", INT64_MIN);
        output_json_integer(k.w, "max", INT64_MAX);
        output_json_array_begin(k.w, "channels");
        output_json_array_string(k.w, "mail");
        output_json_array_string(k.w, "webhook:teams");
        output_json_array_end(k.w);
        output_json_boolean(k.w, "catch_up", true);
        output_json_boolean(k.w, "late", false);
        assert_int_equal(output_json_object_end(k.w), 0);
        output_json_object_begin(k.w);
        output_json_array_begin(k.w, "channels");
        output_json_array_end(k.w);
        output_json_string(k.w, "empty", "");
        assert_int_equal(output_json_object_end(k.w), 0);
        char *ours = sink_close(&k);

        append_jansson_element(&expected, &len,
                               json_pack("{s:s, s:s, s:s*, s:I, s:I, s:I, s:[s,s], s:b, s:b}", "at",
                                         "2020-04-17T09:00:00+02:00", "title", text, "note", NULL,
                                         "cycle", (json_int_t) 1, "min", (json_int_t) INT64_MIN,
                                         "max", (json_int_t) INT64_MAX, "channels", "mail",
                                         "webhook:teams", "catch_up", 1, "late", 0),
                               true);
        append_jansson_element(&expected, &len, json_pack("{s:[], s:s}", "channels", "empty", ""),
                               false);
        append_jansson_end(&expected, len);
        assert_string_equal(ours, expected);
        free(ours);
        free(expected);
}

static void test_output_json_writer_empty_array(void **state) {
        Sink k;

        (void) state;
        sink_open(&k);
        char *s = sink_close(&k);
        assert_string_equal(s, "[]\n");
        free(s);
}

/* A value far past the buffer, with something to escape all along it, comes out whole. */
static void test_output_json_writer_long_value_crosses_the_buffer(void **state) {
        size_t n = 3 * OUTPUT_BUFFER_SIZE + 7;
        char *big = malloc(n + 1), *expected = NULL;
        size_t len = 0;
        Sink k;

        (void) state;
        assert_non_null(big);
        for (size_t i = 0; i < n; i++)
                big[i] = "ab\"\n\x02\\"[i % 6];
        big[n] = '\0';
        sink_open(&k);
        for (int i = 0; i < 3; i++) {
                output_json_object_begin(k.w);
                output_json_string(k.w, "note", big);
                assert_int_equal(output_json_object_end(k.w), 0);
        }
        char *ours = sink_close(&k);
        for (int i = 0; i < 3; i++)
                append_jansson_element(&expected, &len, json_pack("{s:s}", "note", big), i == 0);
        append_jansson_end(&expected, len);
        assert_string_equal(ours, expected);
        free(ours);
        free(expected);
        free(big);
}

static void test_output_json_writer_refuses_what_is_not_utf8(void **state) {
        Sink k;

        (void) state;
        sink_open(&k);
        output_json_object_begin(k.w);
        output_json_string(k.w, "title", "caf\xe9"); /* Latin-1 */
        output_json_integer(k.w, "cycle", 1);
        assert_int_equal(output_json_object_end(k.w), -EILSEQ);
        /* The error belongs to its row: the next one starts clean. */
        output_json_object_begin(k.w);
        output_json_string(k.w, "title", "café");
        assert_int_equal(output_json_object_end(k.w), 0);
        free(sink_close(&k));
}

/* The stream's own errors are the caller's to see, at fflush()/ferror(), as before. */
static void test_output_json_writer_leaves_a_full_disk_to_ferror(void **state) {
        FILE *f = fopen("/dev/full", "we");
        JsonWriter *w = malloc(sizeof(*w));

        (void) state;
        assert_non_null(w);
        if (!f) {
                free(w);
                skip(); /* no /dev/full here */
        }
        output_json_begin(w, f);
        for (int i = 0; i < 10000; i++) {
                output_json_object_begin(w);
                output_json_string(w, "title", "Deelname Burgernet");
                assert_int_equal(output_json_object_end(w), 0);
        }
        output_json_end(w);
        /* The writes that filled stdio's buffer failed already: the error flag says so. */
        (void) fflush(f);
        assert_true(ferror(f));
        (void) fclose(f);
        free(w);
}

static void test_output_json_writer_leaves_a_closed_pipe_to_ferror(void **state) {
        struct sigaction ignore = {.sa_handler = SIG_IGN}, old;
        JsonWriter *w = malloc(sizeof(*w));
        int fds[2];
        FILE *f;

        (void) state;
        assert_non_null(w);
        assert_int_equal(pipe(fds), 0);
        assert_int_equal(close(fds[0]), 0);
        assert_int_equal(sigaction(SIGPIPE, &ignore, &old), 0);
        f = fdopen(fds[1], "w");
        assert_non_null(f);
        output_json_begin(w, f);
        output_json_object_begin(w);
        output_json_string(w, "title", "Deelname Burgernet");
        assert_int_equal(output_json_object_end(w), 0);
        output_json_end(w);
        errno = 0;
        assert_true(fflush(f) != 0 || ferror(f));
        assert_int_equal(errno, EPIPE);
        (void) fclose(f);
        assert_int_equal(sigaction(SIGPIPE, &old, NULL), 0);
        free(w);
}

/* --- timestamps from the cache (tz.h) --- */

static Tz *load(const char *name) {
        Tz *tz = NULL;

        if (tz_load(name, &tz) < 0)
                fail_msg("tz_load(\"%s\") failed: is tzdata installed?", name);
        return tz;
}

static void assert_stamp(const Tz *tz, TzStampCache *cache, int64_t t) {
        char expected[TZ_TIMESTAMP_MAX], got[TZ_TIMESTAMP_MAX];
        int32_t seconds, offset;
        Date d;

        tz_unix_to_local(tz, t, &d, &seconds, &offset);
        (void) tz_format_rfc3339(t, offset, expected);
        (void) tz_format_local_cached(tz, cache, t, got);
        if (strcmp(expected, got) != 0)
                fail_msg("%s at %lld: expected %s, got %s", tz_name(tz), (long long) t, expected,
                         got);
        /* With the offset given, as simulate has it from the plan. */
        TzStampCache other = TZ_STAMP_CACHE_INIT;
        (void) tz_format_rfc3339_cached(&other, t, offset, got);
        assert_string_equal(expected, got);
}

/* Every step seconds over [from, to), forwards then backwards, with one cache each way, and a
 * third cache fed the same instants in a shuffled order. */
static void assert_stamps_over(const char *zone, int64_t from, int64_t to, int64_t step) {
        Tz *tz = load(zone);
        TzStampCache forwards = TZ_STAMP_CACHE_INIT, backwards = TZ_STAMP_CACHE_INIT,
                     jumping = TZ_STAMP_CACHE_INIT;

        for (int64_t t = from; t < to; t += step)
                assert_stamp(tz, &forwards, t);
        for (int64_t t = to - 1; t >= from; t -= step)
                assert_stamp(tz, &backwards, t);
        for (int64_t i = 0; i < (to - from) / step; i++)
                assert_stamp(tz, &jumping, from + (int64_t) (rng() % (uint64_t) (to - from)));
        /* Both sides of each second near a transition, which a step may jump over. */
        for (int64_t t = from; t < to; t += step) {
                int32_t a, b, s;
                Date d;
                tz_unix_to_local(tz, t, &d, &s, &a);
                tz_unix_to_local(tz, t + step, &d, &s, &b);
                for (int64_t u = t; a != b && u <= t + step; u++)
                        assert_stamp(tz, &forwards, u);
        }
        tz_free(tz);
}

static void test_tz_format_local_cached_across_amsterdam_dst(void **state) {
        (void) state;
        /* 2020-03-28 .. 2020-03-31 (clocks forward 29 March, 02:00 CET) */
        assert_stamps_over("Europe/Amsterdam", 1585350000, 1585350000 + 3 * 86400, 599);
        /* 2020-10-24 .. 2020-10-27 (back 25 October, 03:00 CEST) */
        assert_stamps_over("Europe/Amsterdam", 1603490000, 1603490000 + 3 * 86400, 599);
        /* 1940-05-15, the German occupation's clock change (+00:20 to +02:00), and 1977. */
        assert_stamps_over("Europe/Amsterdam", -934000000, -934000000 + 4 * 86400, 601);
        assert_stamps_over("Europe/Amsterdam", 228000000, 228000000 + 4 * 86400, 601);
}

static void test_tz_format_local_cached_across_apia_skipped_day(void **state) {
        (void) state;
        /* Pacific/Apia went from -10:00 to +14:00 at the end of 2011-12-29: no 30 December. */
        assert_stamps_over("Pacific/Apia", 1325070000, 1325070000 + 4 * 86400, 317);
}

static void test_tz_format_local_cached_over_years(void **state) {
        (void) state;
        assert_stamps_over("Europe/Amsterdam", 1262304000, 1262304000 + 3LL * 365 * 86400, 7919);
        assert_stamps_over("America/New_York", 1262304000, 1262304000 + 2LL * 365 * 86400, 7919);
        assert_stamps_over("UTC", -86400 * 3, 86400 * 3, 3571);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_output_json_escape_matches_jansson_on_every_byte),
                cmocka_unit_test(test_output_json_escape_matches_jansson_on_random_utf8),
                cmocka_unit_test(test_output_json_utf8_valid_agrees_with_jansson_on_bad_bytes),
                cmocka_unit_test(test_output_json_writer_matches_json_dumpb),
                cmocka_unit_test(test_output_json_writer_empty_array),
                cmocka_unit_test(test_output_json_writer_long_value_crosses_the_buffer),
                cmocka_unit_test(test_output_json_writer_refuses_what_is_not_utf8),
                cmocka_unit_test(test_output_json_writer_leaves_a_full_disk_to_ferror),
                cmocka_unit_test(test_output_json_writer_leaves_a_closed_pipe_to_ferror),
                cmocka_unit_test(test_tz_format_local_cached_across_amsterdam_dst),
                cmocka_unit_test(test_tz_format_local_cached_across_apia_skipped_day),
                cmocka_unit_test(test_tz_format_local_cached_over_years),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
