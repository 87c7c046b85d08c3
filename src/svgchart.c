/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: a stacked area chart as inline SVG
 *
 * Each bucket is drawn as a step (flat over the bucket's width), so that
 * the area over a bucket is what the bucket holds and nothing is
 * interpolated between buckets. */

#include <math.h>
#include <stdlib.h>

#include "wp/escape.h"
#include "wp/svgchart.h"
#include "wp/util.h"

enum { MARGIN_L = 78, MARGIN_R = 12, MARGIN_T = 24, MARGIN_B = 34, LEGEND_LINE = 18 };

static const char *const colors[] = {
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac", "#2f4b7c", "#d37295", "#a0cbe8", "#8cd17d", "#f1ce63", "#79706e"};

const char *wp_svgchart_color(size_t i)
{
    return colors[i % (sizeof(colors) / sizeof(colors[0]))];
}

static double clean(double v)
{
    return isfinite(v) && v > 0 ? v : 0;
}

void wp_svgchart_stack(const struct wp_svgchart *c, double *tops)
{
    for (size_t b = 0; b < c->n_buckets; b++) {
        double sum = 0;
        for (size_t s = 0; s < c->n_series; s++) {
            sum += clean(c->values[s * c->n_buckets + b]);
            tops[s * c->n_buckets + b] = sum;
        }
    }
}

/* A finite coordinate, rounded to a tenth of a pixel. */
static void coord(FILE *fp, char cmd, double x, double y)
{
    if (!isfinite(x))
        x = 0;
    if (!isfinite(y))
        y = 0;
    fprintf(fp, "%c%.1f %.1f", cmd, x, y);
}

int wp_svgchart_write(FILE *fp, const struct wp_svgchart *c)
{
    size_t nb = c->n_buckets, ns = c->n_series;
    double *tops = NULL;
    if (nb > 0 && ns > 0) {
        if (ns > SIZE_MAX / sizeof(double) / nb)
            return -1;
        tops = malloc(ns * nb * sizeof(double));
        if (tops == NULL)
            return -1;
        wp_svgchart_stack(c, tops);
    }
    double w = c->width ? c->width : 800, h = c->height ? c->height : 240;
    double max = 0;
    for (size_t b = 0; ns > 0 && b < nb; b++)
        if (tops[(ns - 1) * nb + b] > max)
            max = tops[(ns - 1) * nb + b];
    double yscale = max > 0 ? h / max : 0;
    double xstep = nb > 0 ? w / (double)nb : 0;
    double base = MARGIN_T + h;
    double total_h = MARGIN_T + h + MARGIN_B + (double)ns * LEGEND_LINE;
    fprintf(fp,
            "<svg class=\"wp-chart\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" "
            "viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\">\n",
            MARGIN_L + w + MARGIN_R, total_h, MARGIN_L + w + MARGIN_R, total_h);
    if (c->title != NULL) {
        fputs("<title>", fp);
        wp_html_text(fp, c->title);
        fputs("</title>\n", fp);
    }
    /* axes */
    fprintf(fp,
            "<path class=\"wp-axis\" d=\"M%d %.1fV%.1fH%.1f\" fill=\"none\" stroke=\"#555\"/>\n",
            MARGIN_L, (double)MARGIN_T, base, MARGIN_L + w);
    char b1[48], b2[48], by[32];
    fprintf(fp, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\">%s per bucket</text>\n", MARGIN_L,
            (double)MARGIN_T - 8, wp_fmt_bytes(by, sizeof(by), (uint64_t)max));
    fprintf(fp, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">0</text>\n",
            MARGIN_L - 4, base);
    if (nb > 0) {
        fprintf(fp, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\">", MARGIN_L, base + 16);
        wp_html_text(fp, wp_fmt_time(b1, sizeof(b1), c->start_ns, false));
        fprintf(fp, "</text>\n<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">",
                MARGIN_L + w, base + 16);
        wp_html_text(fp, wp_fmt_time(b2, sizeof(b2),
                                     (int64_t)((uint64_t)c->start_ns + nb * (uint64_t)c->width_ns),
                                     false));
        fputs("</text>\n", fp);
    }
    /* one area per series: along its top left to right, back along the
     * top of the series below it */
    for (size_t s = 0; s < ns; s++) {
        fprintf(fp, "<path class=\"%s\" data-series=\"%zu\" fill=\"%s\" d=\"",
                c->path_class ? c->path_class : "wp-series", s, wp_svgchart_color(s));
        if (nb == 0) {
            coord(fp, 'M', MARGIN_L, base);
        } else {
            for (size_t b = 0; b < nb; b++) {
                double y = base - tops[s * nb + b] * yscale;
                coord(fp, b ? 'L' : 'M', MARGIN_L + (double)b * xstep, y);
                coord(fp, 'L', MARGIN_L + (double)(b + 1) * xstep, y);
            }
            for (size_t b = nb; b-- > 0;) {
                double y = base - (s ? tops[(s - 1) * nb + b] : 0) * yscale;
                coord(fp, 'L', MARGIN_L + (double)(b + 1) * xstep, y);
                coord(fp, 'L', MARGIN_L + (double)b * xstep, y);
            }
        }
        fputs("Z\"><title>", fp);
        wp_html_text(fp, c->names[s]);
        fputs("</title></path>\n", fp);
    }
    /* legend, top series first as in the stack */
    for (size_t i = 0; i < ns; i++) {
        size_t s = ns - 1 - i;
        double y = base + MARGIN_B + (double)i * LEGEND_LINE;
        fprintf(fp,
                "<rect x=\"%d\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                "<text class=\"wp-legend\" x=\"%d\" y=\"%.1f\" font-size=\"12\">",
                MARGIN_L, y - 10, wp_svgchart_color(s), MARGIN_L + 18, y);
        wp_html_text(fp, c->names[s]);
        fputs("</text>\n", fp);
    }
    fputs("</svg>\n", fp);
    free(tops);
    return 0;
}
