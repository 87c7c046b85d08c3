/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the report model: what every writer reads, built in one place
 *
 * wp_report_build() turns an engine into a struct wp_report (sorted rows,
 * flows, link type names, Apple rows); the writers (report_text.c,
 * report_json.c, report_csv.c, report_apple.c) only read it, through the
 * helpers below. This module calls no writer. */
#ifndef WP_REPORT_MODEL_H
#define WP_REPORT_MODEL_H

#include "wp/common.h"
#include "wp/analyze.h"
#include "wp/applesvc.h"
#include "wp/names.h"
#include "wp/agg_proc.h"
#include "wp/baseline.h"
#include "wp/timeline.h"

struct wp_proc_port_ref;

enum wp_format { WP_FMT_TEXT = 0, WP_FMT_JSON, WP_FMT_CSV, WP_FMT_HTML, WP_FMT_COUNT };
enum wp_view {
    WP_VIEW_PORTS = 0,
    WP_VIEW_FLOWS,
    WP_VIEW_HOSTS,
    WP_VIEW_TUNNELS,
    WP_VIEW_TOTALS,
    WP_VIEW_PROCESSES,
    WP_VIEW_BASELINE,
    WP_VIEW_TIMELINE
};

/* Port series a report's timeline shows by name; the rest are `other`. */
#define WP_REPORT_TL_TOP 10

struct wp_report_opts {
    enum wp_format format;
    enum wp_view view; /* csv only */
    unsigned top;      /* text, html: rows of flows and hosts (0: all) */
    bool no_flows;     /* json: omit the flows array */
    bool filters;      /* text: show a Wireshark display filter per port row (html: always) */
    bool csv_header;   /* csv: print the header row (live mode prints it once) */
    bool json_lines;   /* json: the whole report on one line (JSON Lines) */
    bool apple;        /* text and csv: the view by Apple service (--apple) */
    const char *const *processes; /* --process patterns, for the report to name */
    size_t n_processes;
    bool new_only;         /* --new-only: leave out what the baseline had */
    int rules;             /* --rules: enum wp_rules_format (rules.h), -1: the report */
    bool rules_documented; /* --rules-documented */
};

/* A name of the report, for the baseline comparison. */
struct wp_bl_name {
    const char *name;
    uint64_t flows, bytes;
};

/* Everything a writer needs. The writers only read it. */
struct wp_report {
    const char *mode;           /* "file" or "live" */
    const char *filter;         /* the BPF filter, or NULL */
    uint64_t count;             /* -c COUNT, or 0 */
    const char *const *sources; /* file names or interface names */
    size_t n_sources;
    const char *const *link_types; /* names */
    size_t n_link_types;
    bool nanos;                /* print nanosecond timestamps */
    bool complete;             /* false when an input was damaged or the capture failed */
    const char *const *errors; /* messages about damaged input */
    size_t n_errors;
    const struct wp_totals *totals;
    bool has_interval; /* live reports: the interval this report closes */
    int64_t interval_start_ns, interval_end_ns;

    const struct wp_services *services;
    bool peers_capped;
    /* some rows' distinct counts are HyperLogLog estimates */
    bool peers_estimated;
    /* lower bounds because merged reports listed no flows */
    bool peers_loaded;
    struct wp_nametab *names;           /* resolves name ids; NULL: no names */
    const struct wp_applesvc *applesvc; /* Apple services; NULL: none */
    const struct wp_agg *agg;           /* per-Apple-service details */
    struct wp_apple_row **apple_rows;   /* sorted by wp_report_sort_apple() */
    size_t n_apple_rows;

    /* sorted by wp_report_sort() */
    struct wp_port_row **ports;
    size_t n_ports;
    struct wp_host_row **hosts;
    size_t n_hosts;
    struct wp_tunnel_row **tunnels;
    size_t n_tunnels;
    const struct wp_host_row *hosts_other;     /* beyond the host table's limit */
    const struct wp_tunnel_row *tunnels_other; /* beyond the tunnel table's limit */
    struct wp_flow **flows;
    size_t n_flows;

    /* processes (proctab.h, agg_proc.h); n_procs 0 when no record named one */
    const struct wp_proctab *proctab;
    const struct wp_proc_counts *proc_counts;
    struct wp_proc_row **procs; /* sorted by bytes */
    size_t n_procs;
    const struct wp_proc_rest *procs_without; /* flows without a process */
    const struct wp_proc_rest *procs_other;   /* beyond the row limit */
    bool proc_filter;                         /* --process given: only those flows */
    struct wp_proc_port_ref *proc_ports;      /* processes by port, sorted */
    size_t n_proc_ports;

    /* the timeline (timeline.h): the top WP_REPORT_TL_TOP ports, then other */
    struct wp_tl_view timeline;

    /* --baseline (baseline.h): NULL without it */
    const struct wp_baseline *baseline;
    const char *const *baseline_files;
    size_t n_baseline_files;
    struct wp_bl_name *bl_names; /* the report's names with their flows and bytes */
    size_t n_bl_names;

    /* Owned by wp_report_build(), released by wp_report_release(). */
    struct wp_agg *own_agg; /* a snapshot to free; NULL: borrowed */
    struct wp_aggproc *own_procs;
    struct wp_proc_rest own_without;
    char link_type_buf[WP_MAX_LINKTYPES][48];
    const char *link_type_ptr[WP_MAX_LINKTYPES];
};

/* What a report says besides the engine's tables. Pointers are borrowed and
 * must outlive the report. */
struct wp_report_src {
    const char *mode;   /* "file" or "live" */
    const char *filter; /* the BPF filter, or NULL */
    uint64_t count;     /* -c COUNT, or 0 */
    const char *const *sources;
    size_t n_sources;
    bool nanos;
    bool complete;
    const char *const *errors;
    size_t n_errors;
    const struct wp_services *services;
    struct wp_nametab *names;           /* NULL: no names */
    const struct wp_applesvc *applesvc; /* NULL: no Apple services */
    bool has_interval;
    int64_t interval_start_ns, interval_end_ns;
    bool flows;                         /* list the live flows (wp_report_wants_flows) */
    const struct wp_baseline *baseline; /* --baseline, or NULL */
    const char *const *baseline_files;
    size_t n_baseline_files;
    bool new_only;   /* --new-only */
    unsigned tl_top; /* port series in the timeline view; 0: WP_REPORT_TL_TOP */
};

/* True when a report written with `o` lists flows: text, JSON without
 * --no-flows, the CSV flows view. */
bool wp_report_wants_flows(const struct wp_report_opts *o);

/* Build the report of everything `e` has seen into *r (every field set,
 * rows sorted). `final`: the last report, made from the engine's own
 * aggregate without a copy (wp_engine_finalize: the engine then takes no
 * more packets); otherwise from a snapshot. Returns 0, or -1 when memory
 * ran out (nothing to release). On success the caller calls
 * wp_report_release() once the report is written. */
int wp_report_build(struct wp_report *r, struct wp_engine *e, const struct wp_report_src *src,
                    bool final);

/* Free what wp_report_build() allocated; *r is left zeroed. */
void wp_report_release(struct wp_report *r);

/* Sort rows by bytes, descending, ties broken by key so that output is
 * deterministic; a host's ports in transport and port order. */
void wp_report_sort(struct wp_report *r);

/* Copy a bounded name-count list (n <= 255) into out[] sorted by flows,
 * descending, then by name, so that output does not depend on hash order.
 * Entries whose name is unknown are left out. Returns the number copied. */
size_t wp_report_sort_names(const struct wp_report *r, const struct wp_name_count *v, size_t n,
                            struct wp_name_count *out);

/* Sort the Apple rows by service (the order of the services table), then
 * by bytes, descending. */
void wp_report_sort_apple(struct wp_report *r);

/* The service of a port row: the Apple-scope name when every flow's server
 * is Apple's, else the any-scope name; NULL when unnamed. *apple_svc gets
 * the Apple-scope name when some flow's server is Apple's (else NULL). */
const struct wp_service *wp_report_port_service(const struct wp_report *r,
                                                const struct wp_port_row *row,
                                                const struct wp_service **apple_svc);

/* The service of a flow, by its server port and whether its server is Apple's. */
const struct wp_service *wp_report_flow_service(const struct wp_report *r, const struct wp_flow *f);

#endif
