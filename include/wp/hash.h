/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: uthash configured once: seeded hash, non-fatal out-of-memory
 *
 * Include this instead of <uthash.h>. Only the table modules (flow.c,
 * agg.c) include it. The hash is SipHash-1-3 keyed with a per-run random
 * seed, so addresses chosen by an attacker cannot force collisions; and an
 * allocation failure inside HASH_ADD sets wp_hash_oom instead of exiting. */
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

/* Set by uthash when an insertion ran out of memory; the caller clears it. */
extern _Thread_local int wp_hash_oom;

#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(elt) \
    do {                         \
        (void)(elt);             \
        wp_hash_oom = 1;         \
    } while (0)
#define HASH_FUNCTION(keyptr, keylen, hashv) \
    ((hashv) = (unsigned)wp_siphash((keyptr), (size_t)(keylen)))

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

#endif
