/* The CSV reader of include/noticed/csv.h: a byte-at-a-time state machine.
 *
 * A row's fields are kept end to end, NUL-separated, in one growing buffer, and their offsets in
 * a second; both are bounded (CSV_FIELD_MAX, CSV_FIELDS_MAX) so that a file without line ends
 * cannot make the reader grow without limit.  Line numbers count LF, CRLF and a lone CR as one
 * line end each, inside quotes too, so that they are the lines an editor shows. */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noticed/csv.h"

typedef enum CsvState {
        CSV_ROW_START,   /* nothing of the row read yet */
        CSV_FIELD_START, /* after a delimiter */
        CSV_UNQUOTED,
        CSV_QUOTED,
        CSV_QUOTE_IN_QUOTED, /* a '"' inside quotes: an escape or the closing quote */
        CSV_SKIP,            /* after an error: up to the next line end outside quotes */
} CsvState;

struct CsvReader {
        char delimiter;
        CsvHandler handler;
        CsvState state;
        bool at_start; /* the BOM may come yet */
        size_t bom_seen;
        bool after_cr; /* the previous byte was a CR: an LF now ends nothing more */
        unsigned line, row_line, quote_line;
        char *bytes; /* the row's fields, each NUL-terminated */
        size_t n_bytes, bytes_allocated;
        size_t field_start;
        size_t *starts; /* where each field of the row begins in bytes */
        size_t n_fields;
        char **fields;   /* handed to the callback */
        bool row_quoted; /* some field of the row was quoted: not a blank line */
};

int csv_reader_new(char delimiter, const CsvHandler *handler, CsvReader **ret) {
        CsvReader *r;

        if (delimiter == '"' || delimiter == '\r' || delimiter == '\n' || delimiter == '\0')
                return -EINVAL;
        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->starts = calloc(CSV_FIELDS_MAX, sizeof(size_t));
        r->fields = calloc(CSV_FIELDS_MAX, sizeof(char *));
        if (!r->starts || !r->fields)
                return csv_reader_free(r), -ENOMEM;
        r->delimiter = delimiter;
        r->handler = *handler;
        r->at_start = true;
        r->line = 1;
        *ret = r;
        return 0;
}

CsvReader *csv_reader_free(CsvReader *r) {
        if (!r)
                return NULL;
        free(r->bytes);
        free(r->starts);
        free(r->fields);
        free(r);
        return NULL;
}

static void reset_row(CsvReader *r) {
        r->n_bytes = r->field_start = r->n_fields = 0;
        r->row_quoted = false;
}

static int fail(CsvReader *r, unsigned line, const char *message) {
        r->state = CSV_SKIP;
        reset_row(r);
        return r->handler.error ? r->handler.error(line, message, r->handler.userdata) : 0;
}

static int add_byte(CsvReader *r, char c) {
        if (r->n_bytes - r->field_start >= CSV_FIELD_MAX && c != '\0')
                return 1;
        if (r->n_bytes == r->bytes_allocated) {
                size_t n = r->bytes_allocated ? r->bytes_allocated * 2 : 256;
                char *b = realloc(r->bytes, n);
                if (!b)
                        return -ENOMEM;
                r->bytes = b;
                r->bytes_allocated = n;
        }
        r->bytes[r->n_bytes++] = c;
        return 0;
}

/* A byte of a field's value; an over-long field is reported once, and the row dropped. */
static int field_byte(CsvReader *r, char c) {
        int k = add_byte(r, c);

        if (k > 0)
                return fail(r, r->row_line, "field longer than 65536 bytes");
        return k;
}

static int end_field(CsvReader *r) {
        int k;

        if (r->n_fields == CSV_FIELDS_MAX)
                return fail(r, r->row_line, "row has more than 256 fields");
        k = add_byte(r, '\0');
        if (k < 0)
                return k;
        r->starts[r->n_fields++] = r->field_start;
        r->field_start = r->n_bytes;
        return 0;
}

static int end_row(CsvReader *r) {
        CsvRow row = {.fields = r->fields, .line = r->row_line};
        int k = end_field(r);

        if (r->state == CSV_SKIP)
                r->state = CSV_ROW_START; /* the row was too long, and this is its end */
        if (k < 0 || r->state == CSV_ROW_START)
                return k;
        row.n = r->n_fields;
        for (size_t i = 0; i < row.n; i++)
                r->fields[i] = r->bytes + r->starts[i];
        /* A line with nothing on it is no row: spreadsheets end files with them. */
        if (!(row.n == 1 && !r->row_quoted && r->fields[0][0] == '\0'))
                k = r->handler.row(&row, r->handler.userdata);
        reset_row(r);
        r->state = CSV_ROW_START;
        return k;
}

static bool is_line_end(char c) {
        return c == '\n' || c == '\r';
}

static int feed_byte(CsvReader *r, char c) {
        bool second_half = c == '\n' && r->after_cr;

        /* An LF after a CR is the second half of one line end, wherever it falls; inside quotes
         * both are the field's. */
        r->after_cr = c == '\r';
        if (second_half && r->state != CSV_QUOTED)
                return 0;
        switch (r->state) {
        case CSV_ROW_START:
                r->row_line = r->line;
                r->state = CSV_FIELD_START;
                /* fall through */
        case CSV_FIELD_START:
                if (c == '"') {
                        r->state = CSV_QUOTED;
                        r->row_quoted = true;
                        r->quote_line = r->line;
                        return 0;
                }
                r->state = CSV_UNQUOTED;
                /* fall through */
        case CSV_UNQUOTED:
                if (c == r->delimiter) {
                        r->state = CSV_FIELD_START;
                        return end_field(r);
                }
                if (is_line_end(c))
                        return end_row(r);
                if (c == '"')
                        return fail(r, r->row_line,
                                    "a quote inside an unquoted field (quote the whole field and "
                                    "double the quote: \"a \"\"b\"\" c\")");
                return field_byte(r, c);
        case CSV_QUOTED:
                if (c == '"') {
                        r->state = CSV_QUOTE_IN_QUOTED;
                        return 0;
                }
                return field_byte(r, c);
        case CSV_QUOTE_IN_QUOTED:
                if (c == '"') {
                        r->state = CSV_QUOTED;
                        return field_byte(r, c);
                }
                if (c == r->delimiter) {
                        r->state = CSV_FIELD_START;
                        return end_field(r);
                }
                if (is_line_end(c))
                        return end_row(r);
                return fail(r, r->row_line,
                            "a closing quote must be followed by the delimiter or the end of the "
                            "line");
        case CSV_SKIP:
                /* Quotes are not tracked here: an error resumes at the next physical line. */
                if (is_line_end(c))
                        r->state = CSV_ROW_START;
                return 0;
        }
        return 0;
}

int csv_reader_feed(CsvReader *r, const char *data, size_t n) {
        static const char bom[] = "\xef\xbb\xbf";
        int k;

        for (size_t i = 0; i < n; i++) {
                char c = data[i];
                bool new_line;

                if (r->at_start) {
                        if (c == bom[r->bom_seen]) {
                                if (++r->bom_seen == 3)
                                        r->at_start = false;
                                continue;
                        }
                        r->at_start = false;
                        /* A partial BOM was data after all. */
                        for (size_t j = 0; j < r->bom_seen; j++)
                                if ((k = feed_byte(r, bom[j])) < 0)
                                        return k;
                }
                /* The LF of a CRLF ends no further line. */
                new_line = c == '\r' || (c == '\n' && !r->after_cr);

                k = feed_byte(r, c);
                if (k < 0)
                        return k;
                if (new_line)
                        r->line++;
        }
        return 0;
}

int csv_reader_finish(CsvReader *r) {
        int k;

        if (r->at_start && r->bom_seen > 0) {
                r->at_start = false;
                for (size_t j = 0; j < r->bom_seen; j++)
                        if ((k = feed_byte(r, "\xef\xbb\xbf"[j])) < 0)
                                return k;
        }
        switch (r->state) {
        case CSV_QUOTED:
                return fail(r, r->quote_line,
                            "a quoted field is not closed: the quote opened here has no closing "
                            "quote");
        case CSV_FIELD_START:
        case CSV_UNQUOTED:
        case CSV_QUOTE_IN_QUOTED:
                return end_row(r);
        case CSV_ROW_START:
        case CSV_SKIP:
                break;
        }
        return 0;
}
