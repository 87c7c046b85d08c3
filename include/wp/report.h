/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: reports: the model shared by the text, JSON and CSV writers */
#ifndef WP_REPORT_H
#define WP_REPORT_H

#include <stdio.h>

#include "wp/common.h"
#include "wp/analyze.h"
#include "wp/applesvc.h"
#include "wp/names.h"

enum wp_format { WP_FMT_TEXT = 0, WP_FMT_JSON, WP_FMT_CSV };
enum wp_view { WP_VIEW_PORTS = 0, WP_VIEW_FLOWS, WP_VIEW_HOSTS, WP_VIEW_TUNNELS, WP_VIEW_TOTALS };

struct wp_report_opts {
    enum wp_format format;
    enum wp_view view;      /* csv only */
    unsigned top;           /* text: rows of flows and hosts (0: all) */
    bool no_flows;          /* json: omit the flows array */
    bool filters;           /* text: show a Wireshark display filter per port row */
    bool csv_header;        /* csv: print the header row (live mode prints it once) */
    bool json_lines;        /* json: the whole report on one line (JSON Lines) */
    bool apple;             /* text and csv: the view by Apple service (--apple) */
    int rules;              /* --rules: enum wp_rules_format (rules.h), -1: the report */
    bool rules_documented;  /* --rules-documented */
};

/* Everything a writer needs. The writers only read it. */
struct wp_report {
    const char *mode;                 /* "file" or "live" */
    const char *filter;               /* the BPF filter, or NULL */
    uint64_t count;                   /* -c COUNT, or 0 */
    const char *const *sources;       /* file names or interface names */
    size_t n_sources;
    const char *const *link_types;    /* names */
    size_t n_link_types;
    bool nanos;                       /* print nanosecond timestamps */
    bool complete;                    /* false when an input was damaged or the capture failed */
    const char *const *errors;        /* messages about damaged input */
    size_t n_errors;
    const struct wp_totals *totals;
    bool has_interval;                /* live reports: the interval this report closes */
    int64_t interval_start_ns, interval_end_ns;

    const struct wp_services *services;
    bool peers_capped;
    struct wp_nametab *names;             /* resolves name ids; NULL: no names */
    const struct wp_applesvc *applesvc;   /* Apple services; NULL: none */
    const struct wp_agg *agg;             /* per-Apple-service details */
    struct wp_apple_row **apple_rows;     /* sorted by wp_report_sort() */
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
};

/* Sort rows by bytes, descending, ties broken by key so that output is
 * deterministic. */
void wp_report_sort(struct wp_report *r);

/* Copy a bounded name-count list into out[] sorted by flows, descending,
 * then by name, so that output does not depend on hash order. Entries whose
 * name is unknown are left out. Returns the number copied. */
size_t wp_report_sort_names(const struct wp_report *r, const struct wp_name_count *v, size_t n,
                            struct wp_name_count *out);

/* Sort the Apple rows by service (the order of the services table), then
 * by bytes, descending. */
void wp_report_sort_apple(struct wp_report *r);

/* The view by Apple service (--apple), and the "apple" section of JSON. */
void wp_report_apple_text(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o);
void wp_report_apple_csv(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o);
void wp_report_apple_json(FILE *fp, const struct wp_report *r, const char *nl, const char *ind);

/* Write the report. Returns 0, or -1 on an output error (errno set). */
int wp_report_write(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o);

/* Writers, one per format. */
void wp_report_text(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o);
void wp_report_json(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o);
void wp_report_csv(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o);

/* The service of a port row: the Apple-scope name when every flow's server
 * is Apple's, else the any-scope name; NULL when unnamed. *apple_svc gets
 * the Apple-scope name when some flow's server is Apple's (else NULL). */
const struct wp_service *wp_report_port_service(const struct wp_report *r,
                                                const struct wp_port_row *row,
                                                const struct wp_service **apple_svc);

/* The service of a flow, by its server port and whether its server is Apple's. */
const struct wp_service *wp_report_flow_service(const struct wp_report *r,
                                                const struct wp_flow *f);

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
