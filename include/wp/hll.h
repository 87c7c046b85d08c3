/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: HyperLogLog: a bounded, mergeable estimate of a distinct count
 *
 * 4,096 one-byte registers (precision 12): a relative standard error of
 * 1.04 / sqrt(4096) = 1.6 %. The agg module moves the distinct clients and
 * servers of a port to these once its exact set is full (agg.h), so that
 * counting them stays O(1) and bounded on a flood of new addresses. Pure:
 * no allocation, no I/O. */
#ifndef WP_HLL_H
#define WP_HLL_H

#include "wp/common.h"

#define WP_HLL_P     12
#define WP_HLL_M     (1u << WP_HLL_P)
#define WP_HLL_ERROR 0.0163 /* 1.04 / sqrt(WP_HLL_M) */

struct wp_hll {
    uint8_t reg[WP_HLL_M];
};

/* Count the item whose 64-bit hash is `h` (a well-mixed hash; the same
 * item must always give the same hash). */
static inline void wp_hll_add(struct wp_hll *s, uint64_t h)
{
    uint32_t i = (uint32_t)(h >> (64 - WP_HLL_P));
    uint64_t w = (h << WP_HLL_P) | (UINT64_C(1) << (WP_HLL_P - 1)); /* never 0 */
    uint8_t rank = (uint8_t)(__builtin_clzll(w) + 1);
    if (rank > s->reg[i])
        s->reg[i] = rank;
}

/* dst becomes the sketch of the union of both sets. */
void wp_hll_merge(struct wp_hll *dst, const struct wp_hll *src);

/* The estimated number of distinct items (HyperLogLog with linear counting
 * for small counts), rounded. */
uint64_t wp_hll_estimate(const struct wp_hll *s);

/* An unkeyed 64-bit mix of a 64-bit value (splitmix64's finalizer): the
 * same item gives the same register in every run, so estimates are
 * reproducible. */
static inline uint64_t wp_hll_mix(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

#endif
