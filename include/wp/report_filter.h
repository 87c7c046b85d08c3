/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: Wireshark display filters for the port rows of a report
 * (--filters; docs/wireshark.md). Reads the report model only. */
#ifndef WP_REPORT_FILTER_H
#define WP_REPORT_FILTER_H

#include "wp/report_model.h"

/* An index of the report's flows by transport and port, for
 * wp_report_port_filter(); NULL when out of memory. */
struct wp_filter_index;
struct wp_filter_index *wp_report_filter_index(const struct wp_report *r);
void wp_report_filter_index_free(struct wp_filter_index *ix);

/* A Wireshark display filter selecting the packets of a port row, written in
 * buf (n bytes; WP_FILTER_MAX is enough for any row). *note is NULL when the
 * filter selects exactly the row's packets, else what differs
 * (docs/wireshark.md). `ix` may be NULL. */
#define WP_FILTER_MAX 4096
char *wp_report_port_filter(char *buf, size_t n, const struct wp_report *r,
                            const struct wp_filter_index *ix, const struct wp_port_row *row,
                            const char **note);

#endif
