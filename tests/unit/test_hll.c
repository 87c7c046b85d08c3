/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: unit tests of the HyperLogLog sketch (hll.h) against exact counts */

#include <math.h>
#include <string.h>

#include "tap.h"
#include "wp/hll.h"

static double rel(uint64_t est, uint64_t n)
{
    return fabs((double)est - (double)n) / (double)n;
}

int main(void)
{
    static struct wp_hll a, b, u;
    TAP_EQ(wp_hll_estimate(&a), 0, "an empty sketch estimates 0");
    /* small counts: linear counting is within a few items */
    uint64_t worst_small = 0;
    double worst_rel = 0;
    for (uint64_t i = 1; i <= 1000; i++) {
        wp_hll_add(&a, wp_hll_mix(i));
        uint64_t e = wp_hll_estimate(&a);
        uint64_t d = e > i ? e - i : i - e;
        if (i < 100 && d > worst_small)
            worst_small = d;
        if (i >= 100 && rel(e, i) > worst_rel)
            worst_rel = rel(e, i);
    }
    TAP_OK(worst_small <= 2, "1 to 99 items: off by at most 2 (worst %llu)",
           (unsigned long long)worst_small);
    TAP_OK(worst_rel < 0.03, "100 to 1,000 items: within 3 %% (worst %.1f %%)", worst_rel * 100);
    /* adding the same items again changes nothing */
    struct wp_hll copy = a;
    for (uint64_t i = 1; i <= 1000; i++)
        wp_hll_add(&a, wp_hll_mix(i));
    TAP_OK(memcmp(&a, &copy, sizeof(a)) == 0, "repeated items leave the sketch as it was");
    /* large counts: within 5 % (three standard errors) */
    for (uint64_t i = 1001; i <= 200000; i++)
        wp_hll_add(&a, wp_hll_mix(i));
    TAP_OK(rel(wp_hll_estimate(&a), 200000) < 0.05, "200,000 items estimated %llu",
           (unsigned long long)wp_hll_estimate(&a));
    for (uint64_t i = 150001; i <= 400000; i++)
        wp_hll_add(&b, wp_hll_mix(i));
    u = a;
    wp_hll_merge(&u, &b);
    TAP_OK(rel(wp_hll_estimate(&u), 400000) < 0.05,
           "the union of 1..200,000 and 150,001..400,000 estimated %llu of 400,000",
           (unsigned long long)wp_hll_estimate(&u));
    struct wp_hll v = b;
    wp_hll_merge(&v, &a);
    TAP_OK(memcmp(&u, &v, sizeof(u)) == 0, "merging is commutative");
    wp_hll_merge(&v, &a);
    TAP_OK(memcmp(&u, &v, sizeof(u)) == 0, "merging is idempotent");
    /* the mix spreads consecutive values over the registers */
    static struct wp_hll c;
    for (uint64_t i = 0; i < 4096; i++)
        wp_hll_add(&c, wp_hll_mix(i));
    unsigned used = 0;
    for (unsigned i = 0; i < WP_HLL_M; i++)
        used += c.reg[i] != 0;
    TAP_OK(used > 2400 && used < 2800, "4,096 items use about 63 %% of the registers (%u)", used);
    return tap_done();
}
