/* JSON arrays, one element per line, written by hand (see output.h for why).
 *
 * The writer owns a 64 KiB buffer and hands it to the stream with one fwrite() when it fills:
 * stdio's locked putc()/fwrite() per token was a quarter of a large simulate once already. */

#include <errno.h>
#include <string.h>

#include "noticed/output.h"

/* The bytes after a lead byte, and the smallest code point of that length (overlong forms are
 * invalid); 0 for bytes that cannot start a sequence. */
static size_t utf8_sequence_length(unsigned char c) {
        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                return 2;
        if (c >= 0xe0 && c <= 0xef)
                return 3;
        if (c >= 0xf0 && c <= 0xf4)
                return 4;
        return 0;
}

bool output_json_utf8_valid(const char *s, size_t len) {
        const unsigned char *p = (const unsigned char *) s, *end = p + len;

        while (p < end) {
                size_t n = utf8_sequence_length(*p);
                uint32_t cp;

                if (n == 0 || (size_t) (end - p) < n)
                        return false;
                if (n == 1) {
                        p++;
                        continue;
                }
                cp = *p & (0x7f >> n);
                for (size_t i = 1; i < n; i++) {
                        if ((p[i] & 0xc0) != 0x80)
                                return false;
                        cp = cp << 6 | (p[i] & 0x3f);
                }
                if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
                    (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                p += n;
        }
        return true;
}

/* jansson's dump.c: the short escapes for \b \f \n \r \t, "\u%04X" (upper-case hex) for the
 * other control characters, nothing for DEL or anything past ASCII.  Valid UTF-8 has no byte
 * below 0x80 inside a multi-byte sequence, so escaping byte by byte is escaping by code point. */
size_t output_json_escape(char *dst, const char *s, size_t len) {
        static const char hex[] = "0123456789ABCDEF";
        char *d = dst;

        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) s[i];
                char short_escape = 0;

                switch (c) {
                case '"':
                case '\\':
                        short_escape = (char) c;
                        break;
                case '\b':
                        short_escape = 'b';
                        break;
                case '\f':
                        short_escape = 'f';
                        break;
                case '\n':
                        short_escape = 'n';
                        break;
                case '\r':
                        short_escape = 'r';
                        break;
                case '\t':
                        short_escape = 't';
                        break;
                default:
                        break;
                }
                if (short_escape) {
                        *d++ = '\\';
                        *d++ = short_escape;
                } else if (c < 0x20) {
                        d[0] = '\\';
                        d[1] = 'u';
                        d[2] = '0';
                        d[3] = '0';
                        d[4] = hex[c >> 4];
                        d[5] = hex[c & 0xf];
                        d += 6;
                } else
                        *d++ = (char) c;
        }
        return (size_t) (d - dst);
}

static void writer_flush(JsonWriter *w) {
        (void) fwrite(w->buf, 1, w->n, w->out); /* errors surface at fflush()/ferror() */
        w->n = 0;
}

/* Room for size more bytes; size is at most OUTPUT_BUFFER_SIZE. */
static char *writer_reserve(JsonWriter *w, size_t size) {
        if (OUTPUT_BUFFER_SIZE - w->n < size)
                writer_flush(w);
        return w->buf + w->n;
}

static void writer_put(JsonWriter *w, const char *s, size_t len) {
        while (len > 0) {
                size_t chunk = len < OUTPUT_BUFFER_SIZE ? len : OUTPUT_BUFFER_SIZE;
                memcpy(writer_reserve(w, chunk), s, chunk);
                w->n += chunk;
                s += chunk;
                len -= chunk;
        }
}

static void writer_put_quoted(JsonWriter *w, const char *s) {
        size_t len = strlen(s);

        if (!output_json_utf8_valid(s, len)) {
                if (w->error == 0)
                        w->error = -EILSEQ;
                return;
        }
        writer_put(w, "\"", 1);
        /* In chunks, so that a long note never needs more than the buffer. */
        for (size_t done = 0; done < len;) {
                size_t chunk = len - done < 4096 ? len - done : 4096;
                w->n += output_json_escape(writer_reserve(w, OUTPUT_ESCAPE_MAX(chunk)), s + done,
                                           chunk);
                done += chunk;
        }
        writer_put(w, "\"", 1);
}

static void writer_put_key(JsonWriter *w, const char *key) {
        if (!w->no_member)
                writer_put(w, ",", 1);
        writer_put(w, "\"", 1);
        writer_put(w, key, strlen(key));
        writer_put(w, "\":", 2);
        w->no_member = false;
}

void output_json_begin(JsonWriter *w, FILE *out) {
        w->out = out;
        w->no_element = true;
        w->no_member = true;
        w->error = 0;
        w->n = 0;
}

void output_json_object_begin(JsonWriter *w) {
        writer_put(w, w->no_element ? "[\n{" : ",\n{", 3);
        w->no_element = false;
        w->no_member = true;
        w->error = 0;
}

int output_json_object_end(JsonWriter *w) {
        writer_put(w, "}", 1);
        return w->error;
}

void output_json_string(JsonWriter *w, const char *key, const char *value) {
        if (!value)
                return;
        writer_put_key(w, key);
        writer_put_quoted(w, value);
}

void output_json_integer(JsonWriter *w, const char *key, int64_t value) {
        char digits[24], *p = digits + sizeof(digits);
        uint64_t v = value < 0 ? -(uint64_t) value : (uint64_t) value;

        do
                *--p = (char) ('0' + v % 10);
        while ((v /= 10) > 0);
        if (value < 0)
                *--p = '-';
        writer_put_key(w, key);
        writer_put(w, p, (size_t) (digits + sizeof(digits) - p));
}

void output_json_boolean(JsonWriter *w, const char *key, bool value) {
        writer_put_key(w, key);
        writer_put(w, value ? "true" : "false", value ? 4 : 5);
}

void output_json_array_begin(JsonWriter *w, const char *key) {
        writer_put_key(w, key);
        writer_put(w, "[", 1);
        w->no_member = true;
}

void output_json_array_string(JsonWriter *w, const char *value) {
        if (!w->no_member)
                writer_put(w, ",", 1);
        w->no_member = false;
        writer_put_quoted(w, value);
}

void output_json_array_end(JsonWriter *w) {
        writer_put(w, "]", 1);
        w->no_member = false;
}

void output_json_end(JsonWriter *w) {
        if (w->no_element)
                writer_put(w, "[]\n", 3);
        else
                writer_put(w, "\n]\n", 3);
        writer_flush(w);
}
