/* Registers: commitments from CSV files that the config names.  Each test writes a config and
 * its registers into a directory of its own and loads them with config_load(), as noticectl
 * does: rows become commitments validated as the config's are, and every problem is one error
 * with the register's name and the line its row starts on. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "noticed/config.h"
#include "noticed/macro.h"

static const char *const base =
        "transports = { out = { url = \"maildir:/tmp/noticed-test\"; from = \"n@x.example\"; }; "
        "};\n"
        "mail_via = \"out\";\n"
        "recipients = ( { id = \"a\"; name = \"A\"; mail = [\"a@x.example\"]; },\n"
        "               { id = \"b\"; name = \"B\"; mail = [\"b@x.example\"]; } );\n";

typedef struct Dir {
        char path[64];
} Dir;

static int dir_setup(void **state) {
        Dir *d = calloc(1, sizeof(Dir));

        assert_non_null(d);
        strcpy(d->path, "/tmp/noticed-test-register-XXXXXX");
        assert_non_null(mkdtemp(d->path));
        *state = d;
        return 0;
}

static int dir_teardown(void **state) {
        Dir *d = *state;
        char *cmd;

        assert_true(asprintf(&cmd, "rm -rf '%s'", d->path) > 0);
        assert_int_equal(system(cmd), 0);
        free(cmd);
        free(d);
        return 0;
}

static void write_file(const Dir *d, const char *name, const char *text) {
        char *path;
        FILE *f;

        assert_true(asprintf(&path, "%s/%s", d->path, name) > 0);
        f = fopen(path, "w");
        assert_non_null(f);
        assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
        assert_int_equal(fclose(f), 0);
        free(path);
}

/* Loads DIR/noticed.conf, made of base and `config`; its errors as "FILE:LINE: message\n" with
 * the directory left out, and the model in *ret when it loads (ret may be NULL). */
static char *load(const Dir *d, const char *config, Model **ret) {
        char *text, *path, *out = NULL;
        size_t size = 0, prefix = strlen(d->path) + 1;
        FILE *f = open_memstream(&out, &size);
        ConfigErrors errors;
        Model *m = NULL;
        int r;

        assert_true(asprintf(&text, "%s%s", base, config) > 0);
        write_file(d, "noticed.conf", text);
        assert_true(asprintf(&path, "%s/noticed.conf", d->path) > 0);
        r = config_load(path, &m, &errors);
        for (size_t i = 0; i < errors.n; i++) {
                char *s = config_error_to_string(&errors.items[i]);
                const char *at;

                assert_non_null(s);
                assert_memory_equal(s, d->path, prefix - 1);
                /* A message naming another place in the directory drops it too. */
                at = strstr(s + prefix, d->path);
                if (at)
                        fprintf(f, "%.*s%s\n", (int) (at - s - prefix), s + prefix, at + prefix);
                else
                        fprintf(f, "%s\n", s + prefix);
                free(s);
        }
        fclose(f);
        assert_int_equal(r == 0, errors.n == 0);
        config_errors_done(&errors);
        if (ret)
                *ret = m;
        else
                model_free(m);
        free(path);
        free(text);
        return out;
}

#define assert_loads(d, config, expected)                                                          \
        do {                                                                                       \
                char *_e = load(d, config, NULL);                                                  \
                assert_string_equal(_e, expected);                                                 \
                free(_e);                                                                          \
        } while (0)

static const char *const one_register =
        "registers = ( { file = \"r.csv\"; defaults = { renewal = \"tacit\"; notice = \"3m\"; "
        "participants = [\"a\"]; }; } );\n";

static void test_register_rows_become_commitments_with_defaults(void **state) {
        Dir *d = *state;
        Model *m = NULL;
        char *e;

        write_file(d, "r.csv",
                   "\xef\xbb\xbfid,title,start,term,notice,participants,reviewers\r\n"
                   "c1,\"Schoonmaak, kantoren\",2019-01-01,2y,,a b,\r\n"
                   "c2,Koffie,2020-03-01,1y,6m,,b\r\n");
        e = load(d, one_register, &m);
        assert_string_equal(e, "");
        free(e);
        assert_non_null(m);
        assert_int_equal(m->n_commitments, 2);
        assert_string_equal(m->commitments[0].id, "c1");
        assert_string_equal(m->commitments[0].title, "Schoonmaak, kantoren");
        assert_int_equal(m->commitments[0].renewal, RENEWAL_TACIT);
        /* An empty cell takes the default, like a missing column. */
        assert_int_equal(m->commitments[0].notice.count, 3);
        assert_int_equal(m->commitments[0].notice.unit, DURATION_MONTHS);
        assert_int_equal(m->commitments[0].n_participants, 2);
        assert_int_equal(m->commitments[0].n_reviewers, 0);
        assert_int_equal(m->commitments[1].notice.count, 6);
        assert_int_equal(m->commitments[1].n_participants, 1);
        assert_int_equal(m->commitments[1].participants[0], 0);
        assert_int_equal(m->commitments[1].reviewers[0], 1);
        assert_int_equal(m->commitments[0].rank, 0);
        assert_int_equal(m->commitments[1].rank, 1);
        model_free(m);
}

static void test_register_with_config_commitments_and_groups_in_defaults(void **state) {
        Dir *d = *state;
        Model *m = NULL;
        char *e;

        write_file(d, "r.csv", "id;title;start;term;renewal\nb-first;B;2019-01-01;2y;none\n");
        e = load(d,
                 "commitments = ( { id = \"z\"; title = \"Z\"; participants = [\"a\"]; start = "
                 "\"2019-01-01\"; term = \"2y\"; renewal = \"none\"; } );\n"
                 "registers = ( { file = \"r.csv\"; delimiter = \";\"; defaults = {\n"
                 "  participants = [\"b\"]; policy = { offsets = [\"7d\"]; };\n"
                 "  cost = { per_inhabitant = 0.5; currency = \"EUR\"; }; }; } );\n",
                 &m);
        assert_string_equal(e, "");
        free(e);
        assert_int_equal(m->n_commitments, 2);
        assert_string_equal(m->commitments[1].id, "b-first");
        assert_int_equal(m->commitments[1].policy.n_offsets, 1);
        assert_true(m->commitments[1].cost.set);
        /* cost.from defaults to the row's own start. */
        assert_int_equal(m->commitments[1].cost.from, m->commitments[1].start);
        /* Ranks sort config and register commitments together by id. */
        assert_int_equal(m->commitments[0].rank, 1);
        assert_int_equal(m->commitments[1].rank, 0);
        model_free(m);
}

static void test_register_without_registers_still_needs_commitments(void **state) {
        Dir *d = *state;

        assert_loads(d, "", "noticed.conf: the config: missing 'commitments'\n");
        write_file(d, "r.csv", "id,title,start,term\n");
        assert_loads(d, one_register, ""); /* a header alone is an empty register */
}

static void test_register_unknown_and_repeated_columns(void **state) {
        Dir *d = *state;

        write_file(d, "r.csv", "id,title,strat,cost,id\nc1,C,2019-01-01,x,c1\n");
        assert_loads(d, one_register,
                     "r.csv:1: unknown column 'strat' (a column is named by a commitment key of "
                     "noticed.conf(5); cost, policy and deadlines only in the register's "
                     "defaults)\n"
                     "r.csv:1: unknown column 'cost' (a column is named by a commitment key of "
                     "noticed.conf(5); cost, policy and deadlines only in the register's "
                     "defaults)\n"
                     "r.csv:1: column 'id' is named twice\n");
}

static void test_register_bad_values_name_the_row_line(void **state) {
        Dir *d = *state;

        write_file(d, "r.csv",
                   "id,title,start,term,renewal,participants\n"
                   "c1,\"two\nlines\",2019-02-30,2y,tacit,a\n"
                   "c2,C,2019-01-01,2x,sometimes,a nobody\n"
                   "c 3,C,2019-01-01,1y,none,\n"
                   "c4,C,2019-01-01\n");
        assert_loads(d, one_register,
                     "r.csv:2: string contains a control character (CR, LF, TAB, ...) or invalid "
                     "UTF-8; it could reach a mail header\n"
                     "r.csv:2: '2019-02-30' is not a date (YYYY-MM-DD, a real calendar day)\n"
                     "r.csv:4: 'term' = \"2x\" is not a duration (a positive count and d, w, m or "
                     "y: \"90d\", \"6w\", \"6m\", \"2y\")\n"
                     "r.csv:4: renewal 'sometimes' must be \"none\", \"tacit\" or "
                     "\"indefinite\"\n"
                     "r.csv:4: participants: unknown recipient 'nobody'\n"
                     "r.csv:5: id 'c 3' must be 1-64 letters, digits, '.', '_' or '-', starting "
                     "with a letter or digit\n"
                     "r.csv:6: row has 3 fields, the header has 6\n");
}

static void test_register_missing_required_keys(void **state) {
        Dir *d = *state;

        write_file(d, "r.csv", "id,title,term\nc1,C,2y\nc2,,2y\n");
        assert_loads(d,
                     "registers = ( { file = \"r.csv\"; defaults = { renewal = \"none\"; }; } "
                     ");\n",
                     "r.csv:2: c1: missing 'start'\n"
                     "r.csv:2: c1: missing 'participants'\n"
                     "r.csv:3: c2: missing 'title'\n"
                     "r.csv:3: c2: missing 'start'\n"
                     "r.csv:3: c2: missing 'participants'\n");
}

static void test_register_quoting_errors(void **state) {
        Dir *d = *state;

        write_file(d, "r.csv",
                   "id,title,start,term,renewal\n"
                   "c1,a \"b\",2019-01-01,2y,none\n"
                   "c2,\"b\"c,2019-01-01,2y,none\n"
                   "c3,ok,2019-01-01,2y,none\n"
                   "c4,\"never closed,2019-01-01,2y,none\n"
                   "c5,ok,2019-01-01,2y,none\n");
        assert_loads(d, one_register,
                     "r.csv:2: a quote inside an unquoted field (quote the whole field and double "
                     "the quote: \"a \"\"b\"\" c\")\n"
                     "r.csv:3: a closing quote must be followed by the delimiter or the end of the "
                     "line\n"
                     "r.csv:5: a quoted field is not closed: the quote opened here has no closing "
                     "quote\n");
}

static void test_register_duplicate_ids_name_both_places(void **state) {
        Dir *d = *state;

        write_file(d, "r.csv", "id,title,start,term\nc1,C,2019-01-01,2y\nz,Z,2019-01-01,2y\n");
        write_file(d, "s.csv", "id,title,start,term\nc1,C,2019-01-01,2y\n");
        assert_loads(d,
                     "commitments = ( { id = \"z\"; title = \"Z\"; participants = [\"a\"]; start = "
                     "\"2019-01-01\"; term = \"2y\"; renewal = \"none\"; } );\n"
                     "registers = ( { file = \"r.csv\"; defaults = { renewal = \"none\"; "
                     "participants = [\"a\"]; }; },\n"
                     "  { file = \"s.csv\"; defaults = { renewal = \"none\"; participants = "
                     "[\"a\"]; }; } );\n",
                     "r.csv:3: duplicate commitment id 'z' (first at noticed.conf:5)\n"
                     "s.csv:2: duplicate commitment id 'c1' (first at r.csv:2)\n");
}

static void test_register_bad_default_is_reported_once_at_its_line(void **state) {
        Dir *d = *state;

        write_file(d, "r.csv",
                   "id,title,start,term,renewal\nc1,C,2019-01-01,2y,tacit\n"
                   "c2,C,2019-01-01,2y,tacit\nc3,C,2019-01-01,2y,tacit\n");
        assert_loads(d,
                     "registers = ( { file = \"r.csv\"; defaults = {\n"
                     "  notice = \"3q\"; participants = [\"a\", \"nobody\"]; id = \"x\"; }; } );\n",
                     "noticed.conf:6: unknown key 'id' in the register's defaults\n"
                     "noticed.conf:6: 'notice' = \"3q\" is not a duration (a positive count and d, "
                     "w, m or y: \"90d\", \"6w\", \"6m\", \"2y\")\n"
                     "noticed.conf:6: participants: unknown recipient 'nobody'\n");
}

static void test_register_file_must_be_a_readable_regular_file(void **state) {
        Dir *d = *state;
        char *fifo;

        assert_true(asprintf(&fifo, "%s/fifo.csv", d->path) > 0);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        free(fifo);
        assert_loads(d,
                     "registers = ( { file = \"missing.csv\"; },\n"
                     "  { file = \"fifo.csv\"; },\n"
                     "  { file = \"/dev/null\"; },\n"
                     "  { file = \"/\"; delimiter = \"\\\"\"; },\n"
                     "  { delimiter = \";\"; } );\n",
                     "noticed.conf:5: cannot read register \"missing.csv\": No such file or "
                     "directory\n"
                     "noticed.conf:6: register \"fifo.csv\" is not a regular file\n"
                     "noticed.conf:7: register \"/dev/null\" is not a regular file\n"
                     "noticed.conf:8: delimiter \"\"\" must be one character, not a quote\n"
                     "noticed.conf:9: register: missing 'file'\n");
}

int main(void) {
        const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, dir_setup, dir_teardown)
                T(test_register_rows_become_commitments_with_defaults),
                T(test_register_with_config_commitments_and_groups_in_defaults),
                T(test_register_without_registers_still_needs_commitments),
                T(test_register_unknown_and_repeated_columns),
                T(test_register_bad_values_name_the_row_line),
                T(test_register_missing_required_keys),
                T(test_register_quoting_errors),
                T(test_register_duplicate_ids_name_both_places),
                T(test_register_bad_default_is_reported_once_at_its_line),
                T(test_register_file_must_be_a_readable_regular_file),
#undef T
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
