/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the process and baseline parts of the report model (report_model_proc.c) */
#ifndef WP_REPORT_MODEL_PROC_H
#define WP_REPORT_MODEL_PROC_H

#include "wp/report_model.h"

/* One (port, process row) pair of the processes table, for the processes
 * of each port row. */
struct wp_proc_port_ref {
    struct wp_port_key key;
    uint32_t row; /* index into r->procs */
    uint64_t flows, bytes;
};

/* The (port, process) pairs of r->procs sorted by port, then bytes
 * descending (caller frees); NULL, *n = 0 when none or out of memory. */
struct wp_proc_port_ref *wp_report_proc_port_index(const struct wp_report *r, size_t *n);

/* The names of `flows` (reordered) with their flows and bytes, bytes
 * descending; the caller frees the array (names are the table's). */
struct wp_bl_name *wp_report_bl_names(struct wp_flow **flows, size_t n, struct wp_nametab *t,
                                      size_t *out);

/* --new-only: keep only the ports, servers, names and processes the
 * baseline did not have. */
void wp_report_baseline_new_only(struct wp_report *r);

/* The report's duration in seconds (at least 1), for rates. */
double wp_report_seconds(const struct wp_report *r);

/* A port row's bytes as the baseline compares them (both directions and
 * the unattributed packets). */
uint64_t wp_report_bl_port_bytes(const struct wp_port_row *p);

/* The baseline's mark of a port row, a host row, a process row (its name
 * written into buf[n] and returned in *name). */
struct wp_bl_mark wp_report_bl_mark_port(const struct wp_report *r, const struct wp_port_row *p);
struct wp_bl_mark wp_report_bl_mark_host(const struct wp_report *r, const struct wp_host_row *h);
struct wp_bl_mark wp_report_bl_mark_proc(const struct wp_report *r, const struct wp_proc_row *p,
                                         char *buf, size_t n, const char **name);

#endif
