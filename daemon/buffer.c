/* A growing buffer that remembers running out of memory, and the UTF-8 check.
 *
 * The encoders and the template engine append many small pieces; checking each append would
 * bury their logic, so a failed allocation is remembered and reported once, by buffer_take().
 * Doubling keeps the appends amortised O(1). */

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noticed/buffer.h"

void buffer_append(Buffer *b, const char *s, size_t n) {
        if (b->failed)
                return;
        if (b->allocated - b->size <= n) {
                size_t want = b->allocated ? b->allocated : 256;
                char *p;
                while (want - b->size <= n) {
                        if (want > SIZE_MAX / 2) {
                                b->failed = true;
                                return;
                        }
                        want *= 2;
                }
                p = realloc(b->data, want);
                if (!p) {
                        b->failed = true;
                        return;
                }
                b->data = p;
                b->allocated = want;
        }
        memcpy(b->data + b->size, s, n);
        b->size += n;
        b->data[b->size] = '\0';
}

void buffer_puts(Buffer *b, const char *s) {
        buffer_append(b, s, strlen(s));
}

void buffer_printf(Buffer *b, const char *format, ...) {
        char *s;
        va_list ap;
        int n;

        va_start(ap, format);
        n = vasprintf(&s, format, ap);
        va_end(ap);
        if (n < 0) {
                b->failed = true;
                return;
        }
        buffer_append(b, s, (size_t) n);
        free(s);
}

char *buffer_take(Buffer *b, size_t *ret_size) {
        char *s = b->failed ? NULL : b->data ? b->data : strdup("");

        if (b->failed)
                free(b->data);
        if (ret_size)
                *ret_size = s ? b->size : 0;
        *b = (Buffer){0};
        return s;
}

size_t utf8_char_length(const unsigned char *p, size_t n) {
        size_t len = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : 4;
        uint32_t cp = len == 1 ? *p : len == 2 ? *p & 0x1fu : len == 3 ? *p & 0x0fu : *p & 0x07u;

        if ((*p >= 0x80 && *p < 0xc2) || *p > 0xf4 || len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3fu);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}