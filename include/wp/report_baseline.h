/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the baseline comparison in the reports (report_baseline.c) */
#ifndef WP_REPORT_BASELINE_H
#define WP_REPORT_BASELINE_H

#include <stdio.h>

#include "wp/report.h"
#include "wp/report_model_proc.h"

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

#endif
