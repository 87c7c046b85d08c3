/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: unit tests of the stacked area chart (svgchart.c): one path per
 * series, stacked tops that never go down, finite numbers, escaped names */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "wp/svgchart.h"

static char *render(const struct wp_svgchart *c, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *fp = open_memstream(&buf, &n);
    if (fp == NULL)
        return NULL;
    int rc = wp_svgchart_write(fp, c);
    if (fclose(fp) != 0 || rc != 0) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static size_t count(const char *s, const char *needle)
{
    size_t k = 0;
    for (const char *p = strstr(s, needle); p != NULL; p = strstr(p + 1, needle))
        k++;
    return k;
}

/* The y coordinates of the upper edge of the series path `s` (its first
 * 2 * nb points), read back from the SVG text; false when absent. */
static bool path_tops(const char *svg, size_t s, size_t nb, double *ys)
{
    char key[64];
    snprintf(key, sizeof(key), "data-series=\"%zu\"", s);
    const char *p = strstr(svg, key);
    if (p == NULL || (p = strstr(p, " d=\"")) == NULL)
        return false;
    p += 4;
    for (size_t i = 0; i < 2 * nb; i++) {
        if (*p != 'M' && *p != 'L')
            return false;
        char *end;
        strtod(p + 1, &end);
        ys[i] = strtod(end, &end);
        p = end;
    }
    return true;
}

/* Every number in the path data and the viewBox is finite. */
static bool numbers_finite(const char *svg)
{
    for (const char *p = strstr(svg, " d=\""); p != NULL; p = strstr(p + 1, " d=\"")) {
        const char *q = p + 4;
        while (*q && *q != '"') {
            if (*q == 'M' || *q == 'L' || *q == 'H' || *q == 'V' || *q == ' ') {
                q++;
                continue;
            }
            if (*q == 'Z') {
                q++;
                continue;
            }
            char *end;
            double v = strtod(q, &end);
            if (end == q || !isfinite(v))
                return false;
            q = end;
        }
    }
    return strstr(svg, "nan") == NULL && strstr(svg, "inf") == NULL;
}

static void test_shape(void)
{
    enum { NS = 4, NB = 6 };
    static const char *const names[NS] = {"tcp/443 https", "udp/53 dns", "tcp/80", "other"};
    double v[NS * NB] = {
        100,         200, 0,   50,  0, 10,               /* */
        5,           0,   300, 0,   0, 20,               /* */
        (double)NAN, -7,  1,   2,   0, (double)INFINITY, /* */
        0,           0,   0,   1e9, 0, 1,
    };
    struct wp_svgchart c = {"bytes",    names, NS,  v,   NB, 1700000000000000000LL,
                            1000000000, 600,   200, NULL};
    size_t n;
    char *svg = render(&c, &n);
    TAP_OK(svg != NULL, "chart written");
    if (svg == NULL)
        return;
    TAP_EQ(count(svg, "<path class=\"wp-series\""), (size_t)NS, "one path per series");
    TAP_EQ(count(svg, "<svg"), (size_t)1, "one svg element");
    TAP_EQ(count(svg, "</svg>"), (size_t)1, "closed once");
    TAP_OK(numbers_finite(svg), "every number finite (NaN, -7 and infinity counted as 0)");

    double tops[NS * NB];
    wp_svgchart_stack(&c, tops);
    bool mono = true;
    for (size_t b = 0; b < NB; b++)
        for (size_t s = 1; s < NS; s++)
            if (tops[s * NB + b] < tops[(s - 1) * NB + b])
                mono = false;
    TAP_OK(mono, "stacked tops never decrease with the series");
    TAP_OK(tops[3 * NB + 3] == 1e9 + 52 && tops[2 * NB + 5] == 30 && tops[2 * NB + 0] == 105,
           "stacked sums by hand");

    /* the drawn tops: a higher stack is higher on the page (smaller y) */
    double ys[NS][2 * NB];
    bool got = true, drawn = true;
    for (size_t s = 0; s < NS; s++)
        got = got && path_tops(svg, s, NB, ys[s]);
    TAP_OK(got, "path tops read back");
    for (size_t s = 1; got && s < NS; s++)
        for (size_t i = 0; i < 2 * NB; i++)
            if (ys[s][i] > ys[s - 1][i] + 1e-9)
                drawn = false;
    TAP_OK(got && drawn, "drawn tops monotone: each series at or above the one below");
    TAP_OK(got && fabs(ys[3][6] - 24.0) < 0.05, "the largest stack reaches the top of the plot");
    TAP_OK(got && fabs(ys[0][8] - 224.0) < 0.05, "an empty bucket sits on the axis");
    free(svg);
}

static void test_escaping(void)
{
    static const char *const names[2] = {"<script>alert(1)</script>", "</svg><b x=\"'\">&"};
    double v[2] = {1, 2};
    struct wp_svgchart c = {"</title><script>", names, 2, v, 1, 0, 1000000000, 0, 0, NULL};
    size_t n;
    char *svg = render(&c, &n);
    TAP_OK(svg != NULL, "hostile chart written");
    if (svg == NULL)
        return;
    TAP_EQ(count(svg, "<script"), (size_t)0, "no script element");
    TAP_EQ(count(svg, "</svg>"), (size_t)1, "names cannot close the svg");
    TAP_EQ(count(svg, "</title>"), (size_t)3, "titles: the chart's and one per series");
    TAP_OK(strstr(svg, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL, "name shown as text");
    TAP_OK(strstr(svg, "&lt;/svg&gt;&lt;b x=&quot;&#39;&quot;&gt;&amp;") != NULL,
           "quotes and ampersand escaped");
    free(svg);
}

static void test_empty(void)
{
    static const char *const names[1] = {"only"};
    struct wp_svgchart c = {NULL, names, 1, NULL, 0, 0, 0, 0, 0, NULL};
    size_t n;
    char *svg = render(&c, &n);
    TAP_OK(svg != NULL && count(svg, "<path class=\"wp-series\"") == 1 && numbers_finite(svg),
           "no buckets: one empty path, finite numbers");
    free(svg);
    double z[3] = {0, 0, 0};
    c.values = z;
    c.n_buckets = 3;
    svg = render(&c, &n);
    TAP_OK(svg != NULL && numbers_finite(svg), "all zero: finite numbers (no division by 0)");
    free(svg);
}

int main(void)
{
    test_shape();
    test_escaping();
    test_empty();
    return tap_done();
}
