/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: a stacked area chart as inline SVG (the HTML report's chart)
 *
 * Pure: takes series of numbers, writes SVG text; knows nothing of flows
 * or reports. Names are escaped with wp_html_text (escape.h). */
#ifndef WP_SVGCHART_H
#define WP_SVGCHART_H

#include <stdio.h>

#include "wp/common.h"

/* The chart: n_series series of n_buckets values each; values[s *
 * n_buckets + b] is series s in bucket b (bytes). Bucket b covers
 * [start_ns + b * width_ns, start_ns + (b + 1) * width_ns). Negative,
 * NaN and infinite values count as 0. */
struct wp_svgchart {
    const char *title;        /* the chart's title (escaped), or NULL */
    const char *const *names; /* n_series names (escaped) */
    size_t n_series;
    const double *values;
    size_t n_buckets;
    int64_t start_ns, width_ns;
    unsigned width, height; /* the plot in pixels; 0: 800 x 240 */
    const char *path_class; /* the class of each series' path (a constant); NULL: wp-series */
};

/* The stacked tops: tops[s * n_buckets + b] = the sum of the values of
 * series 0..s in bucket b (cleaned as above), so that tops never decrease
 * with s. tops has n_series * n_buckets room. */
void wp_svgchart_stack(const struct wp_svgchart *c, double *tops);

/* Write the chart as one <svg> element: one <path class="wp-series"> per
 * series (an area between its stacked top and the one below it; drawn
 * even when empty, so the path count is the series count), axes with the
 * time of the first and last bucket and the largest stacked total, and a
 * legend. Every number written is finite. Returns 0, or -1 when memory
 * ran out (nothing written). */
int wp_svgchart_write(FILE *fp, const struct wp_svgchart *c);

/* The fill colour of series i (a "#rrggbb" constant), shared with the
 * legend of the tables. */
const char *wp_svgchart_color(size_t i);

#endif
