/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: outcomes in the reports: JSON members, CSV fields, the text column */
#ifndef WP_REPORT_OUTCOME_H
#define WP_REPORT_OUTCOME_H

#include <stdio.h>

#include "wp/common.h"
#include "wp/outcome.h"
#include "wp/report.h"

/* JSON members of a flow, each preceded by ", ": "outcome", "zeek_state",
 * "blocked_by" (null, or {"type", "code", "text", "from", "sent_by"}). */
void wp_outcome_json_flow(FILE *fp, const struct wp_report *r, const struct wp_flow *f);

/* The JSON members ", \"outcomes\": {...}, \"blocked_by\": [...]" of a row:
 * every outcome name with its count of flows, and the texts of the (at
 * most two) unreachables that blocked them. */
void wp_outcome_json_row(FILE *fp, const struct wp_oc_row *o);

/* The JSON totals member ", \"icmp_errors\": {...}": what became of the
 * ICMP errors (matched, or why not). */
void wp_outcome_json_totals(FILE *fp, const struct wp_oc_counts *c);

/* CSV: the header names (with leading commas) and the fields of a row and
 * of a flow, in that order. */
extern const char wp_outcome_csv_row_head[];
void wp_outcome_csv_row(FILE *fp, const struct wp_oc_row *o);
extern const char wp_outcome_csv_flow_head[];
void wp_outcome_csv_flow(FILE *fp, const struct wp_report *r, const struct wp_flow *f);

/* The text column a person reads at a glance: "ok" (every flow got
 * through), else counts: "4 refused", "3 blocked (icmp 3/13)",
 * "5 no answer", "2 ok, 1 refused", "2 pending", "1 mid-stream",
 * "1 one-way", "2 icmp errors"; "-" without flows. */
char *wp_outcome_glance(char *buf, size_t n, const struct wp_oc_row *o);

/* "tcp/5223: 4 tried, 4 unanswered: blocked on the path?" style summary of
 * a documented port's row (NULL row: "not tried"). */
char *wp_outcome_apple_line(char *buf, size_t n, const struct wp_oc_row *o);

#endif
