/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the processes in the reports (report_proc.c) */
#ifndef WP_REPORT_PROC_H
#define WP_REPORT_PROC_H

#include <stdio.h>

#include "wp/report.h"
#include "wp/report_model_proc.h"

/* JSON: `, "processes": [{"name", "flows", "bytes"}]` of a port row: its
 * top 4 processes by bytes (nothing when no record named a process). */
void wp_report_proc_json_port(FILE *fp, const struct wp_report *r, const struct wp_port_row *p);

/* JSON and text: the processes behind an Apple service (`--apple`). */
void wp_report_proc_json_apple(FILE *fp, const struct wp_report *r, int svc);
void wp_report_proc_text_apple(FILE *fp, const struct wp_report *r, int svc);

/* JSON: a flow's `, "process": ..., "effective_process": ..., "process_others": N`
 * (written inside the flow object, before its closing brace). */
void wp_report_proc_json_flow(FILE *fp, const struct wp_report *r, const struct wp_flow *f);

/* JSON: `, "processes": [...], "process_info": {...}` at the top level. */
void wp_report_proc_json(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o,
                         const char *nl, const char *ind);

/* Text: the PROCESSES table (nothing when no record named a process). */
void wp_report_proc_text(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o);

/* Text: the PROCESS cell of a flow ("name:pid", "via carrier"), empty when none. */
void wp_report_proc_flow_cell(const struct wp_report *r, const struct wp_flow *f, char *buf,
                              size_t n);

/* Text: the process that used port row `p` most (by bytes: the first of
 * the JSON port's "processes"; its name, or "pid N" written into buf[n]),
 * and in *others how many other processes used it. NULL (*others 0) when
 * none did. */
const char *wp_report_proc_port_top(const struct wp_report *r, const struct wp_port_row *p,
                                    char *buf, size_t n, size_t *others);

/* CSV: the flow columns appended to --view flows, and their header. */
#define WP_REPORT_PROC_CSV_FLOW_HEAD "process_pid,process,effective_process_pid,effective_process"
void wp_report_proc_csv_flow(FILE *fp, const struct wp_report *r, const struct wp_flow *f);

/* CSV: the processes view (--view processes). */
void wp_report_proc_csv(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o);

#endif
