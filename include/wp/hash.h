/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: uthash configured once: seeded hash, non-fatal out-of-memory
 *
 * Include this instead of <uthash.h>. Only the table modules (flow.c,
 * agg.c, names.c) include it. The hash is keyed with a per-run random seed,
 * so addresses chosen by an attacker cannot force collisions: by default a
 * multiply-mix hash in the manner of wyhash (as Go's runtime keys its maps),
 * or SipHash-1-3 (cryptographic, slower); an allocation failure inside
 * HASH_ADD sets wp_hash_oom instead of exiting, and WP_HASH_ADD_OR_FAIL
 * turns that into the caller's failure branch. */
#ifndef WP_HASH_H
#define WP_HASH_H

#include "wp/common.h"

/* Set the 128-bit key of the hash. Called once at start-up (wp_hash_seed_random)
 * or with a fixed key in tests. Not thread-safe against concurrent lookups. */
void wp_hash_seed(uint64_t k0, uint64_t k1);

/* Seed from the operating system's random source. Returns 0, or -1 when no
 * random bytes could be read (the fixed default key then stays in use). */
int wp_hash_seed_random(void);

/* SipHash-1-3 of `len` bytes under the current key. */
uint64_t wp_siphash(const void *data, size_t len);

/* The keyed multiply-mix hash of `len` bytes under the current key. */
uint64_t wp_fasthash(const void *data, size_t len);

enum wp_hash_kind {
    WP_HASH_FAST = 0,   /* keyed multiply-mix (default) */
    WP_HASH_SIPHASH,    /* keyed SipHash-1-3 */
    WP_HASH_JENKINS,    /* uthash's unkeyed Jenkins hash: for benchmarks only */
};

/* Choose the hash for every table (before any table exists). The
 * benchmark sets it from the environment variable WHICHPORTS_HASH (fast,
 * siphash or jenkins) through wp_hash_select_env(). */
void wp_hash_select(enum wp_hash_kind kind);
void wp_hash_select_env(void);

/* The hash used by the tables. */
uint32_t wp_hash_bytes(const void *data, size_t len);

/* Key comparison for the tables: 0 when equal. Inline for the fixed-size
 * keys, memcmp otherwise. */
static inline int wp_keycmp(const void *a, const void *b, size_t n)
{
    if (n == 44 || n == 40 || n == 24 || n == 20) {
        const uint8_t *x = a, *y = b;
        uint64_t d = 0;
        size_t i = 0;
        for (; i + 8 <= n; i += 8) {
            uint64_t u, v;
            __builtin_memcpy(&u, x + i, 8);
            __builtin_memcpy(&v, y + i, 8);
            d |= u ^ v;
        }
        if (i < n) {
            uint32_t u, v;
            __builtin_memcpy(&u, x + i, 4);
            __builtin_memcpy(&v, y + i, 4);
            d |= u ^ v;
        }
        return d != 0;
    }
    return __builtin_memcmp(a, b, n);
}

/* Set by uthash when an insertion ran out of memory; the caller clears it. */
extern _Thread_local int wp_hash_oom;

#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(elt) \
    do {                         \
        (void)(elt);             \
        wp_hash_oom = 1;         \
    } while (0)
#define HASH_FUNCTION(keyptr, keylen, hashv) \
    ((hashv) = wp_hash_bytes((keyptr), (size_t)(keylen)))
#define HASH_KEYCMP(a, b, n) wp_keycmp((a), (b), (size_t)(n))

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wcast-align"
#pragma GCC diagnostic ignored "-Wcast-qual"
#pragma GCC diagnostic ignored "-Wnull-dereference"
#endif
#include <uthash.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/* Add `item` to the uthash table `head` (handle field `hh`) under the
 * `keylen` bytes at `keyptr`, which live in `item`. When memory runs out
 * the table is left as it was, wp_hash_oom is cleared and the statement
 * `on_fail` runs (it frees or recycles `item`, and usually returns; a
 * braced block without unparenthesised commas). The caller has looked the
 * key up first: it must not be present. */
#define WP_HASH_ADD_OR_FAIL(hh, head, keyptr, keylen, item, on_fail)                               \
    do {                                                                                           \
        wp_hash_oom = 0;                                                                           \
        HASH_ADD_KEYPTR(hh, head, keyptr, keylen, item);                                           \
        if (WP_UNLIKELY(wp_hash_oom)) {                                                            \
            wp_hash_oom = 0;                                                                       \
            on_fail;                                                                               \
        }                                                                                          \
    } while (0)

/* The same, with the key's hash `hashv` already computed (wp_hash_bytes
 * of the key) for the lookup that preceded. */
#define WP_HASH_ADD_BYHASH_OR_FAIL(hh, head, keyptr, keylen, hashv, item, on_fail)                 \
    do {                                                                                           \
        wp_hash_oom = 0;                                                                           \
        HASH_ADD_KEYPTR_BYHASHVALUE(hh, head, keyptr, keylen, hashv, item);                        \
        if (WP_UNLIKELY(wp_hash_oom)) {                                                            \
            wp_hash_oom = 0;                                                                       \
            on_fail;                                                                               \
        }                                                                                          \
    } while (0)

#endif
