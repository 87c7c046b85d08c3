/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: reports: the registry of writers, on top of the model
 *
 * The layers, each calling only those below it:
 *   report.c (registry, wp_report_write)
 *   report_text.c, report_json.c, report_csv.c, report_html.c (one writer
 *   per format)
 *   report_apple.c (the view by Apple service, for every format)
 *   report_model.c (build, sort, service lookups), report_filter.c */
#ifndef WP_REPORT_H
#define WP_REPORT_H

#include <stdio.h>

#include "wp/report_model.h"
#include "wp/report_filter.h"
#include "wp/report_apple.h"

typedef void (*wp_report_writer_fn)(FILE *fp, const struct wp_report *r,
                                    const struct wp_report_opts *o);

/* A writer: the format's name (as -T takes it) and its function. */
struct wp_report_writer {
    const char *name;
    wp_report_writer_fn write;
};

/* The writer of a format name ("text", "json", "csv", "html"), or NULL. *fmt gets
 * the format. */
const struct wp_report_writer *wp_report_writer_find(const char *name, enum wp_format *fmt);

/* Write the report with the writer of o->format. Returns 0, or -1 on an
 * output error (errno set). */
int wp_report_write(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o);

/* Writers, one per format. */
void wp_report_text(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o);
void wp_report_json(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o);
void wp_report_csv(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o);
/* One self-contained HTML page (docs/output.md): no external resources. */
void wp_report_html(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o);

#endif
