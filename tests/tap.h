/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: a minimal TAP producer for the unit tests */
#ifndef WP_TAP_H
#define WP_TAP_H

#include <stdio.h>
#include <stdlib.h>

static int tap_n, tap_failed;

/* Record one test point; prints "ok N - descr" or "not ok N - descr" with
 * the file and line of a failure. Returns the condition. */
#define TAP_OK(cond, ...)                                                         \
    tap_ok_((cond) ? 1 : 0, __FILE__, __LINE__, #cond, __VA_ARGS__)

__attribute__((format(printf, 5, 6))) static int tap_ok_(int ok, const char *file, int line,
                                                          const char *expr, const char *fmt,
                                                          ...);

#include <stdarg.h>
static int tap_ok_(int ok, const char *file, int line, const char *expr, const char *fmt, ...)
{
    va_list ap;
    tap_n++;
    printf("%s %d - ", ok ? "ok" : "not ok", tap_n);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (!ok) {
        tap_failed++;
        printf("#   failed at %s:%d: %s\n", file, line, expr);
    }
    return ok;
}

/* Equality of unsigned integers with both values shown on failure. */
#define TAP_EQ(a, b, ...)                                                          \
    do {                                                                           \
        unsigned long long tap_a_ = (unsigned long long)(a);                       \
        unsigned long long tap_b_ = (unsigned long long)(b);                       \
        if (!TAP_OK(tap_a_ == tap_b_, __VA_ARGS__))                                \
            printf("#   got %llu, expected %llu\n", tap_a_, tap_b_);               \
    } while (0)

/* Print the plan and return the exit status for main(). */
static inline int tap_done(void)
{
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}

#endif
