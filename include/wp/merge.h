/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: --merge: whichports JSON reports read back into engines
 *
 * A report (schema WP_SCHEMA) is loaded into a new engine as if that engine
 * had read the report's captures: its totals, link types, flows (with
 * their outcome state and process), timeline, and, for what the report
 * counted without listing flows (--no-flows, evicted flows), its port,
 * host, Apple and tunnel rows as counts. The runner then merges the engines
 * in order with wp_engine_merge(), exactly as -j merges one engine per
 * file, and writes one report. docs/scale.md says what stays exact. */
#ifndef WP_MERGE_H
#define WP_MERGE_H

#include "wp/common.h"
#include "wp/analyze.h"

/* What a report says about its input, for the merged report's `input`.
 * Strings are copies owned by the caller (wp_merge_input_free). */
struct wp_merge_input {
    char **sources;
    size_t n_sources;
    char **errors;
    size_t n_errors;
    bool complete;      /* false when any report was incomplete */
    bool nanos;         /* any report printed nanosecond times */
    bool peers_inexact; /* a report's distinct counts were lower bounds */
    bool live;          /* a report was of a live capture */
    bool have_filter;   /* `filter` is set from the first report */
    char *filter;       /* every report's BPF filter (they must agree), NULL none */
    bool dropped_known; /* a report gave live drop counts: their sums */
    uint64_t dropped, ifdropped;
    struct wp_attr_counts attr; /* live process attribution, summed (state: on if any) */
};

void wp_merge_input_init(struct wp_merge_input *in);
void wp_merge_input_free(struct wp_merge_input *in);

/* Load the JSON report at the start of text[0..len) (named `what` in
 * messages) into `e`, a new engine made with the run's tables (`opts`),
 * and add its input to *in. With `used` NULL the text must hold exactly
 * one report; else *used is set to the bytes taken, and more reports may
 * follow (a stream). Returns 0, or -1 with a message in err
 * (WP_ERRBUF_SIZE bytes): not JSON, not a whichports report, another
 * schema version, a live report, or a value no report has. On error `e`
 * holds part of the report: free it. */
int wp_merge_load(struct wp_engine *e, const struct wp_engine_opts *opts, const char *text,
                  size_t len, size_t *used, const char *what, struct wp_merge_input *in, char *err);

#endif
