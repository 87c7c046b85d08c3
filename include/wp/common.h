/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: shared definitions: version, exit codes, small helpers */
#ifndef WP_COMMON_H
#define WP_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define WP_VERSION       "0.1.0"
#define WP_SCHEMA        "whichports/4"
#define WP_ERRBUF_SIZE   512

/* Nanoseconds in a second: timestamps and timeouts are kept in nanoseconds. */
#define WP_NS_PER_S 1000000000LL

/* Exit codes, documented in --help and whichports(1). */
enum wp_exit {
    WP_EXIT_OK = 0,      /* report written */
    WP_EXIT_ERROR = 1,   /* could not start: missing/unreadable/not a capture, bad filter, ... */
    WP_EXIT_USAGE = 2,   /* bad command line */
    WP_EXIT_DAMAGED = 3, /* input damaged or capture interrupted: report of what was read */
};

#if defined(__GNUC__) || defined(__clang__)
#define WP_NODISCARD  __attribute__((warn_unused_result))
#define WP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define WP_LIKELY(x)   __builtin_expect(!!(x), 1)
#define WP_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define WP_NODISCARD
#define WP_PRINTF(a, b)
#define WP_LIKELY(x)   (x)
#define WP_UNLIKELY(x) (x)
#endif

#define WP_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Big-endian and little-endian readers over bytes already proven present. */
static inline uint16_t wp_be16(const uint8_t *b)
{
    return (uint16_t)(((unsigned)b[0] << 8) | (unsigned)b[1]);
}
static inline uint32_t wp_be32(const uint8_t *b)
{
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | (uint32_t)b[3];
}
static inline uint16_t wp_le16(const uint8_t *b)
{
    return (uint16_t)(((unsigned)b[1] << 8) | (unsigned)b[0]);
}
static inline uint32_t wp_le32(const uint8_t *b)
{
    return ((uint32_t)b[3] << 24) | ((uint32_t)b[2] << 16) | ((uint32_t)b[1] << 8) | (uint32_t)b[0];
}

#endif
