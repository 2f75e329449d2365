/* The CSV reader: RFC 4180 quoting, line ends, the BOM, the line each row starts on, and every
 * malformed row reported with its line while the rows around it are still read, whatever the
 * chunks the input comes in. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noticed/csv.h"

/* Rows as "LINE: field|field\n", errors as "LINE! message\n". */
typedef struct Trace {
        char *text;
        size_t size;
        FILE *f;
} Trace;

static int on_row(const CsvRow *row, void *userdata) {
        Trace *t = userdata;

        fprintf(t->f, "%u:", row->line);
        for (size_t i = 0; i < row->n; i++)
                fprintf(t->f, "%s%s", i ? "|" : " ", row->fields[i]);
        fputc('\n', t->f);
        return 0;
}

static int on_error(unsigned line, const char *message, void *userdata) {
        Trace *t = userdata;

        fprintf(t->f, "%u! %s\n", line, message);
        return 0;
}

/* The trace of reading input (n bytes) in chunks of `chunk` bytes. */
static char *read_in_chunks(const char *input, size_t n, char delimiter, size_t chunk) {
        Trace t = {0};
        CsvHandler h = {.row = on_row, .error = on_error, .userdata = &t};
        CsvReader *r = NULL;

        t.f = open_memstream(&t.text, &t.size);
        assert_non_null(t.f);
        assert_int_equal(csv_reader_new(delimiter, &h, &r), 0);
        for (size_t i = 0; i < n; i += chunk)
                assert_int_equal(csv_reader_feed(r, input + i, n - i < chunk ? n - i : chunk), 0);
        assert_int_equal(csv_reader_finish(r), 0);
        csv_reader_free(r);
        fclose(t.f);
        return t.text;
}

/* The trace, checked to be the same for every chunk size from one byte up. */
static char *read_all(const char *input, char delimiter) {
        size_t n = strlen(input);
        char *whole = read_in_chunks(input, n, delimiter, n ? n : 1);

        for (size_t chunk = 1; chunk < n; chunk++) {
                char *part = read_in_chunks(input, n, delimiter, chunk);
                assert_string_equal(part, whole);
                free(part);
        }
        return whole;
}

#define assert_reads(input, delimiter, expected)                                                   \
        do {                                                                                       \
                char *_t = read_all(input, delimiter);                                             \
                assert_string_equal(_t, expected);                                                 \
                free(_t);                                                                          \
        } while (0)

static void test_csv_reader_plain_rows(void **state) {
        (void) state;
        assert_reads("a,b,c\n1,2,3\n", ',', "1: a|b|c\n2: 1|2|3\n");
        assert_reads("a,b\n1,2", ',', "1: a|b\n2: 1|2\n"); /* no line end at the end */
        assert_reads("a,,\n", ',', "1: a||\n");            /* empty fields count */
        assert_reads("", ',', "");
}

static void test_csv_reader_line_ends_crlf_cr_and_blank_lines(void **state) {
        (void) state;
        assert_reads("a;b\r\n1;2\r\n", ';', "1: a|b\n2: 1|2\n");
        assert_reads("a;b\r1;2\r", ';', "1: a|b\n2: 1|2\n");
        assert_reads("a\n\n\nb\n\n", ',', "1: a\n4: b\n");
        assert_reads("a\r\n\r\nb\r\n", ',', "1: a\n3: b\n");
}

static void test_csv_reader_quotes_escape_delimiters_and_newlines(void **state) {
        (void) state;
        assert_reads("\"a,b\",\"say \"\"hi\"\"\",\"\"\n", ',', "1: a,b|say \"hi\"|\n");
        /* A quoted newline: the row is reported at the line it starts on, and the next row's
         * line counts the lines inside it. */
        assert_reads("id,title\n1,\"two\nlines\"\n2,x\n", ',',
                     "1: id|title\n2: 1|two\nlines\n4: 2|x\n");
        assert_reads("1,\"a\r\nb\"\r\n2,c\r\n", ',', "1: 1|a\r\nb\n3: 2|c\n");
        /* A quoted empty field alone on a line is a row, not a blank line. */
        assert_reads("\"\"\n", ',', "1: \n");
}

static void test_csv_reader_skips_the_bom_only_at_the_start(void **state) {
        (void) state;
        assert_reads("\xef\xbb\xbfid;x\n1;2\n", ';', "1: id|x\n2: 1|2\n");
        assert_reads("id\n\xef\xbb\xbf\n", ',', "1: id\n2: \xef\xbb\xbf\n");
        /* Two bytes of a BOM and then something else are data. */
        assert_reads("\xef\xbbx\n", ',', "1: \xef\xbbx\n");
        assert_reads("\xef\xbb", ',', "1: \xef\xbb\n");
}

static void test_csv_reader_stray_quote_is_reported_and_the_next_line_read(void **state) {
        (void) state;
        assert_reads("a,b\"c,d\nok,1\n", ',',
                     "1! a quote inside an unquoted field (quote the whole field and double the "
                     "quote: \"a \"\"b\"\" c\")\n2: ok|1\n");
        assert_reads("\"a\"b,c\r\nok\r\n", ',',
                     "1! a closing quote must be followed by the delimiter or the end of the "
                     "line\n2: ok\n");
}

static void test_csv_reader_unterminated_quote_names_its_line(void **state) {
        (void) state;
        assert_reads("id,t\n1,ok\n2,\"open\nand on\n", ',',
                     "1: id|t\n2: 1|ok\n3! a quoted field is not closed: the quote opened here has "
                     "no closing quote\n");
}

static void test_csv_reader_bounds_fields_and_rows(void **state) {
        size_t n = CSV_FIELD_MAX + 1;
        char *big = malloc(n + 8), *t;

        (void) state;
        assert_non_null(big);
        memset(big, 'x', n);
        strcpy(big + n, "\nok\n");
        t = read_in_chunks(big, strlen(big), ',', 4096);
        assert_string_equal(t, "1! field longer than 65536 bytes\n2: ok\n");
        free(t);
        free(big);
        big = malloc(2 * (CSV_FIELDS_MAX + 1) + 8);
        assert_non_null(big);
        for (size_t i = 0; i <= CSV_FIELDS_MAX; i++)
                memcpy(big + 2 * i, "x,", 2);
        strcpy(big + 2 * CSV_FIELDS_MAX + 1, "\nok\n");
        t = read_in_chunks(big, strlen(big), ',', 4096);
        assert_string_equal(t, "1! row has more than 256 fields\n2: ok\n");
        free(t);
        free(big);
}

static void test_csv_reader_refuses_quote_and_line_ends_as_delimiter(void **state) {
        CsvHandler h = {.row = on_row};
        CsvReader *r = NULL;

        (void) state;
        assert_int_equal(csv_reader_new('"', &h, &r), -EINVAL);
        assert_int_equal(csv_reader_new('\n', &h, &r), -EINVAL);
        assert_int_equal(csv_reader_new('\r', &h, &r), -EINVAL);
        assert_null(r);
}

static int stop_at_second(const CsvRow *row, void *userdata) {
        (void) userdata;
        return row->line == 2 ? -ECANCELED : 0;
}

static void test_csv_reader_stops_when_a_callback_fails(void **state) {
        CsvHandler h = {.row = stop_at_second};
        CsvReader *r = NULL;

        (void) state;
        assert_int_equal(csv_reader_new(',', &h, &r), 0);
        assert_int_equal(csv_reader_feed(r, "a\nb\nc\n", 6), -ECANCELED);
        csv_reader_free(r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_csv_reader_plain_rows),
                cmocka_unit_test(test_csv_reader_line_ends_crlf_cr_and_blank_lines),
                cmocka_unit_test(test_csv_reader_quotes_escape_delimiters_and_newlines),
                cmocka_unit_test(test_csv_reader_skips_the_bom_only_at_the_start),
                cmocka_unit_test(test_csv_reader_stray_quote_is_reported_and_the_next_line_read),
                cmocka_unit_test(test_csv_reader_unterminated_quote_names_its_line),
                cmocka_unit_test(test_csv_reader_bounds_fields_and_rows),
                cmocka_unit_test(test_csv_reader_refuses_quote_and_line_ends_as_delimiter),
                cmocka_unit_test(test_csv_reader_stops_when_a_callback_fails),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
