/* libFuzzer on the CSV reader of registers: any bytes, split at a point the input chooses, must
 * give the same rows and errors as the bytes fed whole, and never more fields than the bounds.
 * Build like fuzz-config (see the Makefile's fuzz target) with daemon/csv.c alone. */

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "noticed/csv.h"

typedef struct Count {
        size_t rows, errors, bytes;
} Count;

static int on_row(const CsvRow *row, void *userdata) {
        Count *c = userdata;

        assert(row->n >= 1 && row->n <= CSV_FIELDS_MAX && row->line >= 1);
        for (size_t i = 0; i < row->n; i++) {
                size_t n = strlen(row->fields[i]);
                assert(n <= CSV_FIELD_MAX);
                c->bytes += n;
        }
        c->rows++;
        return 0;
}

static int on_error(unsigned line, const char *message, void *userdata) {
        Count *c = userdata;

        assert(line >= 1 && message);
        c->errors++;
        return 0;
}

static Count read_split(const uint8_t *data, size_t size, size_t split, char delimiter) {
        Count c = {0};
        CsvHandler h = {.row = on_row, .error = on_error, .userdata = &c};
        CsvReader *r = NULL;

        if (csv_reader_new(delimiter, &h, &r) < 0)
                abort();
        if (csv_reader_feed(r, (const char *) data, split) < 0 ||
            csv_reader_feed(r, (const char *) data + split, size - split) < 0 ||
            csv_reader_finish(r) < 0)
                abort();
        csv_reader_free(r);
        return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char delimiter = size > 0 && (data[0] & 1) ? ';' : ',';
        size_t split = size > 0 ? data[0] % (size + 1) : 0;
        Count whole = read_split(data, size, size, delimiter);
        Count parts = read_split(data, size, split, delimiter);

        assert(whole.rows == parts.rows && whole.errors == parts.errors &&
               whole.bytes == parts.bytes);
        return 0;
}
