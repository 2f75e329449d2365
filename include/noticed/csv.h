#pragma once
/* A streaming reader of RFC 4180 CSV: the contract registers that spreadsheets export.
 *
 * Written by hand rather than with Debian's libcsv because a register's errors must name the
 * line a row starts on (a quoted field may hold newlines) and must not stop at the first one:
 * libcsv reports neither positions nor more than one error.  The reader takes bytes as the caller
 * reads them (any chunking: a field, a CRLF or the BOM may be split) and hands each complete row
 * to a callback, so a file is never held whole.  Quoted fields with "" escapes, the delimiter and
 * newlines inside quotes, LF, CRLF or CR line ends, and a UTF-8 BOM at the very start are
 * accepted; blank lines are skipped.  A quote inside an unquoted field, anything but the
 * delimiter or a line end after a closing quote, an unterminated quote and oversized fields or
 * rows are errors, reported with their line, after which the reader resumes at the next line.
 * It never logs and touches no file.  Pure. */

#include <stddef.h>

#define CSV_FIELD_MAX  65536 /* bytes in one field */
#define CSV_FIELDS_MAX 256   /* fields in one row */

typedef struct CsvRow {
        char **fields; /* n NUL-terminated fields, valid during the callback only */
        size_t n;
        unsigned line; /* the line the row starts on, from 1 */
} CsvRow;

typedef struct CsvHandler {
        /* A row; a negative return stops the reader, which returns it. */
        int (*row)(const CsvRow *row, void *userdata);
        /* A malformed row, which is dropped; a negative return stops the reader likewise. */
        int (*error)(unsigned line, const char *message, void *userdata);
        void *userdata;
} CsvHandler;

typedef struct CsvReader CsvReader;

/* delimiter: any byte but '"', CR, LF and NUL.  0, -EINVAL or -ENOMEM. */
int csv_reader_new(char delimiter, const CsvHandler *handler, CsvReader **ret);
CsvReader *csv_reader_free(CsvReader *r);
/* The next n bytes of the input.  0, -ENOMEM or a callback's negative return. */
int csv_reader_feed(CsvReader *r, const char *data, size_t n);
/* The end of the input: the last row without a line end, or an unterminated quote. */
int csv_reader_finish(CsvReader *r);
