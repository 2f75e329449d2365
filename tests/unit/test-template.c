/* Template: the checks a template file passes at config load, on the built-in texts and on
 * texts that break each rule once.  What an expanded template says is test-text.c's. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "noticed/template.h"

static void test_template_check_accepts_the_built_in_templates(void **state) {
        static const Language languages[] = {LANGUAGE_NL, LANGUAGE_EN};
        (void) state;

        for (size_t i = 0; i < 2; i++)
                for (MessageKind k = MESSAGE_REMINDER; k <= MESSAGE_OVERDUE; k++) {
                        const char *t = template_builtin(languages[i], k);
                        unsigned line = 0;
                        char *message = NULL;
                        assert_int_equal(template_check(t, strlen(t), &line, &message), 0);
                        assert_null(message);
                }
}

static void assert_template_error(const char *text, size_t size, unsigned line,
                                  const char *message) {
        unsigned l = 0;
        char *msg = NULL;

        assert_int_equal(template_check(text, size, &l, &msg), -EINVAL);
        assert_string_equal(msg, message);
        assert_int_equal(l, line);
        free(msg);
}

static void test_template_check_reports_problem_and_line(void **state) {
        (void) state;
        assert_template_error("Subject: x\n\na\n${nope}\n", 22, 4,
                              "unknown placeholder \"${nope}\"");
        assert_template_error("Subject: x\n\n${title\n", 20, 3,
                              "unterminated placeholder \"${\" (write \"$$\" for a '$')");
        assert_template_error("Subject: x\n\nb\xc3(\n", 16, 3, "invalid UTF-8");
        assert_template_error("Subject: x\n\na\x01\n", 15, 3,
                              "control character (only newline and tab are allowed)");
        assert_template_error("Subject: x\n\na\xc2\x85\n", 16, 3,
                              "control character (only newline and tab are allowed)");
        assert_template_error("Subject: x\r\n\r\n", 14, 1,
                              "carriage return (CR): save the file with Unix (LF) line ends");
        assert_template_error("Subject: x\n\na\0b\n", 16, 3,
                              "control character (only newline and tab are allowed)");
        assert_template_error("Hello\n\nbody\n", 12, 1, "the first line must be \"Subject: ...\"");
        assert_template_error("Subject:  \n\nbody\n", 17, 1,
                              "the first line must be \"Subject: ...\"");
        assert_template_error("Subject: a\tb\n\n", 14, 1, "a tab in the Subject line");
        assert_template_error("Subject: x\nbody\n", 16, 2,
                              "line 2 must be empty: it separates the Subject line from the body");
        assert_template_error("", 0, 1, "the first line must be \"Subject: ...\"");
}

static void test_template_check_accepts_tabs_dollars_and_no_body(void **state) {
        unsigned line;
        char *message = NULL;
        (void) state;

        assert_int_equal(template_check("Subject: $5 ${title}\n\n\tcost $$ ${cost} $x\n", 41, &line,
                                        &message),
                         0);
        assert_int_equal(template_check("Subject: only\n", 14, &line, &message), 0);
        assert_null(message);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_template_check_accepts_the_built_in_templates),
                cmocka_unit_test(test_template_check_reports_problem_and_line),
                cmocka_unit_test(test_template_check_accepts_tabs_dollars_and_no_body),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
