/* Put before each unit test by make lint-scan (-include), and seen only by the clang analyzer:
 * the test binaries that gcc or clang build from it are the same as without it.
 *
 * cmocka 1.1.5 does not tell the analyzer that a failed assertion ends the test (it longjmps
 * out of it), so the analyzer walks on past assert_true(n > 2) with n == 0, or past
 * fail_msg(), and reports what it finds there: an uninitialised uids[0], a NULL passed to
 * memcmp().  Here _fail() is declared not to return, for the analyzer only, and the
 * assertions that take one value fail through it. */
#ifdef __clang_analyzer__
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

void _fail(const char *const file, const int line) __attribute__((analyzer_noreturn));

#undef assert_true
#undef assert_false
#undef assert_non_null
#undef assert_null
#define assert_true(c)     ((c) ? (void) 0 : _fail(__FILE__, __LINE__))
#define assert_false(c)    ((c) ? _fail(__FILE__, __LINE__) : (void) 0)
#define assert_non_null(c) ((c) != NULL ? (void) 0 : _fail(__FILE__, __LINE__))
#define assert_null(c)     ((c) == NULL ? (void) 0 : _fail(__FILE__, __LINE__))
#endif
