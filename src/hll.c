/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: HyperLogLog estimates (hll.h) */

#include <math.h>

#include "wp/hll.h"

void wp_hll_merge(struct wp_hll *dst, const struct wp_hll *src)
{
    for (uint32_t i = 0; i < WP_HLL_M; i++)
        if (src->reg[i] > dst->reg[i])
            dst->reg[i] = src->reg[i];
}

uint64_t wp_hll_estimate(const struct wp_hll *s)
{
    double m = WP_HLL_M, sum = 0;
    uint32_t zeros = 0;
    for (uint32_t i = 0; i < WP_HLL_M; i++) {
        sum += ldexp(1.0, -(int)s->reg[i]);
        zeros += s->reg[i] == 0;
    }
    double alpha = 0.7213 / (1 + 1.079 / m);
    double e = alpha * m * m / sum;
    if (e <= 2.5 * m && zeros > 0)
        e = m * log(m / zeros); /* linear counting: exact enough for few items */
    return (uint64_t)(e + 0.5);
}
