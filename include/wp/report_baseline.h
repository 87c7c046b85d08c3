/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the baseline comparison in the reports (report_baseline.c) */
#ifndef WP_REPORT_BASELINE_H
#define WP_REPORT_BASELINE_H

#include <stdio.h>

#include "wp/report.h"

/* JSON: `, "baseline": {"status", "baseline_bytes", "ratio"}` of a port,
 * host or process row (nothing without --baseline). */
void wp_report_baseline_json_port(FILE *fp, const struct wp_report *r, const struct wp_port_row *p);
void wp_report_baseline_json_host(FILE *fp, const struct wp_report *r, const struct wp_host_row *h);
void wp_report_baseline_json_process(FILE *fp, const struct wp_report *r,
                                     const struct wp_proc_row *p);

/* JSON: the top-level `, "baseline": {...}` (files, seconds, names). */
void wp_report_baseline_json(FILE *fp, const struct wp_report *r, const char *nl, const char *ind);

/* Text: the section of what is new or grown since the baseline. */
void wp_report_baseline_text(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o);

/* CSV: --view baseline. */
void wp_report_baseline_csv(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o);

/* The names of `flows` (reordered) with their flows and bytes, bytes
 * descending; the caller frees the array (names are the table's). */
struct wp_bl_name *wp_report_bl_names(struct wp_flow **flows, size_t n, struct wp_nametab *t,
                                      size_t *out);

/* --new-only: keep only the ports, servers, names and processes the
 * baseline did not have. */
void wp_report_baseline_new_only(struct wp_report *r);

/* The report's duration in seconds (at least 1), for rates. */
double wp_report_seconds(const struct wp_report *r);

#endif
