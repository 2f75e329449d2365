#pragma once
/* Buffer: a NUL-terminated string that grows as it is appended to and remembers running out of
 * memory, so that code building a long text checks once, at buffer_take(), instead of after
 * every append; and utf8_char_length(), the one check of UTF-8 shared by the template checker and
 * the RFC 2047 encoder.  A Buffer starts as {0}; its members are public because the encoders
 * rewind it (size) and mark failures of their own (failed).  Never logs. */

#include <stdbool.h>
#include <stddef.h>

typedef struct Buffer {
        char *data; /* NULL until the first append, then NUL-terminated */
        size_t size, allocated;
        bool failed; /* an allocation failed: later appends are ignored */
} Buffer;

void buffer_append(Buffer *b, const char *s, size_t n);
void buffer_puts(Buffer *b, const char *s);
__attribute__((format(printf, 2, 3))) void buffer_printf(Buffer *b, const char *format, ...);
/* The text (*ret_size its length, when not NULL), or NULL (and nothing to free) when an
 * allocation failed; b is {0} again either way. */
char *buffer_take(Buffer *b, size_t *ret_size);

/* The length of the valid UTF-8 character at p (at most n bytes), or 0: no overlong forms,
 * surrogates or code points beyond Unicode. */
size_t utf8_char_length(const unsigned char *p, size_t n);
