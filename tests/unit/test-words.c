/* Words: the tables of labels and states every table of noticectl prints, in both languages.
 *
 * A label or state left out of one language's designated initializers would be NULL there and
 * print as "?"; these tests name the one that is missing. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "noticed/words.h"

static void test_words_label_every_label_in_both_languages(void **state) {
        (void) state;
        for (int language = 0; language < LANGUAGE_COUNT; language++) {
                const Words *w = words_of((Language) language);

                for (int l = 0; l < _WORD_LABEL_MAX; l++) {
                        if (!w->labels[l] || !*w->labels[l])
                                fail_msg("language %d has no label %d", language, l);
                        assert_ptr_equal(words_label(w, (WordLabel) l), w->labels[l]);
                        /* ctl-plan.c pads the headers with printf's widths, which count bytes */
                        for (const char *p = w->labels[l]; *p; p++)
                                if ((unsigned char) *p >= 0x80)
                                        fail_msg("label %d of language %d is not ASCII: %s", l,
                                                 language, w->labels[l]);
                }
        }
}

static void test_words_state_every_state_in_both_languages(void **state) {
        (void) state;
        for (int language = 0; language < LANGUAGE_COUNT; language++) {
                const Words *w = words_of((Language) language);

                for (int s = 0; s < _WORD_STATE_MAX; s++) {
                        if (!w->states[s] || !*w->states[s])
                                fail_msg("language %d has no state %d", language, s);
                        assert_ptr_equal(words_state(w, (WordState) s), w->states[s]);
                }
                assert_non_null(w->attempt_one);
                assert_non_null(w->attempt_many);
                assert_non_null(w->by);
        }
}

static void test_words_label_speaks_the_language(void **state) {
        const Words *nl = words_of(LANGUAGE_NL), *en = words_of(LANGUAGE_EN);
        (void) state;

        assert_string_equal(words_label(nl, WORD_LABEL_CYCLE), "CYCLUS");
        assert_string_equal(words_label(en, WORD_LABEL_CYCLE), "CYCLE");
        assert_string_equal(words_label(nl, WORD_LABEL_AT), "TIJDSTIP");
        assert_string_equal(words_state(nl, WORD_STATE_SKIPPED), "overgeslagen");
        assert_string_equal(words_state(en, WORD_STATE_QUEUED), "queued");
}

static void test_words_label_out_of_range_is_printable(void **state) {
        const Words *w = words_of(LANGUAGE_EN);
        (void) state;

        assert_string_equal(words_label(w, _WORD_LABEL_MAX), "?");
        assert_string_equal(words_state(w, (WordState) -1), "?");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_words_label_every_label_in_both_languages),
                cmocka_unit_test(test_words_state_every_state_in_both_languages),
                cmocka_unit_test(test_words_label_speaks_the_language),
                cmocka_unit_test(test_words_label_out_of_range_is_printable),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
