#pragma once
/* Small macros every module may use: cleanup attributes for locals, handing a pointer over, the
 * size of an array, and microseconds.
 *
 * The cleanup attributes are gcc's and clang's `__attribute__((cleanup))`, as systemd uses them:
 * a local declared `_cleanup_free_ char *s = NULL;` is freed when it goes out of scope, on every
 * return path, and `return TAKE_PTR(s);` hands it to the caller instead.  A local that is handed
 * over or freed by hand must be set to NULL first, or it is freed twice.  No functions, no
 * state: including this costs nothing. */

#include <stdint.h>
#include <stdlib.h>

#define _cleanup_(f)   __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)

static inline void freep(void *p) {
        free(*(void **) p);
}

/* Defines `static inline void NAMEp(TYPE **p)` calling `NAME(*p)` when *p is not NULL, for
 * `_cleanup_(NAMEp)` on objects with an x_free() or x_unref() of their own. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                    \
        static inline void func##p(type *p) {                                                      \
                if (*p)                                                                            \
                        (void) func(*p);                                                           \
        }

/* The value of the pointer, which is set to NULL: ownership passes to whoever takes it. */
#define TAKE_PTR(ptr)                                                                              \
        ({                                                                                         \
                __typeof__(ptr) *_pptr_ = &(ptr);                                                  \
                __typeof__(ptr) _ptr_ = *_pptr_;                                                   \
                *_pptr_ = NULL;                                                                    \
                _ptr_;                                                                             \
        })

/* The number of elements of an array (not of a pointer: that does not compile). */
#define ELEMENTSOF(x)                                                                              \
        (__builtin_choose_expr(!__builtin_types_compatible_p(__typeof__(x), __typeof__(&*(x))),    \
                               sizeof(x) / sizeof((x)[0]), (void) 0))

/* Microseconds: CLOCK_REALTIME instants (since the epoch) and durations alike.  Unsigned, as
 * sd-event has them; the ledger stores them as SQLite's signed 64-bit integers, which hold any
 * instant until the year 294,247. */
typedef uint64_t usec_t;

#define USEC_PER_SEC    ((usec_t) 1000000ULL)
#define USEC_PER_MSEC   ((usec_t) 1000ULL)
#define NSEC_PER_USEC   ((uint64_t) 1000ULL)
#define USEC_PER_MINUTE (UINT64_C(60) * USEC_PER_SEC)
#define USEC_PER_HOUR   (UINT64_C(3600) * USEC_PER_SEC)
#define USEC_PER_DAY    (UINT64_C(86400) * USEC_PER_SEC)
