#pragma once
/* Output for programs: a JSON array written one element per line, so that line tools (grep,
 * wc -l) work on it as well as JSON parsers.  One writer for every array noticectl prints
 * (list, simulate, upcoming, history).
 *
 * The rows are written by hand, straight into a buffer flushed to the stream, instead of being
 * built as jansson objects and serialised: a jansson object per row (allocations, a hash table,
 * json_dumpb()) was four fifths of a large `simulate --json`.  jansson stays for parsing and for
 * small documents (webhook bodies).  The output is byte for byte what jansson's json_dumpb() with
 * JSON_COMPACT wrote: keys in the order written, UTF-8 passed through, `"` `\` and the control
 * characters escaped exactly as jansson does, `/` not escaped.
 *
 * Errors of the stream itself (a full disk, a closed pipe) surface at fflush()/ferror() of the
 * stream, after output_json_end(). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define OUTPUT_BUFFER_SIZE     65536
#define OUTPUT_ESCAPE_MAX(len) (6 * (len)) /* "\u001F" for every byte, at worst */

/* Whether s[0..len) is UTF-8 as jansson accepts it: no overlong forms, no surrogates, nothing
 * past U+10FFFF.  NUL bytes are allowed (written as \u0000). */
bool output_json_utf8_valid(const char *s, size_t len);
/* Escapes valid UTF-8 s[0..len) (check it first) into dst, which has room for
 * OUTPUT_ESCAPE_MAX(len) bytes; no quotes around it, no NUL after it.  Returns the length. */
size_t output_json_escape(char *dst, const char *s, size_t len);

typedef struct JsonWriter {
        FILE *out;
        bool no_element; /* nothing written yet: the array opens with "[\n", else ",\n" */
        bool no_member;  /* the current object or array has no member yet: no "," before it */
        int error;       /* the first error of a row (-EILSEQ), kept until the row ends */
        size_t n;
        char buf[OUTPUT_BUFFER_SIZE];
} JsonWriter;

void output_json_begin(JsonWriter *w, FILE *out);
/* An element of the array: an object.  Keys are the caller's literals and are written as they
 * are (ASCII, nothing to escape). */
void output_json_object_begin(JsonWriter *w);
/* Ends the object: 0, or the row's first error (-EILSEQ: a value that is not UTF-8; the row is
 * then incomplete, and the caller stops). */
int output_json_object_end(JsonWriter *w);
/* "key":"value"; a NULL value leaves the member out (as json_pack's "s*" did). */
void output_json_string(JsonWriter *w, const char *key, const char *value);
void output_json_integer(JsonWriter *w, const char *key, int64_t value);
void output_json_boolean(JsonWriter *w, const char *key, bool value);
/* "key":[ ... ] of strings. */
void output_json_array_begin(JsonWriter *w, const char *key);
void output_json_array_string(JsonWriter *w, const char *value);
void output_json_array_end(JsonWriter *w);
/* Closes the array ("[]" when it had no element) and hands the buffer to the stream. */
void output_json_end(JsonWriter *w);
